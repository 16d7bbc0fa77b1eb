#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   keyforms.py - one report per private key and form, for e2e_keys.test
# SUMMARY
#   keyforms.py KEYDIR EMLDIR > forms.tsv
# DESCRIPTION
#   KEYDIR holds rsa.pem, ec.pem, ed.pem (PKCS#8), their .p12 (empty
#   password) and ec.txt (openssl ec -text). Writes EMLDIR/NAME.eml for
#   every key and form, KEYDIR/patterns.txt (every line and 40-character
#   chunk of key material that must not reach the database), and prints
#   "NAME<TAB>yes|no" per report: yes when the report must be recognised
#   as key compromise.
import base64, binascii, os, re, sys

keydir, emldir = sys.argv[1], sys.argv[2]
os.makedirs(emldir, exist_ok=True)
patterns = set()
# The first 36 bytes of a PKCS#8 key are its algorithm identifier, the same
# for every key of a type: not secret, and not looked for.
HEADER_BYTES = 36


def chunks(s, skip=0, size=40, step=20):
    for i in range(skip, max(len(s) - size, skip) + 1, step):
        if len(s[i:i + size]) >= 24:
            patterns.add(s[i:i + size])


def lines_of(text, minlen=20):
    for l in text.splitlines():
        l = l.strip().lstrip("> ").strip()
        if len(l) >= minlen and "PRIVATE" not in l and not l.startswith("begin "):
            patterns.add(l)


def message(name, content_type, body, extra_headers=()):
    hdr = ["From: Reporter <reporter@example.net>", "To: cpr@ca.example",
           "Subject: key form %s" % name, "Message-ID: <keyform.%s@example.net>" % name,
           "MIME-Version: 1.0"] + list(extra_headers) + ["Content-Type: " + content_type]
    with open(os.path.join(emldir, name + ".eml"), "w", newline="") as f:
        f.write("\r\n".join(hdr) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n"))


def text(name, body, readable, extra_headers=()):
    message(name, "text/plain; charset=us-ascii",
            "Hello,\n\nthe key of www.example.com leaked:\n\n" + body + "\n\nRegards\n",
            extra_headers)
    forms.append((name, readable))


def multipart(name, parts, readable, extra_headers=()):
    b = "==b%s==" % name
    body = "".join("--%s\n%s\n\n%s\n" % (b, h, p) for h, p in parts) + "--%s--\n" % b
    message(name, 'multipart/mixed; boundary="%s"' % b, body, extra_headers)
    forms.append((name, readable))


def wrap(s, n):
    return "\n".join(s[i:i + n] for i in range(0, len(s), n))


def uuencode(der):
    out = ["begin 600 key.der"]
    for i in range(0, len(der), 45):
        out.append(binascii.b2a_uu(der[i:i + 45]).decode().rstrip("\n"))
    return "\n".join(out + ["`", "end"])


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwk(k, der):
    if k == "ec":
        txt = open(os.path.join(keydir, "ec.txt")).read()
        m = re.search(r"priv:\s*((?:[0-9a-f]{2}:?\s*)+)pub:", txt)
        priv = bytes.fromhex(re.sub(r"[^0-9a-f]", "", m.group(1)))[-32:]
        d = b64url(priv)
        return d, '{"kty": "EC", "crv": "P-256", "x": "%s", "y": "%s", "d": "%s"}' % (
            b64url(b"\x01" * 32), b64url(b"\x02" * 32), d)
    if k == "ed":
        d = b64url(der[-32:])
        return d, '{"kty":"OKP","crv":"Ed25519","x":"%s","d":"%s"}' % (b64url(b"\x03" * 32), d)
    return None, None


forms = []
for k in ("rsa", "ec", "ed"):
    pem = open(os.path.join(keydir, k + ".pem")).read().strip()
    body_lines = [l for l in pem.splitlines() if not l.startswith("-----")]
    b64 = "".join(body_lines)
    der = base64.b64decode(b64)
    p12 = open(os.path.join(keydir, k + ".p12"), "rb").read()
    p12b64 = base64.b64encode(p12).decode()
    body = "\n".join(body_lines)
    skip = HEADER_BYTES * 4 // 3
    lines_of(pem)
    chunks(b64, skip)
    chunks(der.hex(), HEADER_BYTES * 2)
    chunks(p12b64, 80)
    text(k + "_pem", pem, "yes")
    text(k + "_spaced", "----- BEGIN PRIVATE KEY -----\n%s\n----- END PRIVATE KEY -----" % body, "yes")
    text(k + "_wrapped_begin", "-----BEGIN PRIVATE\nKEY-----\n%s\n-----END PRIVATE KEY-----" % body, "yes")
    text(k + "_bare", body, "yes")
    text(k + "_bare76", wrap(b64, 76), "yes")
    lines_of(wrap(b64, 76))
    text(k + "_oneline", "key=" + b64, "yes")
    text(k + "_hex", der.hex(), "yes")
    text(k + "_hexcolons", ":".join("%02x" % c for c in der), "yes")
    chunks(":".join("%02x" % c for c in der), HEADER_BYTES * 3)
    text(k + "_quoted", "\n".join("> " + l for l in pem.splitlines()), "yes")
    text(k + "_p12", wrap(p12b64, 64), "yes")
    lines_of(wrap(p12b64, 64))
    uu = uuencode(der)
    text(k + "_uu", uu, "yes")
    lines_of(uu, 30)
    multipart(k + "_p12attach", [
        ("Content-Type: text/plain", "The key, as a PKCS#12 file, no password."),
        ('Content-Type: application/x-pkcs12; name="key.p12"\nContent-Transfer-Encoding: base64',
         wrap(p12b64, 76))], "yes")
    d, j = jwk(k, der)
    if j:
        text(k + "_jwk", j, "yes")
        chunks(d, 0, 20, 4)
    # Split across two parts: BEGIN and the first lines, then the rest and END.
    half = max(1, len(body_lines) // 2)
    if len(body_lines) >= 2:
        multipart(k + "_split", [
            ("Content-Type: text/plain", "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body_lines[:half])),
            ("Content-Type: text/plain", "\n".join(body_lines[half:]) + "\n-----END PRIVATE KEY-----")],
            "no")
    # Nested deeper than the MIME parser goes.
    inner = "Content-Type: text/plain\n\n" + pem
    for _ in range(12):
        inner = "Content-Type: message/rfc822\n\nSubject: fwd\nMIME-Version: 1.0\n" + inner
    message(k + "_deep", "multipart/mixed; boundary=deep",
            "--deep\n" + inner + "\n--deep--\n")
    forms.append((k + "_deep", "yes"))
    # Past max_message_bytes (65536 in the test).
    filler = "\n".join("filler line %05d of a long report, nothing to see here" % i
                       for i in range(1500))
    text(k + "_pastcap", filler + "\n" + pem, "yes")
    if k != "rsa":   # a header line is at most 998 characters
        text(k + "_references", "see the References header", "no",
             ["References: <%s@example.net>" % b64, "In-Reply-To: <%s@example.net>" % b64])
        multipart(k + "_ctname", [
            ("Content-Type: text/plain", "see the attachment's name"),
            ('Content-Type: application/octet-stream; name="%s"\nContent-Description: %s\n'
             'Content-Transfer-Encoding: base64' % (b64, b64),
             base64.b64encode(b"nothing").decode())], "no")

with open(os.path.join(keydir, "patterns.txt"), "w") as f:
    for p in sorted(patterns):
        f.write(p + "\n")
for name, readable in forms:
    print("%s\t%s" % (name, readable))

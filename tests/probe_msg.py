#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   probe_msg.py - write a signed (or deliberately broken) mail-path probe
# SUMMARY
#   probe_msg.py SECRET_FILE ID UNIX_TIME RCPT MSGID [--body-extra TEXT]
#                [--sign-rcpt ADDR] [--key PEMFILE] > probe.eml
# DESCRIPTION
#   A second, independent implementation of milter/core/probemark.c for the
#   tests: the canonical body (line endings and trailing blanks removed,
#   the first CPR-Probe: line left out, trailing empty lines dropped, CRLF after
#   each line), HMAC-SHA256 over "cpr-probe-v1", id, time, lower-cased
#   recipient, Message-ID (without <>), the body's SHA-256 and the SHA-256
#   of the signed headers (as probemark_signed_headers), NUL-separated.
#   The mark goes in a CPR-Probe header and as the body's first line.
#   --body-extra appends TEXT to the body after signing (a message changed
#   on the way); --sign-rcpt signs for another recipient than the one the
#   message names; --key attaches a PEM private key inline in the text.
import argparse
import email.utils
import hashlib
import hmac
import sys


def canonical(body: bytes) -> bytes:
    out, empty, marked = [], 0, False
    for line in body.split(b"\n"):
        line = line.rstrip(b" \t\r\n")
        if not marked and line[:10].lower() == b"cpr-probe:":
            marked = True
            continue
        if not line:
            empty += 1
            continue
        out.extend([b""] * empty)
        empty = 0
        out.append(line)
    return b"".join(l + b"\r\n" for l in out)


SIGNED = ["Subject", "Date", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]


def headers_digest(headers) -> bytes:
    """SHA-256 of "name:value\n" for each signed header present, in SIGNED
    order, the name in lower case and blank runs in the value made one space."""
    out = b""
    for name in SIGNED:
        for n, v in headers:
            if n.lower() == name.lower():
                out += name.lower().encode() + b":" + " ".join(v.split()).encode() + b"\n"
    return hashlib.sha256(out).digest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("secret_file")
    ap.add_argument("id")
    ap.add_argument("time", type=int)
    ap.add_argument("rcpt")
    ap.add_argument("msgid")
    ap.add_argument("--body-extra", default="")
    ap.add_argument("--sign-rcpt")
    ap.add_argument("--key")
    a = ap.parse_args()
    secret = open(a.secret_file, "rb").read().split(b"\n")[0].strip(b" \t\r")
    text = ("This is a cpr-milter mail-path probe. It opens no case.\r\n"
            "If you read this in a mailbox, the path from outside works.\r\n")
    if a.key:
        text += "Private key of a throwaway probe key:\r\n"
        text += open(a.key).read().replace("\r\n", "\n").replace("\n", "\r\n")
    body = text.encode()
    date = email.utils.formatdate(a.time, usegmt=True)
    headers = [("From", "Probe <probe@outside.example>"), ("To", f"<{a.rcpt}>"),
               ("Subject", f"CPR mail-path probe {a.id}"), ("Date", date),
               ("Message-ID", f"<{a.msgid}>"),
               ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=us-ascii")]
    digest = hashlib.sha256(canonical(body)).digest() + headers_digest(headers)
    msg = b"\0".join([b"cpr-probe-v1", a.id.encode(), str(a.time).encode(),
                      (a.sign_rcpt or a.rcpt).lower().encode(), a.msgid.encode()]) + b"\0" + digest
    mac = hmac.new(secret, msg, hashlib.sha256).hexdigest()
    mark = f"v=1; id={a.id}; t={a.time}; mac={mac}"
    body = f"CPR-Probe: {mark}\r\n".encode() + body + a.body_extra.encode()
    head = "".join(f"{n}: {v}\r\n" for n, v in headers) + f"CPR-Probe: {mark}\r\n\r\n"
    sys.stdout.buffer.write(head.encode() + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

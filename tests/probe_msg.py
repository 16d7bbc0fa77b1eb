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
#   recipient, Message-ID (without <>) and the body's SHA-256, NUL-separated.
#   The mark goes in a CPR-Probe header and as the body's first line.
#   --body-extra appends TEXT to the body after signing (a message changed
#   on the way); --sign-rcpt signs for another recipient than the one the
#   message names; --key attaches a PEM private key inline in the text.
import argparse
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
    digest = hashlib.sha256(canonical(body)).digest()
    msg = b"\0".join([b"cpr-probe-v1", a.id.encode(), str(a.time).encode(),
                      (a.sign_rcpt or a.rcpt).lower().encode(), a.msgid.encode()]) + b"\0" + digest
    mac = hmac.new(secret, msg, hashlib.sha256).hexdigest()
    mark = f"v=1; id={a.id}; t={a.time}; mac={mac}"
    body = f"CPR-Probe: {mark}\r\n".encode() + body + a.body_extra.encode()
    head = (f"From: Probe <probe@outside.example>\r\nTo: <{a.rcpt}>\r\n"
            f"Subject: CPR mail-path probe {a.id}\r\nMessage-ID: <{a.msgid}>\r\n"
            f"CPR-Probe: {mark}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    sys.stdout.buffer.write(head.encode() + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

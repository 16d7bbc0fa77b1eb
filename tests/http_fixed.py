#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   http_fixed.py - answer every GET and POST with one fixed file
# SUMMARY
#   http_fixed.py --port PORT --file FILE [--type application/ocsp-response]
#                 [--max-seconds 300]
# DESCRIPTION
#   A stand-in for a responder that replays a stored answer (an OCSP
#   response made for another request: a nonce mismatch). Listens on
#   127.0.0.1 only; reads at most 64 KiB of a request body; exits on
#   SIGTERM and after --max-seconds anyway. Python 3 standard library only.
# DIAGNOSTICS
#   Exit status 0 on a signal or the lifetime bound.
import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY = 64 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--type", default="application/ocsp-response")
    ap.add_argument("--max-seconds", type=float, default=300)
    a = ap.parse_args()
    body = open(a.file, "rb").read()

    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            n = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            if n > 0:
                self.rfile.read(n)
            self.send_response(200)
            self.send_header("Content-Type", a.type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = answer
        do_POST = answer

        def log_message(self, *args):
            pass

    srv = HTTPServer(("127.0.0.1", a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    threading.Timer(a.max_seconds, srv.shutdown).start()
    srv.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()

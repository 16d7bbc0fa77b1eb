#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   http_sink.py - a scripted local HTTP receiver for the paging tests
# SUMMARY
#   http_sink.py --log FILE [--port 0] [--script 429,500,202] [--hang]
#                [--max-hang 30] [--max-seconds 300]
# DESCRIPTION
#   Listens on 127.0.0.1 only (port 0: the kernel picks; the port is the
#   first line on stdout). Every request is appended to FILE as one JSON
#   line {time, method, path, headers, body, json, status} BEFORE it is
#   answered, so a test sees even the requests it made hang.
#   Answers follow the script: each item is an HTTP status or "hang";
#   items are used in order, then the last one forever. A 3xx answer
#   carries "Location: /redirected" (to show that nobody follows it).
#   "hang" answers nothing and closes after --max-hang seconds; "slow:MS"
#   answers 202 after MS milliseconds.
#   POST /_control {"script": [...]} replaces the script and restarts it;
#   {"truncate": true} empties the log. Control requests are not logged.
#   The sink exits on SIGTERM or SIGINT, and after --max-seconds anyway,
#   so it can never outlive a test. Python 3 standard library only.
# DIAGNOSTICS
#   Exit status 0 on a signal or the lifetime bound, 2 on bad arguments.
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20          # bytes of a request body we read
HANG = "hang"


class Sink:
    """The script and the log, shared by the handler threads."""

    def __init__(self, log_path, script, max_hang):
        self.log_path = log_path
        self.max_hang = max_hang
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.set_script(script)
        open(log_path, "a").close()

    def set_script(self, script):
        with self.lock:
            self.script = [parse_item(x) for x in script] or [202]
            self.next = 0

    def take(self):
        with self.lock:
            item = self.script[min(self.next, len(self.script) - 1)]
            self.next += 1
            return item

    def record(self, rec):
        line = json.dumps(rec, sort_keys=True) + "\n"
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()

    def truncate(self):
        with self.lock:
            open(self.log_path, "w").close()


def parse_item(x):
    if isinstance(x, int) and 100 <= x <= 599:
        return x
    s = str(x).strip().lower()
    if s == HANG:
        return HANG
    if s.startswith("slow:"):      # slow:MS answers 202 after MS milliseconds
        ms = int(s[5:])
        if not 0 <= ms <= 10000:
            raise ValueError("slow out of range: %r" % x)
        return ("slow", ms)
    n = int(s)
    if not 100 <= n <= 599:
        raise ValueError("status out of range: %r" % x)
    return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cpr-http-sink"
    sink = None     # set in main()

    def log_message(self, format, *args):   # noqa: A002 (stdlib signature)
        pass

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        return self.rfile.read(max(0, min(n, MAX_BODY))) if n > 0 else b""

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        if 300 <= status <= 399:
            self.send_header("Location", "/redirected")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def control(self, body):
        try:
            req = json.loads(body or b"{}")
            if "script" in req:
                self.sink.set_script(req["script"])
            if req.get("truncate"):
                self.sink.truncate()
        except (ValueError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        return self.reply(200, {"ok": True})

    def handle_any(self):
        body = self.read_body()
        if self.command == "POST" and self.path == "/_control":
            return self.control(body)
        item = self.sink.take()
        text = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        self.sink.record({
            "time": time.time(), "method": self.command, "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": text, "json": parsed, "status": item,
        })
        if item == HANG:
            self.sink.stop.wait(self.sink.max_hang)
            self.close_connection = True
            return None
        if isinstance(item, tuple):
            self.sink.stop.wait(item[1] / 1000.0)
            item = 202
        return self.reply(item, {"status": "success" if item < 300 else "error"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    ap = argparse.ArgumentParser(description="scripted local HTTP sink for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True, help="JSON lines of the requests")
    ap.add_argument("--script", default="202", help="statuses or hang, comma-separated")
    ap.add_argument("--hang", action="store_true", help="never answer (same as --script hang)")
    ap.add_argument("--max-hang", type=float, default=30.0)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    a = ap.parse_args()
    try:
        script = [HANG] if a.hang else [x for x in a.script.split(",") if x.strip()]
        sink = Sink(a.log, script, a.max_hang)
    except (ValueError, OSError) as e:
        print("http_sink: %s" % e, file=sys.stderr)
        return 2
    Handler.sink = sink
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True

    def stop(*_):
        sink.stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(a.max_seconds, stop)
    timer.daemon = True
    timer.start()
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    sys.stdout.flush()
    os._exit(0)   # hung handler threads must not keep us alive


if __name__ == "__main__":
    sys.exit(main())

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
#
#   The receiving services' dedup rules are modelled (class Services), so
#   a test can ask whether a page NOTIFIED someone, not just arrived:
#     PagerDuty Events API v2 (a JSON body with routing_key and
#     event_action): a trigger whose dedup_key names an open (triggered or
#     acknowledged) incident is merged into it and notifies nobody; a
#     trigger for any other key opens a new incident and notifies;
#     acknowledge and resolve act on the open incident of that key, and
#     are ignored when there is none. A trigger after a resolve opens a
#     new incident that notifies.
#     Opsgenie Alert API (POST /v2/alerts, .../{alias}/acknowledge|close
#     ?identifierType=alias): an alert whose alias names an open alert
#     (acknowledged is still open) is deduplicated, count+1, no
#     notification; close ends it; the next alert with that alias is new
#     and notifies.
#     Slack and webhooks: every accepted message notifies.
#   Only answers below 300 reach the model. Each log line gains
#   "service", "outcome" (triggered, merged, acknowledged, resolved,
#   ignored, message) and "notified" (true/false).
#   GET /_state gives the model: {"pagerduty": {"incidents": [...]},
#   "opsgenie": {"alerts": [...]}}, every incident or alert ever opened,
#   with its key, status, count, log and actors. POST /_control
#   {"ack": {"service": S, "key": K, "actor": A}} or {"resolve": ...}
#   acts on the open one "by hand" in the service's app, recording the
#   actor (the REST poller's tests use this).
#   The sink exits on SIGTERM or SIGINT, and after --max-seconds anyway,
#   so it can never outlive a test. Python 3 standard library only.
# DIAGNOSTICS
#   Exit status 0 on a signal or the lifetime bound, 2 on bad arguments.
import argparse
import itertools
import json
import os
import signal
import sys
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit
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
        self.services = Services()
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


class Services:
    """PagerDuty incidents and Opsgenie alerts, with their documented dedup.

    Every incident or alert is a dict kept for ever in a list, with an
    index of the open one per key; callers hold Sink.lock. Kept as plain
    dicts so that a REST API (GET incidents by incident_key, GET alert by
    alias) can be served from the same state."""

    def __init__(self):
        self.ids = itertools.count(1)
        self.items = {"pagerduty": [], "opsgenie": []}
        self.open = {"pagerduty": {}, "opsgenie": {}}

    def _new(self, service, key, body):
        item = {"id": "%s-%d" % (service[:2].upper(), next(self.ids)), "key": key,
                "status": "triggered", "count": 1, "created": time.time(),
                "acknowledged_by": None, "resolved_by": None,
                "log": [{"time": time.time(), "action": "trigger", "body": body}]}
        self.items[service].append(item)
        self.open[service][key] = item
        return item

    def trigger(self, service, key, body):
        """Returns (outcome, notified, item)."""
        item = self.open[service].get(key)
        if item is not None:
            item["count"] += 1
            item["log"].append({"time": time.time(), "action": "merged", "body": body})
            return "merged", False, item
        return "triggered", True, self._new(service, key, body)

    def act(self, service, key, action, actor):
        """acknowledge or resolve the open item of key: (outcome, item)."""
        item = self.open[service].get(key)
        if item is None:
            return "ignored", None
        item["log"].append({"time": time.time(), "action": action, "actor": actor})
        if action == "acknowledge":
            if item["status"] == "triggered":
                item["status"] = "acknowledged"
                item["acknowledged_by"] = actor
            return "acknowledged", item
        item["status"] = "resolved"
        item["resolved_by"] = actor
        del self.open[service][key]
        return "resolved", item

    def pagerduty(self, req):
        if not isinstance(req, dict) or "routing_key" not in req:
            return "ignored", False
        action, key = req.get("event_action"), req.get("dedup_key")
        if action == "trigger":
            if not key:
                key = "generated-%d" % next(self.ids)
            outcome, notified, _ = self.trigger("pagerduty", key, req)
            return outcome, notified
        if action in ("acknowledge", "resolve"):
            return self.act("pagerduty", key, action, "events-api")[0], False
        return "ignored", False

    def opsgenie(self, method, path, req):
        u = urlsplit(path)
        parts = [unquote(x) for x in u.path.split("/") if x]
        if method != "POST" or parts[:2] != ["v2", "alerts"]:
            return "ignored", False
        if len(parts) == 2:
            alias = req.get("alias") if isinstance(req, dict) else None
            outcome, notified, _ = self.trigger("opsgenie", alias or "generated-%d"
                                                % next(self.ids), req)
            return outcome, notified
        kind = parse_qs(u.query).get("identifierType", ["id"])[0]
        if len(parts) == 4 and kind == "alias" and parts[3] in ("acknowledge", "close"):
            action = "acknowledge" if parts[3] == "acknowledge" else "resolve"
            return self.act("opsgenie", parts[2], action, "alert-api")[0], False
        return "ignored", False

    def classify(self, method, path, req):
        """(service, outcome, notified) of one accepted request."""
        if isinstance(req, dict) and "routing_key" in req and "event_action" in req:
            return ("pagerduty",) + self.pagerduty(req)
        if urlsplit(path).path.startswith("/v2/alerts"):
            return ("opsgenie",) + self.opsgenie(method, path, req)
        if isinstance(req, dict) and "text" in req and "event" not in req:
            return "slack", "message", True
        return "webhook", "message", True

    def state(self):
        return {"pagerduty": {"incidents": self.items["pagerduty"]},
                "opsgenie": {"alerts": self.items["opsgenie"]}}


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
            for action in ("ack", "resolve"):
                if action in req:
                    self.by_hand(action, req[action])
        except (ValueError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        return self.reply(200, {"ok": True})

    def by_hand(self, action, what):
        """An acknowledge or resolve made in the service's app by a person."""
        service, key, actor = what["service"], what["key"], what.get("actor", "someone")
        if service not in ("pagerduty", "opsgenie"):
            raise ValueError("service must be pagerduty or opsgenie")
        with self.sink.lock:
            self.sink.services.act(service, key,
                                   "acknowledge" if action == "ack" else "resolve", actor)

    def handle_any(self):
        body = self.read_body()
        if self.command == "POST" and self.path == "/_control":
            return self.control(body)
        if self.command == "GET" and self.path == "/_state":
            with self.sink.lock:
                return self.reply(200, self.sink.services.state())
        item = self.sink.take()
        text = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        rec = {
            "time": time.time(), "method": self.command, "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": text, "json": parsed, "status": item,
            "service": None, "outcome": None, "notified": False,
        }
        if isinstance(item, int) and item < 300 or isinstance(item, tuple):
            with self.sink.lock:
                rec["service"], rec["outcome"], rec["notified"] = \
                    self.sink.services.classify(self.command, self.path, parsed)
        self.sink.record(rec)
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

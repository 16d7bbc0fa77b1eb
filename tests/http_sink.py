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
#
#   Their REST APIs, read only, are served from the same state (class
#   Rest), as documented:
#     PagerDuty GET .../incidents?incident_key=K: {"incidents": [...]},
#       every incident of that key, oldest first, with status,
#       created_at, acknowledgements (the acknowledger expanded to a user
#       with its email when include[]=acknowledgers is asked for, unless
#       {"rest_reference": true} was set: then a bare user_reference) and
#       last_status_change_by; GET .../users/ID: {"user": {"email"}}.
#       An actor "events-api" (our own events) is a service_reference.
#     Opsgenie GET .../v2/alerts/ALIAS?identifierType=alias: {"data":
#       {status open|closed, acknowledged, report.acknowledgedBy,
#       closedBy}} of the newest alert of that alias; 404 if none.
#   POST /_control {"rest_script": [429, 500, ...]} answers the next REST
#   requests with those statuses (then 200), {"rest_retry_after": "3"}
#   goes with its 429s, {"rest_hostile": KIND} answers every REST request
#   with a hostile body (types, huge, giant, text, missing; null: honest
#   again). REST requests are logged like the others (method GET).
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
        self.rest = Rest(self.services)
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


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int(t % 1 * 1e6)


def is_rest(path):
    p = urlsplit(path).path
    return p.endswith("/incidents") or "/users/" in p or "/v2/alerts/" in p


# Hostile REST answers, by name: the test makes the sink lie and checks that
# nothing is acknowledged.
HOSTILE = {
    "types": {"incidents": [{"status": ["acknowledged"], "acknowledgements": "x"}],
              "data": {"status": 1, "acknowledged": "true"}},
    "huge": {"incidents": [{"status": "acknowledged"}] * 5000,
             "data": {"status": "open", "acknowledged": True, "report": []}},
    "missing": {"took": 0.1},
    "text": "<html>acknowledged</html>",
    "giant": {"incidents": [], "data": {"status": "open"}, "pad": "x" * (2 << 20)},
}
OURS = ("events-api", "alert-api")


class Rest:
    """The read-only REST APIs over Services; callers hold Sink.lock."""

    def __init__(self, services):
        self.services = services
        self.script = []
        self.retry_after = None
        self.hostile = None
        self.reference = False
        self.users = {}          # PagerDuty user id -> email

    def control(self, req):
        if "rest_script" in req:
            self.script = [int(x) for x in req["rest_script"]]
        if "rest_retry_after" in req:
            self.retry_after = req["rest_retry_after"]
        if "rest_hostile" in req:
            if req["rest_hostile"] is not None and req["rest_hostile"] not in HOSTILE:
                raise ValueError("rest_hostile: one of %s" % ", ".join(HOSTILE))
            self.hostile = req["rest_hostile"]
        if "rest_reference" in req:
            self.reference = bool(req["rest_reference"])

    def _who(self, actor, expand):
        if actor in OURS:
            return {"id": "PSERVICE", "type": "service_reference", "summary": "cpr-sweeper"}
        uid = "P%06X" % (abs(hash(actor)) % 0xFFFFFF)
        self.users[uid] = actor
        if expand and not self.reference:
            return {"id": uid, "type": "user", "email": actor, "summary": actor}
        return {"id": uid, "type": "user_reference", "summary": actor}

    def _incident(self, item, expand):
        acks = []
        if item["acknowledged_by"] is not None and (item["status"] == "acknowledged"
                                                   or item["acknowledged_by"] not in OURS):
            acks = [{"at": iso(item["created"]),
                     "acknowledger": self._who(item["acknowledged_by"], expand)}]
        return {"id": item["id"], "type": "incident", "incident_key": item["key"],
                "status": item["status"], "created_at": iso(item["created"]),
                "acknowledgements": acks,
                "last_status_change_by": self._who(item["resolved_by"], False)
                if item["resolved_by"] else None}

    def _alert(self, item):
        report = {}
        if item["acknowledged_by"]:
            report["acknowledgedBy"] = item["acknowledged_by"]
        if item["resolved_by"]:
            report["closedBy"] = item["resolved_by"]
        return {"id": item["id"], "alias": item["key"], "count": item["count"],
                "status": "closed" if item["status"] == "resolved" else "open",
                "acknowledged": item["acknowledged_by"] is not None, "report": report}

    def get(self, path):
        """(status, payload, headers) of one REST GET."""
        if self.script:
            st = self.script.pop(0)
            if st != 200:
                hdr = {"Retry-After": str(self.retry_after)} \
                    if st == 429 and self.retry_after is not None else {}
                return st, {"error": {"message": "scripted %d" % st}}, hdr
        if self.hostile is not None:
            return 200, HOSTILE[self.hostile], {}
        u = urlsplit(path)
        q = parse_qs(u.query)
        if u.path.endswith("/incidents"):
            key = (q.get("incident_key") or [None])[0]
            expand = "acknowledgers" in q.get("include[]", [])
            return 200, {"incidents": [self._incident(i, expand)
                                       for i in self.services.items["pagerduty"]
                                       if i["key"] == key],
                         "limit": 25, "offset": 0, "more": False}, {}
        if "/users/" in u.path:
            uid = unquote(u.path.rsplit("/", 1)[-1])
            if uid not in self.users:
                return 404, {"error": {"message": "Not Found"}}, {}
            return 200, {"user": {"id": uid, "type": "user", "email": self.users[uid]}}, {}
        alias = unquote(u.path.rsplit("/", 1)[-1])
        found = [a for a in self.services.items["opsgenie"] if a["key"] == alias]
        if not found:
            return 404, {"message": "Alert does not exist", "took": 0.01}, {}
        return 200, {"data": self._alert(found[-1]), "took": 0.01, "requestId": "r"}, {}


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

    def reply(self, status, payload, headers=None):
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if 300 <= status <= 399:
            self.send_header("Location", "/redirected")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the client stopped reading (an answer over its cap)
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
            with self.sink.lock:
                self.sink.rest.control(req)
        except (ValueError, TypeError, KeyError) as e:
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
        if self.command == "GET" and is_rest(self.path):
            return self.rest_get()
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

    def rest_get(self):
        with self.sink.lock:
            status, payload, headers = self.sink.rest.get(self.path)
        self.sink.record({
            "time": time.time(), "method": "GET", "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": "", "json": None, "status": status,
            "service": "rest", "outcome": None, "notified": False,
        })
        return self.reply(status, payload, headers)

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

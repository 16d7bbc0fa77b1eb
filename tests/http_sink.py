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
#   PagerDuty and Opsgenie are modelled (class Pager), by the documented
#   semantics of their APIs:
#     - Events v2 (a JSON body with routing_key and event_action): a
#       trigger opens an incident for its dedup_key unless one is open
#       (then it is merged); acknowledge and resolve act on the open one.
#     - Opsgenie (POST .../v2/alerts with an alias; POST
#       .../v2/alerts/ALIAS/close|acknowledge?identifierType=alias): one
#       open alert per alias; a create on an open alias is deduplicated.
#     - REST, read only: GET .../incidents?incident_key=K (every incident
#       of that key, oldest first; include[]=acknowledgers expands the
#       acknowledger with its email, else it is a user_reference), GET
#       .../users/ID, GET .../v2/alerts/ALIAS?identifierType=alias (404
#       when unknown). A REST answer is 200 unless POST /_control
#       {"rest_script": [429, 200, ...]} says otherwise (used in order,
#       then 200; {"rest_retry_after": "2"} goes with its 429s), and
#       {"rest_hostile": KIND} replaces every REST answer body with a
#       hostile one (wrong types, huge arrays, not JSON).
#     - By hand, as a person in the app would: POST /_control
#       {"pd_ack": {"key": K, "email": E, "id": ID, "reference": bool}},
#       {"pd_resolve": {"key": K, "name": N}}, {"og_ack": {"alias": A,
#       "user": U}}, {"og_close": {"alias": A, "user": U}}.
#   GET /_pager returns the model (incidents, alerts) as JSON.
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
from urllib.parse import parse_qs, unquote, urlsplit

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


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "%.6f" % (time.time() % 1)


class Pager:
    """PagerDuty incidents and Opsgenie alerts, as their APIs document."""

    def __init__(self):
        self.lock = threading.Lock()
        self.incidents = []      # PagerDuty, oldest first
        self.alerts = []         # Opsgenie, oldest first
        self.users = {}          # PagerDuty user id -> email
        self.rest_script = []
        self.rest_retry_after = None
        self.rest_hostile = None
        self.seq = 0

    def _open_incident(self, key):
        for inc in reversed(self.incidents):
            if inc["incident_key"] == key and inc["status"] != "resolved":
                return inc
        return None

    def _open_alert(self, alias):
        for a in reversed(self.alerts):
            if a["alias"] == alias and a["status"] == "open":
                return a
        return None

    def pd_event(self, j):
        """Events API v2; returns (notified, what happened)."""
        key, action = j.get("dedup_key"), j.get("event_action")
        with self.lock:
            inc = self._open_incident(key)
            if action == "trigger":
                if inc is not None:
                    inc["alert_count"] += 1
                    return False, "merged"
                self.seq += 1
                self.incidents.append({
                    "id": "Q%05d" % self.seq, "type": "incident", "incident_key": key,
                    "status": "triggered", "created_at": utc_now(), "alert_count": 1,
                    "acknowledgements": [], "last_status_change_by": None})
                return True, "triggered"
            if inc is None:
                return False, "no open incident"
            if action == "acknowledge":
                inc["status"] = "acknowledged"
                inc["acknowledgements"].append({"at": utc_now(), "acknowledger": {
                    "id": "PSVC", "type": "service_reference", "summary": "cpr-sweeper"}})
            elif action == "resolve":
                inc["status"] = "resolved"
                inc["acknowledgements"] = []
                inc["last_status_change_by"] = {"id": "PSVC", "type": "service_reference",
                                                "summary": "cpr-sweeper"}
            return False, action

    def og_event(self, path, j):
        base = path.split("?", 1)[0].rstrip("/")
        with self.lock:
            if base.endswith("/close") or base.endswith("/acknowledge"):
                alias = unquote(base.rsplit("/", 2)[-2])
                a = self._open_alert(alias)
                if a is None:
                    return False, "no open alert"
                if base.endswith("/close"):
                    a["status"] = "closed"
                    a["report"]["closedBy"] = "cpr-sweeper"
                else:
                    a["acknowledged"] = True
                    a["report"]["acknowledgedBy"] = "cpr-sweeper"
                return False, base.rsplit("/", 1)[-1]
            alias = j.get("alias")
            a = self._open_alert(alias)
            if a is not None:
                a["count"] += 1
                return False, "deduplicated"
            self.seq += 1
            self.alerts.append({"id": "A%05d" % self.seq, "alias": alias, "status": "open",
                                "acknowledged": False, "count": 1, "createdAt": utc_now(),
                                "message": j.get("message"), "report": {}})
            return True, "created"

    def by_hand(self, req):
        """Control: acknowledge or resolve as a person in the app would."""
        with self.lock:
            if "pd_ack" in req:
                r = req["pd_ack"]
                inc = self._open_incident(r["key"])
                if inc is None:
                    raise ValueError("no open incident for %r" % r["key"])
                uid = r.get("id", "PALICE1")
                self.users[uid] = r.get("email", "alice@example.com")
                who = {"id": uid, "type": "user_reference", "summary": "A person"}
                inc["status"] = "acknowledged"
                inc["acknowledgements"].append({"at": utc_now(), "acknowledger": who,
                                                "reference_only": bool(r.get("reference"))})
            if "pd_resolve" in req:
                r = req["pd_resolve"]
                inc = self._open_incident(r["key"])
                if inc is None:
                    raise ValueError("no open incident for %r" % r["key"])
                inc["status"] = "resolved"
                inc["last_status_change_by"] = {"id": "PBOB1", "type": "user_reference",
                                                "summary": r.get("name", "Bob")}
            for what in ("og_ack", "og_close"):
                if what in req:
                    r = req[what]
                    a = self._open_alert(r["alias"])
                    if a is None:
                        raise ValueError("no open alert for %r" % r["alias"])
                    if what == "og_ack":
                        a["acknowledged"] = True
                        a["report"]["acknowledgedBy"] = r.get("user", "bob@example.com")
                    else:
                        a["status"] = "closed"
                        a["report"]["closedBy"] = r.get("user", "bob@example.com")
            if "rest_script" in req:
                self.rest_script = [int(x) for x in req["rest_script"]]
            if "rest_retry_after" in req:
                self.rest_retry_after = req["rest_retry_after"]
            if "rest_hostile" in req:
                self.rest_hostile = req["rest_hostile"]

    def _incident_view(self, inc, expand):
        out = {k: v for k, v in inc.items() if k != "acknowledgements"}
        acks = []
        for a in inc["acknowledgements"]:
            who = dict(a["acknowledger"])
            if expand and who["type"] == "user_reference" and not a.get("reference_only"):
                who = {"id": who["id"], "type": "user", "email": self.users.get(who["id"])}
            acks.append({"at": a["at"], "acknowledger": who})
        out["acknowledgements"] = acks
        return out

    def rest(self, path):
        """A REST GET: (status, payload, headers)."""
        hostile = HOSTILE.get(self.rest_hostile) if self.rest_hostile else None
        with self.lock:
            if self.rest_script:
                st = self.rest_script.pop(0)
                if st != 200:
                    hdr = {"Retry-After": self.rest_retry_after} if st == 429 and \
                        self.rest_retry_after is not None else {}
                    return st, {"error": {"message": "scripted %d" % st}}, hdr
            if hostile is not None:
                return 200, hostile, {}
            u = urlsplit(path)
            q = parse_qs(u.query)
            if u.path.endswith("/incidents"):
                key = (q.get("incident_key") or [None])[0]
                expand = "acknowledgers" in q.get("include[]", [])
                return 200, {"incidents": [self._incident_view(i, expand)
                                           for i in self.incidents if i["incident_key"] == key],
                             "limit": 25, "offset": 0, "more": False}, {}
            if "/users/" in u.path:
                uid = unquote(u.path.rsplit("/", 1)[-1])
                if uid not in self.users:
                    return 404, {"error": {"message": "Not Found"}}, {}
                return 200, {"user": {"id": uid, "type": "user", "email": self.users[uid]}}, {}
            if "/v2/alerts/" in u.path:
                alias = unquote(u.path.rsplit("/", 1)[-1])
                for a in reversed(self.alerts):
                    if a["alias"] == alias:
                        return 200, {"data": a, "took": 0.01, "requestId": "r"}, {}
                return 404, {"message": "Alert does not exist", "took": 0.01}, {}
            return 404, {"error": "unknown REST path"}, {}

    def view(self):
        with self.lock:
            return {"incidents": self.incidents, "alerts": self.alerts}


# Hostile REST answers, by name: a test makes the sink lie and checks that
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


def is_rest(path):
    p = urlsplit(path).path
    return p.endswith("/incidents") or "/users/" in p or "/v2/alerts/" in p


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
    pager = None

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
            self.pager.by_hand(req)
        except (ValueError, TypeError, KeyError) as e:
            return self.reply(400, {"error": str(e)})
        return self.reply(200, {"ok": True})

    def handle_any(self):
        body = self.read_body()
        if self.command == "POST" and self.path == "/_control":
            return self.control(body)
        if self.command == "GET" and self.path == "/_pager":
            return self.reply(200, self.pager.view())
        if self.command == "GET" and is_rest(self.path):
            return self.rest_get()
        item = self.sink.take()
        text = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        notified, what = self.model(parsed, item)
        self.sink.record({
            "time": time.time(), "method": self.command, "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": text, "json": parsed, "status": item,
            "notified": notified, "model": what,
        })
        if item == HANG:
            self.sink.stop.wait(self.sink.max_hang)
            self.close_connection = True
            return None
        if isinstance(item, tuple):
            self.sink.stop.wait(item[1] / 1000.0)
            item = 202
        return self.reply(item, {"status": "success" if item < 300 else "error"})

    def model(self, j, item):
        """PagerDuty / Opsgenie state, for requests the sink accepts."""
        if not isinstance(item, int) or not 200 <= item < 300 or self.command != "POST":
            return None, None
        if isinstance(j, dict) and "routing_key" in j and "event_action" in j:
            return self.pager.pd_event(j)
        base = self.path.split("?", 1)[0].rstrip("/")
        if "/v2/alerts" in base and (isinstance(j, dict) and "alias" in j
                                     or base.endswith(("/close", "/acknowledge"))):
            return self.pager.og_event(self.path, j or {})
        return None, None

    def rest_get(self):
        status, payload, headers = self.pager.rest(self.path)
        self.sink.record({
            "time": time.time(), "method": "GET", "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": "", "json": None, "status": status,
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
    Handler.pager = Pager()
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

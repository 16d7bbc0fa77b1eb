#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   bench_autoreply.sh - time from receipt to the auto-reply in the mailbox
# SUMMARY
#   top_builddir=BUILD bash tests/bench_autoreply.sh [REPORTS]   (as root; default 200)
# DESCRIPTION
#   A throwaway PostgreSQL, cpr-milter with auto-replies on, and one private
#   Postfix instance that both receives the reports (through the milter) and
#   delivers the replies to the reporters' Maildir. Sends REPORTS reports
#   from distinct senders over 4 SMTP sessions, waits for every reply, and
#   prints the time from each report's receipt (the database clock, as in
#   X-CPR-Received) to its reply's arrival in the Maildir (the file's
#   mtime): median, p99 and max. A benchmark: it prints figures and asserts
#   only that every reply arrived.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

N=${1:-200}
is_root || skip "needs root for a private Postfix instance"
need_cmd psql python3 postfix
run_init
pg_start
cpr_migrate >"$RUN/migrate.log" 2>&1 || die "migrate failed"
MPORT=$(free_port)
RXPORT=$(free_port)
CPR_REPLY_URL="smtp://127.0.0.1:$RXPORT" CPR_REPLY_EXTRA="rate_per_sender = 5/1h
rate_per_domain = 10000/1h" milter_conf "$RUN/cpr.conf" "$MPORT"
milter_start "$RUN/cpr.conf" "$RUN/milter.log"
postfix_start rx "$RXPORT" \
    "smtpd_milters = { inet:127.0.0.1:$MPORT, default_action=tempfail }" \
    "non_smtpd_milters =" "milter_protocol = 6" \
    "virtual_mailbox_domains = ca.example, example.net"

python3 - "$RXPORT" "$N" <<'PY'
import smtplib, sys, threading, uuid
port, n = int(sys.argv[1]), int(sys.argv[2])
run = uuid.uuid4().hex[:8]
lock, seq = threading.Lock(), [0]
def worker():
    s = smtplib.SMTP("127.0.0.1", port, "bench.example.net", timeout=60)
    while True:
        with lock:
            if seq[0] >= n:
                break
            seq[0] += 1
            i = seq[0]
        msg = ("From: <r%d.%s@example.net>\r\nTo: <cpr@ca.example>\r\n"
               "Subject: bench report %d\r\nMessage-ID: <b%d.%s@example.net>\r\n\r\n"
               "A certificate problem report, number %d.\r\n" % (i, run, i, i, run, i))
        s.sendmail("r%d.%s@example.net" % (i, run), ["cpr@ca.example"], msg)
    s.quit()
ts = [threading.Thread(target=worker) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
PY
replied() { [ "$(grep -rl '^Auto-Submitted: auto-replied' "$(pf_maildir rx)/new" 2>/dev/null | wc -l)" -ge "$N" ]; }
wait_for 180 "$N replies" replied || die "not every reply arrived"
sql "SELECT c.tracking, cpr.epoch_ms(c.received_at) FROM cpr.cases c" >"$RUN/cases.txt"
python3 - "$(pf_maildir rx)/new" "$RUN/cases.txt" <<'PY'
import email, os, statistics, sys
rec = dict(l.strip().split("|") for l in open(sys.argv[2]) if l.strip())
lat = []
for f in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], f)
    m = email.message_from_binary_file(open(p, "rb"))
    if ".autoreply@" in m.get("Message-ID", ""):
        lat.append(os.stat(p).st_mtime * 1000 - int(rec[m["X-CPR-Tracking"]]))
lat.sort()
p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
print(f"replies: {len(lat)}; receipt to reply in the mailbox: median {statistics.median(lat):.1f} ms, "
      f"p99 {p99:.1f} ms, max {lat[-1]:.1f} ms")
PY

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   bench_sweeper.sh - how late cpr-sweeper's pages are behind their due time
# SUMMARY
#   top_builddir=BUILD bash tests/bench_sweeper.sh [DEADLINES]   (default 200)
# DESCRIPTION
#   A throwaway PostgreSQL, the local HTTP sink and one cpr-sweeper with
#   acknowledge = 4s. Opens DEADLINES cases spread over about 10 seconds,
#   so their deadlines fall at many different moments, and waits until each
#   tier-1 page has reached the sink. Prints the lateness of each page (the
#   sink's arrival time minus the due time, receipt + 4 s by the database
#   clock): median, p99 and max. A benchmark: it prints figures and asserts
#   only that every page arrived.
set -euo pipefail
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

N=${1:-200}
SWEEPER_BIN=${SWEEPER_BIN:-$top_builddir/milter/cpr-sweeper}
need_cmd python3 psql
run_init
pg_start
cpr_migrate >"$RUN/migrate.log" 2>&1 || die "migrate failed"
python3 "$top_srcdir/tests/http_sink.py" --port 0 --log "$RUN/sink.jsonl" \
    --max-seconds 600 >"$RUN/sink.port" 2>"$RUN/sink.err" &
cleanup_push "kill $!"
sink_up() { sed -n '1{/^[0-9][0-9]*$/p}' "$RUN/sink.port" | grep -q .; }
wait_for 15 "http_sink.py" sink_up || die "http_sink.py did not start"
cat >"$RUN/bench.conf" <<CONF
[milter]
addresses = cpr@ca.example
[database]
conninfo = $(pg_conninfo cpr_owner)
[sweeper]
conninfo = $(pg_conninfo cpr_sweeper)
[deadlines]
acknowledge = 4s
warn_before =
[escalation]
tiers = oncall
interval = 1h
repeat = 1h
[tier oncall]
channels = hook
[channel hook]
type = webhook
url = http://127.0.0.1:$(head -n 1 "$RUN/sink.port")/page
CONF
"$SWEEPER_BIN" -f -c "$RUN/bench.conf" >"$RUN/sweeper.log" 2>&1 &
cleanup_push "kill $!"

# N cases over ~10 s, by the milter role, as cpr-milter would open them.
python3 - "$PGSOCK" "$N" <<'PY'
import subprocess, sys, time
sock, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    sql = ("SELECT 1 FROM cpr.intake('B%d', 'bench%d@example.net', NULL, '[]', "
           "'r@example.net', '[\"cpr@ca.example\"]', NULL, NULL, NULL, NULL, "
           "'bench %d', '[]', encode(sha256('bench %d %f'::bytea), 'hex'), 1, "
           "'new-report', 'other', '[]', '[]', NULL)" % (i, i, i, i, time.time()))
    subprocess.run(["psql", "-X", "-qAt", "-h", sock, "-U", "cpr_milter", "-d", "cpr",
                    "-c", sql], check=True, stdout=subprocess.DEVNULL)
    time.sleep(10.0 / n)
PY
arrived() { [ "$(grep -c '"event": "page"' "$RUN/sink.jsonl" || true)" -ge "$N" ]; }
wait_for 120 "$N pages" arrived || die "not every page arrived"
sql "SELECT c.tracking, cpr.epoch_ms(c.received_at) FROM cpr.cases c" >"$RUN/cases.txt"
python3 - "$RUN/sink.jsonl" "$RUN/cases.txt" <<'PY'
import json, statistics, sys
rec = dict(l.strip().split("|") for l in open(sys.argv[2]) if l.strip())
late = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    j = r.get("json") or {}
    if j.get("event") == "page":
        due = int(rec[j["tracking"]]) / 1000 + 4
        late.append((r["time"] - due) * 1000)
late.sort()
p99 = late[min(len(late) - 1, int(round(0.99 * len(late))) - 1)]
print(f"pages: {len(late)}; lateness behind due time: median {statistics.median(late):.1f} ms, "
      f"p99 {p99:.1f} ms, max {late[-1]:.1f} ms, min {late[0]:.1f} ms")
PY

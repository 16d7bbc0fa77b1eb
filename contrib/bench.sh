#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   bench.sh - how cpr-milter's throughput holds up against years of history
# SUMMARY
#   contrib/bench.sh                      # empty history
#   HISTORY=100k contrib/bench.sh         # or 1M; QUICK=1 for a smoke run
#   BUILD=build-werror PAIRS=7 N=3000 contrib/bench.sh
# DESCRIPTION
#   Not part of make check. As root (private Postfix instances), it starts
#   its own throwaway PostgreSQL, generates HISTORY messages with their
#   cases, events, evidence and outbox rows in SQL (tests/history.sql),
#   starts cpr-milter and two private Postfix instances on 127.0.0.1 (one
#   with the milter, one without), all through tests/lib.sh, and prints
#   one table. Every ratio is measured in PAIRS alternating runs (A, B, A,
#   B, ...) in one sitting, and printed as min/median/max of the per-pair
#   ratios, which shows the noise:
#     - Postfix+milter / Postfix alone: CPR mail, distinct bodies
#       (tests/bench_smtp, CONC sessions); identical bodies (smtp-source);
#       non-CPR mail;
#     - cpr-milter msgs/s driven directly over the milter protocol
#       (tests/bench_milter) / pgbench running the same cpr.intake
#       (tests/bench_intake.pgbench) at the same concurrency;
#     - pgbench cpr.intake tps / pgbench single-row INSERT tps;
#   and single figures: cpr.sweep_cases() with the history's closed and
#   open cases, cprctl report for the last year and cprctl list --all
#   --json (wall time, peak RSS), all three measured on the history
#   before any load; the database time per message at 16 concurrent
#   (pgbench latency log: p50, p99). The load generator's
#   own CPU is printed so that it is seen not to be the limit.
#   Compare HISTORY=0 with HISTORY=1M for "flat with history".
#   QUICK=1: 2 pairs of small runs, HISTORY at most 100k; under 2 minutes.
#   ONLY=history: the history's figures only (sweeper, report, list), no load.
# DIAGNOSTICS
#   Exit 1 when a tool fails or a run accepts nothing; a goal missed is
#   printed as "MISSED", not an error (figures depend on the machine).
set -euo pipefail
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build-werror}
case $BUILD in /*) top_builddir=$BUILD ;; *) top_builddir=$top_srcdir/$BUILD ;; esac
export top_srcdir top_builddir
. "$top_srcdir/tests/lib.sh"

HISTORY=${HISTORY:-0}
QUICK=${QUICK:-0}
CONC=${CONC:-8}
if [ "$QUICK" = 1 ]; then
    PAIRS=${PAIRS:-2}; N=${N:-150}; PGB_SECS=${PGB_SECS:-3}
else
    PAIRS=${PAIRS:-5}; N=${N:-2000}; PGB_SECS=${PGB_SECS:-20}
fi
case $HISTORY in
    0) HN=0 ;; 100k) HN=100000 ;; 1M) HN=1000000 ;;
    *[!0-9]*|'') die "HISTORY must be 0, 100k, 1M or a number" ;;
    *) HN=$HISTORY ;;
esac
[ "$QUICK" = 1 ] && [ "$HN" -gt 100000 ] && die "QUICK=1 takes HISTORY up to 100k"

need_cmd psql pgbench python3 ss smtp-source
is_root || die "needs root (private Postfix instances)"
make -C "$top_builddir" -s milter/cpr-milter milter/cprctl tests/bench_smtp tests/bench_milter \
    >/dev/null || die "build failed in $top_builddir"
BENCH_SMTP=$top_builddir/tests/bench_smtp
BENCH_MILTER=$top_builddir/tests/bench_milter

run_init
pg_start
cpr_migrate >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "migrate failed"; }
say "history: $HISTORY messages"
t0=$(now_ms)
if [ "$HN" -gt 0 ]; then
    psql_su -d cpr -q -v n="$HN" -v open="$(( HN >= 1000000 ? 10000 : HN / 200 ))" \
        -f "$top_srcdir/tests/history.sql" >"$RUN/history.log" 2>&1 \
        || { cat "$RUN/history.log" >&2; die "history generation failed"; }
fi
HIST_MS=$(( $(now_ms) - t0 ))
sql "CREATE SCHEMA bench; CREATE TABLE bench.insert_floor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), body text NOT NULL); GRANT USAGE ON SCHEMA bench TO cpr_milter; GRANT INSERT ON bench.insert_floor TO cpr_milter;" >/dev/null

MPORT=$(free_port); PLAIN=$(free_port); MILT=$(free_port)
milter_conf "$RUN/milter.conf" "$MPORT"   # db_pool_size = 8, as CONC
milter_start "$RUN/milter.conf" "$RUN/milter.log"
postfix_start plain "$PLAIN"
postfix_start milt "$MILT" \
    "smtpd_milters = { inet:127.0.0.1:$MPORT, default_action=tempfail }" \
    "non_smtpd_milters =" "milter_protocol = 6"

# ---- measuring ------------------------------------------------------------

# field LINE NAME: the value of NAME= in a tool's output line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p; s/^$2=\([^ ]*\).*/\1/p" <<<"$1" | head -n 1; }

# smtp_rate PORT RCPT: msgs/s of bench_smtp; its CPU share into $RUN/gen.cpu.
smtp_rate() {
    local out
    out=$(/usr/bin/time -f '%U %S %e' -o "$RUN/gen.time" "$BENCH_SMTP" 127.0.0.1 "$1" "$N" "$CONC" "$2") \
        || die "bench_smtp to port $1 failed: $out"
    [ "$(field "$out" accepted)" -eq "$N" ] || die "bench_smtp to port $1: $out"
    awk '{ if ($3 > 0) printf "%.0f\n", 100 * ($1 + $2) / $3 }' "$RUN/gen.time" >>"$RUN/gen.cpu"
    field "$out" rate
}

# source_rate PORT: msgs/s of smtp-source (identical bodies).
source_rate() {
    local t0 t1
    t0=$(now_ms)
    smtp-source -s "$CONC" -m "$N" -f bench@sender.example -t cpr@ca.example \
        -l 2000 "127.0.0.1:$1" >/dev/null 2>"$RUN/smtp-source.err" || die "smtp-source failed"
    t1=$(now_ms)
    awk -v n="$N" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f\n", n * 1000 / (ms > 0 ? ms : 1) }'
}

milter_rate() {
    local out
    out=$("$BENCH_MILTER" 127.0.0.1 "$MPORT" "$N" "$CONC") || die "bench_milter failed: $out"
    [ "$(field "$out" accepted)" -eq "$N" ] || die "bench_milter: $out"
    field "$out" rate
}

# pgb_tps SCRIPT CLIENTS [extra pgbench args]
pgb_tps() {
    local script=$1 c=$2; shift 2
    pgbench -n -h "$PGSOCK" -U cpr_milter -c "$c" -j 2 -T "$PGB_SECS" -f "$script" "$@" cpr \
        >"$RUN/pgbench.out" 2>&1 || { cat "$RUN/pgbench.out" >&2; die "pgbench $script failed"; }
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$RUN/pgbench.out" | head -n 1
}

# pairs NAME GOAL CMD_A CMD_B: PAIRS alternating runs, the ratios A/B.
ROWS=()
pairs() {
    local name=$1 goal=$2 a=$3 b=$4 i ra rb ratios=""
    for ((i = 0; i < PAIRS; i++)); do
        ra=$(eval "$a"); rb=$(eval "$b")
        ratios+="$(awk -v x="$ra" -v y="$rb" 'BEGIN { printf "%.4f", (y > 0 ? x / y : 0) }') "
        say "$name: pair $((i + 1)): $ra / $rb"
    done
    ROWS+=("$(python3 - "$name" "$goal" $ratios <<'EOF'
import statistics, sys
name, goal, r = sys.argv[1], sys.argv[2], sorted(float(x) for x in sys.argv[3:])
med = statistics.median(r)
verdict = "-"
if goal.startswith(">="):
    verdict = "ok" if med >= float(goal[2:]) else "MISSED"
print("%-52s %-8s %7.3f %7.3f %7.3f  %s" % (name, goal, r[0], med, r[-1], verdict))
EOF
)")
}

single() {   # NAME GOAL VALUE UNIT VERDICT
    ROWS+=("$(printf '%-52s %-8s %23s  %s' "$1" "$2" "$3 $4" "$5")")
}

# cprctl report for the last year and list --all --json: wall time, peak RSS.
cprctl_run_report() {
    /usr/bin/time -f '%e %M' -o "$RUN/report.time" "$CPRCTL_BIN" --conninfo "$(pg_conninfo cpr_staff)" \
        report --from "$year_ago" --to "$today" >/dev/null 2>"$RUN/report.err" \
        || { cat "$RUN/report.err" >&2; die "cprctl report failed"; }
    read -r secs kb <"$RUN/report.time"
    single "cprctl report, one year ($(sql "SELECT count(*) FROM cpr.cases WHERE kind <> 'automated' AND received_at >= '$year_ago' AND received_at < '$today'") cases)" \
        "60s,100MB" "${secs}s $((kb / 1024))MB" "" \
        "$(awk -v s="$secs" -v k="$kb" 'BEGIN { print (s <= 60 && k <= 102400 ? "ok" : "MISSED") }')"
    /usr/bin/time -f '%e %M' -o "$RUN/list.time" "$CPRCTL_BIN" --conninfo "$(pg_conninfo cpr_staff)" \
        list --all --json >/dev/null 2>"$RUN/list.err" || { cat "$RUN/list.err" >&2; die "cprctl list failed"; }
    read -r secs kb <"$RUN/list.time"
    single "cprctl list --all --json ($(sql "SELECT count(*) FROM cpr.cases") cases)" "100MB" \
        "${secs}s $((kb / 1024))MB" "" "$(awk -v k="$kb" 'BEGIN { print (k <= 102400 ? "ok" : "MISSED") }')"
}

# The history's own figures, measured before the load adds its cases (the
# goal: the sweeper and cprctl against the years of history, not against
# the cases this benchmark itself opens a minute later).
history_figures() {
    # The sweeper's read of the cases, timed inside the server (EXPLAIN ANALYZE).
    ms=$(sql "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM cpr.sweep_cases()" \
        | python3 -c 'import json, sys; print("%.1f" % json.load(sys.stdin)[0]["Execution Time"])')
    nclosed=$(sql "SELECT count(*) FROM cpr.cases WHERE state = 'closed'")
    nopen=$(sql "SELECT count(*) FROM cpr.cases WHERE state = 'open'")
    single "cpr.sweep_cases() ($nclosed closed, $nopen open)" "<=50ms" \
        "$ms" "ms (query only)" "$(awk -v m="$ms" 'BEGIN { print (m <= 50 ? "ok" : "MISSED") }')"

    # tests/history.sql opens its cases in the second year back and
    # their follow-ups come in the last year: report the cases' year.
    year_ago=$(date -u -d '730 days ago' +%F); today=$(date -u -d '365 days ago' +%F)
    cprctl_run_report
}
history_figures
if [ "${ONLY:-}" = history ]; then
    printf '%s\n' "${ROWS[@]}"
    exit 0
fi

pairs "Postfix+milter / Postfix, CPR mail, distinct" ">=0.65" \
    'smtp_rate $MILT cpr@ca.example' 'smtp_rate $PLAIN cpr@ca.example'
pairs "Postfix+milter / Postfix, identical (smtp-source)" ">=0.6" \
    'source_rate $MILT' 'source_rate $PLAIN'
pairs "Postfix+milter / Postfix, non-CPR mail" ">=0.95" \
    'smtp_rate $MILT other@ca.example' 'smtp_rate $PLAIN other@ca.example'
pairs "milter protocol msgs/s / pgbench cpr.intake tps" ">=0.9" \
    'milter_rate' 'pgb_tps $top_srcdir/tests/bench_intake.pgbench $CONC'
pairs "pgbench cpr.intake tps / single-row INSERT tps" "report" \
    'pgb_tps $top_srcdir/tests/bench_intake.pgbench $CONC' \
    'pgb_tps $top_srcdir/tests/bench_insert.pgbench $CONC'

# Database time per message at 16 concurrent, from pgbench's latency log.
( cd "$RUN" && pgbench -n -h "$PGSOCK" -U cpr_milter -c 16 -j 2 -T "$PGB_SECS" -l \
    --log-prefix=lat -f "$top_srcdir/tests/bench_intake.pgbench" cpr >"$RUN/pgbench16.out" 2>&1 ) \
    || { cat "$RUN/pgbench16.out" >&2; die "pgbench -c 16 failed"; }
lat=$(cat "$RUN"/lat.* | awk '{ print $3 / 1000 }' | sort -n | awk '{ v[NR] = $1 }
    END { k = int(NR * 0.99); if (k < 1) k = 1; if (NR) printf "p50 %.2f p99 %.2f", v[int(NR * 0.5) + 1], v[k] }')
p99=${lat##* }
single "DB time per message, 16 concurrent (ms)" "p99<=5" "$lat" "ms" \
    "$(awk -v p="$p99" 'BEGIN { print (p <= 5 ? "ok" : "MISSED") }')"


gencpu=$(sort -n "$RUN/gen.cpu" | tail -n 1)
echo
printf 'cpr-milter benchmark: HISTORY=%s (%s messages in the database at the start, generated in %s ms), %s pairs, N=%s, %s concurrent, pgbench %ss%s\n' \
    "$HISTORY" "$HN" "$HIST_MS" "$PAIRS" "$N" "$CONC" "$PGB_SECS" "$( [ "$QUICK" = 1 ] && echo ', QUICK')"
printf '%-52s %-8s %7s %7s %7s  %s\n' "figure" "goal" "min" "median" "max" "verdict"
for r in "${ROWS[@]}"; do [ -n "${r// /}" ] && printf '%s\n' "$r"; done
printf 'load generator (bench_smtp) CPU: at most %s%% of one core (it is not the limit while well under 100%%)\n' "$gencpu"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   bench_rss.sh - cpr-milter's peak memory while a large report passes
# SUMMARY
#   bash tests/bench_rss.sh [SIZE_MB [MAX_MESSAGE_BYTES]]   (as root, after make)
# DESCRIPTION
#   A benchmark, not a test. Starts a throwaway PostgreSQL, cpr-milter
#   (max_message_bytes = MAX_MESSAGE_BYTES, default 26214400) and a private
#   Postfix instance, reads cpr-milter's VmHWM (peak resident set) after a
#   small report, then sends one report of SIZE_MB (default 50) megabytes:
#   a short text and a base64 attachment of random bytes. Prints the peak
#   before and after, the growth, and the growth minus max_message_bytes,
#   which is what the analysis costs beyond the kept raw copy; also the
#   receipt-to-delivery time. Nothing is asserted.
# DIAGNOSTICS
#   Exits non-zero if the message is not taken in.
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib.sh"

SIZE_MB=${1:-50}
MAX=${2:-26214400}
is_root || die "needs root for a private Postfix instance"
run_init
pg_start
cpr_migrate >"$RUN/migrate.log" 2>&1 || die "migrate failed"
MPORT=$(free_port)
milter_conf "$RUN/milter.conf" "$MPORT" "max_message_bytes = $MAX"
milter_start "$RUN/milter.conf" "$RUN/milter.log"
RXPORT=$(free_port)
postfix_start rx "$RXPORT" \
    "smtpd_milters = { inet:127.0.0.1:$MPORT, default_action=tempfail }" \
    "non_smtpd_milters =" "milter_protocol = 6" \
    "message_size_limit = $(( (SIZE_MB + 10) * 1024 * 1024 * 4 / 3 ))" \
    "mailbox_size_limit = 0" "virtual_mailbox_limit = 0"

hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$MILTER_PID/status"; }

N=0
send() {   # FILE
    N=$((N + 1))
    swaks --server "127.0.0.1:$RXPORT" --from reporter@example.net --to cpr@ca.example \
        --data "@$1" --timeout 300 >"$RUN/swaks.$N.log" 2>&1 || die "swaks $N failed"
    grep -q "^<- *250 .*queued" "$RUN/swaks.$N.log" || die "message $N not accepted"
}

python3 - 0 >"$RUN/small.eml" <<'PY'
import sys
print("From: r@example.net\r\nTo: cpr@ca.example\r\nSubject: warm-up\r\n\r\nhello\r")
PY
send "$RUN/small.eml"
BEFORE=$(hwm_kb)
python3 - "$SIZE_MB" >"$RUN/big.eml" <<'PY'
import base64, os, sys
mb = int(sys.argv[1])
out = sys.stdout
out.write("From: r@example.net\r\nTo: cpr@ca.example\r\nSubject: big report\r\n"
          "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
          "--b\r\nContent-Type: text/plain\r\n\r\nSee the attached dump.\r\n"
          "--b\r\nContent-Type: application/octet-stream; name=\"dump.bin\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n")
raw = mb * 1024 * 1024 * 3 // 4   # base64 makes it SIZE_MB on the wire
for _ in range(raw // (57 * 1024)):
    chunk = os.urandom(57 * 1024)
    out.write(base64.encodebytes(chunk).decode().replace("\n", "\r\n"))
out.write("--b--\r\n")
PY
BYTES=$(stat -c %s "$RUN/big.eml")
T0=$(now_ms)
send "$RUN/big.eml"
T1=$(now_ms)
AFTER=$(hwm_kb)
awk -v b="$BYTES" -v m="$MAX" -v h0="$BEFORE" -v h1="$AFTER" 'BEGIN {
    printf "message           %d bytes (%.1f MB)\n", b, b / 1048576
    printf "max_message_bytes %d (%.1f MB)\n", m, m / 1048576
    printf "peak RSS before   %.1f MB\n", h0 / 1024
    printf "peak RSS after    %.1f MB\n", h1 / 1024
    printf "growth            %.1f MB (%.1f MB beyond max_message_bytes)\n", \
        (h1 - h0) / 1024, (h1 - h0) / 1024 - m / 1048576 }'
printf 'SMTP DATA to 250 %d ms\n' "$((T1 - T0))"
grep 'big report\|tracking=' "$RUN/milter.log" | tail -n 1 || true

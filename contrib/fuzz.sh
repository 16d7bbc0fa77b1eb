#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   fuzz.sh - build and run the libFuzzer target tests/fuzz_report.c
# SUMMARY
#   contrib/fuzz.sh [SECONDS]          (default 30; CPR_FUZZ_DIR keeps the corpus)
# DESCRIPTION
#   Builds the target with clang -fsanitize=fuzzer,address,undefined over
#   milter/core/report.c and what it uses (mime, evidence, category: parse,
#   extract) plus classify.c, message.c and address.c (classify) and
#   probemark.c (the probe mark), seeds a
#   corpus from tests/fixtures/corpus, tests/fixtures/mime and
#   tests/fixtures/evidence, and runs it for SECONDS. A crash, leak or sanitizer report fails the run
#   (exit non-zero) and leaves the reproducer in the work directory.
#   contrib/test.sh runs a short smoke; run it longer by hand, e.g.
#   `contrib/fuzz.sh 600`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
work=${CPR_FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cpr-fuzz.XXXXXX")}
[ -n "${CPR_FUZZ_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
command -v clang >/dev/null || { echo "fuzz.sh: clang not installed (contrib/deps.sh)" >&2; exit 1; }

mkdir -p "$work/corpus"
# shellcheck disable=SC2046
clang -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -g -O1 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/milter/poison" -I"$top/milter/core" $(pkg-config --cflags gmime-3.0 libcrypto jansson) \
    "$top/tests/fuzz_report.c" "$top/milter/core/report.c" "$top/milter/core/mime.c" \
    "$top/milter/core/evidence.c" "$top/milter/core/keygate.c" "$top/milter/core/category.c" \
    "$top/milter/core/classify.c" "$top/milter/core/probemark.c" \
    "$top/milter/core/message.c" "$top/milter/core/address.c" \
    $(pkg-config --libs gmime-3.0 libcrypto jansson) -o "$work/fuzz_report"
cp "$top"/tests/fixtures/mime/* "$top"/tests/fixtures/evidence/* "$work/corpus/" 2>/dev/null || true
cp "$top"/tests/fixtures/corpus/*.eml "$work/corpus/"
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
cd "$work"
./fuzz_report -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus 2>&1 | tail -n 25

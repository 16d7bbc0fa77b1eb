#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   test.sh - build cpr-milter twice and run every test (the README test command)
# SUMMARY
#   contrib/test.sh            (as root, for the Postfix end-to-end test)
# DESCRIPTION
#   1. contrib/deps.sh installs whatever Debian packages are missing.
#   2. autoreconf -fi; a build in build-werror/ with --enable-werror; make check
#      (unit, integration against a throwaway PostgreSQL, end to end through
#      private Postfix instances).
#   3. A second build in build-san/ with --enable-werror --enable-sanitizers
#      (ASan, UBSan, LeakSanitizer with tests/lsan.supp) running the same
#      tests. Both builds are out of tree, so the source tree stays clean;
#      a source tree configured in place is distcleaned first (automake
#      refuses an out-of-tree build next to one).
#   4. contrib/demo.sh (with the build of step 2) and contrib/demo.sh stop,
#      counted as one test.
#   5. A 30-second libFuzzer smoke run (contrib/fuzz.sh), counted as one test.
#   On failure the logs of the failed tests and test-suite.log are printed.
#   Under CI=true a skipped test is a failure. The last line is
#   "N passed, N failed" over the test programs of both builds.
# DIAGNOSTICS
#   Exits 0 when everything passed, 1 otherwise.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
JOBS=${JOBS:-2}
passed=0 failed=0 skipped=0

summary() {
    local rc=$?
    trap - EXIT
    [ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1   # a build step failed
    echo
    if [ "$skipped" -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    [ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
    exit 1
}
trap summary EXIT

step() { printf '\n==== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# count DIR: add DIR/test-suite.log's figures to the totals; false if any
# test failed (or, under CI, was skipped).
count() {
    local log=$1/test-suite.log p f e x s xp
    [ -f "$log" ] || { echo "test.sh: no $log" >&2; failed=$((failed + 1)); return 1; }
    get() { sed -n "s/^# $1: *\([0-9]*\)\$/\1/p" "$log" | head -n 1; }
    p=$(get PASS); f=$(get FAIL); e=$(get ERROR); x=$(get XFAIL); s=$(get SKIP); xp=$(get XPASS)
    passed=$((passed + ${p:-0} + ${x:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${xp:-0}))
    if [ "${CI:-}" = true ]; then
        failed=$((failed + ${s:-0}))
        if [ "${s:-0}" != 0 ]; then
            echo "test.sh: $1: ${s} test(s) skipped; under CI=true a skip is a failure" >&2
            grep -E '^SKIP:' "$log" >&2 || true
            return 1
        fi
    else
        skipped=$((skipped + ${s:-0}))
    fi
    [ $(( ${f:-0} + ${e:-0} + ${xp:-0} )) -eq 0 ]
}

# check DIR [MAKE ARGS...]: make check, then show what failed.
check() {
    local dir=$1 rc=0; shift
    rm -f "$dir/test-suite.log"       # never count an earlier run's results
    (cd "$dir" && make -j"$JOBS" check "$@") || rc=$?
    if ! count "$dir" || [ "$rc" -ne 0 ]; then
        echo "test.sh: make check failed in $dir; test-suite.log follows" >&2
        cat "$dir/test-suite.log" >&2 2>/dev/null || true
        return 1
    fi
}

step "dependencies"
bash contrib/deps.sh

step "autoreconf"
if [ -f config.status ]; then
    echo "test.sh: the source tree is configured in place; make distclean first"
    make distclean >/dev/null 2>&1 || rm -f config.status
fi
autoreconf -fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rc=0
for b in build-werror build-san; do
    flags=(--enable-werror)
    [ "$b" = build-san ] && flags+=(--enable-sanitizers)
    step "$b: configure ${flags[*]}"
    mkdir -p "$b"
    (cd "$b" && ../configure "${flags[@]}" >configure.out) \
        || { cat "$b/config.log" >&2; exit 1; }
    step "$b: make"
    (cd "$b" && make -j"$JOBS")
    step "$b: make check"
    check "$b" || rc=1
done
# The README's other command: the demo runs to its end and stops cleanly.
step "demo: contrib/demo.sh, then contrib/demo.sh stop"
if CPR_DEMO_BUILDDIR=build-werror bash contrib/demo.sh >demo.log 2>&1 \
        && bash contrib/demo.sh stop >>demo.log 2>&1; then
    passed=$((passed + 1))
else
    tail -n 60 demo.log >&2
    bash contrib/demo.sh stop >/dev/null 2>&1 || true
    failed=$((failed + 1)); rc=1
fi
# A short fuzz smoke over parse, extract and classify (libFuzzer, ASan,
# UBSan); longer runs by hand: contrib/fuzz.sh 600.
step "fuzz smoke: contrib/fuzz.sh ${CPR_FUZZ_SECONDS:-30}"
if bash contrib/fuzz.sh "${CPR_FUZZ_SECONDS:-30}"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); rc=1
fi
exit "$rc"

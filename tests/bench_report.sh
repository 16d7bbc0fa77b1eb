#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   bench_report.sh - parse, extract and classify throughput of a report
# SUMMARY
#   top_builddir=BUILD bash tests/bench_report.sh [ITERATIONS]   (default 21)
# DESCRIPTION
#   A benchmark, not a test. Builds tests/bench_report (an EXTRA program,
#   not part of `make check`) in the build tree and runs it: median time,
#   MB/s and messages/s of each stage (parse, extract, classify, and the
#   whole analysis with both JSON documents) on a typical 20 KB report
#   and on a report with a 5 MB attachment. Peak RSS with a 50 MB message
#   is tests/bench_rss.sh's job (it needs the milter wired to Postfix).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir
make -s -C "$top_builddir" tests/bench_report >/dev/null
"$top_builddir/tests/bench_report" "${1:-21}"

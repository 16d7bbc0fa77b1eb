#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   package.sh - build the Debian package cpr-milter
# SUMMARY
#   contrib/package.sh OUTDIR
# DESCRIPTION
#   Copies the files git tracks (as they are in the work tree: nothing
#   built, nothing untracked) into a temporary directory, puts
#   contrib/debian there as ./debian (the repository's top level is
#   fixed, so the packaging cannot live in ./debian), and runs
#   `dpkg-buildpackage -us -uc -b`. The .deb, .buildinfo and .changes go
#   to OUTDIR. Then lintian checks the .changes: any error, or a warning
#   without an override (contrib/debian/*.lintian-overrides, each with
#   its reason), fails the build. Set LINTIAN=no to skip it, and
#   DEB_BUILD_OPTIONS=nocheck to skip the build-time unit tests. Needs
#   the packages contrib/deps.sh installs (dpkg-dev, debhelper, fakeroot,
#   lintian and the build dependencies); runs as any user.
# DIAGNOSTICS
#   Exit 1 when the build or lintian fails (lintian's report on stderr);
#   the temporary copy is removed either way, unless KEEP_BUILD=1.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: contrib/package.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
for c in dpkg-buildpackage dh git; do
    command -v "$c" >/dev/null || { echo "package.sh: $c not installed (run contrib/deps.sh)" >&2; exit 1; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 \
    || { echo "package.sh: $top is not a git work tree: cannot tell a clean copy" >&2; exit 1; }

version=$(sed -n '1s/^cpr-milter (\([^)]*\)).*/\1/p' "$top/contrib/debian/changelog")
[ -n "$version" ] || { echo "package.sh: no version in contrib/debian/changelog" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpr-package.XXXXXX")
[ "${KEEP_BUILD:-}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
src=$tmp/cpr-milter-${version%-*}
mkdir "$src"

# Tracked files only, deleted ones left out.
(cd "$top" && git ls-files -z --cached --deduplicate \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | tar -C "$src" -xf -
[ ! -e "$src/debian" ] || { echo "package.sh: the tree has a ./debian of its own" >&2; exit 1; }
cp -a "$src/contrib/debian" "$src/debian"

echo "package.sh: building cpr-milter $version in $src"
# Run from make check, the outer make's flags and TESTS would leak into
# the package's own build and test run: start it with none of them.
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u TESTS \
    dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 \
    || { tail -n 60 "$tmp/build.log" >&2; echo "package.sh: dpkg-buildpackage failed" >&2; exit 1; }

changes=$(ls "$tmp"/cpr-milter_"$version"_*.changes)
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$changes"; do cp "$f" "$out/"; done

if [ "${LINTIAN:-yes}" != no ]; then
    command -v lintian >/dev/null || { echo "package.sh: lintian not installed" >&2; exit 1; }
    # --fail-on: errors, and warnings not overridden with a reason.
    if ! lintian --fail-on error,warning --info "$changes" >"$tmp/lintian.log" 2>&1; then
        cat "$tmp/lintian.log" >&2
        echo "package.sh: lintian failed" >&2
        exit 1
    fi
    grep -v '^N: ' "$tmp/lintian.log" | sed 's/^/lintian: /' || true
fi
ls -1 "$out"/cpr-milter*_"$version"_*.deb

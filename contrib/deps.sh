#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   deps.sh - install the Debian packages cpr-milter needs
# SUMMARY
#   contrib/deps.sh
# DESCRIPTION
#   Installs everything needed to build, test and run the demo on Debian 12:
#   the toolchain, the libraries, PostgreSQL, Postfix (preseeded as "No
#   configuration", so no system MTA is set up) and Dovecot. A policy-rc.d
#   that refuses every start is in place while installing, so none of
#   their system services is started.
#   Idempotent: packages already installed are skipped, and apt-get is not
#   called at all when nothing is missing.
set -euo pipefail

PKGS=(
  build-essential autoconf automake libtool pkg-config
  libmilter-dev libpq-dev libcurl4-openssl-dev check
  libgmime-3.0-dev libglib2.0-dev libjansson-dev libssl-dev
  libmicrohttpd-dev
  postgresql postgresql-client
  postfix swaks miltertest
  # SASL AUTH on the tests' submission service: saslpasswd2, the sasldb
  # auxprop plugin, PLAIN/LOGIN (swaks does those without Authen::SASL)
  sasl2-bin libsasl2-2 libsasl2-modules libsasl2-modules-db
  # the probes' mailbox stage: a private IMAP server with LMTP and Sieve
  dovecot-imapd dovecot-lmtpd dovecot-sieve
  # curl and prometheus_client: tests/metrics.test scrapes and parses the
  # metrics endpoints
  curl python3 python3-prometheus-client procps iproute2 util-linux
  clang libclang-rt-14-dev
  # sd_notify for Type=notify units; systemd-analyze for tests/units.test
  libsystemd-dev systemd
  # the Debian package (contrib/package.sh, tests/package.test)
  dpkg-dev debhelper fakeroot lintian git
  # tests/web.test: cpr-web's links in a real browser, headless Chromium
  # driven by playwright-core (from npm, below)
  chromium nodejs
)

# playwright-core for tests/web.test, from npm into a cache of our own
# (not the system's node_modules). Pinned: it drives Debian's chromium,
# it downloads no browser of its own.
PLAYWRIGHT_VERSION=1.65.1
NODE_CACHE=${CPR_NODE_CACHE:-/var/cache/cpr-milter/node}
node_deps() {
  [ -f "$NODE_CACHE/node_modules/playwright-core/package.json" ] \
    && grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$NODE_CACHE/node_modules/playwright-core/package.json" \
    && return 0
  if [ "$(id -u)" -ne 0 ] && [ ! -w "$(dirname "$NODE_CACHE")" ]; then
    echo "deps: playwright-core missing in $NODE_CACHE; run this script as root" >&2
    return 1
  fi
  # Debian's nodejs comes without npm (its own package); NodeSource's
  # nodejs carries npm and conflicts with Debian's npm package.
  if ! command -v npm >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
  fi
  echo "deps: installing playwright-core@$PLAYWRIGHT_VERSION into $NODE_CACHE"
  mkdir -p "$NODE_CACHE"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --no-save \
    --prefix "$NODE_CACHE" "playwright-core@$PLAYWRIGHT_VERSION"
}

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages already installed"
  node_deps
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run this script as root to install them" >&2
  exit 1
fi

echo "deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A test/demo machine must not become a mail server by accident.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Nor a running IMAP or database server: no service may start while
# installing (invoke-rc.d and deb-systemd-invoke ask policy-rc.d).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
node_deps

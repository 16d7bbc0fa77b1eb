#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   demo.sh - run cpr-milter for real: PostgreSQL, Postfix, three reports
# SUMMARY
#   contrib/demo.sh          start the demo (as root, on Debian 12)
#   contrib/demo.sh stop     stop everything and remove demo-run/
# DESCRIPTION
#   Installs missing packages (contrib/deps.sh), builds if needed (in
#   $CPR_DEMO_BUILDDIR when set, in place when the tree was configured in
#   place, else in build-demo/), then starts,
#   all under demo-run/ and on 127.0.0.1 only: a throwaway PostgreSQL
#   cluster (unix socket), the migrations, cpr-milter, and a private Postfix
#   instance whose smtpd uses the milter and delivers to a Maildir, plus an
#   authenticated (SASL) submission service for staff. It sends three
#   sample reports with swaks (a key compromise with a private key in the
#   body, a misissuance question, an out-of-office auto-reply) and prints
#   the SMTP results, the X-CPR-* headers and Subject of each delivered
#   copy and the auto-replies; `cprctl list --all`; `cprctl show` of the
#   key compromise (reasons, evidence, the redacted stored copy) and
#   `cprctl search --spki`; then a staff member answers the reporter
#   through the submission service and `cprctl timeline` shows the
#   response stopping the clock. Then cpr-sweeper pages the overdue
#   acknowledge clock by email (the demo's acknowledge deadline is 10 s),
#   the page's signed link is opened in cpr-web and its button pressed,
#   `cprctl timeline` shows the acknowledgement by link, the sweeper
#   resolves the alert, and the metrics endpoints of cpr-milter and
#   cpr-sweeper show what they counted. Everything keeps
#   running until `contrib/demo.sh stop`. The system's own PostgreSQL and Postfix
#   configuration are not touched.
# DIAGNOSTICS
#   Exits non-zero, after stopping what it started, if any step fails.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
DEMO="$top/demo-run"
cd "$top"

# ---- stop ----------------------------------------------------------------------

# stop_pidfile FILE NAME: stop the process FILE names, if it is still NAME.
stop_pidfile() {
    local pid i
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if ps -o args= -p "$pid" 2>/dev/null | grep -q -- "$2"; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

demo_stop() {
    local pid pgbin i
    stop_pidfile "$DEMO/sweeper.pid" cpr-sweeper
    stop_pidfile "$DEMO/web.pid" cpr-web
    if [ -f "$DEMO/milter.pid" ]; then
        pid=$(cat "$DEMO/milter.pid")
        # Only the process we started: check it is still cpr-milter.
        if ps -o args= -p "$pid" 2>/dev/null | grep -q 'cpr-milter'; then
            kill -TERM "$pid" 2>/dev/null || true
            for i in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$DEMO/milter.pid"
    fi
    if [ -f "$DEMO/pf-demo/etc/main.cf" ] && postfix -c "$DEMO/pf-demo/etc" status >/dev/null 2>&1; then
        postfix -c "$DEMO/pf-demo/etc" stop >/dev/null 2>&1 \
            || postfix -c "$DEMO/pf-demo/etc" abort >/dev/null 2>&1 || true
    fi
    if [ -f "$DEMO/pg/data/postmaster.pid" ]; then
        pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
            "$pgbin/pg_ctl" -D "$DEMO/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
}

if [ "${1:-start}" = stop ]; then
    [ -d "$DEMO" ] || { echo "demo: nothing to stop (no $DEMO)"; exit 0; }
    demo_stop
    rm -rf "$DEMO"
    echo "demo: stopped; $DEMO removed"
    exit 0
fi
[ "${1:-start}" = start ] || { echo "usage: $0 [start|stop]" >&2; exit 64; }
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it starts a private Postfix instance)" >&2; exit 1; }

if [ -d "$DEMO" ]; then
    echo "demo: stopping the previous demo first"
    demo_stop
    rm -rf "$DEMO"
fi

# ---- dependencies and build -----------------------------------------------------

bash contrib/deps.sh

if [ -n "${CPR_DEMO_BUILDDIR:-}" ]; then
    builddir=$(cd "$CPR_DEMO_BUILDDIR" && pwd)  # a build of this tree (contrib/test.sh)
elif [ -f "$top/config.status" ]; then
    builddir=$top                               # configured in place (README)
else
    builddir=$top/build-demo
    [ -x configure ] || autoreconf -fi
    mkdir -p "$builddir"
    [ -f "$builddir/Makefile" ] || (cd "$builddir" && ../configure >configure.out)
fi
echo "demo: building in $builddir"
make -C "$builddir" -j2 >"$builddir/demo-make.log" 2>&1 \
    || { tail -n 40 "$builddir/demo-make.log" >&2; echo "demo: build failed" >&2; exit 1; }

top_srcdir=$top top_builddir=$builddir
export top_srcdir top_builddir
# shellcheck source=../tests/lib.sh
. "$top/tests/lib.sh"

failed() {
    local rc=$? f
    [ "$rc" -eq 0 ] && return 0
    echo "demo: FAILED (status $rc); stopping what was started" >&2
    for f in "$DEMO/milter.log" "$DEMO/pf-demo/maillog" "$DEMO/pg/postgres.log"; do
        [ -s "$f" ] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
    done
    demo_stop
    exit "$rc"
}
trap failed EXIT

# ---- services -------------------------------------------------------------------

run_init "$DEMO"
pg_start
cpr_migrate >"$DEMO/migrate.log" 2>&1 || { cat "$DEMO/migrate.log" >&2; exit 1; }
echo "demo: PostgreSQL running, socket in $PGSOCK; migrations applied"

MPORT=$(free_port)
SPORT=$(free_port)
XPORT=$(free_port)
CONF="$DEMO/cpr-milter.conf"
# Auto-replies go out through the demo Postfix itself, to the reporters'
# domains, which it delivers to the same Maildir.
# Staff replies are recorded from the submission service (below). The
# milter listens on 127.0.0.1, where only the demo's own Postfix talks to
# it, so its macros are believed (trust_inet_macros); in production use a
# unix socket only the MTA can reach (see cpr-milter.conf(5)).
CPR_REPLY_URL="smtp://127.0.0.1:$SPORT" milter_conf "$CONF" "$MPORT" \
    "submission_daemons = submission" "metrics_listen = 127.0.0.1:$XPORT" \
    "trust_inet_macros = yes"
# Paging: cpr-sweeper pages oncall@ca.example by email through the demo
# Postfix (so the page lands in the same Maildir), with cpr-web's signed
# acknowledge link in it. The demo's acknowledge deadline is 10 seconds,
# so that the sample reports are overdue by the time the sweeper starts;
# a CA's is 30 minutes.
WPORT=$(free_port)
YPORT=$(free_port)
head -c 48 /dev/urandom | base64 | tr -d '\n=' >"$DEMO/web.key"
chmod 0600 "$DEMO/web.key"
cat >>"$CONF" <<EOF
[sweeper]
conninfo = $(pg_conninfo cpr_sweeper)
metrics_listen = 127.0.0.1:$YPORT
[deadlines]
acknowledge = 10s
[escalation]
tiers = oncall
[tier oncall]
channels = mail
[channel mail]
type = email
to = oncall@ca.example
from = cpr-sweeper@ca.example
smtp_url = smtp://127.0.0.1:$SPORT
[web]
listen = 127.0.0.1:$WPORT
conninfo = $(pg_conninfo cpr_web)
secret_file = $DEMO/web.key
public_url = http://127.0.0.1:$WPORT
EOF
"$MILTER_BIN" -n -c "$CONF" >/dev/null
setsid "$MILTER_BIN" -f -c "$CONF" >>"$DEMO/milter.log" 2>&1 </dev/null &
echo $! >"$DEMO/milter.pid"
wait_for 30 "cpr-milter on 127.0.0.1:$MPORT" port_listening "$MPORT"
echo "demo: cpr-milter listening on 127.0.0.1:$MPORT (log: $DEMO/milter.log)"

postfix_start demo "$SPORT" \
    "smtpd_milters = { inet:127.0.0.1:$MPORT, default_action=tempfail }" \
    "non_smtpd_milters =" "milter_protocol = 6" \
    "virtual_mailbox_domains = ca.example, reporter.example, auditor.example, subscriber.example"
echo "demo: Postfix listening on 127.0.0.1:$SPORT (config $(pf_conf demo))"
SUBPORT=$(free_port)
STAFF_PASS=demo-$(date +%s)
sasl_user_add demo staff "$STAFF_PASS"
pf_deliver_locally demo                  # nothing leaves this machine
postfix_add_submission demo "$SUBPORT"
echo "demo: submission service (SASL AUTH) on 127.0.0.1:$SUBPORT, user staff@$PF_SASL_REALM"

# ---- three sample reports --------------------------------------------------------

mkdir -p "$DEMO/samples"
stamp=$(date +%s)
# A throwaway test key (its SPKI SHA-256 is printed below); the mailbox
# copy keeps it, the database gets a marker naming its SPKI instead.
pem() { cat "$top/tests/fixtures/evidence/ec.key"; }
cat >"$DEMO/samples/1-key-compromise.eml" <<EOF
From: Alice Researcher <alice@reporter.example>
To: cpr@ca.example
Subject: Key compromise: private key of www.shop.example published on a paste site
Message-ID: <demo-key-$stamp@reporter.example>
Date: $(date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,

the private key of the certificate for www.shop.example (serial
04:3a:9f:...) was published at a public paste site. Proof below; please
revoke within 24 hours as BR 4.9.1.1 requires.

$(pem)

Alice
EOF
cat >"$DEMO/samples/2-misissuance.eml" <<EOF
From: Bob <bob@auditor.example>
To: cpr@ca.example
Subject: Question: certificate for mail.example.org issued without validation?
Message-ID: <demo-mis-$stamp@auditor.example>
Date: $(date -R)

Hi, crt.sh shows a certificate for mail.example.org from your CA that our
company never requested. Was it misissued? Please investigate.

Bob
EOF
cat >"$DEMO/samples/3-out-of-office.eml" <<EOF
From: Carol <carol@subscriber.example>
To: cpr@ca.example
Subject: Automatic reply: Out of office until Monday
Message-ID: <demo-ooo-$stamp@subscriber.example>
Date: $(date -R)
Auto-Submitted: auto-replied

I am out of the office until Monday and will reply when I am back.
EOF

echo
echo "==== sending three sample reports to cpr@ca.example through Postfix"
for f in "$DEMO"/samples/*.eml; do
    from=$(sed -n 's/^From: .*<\(.*\)>$/\1/p' "$f" | head -n 1)
    printf '%-22s ' "$(basename "$f" .eml):"
    swaks --server "127.0.0.1:$SPORT" --helo reporter.example --from "$from" \
        --to cpr@ca.example --data "$f" --timeout 60 2>&1 \
        | grep -E '^ *<[-~*]* +([45][0-9]{2} |250 .*queued)' | head -n 1 | sed 's/^ *<[-~*]* *//'
done

# Three reports, and auto-replies to the two that are not automated.
wait_for 60 "the reports and auto-replies in the Maildir" eval '[ "$(maildir_count demo)" -ge 5 ]'

echo
echo "==== delivered to $(pf_maildir demo)"
python3 - "$(pf_maildir demo)" >"$DEMO/delivered.txt" <<'EOF'
import email.parser, os, sys
md = sys.argv[1]
p = email.parser.BytesHeaderParser()
files = []
for sub in ("new", "cur"):
    d = os.path.join(md, sub)
    files += [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []
heads = []
for path in sorted(files, key=os.path.getmtime):
    with open(path, "rb") as fh:
        heads.append(p.parse(fh))
reports = [h for h in heads if ".autoreply@" not in str(h.get("Message-ID", ""))]
replies = [h for h in heads if ".autoreply@" in str(h.get("Message-ID", ""))]
for h in reports:
    print("Subject: %s" % " ".join(str(h.get("Subject", "")).split()))
    for k, v in h.items():
        if k.lower().startswith("x-cpr-"):
            print("%s: %s" % (k, " ".join(str(v).split())))
    print()
print("==== auto-replies (from <>, Auto-Submitted: auto-replied)")
for h in replies:
    print("To: %s" % h.get("To", ""))
    print("Subject: %s" % " ".join(str(h.get("Subject", "")).split()))
    print()
EOF
cat "$DEMO/delivered.txt"

echo "==== cprctl -c $CONF list --all"
cprctl -c "$CONF" list --all

KEYCASE=$(sql "SELECT tracking FROM cpr.cases WHERE category = 'key-compromise' ORDER BY id LIMIT 1")
SPKI=$(sql "SELECT spki_sha256 FROM cpr.evidence e JOIN cpr.cases c ON c.id = e.case_id
            WHERE c.tracking = '$KEYCASE' AND e.kind = 'private-key' LIMIT 1")
echo
echo "==== cprctl show $KEYCASE   (reasons and evidence)"
cprctl -c "$CONF" show "$KEYCASE"
echo
echo "==== the stored copy of its text, as in the database (key redacted)"
sql "SELECT m.copy->'texts'->0->>'text' FROM cpr.messages m JOIN cpr.cases c ON c.id = m.case_id
     WHERE c.tracking = '$KEYCASE'" | sed 's/^/    /'
echo
echo "==== cprctl search --spki $SPKI"
cprctl -c "$CONF" search --spki "$SPKI"

echo
echo "==== staff answer the reporter from their mail client (submission, AUTH)"
swaks_submit "$SUBPORT" "staff@$PF_SASL_REALM" "$STAFF_PASS" \
    --from compliance@ca.example --to alice@reporter.example \
    --header "Subject: Re: Key compromise [$KEYCASE]" \
    --body "Thank you. We are revoking the certificate within 24 hours." \
    >"$DEMO/staff-reply.log"
swaks_accepted "$DEMO/staff-reply.log" || { cat "$DEMO/staff-reply.log" >&2; exit 1; }
grep "staff=" "$DEMO/milter.log" | tail -n 1
echo
echo "==== cprctl timeline $KEYCASE"
cprctl -c "$CONF" timeline "$KEYCASE"

echo
echo "==== on-call paging: cpr-sweeper and cpr-web start; the acknowledge clocks are overdue"
setsid "$top_builddir/milter/cpr-web" -f -c "$CONF" >>"$DEMO/web.log" 2>&1 </dev/null &
echo $! >"$DEMO/web.pid"
wait_for 30 "cpr-web on 127.0.0.1:$WPORT" port_listening "$WPORT"
setsid "$top_builddir/milter/cpr-sweeper" -f -c "$CONF" >>"$DEMO/sweeper.log" 2>&1 </dev/null &
echo $! >"$DEMO/sweeper.pid"
MISCASE=$(sql "SELECT tracking FROM cpr.cases WHERE category = 'misissuance' ORDER BY id LIMIT 1")
# page_file: the Maildir file of the first page for MISCASE, once it came.
page_file() {
    grep -l -s "^From: .*cpr-sweeper@" "$(pf_maildir demo)"/new/* "$(pf_maildir demo)"/cur/* \
        | xargs -r grep -l -s "$MISCASE" | head -n 1
}
wait_for 60 "the page for $MISCASE in the Maildir" eval '[ -n "$(page_file)" ]'
python3 - "$(page_file)" <<'PY'
import email, sys
from email.policy import default
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=default)
print("To: %s\nSubject: %s\n" % (m["To"], m["Subject"]))
print("\n".join("    " + l for l in m.get_body(("plain",)).get_content().splitlines()))
PY
LINK=$(grep -o -m 1 "http://127.0.0.1:$WPORT/ack/[A-Za-z0-9_-]*" "$(page_file)")
echo
echo "==== the on-call engineer opens the link (a GET only shows), then presses the button (POST)"
curl -sS --max-time 10 "$LINK" >"$DEMO/link.html"
sed -n 's:.*<title>\(.*\)</title>.*:    GET  -> \1:p' "$DEMO/link.html"
NONCE=$(sed -n 's/.*name="confirm" value="\([^"]*\)".*/\1/p' "$DEMO/link.html")
curl -sS --max-time 10 --data "confirm=$NONCE" "$LINK" >"$DEMO/ack.html"
sed -n 's:.*<title>\(.*\)</title>.*:    POST -> \1:p' "$DEMO/ack.html"
acked=$(sql "SELECT acked_at IS NOT NULL FROM cpr.cases WHERE tracking = '$MISCASE'")
[ "$acked" = t ] || { echo "demo: the link did not acknowledge $MISCASE" >&2; exit 1; }
echo
echo "==== cprctl timeline $MISCASE"
cprctl -c "$CONF" timeline "$MISCASE"
open_alerts() {
    sql "SELECT count(*) FROM cpr.alerts a JOIN cpr.cases c ON c.id = a.case_id
         WHERE c.tracking = '$MISCASE' AND a.state <> 'resolved'"
}
wait_for 30 "the alert of $MISCASE resolved" eval '[ "$(open_alerts)" = 0 ]'
echo "    (the sweeper resolved its alert, and mailed a 'resolved' page)"

echo
echo "==== cpr-milter's metrics: curl -s http://127.0.0.1:$XPORT/metrics   (series above 0)"
curl -sS --max-time 5 "http://127.0.0.1:$XPORT/metrics" | grep -v -e '^#' -e ' 0$'
echo
echo "==== cpr-sweeper's metrics: curl -s http://127.0.0.1:$YPORT/metrics   (series above 0)"
curl -sS --max-time 5 "http://127.0.0.1:$YPORT/metrics" | grep -v -e '^#' -e ' 0$'

echo
echo "The demo keeps running: Postfix on 127.0.0.1:$SPORT, cpr-milter on 127.0.0.1:$MPORT,"
echo "cpr-sweeper (metrics on 127.0.0.1:$YPORT) and cpr-web on 127.0.0.1:$WPORT."
echo "Try: swaks --server 127.0.0.1:$SPORT --to cpr@ca.example --from you@example.net"
echo "     $top_builddir/milter/cprctl -c $CONF show TRACKING"
echo "     $top_builddir/milter/cprctl -c $CONF incident-draft $KEYCASE"
echo "     $top_builddir/milter/cprctl -c $CONF report --from $(date -u +%F) --to $(date -u -d tomorrow +%F)"
echo "Stop it with: contrib/demo.sh stop"
echo
echo "Sample tracking numbers:"
sed -n '/^==== auto-replies/q; s/^X-CPR-Tracking: /  /p' "$DEMO/delivered.txt"
trap - EXIT

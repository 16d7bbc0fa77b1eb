# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# NAME
#   lib.sh - helpers shared by the integration and end-to-end tests
# SUMMARY
#   . "$top_srcdir/tests/lib.sh"; run_init; pg_start; postfix_start rx 2525
# DESCRIPTION
#   Sourced by tests/*.test and contrib/demo.sh. Gives each run its own
#   directory ($RUN) and a cleanup registry (cleanup_push, run LIFO on exit),
#   a throwaway PostgreSQL cluster on a unix socket only, private Postfix
#   instances on 127.0.0.1 (own config, queue, data and log, no chroot),
#   cpr-milter start/stop, and bounded polling (wait_for). Nothing here
#   touches the system PostgreSQL or Postfix. As root, PostgreSQL and the
#   Maildir deliveries run as $CPR_TEST_USER (default nobody).
#   Skips: skip() exits 77, or 99 (a failure) when CI=true.
# DIAGNOSTICS
#   die() prints to stderr and exits 1; on any non-zero exit the tails of
#   the registered logs (log_watch) are printed before cleanup.

set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

CPR_TEST_USER=${CPR_TEST_USER:-nobody}
MILTER_BIN=${MILTER_BIN:-$top_builddir/milter/cpr-milter}
CPRCTL_BIN=${CPRCTL_BIN:-$top_builddir/milter/cprctl}

# ---- messages, skips, failures ------------------------------------------

say()  { printf '%s: %s\n' "${0##*/}" "$*"; }
die()  { printf '%s: FAIL: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Exit 77 (automake SKIP); under CI a skip is a failure (99, hard error).
skip() {
    if [ "${CI:-}" = true ]; then
        printf '%s: SKIP not allowed under CI=true: %s\n' "${0##*/}" "$*" >&2
        exit 99
    fi
    printf '%s: SKIP: %s\n' "${0##*/}" "$*" >&2
    exit 77
}

is_root() { [ "$(id -u)" -eq 0 ]; }

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "$c not installed (run contrib/deps.sh)"
    done
}

# Run a command as the unprivileged test user when we are root.
as_user() {
    if is_root; then
        setpriv --reuid="$CPR_TEST_USER" --regid="$(id -g "$CPR_TEST_USER")" \
            --clear-groups -- "$@"
    else
        "$@"
    fi
}

# ---- run directory and cleanup registry -----------------------------------

CLEANUPS=()
LOG_WATCH=()

cleanup_push() { CLEANUPS+=("$*"); }

log_watch() { LOG_WATCH+=("$@"); }

run_cleanups() {
    local rc=$? i
    RUN_RC=$rc
    trap - EXIT INT TERM HUP PIPE
    set +e
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for i in "${LOG_WATCH[@]}"; do
            [ -s "$i" ] || continue
            printf '\n---- last lines of %s ----\n' "$i" >&2
            tail -n 40 "$i" >&2
        done
    fi
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUPS[$i]}" >/dev/null 2>&1
    done
    exit "$rc"
}

# run_init [DIR]: with DIR (the demo), use it and keep it; without, make a
# temporary directory removed on exit (kept when KEEP_RUN=1 or on failure
# when KEEP_RUN=fail).
run_init() {
    if [ $# -gt 0 ]; then
        RUN=$1
        mkdir -p "$RUN"
        RUN=$(cd "$RUN" && pwd)
    else
        RUN=$(mktemp -d "${TMPDIR:-/tmp}/cpr-test.XXXXXX")
        cleanup_push 'rm_run'
        trap run_cleanups EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
        trap 'exit 141' PIPE    # e.g. "make check | head": still clean up
    fi
    # Postfix and PostgreSQL run as other users: they must reach $RUN.
    chmod 755 "$RUN"
    export RUN
}

rm_run() {
    local rc=${RUN_RC:-0}
    case "${KEEP_RUN:-}" in
        1) say "kept $RUN"; return 0 ;;
        fail) [ "$rc" -ne 0 ] && { say "kept $RUN"; return 0; } ;;
    esac
    rm -rf "$RUN"
}

# ---- bounded waiting ------------------------------------------------------

now_ms() { date +%s%3N; }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD (every 50 ms, backing off to
# 250 ms) until it succeeds; returns 1 after SECONDS.
wait_for() {
    local secs=$1 what=$2; shift 2
    local deadline=$(( $(now_ms) + secs * 1000 )) pause=0.05
    while ! "$@"; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            printf '%s: timed out after %ss waiting for %s\n' "${0##*/}" "$secs" "$what" >&2
            return 1
        fi
        sleep "$pause"
        case $pause in 0.05) pause=0.1 ;; 0.1) pause=0.25 ;; esac
    done
}

# A TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# ---- PostgreSQL -----------------------------------------------------------

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] || return 1
    printf '%s\n' "$d"
}

# pg_start: a cluster in $RUN/pg, socket in $RUN/pg (no TCP), trust auth,
# superuser cpr_owner, database cpr. Sets PGSOCK and PGBIN.
# fsync stays on: the DB times we report should be those of a real commit.
pg_start() {
    PGBIN=$(pg_bindir) || skip "PostgreSQL server binaries not found"
    PGSOCK="$RUN/pg"
    local data="$PGSOCK/data"
    export PGSOCK PGBIN
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$PGSOCK"
        is_root && chown "$CPR_TEST_USER" "$PGSOCK"
        as_user "$PGBIN/initdb" -D "$data" -U cpr_owner --auth=trust \
            --no-locale -E UTF8 --no-sync >"$PGSOCK/initdb.log" 2>&1 \
            || { cat "$PGSOCK/initdb.log" >&2; die "initdb failed"; }
    fi
    log_watch "$PGSOCK/postgres.log"
    cleanup_push pg_stop
    pg_up
    if ! psql_su -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'cpr'" | grep -q 1; then
        psql_su -d postgres -qc "CREATE DATABASE cpr OWNER cpr_owner" >/dev/null
    fi
}

# pg_up: start an initialised cluster (again, after pg_down).
pg_up() {
    as_user "$PGBIN/pg_ctl" -D "$PGSOCK/data" -l "$PGSOCK/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$PGSOCK' -c max_connections=100 -c log_min_messages=warning" \
        start >/dev/null || die "pg_ctl start failed"
}

# pg_down: stop the server (fast), keep the data.
pg_down() {
    as_user "$PGBIN/pg_ctl" -D "$PGSOCK/data" -m fast -w -t 60 stop >/dev/null
}

pg_stop() {
    [ -n "${PGSOCK:-}" ] && [ -f "$PGSOCK/data/postmaster.pid" ] || return 0
    pg_down || as_user "$PGBIN/pg_ctl" -D "$PGSOCK/data" -m immediate -w -t 30 stop
}

pg_conninfo() { printf 'host=%s dbname=cpr user=%s' "$PGSOCK" "${1:-cpr_owner}"; }

# psql_su ARGS...: psql as cpr_owner (superuser of the throwaway cluster).
psql_su() { psql -X -v ON_ERROR_STOP=1 -h "$PGSOCK" -U cpr_owner "$@"; }

# sql QUERY: one query against cpr as the owner, unaligned, no headers.
sql() { psql_su -d cpr -qAt -F '|' -c "$1"; }

# ---- cprctl ----------------------------------------------------------------

cprctl() { "$CPRCTL_BIN" "$@"; }

# migrate: apply sql/ as the owner (idempotent).
cpr_migrate() {
    cprctl --conninfo "$(pg_conninfo cpr_owner)" migrate --sql-dir "$top_srcdir/sql"
}

# ---- Postfix ------------------------------------------------------------------

pf_dir()     { printf '%s/pf-%s' "$RUN" "$1"; }
pf_conf()    { printf '%s/pf-%s/etc' "$RUN" "$1"; }
pf_log()     { printf '%s/pf-%s/maillog' "$RUN" "$1"; }
pf_maildir() { printf '%s/pf-%s/mail/maildir' "$RUN" "$1"; }

# postfix_start NAME PORT [MAIN.CF LINES...]: a private instance in $RUN/pf-NAME
# with an smtpd on 127.0.0.1:PORT, delivering mail for ca.example with
# virtual(8) to the Maildir $(pf_maildir NAME), as $CPR_TEST_USER.
# postfix_start_relay NAME PORT NEXTHOP_PORT [LINES...]: an instance that
# relays everything to [127.0.0.1]:NEXTHOP_PORT instead, and queues and
# retries like a real sending MTA (retries only on an explicit flush).
postfix_start_relay() {
    local name=$1 port=$2 next=$3; shift 3
    PF_RELAY=1 postfix_start "$name" "$port" \
        "relayhost = [127.0.0.1]:$next" \
        "minimal_backoff_time = 1h" "maximal_backoff_time = 2h" \
        "queue_run_delay = 1h" "$@"
}

postfix_start() {
    local name=$1 port=$2; shift 2
    local d conf uid gid line
    d=$(pf_dir "$name"); conf=$(pf_conf "$name")
    is_root || skip "a private Postfix instance needs root"
    need_cmd postfix postconf
    uid=$(id -u "$CPR_TEST_USER"); gid=$(id -g "$CPR_TEST_USER")
    mkdir -p "$conf" "$d/queue" "$d/data" "$d/mail"
    chmod 755 "$d"
    chown root:root "$d/queue"
    chown postfix "$d/data"
    chown "$uid:$gid" "$d/mail"
    cat >"$conf/main.cf" <<EOF
# Private test instance $name; generated by tests/lib.sh.
compatibility_level = 3.6
config_directory = $conf
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-cpr-$name
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = $name.test.invalid
mydomain = test.invalid
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
notify_classes =
delay_warning_time = 0
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 50
EOF
    if [ -z "${PF_RELAY:-}" ]; then
        cat >>"$conf/main.cf" <<EOF
virtual_mailbox_domains = ca.example
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
EOF
    fi
    for line in "$@"; do printf '%s\n' "$line" >>"$conf/main.cf"; done
    cat >"$conf/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    log_watch "$d/maillog"
    cleanup_push "postfix_stop $name"
    postfix -c "$conf" check >"$d/check.log" 2>&1 \
        || { cat "$d/check.log" >&2; die "postfix check ($name) failed"; }
    postfix -c "$conf" start >"$d/start.log" 2>&1 \
        || { cat "$d/start.log" >&2; die "postfix start ($name) failed"; }
    wait_for 30 "postfix $name on port $port" smtp_greets "$port"
}

# smtp_greets PORT: an SMTP server on 127.0.0.1:PORT sends its 220 greeting.
smtp_greets() {
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), "probe.invalid", timeout=5)
s.quit()
EOF
}

pf_master_running() { [ -f "$(pf_dir "$1")/queue/pid/master.pid" ] && postfix -c "$(pf_conf "$1")" status >/dev/null 2>&1; }

postfix_stop() {
    local name=$1 conf
    conf=$(pf_conf "$name")
    [ -f "$conf/main.cf" ] || return 0
    pf_master_running "$name" || return 0
    postfix -c "$conf" stop >/dev/null 2>&1 || true
    if ! wait_for 15 "postfix $name to stop" eval '! pf_master_running '"$name"; then
        postfix -c "$conf" abort >/dev/null 2>&1 || true
    fi
}

# pf_flush NAME: deliver everything queued now (postqueue -f).
pf_flush() { postqueue -c "$(pf_conf "$1")" -f; }

# pf_queue_count NAME: messages in the queue (any state).
pf_queue_count() { postqueue -c "$(pf_conf "$1")" -j | grep -c . || true; }

# pf_queue_json NAME: postqueue -j (one JSON object per queued message).
pf_queue_json() { postqueue -c "$(pf_conf "$1")" -j; }

# maildir_count NAME: messages delivered to the instance's Maildir.
maildir_count() {
    local md
    md=$(pf_maildir "$1")
    [ -d "$md/new" ] || { echo 0; return 0; }
    find "$md/new" "$md/cur" -type f 2>/dev/null | wc -l
}

# ---- cpr-milter -------------------------------------------------------------

# milter_conf FILE PORT [EXTRA [milter] LINES...]: write a config for a
# milter on inet:PORT@127.0.0.1 against the throwaway cluster. Auto-replies
# are off unless CPR_REPLY_URL names the relay (smtp://127.0.0.1:PORT);
# CPR_REPLY_EXTRA adds [autoreply] lines (newline-separated).
milter_conf() {
    local file=$1 port=$2 line; shift 2
    {
        echo "# generated by tests/lib.sh"
        echo "[milter]"
        echo "socket = inet:$port@127.0.0.1"
        echo "addresses = ${CPR_ADDRESSES:-cpr@ca.example, compliance@ca.example}"
        echo "subject_tag = yes"
        echo "db_pool_size = 8"
        echo "db_timeout = 5s"
        echo "conninfo = $(pg_conninfo cpr_milter)"
        if is_root; then echo "user = $CPR_TEST_USER"; fi
        for line in "$@"; do printf '%s\n' "$line"; done
        echo "[database]"
        echo "conninfo = $(pg_conninfo cpr_owner)"
        echo "[autoreply]"
        if [ -n "${CPR_REPLY_URL:-}" ]; then
            echo "enabled = yes"
            echo "smtp_url = $CPR_REPLY_URL"
            echo "from = CA Problem Reports <cpr@ca.example>"
            if [ -n "${CPR_REPLY_EXTRA:-}" ]; then printf '%s\n' "$CPR_REPLY_EXTRA"; fi
        else
            echo "enabled = no"
        fi
    } >"$file"
}

MILTERS_REAPED=""   # pids already stopped and waited for: never signal them again

# milter_start CONF LOG: run cpr-milter -f in the background, wait until its
# socket listens. Sets MILTER_PID.
milter_start() {
    local conf=$1 log=$2 port
    [ -x "$MILTER_BIN" ] || die "$MILTER_BIN not built"
    port=$(sed -n 's/^socket *= *inet:\([0-9]*\)@.*/\1/p' "$conf")
    "$MILTER_BIN" -f -c "$conf" >>"$log" 2>&1 &
    MILTER_PID=$!
    log_watch "$log"
    cleanup_push "milter_stop $MILTER_PID"
    if ! wait_for 30 "cpr-milter on port $port" milter_ready "$MILTER_PID" "$port"; then
        die "cpr-milter did not start (see $log)"
    fi
}

milter_ready() {
    kill -0 "$1" 2>/dev/null || die "cpr-milter exited at start-up: $(tail -n 5 "$log" 2>/dev/null)"
    port_listening "$2"
}

# milter_stop [PID]: SIGTERM, bounded wait, then SIGKILL. Sets MILTER_RC to
# its exit status (137 when it had to be killed).
milter_stop() {
    local pid=${1:-${MILTER_PID:-}}
    MILTER_RC=0
    [ -n "$pid" ] || return 0
    case " $MILTERS_REAPED " in *" $pid "*) return 0 ;; esac
    MILTERS_REAPED+=" $pid"
    if kill -TERM "$pid" 2>/dev/null; then
        if ! wait_for 20 "cpr-milter $pid to exit" milter_gone "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || MILTER_RC=$?
}

# A child that exited is a zombie until waited for; kill -0 still succeeds.
milter_gone() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    case $st in Z*) return 0 ;; *) return 1 ;; esac
}

# milter_kill [PID]: SIGKILL, as a crash would.
milter_kill() {
    local pid=${1:-$MILTER_PID}
    case " $MILTERS_REAPED " in *" $pid "*) return 0 ;; esac
    MILTERS_REAPED+=" $pid"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---- sending --------------------------------------------------------------

# send_batch PORT COUNT CONCURRENCY TAG [RCPT]: send COUNT distinct messages
# with python3 smtplib over CONCURRENCY parallel sessions. Each message has
# its own Message-ID, Subject and "X-Test-Seq: TAG-N" (smtp-source's messages
# differ only in a Message-Id that can repeat, and would be deduplicated).
# Prints "sent=N refused=N elapsed=S rate=R"; refusals are listed on stderr.
send_batch() {
    python3 - "$@" <<'EOF'
import smtplib, sys, threading, time, uuid
port, count, conc, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rcpt = sys.argv[5] if len(sys.argv) > 5 else "cpr@ca.example"
run = uuid.uuid4().hex[:12]
body = "\r\n".join("line %02d of a test certificate problem report %s" % (i, "x" * 20)
                   for i in range(16))
lock = threading.Lock()
next_seq = [0]
sent, refused = [0], []

def take():
    with lock:
        if next_seq[0] >= count:
            return None
        next_seq[0] += 1
        return next_seq[0]

def worker():
    s = None
    while True:
        n = take()
        if n is None:
            break
        msg = ("From: Reporter <reporter@example.net>\r\n"
               "To: <%s>\r\n"
               "Subject: %s test report %d\r\n"
               "Message-ID: <%s.%d.%s@example.net>\r\n"
               "X-Test-Seq: %s-%d\r\n"
               "Date: %s\r\n\r\n%s\r\n" % (rcpt, tag, n, tag, n, run, tag, n,
               time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), body))
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, "sender.example.net", timeout=30)
            s.sendmail("reporter@example.net", [rcpt], msg)
            with lock:
                sent[0] += 1
        except smtplib.SMTPException as e:
            with lock:
                refused.append("%s-%d: %s" % (tag, n, e))
            try:
                s.rset()
            except Exception:
                s = None
        except OSError as e:
            with lock:
                refused.append("%s-%d: %s" % (tag, n, e))
            s = None
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass

t0 = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(conc)]
for t in threads: t.start()
for t in threads: t.join()
el = time.monotonic() - t0
for r in refused[:20]:
    print("refused " + r, file=sys.stderr)
print("sent=%d refused=%d elapsed=%.3f rate=%.1f" % (sent[0], len(refused), el, sent[0] / el if el else 0))
EOF
}

# ---- the submission service: SASL AUTH, a distinct {daemon_name} -----------
# Staff mail goes through a second smtpd of the same instance, as in
# production: only there may a message count as a staff response. Cyrus
# SASL reads a sasldb in the instance's directory (auxprop, PLAIN and LOGIN, no TLS: loopback
# only); the milter sees {daemon_name} = submission and {auth_authen}.

PF_SASL_REALM=${PF_SASL_REALM:-test.invalid}

# Debian's Postfix reads smtpd.conf from $config_directory/sasl and ignores
# cyrus_sasl_config_path (its patch 07_sasl_config); upstream reads the
# latter. Both name this directory.
pf_sasl_dir() { printf '%s/sasl' "$(pf_conf "$1")"; }

# sasl_user_add NAME USER PASSWORD: add USER (realm $PF_SASL_REALM) to the
# instance's sasldb, creating it and smtpd.conf on first use. The database
# is readable by the postfix user only (smtpd reads it after dropping
# privileges; there is no chroot in these instances).
sasl_user_add() {
    local name=$1 user=$2 pass=$3 dir
    dir=$(pf_sasl_dir "$name")
    need_cmd saslpasswd2
    mkdir -p "$dir"
    chmod 755 "$dir"
    cat >"$dir/smtpd.conf" <<CONF
# Cyrus SASL for the private test instance $name; generated by tests/lib.sh.
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $dir/sasldb2
mech_list: PLAIN LOGIN
CONF
    printf '%s' "$pass" | saslpasswd2 -p -c -f "$dir/sasldb2" -u "$PF_SASL_REALM" "$user" \
        || die "saslpasswd2 could not add $user"
    chown postfix "$dir/sasldb2"
    chmod 600 "$dir/sasldb2"
}

# pf_deliver_locally NAME DOMAIN...: mail for DOMAINs is delivered to the
# instance's Maildir (like ca.example), and mail for any other domain
# fails at once (error transport): an outbound test message can never
# reach the network. Reloads a running instance.
pf_deliver_locally() {
    local name=$1 conf doms d; shift
    conf=$(pf_conf "$name")
    doms=$(postconf -c "$conf" -h virtual_mailbox_domains)
    for d in "$@"; do doms="${doms:+$doms, }$d"; done
    postconf -c "$conf" -e "virtual_mailbox_domains = $doms" \
        "default_transport = error:5.7.1 test instance: no delivery to the network" \
        "relay_transport = error:5.7.1 test instance: no delivery to the network" \
        || die "postconf ($name) failed"
    if pf_master_running "$name"; then pf_reload "$name"; fi
}

pf_reload() {
    postfix -c "$(pf_conf "$1")" check >"$(pf_dir "$1")/check.log" 2>&1 \
        || { cat "$(pf_dir "$1")/check.log" >&2; die "postfix check ($1) failed"; }
    postfix -c "$(pf_conf "$1")" reload >/dev/null 2>&1 || die "postfix reload ($1) failed"
}

# postfix_add_submission NAME PORT [PARAM=VALUE...]: a submission smtpd on
# 127.0.0.1:PORT in the running instance NAME (added to master.cf, then
# postfix reload). It logs as postfix-cpr-NAME/submission, passes
# {daemon_name} = submission to the milters (milter_macro_daemon_name),
# requires SASL AUTH for everything (client and relay restrictions
# permit_sasl_authenticated, reject) and lets authenticated clients relay
# to any domain; pair it with pf_deliver_locally. It inherits the
# instance's smtpd_milters. PARAM=VALUE adds -o overrides (no blanks: put
# a value with blanks into a main.cf parameter and pass PARAM=$that).
# Users come from sasl_user_add (call it first).
postfix_add_submission() {
    local name=$1 port=$2 conf o; shift 2
    conf=$(pf_conf "$name")
    [ -s "$(pf_sasl_dir "$name")/sasldb2" ] || die "postfix_add_submission: no SASL users yet (sasl_user_add)"
    pf_master_running "$name" || die "postfix_add_submission: instance $name is not running"
    {
        echo "127.0.0.1:$port inet n - n - - smtpd"
        echo "  -o syslog_name=postfix-cpr-$name/submission"
        echo "  -o milter_macro_daemon_name=submission"
        echo "  -o smtpd_sasl_auth_enable=yes"
        echo "  -o smtpd_sasl_type=cyrus"
        echo "  -o smtpd_sasl_path=smtpd"
        echo "  -o cyrus_sasl_config_path=$(pf_sasl_dir "$name")"
        echo "  -o smtpd_sasl_local_domain=$PF_SASL_REALM"
        echo "  -o smtpd_sasl_security_options=noanonymous"
        echo "  -o smtpd_tls_security_level=none"
        echo "  -o smtpd_tls_auth_only=no"
        echo "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
        echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
        echo "  -o smtpd_recipient_restrictions="
        for o in "$@"; do echo "  -o $o"; done
    } >>"$conf/master.cf"
    pf_reload "$name"
    wait_for 30 "the submission service of $name on port $port" smtp_greets "$port"
}

# swaks_submit PORT USER PASSWORD ARGS...: one message through a submission
# port with AUTH PLAIN; swaks's transcript on stdout, its status returned.
swaks_submit() {
    local port=$1 user=$2 pass=$3; shift 3
    swaks --server "127.0.0.1:$port" --helo staff-desktop.ca.example \
        --auth PLAIN --auth-user "$user" --auth-password "$pass" \
        --timeout 60 "$@" 2>&1
}

# swaks_accepted FILE: the transcript FILE ends its DATA with 250 queued.
swaks_accepted() { grep -q '^<- *250 .*queued' "$1"; }

# ---- a private Dovecot (IMAP and LMTP, with Sieve) ------------------------------------
# dovecot_start IMAP_PORT LMTP_PORT USER PASSWORD: a Dovecot of its own in
# $RUN/dovecot (config, state, logs, one Maildir for every recipient, as
# $CPR_TEST_USER) with IMAP and LMTP on 127.0.0.1 only. LMTP delivery runs
# the Sieve script $(dv_sieve) first (it starts as "keep"); folders INBOX
# and Junk exist. Stopped by the cleanup. dv_maildir gives the Maildir.
dv_dir()     { printf '%s/dovecot' "$RUN"; }
dv_maildir() { printf '%s/dovecot/Maildir' "$RUN"; }
dv_sieve()   { printf '%s/dovecot/before.sieve' "$RUN"; }

dovecot_start() {
    local imap=$1 lmtp=$2 user=$3 pass=$4 d uid gid f
    need_cmd dovecot doveadm
    [ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || skip "dovecot-sieve not installed (run contrib/deps.sh)"
    d=$(dv_dir); uid=$(id -u "$CPR_TEST_USER"); gid=$(id -g "$CPR_TEST_USER")
    mkdir -p "$d/run" "$d/state" "$d/home"
    for f in "" .Junk; do mkdir -p "$d/Maildir/$f/cur" "$d/Maildir/$f/new" "$d/Maildir/$f/tmp"; done
    printf 'keep;\n' >"$(dv_sieve)"
    printf '%s:{PLAIN}%s\n' "$user" "$pass" >"$d/passwd"
    chown -R "$uid:$gid" "$d/Maildir" "$d/home" "$(dv_sieve)"
    chown "$uid:$gid" "$d"
    chmod 644 "$d/passwd"
    cat >"$d/dovecot.conf" <<CONF
# Private test Dovecot; generated by tests/lib.sh.
base_dir = $d/run
state_dir = $d/state
instance_name = dovecot-cpr-test-$$
log_path = $d/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$d/Maildir
first_valid_uid = 1
mail_uid = $uid
mail_gid = $gid
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$d/home allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
protocol lmtp {
  mail_plugins = sieve
  postmaster_address = postmaster@ca.example
}
plugin {
  sieve_before = $(dv_sieve)
  sieve = file:$d/home/sieve;active=$d/home/active.sieve
}
CONF
    log_watch "$d/dovecot.log"
    cleanup_push "dovecot_stop"
    dovecot -c "$d/dovecot.conf" >"$d/start.log" 2>&1 || { cat "$d/start.log" >&2; die "dovecot did not start"; }
    wait_for 30 "dovecot IMAP on port $imap" port_listening "$imap" || die "dovecot IMAP not listening"
    wait_for 30 "dovecot LMTP on port $lmtp" port_listening "$lmtp" || die "dovecot LMTP not listening"
}

dovecot_stop() {
    local d; d=$(dv_dir)
    [ -f "$d/dovecot.conf" ] || return 0
    doveadm -c "$d/dovecot.conf" stop >/dev/null 2>&1 || true
    # bounded: the master goes within seconds, or is killed
    wait_for 10 "dovecot to stop" dv_gone || pkill -KILL -f "dovecot -c $d/dovecot.conf" || true
}
dv_gone() { ! pgrep -f "dovecot -c $(dv_dir)/dovecot.conf" >/dev/null; }

# dv_count FOLDER TEXT: how many messages of the Maildir folder ("" for
# INBOX, .Junk) hold TEXT.
dv_count() { grep -rlsF -- "$2" "$(dv_maildir)/$1/cur" "$(dv_maildir)/$1/new" | wc -l; }

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cpr-sweeper - page on-call staff until every CPR deadline is met
 * SUMMARY
 *   cpr-sweeper [-f] [--once] [-n] [-c FILE] [-V]
 * DESCRIPTION
 *   The loop only: connect, run a sweep pass (sweep.c), keep the health
 *   books (health.c), then sleep until the next step is due, new events
 *   appear (a new case, an ack, ...: looked for every wake_poll, wake.c),
 *   or the database check is due -- never on a fixed minute. While it
 *   waits, the alerts due for a poll of PagerDuty or Opsgenie are asked
 *   about (ackpoll.c); an acknowledgement found there is a new event,
 *   which ends the wait. Any number
 *   of sweepers may run at once; the database hands each step to one of
 *   them.
 * DIAGNOSTICS
 *   Exit 0 on SIGTERM/SIGINT or after --once, 78 for a bad config, 1 when
 *   --once could not reach the database.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include "ackpoll.h"
#include "config.h"
#include "escalation.h"
#include "health.h"
#include "liveness.h"
#include "log.h"
#include "lookup.h"
#include "now.h"
#include "privdrop.h"
#include "probemailbox.h"
#include "probesend.h"
#include "revwatch.h"
#include "sendlog.h"
#include "sdnotify.h"
#include "sweep.h"
#include "sweepdb.h"
#include "sweepmetrics.h"
#include "wake.h"

#define DEFAULT_CONFIG   CPR_SYSCONFDIR "/cpr-milter.conf"
/* An event id held uncommitted longer than this may be missed by the
 * look for new events (wake.h); intake transactions last milliseconds. */
#define WAKE_WINDOW_MS   15000

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reindex;   /* SIGHUP: index the inventory directories again */

struct options {
    const char *config;
    bool foreground;
    bool once;
    bool check_only;
};

struct loop {
    struct sweeper s;
    struct health h;
    struct wake wake;          /* new events since the last look */
    bool stuck_paged;          /* tier 1 told of unsent auto-replies */
    struct probemailbox mailbox;
    struct lookup lookup;      /* evidence to affected certificates */
    const struct cpr_config *cfg;
    const char *conninfo;
    long long next_connect;
    bool last_pass_ok;
    struct log_throttle db_log;  /* database up/down lines, with back-off */
    struct revwatch *rw;         /* published revocation (issue 16) */
};

static void
on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void
on_hup(int sig)
{
    (void)sig;
    reindex = 1;
}

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: cpr-sweeper [-f] [--once] [-n] [-c FILE] [-V] [-h]\n"
                "  -c FILE  config file (default %s)\n"
                "  -f       stay in the foreground and log to stderr\n"
                "  --once   run a single pass and exit\n"
                "  -n       check the config and exit\n"
                "  -V, --version  print the version and exit\n"
                "  -h, --help     print this help and exit\n", DEFAULT_CONFIG);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "once", no_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };
    int ch;

    o->config = DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, "c:fnVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'f': o->foreground = true; break;
        case 'o': o->once = true; break;
        case 'n': o->check_only = true; break;
        case 'V': printf("cpr-sweeper %s\n", PACKAGE_VERSION); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(64);
        }
    }
    if (optind != argc) {
        usage(stderr);
        exit(64);
    }
}

static struct cpr_config *
load_config(const char *path)
{
    char *err = NULL;
    struct cpr_config *cfg = config_load_checked(path, config_check_sweeper, &err);

    /* the probe secret only when this sweeper sends probes */
    if (cfg != NULL && cfg->probe_send_url[0] != '\0' && !config_read_probe_secret(cfg, &err)) {
        config_free(cfg);
        cfg = NULL;
    }
    if (cfg == NULL)
        log_error("%s", err ? err : "cannot load config");
    g_free(err);
    return cfg;
}

/* The worker name owns claims: host and pid, plus a nonce, so two sweepers
 * with the same hostname and pid (containers) never pass for each other. */
static void
set_identity(struct sweeper *s, const struct cpr_config *cfg)
{
    char host[128] = "localhost";

    gethostname(host, sizeof(host) - 1);
    srand((unsigned)(getpid() ^ now_wall_ms()));
    snprintf(s->actor, sizeof(s->actor), "cpr-sweeper@%s", host);
    snprintf(s->worker, sizeof(s->worker), "%.*s:%ld:%08x", (int)sizeof(s->actor) - 1,
             s->actor, (long)getpid(), (unsigned)rand());
    s->lease_ms = (int)cfg->claim_lease_ms;
    s->group_window_ms = cfg->group_window_ms;
    s->milter_down_after_ms = cfg->milter_down_after_ms;
    s->milter_grace_ms = cfg->milter_stop_grace_ms;
    s->probe_timeout_ms = cfg->probe_timeout_ms;
}

static void
db_drop(struct loop *l, long long now)
{
    PQfinish(l->s.conn);
    l->s.conn = NULL;
    l->next_connect = now + l->s.esc.retry_base_ms;
    health_db_result(&l->h, false, now);
}

static void
db_ensure(struct loop *l, long long now)
{
    char err[512];

    if (l->s.conn != NULL || now < l->next_connect)
        return;
    l->s.conn = sweepdb_connect(l->conninfo, l->cfg->sweeper_db_timeout_ms, err, sizeof(err));
    if (l->s.conn == NULL) {
        log_throttle_fail(&l->db_log, now, "database unavailable: %s", err);
        db_drop(l, now);
        return;
    }
    wake_reset(&l->wake);
    if (!log_throttle_ok(&l->db_log, now, "connected to the database again"))
        log_info("connected to the database; looking for new events every %lld ms",
                 l->cfg->wake_poll_ms);
}

/* Tell tier 1 directly, without the database: a health alert raised
 * (or, with resolve, cleared) under its dedup key. True if any channel
 * took it. */
static bool
page_health(struct loop *l, const char *dedup, const char *id_suffix,
            const char *summary, bool resolve)
{
    char id[160];
    struct pager_notice n = { 0 };

    snprintf(id, sizeof(id), "%s/%s", dedup, id_suffix);
    n.event = resolve ? "resolve" : "health";
    n.id = id;
    n.dedup_key = dedup;
    n.summary = summary;
    return liveness_tier1_send(&l->s, &n);
}

static bool
page_db_health(struct loop *l, bool resolve, long long now)
{
    char since[32], summary[256];

    snprintf(since, sizeof(since), "%lld", l->h.db_down_since);
    snprintf(summary, sizeof(summary), resolve
             ? "%s: the CPR database is reachable again"
             : "%s: the CPR database has been unreachable for %lld s; "
               "reports may be tempfailed and pages delayed", l->s.actor,
             (now - l->h.db_down_since) / 1000);
    return page_health(l, HEALTH_DB_DEDUP, since, summary, resolve);
}

/* Auto-replies unsent past stuck_reply_after: page tier 1 once, resolve
 * when the outbox has drained. */
static void
check_stuck_replies(struct loop *l, long long now)
{
    char oldest[32], summary[512], when[32];
    long long count = 0;

    if (l->s.conn == NULL
        || !sweepdb_stuck_replies(l->s.conn, l->cfg->stuck_reply_after_ms, &count,
                                  oldest, sizeof(oldest)))
        return;
    snprintf(when, sizeof(when), "%lld", now);
    if (count > 0 && !l->stuck_paged) {
        snprintf(summary, sizeof(summary), "%s: %lld auto-replies unsent for over %lld s "
                 "(oldest: %s); check [autoreply] smtp_url and the relay", l->s.actor,
                 count, l->cfg->stuck_reply_after_ms / 1000, oldest);
        l->stuck_paged = page_health(l, HEALTH_STUCK_DEDUP, when, summary, false);
    } else if (count == 0 && l->stuck_paged) {
        snprintf(summary, sizeof(summary), "%s: the auto-reply outbox has drained",
                 l->s.actor);
        page_health(l, HEALTH_STUCK_DEDUP, when, summary, true);
        l->stuck_paged = false;
    }
}

static void
health_tick(struct loop *l, long long now)
{
    if (health_db_page_due(&l->h, now)) {
        if (page_db_health(l, false, now))
            l->h.db_down_paged = true;
        else
            health_db_page_failed(&l->h, now);
    }
    if (l->h.db_resolve_owed) {
        page_db_health(l, true, now);
        l->h.db_resolve_owed = false;
    }
    if (health_heartbeat_due(&l->h, now)) {
        health_ping(l->cfg->heartbeat_url, !l->last_pass_ok, NULL);
        health_heartbeat_done(&l->h, now);
    }
}

/* Did new events appear since the last look? The first look after a
 * connect only learns where the events end. */
static bool
events_changed(struct loop *l)
{
    long long now = now_mono_ms(), lo, base, n_lo = 0, n_base = 0, top = 0;

    if (!wake_known(&l->wake)) {
        if (sweepdb_changes(l->s.conn, -1, -1, &n_lo, &n_base, &top))
            wake_start(&l->wake, now, top);
        return false;
    }
    wake_floors(&l->wake, now, &lo, &base);
    if (!sweepdb_changes(l->s.conn, lo, base, &n_lo, &n_base, &top))
        return PQstatus(l->s.conn) != CONNECTION_OK;   /* the round reconnects */
    return wake_saw(&l->wake, now, n_lo, n_base, top);
}

static void poll_round(struct loop *l);

/* One round: pass, health. Returns when the loop should wake next. */
static long long
loop_round(struct loop *l)
{
    long long now = now_mono_ms(), wake = now + l->cfg->db_check_interval_ms, next;
    bool ok = false;

    db_ensure(l, now);
    if (l->s.conn != NULL) {
        (void)events_changed(l);   /* the pass sees all before the mark */
        next = sweep_pass(&l->s, &ok);
        if (next > 0 && now_mono_ms() + next < wake)
            wake = now_mono_ms() + next;
        if (!ok && PQstatus(l->s.conn) != CONNECTION_OK) {
            log_throttle_fail(&l->db_log, now, "database connection lost");
            db_drop(l, now_mono_ms());
        }
        else
            health_db_result(&l->h, true, now);
    }
    l->last_pass_ok = ok;
    sweepmetrics_round(ok ? l->s.conn : NULL);
    if (ok)
        check_stuck_replies(l, now);
    if (ok && (next = probesend_round(l->s.conn, l->cfg, l->s.worker)) > 0
        && now_mono_ms() + next < wake)
        wake = now_mono_ms() + next;
    if (reindex) {
        reindex = 0;
        lookup_reindex(&l->lookup, true);
    }
    if (ok && (next = lookup_pass(&l->lookup, &l->s, &ok)) > 0 && now_mono_ms() + next < wake)
        wake = now_mono_ms() + next;
    /* After the lookup: certificates it found are checked this round. */
    if (ok && (next = revwatch_round(l->rw, &l->s, &ok)) > 0 && now_mono_ms() + next < wake)
        wake = now_mono_ms() + next;
    if (ok && (next = probemailbox_round(&l->mailbox, l->s.conn, l->cfg, now_mono_ms())) > 0
        && now_mono_ms() + next < wake)
        wake = now_mono_ms() + next;
    if (ok)
        poll_round(l);
    health_tick(l, now_mono_ms());
    next = health_next_wake(&l->h, now);
    if (next > 0 && next < wake)
        wake = next;
    if (l->s.conn == NULL && l->next_connect < wake)
        wake = l->next_connect;
    return wake;
}

/* The alerts due for a poll (ackpoll.h), without a whole pass: an ack
 * it records is a new event, which then wakes the pass. At most every
 * ACKPOLL_MIN_GAP_MS, so alerts falling due one by one share a round. */
#define ACKPOLL_MIN_GAP_MS 200
static void
poll_round(struct loop *l)
{
    long long next;
    bool ok;

    if (l->s.poll == NULL || l->s.poll->n == 0 || l->s.conn == NULL
        || now_mono_ms() < l->s.poll->next_at)
        return;
    next = ackpoll_pass(&l->s, &ok);
    if (!ok || next <= 0)
        next = l->cfg->db_check_interval_ms;
    l->s.poll->next_at = now_mono_ms() + (next < ACKPOLL_MIN_GAP_MS ? ACKPOLL_MIN_GAP_MS : next);
}

/* Sleep until wake, looking for new events every wake_poll and polling
 * the paging services when due; a signal ends the sleep too. */
static void
loop_wait(struct loop *l, long long wake)
{
    long long left;

    while (!stopping && (left = wake - now_mono_ms()) > 0) {
        long long slice = left < l->cfg->wake_poll_ms ? left : l->cfg->wake_poll_ms;
        bool polls = l->s.poll != NULL && l->s.poll->n > 0;

        if (polls && l->s.poll->next_at - now_mono_ms() < slice)
            slice = l->s.poll->next_at - now_mono_ms();
        if (slice > 0 && poll(NULL, 0, (int)slice) < 0 && errno != EINTR)
            log_warn("poll: %s", strerror(errno));
        poll_round(l);
        if (l->s.conn != NULL && events_changed(l))
            return;
    }
}

/* systemd (Type=notify): READY=1 after the first round, WATCHDOG=1 after
 * each later one, since a round that returned is the loop's proof of
 * life. Ready even when the round could not reach the database: the
 * sweeper is what pages about that, so it must not sit in "starting"
 * until TimeoutStartSec kills it. */
static void
notify_round(const struct loop *l)
{
    static bool ready;

    if (ready) {
        sdnotify_watchdog();
        return;
    }
    sdnotify_ready(l->s.conn != NULL ? "connected to the database"
                                     : "database unreachable; paging when it stays down");
    ready = true;
}

static int
run(struct loop *l, bool once)
{
    while (!stopping) {
        long long wake = loop_round(l);

        notify_round(l);

        if (once)
            return l->last_pass_ok ? 0 : 1;
        loop_wait(l, wake);
    }
    log_info("cpr-sweeper stopping");
    return 0;
}

static void
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char **argv)
{
    struct options o = { 0 };
    struct loop l = { 0 };
    struct cpr_config *cfg;
    struct metrics_server *metrics;
    char *err = NULL, perr[512];
    struct privdrop priv;
    struct ackpoll poll;
    int rc;

    parse_options(argc, argv, &o);
    log_init("cpr-sweeper", o.foreground || o.once || o.check_only);
    if ((cfg = load_config(o.config)) == NULL)
        return CPR_EX_CONFIG;
    log_set_facility(cfg->log_facility);   /* checked by config_load */
    l.s.cfg = cfg;
    if (!escalation_build(cfg, &l.s.esc, &err)) {
        log_error("%s", err);
        g_free(err);
        config_free(cfg);
        return CPR_EX_CONFIG;
    }
    if ((l.rw = revwatch_new(cfg, &err)) == NULL) {
        log_error("%s", err);
        g_free(err);
        escalation_free(&l.s.esc);
        config_free(cfg);
        return CPR_EX_CONFIG;
    }
    if (!ackpoll_build(cfg, &poll, &err)) {
        log_error("%s", err);
        g_free(err);
        revwatch_free(l.rw);
        escalation_free(&l.s.esc);
        config_free(cfg);
        return CPR_EX_CONFIG;
    }
    l.s.poll = &poll;
    if (!privdrop_check("[sweeper] user", cfg->sweeper_user, &priv, perr, sizeof(perr)))
        log_fatal(CPR_EX_CONFIG, "%s", perr);
    if (o.check_only) {
        printf("cpr-sweeper: %s: config OK\n", o.config);
        revwatch_free(l.rw);
        ackpoll_free(&poll);
        escalation_free(&l.s.esc);
        config_free(cfg);
        return 0;
    }
    if (!o.foreground && !o.once && daemon(0, 0) != 0)
        log_fatal(1, "daemon: %s", strerror(errno));
    if (!privdrop_become(&priv, perr, sizeof(perr)))
        log_fatal(1, "%s", perr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    install_signals();
    set_identity(&l.s, cfg);
    l.cfg = cfg;
    log_throttle_init(&l.db_log, LOG_THROTTLE_INTERVAL_MS);
    sendlog_init(&l.s);
    wake_init(&l.wake, WAKE_WINDOW_MS);
    l.conninfo = config_conninfo(cfg, PROGRAM_SWEEPER);
    health_init(&l.h, now_mono_ms(), cfg->heartbeat_interval_ms, *cfg->heartbeat_url != '\0',
                cfg->db_down_page_after_ms);
    lookup_init(&l.lookup, cfg);
    log_info("cpr-sweeper %s started as %s", PACKAGE_VERSION, l.s.worker);
    metrics = o.once ? NULL : sweepmetrics_start(cfg, &l.s.esc);
    rc = run(&l, o.once);
    metrics_stop(metrics);
    PQfinish(l.s.conn);
    lookup_free(&l.lookup);
    sendlog_free(&l.s);
    revwatch_free(l.rw);
    ackpoll_free(&poll);
    escalation_free(&l.s.esc);
    config_free(cfg);
    curl_global_cleanup();
    return rc;
}

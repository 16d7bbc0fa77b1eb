/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   outbox - cpr-milter's auto-reply sender thread
 * DESCRIPTION
 *   See outbox.h. All SQL is calls of the 006_autoreply.sql functions with
 *   parameters. The wait has a cap (OUTBOX_IDLE_MS), a safety net for rows
 *   queued by other milter hosts; replies from this host go out at once.
 * DIAGNOSTICS
 *   Each attempt is logged with the tracking number and the SMTP result;
 *   the reporter's address is not logged.
 */
#include "outbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <libpq-fe.h>

#include "autoreply.h"
#include "compliance.h"
#include "log.h"
#include "logthrottle.h"
#include "now.h"
#include "retry.h"
#include "pgconn.h"
#include "smtp.h"

#define OUTBOX_BATCH       1        /* one row per claim: the lease covers one send */
#define OUTBOX_IDLE_MS     60000    /* longest sleep with nothing due */
#define OUTBOX_RECONNECT_MS 2000
#define OUTBOX_CLAIM_COLS  11

struct outbox {
    struct outbox_settings s;   /* strings owned (g_strdup) */
    char worker[160];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken, stop;
    PGconn *conn;
    struct log_throttle db_log;  /* failed connects, with back-off */
};

static PGresult *
outbox_query(struct outbox *ob, const char *sql, int n, const char *const *p)
{
    char err[256];
    PGresult *res = pgconn_exec(ob->conn, NULL, sql, n, p, ob->s.db_timeout_ms,
                                err, sizeof(err));

    if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    log_error("outbox: %s", res ? PQresultErrorMessage(res) : err);
    PQclear(res);
    return NULL;
}

static const char *
col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static void
outbox_finish(struct outbox *ob, const char *id, const char *outcome, long code,
              const char *error, long long retry_ms)
{
    char st[16], retry[32];
    const char *p[] = { id, ob->worker, outcome, code ? st : NULL, error, retry };
    PGresult *res;

    snprintf(st, sizeof(st), "%ld", code);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    res = outbox_query(ob, "SELECT cpr.outbox_finish($1, $2, $3, $4, $5, $6)", 6, p);
    if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        log_warn("outbox row %s was taken over by another sender; result dropped", id);
    PQclear(res);
}

/* Fenced before the send as outbox_finish fences after it: a row whose
 * lease ran out may already be another milter's. */
static bool
outbox_still_held(struct outbox *ob, const char *id)
{
    const char *p[] = { id, ob->worker };
    PGresult *res = outbox_query(ob, "SELECT cpr.outbox_held($1, $2)", 2, p);
    bool held = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

    PQclear(res);
    if (!held)
        log_warn("outbox row %s is no longer ours (lease ran out or taken over): not sent", id);
    return held;
}

/* The report due time the reply states: receipt + [deadlines] report, as
 * the sweeper and cprctl count it (the claim's own column says 24 h
 * whatever the config). NULL when the receipt cannot be read. */
static const char *
outbox_report_due(const struct outbox *ob, const char *received_at, char *buf, size_t len)
{
    long long at = received_at ? compliance_time_ms(received_at) : 0;

    if (at <= 0 || ob->s.report_ms <= 0)
        return NULL;
    compliance_time_iso(at + ob->s.report_ms, buf, len);
    return buf;
}

/* Compose and send one claimed row; record the outcome. */
static void
outbox_send_row(struct outbox *ob, const PGresult *res, int row)
{
    char due[40];
    struct autoreply_reply r = {
        .from = ob->s.from, .to = col(res, row, 2), .tracking = col(res, row, 3),
        .received_at = col(res, row, 4),
        .report_due_at = outbox_report_due(ob, col(res, row, 4), due, sizeof(due)),
        .subject = col(res, row, 6), .category = col(res, row, 7),
        .message_id = col(res, row, 8), .references = col(res, row, 9),
        .reply_token = col(res, row, 10),
        .now = now_wall_ms() / 1000 };
    const char *id = col(res, row, 0), *why = NULL;
    int attempts = atoi(col(res, row, 1));
    char *msg = autoreply_compose(&r, ob->s.template_text, &why);
    char *rcpt[] = { (char *)r.to, NULL };
    struct smtp_request req = { ob->s.smtp_url, "", rcpt, msg, 0, NULL, NULL, NULL };
    enum smtp_result sr;
    char err[256];
    long code = 0;

    if (msg == NULL) {
        log_error("%s: auto-reply not composed: %s", r.tracking, why);
        outbox_finish(ob, id, "failed", 0, why, 0);
        return;
    }
    if (!outbox_still_held(ob, id)) {
        free(msg);
        return;
    }
    sr = smtp_send(&req, &code, err, sizeof(err));
    free(msg);
    log_info("%s: auto-reply attempt %d: %s", r.tracking, attempts, err);
    if (sr == SMTP_SENT)
        outbox_finish(ob, id, "sent", code, NULL, 0);
    else if (sr == SMTP_RETRY && attempts < ob->s.max_attempts)
        outbox_finish(ob, id, "retry", code, err,
                      retry_backoff_ms(attempts - 1, ob->s.retry_base_ms,
                                       ob->s.retry_cap_ms, (unsigned)rand()));
    else
        outbox_finish(ob, id, "failed", code, err, 0);
}

/* Claim and send until nothing is ready. False on a database failure. */
static bool
outbox_drain(struct outbox *ob)
{
    char lease[32], lim[16];
    const char *p[] = { ob->worker, lease, lim };

    snprintf(lease, sizeof(lease), "%lld", ob->s.lease_ms);
    snprintf(lim, sizeof(lim), "%d", OUTBOX_BATCH);
    for (;;) {
        PGresult *res = outbox_query(ob, "SELECT * FROM cpr.outbox_claim($1, $2, $3)", 3, p);
        int n;

        if (res == NULL)
            return false;
        n = PQntuples(res);
        if (PQnfields(res) != OUTBOX_CLAIM_COLS) {
            log_error("cpr.outbox_claim returned %d columns, not %d: is the schema "
                      "migrated to this version? %d claimed replies left for their lease",
                      PQnfields(res), OUTBOX_CLAIM_COLS, n);
            n = 0;
        }
        for (int i = 0; i < n; i++)
            outbox_send_row(ob, res, i);
        PQclear(res);
        if (n < OUTBOX_BATCH)
            return true;
    }
}

/* How long to sleep: until the next retry, at most OUTBOX_IDLE_MS. */
static long long
outbox_sleep_ms(struct outbox *ob)
{
    PGresult *res = outbox_query(ob, "SELECT cpr.outbox_next_ms()", 0, NULL);
    long long next, wait = OUTBOX_IDLE_MS;

    if (res != NULL && !PQgetisnull(res, 0, 0)) {
        next = atoll(PQgetvalue(res, 0, 0));      /* a delay, not a time */
        wait = next < 0 ? 0 : next < wait ? next : wait;
    }
    PQclear(res);
    return wait;
}

static bool
outbox_connect(struct outbox *ob)
{
    char err[256];

    if (ob->conn != NULL && PQstatus(ob->conn) == CONNECTION_OK)
        return true;
    PQfinish(ob->conn);
    /* Every query then has db_timeout as its deadline, so outbox_stop()
     * waits at most that long for a frozen database (shutdown's bound). */
    ob->conn = pgconn_open(ob->s.conninfo, "cpr-milter-outbox", ob->s.db_timeout_ms,
                           err, sizeof(err));
    if (ob->conn != NULL) {
        log_throttle_ok(&ob->db_log, now_mono_ms(), "outbox: connected to the database again");
        return true;
    }
    log_throttle_fail(&ob->db_log, now_mono_ms(), "outbox: database unavailable: %s", err);
    return false;
}

/* One round: connect, drain; returns how long to sleep. */
static long long
outbox_round(struct outbox *ob)
{
    if (!outbox_connect(ob))
        return OUTBOX_RECONNECT_MS;
    if (!outbox_drain(ob))
        return OUTBOX_RECONNECT_MS;
    return outbox_sleep_ms(ob);
}

static void
outbox_wait(struct outbox *ob, long long ms)
{
    struct timespec ts;

    now_deadline(&ts, ms);
    pthread_mutex_lock(&ob->mu);
    while (!ob->woken && !ob->stop)
        if (pthread_cond_timedwait(&ob->cv, &ob->mu, &ts) != 0)
            break;
    ob->woken = false;
    pthread_mutex_unlock(&ob->mu);
}

static void *
outbox_run(void *arg)
{
    struct outbox *ob = arg;

    for (;;) {
        long long ms;

        pthread_mutex_lock(&ob->mu);
        if (ob->stop) {
            pthread_mutex_unlock(&ob->mu);
            break;
        }
        pthread_mutex_unlock(&ob->mu);
        ms = outbox_round(ob);
        outbox_wait(ob, ms);
    }
    PQfinish(ob->conn);
    ob->conn = NULL;
    return NULL;
}

static void
outbox_free(struct outbox *ob)
{
    g_free((char *)ob->s.conninfo);
    g_free((char *)ob->s.smtp_url);
    g_free((char *)ob->s.from);
    g_free((char *)ob->s.template_text);
    free(ob);
}

struct outbox *
outbox_start(const struct outbox_settings *s)
{
    struct outbox *ob = calloc(1, sizeof(*ob));
    pthread_condattr_t attr;
    char host[128] = "localhost";

    if (ob == NULL)
        return NULL;
    ob->s = *s;
    ob->s.conninfo = g_strdup(s->conninfo);
    ob->s.smtp_url = g_strdup(s->smtp_url);
    ob->s.from = g_strdup(s->from);
    ob->s.template_text = g_strdup(s->template_text);
    gethostname(host, sizeof(host) - 1);
    snprintf(ob->worker, sizeof(ob->worker), "cpr-milter@%s:%ld", host, (long)getpid());
    log_throttle_init(&ob->db_log, LOG_THROTTLE_INTERVAL_MS);
    pthread_mutex_init(&ob->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ob->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&ob->thread, NULL, outbox_run, ob) == 0)
        return ob;
    pthread_mutex_destroy(&ob->mu);
    pthread_cond_destroy(&ob->cv);
    outbox_free(ob);
    return NULL;
}

void
outbox_wake(struct outbox *ob)
{
    if (ob == NULL)
        return;
    pthread_mutex_lock(&ob->mu);
    ob->woken = true;
    pthread_cond_signal(&ob->cv);
    pthread_mutex_unlock(&ob->mu);
}

void
outbox_stop(struct outbox *ob)
{
    if (ob == NULL)
        return;
    pthread_mutex_lock(&ob->mu);
    ob->stop = true;
    pthread_cond_signal(&ob->cv);
    pthread_mutex_unlock(&ob->mu);
    pthread_join(ob->thread, NULL);
    pthread_mutex_destroy(&ob->mu);
    pthread_cond_destroy(&ob->cv);
    outbox_free(ob);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   heartbeat - cpr-milter tells the database it is alive
 * DESCRIPTION
 *   See heartbeat.h. Owns the beat thread, its connection, and the
 *   counters. The wait between beats is on a CLOCK_MONOTONIC condition
 *   variable, so heartbeat_stop() ends it at once.
 * DIAGNOSTICS
 *   log_warn on the first failed beat of a run of failures, log_info when
 *   beats work again.
 */
#include "heartbeat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "now.h"
#include "pgconn.h"

#define HEARTBEAT_SQL \
    "SELECT cpr.milter_beat($1, $2, $3::integer, $4, $5::boolean, $6::bigint, $7::bigint, " \
    "$8::integer, $9::bigint, $10::bigint, $11::boolean)"
#define HEARTBEAT_NPARAMS 11

static atomic_llong hb_started_mono;
static atomic_llong hb_last_done_mono;
static atomic_int hb_in_callbacks;
static atomic_llong hb_stamped;
static atomic_llong hb_tempfailed;

struct heartbeat {
    struct heartbeat_settings s;
    char host[HEARTBEAT_HOST_MAX + 1];
    PGconn *conn;
    bool beaten;               /* one beat went through: started_at is set */
    bool failing;              /* the last beat failed (logged once) */
    bool stop;
    bool on_purpose;           /* a last beat says the milter is stopping */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

void
heartbeat_callback_begin(void)
{
    atomic_fetch_add(&hb_in_callbacks, 1);
}

void
heartbeat_callback_end(void)
{
    atomic_store(&hb_last_done_mono, now_mono_ms());
    atomic_fetch_sub(&hb_in_callbacks, 1);
}

void
heartbeat_callback_end_quiet(void)
{
    atomic_fetch_sub(&hb_in_callbacks, 1);
}

bool
heartbeat_callback_stuck(long long limit_ms)
{
    return atomic_load(&hb_in_callbacks) > 0
           && now_mono_ms() - atomic_load(&hb_last_done_mono) > limit_ms;
}

void
heartbeat_count_stamped(void)
{
    atomic_fetch_add(&hb_stamped, 1);
}

void
heartbeat_count_tempfailed(void)
{
    atomic_fetch_add(&hb_tempfailed, 1);
}

static void
beat_failed(struct heartbeat *hb, const char *why)
{
    if (!hb->failing)
        log_warn("heartbeat: %s; the sweeper pages if this lasts", why);
    hb->failing = true;
    if (hb->conn != NULL && PQstatus(hb->conn) != CONNECTION_OK) {
        PQfinish(hb->conn);
        hb->conn = NULL;
    }
}

static bool
beat_connect(struct heartbeat *hb)
{
    char err[256];

    if (hb->conn != NULL && PQstatus(hb->conn) == CONNECTION_OK)
        return true;
    PQfinish(hb->conn);
    hb->conn = pgconn_open(hb->s.conninfo, "cpr-milter-heartbeat", hb->s.db_timeout_ms,
                           err, sizeof(err));
    if (hb->conn == NULL)
        beat_failed(hb, err);
    return hb->conn != NULL;
}

/* The eleven parameters of cpr.milter_beat, as text, into buf. */
static void
beat_params(const struct heartbeat *hb, bool stopping, char buf[][24], const char **p)
{
    long long now = now_mono_ms();
    long long idle = now - atomic_load(&hb_last_done_mono);
    int in = atomic_load(&hb_in_callbacks);

    snprintf(buf[2], 24, "%ld", (long)getpid());
    snprintf(buf[5], 24, "%lld", now - atomic_load(&hb_started_mono));
    snprintf(buf[6], 24, "%lld", idle > 0 ? idle : 0);
    snprintf(buf[7], 24, "%d", in > 0 ? in : 0);
    snprintf(buf[8], 24, "%lld", (long long)atomic_load(&hb_stamped));
    snprintf(buf[9], 24, "%lld", (long long)atomic_load(&hb_tempfailed));
    p[0] = hb->host;
    p[1] = hb->s.socket;
    p[2] = buf[2];
    p[3] = hb->s.version;
    p[4] = hb->beaten ? "false" : "true";
    for (int i = 5; i <= 9; i++)
        p[i] = buf[i];
    p[10] = stopping ? "true" : "false";
}

static void
beat(struct heartbeat *hb, bool stopping, long long timeout_ms)
{
    char buf[HEARTBEAT_NPARAMS][24], err[256];
    const char *p[HEARTBEAT_NPARAMS];
    PGresult *res;

    if (!beat_connect(hb))
        return;
    beat_params(hb, stopping, buf, p);
    res = pgconn_exec(hb->conn, NULL, HEARTBEAT_SQL, HEARTBEAT_NPARAMS, p, timeout_ms,
                      err, sizeof(err));
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        beat_failed(hb, res == NULL ? err : PQresultErrorMessage(res));
        PQclear(res);
        return;
    }
    PQclear(res);
    if (hb->failing)
        log_info("heartbeat: beating again");
    hb->failing = false;
    hb->beaten = true;
}

/* The last beat, on the connection already open only, with a short
 * deadline: shutdown is bounded even when the database is frozen. */
static void
beat_last(struct heartbeat *hb)
{
    long long t = hb->s.db_timeout_ms < HEARTBEAT_LAST_MS ? hb->s.db_timeout_ms
                                                          : HEARTBEAT_LAST_MS;

    if (hb->failing || hb->conn == NULL) {
        log_warn("heartbeat: the database is not answering; the stop is not recorded "
                 "and the sweeper will page this milter as down");
        return;
    }
    beat(hb, true, t);
    if (!hb->failing)
        log_info("heartbeat: told the database this milter is stopping");
}

static void *
heartbeat_run(void *arg)
{
    struct heartbeat *hb = arg;
    struct timespec ts;
    bool last;

    pthread_mutex_lock(&hb->mu);
    while (!hb->stop) {
        pthread_mutex_unlock(&hb->mu);
        beat(hb, false, hb->s.db_timeout_ms);
        pthread_mutex_lock(&hb->mu);
        now_deadline(&ts, hb->s.interval_ms);
        while (!hb->stop && pthread_cond_timedwait(&hb->cv, &hb->mu, &ts) == 0)
            ;
    }
    last = hb->on_purpose;
    pthread_mutex_unlock(&hb->mu);
    if (last)
        beat_last(hb);
    return NULL;
}

static struct heartbeat *
heartbeat_new(const struct heartbeat_settings *s)
{
    struct heartbeat *hb = calloc(1, sizeof(*hb));
    pthread_condattr_t attr;

    if (hb == NULL)
        return NULL;
    hb->s = *s;
    if (gethostname(hb->host, sizeof(hb->host) - 1) != 0 || hb->host[0] == '\0')
        snprintf(hb->host, sizeof(hb->host), "localhost");
    pthread_mutex_init(&hb->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hb->cv, &attr);
    pthread_condattr_destroy(&attr);
    return hb;
}

static void
heartbeat_free(struct heartbeat *hb)
{
    PQfinish(hb->conn);
    pthread_cond_destroy(&hb->cv);
    pthread_mutex_destroy(&hb->mu);
    free(hb);
}

struct heartbeat *
heartbeat_start(const struct heartbeat_settings *s)
{
    struct heartbeat *hb = heartbeat_new(s);
    long long now = now_mono_ms();

    if (hb == NULL)
        return NULL;
    atomic_store(&hb_started_mono, now);
    atomic_store(&hb_last_done_mono, now);
    if (pthread_create(&hb->thread, NULL, heartbeat_run, hb) != 0) {
        heartbeat_free(hb);
        return NULL;
    }
    return hb;
}

void
heartbeat_stop_begin(struct heartbeat *hb, bool on_purpose)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);
    hb->stop = true;
    hb->on_purpose = on_purpose;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
}

void
heartbeat_stop(struct heartbeat *hb)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);   /* in case heartbeat_stop_begin was not called */
    hb->stop = true;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->thread, NULL);
    heartbeat_free(hb);
}

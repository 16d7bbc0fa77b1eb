/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   db - the milter's connection pool, circuit breaker and intake call
 * DESCRIPTION
 *   Owns the libpq connections of cpr-milter. A slot is taken under the
 *   pool mutex, used without it, and given back. Each call runs the
 *   prepared cpr.intake statement asynchronously and waits on the socket
 *   with a deadline, so neither a dead server nor a slow one can hold an
 *   SMTP session past db_timeout. A broken connection opens the breaker
 *   (breaker.c); a reconnect thread probes with backoff and, on success,
 *   closes it and discards the other idle connections, which are likely
 *   just as dead. List arguments go to SQL as JSON built with jansson.
 * DIAGNOSTICS
 *   DB_UNAVAILABLE: breaker open, pool exhausted, connect or I/O failure.
 *   DB_ERROR: the server answered with an error (or timed out a statement).
 */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "breaker.h"
#include "keygate.h"
#include "log.h"
#include "logthrottle.h"
#include "mime.h"
#include "now.h"
#include "pgconn.h"
#include "report.h"

#define DB_RETRY_MS      500     /* first reconnect probe backoff */
#define DB_MAX_RETRY_MS  10000   /* reconnect backoff cap */
#define DB_RETRY_FRACTION 4      /* retry a lost connection only if it failed within 1/4 of db_timeout */
#define DB_INTAKE_PARAMS 20
#define DB_INTAKE_STMT   "cpr_intake"
#define DB_INTAKE_SQL \
    "SELECT tracking, received_at, kind, category, redelivery, autoreply " \
    "FROM cpr.intake($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, $10, $11, " \
    "$12::jsonb, $13, $14::bigint, $15, $16, $17::jsonb, $18::jsonb, $19::jsonb, " \
    "$20::jsonb)"

struct db_slot {
    PGconn *conn;
    bool busy;
};

struct db_pool {
    char *conninfo;
    int size;
    long long timeout_ms;
    pthread_mutex_t mu;
    pthread_cond_t slot_cv;     /* a slot was freed */
    pthread_cond_t probe_cv;    /* the breaker opened, or stop */
    struct db_slot *slots;
    struct breaker breaker;
    struct log_throttle probe_log;   /* failed probes, with back-off */
    pthread_t prober;
    bool stop;
};

/* Connect with the pool's timeouts (pgconn: keepalives, client deadline,
 * statement_timeout below it) and prepare the intake statement. */
static PGconn *
db_connect(const struct db_pool *pool, char *err, size_t errlen)
{
    PGconn *conn = pgconn_open(pool->conninfo, "cpr-milter", pool->timeout_ms, err, errlen);
    PGresult *res;
    bool ok;

    if (conn == NULL)
        return NULL;
    res = pgconn_prepare(conn, DB_INTAKE_STMT, DB_INTAKE_SQL, pool->timeout_ms,
                         err, errlen);
    ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (res != NULL && !ok)
        snprintf(err, errlen, "prepare: %s", PQresultErrorMessage(res));
    PQclear(res);
    if (!ok) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Drop the idle connections; they died with the server that just came back. */
static void
db_reset_idle(struct db_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (!pool->slots[i].busy && pool->slots[i].conn != NULL) {
            PQfinish(pool->slots[i].conn);
            pool->slots[i].conn = NULL;
        }
}

static void
db_probe_once(struct db_pool *pool)
{
    char err[512];
    PGconn *conn;

    pthread_mutex_unlock(&pool->mu);
    conn = db_connect(pool, err, sizeof(err));
    pthread_mutex_lock(&pool->mu);
    if (conn == NULL) {
        breaker_probe_failed(&pool->breaker, now_mono_ms());
        log_throttle_fail(&pool->probe_log, now_mono_ms(), "database still unavailable: %s", err);
        return;
    }
    db_reset_idle(pool);
    for (int i = 0; i < pool->size && conn != NULL; i++)
        if (!pool->slots[i].busy && pool->slots[i].conn == NULL) {
            pool->slots[i].conn = conn;
            conn = NULL;
        }
    PQfinish(conn);
    breaker_success(&pool->breaker);
    if (!log_throttle_ok(&pool->probe_log, now_mono_ms(),
                         "database available again; circuit breaker closed"))
        log_info("database available again; circuit breaker closed");
}

static void *
db_prober(void *arg)
{
    struct db_pool *pool = arg;
    struct timespec ts;

    pthread_mutex_lock(&pool->mu);
    while (!pool->stop) {
        long long now = now_mono_ms();

        if (breaker_allow(&pool->breaker)) {
            pthread_cond_wait(&pool->probe_cv, &pool->mu);
        } else if (breaker_probe_due(&pool->breaker, now)) {
            db_probe_once(pool);
        } else {
            now_deadline(&ts, pool->breaker.next_probe_at - now);
            pthread_cond_timedwait(&pool->probe_cv, &pool->mu, &ts);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

struct db_pool *
db_pool_new(const char *conninfo, int size, long long timeout_ms)
{
    struct db_pool *pool = calloc(1, sizeof(*pool));
    pthread_condattr_t attr;

    if (pool == NULL || size < 1)
        goto fail;
    pool->conninfo = strdup(conninfo);
    pool->slots = calloc((size_t)size, sizeof(struct db_slot));
    if (pool->conninfo == NULL || pool->slots == NULL)
        goto fail;
    pool->size = size;
    pool->timeout_ms = timeout_ms;
    breaker_init(&pool->breaker, DB_RETRY_MS, DB_MAX_RETRY_MS);
    log_throttle_init(&pool->probe_log, LOG_THROTTLE_INTERVAL_MS);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->slot_cv, &attr);
    pthread_cond_init(&pool->probe_cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&pool->prober, NULL, db_prober, pool) == 0)
        return pool;
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->slot_cv);
    pthread_cond_destroy(&pool->probe_cv);
fail:
    if (pool) {
        free(pool->conninfo);
        free(pool->slots);
    }
    free(pool);
    return NULL;
}

void
db_pool_free(struct db_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    pthread_cond_broadcast(&pool->probe_cv);
    pthread_mutex_unlock(&pool->mu);
    pthread_join(pool->prober, NULL);
    for (int i = 0; i < pool->size; i++)
        PQfinish(pool->slots[i].conn);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->slot_cv);
    pthread_cond_destroy(&pool->probe_cv);
    free(pool->slots);
    free(pool->conninfo);
    free(pool);
}

/* Take a free slot, waiting at most the pool timeout. NULL: unavailable. */
static struct db_slot *
db_slot_take(struct db_pool *pool, char *err, size_t errlen)
{
    struct timespec ts;
    struct db_slot *slot = NULL;

    now_deadline(&ts, pool->timeout_ms);
    pthread_mutex_lock(&pool->mu);
    while (slot == NULL && breaker_allow(&pool->breaker)) {
        for (int i = 0; i < pool->size && slot == NULL; i++)
            if (!pool->slots[i].busy)
                slot = &pool->slots[i];
        if (slot == NULL
            && pthread_cond_timedwait(&pool->slot_cv, &pool->mu, &ts) == ETIMEDOUT)
            break;
    }
    if (slot != NULL)
        slot->busy = true;
    else
        snprintf(err, errlen, breaker_allow(&pool->breaker)
                 ? "all %d database connections busy" : "circuit breaker open",
                 pool->size);
    pthread_mutex_unlock(&pool->mu);
    return slot;
}

/* Give the slot back; a connection failure drops it and opens the breaker. */
static void
db_slot_give(struct db_pool *pool, struct db_slot *slot, bool conn_failed)
{
    pthread_mutex_lock(&pool->mu);
    if (conn_failed) {
        PQfinish(slot->conn);
        slot->conn = NULL;
        if (breaker_allow(&pool->breaker))
            log_warn("database connection failed; circuit breaker open");
        breaker_failure(&pool->breaker, now_mono_ms());
        pthread_cond_broadcast(&pool->probe_cv);
    }
    slot->busy = false;
    pthread_cond_signal(&pool->slot_cv);
    pthread_mutex_unlock(&pool->mu);
}

char *
db_json_strv(char *const *v, size_t n)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; i < n; i++) {
        char *valid = db_text_safe(v[i]);

        json_array_append_new(a, json_string(valid));
        g_free(valid);
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* What a field holding a private key is stored as. */
#define DB_KEY_REDACTED   "[redacted by cpr-milter: this header held a private key]"

/* Our own JSON is shallow; deeper nodes are not ours. */
#define DB_JSON_GATE_DEPTH 8

/* The gate over a JSON document we built: any string that still holds a
 * private key is replaced whole (the report's texts were redacted in
 * place by report.c; this catches what reached the document another way:
 * attachment names and descriptions, ids, evidence fields). */
static void
db_json_gate(json_t *j, int depth)
{
    const char *key;
    json_t *v;
    size_t i;

    if (depth > DB_JSON_GATE_DEPTH)
        return;
    if (json_is_string(j)) {
        if (keygate_holds_key(json_string_value(j), json_string_length(j), false))
            json_string_set(j, DB_KEY_REDACTED);
    } else if (json_is_object(j)) {
        json_object_foreach(j, key, v)
            db_json_gate(v, depth + 1);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            db_json_gate(v, depth + 1);
    }
}

static char *
db_json_reasons(const struct cpr_verdict *v)
{
    char *reasons[CLASSIFY_MAX_REASONS];

    for (size_t i = 0; i < v->nreasons; i++)
        reasons[i] = (char *)v->reasons[i];
    return db_json_strv(reasons, v->nreasons);
}

/* {"copy", "evidence", "dsn_refs", "priority", "spam"}: what the report
 * analysis found. No key material: report.c redacts before this. */
static char *
db_json_report(const struct report *r, const struct cpr_verdict *v)
{
    json_t *o = json_object(), *refs = json_array(), *spam = json_array();
    char *s;

    for (size_t i = 0; r != NULL && i < r->ndsn_refs; i++) {
        char *valid = g_utf8_make_valid(r->dsn_refs[i], -1);

        json_array_append_new(refs, json_string(valid));
        g_free(valid);
    }
    for (size_t i = 0; r != NULL && i < r->cat.nspam; i++)
        json_array_append_new(spam, json_string(r->cat.spam[i]));
    json_object_set_new(o, "dsn_refs", refs);
    json_object_set_new(o, "spam", spam);
    json_object_set_new(o, "priority", json_string(category_priority_name(v->priority)));
    if (r != NULL) {
        json_object_set_new(o, "copy", report_copy_json(r));
        json_object_set_new(o, "evidence", report_evidence_json(r));
    }
    db_json_gate(o, 0);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static bool
db_has_key(const char *s)
{
    return keygate_holds_key(s, strlen(s), false);
}

/* The one gate for text that is not the report's body: no private key
 * reaches the database in a header, id, address or name, raw or inside an
 * RFC 2047 encoded-word, in any wrapper keygate.c knows: such a value is
 * replaced whole. */
char *
db_text_safe(const char *s)
{
    char *decoded = strstr(s, "=?") ? mime_header_decode(s) : NULL;
    bool key = db_has_key(s) || (decoded != NULL && db_has_key(decoded));

    free(decoded);
    return g_utf8_make_valid(key ? DB_KEY_REDACTED : s, -1);
}

char *
db_json_headers(const struct cpr_message *m)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; i < m->nheaders; i++) {
        char *n = g_utf8_make_valid(m->headers[i].name, -1);
        char *v = db_text_safe(m->headers[i].value);

        json_array_append_new(a, json_pack("[ss]", n, v));
        g_free(n);
        g_free(v);
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* The parameters of one intake call; text is made valid UTF-8. The
 * report, the one large parameter, is kept as jansson made it (no copy). */
struct db_params {
    char *owned[DB_INTAKE_PARAMS];
    const char *values[DB_INTAKE_PARAMS];
    char *report;
};

static void
db_param(struct db_params *p, int i, const char *s)
{
    p->owned[i] = s ? db_text_safe(s) : NULL;
    p->values[i] = p->owned[i];
}

static void
db_param_json(struct db_params *p, int i, char *json)
{
    p->owned[i] = json ? g_strdup(json) : g_strdup("[]");
    p->values[i] = p->owned[i];
    free(json);
}

static char *
db_json_reply(const struct intake_reply *r)
{
    json_t *o;
    char *s;

    if (r == NULL)
        return NULL;
    o = json_pack("{s:s?, s:I, s:I, s:I, s:I, s:b, s:I}", "skip", r->skip_reason,
                  "rate_sender", (json_int_t)r->rate_sender,
                  "rate_sender_window_ms", (json_int_t)r->rate_sender_window_ms,
                  "rate_domain", (json_int_t)r->rate_domain,
                  "rate_domain_window_ms", (json_int_t)r->rate_domain_window_ms,
                  "followups", r->followups, "budget_hour", (json_int_t)r->budget_hour);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static void
db_params_build(struct db_params *p, const struct cpr_message *m,
                const struct cpr_verdict *v, const struct intake_reply *reply,
                const struct report *r)
{
    static const char *const list_flag[] = { "list" };
    char hex[65], bytes[32];

    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", m->body_sha256[i]);
    snprintf(bytes, sizeof(bytes), "%lld", m->body_bytes);
    db_param(p, 0, m->queue_id);
    db_param(p, 1, m->message_id);
    db_param(p, 2, m->in_reply_to);
    db_param_json(p, 3, db_json_strv(m->references, m->nreferences));
    db_param(p, 4, m->env_from ? m->env_from : "");
    db_param_json(p, 5, db_json_strv(m->rcpts, m->nrcpts));
    db_param(p, 6, m->client_addr);
    db_param(p, 7, m->client_name);
    db_param(p, 8, m->helo);
    db_param(p, 9, m->auth_authen);
    p->owned[10] = m->subject ? db_text_safe(m->subject) : NULL;
    p->values[10] = p->owned[10];
    db_param_json(p, 11, db_json_headers(m));
    db_param(p, 12, hex);
    db_param(p, 13, bytes);
    db_param(p, 14, v->kind == KIND_AUTOMATED ? "automated" : "new-report");
    db_param(p, 15, v->category);
    db_param_json(p, 16, db_json_strv((char *const *)list_flag,
                                      (v->flags & VERDICT_FLAG_LIST) ? 1 : 0));
    db_param_json(p, 17, db_json_reasons(v));
    p->owned[18] = NULL;
    p->values[18] = NULL;
    if (reply != NULL) {
        char *json = db_json_reply(reply);

        p->owned[18] = json ? g_strdup(json) : NULL;
        p->values[18] = p->owned[18];
        free(json);
    }
    p->report = db_json_report(r, v);
    p->values[19] = p->report;
}

static void
db_params_free(struct db_params *p)
{
    for (int i = 0; i < DB_INTAKE_PARAMS; i++)
        g_free(p->owned[i]);
    free(p->report);
}

static bool
db_copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);

    if (n >= len)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

static enum db_status
db_read_result(PGresult *res, struct intake_result *out, char *err, size_t errlen)
{
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1
        || PQnfields(res) != 6) {
        snprintf(err, errlen, "intake: %s",
                 res ? PQresultErrorMessage(res) : "no result");
        return DB_ERROR;
    }
    if (!db_copy(out->tracking, sizeof(out->tracking), PQgetvalue(res, 0, 0))
        || !db_copy(out->received_at, sizeof(out->received_at), PQgetvalue(res, 0, 1))
        || !db_copy(out->kind, sizeof(out->kind), PQgetvalue(res, 0, 2))
        || !db_copy(out->category, sizeof(out->category), PQgetvalue(res, 0, 3))
        || !db_copy(out->autoreply, sizeof(out->autoreply), PQgetvalue(res, 0, 5))) {
        snprintf(err, errlen, "intake: oversized result field");
        return DB_ERROR;
    }
    out->redelivery = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
    return DB_OK;
}

/* Send one query (prepared when stmt is set, else sql) and wait for its
 * result within the pool's deadline (pgconn_exec). */
static enum db_status
db_run(struct db_pool *pool, PGconn *conn, const char *stmt, const char *sql,
       int nparams, const char *const *values, PGresult **out, char *err, size_t errlen)
{
    *out = pgconn_exec(conn, stmt, sql, nparams, values, pool->timeout_ms, err, errlen);
    return *out == NULL ? DB_UNAVAILABLE : DB_OK;
}

static enum db_status
db_run_intake(struct db_pool *pool, PGconn *conn, struct db_params *p,
              struct intake_result *res, char *err, size_t errlen)
{
    PGresult *r;
    enum db_status st = db_run(pool, conn, DB_INTAKE_STMT, NULL, DB_INTAKE_PARAMS,
                               p->values, &r, err, errlen);

    if (st != DB_OK)
        return st;
    st = db_read_result(r, res, err, errlen);
    PQclear(r);
    if (st != DB_OK && PQstatus(conn) != CONNECTION_OK)
        st = DB_UNAVAILABLE;
    return st;
}

/* A pooled connection the server dropped (a restart) fails at once, with
 * PQstatus bad. Such a failure is retried once on a fresh connection, so
 * the first report after a restart is not tempfailed and the breaker stays
 * closed. Only a quick failure is retried: one that used up the deadline
 * (a frozen server) is answered at once, so a frozen database still gets
 * 451 within db_timeout. */
static bool
db_retry_fresh(struct db_pool *pool, struct db_slot *slot, bool reused, long long t0,
               char *err, size_t errlen)
{
    char why[256];

    if (!reused || !pgconn_broken(slot->conn)
        || now_mono_ms() - t0 >= pool->timeout_ms / DB_RETRY_FRACTION)
        return false;
    snprintf(why, sizeof(why), "%s", err);
    PQfinish(slot->conn);
    if ((slot->conn = db_connect(pool, err, errlen)) == NULL)
        return false;
    log_info("database: pooled connection was lost (%s); retrying on a fresh one", why);
    return true;
}

/* Take a slot and make sure it has a connection; *reused: it was pooled. */
static struct db_slot *
db_slot_ready(struct db_pool *pool, bool *reused, char *err, size_t errlen)
{
    struct db_slot *slot = db_slot_take(pool, err, errlen);

    if (slot == NULL)
        return NULL;
    *reused = slot->conn != NULL;
    if (slot->conn == NULL && (slot->conn = db_connect(pool, err, errlen)) == NULL) {
        db_slot_give(pool, slot, true);
        return NULL;
    }
    return slot;
}

static enum db_status
db_query_once(struct db_pool *pool, PGconn *conn, const char *sql, int nparams,
              const char *const *values, db_reader read, void *arg, char *err,
              size_t errlen)
{
    PGresult *r;
    enum db_status st = db_run(pool, conn, NULL, sql, nparams, values, &r, err, errlen);

    if (st == DB_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        st = PQstatus(conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
    } else if (st == DB_OK && !read(r, arg, err, errlen)) {
        st = DB_ERROR;
    }
    PQclear(r);
    return st;
}

enum db_status
db_query(struct db_pool *pool, const char *sql, int nparams, const char *const *values,
         db_reader read, void *arg, char *err, size_t errlen)
{
    long long t0 = now_mono_ms();
    struct db_slot *slot;
    enum db_status st;
    bool reused;

    if ((slot = db_slot_ready(pool, &reused, err, errlen)) == NULL)
        return DB_UNAVAILABLE;
    st = db_query_once(pool, slot->conn, sql, nparams, values, read, arg, err, errlen);
    if (st == DB_UNAVAILABLE && db_retry_fresh(pool, slot, reused, t0, err, errlen))
        st = db_query_once(pool, slot->conn, sql, nparams, values, read, arg, err, errlen);
    db_slot_give(pool, slot, st == DB_UNAVAILABLE);
    return st;
}

enum db_status
db_intake(struct db_pool *pool, const struct cpr_message *m,
          const struct cpr_verdict *v, const struct intake_reply *reply,
          const struct report *r, struct intake_result *res, char *err, size_t errlen)
{
    struct timespec t0, t1;
    struct db_params p = { { 0 }, { 0 }, NULL };
    long long t0_ms = now_mono_ms();
    struct db_slot *slot;
    enum db_status st;
    bool reused;

    memset(res, 0, sizeof(*res));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((slot = db_slot_ready(pool, &reused, err, errlen)) == NULL)
        return DB_UNAVAILABLE;
    db_params_build(&p, m, v, reply, r);
    st = db_run_intake(pool, slot->conn, &p, res, err, errlen);
    /* The retry is safe even if the lost attempt reached COMMIT (its
     * outcome unknown to us): cpr.intake dedupes a redelivery by
     * Message-ID plus body hash and maps it to the same case, which is
     * what it does for the MTA's own retry after a 451. */
    if (st == DB_UNAVAILABLE
        && db_retry_fresh(pool, slot, reused, t0_ms, err, errlen))
        st = db_run_intake(pool, slot->conn, &p, res, err, errlen);
    db_params_free(&p);
    db_slot_give(pool, slot, st == DB_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->db_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3
                 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    return st;
}

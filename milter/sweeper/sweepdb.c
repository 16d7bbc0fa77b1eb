/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepdb - the database calls of cpr-sweeper
 * DESCRIPTION
 *   See sweepdb.h. Rows come back as text; times are epoch milliseconds,
 *   NULL meaning "not set" (0 in struct deadline_case).
 * DIAGNOSTICS
 *   Failures are logged with the server's message, never the conninfo.
 */
#include "sweepdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"

#define CASE_COLUMNS 12   /* id ... closed_at, as in cpr.sweep_cases() */

/* The client-side deadline of every query on the one connection (one
 * thread: see sweepdb.h); set by sweepdb_connect. */
static long long sweepdb_timeout_ms = 10000;

/* Server notices, and the FATAL a shutdown sends to an idle connection,
 * as one log line each: libpq's default writes them raw to stderr. */
static void
sweepdb_notice(void *arg, const char *message)
{
    char line[512];
    size_t i;

    (void) arg;
    snprintf(line, sizeof(line), "%s", message ? message : "");
    for (i = 0; line[i]; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    while (i > 0 && line[i - 1] == ' ')
        line[--i] = '\0';
    log_warn("database: %s", line);
}

PGconn *
sweepdb_connect(const char *conninfo, long long timeout_ms, char *err, size_t errlen)
{
    PGconn *conn;

    sweepdb_timeout_ms = timeout_ms;
    conn = pgconn_open(conninfo, "cpr-sweeper", timeout_ms, err, errlen);
    if (conn != NULL)
        PQsetNoticeProcessor(conn, sweepdb_notice, NULL);
    return conn;
}

static PGresult *
sweepdb_run(PGconn *conn, const char *sql, int n, const char *const *params,
            ExecStatusType want)
{
    char err[256];
    PGresult *res = pgconn_exec(conn, NULL, sql, n, params, sweepdb_timeout_ms,
                                err, sizeof(err));

    if (res == NULL) {
        log_error("database: %s", err);
        return NULL;
    }
    if (PQresultStatus(res) != want) {
        log_error("database: %s", PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

PGresult *
sweepdb_query(PGconn *conn, const char *sql, int n, const char *const *params)
{
    return sweepdb_run(conn, sql, n, params, PGRES_TUPLES_OK);
}

static bool sweepdb_done(PGresult *res);

static long long
col_ms(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : atoll(PQgetvalue(res, row, col));
}

static char *
col_str(const PGresult *res, int row, int col)
{
    return strdup(PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

bool
sweepdb_changes(PGconn *conn, long long lo, long long base, long long *n_lo,
                long long *n_base, long long *top)
{
    char a[24], b[24];
    const char *params[2] = { a, b };
    PGresult *res;

    snprintf(a, sizeof(a), "%lld", lo);
    snprintf(b, sizeof(b), "%lld", base);
    res = lo < 0
        ? sweepdb_query(conn, "SELECT 0, 0, coalesce(max(id), 0) FROM cpr.events", 0, NULL)
        : sweepdb_query(conn, "SELECT count(*), count(*) FILTER (WHERE id > $2::bigint), "
                              "coalesce(max(id), $1::bigint) FROM cpr.events "
                              "WHERE id > $1::bigint", 2, params);
    if (res == NULL)
        return false;
    *n_lo = col_ms(res, 0, 0);
    *n_base = col_ms(res, 0, 1);
    *top = col_ms(res, 0, 2);
    PQclear(res);
    return true;
}

/* The CASE_COLUMNS columns starting at col, in cpr.sweep_cases() order. */
static void
parse_case(const PGresult *res, int row, int col, struct sweep_case *c)
{
    c->id = atoll(PQgetvalue(res, row, col));
    snprintf(c->tracking, sizeof(c->tracking), "%s", PQgetvalue(res, row, col + 1));
    c->category = col_str(res, row, col + 2);
    c->subject = col_str(res, row, col + 3);
    memset(&c->clocks, 0, sizeof(c->clocks));
    c->clocks.received_at = col_ms(res, row, col + 4);
    c->clocks.ack_clock_from = col_ms(res, row, col + 5);
    c->clocks.acked_at = col_ms(res, row, col + 6);
    c->clocks.reporter_done_at = col_ms(res, row, col + 7);
    c->clocks.subscriber_done_at = col_ms(res, row, col + 8);
    c->clocks.br_item = (int)col_ms(res, row, col + 9);
    c->clocks.revoked_at = col_ms(res, row, col + 10);
    c->clocks.closed_at = col_ms(res, row, col + 11);
    c->clocks.closed = c->clocks.closed_at != 0;
}

static void
free_case(struct sweep_case *c)
{
    free(c->category);
    free(c->subject);
}

/* The database clock comes with the rows, in the same round trip: the
 * planner runs on it, never on this host's clock. At least one row comes
 * back; a NULL case_id means no cases. */
#define SWEEPDB_CASES_SQL \
    "WITH n AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now) " \
    "SELECT n.now, s.* FROM n LEFT JOIN cpr.sweep_cases() s ON true"

bool
sweepdb_cases(PGconn *conn, struct sweep_case **out, size_t *n, long long *db_now)
{
    PGresult *res = sweepdb_query(conn, SWEEPDB_CASES_SQL, 0, NULL);
    int rows;

    *out = NULL;
    *n = 0;
    if (res == NULL)
        return false;
    rows = PQntuples(res);
    if (rows < 1 || PQnfields(res) != CASE_COLUMNS + 1 || PQgetisnull(res, 0, 0)) {
        log_error("database: cpr.sweep_cases() returned an unexpected shape");
        PQclear(res);
        return false;
    }
    *db_now = atoll(PQgetvalue(res, 0, 0));
    if (PQgetisnull(res, 0, 1))
        rows = 0;
    if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) != NULL) {
        for (int i = 0; i < rows; i++)
            parse_case(res, i, 1, &(*out)[i]);
        *n = (size_t)rows;
    }
    PQclear(res);
    return rows == 0 || *out != NULL;
}

void
sweepdb_cases_free(struct sweep_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_case(&cases[i]);
    free(cases);
}

int
sweepdb_offer(PGconn *conn, const struct sweep_case *c, const char *key,
              const char *channels_json, const struct deadline_action *a,
              const char *actor)
{
    char id[32], tier[16], due[32], deadline[32];
    const char *p[] = { id, key, channels_json, deadline_clock_name(a->clock),
                        deadline_event_name(a->event), tier, due, deadline, actor };
    PGresult *res;
    int added;

    snprintf(id, sizeof(id), "%lld", c->id);
    snprintf(tier, sizeof(tier), "%d", a->tier);
    snprintf(due, sizeof(due), "%lld", a->due);
    snprintf(deadline, sizeof(deadline), "%lld", a->deadline);
    res = sweepdb_query(conn, "SELECT cpr.step_offer($1, $2, $3::jsonb, $4, $5, $6, "
                              "$7, $8, $9)", 9, p);
    if (res == NULL)
        return -1;
    added = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return added;
}

static void
parse_step(const PGresult *res, int row, struct sweep_step *s)
{
    s->id = atoll(PQgetvalue(res, row, 0));
    s->key = col_str(res, row, 1);
    s->channel = col_str(res, row, 2);
    s->clock = col_str(res, row, 3);
    s->event = col_str(res, row, 4);
    s->tier = atoi(PQgetvalue(res, row, 5));
    s->attempts = atoi(PQgetvalue(res, row, 6));
    s->due = col_ms(res, row, 7);
    s->deadline = col_ms(res, row, 8);
    s->case_open = strcmp(PQgetvalue(res, row, 9), "open") == 0;
    parse_case(res, row, 10, &s->kase);
}

bool
sweepdb_claim(PGconn *conn, const char *worker, int lease_ms, int limit,
              struct sweep_step **out, size_t *n)
{
    char lease[16], lim[16];
    const char *p[] = { worker, lease, lim };
    PGresult *res;
    int rows;

    *out = NULL;
    *n = 0;
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    snprintf(lim, sizeof(lim), "%d", limit);
    if ((res = sweepdb_query(conn, "SELECT * FROM cpr.step_claim($1, $2, $3)", 3, p)) == NULL)
        return false;
    rows = PQntuples(res);
    if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) != NULL) {
        for (int i = 0; i < rows; i++)
            parse_step(res, i, &(*out)[i]);
        *n = (size_t)rows;
    }
    PQclear(res);
    return rows == 0 || *out != NULL;
}

void
sweepdb_steps_free(struct sweep_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].key);
        free(steps[i].channel);
        free(steps[i].clock);
        free(steps[i].event);
        free_case(&steps[i].kase);
    }
    free(steps);
}

bool
sweepdb_finish(PGconn *conn, const struct sweep_step *s, const char *worker,
               const char *actor, const char *outcome, long status, double latency_ms,
               const char *error, long long retry_in_ms)
{
    char id[32], st[16], lat[32], retry[32];
    const char *p[] = { id, worker, outcome, status ? st : NULL, lat, error, retry, actor };
    PGresult *res;
    bool ok;

    snprintf(id, sizeof(id), "%lld", s->id);
    snprintf(st, sizeof(st), "%ld", status);
    snprintf(lat, sizeof(lat), "%.3f", latency_ms);
    snprintf(retry, sizeof(retry), "%lld", retry_in_ms);
    res = sweepdb_query(conn, "SELECT cpr.step_finish($1, $2, $3, $4, $5, $6, $7, $8)",
                        8, p);
    if (res == NULL)
        return false;
    ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (!ok)
        log_warn("step %lld was taken over by another sweeper; result dropped", s->id);
    PQclear(res);
    return true;
}

long long
sweepdb_next_retry(PGconn *conn)
{
    PGresult *res = sweepdb_query(conn, "SELECT least(cpr.step_next_ms(), "
                                  "cpr.page_group_next_ms())", 0, NULL);
    long long ms;

    if (res == NULL)
        return -1;
    ms = col_ms(res, 0, 0);
    PQclear(res);
    return ms;
}

long long
sweepdb_group_join(PGconn *conn, long long case_id, long long window_ms, const char *actor)
{
    char id[32], win[32];
    const char *p[] = { id, win, actor };
    PGresult *res;
    long long g;

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(win, sizeof(win), "%lld", window_ms);
    if ((res = sweepdb_query(conn, "SELECT cpr.page_group_join($1, $2, $3)", 3, p)) == NULL)
        return -1;
    g = PQgetisnull(res, 0, 0) ? 0 : atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return g;
}

bool
sweepdb_group_claim(PGconn *conn, const char *worker, int lease_ms, int list,
                    struct sweep_group *g, bool *found)
{
    char lease[16], lim[16];
    const char *p[] = { worker, lease, lim };
    PGresult *res;

    memset(g, 0, sizeof(*g));
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    snprintf(lim, sizeof(lim), "%d", list);
    res = sweepdb_query(conn, "SELECT group_id, domain, tier, open_count, "
                        "array_to_string(trackings, ', '), window_ends_at "
                        "FROM cpr.page_group_claim($1, $2, $3)", 3, p);
    if (res == NULL)
        return false;
    *found = PQntuples(res) == 1 && PQnfields(res) == 6;
    if (*found) {
        g->id = atoll(PQgetvalue(res, 0, 0));
        g->domain = col_str(res, 0, 1);
        g->tier = atoi(PQgetvalue(res, 0, 2));
        g->open_count = atoi(PQgetvalue(res, 0, 3));
        g->trackings = col_str(res, 0, 4);
        g->window_ends_at = col_ms(res, 0, 5);
    }
    PQclear(res);
    return true;
}

void
sweepdb_group_free(struct sweep_group *g)
{
    free(g->domain);
    free(g->trackings);
    memset(g, 0, sizeof(*g));
}

bool
sweepdb_group_finish(PGconn *conn, const struct sweep_group *g, const char *worker,
                     const char *outcome, long long next_ms, const char *error,
                     const char *actor)
{
    char id[32], tier[16], next[32];
    const char *p[] = { id, worker, tier, outcome, next, error, actor };
    PGresult *res;

    snprintf(id, sizeof(id), "%lld", g->id);
    snprintf(tier, sizeof(tier), "%d", g->tier);
    snprintf(next, sizeof(next), "%lld", next_ms);
    res = sweepdb_query(conn, "SELECT cpr.page_group_finish($1, $2, $3, $4, $5, $6, $7)",
                        7, p);
    if (res == NULL)
        return false;
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        log_warn("page group %lld was taken over by another sweeper; result dropped", g->id);
    PQclear(res);
    return true;
}

bool
sweepdb_stuck_replies(PGconn *conn, long long after_ms, long long *count,
                      char *oldest, size_t len)
{
    char after[32];
    const char *p[] = { after };
    PGresult *res;

    snprintf(after, sizeof(after), "%lld", after_ms);
    if ((res = sweepdb_query(conn, "SELECT stuck, oldest_tracking FROM cpr.outbox_stuck($1)",
                             1, p)) == NULL)
        return false;
    *count = col_ms(res, 0, 0);
    snprintf(oldest, len, "%s", PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
    PQclear(res);
    return true;
}

bool
sweepdb_metrics_counts(PGconn *conn, long long *cases_open, long long *outbox_pending)
{
    PGresult *res = sweepdb_query(conn, "SELECT cases_open, outbox_pending "
                                        "FROM cpr.metrics_counts()", 0, NULL);

    if (res == NULL)
        return false;
    *cases_open = col_ms(res, 0, 0);
    *outbox_pending = col_ms(res, 0, 1);
    PQclear(res);
    return true;
}

bool
sweepdb_milter_alert(PGconn *conn, long long down_after_ms, long long grace_ms,
                     const char *worker, long long lease_ms, struct sweep_alert *a,
                     bool *found)
{
    char down[24], grace[24], lease[24];
    const char *p[] = { down, grace, worker, lease };
    PGresult *res;

    *found = false;
    memset(a, 0, sizeof(*a));
    snprintf(down, sizeof(down), "%lld", down_after_ms);
    snprintf(grace, sizeof(grace), "%lld", grace_ms);
    snprintf(lease, sizeof(lease), "%lld", lease_ms);
    res = sweepdb_query(conn, "SELECT alert_id, action, host, socket, reason, pid, version, "
                              "beat_at, opened_at, attempts FROM cpr.milter_alerts($1::bigint, "
                              "$2::bigint, $3, $4::integer)", 4, p);
    if (res == NULL)
        return false;
    if (PQntuples(res) > 0) {
        a->id = atoll(PQgetvalue(res, 0, 0));
        snprintf(a->action, sizeof(a->action), "%s", PQgetvalue(res, 0, 1));
        a->host = col_str(res, 0, 2);
        a->socket = col_str(res, 0, 3);
        a->reason = col_str(res, 0, 4);
        a->pid = (int)col_ms(res, 0, 5);
        a->version = col_str(res, 0, 6);
        a->beat_at = col_str(res, 0, 7);
        a->opened_at = col_str(res, 0, 8);
        a->attempts = (int)col_ms(res, 0, 9);
        *found = true;
    }
    PQclear(res);
    return true;
}

void
sweepdb_alert_free(struct sweep_alert *a)
{
    free(a->host);
    free(a->socket);
    free(a->reason);
    free(a->version);
    free(a->beat_at);
    free(a->opened_at);
    memset(a, 0, sizeof(*a));
}

/* Record a leased page or resolve with sql (an alert_done function):
 * false on failure; a lost lease is logged, as another sweeper may send it
 * again. */
static bool
sweepdb_lease_done(PGconn *conn, const char *sql, const char *what, long long id,
                   const char *action, bool ok, const char *worker, long long retry_ms)
{
    char sid[24], retry[24];
    const char *p[] = { sid, action, ok ? "true" : "false", worker, retry };
    PGresult *res;
    bool done;

    snprintf(sid, sizeof(sid), "%lld", id);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    if ((res = sweepdb_query(conn, sql, 5, p)) == NULL)
        return false;
    done = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!done)
        log_warn("%s alert %lld: the lease ran out before the %s was recorded; "
                 "another sweeper may send it again", what, id, action);
    return true;
}

bool
sweepdb_alert_done(PGconn *conn, const struct sweep_alert *a, bool ok, const char *worker,
                   long long retry_ms)
{
    return sweepdb_lease_done(conn, "SELECT cpr.alert_done($1::bigint, $2, $3::boolean, $4, "
                                    "$5::bigint)", "milter", a->id, a->action, ok, worker,
                              retry_ms);
}

long long
sweepdb_milter_next(PGconn *conn, long long down_after_ms, long long grace_ms)
{
    char down[24], grace[24];
    const char *p[] = { down, grace };
    PGresult *res;
    long long ms;

    snprintf(down, sizeof(down), "%lld", down_after_ms);
    snprintf(grace, sizeof(grace), "%lld", grace_ms);
    res = sweepdb_query(conn, "SELECT cpr.milter_next_ms($1::bigint, $2::bigint)", 2, p);
    if (res == NULL)
        return -1;
    ms = col_ms(res, 0, 0);
    PQclear(res);
    return ms;
}

/* ---- probes (022_probes.sql) ---- */

static void
sweepdb_probe_row(const PGresult *res, int row, struct sweep_probe *p)
{
    snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, row, 0));
    snprintf(p->address, sizeof(p->address), "%s", PQgetvalue(res, row, 1));
    snprintf(p->variant, sizeof(p->variant), "%s", PQgetvalue(res, row, 2));
    snprintf(p->message_id, sizeof(p->message_id), "%s", PQgetvalue(res, row, 3));
    p->mark_unix = col_ms(res, row, 4);
}

bool
sweepdb_probe_take(PGconn *conn, const char *addresses_json, const char *variants_json,
                   long long interval_ms, const char *worker, struct sweep_probe **out,
                   size_t *n)
{
    char interval[24];
    const char *p[] = { addresses_json, variants_json, interval, worker };
    PGresult *res;
    int rows;

    *out = NULL;
    *n = 0;
    snprintf(interval, sizeof(interval), "%lld", interval_ms);
    res = sweepdb_query(conn, "SELECT id, address, variant, message_id, mark_unix "
                        "FROM cpr.probe_take(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)), "
                        "ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3::bigint, $4)",
                        4, p);
    if (res == NULL)
        return false;
    rows = PQntuples(res);
    if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) == NULL) {
        PQclear(res);
        return false;
    }
    for (int i = 0; i < rows; i++)
        sweepdb_probe_row(res, i, &(*out)[i]);
    *n = (size_t)rows;
    PQclear(res);
    return true;
}

bool
sweepdb_probe_sent(PGconn *conn, const char *id, const char *error, bool mailbox)
{
    const char *p[] = { id, error, mailbox ? "t" : "f" };
    PGresult *res = sweepdb_query(conn, "SELECT cpr.probe_sent($1, $2, $3::boolean)", 3, p);

    return sweepdb_done(res);
}

bool
sweepdb_probe_mailbox_due(PGconn *conn, bool *due)
{
    PGresult *res = sweepdb_query(conn, "SELECT cpr.probe_mailbox_due()", 0, NULL);

    *due = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    return sweepdb_done(res);
}

bool
sweepdb_probe_found(PGconn *conn, const char *message_id, const char *folder, bool junk,
                    char *id, size_t idlen)
{
    const char *p[] = { message_id, folder, junk ? "t" : "f" };
    PGresult *res = sweepdb_query(conn, "SELECT cpr.probe_found($1, $2, $3::boolean)", 3, p);

    if (res == NULL)
        return false;
    snprintf(id, idlen, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

bool
sweepdb_probe_deleted(PGconn *conn, const char *id)
{
    const char *p[] = { id };
    PGresult *res = sweepdb_query(conn, "SELECT cpr.probe_deleted($1)", 1, p);

    return sweepdb_done(res);
}

long long
sweepdb_probe_next(PGconn *conn)
{
    PGresult *res = sweepdb_query(conn, "SELECT cpr.probe_next_ms()", 0, NULL);
    long long ms;

    if (res == NULL)
        return -1;
    ms = PQgetisnull(res, 0, 0) ? 0 : col_ms(res, 0, 0);
    PQclear(res);
    return ms;
}

static void
sweepdb_copy(char *dst, size_t len, const PGresult *res, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

static void
sweepdb_probe_alert_row(const PGresult *res, struct sweep_probe_alert *a)
{
    a->id = atoll(PQgetvalue(res, 0, 0));
    sweepdb_copy(a->action, sizeof(a->action), res, 1);
    sweepdb_copy(a->address, sizeof(a->address), res, 2);
    sweepdb_copy(a->variant, sizeof(a->variant), res, 3);
    sweepdb_copy(a->stage, sizeof(a->stage), res, 4);
    sweepdb_copy(a->probe_id, sizeof(a->probe_id), res, 5);
    sweepdb_copy(a->detail, sizeof(a->detail), res, 6);
    sweepdb_copy(a->sent_at, sizeof(a->sent_at), res, 7);
    sweepdb_copy(a->opened_at, sizeof(a->opened_at), res, 8);
    a->plain_passes = PQgetisnull(res, 0, 9) ? -1 : strcmp(PQgetvalue(res, 0, 9), "t") == 0;
    a->attempts = (int)col_ms(res, 0, 10);
}

bool
sweepdb_probe_alert(PGconn *conn, long long timeout_ms, const char *worker, long long lease_ms,
                    struct sweep_probe_alert *a, bool *found)
{
    char timeout[24], lease[24];
    const char *p[] = { timeout, worker, lease };
    PGresult *res;

    *found = false;
    memset(a, 0, sizeof(*a));
    snprintf(timeout, sizeof(timeout), "%lld", timeout_ms);
    snprintf(lease, sizeof(lease), "%lld", lease_ms);
    res = sweepdb_query(conn, "SELECT alert_id, action, address, variant, stage, probe_id, "
                              "detail, sent_at, opened_at, plain_passes, attempts "
                              "FROM cpr.probe_alerts($1::bigint, $2, $3::integer)", 3, p);
    if (res == NULL)
        return false;
    if (PQntuples(res) > 0) {
        sweepdb_probe_alert_row(res, a);
        *found = true;
    }
    PQclear(res);
    return true;
}

bool
sweepdb_probe_alert_done(PGconn *conn, const struct sweep_probe_alert *a, bool ok,
                         const char *worker, long long retry_ms)
{
    return sweepdb_lease_done(conn, "SELECT cpr.probe_alert_done($1::bigint, $2, $3::boolean, "
                                    "$4, $5::bigint)", "probe", a->id, a->action, ok, worker,
                              retry_ms);
}

long long
sweepdb_probe_alert_next(PGconn *conn, long long timeout_ms)
{
    char timeout[24];
    const char *p[] = { timeout };
    PGresult *res;
    long long ms;

    snprintf(timeout, sizeof(timeout), "%lld", timeout_ms);
    if ((res = sweepdb_query(conn, "SELECT cpr.probe_alert_next_ms($1::bigint)", 1, p)) == NULL)
        return -1;
    ms = PQgetisnull(res, 0, 0) ? 0 : col_ms(res, 0, 0);
    PQclear(res);
    return ms;
}

/* ---- alerts (026_alerts.sql) ---- */

/* A call whose result is not needed: did it work? */
static bool
sweepdb_done(PGresult *res)
{
    bool ok = res != NULL;

    PQclear(res);
    return ok;
}

bool
sweepdb_alert_triggered(PGconn *conn, long long case_id, const char *clock,
                        long long clock_start, const char *base_key, const char *key,
                        const char *channel, const char *channel_type,
                        const char *event, int tier, const char *actor)
{
    char id[32], start[32], t[16];
    const char *p[] = { id, clock, start, base_key, key, channel, channel_type, event, t,
                        actor };
    PGresult *res;

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(start, sizeof(start), "%lld", clock_start);
    snprintf(t, sizeof(t), "%d", tier);
    res = sweepdb_query(conn, "SELECT cpr.alert_triggered($1, $2, $3, $4, $5, $6, $7, $8, "
                              "$9, $10)", 10, p);
    return sweepdb_done(res);
}

bool
sweepdb_alerts_open(PGconn *conn, long long case_id, const char *clock,
                    long long clock_start, const char *channel,
                    struct sweep_open_alert **out, size_t *n)
{
    char id[32], start[32];
    const char *p[] = { id, clock, start, channel };
    PGresult *res;
    int rows;

    *out = NULL;
    *n = 0;
    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(start, sizeof(start), "%lld", clock_start);
    res = sweepdb_query(conn, "SELECT alert_id, alert_key, state "
                              "FROM cpr.alerts_open($1, $2, $3, $4)", 4, p);
    if (res == NULL)
        return false;
    rows = PQntuples(res);
    if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) != NULL) {
        for (int i = 0; i < rows; i++) {
            (*out)[i].id = atoll(PQgetvalue(res, i, 0));
            (*out)[i].key = col_str(res, i, 1);
            snprintf((*out)[i].state, sizeof((*out)[i].state), "%s", PQgetvalue(res, i, 2));
        }
        *n = (size_t)rows;
    }
    PQclear(res);
    return rows == 0 || *out != NULL;
}

void
sweepdb_open_alerts_free(struct sweep_open_alert *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        free(a[i].key);
    free(a);
}

bool
sweepdb_alert_state(PGconn *conn, long long alert_id, const char *state,
                    const char *actor, bool sent)
{
    char id[32];
    const char *p[] = { id, state, actor, sent ? "true" : "false" };
    PGresult *res;

    snprintf(id, sizeof(id), "%lld", alert_id);
    res = sweepdb_query(conn, "SELECT cpr.alert_state($1, $2, $3, $4::boolean)", 4, p);
    return sweepdb_done(res);
}

bool
sweepdb_page_facts(PGconn *conn, long long case_id, struct sweep_facts *f)
{
    char id[32];
    const char *p[] = { id };
    PGresult *res;

    memset(f, 0, sizeof(*f));
    snprintf(id, sizeof(id), "%lld", case_id);
    res = sweepdb_query(conn, "SELECT reporter, private_keys, first_spki, certificates, "
                              "csrs, other FROM cpr.page_facts($1)", 1, p);
    if (res == NULL)
        return false;
    if (PQntuples(res) == 1) {
        f->reporter = col_str(res, 0, 0);
        f->private_keys = atoi(PQgetvalue(res, 0, 1));
        snprintf(f->spki, sizeof(f->spki), "%s", PQgetvalue(res, 0, 2));
        f->certificates = atoi(PQgetvalue(res, 0, 3));
        f->csrs = atoi(PQgetvalue(res, 0, 4));
        f->other = atoi(PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    return true;
}

void
sweepdb_facts_free(struct sweep_facts *f)
{
    free(f->reporter);
    f->reporter = NULL;
}

bool
sweepdb_group_resolve_claim(PGconn *conn, int lease_ms, long long *id, int *tier, bool *found)
{
    char lease[16];
    const char *p[] = { lease };
    PGresult *res;

    snprintf(lease, sizeof(lease), "%d", lease_ms);
    res = sweepdb_query(conn, "SELECT group_id, tier FROM cpr.page_group_resolve_claim($1)",
                        1, p);
    if (res == NULL)
        return false;
    *found = PQntuples(res) == 1;
    if (*found) {
        *id = atoll(PQgetvalue(res, 0, 0));
        *tier = atoi(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return true;
}

bool
sweepdb_group_resolved(PGconn *conn, long long id, bool ok, long long retry_ms)
{
    char gid[32], retry[32];
    const char *p[] = { gid, ok ? "true" : "false", retry };

    snprintf(gid, sizeof(gid), "%lld", id);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    return sweepdb_done(sweepdb_query(conn, "SELECT cpr.page_group_resolved($1, $2::boolean, "
                                            "$3)", 3, p));
}

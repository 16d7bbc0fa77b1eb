/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   lookupdb - the database calls of cpr-sweeper's lookup worker
 * DESCRIPTION
 *   See lookupdb.h.
 * DIAGNOSTICS
 *   "database: ..." errors, and a warning when a lease ran out before a
 *   result was recorded (another sweeper will do the lookup again).
 */
#include "lookupdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "sweepdb.h"

static void
copy(char *dst, size_t len, const PGresult *res, int row, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

int
lookupdb_claim(PGconn *conn, const char *worker, int lease_ms, struct lookup_case *out, int max)
{
    char lease[24], lim[24];
    const char *p[] = { worker, lease, lim };
    PGresult *res;
    int n;

    snprintf(lease, sizeof(lease), "%d", lease_ms);
    snprintf(lim, sizeof(lim), "%d", max);
    res = sweepdb_query(conn, "SELECT case_id, tracking, received_ms, attempts, recheck "
                      "FROM cpr.lookup_claim($1, $2::integer, $3::integer)", 3, p);
    if (!res)
        return -1;
    n = PQntuples(res) < max ? PQntuples(res) : max;
    for (int i = 0; i < n; i++) {
        out[i].id = atoll(PQgetvalue(res, i, 0));
        copy(out[i].tracking, sizeof(out[i].tracking), res, i, 1);
        out[i].received_ms = atoll(PQgetvalue(res, i, 2));
        out[i].attempts = atoi(PQgetvalue(res, i, 3));
        out[i].recheck = strcmp(PQgetvalue(res, i, 4), "t") == 0;
    }
    PQclear(res);
    return n;
}

PGresult *
lookupdb_evidence(PGconn *conn, long long case_id, long long after, int limit)
{
    char id[24], aft[24], lim[24];
    const char *p[] = { id, aft, lim };

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(aft, sizeof(aft), "%lld", after);
    snprintf(lim, sizeof(lim), "%d", limit);
    return sweepdb_query(conn, "SELECT evidence_id, kind, sha256, spki_sha256, serial, issuer, value, "
                       "proof, verified_key, total "
                       "FROM cpr.lookup_evidence($1::bigint, $2::bigint, $3::integer)", 3, p);
}

static bool
one_bool(PGconn *conn, const char *sql, int n, const char *const *p, bool *value)
{
    PGresult *res = sweepdb_query(conn, sql, n, p);

    if (!res)
        return false;
    *value = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return true;
}

bool
lookupdb_done(PGconn *conn, long long case_id, const char *worker, const char *json,
              long long recheck_ms, bool *kept)
{
    char id[24], recheck[24];
    const char *p[] = { id, worker, json, recheck };

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(recheck, sizeof(recheck), "%lld", recheck_ms);
    if (!one_bool(conn, "SELECT cpr.lookup_done($1::bigint, $2, $3::jsonb, $4::bigint)", 4, p,
                  kept))
        return false;
    if (!*kept)
        log_warn("lookup of case %lld: the lease ran out before the result was recorded; "
                 "another sweeper looks it up again", case_id);
    return true;
}

bool
lookupdb_failed(PGconn *conn, long long case_id, const char *worker, const char *error,
                long long retry_ms, long page_after)
{
    char id[24], retry[24], after[24];
    const char *p[] = { id, worker, error, retry, after };
    bool kept;

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    snprintf(after, sizeof(after), "%ld", page_after);
    return one_bool(conn, "SELECT cpr.lookup_failed($1::bigint, $2, $3, $4::bigint, "
                          "$5::integer)", 5, p, &kept);
}

bool
lookupdb_over_limit(PGconn *conn, long long case_id, const char *worker, long long unread,
                    int limit)
{
    char id[24], n[24], lim[24];
    const char *p[] = { id, worker, n, lim };
    bool kept;

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(n, sizeof(n), "%lld", unread);
    snprintf(lim, sizeof(lim), "%d", limit);
    return one_bool(conn, "SELECT cpr.lookup_over_limit($1::bigint, $2, $3::bigint, "
                          "$4::integer)", 4, p, &kept);
}

/* One row of cpr.inventory_alert_claim or cpr.inventory_resolve_claim. */
static bool
alert_claim(PGconn *conn, const char *sql, const char *worker, long long lease_ms,
            struct lookup_alert *a, bool *found)
{
    char lease[24];
    const char *p[] = { worker, lease };
    PGresult *res;

    *found = false;
    memset(a, 0, sizeof(*a));
    snprintf(lease, sizeof(lease), "%lld", lease_ms);
    res = sweepdb_query(conn, sql, 2, p);
    if (!res)
        return false;
    if (PQntuples(res) > 0) {
        a->id = atoll(PQgetvalue(res, 0, 0));
        copy(a->tracking, sizeof(a->tracking), res, 0, 1);
        copy(a->kind, sizeof(a->kind), res, 0, 2);
        copy(a->summary, sizeof(a->summary), res, 0, 3);
        copy(a->opened_at, sizeof(a->opened_at), res, 0, 4);
        a->attempts = atoi(PQgetvalue(res, 0, 5));
        *found = true;
    }
    PQclear(res);
    return true;
}

bool
lookupdb_alert_claim(PGconn *conn, const char *worker, long long lease_ms,
                     struct lookup_alert *a, bool *found)
{
    return alert_claim(conn, "SELECT alert_id, tracking, kind, summary, opened_at, attempts "
                             "FROM cpr.inventory_alert_claim($1, $2::integer)",
                       worker, lease_ms, a, found);
}

bool
lookupdb_resolve_claim(PGconn *conn, const char *worker, long long lease_ms,
                       struct lookup_alert *a, bool *found)
{
    return alert_claim(conn, "SELECT alert_id, tracking, kind, summary, opened_at, attempts "
                             "FROM cpr.inventory_resolve_claim($1, $2::integer)",
                       worker, lease_ms, a, found);
}

bool
lookupdb_resolve_done(PGconn *conn, const struct lookup_alert *a, bool ok, bool sent,
                      const char *worker, long long retry_ms)
{
    char id[24], retry[24];
    const char *p[] = { id, ok ? "true" : "false", sent ? "true" : "false", worker, retry };
    bool kept;

    snprintf(id, sizeof(id), "%lld", a->id);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    if (!one_bool(conn, "SELECT cpr.inventory_resolve_done($1::bigint, $2::boolean, "
                        "$3::boolean, $4, $5::bigint)", 5, p, &kept))
        return false;
    if (!kept)
        log_warn("inventory alert %lld: the lease ran out before the resolve was recorded; "
                 "another sweeper may send it again", a->id);
    return true;
}

bool
lookupdb_alert_done(PGconn *conn, const struct lookup_alert *a, bool ok, const char *worker,
                    long long retry_ms)
{
    char id[24], retry[24];
    const char *p[] = { id, ok ? "true" : "false", worker, retry };
    bool kept;

    snprintf(id, sizeof(id), "%lld", a->id);
    snprintf(retry, sizeof(retry), "%lld", retry_ms);
    if (!one_bool(conn, "SELECT cpr.inventory_alert_done($1::bigint, $2::boolean, $3, "
                        "$4::bigint)", 4, p, &kept))
        return false;
    if (!kept)
        log_warn("inventory alert %lld: the lease ran out before the page was recorded; "
                 "another sweeper may send it again", a->id);
    return true;
}

long long
lookupdb_next_ms(PGconn *conn)
{
    PGresult *res = sweepdb_query(conn, "SELECT cpr.lookup_next_ms()", 0, NULL);
    long long ms;

    if (!res)
        return -1;
    ms = PQgetisnull(res, 0, 0) ? 0 : atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return ms;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   lookupdb - the database calls of cpr-sweeper's lookup worker
 * SUMMARY
 *   n = lookupdb_claim(conn, worker, lease_ms, limit, cases, max);
 * DESCRIPTION
 *   Thin wrappers of the functions of 028_inventory.sql: claim due cases
 *   (SKIP LOCKED, leased), read a case's evidence, record a lookup done or
 *   failed, claim and record an inventory page and its resolve, and when anything is due
 *   next. Every call has the [sweeper] db_timeout deadline.
 * DIAGNOSTICS
 *   A failed call is logged and returns -1 / false / NULL.
 */
#ifndef CPR_LOOKUPDB_H
#define CPR_LOOKUPDB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#define LOOKUPDB_TRACKING_LEN 32

struct lookup_case {
    long long id;
    char tracking[LOOKUPDB_TRACKING_LEN];
    long long received_ms;
    int attempts;
    bool recheck;
};

struct lookup_alert {
    long long id;
    char tracking[LOOKUPDB_TRACKING_LEN];
    char kind[32];
    char summary[2048];
    char opened_at[40];
    int attempts;
};

int lookupdb_claim(PGconn *conn, const char *worker, int lease_ms, struct lookup_case *out,
                   int max);
/* Up to limit evidence rows after id after (cpr.lookup_evidence columns;
 * column 9, total, counts the rows from after on), or NULL. */
PGresult *lookupdb_evidence(PGconn *conn, long long case_id, long long after, int limit);
/* Flag and page the case: unread evidence items past the bound limit. */
bool lookupdb_over_limit(PGconn *conn, long long case_id, const char *worker, long long unread,
                         int limit);
bool lookupdb_done(PGconn *conn, long long case_id, const char *worker, const char *json,
                   long long recheck_ms, bool *kept);
bool lookupdb_failed(PGconn *conn, long long case_id, const char *worker, const char *error,
                     long long retry_ms, long page_after);
bool lookupdb_alert_claim(PGconn *conn, const char *worker, long long lease_ms,
                          struct lookup_alert *a, bool *found);
bool lookupdb_alert_done(PGconn *conn, const struct lookup_alert *a, bool ok, const char *worker,
                         long long retry_ms);
/* A sent page whose case is closed or acknowledged since, to resolve. */
bool lookupdb_resolve_claim(PGconn *conn, const char *worker, long long lease_ms,
                            struct lookup_alert *a, bool *found);
/* ok: every channel took it; sent: one was sent (not all resolve = no). */
bool lookupdb_resolve_done(PGconn *conn, const struct lookup_alert *a, bool ok, bool sent,
                           const char *worker, long long retry_ms);
/* ms until something is due (>= 1), 0 for nothing, -1 on failure. */
long long lookupdb_next_ms(PGconn *conn);

#endif

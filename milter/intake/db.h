/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   db - the milter's connection pool, circuit breaker and intake call
 * SUMMARY
 *   pool = db_pool_new(conninfo, size, timeout_ms);
 *   st = db_intake(pool, msg, verdict, reply, report, &res, err, sizeof err);
 * DESCRIPTION
 *   A fixed pool of libpq connections shared by the libmilter threads. Each
 *   message is ONE round trip: a prepared SELECT ... FROM cpr.intake(...).
 *   When a connection fails, the breaker opens: later calls fail at once
 *   with DB_UNAVAILABLE while a background thread reconnects, so no SMTP
 *   session waits through a connect timeout per message.
 */
#ifndef CPR_DB_H
#define CPR_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "classify.h"
#include "message.h"

enum db_status { DB_OK, DB_UNAVAILABLE, DB_ERROR };

struct intake_result {
    char tracking[32];
    char received_at[40];      /* RFC 3339 UTC with milliseconds */
    char kind[16];
    char category[32];
    bool redelivery;
    char autoreply[64];        /* none, queued, or skipped: REASON */
    double db_ms;
};

/* What cpr.intake needs to decide on an auto-reply; NULL: replies off. */
struct intake_reply {
    const char *skip_reason;   /* autoreply_decide(); NULL: reply */
    long rate_sender;          /* replies per sender per window */
    long long rate_sender_window_ms;
    long rate_domain;          /* replies per sender domain per window */
    long long rate_domain_window_ms;
    bool followups;            /* reply to follow-ups too */
    long budget_hour;          /* replies per hour over all senders */
};

struct db_pool;

struct db_pool *db_pool_new(const char *conninfo, int size, long long timeout_ms);
void db_pool_free(struct db_pool *pool);
struct report;

/* r: the report analysis (copy, evidence, DSN references), or NULL. */
enum db_status db_intake(struct db_pool *pool, const struct cpr_message *m,
                         const struct cpr_verdict *v, const struct intake_reply *reply,
                         const struct report *r, struct intake_result *res,
                         char *err, size_t errlen);

/* JSON arrays for SQL arguments (valid UTF-8, built with jansson); the
 * caller frees with free(). */
char *db_json_strv(char *const *v, size_t n);
char *db_json_headers(const struct cpr_message *m);   /* [[name, value], ...] */

/* A header value or Subject as it may be stored: valid UTF-8, or a
 * marker when it holds a private key (raw or RFC 2047-encoded). Caller
 * frees with g_free(). */
char *db_text_safe(const char *s);

/* Reads a query's result (PGRES_TUPLES_OK); false with err set if it is
 * not what was expected. */
typedef bool (*db_reader)(PGresult *res, void *arg, char *err, size_t errlen);

/* One query with text parameters on a pooled connection, under the same
 * deadline and breaker as db_intake(). */
enum db_status db_query(struct db_pool *pool, const char *sql, int nparams,
                        const char *const *values, db_reader read, void *arg,
                        char *err, size_t errlen);

#endif

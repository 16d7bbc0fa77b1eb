/*
 * NAME
 *   db - the milter's connection pool, circuit breaker and intake call
 * SUMMARY
 *   pool = db_pool_new(conninfo, size, timeout_ms);
 *   st = db_intake(pool, msg, verdict, &res, err, sizeof err);
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
};

struct db_pool;

struct db_pool *db_pool_new(const char *conninfo, int size, long long timeout_ms);
void db_pool_free(struct db_pool *pool);
enum db_status db_intake(struct db_pool *pool, const struct cpr_message *m,
                         const struct cpr_verdict *v, const struct intake_reply *reply,
                         struct intake_result *res, char *err, size_t errlen);

#endif

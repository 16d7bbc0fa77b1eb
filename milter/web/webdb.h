/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webdb - cpr-web's two database calls, as the cpr_web role
 * SUMMARY
 *   webdb_init(&db, conninfo, timeout_ms);
 *   r = webdb_case(&db, tracking, &json);   r = webdb_ack(&db, &token, actor, &json);
 * DESCRIPTION
 *   One connection, opened on first use and again after it breaks, with
 *   the two prepared statements of sql/027_ack_links.sql: cpr.link_case
 *   and cpr.ack_link. A mutex serialises calls (libmicrohttpd may call
 *   from more than one thread). Every call is bounded by the timeout
 *   (pgconn.c). The answers are parsed with jansson; the caller owns them.
 * DIAGNOSTICS
 *   WEBDB_DOWN with a log line (never the conninfo) when the database
 *   cannot be reached or answers with an error not listed below.
 */
#ifndef CPR_WEBDB_H
#define CPR_WEBDB_H

#include <pthread.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "acktoken.h"

enum webdb_result {
    WEBDB_OK,          /* *out set: the case (acknowledged, for webdb_ack) */
    WEBDB_NO_CASE,     /* P0002, or no row */
    WEBDB_NOTHING,     /* 55000: already acknowledged, or no clock open */
    WEBDB_USED,        /* 23505: this link's nonce was used before */
    WEBDB_EXPIRED,     /* 22023: expired by the database clock */
    WEBDB_STALE,       /* CP001: made before the acknowledge clock started */
    WEBDB_DOWN
};

struct webdb {
    char *conninfo;
    long long timeout_ms;
    PGconn *conn;
    pthread_mutex_t mu;
};

void webdb_init(struct webdb *db, const char *conninfo, long long timeout_ms);
void webdb_free(struct webdb *db);

enum webdb_result webdb_case(struct webdb *db, const char *tracking, json_t **out);
enum webdb_result webdb_ack(struct webdb *db, const struct acktoken *t, const char *actor,
                            json_t **out);

#endif

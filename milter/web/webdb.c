/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webdb - cpr-web's two database calls, as the cpr_web role
 * SUMMARY
 *   r = webdb_ack(&db, &token, actor, &json);
 * DESCRIPTION
 *   See webdb.h. The SQL is the two prepared statements below and
 *   nothing else; the functions they call are SECURITY DEFINER, and the
 *   role may execute nothing more.
 * DIAGNOSTICS
 *   Errors are logged here, once per call, with the SQLSTATE.
 */
#include "webdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "log.h"
#include "pgconn.h"

#define WEBDB_APP "cpr-web"

static const char sql_case[] = "SELECT cpr.link_case($1)";
static const char sql_ack[] =
    "SELECT cpr.ack_link($1, $2, $3, decode($4, 'hex'), "
    "to_timestamp($5::bigint / 1000.0), to_timestamp($6::bigint / 1000.0), $7)";

void
webdb_init(struct webdb *db, const char *conninfo, long long timeout_ms)
{
    memset(db, 0, sizeof(*db));
    db->conninfo = g_strdup(conninfo);
    db->timeout_ms = timeout_ms;
    pthread_mutex_init(&db->mu, NULL);
}

void
webdb_free(struct webdb *db)
{
    if (db->conn != NULL)
        PQfinish(db->conn);
    g_free(db->conninfo);
    pthread_mutex_destroy(&db->mu);
    memset(db, 0, sizeof(*db));
}

static bool
webdb_prepare(struct webdb *db, const char *name, const char *sql)
{
    char err[256];
    PGresult *r = pgconn_prepare(db->conn, name, sql, db->timeout_ms, err, sizeof(err));
    bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;

    if (!ok)
        log_warn("database: prepare %s: %s", name,
                 r != NULL ? PQresultErrorMessage(r) : err);
    PQclear(r);
    return ok;
}

/* A working connection with both statements prepared, or false. */
static bool
webdb_connect(struct webdb *db)
{
    char err[256];

    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return true;
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = pgconn_open(db->conninfo, WEBDB_APP, db->timeout_ms, err, sizeof(err));
    if (db->conn == NULL) {
        log_warn("database: %s", err);
        return false;
    }
    if (!webdb_prepare(db, "link_case", sql_case) || !webdb_prepare(db, "ack_link", sql_ack)) {
        PQfinish(db->conn);
        db->conn = NULL;
        return false;
    }
    return true;
}

static enum webdb_result
webdb_state(const char *state)
{
    if (state == NULL)
        return WEBDB_DOWN;
    if (strcmp(state, "P0002") == 0)
        return WEBDB_NO_CASE;
    if (strcmp(state, "55000") == 0)
        return WEBDB_NOTHING;
    if (strcmp(state, "23505") == 0)
        return WEBDB_USED;
    if (strcmp(state, "22023") == 0)
        return WEBDB_EXPIRED;
    if (strcmp(state, "CP001") == 0)
        return WEBDB_STALE;
    return WEBDB_DOWN;
}

/* One prepared call returning one jsonb (or NULL) value. */
static enum webdb_result
webdb_call(struct webdb *db, const char *stmt, int n, const char *const *values, json_t **out)
{
    enum webdb_result res = WEBDB_DOWN;
    json_error_t jerr;
    PGresult *r;
    char err[256];

    *out = NULL;
    pthread_mutex_lock(&db->mu);
    if (!webdb_connect(db)) {
        pthread_mutex_unlock(&db->mu);
        return WEBDB_DOWN;
    }
    r = pgconn_exec(db->conn, stmt, NULL, n, values, db->timeout_ms, err, sizeof(err));
    if (r == NULL)
        log_warn("database: %s: %s", stmt, err);
    else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        res = webdb_state(PQresultErrorField(r, PG_DIAG_SQLSTATE));
        if (res == WEBDB_DOWN)
            log_warn("database: %s: %s", stmt, PQresultErrorMessage(r));
    } else if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        res = WEBDB_NO_CASE;
    else if ((*out = json_loads(PQgetvalue(r, 0, 0), 0, &jerr)) == NULL)
        log_warn("database: %s: unreadable answer: %s", stmt, jerr.text);
    else
        res = WEBDB_OK;
    PQclear(r);
    pthread_mutex_unlock(&db->mu);
    return res;
}

enum webdb_result
webdb_case(struct webdb *db, const char *tracking, json_t **out)
{
    const char *v[1] = { tracking };

    return webdb_call(db, "link_case", 1, v, out);
}

enum webdb_result
webdb_ack(struct webdb *db, const struct acktoken *t, const char *actor, json_t **out)
{
    char nonce[2 * ACKTOKEN_NONCE_LEN + 1], issued[24], expires[24];
    const char *v[7] = { t->tracking, t->clock, t->channel, nonce, issued, expires, actor };

    for (int i = 0; i < ACKTOKEN_NONCE_LEN; i++)
        snprintf(nonce + 2 * i, 3, "%02x", t->nonce[i]);
    snprintf(issued, sizeof(issued), "%lld", t->issued_ms);
    snprintf(expires, sizeof(expires), "%lld", t->expires_ms);
    return webdb_call(db, "ack_link", 7, v, out);
}

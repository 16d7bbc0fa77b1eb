/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_util - what every cprctl command uses: messages, output, queries
 * DESCRIPTION
 *   Messages on stderr (cprctl_say), terminal-safe output of text and
 *   JSON, queries with cprctl's answer deadline and their checks, and the
 *   deadline policy of the config.
 *   Depends on no other cprctl file, so the command files (cprctl.c,
 *   cprctl_audit.c, cprctl_export.c, cprctl_stream.c) use it and not each
 *   other.
 */
#include "cprctl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "pgconn.h"
#include "text.h"
#include "tracking.h"

/* ---- small helpers ---- */

void
cprctl_vsay(const char *fmt, va_list ap)
{
    fputs("cprctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
cprctl_say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cprctl_vsay(fmt, ap);
    va_end(ap);
}


/* ---- printing ---- */

void
cprctl_text_print(const char *s)
{
    char *safe = text_sanitise(s);

    fputs(safe, stdout);
    free(safe);
}

int
cprctl_json_print(const json_t *v)
{
    char *dump = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS), *safe;

    if (!dump) {
        log_error("cannot format JSON");
        return CPRCTL_EX_FAIL;
    }
    safe = text_json_escape(dump);
    puts(safe);
    free(safe);
    free(dump);
    return CPRCTL_EX_OK;
}

/* One JSON value as text: strings raw, arrays joined by ", ", "-" for
 * nothing. Sanitised. */
void
cprctl_value_print(const json_t *v)
{
    char *dump;
    size_t i;
    json_t *e;

    if (json_is_string(v) && *json_string_value(v))
        cprctl_text_print(json_string_value(v));
    else if (json_is_integer(v))
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_array(v) && json_array_size(v) > 0)
        json_array_foreach(v, i, e) {
            fputs(i ? ", " : "", stdout);
            cprctl_value_print(e);
        }
    else if (json_is_object(v) || json_is_real(v) || json_is_boolean(v)) {
        dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        cprctl_text_print(dump ? dump : "?");
        free(dump);
    } else
        fputs("-", stdout);
}

/* ---- database ---- */

bool
cprctl_db_ok(const PGresult *res, const PGconn *conn, const char *what)
{
    const char *msg;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        return true;
    msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    if (!*msg)
        msg = "unknown error";
    log_error("%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return false;
}

long long
cprctl_query_timeout_ms(void)
{
    const char *env = getenv("CPRCTL_QUERY_TIMEOUT");
    long long secs = env ? atoll(env) : 0;

    return secs >= 1 && secs <= 3600 ? secs * 1000 : CPRCTL_QUERY_TIMEOUT_MS;
}

PGresult *
cprctl_exec(PGconn *conn, const char *sql, int n, const char *const *params)
{
    char err[256] = "";
    PGresult *res = pgconn_exec(conn, NULL, sql, n, params, cprctl_query_timeout_ms(), err,
                                sizeof(err));

    if (res == NULL && err[0])
        log_error("database: %s", err);
    return res;
}

PGresult *
cprctl_exec_script(PGconn *conn, const char *sql)
{
    char err[256] = "";
    PGresult *res = pgconn_exec_script(conn, sql, cprctl_query_timeout_ms(), err, sizeof(err));

    if (res == NULL && err[0])
        log_error("database: %s", err);
    return res;
}

/* Parse every row's first column as JSON into one array. */
json_t *
cprctl_db_rows_json(const PGresult *res)
{
    json_t *arr = json_array(), *v;
    json_error_t jerr;

    memset(&jerr, 0, sizeof(jerr));
    for (int i = 0; arr && i < PQntuples(res); i++) {
        v = json_loads(PQgetvalue(res, i, 0), 0, &jerr);
        if (!v || json_array_append_new(arr, v) != 0) {
            log_error("bad JSON from the database: %s", jerr.text);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *
cprctl_db_json1(PGconn *conn, const char *sql, const char *param, const char *what)
{
    PGresult *res = cprctl_exec(conn, sql, 1, &param);
    json_t *rows = NULL, *v = NULL;

    if (cprctl_db_ok(res, conn, what) && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        rows = cprctl_db_rows_json(res);
    PQclear(res);
    if (rows)
        v = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return v;
}

long long
cprctl_db_now(PGconn *conn)
{
    PGresult *res = cprctl_exec_script(conn,
        "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
    long long now = 0;

    if (cprctl_db_ok(res, conn, "the database clock") && PQntuples(res) == 1)
        now = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return now;
}

/* A parse check first, so that libpq's parse errors, which quote parts of
 * the string (a password among them), are never printed. A bare word is a
 * database name, as in psql. */

/* ---- config ---- */

int
cprctl_policy(const struct cprctl_opts *o, struct deadline_policy *p)
{
    const char *path = o->config_path ? o->config_path : CPRCTL_CONFIG;
    bool want = o->config_path || access(path, R_OK) == 0;
    struct cpr_config *cfg;
    char *err = NULL;

    cfg = want ? config_load(path, &err) : config_defaults();
    if (!cfg) {
        cprctl_say("%s", err ? err : "cannot load the config");
        g_free(err);
        return CPR_EX_CONFIG;
    }
    deadline_policy_from_config(cfg, 0, p);
    config_free(cfg);
    return CPRCTL_EX_OK;
}

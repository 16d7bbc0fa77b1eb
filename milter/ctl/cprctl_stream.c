/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_stream - query results a row at a time, JSON arrays printed as
 *   they go
 * SUMMARY
 *   cprctl_db_stream(conn, sql, n, params, "list", row_fn, arg);
 *   cprctl_json_array_begin(&a, 0); cprctl_json_array_item(&a, v); ...
 *   cprctl_json_array_end(&a);
 * DESCRIPTION
 *   cprctl list, report and the exports read years of cases: the whole
 *   result must never be held at once. cprctl_db_stream runs one query
 *   in libpq's single-row mode and hands each row's first column, parsed
 *   as JSON, to a callback, so memory stays that of one row. The array
 *   printer writes, element by element, exactly what cprctl_json_print()
 *   writes for the whole array (JSON_INDENT(2), sorted keys, terminal-safe
 *   escapes). cprctl_db_snapshot() opens a read-only REPEATABLE READ
 *   transaction, so that two passes over the cases see the same ones.
 * DIAGNOSTICS
 *   Database and JSON errors are logged (log_error) and returned as
 *   CPRCTL_EX_FAIL; after a callback fails, the rest of the result is
 *   read and dropped so the connection stays usable.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprctl.h"
#include "log.h"
#include "pgconn.h"
#include "text.h"

#define STREAM_JSON_FLAGS (JSON_INDENT(2) | JSON_SORT_KEYS)
#define STREAM_INDENT "  "             /* one level of JSON_INDENT(2) */
#define STREAM_MAX_DEPTH 8

/* The next row (or result), waiting at most CPRCTL_QUERY_TIMEOUT_MS. */
static PGresult *
stream_next(PGconn *conn, const char *what, bool *lost)
{
    char err[256] = "";
    PGresult *res = pgconn_next(conn, cprctl_query_timeout_ms(), lost, err, sizeof(err));

    if (*lost)
        log_error("%s: database: %s", what, err);
    return res;
}

static int
stream_send(PGconn *conn, const char *sql, int n, const char *const *params,
            const char *what)
{
    if (PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0)
        && PQsetSingleRowMode(conn))
        return CPRCTL_EX_OK;
    log_error("%s: %.*s", what, (int)strcspn(PQerrorMessage(conn), "\n"),
              PQerrorMessage(conn));
    return CPRCTL_EX_FAIL;
}

/* One single-row result: parsed and handed on; rc stays failed after a
 * failure, so the rest is only drained. */
static int
stream_row(const PGresult *res, const char *what, cprctl_row_fn fn, void *arg)
{
    json_error_t jerr;
    json_t *v;
    int rc;

    memset(&jerr, 0, sizeof(jerr));
    if (PQgetisnull(res, 0, 0))
        return CPRCTL_EX_OK;
    if (!(v = json_loads(PQgetvalue(res, 0, 0), 0, &jerr))) {
        log_error("%s: bad JSON from the database: %s", what, jerr.text);
        return CPRCTL_EX_FAIL;
    }
    rc = fn(arg, v);
    json_decref(v);
    return rc;
}

int
cprctl_db_stream(PGconn *conn, const char *sql, int n, const char *const *params,
                 const char *what, cprctl_row_fn fn, void *arg)
{
    PGresult *res;
    bool lost = false;
    int rc = stream_send(conn, sql, n, params, what);

    if (rc != CPRCTL_EX_OK)
        return rc;
    while ((res = stream_next(conn, what, &lost)) != NULL) {
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
            if (rc == CPRCTL_EX_OK)
                rc = stream_row(res, what, fn, arg);
        } else if (!cprctl_db_ok(res, conn, what))
            rc = CPRCTL_EX_FAIL;
        PQclear(res);
    }
    return lost ? CPRCTL_EX_FAIL : rc;
}

static int
stream_command(PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = cprctl_exec_script(conn, sql);
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok)
        log_error("%s: %.*s", what, (int)strcspn(PQerrorMessage(conn), "\n"),
                  PQerrorMessage(conn));
    PQclear(res);
    return ok ? CPRCTL_EX_OK : CPRCTL_EX_FAIL;
}

int
cprctl_db_snapshot(PGconn *conn, const char *what)
{
    return stream_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", what);
}

int
cprctl_db_snapshot_end(PGconn *conn, const char *what)
{
    return stream_command(conn, "COMMIT", what);
}

/* ---- a JSON array, an element at a time ---- */

void
cprctl_json_array_begin(struct cprctl_json_array *a, int depth)
{
    a->n = 0;
    a->failed = false;
    a->depth = depth < 0 ? 0 : depth > STREAM_MAX_DEPTH ? STREAM_MAX_DEPTH : depth;
}

static void
stream_indent(int levels)
{
    for (int i = 0; i < levels; i++)
        fputs(STREAM_INDENT, stdout);
}

/* dump with every line after the first indented to its depth: the element
 * as json_dumps() lays it out inside the array. */
static void
stream_indented(const char *dump, int levels)
{
    for (const char *p = dump; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            stream_indent(levels);
    }
}

void
cprctl_json_array_item(struct cprctl_json_array *a, const json_t *v)
{
    char *dump = json_dumps(v, STREAM_JSON_FLAGS | JSON_ENCODE_ANY), *safe;

    if (!dump) {
        a->failed = true;
        return;
    }
    safe = text_json_escape(dump);
    fputs(a->n++ ? ",\n" : "[\n", stdout);
    stream_indent(a->depth + 1);
    stream_indented(safe, a->depth + 1);
    free(safe);
    free(dump);
}

void
cprctl_json_array_close(struct cprctl_json_array *a)
{
    if (a->n == 0) {
        fputs("[]", stdout);
        return;
    }
    putchar('\n');
    stream_indent(a->depth);
    putchar(']');
}

int
cprctl_json_array_end(struct cprctl_json_array *a)
{
    cprctl_json_array_close(a);
    putchar('\n');
    if (a->failed)
        log_error("cannot format JSON");
    return a->failed || ferror(stdout) ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
}

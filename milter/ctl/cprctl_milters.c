/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_milters - the heartbeats of the cpr-milters
 * SUMMARY
 *   cprctl milters [--json]
 *   cprctl milters --forget HOST --socket SOCKET
 * DESCRIPTION
 *   Lists cpr.milter_list() (021_liveness.sql): one row per milter (host
 *   and socket) with its pid, version, start, last beat and its age by the
 *   database clock, last completed callback, callbacks running, messages
 *   stamped and tempfailed, whether it said it was stopping, and the
 *   reason of its open alert. The rows come as JSON from the database
 *   (to_jsonb, never built by hand). --forget takes a milter out of
 *   service for good: it is no longer expected to beat, and its open
 *   alert resolves at the sweeper's next pass.
 * DIAGNOSTICS
 *   Exit 1 on a database failure, or when --forget names no milter.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <stdio.h>
#include <string.h>

#include "cprctl.h"

#define MILTERS_SQL "SELECT to_jsonb(m) FROM cpr.milter_list() m"

int
cmd_milters_check(const char *cmd, struct cprctl_opts *o)
{
    if ((o->forget_host == NULL) != (o->socket == NULL))
        return cprctl_usage_error("%s: --forget HOST and --socket SOCKET go together", cmd);
    if (o->forget_host != NULL && o->json)
        return cprctl_usage_error("%s: --json is for the list, not --forget", cmd);
    return CPRCTL_EX_OK;
}

static int
milters_forget(PGconn *conn, const struct cprctl_opts *o)
{
    const char *p[] = { o->forget_host, o->socket };
    PGresult *res = cprctl_exec(conn, "SELECT cpr.milter_forget($1, $2)", 2, p);
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "milters --forget")) {
        if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
            printf("forgot the milter ");
            cprctl_text_print(o->forget_host);
            printf(" ");
            cprctl_text_print(o->socket);
            printf("; its open alert resolves at the next sweep\n");
            rc = CPRCTL_EX_OK;
        } else
            cprctl_say("milters --forget: no such milter");
    }
    PQclear(res);
    return rc;
}

static void
milters_field(const json_t *row, const char *key, const char *sep)
{
    cprctl_value_print(json_object_get(row, key));
    fputs(sep, stdout);
}

/* One milter per line; ages in seconds. */
static void
milters_table(const json_t *rows)
{
    size_t i;
    json_t *row;

    printf("HOST\tSOCKET\tPID\tVERSION\tSTARTED\tBEAT\tAGE_S\tLAST_CALLBACK\tRUNNING\t"
           "STAMPED\tTEMPFAILED\tSTATE\tALERT\n");
    json_array_foreach(rows, i, row) {
        json_int_t age = json_integer_value(json_object_get(row, "beat_age_ms"));

        milters_field(row, "host", "\t");
        milters_field(row, "socket", "\t");
        milters_field(row, "pid", "\t");
        milters_field(row, "version", "\t");
        milters_field(row, "started_at", "\t");
        milters_field(row, "beat_at", "\t");
        printf("%" JSON_INTEGER_FORMAT "\t", age / 1000);
        milters_field(row, "last_callback_at", "\t");
        milters_field(row, "in_callbacks", "\t");
        milters_field(row, "stamped", "\t");
        milters_field(row, "tempfailed", "\t");
        fputs(json_is_true(json_object_get(row, "stopping")) ? "stopping\t" : "running\t",
              stdout);
        milters_field(row, "alert", "\n");
    }
}

int
cmd_milters_run(PGconn *conn, const struct cprctl_opts *o)
{
    PGresult *res;
    json_t *rows = NULL;
    int rc = CPRCTL_EX_FAIL;

    if (o->forget_host != NULL)
        return milters_forget(conn, o);
    res = cprctl_exec(conn, MILTERS_SQL, 0, NULL);
    if (cprctl_db_ok(res, conn, "milters") && (rows = cprctl_db_rows_json(res)) != NULL) {
        if (o->json)
            rc = cprctl_json_print(rows);
        else {
            milters_table(rows);
            rc = CPRCTL_EX_OK;
        }
    }
    json_decref(rows);
    PQclear(res);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl - the staff and admin command line
 * SUMMARY
 *   cprctl [-c FILE] [--conninfo STR] migrate [--sql-dir DIR]
 *   cprctl [-c FILE] [--conninfo STR] list [--all] [--json]
 *   cprctl [-c FILE] [--conninfo STR] show TRACKING [--json]
 *   cprctl [-c FILE] ack|respond|confirm|revoked|close TRACKING [options]
 *   cprctl [-c FILE] timeline|incident-draft|report|search|verify-audit|audit-digest ...
 *   cprctl [-c FILE] test-page CHANNEL
 * DESCRIPTION
 *   A table of commands; each parses its own options and then runs on one
 *   libpq connection. list and show call the SQL functions of
 *   sql/003_queries.sql and sql/009_audit.sql with parameters; the JSON
 *   they return is parsed with jansson and printed as JSON or as text.
 *   Reporters choose subjects and addresses, so every string printed as
 *   text goes through text_sanitise() first: no escape sequence reaches a
 *   staff member's terminal. This file: the command table, parsing, list,
 *   show and the staff actions; the audit and export commands live in
 *   cprctl_audit.c and cprctl_export.c (see cprctl.h).
 * DIAGNOSTICS
 *   Exit status 0 ok, 1 not found, database error or audit break, 64 usage,
 *   78 config. The conninfo is never printed: it may hold a password.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <getopt.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "compliance.h"
#include "config.h"
#include "cprctl.h"
#include "escalation.h"
#include "log.h"
#include "migrate.h"
#include "pager.h"
#include "pgconn.h"
#include "text.h"
#include "tracking.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define CPRCTL_CONNECT_TIMEOUT "10"   /* seconds, unless PGCONNECT_TIMEOUT */

#define LIST_WIDTH        120  /* target line width of the list table */
#define LIST_MIN_SUBJECT  20   /* the subject column never gets narrower */
#define LIST_GAP          2    /* spaces between columns */
#define LIST_SQL          "SELECT c FROM cpr.case_list($1::boolean) AS c"
#define SHOW_LABEL_WIDTH  15

struct list_col {
    const char *title;
    const char *key;           /* field of the case object */
    const char *sub;           /* field of that field, or NULL */
    size_t max;                /* widest it gets; 0 = the rest of the line */
    bool is_time;              /* show "YYYY-MM-DD HH:MM:SS" */
    const char *empty;         /* shown for "" or null */
};

static const struct list_col list_cols[] = {
    { "TRACKING",       "tracking",      NULL, 24, false, "-" },
    { "RECEIVED (UTC)", "received_at",   NULL, 19, true,  "-" },
    { "NEXT DEADLINE",  "next_deadline", "clock", 17, false, "-" },
    { "LEFT",           "next_deadline", "left", 14, false, "-" },
    { "KIND",           "kind",          NULL, 10, false, "-" },
    { "CATEGORY",       "category",      NULL, 18, false, "-" },
    { "STATE",          "state",         NULL,  6, false, "-" },
    { "MSGS",           "message_count", NULL,  5, false, "-" },
    { "REPORTER",       "reporter",      NULL, 28, false, "<>" },
    { "SUBJECT",        "subject",       NULL,  0, false, "-" },
};
#define LIST_NCOLS (sizeof(list_cols) / sizeof(list_cols[0]))

static bool
db_conninfo_valid(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts;

    if (!strchr(conninfo, '=') && !strstr(conninfo, "://"))
        return true;
    opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    if (!opts)
        return false;
    PQconninfoFree(opts);
    return true;
}

/* pgconn_connect: the keepalives, tcp_user_timeout, client_encoding and
 * connect deadline every program uses. PGCONNECT_TIMEOUT (seconds) still
 * overrides the deadline. */
static PGconn *
db_connect(const char *conninfo)
{
    const char *timeout = getenv("PGCONNECT_TIMEOUT");
    long long secs = atoll(timeout ? timeout : CPRCTL_CONNECT_TIMEOUT);
    char err[512];
    PGconn *conn;

    if (!db_conninfo_valid(conninfo)) {
        log_error("the conninfo is malformed (not shown: it may hold a password)");
        return NULL;
    }
    if (secs <= 0 || secs > 3600)
        secs = atoll(CPRCTL_CONNECT_TIMEOUT);
    conn = pgconn_connect(conninfo, "cprctl", secs * 1000, err, sizeof(err));
    if (conn == NULL)
        log_error("cannot connect to the database: %.*s", (int)strcspn(err, "\n"), err);
    return conn;
}

/* ---- migrate ---- */

static int
cmd_migrate_run(PGconn *conn, const struct cprctl_opts *o)
{
    int n = migrate_apply(conn, migrate_sql_dir(o->sql_dir));

    if (n < 0)
        return CPRCTL_EX_FAIL;
    if (n == 0)
        log_info("the schema is up to date");
    else
        log_info("%d migration%s applied", n, n == 1 ? "" : "s");
    return CPRCTL_EX_OK;
}

/* ---- list ---- */

/* The text of one cell; buf holds formatted values. */
static const char *
list_cell(const json_t *c, const struct list_col *col, char *buf, size_t len)
{
    const json_t *v = json_object_get(c, col->key);
    const char *s;

    if (col->sub)
        v = json_object_get(v, col->sub);
    s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (!s || !*s)
        return col->empty;
    if (col->is_time && strlen(s) >= 19) {
        snprintf(buf, len, "%.10s %.8s", s, s + 11);
        return buf;
    }
    return s;
}

static size_t
list_cell_width(const json_t *c, const struct list_col *col)
{
    char buf[64];
    char *safe = text_sanitise(list_cell(c, col, buf, sizeof(buf)));
    size_t w = text_width(safe);

    free(safe);
    return w;
}

/* Column widths: as wide as the widest cell, capped; SUBJECT gets the rest.
 * Titles first, then each case as it streams past, then the caps. */
static void
list_widths_init(size_t *width)
{
    for (size_t k = 0; k < LIST_NCOLS; k++)
        width[k] = strlen(list_cols[k].title);
}

static void
list_widths_add(size_t *width, const json_t *c)
{
    for (size_t k = 0; k < LIST_NCOLS - 1; k++) {
        size_t w = list_cell_width(c, &list_cols[k]);
        if (w > width[k])
            width[k] = w;
    }
}

static void
list_widths_finish(size_t *width)
{
    size_t used = 0, k;

    for (k = 0; k < LIST_NCOLS - 1; k++) {
        if (width[k] > list_cols[k].max)
            width[k] = list_cols[k].max;
        used += width[k] + LIST_GAP;
    }
    width[k] = used + LIST_MIN_SUBJECT < LIST_WIDTH ? LIST_WIDTH - used : LIST_MIN_SUBJECT;
}

/* Print a cell cut to width code points ("..." marks a cut), padded unless
 * it is the last. */
static void
list_print_cell(const char *text, size_t width, bool last)
{
    char *safe = text_sanitise(text);
    size_t w = text_width(safe);

    if (w > width) {
        fwrite(safe, 1, text_prefix(safe, width - 3), stdout);
        fputs("...", stdout);
        w = width;
    } else
        fputs(safe, stdout);
    if (!last)
        printf("%*s", (int)(width - w + LIST_GAP), "");
    free(safe);
}

static void
list_print_row(const json_t *c, const size_t *width)
{
    char buf[64];

    for (size_t k = 0; k < LIST_NCOLS; k++)
        list_print_cell(c ? list_cell(c, &list_cols[k], buf, sizeof(buf))
                          : list_cols[k].title,
                        width[k], k == LIST_NCOLS - 1);
    putchar('\n');
}

/* "2h05m" left, or "overdue 1h05m". */
static void
list_left(long long ms, char *buf, size_t len)
{
    long long m = (ms < 0 ? -ms : ms) / 60000;

    snprintf(buf, len, "%s%lldh%02lldm", ms < 0 ? "overdue " : "", m / 60, m % 60);
}

/* next_deadline {clock, at, left_ms, left} on a case with a running
 * clock; false if none runs. */
static bool
list_deadline(json_t *c, const struct deadline_policy *p, long long now)
{
    struct compliance_next n;
    char at[COMPLIANCE_ISO_LEN], left[48];

    if (!compliance_next(c, p, now, &n))
        return false;
    compliance_time_iso(n.deadline, at, sizeof(at));
    list_left(n.left_ms, left, sizeof(left));
    json_object_set_new(c, "next_deadline", json_pack("{s:s, s:s, s:I, s:s}",
        "clock", deadline_clock_name(n.clock), "at", at,
        "left_ms", (json_int_t)n.left_ms, "left", left));
    return true;
}

/* A case with a running clock, held until the first pass ends: its JSON
 * as compact text (a tenth of the parsed object's memory), its time left
 * and its place in receipt order. */
struct list_held {
    char *text;
    long long left_ms;
    size_t pos;
};

/* Nearest deadline first (so overdue cases lead); ties in receipt order
 * (qsort is not stable). */
static int
list_held_cmp(const void *a, const void *b)
{
    const struct list_held *x = a, *y = b;

    if (x->left_ms != y->left_ms)
        return x->left_ms < y->left_ms ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The list streams in two passes over one snapshot, so that years of
 * closed cases are never held: the first keeps only the cases with a
 * running clock (they lead, nearest deadline first) and measures the
 * columns; the second prints every other case in receipt order. */
struct list_run {
    const struct deadline_policy *policy;
    long long now;
    bool json;
    size_t count;
    size_t width[LIST_NCOLS];
    struct list_held *held;        /* the cases with a running clock */
    size_t nheld, capheld;
    struct cprctl_json_array out;
};

static int
list_hold(struct list_run *r, const json_t *c)
{
    struct list_held *h;

    if (r->nheld == r->capheld) {
        size_t cap = r->capheld ? r->capheld * 2 : 256;
        if (!(h = realloc(r->held, cap * sizeof(*h))))
            return CPRCTL_EX_FAIL;
        r->held = h;
        r->capheld = cap;
    }
    h = &r->held[r->nheld];
    if (!(h->text = json_dumps(c, JSON_COMPACT)))
        return CPRCTL_EX_FAIL;
    h->left_ms = json_integer_value(json_object_get(json_object_get(c, "next_deadline"),
                                                    "left_ms"));
    h->pos = r->nheld++;
    return CPRCTL_EX_OK;
}

static void
list_held_free(struct list_run *r)
{
    for (size_t i = 0; i < r->nheld; i++)
        free(r->held[i].text);
    free(r->held);
}

static int
list_pass_measure(void *arg, json_t *c)
{
    struct list_run *r = arg;

    r->count++;
    if (list_deadline(c, r->policy, r->now) && list_hold(r, c) != CPRCTL_EX_OK)
        return CPRCTL_EX_FAIL;
    if (!r->json)
        list_widths_add(r->width, c);
    return CPRCTL_EX_OK;
}

static void
list_emit(struct list_run *r, const json_t *c)
{
    if (r->json)
        cprctl_json_array_item(&r->out, c);
    else
        list_print_row(c, r->width);
}

static int
list_pass_print(void *arg, json_t *c)
{
    struct list_run *r = arg;
    struct compliance_next n;

    if (!compliance_next(c, r->policy, r->now, &n))
        list_emit(r, c);
    return CPRCTL_EX_OK;
}

static int
list_emit_held(struct list_run *r)
{
    json_error_t jerr;
    json_t *c;

    qsort(r->held, r->nheld, sizeof(*r->held), list_held_cmp);
    for (size_t i = 0; i < r->nheld; i++) {
        if (!(c = json_loads(r->held[i].text, 0, &jerr)))
            return CPRCTL_EX_FAIL;
        list_emit(r, c);
        json_decref(c);
    }
    return CPRCTL_EX_OK;
}

/* The cases with a running clock, sorted, then the rest as they stream. */
static int
list_print_all(PGconn *conn, const char *const *params, struct list_run *r, bool all)
{
    int rc;

    if (r->count == 0 && !r->json) {
        puts(all ? "no cases" : "no open cases");
        return CPRCTL_EX_OK;
    }
    cprctl_json_array_begin(&r->out, 0);
    if (!r->json) {
        list_widths_finish(r->width);
        list_print_row(NULL, r->width);
    }
    if ((rc = list_emit_held(r)) == CPRCTL_EX_OK)
        rc = cprctl_db_stream(conn, LIST_SQL, 1, params, "list", list_pass_print, r);
    if (r->json && cprctl_json_array_end(&r->out) != CPRCTL_EX_OK)
        rc = CPRCTL_EX_FAIL;
    return rc;
}

static int
cmd_list_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[1] = { o->all ? "true" : "false" };
    struct deadline_policy policy;
    struct list_run r = { .policy = &policy, .json = o->json };
    int rc;

    if ((rc = cprctl_policy(o, &policy)) != CPRCTL_EX_OK
        || (rc = cprctl_db_snapshot(conn, "list")) != CPRCTL_EX_OK)
        return rc;
    rc = CPRCTL_EX_FAIL;
    list_widths_init(r.width);
    if ((r.now = cprctl_db_now(conn)) != 0
        && cprctl_db_stream(conn, LIST_SQL, 1, params, "list", list_pass_measure,
                            &r) == CPRCTL_EX_OK)
        rc = list_print_all(conn, params, &r, o->all);
    list_held_free(&r);
    if (cprctl_db_snapshot_end(conn, "list") != CPRCTL_EX_OK)
        rc = CPRCTL_EX_FAIL;
    return rc;
}

/* ---- show ---- */

static void
show_kv(int indent, const char *label, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    printf("%*s%-*s ", indent, "", SHOW_LABEL_WIDTH, label);
    if ((strcmp(key, "env_from") == 0 || strcmp(key, "reporter") == 0)
        && json_is_string(v) && !*json_string_value(v))
        fputs("<> (null sender)", stdout);
    else
        cprctl_value_print(v);
    putchar('\n');
}

/* The clock facts: shown only once set, so a new case stays short. */
static void
show_opt(int indent, const json_t *c, const char *label, const char *key)
{
    if (!json_is_null(json_object_get(c, key)) && json_object_get(c, key) != NULL)
        show_kv(indent, label, c, key);
}

static void
show_list(int indent, const json_t *c, const char *label, const char *key)
{
    if (json_array_size(json_object_get(c, key)) > 0)
        show_kv(indent, label, c, key);
}

static void
show_clock(const json_t *c, const char *label, const char *key)
{
    show_opt(0, c, label, key);
}

/* Reasons one per line: each is a sentence, and there may be many. */
static void
show_reasons(int indent, const json_t *obj)
{
    const json_t *reasons = json_object_get(obj, "reasons"), *r;
    size_t i;

    if (json_array_size(reasons) == 0) {
        show_kv(indent, "Reasons:", obj, "reasons");
        return;
    }
    json_array_foreach(reasons, i, r) {
        printf("%*s%-*s - ", indent, "", SHOW_LABEL_WIDTH, i ? "" : "Reasons:");
        cprctl_text_print(json_string_value(r));
        putchar('\n');
    }
}

static void
show_case(const json_t *c)
{
    show_kv(0, "Tracking:", c, "tracking");
    show_kv(0, "Received:", c, "received_at");
    show_kv(0, "Kind:", c, "kind");
    show_kv(0, "Category:", c, "category");
    show_reasons(0, c);
    show_kv(0, "State:", c, "state");
    show_kv(0, "Flags:", c, "flags");
    show_kv(0, "Reporter:", c, "reporter");
    show_list(0, c, "Reporter set:", "reporters");
    show_list(0, c, "Names:", "names");
    show_list(0, c, "Named by:", "named_by");
    show_kv(0, "Subject:", c, "subject");
    show_kv(0, "Messages:", c, "message_count");
    show_kv(0, "Last message:", c, "last_message_at");
    show_clock(c, "Ack clock:", "ack_clock_from");
    show_clock(c, "Acknowledged:", "acked_at");
    show_clock(c, "To reporter:", "reporter_done_at");
    show_clock(c, "To Subscriber:", "subscriber_done_at");
    show_clock(c, "Waiver:", "subscriber_waiver");
    show_clock(c, "BR item:", "br_item");
    show_clock(c, "CRL reason:", "crl_reason");
    show_clock(c, "Revoke by:", "revocation_due_at");
    show_clock(c, "Revoked:", "revoked_at");
    show_clock(c, "Closed:", "closed_at");
    show_clock(c, "Resolution:", "resolution");
    show_clock(c, "Incident due:", "incident_due_at");
}

static void
show_message(const json_t *m, size_t n, size_t total)
{
    printf("\nMessage %zu of %zu\n", n, total);
    show_kv(2, "Received:", m, "received_at");
    show_kv(2, "Direction:", m, "direction");
    show_kv(2, "Kind:", m, "kind");
    show_kv(2, "Category:", m, "category");
    show_kv(2, "Flags:", m, "flags");
    show_reasons(2, m);
    show_opt(2, m, "Priority:", "priority");
    show_opt(2, m, "Spam signals:", "spam");
    show_kv(2, "Queue ID:", m, "queue_id");
    show_kv(2, "Message-ID:", m, "message_id");
    show_kv(2, "In-Reply-To:", m, "in_reply_to");
    show_kv(2, "References:", m, "references");
    show_kv(2, "From:", m, "env_from");
    show_kv(2, "To:", m, "rcpts");
    show_kv(2, "Subject:", m, "subject");
    show_opt(2, m, "Decoded subj.:", "decoded_subject");
    show_kv(2, "Client:", m, "client_name");
    show_kv(2, "Client addr:", m, "client_addr");
    show_kv(2, "HELO:", m, "helo");
    show_kv(2, "Auth:", m, "auth_authen");
    show_kv(2, "Body bytes:", m, "body_bytes");
    show_kv(2, "Body SHA-256:", m, "body_sha256");
    show_kv(2, "Redeliveries:", m, "redeliveries");
}

/* The database login that recorded the event (sql/013), beside --by. */
static void
show_db_user(const json_t *e)
{
    char *db = text_sanitise(json_string_value(json_object_get(e, "db_user")));

    if (db && *db)
        printf("  (db: %s)", db);
    free(db);
}

static void
show_event(const json_t *e)
{
    char *at = text_sanitise(json_string_value(json_object_get(e, "at")));
    char *actor = text_sanitise(json_string_value(json_object_get(e, "actor")));
    char *type = text_sanitise(json_string_value(json_object_get(e, "type")));

    printf("  %3" JSON_INTEGER_FORMAT "  %-24s  %-12s  %-12s  ",
           json_integer_value(json_object_get(e, "seq")), at, actor, type);
    cprctl_value_print(json_object_get(e, "data"));
    show_db_user(e);
    putchar('\n');
    free(at);
    free(actor);
    free(type);
}

static int
show_print(const json_t *c)
{
    const json_t *msgs = json_object_get(c, "messages");
    const json_t *events = json_object_get(c, "events");
    size_t i, n = json_array_size(events);
    json_t *v;

    show_case(c);
    json_array_foreach(msgs, i, v)
        show_message(v, i + 1, json_array_size(msgs));
    cprctl_evidence_table(json_object_get(c, "evidence"));
    printf("\nEvents\n  %3s  %-24s  %-12s  %-12s  %s\n", "SEQ", "AT (UTC)", "ACTOR",
           "TYPE", "DATA");
    json_array_foreach(events, i, v)
        show_event(v);
    if (n > 0) {
        printf("%-*s ", SHOW_LABEL_WIDTH, "Audit head:");
        cprctl_value_print(json_object_get(json_array_get(events, n - 1), "hash"));
        putchar('\n');
    }
    return CPRCTL_EX_OK;
}

static int
cmd_show_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[1] = { o->tracking };
    PGresult *res = cprctl_exec(conn, "SELECT cpr.case_show($1)", 1, params);
    json_t *rows = NULL, *c;
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "show")) {
        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
            cprctl_say("no case %s", o->tracking);
        else
            rows = cprctl_db_rows_json(res);
    }
    PQclear(res);
    if (rows && (c = json_array_get(rows, 0)) != NULL)
        rc = o->json ? cprctl_json_print(c) : show_print(c);
    json_decref(rows);
    return rc;
}


/* ---- staff actions ---- */

/* Each action is one SQL function that records an immutable event. The
 * parameters are picked from the common list by index:
 * 0 tracking, 1 actor, 2 br_item, 3 crl_reason, 4 to, 5 waive, 6 resolution,
 * 7 text, 8 reason, 9 address. */
#define ACTION_MAX_PARAMS 5

struct action_sql {
    const char *name;
    const char *sql;
    int nparams;
    int param[ACTION_MAX_PARAMS];
};

static const struct action_sql action_sqls[] = {
    { "ack",     "SELECT cpr.ack($1, $2)", 2, { 0, 1 } },
    { "respond", "SELECT cpr.respond($1, $2, $3, $4)", 4, { 0, 4, 1, 5 } },
    { "confirm", "SELECT cpr.confirm($1, $2::integer, $3, $4, $5)", 5, { 0, 2, 3, 1, 8 } },
    { "revoked", "SELECT cpr.revoked($1, $2)", 2, { 0, 1 } },
    { "close",   "SELECT cpr.close($1, $2, $3)", 3, { 0, 6, 1 } },
    { "note",    "SELECT cpr.note($1, $2, $3)", 3, { 0, 7, 1 } },
    { "reporter", "SELECT cpr.reporter_add($1, $2, $3)", 3, { 0, 9, 1 } },
    { NULL, NULL, 0, { 0 } },
};

static const char *
action_actor(const struct cprctl_opts *o)
{
    const struct passwd *pw;

    if (o->by)
        return o->by;
    pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

static int
action_run(PGconn *conn, const struct cprctl_opts *o, const char *name)
{
    const char *all[] = { o->tracking, action_actor(o), o->br_item, o->crl_reason,
                          o->to, o->waive, o->resolution, o->text, o->reason,
                          o->address };
    const char *p[ACTION_MAX_PARAMS];
    const struct action_sql *a = action_sqls;
    PGresult *res;
    json_t *rows = NULL;
    int rc = CPRCTL_EX_FAIL;

    while (strcmp(a->name, name) != 0)
        a++;
    for (int i = 0; i < a->nparams; i++)
        p[i] = all[a->param[i]];
    res = cprctl_exec(conn, a->sql, a->nparams, p);
    if (cprctl_db_ok(res, conn, name) && (rows = cprctl_db_rows_json(res)) != NULL) {
        if (o->json)
            rc = cprctl_json_print(json_array_get(rows, 0));
        else
            rc = printf("%s: %s recorded by %s\n", o->tracking, name, all[1]) < 0;
    }
    json_decref(rows);
    PQclear(res);
    return rc;
}

static int cmd_ack_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "ack"); }
static int cmd_respond_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "respond"); }
static int cmd_confirm_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "confirm"); }
static int cmd_revoked_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "revoked"); }
static int cmd_close_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "close"); }
static int cmd_note_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "note"); }
static int cmd_reporter_run(PGconn *c, const struct cprctl_opts *o) { return action_run(c, o, "reporter"); }

/* One test notice (page or resolve) through ch, recorded in the audit
 * log (cpr.monitor_events, source test-page) whatever its outcome. */
static bool
test_page_one(PGconn *conn, const struct pager_channel *ch, struct pager_notice *n,
              const char *actor, char *perr, size_t errlen, bool *recorded)
{
    bool sent = pager_send_logged(ch, n, perr, errlen) == SEND_OK;
    const char *p[] = { ch->name, strcmp(n->event, "resolve") == 0 ? "resolve" : "page",
                        sent ? "sent" : "failed", n->id, actor };
    PGresult *res = cprctl_exec(conn, "SELECT cpr.test_page_record($1, $2, $3, $4, $5)", 5, p);

    *recorded = *recorded && res != NULL;
    PQclear(res);
    return sent;
}

/* The test trigger and then its resolve (Slack and email: unless
 * resolve = no), so that no test incident stays open. */
static int
test_page_send(PGconn *conn, const struct pager_channel *ch, const struct cprctl_opts *o)
{
    struct pager_notice n = { 0 };
    char id[128], summary[256], perr[512] = "";
    bool recorded = true, resolve = pager_types[ch->type].can_resolve || ch->resolve;

    snprintf(id, sizeof(id), "cprctl-test-page/%s/%ld", ch->name, (long)time(NULL));
    snprintf(summary, sizeof(summary), "TEST page from cprctl by %s: no action needed",
             action_actor(o));
    n.event = "page";
    n.id = id;
    n.dedup_key = id;
    n.summary = summary;
    n.actor = action_actor(o);
    if (!test_page_one(conn, ch, &n, action_actor(o), perr, sizeof(perr), &recorded)) {
        cprctl_say("test page through %s failed: %s", ch->name, perr);
        return CPRCTL_EX_FAIL;
    }
    n.event = "resolve";
    if (resolve && !test_page_one(conn, ch, &n, action_actor(o), perr, sizeof(perr),
                                  &recorded)) {
        cprctl_say("test page through %s sent, but its resolve failed: %s "
                   "(close it by hand)", ch->name, perr);
        return CPRCTL_EX_FAIL;
    }
    if (!recorded) {
        cprctl_say("test page through %s sent%s, but not recorded in the audit log",
                   ch->name, resolve ? " and resolved" : "");
        return CPRCTL_EX_FAIL;
    }
    return printf("test page sent through %s%s\n", ch->name,
                  resolve ? " and resolved" : "") < 0;
}

/* test-page: straight through the channel, as the sweeper would page. */
static int
cmd_test_page_run(PGconn *conn, const struct cprctl_opts *o)
{
    struct cpr_config *cfg;
    struct escalation s;
    char *err = NULL;
    int rc = CPRCTL_EX_FAIL;
    size_t i;

    memset(&s, 0, sizeof(s));
    cfg = config_load(o->config_path ? o->config_path : CPRCTL_CONFIG, &err);
    if (cfg == NULL || !escalation_build(cfg, &s, &err)) {
        cprctl_say("%s", err ? err : "cannot load the config");
        g_free(err);
        config_free(cfg);
        return CPR_EX_CONFIG;
    }
    for (i = 0; i < s.nchannels && strcmp(s.channels[i].name, o->channel) != 0; i++)
        ;
    if (i == s.nchannels)
        cprctl_say("no [channel %s] in the config", o->channel);
    else
        rc = test_page_send(conn, &s.channels[i], o);
    escalation_free(&s);
    config_free(cfg);
    return rc;
}

/* ---- argument parsing ---- */

static int
cmd_ack_group_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *p[] = { o->group, action_actor(o) };
    PGresult *res = cprctl_exec(conn, "SELECT cpr.page_group_ack($1::bigint, $2)", 2, p);
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "ack-group"))
        rc = printf("page group %s: %s case(s) acknowledged by %s\n", o->group,
                    PQgetvalue(res, 0, 0), p[1]) < 0;
    PQclear(res);
    return rc;
}

/* ---- the commands ---- */

static int
check_respond(const char *cmd, struct cprctl_opts *o)
{
    if (strcmp(o->to, "reporter") != 0 && strcmp(o->to, "subscriber") != 0)
        return cprctl_usage_error("%s: --to must be reporter or subscriber", cmd);
    if (o->waive && strcmp(o->to, "subscriber") != 0)
        return cprctl_usage_error("%s: --waive is only for --to subscriber", cmd);
    return CPRCTL_EX_OK;
}

static int
check_confirm(const char *cmd, struct cprctl_opts *o)
{
    if (o->br_item[0] == '\0' || strspn(o->br_item, "0123456789") != strlen(o->br_item))
        return cprctl_usage_error("%s: --br-item must be a number from 1 to 16", cmd);
    if (o->reason && o->reason[strspn(o->reason, " \t\r\n")] == '\0')
        return cprctl_usage_error("%s: --reason must say why (it is empty)", cmd);
    return CPRCTL_EX_OK;
}

#define OPT(field) offsetof(struct cprctl_opts, field)
#define BY         { "by", "NAME", OPT(by), false, 0, false }
#define JSON       { "json", NULL, OPT(json), false, 0, false }
#define NEEDS(name, arg, field) { name, arg, OPT(field), true, 0, false }
#define MAY(name, arg, field)   { name, arg, OPT(field), false, 0, false }
#define ONE_OF(name, arg, field, group, req, names) \
    { name, arg, OPT(field), req, group, names }

/* Every command: one row and its run function. The usage text and the
 * parser (cprctl_args.c) read this; tests/cprctl_usage.test checks it
 * against cprctl(1). */
const struct cprctl_cmd cprctl_cmds[] = {
    { "migrate", "", { MAY("sql-dir", "DIR", sql_dir) },
      "apply pending SQL migrations (default dir " CPR_SQLDIR
      "; uninstalled, the source tree's sql/)",
      NULL, cmd_migrate_run, false },
    { "list", "", { MAY("all", NULL, all), JSON },
      "open cases (--all: every case, automated mail too)", NULL, cmd_list_run, false },
    { "show", "TRACKING", { JSON },
      "one case with its messages and audit events", NULL, cmd_show_run, false },
    { "ack", "TRACKING", { BY, JSON },
      "acknowledge: stops the acknowledge clock and its pages", NULL, cmd_ack_run, false },
    { "respond", "TRACKING",
      { NEEDS("to", "reporter|subscriber", to), MAY("waive", "REASON", waive), BY, JSON },
      "record a preliminary report (or a Subscriber waiver)",
      check_respond, cmd_respond_run, false },
    { "confirm", "TRACKING",
      { NEEDS("br-item", "N", br_item), MAY("crl-reason", "R", crl_reason),
        MAY("reason", "TEXT", reason), BY, JSON },
      "confirm a BR 4.9.1.1 item: starts the revocation clock\n"
      "(changing the item of a confirmed case needs --reason)",
      check_confirm, cmd_confirm_run, false },
    { "revoked", "TRACKING", { BY, JSON },
      "record the revocation: stops the revocation clock", NULL, cmd_revoked_run, false },
    { "close", "TRACKING", { NEEDS("resolution", "TEXT", resolution), BY, JSON },
      "close the case with a resolution", NULL, cmd_close_run, false },
    { "note", "TRACKING", { NEEDS("text", "TEXT", text), BY, JSON },
      "add a note to the case's audit trail", NULL, cmd_note_run, false },
    { "reporter", "add TRACKING ADDRESS", { BY, JSON },
      "add an address to the case's reporter set (reporter add)",
      NULL, cmd_reporter_run, false },
    { "ack-group", "GROUP", { BY },
      "acknowledge every case a page group lists", NULL, cmd_ack_group_run, false },
    { "timeline", "TRACKING", { MAY("name-reporter", NULL, name_reporter) },
      "the case's audit events as a Markdown table (UTC)", NULL, cmd_timeline_run, false },
    { "incident-draft", "TRACKING", { MAY("name-reporter", NULL, name_reporter) },
      "a CCADB incident report skeleton for the case",
      NULL, cmd_incident_draft_run, false },
    { "report", "",
      { NEEDS("from", "DATE", from), NEEDS("to", "DATE", until),
        ONE_OF("csv", NULL, csv, 1, false, false), ONE_OF("json", NULL, json, 1, false, false) },
      "the auditor's report: deadlines met, totals", NULL, cmd_report_run, false },
    { "search", "",
      { ONE_OF("serial", "HEX", value, 1, true, true),
        ONE_OF("fingerprint", "HEX", value, 1, true, true),
        ONE_OF("spki", "HEX", value, 1, true, true),
        ONE_OF("crtsh", "ID", value, 1, true, true), JSON },
      "cases whose evidence names a serial, fingerprint, SPKI or crt.sh id",
      NULL, cmd_search_run, false },
    { "verify-audit", "[TRACKING]", { { NULL } },
      "recompute every audit hash chain; exit 1 on a break",
      NULL, cmd_verify_audit_run, false },
    { "audit-digest", "", { JSON, MAY("check", "FILE", check_file) },
      "the chain heads and one SHA-256 over them, for auditors",
      cmd_audit_digest_check, cmd_audit_digest_run, false },
    { "milters", "",
      { JSON, MAY("forget", "HOST", forget_host), MAY("socket", "SOCKET", socket) },
      "the cpr-milter heartbeats: pid, version, last beat, stamped, alerts\n"
      "(--forget HOST --socket SOCKET: a milter taken out of service)",
      cmd_milters_check, cmd_milters_run, false },
    { "probes", "", { JSON },
      "the last mail-path probe of each address and variant: stages, latency",
      NULL, cmd_probes_run, false },
    { "revocation-status", "CERT",
      { NEEDS("issuer", "FILE", issuer_file), MAY("ocsp-url", "URL", ocsp_url),
        MAY("crl-url", "URL", crl_url), MAY("at", "TIME", at), JSON },
      "a certificate's published status by OCSP and CRL (no database);\n"
      "exit 0 all revoked, 3 any good, 1 unknown",
      cmd_revocation_check, cmd_revocation_run, true },
    { "test-page", "CHANNEL", { { NULL } },
      "send a test page through one configured channel, then its resolve;\n"
      "both are recorded in the audit log", NULL, cmd_test_page_run, false },
    { NULL, NULL, { { NULL } }, NULL, NULL, NULL, false },
};

static const struct cprctl_cmd *
cprctl_find(const char *name)
{
    for (const struct cprctl_cmd *c = cprctl_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

enum { OPT_GLOBAL_CONNINFO = 1000 };

/* Options before the command. Returns -1 to go on, else an exit status. */
static int
cprctl_parse_global(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "conninfo", required_argument, NULL, OPT_GLOBAL_CONNINFO },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int opt, idx;

    while ((opt = getopt_long(argc, argv, "+c:Vh", longopts, &idx)) != -1) {
        if (opt == 'c')
            o->config_path = optarg;
        else if (opt == OPT_GLOBAL_CONNINFO)
            o->conninfo = optarg;
        else if (opt == 'V')
            return printf("cprctl (cpr-milter) %s\n", PACKAGE_VERSION) < 0;
        else if (opt == 'h') {
            cprctl_usage(stdout, cprctl_cmds, true);
            return ferror(stdout) != 0;
        }
        else
            return cprctl_usage_error("unknown option or missing argument: %s",
                                      argv[optind - 1]);
    }
    if (optind >= argc)
        return cprctl_usage_error("%s", "a command is required");
    return -1;
}

/* ---- running ---- */

/* The conninfo to use (malloc'd) or an exit status. */
static int
cprctl_conninfo(const struct cprctl_opts *o, char **out)
{
    struct cpr_config *cfg;
    char *err = NULL;

    /* --conninfo alone needs no config file at all. */
    if (o->conninfo && !o->config_path) {
        *out = strdup(o->conninfo);
        return *out ? CPRCTL_EX_OK : CPRCTL_EX_FAIL;
    }
    cfg = config_load(o->config_path ? o->config_path : CPRCTL_CONFIG, &err);
    if (!cfg) {
        cprctl_say("%s", err ? err : "cannot load the config");
        g_free(err);
        return CPR_EX_CONFIG;
    }
    *out = strdup(o->conninfo ? o->conninfo : config_conninfo(cfg, PROGRAM_CPRCTL));
    config_free(cfg);
    return *out ? CPRCTL_EX_OK : CPRCTL_EX_FAIL;
}

static int
cprctl_run(const struct cprctl_cmd *cmd, const struct cprctl_opts *o)
{
    char *conninfo = NULL;
    PGconn *conn;
    int rc;

    if (cmd->no_db)
        return cmd->run(NULL, o);
    if ((rc = cprctl_conninfo(o, &conninfo)) != CPRCTL_EX_OK)
        return rc;
    conn = db_connect(conninfo);
    free(conninfo);
    if (!conn)
        return CPRCTL_EX_FAIL;
    rc = cmd->run(conn, o);
    PQfinish(conn);
    return rc;
}

static int
cprctl_flush(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write to standard output");
        return rc ? rc : CPRCTL_EX_FAIL;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    struct cprctl_opts o;
    const struct cprctl_cmd *cmd;
    int rc;

    memset(&o, 0, sizeof(o));
    log_init("cprctl", 1);
    opterr = 0;
    if ((rc = cprctl_parse_global(argc, argv, &o)) >= 0)
        return cprctl_flush(rc);
    if (!(cmd = cprctl_find(argv[optind])))
        return cprctl_usage_error("unknown command %s", argv[optind]);
    rc = cprctl_parse_cmd(cmd, argc - optind, argv + optind, &o);
    if (rc == CPRCTL_EX_OK)
        rc = cprctl_run(cmd, &o);
    return cprctl_flush(rc);
}

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

#define CPRCTL_CONFIG     CPR_SYSCONFDIR "/cpr-milter.conf"
#define CPRCTL_CONNECT_TIMEOUT "10"   /* seconds, unless PGCONNECT_TIMEOUT */

#define LIST_WIDTH        120  /* target line width of the list table */
#define LIST_MIN_SUBJECT  20   /* the subject column never gets narrower */
#define LIST_GAP          2    /* spaces between columns */
#define LIST_SQL          "SELECT c FROM cpr.case_list($1::boolean) AS c"
#define SHOW_LABEL_WIDTH  15

struct cprctl_cmd {
    const char *name;
    int (*parse)(int argc, char **argv, struct cprctl_opts *o);
    int (*run)(PGconn *conn, const struct cprctl_opts *o);
    bool no_db;                /* runs without a database connection */
};

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

#define CPRCTL_SYNOPSIS \
    "usage: cprctl [-c FILE] [--conninfo STR] migrate [--sql-dir DIR]\n" \
    "       cprctl [-c FILE] [--conninfo STR] list [--all] [--json]\n" \
    "       cprctl [-c FILE] [--conninfo STR] show TRACKING [--json]\n" \
    "       cprctl [-c FILE] ack TRACKING [--by NAME]\n" \
    "       cprctl [-c FILE] respond TRACKING --to reporter|subscriber [--waive REASON] [--by NAME]\n" \
    "       cprctl [-c FILE] confirm TRACKING --br-item N [--crl-reason R] [--reason TEXT] [--by NAME]\n" \
    "       cprctl [-c FILE] revoked TRACKING [--by NAME]\n" \
    "       cprctl [-c FILE] close TRACKING --resolution TEXT [--by NAME]\n" \
    "       cprctl [-c FILE] note TRACKING --text TEXT [--by NAME]\n" \
    "       cprctl [-c FILE] reporter add TRACKING ADDRESS [--by NAME]\n" \
    "       cprctl [-c FILE] ack-group GROUP [--by NAME]\n" \
    "       cprctl [-c FILE] timeline TRACKING [--name-reporter]\n" \
    "       cprctl [-c FILE] incident-draft TRACKING [--name-reporter]\n" \
    "       cprctl [-c FILE] report --from DATE --to DATE [--csv|--json]\n" \
    "       cprctl [-c FILE] search --serial HEX|--fingerprint HEX|--spki HEX|--crtsh ID [--json]\n" \
    "       cprctl [-c FILE] verify-audit [TRACKING]\n" \
    "       cprctl [-c FILE] audit-digest [--json] [--check FILE]\n" \
    "       cprctl [-c FILE] test-page CHANNEL\n" \
    "       cprctl -V | --version\n" \
    "       cprctl -h | --help\n"

static const char cprctl_usage_text[] =
    CPRCTL_SYNOPSIS
    "\n"
    "  -c FILE          config file (default " CPRCTL_CONFIG ")\n"
    "  --conninfo STR   libpq connection string; overrides the config\n"
    "  migrate          apply pending SQL migrations (default dir " CPR_SQLDIR ")\n"
    "  list             open cases (--all: every case, automated mail too)\n"
    "  show TRACKING    one case with its messages and audit events\n"
    "  ack              acknowledge: stops the acknowledge clock and its pages\n"
    "  respond          record a preliminary report (or a Subscriber waiver)\n"
    "  confirm          confirm a BR 4.9.1.1 item: starts the revocation clock\n"
    "                   (changing the item of a confirmed case needs --reason)\n"
    "  revoked          record the revocation: stops the revocation clock\n"
    "  close            close the case with a resolution\n"
    "  note             add a note to the case's audit trail\n"
    "  reporter add     add an address to the case's reporter set\n"
    "  ack-group        acknowledge every case a page group lists\n"
    "  timeline         the case's audit events as a Markdown table (UTC)\n"
    "  incident-draft   a CCADB incident report skeleton for the case\n"
    "  report           the auditor's report: deadlines met, totals\n"
    "  search           cases whose evidence names a serial, fingerprint, SPKI or crt.sh id\n"
    "  verify-audit     recompute every audit hash chain; exit 1 on a break\n"
    "  audit-digest     the chain heads and one SHA-256 over them, for auditors\n"
    "  test-page        send a test notice through one configured channel\n"
    "  --by NAME        who acts (default: the Unix user)\n"
    "  --json           print JSON instead of text\n";

/* ---- small helpers ---- */

void
cprctl_say(const char *fmt, ...)
{
    va_list ap;

    fputs("cprctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The message, then the usage, on stderr; returns EX_USAGE. */
int
cprctl_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cprctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    fputs(CPRCTL_SYNOPSIS, stderr);
    return CPRCTL_EX_USAGE;
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
static void
value_print(const json_t *v)
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
            value_print(e);
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
    int n = migrate_apply(conn, o->sql_dir ? o->sql_dir : CPR_SQLDIR);

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
        value_print(v);
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
    value_print(json_object_get(e, "data"));
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
        value_print(json_object_get(json_array_get(events, n - 1), "hash"));
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

/* test-page: straight through the channel, as the sweeper would page. */
static int
cmd_test_page_run(PGconn *conn, const struct cprctl_opts *o)
{
    struct cpr_config *cfg;
    struct escalation s;
    struct pager_notice n = { 0 };
    char *err = NULL, id[128], summary[256], perr[512] = "";
    int rc = CPRCTL_EX_FAIL;
    size_t i;

    (void)conn;
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
    snprintf(id, sizeof(id), "cprctl-test-page/%s/%ld", o->channel, (long)time(NULL));
    snprintf(summary, sizeof(summary), "TEST page from cprctl by %s: no action needed",
             action_actor(o));
    n.event = "page";
    n.id = id;
    n.dedup_key = id;
    n.summary = summary;
    if (i == s.nchannels)
        cprctl_say("no [channel %s] in the config", o->channel);
    else if (pager_send_logged(&s.channels[i], &n, perr, sizeof(perr)) == SEND_OK)
        rc = printf("test page sent through %s\n", o->channel) < 0;
    else
        cprctl_say("test page through %s failed: %s", o->channel, perr);
    escalation_free(&s);
    config_free(cfg);
    return rc;
}

/* ---- argument parsing ---- */

enum { OPT_ALL = 1000, OPT_JSON, OPT_SQL_DIR, OPT_CONNINFO, OPT_BY, OPT_TO, OPT_WAIVE,
       OPT_BR_ITEM, OPT_CRL_REASON, OPT_RESOLUTION, OPT_TEXT, OPT_REASON };

/* getopt_long over one command's words; argv[0] is the command name. */
int
cprctl_getopt(int argc, char **argv, const struct option *longopts, int *opt)
{
    int idx;

    *opt = getopt_long(argc, argv, "", longopts, &idx);
    if (*opt == '?')
        return cprctl_usage_error("%s: unknown option or missing argument: %s",
                                  argv[0], argv[optind - 1 < argc ? optind - 1 : argc - 1]);
    return CPRCTL_EX_OK;
}

static int
cmd_migrate_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "sql-dir", required_argument, NULL, OPT_SQL_DIR }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1)
        o->sql_dir = optarg;
    if (rc == 0 && optind < argc)
        rc = cprctl_usage_error("migrate: unexpected argument %s", argv[optind]);
    return rc;
}

static int
cmd_list_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "all", no_argument, NULL, OPT_ALL },
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1)
        *(opt == OPT_ALL ? &o->all : &o->json) = true;
    if (rc == 0 && optind < argc)
        rc = cprctl_usage_error("list: unexpected argument %s", argv[optind]);
    return rc;
}

/* Accepts any spelling tracking_parse() does; queries the canonical one. */
int
cprctl_tracking_arg(const char *cmd, const char *arg, struct cprctl_opts *o)
{
    int year;
    long long seq;
    char *safe;

    if (tracking_parse(arg, &year, &seq)
        && tracking_format(o->tracking, sizeof(o->tracking), year, seq)) {
        o->has_tracking = true;
        return CPRCTL_EX_OK;
    }
    safe = text_sanitise(arg);
    cprctl_usage_error("%s: not a tracking number (CPR-YYYY-NNNNNN): %s", cmd, safe);
    free(safe);
    return CPRCTL_EX_USAGE;
}

int
cprctl_tracking_last(int argc, char **argv, struct cprctl_opts *o)
{
    if (optind != argc - 1)
        return cprctl_usage_error("%s: %s", argv[0], optind >= argc
                                  ? "TRACKING is required" : "too many arguments");
    return cprctl_tracking_arg(argv[0], argv[optind], o);
}

static int
cmd_show_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1)
        o->json = true;
    if (rc != 0)
        return rc;
    return cprctl_tracking_last(argc, argv, o);
}


/* The options every action takes; each command checks what it needs. */
static int
cmd_action_options(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "by", required_argument, NULL, OPT_BY },
        { "to", required_argument, NULL, OPT_TO },
        { "waive", required_argument, NULL, OPT_WAIVE },
        { "br-item", required_argument, NULL, OPT_BR_ITEM },
        { "crl-reason", required_argument, NULL, OPT_CRL_REASON },
        { "resolution", required_argument, NULL, OPT_RESOLUTION },
        { "text", required_argument, NULL, OPT_TEXT },
        { "reason", required_argument, NULL, OPT_REASON },
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    const char **slot[] = { &o->by, &o->to, &o->waive, &o->br_item, &o->crl_reason,
                            &o->resolution, &o->text, &o->reason };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1) {
        if (opt == OPT_JSON)
            o->json = true;
        else
            *slot[opt - OPT_BY] = optarg;
    }
    if (rc != 0)
        return rc;
    return cprctl_tracking_last(argc, argv, o);
}

/* Options that only some actions take must not be given to the others. */
static int
cmd_action_parse(int argc, char **argv, struct cprctl_opts *o)
{
    const char *cmd = argv[0];
    int rc = cmd_action_options(argc, argv, o);

    if (rc != 0)
        return rc;
    if ((o->to != NULL) != (strcmp(cmd, "respond") == 0))
        return cprctl_usage_error("%s: --to %s", cmd, o->to ? "is only for respond"
                                  : "reporter|subscriber is required");
    if (o->to && strcmp(o->to, "reporter") != 0 && strcmp(o->to, "subscriber") != 0)
        return cprctl_usage_error("respond: --to must be reporter or subscriber");
    if (o->waive && (!o->to || strcmp(o->to, "subscriber") != 0))
        return cprctl_usage_error("%s: --waive is only for respond --to subscriber", cmd);
    if ((o->br_item != NULL) != (strcmp(cmd, "confirm") == 0))
        return cprctl_usage_error("%s: --br-item %s", cmd, o->br_item
                                  ? "is only for confirm" : "N is required (BR 4.9.1.1 item 1-16)");
    if (o->crl_reason && strcmp(cmd, "confirm") != 0)
        return cprctl_usage_error("%s: --crl-reason is only for confirm", cmd);
    if (o->br_item && strspn(o->br_item, "0123456789") != strlen(o->br_item))
        return cprctl_usage_error("confirm: --br-item must be a number from 1 to 16");
    if (o->reason && strcmp(cmd, "confirm") != 0)
        return cprctl_usage_error("%s: --reason is only for confirm", cmd);
    if (o->reason && o->reason[strspn(o->reason, " \t\r\n")] == '\0')
        return cprctl_usage_error("confirm: --reason must say why (it is empty)");
    if ((o->resolution != NULL) != (strcmp(cmd, "close") == 0))
        return cprctl_usage_error("%s: --resolution %s", cmd, o->resolution
                                  ? "is only for close" : "TEXT is required");
    if ((o->text != NULL) != (strcmp(cmd, "note") == 0))
        return cprctl_usage_error("%s: --text %s", cmd, o->text
                                  ? "is only for note" : "TEXT is required");
    return CPRCTL_EX_OK;
}

/* reporter add TRACKING ADDRESS [--by NAME]: the only way an address joins
 * a case's reporter set after it opened (mail never adds one). */
static int
cmd_reporter_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "by", required_argument, NULL, OPT_BY },
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return cprctl_usage_error("%s", "reporter: add TRACKING ADDRESS is required");
    optind = 0;
    while ((rc = cprctl_getopt(argc - 1, argv + 1, longopts, &opt)) == 0 && opt != -1) {
        if (opt == OPT_JSON)
            o->json = true;
        else
            o->by = optarg;
    }
    if (rc != 0)
        return rc;
    if (optind != argc - 1 - 2)
        return cprctl_usage_error("%s", "reporter add: TRACKING ADDRESS are required");
    o->address = argv[1 + optind + 1];
    return cprctl_tracking_arg("reporter add", argv[1 + optind], o);
}

/* ack-group GROUP [--by NAME]: the page group's number, from its page. */
static int
cmd_ack_group_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "by", required_argument, NULL, OPT_BY }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1)
        o->by = optarg;
    if (rc != 0)
        return rc;
    if (optind != argc - 1 || argv[optind][0] == '\0'
        || strspn(argv[optind], "0123456789") != strlen(argv[optind]) || strlen(argv[optind]) > 18)
        return cprctl_usage_error("%s", "ack-group: the page group's number is required");
    o->group = argv[optind];
    return CPRCTL_EX_OK;
}

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

static int
cmd_test_page_parse(int argc, char **argv, struct cprctl_opts *o)
{
    if (argc != 2)
        return cprctl_usage_error("%s", "test-page: exactly one CHANNEL is required");
    o->channel = argv[1];
    return CPRCTL_EX_OK;
}

static const struct cprctl_cmd cprctl_cmds[] = {
    { "migrate", cmd_migrate_parse, cmd_migrate_run, false },
    { "list",    cmd_list_parse,    cmd_list_run, false },
    { "show",    cmd_show_parse,    cmd_show_run, false },
    { "ack",     cmd_action_parse,  cmd_ack_run, false },
    { "respond", cmd_action_parse,  cmd_respond_run, false },
    { "confirm", cmd_action_parse,  cmd_confirm_run, false },
    { "revoked", cmd_action_parse,  cmd_revoked_run, false },
    { "close",   cmd_action_parse,  cmd_close_run, false },
    { "note",    cmd_action_parse,  cmd_note_run, false },
    { "reporter", cmd_reporter_parse, cmd_reporter_run, false },
    { "ack-group", cmd_ack_group_parse, cmd_ack_group_run, false },
    { "timeline", cmd_timeline_parse, cmd_timeline_run, false },
    { "incident-draft", cmd_timeline_parse, cmd_incident_draft_run, false },
    { "report",  cmd_report_parse,  cmd_report_run, false },
    { "search",  cmd_search_parse,  cmd_search_run, false },
    { "verify-audit", cmd_verify_audit_parse, cmd_verify_audit_run, false },
    { "audit-digest", cmd_audit_digest_parse, cmd_audit_digest_run, false },
    { "test-page", cmd_test_page_parse, cmd_test_page_run, true },
    { NULL, NULL, NULL, false },
};

static const struct cprctl_cmd *
cprctl_find(const char *name)
{
    for (const struct cprctl_cmd *c = cprctl_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Options before the command. Returns -1 to go on, else an exit status. */
static int
cprctl_parse_global(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "conninfo", required_argument, NULL, OPT_CONNINFO },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int opt, idx;

    while ((opt = getopt_long(argc, argv, "+c:Vh", longopts, &idx)) != -1) {
        if (opt == 'c')
            o->config_path = optarg;
        else if (opt == OPT_CONNINFO)
            o->conninfo = optarg;
        else if (opt == 'V')
            return printf("cprctl (cpr-milter) %s\n", PACKAGE_VERSION) < 0;
        else if (opt == 'h')
            return fputs(cprctl_usage_text, stdout) == EOF;
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
    memset(p, 0, sizeof(*p));
    p->acknowledge_ms = cfg->acknowledge_ms;
    p->report_ms = cfg->report_ms;
    config_free(cfg);
    return CPRCTL_EX_OK;
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
    rc = cmd->parse(argc - optind, argv + optind, &o);
    if (rc == CPRCTL_EX_OK)
        rc = cprctl_run(cmd, &o);
    return cprctl_flush(rc);
}

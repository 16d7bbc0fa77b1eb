/*
 * NAME
 *   cprctl - what the files of the staff command line share
 * DESCRIPTION
 *   cprctl.c holds the command table, argument parsing and the case
 *   commands (list, show, actions); cprctl_audit.c verify-audit and
 *   audit-digest; cprctl_export.c timeline, incident-draft, report and
 *   search. Each command parses its own options into struct cprctl_opts
 *   and runs on one libpq connection.
 */
#ifndef CPR_CPRCTL_H
#define CPR_CPRCTL_H

#include <getopt.h>
#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "deadline.h"
#include "tracking.h"

#define CPRCTL_EX_OK      0
#define CPRCTL_EX_FAIL    1    /* not found, database error, audit break */
#define CPRCTL_EX_USAGE   64   /* EX_USAGE */

struct cprctl_opts {
    const char *config_path;   /* -c, or NULL */
    const char *conninfo;      /* --conninfo, or NULL */
    const char *sql_dir;       /* migrate --sql-dir */
    char tracking[TRACKING_MAX];
    bool has_tracking;         /* verify-audit: one case only */
    bool all;
    bool json;
    bool csv;                  /* report --csv */
    bool name_reporter;        /* incident-draft --name-reporter */
    /* staff actions */
    const char *by;            /* --by, default the Unix user */
    const char *to;            /* respond --to */
    const char *waive;         /* respond --waive REASON */
    const char *br_item;       /* confirm --br-item N */
    const char *crl_reason;    /* confirm --crl-reason R */
    const char *reason;        /* confirm --reason TEXT (a change of BR item) */
    const char *resolution;    /* close --resolution TEXT */
    const char *text;          /* note --text TEXT */
    const char *address;       /* reporter add TRACKING ADDRESS */
    const char *group;         /* ack-group GROUP */
    const char *channel;       /* test-page CHANNEL */
    /* report */
    const char *from;          /* --from DATE */
    const char *until;         /* --to DATE */
    /* search */
    const char *field;         /* serial | fingerprint | spki | crtsh */
    const char *value;
    /* audit-digest */
    const char *check_file;    /* --check FILE */
};

/* Messages and usage errors (the latter return CPRCTL_EX_USAGE). */
void cprctl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cprctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* getopt_long over one command's words; argv[0] is the command name. */
int cprctl_getopt(int argc, char **argv, const struct option *longopts, int *opt);

/* A tracking number argument, in any spelling tracking_parse() takes. */
int cprctl_tracking_arg(const char *cmd, const char *arg, struct cprctl_opts *o);
/* After the options (optind): exactly one TRACKING argument. */
int cprctl_tracking_last(int argc, char **argv, struct cprctl_opts *o);

/* Query helpers: result check (logs), rows' first column as a JSON array. */
bool cprctl_db_ok(const PGresult *res, const PGconn *conn, const char *what);

/* Every query cprctl makes waits at most this long for its answer (for a
 * streamed result: for each row), so a frozen database cannot hang it;
 * CPRCTL_QUERY_TIMEOUT (seconds, 1..3600) in the environment overrides. */
#define CPRCTL_QUERY_TIMEOUT_MS (120 * 1000LL)
long long cprctl_query_timeout_ms(void);

/* PQexecParams, and PQexec for parameterless SQL, with that deadline;
 * NULL (said on stderr) when no answer came. */
PGresult *cprctl_exec(PGconn *conn, const char *sql, int n, const char *const *params);
PGresult *cprctl_exec_script(PGconn *conn, const char *sql);
json_t *cprctl_db_rows_json(const PGresult *res);
/* One JSON value from a one-parameter query; NULL (said) if none. */
json_t *cprctl_db_json1(PGconn *conn, const char *sql, const char *param,
                        const char *what);
/* The database clock in UTC ms, or 0 (logged). */
long long cprctl_db_now(PGconn *conn);

/* cprctl_stream.c: a query a row at a time (single-row mode); fn gets
 * each row's first column as JSON (borrowed) and returns CPRCTL_EX_OK to
 * go on. A read-only REPEATABLE READ snapshot for two passes. A JSON
 * array printed element by element as cprctl_json_print() prints it. */
typedef int (*cprctl_row_fn)(void *arg, json_t *row);
int cprctl_db_stream(PGconn *conn, const char *sql, int n, const char *const *params,
                     const char *what, cprctl_row_fn fn, void *arg);
int cprctl_db_snapshot(PGconn *conn, const char *what);
int cprctl_db_snapshot_end(PGconn *conn, const char *what);
struct cprctl_json_array {
    size_t n;
    int depth;                     /* 0: the top level; 1: a member of it */
    bool failed;
};
void cprctl_json_array_begin(struct cprctl_json_array *a, int depth);
void cprctl_json_array_item(struct cprctl_json_array *a, const json_t *v);
void cprctl_json_array_close(struct cprctl_json_array *a);   /* the "]" only */
int cprctl_json_array_end(struct cprctl_json_array *a);     /* "]\n", the rc */

/* Output: JSON (terminal-safe), one sanitised string. */
int cprctl_json_print(const json_t *v);
void cprctl_text_print(const char *s);

/* The [deadlines] policy of the config (-c, or the default file if it can
 * be read, else the built-in defaults). */
int cprctl_policy(const struct cprctl_opts *o, struct deadline_policy *p);

/* The commands of cprctl_audit.c and cprctl_export.c. */
int cmd_verify_audit_parse(int argc, char **argv, struct cprctl_opts *o);
int cmd_verify_audit_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_audit_digest_parse(int argc, char **argv, struct cprctl_opts *o);
int cmd_audit_digest_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_timeline_parse(int argc, char **argv, struct cprctl_opts *o);
int cmd_timeline_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_incident_draft_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_report_parse(int argc, char **argv, struct cprctl_opts *o);
int cmd_report_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_search_parse(int argc, char **argv, struct cprctl_opts *o);
int cmd_search_run(PGconn *conn, const struct cprctl_opts *o);
/* show's evidence table (cprctl_export.c). */
void cprctl_evidence_table(const json_t *evidence);

#endif

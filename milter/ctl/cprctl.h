/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl - what the files of the staff command line share
 * DESCRIPTION
 *   cprctl.c holds main, the command table (cprctl_cmds[]: one row per
 *   command) and the case commands (migrate, list, show, the actions,
 *   test-page); cprctl_args.c the one parser and usage text the table
 *   drives; cprctl_audit.c verify-audit and audit-digest; cprctl_export.c
 *   timeline, incident-draft, report and search; cprctl_stream.c
 *   row-at-a-time queries; cprctl_util.c messages, output, queries and
 *   arguments, which all the others use and which uses none of them.
 *   Every command's options land in struct cprctl_opts; it runs on one
 *   libpq connection.
 */
#ifndef CPR_CPRCTL_H
#define CPR_CPRCTL_H

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "deadline.h"
#include "tracking.h"

#define CPRCTL_EX_OK      0
#define CPRCTL_EX_FAIL    1    /* not found, database error, audit break */
#define CPRCTL_EX_GOOD    3    /* revocation-status: a mechanism says good */
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
    /* milters */
    const char *forget_host;   /* --forget HOST */
    const char *socket;        /* --socket SOCKET */
    /* revocation-status */
    const char *cert_file;     /* CERT */
    const char *issuer_file;   /* --issuer FILE */
    const char *ocsp_url;      /* --ocsp-url URL */
    const char *crl_url;       /* --crl-url URL */
    const char *at;            /* --at TIME: the clock, for tests and audits */
    /* blocklist */
    const char *since;         /* --since DATE */
    const char *format;        /* --format spki-sha256|pem-spki|json */
};

#define CPRCTL_CONFIG     CPR_SYSCONFDIR "/cpr-milter.conf"

/* ---- the command table (cprctl.c) and its parser (cprctl_args.c) ---- */

#define CPRCTL_MAX_OPTS 6

/* One option of a command and the struct cprctl_opts field it fills:
 * offsetof(struct cprctl_opts, FIELD), a const char * for an option with
 * an argument, a bool for a flag. */
struct cprctl_optdef {
    const char *name;          /* the long option, without "--" */
    const char *arg;           /* its argument in the synopsis; NULL: a flag */
    size_t off;
    bool required;
    int group;                 /* > 0: at most one option of the group; with
                                * required, exactly one */
    bool names_field;          /* also sets o->field to the option's name */
};

struct cprctl_cmd {
    const char *name;
    const char *args;          /* positional words: TRACKING, [TRACKING],
                                * ADDRESS, GROUP, CHANNEL, or a literal */
    struct cprctl_optdef opts[CPRCTL_MAX_OPTS];
    const char *help;          /* for --help; "\n" continues on a new line */
    int (*check)(const char *cmd, struct cprctl_opts *o);  /* rules between options */
    int (*run)(PGconn *conn, const struct cprctl_opts *o);
    bool no_db;                /* runs without a database connection */
};

extern const struct cprctl_cmd cprctl_cmds[];   /* ends with a NULL name */

/* argv[0] is the command's name: options, words, required, check. */
int cprctl_parse_cmd(const struct cprctl_cmd *cmd, int argc, char **argv,
                     struct cprctl_opts *o);
/* "cprctl [-c FILE] [--conninfo STR] NAME WORDS OPTIONS" (g_free). */
char *cprctl_synopsis(const struct cprctl_cmd *cmd);
/* Every synopsis line; full: the option and command help as well. */
void cprctl_usage(FILE *f, const struct cprctl_cmd *cmds, bool full);

/* Messages and usage errors (the latter return CPRCTL_EX_USAGE). */
void cprctl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cprctl_vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int cprctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A tracking number argument, in any spelling tracking_parse() takes. */
int cprctl_tracking_arg(const char *cmd, const char *arg, struct cprctl_opts *o);

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
/* One JSON value as text: strings raw, arrays joined by ", ", "-" for none. */
void cprctl_value_print(const json_t *v);

/* The [deadlines] policy of the config (-c, or the default file if it can
 * be read, else the built-in defaults). */
int cprctl_policy(const struct cprctl_opts *o, struct deadline_policy *p);

/* The commands of cprctl_audit.c and cprctl_export.c. */
int cmd_verify_audit_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_audit_digest_check(const char *cmd, struct cprctl_opts *o);
int cmd_audit_digest_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_timeline_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_incident_draft_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_report_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_search_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_milters_check(const char *cmd, struct cprctl_opts *o);
int cmd_milters_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_probes_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_revocation_check(const char *cmd, struct cprctl_opts *o);
int cmd_revocation_run(PGconn *conn, const struct cprctl_opts *o);
/* cprctl_inventory.c */
int cmd_affected_run(PGconn *conn, const struct cprctl_opts *o);
int cmd_blocklist_check(const char *cmd, struct cprctl_opts *o);
int cmd_blocklist_run(PGconn *conn, const struct cprctl_opts *o);
/* show's evidence table (cprctl_export.c). */
void cprctl_evidence_table(const json_t *evidence);

#endif

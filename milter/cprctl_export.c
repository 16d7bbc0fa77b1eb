/*
 * NAME
 *   cprctl_export - timeline, incident-draft, report, search, and show's
 *   evidence table
 * SUMMARY
 *   cprctl timeline TRACKING [--name-reporter]
 *   cprctl incident-draft TRACKING [--name-reporter]
 *   cprctl report --from DATE --to DATE [--csv|--json]
 *   cprctl search --serial HEX|--fingerprint HEX|--spki HEX|--crtsh ID [--json]
 * DESCRIPTION
 *   Each fetches JSON from a SQL function of sql/009_audit.sql (with
 *   parameters) and hands it to export.c or compliance.c, which do the
 *   formatting and the deadline arithmetic without the database. The
 *   report's `now` is the database clock; its deadlines come from the
 *   config's [deadlines], as the sweeper's do. The facts are the events'
 *   (hash-chained); a case whose columns disagree with its events is
 *   flagged in the output and said on stderr (run verify-audit).
 * DIAGNOSTICS
 *   Exit 1 when the case does not exist or the database fails; a
 *   disagreement is a warning, not a failure (the output is the events').
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditchain.h"
#include "compliance.h"
#include "cprctl.h"
#include "export.h"
#include "log.h"
#include "text.h"

#define EVIDENCE_ABBREV 8              /* hex digits shown of a hash */
#define EVIDENCE_SERIAL_FULL 20        /* serials up to this long are shown whole */

enum { OPT_NAME_REPORTER = 1200, OPT_FROM, OPT_TO, OPT_CSV, OPT_JSON,
       OPT_SERIAL, OPT_FINGERPRINT, OPT_SPKI, OPT_CRTSH };

static int
export_finish(int rc)
{
    if (rc != 0)
        log_error("cannot write the output");
    return rc ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
}

/* ---- timeline and incident-draft ---- */

int
cmd_timeline_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "name-reporter", no_argument, NULL, OPT_NAME_REPORTER }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1)
        o->name_reporter = true;
    if (rc != 0)
        return rc;
    return cprctl_tracking_last(argc, argv, o);
}

static json_t *
export_case(PGconn *conn, const struct cprctl_opts *o, const char *what)
{
    json_t *c = cprctl_db_json1(conn, "SELECT cpr.case_show($1)", o->tracking, what);
    struct audit_facts f;
    size_t n;

    if (!c) {
        cprctl_say("no case %s", o->tracking);
        return NULL;
    }
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    if ((n = audit_facts_check(&f, c, NULL, NULL)) > 0)
        cprctl_say("%s: %zu column%s disagree%s with the audit trail: run verify-audit",
                   o->tracking, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
    audit_facts_free(&f);
    return c;
}

int
cmd_timeline_run(PGconn *conn, const struct cprctl_opts *o)
{
    struct export_opts eo = { .name_reporter = o->name_reporter };
    json_t *c = export_case(conn, o, "timeline");
    int rc;

    if (!c)
        return CPRCTL_EX_FAIL;
    rc = export_finish(export_timeline(stdout, c, &eo));
    json_decref(c);
    return rc;
}

int
cmd_incident_draft_run(PGconn *conn, const struct cprctl_opts *o)
{
    struct export_opts eo = { .name_reporter = o->name_reporter };
    json_t *c = export_case(conn, o, "incident-draft");
    int rc;

    if (!c)
        return CPRCTL_EX_FAIL;
    rc = export_finish(export_incident_draft(stdout, c, &eo));
    json_decref(c);
    return rc;
}

/* ---- report ---- */

int
cmd_report_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "csv", no_argument, NULL, OPT_CSV },
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1) {
        if (opt == OPT_FROM)
            o->from = optarg;
        else if (opt == OPT_TO)
            o->until = optarg;
        else
            *(opt == OPT_CSV ? &o->csv : &o->json) = true;
    }
    if (rc != 0)
        return rc;
    if (optind < argc)
        return cprctl_usage_error("report: unexpected argument %s", argv[optind]);
    if (!o->from || !o->until)
        return cprctl_usage_error("%s", "report: --from DATE and --to DATE are required");
    if (o->csv && o->json)
        return cprctl_usage_error("%s", "report: --csv or --json, not both");
    return CPRCTL_EX_OK;
}

int
cmd_report_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[2] = { o->from, o->until };
    PGresult *res = PQexecParams(conn, "SELECT c FROM cpr.audit_cases($1, $2) AS c", 2,
                                 NULL, params, NULL, NULL, 0);
    struct deadline_policy policy;
    json_t *cases = NULL, *report = NULL;
    long long now;
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "report"))
        cases = cprctl_db_rows_json(res);
    PQclear(res);
    if (cases && (rc = cprctl_policy(o, &policy)) == CPRCTL_EX_OK
        && (now = cprctl_db_now(conn)) != 0)
        report = compliance_report(cases, &policy, now, o->from, o->until);
    if (report && json_integer_value(json_object_get(json_object_get(report, "totals"),
                                                     "columns_disagree")) > 0)
        cprctl_say("%s", "some cases' columns disagree with the audit trail (flagged; "
                   "their facts are the events'): run verify-audit");
    if (report && o->json)
        rc = cprctl_json_print(report);
    else if (report)
        rc = export_finish(o->csv ? export_report_csv(stdout, report)
                                  : export_report_text(stdout, report));
    else if (rc == CPRCTL_EX_OK)
        rc = CPRCTL_EX_FAIL;
    json_decref(report);
    json_decref(cases);
    return rc;
}

/* ---- show's evidence table ---- */

/* "spki 8f73a1b2…" for a hash, the serial whole when short. */
static void
evidence_id(const char *label, const char *hex, size_t full)
{
    char *safe;

    if (!hex || !*hex)
        return;
    safe = text_sanitise(hex);
    printf("  %s ", label);
    if (strlen(safe) > full)
        printf("%.*s\xe2\x80\xa6", EVIDENCE_ABBREV, safe);
    else
        fputs(safe, stdout);
    free(safe);
}

static void
evidence_row(const json_t *e)
{
    const json_t *also = json_object_get(e, "also_in"), *t;
    const char *subject = json_string_value(json_object_get(e, "subject"));
    const char *issuer = json_string_value(json_object_get(e, "issuer"));
    const char *kind = json_string_value(json_object_get(e, "kind"));
    size_t i;

    printf("  %-22s", kind ? kind : "?");
    evidence_id("spki", json_string_value(json_object_get(e, "spki_sha256")), EVIDENCE_ABBREV);
    evidence_id("sha256", json_string_value(json_object_get(e, "sha256")), EVIDENCE_ABBREV);
    evidence_id("serial", json_string_value(json_object_get(e, "serial")),
                EVIDENCE_SERIAL_FULL);
    if (kind && (strcmp(kind, "crtsh") == 0 || strcmp(kind, "fingerprint") == 0))
        evidence_id("value", json_string_value(json_object_get(e, "value")),
                    EVIDENCE_SERIAL_FULL);
    if (subject || issuer) {
        fputs("  ", stdout);
        cprctl_text_print(subject ? subject : "-");
        fputs(" / ", stdout);
        cprctl_text_print(issuer ? issuer : "-");
    }
    json_array_foreach(also, i, t) {
        fputs(i ? ", " : "  also in ", stdout);
        cprctl_text_print(json_string_value(t));
    }
    putchar('\n');
}

void
cprctl_evidence_table(const json_t *evidence)
{
    size_t i;
    const json_t *e;

    if (!json_is_array(evidence))
        return;
    printf("\nEvidence (%zu)\n", json_array_size(evidence));
    json_array_foreach(evidence, i, e)
        evidence_row(e);
}

/* ---- search ---- */

int
cmd_search_parse(int argc, char **argv, struct cprctl_opts *o)
{
    static const struct option longopts[] = {
        { "serial", required_argument, NULL, OPT_SERIAL },
        { "fingerprint", required_argument, NULL, OPT_FINGERPRINT },
        { "spki", required_argument, NULL, OPT_SPKI },
        { "crtsh", required_argument, NULL, OPT_CRTSH },
        { "json", no_argument, NULL, OPT_JSON }, { NULL, 0, NULL, 0 } };
    static const char *const fields[] = { "serial", "fingerprint", "spki", "crtsh" };
    int opt, rc;

    optind = 0;
    while ((rc = cprctl_getopt(argc, argv, longopts, &opt)) == 0 && opt != -1) {
        if (opt == OPT_JSON) {
            o->json = true;
            continue;
        }
        if (o->field)
            return cprctl_usage_error("%s", "search: give one of --serial, --fingerprint, "
                                      "--spki, --crtsh");
        o->field = fields[opt - OPT_SERIAL];
        o->value = optarg;
    }
    if (rc != 0)
        return rc;
    if (optind < argc)
        return cprctl_usage_error("search: unexpected argument %s", argv[optind]);
    if (!o->field)
        return cprctl_usage_error("%s", "search: one of --serial HEX, --fingerprint HEX, "
                                  "--spki HEX, --crtsh ID is required");
    return CPRCTL_EX_OK;
}

static void
search_print(const json_t *hits)
{
    size_t i, k;
    const json_t *c, *m;

    if (json_array_size(hits) == 0) {
        puts("no case names that evidence");
        return;
    }
    json_array_foreach(hits, i, c) {
        cprctl_text_print(json_string_value(json_object_get(c, "tracking")));
        fputs("  ", stdout);
        export_time(stdout, json_string_value(json_object_get(c, "received_at")));
        fputs("  ", stdout);
        cprctl_text_print(json_string_value(json_object_get(c, "state")));
        fputs("  ", stdout);
        cprctl_text_print(json_string_value(json_object_get(c, "category")));
        fputs("  ", stdout);
        cprctl_text_print(json_string_value(json_object_get(c, "subject")));
        putchar('\n');
        json_array_foreach(json_object_get(c, "matches"), k, m)
            evidence_row(m);
    }
}

int
cmd_search_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[2] = { o->field, o->value };
    PGresult *res = PQexecParams(conn, "SELECT cpr.search_evidence($1, $2)", 2, NULL,
                                 params, NULL, NULL, 0);
    json_t *rows = NULL, *hits;
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "search"))
        rows = cprctl_db_rows_json(res);
    PQclear(res);
    hits = json_array_get(rows, 0);
    if (hits && o->json)
        rc = cprctl_json_print(hits);
    else if (hits) {
        search_print(hits);
        rc = CPRCTL_EX_OK;
    }
    json_decref(rows);
    return rc;
}

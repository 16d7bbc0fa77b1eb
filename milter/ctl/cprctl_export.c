/* SPDX-License-Identifier: BSD-2-Clause */
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


static int
export_finish(int rc)
{
    if (rc != 0)
        log_error("cannot write the output");
    return rc ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
}

/* ---- timeline and incident-draft ---- */

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
    json_t *c = export_case(conn, o, "incident-draft"), *aff;
    int rc;

    if (!c)
        return CPRCTL_EX_FAIL;
    /* The inventory's certificates and their published status (issue 16). */
    aff = cprctl_db_json1(conn, "SELECT coalesce(jsonb_agg(a), '[]'::jsonb) "
                                "FROM cpr.affected_list($1) a", o->tracking, "incident-draft");
    if (!aff) {
        json_decref(c);
        return CPRCTL_EX_FAIL;
    }
    json_object_set_new(c, "affected", aff);
    rc = export_finish(export_incident_draft(stdout, c, &eo));
    json_decref(c);
    return rc;
}

/* ---- report ---- */

/* The report streams: each case is turned into its report row, printed
 * and dropped as it arrives; only the durations for the totals stay. */
struct report_run {
    PGconn *conn;
    const struct cprctl_opts *o;
    const struct deadline_policy *policy;
    long long now;
    struct compliance_totals *totals;
    struct cprctl_json_array rows;
};

static int
report_row(void *arg, json_t *c)
{
    struct report_run *r = arg;
    json_t *row = compliance_case(c, r->policy, r->now);
    int rc = CPRCTL_EX_OK;

    if (!row || !compliance_totals_add(r->totals, row))
        rc = CPRCTL_EX_FAIL;
    else if (r->o->json)
        cprctl_json_array_item(&r->rows, row);
    else if (r->o->csv)
        export_report_csv_case(stdout, row);
    else
        export_report_text_case(stdout, row);
    json_decref(row);
    return rc;
}

/* {"cases": [ ...streamed... ], then the head's and the totals' keys}:
 * what cprctl_json_print() prints for the whole report, keys sorted. */
static int
report_json_tail(struct report_run *r, json_t *head, json_t *totals)
{
    char *dump, *safe;
    int rc;

    cprctl_json_array_close(&r->rows);
    json_object_set(head, "totals", totals);
    if (!(dump = json_dumps(head, JSON_INDENT(2) | JSON_SORT_KEYS)) || dump[0] != '{') {
        free(dump);
        log_error("cannot format JSON");
        return CPRCTL_EX_FAIL;
    }
    safe = text_json_escape(dump + 1);
    printf(",%s\n", safe);
    rc = r->rows.failed || ferror(stdout) ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
    free(safe);
    free(dump);
    return rc;
}

static void
report_begin(struct report_run *r, const json_t *head)
{
    cprctl_json_array_begin(&r->rows, 1);
    if (r->o->json)
        fputs("{\n  \"cases\": ", stdout);
    else if (r->o->csv)
        export_report_csv_head(stdout);
    else
        export_report_text_head(stdout, head);
}

#define PROBE_REPORT_SQL "SELECT to_jsonb(p) FROM cpr.probe_report($1, $2) p"

/* The mail-path probes of the period, per address (023_probe_mailbox.sql:
 * MEDIAN/P99 are sent -> cpr-milter, MAILBOX_* sent -> the mailbox); NULL
 * on a database failure. */
static json_t *
report_probes(struct report_run *r)
{
    const char *params[2] = { r->o->from, r->o->until };
    PGresult *res = cprctl_exec(r->conn, PROBE_REPORT_SQL, 2, params);
    json_t *rows = cprctl_db_ok(res, r->conn, "report") ? cprctl_db_rows_json(res) : NULL;

    PQclear(res);
    return rows;
}

static void
report_probes_text(const json_t *rows)
{
    static const char *const cols[] = { "address", "sent", "passed", "failed",
                                        "longest_unproven_s", "median_ms", "p99_ms",
                                        "mailbox_median_ms", "mailbox_p99_ms", NULL };
    size_t i;
    json_t *row;

    printf("\nMail-path probes (the 24x7 intake was monitored end to end)\n"
           "ADDRESS\tSENT\tPASSED\tFAILED\tLONGEST_UNPROVEN_S\tMEDIAN_MS\tP99_MS"
           "\tMAILBOX_MEDIAN_MS\tMAILBOX_P99_MS\n");
    if (json_array_size(rows) == 0)
        printf("(no probes in this period)\n");
    json_array_foreach(rows, i, row)
        for (size_t c = 0; cols[c] != NULL; c++) {
            cprctl_value_print(json_object_get(row, cols[c]));
            fputs(cols[c + 1] ? "\t" : "\n", stdout);
        }
}

static int
report_end(struct report_run *r, json_t *head)
{
    json_t *totals = compliance_totals_json(r->totals);
    json_t *probes = r->o->csv ? NULL : report_probes(r);
    int rc;

    if (!totals || (!r->o->csv && !probes)) {
        json_decref(totals);
        json_decref(probes);
        return CPRCTL_EX_FAIL;
    }
    if (r->o->json)
        json_object_set(head, "probes", probes);
    if (json_integer_value(json_object_get(totals, "columns_disagree")) > 0)
        cprctl_say("%s", "some cases' columns disagree with the audit trail (flagged; "
                   "their facts are the events'): run verify-audit");
    if (r->o->json)
        rc = report_json_tail(r, head, totals);
    else if (r->o->csv)
        rc = export_finish(export_report_csv_done(stdout));
    else {
        report_probes_text(probes);
        rc = export_finish(export_report_text_tail(stdout, totals));
    }
    json_decref(totals);
    json_decref(probes);
    return rc;
}

/* A plain query over a view, not a set-returning function: the rows
 * leave the server as the index scan finds them (sql/019_report_stream.sql). */
#define REPORT_SQL \
    "SELECT c FROM cpr.audit_case_rows" \
    " WHERE received_at >= cpr.audit_from($1) AND received_at < cpr.audit_until($2)" \
    " ORDER BY received_at, id"

int
cmd_report_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[2] = { o->from, o->until };
    struct deadline_policy policy;
    struct report_run r = { .conn = conn, .o = o, .policy = &policy };
    json_t *head = NULL;
    int rc;

    if ((rc = cprctl_policy(o, &policy)) != CPRCTL_EX_OK)
        return rc;
    rc = CPRCTL_EX_FAIL;
    if ((r.now = cprctl_db_now(conn)) != 0 && (r.totals = compliance_totals_new())
        && (head = compliance_report_head(&policy, r.now, o->from, o->until))) {
        report_begin(&r, head);
        rc = cprctl_db_stream(conn, REPORT_SQL, 2, params, "report", report_row, &r);
        if (rc == CPRCTL_EX_OK)
            rc = report_end(&r, head);
    }
    json_decref(head);
    compliance_totals_free(r.totals);
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
    PGresult *res = cprctl_exec(conn, "SELECT cpr.search_evidence($1, $2)", 2, params);
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

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   export - a case or a report, as JSON in, as Markdown, CSV or text out
 * DESCRIPTION
 *   See export.h. The timeline is table-driven: event_kinds[] names each
 *   audit event type and how its details read; an unknown type is shown
 *   with its raw data, so nothing recorded is ever left out.
 * DIAGNOSTICS
 *   Returns -1 when fp reports a write error.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include "export.h"

#include <stdlib.h>
#include <string.h>

#include "auditchain.h"
#include "text.h"


/* ---- small helpers ---- */

static const char *
jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s && *s ? s : NULL;
}

/* Any scalar of data[key] as text into fp; nothing if absent or null. */
static bool
jput(FILE *fp, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    char *s;

    if (json_is_string(v) && *json_string_value(v))
        fputs(json_string_value(v), fp);
    else if (json_is_integer(v))
        fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (v && !json_is_null(v) && !json_is_string(v)) {
        s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fputs(s ? s : "?", fp);
        free(s);
    } else
        return false;
    return true;
}

void
export_time(FILE *fp, const char *iso)
{
    char *safe;
    size_t n;

    if (!iso || !*iso) {
        fputc('-', fp);
        return;
    }
    safe = text_sanitise(iso);
    n = strlen(safe);
    if (n > 0 && safe[n - 1] == 'Z')
        safe[--n] = '\0';
    if (n > 10 && safe[10] == 'T')
        safe[10] = ' ';
    fputs(safe, fp);
    free(safe);
}

static int
export_done(FILE *fp)
{
    return ferror(fp) ? -1 : 0;
}

/* ---- the timeline ---- */

typedef void (*event_describe)(FILE *d, const json_t *data, const struct export_opts *o);

struct event_kind {
    const char *type;
    const char *label;
    event_describe describe;
};

static void
desc_received(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("kind ", d);
    if (!jput(d, data, "kind"))
        fputs("?", d);
    fputs(", category ", d);
    if (!jput(d, data, "category"))
        fputs("?", d);
}

static void
desc_reason(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (!jput(d, data, "reason"))
        jput(d, data, "note");
}

static void
desc_autoreply_attempt(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("attempt ", d);
    jput(d, data, "attempt");
    fputs(": ", d);
    jput(d, data, "outcome");
    if (json_object_get(data, "status")) {
        fputs(", SMTP ", d);
        jput(d, data, "status");
    }
    if (jstr(data, "error")) {
        fputs(": ", d);
        jput(d, data, "error");
    }
}

static void
desc_page(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (json_integer_value(json_object_get(data, "tier")) == 0)
        fputs("all tiers", d);
    else {
        fputs("tier ", d);
        jput(d, data, "tier");
    }
    fputs(" via ", d);
    jput(d, data, "channel");
    fputs(" (", d);
    jput(d, data, "clock");
    fputs(" clock): ", d);
    jput(d, data, "outcome");
    if (json_integer_value(json_object_get(data, "status")) != 0) {
        fputs(", status ", d);
        jput(d, data, "status");
    }
    if (jstr(data, "error")) {
        fputs(": ", d);
        jput(d, data, "error");
    }
}

static void
desc_ack(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (jstr(data, "ack_clock_from")) {
        fputs("acknowledge clock from ", d);
        export_time(d, jstr(data, "ack_clock_from"));
    }
    if (jstr(data, "path")) {
        fputs(jstr(data, "ack_clock_from") ? ", via " : "via ", d);
        jput(d, data, "path");
    }
}

/* An alert of one clock on one channel (026_alerts.sql). */
static void
desc_alert(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    jput(d, data, "clock");
    fputs(" clock on ", d);
    jput(d, data, "channel");
    if (json_is_false(json_object_get(data, "sent")))
        fputs(" (recorded; the notice was not sent)", d);
    fputs(", key ", d);
    jput(d, data, "alert");
}

/* A certificate's published status changed (031_publication.sql). */
static void
desc_revstatus(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("serial ", d);
    jput(d, data, "serial");
    fputs(": OCSP ", d);
    if (!jput(d, data, "ocsp"))
        fputs("-", d);
    if (jstr(data, "ocsp_why")) {
        fputs(" (", d);
        jput(d, data, "ocsp_why");
        fputs(")", d);
    }
    fputs(", CRL ", d);
    if (!jput(d, data, "crl"))
        fputs("-", d);
    if (jstr(data, "crl_why")) {
        fputs(" (", d);
        jput(d, data, "crl_why");
        fputs(")", d);
    }
}

static void
desc_reopened(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("an unexpired certificate found later: serial ", d);
    jput(d, data, "serial");
    fputs(" (", d);
    if (!jput(d, data, "found_kind"))
        fputs("?", d);
    fputs(")", d);
}

static void
desc_published(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("every mechanism shows revoked for ", d);
    jput(d, data, "certificates");
    fputs(" certificate(s); latest publication seen ", d);
    export_time(d, jstr(data, "published_at"));
}

static void
desc_summary(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (!jput(d, data, "summary"))
        jput(d, data, "kind");
}

/* One look-up of the evidence in the inventory (028_inventory.sql). */
static void
desc_lookup(FILE *d, const json_t *data, const struct export_opts *o)
{
    const json_t *missing = json_object_get(data, "missing");
    const json_t *after = json_object_get(data, "after_report");

    (void)o;
    if (jstr(data, "error")) {
        fputs("failed: ", d);
        jput(d, data, "error");
        return;
    }
    fputs("certificates found: ", d);
    if (!jput(d, data, "total"))
        fputs("0", d);
    if (missing) {
        fputs("; NOT FOUND: ", d);
        jput(d, data, "missing");
    }
    if (after) {
        fputs("; issued after the report on a compromised key: ", d);
        jput(d, data, "after_report");
    }
}

static void
desc_response(FILE *d, const json_t *data, const struct export_opts *o)
{
    const char *to = jstr(data, "to");
    bool reporter = to && strcmp(to, "reporter") == 0;

    fprintf(d, "to the %s", reporter ? "reporter" : to ? "Subscriber" : "?");
    if (jstr(data, "via")) {
        fputs(" via ", d);
        jput(d, data, "via");
    }
    if (jstr(data, "address")) {
        fputs(" (", d);
        if (reporter && !o->name_reporter)
            fputs("address withheld", d);
        else
            jput(d, data, "address");
        fputs(")", d);
    }
}

static void
desc_confirm(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("BR 4.9.1.1 item ", d);
    jput(d, data, "br_item");
    if (jstr(data, "crl_reason")) {
        fputs(", CRL reason ", d);
        jput(d, data, "crl_reason");
    }
    if (jstr(data, "revocation_due")) {
        fputs(", revoke by ", d);
        export_time(d, jstr(data, "revocation_due"));
    }
}

static void
desc_revoked(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (jstr(data, "crl_reason")) {
        fputs("CRL reason ", d);
        jput(d, data, "crl_reason");
    }
}

static void
desc_breach(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("the ", d);
    jput(d, data, "clock");
    fputs(" deadline ", d);
    export_time(d, jstr(data, "deadline"));
    fputs(" passed unmet; incident report due ", d);
    export_time(d, jstr(data, "incident_report_due"));
}

static void
desc_close(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    jput(d, data, "resolution");
}

static void
desc_note(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    if (!jput(d, data, "text"))
        jput(d, data, "note");
}

/* Staff mail on the submission path: how many recipients, not who (the
 * responses it made say to whom). */
static void
desc_outbound(FILE *d, const json_t *data, const struct export_opts *o)
{
    size_t n = json_array_size(json_object_get(data, "rcpts"));

    (void)o;
    fprintf(d, "staff mail to %zu recipient%s", n, n == 1 ? "" : "s");
}

static void
desc_recategorised(FILE *d, const json_t *data, const struct export_opts *o)
{
    (void)o;
    fputs("from ", d);
    jput(d, data, "from");
    fputs(" to ", d);
    jput(d, data, "to");
}

static void
desc_raw(FILE *d, const json_t *data, const struct export_opts *o)
{
    char *s = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    (void)o;
    fputs(s && strcmp(s, "{}") != 0 ? s : "", d);
    free(s);
}

static const struct event_kind event_kinds[] = {
    { "received",          "Report received",             desc_received },
    { "redelivery",        "Same message delivered again", desc_raw },
    { "reopened",          "Case re-opened by a follow-up", desc_reason },
    { "autoreply-queued",  "Auto-reply queued",           desc_raw },
    { "autoreply-skipped", "Auto-reply skipped",          desc_reason },
    { "autoreply-attempt", "Auto-reply attempt",          desc_autoreply_attempt },
    { "ack",               "Acknowledged",                desc_ack },
    { "response",          "Preliminary report sent",     desc_response },
    { "waiver",            "Subscriber report waived",    desc_reason },
    { "confirm",           "Problem confirmed",           desc_confirm },
    { "revoked",           "Revocation recorded",         desc_revoked },
    { "breach",            "DEADLINE MISSED",             desc_breach },
    { "close",             "Case closed",                 desc_close },
    { "note",              "Note",                        desc_note },
    { "outbound",          "Staff mail recorded",         desc_outbound },
    { "recategorised",     "Category changed",            desc_recategorised },
    { "alert-triggered",   "Alert opened",                desc_alert },
    { "alert-acknowledged", "Alert acknowledged",         desc_alert },
    { "alert-resolved",    "Alert resolved",              desc_alert },
    { "lookup",            "Inventory look-up",           desc_lookup },
    { "inventory-page",    "Inventory page",              desc_raw },
    { "revocation-status", "Published status checked",    desc_revstatus },
    { "revocation-published", "Revocation published",     desc_published },
    { "revocation-alert",  "Revocation page",             desc_summary },
    { "revocation-reopened", "Revocation clock re-opened", desc_reopened },
    { NULL, NULL, NULL },
};

/* Pages say what they were: a page, a warning, a breach alert. */
static const char *
page_label(const json_t *data)
{
    const char *ev = jstr(data, "event");

    if (!ev || strcmp(ev, "page") == 0)
        return "Page";
    if (strcmp(ev, "warn") == 0)
        return "Deadline warning page";
    if (strcmp(ev, "breach") == 0)
        return "Breach page";
    return "Page resolved";
}

static const char *
autoreply_label(const json_t *data)
{
    const char *out = jstr(data, "outcome");

    return out && strcmp(out, "sent") == 0 ? "Auto-reply sent" : "Auto-reply attempt";
}

/* Label and details of one event into two malloc'd strings. */
static void
event_text(const json_t *e, const struct export_opts *o, char **label, char **details)
{
    const char *type = jstr(e, "type");
    const json_t *data = json_object_get(e, "data");
    const struct event_kind *k = event_kinds;
    size_t len;
    FILE *d = open_memstream(details, &len);

    while (k->type && (!type || strcmp(k->type, type) != 0))
        k++;
    if (type && strcmp(type, "page-attempt") == 0) {
        *label = strdup(page_label(data));
        desc_page(d, data, o);
    } else if (k->type) {
        *label = strdup(strcmp(k->type, "autoreply-attempt") == 0 ? autoreply_label(data)
                                                                  : k->label);
        k->describe(d, data, o);
    } else {
        *label = strdup(type ? type : "?");
        desc_raw(d, data, o);
    }
    fclose(d);
}

/* "BR item changed 4→6: why" (or "no reason recorded") into d. */
static void
br_change_text(FILE *d, const json_t *change)
{
    fputs("BR item changed ", d);
    jput(d, change, "from");
    fputs("\u2192", d);
    jput(d, change, "to");
    fputs(": ", d);
    if (!jput(d, change, "reason"))
        fputs("no reason recorded", d);
}

/* The change of BR item recorded by event e, from the replay; NULL if none. */
static const json_t *
br_change_at(const json_t *changes, const json_t *e)
{
    size_t i;
    const json_t *ch;

    json_array_foreach(changes, i, ch)
        if (json_integer_value(json_object_get(ch, "seq"))
            == json_integer_value(json_object_get(e, "seq")))
            return ch;
    return NULL;
}

/* The By cell: the claimed actor, and the database login (sql/013). */
static void
timeline_by(FILE *fp, const json_t *e)
{
    char *by = NULL;
    size_t len;
    FILE *d = open_memstream(&by, &len);

    if (!d) {
        text_md_cell(fp, jstr(e, "actor"));
        return;
    }
    fputs(jstr(e, "actor") ? jstr(e, "actor") : "", d);
    if (jstr(e, "db_user"))
        fprintf(d, " (db: %s)", jstr(e, "db_user"));
    fclose(d);
    text_md_cell(fp, by);
    free(by);
}

static void
timeline_row(FILE *fp, const json_t *e, const json_t *change, const struct export_opts *o)
{
    char *label = NULL, *details = NULL, *flagged = NULL;
    size_t len;
    FILE *d;

    event_text(e, o, &label, &details);
    if (change && (d = open_memstream(&flagged, &len)) != NULL) {
        fprintf(d, "%s; ", details ? details : "");
        br_change_text(d, change);
        fclose(d);
    }
    fputs("| ", fp);
    export_time(fp, jstr(e, "at"));
    fputs(" | ", fp);
    text_md_cell(fp, label);
    fputs(" | ", fp);
    text_md_cell(fp, flagged ? flagged : details);
    fputs(" | ", fp);
    timeline_by(fp, e);
    fputs(" |\n", fp);
    free(label);
    free(details);
    free(flagged);
}

int
export_timeline(FILE *fp, const json_t *c, const struct export_opts *o)
{
    size_t i;
    const json_t *e;
    struct audit_facts f;

    /* The replay names each change of BR item, reasoned or not. */
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    fputs("| Time (UTC) | Event | Details | By |\n", fp);
    fputs("|---|---|---|---|\n", fp);
    json_array_foreach(json_object_get(c, "events"), i, e)
        timeline_row(fp, e, br_change_at(f.br_changes, e), o);
    audit_facts_free(&f);
    return export_done(fp);
}

/* ---- the certificate appendix ---- */

static bool
cert_seen(const json_t *evidence, size_t upto, const char *sha)
{
    const json_t *e;

    for (size_t i = 0; i < upto; i++) {
        e = json_array_get(evidence, i);
        if (jstr(e, "kind") && strcmp(jstr(e, "kind"), "certificate") == 0
            && jstr(e, "sha256") && strcmp(jstr(e, "sha256"), sha) == 0)
            return true;
    }
    return false;
}

/* The revocation as the events say it (the columns can be UPDATEd). */
static void
cert_row(FILE *fp, const json_t *e, const struct audit_facts *f, const char *eol)
{
    char revoked[AUDIT_ISO_LEN];
    const char *fields[] = {
        "", jstr(e, "sha256"), jstr(e, "subject"), jstr(e, "issuer"),
        jstr(e, "not_before"), jstr(e, "not_after"), jstr(e, "serial"), jstr(e, "sans"),
        f->revoked_at ? "Yes" : "No", revoked,
        f->revoked_at ? json_string_value(f->crl_reason) : NULL,
    };

    audit_time_iso(f->revoked_at, 3, revoked, sizeof(revoked));
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (i)
            fputc(',', fp);
        text_csv_field(fp, fields[i] ? fields[i] : "");
    }
    fputs(eol, fp);
}

/* The certificates the inventory lookup found (issue 16), each with its
 * status as published: "Is revoked?" is Yes only once every mechanism
 * showed it (revoked_at), the date and reason are those the CRL (else
 * OCSP) published. A precertificate's hash goes in its own column. */
static void
affected_row(FILE *fp, const json_t *a, const char *eol)
{
    bool pre = json_is_true(json_object_get(a, "precert"));
    bool pub = jstr(a, "revoked_at") != NULL;
    const json_t *crl = json_object_get(a, "crl"), *ocsp = json_object_get(a, "ocsp");
    const char *date = jstr(crl, "revoked_at") ? jstr(crl, "revoked_at") : jstr(ocsp, "revoked_at");
    const char *fields[] = {
        pre ? jstr(a, "sha256") : "", pre ? "" : jstr(a, "sha256"), jstr(a, "subject"),
        jstr(a, "issuer"), jstr(a, "not_before"), jstr(a, "not_after"), jstr(a, "serial"),
        jstr(a, "sans"), pub ? "Yes" : "No", pub ? date : NULL, pub ? jstr(a, "reason") : NULL,
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (i)
            fputc(',', fp);
        text_csv_field(fp, fields[i] ? fields[i] : "");
    }
    fputs(eol, fp);
}

static size_t
affected_count(const json_t *c)
{
    return json_array_size(json_object_get(c, "affected"));
}

/* RFC 4180 says CRLF; inside a Markdown file the lines end as the file's.
 * With inventory data the rows are the affected certificates; without,
 * the certificates of the evidence, as the audit trail tells revocation. */
static int
cert_csv(FILE *fp, const json_t *c, const char *eol)
{
    const json_t *evidence = json_object_get(c, "evidence"), *e;
    struct audit_facts f;
    size_t i;

    if (affected_count(c) > 0) {
        fputs(EXPORT_CERT_CSV_HEADER, fp);
        fputs(eol, fp);
        json_array_foreach(json_object_get(c, "affected"), i, e)
            affected_row(fp, e, eol);
        return export_done(fp);
    }
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    fputs(EXPORT_CERT_CSV_HEADER, fp);
    fputs(eol, fp);
    json_array_foreach(evidence, i, e) {
        const char *sha = jstr(e, "sha256");

        if (jstr(e, "kind") && strcmp(jstr(e, "kind"), "certificate") == 0 && sha
            && !cert_seen(evidence, i, sha))
            cert_row(fp, e, &f, eol);
    }
    audit_facts_free(&f);
    return export_done(fp);
}

int
export_cert_csv(FILE *fp, const json_t *c)
{
    return cert_csv(fp, c, "\r\n");
}

/* ---- the incident draft (CCADB incident report template) ---- */

static size_t
cert_count(const json_t *c)
{
    const json_t *evidence = json_object_get(c, "evidence"), *e;
    size_t i, n = 0;

    json_array_foreach(evidence, i, e)
        if (jstr(e, "kind") && strcmp(jstr(e, "kind"), "certificate") == 0 && jstr(e, "sha256")
            && !cert_seen(evidence, i, jstr(e, "sha256")))
            n++;
    return n;
}

/* The first breach event: where non-compliance started. */
static const json_t *
first_breach(const json_t *c)
{
    size_t i;
    const json_t *e;

    json_array_foreach(json_object_get(c, "events"), i, e)
        if (jstr(e, "type") && strcmp(jstr(e, "type"), "breach") == 0)
            return json_object_get(e, "data");
    return NULL;
}

static void
draft_text(FILE *fp, const char *s)
{
    char *safe = text_sanitise(s);

    fputs(safe, fp);
    free(safe);
}

static void
draft_summary(FILE *fp, const json_t *c, const struct export_opts *o)
{
    const json_t *breach = first_breach(c);

    fputs("## Summary\n\n- **CA Owner CCADB unique ID:** TODO\n"
          "- **Incident description:** TODO. Certificate Problem Report ", fp);
    draft_text(fp, jstr(c, "tracking"));
    fputs(" (category: ", fp);
    draft_text(fp, jstr(c, "category"));
    fputs(") was received at ", fp);
    export_time(fp, jstr(c, "received_at"));
    fputs(" UTC", fp);
    if (o->name_reporter && jstr(c, "reporter")) {
        fputs(" from ", fp);
        draft_text(fp, jstr(c, "reporter"));
    }
    fputs(".\n- **Timeline summary:**\n  - Non-compliance start date: ", fp);
    if (breach) {
        export_time(fp, jstr(breach, "deadline"));
        fputs(" UTC (", fp);
        draft_text(fp, jstr(breach, "clock"));
        fputs(" deadline missed)", fp);
    } else
        fputs("TODO", fp);
    fputs("\n  - Non-compliance identified date: TODO\n"
          "  - Non-compliance end date: TODO\n"
          "- **Relevant policies:** TODO (e.g. TLS BRs 4.9.1.1, 4.9.5)\n"
          "- **Source of incident disclosure:** Certificate Problem Report\n\n", fp);
}

static void
draft_impact(FILE *fp, const json_t *c)
{
    if (affected_count(c) > 0)
        fprintf(fp, "## Impact\n\n- **Total number of certificates:** %zu found in the"
                " inventory (see Appendix)\n", affected_count(c));
    else
        fprintf(fp, "## Impact\n\n- **Total number of certificates:** %zu in the report's"
                " evidence (see Appendix)\n", cert_count(c));
    fputs("- **Total number of \"remaining valid\" certificates:** TODO\n"
          "- **Affected certificate types:** TODO\n"
          "- **Incident heuristic:** TODO\n"
          "- **Was issuance stopped in response to this incident, and why or why not?:** TODO\n"
          "- **Analysis:** TODO\n"
          "- **Additional considerations:** TODO\n\n", fp);
}

static void
draft_rest(FILE *fp)
{
    fputs("## Related Incidents\n\n| Bug | Date | Description |\n|---|---|---|\n"
          "| TODO | TODO | TODO |\n\n"
          "## Root Cause Analysis\n\n**Contributing Factor #1: TODO**\n\n"
          "- **Description:** TODO\n- **Timeline:** TODO\n- **Detection:** TODO\n"
          "- **Interaction with other factors:** TODO\n"
          "- **Root Cause Analysis methodology used:** TODO\n\n"
          "## Lessons Learned\n\n- **What went well:** TODO\n"
          "- **What didn't go well:** TODO\n- **Where we got lucky:** TODO\n"
          "- **Additional:** TODO\n\n"
          "## Action Items\n\n| Action Item | Kind | Corresponding Root Cause(s) |"
          " Evaluation Criteria | Due Date | Status |\n|---|---|---|---|---|---|\n"
          "| TODO | TODO | TODO | TODO | TODO | TODO |\n\n", fp);
}

static void
draft_disagree(void *arg, const char *column, const char *stored, const char *said)
{
    FILE *fp = arg;

    (void)stored;
    (void)said;
    fputs(", ", fp);
    draft_text(fp, column);
}

/* A case whose columns were changed behind its audit trail says so first. */
static void
draft_warning(FILE *fp, const json_t *c)
{
    struct audit_facts f;
    char *cols = NULL;
    size_t len = 0;
    FILE *d = open_memstream(&cols, &len);

    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    if (d && audit_facts_check(&f, c, draft_disagree, d) > 0) {
        fclose(d);
        d = NULL;
        fprintf(fp, "> **Warning:** the case's columns disagree with the audit trail "
                "(%s): run `cprctl verify-audit`. The timeline below is the audit "
                "trail's.\n\n", cols + 2);
    }
    if (d)
        fclose(d);
    free(cols);
    audit_facts_free(&f);
}

int
export_incident_draft(FILE *fp, const json_t *c, const struct export_opts *o)
{
    fputs("# Incident Report: TODO title (", fp);
    draft_text(fp, jstr(c, "tracking"));
    fputs(")\n\n", fp);
    draft_warning(fp, c);
    draft_summary(fp, c, o);
    draft_impact(fp, c);
    fputs("## Timeline\n\nAll times are UTC.\n\n", fp);
    export_timeline(fp, c, o);
    fputc('\n', fp);
    draft_rest(fp);
    fputs(affected_count(c) > 0
          ? "## Appendix\n\nCertificates found in the inventory (precertificates included), "
            "as their revocation is published in OCSP and the CRL:\n\n```csv\n"
          : "## Appendix\n\nCertificates in the report's evidence:\n\n```csv\n", fp);
    cert_csv(fp, c, "\n");
    fputs("```\n", fp);
    return export_done(fp);
}

/* ---- the auditor's report ---- */

/* A duration as "1h02m03s"; "-" when absent. */
static void
export_duration(FILE *fp, const json_t *ms)
{
    long long s;

    if (!json_is_integer(ms)) {
        fputc('-', fp);
        return;
    }
    s = json_integer_value(ms) / 1000;
    if (s < 0) {
        fputc('-', fp);
        s = -s;
    }
    fprintf(fp, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
}

static void
report_clock_line(FILE *fp, const json_t *k)
{
    fprintf(fp, "  %-18s due ", jstr(k, "clock") ? jstr(k, "clock") : "?");
    export_time(fp, jstr(k, "deadline"));
    fputs("  done ", fp);
    export_time(fp, jstr(k, "done_at"));
    fputs("  took ", fp);
    export_duration(fp, json_object_get(k, "took_ms"));
    fprintf(fp, "  %s%s\n", jstr(k, "status") ? jstr(k, "status") : "?",
            json_is_true(json_object_get(k, "breach_recorded")) ? " (breach recorded)" : "");
}

/* A change of BR item moves the revocation deadline: flagged with when,
 * who and why. */
static void
report_br_change(FILE *fp, const json_t *ch)
{
    char *text = NULL;
    size_t len;
    FILE *d = open_memstream(&text, &len);

    if (!d)
        return;
    br_change_text(d, ch);
    fclose(d);
    fputs("  FLAG ", fp);
    draft_text(fp, text);
    fputs(" (at ", fp);
    export_time(fp, jstr(ch, "at"));
    fputs(" by ", fp);
    draft_text(fp, jstr(ch, "by") ? jstr(ch, "by") : "?");
    if (jstr(ch, "db_user")) {
        fputs(", db ", fp);
        draft_text(fp, jstr(ch, "db_user"));
    }
    fputs(")\n", fp);
    free(text);
}

static void
report_case(FILE *fp, const json_t *r)
{
    size_t i;
    const json_t *v;

    fputc('\n', fp);
    draft_text(fp, jstr(r, "tracking"));
    fputs("  received ", fp);
    export_time(fp, jstr(r, "received_at"));
    fputs("  ", fp);
    draft_text(fp, jstr(r, "category"));
    fputs("  ", fp);
    draft_text(fp, jstr(r, "state"));
    fputs("\n  acknowledged ", fp);
    export_time(fp, jstr(r, "acked_at"));
    fputs("  revoked ", fp);
    export_time(fp, jstr(r, "revoked_at"));
    if (json_object_get(r, "revocation_published_at")) {
        /* Issue 16: the revocation clock stopped on publication seen. */
        fputs(" (claimed)  published ", fp);
        export_time(fp, jstr(r, "revocation_published_at"));
    }
    fputc('\n', fp);
    json_array_foreach(json_object_get(r, "responses"), i, v) {
        fputs("  response ", fp);
        export_time(fp, jstr(v, "at"));
        fputs(" to ", fp);
        draft_text(fp, jstr(v, "to") ? jstr(v, "to") : "?");
        fputs(" via ", fp);
        draft_text(fp, jstr(v, "via") ? jstr(v, "via") : "?");
        fputs(strcmp(jstr(v, "type") ? jstr(v, "type") : "", "waiver") == 0 ? " (waiver)\n" : "\n", fp);
    }
    json_array_foreach(json_object_get(r, "clocks"), i, v)
        report_clock_line(fp, v);
    json_array_foreach(json_object_get(r, "br_item_changes"), i, v)
        report_br_change(fp, v);
    json_array_foreach(json_object_get(r, "columns_disagree"), i, v) {
        fputs(i ? ", " : "  columns disagree with the audit trail: run verify-audit (", fp);
        draft_text(fp, json_string_value(v));
    }
    if (json_array_size(json_object_get(r, "columns_disagree")) > 0)
        fputs("); the times above are the audit trail's\n", fp);
}

static void
report_totals_text(FILE *fp, const json_t *totals)
{
    const char *key;
    const json_t *t;

    json_int_t disagree = json_integer_value(json_object_get(totals, "columns_disagree"));

    fprintf(fp, "\nTotals: %" JSON_INTEGER_FORMAT " cases, %" JSON_INTEGER_FORMAT
            " breaches", json_integer_value(json_object_get(totals, "cases")),
            json_integer_value(json_object_get(totals, "breaches")));
    if (disagree > 0)
        fprintf(fp, "; %" JSON_INTEGER_FORMAT " case%s whose columns disagree with the "
                "audit trail (run verify-audit)", disagree, disagree == 1 ? "" : "s");
    fprintf(fp, "\n  %-18s %5s  %-12s %-12s %-12s %5s %6s %7s %7s\n", "clock", "done", "median", "p95", "max", "met", "missed", "overdue", "running");
    json_object_foreach((json_t *)json_object_get(totals, "clocks"), key, t) {
        fprintf(fp, "  %-18s %5" JSON_INTEGER_FORMAT "  ", key,
                json_integer_value(json_object_get(t, "done")));
        export_duration(fp, json_object_get(t, "median_ms"));
        fputs("  ", fp);
        export_duration(fp, json_object_get(t, "p95_ms"));
        fputs("  ", fp);
        export_duration(fp, json_object_get(t, "max_ms"));
        fprintf(fp, "  %5" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT " %7"
                JSON_INTEGER_FORMAT " %7" JSON_INTEGER_FORMAT "\n",
                json_integer_value(json_object_get(t, "met")),
                json_integer_value(json_object_get(t, "missed")),
                json_integer_value(json_object_get(t, "overdue")),
                json_integer_value(json_object_get(t, "running")));
    }
}

/* The report's first lines; head is compliance_report_head()'s (or the
 * whole report). */
void
export_report_text_head(FILE *fp, const json_t *head)
{
    const json_t *policy = json_object_get(head, "policy");

    fputs("CPR compliance report: cases received from ", fp);
    draft_text(fp, jstr(head, "from"));
    fputs(" to ", fp);
    draft_text(fp, jstr(head, "to"));
    fputs(" (UTC)\nGenerated ", fp);
    export_time(fp, jstr(head, "generated_at"));
    fputs(" UTC; deadlines: acknowledge ", fp);
    export_duration(fp, json_object_get(policy, "acknowledge_ms"));
    fputs(", reports ", fp);
    export_duration(fp, json_object_get(policy, "report_ms"));
    fputs(", revocation 24h (BR 4.9.1.1 items 1-5) or 120h (items 6-16)\n", fp);
}

void
export_report_text_case(FILE *fp, const json_t *row)
{
    report_case(fp, row);
}

int
export_report_text_tail(FILE *fp, const json_t *totals)
{
    report_totals_text(fp, totals);
    return export_done(fp);
}

/* The Audit trail cell: "ok", or what the report flags about the case. */
static char *
csv_trail(const json_t *r)
{
    char *out = NULL;
    size_t len, i;
    const json_t *ch;
    bool any = json_array_size(json_object_get(r, "columns_disagree")) > 0;
    FILE *d = open_memstream(&out, &len);

    if (!d)
        return NULL;
    if (any)
        fputs("columns disagree: run verify-audit", d);
    json_array_foreach(json_object_get(r, "br_item_changes"), i, ch) {
        fputs(any ? "; " : "", d);
        br_change_text(d, ch);
        any = true;
    }
    if (!any)
        fputs("ok", d);
    fclose(d);
    return out;
}

int
export_report_text(FILE *fp, const json_t *report)
{
    const json_t *r;
    size_t i;

    export_report_text_head(fp, report);
    json_array_foreach(json_object_get(report, "cases"), i, r)
        export_report_text_case(fp, r);
    return export_report_text_tail(fp, json_object_get(report, "totals"));
}

static void
csv_row(FILE *fp, const json_t *r, const json_t *k)
{
    const json_t *took = json_object_get(k, "took_ms");
    char secs[32] = "", *trail = csv_trail(r);
    const char *fields[] = {
        jstr(r, "tracking"), jstr(r, "received_at"), jstr(r, "category"), jstr(r, "state"),
        jstr(k, "clock"), jstr(k, "start"), jstr(k, "deadline"), jstr(k, "done_at"), secs,
        jstr(k, "status"), json_is_true(json_object_get(k, "breach_recorded")) ? "yes" : "no",
        trail,
    };

    if (json_is_integer(took))
        snprintf(secs, sizeof(secs), "%.3f", (double)json_integer_value(took) / 1000.0);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (i)
            fputc(',', fp);
        text_csv_field(fp, fields[i] ? fields[i] : "");
    }
    fputs("\r\n", fp);
    free(trail);
}

void
export_report_csv_head(FILE *fp)
{
    fputs("Tracking,Received,Category,State,Clock,Clock start,Deadline,Done,"
          "Took (s),Status,Breach recorded,Audit trail\r\n", fp);
}

void
export_report_csv_case(FILE *fp, const json_t *row)
{
    size_t k;
    const json_t *clock;

    json_array_foreach(json_object_get(row, "clocks"), k, clock)
        csv_row(fp, row, clock);
}

int
export_report_csv_done(FILE *fp)
{
    return export_done(fp);
}

int
export_report_csv(FILE *fp, const json_t *report)
{
    size_t i;
    const json_t *r;

    export_report_csv_head(fp);
    json_array_foreach(json_object_get(report, "cases"), i, r)
        export_report_csv_case(fp, r);
    return export_report_csv_done(fp);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_audit - verify-audit and audit-digest
 * SUMMARY
 *   cprctl verify-audit [TRACKING]
 *   cprctl audit-digest [--json] [--check FILE]
 * DESCRIPTION
 *   Both read every event through cpr.audit_rows() (sql/011_audit_columns.sql)
 *   in single-row mode, so memory does not grow with the table, and hand
 *   each to auditchain.c, which recomputes the SHA-256 chain in C and
 *   replays the events against the case's columns (reporter_done_at,
 *   br_item, state, ...), which come on each case's first row.
 *   verify-audit names every break, in the cases' chains and, without
 *   TRACKING, in the monitor log of probe and milter pages (checked by the
 *   database: cpr.monitor_audit_verify); audit-digest prints the chain heads
 *   and one SHA-256 over them (format in auditchain.h and cprctl(1)).
 *   --check FILE compares an earlier digest with the chains now: every
 *   case in it must still exist, still reach its seq, and have the same
 *   hash at that seq; otherwise history was rewritten.
 *   verify-audit also names, as "TIME" lines of their own, an event timed
 *   before the event before it or before the case's receipt (auditchain.h):
 *   the chain is intact, but its times are not honest.
 * DIAGNOSTICS
 *   Exit 1 on any break, any --check mismatch, or a database error;
 *   verify-audit exits 2 when the chains are intact but there are time
 *   findings (CPRCTL_EX_AUDIT_TIME).
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "auditchain.h"
#include "compliance.h"
#include "cprctl.h"
#include "log.h"
#include "text.h"

#define AUDIT_SQL "SELECT tracking, audit_head, seq, prev_hash, hash, canonical, " \
                  "columns FROM cpr.audit_rows($1)"
#define AUDIT_FORMAT "cpr-audit-digest v1"
#define AUDIT_CHECK_LINE_MAX 512       /* bytes of one line of an old digest */
#define CPRCTL_EX_AUDIT_TIME 2         /* verify-audit: intact chains, time findings */

/* One chain line of an earlier digest. */
struct audit_old {
    long seq;
    char head[AUDIT_HEX_LEN];
    bool seen;
};

struct audit_run {
    struct audit_chain ch;
    bool in_chain;
    size_t chains, events, breaks, mismatches, time_findings;
    FILE *report;                  /* where breaks are named */
    struct audit_digest *digest;   /* audit-digest only */
    GString *lines;                /* the digest's chain lines */
    json_t *json;                  /* --json: the chain objects */
    GHashTable *old;               /* --check: tracking -> struct audit_old */
};

static void
audit_on_break(void *arg, const char *tracking, long seq, const char *what)
{
    struct audit_run *r = arg;
    char *safe = text_sanitise(what);

    if (seq > 0)
        fprintf(r->report, "BREAK %s seq %ld: %s\n", tracking, seq, safe);
    else
        fprintf(r->report, "BREAK %s: %s\n", tracking, safe);
    free(safe);
}

static void
audit_on_time(void *arg, const char *tracking, long seq, const char *what)
{
    struct audit_run *r = arg;
    char *safe = text_sanitise(what);

    fprintf(r->report, "TIME %s seq %ld: %s\n", tracking, seq, safe);
    free(safe);
}

static void
audit_mismatch(struct audit_run *r, const char *tracking, const char *what)
{
    r->mismatches++;
    fprintf(r->report, "CHANGED %s: %s\n", tracking, what);
}

/* --check: the event at the old digest's seq must hash as it did then. */
static void
audit_check_event(struct audit_run *r, long seq)
{
    struct audit_old *old = r->old ? g_hash_table_lookup(r->old, r->ch.tracking) : NULL;
    char hex[AUDIT_HEX_LEN], what[128];

    if (!old || old->seq != seq)
        return;
    old->seen = true;
    audit_hex(r->ch.last, AUDIT_HASH_LEN, hex);
    snprintf(what, sizeof(what), "the chain at seq %ld no longer hashes to the digested "
             "head (history rewritten)", seq);
    if (strcmp(hex, old->head) != 0)
        audit_mismatch(r, r->ch.tracking, what);
}

static void
audit_finish_chain(struct audit_run *r)
{
    char line[AUDIT_LINE_MAX], hex[AUDIT_HEX_LEN], what[128];
    struct audit_old *old = r->old ? g_hash_table_lookup(r->old, r->ch.tracking) : NULL;

    r->breaks += audit_chain_end(&r->ch);
    r->time_findings += r->ch.time_findings;
    audit_digest_line(&r->ch, line, sizeof(line));
    if (r->digest)
        audit_digest_add(r->digest, line);
    if (r->lines)
        g_string_append(r->lines, line);
    audit_hex(r->ch.last, AUDIT_HASH_LEN, hex);
    if (r->json)
        json_array_append_new(r->json, json_pack("{s:s, s:I, s:s?}",
            "tracking", r->ch.tracking, "seq", (json_int_t)r->ch.last_seq,
            "head", r->ch.have_last ? hex : NULL));
    if (old && !old->seen && old->seq > 0) {
        snprintf(what, sizeof(what), "the digest had seq %ld, the chain now ends at seq %ld "
                 "(events removed)", old->seq, r->ch.last_seq);
        audit_mismatch(r, r->ch.tracking, what);
    }
    if (old)
        old->seen = true;
    r->in_chain = false;
}

/* The case's columns, on its first row: checked against its events. A
 * first row without them is a break (the columns cannot be checked). */
static void
audit_row_columns(struct audit_run *r, const PGresult *res)
{
    json_error_t err;
    json_t *cols = PQgetisnull(res, 0, 6) ? NULL
                 : json_loads(PQgetvalue(res, 0, 6), 0, &err);

    if (json_is_object(cols))
        audit_chain_columns(&r->ch, cols);
    else
        audit_on_break(r, r->ch.tracking, 0, "no columns to check against the events");
    r->breaks += !json_is_object(cols);
    json_decref(cols);
}

static void
audit_row(struct audit_run *r, const PGresult *res)
{
    const char *tracking = PQgetvalue(res, 0, 0);
    const char *canon_hex = PQgetvalue(res, 0, 5);
    size_t n = strlen(canon_hex) / 2;
    unsigned char *canon;
    long seq;

    if (r->in_chain && strcmp(r->ch.tracking, tracking) != 0)
        audit_finish_chain(r);
    if (!r->in_chain) {
        audit_chain_begin(&r->ch, tracking, PQgetvalue(res, 0, 1), audit_on_break, r);
        audit_chain_on_time(&r->ch, audit_on_time);
        audit_row_columns(r, res);
        r->in_chain = true;
        r->chains++;
    }
    if (PQgetisnull(res, 0, 2))
        return;
    seq = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    canon = text_xmalloc(n);
    if (!audit_unhex(canon_hex, canon, n))
        n = 0;                             /* hashes to something else: a break */
    audit_chain_add(&r->ch, seq, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), canon, n);
    free(canon);
    r->events++;
    audit_check_event(r, seq);
}

static int
audit_scan(PGconn *conn, const struct cprctl_opts *o, struct audit_run *r)
{
    const char *param = o->has_tracking ? o->tracking : NULL;
    PGresult *res;
    int rc = CPRCTL_EX_OK;

    if (!PQsendQueryParams(conn, AUDIT_SQL, 1, NULL, &param, NULL, NULL, 0)
        || !PQsetSingleRowMode(conn)) {
        log_error("audit: %.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
                  PQerrorMessage(conn));
        return CPRCTL_EX_FAIL;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE)
            audit_row(r, res);
        else if (!cprctl_db_ok(res, conn, "audit"))
            rc = CPRCTL_EX_FAIL;
        PQclear(res);
    }
    if (r->in_chain)
        audit_finish_chain(r);
    return rc;
}

/* The log of probe and milter pages (024_monitor_audit.sql), which has a
 * chain of its own: one line, and a BREAK line for each event that fails.
 * Returns the breaks, or -1 on a database failure. */
static long
audit_monitor(PGconn *conn)
{
    PGresult *res = cprctl_exec(conn, "SELECT (SELECT count(*) FROM cpr.monitor_events), "
                                      "v.id, v.problem FROM (SELECT 1) one "
                                      "LEFT JOIN cpr.monitor_audit_verify() v ON true", 0, NULL);
    long breaks = 0;

    if (!cprctl_db_ok(res, conn, "verify-audit")) {
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 2))
            continue;
        printf("BREAK monitor event %s: %s\n", PQgetisnull(res, i, 1) ? "-"
               : PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
        breaks++;
    }
    printf("%s: monitor log (probe and milter pages): %s events, %ld break%s\n",
           breaks ? "FAILED" : "OK", PQgetvalue(res, 0, 0), breaks, breaks == 1 ? "" : "s");
    PQclear(res);
    return breaks;
}

int
cmd_verify_audit_run(PGconn *conn, const struct cprctl_opts *o)
{
    long mbreaks = 0;
    struct audit_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    r.report = stdout;
    rc = audit_scan(conn, o, &r);
    if (rc != CPRCTL_EX_OK)
        return rc;
    if (o->has_tracking && r.chains == 0) {
        cprctl_say("no case %s", o->tracking);
        return CPRCTL_EX_FAIL;
    }
    printf("%s: %zu chain%s, %zu event%s checked, %zu break%s",
           r.breaks ? "FAILED" : r.time_findings ? "TIME" : "OK", r.chains,
           r.chains == 1 ? "" : "s", r.events, r.events == 1 ? "" : "s", r.breaks,
           r.breaks == 1 ? "" : "s");
    if (r.time_findings)
        printf(", %zu time finding%s", r.time_findings, r.time_findings == 1 ? "" : "s");
    putchar('\n');
    if (!o->has_tracking && (mbreaks = audit_monitor(conn)) < 0)
        return CPRCTL_EX_FAIL;
    if (r.breaks || mbreaks)
        return CPRCTL_EX_FAIL;
    return r.time_findings ? CPRCTL_EX_AUDIT_TIME : CPRCTL_EX_OK;
}

/* ---- audit-digest ---- */


/* --check prints no digest, so --json with it is a mistake. */
int
cmd_audit_digest_check(const char *cmd, struct cprctl_opts *o)
{
    if (o->json && o->check_file)
        return cprctl_usage_error("%s: --check prints no digest; drop --json", cmd);
    return CPRCTL_EX_OK;
}

/* One line of an old digest: a chain line goes into the table and the
 * recomputed digest; the "sha256" line is what that digest must equal. */
static void
audit_old_line(GHashTable *old, struct audit_digest *d, const char *line, char *claimed)
{
    char tracking[AUDIT_TRACKING_MAX], head[AUDIT_HEX_LEN];
    long seq;
    struct audit_old *e;

    if (sscanf(line, "sha256 %64s", claimed) == 1)
        return;
    if (strncmp(line, "CPR-", 4) != 0
        || sscanf(line, "%63s %ld %64s", tracking, &seq, head) != 3)
        return;
    audit_digest_add(d, line);
    e = g_new0(struct audit_old, 1);
    e->seq = seq;
    snprintf(e->head, sizeof(e->head), "%s", head);
    g_hash_table_replace(old, g_strdup(tracking), e);
}

/* Read an earlier digest; false (said) if it cannot be read or does not
 * hash to its own sha256 line. */
static bool
audit_old_load(const char *path, GHashTable *old)
{
    FILE *fp = fopen(path, "r");
    char line[AUDIT_CHECK_LINE_MAX], claimed[AUDIT_HEX_LEN] = "", got[AUDIT_HEX_LEN];
    struct audit_digest *d;

    if (!fp) {
        cprctl_say("cannot read %s", path);
        return false;
    }
    d = audit_digest_new();
    while (fgets(line, sizeof(line), fp))
        audit_old_line(old, d, line, claimed);
    fclose(fp);
    audit_digest_finish(d, got);
    if (strcmp(got, claimed) != 0) {
        cprctl_say("%s: its chain lines do not hash to its sha256 line (the file was "
                   "changed or cut)", path);
        return false;
    }
    return true;
}

static void
audit_old_missing(gpointer key, gpointer value, gpointer arg)
{
    struct audit_old *e = value;
    struct audit_run *r = arg;
    char what[96];

    snprintf(what, sizeof(what), "in the digest (seq %ld) but no longer in the database",
             e->seq);
    if (!e->seen)
        audit_mismatch(r, key, what);
}

static int
audit_digest_print(struct audit_run *r, long long now)
{
    char hex[AUDIT_HEX_LEN], at[COMPLIANCE_ISO_LEN];

    audit_digest_finish(r->digest, hex);
    compliance_time_iso(now, at, sizeof(at));
    if (r->json) {
        json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:O, s:s}", "format", AUDIT_FORMAT,
                        "generated_at", at, "chains_count", (json_int_t)r->chains,
                        "events", (json_int_t)r->events, "chains", r->json, "sha256", hex);
        cprctl_json_print(doc);
        json_decref(doc);
        return CPRCTL_EX_OK;
    }
    printf("%s\ngenerated %s\n%schains %zu events %zu\nsha256 %s\n", AUDIT_FORMAT, at,
           r->lines->str, r->chains, r->events, hex);
    return CPRCTL_EX_OK;
}

int
cmd_audit_digest_run(PGconn *conn, const struct cprctl_opts *o)
{
    struct audit_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    /* The digest goes to stdout, so breaks go to stderr; --check prints
     * its findings instead of a digest. */
    r.report = o->check_file ? stdout : stderr;
    r.digest = audit_digest_new();
    r.lines = g_string_new("");
    r.json = o->json ? json_array() : NULL;
    r.old = o->check_file ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)
                          : NULL;
    rc = r.old && !audit_old_load(o->check_file, r.old) ? CPRCTL_EX_FAIL
                                                          : audit_scan(conn, o, &r);
    if (rc == CPRCTL_EX_OK && r.old) {
        g_hash_table_foreach(r.old, audit_old_missing, &r);
        printf("%s: %u chain%s of the earlier digest checked, %zu changed\n",
               r.mismatches ? "CHANGED" : "OK", g_hash_table_size(r.old),
               g_hash_table_size(r.old) == 1 ? "" : "s", r.mismatches);
        rc = r.mismatches || r.breaks ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
    } else if (rc == CPRCTL_EX_OK) {
        rc = audit_digest_print(&r, cprctl_db_now(conn));
        r.digest = NULL;
        rc = rc == CPRCTL_EX_OK && r.breaks ? CPRCTL_EX_FAIL : rc;
    }
    if (r.digest) {
        char ignored[AUDIT_HEX_LEN];

        audit_digest_finish(r.digest, ignored);
    }
    if (r.breaks)
        cprctl_say("%zu break%s in the audit chains (see above)", r.breaks,
                   r.breaks == 1 ? "" : "s");
    g_string_free(r.lines, TRUE);
    json_decref(r.json);
    if (r.old)
        g_hash_table_destroy(r.old);
    return rc;
}

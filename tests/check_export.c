/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_export - golden-file tests of the timeline, incident draft and
 *   report formats; the audit chain and the compliance arithmetic
 * SUMMARY
 *   top_srcdir=. tests/check_unit        (CPR_GOLDEN_UPDATE=1 rewrites)
 * DESCRIPTION
 *   Feeds tests/golden/case.json to export.c and compares the output byte
 *   for byte with the files of tests/golden/. A changed format fails
 *   until the golden file is updated on purpose (CPR_GOLDEN_UPDATE=1, then
 *   review the diff). A test also shows the comparison does fail when the
 *   input changes. The chain tests build a chain with OpenSSL and break
 *   it in each way verify-audit must name.
 * DIAGNOSTICS
 *   A mismatch prints the first differing line of both texts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "auditchain.h"
#include "check_unit.h"
#include "compliance.h"
#include "export.h"
#include "text.h"

#define HOUR (3600LL * 1000)

static char *
golden_path(const char *name)
{
    const char *top = getenv("top_srcdir");
    size_t n = strlen(top ? top : ".") + strlen(name) + 16;
    char *p = malloc(n);

    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/tests/golden/%s", top ? top : ".", name);
    return p;
}

static json_t *
golden_case(void)
{
    char *p = golden_path("case.json");
    json_error_t err;
    json_t *c = json_load_file(p, 0, &err);

    ck_assert_msg(c != NULL, "%s: %s (line %d)", p, err.text, err.line);
    free(p);
    return c;
}

static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int ch;

    ck_assert_msg(fp != NULL, "cannot read %s (CPR_GOLDEN_UPDATE=1 makes it)", path);
    while ((ch = fgetc(fp)) != EOF)
        fputc(ch, out);
    fclose(fp);
    fclose(out);
    return buf;
}

/* The first line where a and b differ, for the failure message. */
static void
first_diff(const char *a, const char *b, char *msg, size_t len)
{
    size_t line = 1, i = 0;
    const char *la = a, *lb = b;

    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n') {
            line++;
            la = a + i + 1;
            lb = b + i + 1;
        }
        i++;
    }
    snprintf(msg, len, "line %zu:\n  got:  %.*s\n  want: %.*s", line,
             (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
}

/* Compare out with the golden file; with CPR_GOLDEN_UPDATE=1, write it. */
static void
golden_compare(const char *name, const char *out)
{
    char *p = golden_path(name), *want, msg[1024];

    if (getenv("CPR_GOLDEN_UPDATE")) {
        FILE *fp = fopen(p, "wb");

        ck_assert_ptr_nonnull(fp);
        fputs(out, fp);
        fclose(fp);
    }
    want = slurp(p);
    if (strcmp(out, want) != 0) {
        first_diff(out, want, msg, sizeof(msg));
        ck_abort_msg("%s differs from the output at %s", p, msg);
    }
    free(want);
    free(p);
}

typedef int (*case_format)(FILE *fp, const json_t *c, const struct export_opts *o);

static char *
render(case_format f, const json_t *c, bool name_reporter)
{
    struct export_opts o = { .name_reporter = name_reporter };
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(f(fp, c, &o), 0);
    fclose(fp);
    return buf;
}

START_TEST(test_timeline_golden)
{
    json_t *c = golden_case();
    char *out = render(export_timeline, c, false);

    golden_compare("timeline.md", out);
    /* No control character of the reporter's survives. */
    ck_assert_ptr_null(strchr(out, '\x1b'));
    ck_assert_ptr_null(strstr(out, "reporter@example.net"));
    free(out);
    json_decref(c);
}
END_TEST

START_TEST(test_incident_draft_golden)
{
    json_t *c = golden_case();
    char *out = render(export_incident_draft, c, false), *named;
    static const char *const sections[] = { "## Summary", "## Impact", "## Timeline",
        "## Related Incidents", "## Root Cause Analysis", "## Lessons Learned",
        "## Action Items", "## Appendix" };
    const char *at = out;

    golden_compare("incident-draft.md", out);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const char *s = strstr(at, sections[i]);

        ck_assert_msg(s != NULL, "section %s missing or out of order", sections[i]);
        at = s;
    }
    ck_assert_ptr_nonnull(strstr(out, "```csv\n" EXPORT_CERT_CSV_HEADER "\n"));
    ck_assert_ptr_null(strchr(out, '\r'));
    ck_assert_ptr_null(strstr(out, "Mallory"));
    named = render(export_incident_draft, c, true);
    ck_assert_ptr_nonnull(strstr(named, "Mallory Reporter"));
    ck_assert_ptr_nonnull(strstr(named, "(reporter@example.net)"));
    free(named);
    free(out);
    json_decref(c);
}
END_TEST

START_TEST(test_cert_csv_quoting)
{
    json_t *c = golden_case();
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_int_eq(export_cert_csv(fp, c), 0);
    fclose(fp);
    golden_compare("certificates.csv", buf);
    /* The repeated certificate is listed once; commas and quotes quoted. */
    ck_assert_ptr_nonnull(strstr(buf, ",\"CN=shop.example.com, O=\"\"Shop, Inc.\"\"\","));
    ck_assert_ptr_null(strstr(buf + strlen(buf) / 2 + 1, "3f2a11aa22bb33cc"));
    ck_assert_ptr_nonnull(strstr(buf, "\"'=HYPERLINK(\"\"x\"\")\""));
    ck_assert_ptr_nonnull(strstr(buf, ",Yes,2026-03-01T18:30:00.000Z,keyCompromise\r\n"));
    free(buf);
    json_decref(c);
}
END_TEST

/* The comparison must be able to fail: another event changes the output. */
START_TEST(test_golden_detects_change)
{
    json_t *c = golden_case();
    char *a = render(export_timeline, c, false), *b;

    json_array_append_new(json_object_get(c, "events"),
        json_pack("{s:i, s:s, s:s, s:s}", "seq", 16, "at", "2026-03-04T00:00:00.000Z",
                  "actor", "carol", "type", "reopened"));
    b = render(export_timeline, c, false);
    ck_assert_str_ne(a, b);
    ck_assert_ptr_nonnull(strstr(b, "| 2026-03-04 00:00:00.000 | Case re-opened"));
    free(a);
    free(b);
    json_decref(c);
}
END_TEST

START_TEST(test_report_golden)
{
    json_t *c = golden_case(), *cases = json_array(), *r;
    struct deadline_policy p = { .acknowledge_ms = HOUR / 2, .report_ms = 24 * HOUR };
    long long now = compliance_time_ms("2026-04-01T00:00:00.000Z");
    char *buf = NULL;
    size_t len = 0;
    FILE *fp;

    json_array_append(cases, c);
    r = compliance_report(cases, &p, now, "2026-03-01", "2026-03-31");
    fp = open_memstream(&buf, &len);
    ck_assert_int_eq(export_report_text(fp, r), 0);
    fclose(fp);
    golden_compare("report.txt", buf);
    free(buf);
    fp = open_memstream(&buf, &len);
    ck_assert_int_eq(export_report_csv(fp, r), 0);
    fclose(fp);
    golden_compare("report.csv", buf);
    free(buf);
    json_decref(r);
    json_decref(cases);
    json_decref(c);
}
END_TEST

/* ---- compliance ---- */

static const char *
clock_status(const json_t *row, size_t k)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(row, "clocks"), k),
                                             "status"));
}

START_TEST(test_compliance_statuses)
{
    json_t *c = golden_case(), *row;
    struct deadline_policy p = { .acknowledge_ms = HOUR / 2, .report_ms = 24 * HOUR };

    row = compliance_case(c, &p, compliance_time_ms("2026-04-01T00:00:00Z"));
    ck_assert_str_eq(clock_status(row, 0), "missed");   /* acked after 35 of 30 min */
    ck_assert_str_eq(clock_status(row, 1), "met");      /* reporter after 2 h */
    ck_assert_str_eq(clock_status(row, 2), "missed");   /* Subscriber after 25 h */
    ck_assert_str_eq(clock_status(row, 3), "met");      /* revoked after 8.5 h */
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(row, "clocks"), 2),
                                           "breach_recorded")));
    json_decref(row);
    json_decref(c);
}
END_TEST

START_TEST(test_compliance_time)
{
    char buf[COMPLIANCE_ISO_LEN];

    ck_assert_int_eq(compliance_time_ms("1970-01-01T00:00:01.500Z"), 1500);
    ck_assert_int_eq(compliance_time_ms("2026-03-01T10:00:00Z"), 1772359200000LL);
    ck_assert_int_eq(compliance_time_ms("garbage"), 0);
    ck_assert_int_eq(compliance_time_ms(NULL), 0);
    compliance_time_iso(1772359200123LL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-03-01T10:00:00.123Z");
}
END_TEST

START_TEST(test_compliance_totals)
{
    json_t *cases = json_array(), *r, *t;
    struct deadline_policy p = { .acknowledge_ms = HOUR, .report_ms = 24 * HOUR };
    char at[COMPLIANCE_ISO_LEN];
    long long base = compliance_time_ms("2026-01-01T00:00:00Z");

    /* Acks after 10, 20, ..., 100 minutes: median 55, p95 100, max 100.
     * The report reads the events; the columns say the same. */
    for (int i = 1; i <= 10; i++) {
        json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "tracking", "CPR-2026-000001",
                              "received_at", "", "ack_clock_from", "", "state", "open",
                              "events");
        json_t *ev = json_object_get(c, "events");

        compliance_time_iso(base, at, sizeof(at));
        json_object_set_new(c, "received_at", json_string(at));
        json_object_set_new(c, "ack_clock_from", json_string(at));
        json_array_append_new(ev, json_pack("{s:s, s:s, s:{s:s}}", "type", "received",
                                            "at", at, "data", "kind", "new-report"));
        compliance_time_iso(base + i * 10 * 60000LL, at, sizeof(at));
        json_object_set_new(c, "acked_at", json_string(at));
        json_array_append_new(ev, json_pack("{s:s, s:s, s:{}}", "type", "ack", "at", at,
                                            "data"));
        json_array_append_new(cases, c);
    }
    r = compliance_report(cases, &p, base + 48 * HOUR, "2026-01-01", "2026-01-02");
    t = json_object_get(json_object_get(json_object_get(r, "totals"), "clocks"), "acknowledge");
    ck_assert_int_eq(json_integer_value(json_object_get(t, "median_ms")), 55 * 60000LL);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "p95_ms")), 100 * 60000LL);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "max_ms")), 100 * 60000LL);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "met")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "missed")), 4);
    /* Reports: nobody answered, 48 h later: overdue, and breaches counted. */
    t = json_object_get(json_object_get(json_object_get(r, "totals"), "clocks"),
                        "report-reporter");
    ck_assert_int_eq(json_integer_value(json_object_get(t, "overdue")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "totals"),
                                                        "breaches")), 24);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "totals"),
                                                        "columns_disagree")), 0);
    json_decref(r);
    json_decref(cases);
}
END_TEST

START_TEST(test_compliance_next)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i}", "received_at", "2026-01-01T00:00:00Z",
                          "ack_clock_from", "2026-01-01T00:00:00Z", "state", "open",
                          "acked_at", "2026-01-01T00:10:00Z", "br_item", 3);
    struct deadline_policy p = { .acknowledge_ms = HOUR / 2, .report_ms = 24 * HOUR };
    struct compliance_next n;

    /* Acked: the reports and the revocation are due at +24 h; ties keep
     * clock order, so report-reporter is named. */
    ck_assert(compliance_next(c, &p, compliance_time_ms("2026-01-02T01:00:00Z"), &n));
    ck_assert_int_eq(n.clock, CLOCK_REPORT_REPORTER);
    ck_assert_int_eq(n.left_ms, -HOUR);
    json_object_set_new(c, "state", json_string("closed"));
    ck_assert(!compliance_next(c, &p, 0, &n));
    json_decref(c);
}
END_TEST

/* ---- the audit chain ---- */

struct chain_fixture {
    unsigned char canon[3][32];
    char hash[3][AUDIT_HEX_LEN];
    char breaks[8][160];
    int nbreaks;
};

static void
on_break(void *arg, const char *tracking, long seq, const char *what)
{
    struct chain_fixture *f = arg;

    if (f->nbreaks < 8)
        snprintf(f->breaks[f->nbreaks++], sizeof(f->breaks[0]), "%s/%ld/%s", tracking, seq,
                 what);
}

static void
chain_make(struct chain_fixture *f)
{
    unsigned char buf[64], h[32];

    memset(f, 0, sizeof(*f));
    for (int i = 0; i < 3; i++) {
        memset(f->canon[i], 'a' + i, sizeof(f->canon[i]));
        if (i == 0)
            SHA256(f->canon[0], sizeof(f->canon[0]), h);
        else {
            ck_assert(audit_unhex(f->hash[i - 1], buf, 32));
            memcpy(buf + 32, f->canon[i], 32);
            SHA256(buf, sizeof(buf), h);
        }
        audit_hex(h, 32, f->hash[i]);
    }
}

static size_t
chain_run(struct chain_fixture *f, const char *head, int skip)
{
    struct audit_chain ch;

    audit_chain_begin(&ch, "CPR-2026-000001", head, on_break, f);
    for (int i = 0; i < 3; i++)
        if (i != skip)
            audit_chain_add(&ch, i + 1, i ? f->hash[i - 1] : NULL, f->hash[i], f->canon[i], 32);
    return audit_chain_end(&ch);
}

START_TEST(test_chain_intact_and_broken)
{
    struct chain_fixture f;

    chain_make(&f);
    ck_assert_int_eq(chain_run(&f, f.hash[2], -1), 0);
    /* Content changed at seq 2: named once. */
    f.canon[1][0] ^= 1;
    ck_assert_int_eq(chain_run(&f, f.hash[2], -1), 1);
    ck_assert_str_eq(f.breaks[0], "CPR-2026-000001/2/hash does not match the event's content");
    /* A deleted event: a seq gap, and a prev_hash that does not chain. */
    chain_make(&f);
    ck_assert_int_ge(chain_run(&f, f.hash[2], 1), 2);
    ck_assert_ptr_nonnull(strstr(f.breaks[0], "/3/seq 3 follows seq 1"));
    /* The head does not match. */
    chain_make(&f);
    ck_assert_int_eq(chain_run(&f, f.hash[1], -1), 1);
    ck_assert_str_eq(f.breaks[0], "CPR-2026-000001/0/the case's audit_head is not its last "
                     "event's hash");
}
END_TEST

START_TEST(test_digest_line)
{
    struct chain_fixture f;
    struct audit_chain ch;
    struct audit_digest *d;
    char line[AUDIT_LINE_MAX], want[AUDIT_LINE_MAX], hex[AUDIT_HEX_LEN], hex2[AUDIT_HEX_LEN];
    unsigned char h[32];

    chain_make(&f);
    audit_chain_begin(&ch, "CPR-2026-000001", f.hash[2], on_break, &f);
    for (int i = 0; i < 3; i++)
        audit_chain_add(&ch, i + 1, i ? f.hash[i - 1] : NULL, f.hash[i], f.canon[i], 32);
    audit_chain_end(&ch);
    audit_digest_line(&ch, line, sizeof(line));
    snprintf(want, sizeof(want), "CPR-2026-000001 3 %s\n", f.hash[2]);
    ck_assert_str_eq(line, want);
    d = audit_digest_new();
    audit_digest_add(d, line);
    audit_digest_finish(d, hex);
    SHA256((const unsigned char *)want, strlen(want), h);
    audit_hex(h, 32, hex2);
    ck_assert_str_eq(hex, hex2);
}
END_TEST

START_TEST(test_text_cells)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    text_md_cell(fp, "a|b\x1b[0m\xe2\x80\xae");
    fputc(';', fp);
    text_md_cell(fp, "");
    fputc(';', fp);
    text_csv_field(fp, "plain");
    fputc(';', fp);
    text_csv_field(fp, "+1");
    fclose(fp);
    ck_assert_str_eq(buf, "a\\|b?\\[0m?;-;plain;\"'+1\"");
    free(buf);
}
END_TEST

/* A hostile Subject renders as text: no link, image, emphasis or HTML. */
START_TEST(test_md_cell_markup)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    text_md_cell(fp, "![x](http://e.example/a_b) *b* __c__ ~~d~~ `e` <img src=x>");
    fclose(fp);
    ck_assert_str_eq(buf, "!\\[x\\](http://e.example/a\\_b) \\*b\\* \\_\\_c\\_\\_ "
                     "\\~\\~d\\~\\~ \\`e\\` \\<img src=x\\>");
    free(buf);
}
END_TEST

/* Every field a spreadsheet would run as a formula gets a leading '. */
START_TEST(test_csv_formula)
{
    static const char *const in[] = { "-2+3", "=1", "@SUM(A1)", "\t=1", "\r=1", "  =1",
                                      "a-b", "1-2" };
    static const char *const want[] = { "\"'-2+3\"", "\"'=1\"", "\"'@SUM(A1)\"",
                                        "\"' =1\"", "\"' =1\"", "\"'  =1\"", "a-b", "1-2" };

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);

        text_csv_field(fp, in[i]);
        fclose(fp);
        ck_assert_msg(strcmp(buf, want[i]) == 0, "%zu: got %s, want %s", i, buf, want[i]);
        free(buf);
    }
}
END_TEST

/* ---- the columns against the events ---- */

struct col_log {
    char what[8][256];
    int n;
};

static void
on_column(void *arg, const char *column, const char *stored, const char *said)
{
    struct col_log *l = arg;

    if (l->n < 8)
        snprintf(l->what[l->n++], sizeof(l->what[0]), "%s: %s / %s", column, stored, said);
}

static size_t
facts_check_case(const json_t *c, struct col_log *l)
{
    struct audit_facts f;
    size_t n;

    memset(l, 0, sizeof(*l));
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    n = audit_facts_check(&f, c, on_column, l);
    audit_facts_free(&f);
    return n;
}

START_TEST(test_facts_golden_agree)
{
    json_t *c = golden_case();
    struct col_log l;

    ck_assert_int_eq(facts_check_case(c, &l), 0);
    json_decref(c);
}
END_TEST

/* The review's attack: reporter_done_at moved earlier by UPDATE. The
 * column is named, and the report keeps the events' (late) time. */
START_TEST(test_facts_tampered_column)
{
    json_t *c = golden_case(), *row, *cases = json_array(), *r;
    struct deadline_policy p = { .acknowledge_ms = HOUR / 2, .report_ms = 24 * HOUR };
    struct col_log l;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp;

    json_object_set_new(c, "subscriber_done_at", json_string("2026-03-01T11:00:00.000Z"));
    json_object_set_new(c, "br_item", json_integer(9));
    ck_assert_int_eq(facts_check_case(c, &l), 2);
    ck_assert_str_eq(l.what[0], "subscriber_done_at: 2026-03-01T11:00:00.000Z / "
                     "2026-03-02T11:00:00.000000Z");
    ck_assert_str_eq(l.what[1], "br_item: 9 / 4");
    row = compliance_case(c, &p, compliance_time_ms("2026-04-01T00:00:00Z"));
    ck_assert_str_eq(clock_status(row, 2), "missed");   /* still: the events say 25 h */
    ck_assert_str_eq(clock_status(row, 3), "met");      /* item 4 (24 h), as confirmed */
    ck_assert_int_eq(json_array_size(json_object_get(row, "columns_disagree")), 2);
    json_array_append(cases, c);
    r = compliance_report(cases, &p, compliance_time_ms("2026-04-01T00:00:00Z"), "a", "b");
    fp = open_memstream(&buf, &len);
    ck_assert_int_eq(export_report_text(fp, r), 0);
    fclose(fp);
    ck_assert_ptr_nonnull(strstr(buf, "columns disagree with the audit trail: run "
                                 "verify-audit (subscriber_done_at, br_item)"));
    ck_assert_ptr_nonnull(strstr(buf, "1 case whose columns disagree"));
    free(buf);
    buf = render(export_incident_draft, c, false);
    ck_assert_ptr_nonnull(strstr(buf, "> **Warning:** the case's columns disagree with the "
                                 "audit trail (subscriber_done_at, br_item)"));
    free(buf);
    json_decref(r);
    json_decref(row);
    json_decref(cases);
    json_decref(c);
}
END_TEST

static void
ev_add(json_t *c, const char *type, const char *at, json_t *data)
{
    json_array_append_new(json_object_get(c, "events"),
                          json_pack("{s:s, s:s, s:o}", "type", type, "at", at, "data", data));
}

/* The replay follows the SQL: a follow-up restarts the ack clock and
 * clears the ack; responses are first-wins, confirms and waivers
 * last-wins; a re-open keeps closed_at; staff actions may be a little
 * later than their column, never earlier. */
START_TEST(test_facts_replay)
{
    json_t *c = json_pack("{s:[]}", "events"), *cols;
    struct col_log l;

    ev_add(c, "received", "2026-01-01T00:00:00.000000Z", json_pack("{s:s}", "kind", "new-report"));
    ev_add(c, "ack", "2026-01-01T00:10:00.000300Z", json_object());
    ev_add(c, "response", "2026-01-01T01:00:00.000200Z", json_pack("{s:s}", "to", "reporter"));
    ev_add(c, "response", "2026-01-01T02:00:00Z", json_pack("{s:s}", "to", "reporter"));
    ev_add(c, "waiver", "2026-01-01T03:00:00Z",
           json_pack("{s:s, s:s}", "to", "subscriber", "reason", "no contact"));
    ev_add(c, "confirm", "2026-01-01T04:00:00Z", json_pack("{s:i, s:s}", "br_item", 4,
                                                           "crl_reason", "keyCompromise"));
    ev_add(c, "confirm", "2026-01-01T05:00:00Z", json_pack("{s:i, s:s}", "br_item", 9,
                                                           "crl_reason", "superseded"));
    ev_add(c, "close", "2026-01-01T06:00:00Z", json_pack("{s:s}", "resolution", "done"));
    ev_add(c, "reopened", "2026-01-02T00:00:00Z", json_pack("{s:s}", "reason", "follow-up"));
    ev_add(c, "received", "2026-01-02T00:00:00Z", json_pack("{s:s}", "kind", "follow-up"));
    cols = json_pack("{s:s, s:s, s:n, s:s, s:s, s:s, s:i, s:s, s:n, s:s, s:s, s:s}",
        "received_at", "2026-01-01T00:00:00.000000Z",
        "ack_clock_from", "2026-01-02T00:00:00.000000Z", "acked_at",
        "reporter_done_at", "2026-01-01T01:00:00.000100Z",
        "subscriber_done_at", "2026-01-01T03:00:00Z", "subscriber_waiver", "no contact",
        "br_item", 9, "crl_reason", "superseded", "revoked_at",
        "state", "open", "closed_at", "2026-01-01T06:00:00Z", "resolution", "done");
    json_object_update(c, cols);
    json_decref(cols);
    ck_assert_msg(facts_check_case(c, &l) == 0, "%s", l.what[0]);
    /* A column later than its event is not a clock-read gap: it was moved. */
    json_object_set_new(c, "reporter_done_at", json_string("2026-01-01T01:00:00.000300Z"));
    ck_assert_int_eq(facts_check_case(c, &l), 1);
    ck_assert_str_eq(l.what[0], "reporter_done_at: 2026-01-01T01:00:00.000300Z / "
                     "2026-01-01T01:00:00.000200Z");
    /* More than the slack earlier: moved too. */
    json_object_set_new(c, "reporter_done_at", json_string("2026-01-01T00:59:58Z"));
    ck_assert_int_eq(facts_check_case(c, &l), 1);
    /* The receipt is exact; an ack the events cleared must be NULL. */
    json_object_set_new(c, "reporter_done_at", json_string("2026-01-01T01:00:00.0002Z"));
    json_object_set_new(c, "received_at", json_string("2026-01-01T00:00:00.000001Z"));
    json_object_set_new(c, "acked_at", json_string("2026-01-01T00:10:00Z"));
    json_object_set_new(c, "state", json_string("closed"));
    ck_assert_int_eq(facts_check_case(c, &l), 3);
    ck_assert_str_eq(l.what[0], "received_at: 2026-01-01T00:00:00.000001Z / "
                     "2026-01-01T00:00:00.000000Z");
    ck_assert_str_eq(l.what[1], "acked_at: 2026-01-01T00:10:00Z / NULL");
    ck_assert_str_eq(l.what[2], "state: \"closed\" / \"open\"");
    json_decref(c);
}
END_TEST

START_TEST(test_audit_time_us)
{
    char buf[AUDIT_ISO_LEN];

    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01.5Z"), 1500000);
    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01.000001Z"), 1000001);
    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01Z"), 1000000);
    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01.0000001Z"), 0);
    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01+02:00"), 0);
    ck_assert_int_eq(audit_time_us("1970-01-01T00:00:01."), 0);
    ck_assert_int_eq(audit_time_us(NULL), 0);
    audit_time_iso(1772359200123456LL, 6, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-03-01T10:00:00.123456Z");
    audit_time_iso(1772359200123456LL, 3, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-03-01T10:00:00.123Z");
}
END_TEST

/* verify-audit's path: the chain reads the canonical bytes it hashed. */
START_TEST(test_chain_columns)
{
    static const char *const canon[] = {
        "[\"CPR-2026-000001\", 1, \"2026-01-01T00:00:00.000000Z\", \"cpr-milter\", "
        "\"received\", 1, {\"kind\": \"new-report\"}]",
        "[\"CPR-2026-000001\", 2, \"2026-01-01T05:00:00.000000Z\", \"alice\", "
        "\"response\", null, {\"to\": \"reporter\", \"via\": \"cprctl\"}]",
    };
    struct chain_fixture f;
    struct audit_chain ch;
    unsigned char h[32], buf[32 + 256];
    char hash[2][AUDIT_HEX_LEN];
    json_t *cols = json_pack("{s:s, s:s, s:s, s:s}", "received_at",
                             "2026-01-01T00:00:00.000000Z", "ack_clock_from",
                             "2026-01-01T00:00:00.000000Z", "reporter_done_at",
                             "2026-01-01T00:30:00.000000Z", "state", "open");

    memset(&f, 0, sizeof(f));
    SHA256((const unsigned char *)canon[0], strlen(canon[0]), h);
    audit_hex(h, 32, hash[0]);
    memcpy(buf, h, 32);
    memcpy(buf + 32, canon[1], strlen(canon[1]));
    SHA256(buf, 32 + strlen(canon[1]), h);
    audit_hex(h, 32, hash[1]);
    audit_chain_begin(&ch, "CPR-2026-000001", hash[1], on_break, &f);
    audit_chain_columns(&ch, cols);
    for (int i = 0; i < 2; i++)
        audit_chain_add(&ch, i + 1, i ? hash[0] : NULL, hash[i],
                        (const unsigned char *)canon[i], strlen(canon[i]));
    ck_assert_int_eq(audit_chain_end(&ch), 1);
    ck_assert_str_eq(f.breaks[0], "CPR-2026-000001/0/column reporter_done_at: "
                     "2026-01-01T00:30:00.000000Z but events say 2026-01-01T05:00:00.000000Z");
    json_decref(cols);
}
END_TEST

/* Only prev_hash changed: the content hashes still match (they chain from
 * the stored hash before), so the prev_hash check alone names it. */
START_TEST(test_chain_prev_hash_only)
{
    struct chain_fixture f;
    struct audit_chain ch;

    chain_make(&f);
    audit_chain_begin(&ch, "CPR-2026-000001", f.hash[2], on_break, &f);
    audit_chain_add(&ch, 1, NULL, f.hash[0], f.canon[0], 32);
    audit_chain_add(&ch, 2, f.hash[2], f.hash[1], f.canon[1], 32);    /* not hash[0] */
    audit_chain_add(&ch, 3, f.hash[1], f.hash[2], f.canon[2], 32);
    ck_assert_int_eq(audit_chain_end(&ch), 1);
    ck_assert_str_eq(f.breaks[0], "CPR-2026-000001/2/prev_hash is not the hash of the "
                     "event before it");
}
END_TEST

/* A chain of canonical texts, hashed here with OpenSSL as the database does:
 * hash[i] = SHA-256(hash[i-1] || canon[i]). */
static void
chain_hash_texts(const char *const *canon, int n, char hash[][AUDIT_HEX_LEN])
{
    unsigned char h[32], buf[32 + 512];

    for (int i = 0; i < n; i++) {
        size_t len = strlen(canon[i]), off = i ? 32 : 0;

        ck_assert_uint_le(len, 512);
        if (i)
            ck_assert(audit_unhex(hash[i - 1], buf, 32));
        memcpy(buf + off, canon[i], len);
        SHA256(buf, off + len, h);
        audit_hex(h, 32, hash[i]);
    }
}

static void
on_time(void *arg, const char *tracking, long seq, const char *what)
{
    struct chain_fixture *f = arg;

    /* Time findings share the fixture's list, prefixed, to show their order. */
    if (f->nbreaks < 8)
        snprintf(f->breaks[f->nbreaks++], sizeof(f->breaks[0]), "TIME %s/%ld/%s", tracking,
                 seq, what);
}

static size_t
chain_texts_run(const char *const *canon, int n, json_t *cols, struct chain_fixture *f,
                size_t *times)
{
    char hash[4][AUDIT_HEX_LEN];
    struct audit_chain ch;
    size_t breaks;

    ck_assert_int_le(n, 4);
    memset(f, 0, sizeof(*f));
    chain_hash_texts(canon, n, hash);
    audit_chain_begin(&ch, "CPR-2026-000001", hash[n - 1], on_break, f);
    audit_chain_on_time(&ch, on_time);
    if (cols)
        audit_chain_columns(&ch, cols);
    for (int i = 0; i < n; i++)
        audit_chain_add(&ch, i + 1, i ? hash[i - 1] : NULL, hash[i],
                        (const unsigned char *)canon[i], strlen(canon[i]));
    breaks = audit_chain_end(&ch);
    *times = ch.time_findings;
    return breaks;
}

#define V1_RECEIVED "[\"CPR-2026-000001\", 1, \"2026-01-01T00:00:00.000000Z\", " \
    "\"cpr-milter\", \"received\", 1, {\"kind\": \"new-report\"}]"
#define V2_ACK "[2, \"CPR-2026-000001\", 2, \"2026-01-01T00:10:00.000100Z\", \"bob\", " \
    "\"alice\", \"ack\", null, {}]"
#define V2_RESPONSE "[2, \"CPR-2026-000001\", 3, \"2026-01-01T05:00:00.000000Z\", " \
    "\"bob\", \"alice\", \"response\", null, {\"to\": \"reporter\", \"via\": \"cprctl\"}]"

/* Both canonical formats in one chain (a case older than sql/013): every
 * hash recomputes, and the replay reads type, time and data of each. */
START_TEST(test_chain_both_formats)
{
    const char *const canon[] = { V1_RECEIVED, V2_ACK, V2_RESPONSE };
    const char *const down[] = { V1_RECEIVED, V2_ACK,
        "[\"CPR-2026-000001\", 3, \"2026-01-01T05:00:00.000000Z\", \"bob\", \"response\", "
        "null, {\"to\": \"reporter\", \"via\": \"cprctl\"}]" };
    json_t *cols = json_pack("{s:s, s:s, s:s, s:s, s:s}", "received_at",
                             "2026-01-01T00:00:00.000000Z", "ack_clock_from",
                             "2026-01-01T00:00:00.000000Z", "acked_at",
                             "2026-01-01T00:10:00.000000Z", "reporter_done_at",
                             "2026-01-01T05:00:00.000000Z", "state", "open");
    struct chain_fixture f;
    struct audit_event e;
    json_t *doc;
    size_t times;

    ck_assert_int_eq(chain_texts_run(canon, 3, cols, &f, &times), 0);
    ck_assert_uint_eq(times, 0);
    ck_assert(audit_event_parse((const unsigned char *)V2_ACK, strlen(V2_ACK), &doc, &e));
    ck_assert_int_eq(e.format, 2);
    ck_assert_int_eq(e.seq, 2);
    ck_assert_str_eq(e.actor, "bob");
    ck_assert_str_eq(e.db_user, "alice");
    ck_assert_str_eq(e.type, "ack");
    json_decref(doc);
    ck_assert(audit_event_parse((const unsigned char *)V1_RECEIVED, strlen(V1_RECEIVED),
                                &doc, &e));
    ck_assert_int_eq(e.format, 1);
    ck_assert_ptr_null(e.db_user);
    ck_assert_str_eq(e.type, "received");
    json_decref(doc);
    /* A format-1 event after a format-2 one: its db_user is not hashed. */
    ck_assert_int_eq(chain_texts_run(down, 3, cols, &f, &times), 1);
    ck_assert_str_eq(f.breaks[0], "CPR-2026-000001/3/a format 1 event after a format 2 one "
                     "(its db_user is not covered by its hash)");
    json_decref(cols);
}
END_TEST

/* Times that run backwards or precede the receipt: findings, not breaks. */
START_TEST(test_chain_times)
{
    const char *const back[] = { V1_RECEIVED,
        "[2, \"CPR-2026-000001\", 2, \"2026-01-01T00:10:00.000000Z\", \"a\", \"u\", \"note\", "
        "null, {}]",
        "[2, \"CPR-2026-000001\", 3, \"2026-01-01T00:09:59.999999Z\", \"a\", \"u\", \"note\", "
        "null, {}]" };
    const char *const early[] = { V1_RECEIVED,
        "[2, \"CPR-2026-000001\", 2, \"2025-12-31T23:59:59.000000Z\", \"a\", \"u\", \"note\", "
        "null, {}]" };
    json_t *cols = json_pack("{s:s, s:s, s:s}", "received_at", "2026-01-01T00:00:00.000000Z",
                             "ack_clock_from", "2026-01-01T00:00:00.000000Z", "state", "open");
    struct chain_fixture f;
    size_t times;

    ck_assert_int_eq(chain_texts_run(back, 3, cols, &f, &times), 0);
    ck_assert_uint_eq(times, 1);
    ck_assert_str_eq(f.breaks[0], "TIME CPR-2026-000001/3/time runs backwards at seq 3 "
                     "(2026-01-01T00:09:59.999999Z, the event before at "
                     "2026-01-01T00:10:00.000000Z)");
    ck_assert_int_eq(chain_texts_run(early, 2, cols, &f, &times), 0);
    ck_assert_uint_eq(times, 2);
    ck_assert_str_eq(f.breaks[1], "TIME CPR-2026-000001/2/event precedes receipt "
                     "(2025-12-31T23:59:59.000000Z, received 2026-01-01T00:00:00.000000Z)");
    /* Equal times are honest (two events in one clock tick). */
    ck_assert_int_eq(chain_texts_run((const char *const[]){ V1_RECEIVED,
        "[2, \"CPR-2026-000001\", 2, \"2026-01-01T00:00:00.000000Z\", \"a\", \"u\", "
        "\"note\", null, {}]" }, 2, cols, &f, &times), 0);
    ck_assert_uint_eq(times, 0);
    json_decref(cols);
}
END_TEST

/* Every change of BR item is listed, with or without a recorded reason;
 * a re-confirm of the same item is not a change. */
START_TEST(test_facts_br_changes)
{
    json_t *c = json_pack("{s:[]}", "events");
    struct audit_facts f;
    const json_t *ch;

    ev_add(c, "confirm", "2026-01-01T04:00:00Z", json_pack("{s:i}", "br_item", 4));
    ev_add(c, "confirm", "2026-01-01T04:30:00Z", json_pack("{s:i}", "br_item", 4));
    ev_add(c, "confirm", "2026-01-01T05:00:00Z", json_pack("{s:i}", "br_item", 6));
    ev_add(c, "confirm", "2026-01-01T06:00:00Z",
           json_pack("{s:i, s:i, s:s}", "br_item", 2, "br_item_from", 6, "reason", "key found"));
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    ck_assert_uint_eq(json_array_size(f.br_changes), 2);
    ch = json_array_get(f.br_changes, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(ch, "from")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(ch, "to")), 6);
    ck_assert(json_is_null(json_object_get(ch, "reason")) || !json_object_get(ch, "reason"));
    ck_assert_str_eq(json_string_value(json_object_get(ch, "at")), "2026-01-01T05:00:00.000000Z");
    ch = json_array_get(f.br_changes, 1);
    ck_assert_str_eq(json_string_value(json_object_get(ch, "reason")), "key found");
    ck_assert_int_eq(json_integer_value(f.br_item), 2);
    audit_facts_free(&f);
    json_decref(c);
}
END_TEST

Suite *
export_suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");

    tcase_add_test(tc, test_timeline_golden);
    tcase_add_test(tc, test_incident_draft_golden);
    tcase_add_test(tc, test_cert_csv_quoting);
    tcase_add_test(tc, test_golden_detects_change);
    tcase_add_test(tc, test_report_golden);
    tcase_add_test(tc, test_compliance_statuses);
    tcase_add_test(tc, test_compliance_time);
    tcase_add_test(tc, test_compliance_totals);
    tcase_add_test(tc, test_compliance_next);
    tcase_add_test(tc, test_chain_intact_and_broken);
    tcase_add_test(tc, test_chain_prev_hash_only);
    tcase_add_test(tc, test_chain_both_formats);
    tcase_add_test(tc, test_chain_times);
    tcase_add_test(tc, test_facts_br_changes);
    tcase_add_test(tc, test_digest_line);
    tcase_add_test(tc, test_text_cells);
    tcase_add_test(tc, test_md_cell_markup);
    tcase_add_test(tc, test_csv_formula);
    tcase_add_test(tc, test_facts_golden_agree);
    tcase_add_test(tc, test_facts_tampered_column);
    tcase_add_test(tc, test_facts_replay);
    tcase_add_test(tc, test_audit_time_us);
    tcase_add_test(tc, test_chain_columns);
    suite_add_tcase(s, tc);
    return s;
}

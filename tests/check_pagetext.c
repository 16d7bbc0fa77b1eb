/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_pagetext - unit tests of core/pagetext.c
 * DESCRIPTION
 *   The summary (the example, at most 120 bytes for every
 *   category, hostile long and multibyte tracking and category), the
 *   details (every clock, reporter's domain only unless asked, evidence,
 *   subject controls, ack link and fallback), the evidence summary,
 *   durations and severities. The clock is passed in. Prints the summary
 *   length per category (a figure for the issue) with CPR_PAGETEXT_FIGURES=1.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_unit.h"
#include "pagetext.h"

#define T0 1796613240000LL    /* 2026-12-07T03:14:00Z */
#define MIN 60000LL
#define HOUR (60 * MIN)

static struct pagetext_case
sample(const char *category)
{
    struct pagetext_case c = {
        .tracking = "CPR-2026-000042", .category = category,
        .subject = "Compromised key for www.example.com", .reporter = "Alice <alice@Example.ORG>",
        .evidence = "private key, SPKI dc86\u2026; 2 certificates",
        .clocks = {
            { "acknowledge", T0 + 30 * MIN, 0 },
            { "report-reporter", T0 + 24 * HOUR, 0 },
            { "report-subscriber", T0 + 24 * HOUR, 0 },
            { "revocation", T0 + 24 * HOUR, 0 },
        },
        .nclocks = 4,
    };
    return c;
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += (((unsigned char) *s) & 0xc0) != 0x80;
    return n;
}

static bool
valid_utf8_end(const char *s)
{
    size_t n = strlen(s);
    size_t i = n;
    int need;

    /* Walk back to the last lead byte and check the sequence is whole. */
    while (i > 0 && (((unsigned char) s[i - 1]) & 0xc0) == 0x80)
        i--;
    if (i == 0)
        return n == 0;
    unsigned char lead = (unsigned char) s[i - 1];
    need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return n - (i - 1) == (size_t) need;
}

START_TEST(test_summary_example)
{
    struct pagetext_case c = sample("key-compromise");
    char buf[256];
    long long now = T0 + 35 * MIN;

    pagetext_summary(&c, "acknowledge", "page", now, buf, sizeof(buf));
    ck_assert_str_eq(buf, "key-compromise CPR-2026-000042: acknowledge overdue 5m; "
                     "reports due in 23h25m; revocation due in 23h25m");
    c.clocks[2].due += HOUR;      /* the subscriber's report later: said apart */
    pagetext_summary(&c, "acknowledge", "page", now, buf, sizeof(buf));
    ck_assert_str_eq(buf, "key-compromise CPR-2026-000042: acknowledge overdue 5m; "
                     "report due in 23h25m; revocation due in 23h25m");
    ck_assert_uint_le(strlen(buf), PAGETEXT_SUMMARY_MAX);   /* the rest did not fit */
    ck_assert_uint_le(strlen(buf), PAGETEXT_SUMMARY_MAX);
}
END_TEST

START_TEST(test_summary_breach_and_resolve)
{
    struct pagetext_case c = sample("misissuance");
    char buf[256];

    c.clocks[0].stopped = T0 + 10 * MIN;
    pagetext_summary(&c, "report-reporter", "breach", T0 + 25 * HOUR, buf, sizeof(buf));
    ck_assert_str_eq(buf, "misissuance CPR-2026-000042: BREACH report overdue 1h00m; "
                     "subscriber report overdue 1h00m; revocation overdue 1h00m");
    pagetext_summary(&c, "revocation", "breach", T0 + 25 * HOUR, buf, sizeof(buf));
    ck_assert_str_eq(buf, "misissuance CPR-2026-000042: BREACH revocation overdue 1h00m; "
                     "reports overdue 1h00m");
    pagetext_summary(&c, "acknowledge", "resolve", T0 + HOUR, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "acknowledge resolved"));
    ck_assert_ptr_null(strstr(buf, "acknowledge overdue"));
    pagetext_summary(&c, "acknowledge", "acknowledge", T0 + HOUR, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, ": acknowledge acknowledged; reports due in 23h00m"));
}
END_TEST

/* Every category within 120 bytes; figures on request. */
START_TEST(test_summary_every_category)
{
    static const char *const cats[] = { "key-compromise", "revocation-request",
                                        "misissuance", "abuse", "other" };
    static const char *const events[] = { "page", "warn", "breach", "resolve" };
    char buf[256];

    for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
        struct pagetext_case c = sample(cats[i]);
        size_t most = 0;

        for (size_t e = 0; e < 4; e++) {
            pagetext_summary(&c, e == 0 ? "acknowledge" : "report-reporter", events[e],
                             T0 + 35 * MIN, buf, sizeof(buf));
            ck_assert_uint_le(strlen(buf), PAGETEXT_SUMMARY_MAX);
            if (strlen(buf) > most)
                most = strlen(buf);
            if (getenv("CPR_PAGETEXT_FIGURES"))
                printf("summary %-18s %-7s %3zu chars: %s\n", cats[i], events[e],
                       utf8_chars(buf), buf);
        }
        ck_assert_uint_gt(most, 40);
    }
}
END_TEST

START_TEST(test_summary_hostile)
{
    struct pagetext_case c = sample("key-compromise");
    char big[600], buf[256], small[17];

    /* 3-byte characters: a cut must never split one. */
    big[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(big, "\u20ac");
    c.category = big;
    pagetext_summary(&c, "acknowledge", "page", T0, buf, sizeof(buf));
    ck_assert_uint_le(strlen(buf), PAGETEXT_SUMMARY_MAX);
    ck_assert(valid_utf8_end(buf));
    c.category = "key-compromise";
    c.tracking = NULL;
    pagetext_summary(&c, NULL, NULL, T0, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "key-compromise -: "));
    c.tracking = "CPR-2026-000042";
    pagetext_summary(&c, "acknowledge", "page", T0, small, sizeof(small));
    ck_assert_uint_le(strlen(small), 16);
    /* A clock far in the past or future: the arithmetic holds. */
    c.clocks[0].due = 1;
    pagetext_summary(&c, "acknowledge", "page", 9000000000000000000LL, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "acknowledge overdue "));
}
END_TEST

START_TEST(test_details)
{
    struct pagetext_case c = sample("key-compromise");
    char *d;

    c.subject = "line one\r\nBcc: victim@example.net\x7f";
    c.clocks[2].stopped = T0 + HOUR;
    c.clocks[3].due = 0;    /* not confirmed: not listed */
    d = pagetext_details(&c, T0 + 35 * MIN);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(strstr(d, "  acknowledge        due 2026-12-07T03:44:00Z, overdue 5m\n"));
    ck_assert_ptr_nonnull(strstr(d, "  report-reporter    due 2026-12-08T03:14:00Z, in 23h25m\n"));
    ck_assert_ptr_nonnull(strstr(d, "report-subscriber  due 2026-12-08T03:14:00Z, stopped 2026-12-07T04:14:00Z\n"));
    ck_assert_ptr_null(strstr(d, "revocation"));
    ck_assert_ptr_nonnull(strstr(d, "Reporter: example.org\n"));
    ck_assert_ptr_null(strstr(d, "alice"));
    ck_assert_ptr_nonnull(strstr(d, "Evidence: private key, SPKI dc86"));
    ck_assert_ptr_nonnull(strstr(d, "Subject: line one  Bcc: victim@example.net \n"));
    ck_assert_ptr_nonnull(strstr(d, "Acknowledge with: cprctl ack CPR-2026-000042\n"));
    free(d);
    c.show_reporter = true;
    c.ack_url = "https://cpr.example/ack/abc";
    d = pagetext_details(&c, T0);
    ck_assert_ptr_nonnull(strstr(d, "Reporter: Alice <alice@Example.ORG>\n"));
    ck_assert_ptr_nonnull(strstr(d, "Acknowledge: https://cpr.example/ack/abc\nOr run: cprctl ack"));
    free(d);
}
END_TEST

START_TEST(test_details_long_subject)
{
    struct pagetext_case c = sample("abuse");
    char subj[5000];
    char *d, *line, *end;

    subj[0] = '\0';
    for (int i = 0; i < 1000; i++)
        strcat(subj, "\xc3\xa9");     /* é */
    c.subject = subj;
    d = pagetext_details(&c, T0);
    line = strstr(d, "Subject: ");
    ck_assert_ptr_nonnull(line);
    end = strchr(line, '\n');
    ck_assert_uint_le((size_t) (end - line), strlen("Subject: ") + PAGETEXT_SUBJECT_MAX);
    *end = '\0';
    ck_assert(valid_utf8_end(line) || strstr(line, "..."));
    free(d);
}
END_TEST

START_TEST(test_reporter)
{
    char buf[300];

    pagetext_reporter("bob@Mail.Example.COM", false, buf, sizeof(buf));
    ck_assert_str_eq(buf, "mail.example.com");
    pagetext_reporter("x@evil\r\nInjected: 1", false, buf, sizeof(buf));
    ck_assert_ptr_null(strchr(buf, '\n'));
    ck_assert_ptr_null(strchr(buf, ' '));
    pagetext_reporter("no-at-sign", false, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    pagetext_reporter(NULL, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    pagetext_reporter("a\nb@c.d", true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "a?b@c.d");
}
END_TEST

START_TEST(test_evidence)
{
    struct pagetext_evidence_counts e = { 1, "dc86aa00", 2, 0, 0 };
    char buf[PAGETEXT_EVIDENCE_MAX];

    pagetext_evidence(&e, buf, sizeof(buf));
    ck_assert_str_eq(buf, "private key, SPKI dc86\u2026; 2 certificates");
    e = (struct pagetext_evidence_counts) { 3, "zz\"<", 1, 1, 4 };
    pagetext_evidence(&e, buf, sizeof(buf));
    ck_assert_str_eq(buf, "3 private keys; 1 certificate; 1 CSR; 4 other items");
    e = (struct pagetext_evidence_counts) { 0 };
    pagetext_evidence(&e, buf, sizeof(buf));
    ck_assert_str_eq(buf, "no evidence extracted");
    pagetext_evidence(NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "no evidence extracted");
}
END_TEST

START_TEST(test_duration)
{
    char b[PAGETEXT_DURATION_MAX];

    pagetext_duration(5 * MIN + 59000, b, sizeof(b));
    ck_assert_str_eq(b, "5m");
    pagetext_duration(-(23 * HOUR + 25 * MIN), b, sizeof(b));
    ck_assert_str_eq(b, "23h25m");
    pagetext_duration(50 * HOUR, b, sizeof(b));
    ck_assert_str_eq(b, "2d2h");
    pagetext_duration(1000, b, sizeof(b));
    ck_assert_str_eq(b, "<1m");
    pagetext_duration(-9223372036854775807LL - 1, b, sizeof(b));
    ck_assert_uint_gt(strlen(b), 2);
}
END_TEST

START_TEST(test_severity)
{
    struct pagetext_severities s;
    enum pagetext_severity v;

    pagetext_severities_default(&s);
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "key-compromise", false)), "critical");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "revocation-request", false)), "critical");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "misissuance", false)), "error");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "abuse", false)), "warning");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "other", false)), "warning");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "no-such", false)), "warning");
    ck_assert_str_eq(pagetext_severity_name(pagetext_severity_of(&s, "abuse", true)), "critical");
    ck_assert(pagetext_severity_parse("Info", &v));
    ck_assert_int_eq(v, SEV_INFO);
    ck_assert(!pagetext_severity_parse("P1", &v));
    ck_assert(!pagetext_severity_parse(NULL, &v));
}
END_TEST

Suite *
pagetext_suite(void)
{
    Suite *s = suite_create("pagetext");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_summary_example);
    tcase_add_test(tc, test_summary_breach_and_resolve);
    tcase_add_test(tc, test_summary_every_category);
    tcase_add_test(tc, test_summary_hostile);
    tcase_add_test(tc, test_details);
    tcase_add_test(tc, test_details_long_subject);
    tcase_add_test(tc, test_reporter);
    tcase_add_test(tc, test_evidence);
    tcase_add_test(tc, test_duration);
    tcase_add_test(tc, test_severity);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_classify - unit tests of the header rules and message parsing
 * DESCRIPTION
 *   The RFC 3834 / RFC 5230 automated-mail rules one by one, list mail,
 *   and what message_finish() derives: Message-ID, References, and a
 *   decoded Subject in which no CR or LF can survive.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_unit.h"
#include "classify.h"
#include "message.h"

static char *const ours[] = { "cpr@ca.example", "compliance@ca.example", NULL };

/* Classify a message from sender with one optional header. */
static struct cpr_verdict
verdict_for(const char *from, const char *hname, const char *hvalue)
{
    struct cpr_message *m = message_new();
    struct cpr_verdict v;

    message_set(&m->env_from, from);
    message_add_header(m, "Subject", "Report");
    if (hname)
        message_add_header(m, hname, hvalue);
    ck_assert(message_finish(m));
    classify_message(m, ours, NULL, &v);
    message_free(m);
    return v;
}

static void
assert_kind(const char *from, const char *hname, const char *hvalue, enum cpr_kind want)
{
    struct cpr_verdict v = verdict_for(from, hname, hvalue);

    ck_assert_msg(v.kind == want, "%s / %s: %s: got %s, want %s", from,
                  hname ? hname : "-", hvalue ? hvalue : "-",
                  classify_kind_name(v.kind), classify_kind_name(want));
    ck_assert_str_eq(v.category, "other");
    if (want == KIND_AUTOMATED)
        ck_assert_uint_gt(v.nreasons, 0);
}

START_TEST(test_plain_report)
{
    struct cpr_verdict v = verdict_for("alice@example.net", NULL, NULL);

    ck_assert_int_eq(v.kind, KIND_NEW_REPORT);
    ck_assert_uint_eq(v.nreasons, 0);
    ck_assert_uint_eq(v.flags, 0);
}
END_TEST

START_TEST(test_sender_rules)
{
    assert_kind("", NULL, NULL, KIND_AUTOMATED);
    assert_kind("MAILER-DAEMON@mx.example.net", NULL, NULL, KIND_AUTOMATED);
    assert_kind("mailer-daemon", NULL, NULL, KIND_AUTOMATED);
    assert_kind("owner-list@example.net", NULL, NULL, KIND_AUTOMATED);
    assert_kind("list-request@example.net", NULL, NULL, KIND_AUTOMATED);
    assert_kind("CPR+x@CA.example", NULL, NULL, KIND_AUTOMATED);
    assert_kind("compliance@ca.example", NULL, NULL, KIND_AUTOMATED);
    /* Near misses are people. */
    assert_kind("mailer-daemons@example.net", NULL, NULL, KIND_NEW_REPORT);
    assert_kind("requester@example.net", NULL, NULL, KIND_NEW_REPORT);
    assert_kind("the-owner@example.net", NULL, NULL, KIND_NEW_REPORT);
    assert_kind("cpr@other.example", NULL, NULL, KIND_NEW_REPORT);
}
END_TEST

START_TEST(test_header_rules)
{
    const char *f = "bob@example.net";

    assert_kind(f, "Auto-Submitted", "auto-replied", KIND_AUTOMATED);
    assert_kind(f, "Auto-Submitted", "auto-generated; type=oof", KIND_AUTOMATED);
    assert_kind(f, "Auto-Submitted", " No ", KIND_NEW_REPORT);
    assert_kind(f, "Auto-Submitted", "no (comment)", KIND_NEW_REPORT);
    assert_kind(f, "auto-submitted", "nope", KIND_AUTOMATED);
    assert_kind(f, "X-Auto-Response-Suppress", "All", KIND_AUTOMATED);
    assert_kind(f, "X-Auto-Response-Suppress", "DR, OOF, AutoReply", KIND_AUTOMATED);
    assert_kind(f, "X-Auto-Response-Suppress", "DR, RN", KIND_NEW_REPORT);
    assert_kind(f, "Precedence", "bulk", KIND_AUTOMATED);
    assert_kind(f, "Precedence", "JUNK", KIND_AUTOMATED);
    assert_kind(f, "Precedence", "list", KIND_NEW_REPORT);
    assert_kind(f, "Content-Type", "multipart/report; report-type=delivery-status",
                KIND_AUTOMATED);
    assert_kind(f, "Content-Type", "multipart/mixed; boundary=x", KIND_NEW_REPORT);
}
END_TEST

START_TEST(test_list_mail)
{
    struct cpr_verdict v = verdict_for("bob@example.net", "List-Id", "<cabf.example.org>");

    ck_assert_int_eq(v.kind, KIND_NEW_REPORT);
    ck_assert_uint_eq(v.flags & VERDICT_FLAG_LIST, VERDICT_FLAG_LIST);
    v = verdict_for("bob@example.net", "Precedence", "list");
    ck_assert_uint_eq(v.flags & VERDICT_FLAG_LIST, VERDICT_FLAG_LIST);
    v = verdict_for("bob@example.net", "List-Unsubscribe", "<mailto:x@example.org>");
    ck_assert_uint_eq(v.flags & VERDICT_FLAG_LIST, VERDICT_FLAG_LIST);
    /* A list's bounce is still automated. */
    v = verdict_for("list-request@example.org", "List-Id", "<x.example.org>");
    ck_assert_int_eq(v.kind, KIND_AUTOMATED);
}
END_TEST

START_TEST(test_kind_names)
{
    enum cpr_kind k;

    ck_assert(classify_kind_parse("follow-up", &k));
    ck_assert_int_eq(k, KIND_FOLLOW_UP);
    ck_assert(classify_kind_parse("automated", &k));
    ck_assert_int_eq(k, KIND_AUTOMATED);
    ck_assert(!classify_kind_parse("spam", &k));
}
END_TEST

START_TEST(test_message_ids)
{
    struct cpr_message *m = message_new();

    message_add_header(m, "Message-ID", " <abc@example.net> ");
    message_add_header(m, "In-Reply-To", "<parent@example.net> (comment)");
    message_add_header(m, "References", "<a@x>\r\n\t<b@y> <> <c@z>");
    ck_assert(message_finish(m));
    ck_assert_str_eq(m->message_id, "abc@example.net");
    ck_assert_str_eq(m->in_reply_to, "parent@example.net");
    ck_assert_uint_eq(m->nreferences, 3);
    ck_assert_str_eq(m->references[0], "a@x");
    ck_assert_str_eq(m->references[2], "c@z");
    ck_assert_ptr_null(m->references[3]);
    ck_assert_ptr_null(m->subject);
    message_free(m);
}
END_TEST

START_TEST(test_subject_decoding)
{
    struct cpr_message *m = message_new();

    /* "Schlüssel" in ISO-8859-1 QP, then an encoded CR LF injection. */
    message_add_header(m, "Subject",
                       "=?ISO-8859-1?Q?Schl=FCssel?= =?UTF-8?B?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5uZXQ=?=");
    ck_assert(message_finish(m));
    ck_assert_ptr_nonnull(m->subject);
    ck_assert_ptr_null(strchr(m->subject, '\r'));
    ck_assert_ptr_null(strchr(m->subject, '\n'));
    ck_assert_ptr_nonnull(strstr(m->subject, "Schl\xc3\xbcssel"));
    ck_assert_ptr_nonnull(strstr(m->subject, "Bcc: victim@example.net"));
    message_free(m);
}
END_TEST

START_TEST(test_body_hash_and_bounds)
{
    struct cpr_message *m = message_new();
    /* SHA-256("abc") */
    static const unsigned char want[4] = { 0xba, 0x78, 0x16, 0xbf };

    message_body_update(m, "a", 1);
    message_body_update(m, "bc", 2);
    for (int i = 0; i < MESSAGE_MAX_HEADERS + 5; i++)
        ck_assert(message_add_header(m, "X-Filler", "y"));
    ck_assert(message_finish(m));
    ck_assert_int_eq(memcmp(m->body_sha256, want, sizeof(want)), 0);
    ck_assert_int_eq(m->body_bytes, 3);
    ck_assert_uint_eq(m->nheaders, MESSAGE_MAX_HEADERS);
    ck_assert(m->headers_truncated);
    message_free(m);
}
END_TEST

/* Past the header cap: every X-CPR-* is still counted (so all are removed)
 * and the key headers are still kept (so no second Subject is added). */
START_TEST(test_header_cap_keeps_what_matters)
{
    struct cpr_message *m = message_new();
    char longid[MESSAGE_MAX_MSGID + 16];

    message_add_header(m, "X-CPR-Tracking", "CPR-1999-999999");
    for (int i = 0; i < MESSAGE_MAX_HEADERS + 10; i++)
        message_add_header(m, "X-Junk", "y");
    message_add_header(m, "x-cpr-tracking", "CPR-1999-999998");
    message_add_header(m, "Subject", "late subject");
    memset(longid, 'a', sizeof(longid));
    longid[0] = '<';
    longid[sizeof(longid) - 2] = '>';
    longid[sizeof(longid) - 1] = '\0';
    message_add_header(m, "Message-ID", longid);
    ck_assert(message_finish(m));
    ck_assert(m->headers_truncated);
    ck_assert_uint_eq(m->nxcpr, 1);
    ck_assert_int_eq(m->xcpr_counts[0], 2);
    ck_assert_str_eq(m->subject, "late subject");
    ck_assert_ptr_null(m->message_id);        /* too long to keep */
    message_free(m);
}
END_TEST

/* A flood of other X-CPR-* names cannot crowd out the ones we write. */
START_TEST(test_xcpr_flood)
{
    struct cpr_message *m = message_new();
    char name[32];

    for (int i = 0; i < MESSAGE_MAX_XCPR_NAMES + 20; i++) {
        snprintf(name, sizeof(name), "X-CPR-Junk%d", i);
        message_add_header(m, name, "x");
    }
    message_add_header(m, "X-CPR-Tracking", "CPR-1999-999999");
    ck_assert(m->xcpr_overflow);
    ck_assert_str_eq(m->xcpr_names[m->nxcpr - 1], "X-CPR-Tracking");
    message_free(m);
}
END_TEST

Suite *
classify_suite(void)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, test_plain_report);
    tcase_add_test(tc, test_sender_rules);
    tcase_add_test(tc, test_header_rules);
    tcase_add_test(tc, test_list_mail);
    tcase_add_test(tc, test_kind_names);
    tcase_add_test(tc, test_message_ids);
    tcase_add_test(tc, test_subject_decoding);
    tcase_add_test(tc, test_body_hash_and_bounds);
    tcase_add_test(tc, test_header_cap_keeps_what_matters);
    tcase_add_test(tc, test_xcpr_flood);
    suite_add_tcase(s, tc);
    return s;
}

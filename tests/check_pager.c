/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_pager - unit tests for the paging channels' payloads and policy
 * SUMMARY
 *   Suite *pager_suite(void);   (run by tests/check_unit)
 * DESCRIPTION
 *   Parses each channel's payload back with jansson and checks the field
 *   names and limits (PagerDuty summary <= 1024 bytes, also with a
 *   multibyte character at the cut; Opsgenie message <= 130; alias ==
 *   dedup key), the resolve payloads, the webhook id, the email headers
 *   against header injection through the Subject, the classify table and
 *   the backoff growth, cap and jitter bounds with fixed random bits.
 *   No network: pager_send is tested by tests/pager.test.
 * DIAGNOSTICS
 *   Check reports each failed assertion with its file and line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "check_unit.h"
#include "pager.h"

/* Also declared in check_unit.h; repeated so this file stands alone. */
Suite *pager_suite(void);

static const struct pager_channel pd = { .name = "pd", .type = PAGER_PAGERDUTY,
                                         .secret = "R0UT1NGKEY\n" };
static const struct pager_channel og = { .name = "og", .type = PAGER_OPSGENIE,
                                         .secret = "genie-key" };
static const struct pager_channel slack = { .name = "sl", .type = PAGER_SLACK,
                                            .url = "https://hooks.slack.invalid/T/B/X" };
static const struct pager_channel hook = { .name = "wh", .type = PAGER_WEBHOOK,
                                           .url = "https://hooks.invalid/page",
                                           .secret = "tok" };
static const struct pager_channel mail = { .name = "em", .type = PAGER_EMAIL,
                                           .from = "cpr-sweeper@ca.example",
                                           .to = "oncall@ca.example, boss@ca.example",
                                           .smtp_url = "smtp://127.0.0.1:25" };

static struct pager_notice
notice(const char *event)
{
    struct pager_notice n = {
        .event = event, .id = "42:acknowledge:page:1:0",
        .dedup_key = "CPR-2026-000042-acknowledge-1", .tracking = "CPR-2026-000042",
        .clock = "acknowledge", .tier = 1, .category = "key-compromise",
        .subject = "Private key of www.example.com leaked",
        .summary = NULL, .received_at = "2026-11-27T03:14:00.123Z",
        .deadline = "2026-11-27T03:44:00.123Z",
    };
    return n;
}

static json_t *
payload_json(const struct pager_channel *ch, const struct pager_notice *n)
{
    char *s = pager_payload(ch, n);
    json_error_t e;
    json_t *j;

    ck_assert_ptr_nonnull(s);
    j = json_loads(s, 0, &e);
    ck_assert_msg(j != NULL, "payload is not JSON: %s", e.text);
    free(s);
    return j;
}

static const char *
jstr(json_t *obj, const char *path0, const char *path1)
{
    json_t *v = json_object_get(obj, path0);

    if (path1)
        v = json_object_get(v, path1);
    ck_assert_msg(json_is_string(v), "%s.%s is not a string", path0, path1 ? path1 : "");
    return json_string_value(v);
}

/* Number of Unicode code points in valid UTF-8. */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += (((unsigned char) *s) & 0xc0) != 0x80;
    return n;
}

START_TEST(test_type_names)
{
    enum pager_type t;

    ck_assert(pager_type_parse("pagerduty", &t) && t == PAGER_PAGERDUTY);
    ck_assert(pager_type_parse("Opsgenie", &t) && t == PAGER_OPSGENIE);
    ck_assert(pager_type_parse("email", &t) && t == PAGER_EMAIL);
    ck_assert(!pager_type_parse("pigeon", &t));
    ck_assert(!pager_type_parse(NULL, &t));
    ck_assert_str_eq(pager_type_name(PAGER_WEBHOOK), "webhook");
    ck_assert_str_eq(pager_type_name(PAGER_SLACK), "slack");
}
END_TEST

START_TEST(test_pagerduty_trigger)
{
    struct pager_notice n = notice("page");
    json_t *j = payload_json(&pd, &n), *d;

    ck_assert_str_eq(jstr(j, "routing_key", NULL), "R0UT1NGKEY");
    ck_assert_str_eq(jstr(j, "event_action", NULL), "trigger");
    ck_assert_str_eq(jstr(j, "dedup_key", NULL), n.dedup_key);
    ck_assert_str_eq(jstr(j, "payload", "source"), "cpr-sweeper");
    ck_assert_str_eq(jstr(j, "payload", "severity"), "critical");
    ck_assert_ptr_nonnull(strstr(jstr(j, "payload", "summary"), "CPR-2026-000042"));
    d = json_object_get(json_object_get(j, "payload"), "custom_details");
    ck_assert_str_eq(jstr(d, "tracking", NULL), "CPR-2026-000042");
    ck_assert_str_eq(jstr(d, "clock", NULL), "acknowledge");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "tier")), 1);
    ck_assert_str_eq(jstr(d, "category", NULL), "key-compromise");
    ck_assert_str_eq(jstr(d, "subject", NULL), n.subject);
    ck_assert_str_eq(jstr(d, "received_at", NULL), n.received_at);
    ck_assert_str_eq(jstr(d, "deadline", NULL), n.deadline);
    ck_assert_str_eq(jstr(d, "ack", NULL), "cprctl ack CPR-2026-000042");
    json_decref(j);

    n = notice("warn");
    j = payload_json(&pd, &n);
    ck_assert_str_eq(jstr(j, "payload", "severity"), "warning");
    json_decref(j);
    n = notice("breach");
    j = payload_json(&pd, &n);
    ck_assert_str_eq(jstr(j, "payload", "severity"), "critical");
    json_decref(j);
}
END_TEST

START_TEST(test_pagerduty_resolve)
{
    struct pager_notice n = notice("resolve");
    json_t *j = payload_json(&pd, &n);

    ck_assert_str_eq(jstr(j, "event_action", NULL), "resolve");
    ck_assert_str_eq(jstr(j, "dedup_key", NULL), n.dedup_key);
    ck_assert_str_eq(jstr(j, "routing_key", NULL), "R0UT1NGKEY");
    ck_assert_ptr_null(json_object_get(j, "payload"));
    json_decref(j);
}
END_TEST

/* A summary of n bytes of ASCII padding then multibyte characters, so the
 * 1024-byte cut falls inside one of them at every alignment. */
START_TEST(test_pagerduty_summary_limit)
{
    struct pager_notice n = notice("page");
    char big[4096];

    for (int pad = 0; pad < 4; pad++) {
        size_t off = 0;
        json_t *j;
        const char *s;

        memset(big, 'a', (size_t) pad + 1000);
        off = (size_t) pad + 1000;
        while (off + 4 < sizeof(big) - 1) {
            memcpy(big + off, "\xf0\x9f\x94\x91", 4);   /* U+1F511 KEY */
            off += 4;
        }
        big[off] = '\0';
        n.summary = big;
        j = payload_json(&pd, &n);
        s = jstr(j, "payload", "summary");
        ck_assert_uint_le(strlen(s), PAGER_PD_SUMMARY_MAX);
        ck_assert_uint_ge(strlen(s), PAGER_PD_SUMMARY_MAX - 3);
        ck_assert_uint_le(utf8_chars(s), PAGER_PD_SUMMARY_MAX);
        ck_assert_ptr_nonnull(strstr(s, "CPR-2026-000042"));
        json_decref(j);
    }
}
END_TEST

START_TEST(test_invalid_utf8_and_controls)
{
    struct pager_notice n = notice("page");
    json_t *j, *d;
    const char *s;

    n.subject = "bad \xff\xfe bytes\x01\x7f\xc2\x85 and \xe2\x80\xa8 end";
    j = payload_json(&pd, &n);   /* jansson refuses invalid UTF-8: it parsed */
    d = json_object_get(json_object_get(j, "payload"), "custom_details");
    s = jstr(d, "subject", NULL);
    ck_assert_ptr_null(strpbrk(s, "\x01\x7f\r\n"));
    ck_assert_ptr_null(strstr(s, "\xc2\x85"));
    ck_assert_ptr_null(strstr(s, "\xe2\x80\xa8"));
    ck_assert_ptr_nonnull(strstr(s, "\xef\xbf\xbd"));
    json_decref(j);
}
END_TEST

START_TEST(test_opsgenie)
{
    struct pager_notice n = notice("page");
    char big[600];
    json_t *j, *d;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    n.summary = big;
    j = payload_json(&og, &n);
    ck_assert_uint_le(utf8_chars(jstr(j, "message", NULL)), PAGER_OG_MESSAGE_MAX);
    ck_assert_uint_le(strlen(jstr(j, "message", NULL)), PAGER_OG_MESSAGE_MAX);
    ck_assert_ptr_nonnull(strstr(jstr(j, "message", NULL), "CPR-2026-000042"));
    ck_assert_str_eq(jstr(j, "alias", NULL), n.dedup_key);
    ck_assert_str_eq(jstr(j, "priority", NULL), "P1");
    ck_assert_str_eq(jstr(j, "source", NULL), "cpr-sweeper");
    ck_assert_ptr_nonnull(strstr(jstr(j, "description", NULL), "cprctl ack CPR-2026-000042"));
    d = json_object_get(j, "details");
    ck_assert_str_eq(jstr(d, "tracking", NULL), "CPR-2026-000042");
    ck_assert_str_eq(jstr(d, "tier", NULL), "1");   /* Opsgenie details are strings */
    ck_assert_str_eq(jstr(d, "ack", NULL), "cprctl ack CPR-2026-000042");
    json_decref(j);

    n = notice("warn");
    j = payload_json(&og, &n);
    ck_assert_str_eq(jstr(j, "priority", NULL), "P3");
    json_decref(j);
}
END_TEST

START_TEST(test_opsgenie_alias_limit_and_resolve)
{
    struct pager_notice n = notice("page");
    char big[1000];
    json_t *j;
    char *s;

    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    n.dedup_key = big;
    j = payload_json(&og, &n);
    ck_assert_uint_le(strlen(jstr(j, "alias", NULL)), PAGER_OG_ALIAS_MAX);
    json_decref(j);
    j = payload_json(&pd, &n);
    ck_assert_uint_le(strlen(jstr(j, "dedup_key", NULL)), 255);   /* PagerDuty's limit */
    json_decref(j);

    n = notice("resolve");
    j = payload_json(&og, &n);
    ck_assert_str_eq(jstr(j, "source", NULL), "cpr-sweeper");
    ck_assert_ptr_null(json_object_get(j, "alias"));
    json_decref(j);
    s = pager_payload(&og, &n);
    ck_assert_ptr_null(strstr(s, "genie-key"));   /* the key is a header only */
    free(s);
}
END_TEST

START_TEST(test_slack)
{
    struct pager_notice n = notice("page");
    json_t *j;
    const char *t;

    n.subject = "<!channel> <https://evil.example|click> & more";
    j = payload_json(&slack, &n);
    t = jstr(j, "text", NULL);
    ck_assert_ptr_nonnull(strstr(t, "CPR-2026-000042"));
    ck_assert_ptr_nonnull(strstr(t, "key-compromise"));
    ck_assert_ptr_nonnull(strstr(t, n.received_at));
    ck_assert_ptr_nonnull(strstr(t, n.deadline));
    ck_assert_ptr_nonnull(strstr(t, "cprctl ack CPR-2026-000042"));
    ck_assert_ptr_nonnull(strstr(t, "&lt;!channel&gt;"));
    ck_assert_ptr_null(strchr(t, '<'));   /* no mention, no link */
    ck_assert_ptr_null(strstr(t, "hooks.slack"));
    json_decref(j);
}
END_TEST

START_TEST(test_webhook)
{
    struct pager_notice n = notice("breach");
    json_t *j = payload_json(&hook, &n);
    static const char *const keys[] = { "event", "id", "tracking", "clock", "tier", "deadline",
                                        "received_at", "category", "summary", "subject" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_msg(json_object_get(j, keys[i]) != NULL, "missing %s", keys[i]);
    ck_assert_str_eq(jstr(j, "event", NULL), "breach");
    ck_assert_str_eq(jstr(j, "id", NULL), n.id);
    ck_assert_str_eq(jstr(j, "tracking", NULL), "CPR-2026-000042");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "tier")), 1);
    ck_assert_ptr_null(json_object_get(j, "token"));
    json_decref(j);
}
END_TEST

START_TEST(test_health_notice)
{
    struct pager_notice h = { .event = "health", .id = "health:db-down",
                              .dedup_key = "cpr-health-db-down",
                              .summary = "database unreachable for 2m" };
    json_t *j = payload_json(&hook, &h);

    ck_assert_str_eq(jstr(j, "event", NULL), "health");
    ck_assert(json_is_null(json_object_get(j, "tracking")));
    ck_assert_str_eq(jstr(j, "summary", NULL), h.summary);
    json_decref(j);
    j = payload_json(&pd, &h);
    ck_assert_ptr_nonnull(strstr(jstr(j, "payload", "summary"), h.summary));
    ck_assert_str_eq(jstr(j, "dedup_key", NULL), "cpr-health-db-down");
    json_decref(j);
    j = payload_json(&slack, &h);
    ck_assert_ptr_nonnull(strstr(jstr(j, "text", NULL), h.summary));
    json_decref(j);
    h.event = "tea-time";
    ck_assert_ptr_null(pager_payload(&hook, &h));
}
END_TEST

/* The header section of msg: every line starts a known header or is a
 * folded continuation; returns how many lines start with name. */
static int
email_headers_named(const char *msg, const char *name)
{
    static const char *const known[] = { "Date:", "From:", "To:", "Subject:", "Message-Id:",
                                         "Auto-Submitted:", "MIME-Version:", "Content-Type:",
                                         "Content-Transfer-Encoding:" };
    const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
    int count = 0;

    ck_assert_ptr_nonnull(end);
    while (p < end) {
        const char *eol = strstr(p, "\r\n");
        bool ok = *p == ' ' || *p == '\t';

        for (size_t i = 0; !ok && i < sizeof(known) / sizeof(known[0]); i++)
            ok = strncasecmp(p, known[i], strlen(known[i])) == 0;
        ck_assert_msg(ok, "unexpected header line: %.40s", p);
        ck_assert_ptr_null(memchr(p, '\n', (size_t) (eol - p)));
        count += strncasecmp(p, name, strlen(name)) == 0;
        p = eol + 2;
    }
    return count;
}

/* A case page with pagetext content, every field hostile: long, multibyte
 * (3- and 4-byte), invalid bytes, controls, Slack mentions. Each service's
 * limits hold, in characters, and every string stays valid JSON. */
START_TEST(test_case_page_limits)
{
    struct pager_notice n = notice("page");
    static char big[60000], summary[3000], ascii[20000];
    json_t *j;
    const char *v;
    char *m;
    size_t i;

    for (i = 0; i + 8 < sizeof(big); ) {
        memcpy(big + i, (i / 7) % 3 == 0 ? "\xe2\x82\xac" : (i / 7) % 3 == 1
               ? "\xf0\x9f\x94\x91" : "<!ch>\n", 4);
        i += 4;
    }
    big[i] = '\0';
    big[100] = '\xff';               /* an invalid byte */
    for (i = 0; i + 4 < sizeof(summary); i += 3)
        memcpy(summary + i, "\xe2\x82\xac", 3);
    summary[i] = '\0';
    n.summary = summary;
    n.details = big;
    n.subject = big;
    j = payload_json(&og, &n);
    json_decref(j);
    memset(ascii, 'a', sizeof(ascii) - 1);   /* one byte a character: the most text */
    ascii[sizeof(ascii) - 1] = '\0';
    n.details = ascii;
    n.severity = "error";
    n.ack_url = "https://cpr.example/ack?t=abc";
    j = payload_json(&pd, &n);
    v = jstr(j, "payload", "summary");
    ck_assert_uint_le(utf8_chars(v), PAGER_PD_SUMMARY_MAX);
    ck_assert_str_eq(jstr(j, "payload", "severity"), "error");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "links"), 0), "href", NULL),
                     "https://cpr.example/ack?t=abc");
    ck_assert_uint_le(strlen(json_string_value(json_object_get(
        json_object_get(json_object_get(j, "payload"), "custom_details"), "details"))),
        PAGER_DETAILS_MAX);
    json_decref(j);
    j = payload_json(&og, &n);
    ck_assert_uint_le(utf8_chars(jstr(j, "message", NULL)), PAGER_OG_MESSAGE_MAX);
    ck_assert_uint_le(utf8_chars(jstr(j, "description", NULL)), PAGER_OG_DESCRIPTION_MAX);
    ck_assert_str_eq(jstr(j, "priority", NULL), "P2");
    {
        size_t total = 0;
        const char *k;
        json_t *v2;

        json_object_foreach(json_object_get(j, "details"), k, v2)
            total += utf8_chars(k) + utf8_chars(json_string_value(v2));
        ck_assert_uint_le(total, PAGER_OG_DETAILS_MAX);
    }
    json_decref(j);
    j = payload_json(&slack, &n);
    v = jstr(j, "text", NULL);
    ck_assert_uint_le(utf8_chars(v), PAGER_SLACK_TEXT_MAX);
    ck_assert_ptr_null(strstr(v, "<!ch>"));     /* no mention survives */
    json_decref(j);
    j = payload_json(&hook, &n);
    ck_assert_str_eq(jstr(j, "severity", NULL), "error");
    ck_assert_uint_le(strlen(jstr(j, "details", NULL)), PAGER_DETAILS_MAX);
    json_decref(j);
    m = pager_payload(&mail, &n);
    ck_assert_ptr_nonnull(m);
    for (const char *line = m; line && *line; ) {
        const char *e = strstr(line, "\r\n");

        ck_assert_msg(!e || e - line <= 998, "a mail line over 998 bytes");
        line = e ? e + 2 : NULL;
    }
    free(m);
}
END_TEST

/* acknowledge: PagerDuty event_action, Opsgenie note and user. */
START_TEST(test_acknowledge)
{
    struct pager_notice n = notice("acknowledge");
    json_t *j;

    n.actor = "cpr-sweeper@host";
    j = payload_json(&pd, &n);
    ck_assert_str_eq(jstr(j, "event_action", NULL), "acknowledge");
    ck_assert_str_eq(jstr(j, "dedup_key", NULL), "CPR-2026-000042-acknowledge-1");
    ck_assert_ptr_null(json_object_get(j, "payload"));
    json_decref(j);
    j = payload_json(&og, &n);
    ck_assert_str_eq(jstr(j, "user", NULL), "cpr-sweeper@host");
    ck_assert_ptr_null(json_object_get(j, "message"));
    json_decref(j);
    j = payload_json(&hook, &n);
    ck_assert_str_eq(jstr(j, "event", NULL), "acknowledge");
    ck_assert_str_eq(jstr(j, "alert", NULL), "CPR-2026-000042-acknowledge-1");
    json_decref(j);
}
END_TEST

START_TEST(test_email)
{
    struct pager_notice n = notice("page");
    char *m, *body;

    n.subject = "Key \xc3\xa9t\xc3\xa9\r\nBcc: x@evil.example\r\n\r\nfake body\nTo: y@evil";
    m = pager_payload(&mail, &n);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(email_headers_named(m, "Bcc:"), 0);
    ck_assert_int_eq(email_headers_named(m, "Auto-Submitted: auto-generated"), 1);
    ck_assert_int_eq(email_headers_named(m, "To:"), 1);
    ck_assert_int_eq(email_headers_named(m, "Subject: [CPR page] "), 1);
    ck_assert_int_eq(email_headers_named(m, "Content-Type: text/plain; charset=utf-8"), 1);
    ck_assert_int_eq(email_headers_named(m, "Message-Id: <"), 1);
    ck_assert_int_eq(email_headers_named(m, "Date:"), 1);
    ck_assert_int_eq(email_headers_named(m, "From: cpr-sweeper@ca.example"), 1);
    ck_assert_ptr_nonnull(strstr(m, "=?UTF-8?"));   /* RFC 2047 for the non-ASCII */
    for (const unsigned char *p = (const unsigned char *) m; *p; p++)
        ck_assert_msg(*p < 0x80, "8-bit byte in the message");
    body = strstr(m, "\r\n\r\n") + 4;
    ck_assert_ptr_nonnull(strstr(body, "CPR-2026-000042"));
    ck_assert_ptr_nonnull(strstr(body, "key-compromise"));
    ck_assert_ptr_nonnull(strstr(body, n.received_at));
    ck_assert_ptr_nonnull(strstr(body, n.deadline));
    ck_assert_ptr_nonnull(strstr(body, "cprctl ack CPR-2026-000042"));
    free(m);
}
END_TEST

START_TEST(test_email_bad_addresses)
{
    struct pager_notice n = notice("page");
    struct pager_channel c = mail;

    c.from = "a@b\r\nBcc: x@evil";
    ck_assert_ptr_null(pager_payload(&c, &n));
    c = mail;
    c.to = "ok@ca.example, <x@evil>";
    ck_assert_ptr_null(pager_payload(&c, &n));
    c.to = " , ";
    ck_assert_ptr_null(pager_payload(&c, &n));
    c.to = "a@ca.example b@ca.example";   /* not silently one of them */
    ck_assert_ptr_null(pager_payload(&c, &n));
    c.to = NULL;
    ck_assert_ptr_null(pager_payload(&c, &n));
}
END_TEST

START_TEST(test_classify)
{
    static const struct { long status; int curl; enum send_result want; } t[] = {
        { 200, 0, SEND_OK }, { 202, 0, SEND_OK }, { 204, 0, SEND_OK },
        { 429, 0, SEND_RETRY }, { 500, 0, SEND_RETRY }, { 503, 0, SEND_RETRY },
        { 599, 0, SEND_RETRY },
        { 400, 0, SEND_FAILED }, { 401, 0, SEND_FAILED }, { 404, 0, SEND_FAILED },
        { 301, 0, SEND_FAILED }, { 0, 0, SEND_FAILED },
        { 0, 28, SEND_RETRY }, { 0, 7, SEND_RETRY }, { 200, 56, SEND_RETRY },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(retry_classify(t[i].status, t[i].curl) == t[i].want,
                      "classify(%ld, %d)", t[i].status, t[i].curl);
}
END_TEST

START_TEST(test_backoff)
{
    /* rnd 0 gives the low end (50%), a huge rnd mod (span+1) stays in range. */
    ck_assert_int_eq(retry_backoff_ms(0, 1000, 60000, 0), 500);
    ck_assert_int_eq(retry_backoff_ms(1, 1000, 60000, 0), 1000);
    ck_assert_int_eq(retry_backoff_ms(3, 1000, 60000, 0), 4000);
    ck_assert_int_eq(retry_backoff_ms(3, 1000, 60000, 4000), 8000);   /* 100% */
    ck_assert_int_eq(retry_backoff_ms(10, 1000, 60000, 0), 30000);    /* capped */
    ck_assert_int_eq(retry_backoff_ms(10, 1000, 60000, 30000), 60000);
    ck_assert_int_eq(retry_backoff_ms(1000000, 1000, 60000, 30000), 60000);
    ck_assert_int_eq(retry_backoff_ms(62, 1LL << 40, 1LL << 62, 0), 1LL << 61);
    ck_assert_int_eq(retry_backoff_ms(-3, 1000, 60000, 0), 500);
    ck_assert_int_eq(retry_backoff_ms(2, 0, 60000, 7), 0);
    ck_assert_int_eq(retry_backoff_ms(5, 100000, 1000, 0), 500);      /* cap < base */
    for (int a = 0; a < 70; a++) {
        long long full = 1000LL << (a < 6 ? a : 6), lo, hi;

        if (full > 60000)
            full = 60000;
        for (unsigned rnd = 0; rnd < 100000; rnd += 7919) {
            long long d = retry_backoff_ms(a, 1000, 60000, rnd);

            lo = full / 2;
            hi = full;
            ck_assert_msg(d >= lo && d <= hi, "attempt %d rnd %u: %lld", a, rnd, d);
        }
        ck_assert_int_ge(retry_backoff_ms(a, 1000, 60000, ~0u), full / 2);
    }
}
END_TEST

Suite *
pager_suite(void)
{
    Suite *s = suite_create("pager");
    TCase *tc = tcase_create("payload");

    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_pagerduty_trigger);
    tcase_add_test(tc, test_pagerduty_resolve);
    tcase_add_test(tc, test_pagerduty_summary_limit);
    tcase_add_test(tc, test_invalid_utf8_and_controls);
    tcase_add_test(tc, test_opsgenie);
    tcase_add_test(tc, test_opsgenie_alias_limit_and_resolve);
    tcase_add_test(tc, test_slack);
    tcase_add_test(tc, test_webhook);
    tcase_add_test(tc, test_health_notice);
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_case_page_limits);
    tcase_add_test(tc, test_acknowledge);
    tcase_add_test(tc, test_email_bad_addresses);
    suite_add_tcase(s, tc);
    tc = tcase_create("policy");
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_backoff);
    suite_add_tcase(s, tc);
    return s;
}

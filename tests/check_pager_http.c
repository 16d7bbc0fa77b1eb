/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_pager_http - pager_send against a real local HTTP and SMTP sink
 * SUMMARY
 *   CPR_TEST_SINK_URL=http://127.0.0.1:PORT CPR_TEST_SINK_LOG=FILE \
 *   CPR_TEST_SMTP_URL=smtp://127.0.0.1:PORT CPR_TEST_SMTP_DIR=DIR \
 *   CPR_TEST_SMTP_REJECT_URL=smtp://127.0.0.1:PORT \
 *   CPR_TEST_SMTP_SOFT_URL=smtp://127.0.0.1:PORT tests/check_pager_http
 * DESCRIPTION
 *   Run by tests/pager.test, which starts tests/http_sink.py and three
 *   smtp-sink(1) instances (one accepting into DIR, one rejecting RCPT with
 *   5xx, one with 4xx). Sends one real request per HTTP channel type
 *   (webhook, PagerDuty and Opsgenie with url overrides, Slack) and checks
 *   what the sink
 *   recorded: method, path, Authorization header, JSON fields. Then the
 *   outcomes: 202 OK, 429 and 500 RETRY, 400 FAILED, a 302 not followed,
 *   a hang cut off by the timeout, a secret that would inject a header, and
 *   that no error text carries a secret. Email: one message stored with
 *   Auto-Submitted, a 5xx RCPT answer is FAILED, a 4xx one RETRY.
 * DIAGNOSTICS
 *   Exit status 0 when every test passed, 1 otherwise, 77 when the
 *   environment is missing (pager.test turns that into 99 under CI).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>

#include "pager.h"

#define SINK_WAIT_MS 5000      /* for a request or a mail to show up */
#define HANG_TIMEOUT_MS 500    /* the short timeout of the hang test */

static const char *sink_url, *sink_log;

static struct pager_notice
notice(const char *event, const char *id)
{
    struct pager_notice n = {
        .event = event, .id = id, .dedup_key = "CPR-2026-000042/acknowledge/1",
        .tracking = "CPR-2026-000042", .clock = "acknowledge", .tier = 1,
        .category = "key-compromise", .subject = "leaked key \r\nX-Evil: 1",
        .received_at = "2026-11-27T03:14:00.123Z", .deadline = "2026-11-27T03:44:00.123Z",
    };
    return n;
}

static char *
url_for(const char *path)
{
    size_t n = strlen(sink_url) + strlen(path) + 1;
    char *u = malloc(n);

    ck_assert_ptr_nonnull(u);
    snprintf(u, n, "%s%s", sink_url, path);
    return u;
}

static size_t
discard(char *p, size_t s, size_t n, void *a)
{
    (void) p;
    (void) a;
    return s * n;
}

/* POST /_control with {"script": [...]} (items: status numbers or "hang"). */
static void
sink_script(const char *items_json)
{
    json_error_t e;
    json_t *items = json_loads(items_json, JSON_DECODE_ANY, &e);
    json_t *req = json_pack("{s:o}", "script", items);
    char *body = json_dumps(req, JSON_COMPACT);
    char *u = url_for("/_control");
    CURL *c = curl_easy_init();
    long status = 0;

    ck_assert_ptr_nonnull(body);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_int_eq(status, 200);
    curl_easy_cleanup(c);
    json_decref(req);
    free(body);
    free(u);
}

static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The last logged request whose path starts with prefix (new reference),
 * waiting up to SINK_WAIT_MS for one; NULL if none came. */
static json_t *
sink_last(const char *prefix)
{
    long long end = mono_ms() + SINK_WAIT_MS;

    do {
        FILE *f = fopen(sink_log, "r");
        char *line = NULL;
        size_t cap = 0;
        json_t *last = NULL;

        ck_assert_ptr_nonnull(f);
        while (getline(&line, &cap, f) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            const char *p = json_string_value(json_object_get(r, "path"));

            if (p && strncmp(p, prefix, strlen(prefix)) == 0) {
                json_decref(last);
                last = r;
            } else {
                json_decref(r);
            }
        }
        free(line);
        fclose(f);
        if (last)
            return last;
        usleep(50 * 1000);
    } while (mono_ms() < end);
    return NULL;
}

static int
sink_count(const char *prefix)
{
    FILE *f = fopen(sink_log, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;

    ck_assert_ptr_nonnull(f);
    while (getline(&line, &cap, f) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        const char *p = json_string_value(json_object_get(r, "path"));

        n += p && strncmp(p, prefix, strlen(prefix)) == 0;
        json_decref(r);
    }
    free(line);
    fclose(f);
    return n;
}

static const char *
req_header(json_t *req, const char *name)
{
    const char *k;
    json_t *v;

    json_object_foreach(json_object_get(req, "headers"), k, v)
        if (strcasecmp(k, name) == 0)
            return json_string_value(v);
    return NULL;
}

static const char *
req_field(json_t *req, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(req, "json"), a);

    return json_string_value(b ? json_object_get(v, b) : v);
}

/* Send, expect `want`, and check the error text holds no secret. */
static long
send_expect(const struct pager_channel *ch, const struct pager_notice *n,
            enum send_result want, const char *secret)
{
    char err[256] = "";
    long status = -1;
    double ms = -1;
    enum send_result r = pager_send(ch, n, &status, &ms, err, sizeof(err));

    ck_assert_msg(r == want, "%s: result %d, want %d (%s)", ch->name, r, want, err);
    ck_assert(ms >= 0);
    ck_assert_ptr_nonnull(strstr(err, ch->name));
    if (secret)
        ck_assert_msg(strstr(err, secret) == NULL, "secret in error text: %s", err);
    ck_assert_msg(strstr(err, "://") == NULL, "a URL in the error text: %s", err);
    return status;
}

START_TEST(test_webhook)
{
    char *u = url_for("/hook/s3cr3t-path?sig=abc");
    struct pager_channel ch = { .name = "hook", .type = PAGER_WEBHOOK, .url = u,
                                .secret = "tok-123\n" };
    struct pager_notice n = notice("page", "42:acknowledge:page:1:0");
    json_t *req;

    sink_script("[202]");
    ck_assert_int_eq(send_expect(&ch, &n, SEND_OK, "tok-123"), 202);
    ck_assert_ptr_nonnull(req = sink_last("/hook/"));
    ck_assert_str_eq(json_string_value(json_object_get(req, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(req, "path")), "/hook/s3cr3t-path?sig=abc");
    ck_assert_str_eq(req_header(req, "Authorization"), "Bearer tok-123");
    ck_assert_str_eq(req_header(req, "Content-Type"), "application/json");
    ck_assert_ptr_null(req_header(req, "X-Evil"));
    ck_assert_str_eq(req_field(req, "id", NULL), n.id);
    ck_assert_str_eq(req_field(req, "event", NULL), "page");
    ck_assert_str_eq(req_field(req, "tracking", NULL), "CPR-2026-000042");
    json_decref(req);
    free(u);
}
END_TEST

START_TEST(test_pagerduty)
{
    char *u = url_for("/v2/enqueue");
    struct pager_channel ch = { .name = "pd", .type = PAGER_PAGERDUTY, .url = u,
                                .secret = "ROUTINGKEY42" };
    struct pager_notice n = notice("page", "s1");
    json_t *req;

    sink_script("[202]");
    send_expect(&ch, &n, SEND_OK, "ROUTINGKEY42");
    ck_assert_ptr_nonnull(req = sink_last("/v2/enqueue"));
    ck_assert_ptr_null(req_header(req, "Authorization"));
    ck_assert_str_eq(req_field(req, "routing_key", NULL), "ROUTINGKEY42");
    ck_assert_str_eq(req_field(req, "event_action", NULL), "trigger");
    ck_assert_str_eq(req_field(req, "dedup_key", NULL), n.dedup_key);
    ck_assert_str_eq(req_field(req, "payload", "severity"), "critical");
    json_decref(req);

    n = notice("resolve", "s2");
    send_expect(&ch, &n, SEND_OK, "ROUTINGKEY42");
    ck_assert_ptr_nonnull(req = sink_last("/v2/enqueue"));
    ck_assert_str_eq(req_field(req, "event_action", NULL), "resolve");
    ck_assert_str_eq(req_field(req, "dedup_key", NULL), n.dedup_key);
    json_decref(req);
    free(u);
}
END_TEST

START_TEST(test_opsgenie)
{
    char *u = url_for("/v2/alerts");
    struct pager_channel ch = { .name = "og", .type = PAGER_OPSGENIE, .url = u,
                                .secret = "genie-key-9" };
    struct pager_notice n = notice("page", "s1");
    json_t *req;

    sink_script("[202]");
    send_expect(&ch, &n, SEND_OK, "genie-key-9");
    ck_assert_ptr_nonnull(req = sink_last("/v2/alerts"));
    ck_assert_str_eq(json_string_value(json_object_get(req, "path")), "/v2/alerts");
    ck_assert_str_eq(req_header(req, "Authorization"), "GenieKey genie-key-9");
    ck_assert_str_eq(req_field(req, "alias", NULL), n.dedup_key);
    ck_assert_uint_le(strlen(req_field(req, "message", NULL)), PAGER_OG_MESSAGE_MAX);
    json_decref(req);

    n = notice("resolve", "s2");
    send_expect(&ch, &n, SEND_OK, "genie-key-9");
    ck_assert_ptr_nonnull(req = sink_last("/v2/alerts/"));
    ck_assert_str_eq(json_string_value(json_object_get(req, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(req, "path")),
                     "/v2/alerts/CPR-2026-000042%2Facknowledge%2F1/close?identifierType=alias");
    ck_assert_str_eq(req_header(req, "Authorization"), "GenieKey genie-key-9");
    ck_assert_str_eq(req_field(req, "source", NULL), "cpr-sweeper");
    json_decref(req);
    free(u);
}
END_TEST

START_TEST(test_slack)
{
    char *u = url_for("/services/T000/B000/XXXXSECRET");
    struct pager_channel ch = { .name = "slack", .type = PAGER_SLACK, .url = u };
    struct pager_notice n = notice("page", "s1");
    json_t *req;

    sink_script("[200]");
    send_expect(&ch, &n, SEND_OK, "XXXXSECRET");
    ck_assert_ptr_nonnull(req = sink_last("/services/"));
    ck_assert_ptr_nonnull(strstr(req_field(req, "text", NULL), "cprctl ack CPR-2026-000042"));
    ck_assert_ptr_null(req_header(req, "Authorization"));
    json_decref(req);
    sink_script("[404]");
    send_expect(&ch, &n, SEND_FAILED, "XXXXSECRET");
    free(u);
}
END_TEST

START_TEST(test_outcomes)
{
    char *u = url_for("/outcome");
    struct pager_channel ch = { .name = "hook", .type = PAGER_WEBHOOK, .url = u };
    struct pager_notice n = notice("page", "s1");

    sink_script("[202, 429, 500, 400]");
    ck_assert_int_eq(send_expect(&ch, &n, SEND_OK, NULL), 202);
    ck_assert_int_eq(send_expect(&ch, &n, SEND_RETRY, NULL), 429);
    ck_assert_int_eq(send_expect(&ch, &n, SEND_RETRY, NULL), 500);
    ck_assert_int_eq(send_expect(&ch, &n, SEND_FAILED, NULL), 400);
    ck_assert_int_eq(sink_count("/outcome"), 4);
    free(u);
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    char *u = url_for("/moved");
    struct pager_channel ch = { .name = "hook", .type = PAGER_WEBHOOK, .url = u };
    struct pager_notice n = notice("page", "s1");

    sink_script("[302, 202]");
    ck_assert_int_eq(send_expect(&ch, &n, SEND_FAILED, NULL), 302);
    ck_assert_int_eq(sink_count("/redirected"), 0);
    free(u);
}
END_TEST

START_TEST(test_hang_times_out)
{
    char *u = url_for("/hang");
    struct pager_channel ch = { .name = "hook", .type = PAGER_WEBHOOK, .url = u,
                                .timeout_ms = HANG_TIMEOUT_MS };
    struct pager_notice n = notice("page", "s1");
    char err[256];
    long status = -1;
    double ms = 0;

    sink_script("[\"hang\"]");
    ck_assert_int_eq(pager_send(&ch, &n, &status, &ms, err, sizeof(err)), SEND_RETRY);
    ck_assert_int_eq(status, 0);
    ck_assert_msg(ms >= HANG_TIMEOUT_MS * 0.8 && ms < HANG_TIMEOUT_MS * 10,
                  "latency %.0f ms for a %d ms timeout", ms, HANG_TIMEOUT_MS);
    ck_assert_ptr_nonnull(strstr(err, "imeout"));
    sink_script("[202]");
    free(u);
}
END_TEST

START_TEST(test_bad_settings_fail_without_sending)
{
    char *u = url_for("/inject");
    struct pager_channel ch = { .name = "hook", .type = PAGER_WEBHOOK, .url = u,
                                .secret = "tok\r\nX-Evil: 1" };
    struct pager_notice n = notice("page", "s1");

    sink_script("[202]");
    send_expect(&ch, &n, SEND_FAILED, "X-Evil");
    ch.secret = NULL;
    ch.url = "file:///etc/passwd";
    send_expect(&ch, &n, SEND_FAILED, "passwd");
    ch.url = NULL;
    send_expect(&ch, &n, SEND_FAILED, NULL);
    ck_assert_int_eq(sink_count("/inject"), 0);
    free(u);
}
END_TEST

/* A file in dir holding needle, waiting up to SINK_WAIT_MS. */
static bool
dir_has(const char *dir, const char *needle, const char *needle2)
{
    long long end = mono_ms() + SINK_WAIT_MS;
    char path[4096], buf[65536];

    do {
        DIR *d = opendir(dir);
        struct dirent *e;
        bool found = false;

        ck_assert_ptr_nonnull(d);
        while (!found && (e = readdir(d)) != NULL) {
            FILE *f;
            size_t n;

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (!(f = fopen(path, "r")))
                continue;
            n = fread(buf, 1, sizeof(buf) - 1, f);
            buf[n] = '\0';
            fclose(f);
            found = strstr(buf, needle) && strstr(buf, needle2);
        }
        closedir(d);
        if (found)
            return true;
        usleep(50 * 1000);
    } while (mono_ms() < end);
    return false;
}

START_TEST(test_email)
{
    const char *url = getenv("CPR_TEST_SMTP_URL"), *dir = getenv("CPR_TEST_SMTP_DIR");
    struct pager_channel ch = { .name = "mail", .type = PAGER_EMAIL,
                                .from = "cpr-sweeper@ca.example",
                                .to = "oncall@ca.example, boss@ca.example",
                                .smtp_url = url };
    struct pager_notice n = notice("page", "mail-step-1");

    ck_assert_msg(url && dir, "CPR_TEST_SMTP_URL and CPR_TEST_SMTP_DIR must be set");
    ck_assert_int_eq(send_expect(&ch, &n, SEND_OK, NULL), 250);
    ck_assert_msg(dir_has(dir, "Auto-Submitted: auto-generated", "cprctl ack CPR-2026-000042"),
                  "no stored message with Auto-Submitted and the ack command");
    ck_assert(dir_has(dir, "X-Rcpt-Args: <boss@ca.example>", "X-Mail-Args: <cpr-sweeper@ca.example>"));
    ck_assert(!dir_has(dir, "\nX-Evil:", ""));
}
END_TEST

START_TEST(test_email_rejected)
{
    struct pager_channel ch = { .name = "mail", .type = PAGER_EMAIL,
                                .from = "cpr-sweeper@ca.example", .to = "oncall@ca.example",
                                .smtp_url = getenv("CPR_TEST_SMTP_REJECT_URL") };
    struct pager_notice n = notice("page", "mail-step-2");
    long status;

    ck_assert_msg(ch.smtp_url, "CPR_TEST_SMTP_REJECT_URL must be set");
    status = send_expect(&ch, &n, SEND_FAILED, "oncall@");
    ck_assert_int_ge(status, 500);
    ck_assert_int_le(status, 599);

    ch.smtp_url = getenv("CPR_TEST_SMTP_SOFT_URL");
    ck_assert_msg(ch.smtp_url, "CPR_TEST_SMTP_SOFT_URL must be set");
    status = send_expect(&ch, &n, SEND_RETRY, "oncall@");
    ck_assert_int_ge(status, 400);
    ck_assert_int_le(status, 499);
}
END_TEST

static Suite *
pager_http_suite(void)
{
    Suite *s = suite_create("pager_http");
    TCase *tc = tcase_create("http");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_webhook);
    tcase_add_test(tc, test_pagerduty);
    tcase_add_test(tc, test_opsgenie);
    tcase_add_test(tc, test_slack);
    tcase_add_test(tc, test_outcomes);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_hang_times_out);
    tcase_add_test(tc, test_bad_settings_fail_without_sending);
    suite_add_tcase(s, tc);
    tc = tcase_create("smtp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_email_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int failed;

    sink_url = getenv("CPR_TEST_SINK_URL");
    sink_log = getenv("CPR_TEST_SINK_LOG");
    if (!sink_url || !sink_log) {
        fprintf(stderr, "check_pager_http: CPR_TEST_SINK_URL and CPR_TEST_SINK_LOG unset; "
                        "run tests/pager.test\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(pager_http_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_metrics - unit tests for the Prometheus exposition and its tables
 * DESCRIPTION
 *   metrics.c: label values escape \, " and newline, HELP text \ and
 *   newline; values print as the shortest decimal that reads back, NaN
 *   and +-Inf as Prometheus spells them; a histogram's buckets are
 *   cumulative, bounds inclusive, and _count is the +Inf bucket.
 *   listen.c: which HOST:PORT forms are taken. intakemetrics.c and
 *   sweepmetrics.c: counters move by what happened (read before and after,
 *   never assumed to start at 0), label values come from fixed lists, and
 *   deadline seconds are measured at the time passed in.
 *   metrics_http.c, on a loopback port: a port in use is refused with its
 *   reason; GET /metrics answers the render's text and the process lines,
 *   other paths 404 and other methods 405.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_unit.h"
#include "intakemetrics.h"
#include "listen.h"
#include "metrics.h"
#include "sweepmetrics.h"

/* The value of the sample line that starts with "series " in text; -1 if none. */
static double
value_of(const GString *text, const char *series)
{
    size_t n = strlen(series);

    for (const char *p = text->str; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

START_TEST(test_label_escaping)
{
    GString *out = g_string_new("");

    metrics_sample(out, "x", (const char *const[]){ "a", "q\"b\\s\nn", "b", "plain", NULL }, 1);
    ck_assert_str_eq(out->str, "x{a=\"q\\\"b\\\\s\\nn\",b=\"plain\"} 1\n");
    g_string_truncate(out, 0);
    metrics_sample(out, "y", NULL, 2);
    metrics_sample(out, "z", (const char *const[]){ NULL }, 3);
    ck_assert_str_eq(out->str, "y 2\nz 3\n");
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_help_escaping)
{
    GString *out = g_string_new("");

    metrics_family(out, "x_total", "counter", "a \"quoted\" back\\slash\nline");
    ck_assert_str_eq(out->str, "# HELP x_total a \"quoted\" back\\\\slash\\nline\n"
                               "# TYPE x_total counter\n");
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_values)
{
    static const struct { double v; const char *want; } cases[] = {
        { 0, "0" }, { 1.5, "1.5" }, { 0.1, "0.1" }, { -3, "-3" },
        { 1796424492, "1796424492" }, { 1796424492.125, "1796424492.125" },
        { 1e300, "1e+300" }, { 0.0025, "0.0025" },
    };
    char buf[40];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        metrics_format_value(cases[i].v, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i].want);
        ck_assert(strtod(buf, NULL) == cases[i].v);
    }
    metrics_format_value(1.0 / 3.0, buf, sizeof(buf));
    ck_assert(strtod(buf, NULL) == 1.0 / 3.0);   /* needs 17 digits */
    metrics_format_value(strtod("nan", NULL), buf, sizeof(buf));
    ck_assert_str_eq(buf, "NaN");
    metrics_format_value(strtod("inf", NULL), buf, sizeof(buf));
    ck_assert_str_eq(buf, "+Inf");
    metrics_format_value(-strtod("inf", NULL), buf, sizeof(buf));
    ck_assert_str_eq(buf, "-Inf");
}
END_TEST

static const double test_bounds[] = { 0.1, 1 };

START_TEST(test_histogram)
{
    struct metrics_histogram h = METRICS_HISTOGRAM(test_bounds);
    GString *out = g_string_new("");

    metrics_histogram_observe(&h, 0.05);
    metrics_histogram_observe(&h, 0.1);    /* le is inclusive */
    metrics_histogram_observe(&h, -1);     /* a clock step: counted as 0 */
    metrics_histogram_observe(&h, 0.5);
    metrics_histogram_observe(&h, 5);      /* above every bound */
    metrics_histogram_write(out, "t_seconds", "Test.", &h);
    ck_assert_str_eq(out->str,
                     "# HELP t_seconds Test.\n"
                     "# TYPE t_seconds histogram\n"
                     "t_seconds_bucket{le=\"0.1\"} 3\n"
                     "t_seconds_bucket{le=\"1\"} 4\n"
                     "t_seconds_bucket{le=\"+Inf\"} 5\n"
                     "t_seconds_sum 5.65\n"
                     "t_seconds_count 5\n");
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_process_lines)
{
    GString *out = g_string_new("");

    metrics_write_process(out, 1796424492, "9.8.7");
    ck_assert(value_of(out, "process_start_time_seconds") == 1796424492);
    ck_assert(value_of(out, "cpr_build_info{version=\"9.8.7\"}") == 1);
    ck_assert(strstr(out->str, "# TYPE process_start_time_seconds gauge\n") != NULL);
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_listen_parse)
{
    static const char *const good[] = { "127.0.0.1:9478", "0.0.0.0:1", "[::1]:9479",
                                        "[::]:65535" };
    static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
                                       "127.0.0.1:65536", "127.0.0.1:94x", "localhost:9478",
                                       "::1:9478", "[::1]", "[::1:9478", ":9478",
                                       "[127.0.0.1]:9478", "127.0.0.1:-1" };
    struct listen_addr a;
    const char *why;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(listen_parse(good[i], &a, &why), "%s refused", good[i]);
    ck_assert(listen_parse("[::1]:9479", &a, &why));
    ck_assert_int_eq(a.ss.ss_family, AF_INET6);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port), 9479);
    ck_assert(listen_parse("127.0.0.1:9478", &a, &why));
    ck_assert_int_eq(a.ss.ss_family, AF_INET);
    ck_assert_int_eq(a.len, sizeof(struct sockaddr_in));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        ck_assert_msg(!listen_parse(bad[i], &a, &why), "%s taken", bad[i]);
        ck_assert(why != NULL);
    }
}
END_TEST

#define NEW_KC "cpr_milter_messages_total{kind=\"new-report\",category=\"key-compromise\"}"
#define FU_OTHER "cpr_milter_messages_total{kind=\"follow-up\",category=\"other\"}"
#define OTHER "cpr_milter_messages_total{kind=\"other\",category=\"none\"}"
#define PROBE "cpr_milter_messages_total{kind=\"probe\",category=\"none\"}"
#define TF_DOWN "cpr_milter_tempfail_total{reason=\"db_unavailable\"}"

START_TEST(test_intake_table)
{
    GString *before = g_string_new(""), *after = g_string_new("");

    intakemetrics_render(before, NULL);
    intakemetrics_recorded("new-report", "key-compromise");
    intakemetrics_recorded("new-report", "key-compromise");
    intakemetrics_recorded("follow-up", "no-such-category");   /* counted as other */
    intakemetrics_recorded("made-up\"kind", "abuse");          /* no such kind: other */
    intakemetrics_message(INTAKEMETRICS_PROBE);
    intakemetrics_message(INTAKEMETRICS_NEW_REPORT);           /* needs a category: other */
    intakemetrics_tempfail(INTAKEMETRICS_DB_UNAVAILABLE);
    intakemetrics_tempfail(INTAKEMETRICS_TEMPFAIL_COUNT);      /* out of range: ignored */
    intakemetrics_intake(0.003);
    intakemetrics_render(after, NULL);
    ck_assert(value_of(after, NEW_KC) - value_of(before, NEW_KC) == 2);
    ck_assert(value_of(after, FU_OTHER) - value_of(before, FU_OTHER) == 1);
    ck_assert(value_of(after, OTHER) - value_of(before, OTHER) == 2);
    ck_assert(value_of(after, PROBE) - value_of(before, PROBE) == 1);
    ck_assert(value_of(after, TF_DOWN) - value_of(before, TF_DOWN) == 1);
    ck_assert(value_of(after, "cpr_milter_intake_seconds_bucket{le=\"0.0025\"}")
              == value_of(before, "cpr_milter_intake_seconds_bucket{le=\"0.0025\"}"));
    ck_assert(value_of(after, "cpr_milter_intake_seconds_bucket{le=\"0.005\"}")
              - value_of(before, "cpr_milter_intake_seconds_bucket{le=\"0.005\"}") == 1);
    ck_assert(value_of(after, "cpr_milter_intake_seconds_count")
              - value_of(before, "cpr_milter_intake_seconds_count") == 1);
    ck_assert(strstr(after->str, "made-up") == NULL);
    ck_assert(strstr(after->str, "no-such-category") == NULL);
    g_string_free(before, TRUE);
    g_string_free(after, TRUE);
}
END_TEST

#define PAGES(ch, r) "cpr_sweeper_pages_total{channel=\"" ch "\",result=\"" r "\"}"

START_TEST(test_sweeper_pages)
{
    static struct pager_channel chans[2] = { { .name = "pd-oncall" }, { .name = "hook" } };
    static struct escalation esc = { .channels = chans, .nchannels = 2 };
    struct pager_channel stranger = { .name = "stranger" };
    GString *before = g_string_new(""), *after = g_string_new("");

    sweepmetrics_init(&esc);
    sweepmetrics_write(before, 0);
    sweepmetrics_page(&chans[1], SWEEPMETRICS_RETRY);
    sweepmetrics_page(&chans[1], SWEEPMETRICS_SENT);
    sweepmetrics_page(&chans[0], SWEEPMETRICS_FAILED);
    sweepmetrics_page(&stranger, SWEEPMETRICS_SENT);    /* not one of esc's: ignored */
    sweepmetrics_write(after, 0);
    ck_assert(value_of(after, PAGES("hook", "retry")) - value_of(before, PAGES("hook", "retry")) == 1);
    ck_assert(value_of(after, PAGES("hook", "sent")) - value_of(before, PAGES("hook", "sent")) == 1);
    ck_assert(value_of(after, PAGES("pd-oncall", "failed"))
              - value_of(before, PAGES("pd-oncall", "failed")) == 1);
    ck_assert(value_of(after, PAGES("pd-oncall", "sent")) == value_of(before, PAGES("pd-oncall", "sent")));
    ck_assert(strstr(after->str, "stranger") == NULL);
    ck_assert(value_of(after, "cpr_db_up") == 0);   /* no round yet */
    ck_assert(strstr(after->str, "cpr_cases_open") == NULL);   /* never counted: no sample */
    g_string_free(before, TRUE);
    g_string_free(after, TRUE);
}
END_TEST

#define LEFT(c) "cpr_deadline_seconds_left{clock=\"" c "\"}"

START_TEST(test_sweeper_deadlines)
{
    struct deadline_policy p = { .acknowledge_ms = 30000, .report_ms = 86400000 };
    const long long t0 = 1800000000000LL;   /* database clock, epoch ms */
    struct sweep_case cases[3] = { 0 };
    GString *out = g_string_new("");

    /* Case 0: received 10 s ago, nothing done: ack due in 20 s. */
    cases[0].clocks.received_at = cases[0].clocks.ack_clock_from = t0 - 10000;
    /* Case 1: received an hour ago, acked, reporter answered: its
     * subscriber clock is the nearest report deadline; confirmed item 4
     * (24 h) so revocation runs too. */
    cases[1].clocks.received_at = cases[1].clocks.ack_clock_from = t0 - 3600000;
    cases[1].clocks.acked_at = t0 - 3000000;
    cases[1].clocks.reporter_done_at = t0 - 2000000;
    cases[1].clocks.br_item = 4;
    /* Case 2: automated, no clock at all. */
    cases[2].clocks.received_at = t0 - 7200000;
    sweepmetrics_deadlines(cases, 3, &p, t0, 500);
    /* 25 s later on the monotonic clock: ack overdue by 5 s. */
    sweepmetrics_write(out, 500 + 25000);
    ck_assert(value_of(out, LEFT("acknowledge")) == -5);
    ck_assert(value_of(out, LEFT("report-reporter")) == (86400000 - 10000 - 25000) / 1000.0);
    ck_assert(value_of(out, LEFT("report-subscriber")) == (86400000 - 3600000 - 25000) / 1000.0);
    ck_assert(value_of(out, LEFT("revocation")) == (86400000 - 3600000 - 25000) / 1000.0);
    g_string_truncate(out, 0);
    sweepmetrics_deadlines(cases + 2, 1, &p, t0, 500);   /* only the automated case */
    sweepmetrics_write(out, 500);
    ck_assert(strstr(out->str, "cpr_deadline_seconds_left{") == NULL);
    ck_assert(strstr(out->str, "# TYPE cpr_deadline_seconds_left gauge\n") != NULL);
    g_string_free(out, TRUE);
}
END_TEST

/* A listening socket on 127.0.0.1 at a port the kernel picks; *port set. */
static int
listen_any(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert(fd >= 0);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* One HTTP/1.0 request; the whole response, at most len - 1 bytes. */
static void
http(int port, const char *request, char *out, size_t len)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;
    ssize_t n;

    ck_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ck_assert(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
    while (got < len - 1 && (n = read(fd, out + got, len - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd);
}

static void
render_test(GString *out, void *arg)
{
    metrics_family(out, "t_total", "counter", "Test.");
    metrics_sample(out, "t_total", NULL, *(const double *)arg);
}

START_TEST(test_http)
{
    static const double value = 42;
    struct metrics_settings s = { NULL, "1.2.3", render_test, (void *)&value };
    struct metrics_server *srv;
    char spec[32], err[256] = "", resp[4096];
    int port, busy = listen_any(&port);

    snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
    s.listen = spec;
    ck_assert(metrics_start(&s, err, sizeof(err)) == NULL);   /* port in use */
    ck_assert_msg(strstr(err, spec) != NULL && strstr(err, "in use") != NULL, "%s", err);
    close(busy);
    ck_assert_msg((srv = metrics_start(&s, err, sizeof(err))) != NULL, "%s", err);
    http(port, "GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strncmp(resp, "HTTP/1.0 200", 12) == 0 || strncmp(resp, "HTTP/1.1 200", 12) == 0,
                  "%s", resp);
    ck_assert(strstr(resp, "Content-Type: " METRICS_CONTENT_TYPE "\r\n") != NULL);
    ck_assert(strstr(resp, "\r\n\r\n# HELP t_total Test.\n# TYPE t_total counter\nt_total 42\n")
              != NULL);
    ck_assert(strstr(resp, "cpr_build_info{version=\"1.2.3\"} 1\n") != NULL);
    http(port, "GET /metricsx HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strstr(resp, " 404 ") != NULL && strstr(resp, "t_total") == NULL, "%s", resp);
    http(port, "PUT /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp, sizeof(resp));
    ck_assert_msg(strstr(resp, " 405 ") != NULL && strstr(resp, "\r\nAllow: GET\r\n") != NULL,
                  "%s", resp);
    metrics_stop(srv);
}
END_TEST

Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, test_label_escaping);
    tcase_add_test(tc, test_help_escaping);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_histogram);
    tcase_add_test(tc, test_process_lines);
    tcase_add_test(tc, test_listen_parse);
    tcase_add_test(tc, test_intake_table);
    tcase_add_test(tc, test_sweeper_pages);
    tcase_add_test(tc, test_sweeper_deadlines);
    tcase_add_test(tc, test_http);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_log - unit tests for the log line gate and the failure throttle
 * DESCRIPTION
 *   log_clean: line breaks, tabs and control bytes can never split or
 *   forge a line (a libpq error is one line), and bounds hold.
 *   log_format: the sd-daemon priority prefix only for the journal.
 *   log_journal_match, log_facility_code: the pure parts of start-up.
 *   A forked test writes through log_error to a file named as the
 *   journal stream and reads the line back. logthrottle: first failure,
 *   at most one line a minute with a count, the recovery; times passed in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_unit.h"
#include "log.h"
#include "logthrottle.h"

static const char *
clean(const char *in, size_t size)
{
    static char out[LOG_LINE_MAX];

    log_clean(out, size, in);
    return out;
}

START_TEST(test_clean_libpq)
{
    /* PQerrorMessage of a refused connection: several lines, tab-indented */
    ck_assert_str_eq(clean("connection to server on socket \"/x/.s.PGSQL.5432\" "
                           "failed: No such file or directory\n\tIs the server "
                           "running locally?\n", sizeof(char[LOG_LINE_MAX])),
                     "connection to server on socket \"/x/.s.PGSQL.5432\" failed: "
                     "No such file or directory Is the server running locally?");
    ck_assert_str_eq(clean("ERROR:  x\r\nDETAIL:  y\r\n", 64), "ERROR:  x DETAIL:  y");
    ck_assert_str_eq(clean("\n\nlead", 64), "lead");
    /* a caller's "%s; more" after a message that ends in a line break */
    ck_assert_str_eq(clean("accepting connections?\n; the sweeper pages", 64),
                     "accepting connections?; the sweeper pages");
}
END_TEST

START_TEST(test_clean_injection)
{
    /* a forged second line with a priority of its own stays on this one */
    ck_assert_str_eq(clean("subject\n<2>cpr-milter: fatal: forged", 64),
                     "subject <2>cpr-milter: fatal: forged");
    ck_assert_str_eq(clean("a\033[31mb\x7f" "c\bd", 64), "a\\x1b[31mb\\x7fc\\x08d");
    ck_assert_str_eq(clean("caf\xc3\xa9", 64), "caf\xc3\xa9");   /* UTF-8 stays */
}
END_TEST

START_TEST(test_clean_bounds)
{
    char out[8];

    log_clean(out, sizeof(out), "abcdefghij");
    ck_assert_str_eq(out, "abcdefg");
    log_clean(out, sizeof(out), "abc\001def");   /* \x01 needs 4: "abc\x01" fits 7 */
    ck_assert_str_eq(out, "abc\\x01");
    log_clean(out, sizeof(out), "abcd\001");     /* no half escape */
    ck_assert_str_eq(out, "abcd");
    log_clean(out, 1, "abc");
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_format_prefix)
{
    char line[LOG_LINE_MAX];

    log_format(line, sizeof(line), LOG_ERR, true, "cpr-sweeper", "error: ", "db\ndown");
    ck_assert_str_eq(line, "<3>cpr-sweeper: error: db down");
    log_format(line, sizeof(line), LOG_WARNING, true, "p", "warning: ", "w");
    ck_assert_str_eq(line, "<4>p: warning: w");
    log_format(line, sizeof(line), LOG_NOTICE, true, "p", "", "n");
    ck_assert_str_eq(line, "<5>p: n");
    log_format(line, sizeof(line), LOG_INFO, true, "p", "", "i");
    ck_assert_str_eq(line, "<6>p: i");
    log_format(line, sizeof(line), LOG_DEBUG, true, "p", "", "d");
    ck_assert_str_eq(line, "<7>p: d");
    log_format(line, sizeof(line), LOG_MAIL | LOG_ERR, true, "p", "", "f");
    ck_assert_str_eq(line, "<3>p: f");            /* the facility is not a priority */
    log_format(line, sizeof(line), LOG_ERR, false, "p", "error: ", "e");
    ck_assert_str_eq(line, "p: error: e");
    log_format(line, 6, LOG_ERR, true, "p", "error: ", "e");
    ck_assert_str_eq(line, "<3>p:");
}
END_TEST

START_TEST(test_journal_match)
{
    ck_assert(log_journal_match("8:12345", 8, 12345));
    ck_assert(!log_journal_match("8:12345", 8, 12346));
    ck_assert(!log_journal_match("9:12345", 8, 12345));
    ck_assert(!log_journal_match("8:12345x", 8, 12345));
    ck_assert(!log_journal_match("", 8, 12345));
    ck_assert(!log_journal_match(NULL, 8, 12345));
}
END_TEST

START_TEST(test_facility)
{
    ck_assert_int_eq(log_facility_code("mail"), LOG_MAIL);
    ck_assert_int_eq(log_facility_code("daemon"), LOG_DAEMON);
    ck_assert_int_eq(log_facility_code("local7"), LOG_LOCAL7);
    ck_assert_int_eq(log_facility_code("Mail"), -1);
    ck_assert_int_eq(log_facility_code("kern"), -1);
    ck_assert(!log_set_facility("local8"));
    ck_assert(log_set_facility("local3"));
}
END_TEST

/* Through the real writer: stderr is a file JOURNAL_STREAM names. */
START_TEST(test_stderr_journal)
{
    char path[] = "/tmp/check_log.XXXXXX", env[64], buf[256] = "";
    int fd = mkstemp(path);
    struct stat st;
    FILE *fp;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    snprintf(env, sizeof(env), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    setenv("JOURNAL_STREAM", env, 1);
    ck_assert_int_eq(dup2(fd, 2), 2);
    log_init("t", 1);
    log_error("libpq: %s", "FATAL:  no\nHINT:  yes\n");
    log_info("fine");
    unsetenv("JOURNAL_STREAM");
    log_init("t", 1);
    log_warn("plain");
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, fp), 0);
    fclose(fp);
    unlink(path);
    ck_assert_str_eq(buf, "<3>t: error: libpq: FATAL:  no HINT:  yes\n<6>t: fine\n"
                          "t: warning: plain\n");
}
END_TEST

START_TEST(test_throttle_outage)
{
    struct log_throttle t;
    long long count = 0, down = 0, now = 1000;

    log_throttle_init(&t, LOG_THROTTLE_INTERVAL_MS);
    ck_assert_int_eq(log_throttle_recovered(&t, now, &count, &down), LOG_THROTTLE_QUIET);
    ck_assert_int_eq(log_throttle_failed(&t, now, &count), LOG_THROTTLE_FIRST);
    ck_assert_int_eq(count, 1);
    /* every 5 s for a minute: quiet, then one line with the count */
    for (int i = 1; i < 12; i++)
        ck_assert_int_eq(log_throttle_failed(&t, now + i * 5000, &count), LOG_THROTTLE_QUIET);
    ck_assert_int_eq(log_throttle_failed(&t, now + 60000, &count), LOG_THROTTLE_REPEAT);
    ck_assert_int_eq(count, 12);
    ck_assert_int_eq(log_throttle_failed(&t, now + 65000, &count), LOG_THROTTLE_QUIET);
    ck_assert_int_eq(log_throttle_failed(&t, now + 119999, &count), LOG_THROTTLE_QUIET);
    ck_assert_int_eq(log_throttle_failed(&t, now + 120000, &count), LOG_THROTTLE_REPEAT);
    ck_assert_int_eq(count, 3);
    ck_assert_int_eq(log_throttle_recovered(&t, now + 125000, &count, &down),
                     LOG_THROTTLE_RECOVERED);
    ck_assert_int_eq(count, 16);
    ck_assert_int_eq(down, 125000);
    ck_assert_int_eq(log_throttle_recovered(&t, now + 130000, &count, &down),
                     LOG_THROTTLE_QUIET);
    /* the next outage starts over */
    ck_assert_int_eq(log_throttle_failed(&t, now + 200000, &count), LOG_THROTTLE_FIRST);
    ck_assert_int_eq(log_throttle_failed(&t, now + 201000, &count), LOG_THROTTLE_QUIET);
}
END_TEST

START_TEST(test_throttle_slow_failures)
{
    struct log_throttle t;
    long long count = 0;

    /* failures further apart than the interval are each logged */
    log_throttle_init(&t, LOG_THROTTLE_INTERVAL_MS);
    ck_assert_int_eq(log_throttle_failed(&t, 0, &count), LOG_THROTTLE_FIRST);
    ck_assert_int_eq(log_throttle_failed(&t, 90000, &count), LOG_THROTTLE_REPEAT);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log_throttle_failed(&t, 180000, &count), LOG_THROTTLE_REPEAT);
    ck_assert_int_eq(count, 1);
}
END_TEST

Suite *
log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");

    tcase_add_test(tc, test_clean_libpq);
    tcase_add_test(tc, test_clean_injection);
    tcase_add_test(tc, test_clean_bounds);
    tcase_add_test(tc, test_format_prefix);
    tcase_add_test(tc, test_journal_match);
    tcase_add_test(tc, test_facility);
    tcase_add_test(tc, test_stderr_journal);
    tcase_add_test(tc, test_throttle_outage);
    tcase_add_test(tc, test_throttle_slow_failures);
    suite_add_tcase(s, tc);
    return s;
}

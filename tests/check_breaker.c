/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_breaker - unit tests for the database circuit breaker
 * DESCRIPTION
 *   Drives the pure state machine with explicit times: a failure opens it,
 *   calls then fail fast, probes back off from retry_ms up to max_retry_ms,
 *   and a success closes it and resets the backoff.
 */
#include "breaker.h"
#include "check_unit.h"

#define RETRY_MS 1000
#define MAX_RETRY_MS 8000

START_TEST(test_init)
{
    struct breaker b;

    breaker_init(&b, RETRY_MS, MAX_RETRY_MS);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert(breaker_allow(&b));
    ck_assert(!breaker_probe_due(&b, 0));
    ck_assert_uint_eq(b.failures, 0);
    breaker_init(&b, RETRY_MS, RETRY_MS / 2);
    ck_assert_int_eq(b.max_retry_ms, RETRY_MS);
}
END_TEST

START_TEST(test_failure_opens)
{
    struct breaker b;

    breaker_init(&b, RETRY_MS, MAX_RETRY_MS);
    breaker_failure(&b, 5000);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert(!breaker_allow(&b));
    ck_assert_int_eq(b.opened_at, 5000);
    ck_assert_uint_eq(b.failures, 1);
    /* The first probe is due at once: it may have been one lost link. */
    ck_assert(!breaker_probe_due(&b, 4999));
    ck_assert(breaker_probe_due(&b, 5000));
}
END_TEST

START_TEST(test_fail_fast)
{
    struct breaker b;

    breaker_init(&b, RETRY_MS, MAX_RETRY_MS);
    breaker_failure(&b, 5000);
    breaker_probe_failed(&b, 5000);
    breaker_failure(&b, 5200);
    breaker_failure(&b, 5300);
    ck_assert(!breaker_allow(&b));
    ck_assert_int_eq(b.opened_at, 5000);
    ck_assert_int_eq(b.next_probe_at, 6000);
    ck_assert_uint_eq(b.failures, 4);
}
END_TEST

START_TEST(test_probe_backoff)
{
    static const long long due[] = {1100, 3100, 7100, 15100, 23100, 31100};
    struct breaker b;
    long long now = 100;
    size_t i;

    breaker_init(&b, RETRY_MS, MAX_RETRY_MS);
    breaker_failure(&b, now);
    for (i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
        ck_assert(breaker_probe_due(&b, now));
        breaker_probe_failed(&b, now);
        ck_assert_int_eq(b.next_probe_at, due[i]);
        ck_assert(!breaker_probe_due(&b, due[i] - 1));
        ck_assert(!breaker_allow(&b));
        now = due[i];
    }
    ck_assert_int_eq(b.cur_retry_ms, MAX_RETRY_MS);
}
END_TEST

START_TEST(test_success_closes)
{
    struct breaker b;

    breaker_init(&b, RETRY_MS, MAX_RETRY_MS);
    breaker_failure(&b, 0);
    breaker_probe_failed(&b, 0);
    breaker_probe_failed(&b, 1000);
    breaker_success(&b);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert(breaker_allow(&b));
    ck_assert(!breaker_probe_due(&b, 100000));
    ck_assert_uint_eq(b.failures, 0);
    /* The next outage starts its backoff from the beginning. */
    breaker_failure(&b, 50000);
    ck_assert(breaker_probe_due(&b, 50000));
    breaker_probe_failed(&b, 50000);
    ck_assert_int_eq(b.next_probe_at, 50000 + RETRY_MS);
}
END_TEST

Suite *
breaker_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = tcase_create("breaker");

    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_failure_opens);
    tcase_add_test(tc, test_fail_fast);
    tcase_add_test(tc, test_probe_backoff);
    tcase_add_test(tc, test_success_closes);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_health - unit tests of the sweeper's health bookkeeping
 * DESCRIPTION
 *   Times are passed in: the database-down page is due only after
 *   db_down_page_after, is retried (not spun) when no channel took it, is
 *   resolved when the database comes back; the heartbeat keeps its period.
 */
#include <check.h>

#include "check_unit.h"
#include "health.h"

#define S 1000LL

START_TEST(test_db_down_page)
{
    struct health h;

    health_init(&h, 0, 60 * S, false, 120 * S);
    ck_assert(!health_db_page_due(&h, 10 * S));
    health_db_result(&h, false, 10 * S);
    health_db_result(&h, false, 50 * S);          /* still the same outage */
    ck_assert_int_eq(h.db_down_since, 10 * S);
    ck_assert(!health_db_page_due(&h, 129 * S));
    ck_assert_int_eq(health_next_wake(&h, 100 * S), 130 * S);
    ck_assert(health_db_page_due(&h, 130 * S));
    /* No channel took it: retried later, not in a tight loop. */
    health_db_page_failed(&h, 130 * S);
    ck_assert(!health_db_page_due(&h, 131 * S));
    ck_assert_int_eq(health_next_wake(&h, 131 * S), 130 * S + HEALTH_PAGE_RETRY_MS);
    ck_assert(health_db_page_due(&h, 130 * S + HEALTH_PAGE_RETRY_MS));
    h.db_down_paged = true;
    ck_assert(!health_db_page_due(&h, 500 * S));
    ck_assert_int_eq(health_next_wake(&h, 500 * S), 0);
    /* Back: tell tier 1, and a new outage starts afresh. */
    health_db_result(&h, true, 600 * S);
    ck_assert(h.db_resolve_owed);
    ck_assert_int_eq(h.db_down_since, 0);
    health_db_result(&h, false, 700 * S);
    ck_assert(!health_db_page_due(&h, 800 * S));
    ck_assert(health_db_page_due(&h, 820 * S));
}
END_TEST

START_TEST(test_no_resolve_without_page)
{
    struct health h;

    health_init(&h, 0, 60 * S, false, 120 * S);
    health_db_result(&h, false, 10 * S);
    health_db_result(&h, true, 20 * S);            /* a blip, never paged */
    ck_assert(!h.db_resolve_owed);
}
END_TEST

START_TEST(test_heartbeat)
{
    struct health h;

    health_init(&h, 1000 * S, 60 * S, true, 120 * S);
    ck_assert(health_heartbeat_due(&h, 1000 * S));
    health_heartbeat_done(&h, 1000 * S);
    ck_assert(!health_heartbeat_due(&h, 1059 * S));
    ck_assert_int_eq(health_next_wake(&h, 1001 * S), 1060 * S);
    ck_assert(health_heartbeat_due(&h, 1060 * S));
    health_init(&h, 1000 * S, 60 * S, false, 120 * S);
    ck_assert(!health_heartbeat_due(&h, 5000 * S));
    ck_assert_int_eq(health_next_wake(&h, 5000 * S), 0);
}
END_TEST

Suite *
health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("books");

    tcase_add_test(tc, test_db_down_page);
    tcase_add_test(tc, test_no_resolve_without_page);
    tcase_add_test(tc, test_heartbeat);
    suite_add_tcase(s, tc);
    return s;
}

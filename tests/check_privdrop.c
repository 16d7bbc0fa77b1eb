/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_privdrop - unit tests for the [milter] user decision
 * DESCRIPTION
 *   privdrop_plan with the ids passed in: no user, already the user (the
 *   systemd User= start), root, and another user; and privdrop_check's
 *   message for a user that does not exist. tests/startup.test runs the
 *   real drops.
 */
#include <string.h>

#include "check_unit.h"
#include "privdrop.h"

START_TEST(test_plan)
{
    ck_assert_int_eq(privdrop_plan(false, 0, 0, 0), PRIVDROP_NONE);
    ck_assert_int_eq(privdrop_plan(false, 1000, 1000, 0), PRIVDROP_NONE);
    ck_assert_int_eq(privdrop_plan(true, 0, 0, 998), PRIVDROP_DROP);
    ck_assert_int_eq(privdrop_plan(true, 998, 998, 998), PRIVDROP_ALREADY);
    ck_assert_int_eq(privdrop_plan(true, 1, 1, 998), PRIVDROP_REFUSE);
    /* set-uid-root or half-dropped: not "already", and root may drop */
    ck_assert_int_eq(privdrop_plan(true, 998, 0, 998), PRIVDROP_DROP);
    ck_assert_int_eq(privdrop_plan(true, 0, 998, 998), PRIVDROP_REFUSE);
}
END_TEST

START_TEST(test_check_errors)
{
    struct privdrop p;
    char err[256] = "";

    ck_assert(privdrop_check("[milter] user", "", &p, err, sizeof(err)));
    ck_assert_int_eq(p.action, PRIVDROP_NONE);
    ck_assert(!privdrop_check("[milter] user", "no-such-user-cpr", &p, err, sizeof(err)));
    ck_assert_str_eq(err, "[milter] user: no such user \"no-such-user-cpr\"");
}
END_TEST

Suite *
privdrop_suite(void)
{
    Suite *s = suite_create("privdrop");
    TCase *tc = tcase_create("privdrop");

    tcase_add_test(tc, test_plan);
    tcase_add_test(tc, test_check_errors);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_tracking - unit tests for CPR-YYYY-NNNNNN tracking numbers
 * DESCRIPTION
 *   Formatting bounds, strict parsing (canonical spelling only) and
 *   finding a number in free text without matching glued look-alikes.
 */
#include <string.h>

#include "check_unit.h"
#include "tracking.h"

START_TEST(test_format)
{
    char buf[TRACKING_MAX];

    ck_assert(tracking_format(buf, sizeof(buf), 2026, 42));
    ck_assert_str_eq(buf, "CPR-2026-000042");
    ck_assert(tracking_format(buf, sizeof(buf), 2026, 1234567));
    ck_assert_str_eq(buf, "CPR-2026-1234567");
    ck_assert(tracking_format(buf, sizeof(buf), 9999, 999999999999999999LL));
    ck_assert_str_eq(buf, "CPR-9999-999999999999999999");
    ck_assert(tracking_format(buf, 16, 1000, 1));
    ck_assert_str_eq(buf, "CPR-1000-000001");
}
END_TEST

START_TEST(test_format_bad)
{
    char buf[TRACKING_MAX];

    ck_assert(!tracking_format(buf, sizeof(buf), 2026, 0));
    ck_assert(!tracking_format(buf, sizeof(buf), 2026, -1));
    ck_assert(!tracking_format(buf, sizeof(buf), 999, 1));
    ck_assert(!tracking_format(buf, sizeof(buf), 10000, 1));
    ck_assert(!tracking_format(buf, sizeof(buf), 2026, 1000000000000000000LL));
    ck_assert(!tracking_format(buf, 15, 2026, 42));
    ck_assert(!tracking_format(NULL, 0, 2026, 42));
}
END_TEST

START_TEST(test_parse)
{
    int year = 0;
    long long seq = 0;
    char buf[TRACKING_MAX];

    ck_assert(tracking_parse("CPR-2026-000042", &year, &seq));
    ck_assert_int_eq(year, 2026);
    ck_assert_int_eq(seq, 42);
    ck_assert(tracking_parse("CPR-2027-1000000", &year, &seq));
    ck_assert_int_eq(seq, 1000000);
    ck_assert(tracking_parse("CPR-9999-999999999999999999", &year, &seq));
    ck_assert_int_eq(seq, 999999999999999999LL);
    ck_assert(tracking_format(buf, sizeof(buf), 1000, 7));
    ck_assert(tracking_parse(buf, &year, &seq));
    ck_assert_int_eq(year, 1000);
    ck_assert_int_eq(seq, 7);
}
END_TEST

static const char *const parse_bad[] = {
    "", "CPR-", "cpr-2026-000042", "Cpr-2026-000042", "CPR-2026-00042",
    "CPR-2026-000000", "CPR-0999-000001", "CPR-2026-0000042",
    "CPR-2026-000042 ", " CPR-2026-000042", "CPR-26-000042",
    "CPR-20260-000042", "CPR-2026-00004a", "CPR-2026_000042",
    "CPR-+026-000042", "CPR-2026--00042", "CPR-2026-1000000000000000000",
    "CPR-2026-000042\n", "XCPR-2026-000042",
};

START_TEST(test_parse_bad)
{
    ck_assert_msg(!tracking_parse(parse_bad[_i], NULL, NULL), "accepted \"%s\"",
                  parse_bad[_i]);
}
END_TEST

static const struct { const char *text; long where; const char *num; } finds[] = {
    {"CPR-2026-000042", 0, "CPR-2026-000042"},
    {"Re: your report [CPR-2026-000042]", 17, "CPR-2026-000042"},
    {"see CPR-2026-000042.", 4, "CPR-2026-000042"},
    {"CPR-2026-000042-x", 0, "CPR-2026-000042"},
    {"aCPR-2026-000001 and CPR-2026-000002", 21, "CPR-2026-000002"},
    {"CPR-CPR-2026-000042", 4, "CPR-2026-000042"},
    {"CPR-2026-0000421 CPR-2026-000043", 17, "CPR-2026-000043"},
    {"XCPR-2026-000042", -1, NULL},
    {"9CPR-2026-000042", -1, NULL},
    {"CPR-2026-000042x", -1, NULL},
    {"CPR-2026-0000420", -1, NULL},
    {"cpr-2026-000042", -1, NULL},
    {"CPR-2026-00004", -1, NULL},
    {"CPR-", -1, NULL},
    {"", -1, NULL},
};

START_TEST(test_find)
{
    char out[TRACKING_MAX];
    const char *p = tracking_find(finds[_i].text, out, sizeof(out));

    if (finds[_i].where < 0) {
        ck_assert_ptr_null(p);
        return;
    }
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p - finds[_i].text, finds[_i].where);
    ck_assert_str_eq(out, finds[_i].num);
}
END_TEST

START_TEST(test_find_buffers)
{
    const char *text = "x CPR-2026-000042";
    char small[15];

    ck_assert_ptr_null(tracking_find(text, small, sizeof(small)));
    ck_assert_ptr_eq(tracking_find(text, NULL, 0), text + 2);
    ck_assert_ptr_null(tracking_find(NULL, small, sizeof(small)));
}
END_TEST

Suite *
tracking_suite(void)
{
    Suite *s = suite_create("tracking");
    TCase *tc = tcase_create("tracking");

    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_format_bad);
    tcase_add_test(tc, test_parse);
    tcase_add_loop_test(tc, test_parse_bad, 0, sizeof(parse_bad) / sizeof(parse_bad[0]));
    tcase_add_loop_test(tc, test_find, 0, sizeof(finds) / sizeof(finds[0]));
    tcase_add_test(tc, test_find_buffers);
    suite_add_tcase(s, tc);
    return s;
}

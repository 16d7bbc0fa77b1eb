/*
 * NAME
 *   check_address - unit tests for address normalising and matching
 * DESCRIPTION
 *   Table tests for address_normalise (accepted and refused input) and
 *   address_in_list, including the length bound.
 */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "check_unit.h"

static const struct { const char *in, *out; } good[] = {
    {"cpr@ca.example", "cpr@ca.example"},
    {" <CPR+Key@CA.Example> ", "cpr@ca.example"},
    {"<cpr@ca.example>", "cpr@ca.example"},
    {"\t cpr@ca.example \t", "cpr@ca.example"},
    {"A+b+c@X.Example", "a@x.example"},
    {"cpr+@ca.example", "cpr@ca.example"},
    {"cpr@ca+x.example", "cpr@ca+x.example"},
    {"\"a@b\"@C.example", "\"a@b\"@c.example"},
    {"Cpr\xc3\x9c@CA.example", "cpr\xc3\x9c@ca.example"},
};

static const char *const bad[] = {
    "", "   ", "<>", "< >", "nobody", "@ca.example", "cpr@", "+x@ca.example",
    "a b@ca.example", "a@ca.example\r\n", "a\n@ca.example", "a@ca\r.example",
    "<a@ca.example", "a@ca.example>", "<<a@ca.example>>", "a@b@",
};

START_TEST(test_normalise_good)
{
    char *n = address_normalise(good[_i].in);

    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n, good[_i].out);
    free(n);
}
END_TEST

START_TEST(test_normalise_bad)
{
    ck_assert_ptr_null(address_normalise(bad[_i]));
}
END_TEST

START_TEST(test_normalise_null)
{
    ck_assert_ptr_null(address_normalise(NULL));
}
END_TEST

/* An address of exactly len bytes, wrapped in brackets and blanks. */
static char *
long_address(size_t len)
{
    char *s = malloc(len + 5);

    memset(s, 'a', len + 4);
    memcpy(s, " <", 2);
    memcpy(s + len - 10 + 2, "@x.example", 10);
    memcpy(s + len + 2, "> ", 2);
    s[len + 4] = '\0';
    return s;
}

START_TEST(test_normalise_bound)
{
    char *at_max = long_address(ADDRESS_MAX), *over = long_address(ADDRESS_MAX + 1);
    char *n = address_normalise(at_max);

    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(strlen(n), ADDRESS_MAX);
    ck_assert_ptr_null(address_normalise(over));
    free(n);
    free(at_max);
    free(over);
}
END_TEST

START_TEST(test_in_list)
{
    char *list[] = {"cpr@ca.example", "compliance@ca.example", NULL};
    char *empty[] = {NULL};

    ck_assert(address_in_list("cpr@ca.example", list));
    ck_assert(address_in_list("CPR+Key@CA.EXAMPLE", list));
    ck_assert(address_in_list(" <Compliance+x@ca.example>", list));
    ck_assert(!address_in_list("cprx@ca.example", list));
    ck_assert(!address_in_list("cpr@ca.example.evil", list));
    ck_assert(!address_in_list("cpr@ca", list));
    ck_assert(!address_in_list("nobody", list));
    ck_assert(!address_in_list(NULL, list));
    ck_assert(!address_in_list("cpr@ca.example", empty));
    ck_assert(!address_in_list("cpr@ca.example", NULL));
}
END_TEST

Suite *
address_suite(void)
{
    Suite *s = suite_create("address");
    TCase *tc = tcase_create("address");

    tcase_add_loop_test(tc, test_normalise_good, 0, sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, test_normalise_bad, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_normalise_null);
    tcase_add_test(tc, test_normalise_bound);
    tcase_add_test(tc, test_in_list);
    suite_add_tcase(s, tc);
    return s;
}

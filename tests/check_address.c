/* SPDX-License-Identifier: BSD-2-Clause */
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
#include "mtacheck.h"

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
    /* RFC 5321 forms the MTA resolves to the plain address (issue 10) */
    {"<\"cpr\"@ca.example>", "cpr@ca.example"},
    {"<\"c\\pr\"@CA.example.>", "cpr@ca.example"},
    {"<cpr@ca.example.>", "cpr@ca.example"},
    {"<@relay.example,@r2.example:cpr@ca.example>", "cpr@ca.example"},
    {"cpr(a comment)@ca.example", "cpr@ca.example"},
    {"cpr@(c)ca.example", "cpr@ca.example"},
    {"\"c\"pr@ca.example", "cpr@ca.example"},
    {"c\\pr@ca.example", "cpr@ca.example"},
    {"\"cpr+x\"@ca.example", "cpr@ca.example"},
    {"\"a b\"@ca.example", "\"a b\"@ca.example"},
    {"\"a\\\"b\"@ca.example", "\"a\\\"b\"@ca.example"},
    {"\"a..b\"@ca.example", "\"a..b\"@ca.example"},
    {"cpr@[127.0.0.1]", "cpr@[127.0.0.1]"},
};

static const char *const bad[] = {
    "", "   ", "<>", "< >", "nobody", "@ca.example", "cpr@", "+x@ca.example",
    "a b@ca.example", "a@ca.example\r\n", "a\n@ca.example", "a@ca\r.example",
    "<a@ca.example", "a@ca.example>", "<<a@ca.example>>", "a@b@",
    "\"cpr@ca.example", "cpr\"@ca.example", "cpr)@ca.example", "(cpr@ca.example",
    "@relay.example:", "@relay.example", "\"x\"@", "cpr@ca.example..", "cpr@\"ca\".example",
    "cpr\\", "\"\"@ca.example", "cpr@.",
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

static char *cpr_list[] = {"cpr@ca.example", "compliance@ca.example", NULL};

static const struct { const char *in, *delims; enum address_verdict v; } verdicts[] = {
    {"<\"cpr\"@ca.example>", "+", ADDRESS_MATCH},
    {"<cpr@CA.EXAMPLE.>", "+", ADDRESS_MATCH},
    {"<\"c\\pr\"@ca.example>", "+", ADDRESS_MATCH},
    {"<@a.example,@b.example:cpr@ca.example>", "+", ADDRESS_MATCH},
    {"cpr+key@ca.example", "+", ADDRESS_MATCH},
    {"cpr+key@ca.example", "", ADDRESS_NO},
    {"cpr-key@ca.example", "-+", ADDRESS_MATCH},
    {"cpr-key@ca.example", "+", ADDRESS_NO},
    {"cpr%ca.example@relay.example", "+", ADDRESS_MATCH},
    {"ca.example!cpr@relay.example", "+", ADDRESS_MATCH},
    {"\"cpr@ca.example", "+", ADDRESS_UNSURE},
    {"<cpr@ca.example..>", "+", ADDRESS_UNSURE},
    {"cpr", "+", ADDRESS_UNSURE},
    {"<\"cpr\">", "+", ADDRESS_UNSURE},
    {"cpr@[192.0.2.1]", "+", ADDRESS_UNSURE},
    {"postmaster@ca.example", "+", ADDRESS_NO},
    {"cpr@ca.example.evil", "+", ADDRESS_NO},
    {"\"cpr@ca.example.evil", "+", ADDRESS_NO},
    {"bob@other.example", "+", ADDRESS_NO},
    {"nobody", "+", ADDRESS_NO},
};

START_TEST(test_match)
{
    const char *why = NULL;
    enum address_verdict v = address_match(verdicts[_i].in, cpr_list, verdicts[_i].delims,
                                           &why);

    ck_assert_msg(v == verdicts[_i].v, "%s: got %d, want %d", verdicts[_i].in, (int)v,
                  (int)verdicts[_i].v);
    ck_assert(v != ADDRESS_UNSURE || why != NULL);
}
END_TEST

/* A stand-in for postmap -q: "hash:found" has every domain, "hash:unsure"
 * cannot tell, anything else has none. */
static int
fake_lookup(const char *table, const char *domain, void *arg)
{
    (void)domain;
    (void)arg;
    return strcmp(table, "hash:found") == 0 ? 1 : strcmp(table, "hash:unsure") == 0 ? -1 : 0;
}

START_TEST(test_mta_domains)
{
    ck_assert(mtacheck_list_has("ca.example, other.example", "ca.example", NULL, NULL));
    ck_assert(mtacheck_list_has("x.example,CA.Example", "ca.example", NULL, NULL));
    ck_assert(mtacheck_list_has(".example", "ca.example", NULL, NULL));
    ck_assert(!mtacheck_list_has(".ca.example", "ca.example", NULL, NULL));
    ck_assert(!mtacheck_list_has("ca.exmaple other.example", "ca.example", NULL, NULL));
    ck_assert(!mtacheck_list_has("", "ca.example", NULL, NULL));
    ck_assert(mtacheck_list_has("hash:found", "ca.example", fake_lookup, NULL));
    ck_assert(!mtacheck_list_has("hash:missing", "ca.example", fake_lookup, NULL));
    /* cannot tell: no warning rather than a false alarm */
    ck_assert(mtacheck_list_has("hash:unsure", "ca.example", fake_lookup, NULL));
    ck_assert(!mtacheck_list_has("/nonexistent/file", "ca.example", fake_lookup, NULL));
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
    tcase_add_loop_test(tc, test_match, 0, sizeof(verdicts) / sizeof(verdicts[0]));
    tcase_add_test(tc, test_mta_domains);
    suite_add_tcase(s, tc);
    return s;
}

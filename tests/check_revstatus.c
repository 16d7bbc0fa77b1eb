/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_revstatus - unit tests for the pure half of revocation checks
 * DESCRIPTION
 *   revstatus_url_ok, the reason names, the time parser, freshness with
 *   a passed clock, and the parsers on hostile bytes. The CRL and OCSP
 *   judgements against real signed answers are in tests/revocation.test.
 * DIAGNOSTICS
 *   Check failures name the input.
 */
#include "revstatus.h"
#include "check_unit.h"

#include <string.h>

#define T0 1764892800LL   /* 2025-12-05T00:00:00Z */

START_TEST(test_url_ok)
{
    ck_assert(revstatus_url_ok("http://127.0.0.1:8080/ocsp"));
    ck_assert(revstatus_url_ok("HTTPS://ocsp.example/"));
    ck_assert(!revstatus_url_ok("ldap://ldap.example/cn=CA?certificateRevocationList"));
    ck_assert(!revstatus_url_ok("file:///etc/passwd"));
    ck_assert(!revstatus_url_ok("http://a b/"));
    ck_assert(!revstatus_url_ok("http://x/\r\nHost: evil"));
    ck_assert(!revstatus_url_ok("http://"));
    ck_assert(!revstatus_url_ok(NULL));
}
END_TEST

START_TEST(test_reason_names)
{
    ck_assert_str_eq(revstatus_reason_name(1), "keyCompromise");
    ck_assert_str_eq(revstatus_reason_name(-1), "unspecified");
    ck_assert_str_eq(revstatus_reason_name(10), "aACompromise");
    ck_assert_ptr_null(revstatus_reason_name(7));
    ck_assert_ptr_null(revstatus_reason_name(11));
    ck_assert_ptr_null(revstatus_reason_name(-2));
}
END_TEST

START_TEST(test_time_parse)
{
    long long t = 0;
    char buf[32];

    ck_assert(revstatus_time_parse("2025-12-05T00:00:00Z", &t));
    ck_assert_int_eq(t, T0);
    revstatus_time_format(t, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2025-12-05T00:00:00Z");
    ck_assert(revstatus_time_parse("1764892800", &t));
    ck_assert_int_eq(t, T0);
    ck_assert(!revstatus_time_parse("2025-13-05T00:00:00Z", &t));
    ck_assert(!revstatus_time_parse("2025-12-05T00:00:00Zjunk", &t));
    ck_assert(!revstatus_time_parse("-5", &t));
    ck_assert(!revstatus_time_parse("", &t));
}
END_TEST

START_TEST(test_fresh)
{
    struct revstatus st;

    memset(&st, 0, sizeof(st));
    ck_assert(revstatus_fresh(T0, T0 + 86400, T0 + 3600, &st));
    ck_assert(!revstatus_fresh(T0, T0 + 86400, T0 + 86400 + REVSTATUS_SKEW_S + 1, &st));
    ck_assert_ptr_nonnull(strstr(st.why, "stale"));
    ck_assert(revstatus_fresh(T0, T0 + 86400, T0 + 86400 + REVSTATUS_SKEW_S, &st));
    ck_assert(!revstatus_fresh(T0 + REVSTATUS_SKEW_S + 1, T0 + 86400, T0, &st));
    ck_assert_ptr_nonnull(strstr(st.why, "not yet valid"));
    ck_assert(!revstatus_fresh(T0, T0 - 1, T0, &st));
    ck_assert_ptr_nonnull(strstr(st.why, "malformed"));
    ck_assert(revstatus_fresh(T0, 0, T0 + REVSTATUS_MAX_AGE_S, &st));
    ck_assert(!revstatus_fresh(T0, 0, T0 + REVSTATUS_MAX_AGE_S + 1, &st));
    ck_assert(!revstatus_fresh(0, 0, T0, &st));
    ck_assert_int_eq(st.state, REVSTATUS_UNKNOWN);
}
END_TEST

START_TEST(test_parse_hostile)
{
    static const unsigned char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    static const unsigned char der[] = { 0x30, 0x82, 0xff, 0xff, 0x30, 0x00 };

    ck_assert_ptr_null(revstatus_cert_parse(junk, sizeof(junk) - 1));
    ck_assert_ptr_null(revstatus_cert_parse(der, sizeof(der)));
    ck_assert_ptr_null(revstatus_cert_parse(der, 0));
    ck_assert_ptr_null(revstatus_crl_parse(junk, sizeof(junk) - 1));
    ck_assert_ptr_null(revstatus_crl_parse(der, sizeof(der)));
}
END_TEST

Suite *
revstatus_suite(void)
{
    Suite *s = suite_create("revstatus");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_url_ok);
    tcase_add_test(tc, test_reason_names);
    tcase_add_test(tc, test_time_parse);
    tcase_add_test(tc, test_fresh);
    tcase_add_test(tc, test_parse_hostile);
    suite_add_tcase(s, tc);
    return s;
}

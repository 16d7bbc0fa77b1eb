/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_imap - unit tests for the IMAP answers the probe sender reads
 * DESCRIPTION
 *   The UIDs of an untagged SEARCH (and nothing from other lines, MODSEQ,
 *   or past the caller's bound), the Message-ID of a header block (case,
 *   folding and junk refused), and which URLs are loopback, so that only
 *   those may log in without TLS. The server side is tested for real in
 *   tests/e2e_probe_mailbox.test (Dovecot).
 */
#include <string.h>

#include <check.h>

#include "check_unit.h"
#include "imap.h"

START_TEST(test_search)
{
    unsigned long u[4];

    ck_assert_uint_eq(imap_parse_search("* SEARCH 3 17 900\r\n", u, 4), 3);
    ck_assert_uint_eq(u[0], 3);
    ck_assert_uint_eq(u[2], 900);
    ck_assert_uint_eq(imap_parse_search("* SEARCH\r\n", u, 4), 0);
    ck_assert_uint_eq(imap_parse_search("", u, 4), 0);
    ck_assert_uint_eq(imap_parse_search("* OK [CAPABILITY x]\r\n* search 5 6\r\n", u, 4), 2);
    ck_assert_uint_eq(u[0], 5);
    ck_assert_uint_eq(imap_parse_search("* SEARCH 1 2 3 4 5 6\r\n", u, 4), 4);
    ck_assert_uint_eq(imap_parse_search("* SEARCH 8 (MODSEQ 917162500)\r\n", u, 4), 1);
    ck_assert_uint_eq(u[0], 8);
    ck_assert_uint_eq(imap_parse_search("* 3 EXISTS\r\n* SEARCHX 4\r\n", u, 4), 0);
    ck_assert_uint_eq(imap_parse_search("* SEARCH 0 x9\r\n", u, 4), 0);
}
END_TEST

START_TEST(test_message_id)
{
    char id[64];

    ck_assert(imap_parse_message_id("Message-ID: <a-1@probe.cpr-milter.invalid>\r\n\r\n",
                                    id, sizeof(id)));
    ck_assert_str_eq(id, "a-1@probe.cpr-milter.invalid");
    ck_assert(imap_parse_message_id("message-id:\r\n <x@y>\r\n", id, sizeof(id)));
    ck_assert_str_eq(id, "x@y");
    ck_assert(!imap_parse_message_id("Subject: <x@y>\r\n", id, sizeof(id)));
    ck_assert(!imap_parse_message_id("Message-ID: <>\r\n", id, sizeof(id)));
    ck_assert(!imap_parse_message_id("Message-ID: <a b@y>\r\n", id, sizeof(id)));
    ck_assert(!imap_parse_message_id("Message-ID: <x@y\r\n", id, sizeof(id)));
    ck_assert(!imap_parse_message_id("Message-ID: <0123456789012345678901234567890123456789"
                                     "0123456789012345678901234567890123456789@y>\r\n",
                                     id, sizeof(id)));
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert(imap_url_loopback("imap://127.0.0.1:143/"));
    ck_assert(imap_url_loopback("imap://127.9.9.9/"));
    ck_assert(imap_url_loopback("imap://[::1]:143/"));
    ck_assert(imap_url_loopback("imap://LocalHost:143"));
    ck_assert(!imap_url_loopback("imap://127.0.0.1.evil.example/"));
    ck_assert(!imap_url_loopback("imap://localhost.evil.example:143/"));
    ck_assert(!imap_url_loopback("imap://10.0.0.1/"));
    ck_assert(!imap_url_loopback("imap://[::ffff:10.0.0.1]/"));
    ck_assert(!imap_url_loopback("imap://127.1/"));
    ck_assert(!imap_url_loopback("imap:///"));
    ck_assert(!imap_url_loopback("127.0.0.1"));
}
END_TEST

Suite *
imap_suite(void)
{
    Suite *s = suite_create("imap");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_search);
    tcase_add_test(tc, test_message_id);
    tcase_add_test(tc, test_loopback);
    suite_add_tcase(s, tc);
    return s;
}

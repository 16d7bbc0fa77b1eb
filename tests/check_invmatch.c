/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_invmatch - unit tests for the inventory's pure half (invcert, invmatch)
 * DESCRIPTION
 *   Serial and hash normalisation, what each evidence kind asks (a proof
 *   whose signature fails asks nothing), hostile rows (fields, DER, a
 *   contact with a header in it), a row that does not answer its query,
 *   the certificate bound, the precertificate flag and the "missing" list.
 *   The sources themselves are in tests/inventory.test.
 * DIAGNOSTICS
 *   Check failures name the input.
 */
#include "invmatch.h"
#include "check_unit.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A self-made certificate's DER (caller frees), serial 0x43a9f. */
static unsigned char *
make_der(bool precert, int *len)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    unsigned char *der = NULL;

    ck_assert_ptr_nonnull(k);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x43a9f);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"Test-Int", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    if (precert) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_ct_precert_poison, "critical,NULL");
        ck_assert_ptr_nonnull(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    ck_assert(X509_sign(x, k, EVP_sha256()) > 0);
    *len = i2d_X509(x, &der);
    X509_free(x);
    EVP_PKEY_free(k);
    return der;
}

START_TEST(test_serial_norm)
{
    char out[INVCERT_SERIAL_LEN], text[64];

    ck_assert(invcert_serial_norm("00:04:3A:9F", out, sizeof(out)));
    ck_assert_str_eq(out, "43a9f");
    ck_assert(invcert_serial_norm("000", out, sizeof(out)));
    ck_assert_str_eq(out, "0");
    ck_assert(!invcert_serial_norm("04:3g", out, sizeof(out)));
    ck_assert(!invcert_serial_norm("123456", out, 4));
    ck_assert(!invcert_serial_norm(NULL, out, sizeof(out)));
    invmatch_serial_text("43a9f", text, sizeof(text));
    ck_assert_str_eq(text, "04:3a:9f");
    invmatch_serial_text("0102030405060708090a", text, sizeof(text));
    ck_assert_str_eq(text, "01:02:03:04:05:06:07:08\xe2\x80\xa6");
    ck_assert(invcert_hex256(HEX_A, out));
    ck_assert(!invcert_hex256(HEX_A "a", out));
    ck_assert(!invcert_hex256("zz", out));
}
END_TEST

START_TEST(test_asks)
{
    struct inv_evidence ev[] = {
        { 1, "private-key", NULL, HEX_A, NULL, NULL, NULL, NULL, true },
        { 2, "certificate", HEX_B, HEX_A, "43a9f", "CN=Test-Int", NULL, "pock", false },
        { 3, "certificate", HEX_B, HEX_A, "43a9f", "CN=Test-Int", NULL, NULL, false },
        { 4, "serial", NULL, NULL, "0043a9f", NULL, "00:04:3a:9f", NULL, false },
        { 5, "fingerprint", HEX_B, NULL, NULL, NULL, HEX_B, NULL, false },
        { 6, "serial", NULL, NULL, "not hex", NULL, NULL, NULL, false },
        { 7, "csr", NULL, HEX_B, NULL, NULL, NULL, "csr", false },
    };
    static struct inv_ask a[16];
    size_t n = invmatch_asks(ev, sizeof(ev) / sizeof(ev[0]), a, 16);

    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(a[0].q, INV_BY_SPKI);
    ck_assert_str_eq(a[0].found_kind, "private-key");
    ck_assert_str_eq(a[0].param, HEX_A);
    /* the unverified PoCK (2) and CSR proof (7) ask nothing */
    ck_assert_int_eq(a[1].q, INV_BY_SHA256);
    ck_assert_int_eq(a[1].evidence_id, 3);
    ck_assert_int_eq(a[2].q, INV_BY_ISSUER_SERIAL);
    ck_assert_str_eq(a[2].param, "{\"issuer\":\"CN=Test-Int\",\"serial\":\"43a9f\"}");
    ck_assert_int_eq(a[2].group, a[1].group);
    ck_assert_int_eq(a[3].q, INV_BY_SERIAL);
    ck_assert_str_eq(a[3].param, "43a9f");
    ck_assert_str_eq(a[3].what, "serial 04:3a:9f");
    ck_assert_int_eq(a[4].q, INV_BY_SHA256);
    ck_assert_str_eq(a[4].found_kind, "fingerprint");
    ck_assert_uint_eq(invmatch_asks(ev, 7, a, 2), 2);     /* the bound holds */
}
END_TEST

START_TEST(test_fields_hostile)
{
    struct inv_cert c;
    char why[128];

    ck_assert(invcert_from_fields(HEX_A, "0A", "CN=X", "CN=y", "y.example", HEX_B,
                                  "2026-01-01 00:00:00+00", "", false, &c, why, sizeof(why)));
    ck_assert_str_eq(c.serial, "a");
    ck_assert(!invcert_from_fields(NULL, "0A", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(!invcert_from_fields(HEX_A, "0A", "CN=X\r\nInjected: 1", "", "", "", "", "", false,
                                   &c, why, sizeof(why)));
    ck_assert(!invcert_from_fields(HEX_A, "", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(!invcert_from_fields(HEX_A, "1", "CN=X", "", "", "spki?", "", "", false, &c, why,
                                   sizeof(why)));
    ck_assert(!invcert_from_fields(HEX_A, "1", "CN=X", "", "", "", "yesterday", "", false, &c,
                                   why, sizeof(why)));
    ck_assert(invcert_set_contact(&c, "owner@subscriber.example"));
    ck_assert(!invcert_set_contact(&c, "owner@subscriber.example\r\nBcc: x@evil"));
    ck_assert(!invcert_set_contact(&c, "<owner@subscriber.example>"));
    ck_assert(!invcert_set_contact(&c, "a@b@c"));
    ck_assert(invcert_set_contact(&c, ""));
}
END_TEST

START_TEST(test_der)
{
    int len;
    unsigned char *der = make_der(false, &len), *pre_der;
    struct inv_cert c;
    char why[128];

    ck_assert(invcert_from_der(der, (size_t)len, INVCERT_MAX_DER, &c, why, sizeof(why)));
    ck_assert_str_eq(c.serial, "43a9f");
    ck_assert_str_eq(c.issuer, "CN=Test-Int");
    ck_assert_uint_eq(strlen(c.spki_sha256), 64);
    ck_assert(!c.precert);
    ck_assert(invcert_matches(&c, INV_BY_ISSUER_SERIAL, "43a9f", "CN=Test-Int"));
    ck_assert(!invcert_matches(&c, INV_BY_ISSUER_SERIAL, "43a9f", "CN=Other"));
    ck_assert(!invcert_matches(&c, INV_BY_SERIAL, "43a9e", NULL));
    invcert_clear(&c);
    ck_assert(!invcert_from_der(der, (size_t)len - 10, INVCERT_MAX_DER, &c, why, sizeof(why)));
    ck_assert_str_eq(why, "not a certificate (bad DER)");
    ck_assert(!invcert_from_der(der, (size_t)len, (size_t)len - 1, &c, why, sizeof(why)));
    ck_assert_str_eq(why, "certificate larger than the bound");
    pre_der = make_der(true, &len);
    ck_assert(invcert_from_der(pre_der, (size_t)len, INVCERT_MAX_DER, &c, why, sizeof(why)));
    ck_assert(c.precert);
    invcert_clear(&c);
    OPENSSL_free(der);
    OPENSSL_free(pre_der);
}
END_TEST

START_TEST(test_result)
{
    struct inv_evidence ev[] = {
        { 4, "serial", NULL, NULL, "43a9f", NULL, NULL, NULL, false },
        { 5, "serial", NULL, NULL, "beef", NULL, NULL, NULL, false },
    };
    static struct inv_ask a[4];
    size_t n = invmatch_asks(ev, 2, a, 4);
    struct inv_result r;
    struct inv_cert c;
    char why[64];
    json_t *j;

    invmatch_init(&r, 1);
    ck_assert(invcert_from_fields(HEX_A, "43a9f", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(invmatch_add(&r, &a[0], &c, "db"));
    ck_assert(invcert_from_fields(HEX_A, "43a9f", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(invmatch_add(&r, &a[0], &c, "files"));        /* the same one again */
    ck_assert_uint_eq(r.n, 1);
    ck_assert(invcert_from_fields(HEX_B, "43a9f", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(!invmatch_add(&r, &a[0], &c, "db"));          /* over max_certs */
    ck_assert(invcert_from_fields(HEX_B, "1", "CN=X", "", "", "", "", "", false, &c, why, sizeof(why)));
    ck_assert(invmatch_add(&r, &a[1], &c, "db"));           /* not what was asked */
    ck_assert_uint_eq(r.n, 1);
    ck_assert_uint_eq(r.nrefused, 2);
    ck_assert_uint_eq(a[1].hits, 0);
    j = invmatch_json(&r, a, n, 5);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "missing")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "missing"), 0)),
                     "serial be:ef");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j, "found"), 0),
                                                       "source")), "db");
    json_decref(j);
    invmatch_free(&r);
}
END_TEST

Suite *
invmatch_suite(void)
{
    Suite *s = suite_create("invmatch");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_serial_norm);
    tcase_add_test(tc, test_asks);
    tcase_add_test(tc, test_fields_hostile);
    tcase_add_test(tc, test_der);
    tcase_add_test(tc, test_result);
    suite_add_tcase(s, tc);
    return s;
}

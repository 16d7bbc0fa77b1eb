/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_revpublish - Check tests of revpublish and crlcache (core/)
 * DESCRIPTION
 *   When a certificate counts as published (at least one mechanism, all
 *   revoked), the text of a late claim's page (counts, serials, bounds,
 *   hostile serials), and the CRL cache's freshness, recheck while
 *   watched, LRU eviction and byte bound, all with the clock passed in.
 */
#include <string.h>

#include <openssl/asn1.h>

#include "check_unit.h"
#include "crlcache.h"
#include "revpublish.h"

static struct revstatus
st_of(enum revstatus_state s)
{
    struct revstatus st;

    memset(&st, 0, sizeof(st));
    st.state = s;
    return st;
}

START_TEST(test_published)
{
    struct revstatus r = st_of(REVSTATUS_REVOKED), g = st_of(REVSTATUS_GOOD),
                     u = st_of(REVSTATUS_UNKNOWN);

    ck_assert(!revpublish_published(NULL, NULL));          /* no mechanism */
    ck_assert(revpublish_published(&r, &r));
    ck_assert(revpublish_published(NULL, &r));             /* CRL only: SC-063 */
    ck_assert(revpublish_published(&r, NULL));
    ck_assert(!revpublish_published(&r, &g));              /* OCSP lags or leads */
    ck_assert(!revpublish_published(&g, &r));
    ck_assert(!revpublish_published(&u, &r));              /* unknown is not revoked */
    ck_assert(!revpublish_published(&r, &u));
}
END_TEST

START_TEST(test_claim_summary)
{
    const struct revpublish_row rows[] = {
        { "1001", "revoked", "revoked" }, { "1002", "good", "revoked" },
        { "1003", "good", "unknown" } };
    char buf[512];

    revpublish_claim_summary("CPR-2026-000001", "2026-12-07T01:00:00.000Z", rows, 3, buf,
                             sizeof(buf));
    ck_assert_str_eq(buf, "CPR-2026-000001: claimed revoked at 2026-12-07T01:00:00.000Z, but "
                          "OCSP says good for 2 of 3 certificates (1002, 1003); "
                          "the CRL says unknown for 1 of 3 certificates (1003)");
}
END_TEST

START_TEST(test_states_append)
{
    const struct revpublish_row rows[] = { { "1007", "good", "good" } };
    char buf[256] = "CPR-2026-000010 [misissuance] revocation deadline approaching: T"
                    "; not yet published: ";

    revpublish_states(rows, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "CPR-2026-000010 [misissuance] revocation deadline approaching: T"
                          "; not yet published: OCSP says good for 1 of 1 certificates (1007); "
                          "the CRL says good for 1 of 1 certificates (1007)");
}
END_TEST

START_TEST(test_claim_summary_bounds)
{
    struct revpublish_row rows[30];
    char small[40], buf[1024];

    for (size_t i = 0; i < 30; i++)
        rows[i] = (struct revpublish_row) { "0a:0b", "good", "revoked" };
    rows[0].serial = "1001\r\nX-Injected: yes";     /* hostile: never printed */
    revpublish_claim_summary("CPR-2026-000002", "T", rows, 30, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "OCSP says good for 30 of 30 certificates (?, 0a:0b"));
    ck_assert_ptr_nonnull(strstr(buf, ", 20 more)"));
    ck_assert_ptr_null(strchr(buf, '\n'));
    revpublish_claim_summary("CPR-2026-000002", "T", rows, 30, small, sizeof(small));
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    revpublish_claim_summary("CPR-2026-000002", "T", rows, 0, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "not yet recorded for 0 certificates"));
}
END_TEST

static X509_CRL *
crl_until(long long next_s)
{
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t) next_s);

    ck_assert(c && t && X509_CRL_set1_nextUpdate(c, t) == 1);
    ASN1_TIME_free(t);
    return c;
}

START_TEST(test_crlcache_fresh)
{
    const long long now = 1800000000000LL, hour = 3600000LL;
    struct crlcache *cc = crlcache_new(4, 1000);
    struct crlcache_entry *e;

    ck_assert_ptr_null(crlcache_get(cc, "http://a/x.crl", now));
    ck_assert(crlcache_wanted(NULL, now, hour, false));
    ck_assert(crlcache_put(cc, "http://a/x.crl", crl_until(now / 1000 + 48 * 3600), 100,
                           "\"e1\"", "Mon, 07 Dec 2026 00:00:00 GMT", now));
    e = crlcache_get(cc, "http://a/x.crl", now);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->etag, "\"e1\"");
    /* Not watched: kept until nextUpdate, days away. */
    ck_assert(!crlcache_wanted(e, now + 24 * hour, hour, false));
    ck_assert(crlcache_wanted(e, now + 48 * hour, hour, false));
    /* Watched: again every recheck, though nextUpdate is far. */
    ck_assert(!crlcache_wanted(e, now + hour - 1, hour, true));
    ck_assert(crlcache_wanted(e, now + hour, hour, true));
    crlcache_touch(e, now + hour);              /* a 304 */
    ck_assert(!crlcache_wanted(e, now + hour + 1, hour, true));
    crlcache_free(cc);
}
END_TEST

START_TEST(test_crlcache_bounds)
{
    const long long now = 1800000000000LL;
    struct crlcache *cc = crlcache_new(2, 1000);
    long long far = now / 1000 + 86400;

    ck_assert(crlcache_put(cc, "http://a/1", crl_until(far), 100, "", "", now));
    ck_assert(crlcache_put(cc, "http://a/2", crl_until(far), 100, "", "", now + 1));
    ck_assert_ptr_nonnull(crlcache_get(cc, "http://a/1", now + 2));   /* 1 used last */
    ck_assert(crlcache_put(cc, "http://a/3", crl_until(far), 100, "", "", now + 3));
    ck_assert_uint_eq(crlcache_count(cc), 2);
    ck_assert_ptr_null(crlcache_get(cc, "http://a/2", now + 4));      /* the LRU went */
    ck_assert_ptr_nonnull(crlcache_get(cc, "http://a/1", now + 4));
    /* Bytes: one over the bound is refused; a big one evicts the rest. */
    ck_assert(!crlcache_put(cc, "http://a/4", crl_until(far), 1001, "", "", now + 5));
    ck_assert(crlcache_put(cc, "http://a/5", crl_until(far), 950, "", "", now + 6));
    ck_assert_uint_eq(crlcache_count(cc), 1);
    /* A validator too long to send back is dropped. */
    {
        char big[CRLCACHE_VALIDATOR_MAX + 2];

        memset(big, 'e', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ck_assert(crlcache_put(cc, "http://a/5", crl_until(far), 10, big, "", now + 7));
        ck_assert_str_eq(crlcache_get(cc, "http://a/5", now + 8)->etag, "");
    }
    crlcache_free(cc);
}
END_TEST

Suite *
revpublish_suite(void)
{
    Suite *s = suite_create("revpublish");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_published);
    tcase_add_test(tc, test_claim_summary);
    tcase_add_test(tc, test_claim_summary_bounds);
    tcase_add_test(tc, test_states_append);
    tcase_add_test(tc, test_crlcache_fresh);
    tcase_add_test(tc, test_crlcache_bounds);
    suite_add_tcase(s, tc);
    return s;
}

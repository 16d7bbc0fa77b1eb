/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_probemark - unit tests for the mail-path probe's signed mark
 * DESCRIPTION
 *   A signed mark verifies against the message it was made for, and not
 *   when any covered part changes (id, time, recipient, Message-ID, one
 *   byte of the body or an attachment) or the secret differs; the body
 *   hash ignores line endings, trailing blanks, the mark's line and
 *   trailing empty lines; the headers hash covers what a reader sees, and
 *   refuses doubled or unknown Content-* headers; parsing is strict and
 *   bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "check_unit.h"
#include "probecompose.h"
#include "probemark.h"
#include "probeparts.h"

static const unsigned char pm_secret[] = "0123456789abcdef-probe-secret";
static char pm_long[4 * 998 + 2 * PROBEMARK_HASH_LEN + 1];  /* filled in test_covered */
#define PM_SECRET_LEN (sizeof(pm_secret) - 1)

static const char pm_body[] =
    "CPR-Probe: v=1; id=p1; t=1; mac=00\r\n"
    "This is a cpr-milter probe.\r\n"
    "--b\r\nContent-Type: application/zip\r\n\r\nUEsDBAoAAAAAAA==\r\n--b--\r\n";

static void
pm_subject(struct probemark_subject *s, const char *body)
{
    memset(s, 0, sizeof(*s));
    s->recipient = "cpr@ca.example";
    s->message_id = "<p1@probe.example>";
    ck_assert(probemark_body_hash(body, strlen(body), s->body_sha256));
}

static void
pm_signed(struct probemark *m, struct probemark_subject *s)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->id, "20261204T120000Z-pem-key-3f2a");
    m->sent = 1796385600;
    pm_subject(s, pm_body);
    ck_assert(probemark_sign(pm_secret, PM_SECRET_LEN, m, s));
    ck_assert(probemark_verify(pm_secret, PM_SECRET_LEN, m, s));
}

START_TEST(test_roundtrip)
{
    struct probemark m, back;
    struct probemark_subject s;
    char value[PROBEMARK_VALUE_MAX];

    pm_signed(&m, &s);
    ck_assert(probemark_format(value, sizeof(value), &m));
    ck_assert(probemark_parse(value, &back));
    ck_assert_str_eq(back.id, m.id);
    ck_assert_int_eq(back.sent, m.sent);
    ck_assert_str_eq(back.mac, m.mac);
    ck_assert(probemark_verify(pm_secret, PM_SECRET_LEN, &back, &s));
    s.recipient = "CPR@CA.Example";        /* case of the address does not matter */
    ck_assert(probemark_verify(pm_secret, PM_SECRET_LEN, &back, &s));
    s.message_id = " <p1@probe.example>\r\n";
    ck_assert(probemark_verify(pm_secret, PM_SECRET_LEN, &back, &s));
}
END_TEST

START_TEST(test_covered)
{
    struct probemark m, x;
    struct probemark_subject s, y;
    unsigned char other[] = "another-secret-of-enough-length";

    memset(pm_long, 'a', sizeof(pm_long) - 1);   /* found by an attacker: wrapped bound */

    pm_signed(&m, &s);
    x = m;
    strcpy(x.id, "20261204T120000Z-pem-key-3f2b");
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &x, &s));
    x = m;
    x.sent++;
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &x, &s));
    x = m;
    x.mac[10] = x.mac[10] == 'a' ? 'b' : 'a';
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &x, &s));
    ck_assert(!probemark_verify(other, sizeof(other) - 1, &m, &s));
    y = s;
    y.recipient = "security@ca.example";
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
    y = s;
    y.message_id = "<p2@probe.example>";
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
    y = s;
    y.body_sha256[31] ^= 1;
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
    y = s;
    y.headers_sha256[0] ^= 1;
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
    y = s;
    y.recipient = (const char *)pm_long;       /* as long as the MAC's buffer */
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
    pm_subject(&y, "This is a cpr-milter probe.\r\n--b\r\nContent-Type: application/zip\r\n\r\n"
                   "UEsDBAoAAAAAAB==\r\n--b--\r\n");
    ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &m, &y));
}
END_TEST

START_TEST(test_body_canonical)
{
    unsigned char a[PROBEMARK_HASH_LEN], b[PROBEMARK_HASH_LEN];
    const char *same[] = {
        "one\r\ntwo\r\n",
        "one\ntwo\n",
        "one  \r\ntwo\t\r\n\r\n\r\n",
        "CPR-Probe: v=1; id=x; t=2; mac=ff\r\none\r\ntwo",
        "cpr-probe: anything\r\none\r\ntwo\r\n",
    };
    const char *differ[] = { "one\r\n\r\ntwo\r\n", "one\r\ntwo\r\nthree\r\n", " one\r\ntwo\r\n",
                             "onetwo\r\n",
                             /* a second mark line is content: nothing hides there */
                             "CPR-Probe: v=1\r\none\r\nCPR-Probe: revoke now\r\ntwo\r\n" };

    ck_assert(probemark_body_hash(same[0], strlen(same[0]), a));
    for (size_t i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
        ck_assert(probemark_body_hash(same[i], strlen(same[i]), b));
        ck_assert_msg(memcmp(a, b, sizeof(a)) == 0, "same[%zu]", i);
    }
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        ck_assert(probemark_body_hash(differ[i], strlen(differ[i]), b));
        ck_assert_msg(memcmp(a, b, sizeof(a)) != 0, "differ[%zu]", i);
    }
    ck_assert(probemark_body_hash(NULL, 0, b));
    ck_assert(!probemark_body_hash(NULL, 1, b));
}
END_TEST

START_TEST(test_parse_strict)
{
    struct probemark m;
    const char *bad[] = {
        "", "v=1", "v=2; id=a; t=1; mac=" "00000000000000000000000000000000"
                   "00000000000000000000000000000000",
        "v=1; id=a; t=1; mac=0000",
        "v=1; id=a b; t=1; mac=0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=; t=1; mac=0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=a; t=-1; mac=0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=a; t=1x; mac=0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=a; t=1; mac=000000000000000000000000000000000000000000000000000000000000000G",
        "v=1; id=a; t=1; mac=0000000000000000000000000000000000000000000000000000000000000000; x=1",
        "id=a; v=1; t=1; mac=0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=a; t=1234567890123456789; mac="
        "0000000000000000000000000000000000000000000000000000000000000000",
        "v=1; id=a\r\nBcc: x@y; t=1; mac=0000000000000000000000000000000000000000000000000000000000000000",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!probemark_parse(bad[i], &m), "bad[%zu] parsed", i);
    ck_assert(!probemark_parse(NULL, &m));
    ck_assert(probemark_parse(" v=1;id=a.b_c-d;t=0 ;\r\n\tmac="
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                              &m));
    ck_assert_str_eq(m.id, "a.b_c-d");
    ck_assert_int_eq(m.sent, 0);
}
END_TEST

START_TEST(test_find_body_and_bounds)
{
    struct probemark m, found;
    struct probemark_subject s;
    char value[PROBEMARK_VALUE_MAX], body[512], longid[PROBEMARK_ID_MAX + 2];

    pm_signed(&m, &s);
    ck_assert(probemark_format(value, sizeof(value), &m));
    snprintf(body, sizeof(body), "Hello\r\nCPR-Probe: %s\r\nrest\r\n", value);
    ck_assert(probemark_find_body(body, strlen(body), &found));
    ck_assert_str_eq(found.mac, m.mac);
    ck_assert(!probemark_find_body("Hello\r\nno mark\r\n", 17, &found));
    ck_assert(!probemark_find_body(body, 5, &found));
    ck_assert(!probemark_format(value, 20, &m));
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ck_assert(strlen(longid) > PROBEMARK_ID_MAX);
    memcpy(m.id, longid, PROBEMARK_ID_MAX);
    m.id[PROBEMARK_ID_MAX] = '\0';
    ck_assert(probemark_sign(pm_secret, PM_SECRET_LEN, &m, &s));
    ck_assert(!probemark_sign(pm_secret, PROBEMARK_SECRET_MIN - 1, &m, &s));
    s.message_id = NULL;
    ck_assert(!probemark_sign(pm_secret, PM_SECRET_LEN, &m, &s));
}
END_TEST

/* The headers of msg (up to body) hashed as the milter hashes them. */
static void
pm_headers_of(const char *msg, const char *body, unsigned char out[PROBEMARK_HASH_LEN])
{
    struct probemark_header h[32];
    char *copy = g_strndup(msg, (gsize)(body - msg)), *line, *save = NULL;
    const char *why = NULL;
    size_t n = 0;

    for (line = strtok_r(copy, "\r\n", &save); line && n < 32; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');

        ck_assert_ptr_nonnull(colon);
        *colon = '\0';
        h[n++] = (struct probemark_header){ line, colon + 1 };
    }
    ck_assert_msg(probemark_headers_hash(h, n, out, &why), "%s", why);
    g_free(copy);
}

START_TEST(test_headers_hash)
{
    struct probemark_header a[] = { { "From", "Probe <p@x.example>" }, { "Subject", "probe 1" },
                                    { "Received", "from a by b" }, { "Content-Type", "text/plain" } };
    struct probemark_header b[] = { { "received", "elsewhere" }, { "content-type", " text/plain" },
                                    { "SUBJECT", "probe\r\n\t1 " }, { "from", "p@x.example" } };
    struct probemark_header c[] = { { "From", "Probe <p@x.example>" }, { "Subject", "revoke now" },
                                    { "Content-Type", "text/plain" } };
    struct probemark_header d[] = { { "From", "Probe <p@x.example>" }, { "Subject", "probe 1" },
                                    { "Content-Type", "text/html" } };
    struct probemark_header twice[] = { { "Subject", "probe 1" }, { "subject", "probe 1" } };
    struct probemark_header disp[] = { { "Subject", "probe 1" }, { "Content-Disposition", "inline" } };
    unsigned char ha[PROBEMARK_HASH_LEN], hb[PROBEMARK_HASH_LEN], hc[PROBEMARK_HASH_LEN],
                  hd[PROBEMARK_HASH_LEN];
    const char *why = NULL;

    ck_assert(probemark_headers_hash(a, 4, ha, &why));
    ck_assert(probemark_headers_hash(b, 4, hb, &why));   /* order, case, folding, trace */
    ck_assert(memcmp(ha, hb, sizeof(ha)) == 0);
    ck_assert(probemark_headers_hash(c, 3, hc, &why));
    ck_assert(memcmp(ha, hc, sizeof(ha)) != 0);
    ck_assert(probemark_headers_hash(d, 3, hd, &why));
    ck_assert(memcmp(ha, hd, sizeof(ha)) != 0);
    ck_assert(probemark_headers_hash(a, 3, hd, &why));   /* a signed header taken away */
    ck_assert(memcmp(ha, hd, sizeof(ha)) != 0);
    ck_assert(!probemark_headers_hash(twice, 2, hd, &why));
    ck_assert_ptr_nonnull(strstr(why, "twice"));
    ck_assert(!probemark_headers_hash(disp, 2, hd, &why));
    ck_assert_ptr_nonnull(strstr(why, "Content-"));
}
END_TEST

/* Each variant, composed, verifies as the milter checks it: the header
 * mark equals the body's, and the MAC holds over the body as written. */
START_TEST(test_compose_verifies)
{
    char err[256];

    for (size_t i = 0; probeparts_variants[i] != NULL; i++) {
        struct probe_spec p = { "20261204T120000Z-x-1", probeparts_variants[i],
                                "Probe <probe@outside.example>", "cpr@ca.example",
                                "p1@probe.example", 1796385600, 1796385600 };
        char *msg = probecompose(&p, pm_secret, PM_SECRET_LEN, err, sizeof(err));
        char *body, *h, value[PROBEMARK_VALUE_MAX];
        struct probemark hm, bm;
        struct probemark_subject s = { "cpr@ca.example", "p1@probe.example", { 0 }, { 0 } };

        ck_assert_msg(msg != NULL, "%s: %s", p.variant, err);
        body = strstr(msg, "\r\n\r\n");
        ck_assert_ptr_nonnull(body);
        body += 4;
        h = strstr(msg, "\r\nCPR-Probe: ");
        ck_assert(h != NULL && h < body);
        snprintf(value, sizeof(value), "%.*s", (int)(strchr(h + 2, '\r') - h - 13), h + 13);
        ck_assert_msg(probemark_parse(value, &hm), "%s: header mark [%s]", p.variant, value);
        ck_assert(probemark_find_body(body, strlen(body), &bm));
        ck_assert_str_eq(hm.mac, bm.mac);
        ck_assert(probemark_body_hash(body, strlen(body), s.body_sha256));
        pm_headers_of(msg, body, s.headers_sha256);
        ck_assert_msg(probemark_verify(pm_secret, PM_SECRET_LEN, &hm, &s), "%s", p.variant);
        ck_assert_ptr_null(strstr(msg, "Auto-Submitted"));
        ck_assert_int_eq(strcmp(p.variant, "pem-key") == 0,
                         strstr(body, "BEGIN PRIVATE KEY") != NULL);
        body[strlen(body) - 3] ^= 1;     /* one byte of the end changed */
        ck_assert(probemark_body_hash(body, strlen(body), s.body_sha256));
        ck_assert(!probemark_verify(pm_secret, PM_SECRET_LEN, &hm, &s));
        g_free(msg);
    }
}
END_TEST

START_TEST(test_compose_refuses)
{
    struct probe_spec p = { "p1", "plain", "probe@outside.example",
                            "cpr@ca.example>\r\nBcc: x@evil.example", "p1@x", 1, 1 };
    char err[256];

    ck_assert_ptr_null(probecompose(&p, pm_secret, PM_SECRET_LEN, err, sizeof(err)));
    p.to = "cpr@ca.example";
    p.variant = "exe";
    ck_assert_ptr_null(probecompose(&p, pm_secret, PM_SECRET_LEN, err, sizeof(err)));
    p.variant = "plain";
    ck_assert_ptr_null(probecompose(&p, pm_secret, 4, err, sizeof(err)));
    ck_assert_ptr_null(strstr(err, (const char *)pm_secret));
}
END_TEST

Suite *
probemark_suite(void)
{
    Suite *s = suite_create("probemark");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_covered);
    tcase_add_test(tc, test_body_canonical);
    tcase_add_test(tc, test_parse_strict);
    tcase_add_test(tc, test_find_body_and_bounds);
    tcase_add_test(tc, test_headers_hash);
    tcase_add_test(tc, test_compose_verifies);
    tcase_add_test(tc, test_compose_refuses);
    suite_add_tcase(s, tc);
    return s;
}

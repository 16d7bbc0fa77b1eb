/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_acktoken - unit tests for the signed acknowledge-link token
 * DESCRIPTION
 *   A token made for a case verifies with its key before its expiry, and
 *   gives back the tracking number, clock, channel and nonce; it fails as
 *   tampered when any one character is changed (every position, every
 *   other letter of the alphabet), or under another key; expired at its
 *   expiry and after, valid one ms before; malformed when cut, padded,
 *   non-canonical, too long, or not base64url; wrong-version when a
 *   correctly signed token says another version. A token for another case
 *   is another case: it never names this one. Also base64url round trips,
 *   acklink_url's shape, config_check_web and the private secret file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acklink.h"
#include "ackpage.h"
#include "acktoken.h"
#include "check_unit.h"
#include "config.h"

static const unsigned char at_key[] = "0123456789abcdef0123456789abcdef-web";
static const unsigned char at_key2[] = "0123456789abcdef0123456789abcdef-weB";
#define AT_KEYLEN (sizeof(at_key) - 1)
#define AT_NOW 1796000000000LL        /* ms, Dec 2026 */
#define AT_DAY (24LL * 3600 * 1000)

static void
at_fill(struct acktoken *t, const char *tracking)
{
    memset(t, 0, sizeof(*t));
    g_strlcpy(t->tracking, tracking, sizeof(t->tracking));
    g_strlcpy(t->clock, "acknowledge", sizeof(t->clock));
    g_strlcpy(t->channel, "oncall-pd", sizeof(t->channel));
    t->issued_ms = AT_NOW;
    t->expires_ms = AT_NOW + AT_DAY;
    for (int i = 0; i < ACKTOKEN_NONCE_LEN; i++)
        t->nonce[i] = (unsigned char) (0xa0 + i);
}

static void
at_make(const char *tracking, char *buf)
{
    struct acktoken t;

    at_fill(&t, tracking);
    ck_assert(acktoken_make(at_key, AT_KEYLEN, &t, buf, ACKTOKEN_MAX));
}

START_TEST(test_round_trip)
{
    char buf[ACKTOKEN_MAX];
    struct acktoken t, in;

    at_fill(&in, "CPR-2026-000042");
    ck_assert(acktoken_make(at_key, AT_KEYLEN, &in, buf, sizeof(buf)));
    ck_assert_uint_lt(strlen(buf), ACKTOKEN_MAX);
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
    ck_assert_str_eq(t.tracking, "CPR-2026-000042");
    ck_assert_str_eq(t.clock, "acknowledge");
    ck_assert_str_eq(t.channel, "oncall-pd");
    ck_assert(t.expires_ms == AT_NOW + AT_DAY);
    ck_assert(t.issued_ms == AT_NOW);
    ck_assert(memcmp(t.nonce, in.nonce, ACKTOKEN_NONCE_LEN) == 0);
    /* the longest fields still fit ACKTOKEN_MAX */
    memset(in.channel, 'c', ACKTOKEN_CHANNEL_MAX);
    in.channel[ACKTOKEN_CHANNEL_MAX] = '\0';
    g_strlcpy(in.tracking, "CPR-2026-123456789012345678", sizeof(in.tracking));
    g_strlcpy(in.clock, "report-subscriber", sizeof(in.clock));
    ck_assert(acktoken_make(at_key, AT_KEYLEN, &in, buf, sizeof(buf)));
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &in, buf, strlen(buf)));   /* short out */
}
END_TEST

/* Every position, every other character of the alphabet: never valid. */
START_TEST(test_tamper_each_char)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char buf[ACKTOKEN_MAX], bad[ACKTOKEN_MAX];
    struct acktoken t;
    size_t n;

    at_make("CPR-2026-000042", buf);
    n = strlen(buf);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < sizeof(alpha) - 1; a++) {
            if (alpha[a] == buf[i])
                continue;
            memcpy(bad, buf, n + 1);
            bad[i] = alpha[a];
            ck_assert_int_ne(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
        }
}
END_TEST

/* Each byte of the decoded token flipped, re-encoded canonically: the MAC
 * (or the field syntax before it) refuses it. */
START_TEST(test_tamper_each_byte)
{
    char buf[ACKTOKEN_MAX], bad[ACKTOKEN_MAX];
    unsigned char raw[ACKTOKEN_RAW_MAX];
    struct acktoken t;
    long n;

    at_make("CPR-2026-000042", buf);
    n = acktoken_b64_decode(buf, strlen(buf), raw, sizeof(raw));
    ck_assert_int_gt(n, 0);
    for (long i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            raw[i] ^= (unsigned char) (1u << bit);
            ck_assert(acktoken_b64_encode(raw, (size_t) n, bad, sizeof(bad)));
            ck_assert_int_ne(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
            raw[i] ^= (unsigned char) (1u << bit);
        }
    /* the MAC's own bytes flipped: BAD_MAC, not malformed */
    raw[n - 1] ^= 1;
    ck_assert(acktoken_b64_encode(raw, (size_t) n, bad, sizeof(bad)));
    ck_assert_int_eq(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_BAD_MAC);
}
END_TEST

START_TEST(test_expiry_edge)
{
    char buf[ACKTOKEN_MAX];
    struct acktoken t;

    at_make("CPR-2026-000042", buf);
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW + AT_DAY - 1, &t), ACKTOKEN_OK);
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW + AT_DAY, &t), ACKTOKEN_EXPIRED);
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW + 30 * AT_DAY, &t),
                     ACKTOKEN_EXPIRED);
    /* minted with a past clock (what web.test does) */
    ck_assert(acklink_token(at_key, AT_KEYLEN, "CPR-2026-000042", "acknowledge", "x",
                            AT_NOW - 2 * AT_DAY, AT_DAY, buf, sizeof(buf)));
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_EXPIRED);
    /* a verified token living longer than any we make is refused */
    ck_assert_int_ne(acktoken_verify(buf, at_key, AT_KEYLEN, AT_NOW - 10 * AT_DAY, &t),
                     ACKTOKEN_OK);
    ck_assert(!acklink_token(at_key, AT_KEYLEN, "CPR-2026-000042", "acknowledge", "x",
                             AT_NOW, ACKTOKEN_TTL_MAX_MS + 1, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_wrong_key)
{
    char buf[ACKTOKEN_MAX];
    struct acktoken t;

    at_make("CPR-2026-000042", buf);
    ck_assert_int_eq(acktoken_verify(buf, at_key2, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_BAD_MAC);
    ck_assert_int_eq(acktoken_verify(buf, at_key, AT_KEYLEN - 1, AT_NOW, &t), ACKTOKEN_BAD_MAC);
    ck_assert_int_eq(acktoken_verify(buf, at_key, 16, AT_NOW, &t), ACKTOKEN_BAD_KEY);
    at_fill(&t, "CPR-2026-000042");
    ck_assert(!acktoken_make(at_key, 31, &t, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_other_case)
{
    char a[ACKTOKEN_MAX], b[ACKTOKEN_MAX];
    struct acktoken t;

    at_make("CPR-2026-000042", a);
    at_make("CPR-2026-000043", b);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(acktoken_verify(b, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
    ck_assert_str_eq(t.tracking, "CPR-2026-000043");
}
END_TEST

/* A correctly signed token of version 2: refused as a version. */
START_TEST(test_wrong_version)
{
    char buf[ACKTOKEN_MAX], v2[ACKTOKEN_MAX];
    unsigned char raw[ACKTOKEN_RAW_MAX], msg[sizeof(ACKTOKEN_DOMAIN) + ACKTOKEN_RAW_MAX];
    unsigned int maclen;
    struct acktoken t;
    long n;

    at_make("CPR-2026-000042", buf);
    n = acktoken_b64_decode(buf, strlen(buf), raw, sizeof(raw));
    raw[0] = 2;
    memcpy(msg, ACKTOKEN_DOMAIN, sizeof(ACKTOKEN_DOMAIN));
    memcpy(msg + sizeof(ACKTOKEN_DOMAIN), raw, (size_t) n - ACKTOKEN_MAC_LEN);
    ck_assert(HMAC(EVP_sha256(), at_key, (int) AT_KEYLEN, msg,
                   sizeof(ACKTOKEN_DOMAIN) + (size_t) n - ACKTOKEN_MAC_LEN,
                   raw + n - ACKTOKEN_MAC_LEN, &maclen) != NULL);
    ck_assert(acktoken_b64_encode(raw, (size_t) n, v2, sizeof(v2)));
    ck_assert_int_eq(acktoken_verify(v2, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_BAD_VERSION);
}
END_TEST

START_TEST(test_malformed)
{
    char buf[ACKTOKEN_MAX], bad[2 * ACKTOKEN_MAX + 8];
    struct acktoken t;
    size_t n;

    at_make("CPR-2026-000042", buf);
    n = strlen(buf);
    ck_assert_int_eq(acktoken_verify("", at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    ck_assert_int_eq(acktoken_verify(NULL, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    for (size_t cut = 0; cut < n; cut++) {     /* every prefix */
        memcpy(bad, buf, cut);
        bad[cut] = '\0';
        ck_assert_int_ne(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
    }
    snprintf(bad, sizeof(bad), "%s=", buf);          /* padding */
    ck_assert_int_eq(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    snprintf(bad, sizeof(bad), "%sAAAA", buf);       /* appended bytes */
    ck_assert_int_ne(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_OK);
    memcpy(bad, buf, n + 1);
    bad[3] = '+';                                   /* base64, not base64url */
    ck_assert_int_eq(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    bad[3] = '%';
    ck_assert_int_eq(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    memset(bad, 'A', sizeof(bad) - 1);               /* far too long */
    bad[sizeof(bad) - 1] = '\0';
    ck_assert_int_eq(acktoken_verify(bad, at_key, AT_KEYLEN, AT_NOW, &t), ACKTOKEN_MALFORMED);
    /* bad fields are never signed */
    at_fill(&t, "CPR-2026-42");
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &t, buf, sizeof(buf)));
    at_fill(&t, "CPR-2026-000042");
    g_strlcpy(t.clock, "lunch", sizeof(t.clock));
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &t, buf, sizeof(buf)));
    at_fill(&t, "CPR-2026-000042");
    g_strlcpy(t.channel, "a b", sizeof(t.channel));
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &t, buf, sizeof(buf)));
    at_fill(&t, "CPR-2026-000042");
    t.issued_ms = t.expires_ms;                      /* no life */
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &t, buf, sizeof(buf)));
    at_fill(&t, "CPR-2026-000042");
    t.expires_ms = t.issued_ms + ACKTOKEN_TTL_MAX_MS + 1;   /* too long a life */
    ck_assert(!acktoken_make(at_key, AT_KEYLEN, &t, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_b64)
{
    unsigned char in[5] = {0xfb, 0xff, 0x00, 0x10, 0x80}, out[8];
    char enc[16];

    for (size_t n = 0; n <= sizeof(in); n++) {
        ck_assert(acktoken_b64_encode(in, n, enc, sizeof(enc)));
        ck_assert_int_eq(acktoken_b64_decode(enc, strlen(enc), out, sizeof(out)), (long) n);
        ck_assert(memcmp(in, out, n) == 0);
    }
    ck_assert(acktoken_b64_encode(in, 2, enc, sizeof(enc)));
    ck_assert_str_eq(enc, "-_8");
    ck_assert_int_eq(acktoken_b64_decode("-_9", 3, out, sizeof(out)), -1);  /* bits */
    ck_assert_int_eq(acktoken_b64_decode("A", 1, out, sizeof(out)), -1);
    ck_assert(!acktoken_b64_encode(in, 5, enc, 7));
}
END_TEST

START_TEST(test_url)
{
    char *u;

    u = acklink_url("https://cpr.example.com/", "abc-_9");
    ck_assert_str_eq(u, "https://cpr.example.com/ack/abc-_9");
    free(u);
    u = acklink_url("https://cpr.example.com/cpr//", "abc");
    ck_assert_str_eq(u, "https://cpr.example.com/cpr/ack/abc");
    free(u);
    ck_assert_ptr_null(acklink_url("https://cpr.example.com", "a/b"));
    ck_assert_ptr_null(acklink_url("https://cpr.example.com", ""));
    ck_assert_ptr_null(acklink_url("ftp://cpr.example.com", "abc"));
    ck_assert_ptr_null(acklink_url("https://", "abc"));
    ck_assert_ptr_nonnull(acklink_base_problem("https://x.example/?a=1"));
    ck_assert_ptr_nonnull(acklink_base_problem("https://x.example/#f"));
    ck_assert_ptr_nonnull(acklink_base_problem("https://x.example/\r\nSet-Cookie: a"));
    ck_assert_ptr_nonnull(acklink_base_problem("https://x.example/\"><script>"));
    ck_assert_ptr_null(acklink_base_problem("http://127.0.0.1:8480"));
}
END_TEST

static char *
at_write(const char *dir, const char *name, const char *content, mode_t mode)
{
    char *path = g_build_filename(dir, name, NULL);

    ck_assert(g_file_set_contents(path, content, -1, NULL));
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

START_TEST(test_secret_and_for)
{
    char *dir = g_dir_make_tmp("acktoken-XXXXXX", NULL), *err = NULL, *s, *url;
    char *good = at_write(dir, "good", "0123456789abcdef0123456789abcdef\n", 0640);
    char *world = at_write(dir, "world", "0123456789abcdef0123456789abcdef\n", 0644);
    char *shorter = at_write(dir, "short", "0123456789abcdef\n", 0600);
    struct cpr_config *cfg = config_defaults();
    struct acktoken t;

    s = config_read_private_secret(good, ACKTOKEN_KEY_MIN, &err);
    ck_assert_ptr_nonnull(s);
    g_free(s);
    ck_assert_ptr_null(config_read_private_secret(world, ACKTOKEN_KEY_MIN, &err));
    ck_assert_ptr_nonnull(strstr(err, "others"));
    ck_assert_ptr_null(strstr(err, "0123"));     /* never the secret */
    g_free(err);
    ck_assert_ptr_null(config_read_private_secret(shorter, ACKTOKEN_KEY_MIN, &err));
    ck_assert_ptr_nonnull(strstr(err, "shorter"));
    g_free(err);

    /* links off until both keys are set */
    ck_assert_ptr_null(acklink_for(cfg, "CPR-2026-000042", "acknowledge", "pd", AT_NOW));
    g_free(cfg->web_public_url);
    cfg->web_public_url = g_strdup("https://cpr.example.com");
    g_free(cfg->web_secret_file);
    cfg->web_secret_file = g_strdup(world);
    ck_assert_ptr_null(acklink_for(cfg, "CPR-2026-000042", "acknowledge", "pd", AT_NOW));
    g_free(cfg->web_secret_file);
    cfg->web_secret_file = g_strdup(good);
    url = acklink_for(cfg, "CPR-2026-000042", "acknowledge", "pd", AT_NOW);
    ck_assert_ptr_nonnull(url);
    ck_assert(g_str_has_prefix(url, "https://cpr.example.com/ack/"));
    ck_assert_int_eq(acktoken_verify(url + strlen("https://cpr.example.com/ack/"),
                                     (const unsigned char *) "0123456789abcdef0123456789abcdef",
                                     32, AT_NOW + AT_DAY - 1, &t), ACKTOKEN_OK);
    ck_assert_str_eq(t.channel, "pd");
    free(url);
    ck_assert_ptr_null(acklink_for(cfg, "not-a-case", "acknowledge", "pd", AT_NOW));

    /* config_check_web */
    ck_assert(config_check_web(cfg, &err));
    g_free(cfg->web_trusted_proxies);
    cfg->web_trusted_proxies = g_strdup("127.0.0.1, ::1");
    ck_assert(config_check_web(cfg, &err));
    g_free(cfg->web_trusted_proxies);
    cfg->web_trusted_proxies = g_strdup("proxy.example");
    ck_assert(!config_check_web(cfg, &err));
    g_free(err);
    g_free(cfg->web_trusted_proxies);
    cfg->web_trusted_proxies = g_strdup("");
    g_free(cfg->web_identity_header);
    cfg->web_identity_header = g_strdup("X-Remote-User");
    ck_assert(!config_check_web(cfg, &err));     /* no trusted proxy */
    g_free(err);
    g_free(cfg->web_identity_header);
    cfg->web_identity_header = g_strdup("X-Remote-User\r\nX");
    ck_assert(!config_check_web(cfg, &err));
    g_free(err);

    config_free(cfg);
    unlink(good);
    unlink(world);
    unlink(shorter);
    rmdir(dir);
    g_free(good);
    g_free(world);
    g_free(shorter);
    g_free(dir);
}
END_TEST

START_TEST(test_form_nonce)
{
    char a[ACKTOKEN_FORM_MAX], b[ACKTOKEN_FORM_MAX], t1[ACKTOKEN_MAX], t2[ACKTOKEN_MAX];

    at_make("CPR-2026-000042", t1);
    at_make("CPR-2026-000043", t2);
    ck_assert(acktoken_form_nonce(at_key, AT_KEYLEN, t1, a, sizeof(a)));
    ck_assert_uint_eq(strlen(a), 43);
    ck_assert(acktoken_form_nonce(at_key, AT_KEYLEN, t2, b, sizeof(b)));
    ck_assert_str_ne(a, b);
    ck_assert(acktoken_form_nonce(at_key2, AT_KEYLEN, t1, b, sizeof(b)));
    ck_assert_str_ne(a, b);
    ck_assert(!acktoken_form_nonce(at_key, 8, t1, b, sizeof(b)));
}
END_TEST

/* The reporter's Subject cannot become markup, an attribute or a line. */
START_TEST(test_page_escapes)
{
    GString *out = g_string_new(NULL);
    struct ackpage_clocks k = { 30 * 60000LL, AT_DAY };
    struct ackpage_case c = { 0 };

    c.tracking = "CPR-2026-000042";
    c.category = "key-compromise";
    c.state = "open";
    c.subject = "<script>x()</script>\" onmouseover='y' &amp;\r\n\x01\xff";
    c.received_at = "2026-12-07T00:00:00Z";
    c.ack_clock_from = c.received_at;
    c.received_ms = c.ack_clock_from_ms = AT_NOW;
    c.now_ms = AT_NOW + 35 * 60000LL;
    c.clock = "acknowledge";
    ackpage_case(out, &c, &k, "NONCE\"><x");
    ck_assert_ptr_null(strstr(out->str, "<script"));
    ck_assert_ptr_nonnull(strstr(out->str, "&lt;script&gt;x()&lt;/script&gt;&quot; onmouseover=&#39;y&#39; &amp;amp;"));
    ck_assert_ptr_null(strstr(out->str, "\r"));
    ck_assert_ptr_null(strstr(out->str, "\x01"));
    ck_assert(g_utf8_validate(out->str, -1, NULL));
    ck_assert_ptr_nonnull(strstr(out->str, "value=\"NONCE&quot;&gt;&lt;x\""));
    ck_assert_ptr_nonnull(strstr(out->str, "overdue 5m"));
    ck_assert_ptr_nonnull(strstr(out->str, "due in 23h25m"));
    ck_assert_ptr_nonnull(strstr(out->str, "<form method=\"post\""));
    g_string_truncate(out, 0);
    c.acked_at = "2026-12-07T00:10:00Z";
    c.acked_by = "<b>alice</b>";
    ackpage_case(out, &c, &k, "N");
    ck_assert_ptr_null(strstr(out->str, "<form"));
    ck_assert_ptr_nonnull(strstr(out->str, "&lt;b&gt;alice"));
    g_string_truncate(out, 0);
    c.acked_at = c.ack_clock_from = NULL;          /* an automated case */
    ackpage_case(out, &c, &k, "N");
    ck_assert_ptr_null(strstr(out->str, "<form"));
    ck_assert_ptr_nonnull(strstr(out->str, "nothing to acknowledge"));
    g_string_truncate(out, 0);
    ackpage_duration(out, 2 * AT_DAY + 3 * 3600000LL);
    ck_assert_str_eq(out->str, "2d3h");
    g_string_free(out, TRUE);
}
END_TEST

Suite *
acktoken_suite(void)
{
    Suite *s = suite_create("acktoken");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_tamper_each_char);
    tcase_add_test(tc, test_tamper_each_byte);
    tcase_add_test(tc, test_expiry_edge);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_other_case);
    tcase_add_test(tc, test_wrong_version);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_b64);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_secret_and_for);
    tcase_add_test(tc, test_form_nonce);
    tcase_add_test(tc, test_page_escapes);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_category - unit tests of the category decision
 * DESCRIPTION
 *   Every category in every language, in the subject and in the body;
 *   evidence outranking contrary words; weights and tie-breaking; spam
 *   signals that lower the priority and leave the category alone; empty
 *   input; bodies longer than CATEGORY_BODY_SCAN_MAX and keywords across
 *   window edges; mixed languages; accents, case and blanks.
 * DIAGNOSTICS
 *   Failures name the case, the category got and the reasons.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"
#include "check_unit.h"

static struct category_result
decide_text(const char *subject, const char *body)
{
    struct category_input in = { 0 };
    struct category_result r;

    in.subject = subject;
    in.body = body;
    in.body_len = body ? strlen(body) : 0;
    category_decide(&in, &r);
    return r;
}

static bool
has_reason(const struct category_result *r, const char *part)
{
    for (size_t i = 0; i < r->nreasons; i++)
        if (strstr(r->reasons[i], part) != NULL)
            return true;
    return false;
}

static const char *
reasons_text(const struct category_result *r)
{
    static char buf[CATEGORY_MAX_REASONS * (CATEGORY_REASON_LEN + 2)];

    buf[0] = '\0';
    for (size_t i = 0; i < r->nreasons; i++) {
        strcat(buf, r->reasons[i]);
        strcat(buf, "; ");
    }
    return buf;
}

static void
assert_category(const struct category_result *r, const char *want,
                const char *label)
{
    ck_assert_msg(strcmp(r->category, want) == 0, "%s: got %s, want %s (%s)",
                  label, r->category, want, reasons_text(r));
}

/* ---- one case per category and language ---- */

struct lang_case {
    const char *lang;
    const char *category;
    const char *text;
};

static const struct lang_case lang_cases[] = {
    { "en", "key-compromise", "We found the private key of this certificate on GitHub." },
    { "en", "revocation-request", "Please revoke the certificate below, we no longer use it." },
    { "en", "misissuance", "This certificate was misissued: the domain never passed validation." },
    { "en", "abuse", "This site is a phishing page copying a bank." },
    { "zh", "key-compromise", "我们发现该证书的私钥泄露在公开仓库中。" },
    { "zh", "revocation-request", "请吊销以下证书，谢谢。" },
    { "zh", "misissuance", "该证书属于错误签发，域名未经验证。" },
    { "zh", "abuse", "该网站是一个钓鱼网站。" },
    { "zh-Hant", "key-compromise", "此憑證的私鑰已在網路上公開。" },
    { "zh-Hant", "revocation-request", "請撤銷下列憑證。" },
    { "zh-Hant", "misissuance", "此憑證屬於錯誤簽發。" },
    { "zh-Hant", "abuse", "此網站為釣魚網站。" },
    { "fr", "key-compromise", "La clé privée de ce certificat a été publiée." },
    { "fr", "revocation-request", "Merci de révoquer ce certificat." },
    { "fr", "misissuance", "Ce certificat a été émis par erreur." },
    { "fr", "abuse", "Ce site pratique l'hameçonnage." },
    { "de", "key-compromise", "Der private Schlüssel wurde veröffentlicht." },
    { "de", "revocation-request", "Wir bitten um Widerruf des Zertifikats." },
    { "de", "misissuance", "Das Zertifikat wurde fehlerhaft ausgestellt." },
    { "de", "abuse", "Die Seite dient dem Betrug und verteilt Schadsoftware." },
    { "es", "key-compromise", "La clave privada del certificado fue publicada." },
    { "es", "revocation-request", "Solicitamos revocar el certificado." },
    { "es", "misissuance", "El certificado fue emitido incorrectamente." },
    { "es", "abuse", "El sitio realiza suplantación de identidad." },
    { "ja", "key-compromise", "この証明書の秘密鍵が漏洩しました。" },
    { "ja", "revocation-request", "証明書の失効をお願いします。" },
    { "ja", "misissuance", "この証明書は誤発行です。" },
    { "ja", "abuse", "このサイトはフィッシングサイトです。" },
};

#define NLANG_CASES (int)(sizeof(lang_cases) / sizeof(lang_cases[0]))

static void
assert_lang_case(const struct lang_case *c, bool in_subject)
{
    struct category_result r = in_subject ? decide_text(c->text, NULL)
                                          : decide_text("Report", c->text);
    char tag[32];

    assert_category(&r, c->category, c->text);
    snprintf(tag, sizeof(tag), "(%s) in %s", c->lang,
             in_subject ? "subject" : "body");
    ck_assert_msg(has_reason(&r, tag), "%s: no reason %s (%s)", c->text, tag,
                  reasons_text(&r));
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_NORMAL);
}

START_TEST(test_language_subject)
{
    assert_lang_case(&lang_cases[_i], true);
}
END_TEST

START_TEST(test_language_body)
{
    assert_lang_case(&lang_cases[_i], false);
}
END_TEST

START_TEST(test_keyword_table)
{
    static const char *const langs[] = { "en", "zh", "zh-Hant", "fr", "de",
                                         "es", "ja" };
    bool seen[7][CATEGORY_COUNT] = { { false } };

    for (size_t i = 0; i < category_keyword_count(); i++) {
        enum category_id id;
        const char *lang, *word;
        int weight;
        char folded[CATEGORY_KEYWORD_MAX + 8];

        ck_assert(category_keyword_get(i, &id, &lang, &word, &weight));
        ck_assert_int_lt(id, CATEGORY_OTHER);
        ck_assert_int_gt(weight, 0);
        ck_assert_uint_gt(category_fold(word, strlen(word), folded, sizeof(folded)), 0);
        ck_assert_uint_lt(strlen(folded), CATEGORY_KEYWORD_MAX - 1);
        ck_assert_uint_lt(strlen(word) + strlen(lang) + 32, CATEGORY_REASON_LEN);
        for (size_t l = 0; l < 7; l++)
            if (strcmp(lang, langs[l]) == 0)
                seen[l][id] = true;
    }
    for (size_t l = 0; l < 7; l++)
        for (int c = 0; c < CATEGORY_OTHER; c++)
            ck_assert_msg(seen[l][c], "no %s keyword for %s", langs[l],
                          category_name((enum category_id)c));
    ck_assert(!category_keyword_get(category_keyword_count(), NULL, NULL, NULL, NULL));
}
END_TEST

/* ---- evidence ---- */

START_TEST(test_evidence_outranks_words)
{
    static const char *const want[] = { "private key block present",
                                        "proof-of-compromise CSR present",
                                        "PoCK certificate present",
                                        "pwnedkeys attestation present" };
    struct category_input in = { 0 };
    struct category_result r;

    in.subject = "Phishing site, please revoke: misissued certificate";
    in.body = "phishing phishing fraud malware revoke misissued";
    in.body_len = strlen(in.body);
    in.has_private_key = _i == 0;
    in.has_proof_csr = _i == 1;
    in.has_pock_cert = _i == 2;
    in.has_pwnedkeys_attestation = _i == 3;
    category_decide(&in, &r);
    assert_category(&r, "key-compromise", want[_i]);
    ck_assert_int_eq(r.id, CATEGORY_KEY_COMPROMISE);
    ck_assert_str_eq(r.reasons[0], want[_i]);
    ck_assert(has_reason(&r, "evidence outranks keywords"));
    ck_assert(!has_reason(&r, "keyword \""));
}
END_TEST

START_TEST(test_certificate_alone_decides_nothing)
{
    struct category_input in = { 0 };
    struct category_result r;

    in.body = "The site in the attached certificate is a phishing site.";
    in.body_len = strlen(in.body);
    in.has_certificate = true;
    in.n_certificates = 2;
    category_decide(&in, &r);
    assert_category(&r, "abuse", "certificate + phishing");
    ck_assert(has_reason(&r, "2 certificate(s) attached"));
    in.body = NULL;
    category_decide(&in, &r);
    assert_category(&r, "other", "certificate only");
}
END_TEST

/* ---- weights and ties ---- */

START_TEST(test_tie_breaking)
{
    struct category_result r;

    r = decide_text(NULL, "Please revoke it, this is a scam.");
    assert_category(&r, "revocation-request", "revoke 2 = scam 2");
    ck_assert_int_eq(r.scores[CATEGORY_REVOCATION_REQUEST], r.scores[CATEGORY_ABUSE]);
    ck_assert(has_reason(&r, "tie with abuse broken by category order"));
    r = decide_text(NULL, "phishing site, misissued certificate");
    assert_category(&r, "misissuance", "misissued 3 = phishing 3");
    r = decide_text(NULL, "misissued certificate, private key published");
    assert_category(&r, "key-compromise", "private key 3 = misissued 3");
    r = decide_text(NULL, "私钥 and 吊销");
    assert_category(&r, "key-compromise", "私钥 2 = 吊销 2");
}
END_TEST

START_TEST(test_subject_weighs_more)
{
    struct category_result r;

    r = decide_text("Phishing", "misissued, see the baseline requirements");
    assert_category(&r, "abuse", "subject 3x2 beats body 3+2");
    ck_assert_int_eq(r.scores[CATEGORY_ABUSE], 6);
    ck_assert_int_eq(r.scores[CATEGORY_MISISSUANCE], 5);
    r = decide_text("Please revoke", "scam");
    assert_category(&r, "revocation-request", "subject revoke");
    r = decide_text("scam", "Please revoke");
    assert_category(&r, "abuse", "subject scam");
}
END_TEST

START_TEST(test_longer_keyword_subsumes)
{
    struct category_result r = decide_text(NULL, "证书私钥泄露了");

    ck_assert_int_eq(r.scores[CATEGORY_KEY_COMPROMISE], 3);
    ck_assert(has_reason(&r, "keyword \"私钥泄露\" (zh) in body"));
    ck_assert(!has_reason(&r, "keyword \"私钥\" "));
    r = decide_text(NULL, "une fraude");
    ck_assert_int_eq(r.scores[CATEGORY_ABUSE], 3);
}
END_TEST

/* ---- spam ---- */

static struct category_result
decide_spam(const char *flag, const char *status, const char *ar, bool key)
{
    struct category_input in = { 0 };
    struct category_result r;

    in.subject = "Please revoke this certificate";
    in.has_private_key = key;
    in.x_spam_flag = flag;
    in.x_spam_status = status;
    in.authentication_results = ar;
    category_decide(&in, &r);
    return r;
}

START_TEST(test_spam_signals)
{
    struct category_result r;

    r = decide_spam("YES", NULL, NULL, false);
    assert_category(&r, "revocation-request", "spam flag");
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_LOW);
    ck_assert_uint_eq(r.nspam, 1);
    ck_assert_str_eq(r.spam[0], "X-Spam-Flag: YES");
    ck_assert(has_reason(&r, "X-Spam-Flag: YES"));
    r = decide_spam(NULL, "Yes, score=12.3 required=5.0 tests=BAYES_99", NULL, true);
    assert_category(&r, "key-compromise", "spam status");
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_LOW);
    ck_assert_str_eq(r.spam[0], "X-Spam-Status: Yes");
    r = decide_spam(NULL, NULL, "mx.ca.example; spf=pass; dkim=none; "
                    "dmarc=fail (p=reject dis=none) header.from=bank.example", false);
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_LOW);
    ck_assert_str_eq(r.spam[0], "DMARC fail");
    ck_assert(has_reason(&r, "DMARC fail"));
    r = decide_spam(" yes", "yes,score=9", "mx; DMARC = FAIL", false);
    ck_assert_uint_eq(r.nspam, 3);
    assert_category(&r, "revocation-request", "all three");
}
END_TEST

START_TEST(test_no_spam_signals)
{
    static const char *const ar[] = {
        "mx.ca.example; dmarc=pass header.from=example.net",
        "mx.ca.example; arc=fail; dmarc=none",
        "mx.ca.example; xdmarc=fail",
        "mx.ca.example; dmarc=failed-ish",
        "",
    };
    struct category_result r;

    r = decide_spam("NO", "No, score=0.1 required=5.0", NULL, false);
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_NORMAL);
    ck_assert_uint_eq(r.nspam, 0);
    r = decide_spam("yesterday", "Yesno", NULL, false);
    ck_assert_uint_eq(r.nspam, 0);
    for (size_t i = 0; i < sizeof(ar) / sizeof(ar[0]); i++) {
        r = decide_spam(NULL, NULL, ar[i], false);
        ck_assert_msg(r.nspam == 0, "%s", ar[i]);
        ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_NORMAL);
    }
}
END_TEST

/* ---- bounds and empty input ---- */

START_TEST(test_empty_input)
{
    struct category_input in = { 0 };
    struct category_result r;

    category_decide(&in, &r);
    assert_category(&r, "other", "all NULL");
    ck_assert_int_eq(r.priority, CATEGORY_PRIORITY_NORMAL);
    ck_assert_uint_eq(r.nreasons, 1);
    ck_assert_str_eq(r.reasons[0], "no category keyword");
    r = decide_text("", "");
    assert_category(&r, "other", "empty strings");
    in.body = "private key";   /* length 0 wins over the text */
    category_decide(&in, &r);
    assert_category(&r, "other", "body_len 0");
}
END_TEST

/* A body of len bytes, not NUL-terminated, with word at offset. */
static char *
body_with(size_t len, const char *word, size_t offset)
{
    char *b = malloc(len);

    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < len; i++)
        b[i] = i % 7 == 0 ? ' ' : 'x';
    memcpy(b + offset, word, strlen(word));
    return b;
}

static struct category_result
decide_body(const char *body, size_t len)
{
    struct category_input in = { 0 };
    struct category_result r;

    in.body = body;
    in.body_len = len;
    category_decide(&in, &r);
    return r;
}

START_TEST(test_long_body_bound)
{
    size_t len = CATEGORY_BODY_SCAN_MAX + 5000, w = strlen(" phishing ");
    char *b = body_with(len, " phishing ", CATEGORY_BODY_SCAN_MAX + 100);
    struct category_result r = decide_body(b, len);

    assert_category(&r, "other", "keyword beyond the bound");
    ck_assert(has_reason(&r, "body searched up to its first 65536 bytes"));
    free(b);
    b = body_with(len, " phishing ", CATEGORY_BODY_SCAN_MAX - w);
    r = decide_body(b, len);
    assert_category(&r, "abuse", "keyword ending at the bound");
    free(b);
    b = body_with(len, " phishing ", CATEGORY_BODY_SCAN_MAX - w + 2);
    r = decide_body(b, len);
    assert_category(&r, "other", "keyword cut by the bound");
    free(b);
}
END_TEST

/* Keywords straddling the fold windows are found. */
START_TEST(test_window_edges)
{
    const char *word = "鍵の漏洩 clé privée";
    size_t len = 3 * 4096;

    for (size_t off = 4096 - 70; off < 4096 + 10; off++) {
        char *b = body_with(len, word, off);
        struct category_result r = decide_body(b, len);

        ck_assert_msg(r.scores[CATEGORY_KEY_COMPROMISE] == 6,
                      "offset %zu: score %d", off, r.scores[CATEGORY_KEY_COMPROMISE]);
        free(b);
    }
}
END_TEST

START_TEST(test_reasons_bounded)
{
    struct category_input in = { 0 };
    struct category_result r;

    in.subject = "private key compromised key leaked key key leak 私钥泄露 "
                 "密钥泄露 金鑰外洩 clé privée clave privada privater Schlüssel "
                 "秘密鍵の漏洩 鍵の危殆化 clé compromise clave filtrada";
    in.body = in.subject;
    in.body_len = strlen(in.body);
    in.has_certificate = true;
    in.x_spam_flag = "YES";
    in.x_spam_status = "Yes, score=20";
    in.authentication_results = "mx; dmarc=fail";
    category_decide(&in, &r);
    assert_category(&r, "key-compromise", "many keywords");
    ck_assert_uint_le(r.nreasons, CATEGORY_MAX_REASONS);
    ck_assert(r.reasons_truncated);
    ck_assert(has_reason(&r, "DMARC fail"));
    ck_assert(has_reason(&r, "X-Spam-Flag: YES"));
    ck_assert(has_reason(&r, "1 certificate(s) attached"));
}
END_TEST

/* ---- languages mixed, accents, case, blanks ---- */

START_TEST(test_mixed_languages)
{
    struct category_result r;

    r = decide_text("Certificate Problem Report / 证书问题报告",
                    "Hello, 你好. 私钥泄露: the private key is on pastebin.\n"
                    "Bitte um Widerruf.");
    assert_category(&r, "key-compromise", "en + zh + de");
    ck_assert(has_reason(&r, "keyword \"私钥泄露\" (zh) in body"));
    ck_assert(has_reason(&r, "keyword \"private key\" (en) in body"));
    r = decide_text("証明書の失効 / revocation request", "フィッシング");
    assert_category(&r, "revocation-request", "ja + en subject beats ja body");
}
END_TEST

START_TEST(test_accents_case_blanks)
{
    static const char *const texts[] = {
        "CLÉ PRIVÉE", "cle privee", "Clé Privée", "CLE PRIVEE",
        "PRIVATER SCHLÜSSEL", "privater schlussel", "Clave Privada",
        "Private\r\n\t Key", "private\xc2\xa0key", "ＰＲＩＶＡＴＥ",
    };
    struct category_result r;

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]) - 1; i++) {
        r = decide_text(NULL, texts[i]);
        assert_category(&r, "key-compromise", texts[i]);
    }
    r = decide_text(NULL, "REVOCACION solicitada");
    assert_category(&r, "revocation-request", "revocacion");
    r = decide_text(NULL, "Révocation");
    assert_category(&r, "revocation-request", "Révocation");
    r = decide_text(NULL, "unrechtmässig ausgestellt");
    assert_category(&r, "misissuance", "ß as ss");
    r = decide_text(NULL, "HAMECONNAGE");
    assert_category(&r, "abuse", "HAMECONNAGE");
    /* Full-width Latin is not folded: a known limit. */
    r = decide_text(NULL, texts[sizeof(texts) / sizeof(texts[0]) - 1]);
    assert_category(&r, "other", "full-width");
}
END_TEST

START_TEST(test_fold)
{
    char out[64];

    ck_assert_uint_eq(category_fold("Clé  Privée ÄÖÜß", strlen("Clé  Privée ÄÖÜß"),
                                    out, sizeof(out)), strlen("cle privee aouss"));
    ck_assert_str_eq(out, "cle privee aouss");
    category_fold("私钥 Æ×", strlen("私钥 Æ×"), out, sizeof(out));
    ck_assert_str_eq(out, "私钥 Æ×");
    category_fold("\xc3", 1, out, sizeof(out));
    ck_assert_str_eq(out, "\xc3");
    ck_assert_uint_le(category_fold("abcdefgh", 8, out, 4), 3);
}
END_TEST

START_TEST(test_names)
{
    enum category_id id;

    for (int c = 0; c < CATEGORY_COUNT; c++) {
        ck_assert(category_parse(category_name((enum category_id)c), &id));
        ck_assert_int_eq(id, c);
    }
    ck_assert(!category_parse("spam", &id));
    ck_assert_str_eq(category_priority_name(CATEGORY_PRIORITY_LOW), "low");
    ck_assert_str_eq(category_priority_name(CATEGORY_PRIORITY_NORMAL), "normal");
}
END_TEST

Suite *
category_suite(void)
{
    Suite *s = suite_create("category");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_language_subject, 0, NLANG_CASES);
    tcase_add_loop_test(tc, test_language_body, 0, NLANG_CASES);
    tcase_add_test(tc, test_keyword_table);
    tcase_add_loop_test(tc, test_evidence_outranks_words, 0, 4);
    tcase_add_test(tc, test_certificate_alone_decides_nothing);
    tcase_add_test(tc, test_tie_breaking);
    tcase_add_test(tc, test_subject_weighs_more);
    tcase_add_test(tc, test_longer_keyword_subsumes);
    tcase_add_test(tc, test_spam_signals);
    tcase_add_test(tc, test_no_spam_signals);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_long_body_bound);
    tcase_add_test(tc, test_window_edges);
    tcase_add_test(tc, test_reasons_bounded);
    tcase_add_test(tc, test_mixed_languages);
    tcase_add_test(tc, test_accents_case_blanks);
    tcase_add_test(tc, test_fold);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_mime - unit tests of the MIME decoder
 * DESCRIPTION
 *   Parses the messages in tests/fixtures/mime/ (found through
 *   $top_srcdir, else "." or "..") and checks the decoded UTF-8 text,
 *   the attachments' sizes and SHA-256, and the reasons recorded for
 *   every bound hit and every malformed message.
 * DIAGNOSTICS
 *   A fixture that cannot be read fails the test that needs it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_unit.h"
#include "mime.h"

#define FIXTURE_MAX (1024 * 1024)

static char *
fixture_read(const char *name, size_t *len)
{
    const char *dirs[] = { getenv("top_srcdir"), ".", ".." };
    char path[1024];
    FILE *f = NULL;
    char *buf;

    for (size_t i = 0; i < 3 && f == NULL; i++) {
        if (dirs[i] == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/tests/fixtures/mime/%s", dirs[i], name);
        f = fopen(path, "rb");
    }
    ck_assert_msg(f != NULL, "fixture %s not found", name);
    buf = malloc(FIXTURE_MAX);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, FIXTURE_MAX, f);
    fclose(f);
    return buf;
}

static struct mime_doc *
fixture_parse(const char *name, const struct mime_limits *lim)
{
    size_t len;
    char *raw = fixture_read(name, &len);
    struct mime_doc *d = mime_parse(raw, len, lim);

    free(raw);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* The text part holding needle, or NULL. */
static const struct mime_text *
doc_text_with(const struct mime_doc *d, const char *needle)
{
    for (size_t i = 0; i < d->ntexts; i++)
        if (strstr(d->texts[i].text, needle) != NULL)
            return &d->texts[i];
    return NULL;
}

static void
assert_decoded(const char *name, const char *subject, const char *needle, const char *charset)
{
    struct mime_doc *d = fixture_parse(name, NULL);
    const struct mime_text *t = doc_text_with(d, needle);

    ck_assert_str_eq(d->subject, subject);
    ck_assert_msg(t != NULL, "%s: no text with \"%s\"", name, needle);
    ck_assert_str_eq(t->charset, charset);
    ck_assert_str_eq(t->content_type, "text/plain");
    ck_assert_uint_eq(d->nreasons, 0);
    mime_doc_free(d);
}

START_TEST(test_charsets)
{
    assert_decoded("utf8_qp.eml", "Schlüssel kompromittiert", "private Schlüssel für", "utf-8");
    assert_decoded("iso8859_1.eml", "Clé privée compromise", "la clé privée", "iso-8859-1");
    assert_decoded("iso8859_2.eml", "Klucz prywatny ujawniony", "został ujawniony", "iso-8859-2");
    assert_decoded("windows1251.eml", "Закрытый ключ скомпрометирован", "Прошу отозвать", "windows-1251");
    assert_decoded("windows1252.eml", "Revocation “urgent”", "revoke – the key leaked. Cost €0", "windows-1252");
    assert_decoded("gb2312.eml", "私钥泄露", "我们发现私钥泄露", "gb2312");
    assert_decoded("gb18030.eml", "证书吊销请求", "私钥已经泄露。𠀀", "gb18030");
    assert_decoded("big5.eml", "私鑰洩露", "私鑰洩露，請撤銷憑證", "big5");
    assert_decoded("shift_jis.eml", "秘密鍵の漏洩", "秘密鍵が漏洩しました", "shift_jis");
    assert_decoded("euc_kr.eml", "개인 키 유출", "개인 키가 유출되었습니다", "euc-kr");
}
END_TEST

START_TEST(test_unknown_charset)
{
    struct mime_doc *d = fixture_parse("unknown_charset.eml", NULL);

    ck_assert_ptr_nonnull(doc_text_with(d, "qapla private key leaked"));
    ck_assert(mime_has_reason(d, "undecodable charset x-klingon, kept raw"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_html_only)
{
    struct mime_doc *d = fixture_parse("html_only.eml", NULL);
    const struct mime_text *t = doc_text_with(d, "shop.example.com is compromised & must be revoked <today>.");

    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->content_type, "text/html");
    ck_assert_ptr_nonnull(strstr(t->text, "Serial 0x1a2b ☺ © café"));
    ck_assert_ptr_null(doc_text_with(d, "SCRIPTDATA"));
    ck_assert_ptr_null(doc_text_with(d, "color: red"));
    ck_assert_ptr_null(doc_text_with(d, "COMMENTDATA"));
    ck_assert_ptr_null(doc_text_with(d, "<p>"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_html_reducer)
{
    const char *html = "a<br>b&#65;&#x42;&bogus;&#0;<script>x</script>c<a href='>'>d</a><style";
    size_t n;
    char *t = mime_html_to_text(html, strlen(html), &n);

    ck_assert_str_eq(t, "a\nbAB&bogus;\xef\xbf\xbd" "cd");
    ck_assert_uint_eq(n, strlen(t));
    free(t);
}
END_TEST

/* A lone '<' as the very last byte: found by the fuzzer, an over-read
 * of s[1] (ASan catches it in the sanitizer build). Not NUL-terminated. */
START_TEST(test_html_lone_lt_at_end)
{
    char html[3] = { 'a', 'b', '<' };
    size_t n;
    char *t = mime_html_to_text(html, sizeof(html), &n);

    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "ab");
    free(t);
}
END_TEST

START_TEST(test_alternative)
{
    struct mime_doc *d = fixture_parse("alternative.eml", NULL);
    const struct mime_text *plain = doc_text_with(d, "Plain version");
    const struct mime_text *html = doc_text_with(d, "HTML version: misissued certificate");

    ck_assert_uint_eq(d->ntexts, 2);
    ck_assert_str_eq(plain->path, "1");
    ck_assert_str_eq(html->path, "2");
    ck_assert_str_eq(html->content_type, "text/html");
    mime_doc_free(d);
}
END_TEST

START_TEST(test_nested)
{
    struct mime_doc *d = fixture_parse("nested3.eml", NULL);
    const struct mime_text *deep = doc_text_with(d, "Deep text: révocation demandée.");

    ck_assert_ptr_nonnull(deep);
    ck_assert_str_eq(deep->path, "1.1.1");
    ck_assert_str_eq(doc_text_with(d, "Second top-level part.")->path, "2");
    ck_assert_uint_eq(d->nparts, 5);
    ck_assert_uint_eq(d->nreasons, 0);
    mime_doc_free(d);
}
END_TEST

START_TEST(test_forwarded)
{
    struct mime_doc *d = fixture_parse("forwarded.eml", NULL);
    const struct mime_text *hdrs = doc_text_with(d, "Subject: Clé compromise");

    ck_assert_str_eq(d->subject, "Fwd: Schlüssel");
    ck_assert_ptr_nonnull(hdrs);
    ck_assert_str_eq(hdrs->content_type, "message/rfc822");
    ck_assert_ptr_nonnull(strstr(hdrs->text, "Message-ID: <orig-123@example.com>"));
    ck_assert_str_eq(doc_text_with(d, "private key exposed on GitHub")->path, "2.1");
    mime_doc_free(d);
}
END_TEST

START_TEST(test_pem_attachment)
{
    struct mime_doc *d = fixture_parse("pem_attachment.eml", NULL);
    const struct mime_attachment *a;

    ck_assert_uint_eq(d->natts, 1);
    a = &d->atts[0];
    ck_assert_str_eq(a->filename, "cert.pem");
    ck_assert_str_eq(a->content_type, "application/x-pem-file");
    ck_assert_str_eq(a->path, "2");
    ck_assert_uint_eq(a->size, 120);
    ck_assert_str_eq(a->sha256, "1d078ff247ef4a827d3845eeb99674a51aada535daead702160b83b3b4ee9a92");
    ck_assert_uint_eq(a->data_len, 120);
    ck_assert(memcmp(a->data, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    mime_doc_free(d);
}
END_TEST

START_TEST(test_attachment_keep_bound)
{
    struct mime_limits lim;
    struct mime_doc *d;

    mime_limits_default(&lim);
    lim.max_attach_keep = 10;
    d = fixture_parse("pem_attachment.eml", &lim);
    ck_assert_uint_eq(d->atts[0].size, 120);
    ck_assert_uint_eq(d->atts[0].data_len, 10);
    ck_assert_str_eq(d->atts[0].sha256, "1d078ff247ef4a827d3845eeb99674a51aada535daead702160b83b3b4ee9a92");
    mime_doc_free(d);
}
END_TEST

START_TEST(test_decoded_bound)
{
    struct mime_limits lim;
    struct mime_doc *d;

    mime_limits_default(&lim);
    lim.max_decoded = 30;
    d = fixture_parse("utf8_qp.eml", &lim);
    ck_assert_uint_eq(d->ntexts, 1);
    ck_assert(d->texts[0].truncated);
    ck_assert_uint_le(d->texts[0].len, 30);
    ck_assert_uint_le(d->decoded_bytes, 30);
    ck_assert(mime_has_reason(d, "decoded byte limit reached"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_dsn)
{
    struct mime_doc *d = fixture_parse("dsn.eml", NULL);
    const struct mime_text *status = doc_text_with(d, "Status: 5.1.1");
    const struct mime_text *orig = doc_text_with(d, "Message-ID: <CPR-2025-000042.ack@ca.example>");

    ck_assert_ptr_nonnull(status);
    ck_assert_str_eq(status->content_type, "message/delivery-status");
    ck_assert_ptr_nonnull(orig);
    ck_assert_str_eq(orig->content_type, "message/rfc822");
    ck_assert_str_eq(orig->path, "3");
    ck_assert_ptr_nonnull(doc_text_with(d, "could not be delivered"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_truncated)
{
    struct mime_doc *d = fixture_parse("truncated.eml", NULL);
    const struct mime_attachment *a;

    ck_assert_ptr_nonnull(doc_text_with(d, "Text before the truncated attachment."));
    ck_assert_uint_eq(d->natts, 1);
    a = &d->atts[0];
    ck_assert_str_eq(a->filename, "blob.bin");
    /* 38 full lines of 57 bytes, 18 more quads, a partial quad dropped. */
    ck_assert_uint_eq(a->size, 2220);
    ck_assert_uint_eq(a->data_len, 2220);
    for (size_t i = 0; i < a->data_len; i++)
        ck_assert_uint_eq(a->data[i], i % 256);
    ck_assert(mime_has_reason(d, "malformed MIME: truncated message"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_broken_boundary)
{
    struct mime_doc *d = fixture_parse("broken_boundary.eml", NULL);
    const struct mime_text *t = doc_text_with(d, "never declared: private key leaked.");

    ck_assert_str_eq(d->subject, "Broken boundary");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->content_type, MIME_RAW_TYPE);
    ck_assert_str_eq(t->charset, "unknown");
    ck_assert(mime_has_reason(d, "malformed MIME, kept raw"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_binary_junk)
{
    struct mime_doc *d = fixture_parse("binary_junk.eml", NULL);

    ck_assert(mime_has_reason(d, "malformed MIME"));
    for (size_t i = 0; i < d->ntexts; i++)
        ck_assert_uint_eq(strlen(d->texts[i].text), d->texts[i].len);
    mime_doc_free(d);
}
END_TEST

START_TEST(test_part_limit)
{
    struct mime_doc *d = fixture_parse("too_many_parts.eml", NULL);

    ck_assert_uint_eq(d->nparts, MIME_MAX_PARTS);
    ck_assert_uint_eq(d->ntexts, MIME_MAX_PARTS - 1);
    ck_assert(mime_has_reason(d, "part limit reached"));
    ck_assert_ptr_null(doc_text_with(d, "part 120"));
    mime_doc_free(d);
}
END_TEST

START_TEST(test_depth_limit)
{
    struct mime_doc *d = fixture_parse("too_deep.eml", NULL);

    const struct mime_text *t;

    ck_assert(mime_has_reason(d, "nesting too deep"));
    /* Not parsed, but kept raw, so a key in it is still found and redacted. */
    ck_assert(mime_has_reason(d, "nested too deep, kept raw"));
    t = doc_text_with(d, "deepest text");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->content_type, MIME_RAW_TYPE);
    mime_doc_free(d);
}
END_TEST

START_TEST(test_empty_and_headerless)
{
    struct mime_doc *d = mime_parse("", 0, NULL);

    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->subject, "");
    mime_doc_free(d);
    d = mime_parse("Subject: =?UTF-8?Q?a=0Db=0Ac?=\n\nhello\n", 38, NULL);
    ck_assert_str_eq(d->subject, "a b c");
    ck_assert_ptr_nonnull(doc_text_with(d, "hello"));
    mime_doc_free(d);
}
END_TEST

Suite *
mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("decode");

    tcase_add_test(tc, test_charsets);
    tcase_add_test(tc, test_html_lone_lt_at_end);
    tcase_add_test(tc, test_unknown_charset);
    tcase_add_test(tc, test_html_only);
    tcase_add_test(tc, test_html_reducer);
    tcase_add_test(tc, test_alternative);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_forwarded);
    tcase_add_test(tc, test_pem_attachment);
    tcase_add_test(tc, test_attachment_keep_bound);
    tcase_add_test(tc, test_decoded_bound);
    tcase_add_test(tc, test_dsn);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_broken_boundary);
    tcase_add_test(tc, test_binary_junk);
    tcase_add_test(tc, test_part_limit);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_empty_and_headerless);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_compose - unit tests of the one mail composer
 * DESCRIPTION
 *   compose_message() for both its users' shapes: fields in order, CRLF
 *   only, headers folded under 78 columns, literal encoded-words and
 *   8-bit text encoded (Q) and decoded back unchanged by GMime, the body
 *   7bit or quoted-printable; and every refusal: CR or LF in any value,
 *   From or To not one mailbox, invalid UTF-8, a missing field.
 */
#include <check.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "check_unit.h"
#include "compose.h"

static const char *const to1[] = { "alice@example.net", NULL };
static const char *const more[] = { "In-Reply-To", "<a@b>", "Auto-Submitted", "auto-replied", NULL };

static struct compose_mail
mail(void)
{
    struct compose_mail m = { "CA Problem Reports <cpr@ca.example>", to1,
                              "Auto: Key compromise [CPR-2026-000042]", 1795749240LL,
                              "CPR-2026-000042.autoreply@ca.example", more, "Hello\nThere\n" };
    return m;
}

/* GMime parses it back: the decoded Subject and the decoded body. */
static void
parse_back(const char *wire, char **subject, char **body)
{
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(wire, strlen(wire));
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    GMimeDataWrapper *w;
    GMimeStream *out = g_mime_stream_mem_new();
    GByteArray *bytes;

    ck_assert_ptr_nonnull(m);
    *subject = g_strdup(g_mime_message_get_subject(m));
    w = g_mime_part_get_content(GMIME_PART(g_mime_message_get_mime_part(m)));
    g_mime_data_wrapper_write_to_stream(w, out);
    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    *body = g_strndup((const char *) bytes->data, bytes->len);
    g_object_unref(out);
    g_object_unref(m);
    g_object_unref(p);
    g_object_unref(st);
}

static void
check_wire(const char *w)
{
    const char *line = w;

    for (const char *p = w; *p; p++) {
        ck_assert_msg(*p != '\r' || p[1] == '\n', "bare CR");
        ck_assert_msg(*p != '\n' || (p > w && p[-1] == '\r'), "bare LF");
        if (*p == '\n') {
            if (line < strstr(w, "\r\n\r\n"))
                ck_assert_msg(p - 1 - line <= 78, "long header line %.*s", (int) (p - line), line);
            line = p + 1;
        }
    }
}

START_TEST(test_fields)
{
    struct compose_mail m = mail();
    char *w = compose_message(&m), *subject, *body;
    const char *order[] = { "From: CA Problem Reports <cpr@ca.example>\r\n", "To: alice@example.net\r\n",
                            "Subject: Auto: Key compromise [CPR-2026-000042]\r\n",
                            "Date: Fri, 27 Nov 2026 03:14:00 +0000\r\n",
                            "Message-Id: <CPR-2026-000042.autoreply@ca.example>\r\n",
                            "In-Reply-To: <a@b>\r\n", "Auto-Submitted: auto-replied\r\n",
                            "Content-Type: text/plain; charset=utf-8\r\n",
                            "Content-Transfer-Encoding: 7bit\r\n", NULL };
    const char *at = w;

    ck_assert_ptr_nonnull(w);
    check_wire(w);
    for (size_t i = 0; order[i]; i++) {
        const char *f = strstr(w, order[i]);

        ck_assert_msg(f != NULL && f >= at, "%s missing or out of order", order[i]);
        at = f;
    }
    ck_assert_ptr_nonnull(strstr(w, "\r\n\r\nHello\r\nThere\r\n"));
    parse_back(w, &subject, &body);
    ck_assert_str_eq(subject, m.subject);
    g_free(subject);
    g_free(body);
    g_free(w);
}
END_TEST

/* Text a reader would decode is encoded so that it decodes to itself. */
START_TEST(test_encoded_words)
{
    static const char *const subjects[] = {
        "Auto: See =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?= here [CPR-2026-000042]",
        "Auto: Schl\xc3\xbcssel kompromittiert [CPR-2026-000042]",
        "Auto: a ?= b =? c",
        "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"
        "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"
        "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5 \xe6\x97\xa5 x",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(subjects); i++) {
        struct compose_mail m = mail();
        char *w, *subject, *body;
        const char *s;

        m.subject = subjects[i];
        w = compose_message(&m);
        ck_assert_ptr_nonnull(w);
        check_wire(w);
        s = strstr(w, "Subject: ");
        for (; *s != '\r' || s[2] == ' '; s++)
            ck_assert_int_lt((unsigned char) *s, 0x80);
        parse_back(w, &subject, &body);
        ck_assert_str_eq(subject, subjects[i]);
        g_free(subject);
        g_free(body);
        g_free(w);
    }
}
END_TEST

START_TEST(test_body_8bit)
{
    struct compose_mail m = mail();
    char *w, *subject, *body;

    m.text = "Gr\xc3\xbc\xc3\x9f" "e\n";
    w = compose_message(&m);
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(strstr(w, "Content-Transfer-Encoding: quoted-printable\r\n"));
    for (const char *p = w; *p; p++)
        ck_assert_int_lt((unsigned char) *p, 0x80);
    parse_back(w, &subject, &body);
    ck_assert_str_eq(body, "Gr\xc3\xbc\xc3\x9f" "e\r\n");
    g_free(subject);
    g_free(body);
    g_free(w);
}
END_TEST

START_TEST(test_refusals)
{
    static const char *const bad_to[] = { "a@b\r\nBcc: x@y", NULL };
    static const char *const two_to[] = { "a@b, c@d", NULL };
    static const char *const no_to[] = { NULL };
    static const char *const bad_hdr[] = { "References", "<a@b>\r\nBcc: x@y", NULL };
    struct compose_mail m;

    m = mail(); m.subject = "x\r\nBcc: victim@example.net";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.subject = "x\nBcc: victim@example.net";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.message_id = "a@b>\r\nBcc: x@y";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.from = "not an address";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.from = "a@b, c@d";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.to = bad_to;
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.to = two_to;
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.to = no_to;
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.headers = bad_hdr;
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.text = "\xff\xfe";
    ck_assert_ptr_null(compose_message(&m));
    m = mail(); m.subject = NULL;
    ck_assert_ptr_null(compose_message(&m));
    ck_assert_ptr_null(compose_message(NULL));
}
END_TEST

Suite *
compose_suite(void)
{
    Suite *s = suite_create("compose");
    TCase *tc = tcase_create("compose");

    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_encoded_words);
    tcase_add_test(tc, test_body_8bit);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   compose - the one builder of the mail cpr-milter sends
 * DESCRIPTION
 *   See compose.h. GMime writes the addresses, the date, the MIME part
 *   and the line ends. The unstructured fields (Subject and the extra
 *   ones) are encoded and folded here and handed to GMime raw, because
 *   GMime leaves text that looks like an encoded-word as it is (a reader
 *   would decode a reporter's "=?UTF-8?B?DQpCY2M6...?=" into a new line)
 *   and writes B-words longer than RFC 2047 allows. Q, not B: GMime (our
 *   own intake among its users) joins adjacent B words before decoding
 *   and stops at the '=' padding of any but the last.
 */
#include "compose.h"

#include <stdbool.h>
#include <string.h>

#include <gmime/gmime.h>

#define COMPOSE_LINE_SOFT 78     /* RFC 5322 2.1.1: SHOULD */
#define COMPOSE_LINE_HARD 998    /* RFC 5322 2.1.1: MUST */
/* Chars per encoded-word: RFC 2047 allows 75; 60 leaves room for the
 * field name when a word opens the field, so no line exceeds 78. */
#define COMPOSE_WORD_MAX  60

static GOnce compose_once = G_ONCE_INIT;

static gpointer
compose_init(gpointer arg)
{
    (void) arg;
    g_mime_init();
    return NULL;
}

/* ---- RFC 2047 ---- */

/* Append one character in RFC 2047 Q encoding; returns its length. */
static size_t
compose_q_char(GString *out, const char *p, size_t n)
{
    size_t before = out->len;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) p[i];

        if (c == ' ')
            g_string_append_c(out, '_');
        else if (g_ascii_isalnum(c) || strchr("!*+-/", c) != NULL)
            g_string_append_c(out, (char) c);
        else
            g_string_append_printf(out, "=%02X", c);
    }
    return out->len - before;
}

/* Append text[0..len) (valid UTF-8) to out as Q-encoded words, each
 * holding whole characters and at most COMPOSE_WORD_MAX characters,
 * joined by blanks (which a decoder drops between encoded-words); out's
 * first from bytes are what came before. */
static void
compose_encode_run(GString *out, const char *text, size_t len, size_t from)
{
    GString *word = g_string_new(NULL);
    const char *p = text, *end = text + len;

    while (p < end) {
        size_t n = (size_t) (g_utf8_next_char(p) - p), mark = word->len;

        if (compose_q_char(word, p, n) + mark > COMPOSE_WORD_MAX - 12 && mark > 0) {
            g_string_truncate(word, mark);
            g_string_append_printf(out, "%s=?UTF-8?Q?%s?=", out->len > from ? " " : "", word->str);
            g_string_truncate(word, 0);
            continue;
        }
        p += n;
    }
    if (word->len > 0)
        g_string_append_printf(out, "%s=?UTF-8?Q?%s?=", out->len > from ? " " : "", word->str);
    g_string_free(word, TRUE);
}

/* A word a reader would decode differently from what it says: 8-bit
 * bytes, or something shaped like an encoded-word. */
static bool
compose_word_needs(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) w[i] >= 0x80
            || (i + 1 < n && ((w[i] == '=' && w[i + 1] == '?') || (w[i] == '?' && w[i + 1] == '='))))
            return true;
    return false;
}

/* Unstructured text as header-safe ASCII: each run of words that need
 * it becomes encoded-words, the rest stays readable. g_free. */
static char *
compose_encode(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        const char *e = p + n;

        if (!compose_word_needs(p, n)) {
            g_string_append_printf(out, "%s%.*s", p == text ? "" : " ", (int) n, p);
        } else {
            while (*e == ' ' && compose_word_needs(e + 1, strcspn(e + 1, " ")))
                e += 1 + strcspn(e + 1, " ");
            if (p != text)
                g_string_append_c(out, ' ');
            compose_encode_run(out, p, (size_t) (e - p), out->len);
        }
        p = *e == ' ' ? e + 1 : e;
    }
    return g_string_free(out, FALSE);
}

/* ---- folding ---- */

/* Where to fold line[start..len): before the last blank at or under the
 * soft limit (and after min), else before the first blank past it, else
 * len. A blank followed by another blank or the end is not a fold point,
 * so no continuation line is blank. */
static size_t
compose_fold_point(const char *line, size_t min, size_t start, size_t len)
{
    size_t limit = start + COMPOSE_LINE_SOFT, best = 0;

    for (size_t i = min; i < len; i++) {
        if (line[i] != ' ' || line[i + 1] == ' ' || line[i + 1] == '\0')
            continue;
        if (i <= limit)
            best = i;
        else
            return best ? best : i;
    }
    return best ? best : len;
}

/* The raw value GMime writes after "name:": " value\n", folded at
 * blanks; NULL when a piece cannot be folded under the hard limit. */
static char *
compose_fold(const char *name, const char *value)
{
    char *line = g_strconcat(name, ": ", value, NULL);
    size_t start = 0, len = strlen(line), min = strlen(name) + 2, cut;
    GString *raw = g_string_new(NULL);

    while (len - start > COMPOSE_LINE_SOFT) {
        cut = compose_fold_point(line, min, start, len);
        if (cut == len || cut - start > COMPOSE_LINE_HARD)
            break;
        g_string_append_printf(raw, "%.*s\n", (int) (cut - start), line + start);
        start = cut;
        min = cut + 1;
    }
    g_string_append_printf(raw, "%s\n", line + start);
    g_free(line);
    if (len - start > COMPOSE_LINE_HARD) {
        g_string_free(raw, TRUE);
        return NULL;
    }
    g_string_erase(raw, 0, (gssize) strlen(name) + 1);   /* GMime writes "name:" */
    return g_string_free(raw, FALSE);
}

/* One unstructured field, encoded and folded, set raw. */
static bool
compose_field(GMimeMessage *msg, const char *name, const char *value)
{
    char *text = compose_encode(value), *raw = compose_fold(name, text);
    GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(msg));

    g_free(text);
    if (raw == NULL)
        return false;
    g_mime_object_append_header(GMIME_OBJECT(msg), name, "-", NULL);
    g_mime_header_set_raw_value(g_mime_header_list_get_header_at(list,
                                    g_mime_header_list_get_count(list) - 1), raw);
    g_free(raw);
    return true;
}

/* ---- the message ---- */

/* One header line's worth: no CR, LF or NUL can end the field early. */
static bool
compose_value_ok(const char *v)
{
    return v != NULL && strpbrk(v, "\r\n") == NULL && g_utf8_validate(v, -1, NULL);
}

static bool
compose_address_ok(const char *a)
{
    InternetAddressList *l;
    bool ok;

    if (!compose_value_ok(a) || *a == '\0')
        return false;
    l = internet_address_list_parse(NULL, a);
    ok = l != NULL && internet_address_list_length(l) == 1
         && INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(l, 0));
    if (l)
        g_object_unref(l);
    return ok;
}

static bool
compose_ok(const struct compose_mail *m)
{
    if (!compose_address_ok(m->from) || m->to == NULL || m->to[0] == NULL
        || !compose_value_ok(m->subject) || !compose_value_ok(m->message_id)
        || m->text == NULL || !g_utf8_validate(m->text, -1, NULL))
        return false;
    for (size_t i = 0; m->to[i]; i++)
        if (!compose_address_ok(m->to[i]))
            return false;
    for (size_t i = 0; m->headers && m->headers[i]; i += 2)
        if (!compose_value_ok(m->headers[i]) || !compose_value_ok(m->headers[i + 1]))
            return false;
    return true;
}

/* The text/plain part, 7bit when it can be, else quoted-printable. */
static GMimeObject *
compose_body(const char *text)
{
    GMimePart *part = g_mime_part_new_with_type("text", "plain");
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *content = g_mime_data_wrapper_new_with_stream(stream,
                                                                    GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    GMimeContentEncoding best;

    g_mime_part_set_content(part, content);
    best = g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    g_mime_part_set_content_encoding(part, best == GMIME_CONTENT_ENCODING_DEFAULT
                                           || best == GMIME_CONTENT_ENCODING_7BIT
                                           ? GMIME_CONTENT_ENCODING_7BIT
                                           : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_object_unref(content);
    g_object_unref(stream);
    return GMIME_OBJECT(part);
}

static GMimeMessage *
compose_build(const struct compose_mail *m)
{
    GMimeMessage *msg = g_mime_message_new(FALSE);
    GDateTime *date = g_date_time_new_from_unix_utc(m->date);
    InternetAddressList *from = internet_address_list_parse(NULL, m->from);
    GMimeObject *body;
    bool ok = date != NULL && from != NULL;

    if (from != NULL) {
        internet_address_list_append(g_mime_message_get_from(msg), from);
        g_object_unref(from);
    }
    for (size_t i = 0; ok && m->to[i]; i++) {
        InternetAddressList *to = internet_address_list_parse(NULL, m->to[i]);

        internet_address_list_append(g_mime_message_get_to(msg), to);
        g_object_unref(to);
    }
    ok = ok && compose_field(msg, "Subject", m->subject);
    if (ok) {
        g_mime_message_set_date(msg, date);
        g_mime_message_set_message_id(msg, m->message_id);
    }
    for (size_t i = 0; ok && m->headers && m->headers[i]; i += 2)
        ok = compose_field(msg, m->headers[i], m->headers[i + 1]);
    if (date != NULL)
        g_date_time_unref(date);
    if (!ok) {
        g_object_unref(msg);
        return NULL;
    }
    body = compose_body(m->text);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
    return msg;
}

char *
compose_message(const struct compose_mail *m)
{
    GMimeMessage *msg;
    GMimeFormatOptions *fo;
    char *wire = NULL;

    g_once(&compose_once, compose_init, NULL);
    if (m == NULL || !compose_ok(m) || (msg = compose_build(m)) == NULL)
        return NULL;
    if ((fo = g_mime_format_options_new()) != NULL) {
        g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
        wire = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
        g_mime_format_options_free(fo);
    }
    g_object_unref(msg);
    return wire;
}

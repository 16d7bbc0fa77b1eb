/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   mime - a bounded, decoded UTF-8 view of one raw message (GMime 3)
 * DESCRIPTION
 *   Owns struct mime_doc (see mime.h). GMime parses the raw bytes; each
 *   leaf is read through a filter chain (transfer decoding, CRLF to LF,
 *   charset to UTF-8) in fixed-size chunks, so nothing is ever decoded
 *   past what we keep, except attachments, which are read to the end for
 *   their size and SHA-256 but kept only up to max_attach_keep.
 *   Text parts are text/(any), message/delivery-status and
 *   message/disposition-notification not marked as attachments; every
 *   other leaf is an attachment. text/html is reduced to text here.
 *   message/rfc822 is descended into; its headers become a text part of
 *   type message/rfc822 so that forwarded and bounced originals show.
 *   What GMime cannot parse (no message at all, or a multipart with no
 *   parts, e.g. a wrong boundary) is kept as a text part of type
 *   MIME_RAW_TYPE, charset "unknown", made valid UTF-8; path "0" is the
 *   whole message. Every bound hit adds a reason and stops that descent.
 *   The Message-ID, In-Reply-To and References of every attached original
 *   (message/rfc822, text/rfc822-headers) are kept, with whether it sits
 *   below a multipart/report, so a bounce can be tied to what bounced.
 * DIAGNOSTICS
 *   mime_parse() returns NULL only when memory runs out. Problems with
 *   the message itself become reasons, never errors.
 */
#include "mime.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "keygate.h"

#define MIME_CHUNK 16384          /* bytes read from a part at a time */
#define MIME_PATH_MAX 128         /* a part path; depth bounds it anyway */
#define MIME_CHARSET_MAX 64       /* bytes of a charset name in an encoded-word */

struct mime_ctx {
    struct mime_doc *d;
    const struct mime_limits *lim;
    bool stop;                    /* part limit reached: visit no more */
    bool in_report;               /* below a multipart/report */
};

/* Where decoded bytes go: kept up to keep_max, counted and hashed in full. */
struct mime_sink {
    GByteArray *keep;
    size_t keep_max;
    size_t total;
    GChecksum *sha;               /* NULL when not hashing */
    bool stop_when_full;
};

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void
mime_lib_init(void)
{
    g_mime_init();
}

void
mime_limits_default(struct mime_limits *lim)
{
    lim->max_parts = MIME_MAX_PARTS;
    lim->max_depth = MIME_MAX_DEPTH;
    lim->max_decoded = MIME_MAX_DECODED;
    lim->max_attach_keep = MIME_MAX_ATTACH_KEEP;
}

/* ---- the doc ---- */

static void
mime_reason_add(struct mime_doc *d, const char *fmt, ...)
{
    char buf[256], **grown;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < d->nreasons; i++)
        if (strcmp(d->reasons[i], buf) == 0)
            return;
    if (d->nreasons >= MIME_MAX_REASONS)
        return;
    grown = realloc(d->reasons, (d->nreasons + 1) * sizeof(*grown));
    if (grown == NULL)
        return;
    d->reasons = grown;
    if ((d->reasons[d->nreasons] = strdup(buf)) != NULL)
        d->nreasons++;
}

bool
mime_has_reason(const struct mime_doc *d, const char *prefix)
{
    for (size_t i = 0; i < d->nreasons; i++)
        if (strncmp(d->reasons[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static size_t
mime_budget(const struct mime_ctx *c)
{
    if (c->d->decoded_bytes >= c->lim->max_decoded)
        return 0;
    return c->lim->max_decoded - c->d->decoded_bytes;
}

static char *
mime_strdup_lower(const char *s)
{
    char *r = strdup(s ? s : "");

    for (char *p = r; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

/* Takes text (malloc'd, NUL-terminated). */
static void
mime_text_push(struct mime_ctx *c, const char *path, const char *ctype,
               const char *charset, char *text, size_t len, bool truncated)
{
    struct mime_doc *d = c->d;
    struct mime_text *grown, *t;

    grown = realloc(d->texts, (d->ntexts + 1) * sizeof(*grown));
    if (grown == NULL) {
        free(text);
        return;
    }
    d->texts = grown;
    if (len > mime_budget(c)) {
        /* Cleaning can grow invalid bytes into U+FFFD; cut on a character. */
        len = (size_t)(g_utf8_find_prev_char(text, text + mime_budget(c) + 1) - text);
        text[len] = '\0';
        truncated = true;
        mime_reason_add(d, "decoded byte limit reached");
    }
    t = &d->texts[d->ntexts++];
    t->path = strdup(path);
    t->content_type = mime_strdup_lower(ctype);
    t->charset = mime_strdup_lower(charset);
    t->text = text;
    t->len = len;
    t->truncated = truncated;
    d->decoded_bytes += len;
}

/* ---- UTF-8 cleaning ---- */

/* Valid UTF-8, CRLF to LF, other controls but LF and TAB to spaces.
 * Returns malloc'd, NUL-terminated; *outlen set. */
static char *
mime_clean_text(const char *buf, size_t len, size_t *outlen)
{
    char *copy = malloc(len + 1), *out;
    gchar *valid;
    size_t n = 0, vlen;

    if (copy == NULL)
        return NULL;
    /* A NUL would end the string early; it is junk in text anyway. */
    for (size_t i = 0; i < len; i++)
        copy[i] = buf[i] == '\0' ? ' ' : buf[i];
    valid = g_utf8_make_valid(copy, (gssize)len);
    free(copy);
    vlen = strlen(valid);
    if ((out = malloc(vlen + 1)) == NULL) {
        g_free(valid);
        return NULL;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned char ch = (unsigned char)valid[i];

        if (ch == '\r' && valid[i + 1] == '\n')
            continue;
        out[n++] = (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? ' ' : (char)ch;
    }
    out[n] = '\0';
    g_free(valid);
    *outlen = n;
    return out;
}

/* A header value: valid UTF-8, every control a space. */
static char *
mime_clean_header(const char *v)
{
    size_t n;
    char *s = mime_clean_text(v ? v : "", v ? strlen(v) : 0, &n);

    for (char *p = s; p && *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return s;
}

/* ---- RFC 2047 ---- */

/* At p, "=?cs?B?payload?=" appended to out as the same bytes Q-encoded;
 * returns the bytes used, 0 if p holds no B encoded-word. */
static size_t
mime_b_word(const char *p, GString *out)
{
    const char *cs = p + 2, *q, *payload, *end;
    GString *b64;
    gint state = 0;
    guint save = 0;
    guchar *bin;
    gsize n;

    if (p[0] != '=' || p[1] != '?')
        return 0;
    q = cs + strcspn(cs, "? \t\r\n");
    if (*q != '?' || q == cs || q - cs > MIME_CHARSET_MAX || (q[1] != 'B' && q[1] != 'b')
        || q[2] != '?')
        return 0;
    payload = q + 3;
    end = payload + strcspn(payload, "? \t\r\n");
    if (end[0] != '?' || end[1] != '=')
        return 0;
    /* Words often come unpadded; a partial quad would be dropped. */
    b64 = g_string_new_len(payload, end - payload);
    while (b64->len % 4 != 0)
        g_string_append_c(b64, '=');
    bin = g_malloc(b64->len / 4 * 3 + 3);
    n = g_base64_decode_step(b64->str, b64->len, bin, &state, &save);
    g_string_free(b64, TRUE);
    g_string_append_printf(out, "=?%.*s?Q?", (int)(q - cs), cs);
    for (gsize i = 0; i < n; i++)
        g_string_append_printf(out, "=%02X", bin[i]);
    g_string_append(out, "?=");
    g_free(bin);
    return (size_t)(end + 2 - p);
}

/* GMime 3.2 joins the payloads of adjacent B encoded-words of one charset
 * before decoding them, so padding inside the join ("=?utf-8?B?YWI=?=
 * =?utf-8?B?Y2Q=?=") ends the decoding and the rest of the header is
 * lost. Q has no padding: every B word becomes Q, and the join, which
 * mends characters split across words, still works. */
static char *
mime_b_to_q(const char *raw)
{
    GString *out = g_string_sized_new(strlen(raw) + 16);

    for (const char *p = raw; *p;) {
        size_t used = mime_b_word(p, out);

        if (used == 0)
            g_string_append_c(out, *p++);
        else
            p += used;
    }
    return g_string_free(out, FALSE);
}

char *
mime_header_decode(const char *raw)
{
    char *q, *decoded, *clean;

    pthread_once(&mime_once, mime_lib_init);
    q = mime_b_to_q(raw ? raw : "");
    g_strdelimit(q, "\r", '\n');
    /* Unfolding removes the line breaks only, not the blanks after them. */
    for (char *in = q, *o = q;; in++)
        if (*in != '\n' && (*o++ = *in) == '\0')
            break;
    decoded = g_mime_utils_header_decode_text(NULL, q);
    g_free(q);
    clean = mime_clean_header(decoded ? g_strstrip(decoded) : "");
    g_free(decoded);
    return clean;
}

/* The decoded value of the first header name of obj, or NULL if none. */
static char *
mime_object_header_decode(GMimeObject *obj, const char *name)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
    GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
    const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;

    return raw ? mime_header_decode(raw) : NULL;
}

/* ---- HTML ---- */

struct mime_entity {
    const char *name;
    unsigned cp;
};

static const struct mime_entity mime_entities[] = {
    { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
    { "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae },
    { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 },
    { "laquo", 0xab }, { "raquo", 0xbb }, { "euro", 0x20ac },
    { "eacute", 0xe9 }, { "egrave", 0xe8 }, { "agrave", 0xe0 },
    { "ccedil", 0xe7 }, { "auml", 0xe4 }, { "ouml", 0xf6 }, { "uuml", 0xfc },
    { "Auml", 0xc4 }, { "Ouml", 0xd6 }, { "Uuml", 0xdc }, { "szlig", 0xdf },
    { "ntilde", 0xf1 }, { "rsquo", 0x2019 }, { "lsquo", 0x2018 },
    { "rdquo", 0x201d }, { "ldquo", 0x201c },
};

static const char *const mime_block_tags[] = {
    "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "blockquote", "pre", "hr", "title", "ul", "ol", "td", NULL
};

/* Decode the entity at s[0] == '&'; returns bytes consumed, 0 if none. */
static size_t
mime_html_entity(const char *s, size_t len, unsigned *cp)
{
    size_t end = 1;
    char name[12];

    while (end < len && end < sizeof(name) && s[end] != ';')
        end++;
    if (end >= len || s[end] != ';' || end < 2)
        return 0;
    memcpy(name, s + 1, end - 1);
    name[end - 1] = '\0';
    if (name[0] == '#') {
        char *stop;
        unsigned long v = (name[1] == 'x' || name[1] == 'X')
            ? strtoul(name + 2, &stop, 16) : strtoul(name + 1, &stop, 10);

        if (*stop != '\0' || stop == name + 1)
            return 0;
        *cp = (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) ? 0xfffd : (unsigned)v;
        return end + 1;
    }
    for (size_t i = 0; i < sizeof(mime_entities) / sizeof(mime_entities[0]); i++)
        if (strcmp(name, mime_entities[i].name) == 0) {
            *cp = mime_entities[i].cp;
            return end + 1;
        }
    return 0;
}

/* Index just past the '>' closing the tag opened at s[0]. */
static size_t
mime_html_tag_end(const char *s, size_t len)
{
    char quote = 0;

    for (size_t i = 1; i < len; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (s[i] == '>') {
            return i + 1;
        }
    }
    return len;
}

/* Position past "</name ...>" at or after s, or len. */
static size_t
mime_html_skip_to_close(const char *s, size_t len, const char *name)
{
    size_t nl = strlen(name);

    for (size_t i = 0; i + 2 + nl <= len; i++)
        if (s[i] == '<' && s[i + 1] == '/' && strncasecmp(s + i + 2, name, nl) == 0)
            return i + mime_html_tag_end(s + i, len - i);
    return len;
}

static bool
mime_html_is_block(const char *name)
{
    for (size_t i = 0; mime_block_tags[i]; i++)
        if (strcasecmp(name, mime_block_tags[i]) == 0)
            return true;
    return false;
}

/* The http(s) target of the <a> tag s[0, end) goes to out, since a link's
 * target is often the evidence (a crt.sh link behind "this certificate").
 * It is shorter than the tag, so out cannot outgrow the input. */
static void
mime_html_href(const char *s, size_t end, char *out, size_t *n)
{
    size_t i = 2, k = 0;
    char quote = 0;

    while (i + 5 <= end && g_ascii_strncasecmp(s + i, "href=", 5) != 0)
        i++;
    if (i + 5 > end)
        return;
    i += 5;
    if (i < end && (s[i] == '"' || s[i] == '\''))
        quote = s[i++];
    while (i + k < end && s[i + k] != '>' && (quote ? s[i + k] != quote : !g_ascii_isspace(s[i + k])))
        k++;
    if (k < 8 || (g_ascii_strncasecmp(s + i, "http://", 7) != 0
                  && g_ascii_strncasecmp(s + i, "https://", 8) != 0))
        return;
    if (*n > 0 && out[*n - 1] != ' ' && out[*n - 1] != '\n')
        out[(*n)++] = ' ';
    memcpy(out + *n, s + i, k);
    *n += k;
    out[(*n)++] = ' ';
}

/* Handle the tag at s[0] == '<'; returns bytes consumed. */
static size_t
mime_html_tag(const char *s, size_t len, char *out, size_t *n)
{
    char name[16];
    size_t i = 1, k = 0, end;

    if (len >= 4 && strncmp(s, "<!--", 4) == 0) {
        const char *e = g_strstr_len(s + 4, (gssize)(len - 4), "-->");
        return e ? (size_t)(e - s) + 3 : len;
    }
    if (i < len && s[i] == '/')
        i++;
    while (i < len && k + 1 < sizeof(name) && g_ascii_isalnum(s[i]))
        name[k++] = s[i++];
    name[k] = '\0';
    end = mime_html_tag_end(s, len);
    /* len may be 1: a lone '<' at the very end (found by the fuzzer). */
    if ((len < 2 || s[1] != '/')
        && (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0))
        return end + mime_html_skip_to_close(s + end, len - end, name);
    if (mime_html_is_block(name) && *n > 0 && out[*n - 1] != '\n')
        out[(*n)++] = '\n';
    if (g_ascii_strcasecmp(name, "a") == 0 && s[1] != '/')
        mime_html_href(s, end, out, n);
    return end;
}

char *
mime_html_to_text(const char *html, size_t len, size_t *outlen)
{
    char *out = malloc(len + 1);
    size_t n = 0, i = 0;
    unsigned cp;

    if (out == NULL)
        return NULL;
    while (i < len) {
        size_t used;

        if (html[i] == '<') {
            i += mime_html_tag(html + i, len - i, out, &n);
        } else if (html[i] == '&' && (used = mime_html_entity(html + i, len - i, &cp)) > 0) {
            /* An entity is at least 4 bytes; UTF-8 of a code point at most 4. */
            n += (size_t)g_unichar_to_utf8(cp, out + n);
            i += used;
        } else if (g_ascii_isspace(html[i])) {
            if (n > 0 && out[n - 1] != ' ' && out[n - 1] != '\n')
                out[n++] = ' ';
            i++;
        } else {
            out[n++] = html[i++];
        }
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* ---- reading a part ---- */

/* Charsets named by their common superset, since mail says "gb2312"
 * and means GBK, says "euc-kr" and means CP949. */
static const char *const mime_charset_supersets[][2] = {
    { "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "x-gbk", "GB18030" },
    { "euc-cn", "GB18030" }, { "euc-kr", "CP949" }, { "ks_c_5601-1987", "CP949" },
    { "shift_jis", "CP932" }, { "sjis", "CP932" }, { "x-sjis", "CP932" },
    { "big5", "BIG5-HKSCS" }, { "iso-8859-1", "WINDOWS-1252" },
    { "us-ascii", "WINDOWS-1252" },
};

static const char *
mime_charset_name(const char *declared)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mime_charset_supersets); i++)
        if (g_ascii_strcasecmp(declared, mime_charset_supersets[i][0]) == 0)
            return mime_charset_supersets[i][1];
    return g_mime_charset_iconv_name(declared);
}

static bool
mime_charset_is_utf8(const char *cs)
{
    return g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "utf8") == 0;
}

static void
mime_filter_add(GMimeStream *fs, GMimeFilter *f)
{
    if (f == NULL)
        return;
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
    g_object_unref(f);
}

/* The decoded content of a leaf, or NULL if it has none. charset is
 * NULL for binary reads. *bad_charset is set when it cannot convert. */
static GMimeStream *
mime_part_open(GMimePart *part, const char *charset, bool *bad_charset)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *src, *fs;
    GMimeContentEncoding enc;

    if (w == NULL || (src = g_mime_data_wrapper_get_stream(w)) == NULL)
        return NULL;
    g_mime_stream_reset(src);
    fs = g_mime_stream_filter_new(src);
    enc = g_mime_data_wrapper_get_encoding(w);
    if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
        || enc == GMIME_CONTENT_ENCODING_UUENCODE)
        mime_filter_add(fs, g_mime_filter_basic_new(enc, FALSE));
    if (charset != NULL && !mime_charset_is_utf8(charset)) {
        GMimeFilter *f = g_mime_filter_charset_new(mime_charset_name(charset), "UTF-8");

        *bad_charset = f == NULL;
        mime_filter_add(fs, f);
    }
    return fs;
}

static void
mime_sink_drain(GMimeStream *s, struct mime_sink *k)
{
    char buf[MIME_CHUNK];
    ssize_t got;

    while ((got = g_mime_stream_read(s, buf, sizeof(buf))) > 0) {
        size_t room = k->keep_max > k->keep->len ? k->keep_max - k->keep->len : 0;

        g_byte_array_append(k->keep, (guint8 *)buf, (guint)((size_t)got < room ? (size_t)got : room));
        if (k->sha)
            g_checksum_update(k->sha, (guchar *)buf, (gssize)got);
        k->total += (size_t)got;
        if (k->stop_when_full && k->total > k->keep_max)
            break;
    }
}

/* ---- attached originals ---- */

/* A header value cleaned and cut at MIME_MAX_ID_HEADER on a character. */
static char *
mime_id_header(const char *v, size_t len)
{
    size_t n;
    char *s = mime_clean_text(v ? v : "", v ? len : 0, &n);

    for (char *p = s; p && *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    if (s && n > MIME_MAX_ID_HEADER)
        *g_utf8_find_prev_char(s, s + MIME_MAX_ID_HEADER + 1) = '\0';
    return s;
}

/* Takes the three values (malloc'd, NULL allowed). */
static void
mime_embedded_push(struct mime_ctx *c, const char *path, char *mid, char *irt, char *refs)
{
    struct mime_doc *d = c->d;
    struct mime_embedded *grown, *e;

    if (d->nembedded < MIME_MAX_EMBEDDED
        && (grown = realloc(d->embedded, (d->nembedded + 1) * sizeof(*grown))) != NULL) {
        d->embedded = grown;
        e = &grown[d->nembedded];
        e->path = strdup(path);
        e->in_report = c->in_report;
        e->message_id = mid ? mid : strdup("");
        e->in_reply_to = irt ? irt : strdup("");
        e->references = refs ? refs : strdup("");
        if (e->path && e->message_id && e->in_reply_to && e->references) {
            d->nembedded++;
            return;
        }
        free(e->path);
        free(e->message_id);
        free(e->in_reply_to);
        free(e->references);
        return;
    }
    free(mid);
    free(irt);
    free(refs);
}

static char *
mime_object_id_header(GMimeObject *obj, const char *name)
{
    const char *v = g_mime_object_get_header(obj, name);

    return v ? mime_id_header(v, strlen(v)) : NULL;
}

static void
mime_embedded_message(struct mime_ctx *c, GMimeMessage *m, const char *path)
{
    GMimeObject *o = GMIME_OBJECT(m);

    mime_embedded_push(c, path, mime_object_id_header(o, "Message-ID"),
                       mime_object_id_header(o, "In-Reply-To"),
                       mime_object_id_header(o, "References"));
}

/* The unfolded value of header name in a header block, or NULL. */
static char *
mime_block_header(const char *text, size_t len, const char *name)
{
    size_t nl = strlen(name), i = 0;

    while (i < len && text[i] != '\n') {
        const char *eol = memchr(text + i, '\n', len - i);
        size_t end = eol ? (size_t)(eol - text) : len;

        if (end - i > nl && text[i + nl] == ':' && g_ascii_strncasecmp(text + i, name, nl) == 0) {
            size_t start = i + nl + 1;

            /* Continuation lines start with a blank; the value runs past them. */
            while (end < len && end + 1 < len && (text[end + 1] == ' ' || text[end + 1] == '\t')) {
                eol = memchr(text + end + 1, '\n', len - end - 1);
                end = eol ? (size_t)(eol - text) : len;
            }
            while (start < end && (text[start] == ' ' || text[start] == '\t'))
                start++;
            return mime_id_header(text + start, end - start);
        }
        i = end + 1;
    }
    return NULL;
}

static void
mime_embedded_headers(struct mime_ctx *c, const char *text, size_t len, const char *path)
{
    mime_embedded_push(c, path, mime_block_header(text, len, "Message-ID"),
                       mime_block_header(text, len, "In-Reply-To"),
                       mime_block_header(text, len, "References"));
}

/* ---- leaves ---- */

static bool
mime_is_text_type(GMimeContentType *ct)
{
    const char *type = g_mime_content_type_get_media_type(ct);
    const char *sub = g_mime_content_type_get_media_subtype(ct);

    if (type && g_ascii_strcasecmp(type, "text") == 0)
        return true;
    return type && sub && g_ascii_strcasecmp(type, "message") == 0
        && (g_ascii_strcasecmp(sub, "delivery-status") == 0
            || g_ascii_strcasecmp(sub, "disposition-notification") == 0
            || g_ascii_strcasecmp(sub, "global-delivery-status") == 0);
}

static bool
mime_is_attachment(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *disp = g_mime_object_get_disposition(obj);

    if (!mime_is_text_type(ct))
        return true;
    return disp && g_ascii_strcasecmp(disp, "attachment") == 0
        && g_mime_part_get_filename(GMIME_PART(obj)) != NULL;
}

static char *
mime_type_string(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char *s = g_strdup_printf("%s/%s", g_mime_content_type_get_media_type(ct),
                              g_mime_content_type_get_media_subtype(ct));
    char *r = mime_strdup_lower(s);

    g_free(s);
    return r;
}

/* Reads one text leaf into a text part, within the decoded budget. */
static void
mime_visit_text(struct mime_ctx *c, GMimePart *part, const char *path)
{
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    struct mime_sink k = { g_byte_array_new(), mime_budget(c), 0, NULL, true };
    bool bad = false, truncated;
    char *ctype = mime_type_string(GMIME_OBJECT(part)), *text;
    GMimeStream *s = mime_part_open(part, cs, &bad);
    size_t n;

    if (bad)
        mime_reason_add(c->d, "undecodable charset %.64s, kept raw", cs);
    if (s) {
        mime_sink_drain(s, &k);
        g_object_unref(s);
    }
    truncated = k.total > k.keep->len;
    if (truncated)
        mime_reason_add(c->d, "decoded byte limit reached");
    if (ctype && strcmp(ctype, "text/html") == 0)
        text = mime_html_to_text((char *)k.keep->data, k.keep->len, &n);
    else
        text = mime_clean_text((char *)k.keep->data, k.keep->len, &n);
    if (text && ctype && strcmp(ctype, "text/html") == 0) {
        char *html = text;

        text = mime_clean_text(html, n, &n);
        free(html);
    }
    if (text && ctype && strcmp(ctype, "text/rfc822-headers") == 0)
        mime_embedded_headers(c, text, n, path);
    if (text)
        mime_text_push(c, path, ctype ? ctype : "text/plain", cs ? cs : "utf-8", text, n, truncated);
    free(ctype);
    g_byte_array_unref(k.keep);
}

/* The name as given, before the basename and the length cut (either
 * could leave a piece of a key that no longer reads as one). */
#define MIME_FILENAME_KEY "[private key removed from the file name]"

static char *
mime_filename_clean(const char *raw)
{
    const char *base = raw ? raw : "";
    char *clean, *cut;

    if (keygate_holds_key(base, strlen(base), false))
        return strdup(MIME_FILENAME_KEY);
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    clean = mime_clean_header(base);
    if (clean == NULL)
        return NULL;
    for (char *p = clean; *p; p++)
        if (*p == '"' || *p == '\'' || *p == '`' || *p == ';')
            *p = '_';
    if (strlen(clean) > MIME_MAX_FILENAME) {
        cut = g_utf8_find_prev_char(clean, clean + MIME_MAX_FILENAME + 1);
        if (cut)
            *cut = '\0';
    }
    return clean;
}

static void
mime_att_fill(struct mime_attachment *a, struct mime_sink *k)
{
    a->size = k->total;
    snprintf(a->sha256, sizeof(a->sha256), "%s", g_checksum_get_string(k->sha));
    a->data_len = k->keep->len;
    a->data = malloc(a->data_len ? a->data_len : 1);
    if (a->data && a->data_len > 0)
        memcpy(a->data, k->keep->data, a->data_len);
    else
        a->data_len = 0;
}

/* Reads one attachment to the end: size and SHA-256 in full, bytes kept
 * up to max_attach_keep and the decoded budget. */
static void
mime_visit_attachment(struct mime_ctx *c, GMimePart *part, const char *path)
{
    size_t budget = mime_budget(c);
    size_t keep = c->lim->max_attach_keep < budget ? c->lim->max_attach_keep : budget;
    struct mime_sink k = { g_byte_array_new(), keep, 0, g_checksum_new(G_CHECKSUM_SHA256), false };
    struct mime_attachment *grown, *a;
    bool bad = false;
    GMimeStream *s = mime_part_open(part, NULL, &bad);

    if (s) {
        mime_sink_drain(s, &k);
        g_object_unref(s);
    }
    if (k.total > k.keep->len && keep < c->lim->max_attach_keep)
        mime_reason_add(c->d, "decoded byte limit reached");
    grown = realloc(c->d->atts, (c->d->natts + 1) * sizeof(*grown));
    if (grown != NULL) {
        c->d->atts = grown;
        a = &grown[c->d->natts++];
        a->path = strdup(path);
        a->filename = mime_filename_clean(g_mime_part_get_filename(part));
        a->content_type = mime_type_string(GMIME_OBJECT(part));
        mime_att_fill(a, &k);
        c->d->decoded_bytes += a->data_len;
    }
    g_checksum_free(k.sha);
    g_byte_array_unref(k.keep);
}

/* Keep bytes GMime could not (or may not) structure as a raw text part. */
static void
mime_keep_raw_as(struct mime_ctx *c, const char *raw, size_t len, const char *path,
                 const char *why)
{
    size_t budget = mime_budget(c), n;
    bool truncated = len > budget;
    char *text = mime_clean_text(raw, truncated ? budget : len, &n);

    mime_reason_add(c->d, "%s", why);
    if (truncated)
        mime_reason_add(c->d, "decoded byte limit reached");
    if (text)
        mime_text_push(c, path, MIME_RAW_TYPE, "unknown", text, n, truncated);
}

static void
mime_keep_raw(struct mime_ctx *c, const char *raw, size_t len, const char *path)
{
    mime_keep_raw_as(c, raw, len, path, "malformed MIME, kept raw");
}

/* A part nested deeper than the limit is not parsed, but its bytes are
 * kept as raw text, so the report analysis still finds (and redacts) a
 * key inside it. */
static void
mime_keep_deep(struct mime_ctx *c, GMimeObject *obj, const char *path)
{
    char *raw = g_mime_object_to_string(obj, NULL);

    if (raw != NULL) {
        mime_keep_raw_as(c, raw, strlen(raw), path, "nested too deep, kept raw");
        g_free(raw);
    }
}

/* ---- containers ---- */

static void mime_visit(struct mime_ctx *c, GMimeObject *obj, const char *path, unsigned depth);

static void
mime_child_path(char *buf, size_t size, const char *parent, int i)
{
    if (parent[0] == '\0')
        snprintf(buf, size, "%d", i + 1);
    else
        snprintf(buf, size, "%s.%d", parent, i + 1);
}

static void
mime_visit_multipart(struct mime_ctx *c, GMimeMultipart *mp, const char *path, unsigned depth)
{
    int count = g_mime_multipart_get_count(mp);
    char child[MIME_PATH_MAX], *type = mime_type_string(GMIME_OBJECT(mp));
    bool was_in_report = c->in_report;

    c->in_report |= type && strcmp(type, "multipart/report") == 0;
    free(type);

    if (count <= 0) {
        const char *pro = g_mime_multipart_get_prologue(mp);

        mime_keep_raw(c, pro ? pro : "", pro ? strlen(pro) : 0, path[0] ? path : "0");
        c->in_report = was_in_report;
        return;
    }
    for (int i = 0; i < count && !c->stop; i++) {
        mime_child_path(child, sizeof(child), path, i);
        mime_visit(c, g_mime_multipart_get_part(mp, i), child, depth + 1);
    }
    c->in_report = was_in_report;
}

/* The headers of a forwarded or bounced message, as one text part. */
static void
mime_message_summary(struct mime_ctx *c, GMimeMessage *m, const char *path)
{
    static const char *const names[] = { "From", "To", "Date", "Subject", "Message-ID" };
    GString *s = g_string_new(NULL);
    char *text;
    size_t n;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        const char *v = g_mime_object_get_header(GMIME_OBJECT(m), names[i]);
        char *clean = i == 3 ? mime_object_header_decode(GMIME_OBJECT(m), names[i])
                             : v ? mime_clean_header(v) : NULL;

        if (clean)
            g_string_append_printf(s, "%s: %s\n", names[i], clean);
        free(clean);
    }
    if (s->len > mime_budget(c))
        g_string_truncate(s, mime_budget(c));
    text = mime_clean_text(s->str, s->len, &n);
    if (text)
        mime_text_push(c, path, "message/rfc822", "utf-8", text, n, false);
    g_string_free(s, TRUE);
}

static void
mime_visit_message(struct mime_ctx *c, GMimeMessagePart *mp, const char *path, unsigned depth)
{
    GMimeMessage *m = g_mime_message_part_get_message(mp);
    GMimeObject *body;
    char child[MIME_PATH_MAX];

    if (m == NULL)
        return;
    mime_message_summary(c, m, path);
    mime_embedded_message(c, m, path);
    if ((body = g_mime_message_get_mime_part(m)) == NULL)
        return;
    if (GMIME_IS_MULTIPART(body))
        snprintf(child, sizeof(child), "%s", path);
    else
        mime_child_path(child, sizeof(child), path, 0);
    mime_visit(c, body, child, depth + 1);
}

static void
mime_visit(struct mime_ctx *c, GMimeObject *obj, const char *path, unsigned depth)
{
    if (c->stop || obj == NULL)
        return;
    if (c->d->nparts >= c->lim->max_parts) {
        mime_reason_add(c->d, "part limit reached (%zu)", c->lim->max_parts);
        c->stop = true;
        return;
    }
    if (depth > c->lim->max_depth) {
        mime_reason_add(c->d, "nesting too deep (%u)", c->lim->max_depth);
        mime_keep_deep(c, obj, path);
        return;
    }
    c->d->nparts++;
    if (GMIME_IS_MULTIPART(obj))
        mime_visit_multipart(c, GMIME_MULTIPART(obj), path, depth);
    else if (GMIME_IS_MESSAGE_PART(obj))
        mime_visit_message(c, GMIME_MESSAGE_PART(obj), path, depth);
    else if (GMIME_IS_PART(obj) && mime_is_attachment(obj))
        mime_visit_attachment(c, GMIME_PART(obj), path);
    else if (GMIME_IS_PART(obj))
        mime_visit_text(c, GMIME_PART(obj), path);
}

/* ---- the message ---- */

static const char *
mime_warning_name(GMimeParserWarning w)
{
    switch (w) {
    case GMIME_WARN_MALFORMED_MULTIPART: return "multipart without parts";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
    case GMIME_CRIT_NESTING_OVERFLOW: return "parser nesting overflow";
    case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type";
    default: return NULL;     /* duplicated headers and the like: harmless */
    }
}

static void
mime_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
    struct mime_ctx *c = data;
    const char *name = mime_warning_name(code);

    (void)offset;
    (void)item;
    if (name)
        mime_reason_add(c->d, "malformed MIME: %s", name);
}

/* The stream reads raw in place (not a copy: a report may be as large as
 * max_message_bytes); *borrowed is released with g_byte_array_free(b,
 * FALSE) once the message is gone, which leaves raw to its owner. */
static GMimeMessage *
mime_construct(struct mime_ctx *c, const char *raw, size_t len, GByteArray **borrowed)
{
    GByteArray *ba = g_byte_array_new_take((guint8 *)(uintptr_t)raw, (gsize)len);
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(ba);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeParserOptions *opts = g_mime_parser_options_new();
    GMimeMessage *m;

    g_mime_parser_options_set_warning_callback(opts, mime_parser_warning, c);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    m = g_mime_parser_construct_message(parser, opts);
    g_mime_parser_options_free(opts);
    g_object_unref(parser);
    g_object_unref(stream);
    *borrowed = ba;
    return m;
}

static void
mime_doc_fill(struct mime_ctx *c, const char *raw, size_t len)
{
    GByteArray *borrowed;
    GMimeMessage *m = mime_construct(c, raw, len, &borrowed);
    GMimeObject *body;

    if (m == NULL) {
        g_byte_array_free(borrowed, FALSE);
        c->d->subject = strdup("");
        c->d->content_type = strdup("");
        mime_keep_raw(c, raw, len, "0");
        return;
    }
    c->d->subject = mime_object_header_decode(GMIME_OBJECT(m), "Subject");
    if (c->d->subject == NULL)
        c->d->subject = strdup("");
    body = g_mime_message_get_mime_part(m);
    c->d->content_type = body ? mime_type_string(body) : strdup("");
    if (body == NULL && len > 0)
        mime_keep_raw(c, raw, len, "0");
    else if (body != NULL)
        mime_visit(c, body, GMIME_IS_MULTIPART(body) ? "" : "1", 1);
    g_object_unref(m);
    g_byte_array_free(borrowed, FALSE);
}

struct mime_doc *
mime_parse(const char *raw, size_t len, const struct mime_limits *lim)
{
    struct mime_limits defaults;
    struct mime_ctx c;

    pthread_once(&mime_once, mime_lib_init);
    if (lim == NULL) {
        mime_limits_default(&defaults);
        lim = &defaults;
    }
    c.d = calloc(1, sizeof(*c.d));
    c.lim = lim;
    c.stop = false;
    c.in_report = false;
    if (c.d == NULL)
        return NULL;
    mime_doc_fill(&c, raw ? raw : "", raw ? len : 0);
    if (c.d->subject == NULL || c.d->content_type == NULL) {
        mime_doc_free(c.d);
        return NULL;
    }
    return c.d;
}

void
mime_doc_free(struct mime_doc *d)
{
    if (d == NULL)
        return;
    free(d->subject);
    free(d->content_type);
    for (size_t i = 0; i < d->nembedded; i++) {
        free(d->embedded[i].path);
        free(d->embedded[i].message_id);
        free(d->embedded[i].in_reply_to);
        free(d->embedded[i].references);
    }
    free(d->embedded);
    for (size_t i = 0; i < d->ntexts; i++) {
        free(d->texts[i].path);
        free(d->texts[i].content_type);
        free(d->texts[i].charset);
        free(d->texts[i].text);
    }
    free(d->texts);
    for (size_t i = 0; i < d->natts; i++) {
        free(d->atts[i].path);
        free(d->atts[i].filename);
        free(d->atts[i].content_type);
        free(d->atts[i].data);
    }
    free(d->atts);
    for (size_t i = 0; i < d->nreasons; i++)
        free(d->reasons[i]);
    free(d->reasons);
    free(d);
}

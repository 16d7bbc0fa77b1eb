/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   text - reporter text made safe for a terminal, a table or a CSV file
 * DESCRIPTION
 *   See text.h. Owns the one definition of an unsafe code point, shared by
 *   cprctl's text and JSON output and by export.c's Markdown and CSV.
 * DIAGNOSTICS
 *   Allocation failure is fatal.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define TEXT_EX_FAIL 1
#define TEXT_JSON_ESCAPE_MAX 6      /* "\uXXXX" per code point at most */

void *
text_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        log_fatal(TEXT_EX_FAIL, "out of memory");
    return p;
}

static size_t
text_utf8_decode(const unsigned char *p, uint32_t *cp)
{
    uint32_t c = p[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, c &= 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, c &= 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static bool
text_unsafe(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)
        || c == 0x061C || c == 0x200E || c == 0x200F
        || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

char *
text_sanitise(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char *out = text_xmalloc(strlen((const char *)p) + 1), *q = out;
    uint32_t c;
    size_t n;

    while (*p) {
        if ((n = text_utf8_decode(p, &c)) == 0) {
            *q++ = '?';
            p++;
        } else if (text_unsafe(c)) {
            *q++ = (c == '\t' || c == '\n' || c == '\r') ? ' ' : '?';
            p += n;
        } else {
            memcpy(q, p, n);
            q += n;
            p += n;
        }
    }
    *q = '\0';
    return out;
}

size_t
text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

size_t
text_prefix(const char *s, size_t n)
{
    size_t i = 0;

    while (s[i] && n-- > 0)
        for (i++; ((unsigned char)s[i] & 0xC0) == 0x80; i++)
            ;
    return i;
}

/* jansson escapes C0 controls but leaves DEL, C1 controls and bidi
 * overrides raw. Outside strings JSON is ASCII, so escaping them as
 * \uXXXX keeps the document the same. */
char *
text_json_escape(const char *in)
{
    const unsigned char *p = (const unsigned char *)in;
    char *out = text_xmalloc(TEXT_JSON_ESCAPE_MAX * strlen(in) + 1), *q = out;
    uint32_t c;
    size_t n;

    while (*p) {
        if ((n = text_utf8_decode(p, &c)) == 0) {     /* jansson never emits this */
            *q++ = '?';
            p++;
            continue;
        }
        if (text_unsafe(c) && c >= 0x20) {
            q += snprintf(q, TEXT_JSON_ESCAPE_MAX + 1, "\\u%04X", (unsigned)c);
        } else {
            memcpy(q, p, n);
            q += n;
        }
        p += n;
    }
    *q = '\0';
    return out;
}

/* A field a spreadsheet would run as a formula: = + - @ first (after any
 * spaces, which some spreadsheets trim), or a tab or CR first in the
 * original (sanitising makes those a space). */
static bool
csv_formula(const char *orig, const char *safe)
{
    const char *p = safe + strspn(safe, " ");

    return (orig && (orig[0] == '\t' || orig[0] == '\r'))
        || (*p != '\0' && strchr("=+-@", *p) != NULL);
}

void
text_csv_field(FILE *fp, const char *s)
{
    char *safe = text_sanitise(s);
    bool formula = csv_formula(s, safe);
    bool quote = formula || strpbrk(safe, ",\"") != NULL || safe[0] == ' ';

    if (quote)
        fputc('"', fp);
    if (formula)
        fputc('\'', fp);
    for (const char *p = safe; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    if (quote)
        fputc('"', fp);
    free(safe);
}

/* Escaped in a Markdown cell: the cell's end, the escape itself, and
 * what makes a link, an image, emphasis, strikethrough, code or HTML. */
#define TEXT_MD_SPECIAL "|\\[]*_~`<>"

void
text_md_cell(FILE *fp, const char *s)
{
    char *safe = text_sanitise(s);

    if (!*safe)
        fputc('-', fp);
    for (const char *p = safe; *p; p++) {
        if (strchr(TEXT_MD_SPECIAL, *p))
            fputc('\\', fp);
        fputc(*p, fp);
    }
    free(safe);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   keygate - private keys found by what they decode to, in any wrapper
 * SUMMARY
 *   evidence_scan_text(t, n, &ev); keygate_scan(t, n, true, &ev);
 *   red = evidence_redact(t, n, &ev);
 * DESCRIPTION
 *   A key is recognised by content, not armour. Each candidate is decoded
 *   and handed to evidence_scan_der(), which parses PKCS#8 (plain and
 *   encrypted), traditional RSA/EC keys and PKCS#12 (empty and common
 *   passwords):
 *     * line-wrapped base64: consecutive lines of base64 only (after any
 *       '>' quoting and blanks), whatever armour surrounds them, however
 *       spaced or wrapped its BEGIN line (also tried from each line that
 *       starts like DER, in case a text line joined the block, or a
 *       certificate's lines come first), and read element after element
 *       when it decodes to several DER structures one after another;
 *     * base64 and hex runs inside a line (bare DER, "key=MIIE...");
 *     * JWK private members ("d", "p", "q", "dp", "dq", "qi", "k") in text
 *       that names a "kty";
 *     * uuencoded blocks ("begin 644 key.der" ... "end").
 *   With fragments set (text parts of a report), what decodes to nothing
 *   public is removed too: line-wrapped base64 of KEYGATE_MIN_FRAGMENT
 *   characters or more, a DER-looking run as long, and any uuencoded
 *   block. That covers half a key split across two MIME parts, a key cut
 *   short, and an encrypted one in an unknown wrapper. Certificates, CSRs
 *   and PKCS#7 bundles are public: they stay.
 * DIAGNOSTICS
 *   keygate_scan() returns false only when memory runs out.
 */
#include "keygate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYGATE_LINE_RETRIES 8      /* line starts tried inside one block */
#define KEYGATE_MIN_LINE 4          /* a base64 line of a block, at least */
#define KEYGATE_WRAP_MIN 60         /* wrapped lines are this long or more */
#define KEYGATE_MIN_JWK 16          /* characters of a JWK member value */
#define KEYGATE_UU_MAX_LINES 20000
#define KEYGATE_MAX_ELEMENTS 64     /* DER elements read one after another */

enum keygate_found { KG_NOTHING, KG_PUBLIC, KG_KEY };

struct keygate {
    const char *text;
    size_t len;
    bool fragments;
    struct evidence_list *out;
    bool ok;
};

/* ---- decoding ---- */

static int
keygate_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static bool
keygate_is_b64(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '+' || c == '/' || c == '=';
}

static bool
keygate_is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The base64 (or base64url) characters of [s, e), others skipped, up to
 * the first '='. malloc'd; NULL when out of memory. */
static unsigned char *
keygate_b64_decode(const char *s, const char *e, size_t *n)
{
    unsigned char *out = malloc((size_t)(e - s) / 4 * 3 + 4);
    unsigned acc = 0;
    int bits = 0;
    size_t m = 0;

    if (out == NULL)
        return NULL;
    for (; s < e && *s != '='; s++) {
        int v = keygate_b64_value((unsigned char)*s);

        if (v < 0)
            continue;
        acc = ((acc << 6) | (unsigned)v) & 0xffffffu;
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[m++] = (unsigned char)(acc >> bits);
        }
    }
    *n = m;
    return out;
}

static int
keygate_hex_value(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The hex digits of [s, e), colons and blanks skipped. */
static unsigned char *
keygate_hex_decode(const char *s, const char *e, size_t *n)
{
    unsigned char *out = malloc((size_t)(e - s) / 2 + 1);
    size_t m = 0;
    int hi = -1;

    if (out == NULL)
        return NULL;
    for (; s < e; s++) {
        if (!keygate_is_hex((unsigned char)*s))
            continue;
        if (hi < 0) {
            hi = keygate_hex_value((unsigned char)*s);
        } else {
            out[m++] = (unsigned char)(hi << 4 | keygate_hex_value((unsigned char)*s));
            hi = -1;
        }
    }
    *n = m;
    return out;
}

/* ---- what decoded bytes are ---- */

/* The length of the DER element at der (tag, length, contents) when it
 * fits in n bytes, or 0. */
static size_t
keygate_der_element(const unsigned char *der, size_t n)
{
    size_t len = 0, hdr = 2, k;

    if (n < 2)
        return 0;
    if (der[1] < 0x80) {
        len = der[1];
    } else {
        k = der[1] & 0x7fu;
        if (k == 0 || k > 4 || n < 2 + k)
            return 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | der[2 + i];
        hdr += k;
    }
    return len <= n - hdr ? hdr + len : 0;
}

/* What the one DER element at der is (trailing bytes are ignored). */
static enum keygate_found
keygate_der_one(const unsigned char *der, size_t n, struct evidence_item *key)
{
    struct evidence_list tmp;
    enum keygate_found f = KG_NOTHING;

    if (n < 2 || der[0] != 0x30)
        return KG_NOTHING;
    evidence_list_init(&tmp);
    if (!evidence_scan_der(der, n, &tmp)) {
        memset(key, 0, sizeof(*key));   /* cannot tell: treat as a key */
        key->kind = EVIDENCE_KEY_TRUNCATED;
        f = KG_KEY;
    }
    for (size_t i = 0; i < tmp.n && f != KG_KEY; i++) {
        if (evidence_is_key(&tmp.items[i])) {
            *key = tmp.items[i];
            f = KG_KEY;
        } else {
            f = KG_PUBLIC;
        }
    }
    evidence_list_free(&tmp);
    return f;
}

/* The decoded bytes, element after element: a key glued after a
 * certificate ("cert || key" in one base64 block) is still a key. */
static enum keygate_found
keygate_der(const unsigned char *der, size_t n, struct evidence_item *key)
{
    enum keygate_found f = KG_NOTHING;

    for (size_t k = 0; k < KEYGATE_MAX_ELEMENTS && f != KG_KEY; k++) {
        enum keygate_found one = keygate_der_one(der, n, key);
        size_t used = keygate_der_element(der, n);

        f = one > f ? one : f;
        if (used == 0 || used >= n)
            break;
        der += used;
        n -= used;
    }
    return f;
}

/* [start, end) overlaps what is already redacted (a PEM block found by
 * evidence_scan_text, or an earlier finding): nothing more to do. */
static bool
keygate_covered(const struct keygate *g, size_t start, size_t end)
{
    for (size_t i = 0; i < g->out->n; i++) {
        const struct evidence_item *it = &g->out->items[i];

        if (it->has_range && evidence_is_redacted(it) && it->start < end && start < it->end)
            return true;
    }
    return start >= g->out->cut_at;
}

static void
keygate_push(struct keygate *g, struct evidence_item *it, size_t start, size_t end)
{
    it->has_range = true;
    it->start = start;
    it->end = end;
    if (!evidence_push(g->out, it))
        g->ok = false;
}

static void
keygate_fragment(struct keygate *g, const char *what, size_t chars, size_t start, size_t end)
{
    struct evidence_item it;

    if (keygate_covered(g, start, end))
        return;
    memset(&it, 0, sizeof(it));
    it.kind = EVIDENCE_UNREADABLE;
    snprintf(it.reason, sizeof(it.reason), "%s (%zu characters)", what, chars);
    snprintf(it.value, sizeof(it.value), "%zu-%zu", start, end);
    keygate_push(g, &it, start, end);
}

/* Decode [s, e) with dec; a key found is pushed over [start, end). */
static enum keygate_found
keygate_try(struct keygate *g, const char *s, const char *e, bool hex, size_t start,
            size_t end)
{
    struct evidence_item key;
    unsigned char *der;
    size_t n = 0;
    enum keygate_found f;

    if ((size_t)(e - s) > 2 * KEYGATE_MAX_RUN)
        return KG_NOTHING;
    if (keygate_covered(g, start, end))
        return KG_PUBLIC;       /* redacted already: not a fragment either */
    der = hex ? keygate_hex_decode(s, e, &n) : keygate_b64_decode(s, e, &n);
    if (der == NULL) {
        g->ok = false;
        return KG_NOTHING;
    }
    f = keygate_der(der, n, &key);
    free(der);
    if (f == KG_KEY)
        keygate_push(g, &key, start, end);
    return f;
}

/* ---- lines ---- */

struct keygate_line {
    size_t start, end;     /* the line, without its line break */
    size_t cs, ce;         /* its content: no '>' quoting, blanks, CR */
    bool b64;              /* the content is base64 only */
};

static void
keygate_line_at(const struct keygate *g, size_t pos, struct keygate_line *l)
{
    const char *nl = memchr(g->text + pos, '\n', g->len - pos);

    l->start = pos;
    l->end = nl ? (size_t)(nl - g->text) : g->len;
    l->cs = l->start;
    while (l->cs < l->end && strchr("> \t", g->text[l->cs]) != NULL)
        l->cs++;
    l->ce = l->end;
    while (l->ce > l->cs && strchr("\r \t", g->text[l->ce - 1]) != NULL)
        l->ce--;
    l->b64 = l->ce - l->cs >= KEYGATE_MIN_LINE;
    for (size_t i = l->cs; i < l->ce && l->b64; i++)
        l->b64 = keygate_is_b64((unsigned char)g->text[i]);
}

/* One run [i, j) of base64 characters and colons inside a line: hex
 * (colons allowed) or, with b64, base64 that starts like DER. */
static void
keygate_run(struct keygate *g, size_t i, size_t j, bool b64)
{
    const char *t = g->text;
    size_t digits = 0, colons = 0;

    for (size_t k = i; k < j; k++) {
        colons += t[k] == ':';
        digits += keygate_is_hex((unsigned char)t[k]);
    }
    if (digits + colons == j - i && digits >= KEYGATE_MIN_HEX)
        (void)keygate_try(g, t + i, t + j, true, i, j);
    else if (b64 && colons == 0 && j - i >= KEYGATE_MIN_B64 && t[i] == 'M'
             && keygate_try(g, t + i, t + j, false, i, j) == KG_NOTHING
             && g->fragments && j - i >= KEYGATE_MIN_FRAGMENT)
        keygate_fragment(g, "base64 data", j - i, i, j);
}

static void
keygate_runs(struct keygate *g, const struct keygate_line *l, bool b64)
{
    const char *t = g->text;
    size_t i = l->cs;

    while (i < l->ce) {
        size_t j = i;

        /* '=' inside a run ("key=MIIE...") separates; at its end it pads. */
        while (j < l->ce && (keygate_is_b64((unsigned char)t[j]) || t[j] == ':')
               && !(t[j] == '=' && j + 1 < l->ce && t[j + 1] != '='
                    && keygate_is_b64((unsigned char)t[j + 1])))
            j++;
        if (j > i)
            keygate_run(g, i, j, b64);
        i = j + 1;
    }
}

/* Lines [first, last] are all base64: wrapped like PEM or MIME? */
static bool
keygate_wrapped(const struct keygate_line *lines, size_t n)
{
    size_t w = lines[0].ce - lines[0].cs;

    if (n < 2 || w < KEYGATE_WRAP_MIN)
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (lines[i].ce - lines[i].cs != w)
            return false;
    return lines[n - 1].ce - lines[n - 1].cs <= w;
}

#define KEYGATE_ARMOUR_PROBE 128

/* A PEM armour line of a private key, however spaced: "-----BEGIN RSA
 * PRIVATE KEY-----", "----- END PRIVATE KEY -----", "KEY-----". */
static bool
keygate_is_key_armour(const struct keygate *g, const struct keygate_line *l)
{
    char buf[KEYGATE_ARMOUR_PROBE + 1];
    size_t n = 0;

    if (l == NULL || memchr(g->text + l->cs, '-', l->ce - l->cs) == NULL)
        return false;
    for (size_t i = l->cs; i < l->ce && n < KEYGATE_ARMOUR_PROBE; i++)
        if (g->text[i] != ' ' && g->text[i] != '\t')
            buf[n++] = (char)(g->text[i] >= 'a' && g->text[i] <= 'z' ? g->text[i] - 32
                                                                      : g->text[i]);
    buf[n] = '\0';
    return strstr(buf, "--") != NULL
           && (strstr(buf, "PRIVATEKEY") != NULL || strncmp(buf, "KEY--", 5) == 0);
}

/* One block of base64 lines. Decoded from its first line, then from each
 * later line that starts like DER ('M'), so a text line glued on top does
 * not hide the key. Next to a private-key armour line, whatever does not
 * decode to something public is removed, however short (the tail of a key
 * split across two MIME parts). */
static void
keygate_block(struct keygate *g, const struct keygate_line *lines, size_t n, bool armoured)
{
    size_t chars = 0, tries = 0;
    enum keygate_found f = KG_NOTHING;

    for (size_t i = 0; i < n; i++)
        chars += lines[i].ce - lines[i].cs;
    if (chars < KEYGATE_MIN_B64) {
        if (armoured && g->fragments)
            keygate_fragment(g, "part of a private key", chars, lines[0].cs, lines[n - 1].ce);
        for (size_t i = 0; i < n; i++)
            keygate_runs(g, &lines[i], false);
        return;
    }
    for (size_t i = 0; i < n && f != KG_KEY && tries < KEYGATE_LINE_RETRIES; i++) {
        enum keygate_found one;

        if (i > 0 && g->text[lines[i].cs] != 'M')
            continue;
        tries++;
        one = keygate_try(g, g->text + lines[i].cs, g->text + lines[n - 1].ce, false,
                          lines[i].cs, lines[n - 1].ce);
        f = one > f ? one : f;
    }
    if (f == KG_NOTHING && g->fragments
        && (armoured || (chars >= KEYGATE_MIN_FRAGMENT
                         && (keygate_wrapped(lines, n) || g->text[lines[0].cs] == 'M'))))
        keygate_fragment(g, armoured ? "part of a private key" : "base64 data", chars,
                         lines[0].cs, lines[n - 1].ce);
    for (size_t i = 0; i < n && f != KG_KEY; i++)   /* "key=MIIE...", hex lines; */
        keygate_runs(g, &lines[i], f == KG_NOTHING); /* after a public find, hex only */
}

/* ---- JWK ---- */

static const char *const keygate_jwk_private[] = { "d", "p", "q", "dp", "dq", "qi", "k" };

/* The value of "name": "...": [*vs, *ve), or false. */
static bool
keygate_jwk_value(const char *t, size_t len, size_t at, size_t *vs, size_t *ve)
{
    size_t i = at;

    while (i < len && strchr(" \t\r\n", t[i]))
        i++;
    if (i >= len || t[i++] != ':')
        return false;
    while (i < len && strchr(" \t\r\n", t[i]))
        i++;
    if (i >= len || t[i++] != '"')
        return false;
    *vs = i;
    while (i < len && keygate_b64_value((unsigned char)t[i]) >= 0)
        i++;
    *ve = i;
    return i < len && t[i] == '"' && *ve - *vs >= KEYGATE_MIN_JWK;
}

static const char *
keygate_find(const char *hay, size_t n, const char *needle, size_t k)
{
    for (const char *p = hay; k > 0 && n >= k && p <= hay + (n - k); p++) {
        if ((p = memchr(p, needle[0], (size_t)(hay + (n - k) - p) + 1)) == NULL)
            return NULL;
        if (memcmp(p, needle, k) == 0)
            return p;
    }
    return NULL;
}

static void
keygate_jwk(struct keygate *g)
{
    char pat[8];

    if (keygate_find(g->text, g->len, "\"kty\"", 5) == NULL)
        return;
    for (size_t k = 0; k < sizeof(keygate_jwk_private) / sizeof(keygate_jwk_private[0]); k++) {
        size_t plen = (size_t)snprintf(pat, sizeof(pat), "\"%s\"", keygate_jwk_private[k]);
        const char *p = g->text, *end = g->text + g->len;

        while ((p = keygate_find(p, (size_t)(end - p), pat, plen)) != NULL) {
            size_t vs, ve;
            struct evidence_item it;

            p += plen;
            if (!keygate_jwk_value(g->text, g->len, (size_t)(p - g->text), &vs, &ve))
                continue;
            memset(&it, 0, sizeof(it));
            it.kind = EVIDENCE_KEY;
            snprintf(it.key_type, sizeof(it.key_type), "JWK");
            snprintf(it.reason, sizeof(it.reason),
                     "private key as a JWK (its \"%s\" member)", keygate_jwk_private[k]);
            keygate_push(g, &it, vs, ve);
        }
    }
}

/* ---- uuencode ---- */

static bool
keygate_uu_begin(const char *t, const struct keygate_line *l)
{
    size_t i = l->cs + 6, digits = 0;

    if (l->ce - l->cs < 8 || memcmp(t + l->cs, "begin ", 6) != 0)
        return false;
    while (i < l->ce && t[i] >= '0' && t[i] <= '7' && digits < 5)
        i++, digits++;
    return digits >= 3 && i < l->ce && t[i] == ' ';
}

/* Decode the uuencoded lines (start, end) into a malloc'd buffer. */
static unsigned char *
keygate_uu_decode(const char *t, size_t start, size_t end, size_t *n)
{
    unsigned char *out = malloc((end - start) + 1);
    size_t m = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = start; i < end;) {
        const char *nl = memchr(t + i, '\n', end - i);
        size_t le = nl ? (size_t)(nl - t) : end;
        size_t want = le > i ? (size_t)((t[i] - 32) & 63) : 0, got = 0;

        for (size_t j = i + 1; j + 3 < le + 1 && got < want; j += 4) {
            unsigned c[4];

            for (int k = 0; k < 4; k++)
                c[k] = j + (size_t)k < le ? (unsigned)(t[j + k] - 32) & 63 : 0;
            unsigned char b[3] = { (unsigned char)(c[0] << 2 | c[1] >> 4),
                                   (unsigned char)(c[1] << 4 | c[2] >> 2),
                                   (unsigned char)(c[2] << 6 | c[3]) };
            for (int k = 0; k < 3 && got < want; k++, got++)
                out[m++] = b[k];
        }
        i = le + 1;
    }
    *n = m;
    return out;
}

/* A uuencoded block from line begin on, to its "end" line (or the end of
 * the text); returns the end of the block. */
static size_t
keygate_uu(struct keygate *g, const struct keygate_line *begin)
{
    struct keygate_line l;
    size_t pos = begin->end + 1, body = pos, stop, nlines = 0, n = 0;
    struct evidence_item key;
    unsigned char *der;

    if (pos > g->len)
        pos = g->len;
    stop = g->len;
    while (pos < g->len && nlines++ < KEYGATE_UU_MAX_LINES) {
        keygate_line_at(g, pos, &l);
        if (l.ce - l.cs == 3 && memcmp(g->text + l.cs, "end", 3) == 0) {
            stop = l.end;
            break;
        }
        pos = l.end + 1;
    }
    if (pos > g->len)
        pos = g->len;
    if ((der = keygate_uu_decode(g->text, body, pos, &n)) == NULL) {
        g->ok = false;
        return stop;
    }
    switch (keygate_der(der, n, &key)) {
    case KG_KEY: keygate_push(g, &key, begin->start, stop); break;
    case KG_PUBLIC: break;
    case KG_NOTHING:
        if (g->fragments)
            keygate_fragment(g, "uuencoded data", stop - begin->start, begin->start, stop);
        break;
    }
    free(der);
    return stop;
}

/* ---- the scan ---- */

#define KEYGATE_BLOCK_LINES 4096    /* base64 lines evaluated as one block */

bool
keygate_scan(const char *text, size_t len, bool fragments, struct evidence_list *out)
{
    struct keygate g = { text, len > EVIDENCE_MAX_SCAN ? EVIDENCE_MAX_SCAN : len,
                         fragments, out, true };
    struct keygate_line *block = malloc(KEYGATE_BLOCK_LINES * sizeof(*block)), l, prev;
    size_t nb = 0, pos = 0;
    bool has_prev = false;

    if (block == NULL)
        return false;
    while (pos < g.len && g.ok) {
        keygate_line_at(&g, pos, &l);
        pos = l.end + 1;
        if (l.b64 && nb < KEYGATE_BLOCK_LINES) {
            block[nb++] = l;
            continue;
        }
        if (nb > 0)
            keygate_block(&g, block, nb, (has_prev && keygate_is_key_armour(&g, &prev))
                                         || (!l.b64 && keygate_is_key_armour(&g, &l)));
        nb = 0;
        prev = l;
        has_prev = !l.b64;
        if (l.b64) {
            block[nb++] = l;
        } else if (keygate_uu_begin(text, &l)) {
            pos = keygate_uu(&g, &l) + 1;
        } else {
            keygate_runs(&g, &l, true);
        }
    }
    if (nb > 0 && g.ok)
        keygate_block(&g, block, nb, has_prev && keygate_is_key_armour(&g, &prev));
    free(block);
    if (g.ok)
        keygate_jwk(&g);
    if (len > g.len && out->cut_at > g.len)
        out->cut_at = g.len;     /* beyond the bound: not stored raw */
    return g.ok;
}

bool
keygate_holds_key(const char *text, size_t len, bool fragments)
{
    struct evidence_list ev;
    bool found = false;

    evidence_list_init(&ev);
    if (!evidence_scan_text(text, len, &ev) || !keygate_scan(text, len, fragments, &ev))
        found = true;   /* out of memory: cannot tell, so store nothing */
    for (size_t i = 0; i < ev.n && !found; i++)
        found = evidence_is_redacted(&ev.items[i]);
    found = found || ev.cut_at < len;
    evidence_list_free(&ev);
    return found;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   address - normalising and matching mail addresses
 * SUMMARY
 *   char *n = address_normalise(" <CPR+Key@CA.Example> ");  -> "cpr@ca.example"
 *   address_match("<@relay:\"c\\pr\"@ca.example.>", cpr_list, "+", &why)
 * DESCRIPTION
 *   Owns the one rule for "is this a CPR address", read the way an MTA
 *   resolves an RFC 5321 path: blanks and one pair of angle brackets are
 *   dropped, then a source route ("@a,@b:"); the local part may be a
 *   dot-atom, a quoted string with quoted-pairs, or a mix of both (the
 *   obsolete RFC 822 form Postfix also reads), with backslash escapes and
 *   (comments) removed; the domain starts at the last '@' outside quotes,
 *   loses one trailing dot, and may be an address literal. The whole
 *   address is lowercased (ASCII only; other bytes are kept as they are),
 *   and the detail from the first recipient delimiter of the local part on
 *   is removed. The canonical form quotes the local part only when it is
 *   not a dot-atom.
 *   address_match also follows Postfix's percent hack and bang path, and
 *   errs towards recording: what it cannot read is ADDRESS_UNSURE when it
 *   names a listed domain or a listed local part.
 * DIAGNOSTICS
 *   address_canonical returns NULL for input that is empty, longer than
 *   ADDRESS_MAX once canonical, has unbalanced brackets, quotes or
 *   comments, no '@', an empty local part or domain, an unquoted blank,
 *   or an embedded CR, LF or angle bracket.
 */
#include "address.h"

#include <stdlib.h>
#include <string.h>

/* Raw input longer than this is not parsed (it is still looked at by the
 * loose check): quoting can double a local part, a route adds more. */
#define ADDRESS_RAW_MAX (4 * ADDRESS_MAX)
/* Nesting of (comments) accepted in an address. */
#define ADDRESS_MAX_COMMENT_DEPTH 8

struct address_parts {
    char local[ADDRESS_RAW_MAX + 1];    /* unquoted, unescaped, lowercased */
    size_t llen;
    char domain[ADDRESS_RAW_MAX + 1];   /* lowercased, trailing dot dropped */
    size_t dlen;
};

static int
address_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char
address_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Narrow [*start, *end) to the address proper; false if brackets are odd. */
static bool
address_trim(const char **start, const char **end)
{
    const char *s = *start, *e = *end;

    while (s < e && address_is_blank(*s))
        s++;
    while (e > s && address_is_blank(e[-1]))
        e--;
    if (s < e && *s == '<') {
        if (e - s < 2 || e[-1] != '>')
            return false;
        s++;
        e--;
    } else if (s < e && e[-1] == '>') {
        return false;
    }
    *start = s;
    *end = e;
    return true;
}

static bool
address_chars_ok(const char *s, const char *e)
{
    for (; s < e; s++)
        if (*s == '\r' || *s == '\n' || *s == '<' || *s == '>')
            return false;
    return true;
}

/* Skip an RFC 5321 source route ("@a,@b:"), which the MTA ignores. */
static bool
address_skip_route(const char **s, const char *e)
{
    const char *colon;

    if (*s == e || **s != '@')
        return true;
    if ((colon = memchr(*s, ':', (size_t)(e - *s))) == NULL)
        return false;
    for (const char *p = *s; p < colon; p++)
        if (*p == '"' || *p == '\\' || address_is_blank(*p))
            return false;
    *s = colon + 1;
    return true;
}

/* The lexical state of one position: inside quotes, inside how many
 * comments. Returns the number of bytes consumed (2 for a quoted-pair), or
 * 0 when the input is malformed. *out is the byte the position stands for,
 * or -1 for syntax (quotes, comment text). */
struct address_lex {
    bool quoted;
    int depth;
};

static size_t
address_lex_step(struct address_lex *lx, const char *p, const char *e, int *out)
{
    char c = *p;

    *out = -1;
    if (c == '\\') {
        if (p + 1 == e)
            return 0;
        if (lx->depth == 0)
            *out = (unsigned char)p[1];
        return 2;
    }
    if (lx->quoted) {
        if (c == '"')
            lx->quoted = false;
        else
            *out = (unsigned char)c;
        return 1;
    }
    if (c == '(') {
        return ++lx->depth > ADDRESS_MAX_COMMENT_DEPTH ? 0 : 1;
    }
    if (lx->depth > 0) {
        lx->depth -= c == ')';
        return 1;
    }
    if (c == ')' || address_is_blank(c))
        return 0;
    if (c == '"')
        lx->quoted = true;
    else
        *out = (unsigned char)c;
    return 1;
}

/* The '@' that starts the domain: the last one outside quotes, comments
 * and escapes. NULL when there is none or the input is malformed. */
static const char *
address_find_at(const char *s, const char *e)
{
    struct address_lex lx = { false, 0 };
    const char *at = NULL;
    size_t n;
    int c;

    for (const char *p = s; p < e; p += n) {
        if ((n = address_lex_step(&lx, p, e, &c)) == 0)
            return NULL;
        if (c == '@' && n == 1 && !lx.quoted && lx.depth == 0 && *p == '@')
            at = p;
    }
    return (lx.quoted || lx.depth > 0) ? NULL : at;
}

/* The local part [s, at), unquoted and unescaped, lowercased. */
static bool
address_read_local(const char *s, const char *at, struct address_parts *pa)
{
    struct address_lex lx = { false, 0 };
    size_t n;
    int c;

    pa->llen = 0;
    for (const char *p = s; p < at; p += n) {
        if ((n = address_lex_step(&lx, p, at, &c)) == 0)
            return false;
        if (c >= 0)
            pa->local[pa->llen++] = address_lower((char)c);
    }
    pa->local[pa->llen] = '\0';
    return pa->llen > 0;
}

/* The domain (at, e): no quoting allowed, comments dropped. */
static bool
address_read_domain(const char *at, const char *e, struct address_parts *pa)
{
    struct address_lex lx = { false, 0 };
    size_t n;
    int c;

    pa->dlen = 0;
    for (const char *p = at + 1; p < e; p += n) {
        if (*p == '"' || *p == '\\' || (n = address_lex_step(&lx, p, e, &c)) == 0)
            return false;
        if (c >= 0)
            pa->domain[pa->dlen++] = address_lower((char)c);
    }
    if (pa->dlen > 1 && pa->domain[pa->dlen - 1] == '.')
        pa->dlen--;
    pa->domain[pa->dlen] = '\0';
    return pa->dlen > 0 && pa->domain[pa->dlen - 1] != '.' && lx.depth == 0;
}

/* Parse addr into its unquoted local part and domain. */
static bool
address_read(const char *addr, struct address_parts *pa)
{
    const char *s, *e, *at;

    if (addr == NULL)
        return false;
    s = addr;
    e = addr + strlen(addr);
    if (!address_trim(&s, &e) || s == e || (size_t)(e - s) > ADDRESS_RAW_MAX
        || !address_chars_ok(s, e) || !address_skip_route(&s, e))
        return false;
    if ((at = address_find_at(s, e)) == NULL)
        return false;
    return address_read_local(s, at, pa) && address_read_domain(at, e, pa);
}

/* RFC 5322 atext, plus 8-bit bytes (RFC 6531). */
static bool
address_is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
address_is_dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.' ? s[i + 1] == '.' : !address_is_atext((unsigned char)s[i]))
            return false;
    return true;
}

/* "local@domain", the local part quoted only when it must be; NULL when
 * empty or over ADDRESS_MAX. */
static char *
address_format(const char *local, size_t llen, const char *domain)
{
    size_t dlen = strlen(domain), n = 0;
    bool quote = !address_is_dot_atom(local, llen);
    char *out;

    if (llen == 0 || dlen == 0 || (out = malloc(2 * llen + dlen + 4)) == NULL)
        return NULL;
    if (quote)
        out[n++] = '"';
    for (size_t i = 0; i < llen; i++) {
        if (quote && (local[i] == '"' || local[i] == '\\'))
            out[n++] = '\\';
        out[n++] = local[i];
    }
    if (quote)
        out[n++] = '"';
    out[n++] = '@';
    memcpy(out + n, domain, dlen + 1);
    if (n + dlen > ADDRESS_MAX) {
        free(out);
        return NULL;
    }
    return out;
}

/* Length of the local part without its detail (delims: NULL or "" none). */
static size_t
address_detail_cut(const char *local, size_t llen, const char *delims)
{
    if (delims == NULL || *delims == '\0')
        return llen;
    for (size_t i = 0; i < llen; i++)
        if (strchr(delims, local[i]) != NULL)
            return i;
    return llen;
}

static char *
address_canonical(const char *addr, const char *delims)
{
    struct address_parts *pa = malloc(sizeof(*pa));
    char *out = NULL;

    if (pa != NULL && address_read(addr, pa))
        out = address_format(pa->local, address_detail_cut(pa->local, pa->llen, delims),
                             pa->domain);
    free(pa);
    return out;
}

char *
address_normalise(const char *addr)
{
    return address_canonical(addr, ADDRESS_DEFAULT_DELIMITERS);
}

static bool
address_listed(const char *local, size_t llen, const char *domain, char *const *list)
{
    char *a = address_format(local, llen, domain);
    bool found = false;

    for (char *const *l = list; a != NULL && *l != NULL && !found; l++)
        found = strcmp(a, *l) == 0;
    free(a);
    return found;
}

/* The local part with and without its detail. */
static bool
address_listed_either(const char *local, size_t llen, const char *domain,
                      char *const *list, const char *delims)
{
    size_t cut = address_detail_cut(local, llen, delims);

    return address_listed(local, llen, domain, list)
           || (cut > 0 && cut < llen && address_listed(local, cut, domain, list));
}

/* Postfix's routing in the local part: "user%dom@relay" and "dom!user@relay". */
static bool
address_listed_routed(const struct address_parts *pa, char *const *list,
                      const char *delims)
{
    const char *pct = memchr(pa->local, '%', pa->llen);
    const char *bang = memchr(pa->local, '!', pa->llen);
    char dom[ADDRESS_RAW_MAX + 1];

    if (pct != NULL) {
        const char *last = strrchr(pa->local, '%');

        if (address_listed_either(pa->local, (size_t)(last - pa->local), last + 1, list,
                                  delims))
            return true;
    }
    if (bang != NULL) {
        size_t dl = (size_t)(bang - pa->local);

        memcpy(dom, pa->local, dl);
        dom[dl] = '\0';
        if (address_listed_either(bang + 1, pa->llen - dl - 1, dom, list, delims))
            return true;
    }
    return false;
}

/* Does the lowercased text name "@domain" of an entry as a whole domain? */
static bool
address_names_domain(const char *text, const char *domain)
{
    size_t dlen = strlen(domain);

    for (const char *p = strchr(text, '@'); p != NULL; p = strchr(p + 1, '@')) {
        const char *q = p + 1;

        while (*q == '(' || *q == '"' || address_is_blank(*q))
            q++;
        if (strncmp(q, domain, dlen) != 0)
            continue;
        q += dlen;
        q += *q == '.';   /* one trailing dot, or more junk after it */
        if (*q == '.' || strchr(">)\" \t", *q) != NULL)
            return true;
    }
    return false;
}

/* The text with syntax removed: what is left of a bare local part. */
static void
address_bare(const char *text, char *out, size_t len)
{
    size_t n = 0;

    for (; *text && n + 1 < len; text++)
        if (strchr("<>\"\\ \t", *text) == NULL)
            out[n++] = *text;
    out[n] = '\0';
}

/* An address we could not read: unsure if it names a listed domain, or is
 * a bare listed local part the MTA may qualify with a listed domain. */
static enum address_verdict
address_loose(const char *addr, char *const *list, const char **why)
{
    size_t len = strnlen(addr, ADDRESS_RAW_MAX + 1);
    char *low = malloc(len + 1), bare[ADDRESS_MAX + 2];
    enum address_verdict v = ADDRESS_NO;

    if (low == NULL)
        return ADDRESS_UNSURE;   /* cannot tell: record */
    for (size_t i = 0; i < len; i++)
        low[i] = address_lower(addr[i]);
    low[len] = '\0';
    address_bare(low, bare, sizeof(bare));
    for (char *const *l = list; *l != NULL && v == ADDRESS_NO; l++) {
        const char *at = strrchr(*l, '@');

        if (at == NULL)
            continue;
        if (address_names_domain(low, at + 1)) {
            v = ADDRESS_UNSURE;
            *why = "an address that cannot be read names a CPR domain";
        } else if (strchr(low, '@') == NULL && strlen(bare) == (size_t)(at - *l)
                   && strncmp(bare, *l, (size_t)(at - *l)) == 0) {
            v = ADDRESS_UNSURE;
            *why = "a CPR local part with no domain";
        }
    }
    free(low);
    return v;
}

/* A listed local part at an address literal may be delivered to it. */
static bool
address_literal_local(const struct address_parts *pa, char *const *list)
{
    if (pa->domain[0] != '[')
        return false;
    for (char *const *l = list; *l != NULL; l++) {
        const char *at = strrchr(*l, '@');
        char *a = address_format(pa->local, pa->llen, "x");

        bool same = a != NULL && at != NULL && strlen(a) - 2 == (size_t)(at - *l)
                    && strncmp(a, *l, (size_t)(at - *l)) == 0;
        free(a);
        if (same)
            return true;
    }
    return false;
}

enum address_verdict
address_match(const char *addr, char *const *list, const char *delims, const char **why)
{
    struct address_parts *pa;
    enum address_verdict v = ADDRESS_NO;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (addr == NULL || list == NULL)
        return ADDRESS_NO;
    if ((pa = malloc(sizeof(*pa))) == NULL) {
        *why = "out of memory";
        return ADDRESS_UNSURE;
    }
    if (!address_read(addr, pa)) {
        v = address_loose(addr, list, why);
    } else if (address_listed_either(pa->local, pa->llen, pa->domain, list, delims)
               || address_listed_routed(pa, list, delims)) {
        v = ADDRESS_MATCH;
    } else if (address_literal_local(pa, list)) {
        v = ADDRESS_UNSURE;
        *why = "a CPR local part at an address literal";
    }
    free(pa);
    return v;
}

bool
address_in_list(const char *addr, char *const *list)
{
    return address_match(addr, list, ADDRESS_DEFAULT_DELIMITERS, NULL) == ADDRESS_MATCH;
}

/*
 * NAME
 *   address - normalising and matching mail addresses
 * SUMMARY
 *   char *n = address_normalise(" <CPR+Key@CA.Example> ");  -> "cpr@ca.example"
 * DESCRIPTION
 *   Owns the one rule for "is this a CPR address": blanks and one pair of
 *   angle brackets are dropped, the whole address is lowercased (ASCII only;
 *   other bytes are kept as they are) and a +detail between the first '+'
 *   of the local part and the last '@' is removed. The domain starts after
 *   the last '@', so a quoted local part may itself contain '@'.
 * DIAGNOSTICS
 *   address_normalise returns NULL for input that is empty, longer than
 *   ADDRESS_MAX, has unbalanced brackets, no '@', an empty local part or
 *   domain, or an embedded CR, LF, blank or angle bracket.
 */
#include "address.h"

#include <stdlib.h>
#include <string.h>

static int
address_is_blank(char c)
{
    return c == ' ' || c == '\t';
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
        if (*s == '\r' || *s == '\n' || address_is_blank(*s)
            || *s == '<' || *s == '>')
            return false;
    return true;
}

/* Copy local part (without +detail), '@' and domain, lowercased. */
static char *
address_build(const char *s, const char *at, const char *e)
{
    const char *plus = memchr(s, '+', (size_t) (at - s));
    const char *lend = plus ? plus : at;
    size_t llen = (size_t) (lend - s), dlen = (size_t) (e - at);
    char *out, *p;

    if (llen == 0 || dlen < 2)
        return NULL;
    if ((out = malloc(llen + dlen + 1)) == NULL)
        return NULL;
    memcpy(out, s, llen);
    memcpy(out + llen, at, dlen);
    out[llen + dlen] = '\0';
    for (p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char) (*p - 'A' + 'a');
    return out;
}

char *
address_normalise(const char *addr)
{
    const char *s, *e, *at;

    if (addr == NULL)
        return NULL;
    s = addr;
    e = addr + strlen(addr);
    if (!address_trim(&s, &e) || s == e || (size_t) (e - s) > ADDRESS_MAX)
        return NULL;
    if (!address_chars_ok(s, e))
        return NULL;
    for (at = e - 1; at >= s && *at != '@'; at--)
        ;
    if (at < s)
        return NULL;
    return address_build(s, at, e);
}

bool
address_in_list(const char *addr, char *const *list)
{
    char *norm;
    bool found = false;

    if (list == NULL || (norm = address_normalise(addr)) == NULL)
        return false;
    for (; *list != NULL && !found; list++)
        found = strcmp(norm, *list) == 0;
    free(norm);
    return found;
}

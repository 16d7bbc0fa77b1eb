/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   tracking - CPR-YYYY-NNNNNN tracking numbers
 * SUMMARY
 *   tracking_format(buf, sizeof(buf), 2026, 42);   -> "CPR-2026-000042"
 * DESCRIPTION
 *   Owns the spelling of a tracking number: "CPR-", a four-digit year
 *   (1000..9999), '-', and a sequence >= 1 of TRACKING_SEQ_MIN_DIGITS to
 *   TRACKING_SEQ_MAX_DIGITS digits, zero-padded to six. Parsing accepts only
 *   the canonical spelling that tracking_format produces, so one number has
 *   one string: "CPR-2026-0000042" (a needless leading zero) is rejected.
 *   tracking_find looks for that spelling in free text, not glued to other
 *   letters or digits. All character tests are ASCII, never locale-bound.
 * DIAGNOSTICS
 *   All functions return false / NULL on malformed input or a short buffer.
 */
#include "tracking.h"

#include <stdio.h>
#include <string.h>

#define TRACKING_PREFIX "CPR-"
#define TRACKING_PREFIX_LEN 4
#define TRACKING_YEAR_DIGITS 4
#define TRACKING_YEAR_MIN 1000
#define TRACKING_YEAR_MAX 9999
#define TRACKING_SEQ_MIN_DIGITS 6
#define TRACKING_SEQ_MAX_DIGITS 18
#define TRACKING_SEQ_MAX 999999999999999999LL   /* 18 nines */

static bool
tracking_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
tracking_is_alnum(char c)
{
    return tracking_is_digit(c) || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z');
}

static size_t
tracking_digits(const char *s)
{
    size_t n = 0;

    while (tracking_is_digit(s[n]))
        n++;
    return n;
}

static long long
tracking_number(const char *s, size_t n)
{
    long long v = 0;

    while (n-- > 0)
        v = v * 10 + (*s++ - '0');
    return v;
}

bool
tracking_format(char *buf, size_t len, int year, long long seq)
{
    int n;

    if (buf == NULL || year < TRACKING_YEAR_MIN || year > TRACKING_YEAR_MAX
        || seq < 1 || seq > TRACKING_SEQ_MAX)
        return false;
    n = snprintf(buf, len, TRACKING_PREFIX "%04d-%06lld", year, seq);
    return n > 0 && (size_t) n < len;
}

/* Length of the canonical tracking number at s, or 0 if there is none. */
static size_t
tracking_span(const char *s, int *year, long long *seq)
{
    const char *y = s + TRACKING_PREFIX_LEN, *q;
    size_t nd;

    if (strncmp(s, TRACKING_PREFIX, TRACKING_PREFIX_LEN) != 0
        || tracking_digits(y) != TRACKING_YEAR_DIGITS || *y == '0'
        || y[TRACKING_YEAR_DIGITS] != '-')
        return 0;
    q = y + TRACKING_YEAR_DIGITS + 1;
    nd = tracking_digits(q);
    if (nd < TRACKING_SEQ_MIN_DIGITS || nd > TRACKING_SEQ_MAX_DIGITS
        || (nd > TRACKING_SEQ_MIN_DIGITS && *q == '0'))
        return 0;
    if ((*seq = tracking_number(q, nd)) < 1)
        return 0;
    *year = (int) tracking_number(y, TRACKING_YEAR_DIGITS);
    return (size_t) (q + nd - s);
}

bool
tracking_parse(const char *s, int *year, long long *seq)
{
    int y;
    long long q;
    size_t n;

    if (s == NULL || (n = tracking_span(s, &y, &q)) == 0 || s[n] != '\0')
        return false;
    if (year)
        *year = y;
    if (seq)
        *seq = q;
    return true;
}

const char *
tracking_find(const char *text, char *out, size_t outlen)
{
    const char *p;
    int y;
    long long q;
    size_t n;

    if (text == NULL)
        return NULL;
    for (p = strstr(text, TRACKING_PREFIX); p; p = strstr(p + 1, TRACKING_PREFIX)) {
        if (p > text && tracking_is_alnum(p[-1]))
            continue;
        if ((n = tracking_span(p, &y, &q)) == 0 || tracking_is_alnum(p[n]))
            continue;
        if (out != NULL) {
            if (n >= outlen)
                return NULL;
            memcpy(out, p, n);
            out[n] = '\0';
        }
        return p;
    }
    return NULL;
}

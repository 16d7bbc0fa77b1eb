/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revpublish - is one certificate's revocation published; what a late
 *   claim's page says
 * DESCRIPTION
 *   See revpublish.h. No I/O, no clock.
 * DIAGNOSTICS
 *   None.
 */
#include "revpublish.h"

#include <stdio.h>
#include <string.h>

bool
revpublish_published(const struct revstatus *ocsp, const struct revstatus *crl)
{
    if (!ocsp && !crl)
        return false;   /* no mechanism: revocation cannot be proven */
    if (ocsp && ocsp->state != REVSTATUS_REVOKED)
        return false;
    return !crl || crl->state == REVSTATUS_REVOKED;
}

static bool
serial_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n > 0 && n <= 80 && strspn(s, "0123456789abcdefABCDEF:") == n;
}

/* Appends text to buf at *used, never past len. */
static void
put(char *buf, size_t len, size_t *used, const char *text)
{
    size_t k = strlen(text);

    if (*used + 1 >= len)
        return;
    if (k > len - *used - 1)
        k = len - *used - 1;
    memcpy(buf + *used, text, k);
    *used += k;
    buf[*used] = '\0';
}

/* "OCSP says good for 2 of 3 certificates (1001, 1002)": the rows whose
 * mechanism is there and not revoked, by state. False if none. */
static bool
mech_part(const char *label, bool ocsp, const struct revpublish_row *rows, size_t n,
          const char *state, char *buf, size_t len, size_t *used)
{
    size_t bad = 0, listed = 0;
    char num[96];

    for (size_t i = 0; i < n; i++)
        bad += strcmp(ocsp ? rows[i].ocsp : rows[i].crl, state) == 0;
    if (bad == 0)
        return false;
    if (*used && buf[*used - 1] != ' ')
        put(buf, len, used, "; ");
    snprintf(num, sizeof(num), " for %zu of %zu certificates (", bad, n);
    put(buf, len, used, label);
    put(buf, len, used, " says ");
    put(buf, len, used, state);
    put(buf, len, used, num);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ocsp ? rows[i].ocsp : rows[i].crl, state) != 0)
            continue;
        if (listed == REVPUBLISH_SERIALS_MAX) {
            snprintf(num, sizeof(num), ", %zu more", bad - listed);
            put(buf, len, used, num);
            break;
        }
        if (listed)
            put(buf, len, used, ", ");
        put(buf, len, used, serial_ok(rows[i].serial) ? rows[i].serial : "?");
        listed++;
    }
    put(buf, len, used, ")");
    return true;
}

static bool
states_at(const struct revpublish_row *rows, size_t n, char *buf, size_t len, size_t *used)
{
    static const char *const states[] = { "good", "unknown", "unchecked" };
    bool any = false;

    for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
        any |= mech_part("OCSP", true, rows, n, states[s], buf, len, used);
        any |= mech_part("the CRL", false, rows, n, states[s], buf, len, used);
    }
    return any;
}

void
revpublish_states(const struct revpublish_row *rows, size_t n, char *buf, size_t len)
{
    size_t used = strnlen(buf, len);

    if (used < len)
        states_at(rows, n, buf, len, &used);
}

void
revpublish_claim_summary(const char *tracking, const char *claimed_at,
                         const struct revpublish_row *rows, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    bool any;

    if (len == 0)
        return;
    buf[0] = '\0';
    put(buf, len, &used, tracking);
    put(buf, len, &used, ": claimed revoked at ");
    put(buf, len, &used, claimed_at);
    put(buf, len, &used, ", but ");
    any = states_at(rows, n, buf, len, &used);
    if (!any) {
        char num[96];

        snprintf(num, sizeof(num), "publication is not yet recorded for %zu certificates", n);
        put(buf, len, &used, num);
    }
}

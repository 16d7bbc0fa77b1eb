/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   ackpage - the HTML pages of cpr-web's acknowledge links
 * SUMMARY
 *   GString *out = g_string_new(NULL);
 *   ackpage_case(out, &c, &clocks, form_nonce);   ackpage_message(out, title, text, NULL);
 * DESCRIPTION
 *   Pure: every value comes in, with the database's now; every value that
 *   goes out is HTML-escaped (html_escape), the Subject first of all,
 *   which the reporter wrote. No script, no style sheet, no image: the
 *   pages pass a Content-Security-Policy of default-src 'none'. The button
 *   is a form POST to the page's own URL carrying the form nonce; a GET
 *   never acknowledges.
 * DIAGNOSTICS
 *   None: missing values show as "-".
 */
#ifndef CPR_ACKPAGE_H
#define CPR_ACKPAGE_H

#include <stdbool.h>

#include <glib.h>

/* What the page shows of a case (strings may be NULL). */
struct ackpage_case {
    const char *tracking, *category, *state, *subject;
    const char *received_at, *ack_clock_from, *acked_at, *acked_by;
    const char *reporter_done_at, *subscriber_done_at, *revocation_due_at, *revoked_at;
    long long received_ms, ack_clock_from_ms, now_ms;   /* 0: not known */
    const char *clock;        /* the clock the page was about (the token's) */
};

/* The configured clocks, for the due times ([deadlines]). */
struct ackpage_clocks {
    long long acknowledge_ms, report_ms;
};

/* &, <, >, " and ' as entities; control characters (but tab) and
 * invalid UTF-8 as U+FFFD; NULL as "-". */
void html_escape(GString *out, const char *s);

/* "5m", "23h25m", "2d3h": a duration of ms >= 0, for humans. */
void ackpage_duration(GString *out, long long ms);

/* The case and, if it can still be acknowledged, the button. */
void ackpage_case(GString *out, const struct ackpage_case *c, const struct ackpage_clocks *k,
                  const char *form_nonce);

/* A page with a title and a line of text; tracking, if not NULL, named. */
void ackpage_message(GString *out, const char *title, const char *text, const char *tracking);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   ackpage - the HTML pages of cpr-web's acknowledge links
 * SUMMARY
 *   ackpage_case(out, &c, &clocks, form_nonce);
 * DESCRIPTION
 *   See ackpage.h. Owns the markup; cpr-web owns HTTP, the database and
 *   the decision which page to show.
 * DIAGNOSTICS
 *   None.
 */
#include "ackpage.h"

#include <string.h>

#define MS_MIN  60000LL
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY  (24 * MS_HOUR)

void
html_escape(GString *out, const char *s)
{
    char *valid = s != NULL && !g_utf8_validate(s, -1, NULL) ? g_utf8_make_valid(s, -1) : NULL;
    const unsigned char *p = (const unsigned char *) (valid != NULL ? valid : s != NULL ? s : "-");

    for (; *p != '\0'; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&#39;"); break;
        default:
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                g_string_append(out, "\xef\xbf\xbd");
            else
                g_string_append_c(out, (char) *p);
        }
    }
    g_free(valid);
}

void
ackpage_duration(GString *out, long long ms)
{
    long long d = ms / MS_DAY, h = ms % MS_DAY / MS_HOUR, m = ms % MS_HOUR / MS_MIN;

    if (ms < MS_MIN)
        g_string_append(out, "<1m");
    else if (d > 0)
        g_string_append_printf(out, "%lldd%lldh", d, h);
    else if (h > 0)
        g_string_append_printf(out, "%lldh%02lldm", h, m);
    else
        g_string_append_printf(out, "%lldm", m);
}

static void
page_head(GString *out, const char *title)
{
    g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"robots\" content=\"noindex, nofollow\"><title>");
    html_escape(out, title);
    g_string_append(out, "</title></head>\n<body>\n<h1>");
    html_escape(out, title);
    g_string_append(out, "</h1>\n");
}

static void
page_tail(GString *out)
{
    g_string_append(out, "</body></html>\n");
}

static void
row(GString *out, const char *name, const char *value)
{
    g_string_append(out, "<tr><th scope=\"row\">");
    html_escape(out, name);
    g_string_append(out, "</th><td>");
    html_escape(out, value);
    g_string_append(out, "</td></tr>\n");
}

/* A clock's row: due time left (or overdue), or when it stopped. */
static void
clock_row(GString *out, const char *name, long long from_ms, long long span_ms,
          const char *stopped, long long now_ms)
{
    long long due = from_ms + span_ms;

    g_string_append(out, "<tr><th scope=\"row\">");
    html_escape(out, name);
    g_string_append(out, "</th><td>");
    if (stopped != NULL) {
        g_string_append(out, "done ");
        html_escape(out, stopped);
    } else if (from_ms <= 0 || now_ms <= 0) {
        g_string_append(out, "-");
    } else if (now_ms >= due) {
        g_string_append(out, "<strong>overdue ");
        ackpage_duration(out, now_ms - due);
        g_string_append(out, "</strong>");
    } else {
        g_string_append(out, "due in ");
        ackpage_duration(out, due - now_ms);
    }
    g_string_append(out, "</td></tr>\n");
}

void
ackpage_case(GString *out, const struct ackpage_case *c, const struct ackpage_clocks *k,
             const char *form_nonce)
{
    bool open = c->acked_at == NULL && c->ack_clock_from != NULL;
    char *title = g_strdup_printf("%s: %s", c->tracking != NULL ? c->tracking : "-",
                                  open ? "acknowledge?"
                                  : c->acked_at != NULL ? "acknowledged"
                                  : "nothing to acknowledge");

    page_head(out, title);
    g_free(title);
    g_string_append(out, "<table>\n");
    row(out, "Tracking", c->tracking);
    row(out, "Category", c->category);
    row(out, "State", c->state);
    row(out, "Subject", c->subject);
    row(out, "Received", c->received_at);
    row(out, "Paged about", c->clock);
    clock_row(out, "Acknowledge", c->ack_clock_from_ms, k->acknowledge_ms, c->acked_at,
              c->now_ms);
    clock_row(out, "Report to reporter", c->received_ms, k->report_ms, c->reporter_done_at,
              c->now_ms);
    clock_row(out, "Report to Subscriber", c->received_ms, k->report_ms,
              c->subscriber_done_at, c->now_ms);
    row(out, "Revocation due", c->revoked_at != NULL ? "revoked" : c->revocation_due_at);
    if (c->acked_at != NULL)
        row(out, "Acknowledged by", c->acked_by);
    g_string_append(out, "</table>\n");
    if (open) {
        g_string_append(out, "<form method=\"post\" action=\"\">"
                             "<input type=\"hidden\" name=\"confirm\" value=\"");
        html_escape(out, form_nonce);
        g_string_append(out, "\"><button type=\"submit\" id=\"ack\">Acknowledge ");
        html_escape(out, c->tracking);
        g_string_append(out, "</button></form>\n<p>Acknowledging stops the escalation. "
                             "It does not stop the report or revocation clocks.</p>\n");
    }
    page_tail(out);
}

void
ackpage_message(GString *out, const char *title, const char *text, const char *tracking)
{
    page_head(out, title);
    g_string_append(out, "<p id=\"message\">");
    html_escape(out, text);
    g_string_append(out, "</p>\n");
    if (tracking != NULL) {
        g_string_append(out, "<p>Case: ");
        html_escape(out, tracking);
        g_string_append(out, ". From a shell: <code>cprctl ack ");
        html_escape(out, tracking);
        g_string_append(out, "</code></p>\n");
    }
    page_tail(out);
}

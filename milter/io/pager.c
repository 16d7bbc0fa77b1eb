/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pager - paging channels: PagerDuty, Opsgenie, Slack, webhook, email
 * SUMMARY
 *   body = pager_payload(&channel, &notice);
 *   r = pager_send(&channel, &notice, &status, &latency_ms, err, sizeof err);
 * DESCRIPTION
 *   Owns the wire format of every channel and one delivery attempt. Each
 *   notice is first cleaned once (struct clean): valid UTF-8, control
 *   characters as spaces, bounded lengths; so nothing reporter-controlled
 *   (the Subject above all) can break a JSON string, a Slack link or an
 *   email header. JSON comes from jansson, the email from GMime (RFC 2047
 *   Subject, 7-bit body encoding, CRLF). Requests go out with libcurl, TLS
 *   verification on, no redirects, http/https (smtp/smtps for email) only.
 * DIAGNOSTICS
 *   pager_payload returns NULL on an unknown event, a missing field the
 *   channel needs, or allocation failure. pager_send writes a one-line
 *   reason to err: the channel name, type and the HTTP/SMTP status or the
 *   libcurl error text. err never holds a routing key, API key, token, URL
 *   or address list: those are secrets or personal data.
 */
#include "pager.h"
#include "compose.h"
#include "log.h"
#include "smtp.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>

#define PAGER_SOURCE          "cpr-sweeper"
#define PAGER_PD_DEDUP_MAX    255    /* PagerDuty dedup_key */
#define PAGER_FIELD_MAX       998    /* any other text field, bytes */
#define PAGER_SECRET_MAX      4096   /* key, token or URL, bytes */
#define PAGER_MAX_RCPT        32     /* email recipients per channel */
#define PAGER_MSGID_ID_MAX    64     /* step id bytes kept in a Message-ID */

/* What each event means on each channel. */
struct pager_event {
    const char *name;
    const char *word;        /* in headlines and the email Subject */
    const char *severity;    /* PagerDuty */
    const char *priority;    /* Opsgenie */
};

static const struct pager_event pager_events[] = {
    { "page",        "page",             "critical", "P1" },
    { "warn",        "deadline warning", "warning",  "P3" },
    { "breach",      "deadline BREACH",  "critical", "P1" },
    { "acknowledge", "acknowledged",     "info",     "P5" },
    { "resolve",     "resolved",         "info",     "P5" },
    { "health",      "health alert",     "critical", "P1" },
};

/* PagerDuty severities and the Opsgenie priorities they map to. */
static const struct { const char *severity, *priority; } pager_priorities[] = {
    { "critical", "P1" }, { "error", "P2" }, { "warning", "P3" }, { "info", "P5" },
};

/* A notice after cleaning: every string valid UTF-8 without controls. */
struct clean {
    const struct pager_event *ev;
    char *id, *dedup, *tracking, *clock, *category, *subject, *summary;
    char *received_at, *deadline;
    char *details, *ack_url, *actor;
    const char *severity, *priority;   /* static strings */
    int tier;
};

static const struct pager_event *
pager_event_find(const char *name)
{
    for (size_t i = 0; i < sizeof(pager_events) / sizeof(pager_events[0]); i++)
        if (strcmp(name ? name : "page", pager_events[i].name) == 0)
            return &pager_events[i];
    return NULL;
}

/* asprintf(3) is a GNU extension; this is the portable equivalent. */
static char *pager_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
pager_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *out;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(out = malloc((size_t) n + 1)))
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static bool
pager_is_resolve(const struct clean *c)
{
    return strcmp(c->ev->name, "resolve") == 0;
}

static bool
pager_is_ack(const struct clean *c)
{
    return strcmp(c->ev->name, "acknowledge") == 0;
}

/* A trigger (page, warn, breach, health), not an ack or a resolve. */
static bool
pager_is_trigger(const struct clean *c)
{
    return !pager_is_resolve(c) && !pager_is_ack(c);
}

/* ---- text cleaning ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c = s[0], min;

    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xc2 && c <= 0xdf) { n = 2; c &= 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; c &= 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* C0, DEL, C1 and the Unicode line/paragraph separators end lines somewhere. */
static bool
utf8_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* Back off from s[max] to a UTF-8 boundary and cut there. */
static void
utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return;
    while (max > 0 && (((unsigned char) s[max]) & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
}

/* A copy of s as valid UTF-8, controls as spaces, invalid bytes as U+FFFD,
 * at most max bytes. NULL stays NULL. */
static char *pager_clean_any(const char *s, size_t max, bool lines);

static char *
pager_clean_text(const char *s, size_t max)
{
    return pager_clean_any(s, max, false);
}

/* The same, keeping line feeds: the details text. */
static char *
pager_clean_lines(const char *s, size_t max)
{
    return pager_clean_any(s, max, true);
}

static char *
pager_clean_any(const char *s, size_t max, bool lines)
{
    const unsigned char *p = (const unsigned char *) s;
    char *out, *o;
    uint32_t cp;
    size_t n;

    if (!s)
        return NULL;
    n = strlen(s) * 3 + 1;
    /* The loop stops once past max; the last write adds at most 4 bytes. */
    if (!(out = o = malloc(n < max + 5 ? n : max + 5)))
        return NULL;
    for (; *p && (size_t) (o - out) <= max; p += n ? n : 1) {
        if ((n = utf8_seq(p, &cp)) == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        } else if (utf8_is_control(cp)) {
            *o++ = lines && cp == '\n' ? '\n' : ' ';
        } else {
            memcpy(o, p, n);
            o += n;
        }
    }
    *o = '\0';
    utf8_cut(out, max);
    return out;
}

/* A secret or URL from a file: surrounding whitespace trimmed (files end in
 * a newline); NULL if empty or anything but printable ASCII remains, so it
 * can never split a header. */
static char *
pager_clean_secret(const char *s)
{
    size_t n;

    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        n--;
    if (n == 0 || n > PAGER_SECRET_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return NULL;
    return strndup(s, n);
}

static void
clean_free(struct clean *c)
{
    free(c->id); free(c->dedup); free(c->tracking); free(c->clock);
    free(c->category); free(c->subject); free(c->summary);
    free(c->received_at); free(c->deadline);
    free(c->details); free(c->ack_url); free(c->actor);
}

/* The severity asked for, if it is one; else the event's. */
static void
clean_severity(const struct pager_notice *n, struct clean *c)
{
    c->severity = c->ev->severity;
    c->priority = c->ev->priority;
    for (size_t i = 0; n->severity && i < sizeof(pager_priorities) / sizeof(pager_priorities[0]); i++)
        if (strcmp(n->severity, pager_priorities[i].severity) == 0) {
            c->severity = pager_priorities[i].severity;
            c->priority = pager_priorities[i].priority;
        }
}

static bool
clean_notice(const struct pager_notice *n, struct clean *c)
{
    memset(c, 0, sizeof(*c));
    if (!(c->ev = pager_event_find(n->event)))
        return false;
    c->tier = n->tier;
    c->id = pager_clean_text(n->id, PAGER_FIELD_MAX);
    c->dedup = pager_clean_text(n->dedup_key ? n->dedup_key : n->id, PAGER_OG_ALIAS_MAX);
    c->tracking = pager_clean_text(n->tracking, PAGER_FIELD_MAX);
    c->clock = pager_clean_text(n->clock, PAGER_FIELD_MAX);
    c->category = pager_clean_text(n->category, PAGER_FIELD_MAX);
    c->subject = pager_clean_text(n->subject, PAGER_FIELD_MAX);
    c->summary = pager_clean_text(n->summary, PAGER_PD_SUMMARY_MAX);
    c->received_at = pager_clean_text(n->received_at, PAGER_FIELD_MAX);
    c->deadline = pager_clean_text(n->deadline, PAGER_FIELD_MAX);
    c->details = pager_clean_lines(n->details, PAGER_DETAILS_MAX);
    c->ack_url = n->ack_url ? pager_clean_secret(n->ack_url) : NULL;
    c->actor = pager_clean_text(n->actor, PAGER_FIELD_MAX);
    clean_severity(n, c);
    return true;
}

/* ---- texts for humans ------------------------------------------------- */

static const char *
or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* "CPR-2026-000042 key-compromise, acknowledge due 2026-...Z, tier 1:
 * SUMMARY", or the summary alone for health notices. */
static char *
pager_headline_core(const struct clean *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    if (c->tracking) {
        fprintf(f, "%s %s", c->tracking, or_dash(c->category));
        if (c->clock)
            fprintf(f, ", %s due %s", c->clock, or_dash(c->deadline));
        if (c->tier > 0)
            fprintf(f, ", tier %d", c->tier);
        if (c->summary || c->subject)
            fprintf(f, ": %s", c->summary ? c->summary : c->subject);
    } else {
        fputs(c->summary ? c->summary : "cpr-sweeper health check failed", f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* "CPR page: CORE", cut to max bytes at a UTF-8 boundary; a case page
 * (one with details) says its pagetext summary as it is. */
static char *
pager_headline(const struct clean *c, size_t max)
{
    char *core = c->details ? NULL : pager_headline_core(c);

    if (c->details) {
        core = strdup(c->summary ? c->summary : or_dash(c->tracking));
        if (core)
            utf8_cut(core, max);
        return core;
    }
    char *out = core ? pager_printf("CPR %s: %s", c->ev->word, core) : NULL;

    free(core);
    if (out)
        utf8_cut(out, max);
    return out;
}

/* Slack mrkdwn gives <, > and & meaning (<!channel>, links): escape them. */
static void
put_slack(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void
put_slack_or_plain(FILE *f, bool slack, const char *s)
{
    if (slack)
        put_slack(f, s);
    else
        fputs(s, f);
}

static void
put_fact(FILE *f, bool slack, const char *label, const char *value)
{
    fprintf(f, "%s: ", label);
    if (slack)
        put_slack(f, or_dash(value));
    else
        fputs(or_dash(value), f);
    fputc('\n', f);
}

static void
put_facts(FILE *f, const struct clean *c, bool slack)
{
    put_fact(f, slack, "Tracking", c->tracking);
    put_fact(f, slack, "Category", c->category);
    put_fact(f, slack, "Received", c->received_at);
    put_fact(f, slack, "Deadline", c->deadline);
    put_fact(f, slack, "Clock", c->clock);
    if (c->tier > 0)
        fprintf(f, "Tier: %d\n", c->tier);
    else
        fputs("Tier: all\n", f);
    put_fact(f, slack, "Subject", c->subject);
    if (c->summary)
        put_fact(f, slack, "Summary", c->summary);
}

/* The whole notice as text lines: Slack text, Opsgenie description and the
 * email body. Every page carries the facts and the ack command (a resolve
 * needs no ack). */
static char *
pager_text(const struct clean *c, bool slack)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fprintf(f, "CPR %s", c->ev->word);
    if (c->details) {
        fputs(": ", f);
        put_slack_or_plain(f, slack, or_dash(c->summary));
        fputc('\n', f);
        if (c->actor && !pager_is_trigger(c)) {
            fputs("By: ", f);
            put_slack_or_plain(f, slack, c->actor);
            fputc('\n', f);
        }
        if (pager_is_trigger(c))
            put_slack_or_plain(f, slack, c->details);
    } else if (c->tracking) {
        fputs(slack ? ": *" : ": ", f);
        put_slack(f, c->tracking);
        fputs(slack ? "*\n" : "\n", f);
        put_facts(f, c, slack);
        if (!pager_is_resolve(c)) {
            fputs(slack ? "Acknowledge: `cprctl ack " : "Acknowledge: cprctl ack ", f);
            put_slack(f, c->tracking);
            fputs(slack ? "`\n" : "\n", f);
        }
    } else {
        fputs(": ", f);
        if (slack)
            put_slack(f, or_dash(c->summary));
        else
            fputs(or_dash(c->summary), f);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *
pager_ack_command(const struct clean *c)
{
    return c->tracking ? pager_printf("cprctl ack %s", c->tracking) : NULL;
}

/* ---- JSON payloads ---------------------------------------------------- */

static char *
json_finish(json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

    json_decref(root);
    return s;
}

/* Sets key to a string only when there is one (Opsgenie wants strings). */
static void
json_set_str(json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new(obj, key, json_string(value));
}

static json_t *
pager_details(const struct clean *c, bool tier_as_string)
{
    json_t *d = json_object();
    char tier[16], *ack = pager_ack_command(c);

    if (!d) {
        free(ack);
        return NULL;
    }
    json_set_str(d, "tracking", c->tracking);
    json_set_str(d, "clock", c->clock);
    snprintf(tier, sizeof(tier), "%d", c->tier);
    json_object_set_new(d, "tier", tier_as_string ? json_string(tier) : json_integer(c->tier));
    json_set_str(d, "category", c->category);
    json_set_str(d, "subject", c->subject);
    json_set_str(d, "received_at", c->received_at);
    json_set_str(d, "deadline", c->deadline);
    json_set_str(d, "summary", c->tracking ? NULL : c->summary);
    if (!tier_as_string) {      /* Opsgenie: details total 8000 characters, the
                                 * text goes in its description instead */
        json_set_str(d, "details", c->details);
        json_set_str(d, "ack_url", c->ack_url);
    }
    json_set_str(d, "ack", ack);
    free(ack);
    return d;
}

static char *
payload_pagerduty_key(const char *key, struct clean *c)
{
    char *summary;
    json_t *root;

    if (!key || !c->dedup)
        return NULL;
    utf8_cut(c->dedup, PAGER_PD_DEDUP_MAX);
    if (!pager_is_trigger(c))
        return json_finish(json_pack("{s:s, s:s, s:s}", "routing_key", key,
                                     "event_action", pager_is_ack(c) ? "acknowledge" : "resolve",
                                     "dedup_key", c->dedup));
    if (!(summary = pager_headline(c, PAGER_PD_SUMMARY_MAX)))
        return NULL;
    root = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:o*}}",
                     "routing_key", key, "event_action", "trigger",
                     "dedup_key", c->dedup, "payload", "summary", summary,
                     "source", PAGER_SOURCE, "severity", c->severity,
                     "custom_details", pager_details(c, false));
    if (root && c->ack_url)
        json_object_set_new(root, "links", json_pack("[{s:s, s:s}]", "href", c->ack_url,
                                                     "text", "Acknowledge this report"));
    free(summary);
    return json_finish(root);
}

/* The routing key rides in the body; it is wiped with it after sending. */
static char *
payload_pagerduty(const struct pager_channel *ch, struct clean *c)
{
    char *key = pager_clean_secret(ch->secret);
    char *out = payload_pagerduty_key(key, c);

    free(key);
    return out;
}

static char *
payload_opsgenie(const struct pager_channel *ch, struct clean *c)
{
    char *message, *text;
    json_t *root;

    (void) ch;
    if (!pager_is_trigger(c))
        return json_finish(json_pack("{s:s, s:s, s:s?}", "source", PAGER_SOURCE,
                                     "note", pager_is_ack(c) ? "case acknowledged"
                                     : "clock stopped", "user", c->actor));
    if (!c->dedup)
        return NULL;
    message = pager_headline(c, PAGER_OG_MESSAGE_MAX);
    if ((text = pager_text(c, false)) != NULL)
        utf8_cut(text, PAGER_OG_DESCRIPTION_MAX);
    root = message && text
        ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:o*}", "message", message,
                    "alias", c->dedup, "description", text,
                    "priority", c->priority, "source", PAGER_SOURCE,
                    "details", pager_details(c, true))
        : NULL;
    free(message);
    free(text);
    return json_finish(root);
}

static char *
payload_slack(const struct pager_channel *ch, struct clean *c)
{
    char *text = pager_text(c, true);
    json_t *root;

    (void) ch;
    if (text)
        utf8_cut(text, PAGER_SLACK_TEXT_MAX);   /* bytes <= characters */
    root = text ? json_pack("{s:s}", "text", text) : NULL;
    free(text);
    return json_finish(root);
}

static char *
payload_webhook(const struct pager_channel *ch, struct clean *c)
{
    char *summary = pager_headline_core(c);
    json_t *root = json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:s?, s:s?, s:s?}",
                             "event", c->ev->name, "id", c->id,
                             "tracking", c->tracking, "clock", c->clock,
                             "tier", c->tier, "deadline", c->deadline,
                             "received_at", c->received_at, "category", c->category,
                             "summary", c->summary ? c->summary : summary,
                             "subject", c->subject);

    (void) ch;
    if (root) {
        json_set_str(root, "alert", c->dedup);
        json_set_str(root, "severity", pager_is_trigger(c) ? c->severity : NULL);
        json_set_str(root, "details", c->details);
        json_set_str(root, "ack_url", c->ack_url);
        json_set_str(root, "actor", c->actor);
    }
    free(summary);
    return json_finish(root);
}

/* ---- email -------------------------------------------------------------- */

static pthread_once_t pager_once = PTHREAD_ONCE_INIT;

static void
pager_lib_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
pager_free_rcpt(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* One address of a To list, blanks trimmed; NULL if empty or holding a
 * control, inner space, quote, backslash, '<' or '>'. */
static char *
pager_rcpt_one(const char *tok)
{
    return strpbrk(tok, "<>\"\\") ? NULL : pager_clean_secret(tok);
}

/* Split "a@x, b@y" into at most PAGER_MAX_RCPT addresses (free with
 * pager_free_rcpt); NULL if the list is empty or any address is bad. */
static char **
pager_split_rcpt(const char *to, size_t *count)
{
    /* One slot more than the bound: the list stays NULL-terminated. */
    char **v = calloc(PAGER_MAX_RCPT + 1, sizeof(char *)), *copy = to ? strdup(to) : NULL;
    char *save = NULL, *tok = v && copy ? strtok_r(copy, ",", &save) : NULL;
    size_t n = 0;
    bool ok = tok != NULL;

    for (; ok && tok; tok = strtok_r(NULL, ",", &save)) {
        ok = n < PAGER_MAX_RCPT && (v[n] = pager_rcpt_one(tok)) != NULL;
        n += ok;
    }
    free(copy);
    if (!ok) {
        pager_free_rcpt(v, n);
        return NULL;
    }
    *count = n;
    return v;
}

/* A Message-ID from the step id, so a resend of the same step carries the
 * same id and the mailbox can fold the two; FNV-1a keeps cleaned ids apart. */
static char *
pager_message_id(const struct clean *c, const char *from)
{
    const char *domain = strrchr(from, '@'), *id = c->id ? c->id : "health";
    char local[PAGER_MSGID_ID_MAX + 1];
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; id[i]; i++)
        h = (h ^ (unsigned char) id[i]) * 16777619u;
    for (i = 0; id[i] && i < PAGER_MSGID_ID_MAX; i++)
        local[i] = isalnum((unsigned char) id[i]) || strchr("-_", id[i]) ? id[i] : '.';
    local[i] = '\0';
    return pager_printf("cpr.%s.%08x@%s", local, (unsigned) h,
                        domain && domain[1] ? domain + 1 : "cpr-sweeper.invalid");
}

/* "[CPR page] CORE", or "[CPR page] deadline warning: CORE" etc. */
static char *
pager_email_subject(const struct clean *c)
{
    char *core = c->details ? pager_headline(c, PAGER_FIELD_MAX) : pager_headline_core(c);
    char *out = NULL;
    bool page = strcmp(c->ev->name, "page") == 0;

    if (core)
        out = pager_printf("[CPR page] %s%s%s", page ? "" : c->ev->word, page ? "" : ": ", core);
    free(core);
    if (out)
        utf8_cut(out, PAGER_FIELD_MAX);
    return out;
}

/* The whole message (compose.c, as auto-replies are), or NULL. */
static char *
payload_email(const struct pager_channel *ch, struct clean *c)
{
    char *from = pager_clean_secret(ch->from), **rcpt = NULL;
    char *subject = pager_email_subject(c), *text = pager_text(c, false);
    char *msgid = from ? pager_message_id(c, from) : NULL, *wire = NULL, *out = NULL;
    static const char *const more[] = { "Auto-Submitted", "auto-generated", NULL };
    size_t nrcpt = 0;

    if (from && subject && text && msgid && !strpbrk(from, "<>\"\\")
        && (rcpt = pager_split_rcpt(ch->to, &nrcpt)) != NULL) {
        struct compose_mail m = { from, (const char *const *) rcpt, subject,
                                  (long long) time(NULL), msgid, more, text };

        wire = compose_message(&m);
    }
    out = wire ? strdup(wire) : NULL;
    g_free(wire);
    pager_free_rcpt(rcpt, nrcpt);
    free(from); free(subject); free(text); free(msgid);
    return out;
}

/* ---- the drivers -------------------------------------------------------- */

typedef char *payload_fn(const struct pager_channel *ch, struct clean *c);
typedef enum send_result send_fn(const struct pager_channel *ch,
                                 const struct pager_notice *n, const char *body,
                                 long *status, char *err, size_t errlen);
static send_fn send_http, send_email;

/* One row per pager_types[] row (core/pagertype.c holds what config,
 * escalation and the sweep need to know; this adds how to speak it). */
static const struct pager_driver {
    enum pager_type type;
    payload_fn *payload;
    send_fn *send;
} pager_drivers[] = {
    { PAGER_PAGERDUTY, payload_pagerduty, send_http },
    { PAGER_OPSGENIE,  payload_opsgenie,  send_http },
    { PAGER_SLACK,     payload_slack,     send_http },
    { PAGER_WEBHOOK,   payload_webhook,   send_http },
    { PAGER_EMAIL,     payload_email,     send_email },
};
_Static_assert(sizeof(pager_drivers) / sizeof(pager_drivers[0]) == PAGER_NTYPES,
               "one driver per pager type");

static const struct pager_driver *
pager_driver(enum pager_type type)
{
    for (size_t i = 0; i < PAGER_NTYPES; i++)
        if (pager_drivers[i].type == type)
            return &pager_drivers[i];
    return NULL;
}

const char *
pager_driver_name(size_t i)
{
    return i < PAGER_NTYPES ? pager_type_name(pager_drivers[i].type) : NULL;
}

char *
pager_payload(const struct pager_channel *ch, const struct pager_notice *n)
{
    const struct pager_driver *d = ch ? pager_driver(ch->type) : NULL;
    struct clean c;
    char *out;

    if (!d || !n || !clean_notice(n, &c))
        return NULL;
    out = d->payload(ch, &c);
    clean_free(&c);
    return out;
}

/* ---- sending ---------------------------------------------------------- */

/* The response body is not kept: it might echo what we sent. */
static size_t
pager_discard_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void) ptr;
    (void) arg;
    return size * nmemb;
}

static double
pager_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
pager_err(char *err, size_t errlen, const struct pager_channel *ch, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "channel %s (%s): %s", ch->name ? ch->name : "-",
                 pager_type_name(ch->type), what);
}

/* A wrong scheme is a configuration error: fail now, do not retry. */
static bool
pager_scheme_ok(const char *url, const char *a, const char *b)
{
    return strncasecmp(url, a, strlen(a)) == 0 || strncasecmp(url, b, strlen(b)) == 0;
}

/* The request URL: the channel URL or its default; an Opsgenie resolve
 * closes the alert by alias, an acknowledge acknowledges it by alias. */
static char *
pager_url(CURL *curl, const struct pager_channel *ch, const struct pager_notice *n)
{
    const char *def = pager_types[ch->type].default_url;
    char *base = ch->url ? pager_clean_secret(ch->url) : (def ? strdup(def) : NULL);
    char *alias, *esc, *out = NULL;
    size_t len;

    if (base && !pager_scheme_ok(base, "http://", "https://")) {
        free(base);
        return NULL;
    }
    if (!base || ch->type != PAGER_OPSGENIE || !n->event
        || (strcmp(n->event, "resolve") != 0 && strcmp(n->event, "acknowledge") != 0))
        return base;
    if ((len = strlen(base)) > 0 && base[len - 1] == '/')
        base[len - 1] = '\0';
    alias = pager_clean_text(n->dedup_key ? n->dedup_key : n->id, PAGER_OG_ALIAS_MAX);
    esc = alias ? curl_easy_escape(curl, alias, 0) : NULL;
    if (esc)
        out = pager_printf("%s/%s/%s?identifierType=alias", base, esc,
                           strcmp(n->event, "resolve") == 0 ? "close" : "acknowledge");
    curl_free(esc);
    free(alias);
    free(base);
    return out;
}

/* curl_slist_append that frees the list when it fails. */
static struct curl_slist *
slist_add(struct curl_slist *list, const char *s)
{
    struct curl_slist *r = curl_slist_append(list, s);

    if (!r)
        curl_slist_free_all(list);
    return r;
}

/* Authorization and Content-Type; NULL (with *bad set) if the secret
 * cannot be a header value. */
static struct curl_slist *
pager_headers(const struct pager_channel *ch, bool *bad)
{
    struct curl_slist *h = slist_add(NULL, "Content-Type: application/json");
    char *secret = NULL, *line = NULL;
    const char *scheme = pager_types[ch->type].auth_scheme;

    /* No "Expect: 100-continue": a slow receiver would cost us a second. */
    h = h ? slist_add(h, "Expect:") : NULL;
    *bad = false;
    if (!h || !scheme || (pager_types[ch->type].secret_optional && !ch->secret))
        return h;
    if (!(secret = pager_clean_secret(ch->secret))
        || !(line = pager_printf("Authorization: %s %s", scheme, secret)))
        *bad = true;
    if (line) {
        h = slist_add(h, line);
        explicit_bzero(line, strlen(line));
        free(line);
    }
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    return h;
}

static void
pager_curl_common(CURL *curl, const struct pager_channel *ch, char *errbuf)
{
    long timeout = ch->timeout_ms > 0 ? ch->timeout_ms : PAGER_TIMEOUT_MS;

    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, pager_discard_cb);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, PAGER_SOURCE);
    if (ch->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ch->ca_file);
}

static CURLcode
pager_perform_http(CURL *curl, const struct pager_channel *ch, const struct pager_notice *n,
                   const char *body, const char **why)
{
    char *url = pager_url(curl, ch, n);
    bool bad = false;
    struct curl_slist *h = url ? pager_headers(ch, &bad) : NULL;
    CURLcode rc = CURLE_URL_MALFORMAT;

    *why = !url ? "no usable url" : bad ? "unusable secret" : !h ? "out of memory" : NULL;
    if (!*why) {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
        rc = curl_easy_perform(curl);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    }
    curl_slist_free_all(h);
    free(url);
    return rc;
}

static char *
pager_smtp_url(const struct pager_channel *ch)
{
    char *url = pager_clean_secret(ch->smtp_url);

    if (url && !pager_scheme_ok(url, "smtp://", "smtps://")) {
        free(url);
        return NULL;
    }
    return url;
}

/* Email pages go through smtp.c: one module speaks SMTP. */
static enum send_result
send_email(const struct pager_channel *ch, const struct pager_notice *n, const char *body,
           long *status, char *err, size_t errlen)
{
    char *url = pager_smtp_url(ch), *from = pager_clean_secret(ch->from), why[160];
    size_t nrcpt = 0;
    char **rcpt = pager_split_rcpt(ch->to, &nrcpt);
    struct smtp_request req = { url, from, rcpt, body,
                                ch->timeout_ms > 0 ? ch->timeout_ms : PAGER_TIMEOUT_MS,
                                ch->ca_file, NULL, NULL };
    enum smtp_result r = SMTP_FAILED;

    (void) n;
    if (!url || !from || !rcpt) {
        pager_err(err, errlen, ch, !url ? "no usable smtp_url" : "bad from or to");
    } else {
        r = smtp_send(&req, status, why, sizeof(why));
        pager_err(err, errlen, ch, why);
    }
    pager_free_rcpt(rcpt, nrcpt);
    free(from);
    free(url);
    return r == SMTP_SENT ? SEND_OK : r == SMTP_RETRY ? SEND_RETRY : SEND_FAILED;
}

static enum send_result
send_http(const struct pager_channel *ch, const struct pager_notice *n, const char *body,
          long *status, char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE] = "", what[64];
    const char *why = NULL;
    CURL *curl = curl_easy_init();
    CURLcode rc;

    if (!curl) {
        pager_err(err, errlen, ch, "curl_easy_init failed");
        return SEND_RETRY;
    }
    pager_curl_common(curl, ch, errbuf);
    rc = pager_perform_http(curl, ch, n, body, &why);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(curl);
    if (why) {
        pager_err(err, errlen, ch, why);
        return SEND_FAILED;
    }
    /* errbuf can name hosts, never the URL path; still, only curl's fixed
     * error text goes out, so no secret can ride along. */
    if (rc != CURLE_OK)
        snprintf(what, sizeof(what), "%s (status %ld)", curl_easy_strerror(rc), *status);
    else
        snprintf(what, sizeof(what), "status %ld", *status);
    pager_err(err, errlen, ch, what);
    return retry_classify(*status, rc);
}

enum send_result
pager_send(const struct pager_channel *ch, const struct pager_notice *n,
           long *status, double *latency_ms, char *err, size_t errlen)
{
    const struct pager_driver *d = pager_driver(ch->type);
    char *body;
    double t0;
    enum send_result r;

    *status = 0;
    *latency_ms = 0;
    pthread_once(&pager_once, pager_lib_init);
    if (!d || !(body = pager_payload(ch, n))) {
        pager_err(err, errlen, ch, "cannot build the request (bad notice or channel settings)");
        return SEND_FAILED;
    }
    t0 = pager_now_ms();
    r = d->send(ch, n, body, status, err, errlen);
    *latency_ms = pager_now_ms() - t0;
    explicit_bzero(body, strlen(body));   /* it may hold the routing key */
    free(body);
    return r;
}

enum send_result
pager_send_logged(const struct pager_channel *ch, const struct pager_notice *n,
                  char *err, size_t errlen)
{
    long status = 0;
    double ms = 0;
    enum send_result r = pager_send(ch, n, &status, &ms, err, errlen);

    log_info("notice %s via %s: %s (status %ld, %.0f ms)", n->id, ch->name,
             r == SEND_OK ? "sent" : r == SEND_RETRY ? "retryable failure" : "failed",
             status, ms);
    return r;
}

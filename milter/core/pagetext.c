/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagetext - what a page says: summary, details, severity
 * DESCRIPTION
 *   See pagetext.h. Owns the words of a page, not its wire format (that
 *   is io/pager.c, which also cleans every string to valid UTF-8 and cuts
 *   it to each service's limits). No I/O, no clock reads: `now` comes in.
 * DIAGNOSTICS
 *   None: NULL strings print as "-", a buffer too small is cut at a
 *   UTF-8 boundary, pagetext_details returns NULL only when out of memory.
 */
#include "pagetext.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MS_MINUTE  60000LL
#define MS_HOUR    (60 * MS_MINUTE)
#define MS_DAY     (24 * MS_HOUR)
#define SPKI_SHOWN 4              /* hex digits of a key's SPKI in the summary */
#define DOMAIN_MAX 253

static const char *const severity_names[SEV_NSEVERITY] = {
    "critical", "error", "warning", "info"
};

static const char *
or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Cut s to at most max bytes, backing off to a UTF-8 boundary. */
static void
cut_utf8(char *s, size_t max)
{
    if (strlen(s) <= max)
        return;
    while (max > 0 && (((unsigned char) s[max]) & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
}

/* Append to buf (holding len bytes) without overflowing; false if cut. */
static bool
append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf), k = strlen(s);

    if (n + k + 1 > len) {
        snprintf(buf + n, len - n, "%s", s);
        cut_utf8(buf, len - 1);
        return false;
    }
    memcpy(buf + n, s, k + 1);
    return true;
}

void
pagetext_duration(long long ms, char *buf, size_t len)
{
    long long d, h, m;

    if (ms < 0)
        ms = ms == -9223372036854775807LL - 1 ? 9223372036854775807LL : -ms;
    d = ms / MS_DAY;
    h = (ms % MS_DAY) / MS_HOUR;
    m = (ms % MS_HOUR) / MS_MINUTE;
    if (d > 0)
        snprintf(buf, len, "%lldd%lldh", d, h);
    else if (h > 0)
        snprintf(buf, len, "%lldh%02lldm", h, m);
    else if (m > 0)
        snprintf(buf, len, "%lldm", m);
    else
        snprintf(buf, len, "<1m");
}

static bool
is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char) s[i]))
            return false;
    return true;
}

static void
evidence_item(char *buf, size_t len, int n, const char *one, const char *many)
{
    char part[48];

    if (n <= 0)
        return;
    snprintf(part, sizeof(part), "%s%d %s", buf[0] ? "; " : "", n, n == 1 ? one : many);
    append(buf, len, part);
}

void
pagetext_evidence(const struct pagetext_evidence_counts *e, char *buf, size_t len)
{
    char part[64];
    const char *spki = e ? e->first_spki : NULL;
    bool spki_ok = spki && strlen(spki) >= SPKI_SHOWN && is_hex(spki, SPKI_SHOWN);

    if (len == 0)
        return;
    buf[0] = '\0';
    if (!e) {
        snprintf(buf, len, "no evidence extracted");
        return;
    }
    if (e->private_keys > 0) {
        if (e->private_keys == 1)
            snprintf(part, sizeof(part), "private key");
        else
            snprintf(part, sizeof(part), "%d private keys", e->private_keys);
        append(buf, len, part);
        if (spki_ok) {
            snprintf(part, sizeof(part), ", SPKI %.*s\u2026%s", SPKI_SHOWN, spki,
                     e->private_keys > 1 ? " and more" : "");
            append(buf, len, part);
        }
    }
    evidence_item(buf, len, e->certificates, "certificate", "certificates");
    evidence_item(buf, len, e->csrs, "CSR", "CSRs");
    evidence_item(buf, len, e->other, "other item", "other items");
    if (!buf[0])
        snprintf(buf, len, "no evidence extracted");
}

void
pagetext_reporter(const char *address, bool show, char *buf, size_t len)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    size_t n = 0;

    if (len == 0)
        return;
    if (!at || !at[1]) {
        snprintf(buf, len, "-");
        return;
    }
    if (show) {
        /* The address as stored, controls as '?' (it is the envelope sender). */
        for (const char *p = address; *p && n + 1 < len; p++, n++)
            buf[n] = (unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p;
        buf[n] = '\0';
        return;
    }
    for (const char *p = at + 1; *p && *p != '>' && n + 1 < len && n < DOMAIN_MAX; p++, n++) {
        unsigned char ch = (unsigned char) tolower((unsigned char) *p);

        buf[n] = isalnum(ch) || ch == '.' || ch == '-' ? (char) ch : '?';
    }
    buf[n] = '\0';
}

/* The short name of a clock in the summary. */
static const char *
clock_word(const char *name)
{
    if (!name)
        return "-";
    if (strcmp(name, "report-reporter") == 0)
        return "report";
    if (strcmp(name, "report-subscriber") == 0)
        return "subscriber report";
    return name;
}

/* "report due in 23h25m" or "acknowledge overdue 5m". */
static void
clock_state(const struct pagetext_clock *k, const char *word, long long now, char *buf,
            size_t len)
{
    char d[PAGETEXT_DURATION_MAX];

    pagetext_duration(k->due - now, d, sizeof(d));
    snprintf(buf, len, "%s %s %s", word ? word : clock_word(k->name),
             k->due > now ? "due in" : "overdue", d);
}

static const struct pagetext_clock *
find_clock(const struct pagetext_case *c, const char *name)
{
    for (size_t i = 0; name && i < c->nclocks && i < PAGETEXT_NCLOCKS; i++)
        if (c->clocks[i].name && strcmp(c->clocks[i].name, name) == 0)
            return &c->clocks[i];
    return NULL;
}

static bool
running(const struct pagetext_clock *k)
{
    return k->due > 0 && k->stopped == 0;
}

/* The running clocks other than skip, by due time (nclocks is tiny). */
static size_t
others_by_due(const struct pagetext_case *c, const struct pagetext_clock *skip,
              const struct pagetext_clock **out)
{
    size_t n = 0;

    for (size_t i = 0; i < c->nclocks && i < PAGETEXT_NCLOCKS; i++) {
        const struct pagetext_clock *k = &c->clocks[i];
        size_t j;

        if (k == skip || !running(k))
            continue;
        for (j = n; j > 0 && out[j - 1]->due > k->due; j--)
            out[j] = out[j - 1];
        out[j] = k;
        n++;
    }
    return n;
}

/* Both report clocks running with one deadline are said once, as
 * "reports": true when k is the report clock other than `twin` and that
 * twin is in rest[] with the same due time. */
static bool
twin_report(const struct pagetext_clock *const *rest, size_t n,
            const struct pagetext_clock *k, const char *twin)
{
    const char *self = strcmp(twin, "report-reporter") == 0 ? "report-subscriber"
                                                            : "report-reporter";

    if (!k->name || strcmp(k->name, self) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (rest[i]->name && strcmp(rest[i]->name, twin) == 0 && rest[i]->due == k->due)
            return true;
    return false;
}

/* The paged clock's part: "BREACH report overdue 1h", "acknowledge
 * acknowledged", "report resolved". */
static void
focus_part(const struct pagetext_clock *k, const char *clock, const char *event,
           long long now, char *buf, size_t len)
{
    char st[80];

    if (event && strcmp(event, "acknowledge") == 0)
        snprintf(buf, len, "%s acknowledged", clock_word(clock));
    else if (event && strcmp(event, "resolve") == 0)
        snprintf(buf, len, "%s resolved", clock_word(clock));
    else if (k && k->due > 0) {
        clock_state(k, NULL, now, st, sizeof(st));
        snprintf(buf, len, "%s%s", event && strcmp(event, "breach") == 0 ? "BREACH " : "", st);
    } else
        snprintf(buf, len, "%s %s", clock_word(clock), event ? event : "page");
}

void
pagetext_summary(const struct pagetext_case *c, const char *clock, const char *event,
                 long long now, char *buf, size_t len)
{
    const struct pagetext_clock *k = find_clock(c, clock), *rest[PAGETEXT_NCLOCKS];
    char part[128];
    size_t max = len < PAGETEXT_SUMMARY_MAX + 1 ? len : PAGETEXT_SUMMARY_MAX + 1;
    size_t n, i;

    if (len == 0)
        return;
    snprintf(buf, max, "%s %s: ", or_dash(c->category), or_dash(c->tracking));
    cut_utf8(buf, max - 1);
    focus_part(k, clock, event, now, part, sizeof(part));
    if (!append(buf, max, part))
        return;
    n = others_by_due(c, k, rest);
    for (i = 0; i < n; i++) {
        char st[80];
        size_t have = strlen(buf);

        if (twin_report(rest, n, rest[i], "report-reporter"))
            continue;       /* said as "reports" with its twin */
        clock_state(rest[i], twin_report(rest, n, rest[i], "report-subscriber")
                    ? "reports" : NULL, now, st, sizeof(st));
        snprintf(part, sizeof(part), "; %s", st);
        if (have + strlen(part) + 1 > max)
            break;          /* whole parts only */
        append(buf, max, part);
    }
}

static void
put_utc(FILE *f, long long ms)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    char s[32];

    if (ms > 0 && gmtime_r(&t, &tm) && strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
        fputs(s, f);
    else
        fputs("-", f);
}

static void
put_clock(FILE *f, const struct pagetext_clock *k, long long now)
{
    char d[PAGETEXT_DURATION_MAX];

    if (k->due <= 0)
        return;
    fprintf(f, "  %-18s due ", or_dash(k->name));
    put_utc(f, k->due);
    if (k->stopped) {
        fputs(", stopped ", f);
        put_utc(f, k->stopped);
    } else {
        pagetext_duration(k->due - now, d, sizeof(d));
        fprintf(f, ", %s %s", k->due > now ? "in" : "overdue", d);
    }
    fputc('\n', f);
}

/* The subject bounded, ASCII controls as spaces (pager.c cleans the rest). */
static void
put_subject(FILE *f, const char *s)
{
    char buf[PAGETEXT_SUBJECT_MAX + 1];
    size_t n = 0;

    for (; s && *s && n < PAGETEXT_SUBJECT_MAX; s++, n++)
        buf[n] = (unsigned char) *s < 0x20 || *s == 0x7f ? ' ' : *s;
    buf[n] = '\0';
    if (s && *s) {
        cut_utf8(buf, PAGETEXT_SUBJECT_MAX - 3);
        strcat(buf, "...");
    }
    fprintf(f, "Subject: %s\n", n ? buf : "-");
}

char *
pagetext_details(const struct pagetext_case *c, long long now)
{
    char *out = NULL, who[DOMAIN_MAX + 8];
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    fputs("Clocks:\n", f);
    for (size_t i = 0; i < c->nclocks && i < PAGETEXT_NCLOCKS; i++)
        put_clock(f, &c->clocks[i], now);
    pagetext_reporter(c->reporter, c->show_reporter, who, sizeof(who));
    fprintf(f, "Reporter: %s\n", who);
    fprintf(f, "Evidence: %s\n", c->evidence ? c->evidence : "no evidence extracted");
    put_subject(f, c->subject);
    if (c->ack_url)
        fprintf(f, "Acknowledge: %s\n", c->ack_url);
    fprintf(f, "%s: cprctl ack %s\n", c->ack_url ? "Or run" : "Acknowledge with",
            or_dash(c->tracking));
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

void
pagetext_severities_default(struct pagetext_severities *s)
{
    for (int i = 0; i < CATEGORY_COUNT; i++)
        s->by_category[i] = SEV_WARNING;
    s->by_category[CATEGORY_KEY_COMPROMISE] = SEV_CRITICAL;
    s->by_category[CATEGORY_REVOCATION_REQUEST] = SEV_CRITICAL;
    s->by_category[CATEGORY_MISISSUANCE] = SEV_ERROR;
}

bool
pagetext_severity_parse(const char *word, enum pagetext_severity *sev)
{
    for (int i = 0; word && i < SEV_NSEVERITY; i++)
        if (strcasecmp(word, severity_names[i]) == 0) {
            *sev = (enum pagetext_severity) i;
            return true;
        }
    return false;
}

const char *
pagetext_severity_name(enum pagetext_severity sev)
{
    return (unsigned) sev < SEV_NSEVERITY ? severity_names[sev] : "critical";
}

enum pagetext_severity
pagetext_severity_of(const struct pagetext_severities *s, const char *category, bool breach)
{
    enum category_id id = CATEGORY_OTHER;

    if (breach || !s)
        return SEV_CRITICAL;
    if (!category || !category_parse(category, &id))
        id = CATEGORY_OTHER;
    return s->by_category[id];
}

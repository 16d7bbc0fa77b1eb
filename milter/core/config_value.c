/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   config_value - the value types of the configuration file
 * SUMMARY
 *   why = config_parse_value(k, "30m", cfg);
 * DESCRIPTION
 *   One parser per enum config_type. A parser stores a valid value in the
 *   key's field of base (struct cpr_config, or a templated section's
 *   struct) and replaces what was there, or leaves the field alone and
 *   returns why the value is bad. The why quotes at most CONFIG_QUOTE_MAX
 *   bytes of the value; config.c adds the file, line and key.
 * DIAGNOSTICS
 *   Reasons are g_malloc'd; the caller frees them.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "address.h"

#define CONFIG_QUOTE_MAX  64             /* bytes of a bad value quoted back */
#define CONFIG_MS_BUF     32
#define CONFIG_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                          "0123456789_.-"

#define FIELD(base, k)  ((void *) ((char *) (base) + (k)->offset))

/* Duration units, largest first. */
static const struct { const char *unit; long long ms; } config_units[] = {
    {"d", 86400000LL}, {"h", 3600000LL}, {"m", 60000LL}, {"s", 1000LL},
    {"ms", 1LL},
};

/* A parser stores a valid value in its field of base, or returns why not. */
typedef char *(*config_parser)(const struct config_key *k, const char *val,
                               void *base);

/* ---- values ---- */

static char *
config_bad(const char *val, const char *what)
{
    size_t len = strlen(val);

    return g_strdup_printf("\"%.*s%s\" %s", CONFIG_QUOTE_MAX, val,
                           len > CONFIG_QUOTE_MAX ? "..." : "", what);
}

/* A decimal number, optionally negative, and nothing else. */
static bool
config_parse_number(const char *s, long long *v)
{
    char *end;
    const char *d = *s == '-' ? s + 1 : s;

    if (*d < '0' || *d > '9')
        return false;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Largest unit that divides ms exactly: "1h", "90s", "250ms". */
static void
config_format_ms(long long ms, char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(config_units); i++)
        if (ms != 0 && ms % config_units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", ms / config_units[i].ms,
                     config_units[i].unit);
            return;
        }
    snprintf(buf, len, "%lldms", ms);
}

static char *
config_out_of_range(const struct config_key *k, const char *val)
{
    char lo[CONFIG_MS_BUF], hi[CONFIG_MS_BUF], what[3 * CONFIG_MS_BUF];

    if (k->type == CONFIG_DURATION || k->type == CONFIG_DURATIONS) {
        config_format_ms(k->min, lo, sizeof(lo));
        config_format_ms(k->max, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%lld", k->min);
        snprintf(hi, sizeof(hi), "%lld", k->max);
    }
    snprintf(what, sizeof(what), "is out of range (%s..%s)", lo, hi);
    return config_bad(val, what);
}

bool
config_parse_duration(const char *s, long long *ms)
{
    long long n = 0;
    size_t i;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (n > (LLONG_MAX - (*s - '0')) / 10)
            return false;
        n = n * 10 + (*s - '0');
    }
    for (i = 0; i < G_N_ELEMENTS(config_units); i++)
        if (strcmp(s, config_units[i].unit) == 0) {
            if (n > LLONG_MAX / config_units[i].ms)
                return false;
            *ms = n * config_units[i].ms;
            return true;
        }
    return false;
}

char *
config_name_check(const char *s)
{
    size_t len = strlen(s);
    char what[64];

    if (len > 0 && len <= CONFIG_NAME_MAX
        && strspn(s, CONFIG_NAME_CHARS) == len)
        return NULL;
    snprintf(what, sizeof(what), "is not a name (1 to %d of A-Z a-z 0-9 "
             "_ . -)", CONFIG_NAME_MAX);
    return config_bad(s, what);
}

static char *
config_parse_string(const struct config_key *k, const char *val, void *base)
{
    char **p = FIELD(base, k);

    g_free(*p);
    *p = g_strdup(val);
    return NULL;
}

static char *
config_parse_bool(const struct config_key *k, const char *val, void *base)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (g_ascii_strcasecmp(val, yes[i]) == 0) {
            *(bool *) FIELD(base, k) = true;
            return NULL;
        }
        if (g_ascii_strcasecmp(val, no[i]) == 0) {
            *(bool *) FIELD(base, k) = false;
            return NULL;
        }
    }
    return config_bad(val, "is not a boolean (yes/no, true/false, on/off, 1/0)");
}

static char *
config_parse_int(const struct config_key *k, const char *val, void *base)
{
    long long v;

    if (!config_parse_number(val, &v))
        return config_bad(val, "is not a number");
    if (v < k->min || v > k->max || v < LONG_MIN || v > LONG_MAX)
        return config_out_of_range(k, val);
    *(long *) FIELD(base, k) = (long) v;
    return NULL;
}

static char *
config_parse_bytes(const struct config_key *k, const char *val, void *base)
{
    long long v;

    if (!config_parse_number(val, &v))
        return config_bad(val, "is not a number of bytes");
    if (v < k->min || v > k->max)
        return config_out_of_range(k, val);
    *(long long *) FIELD(base, k) = v;
    return NULL;
}

/* One duration within the key's range. */
static char *
config_duration_in(const struct config_key *k, const char *val, long long *ms)
{
    if (!config_parse_duration(val, ms))
        return config_bad(val, "is not a duration "
                          "(a number followed by ms, s, m, h or d)");
    if (*ms < k->min || *ms > k->max)
        return config_out_of_range(k, val);
    return NULL;
}

static char *
config_parse_dur(const struct config_key *k, const char *val, void *base)
{
    long long ms;
    char *why;

    if ((why = config_duration_in(k, val, &ms)) == NULL)
        *(long long *) FIELD(base, k) = ms;
    return why;
}

static char *
config_parse_choice(const struct config_key *k, const char *val, void *base)
{
    char **choices = g_strsplit(k->choices, "|", -1), *list, *what;
    char *why = NULL;

    if (g_strv_contains((const char *const *) choices, val)) {
        config_parse_string(k, val, base);
    } else {
        list = g_strjoinv(", ", choices);
        what = g_strconcat("is not one of ", list, NULL);
        why = config_bad(val, what);
        g_free(what);
        g_free(list);
    }
    g_strfreev(choices);
    return why;
}

/* Why a rate of n per ms is out of range, or NULL. */
static char *
config_rate_range(const struct config_key *k, const char *val, long long n,
                  long long ms)
{
    char lo[CONFIG_MS_BUF], hi[CONFIG_MS_BUF], what[3 * CONFIG_MS_BUF];

    if (n < 0 || n > CONFIG_RATE_MAX) {
        snprintf(what, sizeof(what), "has a count out of range (0..%d)",
                 CONFIG_RATE_MAX);
        return config_bad(val, what);
    }
    if (ms >= k->min && ms <= k->max)
        return NULL;
    config_format_ms(k->min, lo, sizeof(lo));
    config_format_ms(k->max, hi, sizeof(hi));
    snprintf(what, sizeof(what), "has a duration out of range (%s..%s)", lo, hi);
    return config_bad(val, what);
}

/* "N/DURATION": N at offset (long), the window at count_offset (ms). */
static char *
config_parse_rate(const struct config_key *k, const char *val, void *base)
{
    const char *slash = strchr(val, '/');
    char *count = slash ? g_strndup(val, (size_t) (slash - val)) : NULL, *why;
    long long n = 0, ms = 0;
    bool ok = count != NULL && config_parse_number(count, &n)
              && config_parse_duration(slash + 1, &ms);

    g_free(count);
    if (!ok)
        return config_bad(val, "is not a rate (a number, '/' and a duration, "
                          "e.g. 5/1h)");
    if ((why = config_rate_range(k, val, n, ms)) != NULL)
        return why;
    *(long *) FIELD(base, k) = (long) n;
    *(long long *) ((char *) base + k->count_offset) = ms;
    return NULL;
}

/* ---- lists: comma-separated, blanks around entries dropped ---- */

static char **
config_split(const char *val)
{
    char **parts = *val ? g_strsplit(val, ",", -1) : g_new0(char *, 1);
    size_t i;

    for (i = 0; parts[i] != NULL; i++)
        g_strstrip(parts[i]);
    return parts;
}

static int
config_cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *) a, y = *(const long long *) b;

    return (x < y) - (x > y);
}

static char *
config_fill_durations(const struct config_key *k, char **parts, long long *ms)
{
    size_t i, j;
    char *why;

    for (i = 0; parts[i] != NULL; i++) {
        if (*parts[i] == '\0')
            return g_strdup("empty entry in the duration list");
        if (i == CONFIG_DURATIONS_MAX)
            return g_strdup_printf("more than %d entries", CONFIG_DURATIONS_MAX);
        if ((why = config_duration_in(k, parts[i], &ms[i])) != NULL)
            return why;
        for (j = 0; j < i; j++)
            if (ms[j] == ms[i])
                return config_bad(parts[i], "repeats an earlier entry");
    }
    return NULL;
}

static char *
config_parse_durations(const struct config_key *k, const char *val, void *base)
{
    long long ms[CONFIG_DURATIONS_MAX];
    char **parts = config_split(val), *why;
    size_t n = g_strv_length(parts);

    if ((why = config_fill_durations(k, parts, ms)) == NULL) {
        qsort(ms, n, sizeof(ms[0]), config_cmp_desc);
        memcpy(FIELD(base, k), ms, n * sizeof(ms[0]));
        *(size_t *) ((char *) base + k->count_offset) = n;
    }
    g_strfreev(parts);
    return why;
}

/* One entry of a string list: store it in list[i] or say why not. */
typedef char *(*config_entry)(const struct config_key *k, const char *s,
                              char **list, size_t i);

static char *
config_entry_address(const struct config_key *k, const char *s, char **list,
                     size_t i)
{
    char *norm = address_normalise(s);

    (void) k;
    if (norm == NULL)
        return config_bad(s, "is not a mail address");
    list[i] = g_strdup(norm);
    free(norm);
    return NULL;
}

/* Checked like a CPR address, but kept as written: mail goes there. */
static char *
config_entry_recipient(const struct config_key *k, const char *s, char **list,
                       size_t i)
{
    char *norm = address_normalise(s);
    size_t len = strlen(s);

    (void) k;
    if (norm == NULL)
        return config_bad(s, "is not a mail address");
    free(norm);
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
        list[i] = g_strndup(s + 1, len - 2);
    else
        list[i] = g_strdup(s);
    return NULL;
}

static char *
config_entry_name(const struct config_key *k, const char *s, char **list,
                  size_t i)
{
    char *why;

    if (k->max > 0 && i >= (size_t) k->max)
        return g_strdup_printf("more than %lld names", k->max);
    if ((why = config_name_check(s)) != NULL)
        return why;
    if (g_strv_contains((const char *const *) list, s))
        return config_bad(s, "is listed twice");
    list[i] = g_strdup(s);
    return NULL;
}

static char *
config_parse_list(const struct config_key *k, const char *val, void *base)
{
    char **parts = config_split(val), **list, ***p = FIELD(base, k);
    config_entry entry = k->type == CONFIG_NAMES ? config_entry_name
                         : k->type == CONFIG_RECIPIENTS ? config_entry_recipient
                         : config_entry_address;
    const char *noun = k->type == CONFIG_NAMES ? "name" : "address";
    char *why = NULL;
    size_t i;

    list = g_new0(char *, g_strv_length(parts) + 1);
    for (i = 0; parts[i] != NULL && why == NULL; i++)
        why = *parts[i] == '\0'
              ? g_strdup_printf("empty entry in the %s list", noun)
              : entry(k, parts[i], list, i);
    if (why != NULL) {
        g_strfreev(list);
    } else {
        g_strfreev(*p);
        *p = list;
    }
    g_strfreev(parts);
    return why;
}

static const config_parser config_parsers[] = {
    [CONFIG_STRING] = config_parse_string,
    [CONFIG_BOOL] = config_parse_bool,
    [CONFIG_INT] = config_parse_int,
    [CONFIG_BYTES] = config_parse_bytes,
    [CONFIG_DURATION] = config_parse_dur,
    [CONFIG_ADDRESSES] = config_parse_list,
    [CONFIG_RECIPIENTS] = config_parse_list,
    [CONFIG_DURATIONS] = config_parse_durations,
    [CONFIG_NAMES] = config_parse_list,
    [CONFIG_CHOICE] = config_parse_choice,
    [CONFIG_RATE] = config_parse_rate,
};

char *
config_parse_value(const struct config_key *k, const char *val, void *base)
{
    return config_parsers[k->type](k, val, base);
}

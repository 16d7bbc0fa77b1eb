/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   metrics - Prometheus text exposition: counters, histograms, lines
 * DESCRIPTION
 *   See metrics.h. This file writes the text; metrics_http.c serves it.
 *   The format is the Prometheus text exposition 0.0.4: "# HELP", "# TYPE",
 *   then "name{label="value",...} value" lines, label values escaped for
 *   backslash, double quote and newline, HELP text for backslash and
 *   newline. Histogram buckets are cumulative and end with le="+Inf".
 * DIAGNOSTICS
 *   None: out of memory aborts inside GLib, as everywhere in GString.
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

void
metrics_counter_add(atomic_uint_least64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

uint64_t
metrics_counter_get(atomic_uint_least64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
    size_t i = 0;

    if (!(seconds >= 0))   /* negative or NaN: a clock step, counted as 0 */
        seconds = 0;
    while (i < h->nbounds && seconds > h->bounds[i])
        i++;
    metrics_counter_add(&h->counts[i], 1);
    metrics_counter_add(&h->sum_ns, (uint64_t)(seconds * 1e9 + 0.5));
}

void
metrics_format_value(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(buf, len, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, len, "%.17g", v);
    }
}

/* Escape \ and newline always, " too inside a label value. */
static void
metrics_escape(GString *out, const char *s, bool quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            g_string_append(out, "\\\\");
        else if (*s == '\n')
            g_string_append(out, "\\n");
        else if (*s == '"' && quote)
            g_string_append(out, "\\\"");
        else
            g_string_append_c(out, *s);
    }
}

void
metrics_family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s ", name);
    metrics_escape(out, help, false);
    g_string_append_printf(out, "\n# TYPE %s %s\n", name, type);
}

void
metrics_sample(GString *out, const char *name, const char *const *labels, double value)
{
    char num[40];

    g_string_append(out, name);
    if (labels != NULL && labels[0] != NULL) {
        g_string_append_c(out, '{');
        for (size_t i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
            g_string_append_printf(out, "%s%s=\"", i > 0 ? "," : "", labels[i]);
            metrics_escape(out, labels[i + 1], true);
            g_string_append_c(out, '"');
        }
        g_string_append_c(out, '}');
    }
    metrics_format_value(value, num, sizeof(num));
    g_string_append_printf(out, " %s\n", num);
}

void
metrics_histogram_write(GString *out, const char *name, const char *help,
                        struct metrics_histogram *h)
{
    char bucket[128], le[40];
    uint64_t cum = 0;

    metrics_family(out, name, "histogram", help);
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += metrics_counter_get(&h->counts[i]);
        if (i < h->nbounds)
            metrics_format_value(h->bounds[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        metrics_sample(out, bucket, (const char *const[]){ "le", le, NULL }, (double)cum);
    }
    g_string_append_printf(out, "%s_sum ", name);
    metrics_format_value((double)metrics_counter_get(&h->sum_ns) / 1e9, le, sizeof(le));
    g_string_append_printf(out, "%s\n%s_count %llu\n", le, name, (unsigned long long)cum);
}

void
metrics_write_process(GString *out, double start_seconds, const char *version)
{
    metrics_family(out, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.");
    metrics_sample(out, "process_start_time_seconds", NULL, start_seconds);
    metrics_family(out, "cpr_build_info", "gauge",
                   "The cpr-milter release this program was built from; always 1.");
    metrics_sample(out, "cpr_build_info", (const char *const[]){ "version", version, NULL }, 1);
}

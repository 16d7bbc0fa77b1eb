/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   intakemetrics - cpr-milter's metrics: messages, tempfails, intake time
 * DESCRIPTION
 *   See intakemetrics.h. One static table of atomics; every series is
 *   written from the first scrape on, at 0, so rate() and increase() see
 *   the first message too.
 * DIAGNOSTICS
 *   None beyond intakemetrics_start's log line.
 */
#include "autoconf.h"

#include "intakemetrics.h"

#include <string.h>
#include <time.h>

#include "category.h"

static const char *const kind_names[INTAKEMETRICS_KIND_COUNT] = {
    "new-report", "follow-up", "automated", "outbound", "staff-reply", "probe", "other",
};
static const char *const tempfail_names[INTAKEMETRICS_TEMPFAIL_COUNT] = {
    "db_unavailable", "db_error", "bad_result", "no_memory",
};
/* Seconds: an intake takes milliseconds, [milter] db_timeout bounds it. */
static const double intake_bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static atomic_uint_least64_t case_messages[INTAKEMETRICS_CASE_KINDS][CATEGORY_COUNT];
static atomic_uint_least64_t other_messages[INTAKEMETRICS_KIND_COUNT];
static atomic_uint_least64_t tempfails[INTAKEMETRICS_TEMPFAIL_COUNT];
static struct metrics_histogram intake_seconds = METRICS_HISTOGRAM(intake_bounds);

void
intakemetrics_message(enum intakemetrics_kind kind)
{
    if (kind < INTAKEMETRICS_CASE_KINDS || kind >= INTAKEMETRICS_KIND_COUNT)
        kind = INTAKEMETRICS_OTHER;
    metrics_counter_add(&other_messages[kind], 1);
}

void
intakemetrics_recorded(const char *kind, const char *category)
{
    enum category_id cat = CATEGORY_OTHER;

    for (size_t k = 0; k < INTAKEMETRICS_CASE_KINDS; k++)
        if (kind != NULL && strcmp(kind, kind_names[k]) == 0) {
            if (category == NULL || !category_parse(category, &cat))
                cat = CATEGORY_OTHER;
            metrics_counter_add(&case_messages[k][cat], 1);
            return;
        }
    intakemetrics_message(INTAKEMETRICS_OTHER);
}

void
intakemetrics_tempfail(enum intakemetrics_tempfail why)
{
    if (why < INTAKEMETRICS_TEMPFAIL_COUNT)
        metrics_counter_add(&tempfails[why], 1);
}

double
intakemetrics_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
intakemetrics_intake(double seconds)
{
    metrics_histogram_observe(&intake_seconds, seconds);
}

static void
render_messages(GString *out)
{
    metrics_family(out, "cpr_milter_messages_total", "counter",
                   "Messages seen by cpr-milter, by X-CPR-Kind and X-CPR-Category "
                   "(staff-reply, probe and other open no case: category none).");
    for (size_t k = 0; k < INTAKEMETRICS_CASE_KINDS; k++)
        for (size_t c = 0; c < CATEGORY_COUNT; c++)
            metrics_sample(out, "cpr_milter_messages_total",
                           (const char *const[]){ "kind", kind_names[k], "category",
                                                  category_name((enum category_id)c), NULL },
                           (double)metrics_counter_get(&case_messages[k][c]));
    for (size_t k = INTAKEMETRICS_CASE_KINDS; k < INTAKEMETRICS_KIND_COUNT; k++)
        metrics_sample(out, "cpr_milter_messages_total",
                       (const char *const[]){ "kind", kind_names[k], "category", "none", NULL },
                       (double)metrics_counter_get(&other_messages[k]));
}

void
intakemetrics_render(GString *out, void *arg)
{
    (void)arg;
    render_messages(out);
    metrics_family(out, "cpr_milter_tempfail_total", "counter",
                   "Messages answered 451 4.3.0 (the sender retries), by reason.");
    for (size_t r = 0; r < INTAKEMETRICS_TEMPFAIL_COUNT; r++)
        metrics_sample(out, "cpr_milter_tempfail_total",
                       (const char *const[]){ "reason", tempfail_names[r], NULL },
                       (double)metrics_counter_get(&tempfails[r]));
    metrics_histogram_write(out, "cpr_milter_intake_seconds",
                            "Time of the one database round trip (cpr.intake) per report, "
                            "failed ones included.", &intake_seconds);
}

struct metrics_server *
intakemetrics_start(const struct cpr_config *cfg)
{
    struct metrics_settings s = { cfg->milter_metrics_listen, PACKAGE_VERSION,
                                  intakemetrics_render, NULL };

    return metrics_open("milter", &s);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepmetrics - cpr-sweeper's metrics: pages, backlog, deadlines, database
 * DESCRIPTION
 *   See sweepmetrics.h. One static table: the page counters (one row of
 *   atomics per configured channel, made at start) and the gauges of the
 *   last round under one mutex. A channel name is a config name
 *   ([A-Za-z0-9_.-], config.c), never a value from the network.
 * DIAGNOSTICS
 *   A failed cpr.metrics_counts call leaves the last counts in place and
 *   sets cpr_db_up to 0.
 */
#include "autoconf.h"

#include "sweepmetrics.h"

#include <pthread.h>
#include <stdlib.h>

#include "deadline.h"
#include "now.h"

#define SWEEPMETRICS_CLOCKS (CLOCK_REVOCATION + 1)

static const char *const result_names[SWEEPMETRICS_RESULTS] = { "sent", "retry", "failed" };

struct gauges {
    bool db_up;
    bool have_counts;              /* cpr.metrics_counts answered once */
    long long cases_open;
    long long outbox_pending;
    long long nearest[SWEEPMETRICS_CLOCKS];   /* deadline, database epoch ms; 0: none */
    long long db_now, db_mono;     /* the database clock at db_mono */
};

static pthread_mutex_t gauges_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gauges gauges;
static const struct escalation *channels_of;
static atomic_uint_least64_t (*pages)[SWEEPMETRICS_RESULTS];

void
sweepmetrics_init(const struct escalation *esc)
{
    channels_of = esc;
    pages = calloc(esc->nchannels ? esc->nchannels : 1, sizeof(*pages));
}

void
sweepmetrics_page(const struct pager_channel *ch, enum sweepmetrics_result r)
{
    const struct escalation *e = channels_of;

    if (e == NULL || pages == NULL || r >= SWEEPMETRICS_RESULTS || ch < e->channels
        || ch >= e->channels + e->nchannels)
        return;
    metrics_counter_add(&pages[ch - e->channels][r], 1);
}

void
sweepmetrics_round(PGconn *conn)
{
    long long open = 0, pending = 0;
    bool counted = conn != NULL && sweepdb_metrics_counts(conn, &open, &pending);

    pthread_mutex_lock(&gauges_mu);
    gauges.db_up = counted;
    if (counted) {
        gauges.have_counts = true;
        gauges.cases_open = open;
        gauges.outbox_pending = pending;
    }
    pthread_mutex_unlock(&gauges_mu);
}

void
sweepmetrics_deadlines(const struct sweep_case *cases, size_t n,
                       const struct deadline_policy *p, long long db_now, long long db_mono)
{
    long long nearest[SWEEPMETRICS_CLOCKS] = { 0 };

    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < SWEEPMETRICS_CLOCKS; c++) {
            long long d = deadline_of(&cases[i].clocks, p, (enum deadline_clock)c);

            if (d > 0 && deadline_clock_stop(&cases[i].clocks, (enum deadline_clock)c) == 0
                && (nearest[c] == 0 || d < nearest[c]))
                nearest[c] = d;
        }
    pthread_mutex_lock(&gauges_mu);
    for (int c = 0; c < SWEEPMETRICS_CLOCKS; c++)
        gauges.nearest[c] = nearest[c];
    gauges.db_now = db_now;
    gauges.db_mono = db_mono;
    pthread_mutex_unlock(&gauges_mu);
}

static void
write_pages(GString *out)
{
    const struct escalation *e = channels_of;

    metrics_family(out, "cpr_sweeper_pages_total", "counter",
                   "Page send attempts by this sweeper, by channel and result "
                   "(retry: failed, retried later; failed: final, the next tier is paged).");
    for (size_t i = 0; e != NULL && pages != NULL && i < e->nchannels; i++)
        for (int r = 0; r < SWEEPMETRICS_RESULTS; r++)
            metrics_sample(out, "cpr_sweeper_pages_total",
                           (const char *const[]){ "channel", e->channels[i].name,
                                                  "result", result_names[r], NULL },
                           (double)metrics_counter_get(&pages[i][r]));
}

static void
write_deadlines(GString *out, const struct gauges *g, long long mono_now)
{
    long long db_now = g->db_now + (mono_now - g->db_mono);

    metrics_family(out, "cpr_deadline_seconds_left", "gauge",
                   "Seconds to the nearest deadline of each running clock over the open "
                   "cases (database clock); negative when overdue.");
    for (int c = 0; c < SWEEPMETRICS_CLOCKS; c++)
        if (g->nearest[c] > 0)
            metrics_sample(out, "cpr_deadline_seconds_left",
                           (const char *const[]){ "clock",
                               deadline_clock_name((enum deadline_clock)c), NULL },
                           (double)(g->nearest[c] - db_now) / 1000.0);
}

void
sweepmetrics_write(GString *out, long long mono_now)
{
    struct gauges g;

    pthread_mutex_lock(&gauges_mu);
    g = gauges;
    pthread_mutex_unlock(&gauges_mu);
    write_pages(out);
    metrics_family(out, "cpr_db_up", "gauge",
                   "1 when the sweeper's last round reached the database, else 0.");
    metrics_sample(out, "cpr_db_up", NULL, g.db_up ? 1 : 0);
    if (g.have_counts) {
        metrics_family(out, "cpr_cases_open", "gauge", "Open cases (cpr.metrics_counts).");
        metrics_sample(out, "cpr_cases_open", NULL, (double)g.cases_open);
        metrics_family(out, "cpr_outbox_pending", "gauge",
                       "Auto-replies not yet sent: pending or sending (cpr.metrics_counts).");
        metrics_sample(out, "cpr_outbox_pending", NULL, (double)g.outbox_pending);
    }
    write_deadlines(out, &g, mono_now);
}

void
sweepmetrics_render(GString *out, void *arg)
{
    (void)arg;
    sweepmetrics_write(out, now_mono_ms());
}

struct metrics_server *
sweepmetrics_start(const struct cpr_config *cfg, const struct escalation *esc)
{
    struct metrics_settings s = { cfg->sweeper_metrics_listen, PACKAGE_VERSION,
                                  sweepmetrics_render, NULL };

    sweepmetrics_init(esc);
    return metrics_open("sweeper", &s);
}

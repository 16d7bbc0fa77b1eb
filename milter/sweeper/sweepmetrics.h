/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepmetrics - cpr-sweeper's metrics: pages, backlog, deadlines, database
 * SUMMARY
 *   srv = sweepmetrics_start(cfg, &esc);
 *   sweepmetrics_page(ch, SWEEPMETRICS_SENT);
 *   sweepmetrics_round(pass_ok ? conn : NULL);
 * DESCRIPTION
 *   The table behind [sweeper] metrics_listen (metrics.h serves it):
 *     cpr_sweeper_pages_total{channel,result}  send attempts by this
 *       sweeper: channel a configured [channel NAME], result sent, retry
 *       (failed, will be retried) or failed (final: the next tier is paged)
 *     cpr_db_up  1 when the last round's pass and cpr.metrics_counts
 *       succeeded, else 0
 *     cpr_cases_open, cpr_outbox_pending  from cpr.metrics_counts
 *       (025_metrics.sql), read once per loop round, never per scrape
 *     cpr_deadline_seconds_left{clock}  the nearest deadline of each
 *       running clock over the open cases of the last pass, by the database
 *       clock carried on by this host's monotonic one; negative when
 *       overdue; no sample for a clock no case runs
 *   The gauges are written by the loop thread under a mutex and read by
 *   the server thread; the page counters are atomics.
 * DIAGNOSTICS
 *   sweepmetrics_start logs an error and returns NULL when the endpoint
 *   cannot start; the sweeper runs on without it.
 */
#ifndef CPR_SWEEPMETRICS_H
#define CPR_SWEEPMETRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <libpq-fe.h>

#include "config.h"
#include "escalation.h"
#include "metrics.h"
#include "sweepdb.h"

enum sweepmetrics_result {
    SWEEPMETRICS_SENT, SWEEPMETRICS_RETRY, SWEEPMETRICS_FAILED, SWEEPMETRICS_RESULTS
};

/* The channels counted: esc's, which must outlive the table. */
void sweepmetrics_init(const struct escalation *esc);
/* One attempt on ch (one of esc's channels; others are not counted). */
void sweepmetrics_page(const struct pager_channel *ch, enum sweepmetrics_result r);
/* After a round: conn when its pass succeeded, else NULL (the database
 * counts as down). Reads cpr.metrics_counts on conn. */
void sweepmetrics_round(PGconn *conn);
/* The nearest deadline of each clock over a pass's cases; db_now and
 * db_mono map the database clock to now_mono_ms() (sweep.h). */
void sweepmetrics_deadlines(const struct sweep_case *cases, size_t n,
                            const struct deadline_policy *p, long long db_now,
                            long long db_mono);

/* The table as exposition text at mono_now (a metrics_render calls it
 * with now_mono_ms()). */
void sweepmetrics_write(GString *out, long long mono_now);
void sweepmetrics_render(GString *out, void *arg);

/* sweepmetrics_init, then the endpoint of [sweeper] metrics_listen;
 * NULL when it is off or failed. */
struct metrics_server *sweepmetrics_start(const struct cpr_config *cfg,
                                          const struct escalation *esc);

#endif

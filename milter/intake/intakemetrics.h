/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   intakemetrics - cpr-milter's metrics: messages, tempfails, intake time
 * SUMMARY
 *   intakemetrics_recorded(r.kind, r.category);
 *   intakemetrics_tempfail(INTAKEMETRICS_DB_UNAVAILABLE);
 *   srv = intakemetrics_start(cfg);
 * DESCRIPTION
 *   The table behind [milter] metrics_listen (metrics.h serves it):
 *     cpr_milter_messages_total{kind,category}  messages at end of message
 *       (and other mail accepted at end of headers). kind is the
 *       X-CPR-Kind the database gave (new-report, follow-up, automated,
 *       outbound) with category the X-CPR-Category; or staff-reply, probe
 *       or other with category "none".
 *     cpr_milter_tempfail_total{reason}  451 answers, by reason.
 *     cpr_milter_intake_seconds  histogram of the cpr.intake round trip,
 *       failed ones included.
 *   Every label value comes from a fixed list here (the categories from
 *   category.c), never from a message: a kind or category outside the
 *   lists is counted as "other". Counters are atomics, safe from every
 *   milter thread.
 * DIAGNOSTICS
 *   intakemetrics_start logs an error and returns NULL when the endpoint
 *   cannot start; the milter runs on without it.
 */
#ifndef CPR_INTAKEMETRICS_H
#define CPR_INTAKEMETRICS_H

#include <glib.h>

#include "config.h"
#include "metrics.h"

enum intakemetrics_kind {
    INTAKEMETRICS_NEW_REPORT, INTAKEMETRICS_FOLLOW_UP, INTAKEMETRICS_AUTOMATED,
    INTAKEMETRICS_OUTBOUND,            /* the kinds above carry a category */
    INTAKEMETRICS_STAFF_REPLY, INTAKEMETRICS_PROBE, INTAKEMETRICS_OTHER,
    INTAKEMETRICS_KIND_COUNT
};
#define INTAKEMETRICS_CASE_KINDS (INTAKEMETRICS_OUTBOUND + 1)

enum intakemetrics_tempfail {
    INTAKEMETRICS_DB_UNAVAILABLE,      /* no connection, or the breaker is open */
    INTAKEMETRICS_DB_ERROR,            /* the database answered with an error */
    INTAKEMETRICS_BAD_RESULT,          /* cpr.intake returned something malformed */
    INTAKEMETRICS_NO_MEMORY,
    INTAKEMETRICS_TEMPFAIL_COUNT
};

/* A message that opened no case (staff reply, probe, other mail). */
void intakemetrics_message(enum intakemetrics_kind kind);
/* A message cpr.intake recorded: its result's kind and category. */
void intakemetrics_recorded(const char *kind, const char *category);
void intakemetrics_tempfail(enum intakemetrics_tempfail why);
/* Monotonic seconds, to time a round trip for intakemetrics_intake(). */
double intakemetrics_clock(void);
void intakemetrics_intake(double seconds);

/* The whole table as exposition text (a metrics_render). */
void intakemetrics_render(GString *out, void *arg);

/* The endpoint of [milter] metrics_listen; NULL when it is off or failed. */
struct metrics_server *intakemetrics_start(const struct cpr_config *cfg);

#endif

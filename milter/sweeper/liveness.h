/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   liveness - cpr-sweeper pages tier 1 when a cpr-milter stops beating
 * SUMMARY
 *   delay_ms = liveness_pass(&sweeper, &ok);
 * DESCRIPTION
 *   Each pass takes, one by one, the milter-down pages and resolves the
 *   database says are due (cpr.milter_alerts, 021_liveness.sql: down,
 *   stopped past its grace, wedged, or none beating at all), sends each
 *   to every channel of tier 1 naming host, socket, pid and reason, and
 *   records it (cpr.alert_done): sent when a channel took it, else due
 *   again after a backoff. The database leases each to one sweeper, so
 *   with several sweepers each goes out once. Every alert of one milter
 *   shares a dedup key, so the resolve closes the page.
 */
#ifndef CPR_LIVENESS_H
#define CPR_LIVENESS_H

#include <stdbool.h>

#include "pager.h"
#include "sweep.h"

#define LIVENESS_DEDUP_PREFIX "cpr-milter/"
#define LIVENESS_MAX_ALERTS   32   /* pages and resolves sent per pass */

/* In how many ms the next liveness pass is wanted (0: nothing known);
 * *ok is false when a database call failed. */
long long liveness_pass(struct sweeper *s, bool *ok);

/* Shared with probewatch.c: send n to every tier-1 channel (true when one
 * took it), and a lease long enough for one attempt on each of them. */
bool liveness_tier1_send(const struct sweeper *s, const struct pager_notice *n);
long long liveness_lease_ms(const struct sweeper *s);

#endif

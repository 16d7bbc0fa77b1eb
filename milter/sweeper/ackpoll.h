/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   ackpoll - acknowledge where the page arrives: poll PagerDuty and Opsgenie
 * SUMMARY
 *   if (!ackpoll_build(cfg, &ap, &err)) ...;  s.poll = &ap;
 *   ackpoll_opened(s, step, alert_key);      after a trigger went out
 *   ackpoll_closed(s, channel, alert_key);   before our own acknowledge/resolve
 *   wait_ms = ackpoll_pass(s, &ok);
 * DESCRIPTION
 *   For each channel with `poll = yes` (pagerduty, opsgenie), every
 *   poll_interval, asks the service's REST API (io/pagerpoll.c) about the
 *   alerts the sweepers opened there and have not seen resolved
 *   (cpr.alerts rows with next_poll_at, 029_pager_poll.sql: an index
 *   range of the due ones, claimed with SKIP LOCKED, so with several
 *   sweepers each alert is asked about once per interval). An acknowledgement there acknowledges the case through
 *   cpr.ack, with the actor the service names (pagerduty:EMAIL,
 *   opsgenie:USER); the next pass then plans no further tier. A resolve
 *   there by hand is recorded and stops nothing. Each channel spends at
 *   most poll_rate requests a minute (a token bucket) and at most
 *   ACKPOLL_MAX_PER_PASS per pass; a 429 stops that channel's polling
 *   until its Retry-After (else 60 s, doubling up to 15 min).
 * DIAGNOSTICS
 *   One log line per acknowledgement or resolve seen, and per failing
 *   channel (throttled); the API key is never logged.
 */
#ifndef CPR_ACKPOLL_H
#define CPR_ACKPOLL_H

#include <stdbool.h>

#include "config.h"
#include "logthrottle.h"
#include "pagerpoll.h"
#include "pollstate.h"

#define ACKPOLL_MAX_PER_PASS  100     /* alerts asked about per channel and pass */

struct sweeper;
struct sweep_step;

struct ackpoll_channel {
    struct pagerpoll_channel pc;
    char *api_key;              /* g_malloc'd, wiped on free */
    long long interval_ms;
    long rate;
    struct poll_budget budget;
    struct log_throttle log;
};

struct ackpoll {
    struct ackpoll_channel *ch;
    size_t n;
    long long next_at;         /* next round due (monotonic ms); 0 = now */
};

bool ackpoll_build(const struct cpr_config *cfg, struct ackpoll *ap, char **err);
void ackpoll_free(struct ackpoll *ap);

/* Hooks from the delivery of a step (sweep.c); false on a database failure. */
bool ackpoll_opened(struct sweeper *s, const struct sweep_step *st, const char *key);
bool ackpoll_closed(struct sweeper *s, const char *channel, const char *key);

/* One round over the polled channels; returns the ms until the next poll
 * is due (0: none); *ok false when the database failed. */
long long ackpoll_pass(struct sweeper *s, bool *ok);

#endif

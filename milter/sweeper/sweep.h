/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweep - one pass of cpr-sweeper: plan, offer, claim, deliver
 * SUMMARY
 *   delay_ms = sweep_pass(&sweeper, &ok);
 * DESCRIPTION
 *   A pass (1) plans every open case with deadline_plan() and offers each
 *   due step to the channels of its tier, (2) claims ready steps and
 *   delivers each through its channel, recording the outcome: sent, retry
 *   with backoff, failed (then the next tier is paged at once), or skipped
 *   (no longer wanted: acked, stopped or closed since it was offered).
 *   (3) pages tier 1 for milters that stopped beating (liveness.c).
 *   It returns when the next pass is due: the earliest future deadline step
 *   or retry. Nothing here sleeps; the caller waits.
 */
#ifndef CPR_SWEEP_H
#define CPR_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "escalation.h"
#include "logthrottle.h"

struct ackpoll;


struct sweeper {
    PGconn *conn;
    char worker[192];          /* cpr-sweeper@host:pid:nonce, owner of claims */
    char actor[140];           /* cpr-sweeper@host, in audit events */
    const struct cpr_config *cfg;   /* [web]: the ack links of pages */
    struct escalation esc;     /* channels, tiers and deadline policy */
    struct log_throttle *channel_log;   /* per esc channel: sendlog.h */
    int lease_ms;
    long long group_window_ms; /* [paging] group_window; 0 = no grouping */
    long long milter_down_after_ms;   /* liveness.h */
    long long milter_grace_ms;
    long long probe_timeout_ms;       /* probewatch.h */
    long long db_now;          /* the database clock at the pass's start (epoch ms) */
    long long db_mono;         /* ... and our monotonic clock at that moment */
    struct ackpoll *poll;      /* channels polled for acks (ackpoll.h); NULL = none */
};

/* Plans on the database's clock (read with the cases, never this host's
 * wall clock). Returns in how many ms the next pass is wanted, by the
 * database clock, for the caller's monotonic clock (0: nothing
 * scheduled); *ok is false when a database call failed. */
long long sweep_pass(struct sweeper *s, bool *ok);

/* Close n's alert on ch: acknowledge and resolve by its key (PagerDuty,
 * Opsgenie, webhook), or one "resolved" message (Slack, email) unless
 * *messaged (set here); nothing when the channel has resolve = no
 * (PagerDuty and Opsgenie always resolve). Sets n's event and actor; false
 * if a send failed; *sent (when not NULL) set true if something went out. */
struct pager_notice;
struct pager_channel;
bool sweep_close_notice(const struct sweeper *s, const struct pager_channel *ch,
                        struct pager_notice *n, bool *messaged, bool *sent);

#endif

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
 *   It returns when the next pass is due: the earliest future deadline step
 *   or retry. Nothing here sleeps; the caller waits.
 */
#ifndef CPR_SWEEP_H
#define CPR_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "deadline.h"
#include "pager.h"


struct sweep_tier {
    char *name;
    size_t *channels;          /* indexes into sweeper.channels */
    size_t nchannels;
    char *channels_json;       /* ["name", ...], for cpr.step_offer */
};

struct sweeper {
    PGconn *conn;
    char worker[192];          /* cpr-sweeper@host:pid:nonce, owner of claims */
    char actor[140];           /* cpr-sweeper@host, in audit events */
    struct deadline_policy policy;
    struct pager_channel *channels;
    size_t nchannels;
    struct sweep_tier *tiers;  /* tiers[0] is tier 1 */
    size_t ntiers;
    char *all_channels_json;   /* every channel: breaches page every tier */
    int retry_max;
    long long retry_base_ms;
    long long retry_cap_ms;
    int lease_ms;
    long long group_window_ms; /* [paging] group_window; 0 = no grouping */
    long long db_now;          /* the database clock at the pass's start (epoch ms) */
    long long db_mono;         /* ... and our monotonic clock at that moment */
};

/* Plans on the database's clock (read with the cases, never this host's
 * wall clock). Returns in how many ms the next pass is wanted, by the
 * database clock, for the caller's monotonic clock (0: nothing
 * scheduled); *ok is false when a database call failed. */
long long sweep_pass(struct sweeper *s, bool *ok);

/* A test notice through one channel (cprctl test-page, health pages). */
enum pager_result sweep_notify_direct(const struct pager_channel *ch,
                                      const struct pager_notice *n, char *err,
                                      size_t errlen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   wake - when the sweeper should look again: new rows in cpr.events
 * DESCRIPTION
 *   Every change a sweeper must act on (a new case, a follow-up, an ack,
 *   a close) appends a row to cpr.events, and events are insert-only. The
 *   sweeper polls "how many events above the floor id", which is an index
 *   range scan over the last few seconds of rows, instead of a NOTIFY
 *   (whose commit-time queue lock serialises every intake's commit).
 *
 *   Ids are taken before commit, so a row can become visible after one
 *   with a higher id: a count above the floor sees it, a max(id) would
 *   not. The floor moves up every window_ms to the highest id seen one
 *   window earlier, so the count stays small; a transaction that holds an
 *   id uncommitted for longer than window_ms could be missed, and is then
 *   seen by the next timed pass. Pure: the caller runs the query and
 *   passes the time in (monotonic ms).
 * SEE ALSO
 *   sweepdb_changes() in sweepdb.c, loop_wait() in cpr-sweeper.c.
 */
#ifndef CPR_WAKE_H
#define CPR_WAKE_H

#include <stdbool.h>

struct wake {
    long long window_ms;
    long long floor;        /* rows with id > floor are counted; -1: unknown */
    long long next_floor;   /* the top when the floor last moved */
    long long moved_at;
    long long count;        /* rows above floor at the last look */
};

void wake_init(struct wake *w, long long window_ms);
/* Forget the floor (after a reconnect): the next look learns it. */
void wake_reset(struct wake *w);
bool wake_known(const struct wake *w);
/* The first look: the highest id now is the floor. */
void wake_start(struct wake *w, long long now_ms, long long top);
/* The two floors of the next look: lo (compared) and base (the next
 * baseline; equal to lo unless the floor moves at this look). */
void wake_floors(const struct wake *w, long long now_ms, long long *lo, long long *base);
/* A look's result: n_lo rows above lo, n_base above base, top the highest
 * id. True when rows appeared since the last look. */
bool wake_saw(struct wake *w, long long now_ms, long long n_lo, long long n_base,
              long long top);

#endif

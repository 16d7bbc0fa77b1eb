/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   wake - when the sweeper should look again: new rows in cpr.events
 * DESCRIPTION
 *   See wake.h. No clocks and no I/O: tests drive it with times and counts.
 */
#include "wake.h"

void
wake_init(struct wake *w, long long window_ms)
{
    w->window_ms = window_ms > 0 ? window_ms : 1;
    wake_reset(w);
}

void
wake_reset(struct wake *w)
{
    w->floor = -1;
    w->next_floor = -1;
    w->moved_at = 0;
    w->count = 0;
}

bool
wake_known(const struct wake *w)
{
    return w->floor >= 0;
}

void
wake_start(struct wake *w, long long now_ms, long long top)
{
    w->floor = top < 0 ? 0 : top;
    w->next_floor = w->floor;
    w->moved_at = now_ms;
    w->count = 0;
}

static bool
move_due(const struct wake *w, long long now_ms)
{
    return now_ms - w->moved_at >= w->window_ms;
}

void
wake_floors(const struct wake *w, long long now_ms, long long *lo, long long *base)
{
    *lo = w->floor;
    *base = move_due(w, now_ms) ? w->next_floor : w->floor;
}

bool
wake_saw(struct wake *w, long long now_ms, long long n_lo, long long n_base,
         long long top)
{
    bool changed = n_lo > w->count;

    if (move_due(w, now_ms)) {
        w->floor = w->next_floor;
        w->next_floor = top > w->floor ? top : w->floor;
        w->moved_at = now_ms;
        w->count = n_base;
    } else {
        w->count = n_lo;
    }
    return changed;
}

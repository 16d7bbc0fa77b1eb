/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   now - the two clocks the programs read
 * DESCRIPTION
 *   now_wall_ms(): UTC wall-clock milliseconds since the epoch, for
 *   deadlines (which are wall-clock, 24x7). now_mono_ms(): monotonic
 *   milliseconds, for timeouts and latencies, which must not jump with the
 *   wall clock. now_deadline(): a struct timespec for
 *   pthread_cond_timedwait() on a CLOCK_MONOTONIC condition variable.
 *   Pure logic never calls these: it takes `now` as a parameter.
 */
#ifndef CPR_NOW_H
#define CPR_NOW_H

#include <time.h>

long long now_wall_ms(void);
long long now_mono_ms(void);
/* CLOCK_MONOTONIC now + ms. */
void now_deadline(struct timespec *ts, long long ms);

#endif

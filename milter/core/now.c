/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   now - the two clocks the programs read
 * DESCRIPTION
 *   See now.h.
 */
#include "now.h"

static long long
now_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
now_wall_ms(void)
{
    return now_ms(CLOCK_REALTIME);
}

long long
now_mono_ms(void)
{
    return now_ms(CLOCK_MONOTONIC);
}

void
now_deadline(struct timespec *ts, long long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

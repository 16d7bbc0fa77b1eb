/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   clockskew - LD_PRELOAD shim: this process's wall clock off by N seconds
 * SUMMARY
 *   CPR_TEST_SKEW_S=300 LD_PRELOAD=tests/clockskew.so cpr-sweeper ...
 * DESCRIPTION
 *   Shifts CLOCK_REALTIME (clock_gettime, gettimeofday, time) by
 *   CPR_TEST_SKEW_S seconds, positive or negative; the monotonic clocks
 *   are left alone. A stand-in for faketime, which Debian 12 has but the
 *   test machines need not: it shows that the sweeper plans on the
 *   database's clock, not its host's.
 * DIAGNOSTICS
 *   None; an unset or bad CPR_TEST_SKEW_S means no skew.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long
skew_s(void)
{
    const char *v = getenv("CPR_TEST_SKEW_S");

    return v ? strtol(v, NULL, 10) : 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    int rc;

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
    rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += skew_s();
    return rc;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec ts;

    (void)tz;
    if (tv == NULL || clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t
time(time_t *t)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (t != NULL)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   logthrottle - log a repeated failure with back-off, then its recovery
 * SUMMARY
 *   struct log_throttle t; log_throttle_init(&t, LOG_THROTTLE_INTERVAL_MS);
 *   log_throttle_fail(&t, now, "database unavailable: %s", err);
 *   log_throttle_ok(&t, now, "database reachable again");
 * DESCRIPTION
 *   One failing thing (the database, a channel) is logged on its first
 *   failure, then at most once an interval with the count of failures
 *   since the last line, then once when it recovers, with how long it was
 *   down and how many failures there were. A success while not failing
 *   logs nothing. The clock is passed in (now_mono_ms() in the programs,
 *   any numbers in the tests).
 *
 *   log_throttle_failed and log_throttle_recovered decide only (pure);
 *   log_throttle_fail and log_throttle_ok decide and log (warning, notice).
 */
#ifndef CPR_LOGTHROTTLE_H
#define CPR_LOGTHROTTLE_H

#include <stdbool.h>

#define LOG_THROTTLE_INTERVAL_MS 60000LL   /* at most one repeat line a minute */

struct log_throttle {
    long long interval_ms;
    bool failing;
    long long since;           /* first failure of this outage */
    long long last_logged;     /* the last failure line */
    long long unlogged;        /* failures since that line */
    long long failures;        /* failures of this outage */
};

enum log_throttle_say {
    LOG_THROTTLE_QUIET,        /* nothing to log */
    LOG_THROTTLE_FIRST,        /* the first failure */
    LOG_THROTTLE_REPEAT,       /* still failing; *count failures since the last line */
    LOG_THROTTLE_RECOVERED     /* recovered; *count failures, *down_ms down */
};

void log_throttle_init(struct log_throttle *t, long long interval_ms);
enum log_throttle_say log_throttle_failed(struct log_throttle *t, long long now,
                                          long long *count);
enum log_throttle_say log_throttle_recovered(struct log_throttle *t, long long now,
                                             long long *count, long long *down_ms);

void log_throttle_fail(struct log_throttle *t, long long now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when it logged (the thing was failing). */
bool log_throttle_ok(struct log_throttle *t, long long now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

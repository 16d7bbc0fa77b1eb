/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   logthrottle - log a repeated failure with back-off, then its recovery
 * DESCRIPTION
 *   See logthrottle.h. Owns only the counting; the lines go through log.c.
 */
#include "logthrottle.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void
log_throttle_init(struct log_throttle *t, long long interval_ms)
{
    *t = (struct log_throttle){ .interval_ms = interval_ms };
}

enum log_throttle_say
log_throttle_failed(struct log_throttle *t, long long now, long long *count)
{
    t->failures++;
    if (!t->failing) {
        t->failing = true;
        t->since = t->last_logged = now;
        t->unlogged = 0;
        *count = 1;
        return LOG_THROTTLE_FIRST;
    }
    t->unlogged++;
    if (now - t->last_logged < t->interval_ms)
        return LOG_THROTTLE_QUIET;
    *count = t->unlogged;
    t->unlogged = 0;
    t->last_logged = now;
    return LOG_THROTTLE_REPEAT;
}

enum log_throttle_say
log_throttle_recovered(struct log_throttle *t, long long now, long long *count,
                       long long *down_ms)
{
    if (!t->failing)
        return LOG_THROTTLE_QUIET;
    *count = t->failures;
    *down_ms = now - t->since;
    log_throttle_init(t, t->interval_ms);
    return LOG_THROTTLE_RECOVERED;
}

void
log_throttle_fail(struct log_throttle *t, long long now, const char *fmt, ...)
{
    char what[LOG_LINE_MAX];
    long long count = 0;
    enum log_throttle_say say = log_throttle_failed(t, now, &count);
    va_list ap;

    if (say == LOG_THROTTLE_QUIET)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (say == LOG_THROTTLE_FIRST)
        log_warn("%s", what);
    else
        log_warn("%s (%lld more times; failing for %lld s)", what, count,
                 (now - t->since) / 1000);
}

bool
log_throttle_ok(struct log_throttle *t, long long now, const char *fmt, ...)
{
    char what[LOG_LINE_MAX];
    long long count = 0, down_ms = 0;
    va_list ap;

    if (log_throttle_recovered(t, now, &count, &down_ms) != LOG_THROTTLE_RECOVERED)
        return false;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    log_notice("%s (after %lld.%03lld s and %lld failures)", what, down_ms / 1000,
               down_ms % 1000, count);
    return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   breaker - a circuit breaker for the database path
 * DESCRIPTION
 *   Pure state machine; time is always passed in (monotonic ms). CLOSED lets
 *   calls through. A failure opens it: calls are refused at once until a
 *   reconnect succeeds (breaker_success) -- the reconnect thread asks
 *   breaker_probe_due() when to try next, backing off from retry_ms up to
 *   max_retry_ms. Callers hold their own lock.
 */
#ifndef CPR_BREAKER_H
#define CPR_BREAKER_H

#include <stdbool.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN };

struct breaker {
    enum breaker_state state;
    long long opened_at;
    long long next_probe_at;
    long long retry_ms;
    long long max_retry_ms;
    long long cur_retry_ms;
    unsigned long failures;      /* consecutive */
};

void breaker_init(struct breaker *b, long long retry_ms, long long max_retry_ms);
bool breaker_allow(const struct breaker *b);
void breaker_failure(struct breaker *b, long long now_ms);
void breaker_success(struct breaker *b);
bool breaker_probe_due(const struct breaker *b, long long now_ms);
/* A failed probe: schedule the next one with backoff. */
void breaker_probe_failed(struct breaker *b, long long now_ms);

#endif

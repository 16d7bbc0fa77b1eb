/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   breaker - a circuit breaker for the database path
 * DESCRIPTION
 *   See breaker.h. No clocks, no locks, no I/O: tests drive it with times.
 */
#include "breaker.h"

void
breaker_init(struct breaker *b, long long retry_ms, long long max_retry_ms)
{
    b->state = BREAKER_CLOSED;
    b->opened_at = 0;
    b->next_probe_at = 0;
    b->retry_ms = retry_ms;
    b->max_retry_ms = max_retry_ms < retry_ms ? retry_ms : max_retry_ms;
    b->cur_retry_ms = retry_ms;
    b->failures = 0;
}

bool
breaker_allow(const struct breaker *b)
{
    return b->state == BREAKER_CLOSED;
}

void
breaker_failure(struct breaker *b, long long now_ms)
{
    b->failures++;
    if (b->state == BREAKER_OPEN)
        return;
    b->state = BREAKER_OPEN;
    b->opened_at = now_ms;
    b->cur_retry_ms = b->retry_ms;
    /* Probe at once: the failure may have been one dropped connection. */
    b->next_probe_at = now_ms;
}

void
breaker_success(struct breaker *b)
{
    b->state = BREAKER_CLOSED;
    b->failures = 0;
    b->cur_retry_ms = b->retry_ms;
}

bool
breaker_probe_due(const struct breaker *b, long long now_ms)
{
    return b->state == BREAKER_OPEN && now_ms >= b->next_probe_at;
}

void
breaker_probe_failed(struct breaker *b, long long now_ms)
{
    b->failures++;
    b->next_probe_at = now_ms + b->cur_retry_ms;
    b->cur_retry_ms *= 2;
    if (b->cur_retry_ms > b->max_retry_ms)
        b->cur_retry_ms = b->max_retry_ms;
}

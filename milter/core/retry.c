/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   retry - outcome classes and exponential backoff with jitter
 * DESCRIPTION
 *   See retry.h. The doubling stops at the cap, so 2^attempt never
 *   overflows whatever attempt is.
 */
#include "retry.h"

enum send_result
retry_classify(long status, int transport_error)
{
    if (transport_error != 0)
        return SEND_RETRY;
    if (status >= 200 && status <= 299)
        return SEND_OK;
    if (status == 429 || (status >= 500 && status <= 599))
        return SEND_RETRY;
    return SEND_FAILED;
}

long long
retry_backoff_ms(int attempt, long long base_ms, long long cap_ms, unsigned rnd)
{
    long long d = base_ms, half, span;

    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    for (int i = 0; i < attempt && d < cap_ms; i++)
        d = d > cap_ms / 2 ? cap_ms : d * 2;
    if (d > cap_ms)
        d = cap_ms;
    half = d / 2;
    span = d - half;
    return half + (long long) ((unsigned long long) rnd % (unsigned long long) (span + 1));
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   retry - what one delivery attempt's outcome means, and how long to wait
 * SUMMARY
 *   enum send_result r = retry_classify(http_status, transport_error);
 *   wait_ms = retry_backoff_ms(attempt, base_ms, cap_ms, random_bits);
 * DESCRIPTION
 *   Shared by every sender that retries: the pager (cpr-sweeper) and the
 *   outbox of auto-replies and staff mail (cpr-milter). Pure: no I/O, the
 *   randomness is passed in.
 */
#ifndef CPR_RETRY_H
#define CPR_RETRY_H

/* One SMTP attempt (io/smtp.c); config bounds the outbox lease by it. */
#define SMTP_TIMEOUT_MS 30000

enum send_result { SEND_OK, SEND_RETRY, SEND_FAILED };

/* 2xx: OK; 429, 5xx, or a transport error (transport_error != 0): RETRY;
 * any other status: FAILED. */
enum send_result retry_classify(long status, int transport_error);

/* Exponential backoff with jitter: base * 2^attempt, capped, then a random
 * part in [50%, 100%] chosen by rnd (pass random bits; tests pass fixed). */
long long retry_backoff_ms(int attempt, long long base_ms, long long cap_ms,
                           unsigned rnd);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   heartbeat - cpr-milter tells the database it is alive
 * SUMMARY
 *   hb = heartbeat_start(&settings); ... heartbeat_stop(hb, on_purpose);
 *   heartbeat_callback_begin(); ... heartbeat_callback_end();
 * DESCRIPTION
 *   A thread of its own, on a connection of its own (never the intake
 *   pool's, so a busy or wedged pool cannot silence it), calls
 *   cpr.milter_beat every interval (021_liveness.sql): host, socket, pid,
 *   version, uptime, messages stamped and tempfailed, callbacks running,
 *   and how long ago the last callback completed. Ages are measured on
 *   the monotonic clock; the database turns them into times on its own.
 *   The counters are process-wide atomics that filter.c bumps from any
 *   callback thread. heartbeat_stop_begin with on_purpose (SIGTERM)
 *   sends a last beat that says the milter is stopping; the caller stops
 *   its other threads meanwhile, then waits with heartbeat_stop.
 * DIAGNOSTICS
 *   A failed beat is logged once, and again when beats work again.
 */
#ifndef CPR_HEARTBEAT_H
#define CPR_HEARTBEAT_H

#include <stdbool.h>

#define HEARTBEAT_HOST_MAX 255   /* bytes of the host name sent */

struct heartbeat_settings {
    const char *conninfo;
    const char *socket;        /* [milter] socket: with the host, the milter's key */
    const char *version;
    long long interval_ms;
    long long db_timeout_ms;   /* connect and each beat */
};

struct heartbeat;

#define HEARTBEAT_LAST_MS 2000   /* deadline of the last beat, at shutdown */

/* NULL when the thread cannot start. */
struct heartbeat *heartbeat_start(const struct heartbeat_settings *s);
/* Asks the thread to stop and returns at once; with on_purpose it first
 * sends one last beat marking the milter stopping, unless beats were
 * failing already (a frozen database must not hold up the shutdown). */
void heartbeat_stop_begin(struct heartbeat *hb, bool on_purpose);
/* Waits for the thread (at most a beat's db_timeout plus
 * HEARTBEAT_LAST_MS) and frees hb. NULL is fine for both. */
void heartbeat_stop(struct heartbeat *hb);

/* Around every libmilter callback (filter.c). */
void heartbeat_callback_begin(void);
void heartbeat_callback_end(void);
/* The end of a callback that is no proof of progress (negotiate, close:
 * selfcheck.c's probes run them): counted, but the last-completed time
 * is left alone, so a probe cannot hide a wedged callback. */
void heartbeat_callback_end_quiet(void);
/* A callback is running and none has completed for over limit_ms. */
bool heartbeat_callback_stuck(long long limit_ms);
/* One message stamped (its intake committed), or answered 451. */
void heartbeat_count_stamped(void);
void heartbeat_count_tempfailed(void);

#endif

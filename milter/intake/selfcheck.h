/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   selfcheck - cpr-milter proves to systemd that it answers milters
 * SUMMARY
 *   selfcheck_start(cfg->milter_socket);    (just before smfi_main())
 * DESCRIPTION
 *   Only under systemd (NOTIFY_SOCKET set; otherwise nothing starts). A
 *   detached thread connects to the milter's own socket, as the MTA
 *   would, and negotiates (SMFIC_OPTNEG, then SMFIC_QUIT): that passes
 *   only when smfi_main() accepts and a libmilter worker answers. The
 *   first negotiation that succeeds sends READY=1 (Type=notify). With
 *   WatchdogSec, every third of it another check runs, and WATCHDOG=1 is
 *   sent only when the negotiation succeeded and no callback has been
 *   running for longer than WatchdogSec (heartbeat_callback_stuck): a
 *   milter whose listener or callbacks hang stops pinging, and systemd
 *   restarts it. The probe's negotiate and close callbacks do not count
 *   as callback progress (filter.c), so they cannot hide a wedge from the
 *   heartbeat either.
 * DIAGNOSTICS
 *   log_warn on the first failed check of a run of failures (with the
 *   reason), log_info when checks pass again.
 */
#ifndef CPR_SELFCHECK_H
#define CPR_SELFCHECK_H

#include <stddef.h>

#define SELFCHECK_START_RETRY_MS 100   /* between checks until READY=1 */
#define SELFCHECK_TIMEOUT_MAX_MS 5000  /* connect, send and reply, at most */

/* Starts the thread when NOTIFY_SOCKET is set; a socket spec it cannot
 * reach by itself sends READY=1 at once, with a warning. */
void selfcheck_start(const char *socket_spec);

/* The check itself: 0 when a negotiation over socket_spec worked within
 * timeout_ms, else -1 with the reason in err. */
int selfcheck_negotiate(const char *socket_spec, long long timeout_ms, char *err,
                        size_t errlen);

#endif

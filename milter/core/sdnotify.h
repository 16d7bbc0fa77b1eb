/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sdnotify - tell systemd (Type=notify) that a program is ready and alive
 * SUMMARY
 *   sdnotify_ready("listening on ..."); if (sdnotify_watchdog_ms() > 0) ...
 *   sdnotify_watchdog();
 * DESCRIPTION
 *   Thin wrappers of libsystemd's sd_notify(3) and sd_watchdog_enabled(3).
 *   Without NOTIFY_SOCKET in the environment (started by hand, by a test,
 *   by another init) every call does nothing. The callers decide when a
 *   check has passed: sdnotify itself never pings on a timer, since a
 *   ping that proves nothing would hide a hung program from systemd.
 *   sdnotify_watchdog_ms() is WatchdogSec in milliseconds, 0 when the
 *   unit sets none (or WATCHDOG_PID names another process).
 * DIAGNOSTICS
 *   A failed notification is logged once (log_warn) per kind.
 */
#ifndef CPR_SDNOTIFY_H
#define CPR_SDNOTIFY_H

#include <stdbool.h>

/* NOTIFY_SOCKET is set: someone is listening. */
bool sdnotify_enabled(void);
/* READY=1, with STATUS=status (NULL: none). */
void sdnotify_ready(const char *status);
/* STATUS=status only. */
void sdnotify_status(const char *status);
/* WATCHDOG=1: call only after a real check has passed. */
void sdnotify_watchdog(void);
/* WatchdogSec in ms, or 0. */
long long sdnotify_watchdog_ms(void);

#endif

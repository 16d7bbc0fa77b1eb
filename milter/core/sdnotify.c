/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sdnotify - tell systemd (Type=notify) that a program is ready and alive
 * DESCRIPTION
 *   See sdnotify.h. Owns nothing but the "already warned" flags; the
 *   messages go through sd_notify(3), which sends one datagram to
 *   $NOTIFY_SOCKET and does nothing when it is unset.
 * DIAGNOSTICS
 *   log_warn once per kind of message when sd_notify fails.
 */
#include "sdnotify.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"

#define SDNOTIFY_STATUS_MAX 200   /* bytes of a STATUS= line sent */

static atomic_bool warned_ready, warned_watchdog;

bool
sdnotify_enabled(void)
{
    const char *s = getenv("NOTIFY_SOCKET");

    return s != NULL && *s != '\0';
}

static void
notify(const char *msg, atomic_bool *warned)
{
    int r;

    if (!sdnotify_enabled())
        return;
    r = sd_notify(0, msg);
    if (r < 0 && !atomic_exchange(warned, true))
        log_warn("sd_notify %.*s: %s", (int)strcspn(msg, "\n"), msg, strerror(-r));
}

static void
notify_with_status(const char *head, const char *status, atomic_bool *warned)
{
    char buf[SDNOTIFY_STATUS_MAX + 32];

    if (status == NULL) {
        notify(head, warned);
        return;
    }
    snprintf(buf, sizeof(buf), "%s%sSTATUS=%.*s", head, *head ? "\n" : "",
             SDNOTIFY_STATUS_MAX, status);
    notify(buf, warned);
}

void
sdnotify_ready(const char *status)
{
    notify_with_status("READY=1", status, &warned_ready);
}

void
sdnotify_status(const char *status)
{
    notify_with_status("", status, &warned_ready);
}

void
sdnotify_watchdog(void)
{
    notify("WATCHDOG=1", &warned_watchdog);
}

long long
sdnotify_watchdog_ms(void)
{
    uint64_t usec = 0;

    if (!sdnotify_enabled() || sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return (long long)(usec / 1000);
}

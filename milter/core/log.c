/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   log - one logging family for every program
 * DESCRIPTION
 *   Owns the choice between syslog and stderr. Thread-safe: syslog(3) and
 *   a single fprintf per line are both atomic enough for our line sizes.
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

static int log_stderr = 1;
static const char *log_ident = "cpr";

void
log_init(const char *ident, int to_stderr)
{
    log_ident = ident;
    log_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
log_vwrite(int prio, const char *tag, const char *fmt, va_list ap)
{
    char line[2048];

    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_stderr)
        fprintf(stderr, "%s: %s%s\n", log_ident, tag, line);
    else
        syslog(prio, "%s%s", tag, line);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_ERR, "error: ", fmt, ap);
    va_end(ap);
}

void
log_fatal(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(status);
}

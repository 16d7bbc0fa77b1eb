/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   log - one logging family for every program
 * DESCRIPTION
 *   Owns the choice between syslog and stderr, the journald priority
 *   prefix, and the one gate every line passes (log_clean). Thread-safe:
 *   syslog(3) and a single fprintf per line are both atomic enough for
 *   our line sizes. See log.h.
 */
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

static int log_stderr = 1;
static bool log_journal;          /* stderr is the journal: prefix <N> */
static int log_facility = LOG_MAIL;
static const char *log_ident = "cpr";

static const struct {
    const char *name;
    int code;
} log_facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

int
log_facility_code(const char *name)
{
    for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
        if (strcmp(log_facilities[i].name, name) == 0)
            return log_facilities[i].code;
    return -1;
}

bool
log_journal_match(const char *env, dev_t dev, ino_t ino)
{
    uintmax_t d, i;
    int end = 0;

    if (env == NULL || sscanf(env, "%ju:%ju%n", &d, &i, &end) != 2 || env[end] != '\0')
        return false;
    return d == (uintmax_t)dev && i == (uintmax_t)ino;
}

/* systemd sets JOURNAL_STREAM for a unit whose stderr is the journal; a
 * shell started from such a unit inherits it, hence the inode check. */
static bool
log_stderr_is_journal(void)
{
    struct stat st;

    return fstat(2, &st) == 0 && log_journal_match(getenv("JOURNAL_STREAM"), st.st_dev,
                                                   st.st_ino);
}

void
log_init(const char *ident, int to_stderr)
{
    log_ident = ident;
    log_stderr = to_stderr;
    log_journal = to_stderr && log_stderr_is_journal();
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, log_facility);
}

bool
log_set_facility(const char *name)
{
    int code = log_facility_code(name);

    if (code < 0)
        return false;
    log_facility = code;
    if (!log_stderr) {
        closelog();
        openlog(log_ident, LOG_PID | LOG_NDELAY, log_facility);
    }
    return true;
}

void
log_clean(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)src;

    if (size == 0)
        return;
    for (; *s != '\0'; s++) {
        if (*s == '\r' || *s == '\n' || *s == '\t') {
            while (s[1] == '\r' || s[1] == '\n' || s[1] == '\t')
                s++;
            /* no blank before the "; ..." a caller put after a libpq
             * message, which ends in a line break; strchr finds the
             * terminator too, so none at the end either */
            if (n > 0 && dst[n - 1] != ' ' && n + 1 < size && !strchr(";,.)", s[1]))
                dst[n++] = ' ';
        } else if (*s < 0x20 || *s == 0x7f) {
            if (n + 4 >= size)
                break;
            snprintf(dst + n, 5, "\\x%02x", *s);
            n += 4;
        } else if (n + 1 < size) {
            dst[n++] = (char)*s;
        } else {
            break;
        }
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

void
log_format(char *dst, size_t size, int prio, bool journal, const char *ident,
           const char *tag, const char *msg)
{
    char head[128];
    int len;

    if (journal)
        len = snprintf(head, sizeof(head), "<%d>%s: %s", prio & 7, ident, tag);
    else
        len = snprintf(head, sizeof(head), "%s: %s", ident, tag);
    if (len < 0 || (size_t)len >= size) {
        log_clean(dst, size, head);
        return;
    }
    memcpy(dst, head, (size_t)len);
    log_clean(dst + len, size - (size_t)len, msg);
}

static void
log_vwrite(int prio, const char *tag, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX], line[LOG_LINE_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (log_stderr) {
        log_format(line, sizeof(line), prio, log_journal, log_ident, tag, msg);
        fprintf(stderr, "%s\n", line);
    } else {
        log_clean(line, sizeof(line), msg);
        syslog(prio, "%s%s", tag, line);
    }
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
log_notice(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_NOTICE, "", fmt, ap);
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

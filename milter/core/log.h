/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   log - one logging family for every program
 * SUMMARY
 *   log_init("cpr-milter", to_stderr); log_set_facility(cfg->log_facility);
 *   log_info("fmt", ...);
 * DESCRIPTION
 *   log_info/notice/warn/error go to syslog (facility [log] facility,
 *   default mail) when daemonized and to stderr in the foreground.
 *   log_fatal logs and exits with the given status. On stderr, when stderr
 *   is the journal stream systemd named in $JOURNAL_STREAM, each line
 *   starts with its sd-daemon priority ("<3>" err ... "<7>" debug), so
 *   journald files errors as errors.
 *
 *   Every line passes one gate, log_clean(): a run of CR, LF and TAB
 *   becomes one blank (none before ; , . or ) or at the end) and any
 *   other control character "\xHH", so a
 *   multi-line libpq error is one line and no text (a network-supplied
 *   one included) can split a line or forge a priority.
 *   Callers never pass secrets (conninfo passwords, tokens) to these.
 *
 *   log_clean, log_format, log_facility_code and log_journal_match are
 *   pure, for the unit tests.
 */
#ifndef CPR_LOG_H
#define CPR_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The names [log] facility accepts (config.c checks the value). */
#define LOG_FACILITY_CHOICES \
    "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7"
#define LOG_LINE_MAX 2048          /* bytes of one line, prefix included */

void log_init(const char *ident, int to_stderr);
/* Set the syslog facility by name (one of LOG_FACILITY_CHOICES); false for
 * an unknown name, which leaves the facility unchanged. */
bool log_set_facility(const char *name);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Copy src to dst (size bytes, always terminated): runs of CR/LF/TAB to one
 * blank, trailing blanks dropped, other control bytes as \xHH; an escape
 * is never cut in half. */
void log_clean(char *dst, size_t size, const char *src);
/* One stderr line (no newline): [<prio>]ident: tag + cleaned msg. */
void log_format(char *dst, size_t size, int prio, bool journal, const char *ident,
                const char *tag, const char *msg);
/* The LOG_* facility of a name, or -1. */
int log_facility_code(const char *name);
/* Does $JOURNAL_STREAM ("DEV:INODE") name this file? */
bool log_journal_match(const char *env, dev_t dev, ino_t ino);

#endif

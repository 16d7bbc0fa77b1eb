/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   log - one logging family for every program
 * SUMMARY
 *   log_init("cpr-milter", to_stderr); log_info("fmt", ...);
 * DESCRIPTION
 *   log_info/warn/error go to syslog (LOG_MAIL) when daemonized and to
 *   stderr in the foreground. log_fatal logs and exits with the given status.
 *   Callers never pass secrets (conninfo passwords, tokens) to these.
 */
#ifndef CPR_LOG_H
#define CPR_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int to_stderr);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif

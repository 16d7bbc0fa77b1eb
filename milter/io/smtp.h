/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   smtp - send one message over SMTP with libcurl
 * SUMMARY
 *   r = smtp_send(&req, &code, err, sizeof err);
 * DESCRIPTION
 *   One attempt, bounded by a timeout. An empty sender
 *   sends MAIL FROM:<> (RFC 3834 section 4 for auto-replies). smtps://
 *   is TLS from the start with verification on; smtp:// uses STARTTLS
 *   when the relay offers it. The outcome is classified for the caller's
 *   retry policy: a 5xx reply is permanent, a 4xx or a connection
 *   failure is worth a retry.
 * DIAGNOSTICS
 *   err gets curl's fixed error text and the SMTP code and, on a failure,
 *   the server's last 4xx or 5xx reply line (printable ASCII, at most SMTP_REPLY_MAX
 *   bytes): never the message or our own commands.
 */
#ifndef CPR_SMTP_H
#define CPR_SMTP_H

#include <stddef.h>

#include "retry.h"      /* SMTP_TIMEOUT_MS */

#define SMTP_REPLY_MAX 160     /* bytes of the server's reply kept for err */

enum smtp_result { SMTP_SENT, SMTP_RETRY, SMTP_FAILED };

struct smtp_request {
    const char *url;           /* smtp://host:port or smtps://... */
    const char *from;          /* envelope sender; "" = <> */
    char *const *to;           /* envelope recipients, NULL-terminated */
    const char *message;       /* the whole message, CRLF line ends */
    long timeout_ms;           /* 0 = SMTP_TIMEOUT_MS */
    const char *ca_file;       /* NULL = the system CA store */
    const char *user;          /* SMTP AUTH; NULL = none. With it, TLS is */
    const char *password;      /* required (smtps://, or STARTTLS) */
};

enum smtp_result smtp_send(const struct smtp_request *req, long *code,
                           char *err, size_t errlen);

#endif

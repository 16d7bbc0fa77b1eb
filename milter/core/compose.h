/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   compose - the one builder of the mail cpr-milter sends
 * SUMMARY
 *   struct compose_mail m = { .from = ..., .to = rcpt, .subject = ...,
 *                             .date = now, .message_id = id, .headers = more,
 *                             .text = body };
 *   char *wire = compose_message(&m);      (g_free)
 * DESCRIPTION
 *   Auto-replies (autoreply.c) and email pages (io/pager.c) are built
 *   here, with GMime: From, To, Subject (RFC 2047 when not ASCII), Date,
 *   Message-Id, the extra fields in order, MIME-Version and one
 *   text/plain; charset=utf-8 part. Header fields are folded at 78
 *   columns; the body is 7bit when it can be, else quoted-printable, so
 *   that it passes a relay without 8BITMIME. Lines end in CRLF.
 *   Pure: the date is passed in; no I/O.
 * DIAGNOSTICS
 *   NULL when a field is missing, From or a To is not an address, a
 *   value holds a CR, LF or NUL (nothing may add a header line), or the
 *   body is not UTF-8.
 */
#ifndef CPR_COMPOSE_H
#define CPR_COMPOSE_H

struct compose_mail {
    const char *from;              /* "Name <addr>" or addr */
    const char *const *to;         /* addresses, NULL-terminated, at least one */
    const char *subject;           /* UTF-8, one line */
    long long date;                /* epoch seconds, written in UTC */
    const char *message_id;        /* without the <> */
    const char *const *headers;    /* more fields: name, value, ..., NULL; may be NULL */
    const char *text;              /* UTF-8; LF, CR or CRLF end a line */
};

char *compose_message(const struct compose_mail *m);

#endif

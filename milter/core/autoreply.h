/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   autoreply - whether to answer a reporter, and the answer itself
 * SUMMARY
 *   reason = autoreply_decide(&in);            NULL: reply
 *   msg = autoreply_compose(&reply, template, &err);
 * DESCRIPTION
 *   Pure functions, no I/O. autoreply_decide() is the RFC 3834 decision
 *   table: no reply to automated mail (null sender, MAILER-DAEMON, owner-*,
 *   *-request, Auto-Submitted other than "no", Precedence bulk/list/junk,
 *   List-* headers, DSNs/MDNs), to follow-ups unless configured, or to one
 *   of our own addresses. Rate limits need the database and are applied by
 *   cpr.intake. autoreply_compose() renders the template ({tracking},
 *   {received_at}, {report_due_at}, {subject}, {category}), wraps it into
 *   lines of at most 998 bytes, and has compose.c (the one composer, also
 *   of email pages) build the message: From, To, Subject "Auto: <subject>
 *   [CPR-...]" (RFC 2047 Q words where needed), Date, Message-Id derived
 *   from the tracking number, In-Reply-To, References, Auto-Submitted:
 *   auto-replied, X-Auto-Response-Suppress, MIME-Version and a UTF-8
 *   text/plain body (7bit, else quoted-printable).
 * DIAGNOSTICS
 *   Nothing from the original message can add a header line: the subject
 *   goes through autoreply_sanitise_subject() (CR, LF, NUL and every other
 *   control character become spaces, runs of blanks collapse, length
 *   bounded at AUTOREPLY_SUBJECT_MAX bytes on a UTF-8 boundary), and
 *   message ids are accepted only if they are plain msg-id text.
 */
#ifndef CPR_AUTOREPLY_H
#define CPR_AUTOREPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "classify.h"
#include "message.h"

#define AUTOREPLY_SUBJECT_MAX   200     /* bytes of the original subject kept */
#define AUTOREPLY_TEMPLATE_MAX  65536   /* bytes of a template file */
#define AUTOREPLY_MSGID_MAX     250     /* bytes of an In-Reply-To msg-id */

struct autoreply_input {
    const struct cpr_message *msg;     /* collected headers and envelope */
    const struct cpr_verdict *verdict; /* kind and flags from classify */
    char *const *own_addresses;        /* [milter] addresses, normalised */
    bool reply_to_followups;           /* [autoreply] reply_to_followups */
    bool is_follow_up;                 /* decided by the database */
};

/* NULL when the reporter should get a reply; else a static reason, e.g.
 * "automated mail", "list mail", "follow-up", "our own address",
 * "null sender". */
const char *autoreply_decide(const struct autoreply_input *in);

/* A copy (malloc) of the decoded subject, safe for one header line. */
char *autoreply_sanitise_subject(const char *subject);

struct autoreply_reply {
    const char *from;          /* "CA Problem Reports <cpr@ca.example>" */
    const char *to;            /* the envelope sender of the report */
    const char *tracking;      /* CPR-YYYY-NNNNNN */
    const char *received_at;   /* RFC 3339 UTC */
    const char *report_due_at; /* RFC 3339 UTC */
    const char *subject;       /* decoded original subject, may be NULL */
    const char *category;
    const char *message_id;    /* the report's Message-ID (no <>), may be NULL */
    const char *references;    /* the report's References value, may be NULL */
    const char *reply_token;   /* 32 hex digits for our Message-ID, may be NULL */
    long long now;             /* epoch seconds, for the Date header */
};

/* The default template, used when [autoreply] template is empty. */
extern const char autoreply_default_template[];

/* The whole message with CRLF line ends, or NULL with *err (static). */
char *autoreply_compose(const struct autoreply_reply *r, const char *template_text,
                        const char **err);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   outbox - cpr-milter's auto-reply sender thread
 * SUMMARY
 *   ob = outbox_start(&settings); ... outbox_wake(ob); ... outbox_stop(ob);
 * DESCRIPTION
 *   One thread with its own database connection drains cpr.outbox: it
 *   claims pending rows (SKIP LOCKED, with a lease, so several milters
 *   never send one reply twice), composes each reply (autoreply.c), sends
 *   it from MAIL FROM:<> (smtp.c) and records the attempt. It sleeps until
 *   woken -- by outbox_wake() right after an intake queued a reply -- or
 *   until the next retry is due. A 4xx or connection failure is retried
 *   with exponential backoff up to max_attempts; a 5xx is permanent.
 */
#ifndef CPR_OUTBOX_H
#define CPR_OUTBOX_H

struct outbox_settings {
    const char *conninfo;
    const char *smtp_url;
    const char *from;          /* header From: "Name <addr>" */
    const char *template_text; /* the reply body template */
    long max_attempts;
    long long retry_base_ms;
    long long retry_cap_ms;
    long long lease_ms;
    long long db_timeout_ms;   /* deadline of each connect and query */
    long long report_ms;       /* [deadlines] report: the due time the reply states */
};

struct outbox;

/* Copies the settings. NULL if the thread cannot start. */
struct outbox *outbox_start(const struct outbox_settings *s);
void outbox_wake(struct outbox *ob);
void outbox_stop(struct outbox *ob);

#endif

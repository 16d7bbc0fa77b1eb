/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sendlog - send one notice on a channel and log it: the send, and the
 *   channel's changes of state
 * SUMMARY
 *   sendlog_init(&s); r = sendlog_send(&s, ch, &n, &status, &ms, err, sizeof err);
 *   sendlog_free(&s);
 * DESCRIPTION
 *   Every notice the sweeper sends (case pages, warnings, breaches,
 *   resolves, health and alert notices) goes through sendlog_send, which
 *   logs one line for it:
 *     page CPR-2026-000042 clock=acknowledge tier=1 channel=pd result=sent status=202 ms=85
 *   and, per channel, one line when it starts failing, at most one a
 *   minute while it keeps failing (with a count), and one when it
 *   delivers again (logthrottle.h). The error text is the channel's,
 *   never a secret.
 */
#ifndef CPR_SENDLOG_H
#define CPR_SENDLOG_H

#include "pager.h"
#include "sweep.h"

void sendlog_init(struct sweeper *s);
void sendlog_free(struct sweeper *s);
enum send_result sendlog_send(const struct sweeper *s, const struct pager_channel *ch,
                              const struct pager_notice *n, long *status, double *ms,
                              char *err, size_t errlen);

#endif

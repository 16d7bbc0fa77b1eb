/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probemailbox - the probe sender looks for its probes in the mailbox
 * SUMMARY
 *   struct probemailbox m = { 0 };
 *   delay_ms = probemailbox_round(&m, conn, cfg, now_mono_ms());
 * DESCRIPTION
 *   With [probe] send_url and imap_url set, every [probe] mailbox_poll
 *   while a probe of the last day may still be in the mailbox, it logs in
 *   over IMAP (imap.c) and searches [probe] mailbox and each of
 *   junk_folders for probe messages. Each one found is recorded
 *   (cpr.probe_found: the folder, and whether it is a junk folder; the
 *   verdict is the database's, see 023_probe_mailbox.sql) and deleted
 *   there, unless cpr-milter took its Message-ID in as a report. The look
 *   runs in the sweeper's loop, so it is bounded: 10 s per IMAP command
 *   and 20 s in all; what is left waits for the next look.
 * RETURN VALUE
 *   ms until the next look (0: none, this sweeper has no mailbox stage),
 *   or -1 when the database failed.
 * DIAGNOSTICS
 *   A log line per probe found; an IMAP failure is logged once, and its
 *   recovery; never the password.
 */
#ifndef CPR_PROBEMAILBOX_H
#define CPR_PROBEMAILBOX_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "config.h"

struct probemailbox {
    long long next_ms;         /* monotonic ms of the next look */
    bool failing;              /* the last look failed (logged once) */
};

long long probemailbox_round(struct probemailbox *m, PGconn *conn,
                             const struct cpr_config *cfg, long long now_ms);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   lookup - cpr-sweeper's worker from evidence to the affected certificates
 * SUMMARY
 *   lookup_init(&lk, cfg); ... next = lookup_pass(&lk, &sweeper, &ok); ... lookup_free(&lk);
 * DESCRIPTION
 *   Never in the SMTP path: the intake only marks a case due (a trigger on
 *   cpr.evidence, 028_inventory.sql), and the sweeper, woken by the new
 *   'received' event like every other pass, claims due cases (leased, SKIP
 *   LOCKED, so several sweepers share them), asks every [inventory] source
 *   what invmatch decides for each evidence item, and records the answer
 *   with cpr.lookup_done. A source that fails fails the whole lookup: it
 *   is recorded (cpr.lookup_failed) and retried after retry_backoff_ms of
 *   [inventory] retry_base and retry_cap, so no certificate is ever called
 *   missing because a source was down. Directory sources are indexed at
 *   lookup_init, by lookup_reindex (SIGHUP) and when they change.
 *   Inventory pages (a certificate not found, one issued on a compromised
 *   key after the report, lookups failing) go to every tier-1 channel,
 *   leased, retried with [sweeper] retry_base/retry_cap, each with its own
 *   key (TRACKING/inventory/KIND/ID), so a later page is never merged into
 *   an open incident. Once the case is closed, or acknowledged after the
 *   page went out, the page is resolved on those channels (Slack, email:
 *   a "resolved" message, unless resolve = no). A lookup reads all of the
 *   case's evidence, LOOKUP_EVIDENCE_PAGE rows a query, up to
 *   LOOKUP_MAX_EVIDENCE items; more is flagged and paged
 *   ("evidence not looked up: N items over the limit of 2048").
 * DIAGNOSTICS
 *   One info line per lookup (case, found, missing, ms); a warning per
 *   failure; an error when no tier-1 channel took a page.
 */
#ifndef CPR_LOOKUP_H
#define CPR_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "inventory.h"
#include "sweep.h"

#define LOOKUP_BATCH       16    /* cases claimed per pass */
#define LOOKUP_MAX_ALERTS  16    /* inventory pages (and resolves) per pass */
#define LOOKUP_EVIDENCE_PAGE 256 /* evidence rows read per query */
#define LOOKUP_MAX_EVIDENCE 2048 /* evidence items one lookup reads; past it: flagged */

struct lookup {
    const struct cpr_config *cfg;
    struct invsource **src;
    size_t nsrc;
};

void lookup_init(struct lookup *lk, const struct cpr_config *cfg);
/* Index the directory sources that changed (force: all of them). */
void lookup_reindex(struct lookup *lk, bool force);
/* ms until a lookup or page is due (0: none); *ok false on a database failure. */
long long lookup_pass(struct lookup *lk, struct sweeper *s, bool *ok);
void lookup_free(struct lookup *lk);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   filter - the libmilter callbacks of cpr-milter
 * SUMMARY
 *   filter_setup(pool); smfi_register(filter_desc); ... filter_reload(cfg);
 * DESCRIPTION
 *   Callbacks only collect into a struct cpr_message and, at end of message,
 *   hand it to classify_message() and db_intake(); then they edit headers.
 *   Each connection holds a reference to the config snapshot it started
 *   with, so a reload (SIGUSR1) never changes a message half-way.
 */
#ifndef CPR_FILTER_H
#define CPR_FILTER_H

#include <libmilter/mfapi.h>

#include "config.h"
#include "db.h"
#include "outbox.h"

extern struct smfiDesc filter_desc;

/* Takes ownership of cfg; outbox may be NULL (auto-replies off). */
void filter_setup(struct db_pool *pool, struct cpr_config *cfg, struct outbox *outbox);
/* Swaps in a new snapshot (takes ownership); old one freed when unused. */
void filter_reload(struct cpr_config *cfg);
void filter_shutdown(void);

/* Whether the MTA's macros ({auth_authen}, {daemon_name}) can be trusted
 * on this socket; without it no staff reply is recorded. */
void filter_trust_macros(bool trusted);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probecheck.h - is this message one of our mail-path probes?
 * DESCRIPTION
 *   See probecheck.c.
 */
#ifndef CPR_PROBECHECK_H
#define CPR_PROBECHECK_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "message.h"

enum probecheck {
    PROBECHECK_NONE,        /* no mark: an ordinary message */
    PROBECHECK_PROBE,       /* a verified, fresh, first-seen probe: recorded */
    PROBECHECK_REFUSED,     /* a mark that does not hold: take it in as a report */
    PROBECHECK_DB_FAILED    /* the database could not say: tempfail */
};

enum probecheck probecheck_message(struct db_pool *pool, const struct cpr_config *cfg,
                                   const struct cpr_message *m, char *why, size_t whylen);

#endif

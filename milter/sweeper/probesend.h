/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probesend.h - cpr-sweeper sends the mail-path probes that are due
 * DESCRIPTION
 *   See probesend.c.
 */
#ifndef CPR_PROBESEND_H
#define CPR_PROBESEND_H

#include <libpq-fe.h>

#include "config.h"

/* Sends what is due; returns in how many ms the next probe is due (0:
 * none scheduled or probes off, -1: a database call failed). */
long long probesend_round(PGconn *conn, const struct cpr_config *cfg, const char *worker);

#endif

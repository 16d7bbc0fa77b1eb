/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   mtacheck - does Postfix accept mail for the CPR addresses' domains?
 * DESCRIPTION
 *   A typo in [milter] addresses makes every report pass unrecorded. At
 *   start and with -n, cpr-milter asks Postfix (postconf, postmap) which
 *   domains it accepts and warns for each CPR domain it does not.
 */
#ifndef CPR_MTACHECK_H
#define CPR_MTACHECK_H

#include <stddef.h>

#include "config.h"

/* The Postfix parameters whose domains mail is accepted for. */
#define MTACHECK_PARAMS "mydestination", "virtual_mailbox_domains", \
                        "virtual_alias_domains", "relay_domains"

/* Most output read from postconf or postmap. */
#define MTACHECK_OUTPUT_MAX 65536

/* Check every CPR domain; logs one warning per domain Postfix does not
 * accept, or one line saying why nothing could be checked. Returns the
 * number of domains warned about. */
int mtacheck_domains(const struct cpr_config *cfg);

/* Pure half, for tests: does the domain list of one parameter, as
 * "postconf -xh" prints it (tokens split by blanks and commas), name
 * domain? Table tokens ("type:name") are looked up with lookup(table,
 * domain, arg), which returns 1 found, 0 not found, -1 cannot tell. */
typedef int (*mtacheck_lookup_fn)(const char *table, const char *domain, void *arg);
int mtacheck_list_has(const char *list, const char *domain, mtacheck_lookup_fn lookup,
                      void *arg);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagertype - the paging channel types, one row each
 * SUMMARY
 *   const struct pager_type_info *t = pager_type_find("opsgenie");
 *   if (pager_type_parse(name, &type)) ... pager_type_name(type) ...
 *   pager_types[PAGER_SLACK].can_resolve
 * DESCRIPTION
 *   What every part of cpr-milter knows about a channel type, in one
 *   table: the config validation (config_sweeper.c: required and allowed
 *   keys, URL schemes), escalation (which key holds the secret), the
 *   sweep (whether the type has a resolve) and the pager (default URL and
 *   Authorization scheme). The pager's own driver table (io/pager.c) adds
 *   the payload and send functions for each row; a unit test checks that
 *   both tables name the same types. Adding a type: a row here, a driver
 *   row and a payload function in io/pager.c, cpr-milter.conf(5) and
 *   cpr-sweeper(8), and the tests (README, "Hacking").
 */
#ifndef CPR_PAGERTYPE_H
#define CPR_PAGERTYPE_H

#include <stdbool.h>
#include <stddef.h>

enum pager_type { PAGER_PAGERDUTY, PAGER_OPSGENIE, PAGER_SLACK, PAGER_WEBHOOK,
                  PAGER_EMAIL, PAGER_NTYPES };

/* The same names for config_keys[]'s [channel] type row (a static
 * initialiser cannot read the table); check_config asserts they agree. */
#define PAGER_TYPE_CHOICES "pagerduty|opsgenie|slack|webhook|email"
#define PAGER_TYPE_WORDS   "pagerduty, opsgenie, slack, webhook or email"

struct pager_type_info {
    const char *name;          /* [channel X] type = NAME (case-insensitive) */
    const char *needs;         /* the key that must be set, or its _file twin */
    const char *uses;          /* every key it reads, blank-separated and -bounded */
    const char *url_key;       /* the key holding the endpoint: url or smtp_url */
    const char *url_schemes[2];/* what that endpoint may start with */
    const char *default_url;   /* NULL: the endpoint is required */
    const char *auth_scheme;   /* HTTP Authorization scheme of the secret, or NULL */
    size_t secret_off;         /* offsetof(struct config_channel, KEY) of the */
    size_t secret_file_off;    /*   secret and its _file twin; both 0: none */
    bool secret_optional;      /* no secret configured = no Authorization */
    bool can_resolve;          /* a resolve the receiver acts on (closes the alert) */
};

extern const struct pager_type_info pager_types[PAGER_NTYPES];

const struct pager_type_info *pager_type_find(const char *name);
bool pager_type_parse(const char *name, enum pager_type *type);
const char *pager_type_name(enum pager_type type);

/* "pagerduty, opsgenie, slack, webhook or email" into buf, for errors. */
void pager_type_list(char *buf, size_t len);

#endif

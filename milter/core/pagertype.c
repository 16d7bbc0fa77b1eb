/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagertype - the paging channel types, one row each
 * DESCRIPTION
 *   See pagertype.h. The rows are indexed by enum pager_type.
 */
#include "pagertype.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define CH(field) offsetof(struct config_channel, field)

const struct pager_type_info pager_types[PAGER_NTYPES] = {
    [PAGER_PAGERDUTY] = {
        .name = "pagerduty", .needs = "routing_key",
        .uses = " type url url_file routing_key routing_key_file ca_file"
                " api_key api_key_file poll poll_interval poll_rate api_url ",
        .url_key = "url", .url_schemes = { "https://", "http://" },
        .default_url = "https://events.pagerduty.com/v2/enqueue",
        .secret_off = CH(routing_key), .secret_file_off = CH(routing_key_file),
        .can_resolve = true,
    },
    [PAGER_OPSGENIE] = {
        .name = "opsgenie", .needs = "api_key",
        .uses = " type url url_file api_key api_key_file ca_file"
                " poll poll_interval poll_rate api_url ",
        .url_key = "url", .url_schemes = { "https://", "http://" },
        .default_url = "https://api.opsgenie.com/v2/alerts",
        .auth_scheme = "GenieKey",
        .secret_off = CH(api_key), .secret_file_off = CH(api_key_file),
        .can_resolve = true,
    },
    [PAGER_SLACK] = {
        .name = "slack", .needs = "url", .uses = " type url url_file ca_file resolve ",
        .url_key = "url", .url_schemes = { "https://", "http://" },
    },
    [PAGER_WEBHOOK] = {
        .name = "webhook", .needs = "url",
        .uses = " type url url_file bearer_token bearer_token_file ca_file resolve ",
        .url_key = "url", .url_schemes = { "https://", "http://" },
        .auth_scheme = "Bearer",
        .secret_off = CH(bearer_token), .secret_file_off = CH(bearer_token_file),
        .secret_optional = true, .can_resolve = true,
    },
    [PAGER_EMAIL] = {
        .name = "email", .needs = "to", .uses = " type to from smtp_url ca_file resolve ",
        .url_key = "smtp_url", .url_schemes = { "smtp://", "smtps://" },
    },
};

const struct pager_type_info *
pager_type_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < PAGER_NTYPES; i++)
        if (strcasecmp(name, pager_types[i].name) == 0)
            return &pager_types[i];
    return NULL;
}

bool
pager_type_parse(const char *name, enum pager_type *type)
{
    const struct pager_type_info *t = pager_type_find(name);

    if (t == NULL)
        return false;
    *type = (enum pager_type) (t - pager_types);
    return true;
}

const char *
pager_type_name(enum pager_type type)
{
    return (unsigned) type < PAGER_NTYPES ? pager_types[type].name : "unknown";
}

void
pager_type_list(char *buf, size_t len)
{
    size_t n = 0;

    if (len > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < PAGER_NTYPES && n < len; i++) {
        int k = snprintf(buf + n, len - n, "%s%s",
                         i == 0 ? "" : i + 1 == PAGER_NTYPES ? " or " : ", ",
                         pager_types[i].name);
        n += k > 0 ? (size_t) k : 0;
    }
}

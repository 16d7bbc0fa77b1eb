/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagerpoll - ask PagerDuty or Opsgenie what became of an alert we opened
 * SUMMARY
 *   r = pagerpoll_fetch(&pc, key, now_ms, &st, &status, &retry_ms, err, sizeof err);
 * DESCRIPTION
 *   ONE bounded attempt with libcurl (TLS verification always on, no
 *   redirects, http/https only, the answer capped at POLL_BODY_MAX):
 *     PagerDuty  GET {api_url}/incidents?incident_key=KEY&date_range=all
 *                    &include[]=acknowledgers
 *                Authorization: Token token=API_KEY,
 *                Accept: application/vnd.pagerduty+json;version=2;
 *                then, when the acknowledger came as a bare reference,
 *                GET {api_url}/users/ID for the email;
 *     Opsgenie   GET {api_url}/v2/alerts/ALIAS?identifierType=alias
 *                Authorization: GenieKey API_KEY (404: no such alert).
 *   The parsing is core/pollstate.c's. A 429 returns PAGERPOLL_LIMITED
 *   with the Retry-After (ms; -1 when none came).
 * DIAGNOSTICS
 *   A reason in err naming the channel and what failed, never the key or
 *   the answer's text.
 */
#ifndef CPR_PAGERPOLL_H
#define CPR_PAGERPOLL_H

#include <stdbool.h>
#include <stddef.h>

#include "pagertype.h"
#include "pollstate.h"

#define PAGERPOLL_PD_API_URL  "https://api.pagerduty.com"
#define PAGERPOLL_OG_API_URL  "https://api.opsgenie.com"
#define PAGERPOLL_TIMEOUT_MS  10000

struct pagerpoll_channel {
    const char *name;
    enum pager_type type;      /* PAGER_PAGERDUTY or PAGER_OPSGENIE */
    const char *api_url;       /* NULL or "": the service's own */
    const char *api_key;       /* REST API key: PagerDuty token, GenieKey */
    const char *ca_file;       /* NULL = the system store */
    long timeout_ms;           /* 0 = PAGERPOLL_TIMEOUT_MS */
};

enum pagerpoll_result { PAGERPOLL_OK, PAGERPOLL_LIMITED, PAGERPOLL_FAILED };

enum pagerpoll_result pagerpoll_fetch(const struct pagerpoll_channel *ch, const char *key,
                                      long long now_ms, struct poll_state *st, long *status,
                                      long long *retry_after_ms, char *err, size_t errlen);

#endif

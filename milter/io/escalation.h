/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   escalation - the tiers and channels of a config, ready to page
 * SUMMARY
 *   if (!escalation_build(cfg, &esc, &err)) ...; escalation_free(&esc);
 * DESCRIPTION
 *   Turns [escalation], [tier NAME] and [channel NAME] into the runtime
 *   form the sweep (and cprctl test-page) uses: pager channels with their secrets read from files,
 *   and per tier the channel indexes and the JSON list of channel names.
 *   Also fills the deadline policy from [deadlines] and [escalation].
 * DIAGNOSTICS
 *   false with *err (g_free) naming the channel and the file, never a secret.
 */
#ifndef CPR_ESCALATION_H
#define CPR_ESCALATION_H

#include <stdbool.h>

#include "config.h"
#include "deadline.h"
#include "pager.h"
#include "pagetext.h"

struct escalation_tier {
    char *name;
    size_t *channels;          /* indexes into escalation.channels */
    size_t nchannels;
    char *channels_json;       /* ["name", ...], for cpr.step_offer */
};

struct escalation {
    struct deadline_policy policy;
    struct pager_channel *channels;
    size_t nchannels;
    struct escalation_tier *tiers;  /* tiers[0] is tier 1 */
    size_t ntiers;
    char *all_channels_json;   /* every channel: breaches page every tier */
    struct pagetext_severities severities;   /* [paging] severity.CATEGORY */
    bool show_reporter;                      /* [paging] show_reporter */
    int retry_max;
    long long retry_base_ms;
    long long retry_cap_ms;
};

bool escalation_build(const struct cpr_config *cfg, struct escalation *e, char **err);
void escalation_free(struct escalation *e);

#endif

/*
 * NAME
 *   escalation - the tiers and channels of a config, ready to page
 * SUMMARY
 *   if (!escalation_build(cfg, &sweeper, &err)) ...; escalation_free(&sweeper);
 * DESCRIPTION
 *   Turns [escalation], [tier NAME] and [channel NAME] into the runtime
 *   form the sweep uses: pager channels with their secrets read from files,
 *   and per tier the channel indexes and the JSON list of channel names.
 *   Also fills the deadline policy from [deadlines] and [escalation].
 * DIAGNOSTICS
 *   false with *err (g_free) naming the channel and the file, never a secret.
 */
#ifndef CPR_ESCALATION_H
#define CPR_ESCALATION_H

#include <stdbool.h>

#include "config.h"
#include "sweep.h"

bool escalation_build(const struct cpr_config *cfg, struct sweeper *s, char **err);
void escalation_free(struct sweeper *s);

#endif

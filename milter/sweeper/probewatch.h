/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probewatch.h - cpr-sweeper pages tier 1 when a probe stage breaks
 * DESCRIPTION
 *   See probewatch.c.
 */
#ifndef CPR_PROBEWATCH_H
#define CPR_PROBEWATCH_H

#include <stdbool.h>

#include "sweep.h"

#define PROBEWATCH_DEDUP_PREFIX "cpr-probe/"
#define PROBEWATCH_MAX_ALERTS   32   /* pages and resolves sent per pass */

/* In how many ms the next pass is wanted (0: nothing known); *ok is false
 * when a database call failed. */
long long probewatch_pass(struct sweeper *s, bool *ok);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   staffmail - staff replies seen on the authenticated submission path
 * SUMMARY
 *   if (staffmail_session(m, cfg)) ...
 *   n = staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS);
 *   st = staffmail_record(pool, m, cfg, found, n, &res, err, sizeof err);
 * DESCRIPTION
 *   A message counts as a staff response only if it came through an
 *   authenticated session ({auth_authen} set) on a daemon listed in
 *   [milter] submission_daemons ({daemon_name}), names a tracking number
 *   in its Subject or body, and is not automated (Auto-Submitted other
 *   than "no"). staffmail_record() hands it to cpr.record_outbound(), which
 *   records it on the case and stops the report clocks it answers.
 */
#ifndef CPR_STAFFMAIL_H
#define CPR_STAFFMAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db.h"
#include "message.h"
#include "tracking.h"

#define STAFFMAIL_MAX_TRACKINGS 8            /* distinct numbers looked up */
#define STAFFMAIL_SCAN_BYTES    (1024 * 1024) /* raw bytes kept and decoded */
#define STAFFMAIL_TEXT_SCAN     (64 * 1024)  /* decoded bytes searched per part */

struct staffmail_result {
    char tracking[TRACKING_MAX];   /* "" when no case matched */
    char outcome[256];
};

bool staffmail_session(const struct cpr_message *m, const struct cpr_config *cfg);
bool staffmail_automated(const struct cpr_message *m);
/* Distinct tracking numbers, Subject first, then (unless subject_only)
 * the decoded text parts. */
size_t staffmail_trackings(const struct cpr_message *m, char (*out)[TRACKING_MAX],
                           size_t max, bool subject_only);
enum db_status staffmail_record(struct db_pool *pool, const struct cpr_message *m,
                                const struct cpr_config *cfg,
                                char (*trackings)[TRACKING_MAX], size_t n,
                                struct staffmail_result *res, char *err, size_t errlen);

#endif

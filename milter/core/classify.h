/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   classify - kind, category and flags of a message, with reasons
 * DESCRIPTION
 *   A pure function of the collected message, the CPR addresses and the
 *   report analysis (report.h; may be NULL). Applies the RFC 3834 / RFC
 *   5230 header rules for automated mail and flags list mail; evidence of
 *   a compromised key outranks the headers (the message is a report). The
 *   category, its priority and spam signals come from the report. Whether
 *   a message is a follow-up is decided in the database (cpr.intake),
 *   which knows the tracking numbers.
 */
#ifndef CPR_CLASSIFY_H
#define CPR_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "category.h"
#include "message.h"

struct report;

#define CLASSIFY_MAX_REASONS 32
#define CLASSIFY_REASON_LEN  160     /* one reason, NUL included */

enum cpr_kind { KIND_NEW_REPORT, KIND_FOLLOW_UP, KIND_AUTOMATED };

#define VERDICT_FLAG_LIST 0x1u   /* list mail: a report, but no auto-reply */
#define VERDICT_FLAG_SPAM 0x2u   /* upstream spam signals: lower priority */

struct cpr_verdict {
    enum cpr_kind kind;
    const char *category;        /* static string */
    enum category_priority priority;
    unsigned flags;
    char reasons[CLASSIFY_MAX_REASONS][CLASSIFY_REASON_LEN];   /* plain words */
    size_t nreasons;
};

void classify_message(const struct cpr_message *m, char *const *cpr_addresses,
                      const struct report *r, struct cpr_verdict *v);

const char *classify_kind_name(enum cpr_kind kind);
bool classify_kind_parse(const char *name, enum cpr_kind *kind);

#endif

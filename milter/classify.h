/*
 * NAME
 *   classify - kind, category and flags of a message, with reasons
 * DESCRIPTION
 *   A pure function of the collected message and the CPR addresses. This
 *   issue applies the RFC 3834 / RFC 5230 header rules for automated mail
 *   and flags list mail; the category is "other" until the classifier
 *   issue plugs in here. Whether a message is a follow-up is decided in
 *   the database (cpr.intake), which knows the tracking numbers.
 */
#ifndef CPR_CLASSIFY_H
#define CPR_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "message.h"

#define CLASSIFY_MAX_REASONS 16

enum cpr_kind { KIND_NEW_REPORT, KIND_FOLLOW_UP, KIND_AUTOMATED };

#define VERDICT_FLAG_LIST 0x1u   /* list mail: a report, but no auto-reply */

struct cpr_verdict {
    enum cpr_kind kind;
    const char *category;        /* static string */
    unsigned flags;
    const char *reasons[CLASSIFY_MAX_REASONS];   /* static strings */
    size_t nreasons;
};

void classify_message(const struct cpr_message *m, char *const *cpr_addresses,
                      struct cpr_verdict *v);

const char *classify_kind_name(enum cpr_kind kind);
bool classify_kind_parse(const char *name, enum cpr_kind *kind);

#endif

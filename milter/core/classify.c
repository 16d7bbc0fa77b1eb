/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   classify - kind, category and flags of a message, with reasons
 * DESCRIPTION
 *   Applies the header rules of RFC 3834 and RFC 5230 for automated mail:
 *   null sender, MAILER-DAEMON, owner-* and *-request senders, an
 *   Auto-Submitted other than "no", X-Auto-Response-Suppress All/OOF,
 *   Precedence bulk/junk, a top-level multipart/report, and mail from one of
 *   our own CPR addresses. List mail (List-* headers, Precedence: list) is a
 *   report flagged "list". Evidence of a compromised key (a private key,
 *   a proof CSR, a PoCK certificate, a pwnedkeys attestation) outranks the
 *   headers: such a message is a new report whatever its headers say. The
 *   category, priority and spam signals are the report's (category.c).
 *   Every decision is given as a reason in plain words, stored with the
 *   message.
 */
#include "classify.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "report.h"

static void
verdict_reason(struct cpr_verdict *v, const char *reason)
{
    if (v->nreasons < CLASSIFY_MAX_REASONS)
        snprintf(v->reasons[v->nreasons++], CLASSIFY_REASON_LEN, "%.*s",
                 CLASSIFY_REASON_LEN - 1, reason);
}

/* Compare the first token of a header value (up to blank, ';' or ',')
 * with word, case-insensitively. */
static bool
token_is(const char *value, const char *word)
{
    size_t n = strlen(word);

    while (isspace((unsigned char)*value))
        value++;
    if (strncasecmp(value, word, n) != 0)
        return false;
    value += n;
    return *value == '\0' || *value == ';' || *value == ','
           || isspace((unsigned char)*value);
}

/* True if a comma-separated list contains word (case-insensitive). */
static bool
list_has(const char *value, const char *word)
{
    for (const char *p = value; p != NULL; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (token_is(p, word))
            return true;
    }
    return false;
}

static const char *
sender_rule(const char *env_from)
{
    const char *at;
    size_t local;

    if (env_from == NULL || *env_from == '\0')
        return "null sender";
    at = strrchr(env_from, '@');
    local = at ? (size_t)(at - env_from) : strlen(env_from);
    if (local == strlen("mailer-daemon")
        && strncasecmp(env_from, "mailer-daemon", local) == 0)
        return "sender is MAILER-DAEMON";
    if (strncasecmp(env_from, "owner-", 6) == 0)
        return "sender is owner-*";
    if (local >= 8 && strncasecmp(env_from + local - 8, "-request", 8) == 0)
        return "sender is *-request";
    return NULL;
}

static void
classify_automated(const struct cpr_message *m, char *const *cpr_addresses,
                   struct cpr_verdict *v)
{
    const char *h, *rule = sender_rule(m->env_from);

    if (rule != NULL)
        verdict_reason(v, rule);
    if (m->env_from && *m->env_from && address_in_list(m->env_from, cpr_addresses))
        verdict_reason(v, "sender is one of our CPR addresses");
    if ((h = message_header(m, "Auto-Submitted")) != NULL && !token_is(h, "no"))
        verdict_reason(v, "Auto-Submitted is not no");
    if ((h = message_header(m, "X-Auto-Response-Suppress")) != NULL
        && (list_has(h, "All") || list_has(h, "OOF")))
        verdict_reason(v, "X-Auto-Response-Suppress: All/OOF");
    if ((h = message_header(m, "Precedence")) != NULL
        && (token_is(h, "bulk") || token_is(h, "junk")))
        verdict_reason(v, "Precedence: bulk/junk");
    if ((h = message_header(m, "Content-Type")) != NULL
        && token_is(h, "multipart/report"))
        verdict_reason(v, "top-level multipart/report (DSN or MDN)");
}

static bool
is_list_mail(const struct cpr_message *m)
{
    const char *h;

    for (size_t i = 0; i < m->nheaders; i++)
        if (strncasecmp(m->headers[i].name, "List-", 5) == 0)
            return true;
    return (h = message_header(m, "Precedence")) != NULL && token_is(h, "list");
}

/* The report's findings: evidence first, then the category's reasons and
 * the spam signals. */
static void
classify_report(const struct report *r, struct cpr_verdict *v)
{
    char line[CLASSIFY_REASON_LEN];

    v->category = r->cat.category;
    v->priority = r->cat.priority;
    if (r->cat.nspam > 0)
        v->flags |= VERDICT_FLAG_SPAM;
    for (size_t i = 0; i < r->nreasons; i++)
        verdict_reason(v, r->reasons[i]);
    for (size_t i = 0; i < r->cat.nreasons; i++)
        verdict_reason(v, r->cat.reasons[i]);
    for (size_t i = 0; i < r->cat.nspam; i++) {
        snprintf(line, sizeof(line), "spam signal: %.*s (priority lowered)",
                 (int)sizeof(line) - 40, r->cat.spam[i]);
        verdict_reason(v, line);
    }
}

void
classify_message(const struct cpr_message *m, char *const *cpr_addresses,
                 const struct report *r, struct cpr_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->category = "other";
    v->priority = CATEGORY_PRIORITY_NORMAL;
    classify_automated(m, cpr_addresses, v);
    v->kind = v->nreasons > 0 ? KIND_AUTOMATED : KIND_NEW_REPORT;
    if (v->kind == KIND_AUTOMATED && r != NULL && r->key_evidence) {
        v->kind = KIND_NEW_REPORT;
        verdict_reason(v, "key-compromise evidence outranks the automated-mail headers");
    }
    if (is_list_mail(m)) {
        v->flags |= VERDICT_FLAG_LIST;
        verdict_reason(v, "list mail");
    }
    if (r != NULL)
        classify_report(r, v);
}

const char *
classify_kind_name(enum cpr_kind kind)
{
    switch (kind) {
    case KIND_NEW_REPORT: return "new-report";
    case KIND_FOLLOW_UP:  return "follow-up";
    case KIND_AUTOMATED:  return "automated";
    }
    return "new-report";
}

bool
classify_kind_parse(const char *name, enum cpr_kind *kind)
{
    static const enum cpr_kind kinds[] = { KIND_NEW_REPORT, KIND_FOLLOW_UP,
                                           KIND_AUTOMATED };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(name, classify_kind_name(kinds[i])) == 0) {
            *kind = kinds[i];
            return true;
        }
    return false;
}

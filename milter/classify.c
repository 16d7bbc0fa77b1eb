/*
 * NAME
 *   classify - kind, category and flags of a message, with reasons
 * DESCRIPTION
 *   Applies the header rules of RFC 3834 and RFC 5230 for automated mail:
 *   null sender, MAILER-DAEMON, owner-* and *-request senders, an
 *   Auto-Submitted other than "no", X-Auto-Response-Suppress All/OOF,
 *   Precedence bulk/junk, a top-level multipart/report, and mail from one of
 *   our own CPR addresses. List mail (List-* headers, Precedence: list) is a
 *   report flagged "list". Every decision is given as a reason; reasons are
 *   static strings, stored with the message.
 */
#include "classify.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"

static void
verdict_reason(struct cpr_verdict *v, const char *reason)
{
    if (v->nreasons < CLASSIFY_MAX_REASONS)
        v->reasons[v->nreasons++] = reason;
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

void
classify_message(const struct cpr_message *m, char *const *cpr_addresses,
                 struct cpr_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->category = "other";
    classify_automated(m, cpr_addresses, v);
    v->kind = v->nreasons > 0 ? KIND_AUTOMATED : KIND_NEW_REPORT;
    if (is_list_mail(m)) {
        v->flags |= VERDICT_FLAG_LIST;
        verdict_reason(v, "list mail");
    }
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

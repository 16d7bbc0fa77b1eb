/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pollstate - what PagerDuty or Opsgenie says of an alert we opened
 * DESCRIPTION
 *   See pollstate.h. The newest PagerDuty incident of a key wins (a key
 *   resolved and triggered again has several); created_at strings are
 *   RFC 3339 UTC, which compare as text.
 */
#include "pollstate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static bool
fail(char *err, size_t errlen, const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", what);
    return false;
}

static json_t *
parse(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root;

    if (body == NULL || len == 0)
        return fail(err, errlen, "empty answer"), NULL;
    if (len > POLL_BODY_MAX)
        return fail(err, errlen, "answer too large"), NULL;
    /* JSON_REJECT_DUPLICATES: two "status" keys are a lie, not a choice. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return fail(err, errlen, "answer is not JSON"), NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(err, errlen, "answer is not a JSON object"), NULL;
    }
    return root;
}

static const char *
str_of(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
actor_char(unsigned char c)
{
    return isalnum(c) || strchr("@._+-' ", c) != NULL;
}

void
pollstate_actor(const char *service, const char *value, char *out, size_t outlen)
{
    size_t n;

    if (outlen == 0)
        return;
    snprintf(out, outlen, "%s:", service);
    n = strlen(out);
    for (const unsigned char *p = (const unsigned char *) value; p && *p && n + 1 < outlen; p++)
        out[n++] = actor_char(*p) ? (char) *p : '?';
    out[n] = '\0';
    if (value == NULL || *value == '\0')
        snprintf(out, outlen, "%s:unknown", service);
}

/* ---- PagerDuty -------------------------------------------------------- */

static const json_t *
pd_newest(const json_t *incidents)
{
    const json_t *best = NULL;
    const char *best_at = NULL;

    for (size_t i = 0; i < json_array_size(incidents); i++) {
        const json_t *inc = json_array_get(incidents, i);
        const char *at = str_of(inc, "created_at");

        if (!json_is_object(inc))
            continue;
        if (best == NULL || (at != NULL && (best_at == NULL || strcmp(at, best_at) >= 0))) {
            best = inc;
            best_at = at;
        }
    }
    return best;
}

/* The last acknowledgement's acknowledger: its email, else its user id. */
static bool
pd_acknowledger(const json_t *inc, struct poll_state *st, char *err, size_t errlen)
{
    const json_t *acks = json_object_get(inc, "acknowledgements");
    const json_t *who;
    const char *email, *id, *type;
    size_t n;

    if (acks == NULL)
        return pollstate_actor("pagerduty", NULL, st->actor, sizeof(st->actor)), true;
    if (!json_is_array(acks))
        return fail(err, errlen, "acknowledgements is not an array");
    if ((n = json_array_size(acks)) > POLL_ARRAY_MAX)
        return fail(err, errlen, "too many acknowledgements");
    who = n > 0 ? json_object_get(json_array_get(acks, n - 1), "acknowledger") : NULL;
    if (n > 0 && !json_is_object(who))
        return fail(err, errlen, "acknowledger is not an object");
    email = str_of(who, "email");
    id = str_of(who, "id");
    type = str_of(who, "type");
    /* Acknowledged through the Events API (our own acknowledge, or another
     * integration's): no person acted there. */
    if (type != NULL && strncmp(type, "service", 7) == 0) {
        st->status = st->status == POLL_ACKED ? POLL_OPEN : st->status;
        st->by_service = true;
        return true;
    }
    pollstate_actor("pagerduty", email, st->actor, sizeof(st->actor));
    if (email == NULL && id != NULL && strlen(id) < sizeof(st->user_id)) {
        for (const char *p = id; *p; p++)
            if (!isalnum((unsigned char) *p))
                return fail(err, errlen, "acknowledger id is not an id");
        snprintf(st->user_id, sizeof(st->user_id), "%s", id);
    }
    return true;
}

/* A resolved incident that still lists acknowledgements was acknowledged
 * first: that acknowledgement counts. */
static bool
pd_acker(const json_t *inc, struct poll_state *st, char *err, size_t errlen)
{
    char resolver[POLL_ACTOR_MAX];
    const json_t *acks = json_object_get(inc, "acknowledgements");

    if (acks == NULL || (json_is_array(acks) && json_array_size(acks) == 0))
        return true;
    memcpy(resolver, st->actor, sizeof(resolver));
    if (!pd_acknowledger(inc, st, err, errlen))
        return false;
    if (st->by_service) {
        memcpy(st->actor, resolver, sizeof(st->actor));
        return true;
    }
    memcpy(st->acker, st->actor, sizeof(st->acker));
    memcpy(st->actor, resolver, sizeof(st->actor));
    return true;
}

bool
pollstate_pagerduty(const char *body, size_t len, struct poll_state *st, char *err,
                    size_t errlen)
{
    json_t *root = parse(body, len, err, errlen);
    const json_t *incs, *inc;
    const char *status;
    bool ok = false;

    memset(st, 0, sizeof(*st));
    if (root == NULL)
        return false;
    incs = json_object_get(root, "incidents");
    if (!json_is_array(incs))
        fail(err, errlen, "no incidents array");
    else if (json_array_size(incs) > POLL_ARRAY_MAX)
        fail(err, errlen, "too many incidents");
    else if ((inc = pd_newest(incs)) == NULL) {
        st->status = POLL_MISSING;
        ok = json_array_size(incs) == 0 || fail(err, errlen, "no incident is an object");
    } else if ((status = str_of(inc, "status")) == NULL)
        fail(err, errlen, "incident has no status");
    else if (strcmp(status, "triggered") == 0)
        ok = (st->status = POLL_OPEN, true);
    else if (strcmp(status, "acknowledged") == 0)
        ok = (st->status = POLL_ACKED, pd_acknowledger(inc, st, err, errlen));
    else if (strcmp(status, "resolved") == 0) {
        const json_t *by = json_object_get(inc, "last_status_change_by");
        const char *who = str_of(by, "email");

        st->status = POLL_RESOLVED;
        pollstate_actor("pagerduty", who ? who : str_of(by, "summary"), st->actor,
                        sizeof(st->actor));
        ok = pd_acker(inc, st, err, errlen);
    } else
        fail(err, errlen, "incident status is not triggered, acknowledged or resolved");
    json_decref(root);
    return ok;
}

bool
pollstate_pagerduty_user(const char *body, size_t len, struct poll_state *st, char *err,
                         size_t errlen)
{
    json_t *root = parse(body, len, err, errlen);
    const char *email;
    bool ok = false;

    if (root == NULL)
        return false;
    email = str_of(json_object_get(root, "user"), "email");
    if (email == NULL || strchr(email, '@') == NULL)
        fail(err, errlen, "user has no email");
    else {
        pollstate_actor("pagerduty", email, st->actor, sizeof(st->actor));
        st->user_id[0] = '\0';
        ok = true;
    }
    json_decref(root);
    return ok;
}

/* ---- Opsgenie --------------------------------------------------------- */

bool
pollstate_opsgenie(const char *body, size_t len, struct poll_state *st, char *err,
                   size_t errlen)
{
    json_t *root = parse(body, len, err, errlen);
    const json_t *data, *acked, *report;
    const char *status;
    bool ok = false;

    memset(st, 0, sizeof(*st));
    if (root == NULL)
        return false;
    data = json_object_get(root, "data");
    acked = json_object_get(data, "acknowledged");
    report = json_object_get(data, "report");
    if (!json_is_object(data))
        fail(err, errlen, "no data object");
    else if ((status = str_of(data, "status")) == NULL)
        fail(err, errlen, "alert has no status");
    else if (acked != NULL && !json_is_boolean(acked))
        fail(err, errlen, "acknowledged is not a boolean");
    else if (report != NULL && !json_is_object(report))
        fail(err, errlen, "report is not an object");
    else if (strcmp(status, "closed") == 0) {
        st->status = POLL_RESOLVED;
        pollstate_actor("opsgenie", str_of(report, "closedBy"), st->actor, sizeof(st->actor));
        if (json_is_true(acked))
            pollstate_actor("opsgenie", str_of(report, "acknowledgedBy"), st->acker,
                            sizeof(st->acker));
        ok = true;
    } else if (strcmp(status, "open") != 0)
        fail(err, errlen, "alert status is not open or closed");
    else if (json_is_true(acked)) {
        st->status = POLL_ACKED;
        pollstate_actor("opsgenie", str_of(report, "acknowledgedBy"), st->actor,
                        sizeof(st->actor));
        ok = true;
    } else
        ok = (st->status = POLL_OPEN, true);
    json_decref(root);
    return ok;
}

/* ---- Retry-After ------------------------------------------------------ */

static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (long long) doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" as epoch ms; -1 when it is not one. */
static long long
imf_fixdate_ms(const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wd[4], mon[4], gmt[4];
    int d, y, h, mi, s, used = 0;
    const char *m;

    if (sscanf(v, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h, &mi, &s, gmt,
               &used) != 8 || v[used] != '\0' || strcmp(gmt, "GMT") != 0
        || (m = strstr(months, mon)) == NULL || (m - months) % 3 != 0 || d < 1 || d > 31
        || y < 1970 || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
        return -1;
    return ((days_from_civil(y, (unsigned) ((m - months) / 3 + 1), (unsigned) d) * 86400LL)
            + h * 3600LL + mi * 60LL + s) * 1000LL;
}

long long
pollstate_retry_after(const char *value, long long now_ms)
{
    long long ms;
    char *end;

    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char) *value)) {
        unsigned long long secs = strtoull(value, &end, 10);

        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end != '\0')
            return -1;
        ms = secs > (unsigned long long) (POLL_RETRY_AFTER_MAX_MS / 1000)
             ? POLL_RETRY_AFTER_MAX_MS : (long long) secs * 1000;
        return ms;
    }
    {
        char buf[40];
        size_t n = strcspn(value, "\r\n");

        if (n == 0 || n >= sizeof(buf))
            return -1;
        memcpy(buf, value, n);
        buf[n] = '\0';
        if ((ms = imf_fixdate_ms(buf)) < 0)
            return -1;
    }
    ms -= now_ms;
    return ms < 0 ? 0 : ms > POLL_RETRY_AFTER_MAX_MS ? POLL_RETRY_AFTER_MAX_MS : ms;
}

const char *
pollstate_name(enum poll_status s)
{
    switch (s) {
    case POLL_OPEN: return "open";
    case POLL_ACKED: return "acknowledged";
    case POLL_RESOLVED: return "resolved";
    case POLL_MISSING: return "missing";
    }
    return "unknown";
}

/* ---- the request budget ----------------------------------------------- */

static double
budget_cap(long rate)
{
    double cap = rate / 4.0;

    return cap < 1.0 ? 1.0 : cap;
}

void
poll_budget_init(struct poll_budget *b, long rate, long long now_ms)
{
    b->tokens = budget_cap(rate);
    b->at_ms = now_ms;
    b->blocked_until_ms = 0;
    b->limited = 0;
}

bool
poll_budget_take(struct poll_budget *b, long rate, long long now_ms)
{
    if (now_ms < b->blocked_until_ms)
        return false;
    if (now_ms > b->at_ms) {
        b->tokens += (double) (now_ms - b->at_ms) * (double) rate / 60000.0;
        if (b->tokens > budget_cap(rate))
            b->tokens = budget_cap(rate);
        b->at_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

long long
poll_budget_limited(struct poll_budget *b, long long retry_after_ms, long long now_ms)
{
    long long wait = POLL_LIMITED_FIRST_MS;

    for (int i = 0; i < b->limited && wait < POLL_LIMITED_MAX_MS; i++)
        wait *= 2;
    if (retry_after_ms >= 0)
        wait = retry_after_ms;
    if (wait > POLL_LIMITED_MAX_MS)
        wait = POLL_LIMITED_MAX_MS;
    b->limited++;
    b->tokens = 0;
    b->blocked_until_ms = now_ms + wait;
    return wait;
}

void
poll_budget_ok(struct poll_budget *b)
{
    b->limited = 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweep - one pass of cpr-sweeper: plan, offer, claim, deliver
 * DESCRIPTION
 *   See sweep.h. Idempotency keys: the webhook "id" is TRACKING/STEPKEY;
 *   the PagerDuty dedup_key and Opsgenie alias are TRACKING/CLOCK/tN for
 *   pages (each tier its own alert, so escalation really notifies someone
 *   new), TRACKING/CLOCK/warn and TRACKING/CLOCK/breach otherwise. A resolve
 *   for tier N closes TRACKING/acknowledge/tN.
 *   Every send attempt is counted, and each pass's nearest deadlines
 *   kept, for the metrics endpoint (sweepmetrics.h).
 * DIAGNOSTICS
 *   A failed channel is logged, recorded, and answered by paging the next
 *   tier at once; on the last tier the failure is logged as an error.
 */
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ackpoll.h"
#include "liveness.h"
#include "log.h"
#include "now.h"
#include "probewatch.h"
#include "sendlog.h"
#include "sweepdb.h"
#include "sweepmetrics.h"

#define SWEEP_MAX_CLAIMS  256         /* steps claimed per pass */
#define SWEEP_MAX_GROUPS  16          /* group pages per pass */
#define SWEEP_GROUP_LIST  20          /* tracking numbers named in a group page */
#define SWEEP_FALLBACK    ":fallback"

static long long
earliest(long long a, long long b)
{
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

static void
format_utc(long long ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char secs[24];

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL
        || strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%s.%03dZ", secs, (int)(ms % 1000));
}

static const char *
tier_channels(const struct sweeper *s, int tier)
{
    if (tier == 0)
        return s->esc.all_channels_json;
    if (tier < 1 || (size_t)tier > s->esc.ntiers)
        return NULL;
    return s->esc.tiers[tier - 1].channels_json;
}

static bool
offer_case(struct sweeper *s, const struct sweep_case *c, long long now,
           long long *next)
{
    struct deadline_action acts[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long nd = 0;
    size_t n = deadline_plan(&c->clocks, &s->esc.policy, now, acts, DEADLINE_MAX_ACTIONS, &nd);

    *next = earliest(*next, nd);
    for (size_t i = 0; i < n; i++) {
        const char *channels = tier_channels(s, acts[i].tier);

        if (channels == NULL)
            continue;
        deadline_step_key(&acts[i], key, sizeof(key));
        if (sweepdb_offer(s->conn, c, key, channels, &acts[i], s->actor) < 0)
            return false;
    }
    return true;
}

/* The database's clock now: read at the start of the pass, carried on
 * by this host's monotonic clock (never its wall clock). */
static long long
sweep_db_now(const struct sweeper *s)
{
    return s->db_now + (now_mono_ms() - s->db_mono);
}

static bool
offer_all(struct sweeper *s, long long *next)
{
    struct sweep_case *cases;
    size_t n;
    long long now;
    bool ok;

    if (!sweepdb_cases(s->conn, &cases, &n, &s->db_now))
        return false;
    s->db_mono = now_mono_ms();
    now = s->db_now;
    sweepmetrics_deadlines(cases, n, &s->esc.policy, s->db_now, s->db_mono);
    ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = offer_case(s, &cases[i], now, next);
    sweepdb_cases_free(cases, n);
    return ok;
}

/* Is this step still in the plan? An ack, a response or a close since it
 * was offered makes it unwanted. Resolves always go out. The plan is made
 * at the step's due time at the earliest: another sweeper (or a pass that
 * began a moment before the step fell due) may have offered it, and a step
 * not yet due by our clock is still wanted. */
static bool
still_wanted(const struct sweeper *s, const struct sweep_step *st, long long now)
{
    struct deadline_action acts[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long nd, at = st->due > now ? st->due : now;
    size_t n;

    if (strcmp(st->event, "resolve") == 0)
        return true;
    if (!st->case_open)
        return false;
    if (strstr(st->key, SWEEP_FALLBACK) != NULL)
        return strcmp(st->clock, "acknowledge") != 0 || st->kase.clocks.acked_at == 0;
    n = deadline_plan(&st->kase.clocks, &s->esc.policy, at, acts, DEADLINE_MAX_ACTIONS, &nd);
    for (size_t i = 0; i < n; i++) {
        deadline_step_key(&acts[i], key, sizeof(key));
        if (strcmp(key, st->key) == 0)
            return true;
    }
    return false;
}

static const struct pager_channel *
find_channel(const struct sweeper *s, const char *name)
{
    for (size_t i = 0; i < s->esc.nchannels; i++)
        if (strcmp(s->esc.channels[i].name, name) == 0)
            return &s->esc.channels[i];
    return NULL;
}

struct notice_text {
    char id[160];
    char dedup[96];
    char summary[512];
    char received[32];
    char deadline[32];
};

static void
summarise(const struct sweep_step *st, struct notice_text *t)
{
    const char *tr = st->kase.tracking, *cat = st->kase.category;

    if (strcmp(st->event, "page") == 0 && strcmp(st->clock, "acknowledge") == 0)
        snprintf(t->summary, sizeof(t->summary),
                 "%s [%s] not acknowledged; deadline %s passed (tier %d)",
                 tr, cat, t->deadline, st->tier);
    else if (strcmp(st->event, "page") == 0)
        snprintf(t->summary, sizeof(t->summary), "%s [%s] %s: page (tier %d), deadline %s",
                 tr, cat, st->clock, st->tier, t->deadline);
    else if (strcmp(st->event, "warn") == 0)
        snprintf(t->summary, sizeof(t->summary), "%s [%s] %s deadline approaching: %s",
                 tr, cat, st->clock, t->deadline);
    else if (strcmp(st->event, "breach") == 0)
        snprintf(t->summary, sizeof(t->summary),
                 "%s [%s] BREACH: %s deadline %s missed; incident report due in 72 h",
                 tr, cat, st->clock, t->deadline);
    else
        snprintf(t->summary, sizeof(t->summary), "%s [%s] %s: resolved", tr, cat, st->clock);
}

/* The alert a step raises or resolves: acknowledge pages one per tier;
 * another clock's warnings share one alert (a tier-1 resolve closes it)
 * and its breach another (a tier-0 resolve closes it). */
static void
notice_dedup(const struct sweep_step *st, char *buf, size_t len)
{
    const char *tr = st->kase.tracking, *kind = st->event;

    if (strcmp(st->clock, "acknowledge") == 0) {
        snprintf(buf, len, "%s/%s/t%d", tr, st->clock, st->tier);
        return;
    }
    if (strcmp(st->event, "resolve") == 0)
        kind = st->tier == 0 ? "breach" : "warn";
    snprintf(buf, len, "%s/%s/%s", tr, st->clock, kind);
}

static void
build_notice(const struct sweep_step *st, struct notice_text *t, struct pager_notice *n)
{
    const char *tr = st->kase.tracking;

    format_utc(st->kase.clocks.received_at, t->received, sizeof(t->received));
    format_utc(st->deadline, t->deadline, sizeof(t->deadline));
    snprintf(t->id, sizeof(t->id), "%s/%s", tr, st->key);
    notice_dedup(st, t->dedup, sizeof(t->dedup));
    summarise(st, t);
    memset(n, 0, sizeof(*n));
    n->event = st->event;
    n->id = t->id;
    n->dedup_key = t->dedup;
    n->tracking = tr;
    n->clock = st->clock;
    n->tier = st->tier;
    n->category = st->kase.category;
    n->subject = st->kase.subject;
    n->summary = t->summary;
    n->received_at = t->received;
    n->deadline = t->deadline;
}

/* A failed channel: page the next tier at once, saying why. */
static void
fallback(struct sweeper *s, const struct sweep_step *st, const char *why)
{
    struct deadline_action a = { 0 };
    char key[DEADLINE_STEP_KEY_MAX + 16];
    int next = st->tier + 1;

    if (st->tier == 0 || (size_t)next > s->esc.ntiers) {
        log_error("%s: channel %s failed on the last tier (%s): nobody else to page",
                  st->kase.tracking, st->channel, why);
        return;
    }
    log_warn("%s: channel %s failed (%s); paging tier %d now", st->kase.tracking,
             st->channel, why, next);
    deadline_clock_parse(st->clock, &a.clock);
    a.event = EVENT_PAGE;
    a.tier = next;
    a.due = st->due;
    a.deadline = st->deadline;
    snprintf(key, sizeof(key), "%s%s", st->key, SWEEP_FALLBACK);
    if (sweepdb_offer(s->conn, &st->kase, key, s->esc.tiers[next - 1].channels_json, &a,
                      s->actor) < 0)
        log_error("%s: could not offer the tier-%d page; the failed step is recorded "
                  "and the next pass plans again", st->kase.tracking, next);
}

static bool
cannot_resolve(const struct pager_channel *ch)
{
    return !pager_types[ch->type].can_resolve;
}

static bool
finish(struct sweeper *s, const struct sweep_step *st, const char *outcome, long status,
       double ms, const char *err, long long retry_ms)
{
    return sweepdb_finish(s->conn, st, s->worker, s->actor, outcome, status, ms, err,
                          retry_ms);
}

/* An acknowledge page of a case in a flood from its domain is replaced by
 * its page group's (016_page_groups.sql); true when it was, with the step
 * recorded as skipped. *ok is false on a database failure. */
static bool
grouped(struct sweeper *s, const struct sweep_step *st, bool *ok)
{
    char why[64];
    long long g;

    *ok = true;
    if (s->group_window_ms <= 0 || strcmp(st->event, "page") != 0
        || strcmp(st->clock, "acknowledge") != 0)
        return false;
    if ((g = sweepdb_group_join(s->conn, st->kase.id, s->group_window_ms, s->actor)) < 0) {
        *ok = false;
        return true;
    }
    if (g == 0)
        return false;
    snprintf(why, sizeof(why), "grouped into page group %lld", g);
    log_info("%s: tier %d page %s", st->kase.tracking, st->tier, why);
    *ok = finish(s, st, "skipped", 0, 0, why, 0);
    return true;
}

static bool
deliver(struct sweeper *s, const struct sweep_step *st, long long now)
{
    const struct pager_channel *ch = find_channel(s, st->channel);
    struct notice_text t;
    struct pager_notice n;
    enum send_result r;
    char err[512] = "";
    long status = 0;
    double ms = 0;
    bool ok, retry;

    if (!still_wanted(s, st, now))
        return finish(s, st, "skipped", 0, 0, "no longer due", 0);
    if (grouped(s, st, &ok))
        return ok;
    if (ch == NULL) {
        fallback(s, st, "channel not configured");
        return finish(s, st, "failed", 0, 0, "channel not configured on this sweeper", 0);
    }
    if (strcmp(st->event, "resolve") == 0 && cannot_resolve(ch))
        return finish(s, st, "skipped", 0, 0, "channel has no resolve", 0);
    build_notice(st, &t, &n);
    /* One we resolve ourselves is no longer asked about, from before the
     * resolve: a poll must not take our resolve for one made by hand. */
    if (strcmp(st->event, "resolve") == 0 && !ackpoll_closed(s, st->channel, n.dedup_key))
        log_error("%s: could not stop polling the alert", st->kase.tracking);
    r = sendlog_send(s, ch, &n, &status, &ms, err, sizeof(err));
    retry = r == SEND_RETRY && st->attempts <= s->esc.retry_max;   /* retries after the first */
    if (r == SEND_OK) {
        /* An alert opened on a polled channel is asked about (ackpoll.h). */
        if (!ackpoll_opened(s, st, n.dedup_key))
            log_error("%s: could not record the alert for polling", st->kase.tracking);
        return finish(s, st, "sent", status, ms, NULL, 0);
    }
    if (retry)
        return finish(s, st, "retry", status, ms, err,
                      retry_backoff_ms(st->attempts - 1, s->esc.retry_base_ms, s->esc.retry_cap_ms,
                                       (unsigned)rand()));
    /* A failed resolve pages nobody: the alert stays open, which is safe. */
    if (strcmp(st->event, "resolve") != 0)
        fallback(s, st, err[0] ? err : "retries exhausted");
    return finish(s, st, "failed", status, ms, err, 0);
}

/* One step per claim: the lease then covers a single send (at most one
 * attempt's timeout), so no step waits behind a slow channel long enough
 * for another sweeper to take it over and send it twice. */
static bool
deliver_ready(struct sweeper *s)
{
    for (int i = 0; i < SWEEP_MAX_CLAIMS; i++) {
        struct sweep_step *steps;
        size_t n;
        bool ok;

        if (!sweepdb_claim(s->conn, s->worker, s->lease_ms, 1, &steps, &n))
            return false;
        ok = n == 0 || deliver(s, &steps[0], sweep_db_now(s));
        sweepdb_steps_free(steps, n);
        if (!ok)
            return false;
        if (n == 0)
            break;
    }
    return true;
}

/* One group page to every channel of its tier; sent when one took it. */
static bool
group_send(struct sweeper *s, const struct sweep_group *g, char *err, size_t errlen)
{
    int tier = g->tier <= (int)s->esc.ntiers ? g->tier : (int)s->esc.ntiers;
    const struct escalation_tier *t = &s->esc.tiers[tier - 1];
    char id[64], summary[512], deadline[32];
    struct pager_notice n = { 0 };
    bool sent = false;

    snprintf(id, sizeof(id), "group-%lld/t%d", g->id, g->tier);
    format_utc(g->window_ends_at, deadline, sizeof(deadline));
    snprintf(summary, sizeof(summary),
             "%d new reports from %s not acknowledged (page group %lld, tier %d): %s%s; "
             "cprctl ack-group %lld", g->open_count, g->domain, g->id, g->tier, g->trackings,
             g->open_count > SWEEP_GROUP_LIST ? ", and more" : "", g->id);
    n.event = "page";
    n.id = id;
    n.dedup_key = id;
    n.tracking = id;
    n.clock = "acknowledge";
    n.tier = g->tier;
    n.category = "group";
    n.subject = g->domain;
    n.summary = summary;
    n.received_at = deadline;
    n.deadline = deadline;
    for (size_t i = 0; i < t->nchannels; i++) {
        const struct pager_channel *ch = &s->esc.channels[t->channels[i]];
        long status = 0;
        double ms = 0;

        if (sendlog_send(s, ch, &n, &status, &ms, err, errlen) == SEND_OK)
            sent = true;
    }
    return sent;
}

/* Group pages that are due: tier by tier at the escalation interval, the
 * last tier again every repeat, until every case listed is acknowledged. */
static bool
deliver_groups(struct sweeper *s)
{
    for (int i = 0; i < SWEEP_MAX_GROUPS && s->esc.ntiers > 0; i++) {
        struct sweep_group g;
        char err[512] = "";
        bool found, sent, ok;

        if (!sweepdb_group_claim(s->conn, s->worker, s->lease_ms, SWEEP_GROUP_LIST, &g, &found))
            return false;
        if (!found)
            break;
        sent = group_send(s, &g, err, sizeof(err));
        if (sent)
            log_info("page group %lld (%s, %d open): tier %d paged", g.id, g.domain,
                     g.open_count, g.tier);
        else
            log_error("page group %lld (%s): tier %d page failed (%s); retrying", g.id,
                      g.domain, g.tier, err[0] ? err : "no channel");
        ok = sweepdb_group_finish(s->conn, &g, s->worker, sent ? "sent" : "failed",
                                  !sent ? s->esc.retry_base_ms
                                  : (size_t)g.tier < s->esc.ntiers ? s->esc.policy.interval_ms
                                  : s->esc.policy.repeat_ms, sent ? NULL : err, s->actor);
        sweepdb_group_free(&g);
        if (!ok)
            return false;
    }
    return true;
}

long long
sweep_pass(struct sweeper *s, bool *ok)
{
    long long next = 0, retry, alive;

    *ok = offer_all(s, &next) && deliver_ready(s) && deliver_groups(s);
    if (!*ok)
        return 0;
    alive = liveness_pass(s, ok);
    if (!*ok)
        return 0;
    alive = earliest(alive, probewatch_pass(s, ok));
    if (!*ok)
        return 0;
    retry = sweepdb_next_retry(s->conn);
    if (retry < 0)
        *ok = false;
    retry = earliest(retry, alive);
    /* Both are delays by the database clock, for the caller's monotonic one. */
    if (next > 0) {
        next -= sweep_db_now(s);
        if (next < 1)
            next = 1;
    }
    return earliest(next, retry);
}

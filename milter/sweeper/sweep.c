/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweep - one pass of cpr-sweeper: plan, offer, claim, deliver
 * DESCRIPTION
 *   See sweep.h. Idempotency keys: the webhook "id" is TRACKING/STEPKEY;
 *   the PagerDuty dedup_key, Opsgenie alias and webhook "alert" are the
 *   alert keys of deadline_alert_key(): one alert per clock, and a key of
 *   its own for each page that must notify while that alert is open (a
 *   later tier, a repeat, a later warning, a breach). Every trigger sent
 *   is recorded in cpr.alerts; a resolve step acknowledges (acknowledge
 *   clock) and resolves every open alert of its clock on its channel, and
 *   Slack and email get one "resolved" message ([channel] resolve).
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
#include "revwatch.h"
#include "sendlog.h"
#include "sweepdb.h"
#include "sweepmetrics.h"
#include "sweepnotice.h"

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
 * not yet due by our clock is still wanted. *act is the planned action
 * (for a fallback or a resolve, the one the step stands for). */
static bool
still_wanted(const struct sweeper *s, const struct sweep_step *st, long long now,
             struct deadline_action *act)
{
    struct deadline_action acts[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long nd, at = st->due > now ? st->due : now;
    size_t n;

    memset(act, 0, sizeof(*act));
    deadline_clock_parse(st->clock, &act->clock);
    act->event = strcmp(st->event, "resolve") == 0 ? EVENT_RESOLVE : EVENT_PAGE;
    act->tier = st->tier;
    act->due = st->due;
    act->deadline = st->deadline;
    act->clock_start = deadline_clock_start(&st->kase.clocks, act->clock);
    if (strcmp(st->event, "resolve") == 0)
        return true;
    if (!st->case_open)
        return false;
    if (strstr(st->key, SWEEP_FALLBACK) != NULL)
        return strcmp(st->clock, "acknowledge") != 0 || st->kase.clocks.acked_at == 0;
    n = deadline_plan(&st->kase.clocks, &s->esc.policy, at, acts, DEADLINE_MAX_ACTIONS, &nd);
    for (size_t i = 0; i < n; i++) {
        deadline_step_key(&acts[i], key, sizeof(key));
        if (strcmp(key, st->key) == 0) {
            *act = acts[i];
            return true;
        }
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

/* A send's outcome as the step's: sent, a retry with backoff, or failed. */
static bool
finish_send(struct sweeper *s, const struct sweep_step *st, enum send_result r, long status,
            double ms, const char *err)
{
    if (r == SEND_OK)
        return finish(s, st, "sent", status, ms, NULL, 0);
    if (r == SEND_RETRY && st->attempts <= s->esc.retry_max)   /* retries after the first */
        return finish(s, st, "retry", status, ms, err,
                      retry_backoff_ms(st->attempts - 1, s->esc.retry_base_ms, s->esc.retry_cap_ms,
                                       (unsigned)rand()));
    return finish(s, st, "failed", status, ms, err, 0);
}

/* One acknowledge or resolve notice for one open alert (key). */
static enum send_result
send_alert_event(struct sweeper *s, const struct sweep_step *st,
                 const struct pager_channel *ch, const struct deadline_action *act,
                 long long now, const struct sweep_facts *f, const char *event,
                 const char *key, long *status, double *ms, char *err, size_t errlen)
{
    struct sweep_notice_text t;
    struct pager_notice n;
    enum send_result r;

    sweepnotice_build(s, st, act, false, now, f, event, key, &t, &n);
    r = sendlog_send(s, ch, &n, status, ms, err, errlen);
    sweepnotice_free(&t);
    return r;
}

/* Slack and email: one "resolved" message for the clock, then every open
 * alert of it is resolved; with resolve = no, only recorded. */
static bool
resolve_by_message(struct sweeper *s, const struct sweep_step *st,
                   const struct pager_channel *ch, const struct deadline_action *act,
                   long long now, const struct sweep_facts *f,
                   const struct sweep_open_alert *al, size_t na)
{
    enum send_result r = SEND_OK;
    char err[512] = "";
    long status = 0;
    double ms = 0;

    if (ch->resolve)
        r = send_alert_event(s, st, ch, act, now, f, "resolve", NULL, &status, &ms, err,
                             sizeof(err));
    for (size_t i = 0; r == SEND_OK && i < na; i++)
        if (!sweepdb_alert_state(s->conn, al[i].id, "resolved", s->actor, ch->resolve))
            return false;
    if (!ch->resolve)
        return finish(s, st, "skipped", 0, 0, "resolve = no", 0);
    return finish_send(s, st, r, status, ms, err);
}

/* PagerDuty, Opsgenie, webhooks: each open alert key of the clock gets
 * its acknowledge (the acknowledge clock, if not acknowledged there
 * already) and its resolve. A failure stops the round; the retry resumes
 * with the alerts still open. */
static bool
resolve_by_key(struct sweeper *s, const struct sweep_step *st, const struct pager_channel *ch,
               const struct deadline_action *act, long long now, const struct sweep_facts *f,
               const struct sweep_open_alert *al, size_t na)
{
    enum send_result r = SEND_OK;
    char err[512] = "";
    long status = 0;
    double ms = 0;
    bool ack_clock = act->clock == CLOCK_ACKNOWLEDGE;

    if (ch->type == PAGER_WEBHOOK && !ch->resolve) {
        for (size_t i = 0; i < na; i++)
            if (!sweepdb_alert_state(s->conn, al[i].id, "resolved", s->actor, false))
                return false;
        return finish(s, st, "skipped", 0, 0, "resolve = no", 0);
    }
    for (size_t i = 0; r == SEND_OK && i < na; i++) {
        /* No longer asked about (ackpoll.h), from before our acknowledge or
         * resolve goes out: a poll must not take it for one made by hand. */
        if (!ackpoll_closed(s, st->channel, al[i].key))
            log_error("%s: could not stop polling alert %s", st->kase.tracking, al[i].key);
        if (ack_clock && strcmp(al[i].state, "triggered") == 0) {
            r = send_alert_event(s, st, ch, act, now, f, "acknowledge", al[i].key, &status,
                                 &ms, err, sizeof(err));
            if (r != SEND_OK
                || !sweepdb_alert_state(s->conn, al[i].id, "acknowledged", s->actor, true))
                break;
        }
        r = send_alert_event(s, st, ch, act, now, f, "resolve", al[i].key, &status, &ms, err,
                             sizeof(err));
        if (r == SEND_OK && !sweepdb_alert_state(s->conn, al[i].id, "resolved", s->actor, true))
            return false;
    }
    return finish_send(s, st, r, status, ms, err);
}

/* A stopped clock: every alert it opened on this channel is acknowledged
 * (the acknowledge clock) and resolved. A failed resolve pages nobody:
 * the alert stays open, which is safe. */
static bool
deliver_resolve(struct sweeper *s, const struct sweep_step *st,
                const struct pager_channel *ch, const struct deadline_action *act,
                long long now)
{
    struct sweep_open_alert *al;
    struct sweep_facts f;
    size_t na;
    bool ok;

    if (!sweepdb_alerts_open(s->conn, st->kase.id, st->clock, act->clock_start, st->channel,
                             &al, &na))
        return false;
    if (na == 0)
        return finish(s, st, "skipped", 0, 0, "no open alert on this channel", 0);
    if (!sweepdb_page_facts(s->conn, st->kase.id, &f)) {
        sweepdb_open_alerts_free(al, na);
        return false;
    }
    ok = ch->type == PAGER_SLACK || ch->type == PAGER_EMAIL
        ? resolve_by_message(s, st, ch, act, now, &f, al, na)
        : resolve_by_key(s, st, ch, act, now, &f, al, na);
    sweepdb_facts_free(&f);
    sweepdb_open_alerts_free(al, na);
    return ok;
}

/* A page, warning or breach: sent under its alert key, recorded open. */
/* Issue 16: a revocation warning or breach names, in its details, the
 * certificates whose revocation is not yet published. */
static void
revocation_pending(struct sweeper *s, const struct sweep_step *st,
                   struct sweep_notice_text *t, struct pager_notice *n)
{
    char buf[1024] = "Revocation";
    char *d;
    size_t size;

    if (strcmp(st->clock, "revocation") != 0
        || (strcmp(st->event, "warn") != 0 && strcmp(st->event, "breach") != 0))
        return;
    revwatch_pending_text(s->conn, st->kase.id, buf, sizeof(buf));
    if (strcmp(buf, "Revocation") == 0)
        return;
    size = (t->details ? strlen(t->details) : 0) + strlen(buf) + 2;
    if ((d = malloc(size)) == NULL)
        return;
    snprintf(d, size, "%s%s\n", t->details ? t->details : "", buf);
    free(t->details);
    t->details = d;
    n->details = d;
}

static bool
deliver_trigger(struct sweeper *s, const struct sweep_step *st,
                const struct pager_channel *ch, const struct deadline_action *act,
                long long now)
{
    bool fb = strstr(st->key, SWEEP_FALLBACK) != NULL;
    struct sweep_notice_text t;
    struct pager_notice n;
    struct sweep_facts f;
    enum send_result r;
    char err[512] = "";
    long status = 0;
    double ms = 0;
    bool ok = true;

    if (!sweepdb_page_facts(s->conn, st->kase.id, &f))
        return false;
    sweepnotice_build(s, st, act, fb, now, &f, NULL, NULL, &t, &n);
    revocation_pending(s, st, &t, &n);
    r = sendlog_send(s, ch, &n, &status, &ms, err, sizeof(err));
    if (r == SEND_OK)
        ok = sweepdb_alert_triggered(s->conn, st->kase.id, st->clock, act->clock_start,
                                     t.base, t.key, st->channel, pager_type_name(ch->type),
                                     st->event, st->tier, s->actor)
             /* An alert opened on a polled channel is asked about (ackpoll.h). */
             && ackpoll_opened(s, st, t.key);
    sweepnotice_free(&t);
    sweepdb_facts_free(&f);
    if (!ok)
        return false;
    if (r != SEND_OK && !(r == SEND_RETRY && st->attempts <= s->esc.retry_max))
        fallback(s, st, err[0] ? err : "retries exhausted");
    return finish_send(s, st, r, status, ms, err);
}

static bool
deliver(struct sweeper *s, const struct sweep_step *st, long long now)
{
    const struct pager_channel *ch = find_channel(s, st->channel);
    struct deadline_action act;
    bool ok;

    if (!still_wanted(s, st, now, &act))
        return finish(s, st, "skipped", 0, 0, "no longer due", 0);
    if (grouped(s, st, &ok))
        return ok;
    if (ch == NULL) {
        if (strcmp(st->event, "resolve") != 0)
            fallback(s, st, "channel not configured");
        return finish(s, st, "failed", 0, 0, "channel not configured on this sweeper", 0);
    }
    if (strcmp(st->event, "resolve") == 0)
        return deliver_resolve(s, st, ch, &act, now);
    return deliver_trigger(s, st, ch, &act, now);
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
    sweepnotice_utc(g->window_ends_at, deadline, sizeof(deadline));
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

bool
sweep_close_notice(const struct sweeper *s, const struct pager_channel *ch,
                   struct pager_notice *n, bool *messaged, bool *sent)
{
    char err[512] = "";
    bool by_message = ch->type == PAGER_SLACK || ch->type == PAGER_EMAIL;
    long status = 0;
    double ms = 0;

    if (!ch->resolve && ch->type != PAGER_PAGERDUTY && ch->type != PAGER_OPSGENIE)
        return true;
    if (by_message && *messaged)
        return true;
    n->actor = s->actor;
    n->event = "acknowledge";
    if (!by_message && sendlog_send(s, ch, n, &status, &ms, err, sizeof(err)) != SEND_OK)
        return false;
    n->event = "resolve";
    if (sendlog_send(s, ch, n, &status, &ms, err, sizeof(err)) != SEND_OK)
        return false;
    *messaged = *messaged || by_message;
    if (sent)
        *sent = true;
    return true;
}

/* One acknowledge-and-resolve (or, Slack and email, one "resolved"
 * message) of a group's tier-t alert on channel ch; false if it failed. */
static bool
group_close_one(struct sweeper *s, const struct pager_channel *ch, long long gid, int t,
                bool *messaged)
{
    char key[64], summary[160];
    struct pager_notice n = { 0 };

    snprintf(key, sizeof(key), "group-%lld/t%d", gid, t);
    snprintf(summary, sizeof(summary), "page group %lld acknowledged", gid);
    n.id = key;
    n.dedup_key = key;
    n.tracking = key;
    n.clock = "acknowledge";
    n.tier = t;
    n.category = "group";
    n.summary = summary;
    return sweep_close_notice(s, ch, &n, messaged, NULL);
}

/* Acknowledged page groups: close the alert of every tier they paged. */
static bool
resolve_groups(struct sweeper *s)
{
    for (int i = 0; i < SWEEP_MAX_GROUPS && s->esc.ntiers > 0; i++) {
        bool found, sent = true, *messaged;
        long long gid;
        int tier;

        if (!sweepdb_group_resolve_claim(s->conn, s->lease_ms, &gid, &tier, &found))
            return false;
        if (!found)
            break;
        /* Slack and email channels in several tiers get one message. */
        if ((messaged = calloc(s->esc.nchannels + 1, sizeof(*messaged))) == NULL)
            sent = false;
        for (int t = 1; t <= tier && sent; t++) {
            const struct escalation_tier *et =
                &s->esc.tiers[(size_t)t <= s->esc.ntiers ? t - 1 : (int)s->esc.ntiers - 1];

            for (size_t c = 0; c < et->nchannels && sent; c++)
                sent = group_close_one(s, &s->esc.channels[et->channels[c]], gid, t,
                                       &messaged[et->channels[c]]);
        }
        free(messaged);
        if (!sweepdb_group_resolved(s->conn, gid, sent, s->esc.retry_base_ms))
            return false;
        if (!sent)
            break;      /* retried after retry_base; do not spin on a dead channel */
    }
    return true;
}

long long
sweep_pass(struct sweeper *s, bool *ok)
{
    long long next = 0, retry, alive;

    *ok = offer_all(s, &next) && deliver_ready(s) && deliver_groups(s) && resolve_groups(s);
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

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   deadline - the pure deadline planner of cpr-sweeper
 * SUMMARY
 *   n = deadline_plan(&c, &policy, now, actions, max, &next_due);
 * DESCRIPTION
 *   Owns the arithmetic of the four clocks (see deadline.h) and the
 *   spelling of step keys. No I/O, no clock reads, no allocation: the
 *   case, the policy and `now` come in, the steps due by `now` go out,
 *   sorted by due time (ties keep clock, then tier order).
 *
 *   A case without an acknowledge clock is automated mail and runs no
 *   clock at all; a closed case pages nothing and only resolves. Once
 *   acknowledged, the acknowledge clock lists no pages, only a RESOLVE (due
 *   at the ack) for each tier whose first page was due by then. A report
 *   or revocation clock counts as stopped at time t when its stop time is
 *   set and <= t; a stop after the deadline leaves the breach standing.
 *   A stopped clock (or a closed case) lists a RESOLVE for its warnings
 *   and breach if they had been due.
 * DIAGNOSTICS
 *   Stale steps are dropped: only the latest passed warning, and only
 *   while the clock runs and its deadline is ahead; only the latest repeat
 *   of the last tier. Warnings that would fall before the clock started
 *   (an offset longer than the period) are never listed. Durations are
 *   clamped to [0, DEADLINE_SPAN_MAX_MS] and tiers and warnings to their
 *   array bounds, so no policy makes the arithmetic overflow. Steps beyond
 *   `max` are not returned; being stateless, the next pass lists them.
 *   The last tier repeats at most INT_MAX times.
 */
#include "deadline.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define DEADLINE_HOUR_MS          (3600LL * 1000)
#define DEADLINE_REVOKE_FAST_MS   (24 * DEADLINE_HOUR_MS)   /* items 1-5 */
#define DEADLINE_REVOKE_SLOW_MS   (120 * DEADLINE_HOUR_MS)  /* items 6-16 */
#define DEADLINE_FAST_LAST_ITEM   5
#define DEADLINE_LAST_ITEM        16
/* A sane ceiling for any configured duration: about 100 years. */
#define DEADLINE_SPAN_MAX_MS      (36525LL * 24 * DEADLINE_HOUR_MS)

/* Repeat numbers are ints; paging stops after that many repeats. */
#define DEADLINE_REPEAT_MAX       INT_MAX

/* Per pass at most: every tier plus one repeat, and per other clock one
 * warning and one breach. */
#define DEADLINE_STEPS_MAX        (DEADLINE_MAX_TIERS + 1 + 3 * 2)
_Static_assert(DEADLINE_STEPS_MAX <= DEADLINE_MAX_ACTIONS,
               "DEADLINE_MAX_ACTIONS too small for one pass");

/* The steps of one pass, gathered before sorting. */
struct deadline_sink {
    long long now;
    long long next_due;            /* 0: nothing later */
    struct deadline_action steps[DEADLINE_STEPS_MAX];
    size_t n;
};

static long long
deadline_span(long long ms)
{
    if (ms < 0)
        return 0;
    return ms > DEADLINE_SPAN_MAX_MS ? DEADLINE_SPAN_MAX_MS : ms;
}

static int
deadline_tiers(const struct deadline_policy *p)
{
    if (p->ntiers < 0)
        return 0;
    return p->ntiers > DEADLINE_MAX_TIERS ? DEADLINE_MAX_TIERS : p->ntiers;
}

static size_t
deadline_nwarn(const struct deadline_policy *p)
{
    return p->nwarn > DEADLINE_MAX_WARN ? DEADLINE_MAX_WARN : p->nwarn;
}

static bool
deadline_stopped(long long stop, long long t)
{
    return stop != 0 && stop <= t;
}

long long
deadline_revocation_ms(int br_item)
{
    if (br_item >= 1 && br_item <= DEADLINE_FAST_LAST_ITEM)
        return DEADLINE_REVOKE_FAST_MS;
    if (br_item > DEADLINE_FAST_LAST_ITEM && br_item <= DEADLINE_LAST_ITEM)
        return DEADLINE_REVOKE_SLOW_MS;
    return 0;
}

long long
deadline_clock_start(const struct deadline_case *c, enum deadline_clock clock)
{
    return clock == CLOCK_ACKNOWLEDGE ? c->ack_clock_from : c->received_at;
}

long long
deadline_clock_stop(const struct deadline_case *c, enum deadline_clock clock)
{
    switch (clock) {
    case CLOCK_ACKNOWLEDGE:
        return c->acked_at;
    case CLOCK_REPORT_REPORTER:
        return c->reporter_done_at;
    case CLOCK_REPORT_SUBSCRIBER:
        return c->subscriber_done_at;
    case CLOCK_REVOCATION:
        return c->revoked_at;
    }
    return 0;
}

long long
deadline_of(const struct deadline_case *c, const struct deadline_policy *p,
            enum deadline_clock clock)
{
    long long start = deadline_clock_start(c, clock);

    /* Automated mail (no acknowledge clock) runs no clock at all. */
    if (c->ack_clock_from == 0 || start == 0)
        return 0;
    switch (clock) {
    case CLOCK_ACKNOWLEDGE:
        return start + deadline_span(p->acknowledge_ms);
    case CLOCK_REPORT_REPORTER:
    case CLOCK_REPORT_SUBSCRIBER:
        return start + deadline_span(p->report_ms);
    case CLOCK_REVOCATION:
        if (deadline_revocation_ms(c->br_item) == 0)
            return 0;
        return start + deadline_revocation_ms(c->br_item);
    }
    return 0;
}

/* A step due at `due`: listed when due by now, else a candidate for
 * next_due. */
static void
deadline_offer(struct deadline_sink *s, const struct deadline_action *a)
{
    if (a->due > s->now) {
        if (s->next_due == 0 || a->due < s->next_due)
            s->next_due = a->due;
        return;
    }
    if (s->n < DEADLINE_STEPS_MAX)
        s->steps[s->n++] = *a;
}

static struct deadline_action
deadline_action_make(enum deadline_clock clock, enum deadline_event event,
                     long long deadline, long long start)
{
    struct deadline_action a = { 0 };

    a.clock = clock;
    a.event = event;
    a.deadline = deadline;
    a.clock_start = start;
    return a;
}

static long long
deadline_tier_due(const struct deadline_policy *p, long long deadline, int tier)
{
    return deadline + (tier - 1) * deadline_span(p->interval_ms);
}

/* The last tier again every repeat_ms; only the latest due repeat. */
static void
deadline_plan_repeat(struct deadline_sink *s, const struct deadline_policy *p,
                     struct deadline_action a)
{
    long long every = deadline_span(p->repeat_ms), last = a.due, r;

    if (every == 0)
        return;
    r = (s->now - last) / every;   /* the tier was due: now >= last */
    if (r > 0 && r <= DEADLINE_REPEAT_MAX) {
        a.repeat = (int) r;
        a.due = last + r * every;
        deadline_offer(s, &a);
    }
    if (r < DEADLINE_REPEAT_MAX) {
        a.repeat = (int) r + 1;
        a.due = last + (r + 1) * every;
        deadline_offer(s, &a);
    }
}

static void
deadline_plan_pages(struct deadline_sink *s, const struct deadline_policy *p,
                    long long deadline, long long start)
{
    struct deadline_action a = deadline_action_make(CLOCK_ACKNOWLEDGE,
                                                    EVENT_PAGE, deadline, start);
    int tiers = deadline_tiers(p);

    for (a.tier = 1; a.tier <= tiers; a.tier++) {
        a.due = deadline_tier_due(p, deadline, a.tier);
        deadline_offer(s, &a);
        if (a.due > s->now)
            return;               /* later tiers are later still */
    }
    if (tiers > 0) {
        a.tier = tiers;
        a.due = deadline_tier_due(p, deadline, tiers);
        deadline_plan_repeat(s, p, a);
    }
}

static void
deadline_plan_resolves(struct deadline_sink *s, const struct deadline_policy *p,
                       long long deadline, long long start, long long acked_at,
                       bool restarted)
{
    struct deadline_action a = deadline_action_make(CLOCK_ACKNOWLEDGE,
                                                    EVENT_RESOLVE, deadline, start);
    int tiers = deadline_tiers(p);

    a.due = acked_at;
    for (a.tier = 1; a.tier <= tiers; a.tier++) {
        if (deadline_tier_due(p, deadline, a.tier) > acked_at)
            break;
        deadline_offer(s, &a);
    }
    /* A restarted clock acked before its tier 1 page: the alerts of the
     * earlier start may still be open, and tier 1's resolve closes them. */
    if (a.tier == 1 && tiers > 0 && restarted)
        deadline_offer(s, &a);
}

/* When the acknowledge clock stopped: the ack, else the close (0: runs). */
static long long
deadline_ack_stop(const struct deadline_case *c)
{
    if (c->acked_at != 0)
        return c->acked_at;
    return c->closed ? c->closed_at : 0;
}

static void
deadline_plan_acknowledge(struct deadline_sink *s, const struct deadline_case *c,
                          const struct deadline_policy *p)
{
    long long deadline = deadline_of(c, p, CLOCK_ACKNOWLEDGE);
    long long stop = deadline_ack_stop(c);

    if (deadline == 0)
        return;
    if (stop != 0)
        deadline_plan_resolves(s, p, deadline, c->ack_clock_from, stop,
                               c->ack_clock_from != c->received_at);
    else if (!c->closed)
        deadline_plan_pages(s, p, deadline, c->ack_clock_from);
}

/* Did any warning of this clock fall due before stop? */
static bool
deadline_warned_before(const struct deadline_policy *p, const struct deadline_action *a,
                       long long stop)
{
    for (size_t i = 0; i < deadline_nwarn(p); i++) {
        long long offset = deadline_span(p->warn_before_ms[i]);
        long long due = a->deadline - offset;

        if (offset != 0 && due >= a->clock_start && due < stop)
            return true;
    }
    return false;
}

/* A stopped report or revocation clock resolves what it had raised: its
 * warnings (tier 1) and its breach (tier 0). */
static void
deadline_plan_clock_resolves(struct deadline_sink *s, const struct deadline_policy *p,
                             struct deadline_action a, long long stop)
{
    a.event = EVENT_RESOLVE;
    a.due = stop;
    a.offset_ms = 0;
    if (deadline_warned_before(p, &a, stop)) {
        a.tier = 1;
        deadline_offer(s, &a);
    }
    if (stop > a.deadline) {
        a.tier = 0;
        deadline_offer(s, &a);
    }
}

/* Of the warnings due by now only the latest is listed, and only while
 * the clock runs and its deadline is ahead; later ones feed next_due. */
static void
deadline_plan_warnings(struct deadline_sink *s, const struct deadline_policy *p,
                       struct deadline_action a, long long stop)
{
    struct deadline_action latest = a;
    bool passed = false;
    size_t i, nwarn = deadline_nwarn(p);

    a.event = EVENT_WARN;
    a.tier = 1;
    for (i = 0; i < nwarn; i++) {
        a.offset_ms = deadline_span(p->warn_before_ms[i]);
        a.due = a.deadline - a.offset_ms;
        if (a.offset_ms == 0 || a.due < a.clock_start || deadline_stopped(stop, a.due))
            continue;
        if (a.due > s->now) {
            deadline_offer(s, &a);
        } else if (!passed || a.due > latest.due) {
            latest = a;
            passed = true;
        }
    }
    if (passed && s->now < a.deadline && !deadline_stopped(stop, s->now))
        deadline_offer(s, &latest);
}

static void
deadline_plan_clock(struct deadline_sink *s, const struct deadline_case *c,
                    const struct deadline_policy *p, enum deadline_clock clock)
{
    long long deadline = deadline_of(c, p, clock);
    long long stop = deadline_clock_stop(c, clock);
    struct deadline_action a;

    if (deadline == 0)
        return;
    if (stop == 0 && c->closed)
        stop = c->closed_at;
    a = deadline_action_make(clock, EVENT_BREACH, deadline,
                             deadline_clock_start(c, clock));
    if (stop != 0)
        deadline_plan_clock_resolves(s, p, a, stop);
    if (c->closed)
        return;
    deadline_plan_warnings(s, p, a, stop);
    if (!deadline_stopped(stop, deadline)) {
        a.due = deadline;          /* tier 0: every tier */
        deadline_offer(s, &a);
    }
}

/* Insertion sort: stable, and n is tiny. */
static void
deadline_sort(struct deadline_action *v, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        struct deadline_action x = v[i];

        for (j = i; j > 0 && v[j - 1].due > x.due; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

size_t
deadline_plan(const struct deadline_case *c, const struct deadline_policy *p,
              long long now, struct deadline_action *out, size_t max,
              long long *next_due)
{
    struct deadline_sink s = { .now = now };
    size_t i;

    if (next_due != NULL)
        *next_due = 0;
    if (c == NULL || p == NULL || c->ack_clock_from == 0)
        return 0;
    deadline_plan_acknowledge(&s, c, p);
    deadline_plan_clock(&s, c, p, CLOCK_REPORT_REPORTER);
    deadline_plan_clock(&s, c, p, CLOCK_REPORT_SUBSCRIBER);
    deadline_plan_clock(&s, c, p, CLOCK_REVOCATION);
    deadline_sort(s.steps, s.n);
    if (next_due != NULL)
        *next_due = s.next_due;
    if (out == NULL)
        return 0;
    for (i = 0; i < s.n && i < max; i++)
        out[i] = s.steps[i];
    return i;
}

const char *
deadline_clock_name(enum deadline_clock clock)
{
    switch (clock) {
    case CLOCK_ACKNOWLEDGE:
        return "acknowledge";
    case CLOCK_REPORT_REPORTER:
        return "report-reporter";
    case CLOCK_REPORT_SUBSCRIBER:
        return "report-subscriber";
    case CLOCK_REVOCATION:
        return "revocation";
    }
    return "unknown";
}

/* The inverse of deadline_clock_name; *clock is left alone on failure. */
bool
deadline_clock_parse(const char *name, enum deadline_clock *clock)
{
    static const enum deadline_clock all[] = {
        CLOCK_ACKNOWLEDGE, CLOCK_REPORT_REPORTER, CLOCK_REPORT_SUBSCRIBER,
        CLOCK_REVOCATION
    };
    size_t i;

    if (name == NULL)
        return false;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, deadline_clock_name(all[i])) == 0) {
            if (clock != NULL)
                *clock = all[i];
            return true;
        }
    }
    return false;
}

const char *
deadline_event_name(enum deadline_event event)
{
    switch (event) {
    case EVENT_PAGE:
        return "page";
    case EVENT_WARN:
        return "warn";
    case EVENT_BREACH:
        return "breach";
    case EVENT_RESOLVE:
        return "resolve";
    }
    return "unknown";
}

/* The part after "clock:event", which names the step within its event. */
static void
deadline_step_detail(const struct deadline_action *a, char *buf, size_t len)
{
    buf[0] = '\0';
    switch (a->event) {
    case EVENT_PAGE:
        snprintf(buf, len, ":t%d:r%d", a->tier, a->repeat);
        break;
    case EVENT_RESOLVE:
        snprintf(buf, len, ":t%d", a->tier);
        break;
    case EVENT_WARN:
        snprintf(buf, len, ":o%lld", a->offset_ms);
        break;
    case EVENT_BREACH:
        break;
    }
}

void
deadline_step_key(const struct deadline_action *a, char *buf, size_t len)
{
    char clock[DEADLINE_STEP_KEY_MAX], detail[DEADLINE_STEP_KEY_MAX];

    if (buf == NULL || len == 0)
        return;
    /* The acknowledge clock restarts on a follow-up, and a new confirm
     * moves the revocation deadline: either way, new steps. */
    if (a->clock == CLOCK_ACKNOWLEDGE)
        snprintf(clock, sizeof(clock), "%s@%lld",
                 deadline_clock_name(a->clock), a->clock_start);
    else if (a->clock == CLOCK_REVOCATION)
        snprintf(clock, sizeof(clock), "%s@%lld",
                 deadline_clock_name(a->clock), a->deadline);
    else
        snprintf(clock, sizeof(clock), "%s", deadline_clock_name(a->clock));
    deadline_step_detail(a, detail, sizeof(detail));
    snprintf(buf, len, "%s:%s%s", clock, deadline_event_name(a->event), detail);
}

/* The largest warn_before offset: the clock's first warning. */
static long long
deadline_first_warning(const struct deadline_policy *p)
{
    long long most = 0;

    for (size_t i = 0; i < deadline_nwarn(p); i++)
        if (deadline_span(p->warn_before_ms[i]) > most)
            most = deadline_span(p->warn_before_ms[i]);
    return most;
}

void
deadline_alert_key(const char *tracking, const struct deadline_action *a,
                   const struct deadline_policy *p, bool fallback, char *buf, size_t len)
{
    char base[DEADLINE_ALERT_KEY_MAX];

    if (buf == NULL || len == 0)
        return;
    snprintf(base, sizeof(base), "%s/%s/%lld", tracking ? tracking : "-",
             deadline_clock_name(a->clock), a->clock_start);
    if (fallback)
        snprintf(buf, len, "%s/t%d/fallback", base, a->tier);
    else if (a->event == EVENT_PAGE && a->repeat > 0)
        snprintf(buf, len, "%s/t%d/r%d", base, a->tier, a->repeat);
    else if (a->event == EVENT_PAGE && a->tier > 1)
        snprintf(buf, len, "%s/t%d", base, a->tier);
    else if (a->event == EVENT_WARN && a->offset_ms != deadline_first_warning(p))
        snprintf(buf, len, "%s/w%lld", base, a->offset_ms);
    else if (a->event == EVENT_BREACH)
        snprintf(buf, len, "%s/breach", base);
    else
        snprintf(buf, len, "%s", base);
}

void
deadline_policy_from_config(const struct cpr_config *cfg, int ntiers,
                            struct deadline_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->acknowledge_ms = cfg->acknowledge_ms;
    p->report_ms = cfg->report_ms;
    for (size_t i = 0; i < cfg->nwarn && i < DEADLINE_MAX_WARN; i++)
        p->warn_before_ms[p->nwarn++] = cfg->warn_before_ms[i];
    p->ntiers = ntiers;
    p->interval_ms = cfg->interval_ms;
    p->repeat_ms = cfg->repeat_ms;
}

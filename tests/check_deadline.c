/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_deadline - unit tests for the pure deadline planner
 * DESCRIPTION
 *   Walks `now` through case timelines (minute by minute, backwards, and in
 *   jumps) and checks the union of step keys and due times: the replay of
 *   the motivating incident (received 2024-10-25T19:14Z, nobody acks), acks
 *   between tiers, warnings already past at start-up, leap days, clock
 *   jumps, revocation items, follow-ups, next_due, the max bound, and the
 *   automated and closed cases. Every walk also checks the invariants:
 *   sorted output, due <= now, unique keys, a key's due never changes, and
 *   next_due predicts exactly when the next new step appears.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE            /* timegm */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_unit.h"
#include "config.h"
#include "deadline.h"

#define MIN_MS   (60LL * 1000)
#define HOUR_MS  (60 * MIN_MS)
#define DAY_MS   (24 * HOUR_MS)
#define SEEN_MAX 1024

/* "YYYY-MM-DDTHH:MM:SSZ" as UTC milliseconds since the epoch. */
static long long
ts(const char *iso)
{
    struct tm tm = { 0 };
    char z = 0;

    ck_assert_int_eq(sscanf(iso, "%d-%d-%dT%d:%d:%d%c", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z), 7);
    ck_assert_int_eq(z, 'Z');
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long) timegm(&tm) * 1000;
}

/* The incident's policy: the defaults of issue 3. */
static struct deadline_policy
policy_default(void)
{
    struct deadline_policy p = {
        .acknowledge_ms = 30 * MIN_MS,
        .report_ms = 24 * HOUR_MS,
        .warn_before_ms = { 6 * HOUR_MS, 2 * HOUR_MS, 30 * MIN_MS },
        .nwarn = 3,
        .ntiers = 3,
        .interval_ms = 15 * MIN_MS,
        .repeat_ms = 30 * MIN_MS,
    };

    return p;
}

static struct deadline_case
case_new(const char *received)
{
    struct deadline_case c = { 0 };

    c.received_at = c.ack_clock_from = ts(received);
    return c;
}

/* The union of every step seen along a walk. */
struct seen {
    char key[DEADLINE_STEP_KEY_MAX];
    long long due;
    long long first_now;
};

struct timeline {
    struct seen v[SEEN_MAX];
    size_t n;
};

static struct timeline *
timeline_new(void)
{
    struct timeline *t = calloc(1, sizeof(*t));

    ck_assert_ptr_nonnull(t);
    return t;
}

static const struct seen *
timeline_find(const struct timeline *t, const char *key)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, key) == 0)
            return &t->v[i];
    return NULL;
}

static long long
timeline_due(const struct timeline *t, const char *key)
{
    const struct seen *s = timeline_find(t, key);

    return s == NULL ? -1 : s->due;
}

static size_t
timeline_count_prefix(const struct timeline *t, const char *prefix)
{
    size_t i, n = 0;

    for (i = 0; i < t->n; i++)
        n += strncmp(t->v[i].key, prefix, strlen(prefix)) == 0;
    return n;
}

/* One plan with the invariants every call must keep. */
static size_t
plan_checked(const struct deadline_case *c, const struct deadline_policy *p,
             long long now, struct deadline_action *out,
             char keys[][DEADLINE_STEP_KEY_MAX], long long *next_due)
{
    size_t i, j, n = deadline_plan(c, p, now, out, DEADLINE_MAX_ACTIONS, next_due);

    ck_assert_uint_le(n, DEADLINE_MAX_ACTIONS);
    ck_assert(*next_due == 0 || *next_due > now);
    for (i = 0; i < n; i++) {
        ck_assert_int_le(out[i].due, now);
        ck_assert(i == 0 || out[i - 1].due <= out[i].due);
        deadline_step_key(&out[i], keys[i], DEADLINE_STEP_KEY_MAX);
        for (j = 0; j < i; j++)
            ck_assert_str_ne(keys[i], keys[j]);
    }
    return n;
}

/* Walk now from `from` to `to` (inclusive) by `step`, adding to the union.
 * With `strict`, each step must be fine enough that no step goes stale in
 * between: new keys then appear exactly when the last next_due said. */
static void
timeline_walk(struct timeline *t, const struct deadline_case *c,
              const struct deadline_policy *p, long long from, long long to,
              long long step, bool strict)
{
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char keys[DEADLINE_MAX_ACTIONS][DEADLINE_STEP_KEY_MAX];
    long long now, next, prev_next = 0, prev_now = 0;
    int guard = 0;

    for (now = from; now <= to; now += step) {
        size_t i, n = plan_checked(c, p, now, out, keys, &next);
        long long newest_min = 0;

        ck_assert_int_lt(guard++, 100000);
        for (i = 0; i < n; i++) {
            const struct seen *s = timeline_find(t, keys[i]);

            if (s != NULL) {
                ck_assert_int_eq(s->due, out[i].due);
                continue;
            }
            ck_assert_uint_lt(t->n, SEEN_MAX);
            snprintf(t->v[t->n].key, DEADLINE_STEP_KEY_MAX, "%s", keys[i]);
            t->v[t->n].due = out[i].due;
            t->v[t->n].first_now = now;
            t->n++;
            if (strict && now != from) {
                ck_assert_int_gt(out[i].due, prev_now);
                if (newest_min == 0 || out[i].due < newest_min)
                    newest_min = out[i].due;
            }
        }
        if (strict && now != from) {
            if (prev_next != 0 && prev_next <= now)
                ck_assert_int_eq(newest_min, prev_next);
            else
                ck_assert_int_eq(newest_min, 0);
        }
        prev_next = next;
        prev_now = now;
    }
}

/* Every step listed along this walk is already in the union, same due. */
static void
timeline_subset(const struct timeline *t, const struct deadline_case *c,
                const struct deadline_policy *p, long long from, long long to,
                long long back)
{
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char keys[DEADLINE_MAX_ACTIONS][DEADLINE_STEP_KEY_MAX];
    long long now, next;

    for (now = from; now >= to; now -= back) {
        size_t i, n = plan_checked(c, p, now, out, keys, &next);

        for (i = 0; i < n; i++) {
            const struct seen *s = timeline_find(t, keys[i]);

            ck_assert_msg(s != NULL, "new key %s going backwards", keys[i]);
            ck_assert_int_eq(s->due, out[i].due);
        }
    }
}

static void
assert_step(const struct timeline *t, const char *key, const char *due)
{
    const struct seen *s = timeline_find(t, key);

    ck_assert_msg(s != NULL, "missing step %s", key);
    ck_assert_int_eq(s->due, ts(due));
}

/* One alert per clock; a page that must notify gets a key of its own. */
START_TEST(test_alert_key)
{
    struct deadline_policy p = { 0 };
    struct deadline_action a = { 0 };
    char k[DEADLINE_ALERT_KEY_MAX];

    p.nwarn = 3;
    p.warn_before_ms[0] = 2 * 3600000LL;
    p.warn_before_ms[1] = 6 * 3600000LL;
    p.warn_before_ms[2] = 1800000LL;
    a.clock = CLOCK_ACKNOWLEDGE;
    a.event = EVENT_PAGE;
    a.tier = 1;
    a.clock_start = 1729883640000LL;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/acknowledge/1729883640000");
    a.tier = 2;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/acknowledge/1729883640000/t2");
    a.repeat = 3;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/acknowledge/1729883640000/t2/r3");
    deadline_alert_key("CPR-2026-000042", &a, &p, true, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/acknowledge/1729883640000/t2/fallback");
    /* A restarted clock is another alert. */
    a.repeat = 0;
    a.tier = 1;
    a.clock_start += 60000;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/acknowledge/1729883700000");
    a.clock = CLOCK_REPORT_REPORTER;
    a.event = EVENT_WARN;
    a.offset_ms = 6 * 3600000LL;      /* the first warning opens the alert */
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/report-reporter/1729883700000");
    a.offset_ms = 1800000LL;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/report-reporter/1729883700000/w1800000");
    a.event = EVENT_BREACH;
    a.tier = 0;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/report-reporter/1729883700000/breach");
    a.event = EVENT_RESOLVE;
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, sizeof(k));
    ck_assert_str_eq(k, "CPR-2026-000042/report-reporter/1729883700000");
    deadline_alert_key("CPR-2026-000042", &a, &p, false, k, 8);
    ck_assert_str_eq(k, "CPR-202");
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(deadline_clock_name(CLOCK_ACKNOWLEDGE), "acknowledge");
    ck_assert_str_eq(deadline_clock_name(CLOCK_REPORT_REPORTER), "report-reporter");
    ck_assert_str_eq(deadline_clock_name(CLOCK_REPORT_SUBSCRIBER), "report-subscriber");
    ck_assert_str_eq(deadline_clock_name(CLOCK_REVOCATION), "revocation");
    ck_assert_str_eq(deadline_event_name(EVENT_PAGE), "page");
    ck_assert_str_eq(deadline_event_name(EVENT_WARN), "warn");
    ck_assert_str_eq(deadline_event_name(EVENT_BREACH), "breach");
    ck_assert_str_eq(deadline_event_name(EVENT_RESOLVE), "resolve");
}
END_TEST

START_TEST(test_clock_parse)
{
    enum deadline_clock clock = CLOCK_REVOCATION;
    enum deadline_clock all[] = { CLOCK_ACKNOWLEDGE, CLOCK_REPORT_REPORTER,
                                  CLOCK_REPORT_SUBSCRIBER, CLOCK_REVOCATION };
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ck_assert(deadline_clock_parse(deadline_clock_name(all[i]), &clock));
        ck_assert_int_eq(clock, all[i]);
    }
    ck_assert(!deadline_clock_parse("Acknowledge", &clock));
    ck_assert(!deadline_clock_parse("report", &clock));
    ck_assert(!deadline_clock_parse("revocation ", &clock));
    ck_assert(!deadline_clock_parse("", &clock));
    ck_assert(!deadline_clock_parse(NULL, &clock));
    ck_assert_int_eq(clock, CLOCK_REVOCATION);     /* untouched */
    ck_assert(deadline_clock_parse("acknowledge", NULL));
}
END_TEST

START_TEST(test_revocation_ms)
{
    static const struct { int item; long long ms; } t[] = {
        { -1, 0 }, { 0, 0 }, { 1, 24 * HOUR_MS }, { 4, 24 * HOUR_MS },
        { 5, 24 * HOUR_MS }, { 6, 120 * HOUR_MS }, { 7, 120 * HOUR_MS },
        { 16, 120 * HOUR_MS }, { 17, 0 }, { 1000, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_int_eq(deadline_revocation_ms(t[i].item), t[i].ms);
}
END_TEST

START_TEST(test_deadline_of)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");

    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_ACKNOWLEDGE), ts("2024-10-25T19:44:00Z"));
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), ts("2024-10-26T19:14:00Z"));
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_SUBSCRIBER), ts("2024-10-26T19:14:00Z"));
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), 0);
    c.br_item = 3;
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), ts("2024-10-26T19:14:00Z"));
    c.br_item = 9;
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), ts("2024-10-30T19:14:00Z"));
    c.ack_clock_from = 0;          /* automated: no clock runs */
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_ACKNOWLEDGE), 0);
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), 0);
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), 0);
}
END_TEST

/* The motivating incident: Saturday 03:14 at UTC+8, nobody acknowledges. */
START_TEST(test_incident_replay)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    long long last = ts("2024-10-25T20:14:00Z"), r;
    char key[DEADLINE_STEP_KEY_MAX];
    size_t i;

    ck_assert_int_eq(c.received_at, 1729883640000LL);
    timeline_walk(t, &c, &p, c.received_at, ts("2024-10-26T20:14:00Z"), MIN_MS, true);

    assert_step(t, "acknowledge@1729883640000:page:t1:r0", "2024-10-25T19:44:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t2:r0", "2024-10-25T19:59:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t3:r0", "2024-10-25T20:14:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t3:r1", "2024-10-25T20:44:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t3:r2", "2024-10-25T21:14:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t3:r3", "2024-10-25T21:44:00Z");
    assert_step(t, "acknowledge@1729883640000:page:t3:r48", "2024-10-26T20:14:00Z");
    for (r = 1; r <= 48; r++) {
        snprintf(key, sizeof(key), "acknowledge@1729883640000:page:t3:r%lld", r);
        ck_assert_int_eq(timeline_due(t, key), last + r * 30 * MIN_MS);
    }
    ck_assert_int_eq(timeline_due(t, "acknowledge@1729883640000:page:t3:r49"), -1);
    ck_assert_int_eq(timeline_due(t, "acknowledge@1729883640000:page:t1:r1"), -1);
    ck_assert_int_eq(timeline_due(t, "acknowledge@1729883640000:page:t4:r0"), -1);

    assert_step(t, "report-reporter:warn:o21600000", "2024-10-26T13:14:00Z");
    assert_step(t, "report-reporter:warn:o7200000", "2024-10-26T17:14:00Z");
    assert_step(t, "report-reporter:warn:o1800000", "2024-10-26T18:44:00Z");
    assert_step(t, "report-subscriber:warn:o21600000", "2024-10-26T13:14:00Z");
    assert_step(t, "report-subscriber:warn:o7200000", "2024-10-26T17:14:00Z");
    assert_step(t, "report-subscriber:warn:o1800000", "2024-10-26T18:44:00Z");
    assert_step(t, "report-reporter:breach", "2024-10-26T19:14:00Z");
    assert_step(t, "report-subscriber:breach", "2024-10-26T19:14:00Z");

    /* Nothing else: 3 tiers, 48 repeats, 6 warnings, 2 breaches. */
    ck_assert_uint_eq(t->n, 3 + 48 + 6 + 2);
    ck_assert_uint_eq(timeline_count_prefix(t, "revocation"), 0);
    /* Each step was first listed in the very minute it fell due. */
    for (i = 0; i < t->n; i++)
        ck_assert_int_eq(t->v[i].first_now, t->v[i].due);
    free(t);
}
END_TEST

START_TEST(test_incident_snapshots)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next;
    size_t n;

    n = deadline_plan(&c, &p, c.received_at, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(next, ts("2024-10-25T19:44:00Z"));

    n = deadline_plan(&c, &p, ts("2024-10-25T19:44:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].clock, CLOCK_ACKNOWLEDGE);
    ck_assert_int_eq(out[0].event, EVENT_PAGE);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[0].repeat, 0);
    ck_assert_int_eq(out[0].offset_ms, 0);
    ck_assert_int_eq(out[0].deadline, ts("2024-10-25T19:44:00Z"));
    ck_assert_int_eq(out[0].clock_start, c.received_at);
    ck_assert_int_eq(next, ts("2024-10-25T19:59:00Z"));

    /* At the report deadline: three tiers, the latest repeat, two breaches
     * (every tier), and no warning any more. */
    n = deadline_plan(&c, &p, ts("2024-10-26T19:14:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(out[3].event, EVENT_PAGE);
    ck_assert_int_eq(out[3].repeat, 46);
    ck_assert_int_eq(out[3].due, ts("2024-10-26T19:14:00Z"));
    ck_assert_int_eq(out[4].clock, CLOCK_REPORT_REPORTER);
    ck_assert_int_eq(out[4].event, EVENT_BREACH);
    ck_assert_int_eq(out[4].tier, 0);
    ck_assert_int_eq(out[4].clock_start, c.received_at);
    ck_assert_int_eq(out[5].clock, CLOCK_REPORT_SUBSCRIBER);
    ck_assert_int_eq(out[5].event, EVENT_BREACH);
    ck_assert_int_eq(next, ts("2024-10-26T19:44:00Z"));
}
END_TEST

/* A follow-up restarted the clock, and staff acked before its first page:
 * one tier-1 resolve still comes, for the earlier start's open alerts. */
START_TEST(test_restarted_clock_acked_early)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next;
    size_t n;

    c.ack_clock_from = ts("2024-10-25T20:00:00Z");      /* paged at 19:44, then a follow-up */
    c.acked_at = ts("2024-10-25T20:10:00Z");            /* before 20:30 */
    n = deadline_plan(&c, &p, ts("2024-10-25T20:11:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].event, EVENT_RESOLVE);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[0].clock_start, c.ack_clock_from);
    /* Not restarted: acked early, nothing was paged, nothing to resolve. */
    c.ack_clock_from = c.received_at;
    c.acked_at = ts("2024-10-25T19:20:00Z");
    n = deadline_plan(&c, &p, ts("2024-10-25T19:21:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_ack_between_tiers)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long next;
    size_t n;

    timeline_walk(t, &c, &p, c.received_at, ts("2024-10-25T19:49:00Z"), MIN_MS, true);
    c.acked_at = ts("2024-10-25T19:50:00Z");
    timeline_walk(t, &c, &p, c.acked_at, ts("2024-10-26T20:14:00Z"), MIN_MS, false);

    assert_step(t, "acknowledge@1729883640000:page:t1:r0", "2024-10-25T19:44:00Z");
    assert_step(t, "acknowledge@1729883640000:resolve:t1", "2024-10-25T19:50:00Z");
    ck_assert_int_eq(timeline_due(t, "acknowledge@1729883640000:page:t2:r0"), -1);
    ck_assert_int_eq(timeline_due(t, "acknowledge@1729883640000:resolve:t2"), -1);
    ck_assert_uint_eq(timeline_count_prefix(t, "acknowledge"), 2);
    /* The report clocks do not care about the ack. */
    ck_assert_uint_eq(timeline_count_prefix(t, "report-reporter:warn"), 3);
    ck_assert_uint_eq(timeline_count_prefix(t, "report-subscriber:warn"), 3);
    assert_step(t, "report-reporter:breach", "2024-10-26T19:14:00Z");

    n = deadline_plan(&c, &p, c.acked_at, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].event, EVENT_RESOLVE);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[0].repeat, 0);
    ck_assert_int_eq(out[0].due, c.acked_at);
    deadline_step_key(&out[0], key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@1729883640000:resolve:t1");
    ck_assert_int_eq(next, ts("2024-10-26T13:14:00Z"));

    /* Acked in the very millisecond tier 2 was due: both tiers resolve. */
    c.acked_at = ts("2024-10-25T19:59:00Z");
    n = deadline_plan(&c, &p, ts("2024-10-25T20:30:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[1].tier, 2);
    ck_assert_int_eq(out[1].event, EVENT_RESOLVE);

    /* Acked after repeats: each tier resolves once, repeats need none. */
    c.acked_at = ts("2024-10-25T22:00:00Z");
    n = deadline_plan(&c, &p, c.acked_at, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[2].tier, 3);
    ck_assert_int_eq(out[2].repeat, 0);

    /* Acked before the deadline: nothing was paged, nothing to resolve. */
    c.acked_at = ts("2024-10-25T19:30:00Z");
    n = deadline_plan(&c, &p, ts("2024-10-25T21:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(next, ts("2024-10-26T13:14:00Z"));
    free(t);
}
END_TEST

START_TEST(test_warnings_past_at_startup)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long next;
    size_t n;

    c.acked_at = ts("2024-10-25T19:20:00Z");       /* no pages in the way */
    n = deadline_plan(&c, &p, ts("2024-10-26T18:14:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    deadline_step_key(&out[0], key, sizeof(key));
    ck_assert_str_eq(key, "report-reporter:warn:o7200000");
    ck_assert_int_eq(out[0].event, EVENT_WARN);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[0].offset_ms, 2 * HOUR_MS);
    ck_assert_int_eq(out[0].due, ts("2024-10-26T17:14:00Z"));
    ck_assert_int_eq(out[0].deadline, ts("2024-10-26T19:14:00Z"));
    deadline_step_key(&out[1], key, sizeof(key));
    ck_assert_str_eq(key, "report-subscriber:warn:o7200000");
    ck_assert_int_eq(next, ts("2024-10-26T18:44:00Z"));

    /* Ten minutes before: only the 30 min warning; then the breach. */
    n = deadline_plan(&c, &p, ts("2024-10-26T19:04:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].offset_ms, 30 * MIN_MS);
    ck_assert_int_eq(next, ts("2024-10-26T19:14:00Z"));
    n = deadline_plan(&c, &p, ts("2024-10-26T19:13:59Z") + 999, out,
                      DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].event, EVENT_WARN);
    n = deadline_plan(&c, &p, ts("2024-10-26T19:14:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].event, EVENT_BREACH);
    ck_assert_int_eq(out[1].event, EVENT_BREACH);
    ck_assert_int_eq(next, 0);
}
END_TEST

START_TEST(test_report_stops)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next, end = ts("2024-10-27T00:00:00Z");
    size_t n;

    c.acked_at = ts("2024-10-25T19:20:00Z");
    /* The reporter answered early; the Subscriber, between warnings. */
    c.reporter_done_at = ts("2024-10-26T10:00:00Z");
    c.subscriber_done_at = ts("2024-10-26T18:00:00Z");
    timeline_walk(t, &c, &p, c.received_at, end, MIN_MS, false);
    ck_assert_uint_eq(timeline_count_prefix(t, "report-reporter"), 0);
    ck_assert_uint_eq(timeline_count_prefix(t, "report-subscriber"), 3);
    assert_step(t, "report-subscriber:warn:o21600000", "2024-10-26T13:14:00Z");
    assert_step(t, "report-subscriber:warn:o7200000", "2024-10-26T17:14:00Z");
    /* The stop resolves the warnings' alert. */
    assert_step(t, "report-subscriber:resolve:t1", "2024-10-26T18:00:00Z");
    free(t);

    /* A stopped clock lists no warning, even one that had fallen due:
     * only the resolve of what it had raised. */
    n = deadline_plan(&c, &p, ts("2024-10-26T18:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].event, EVENT_RESOLVE);
    ck_assert_int_eq(next, 0);

    /* Answered late: the breach stands, before and after the answer, and
     * the answer resolves the warnings' and the breach's alerts. */
    c.subscriber_done_at = ts("2024-10-26T20:00:00Z");
    n = deadline_plan(&c, &p, ts("2024-10-26T21:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[0].clock, CLOCK_REPORT_SUBSCRIBER);
    ck_assert_int_eq(out[0].event, EVENT_BREACH);
    ck_assert_int_eq(out[0].due, ts("2024-10-26T19:14:00Z"));
    ck_assert_int_eq(out[1].event, EVENT_RESOLVE);
    ck_assert_int_eq(out[2].event, EVENT_RESOLVE);
    ck_assert_int_eq(out[1].due, c.subscriber_done_at);
    /* Answered in the deadline's very millisecond: in time, no breach. */
    c.subscriber_done_at = ts("2024-10-26T19:14:00Z");
    n = deadline_plan(&c, &p, ts("2024-10-26T21:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].event, EVENT_RESOLVE);
    ck_assert_int_eq(out[0].tier, 1);
}
END_TEST

START_TEST(test_leap_days)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-02-28T12:00:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next;
    size_t n;

    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), ts("2024-02-29T12:00:00Z"));
    c.acked_at = ts("2024-02-28T12:10:00Z");
    n = deadline_plan(&c, &p, ts("2024-02-29T12:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].event, EVENT_BREACH);
    ck_assert_int_eq(out[0].due, ts("2024-02-29T12:00:00Z"));
    n = deadline_plan(&c, &p, ts("2024-02-29T11:59:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(out[0].event, EVENT_WARN);
    ck_assert_int_eq(next, ts("2024-02-29T12:00:00Z"));

    c = case_new("2023-02-28T12:00:00Z");
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_SUBSCRIBER), ts("2023-03-01T12:00:00Z"));
    c = case_new("2024-02-28T19:14:00Z");
    c.br_item = 7;
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), ts("2024-03-04T19:14:00Z"));
    c = case_new("2024-02-29T23:30:00Z");
    c.br_item = 1;
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REVOCATION), ts("2024-03-01T23:30:00Z"));
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_ACKNOWLEDGE), ts("2024-03-01T00:00:00Z"));
    /* New year and a DST change (US, 2024-11-03) are just milliseconds. */
    c = case_new("2024-12-31T12:00:00Z");
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), ts("2025-01-01T12:00:00Z"));
    c = case_new("2024-11-03T05:30:00Z");
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), ts("2024-11-04T05:30:00Z"));
}
END_TEST

START_TEST(test_clock_backwards)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    long long end = ts("2024-10-26T20:14:00Z");

    c.br_item = 2;
    timeline_walk(t, &c, &p, c.received_at, end, MIN_MS, true);
    timeline_subset(t, &c, &p, end, c.received_at - HOUR_MS, 7 * MIN_MS);
    /* And a sweeper whose clock is hours behind the receipt: nothing. */
    timeline_subset(t, &c, &p, c.received_at - 1, c.received_at - DAY_MS, 13 * MIN_MS);
    free(t);
}
END_TEST

START_TEST(test_clock_jump_forward)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next;
    size_t n;

    n = deadline_plan(&c, &p, c.received_at, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
    n = deadline_plan(&c, &p, ts("2024-10-25T21:20:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[0].due, ts("2024-10-25T19:44:00Z"));
    ck_assert_int_eq(out[1].tier, 2);
    ck_assert_int_eq(out[1].due, ts("2024-10-25T19:59:00Z"));
    ck_assert_int_eq(out[2].tier, 3);
    ck_assert_int_eq(out[2].repeat, 0);
    ck_assert_int_eq(out[2].due, ts("2024-10-25T20:14:00Z"));
    ck_assert_int_eq(out[3].tier, 3);
    ck_assert_int_eq(out[3].repeat, 2);           /* not r1 */
    ck_assert_int_eq(out[3].due, ts("2024-10-25T21:14:00Z"));
    ck_assert_int_eq(next, ts("2024-10-25T21:44:00Z"));

    /* Over the warnings too: only the latest of each; ties keep clock order. */
    n = deadline_plan(&c, &p, ts("2024-10-26T18:50:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(out[3].clock, CLOCK_ACKNOWLEDGE);
    ck_assert_int_eq(out[3].repeat, 45);
    ck_assert_int_eq(out[3].due, ts("2024-10-26T18:44:00Z"));
    ck_assert_int_eq(out[4].clock, CLOCK_REPORT_REPORTER);
    ck_assert_int_eq(out[4].offset_ms, 30 * MIN_MS);
    ck_assert_int_eq(out[4].due, ts("2024-10-26T18:44:00Z"));
    ck_assert_int_eq(out[5].clock, CLOCK_REPORT_SUBSCRIBER);
    ck_assert_int_eq(out[5].due, ts("2024-10-26T18:44:00Z"));
    ck_assert_int_eq(next, ts("2024-10-26T19:14:00Z"));
}
END_TEST

START_TEST(test_revocation)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    long long end = c.received_at + 6 * DAY_MS;
    static const int none[] = { 0, 17, -1 };
    size_t i;

    c.acked_at = ts("2024-10-25T19:20:00Z");
    c.br_item = 1;
    timeline_walk(t, &c, &p, c.received_at, end, 5 * MIN_MS, true);
    /* Revocation keys carry the deadline: a new confirm is a new clock. */
    assert_step(t, "revocation@1729970040000:warn:o21600000", "2024-10-26T13:14:00Z");
    assert_step(t, "revocation@1729970040000:warn:o7200000", "2024-10-26T17:14:00Z");
    assert_step(t, "revocation@1729970040000:warn:o1800000", "2024-10-26T18:44:00Z");
    assert_step(t, "revocation@1729970040000:breach", "2024-10-26T19:14:00Z");
    ck_assert_uint_eq(timeline_count_prefix(t, "revocation"), 4);
    free(t);

    t = timeline_new();
    c.br_item = 7;
    timeline_walk(t, &c, &p, c.received_at, end, 5 * MIN_MS, true);
    assert_step(t, "revocation@1730315640000:warn:o21600000", "2024-10-30T13:14:00Z");
    assert_step(t, "revocation@1730315640000:breach", "2024-10-30T19:14:00Z");
    ck_assert_uint_eq(timeline_count_prefix(t, "revocation"), 4);
    free(t);

    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        t = timeline_new();
        c.br_item = none[i];
        timeline_walk(t, &c, &p, c.received_at, end, 5 * MIN_MS, true);
        ck_assert_uint_eq(timeline_count_prefix(t, "revocation"), 0);
        free(t);
    }

    /* Revoked between the 2 h and the 30 min warnings: no more, no breach,
     * and the warnings' alert is resolved at the revocation. */
    t = timeline_new();
    c.br_item = 4;
    c.revoked_at = ts("2024-10-26T18:00:00Z");
    timeline_walk(t, &c, &p, c.received_at, end, 5 * MIN_MS, true);
    ck_assert_uint_eq(timeline_count_prefix(t, "revocation"), 3);
    ck_assert_int_eq(timeline_due(t, "revocation@1729970040000:breach"), -1);
    assert_step(t, "revocation@1729970040000:resolve:t1", "2024-10-26T18:00:00Z");
    free(t);

    /* Revoked late: the breach stands, and both alerts are resolved. */
    t = timeline_new();
    c.revoked_at = ts("2024-10-26T19:15:00Z");
    timeline_walk(t, &c, &p, c.received_at, end, 5 * MIN_MS, true);
    assert_step(t, "revocation@1729970040000:breach", "2024-10-26T19:14:00Z");
    assert_step(t, "revocation@1729970040000:resolve:t0", "2024-10-26T19:15:00Z");
    assert_step(t, "revocation@1729970040000:resolve:t1", "2024-10-26T19:15:00Z");
    free(t);
}
END_TEST

/* Confirmed late: warnings whose time passed before confirmation are
 * stale, so only the latest shows, and the clock still counts from receipt. */
START_TEST(test_revocation_confirmed_late)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long next;
    size_t n;

    c.acked_at = ts("2024-10-25T19:20:00Z");
    c.reporter_done_at = c.subscriber_done_at = ts("2024-10-25T21:00:00Z");
    c.br_item = 1;
    n = deadline_plan(&c, &p, ts("2024-10-26T17:30:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    deadline_step_key(&out[0], key, sizeof(key));
    ck_assert_str_eq(key, "revocation@1729970040000:warn:o7200000");
    ck_assert_int_eq(next, ts("2024-10-26T18:44:00Z"));
}
END_TEST

START_TEST(test_followup)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *first = timeline_new(), *second = timeline_new();
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    char key[DEADLINE_STEP_KEY_MAX];
    long long next, end = ts("2024-10-26T04:00:00Z");
    size_t i, n;

    timeline_walk(first, &c, &p, c.received_at, end, MIN_MS, true);
    /* A follow-up at 02:00 restarts the acknowledge clock, unacked. */
    c.ack_clock_from = ts("2024-10-26T02:00:00Z");
    c.acked_at = 0;
    n = deadline_plan(&c, &p, ts("2024-10-26T02:30:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 1);
    deadline_step_key(&out[0], key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@1729908000000:page:t1:r0");
    ck_assert_int_eq(out[0].clock_start, c.ack_clock_from);
    ck_assert_int_eq(out[0].due, ts("2024-10-26T02:30:00Z"));
    ck_assert_int_eq(next, ts("2024-10-26T02:45:00Z"));
    /* The report clocks still count from the first receipt. */
    ck_assert_int_eq(deadline_of(&c, &p, CLOCK_REPORT_REPORTER), ts("2024-10-26T19:14:00Z"));

    timeline_walk(second, &c, &p, c.ack_clock_from, end, MIN_MS, true);
    ck_assert_uint_eq(second->n, 3 + 2);
    for (i = 0; i < second->n; i++)
        ck_assert_ptr_null(timeline_find(first, second->v[i].key));
    assert_step(second, "acknowledge@1729908000000:page:t3:r2", "2024-10-26T04:00:00Z");
    free(first);
    free(second);
}
END_TEST

START_TEST(test_next_due)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next = -1;

    deadline_plan(&c, &p, ts("2024-10-25T19:43:59Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, ts("2024-10-25T19:44:00Z"));
    deadline_plan(&c, &p, ts("2024-10-25T19:44:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, ts("2024-10-25T19:59:00Z"));
    deadline_plan(&c, &p, ts("2024-10-25T20:14:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, ts("2024-10-25T20:44:00Z"));
    /* Without repeats, the next step after the last tier is a warning. */
    p.repeat_ms = 0;
    deadline_plan(&c, &p, ts("2024-10-25T20:14:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, ts("2024-10-26T13:14:00Z"));
    /* A warning for a clock that will be stopped by then is not next. */
    c.reporter_done_at = ts("2024-10-26T12:00:00Z");
    c.subscriber_done_at = ts("2024-10-26T14:00:00Z");
    deadline_plan(&c, &p, ts("2024-10-26T11:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, ts("2024-10-26T13:14:00Z"));
    c.subscriber_done_at = ts("2024-10-26T13:00:00Z");
    deadline_plan(&c, &p, ts("2024-10-26T11:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_int_eq(next, 0);
    /* Everything done: only the resolve, then nothing ever again. */
    c.acked_at = ts("2024-10-25T20:00:00Z");
    ck_assert_uint_eq(deadline_plan(&c, &p, ts("2024-10-28T00:00:00Z"), out,
                                    DEADLINE_MAX_ACTIONS, &next), 2);
    ck_assert_int_eq(next, 0);
    /* next_due may be NULL. */
    ck_assert_uint_eq(deadline_plan(&c, &p, ts("2024-10-28T00:00:00Z"), out,
                                    DEADLINE_MAX_ACTIONS, NULL), 2);
}
END_TEST

START_TEST(test_max_bound)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next;
    size_t n;

    memset(out, 0x5a, sizeof(out));
    n = deadline_plan(&c, &p, ts("2024-10-25T21:20:00Z"), out, 2, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].tier, 1);
    ck_assert_int_eq(out[1].tier, 2);
    ck_assert_int_eq(out[2].tier, 0x5a5a5a5a);    /* untouched */
    ck_assert_int_eq(next, ts("2024-10-25T21:44:00Z"));
    next = -1;
    n = deadline_plan(&c, &p, ts("2024-10-25T21:20:00Z"), NULL, 0, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(next, ts("2024-10-25T21:44:00Z"));
}
END_TEST

START_TEST(test_automated_and_closed)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long now, next;

    c.br_item = 1;
    c.ack_clock_from = 0;
    for (now = c.received_at; now < c.received_at + 3 * DAY_MS; now += 10 * MIN_MS) {
        next = -1;
        ck_assert_uint_eq(deadline_plan(&c, &p, now, out, DEADLINE_MAX_ACTIONS, &next), 0);
        ck_assert_int_eq(next, 0);
    }
    /* A closed case pages, warns and breaches nothing; it only resolves
     * what had been raised before it stopped: tiers 1 and 2 (paged at
     * 19:44 and 19:59, acked at 20:00) and the warnings and breaches of
     * the report and revocation clocks (closed after their deadlines). */
    c.ack_clock_from = c.received_at;
    c.acked_at = ts("2024-10-25T20:00:00Z");
    c.closed = true;
    c.closed_at = ts("2024-10-27T00:00:00Z");
    for (now = c.closed_at; now < c.received_at + 3 * DAY_MS; now += 10 * MIN_MS) {
        size_t n = deadline_plan(&c, &p, now, out, DEADLINE_MAX_ACTIONS, &next);
        char key[DEADLINE_STEP_KEY_MAX];

        ck_assert_int_eq(next, 0);
        ck_assert_uint_eq(n, 8);   /* ack t1, t2; 3 clocks x (warn, breach) */
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(out[i].event, EVENT_RESOLVE);
        deadline_step_key(&out[0], key, sizeof(key));
        ck_assert_str_eq(key, "acknowledge@1729883640000:resolve:t1");
    }
}
END_TEST

START_TEST(test_step_keys)
{
    struct deadline_action a = { .clock = CLOCK_ACKNOWLEDGE, .event = EVENT_PAGE,
                                 .tier = 2, .clock_start = 1729883640000LL };
    char key[DEADLINE_STEP_KEY_MAX], small[8];

    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@1729883640000:page:t2:r0");
    a.repeat = 17;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@1729883640000:page:t2:r17");
    a.event = EVENT_RESOLVE;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@1729883640000:resolve:t2");
    a.clock = CLOCK_REPORT_REPORTER;
    a.event = EVENT_WARN;
    a.tier = 1;
    a.offset_ms = 7200000;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "report-reporter:warn:o7200000");
    a.clock = CLOCK_REPORT_SUBSCRIBER;
    a.event = EVENT_BREACH;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "report-subscriber:breach");
    a.clock = CLOCK_REVOCATION;
    a.deadline = 1729970040000LL;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "revocation@1729970040000:breach");

    /* The due time is not part of the key: a key is the step, not a try. */
    a.due = 42;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "revocation@1729970040000:breach");
    /* Short buffers are cut and terminated; a zero length is left alone. */
    deadline_step_key(&a, small, sizeof(small));
    ck_assert_str_eq(small, "revocat");
    small[0] = 'x';
    deadline_step_key(&a, small, 0);
    ck_assert_int_eq(small[0], 'x');
    deadline_step_key(&a, NULL, 0);

    /* The longest key fits. */
    a.clock = CLOCK_ACKNOWLEDGE;
    a.event = EVENT_PAGE;
    a.clock_start = -9223372036854775807LL - 1;
    a.tier = -2147483647 - 1;
    a.repeat = -2147483647 - 1;
    deadline_step_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "acknowledge@-9223372036854775808:page:t-2147483648:r-2147483648");
}
END_TEST

START_TEST(test_policy_bounds)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct deadline_action out[DEADLINE_MAX_ACTIONS];
    long long next, far = ts("2024-10-26T12:00:00Z");
    size_t n;

    p.ntiers = 0;                  /* no tiers: no pages, nothing to resolve */
    ck_assert_uint_eq(deadline_plan(&c, &p, far, out, DEADLINE_MAX_ACTIONS, &next), 0);
    ck_assert_int_eq(next, ts("2024-10-26T13:14:00Z"));
    p.ntiers = 100;                /* clamped to DEADLINE_MAX_TIERS */
    p.repeat_ms = 0;
    n = deadline_plan(&c, &p, far, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, DEADLINE_MAX_TIERS);
    ck_assert_int_eq(out[DEADLINE_MAX_TIERS - 1].tier, DEADLINE_MAX_TIERS);
    p.ntiers = 3;                  /* a negative interval pages all at once */
    p.interval_ms = -5;
    n = deadline_plan(&c, &p, ts("2024-10-25T19:44:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[2].due, ts("2024-10-25T19:44:00Z"));

    /* Warnings longer than the period, zero or negative: never listed. */
    p = policy_default();
    c.acked_at = ts("2024-10-25T19:20:00Z");
    p.warn_before_ms[0] = 36 * HOUR_MS;
    p.warn_before_ms[1] = 0;
    p.warn_before_ms[2] = -HOUR_MS;
    n = deadline_plan(&c, &p, ts("2024-10-25T19:30:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(next, ts("2024-10-26T19:14:00Z"));
    /* A warning exactly at receipt is fine. */
    p.warn_before_ms[0] = 24 * HOUR_MS;
    n = deadline_plan(&c, &p, c.received_at, out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].due, c.received_at);
    /* nwarn beyond the array is clamped, not read past. */
    p.nwarn = 1000;
    deadline_plan(&c, &p, c.received_at, out, DEADLINE_MAX_ACTIONS, &next);

    /* Absurd durations are clamped: no overflow (run under UBSan). */
    p = policy_default();
    c.acked_at = 0;
    p.acknowledge_ms = p.report_ms = p.interval_ms = 9223372036854775807LL;
    p.repeat_ms = 1;
    n = deadline_plan(&c, &p, ts("2100-01-01T00:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_gt(next, ts("2100-01-01T00:00:00Z"));
    p = policy_default();
    p.repeat_ms = 1;               /* repeats end at INT_MAX, never wrap */
    n = deadline_plan(&c, &p, ts("2100-01-01T00:00:00Z"), out, DEADLINE_MAX_ACTIONS, &next);
    ck_assert_uint_eq(n, 3 + 2);
    ck_assert_int_eq(out[2].repeat, 0);
    ck_assert_int_eq(next, 0);
}
END_TEST

/* Walk assorted cases with every invariant on, forwards then backwards. */
static const struct {
    const char *acked, *reporter, *subscriber, *revoked;
    int br_item;
} walks[] = {
    { NULL, NULL, NULL, NULL, 0 },
    { "2024-10-25T19:45:00Z", NULL, NULL, NULL, 0 },
    { "2024-10-25T21:30:00Z", "2024-10-26T15:00:00Z", NULL, NULL, 1 },
    { NULL, "2024-10-26T19:14:00Z", "2024-10-26T19:15:00Z", "2024-10-27T00:00:00Z", 5 },
    { "2024-10-25T19:14:00Z", "2024-10-25T19:14:00Z", NULL, "2024-10-26T13:14:00Z", 16 },
    { NULL, NULL, "2024-10-26T18:44:00Z", "2024-10-30T19:10:00Z", 6 },
};

static long long
ts_opt(const char *iso)
{
    return iso == NULL ? 0 : ts(iso);
}

START_TEST(test_walks)
{
    struct deadline_policy p = policy_default();
    struct deadline_case c = case_new("2024-10-25T19:14:00Z");
    struct timeline *t = timeline_new();
    long long end = c.received_at + 6 * DAY_MS, from = c.received_at;

    c.reporter_done_at = ts_opt(walks[_i].reporter);
    c.subscriber_done_at = ts_opt(walks[_i].subscriber);
    c.revoked_at = ts_opt(walks[_i].revoked);
    c.br_item = walks[_i].br_item;
    c.acked_at = ts_opt(walks[_i].acked);
    if (c.acked_at != 0) {
        /* Unacked until the ack, then acked: facts change at the ack. */
        long long acked = c.acked_at;

        c.acked_at = 0;
        timeline_walk(t, &c, &p, from, acked - MIN_MS, MIN_MS, true);
        c.acked_at = from = acked;
    }
    timeline_walk(t, &c, &p, from, end, MIN_MS, from == c.received_at);
    timeline_subset(t, &c, &p, end, from, 11 * MIN_MS);
    ck_assert_uint_gt(t->n, 0);
    free(t);
}
END_TEST

/* The one config -> policy conversion: every deadline and paging key. */
START_TEST(test_policy_from_config)
{
    struct cpr_config *cfg = config_defaults();
    struct deadline_policy p;

    ck_assert_ptr_nonnull(cfg);
    cfg->acknowledge_ms = 3 * 3600 * 1000LL;
    cfg->report_ms = 20 * 3600 * 1000LL;
    deadline_policy_from_config(cfg, 2, &p);
    ck_assert_int_eq(p.acknowledge_ms, cfg->acknowledge_ms);
    ck_assert_int_eq(p.report_ms, cfg->report_ms);
    ck_assert_int_eq(p.ntiers, 2);
    ck_assert_int_eq(p.interval_ms, cfg->interval_ms);
    ck_assert_int_eq(p.repeat_ms, cfg->repeat_ms);
    ck_assert_uint_eq(p.nwarn, cfg->nwarn < DEADLINE_MAX_WARN ? cfg->nwarn : DEADLINE_MAX_WARN);
    for (size_t i = 0; i < p.nwarn; i++)
        ck_assert_int_eq(p.warn_before_ms[i], cfg->warn_before_ms[i]);
    config_free(cfg);
}
END_TEST

Suite *
deadline_suite(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("deadline");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_clock_parse);
    tcase_add_test(tc, test_revocation_ms);
    tcase_add_test(tc, test_deadline_of);
    tcase_add_test(tc, test_incident_replay);
    tcase_add_test(tc, test_incident_snapshots);
    tcase_add_test(tc, test_ack_between_tiers);
    tcase_add_test(tc, test_warnings_past_at_startup);
    tcase_add_test(tc, test_report_stops);
    tcase_add_test(tc, test_leap_days);
    tcase_add_test(tc, test_clock_backwards);
    tcase_add_test(tc, test_clock_jump_forward);
    tcase_add_test(tc, test_revocation);
    tcase_add_test(tc, test_revocation_confirmed_late);
    tcase_add_test(tc, test_followup);
    tcase_add_test(tc, test_next_due);
    tcase_add_test(tc, test_max_bound);
    tcase_add_test(tc, test_automated_and_closed);
    tcase_add_test(tc, test_step_keys);
    tcase_add_test(tc, test_policy_bounds);
    tcase_add_test(tc, test_policy_from_config);
    tcase_add_test(tc, test_alert_key);
    tcase_add_test(tc, test_restarted_clock_acked_early);
    tcase_add_loop_test(tc, test_walks, 0, sizeof(walks) / sizeof(walks[0]));
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   deadline - the pure deadline planner of cpr-sweeper
 * SUMMARY
 *   n = deadline_plan(&c, &policy, now, actions, max, &next_due);
 * DESCRIPTION
 *   Given one case's clock facts and the escalation policy, lists the
 *   notification steps that are due at `now` and the time of the next one.
 *   All times are UTC milliseconds since the epoch; 0 means "not set".
 *   Wall-clock, 24x7: no calendars, so leap days and DST cannot matter.
 *   The planner is stateless: it may return a step that was already sent;
 *   the step key (deadline_step_key) makes the database claim it once.
 *
 *   Clocks, all counted from the receipt time unless noted:
 *     acknowledge        from ack_clock_from (receipt or latest follow-up),
 *                        due + acknowledge; stopped by an ack. Tier 1 is paged
 *                        at the deadline, tier k at deadline + (k-1)*interval,
 *                        then the last tier again every `repeat`.
 *     report-reporter    receipt + report (24 h, BR 4.9.5)
 *     report-subscriber  receipt + report (24 h)
 *     revocation         receipt + 24 h (BR 4.9.1.1 items 1-5) or 120 h
 *                        (items 6-16); exists only once br_item is set.
 *   Before each report and revocation deadline a WARN pages tier 1 at each
 *   warn_before offset (acks do not stop these). A deadline passed unmet is a
 *   BREACH, which pages every tier (tier 0 = all). When an acknowledge clock
 *   is stopped (ack, or the case closed), a RESOLVE is listed for each tier
 *   that had been paged (and for tier 1 when a follow-up had restarted the
 *   clock, whose earlier start may have left alerts open); when a report or revocation clock is stopped
 *   (or the case closed), a RESOLVE for its warnings (tier 1) and for its
 *   breach (tier 0), if they had been due.
 * DIAGNOSTICS
 *   Stale steps are dropped, not replayed: of the warnings whose time has
 *   passed, only the latest is returned, and only while its deadline is
 *   still ahead; of the repeats of the last tier, only the latest.
 */
#ifndef CPR_DEADLINE_H
#define CPR_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>

#define DEADLINE_MAX_WARN     8      /* warn_before offsets */
#define DEADLINE_MAX_TIERS    8
#define DEADLINE_MAX_ACTIONS  64     /* per case and pass */
#define DEADLINE_STEP_KEY_MAX 96
#define DEADLINE_INCIDENT_MS  (72LL * 3600 * 1000)   /* incident report due */

enum deadline_clock {
    CLOCK_ACKNOWLEDGE,
    CLOCK_REPORT_REPORTER,
    CLOCK_REPORT_SUBSCRIBER,
    CLOCK_REVOCATION
};

enum deadline_event { EVENT_PAGE, EVENT_WARN, EVENT_BREACH, EVENT_RESOLVE };

struct deadline_policy {
    long long acknowledge_ms;                 /* [deadlines] acknowledge */
    long long report_ms;                      /* [deadlines] report */
    long long warn_before_ms[DEADLINE_MAX_WARN];
    size_t nwarn;
    int ntiers;                               /* [escalation] tiers */
    long long interval_ms;                    /* [escalation] interval */
    long long repeat_ms;                      /* [escalation] repeat */
};

struct deadline_case {
    long long received_at;
    long long ack_clock_from;      /* 0: no acknowledge clock (automated) */
    long long acked_at;            /* 0: not acknowledged since ack_clock_from */
    long long reporter_done_at;    /* 0: no preliminary report to the reporter */
    long long subscriber_done_at;  /* 0: none to the Subscriber (nor a waiver) */
    int br_item;                   /* 0: not confirmed; else BR 4.9.1.1 item 1-16 */
    long long revoked_at;          /* 0: not revoked */
    bool closed;                   /* closed cases page nothing */
    long long closed_at;           /* when closed: open alerts are resolved */
};

struct deadline_action {
    enum deadline_clock clock;
    enum deadline_event event;
    int tier;                      /* 1-based; 0 = every tier (breach) */
    long long offset_ms;           /* WARN: the warn_before offset, else 0 */
    int repeat;                    /* 0 = first page of that tier */
    long long due;                 /* when it is due */
    long long deadline;            /* the clock's deadline */
    long long clock_start;         /* when the clock started (ack: its restart) */
};

/* The revocation period of a BR 4.9.1.1 item: 24 h for 1-5, 120 h for 6-16,
 * 0 for anything else. */
long long deadline_revocation_ms(int br_item);

/* The deadline of a clock for this case, or 0 when the clock does not run. */
/* When a clock starts (the ack clock's start, else receipt) and what
 * stops it (the ack, the reporter's or Subscriber's report, the
 * revocation; 0: not stopped). The one definition: the sweep, list and
 * the auditor's report (compliance.c) all use these. */
long long deadline_clock_start(const struct deadline_case *c, enum deadline_clock clock);
long long deadline_clock_stop(const struct deadline_case *c, enum deadline_clock clock);

long long deadline_of(const struct deadline_case *c, const struct deadline_policy *p,
                      enum deadline_clock clock);

/* Fill out[] (at most max) with the steps due at or before now, in due
 * order; *next_due = the earliest step due after now, or 0 if none. */
size_t deadline_plan(const struct deadline_case *c, const struct deadline_policy *p,
                     long long now, struct deadline_action *out, size_t max,
                     long long *next_due);

/* "acknowledge@1729883640000:page:t2:r0", "acknowledge@...:resolve:t2",
 * "report-reporter:warn:o7200000", "revocation:breach". Acknowledge keys
 * carry the clock start, so a follow-up's restarted clock pages anew. */
void deadline_step_key(const struct deadline_action *a, char *buf, size_t len);

/* The alert a step raises at the paging service (cpr.alerts, 026): the
 * clock's base key TRACKING/CLOCK/CLOCK_START_MS, or a key of its own
 * under it when the page must notify while the clock's alert is open
 * (PagerDuty and Opsgenie merge a trigger into an open alert silently):
 * tier 1 page and the first warning (the largest warn_before): BASE;
 * tier k: BASE/tk; repeat r: BASE/tk/rr; another warning: BASE/wOFFSET_MS;
 * breach: BASE/breach; a resolve: BASE. fallback (a page sent because a
 * channel failed): BASE/tk/fallback. */
#define DEADLINE_ALERT_KEY_MAX 128
void deadline_alert_key(const char *tracking, const struct deadline_action *a,
                        const struct deadline_policy *p, bool fallback, char *buf,
                        size_t len);

const char *deadline_clock_name(enum deadline_clock clock);
bool deadline_clock_parse(const char *name, enum deadline_clock *clock);
const char *deadline_event_name(enum deadline_event event);

/* [deadlines] and [escalation] of a config, with its number of tiers
 * (cprctl, which pages nobody, passes 0). The one place a config becomes
 * a policy. */
struct cpr_config;
void deadline_policy_from_config(const struct cpr_config *cfg, int ntiers,
                                 struct deadline_policy *p);

#endif

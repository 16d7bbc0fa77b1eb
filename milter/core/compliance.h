/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   compliance - which deadlines a case met, and the auditor's totals
 * SUMMARY
 *   json_t *r = compliance_report(cases, &policy, now, from, to);
 *   if (compliance_next(case_json, &policy, now, &n)) ... n.clock, n.deadline
 * DESCRIPTION
 *   Pure: the cases (JSON from cpr.case_show / cpr.case_list), the deadline
 *   policy from the config ([deadlines], as the sweeper uses it) and `now`
 *   come in; facts come out. Deadlines are deadline_of() of deadline.c, so
 *   the report and the sweeper agree on every clock:
 *     acknowledge        from the first ack's clock start (else the case's
 *                        ack_clock_from) + acknowledge; stopped by that ack
 *     report-reporter    receipt + report; stopped by reporter_done_at
 *     report-subscriber  receipt + report; stopped by subscriber_done_at
 *     revocation         receipt + 24 h / 120 h by BR item; by revoked_at
 *   A clock's status is "met" (stopped by its deadline), "missed" (stopped
 *   after it), "overdue" (running past it), "running" or "none" (the clock
 *   does not run: automated mail, or no BR item confirmed). A breach event
 *   the sweeper recorded is reported beside the computed status.
 *   The report takes every fact from the case's events (hash-chained,
 *   checked by verify-audit), not from its mutable columns: an owner's
 *   UPDATE of reporter_done_at cannot turn a breach into "met". A case
 *   whose columns disagree with its events lists them in
 *   "columns_disagree" (audit_facts_check of auditchain.c); list's
 *   compliance_next still reads the columns (it is a to-do list).
 *   Each change of BR item the events record (a confirm with another item:
 *   it moves the revocation deadline) is listed in "br_item_changes"
 *   ({"seq", "at", "from", "to", "reason", "by", "db_user"}); the
 *   revocation clock runs by the last item.
 *   Medians average the two middle values; p95 is the nearest rank.
 * DIAGNOSTICS
 *   Times that are missing or malformed count as "not set".
 */
#ifndef CPR_COMPLIANCE_H
#define CPR_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "deadline.h"

#define COMPLIANCE_ISO_LEN 32      /* "2026-11-27T03:14:00.123Z" and NUL */

struct compliance_next {
    enum deadline_clock clock;
    long long deadline;            /* UTC ms */
    long long left_ms;             /* negative: overdue */
};

/* "2026-11-27T03:14:00.123Z" (or without milliseconds) as UTC ms; 0 if
 * NULL or malformed. */
long long compliance_time_ms(const char *iso);

/* UTC ms as "2026-11-27T03:14:00.123Z"; "" for 0. */
void compliance_time_iso(long long ms, char *buf, size_t len);

/* The running clock with the nearest deadline; false if none runs. */
bool compliance_next(const json_t *c, const struct deadline_policy *p, long long now,
                     struct compliance_next *out);

/* {"tracking", ..., "responses": [...], "clocks": [{"clock", "start",
 *  "deadline", "done_at", "took_ms", "status", "breach_recorded"}],
 *  "columns_disagree": [COLUMN, ...], "br_item_changes": [...]}. */
json_t *compliance_case(const json_t *c, const struct deadline_policy *p, long long now);

/* {"from", "to", "generated_at", "policy", "cases": [...], "totals":
 *  {"cases", "breaches", "columns_disagree", "clocks": {NAME: {"done",
 *  "median_ms", "p95_ms", "max_ms", "met", "missed", "overdue",
 *  "running"}}}}; totals.columns_disagree counts cases. */
json_t *compliance_report(const json_t *cases, const struct deadline_policy *p,
                          long long now, const char *from, const char *to);

/* The same report a case at a time, so that a year of cases is never held
 * at once: the report without "cases" and "totals"; then each
 * compliance_case() row added to the totals (false: out of memory); then
 * the totals. The durations kept for the median and p95 are 32 bytes a
 * case. */
struct compliance_totals;
json_t *compliance_report_head(const struct deadline_policy *p, long long now,
                               const char *from, const char *to);
struct compliance_totals *compliance_totals_new(void);
bool compliance_totals_add(struct compliance_totals *tot, const json_t *row);
json_t *compliance_totals_json(struct compliance_totals *tot);
void compliance_totals_free(struct compliance_totals *tot);

#endif

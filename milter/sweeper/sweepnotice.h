/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepnotice - the notice a claimed step sends, and the alert it names
 * SUMMARY
 *   sweepnotice_build(s, st, &act, fallback, now, &facts, &t, &n);
 *   ... pager_send(ch, &n ...) ...; sweepnotice_free(&t);
 * DESCRIPTION
 *   Fills a struct pager_notice for one step of cpr.steps: the alert key
 *   (deadline_alert_key: one alert per clock, keys of their own for pages
 *   that must notify), the summary, details and severity (core/pagetext),
 *   the receipt time and deadline. The webhook "id" stays TRACKING/STEPKEY.
 *   ack_url is NULL until cpr-web signs links.
 */
#ifndef CPR_SWEEPNOTICE_H
#define CPR_SWEEPNOTICE_H

#include <stdbool.h>

#include "deadline.h"
#include "pager.h"
#include "pagetext.h"
#include "sweep.h"
#include "sweepdb.h"

struct sweep_notice_text {
    char id[160];
    char key[DEADLINE_ALERT_KEY_MAX];     /* the alert key sent */
    char base[DEADLINE_ALERT_KEY_MAX];    /* the clock's alert */
    char summary[PAGETEXT_SUMMARY_MAX + 1];
    char received[32];
    char deadline[32];
    char evidence[PAGETEXT_EVIDENCE_MAX];
    char *details;                        /* malloc'd */
};

/* event overrides the step's (acknowledge, resolve) when not NULL; key
 * overrides the computed alert key (an open alert's own). */
void sweepnotice_build(const struct sweeper *s, const struct sweep_step *st,
                       const struct deadline_action *act, bool fallback, long long now,
                       const struct sweep_facts *facts, const char *event, const char *key,
                       struct sweep_notice_text *t, struct pager_notice *n);
void sweepnotice_free(struct sweep_notice_text *t);

/* "2026-12-07T03:14:00.000Z", "-" for 0. */
void sweepnotice_utc(long long ms, char *buf, size_t len);

#endif

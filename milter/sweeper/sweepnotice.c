/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepnotice - the notice a claimed step sends, and the alert it names
 * DESCRIPTION
 *   See sweepnotice.h. Only gathering: the words are core/pagetext.c's,
 *   the keys core/deadline.c's, the wire format io/pager.c's.
 * DIAGNOSTICS
 *   None; details is NULL when out of memory (the pager then sends the
 *   plain facts).
 */
#include "sweepnotice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
sweepnotice_utc(long long ms, char *buf, size_t len)
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

/* Every clock of the case with its deadline and stop (a close stops all). */
static void
case_clocks(const struct sweeper *s, const struct sweep_case *k, struct pagetext_case *pc)
{
    static const enum deadline_clock all[PAGETEXT_NCLOCKS] = {
        CLOCK_ACKNOWLEDGE, CLOCK_REPORT_REPORTER, CLOCK_REPORT_SUBSCRIBER, CLOCK_REVOCATION
    };

    for (size_t i = 0; i < PAGETEXT_NCLOCKS; i++) {
        struct pagetext_clock *c = &pc->clocks[i];

        c->name = deadline_clock_name(all[i]);
        c->due = deadline_of(&k->clocks, &s->esc.policy, all[i]);
        c->stopped = deadline_clock_stop(&k->clocks, all[i]);
        if (c->stopped == 0 && k->clocks.closed)
            c->stopped = k->clocks.closed_at ? k->clocks.closed_at : 1;
    }
    pc->nclocks = PAGETEXT_NCLOCKS;
}

static void
case_words(const struct sweeper *s, const struct sweep_step *st,
           const struct sweep_facts *f, struct sweep_notice_text *t,
           struct pagetext_case *pc)
{
    struct pagetext_evidence_counts ev = {
        f->private_keys, f->spki[0] ? f->spki : NULL, f->certificates, f->csrs, f->other
    };

    memset(pc, 0, sizeof(*pc));
    pc->tracking = st->kase.tracking;
    pc->category = st->kase.category;
    pc->subject = st->kase.subject;
    pc->reporter = f->reporter;
    pc->show_reporter = s->esc.show_reporter;
    pagetext_evidence(&ev, t->evidence, sizeof(t->evidence));
    pc->evidence = t->evidence;
    pc->ack_url = NULL;       /* cpr-web's signed link, when it exists */
    case_clocks(s, &st->kase, pc);
}

void
sweepnotice_build(const struct sweeper *s, const struct sweep_step *st,
                  const struct deadline_action *act, bool fallback, long long now,
                  const struct sweep_facts *facts, const char *event, const char *key,
                  struct sweep_notice_text *t, struct pager_notice *n)
{
    struct deadline_action base = *act;
    struct pagetext_case pc;
    const char *ev = event ? event : st->event;

    memset(t, 0, sizeof(*t));
    sweepnotice_utc(st->kase.clocks.received_at, t->received, sizeof(t->received));
    sweepnotice_utc(st->deadline, t->deadline, sizeof(t->deadline));
    snprintf(t->id, sizeof(t->id), "%s/%s", st->kase.tracking, st->key);
    base.event = EVENT_RESOLVE;
    deadline_alert_key(st->kase.tracking, &base, &s->esc.policy, false, t->base, sizeof(t->base));
    if (key)
        snprintf(t->key, sizeof(t->key), "%s", key);
    else
        deadline_alert_key(st->kase.tracking, act, &s->esc.policy, fallback, t->key,
                           sizeof(t->key));
    case_words(s, st, facts, t, &pc);
    pagetext_summary(&pc, st->clock, ev, now, t->summary, sizeof(t->summary));
    t->details = pagetext_details(&pc, now);
    memset(n, 0, sizeof(*n));
    n->event = ev;
    n->id = t->id;
    n->dedup_key = t->key;
    n->tracking = st->kase.tracking;
    n->clock = st->clock;
    n->tier = st->tier;
    n->category = st->kase.category;
    n->subject = st->kase.subject;
    n->summary = t->summary;
    n->received_at = t->received;
    n->deadline = t->deadline;
    n->details = t->details;
    n->severity = pagetext_severity_name(pagetext_severity_of(&s->esc.severities,
                                         st->kase.category, strcmp(ev, "breach") == 0));
    n->ack_url = pc.ack_url;
    n->actor = strcmp(ev, "acknowledge") == 0 || strcmp(ev, "resolve") == 0 ? s->actor : NULL;
}

void
sweepnotice_free(struct sweep_notice_text *t)
{
    free(t->details);
    t->details = NULL;
}

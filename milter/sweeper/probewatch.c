/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probewatch - cpr-sweeper pages tier 1 when a probe stage breaks
 * SUMMARY
 *   delay_ms = probewatch_pass(&sweeper, &ok);
 * DESCRIPTION
 *   Each pass lets the database decide the probes under way
 *   (cpr.probe_alerts, 022_probes.sql and 023_probe_mailbox.sql): a probe
 *   the relay refused, one cpr-milter has not seen within [probe] timeout,
 *   and, with the mailbox stage, one not in the mailbox by then, one in
 *   the mailbox that cpr-milter never saw, or one filed as junk, opens an
 *   alert for its address and variant; a later probe of the pair that
 *   passes resolves it. Each page names the address, the variant and
 *   the stage (with the relay's reply for a refused send), and says when
 *   the address's plain probes still pass, so a quarantined attachment
 *   kind stands out. Pages and resolves go to every tier-1 channel, each
 *   leased to one sweeper; the dedup key cpr-probe/ADDRESS/VARIANT lets
 *   the resolve close the page.
 * DIAGNOSTICS
 *   One log line per page or resolve; an error when no tier-1 channel took
 *   it (it is retried with backoff).
 */
#include "probewatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liveness.h"
#include "log.h"
#include "pager.h"
#include "retry.h"
#include "sweepdb.h"

struct probewatch_text {
    char id[96];
    char dedup[400];
    char summary[2048];        /* room for every field at its longest */
};

/* What a failed stage means, for the person paged. */
static const char *
stage_meaning(const char *stage)
{
    static const struct { const char *stage, *meaning; } m[] = {
        { "send failed", "the relay refused it" },
        { "not seen by cpr-milter", "the path before cpr-milter is broken (DNS, MX, gateway, "
                                    "filter, queue), or cpr-milter is down" },
        { "seen by cpr-milter but not in the mailbox", "delivery after cpr-milter is broken "
                                    "(an alias, a transport, a filter or the mail store)" },
        { "in the mailbox but never seen by cpr-milter", "mail is bypassing cpr-milter (is it "
                                    "still in smtpd_milters?), or its probe secret differs" },
        { "filed as junk", "it was filed where staff may not look" },
    };

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (strcmp(stage, m[i].stage) == 0)
            return m[i].meaning;
    return "unknown stage";
}

static void
probewatch_summary(const struct sweep_probe_alert *a, long long timeout_ms, char *buf,
                   size_t len)
{
    const char *plain = strcmp(a->variant, "plain") == 0 ? ""
                        : a->plain_passes == 1 ? "; plain probes to this address pass, "
                                                 "so this attachment kind is being stopped"
                        : a->plain_passes == 0 ? "; plain probes fail too" : "";

    if (strcmp(a->action, "resolve") == 0)
        snprintf(buf, len, "CPR mail path to %s (%s probes) works again", a->address,
                 a->variant);
    else if (strcmp(a->stage, "send failed") == 0)
        snprintf(buf, len, "CPR mail path to %s: the %s probe %s could not be sent: %s: %s%s",
                 a->address, a->variant, a->probe_id, stage_meaning(a->stage),
                 a->detail[0] ? a->detail : "no reply", plain);
    else if (strcmp(a->stage, "filed as junk") == 0)
        snprintf(buf, len, "CPR mail path to %s: the %s probe %s (sent %s) was filed as junk, "
                 "in %s: %s%s", a->address, a->variant, a->probe_id, a->sent_at, a->detail,
                 stage_meaning(a->stage), plain);
    else if (strcmp(a->stage, "not seen by cpr-milter") == 0)
        snprintf(buf, len, "CPR mail path to %s: the %s probe %s (sent %s) was not seen by "
                 "cpr-milter within %lld s: %s%s", a->address, a->variant, a->probe_id,
                 a->sent_at, timeout_ms / 1000, stage_meaning(a->stage), plain);
    else
        snprintf(buf, len, "CPR mail path to %s: the %s probe %s (sent %s) was %s "
                 "(timeout %lld s): %s%s", a->address, a->variant, a->probe_id, a->sent_at,
                 a->stage, timeout_ms / 1000, stage_meaning(a->stage), plain);
}

static void
probewatch_notice(const struct sweeper *s, const struct sweep_probe_alert *a,
                  struct probewatch_text *t, struct pager_notice *n)
{
    snprintf(t->dedup, sizeof(t->dedup), PROBEWATCH_DEDUP_PREFIX "%s/%s", a->address,
             a->variant);
    snprintf(t->id, sizeof(t->id), "cpr-probe-alert/%lld/%s", a->id, a->action);
    probewatch_summary(a, s->probe_timeout_ms, t->summary, sizeof(t->summary));
    memset(n, 0, sizeof(*n));
    n->event = strcmp(a->action, "resolve") == 0 ? "resolve" : "health";
    n->id = t->id;
    n->dedup_key = t->dedup;
    n->clock = "probe";
    n->tier = 1;
    n->category = a->stage;
    n->summary = t->summary;
    n->received_at = a->opened_at;
}

static bool
probewatch_send(const struct sweeper *s, const struct sweep_probe_alert *a)
{
    struct probewatch_text t;
    struct pager_notice n;
    bool any;

    probewatch_notice(s, a, &t, &n);
    any = liveness_tier1_send(s, &n);
    if (any)
        log_info("probe alert %lld: %s sent: %s", a->id, a->action, t.summary);
    else
        log_error("probe alert %lld: no tier-1 channel took the %s (attempt %d); retrying: %s",
                  a->id, a->action, a->attempts, t.summary);
    return any;
}

long long
probewatch_pass(struct sweeper *s, bool *ok)
{
    long long next;

    *ok = true;
    for (int i = 0; i < PROBEWATCH_MAX_ALERTS; i++) {
        struct sweep_probe_alert a;
        bool found, sent;

        if (!sweepdb_probe_alert(s->conn, s->probe_timeout_ms, s->worker, liveness_lease_ms(s),
                                 &a, &found)) {
            *ok = false;
            return 0;
        }
        if (!found)
            break;
        sent = probewatch_send(s, &a);
        *ok = sweepdb_probe_alert_done(s->conn, &a, sent, s->worker,
                                       retry_backoff_ms(a.attempts - 1, s->esc.retry_base_ms,
                                                        s->esc.retry_cap_ms, (unsigned)rand()));
        if (!*ok)
            return 0;
    }
    next = sweepdb_probe_alert_next(s->conn, s->probe_timeout_ms);
    if (next < 0)
        *ok = false;
    return next > 0 ? next : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   liveness - cpr-sweeper pages tier 1 when a cpr-milter stops beating
 * DESCRIPTION
 *   See liveness.h. Idempotency keys: the dedup key (PagerDuty dedup_key,
 *   Opsgenie alias) is cpr-milter/HOST/SOCKET, or cpr-milter/none; the
 *   webhook id is cpr-milter-alert/ID/page or .../resolve.
 * DIAGNOSTICS
 *   One log line per page or resolve, with the outcome; an error when no
 *   tier-1 channel took it (it is retried with backoff).
 */
#include "liveness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pager.h"
#include "retry.h"
#include "sendlog.h"
#include "sweepdb.h"

#define LIVENESS_LEASE_SLACK_MS 5000

struct alert_text {
    char id[96];
    char dedup[1400];
    char summary[1024];
};

static void
alert_summary(const struct sweep_alert *a, long long down_after_ms, char *buf, size_t len)
{
    bool none = strcmp(a->reason, "none") == 0;

    if (strcmp(a->action, "resolve") == 0 && none)
        snprintf(buf, len, "cpr-milter: a milter is beating again");
    else if (strcmp(a->action, "resolve") == 0)
        snprintf(buf, len, "cpr-milter on %s (%s, pid %d) is beating again", a->host,
                 a->socket, a->pid);
    else if (none)
        snprintf(buf, len, "cpr-milter: NO milter is beating (none for over %lld s): CPR "
                 "reports are not being stamped; the MX defers or bypasses them",
                 down_after_ms / 1000);
    else if (strcmp(a->reason, "stopped") == 0)
        snprintf(buf, len, "cpr-milter on %s (%s, pid %d) was stopped on purpose at %s and "
                 "has not started again: the MX defers CPR mail", a->host, a->socket,
                 a->pid, a->beat_at);
    else if (strcmp(a->reason, "wedged") == 0)
        snprintf(buf, len, "cpr-milter on %s (%s, pid %d) is wedged: it beats, but no "
                 "milter callback has completed for over %lld s", a->host, a->socket,
                 a->pid, down_after_ms / 1000);
    else
        snprintf(buf, len, "cpr-milter on %s (%s, pid %d) is down: no heartbeat since %s",
                 a->host, a->socket, a->pid, a->beat_at);
}

static void
alert_notice(const struct sweeper *s, const struct sweep_alert *a, struct alert_text *t,
             struct pager_notice *n)
{
    if (strcmp(a->reason, "none") == 0)
        snprintf(t->dedup, sizeof(t->dedup), LIVENESS_DEDUP_PREFIX "none");
    else
        snprintf(t->dedup, sizeof(t->dedup), LIVENESS_DEDUP_PREFIX "%s/%s", a->host,
                 a->socket);
    snprintf(t->id, sizeof(t->id), "cpr-milter-alert/%lld/%s", a->id, a->action);
    alert_summary(a, s->milter_down_after_ms, t->summary, sizeof(t->summary));
    memset(n, 0, sizeof(*n));
    n->event = strcmp(a->action, "resolve") == 0 ? "resolve" : "health";
    n->id = t->id;
    n->dedup_key = t->dedup;
    n->clock = "milter";
    n->tier = 1;
    n->category = a->reason;
    n->summary = t->summary;
    n->received_at = a->opened_at;
}

bool
liveness_tier1_send(const struct sweeper *s, const struct pager_notice *n)
{
    bool any = false;

    for (size_t i = 0; s->esc.ntiers > 0 && i < s->esc.tiers[0].nchannels; i++) {
        char err[512];

        long status = 0;
        double ms = 0;

        any |= sendlog_send(s, &s->esc.channels[s->esc.tiers[0].channels[i]], n, &status, &ms,
                            err, sizeof(err)) == SEND_OK;
    }
    return any;
}

/* To every channel of tier 1; true when one took it. */
static bool
alert_send(const struct sweeper *s, const struct sweep_alert *a)
{
    struct alert_text t;
    struct pager_notice n;
    bool any;

    alert_notice(s, a, &t, &n);
    any = liveness_tier1_send(s, &n);
    if (any)
        log_info("milter alert %lld: %s sent: %s", a->id, a->action, t.summary);
    else
        log_error("milter alert %lld: no tier-1 channel took the %s (attempt %d); "
                  "retrying: %s", a->id, a->action, a->attempts, t.summary);
    return any;
}

long long
liveness_lease_ms(const struct sweeper *s)
{
    long long need = LIVENESS_LEASE_SLACK_MS;

    if (s->esc.ntiers > 0)
        need += (long long)s->esc.tiers[0].nchannels * PAGER_TIMEOUT_MS;
    return need > s->lease_ms ? need : s->lease_ms;
}

long long
liveness_pass(struct sweeper *s, bool *ok)
{
    long long next;

    *ok = true;
    for (int i = 0; i < LIVENESS_MAX_ALERTS; i++) {
        struct sweep_alert a;
        bool found, sent;

        if (!sweepdb_milter_alert(s->conn, s->milter_down_after_ms, s->milter_grace_ms,
                                  s->worker, liveness_lease_ms(s), &a, &found)) {
            *ok = false;
            return 0;
        }
        if (!found)
            break;
        sent = alert_send(s, &a);
        *ok = sweepdb_alert_done(s->conn, &a, sent, s->worker,
                                 retry_backoff_ms(a.attempts - 1, s->esc.retry_base_ms,
                                                  s->esc.retry_cap_ms, (unsigned)rand()));
        sweepdb_alert_free(&a);
        if (!*ok)
            return 0;
    }
    next = sweepdb_milter_next(s->conn, s->milter_down_after_ms, s->milter_grace_ms);
    if (next < 0)
        *ok = false;
    return next > 0 ? next : 0;
}

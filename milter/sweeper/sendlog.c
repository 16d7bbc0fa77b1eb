/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sendlog - send one notice on a channel and log it
 * DESCRIPTION
 *   See sendlog.h. Owns s->channel_log, one throttle per channel of
 *   s->esc, in the same order.
 */
#include "sendlog.h"
#include "sweepmetrics.h"

#include <stdio.h>

#include <glib.h>

#include "log.h"
#include "logthrottle.h"
#include "now.h"

void
sendlog_init(struct sweeper *s)
{
    s->channel_log = g_new0(struct log_throttle, s->esc.nchannels ? s->esc.nchannels : 1);
    for (size_t i = 0; i < s->esc.nchannels; i++)
        log_throttle_init(&s->channel_log[i], LOG_THROTTLE_INTERVAL_MS);
}

void
sendlog_free(struct sweeper *s)
{
    g_free(s->channel_log);
    s->channel_log = NULL;
}

static const char *
sendlog_result(enum send_result r)
{
    return r == SEND_OK ? "sent" : r == SEND_RETRY ? "retry" : "failed";
}

enum send_result
sendlog_send(const struct sweeper *s, const struct pager_channel *ch,
             const struct pager_notice *n, long *status, double *ms, char *err, size_t errlen)
{
    enum send_result r = pager_send(ch, n, status, ms, err, errlen);
    size_t i = (size_t)(ch - s->esc.channels);
    struct log_throttle *t = s->channel_log && i < s->esc.nchannels ? &s->channel_log[i] : NULL;
    char line[LOG_LINE_MAX];

    snprintf(line, sizeof(line), "%s %s clock=%s tier=%d channel=%s result=%s status=%ld "
             "ms=%.0f%s%s", n->event, n->tracking ? n->tracking : n->id,
             n->clock ? n->clock : "-", n->tier, ch->name, sendlog_result(r), *status, *ms,
             r == SEND_OK ? "" : " error=", r == SEND_OK ? "" : err);
    sweepmetrics_page(ch, r == SEND_OK ? SWEEPMETRICS_SENT
                          : r == SEND_RETRY ? SWEEPMETRICS_RETRY : SWEEPMETRICS_FAILED);
    if (r == SEND_OK)
        log_info("%s", line);
    else
        log_warn("%s", line);
    if (t != NULL && r == SEND_OK)
        log_throttle_ok(t, now_mono_ms(), "channel %s: delivering again", ch->name);
    else if (t != NULL)
        log_throttle_fail(t, now_mono_ms(), "channel %s: failing: %s", ch->name, err);
    return r;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   ackpoll - acknowledge where the page arrives: poll PagerDuty and Opsgenie
 * DESCRIPTION
 *   See ackpoll.h. The SQL is 029_pager_poll.sql's functions, called with
 *   parameters, over cpr.alerts (026). An alert opened by a sweeper that
 *   does not poll its channel is never marked for polling.
 */
#include "ackpoll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "log.h"
#include "now.h"
#include "pgconn.h"
#include "sweep.h"
#include "sweepdb.h"

/* ---- building ----------------------------------------------------------- */

static bool
channel_build(const struct config_channel *cc, struct ackpoll_channel *c, char **err)
{
    enum pager_type type;

    if (!pager_type_parse(cc->type, &type) || (type != PAGER_PAGERDUTY && type != PAGER_OPSGENIE)) {
        *err = g_strdup_printf("[channel %s] poll: type %s has no REST API to poll", cc->name,
                               cc->type);
        return false;
    }
    if ((c->api_key = config_read_api_key(cc->api_key, cc->api_key_file, err)) == NULL) {
        char *e = *err;

        *err = g_strdup_printf("[channel %s] api_key_file: %s", cc->name, e ? e : "unreadable");
        g_free(e);
        return false;
    }
    c->pc.name = cc->name;
    c->pc.type = type;
    c->pc.api_url = cc->api_url;
    c->pc.api_key = c->api_key;
    c->pc.ca_file = cc->ca_file;
    c->interval_ms = cc->poll_interval_ms;
    c->rate = cc->poll_rate;
    poll_budget_init(&c->budget, c->rate, now_mono_ms());
    log_throttle_init(&c->log, LOG_THROTTLE_INTERVAL_MS);
    return true;
}

bool
ackpoll_build(const struct cpr_config *cfg, struct ackpoll *ap, char **err)
{
    memset(ap, 0, sizeof(*ap));
    ap->ch = g_new0(struct ackpoll_channel, cfg->nchannel_defs ? cfg->nchannel_defs : 1);
    for (size_t i = 0; i < cfg->nchannel_defs; i++) {
        if (!cfg->channel_defs[i].poll)
            continue;
        if (!channel_build(&cfg->channel_defs[i], &ap->ch[ap->n], err)) {
            ackpoll_free(ap);
            return false;
        }
        ap->n++;
    }
    return true;
}

void
ackpoll_free(struct ackpoll *ap)
{
    for (size_t i = 0; ap->ch != NULL && i < ap->n; i++)
        if (ap->ch[i].api_key != NULL) {
            explicit_bzero(ap->ch[i].api_key, strlen(ap->ch[i].api_key));
            g_free(ap->ch[i].api_key);
        }
    g_free(ap->ch);
    memset(ap, 0, sizeof(*ap));
}

static struct ackpoll_channel *
find(const struct ackpoll *ap, const char *name)
{
    for (size_t i = 0; ap != NULL && i < ap->n; i++)
        if (strcmp(ap->ch[i].pc.name, name) == 0)
            return &ap->ch[i];
    return NULL;
}

/* ---- the database ------------------------------------------------------- */

static bool
db_void(const struct sweeper *s, const char *sql, int n, const char *const *params)
{
    PGresult *res = sweepdb_query(s->conn, sql, n, params);

    PQclear(res);
    return res != NULL;
}

bool
ackpoll_opened(struct sweeper *s, const struct sweep_step *st, const char *key)
{
    struct ackpoll_channel *c = find(s->poll, st->channel);
    char ms[32];
    const char *p[] = { st->channel, key, ms };

    if (c == NULL || key == NULL || strcmp(st->event, "resolve") == 0)
        return true;
    snprintf(ms, sizeof(ms), "%lld", c->interval_ms);
    /* The new alert is due one interval from now: the round must not sleep past it. */
    if (s->poll->next_at > now_mono_ms() + c->interval_ms)
        s->poll->next_at = now_mono_ms() + c->interval_ms;
    return db_void(s, "SELECT cpr.poll_open($1, $2, $3)", 3, p);
}

bool
ackpoll_closed(struct sweeper *s, const char *channel, const char *key)
{
    const char *p[] = { channel, key };

    if (find(s->poll, channel) == NULL || key == NULL)
        return true;
    return db_void(s, "SELECT cpr.poll_closed($1, $2)", 2, p);
}

static bool
report(const struct sweeper *s, const char *id, const char *said, const char *actor,
       const char *acker, long http, const char *error, long long delay_ms, char *done,
       size_t donelen)
{
    char h[16], d[32];
    const char *p[] = { id, said, actor, acker, h, error, d };
    PGresult *res;

    snprintf(h, sizeof(h), "%ld", http);
    snprintf(d, sizeof(d), "%lld", delay_ms);
    res = sweepdb_query(s->conn, "SELECT cpr.poll_report($1, $2, $3, $4, $5, $6, $7)", 7, p);
    if (res == NULL)
        return false;
    snprintf(done, donelen, "%s", PQgetisnull(res, 0, 0) ? "nothing" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

/* ---- one alert ---------------------------------------------------------- */

static const char *
said_of(const struct poll_state *st)
{
    switch (st->status) {
    case POLL_OPEN: return "open";
    case POLL_ACKED: return "acknowledged";
    case POLL_RESOLVED: return "resolved";
    case POLL_MISSING: return "missing";
    }
    return "error";
}

static void
log_done(const struct ackpoll_channel *c, const char *tracking, const char *clock,
         const struct poll_state *st, const char *done)
{
    if (strcmp(done, "acked") == 0)
        log_info("%s: acknowledged in %s (channel %s, clock %s) by %s: case acknowledged",
                 tracking, pager_type_name(c->pc.type), c->pc.name, clock,
                 st->acker[0] ? st->acker : st->actor);
    else if (strcmp(done, "noted") == 0)
        log_info("%s: acknowledged in %s (channel %s) by %s; the case was already acknowledged",
                 tracking, pager_type_name(c->pc.type), c->pc.name, st->actor);
    if (st->status == POLL_RESOLVED && strcmp(done, "nothing") != 0)
        log_notice("%s: resolved by hand in %s (channel %s, clock %s) by %s; the clocks keep "
                   "running", tracking, pager_type_name(c->pc.type), c->pc.name, clock,
                   st->actor);
}

/* Ask about one claimed alert and record the answer. *stop: the channel
 * is rate limited, ask nothing more this pass. */
static bool
poll_one(struct sweeper *s, struct ackpoll_channel *c, const PGresult *res, int row,
         bool *stop)
{
    const char *id = PQgetvalue(res, row, 0), *tracking = PQgetvalue(res, row, 1);
    const char *clock = PQgetvalue(res, row, 2), *key = PQgetvalue(res, row, 3);
    struct poll_state st;
    long status = 0;
    long long retry = -1, wait = 0;
    char err[512] = "", done[32];
    enum pagerpoll_result r = pagerpoll_fetch(&c->pc, key, now_wall_ms(), &st, &status,
                                              &retry, err, sizeof(err));
    const char *said = r == PAGERPOLL_OK ? said_of(&st) : r == PAGERPOLL_LIMITED ? "limited" : "error";

    if (r == PAGERPOLL_LIMITED) {
        wait = poll_budget_limited(&c->budget, retry, now_mono_ms());
        log_warn("channel %s: %s REST API rate limited (429); polling again in %lld ms",
                 c->pc.name, pager_type_name(c->pc.type), wait);
        *stop = true;
    } else if (r == PAGERPOLL_FAILED)
        log_throttle_fail(&c->log, now_mono_ms(), "channel %s: poll failing: %s", c->pc.name, err);
    else {
        poll_budget_ok(&c->budget);
        log_throttle_ok(&c->log, now_mono_ms(), "channel %s: polling again", c->pc.name);
    }
    if (!report(s, id, said, st.actor[0] ? st.actor : NULL, st.acker[0] ? st.acker : NULL,
                status, err[0] && r != PAGERPOLL_OK ? err : NULL, wait, done, sizeof(done)))
        return false;
    if (r == PAGERPOLL_OK)
        log_done(c, tracking, clock, &st, done);
    return true;
}

/* ---- a pass ------------------------------------------------------------- */

static long long
earliest(long long a, long long b)
{
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

static long long
next_due_ms(struct sweeper *s, const struct ackpoll_channel *c, bool *ok)
{
    const char *p[] = { c->pc.name };
    PGresult *res = sweepdb_query(s->conn, "SELECT cpr.poll_next_ms($1)", 1, p);
    long long ms;

    if (res == NULL) {
        *ok = false;
        return 0;
    }
    ms = PQgetisnull(res, 0, 0) ? 0 : atoll(PQgetvalue(res, 0, 0)) > 0
         ? atoll(PQgetvalue(res, 0, 0)) : 1;
    PQclear(res);
    return ms;
}

static bool
poll_channel(struct sweeper *s, struct ackpoll_channel *c)
{
    char iv[32], lim[16];
    const char *p[] = { c->pc.name, iv, lim };
    long long now = now_mono_ms();
    int want = 0;
    PGresult *res;
    bool ok = true, stop = false;

    /* Claim only what the budget allows now: a claimed alert not asked
     * about would wait a whole interval. */
    while (want < ACKPOLL_MAX_PER_PASS && poll_budget_take(&c->budget, c->rate, now))
        want++;
    if (want == 0)
        return true;
    snprintf(iv, sizeof(iv), "%lld", c->interval_ms);
    snprintf(lim, sizeof(lim), "%d", want);
    if ((res = sweepdb_query(s->conn, "SELECT id, tracking, clock, alert_key, state "
                          "FROM cpr.poll_claim($1, $2, $3)", 3, p)) == NULL)
        return false;
    /* Unused tokens go back: claimed fewer than budgeted. */
    c->budget.tokens += want - PQntuples(res);
    for (int i = 0; i < PQntuples(res) && ok; i++) {
        if (stop) {     /* rate limited: the rest wait for the block to end */
            char done[32];

            ok = report(s, PQgetvalue(res, i, 0), "limited", NULL, NULL, 429, NULL,
                        c->budget.blocked_until_ms - now_mono_ms(), done, sizeof(done));
            continue;
        }
        ok = poll_one(s, c, res, i, &stop);
    }
    PQclear(res);
    return ok;
}

long long
ackpoll_pass(struct sweeper *s, bool *ok)
{
    long long next = 0;

    *ok = true;
    for (size_t i = 0; s->poll != NULL && i < s->poll->n && *ok; i++) {
        struct ackpoll_channel *c = &s->poll->ch[i];
        long long due = 0, blocked;

        if ((*ok = poll_channel(s, c)))
            due = next_due_ms(s, c, ok);
        /* Due now but out of budget or blocked: wake when that ends. */
        blocked = c->budget.blocked_until_ms - now_mono_ms();
        if (due == 1 && blocked > 0)
            due = blocked;
        else if (due == 1 && c->budget.tokens < 1.0)
            due = 60000 / c->rate + 1;
        next = earliest(next, due);
    }
    return next;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   lookup - cpr-sweeper's worker from evidence to the affected certificates
 * DESCRIPTION
 *   See lookup.h. One case at a time: its evidence, the asks, every source
 *   for every ask it answers, then one cpr.lookup_done call.
 * DIAGNOSTICS
 *   See lookup.h.
 */
#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "invmatch.h"
#include "liveness.h"
#include "log.h"
#include "lookupdb.h"
#include "now.h"
#include "pager.h"
#include "retry.h"

struct ask_run {
    struct inv_result *res;
    struct inv_ask *ask;
    const char *source;
    bool full;
};

void
lookup_init(struct lookup *lk, const struct cpr_config *cfg)
{
    memset(lk, 0, sizeof(*lk));
    lk->cfg = cfg;
    for (size_t i = 0; cfg->inventory_sources[i]; i++)
        lk->nsrc++;
    lk->src = calloc(lk->nsrc ? lk->nsrc : 1, sizeof(*lk->src));
    for (size_t i = 0; lk->src && i < lk->nsrc; i++)
        lk->src[i] = invsource_new(config_source(cfg, cfg->inventory_sources[i]));
    lookup_reindex(lk, true);
    lookupdb_timeout(cfg->sweeper_db_timeout_ms);
}

void
lookup_reindex(struct lookup *lk, bool force)
{
    for (size_t i = 0; lk->src && i < lk->nsrc; i++) {
        char err[512] = "";

        if (!lk->src[i] || !invsource_is_dir(lk->src[i]) || !(force || invsource_stale(lk->src[i])))
            continue;
        if (invsource_index(lk->src[i], err, sizeof(err)))
            log_info("inventory source %s: %zu certificates indexed",
                     invsource_name(lk->src[i]), invsource_count(lk->src[i]));
        else
            log_warn("inventory source %s: %s", invsource_name(lk->src[i]), err);
    }
}

static void
on_cert(struct inv_cert *c, void *arg)
{
    struct ask_run *r = arg;

    if (!r->full && !invmatch_add(r->res, r->ask, c, r->source))
        r->full = true;
}

static void
on_refuse(const char *why, void *arg)
{
    struct ask_run *r = arg;

    invmatch_refuse(r->res, r->source, why);
}

static const char *
col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

/* The case's evidence as invmatch takes it; the strings stay in res. */
static size_t
evidence_of(const PGresult *res, struct inv_evidence *ev, size_t max)
{
    size_t n = (size_t)PQntuples(res) < max ? (size_t)PQntuples(res) : max;

    for (size_t i = 0; i < n; i++) {
        ev[i].id = atoll(PQgetvalue(res, (int)i, 0));
        ev[i].kind = PQgetvalue(res, (int)i, 1);
        ev[i].sha256 = col(res, (int)i, 2);
        ev[i].spki_sha256 = col(res, (int)i, 3);
        ev[i].serial = col(res, (int)i, 4);
        ev[i].issuer = col(res, (int)i, 5);
        ev[i].value = col(res, (int)i, 6);
        ev[i].proof = col(res, (int)i, 7);
        ev[i].verified_key = strcmp(PQgetvalue(res, (int)i, 8), "t") == 0;
    }
    return n;
}

/* Every source, every ask it answers; false with err when one failed. */
static bool
ask_all(struct lookup *lk, struct inv_ask *asks, size_t nasks, struct inv_result *res,
        char *err, size_t errlen)
{
    for (size_t s = 0; s < lk->nsrc; s++) {
        struct invsource *src = lk->src[s];
        char why[512] = "";

        if (!src) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        invmatch_source(res, invsource_name(src));
        for (size_t i = 0; i < nasks; i++) {
            struct ask_run run = { res, &asks[i], invsource_name(src), false };

            if (!invsource_asks(src, asks[i].q))
                continue;
            if (!invsource_query(src, asks[i].q, asks[i].param, asks[i].key, asks[i].issuer,
                                 on_cert, on_refuse, &run, why, sizeof(why))) {
                snprintf(err, errlen, "source %s: %s", invsource_name(src), why);
                return false;
            }
        }
    }
    return true;
}

static bool
record_failure(struct lookup *lk, struct sweeper *s, const struct lookup_case *c,
               const char *err)
{
    long long retry = retry_backoff_ms(c->attempts, lk->cfg->inventory_retry_base_ms,
                                       lk->cfg->inventory_retry_cap_ms, (unsigned)rand());

    log_warn("lookup of %s failed (attempt %d), retrying in %lld ms: %s", c->tracking,
             c->attempts + 1, retry, err);
    return lookupdb_failed(s->conn, c->id, s->worker, err, retry, lk->cfg->inventory_page_after);
}

static bool
record_done(struct lookup *lk, struct sweeper *s, const struct lookup_case *c,
            const struct inv_result *res, const struct inv_ask *asks, size_t nasks,
            long long t0)
{
    long long ms = now_mono_ms() - t0;
    json_t *j = invmatch_json(res, asks, nasks, ms);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    bool kept = false, ok;

    if (!text) {
        json_decref(j);
        return record_failure(lk, s, c, "out of memory");
    }
    ok = lookupdb_done(s->conn, c->id, s->worker, text, lk->cfg->inventory_key_recheck_ms,
                       &kept);
    if (ok && kept && (!c->recheck || res->n > 0))
        log_info("lookup of %s: %zu certificate(s), %zu missing, %zu refused, %lld ms%s",
                 c->tracking, res->n, json_array_size(json_object_get(j, "missing")),
                 res->nrefused, ms, c->recheck ? " (recheck)" : "");
    free(text);
    json_decref(j);
    return ok;
}

static bool
lookup_case(struct lookup *lk, struct sweeper *s, const struct lookup_case *c)
{
    struct inv_evidence ev[256];
    static struct inv_ask asks[INVMATCH_MAX_ASKS];
    struct inv_result res;
    char err[600] = "";
    long long t0 = now_mono_ms();
    PGresult *er = lookupdb_evidence(s->conn, c->id);
    size_t nev, nasks;
    bool ok;

    if (!er)
        return false;
    nev = evidence_of(er, ev, sizeof(ev) / sizeof(ev[0]));
    nasks = invmatch_asks(ev, nev, asks, INVMATCH_MAX_ASKS);
    invmatch_init(&res, (size_t)lk->cfg->inventory_max_certs);
    if (ask_all(lk, asks, nasks, &res, err, sizeof(err)))
        ok = record_done(lk, s, c, &res, asks, nasks, t0);
    else
        ok = record_failure(lk, s, c, err);
    invmatch_free(&res);
    PQclear(er);
    return ok;
}

/* ---- pages ---- */

static bool
alert_send(const struct sweeper *s, const struct lookup_alert *a)
{
    char id[64], dedup[96];
    struct pager_notice n = { 0 };
    bool any;

    snprintf(id, sizeof(id), "cpr-inventory/%lld", a->id);
    snprintf(dedup, sizeof(dedup), "%s/inventory/%s", a->tracking, a->kind);
    n.event = "health";
    n.id = id;
    n.dedup_key = dedup;
    n.tracking = a->tracking;
    n.clock = "inventory";
    n.tier = 1;
    n.category = a->kind;
    n.summary = a->summary;
    n.received_at = a->opened_at;
    any = liveness_tier1_send(s, &n);
    if (any)
        log_info("inventory alert %lld sent: %s", a->id, a->summary);
    else
        log_error("inventory alert %lld: no tier-1 channel took it (attempt %d); retrying: %s",
                  a->id, a->attempts, a->summary);
    return any;
}

static bool
alerts_pass(struct sweeper *s)
{
    for (int i = 0; i < LOOKUP_MAX_ALERTS; i++) {
        struct lookup_alert a;
        bool found, sent;

        if (!lookupdb_alert_claim(s->conn, s->worker, liveness_lease_ms(s), &a, &found))
            return false;
        if (!found)
            return true;
        sent = alert_send(s, &a);
        if (!lookupdb_alert_done(s->conn, &a, sent, s->worker,
                                 retry_backoff_ms(a.attempts - 1, s->esc.retry_base_ms,
                                                  s->esc.retry_cap_ms, (unsigned)rand())))
            return false;
    }
    return true;
}

long long
lookup_pass(struct lookup *lk, struct sweeper *s, bool *ok)
{
    struct lookup_case cases[LOOKUP_BATCH];
    long long lease = (long long)s->lease_ms, next;
    int n;

    *ok = true;
    if (lk->nsrc == 0)
        return 0;
    lookup_reindex(lk, false);
    if ((n = lookupdb_claim(s->conn, s->worker, (int)lease, cases, LOOKUP_BATCH)) < 0) {
        *ok = false;
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (!lookup_case(lk, s, &cases[i])) {
            *ok = false;
            return 0;
        }
    if (!alerts_pass(s)) {
        *ok = false;
        return 0;
    }
    if (n == LOOKUP_BATCH)
        return 1;              /* more may be due now */
    next = lookupdb_next_ms(s->conn);
    if (next < 0)
        *ok = false;
    return next > 0 ? next : 0;
}

void
lookup_free(struct lookup *lk)
{
    for (size_t i = 0; lk->src && i < lk->nsrc; i++)
        invsource_free(lk->src[i]);
    free(lk->src);
    memset(lk, 0, sizeof(*lk));
}

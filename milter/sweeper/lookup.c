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

/* Append the rows of res to ev (from ev[n], at most max in all); the
 * strings stay in res. Returns the new count. */
static size_t
evidence_of(const PGresult *res, struct inv_evidence *ev, size_t n, size_t max)
{
    for (int i = 0; i < PQntuples(res) && n < max; i++, n++) {
        ev[n].id = atoll(PQgetvalue(res, i, 0));
        ev[n].kind = PQgetvalue(res, i, 1);
        ev[n].sha256 = col(res, i, 2);
        ev[n].spki_sha256 = col(res, i, 3);
        ev[n].serial = col(res, i, 4);
        ev[n].issuer = col(res, i, 5);
        ev[n].value = col(res, i, 6);
        ev[n].proof = col(res, i, 7);
        ev[n].verified_key = strcmp(PQgetvalue(res, i, 8), "t") == 0;
    }
    return n;
}

/* All of the case's evidence, a page at a time, up to LOOKUP_MAX_EVIDENCE
 * items; *unread is how many lie past that bound. pages[] keeps the
 * results the strings live in; false on a database failure. */
static bool
evidence_all(struct sweeper *s, const struct lookup_case *c, struct inv_evidence *ev,
             size_t *nev, PGresult **pages, long long *unread)
{
    long long after = 0;

    *nev = 0;
    *unread = 0;
    for (int p = 0; p < LOOKUP_MAX_EVIDENCE / LOOKUP_EVIDENCE_PAGE; p++) {
        PGresult *er = lookupdb_evidence(s->conn, c->id, after, LOOKUP_EVIDENCE_PAGE);
        int rows;

        if (!er)
            return false;
        pages[p] = er;
        rows = PQntuples(er);
        *nev = evidence_of(er, ev, *nev, LOOKUP_MAX_EVIDENCE);
        if (rows < LOOKUP_EVIDENCE_PAGE)
            return true;       /* all read */
        after = atoll(PQgetvalue(er, rows - 1, 0));
        if (p == LOOKUP_MAX_EVIDENCE / LOOKUP_EVIDENCE_PAGE - 1)
            *unread = atoll(PQgetvalue(er, 0, 9)) - rows;   /* past the last page */
    }
    return true;
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
    static struct inv_evidence ev[LOOKUP_MAX_EVIDENCE];
    PGresult *pages[LOOKUP_MAX_EVIDENCE / LOOKUP_EVIDENCE_PAGE] = { 0 };
    struct inv_ask *asks = NULL;
    struct inv_result res;
    char err[600] = "";
    long long t0 = now_mono_ms(), unread;
    size_t nev, nasks, maxasks;
    bool ok = false;

    if (!evidence_all(s, c, ev, &nev, pages, &unread))
        goto out;
    if (unread > 0) {
        log_warn("lookup of %s: %lld evidence item(s) over the limit of %d not looked up",
                 c->tracking, unread, LOOKUP_MAX_EVIDENCE);
        if (!lookupdb_over_limit(s->conn, c->id, s->worker, unread, LOOKUP_MAX_EVIDENCE))
            goto out;
    }
    maxasks = 2 * nev + 1;     /* invmatch: at most two asks per item */
    if ((asks = calloc(maxasks, sizeof(*asks))) == NULL) {
        ok = record_failure(lk, s, c, "out of memory");
        goto out;
    }
    nasks = invmatch_asks(ev, nev, asks, maxasks);
    invmatch_init(&res, (size_t)lk->cfg->inventory_max_certs);
    if (ask_all(lk, asks, nasks, &res, err, sizeof(err)))
        ok = record_done(lk, s, c, &res, asks, nasks, t0);
    else
        ok = record_failure(lk, s, c, err);
    invmatch_free(&res);
out:
    free(asks);
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++)
        PQclear(pages[p]);
    return ok;
}

/* ---- pages ---- */

/* The notice of inventory alert a; id and dedup hold its keys. */
static void
alert_notice(const struct lookup_alert *a, struct pager_notice *n, char *id, size_t idlen,
             char *dedup, size_t deduplen)
{
    snprintf(id, idlen, "cpr-inventory/%lld", a->id);
    /* One key per alert row: a later page of the case is news, never
     * merged into the incident of an earlier one. */
    snprintf(dedup, deduplen, "%s/inventory/%s/%lld", a->tracking, a->kind, a->id);
    memset(n, 0, sizeof(*n));
    n->event = "health";
    n->id = id;
    n->dedup_key = dedup;
    n->tracking = a->tracking;
    n->clock = "inventory";
    n->tier = 1;
    n->category = a->kind;
    n->summary = a->summary;
    n->received_at = a->opened_at;
}

static bool
alert_send(const struct sweeper *s, const struct lookup_alert *a)
{
    char id[64], dedup[128];
    struct pager_notice n;
    bool any;

    alert_notice(a, &n, id, sizeof(id), dedup, sizeof(dedup));
    any = liveness_tier1_send(s, &n);
    if (any)
        log_info("inventory alert %lld sent: %s", a->id, a->summary);
    else
        log_error("inventory alert %lld: no tier-1 channel took it (attempt %d); retrying: %s",
                  a->id, a->attempts, a->summary);
    return any;
}

/* Close a's page on every tier-1 channel (where it was sent); false if
 * one failed. *sent: something went out (not every channel resolve = no). */
static bool
alert_resolve(const struct sweeper *s, const struct lookup_alert *a, bool *sent)
{
    char id[64], dedup[128];
    struct pager_notice n;
    bool ok = true;

    *sent = false;
    for (size_t i = 0; s->esc.ntiers > 0 && i < s->esc.tiers[0].nchannels; i++) {
        bool messaged = false;

        alert_notice(a, &n, id, sizeof(id), dedup, sizeof(dedup));
        ok &= sweep_close_notice(s, &s->esc.channels[s->esc.tiers[0].channels[i]], &n,
                                 &messaged, sent);
    }
    if (ok)
        log_info("inventory alert %lld resolved%s", a->id, *sent ? "" : " (resolve = no)");
    else
        log_error("inventory alert %lld: a resolve failed (attempt %d); retrying", a->id,
                  a->attempts);
    return ok;
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
            break;
        sent = alert_send(s, &a);
        if (!lookupdb_alert_done(s->conn, &a, sent, s->worker,
                                 retry_backoff_ms(a.attempts - 1, s->esc.retry_base_ms,
                                                  s->esc.retry_cap_ms, (unsigned)rand())))
            return false;
    }
    /* Pages of cases closed, or acknowledged since they went out. */
    for (int i = 0; i < LOOKUP_MAX_ALERTS; i++) {
        struct lookup_alert a;
        bool found, ok, sent;

        if (!lookupdb_resolve_claim(s->conn, s->worker, 2 * liveness_lease_ms(s), &a, &found))
            return false;
        if (!found)
            break;
        ok = alert_resolve(s, &a, &sent);
        if (!lookupdb_resolve_done(s->conn, &a, ok, sent, s->worker,
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

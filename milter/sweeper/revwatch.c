/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revwatch - cpr-sweeper proves each affected certificate's revocation
 *   published, and pages when it cannot
 * DESCRIPTION
 *   See revwatch.h. The judgement is revstatus/revpublish's (core/), the
 *   fetching revcheck's (io/); this file finds the issuer and the URLs,
 *   keeps the CRL cache and talks to cpr.revwatch_* (031_publication.sql).
 * DIAGNOSTICS
 *   Logs each stored change of state and each page; database failures
 *   end the round with *ok false.
 */
#include "revwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libpq-fe.h>

#include "crlcache.h"
#include "liveness.h"
#include "log.h"
#include "now.h"
#include "pager.h"
#include "retry.h"
#include "revcheck.h"
#include "revpublish.h"
#include "revstatus.h"

#define REVWATCH_FILE_MAX (256 * 1024)
#define REVWATCH_URLS_MAX 2          /* advertised + configured */

struct revwatch_issuer {
    const struct config_issuer *def;
    X509 *cert;
};

struct revwatch {
    const struct cpr_config *cfg;
    struct revwatch_issuer issuers[REVWATCH_ISSUERS_MAX];
    size_t nissuers;
    struct crlcache *crls;
    struct revcheck_limits lim;
};

/* One due certificate, as cpr.revwatch_due returns it. */
struct revwatch_due {
    long long id;
    const char *tracking, *serial;
    bool watched;
    X509 *cert;
};

/* The outcome of one mechanism over its URLs. */
struct revwatch_mech {
    bool present;
    char url[REVSTATUS_URL_MAX + 1];
    struct revstatus st;
};

/* ---- set-up ----------------------------------------------------------- */

static X509 *
issuer_load(const char *path)
{
    gchar *buf = NULL;
    gsize n = 0;
    X509 *x = NULL;

    if (g_file_get_contents(path, &buf, &n, NULL) && n <= REVWATCH_FILE_MAX)
        x = revstatus_cert_parse((const unsigned char *) buf, n);
    g_free(buf);
    return x;
}

/* Adds one issuer (def NULL: from [inventory] issuers, no URLs). */
static bool
issuer_add(struct revwatch *rw, const struct config_issuer *def, X509 *x)
{
    if (rw->nissuers == REVWATCH_ISSUERS_MAX) {
        X509_free(x);
        return false;
    }
    rw->issuers[rw->nissuers].def = def;
    rw->issuers[rw->nissuers++].cert = x;
    return true;
}

/* Every certificate file of [inventory] issuers; others are skipped. */
static bool
issuers_dir(struct revwatch *rw, const char *dir, char **err)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const gchar *name;

    if (!d) {
        *err = g_strdup_printf("[inventory] issuers: cannot open the directory %s", dir);
        return false;
    }
    while ((name = g_dir_read_name(d))) {
        gchar *path = g_build_filename(dir, name, NULL);
        X509 *x = issuer_load(path);

        g_free(path);
        if (x && !issuer_add(rw, NULL, x)) {
            *err = g_strdup_printf("[inventory] issuers: more than %d issuer certificates",
                                   REVWATCH_ISSUERS_MAX);
            g_dir_close(d);
            return false;
        }
    }
    g_dir_close(d);
    return true;
}

struct revwatch *
revwatch_new(const struct cpr_config *cfg, char **err)
{
    struct revwatch *rw = calloc(1, sizeof(*rw));
    const struct revcheck_limits lim = REVCHECK_LIMITS_DEFAULT;

    *err = NULL;
    if (!rw || !(rw->crls = crlcache_new((size_t) cfg->inv_crl_cache, REVWATCH_CACHE_BYTES))) {
        free(rw);
        *err = g_strdup("revwatch: out of memory");
        return NULL;
    }
    rw->cfg = cfg;
    rw->lim = lim;
    for (size_t i = 0; i < cfg->nissuer_defs; i++) {
        const struct config_issuer *d = &cfg->issuer_defs[i];
        X509 *x = d->cert[0] ? issuer_load(d->cert) : NULL;

        if (!x || !issuer_add(rw, d, x)) {
            *err = g_strdup_printf("[issuer %s] cert: %s", d->name,
                                   !x ? "cannot read a certificate (PEM or DER) from it"
                                      : "too many issuer certificates");
            revwatch_free(rw);
            return NULL;
        }
    }
    if (cfg->inventory_issuers[0] && !issuers_dir(rw, cfg->inventory_issuers, err)) {
        revwatch_free(rw);
        return NULL;
    }
    return rw;
}

void
revwatch_free(struct revwatch *rw)
{
    if (!rw)
        return;
    for (size_t i = 0; i < rw->nissuers; i++)
        X509_free(rw->issuers[i].cert);
    crlcache_free(rw->crls);
    free(rw);
}

/* ---- the database ----------------------------------------------------- */

static PGresult *
db_exec(PGconn *conn, const char *sql, int n, const char *const *p)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, p, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_error("revwatch: %s", PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

static long long
epoch_ms(long long secs)
{
    return secs > 0 ? secs * 1000 : 0;
}

static bool
db_store(PGconn *conn, const struct sweeper *s, const struct revwatch_due *d,
         const struct revwatch_mech *o, const struct revwatch_mech *c, bool published,
         long long recheck_ms)
{
    char id[24], rt[2][24], rc[24];
    const struct revwatch_mech *m[2] = { o, c };
    const char *p[12];
    PGresult *res;
    bool ok;

    snprintf(id, sizeof(id), "%lld", d->id);
    p[0] = id;
    p[1] = s->worker;
    for (int i = 0; i < 2; i++) {
        const struct revwatch_mech *x = m[i];
        bool revoked = x->present && x->st.state == REVSTATUS_REVOKED;

        snprintf(rt[i], sizeof(rt[i]), "%lld", revoked ? epoch_ms(x->st.revoked_at) : 0);
        p[2 + 4 * i] = x->present ? revstatus_state_name(x->st.state) : "none";
        p[3 + 4 * i] = rt[i];
        p[4 + 4 * i] = revoked ? revstatus_reason_name(x->st.reason) : NULL;
        p[5 + 4 * i] = x->present && x->st.state == REVSTATUS_UNKNOWN ? x->st.why : NULL;
    }
    p[10] = published ? "true" : "false";
    snprintf(rc, sizeof(rc), "%lld", recheck_ms);
    p[11] = rc;
    res = db_exec(conn, "SELECT cpr.revwatch_store($1::bigint, $2, $3, $4::bigint, $5, $6, "
                        "$7, $8::bigint, $9, $10, $11::boolean, $12::bigint)", 12, p);
    if (!res)
        return false;
    ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!ok)
        log_warn("revwatch: %s serial %s: lease lost; the check is not stored", d->tracking,
                 d->serial);
    return true;
}

/* ---- checking one certificate ----------------------------------------- */

static const struct revwatch_issuer *
issuer_of(const struct revwatch *rw, X509 *cert)
{
    for (size_t i = 0; i < rw->nissuers; i++) {
        struct revstatus st;

        if (X509_NAME_cmp(X509_get_issuer_name(cert),
                          X509_get_subject_name(rw->issuers[i].cert)) == 0
            && revstatus_issued_by(cert, rw->issuers[i].cert, &st))
            return &rw->issuers[i];
    }
    return NULL;
}

/* Keeps the least proven answer: good, then unknown, then revoked. */
static void
mech_merge(struct revwatch_mech *m, const char *url, const struct revstatus *st)
{
    static const int rank[] = { [REVSTATUS_GOOD] = 0, [REVSTATUS_UNKNOWN] = 1,
                                [REVSTATUS_REVOKED] = 2 };

    if (m->present && rank[m->st.state] <= rank[st->state])
        return;
    m->present = true;
    m->st = *st;
    snprintf(m->url, sizeof(m->url), "%s", url);
}

/* The advertised URL and the configured one, distinct, in urls[]. */
static size_t
urls_of(char *advertised, const char *configured, const char *urls[REVWATCH_URLS_MAX])
{
    size_t n = 0;

    if (advertised)
        urls[n++] = advertised;
    if (configured && configured[0] && (!advertised || strcmp(advertised, configured) != 0))
        urls[n++] = configured;
    return n;
}

static void
check_ocsp(struct revwatch *rw, X509 *cert, const struct revwatch_issuer *is, long long now,
           struct revwatch_mech *m)
{
    char *aia = revstatus_ocsp_url(cert);
    const char *urls[REVWATCH_URLS_MAX];
    size_t n = urls_of(aia, is->def ? is->def->ocsp_url : NULL, urls);

    for (size_t i = 0; i < n; i++) {
        struct revstatus st;
        long long ms;

        revcheck_ocsp(cert, is->cert, urls[i], &rw->lim, now, &st, &ms);
        (void) ms;
        mech_merge(m, urls[i], &st);
    }
    free(aia);
}

/* The cached CRL of url, fetched (conditionally) when wanted; NULL with
 * st UNKNOWN when it cannot be had. */
static struct crlcache_entry *
crl_fetch(struct revwatch *rw, const char *url, bool watched, long long now_ms,
          struct revstatus *st)
{
    struct crlcache_entry *e = crlcache_get(rw->crls, url, now_ms);
    struct revcheck_crl_get g;
    X509_CRL *crl;

    if (e && !crlcache_wanted(e, now_ms, rw->cfg->inv_recheck_ms, watched))
        return e;
    revcheck_crl_get(url, &rw->lim, e ? e->etag : "", e ? e->last_modified : "", &g, st);
    if (g.status == 304 && e) {
        crlcache_touch(e, now_ms);
        return e;
    }
    if (g.status != 200) {
        if (g.status == 304)
            revstatus_unknown(st, "malformed: 304 Not Modified for a CRL we do not hold");
        return NULL;
    }
    crl = revstatus_crl_parse(g.body, g.len);
    free(g.body);
    if (!crl) {
        revstatus_unknown(st, "malformed: not a CRL in DER or PEM");
        return NULL;
    }
    if (!crlcache_put(rw->crls, url, crl, g.len, g.etag, g.last_modified, now_ms)) {
        revstatus_unknown(st, "oversized: the CRL does not fit the cache");
        return NULL;
    }
    return crlcache_get(rw->crls, url, now_ms);
}

static void
check_crl(struct revwatch *rw, X509 *cert, const struct revwatch_issuer *is, bool watched,
          long long now, struct revwatch_mech *m)
{
    char *dp = revstatus_crl_url(cert);
    const char *urls[REVWATCH_URLS_MAX];
    size_t n = urls_of(dp, is->def ? is->def->crl_url : NULL, urls);

    for (size_t i = 0; i < n; i++) {
        struct revstatus st;
        struct crlcache_entry *e;

        memset(&st, 0, sizeof(st));
        st.reason = -1;
        if ((e = crl_fetch(rw, urls[i], watched, now * 1000, &st)))
            revstatus_crl_check(e->crl, cert, is->cert, now, &st);
        mech_merge(m, urls[i], &st);
    }
    free(dp);
}

/* Neither an issuer nor URLs: both mechanisms unknown, saying why. */
static void
no_issuer(X509 *cert, struct revwatch_mech *o, struct revwatch_mech *c)
{
    char dn[256] = "";

    X509_NAME_oneline(X509_get_issuer_name(cert), dn, sizeof(dn));
    for (char *p = dn; *p; p++)
        if (*p < ' ' || *p > '~')
            *p = '?';
    o->present = c->present = true;
    revstatus_unknown(&o->st, "no issuer certificate ([issuer NAME] or [inventory] issuers) for %s", dn);
    c->st = o->st;
}

static bool
check_one(struct revwatch *rw, struct sweeper *s, const struct revwatch_due *d, long long now)
{
    const struct revwatch_issuer *is = issuer_of(rw, d->cert);
    struct revwatch_mech o, c;
    long long t0 = now_mono_ms(), t1 = t0;
    bool published;

    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    if (!is)
        no_issuer(d->cert, &o, &c);
    else {
        check_ocsp(rw, d->cert, is, now, &o);
        t1 = now_mono_ms();
        check_crl(rw, d->cert, is, d->watched, now, &c);
    }
    published = revpublish_published(o.present ? &o.st : NULL, c.present ? &c.st : NULL);
    log_info("revwatch: %s serial %s: OCSP %s in %lld ms, CRL %s in %lld ms%s", d->tracking,
             d->serial, o.present ? revstatus_state_name(o.st.state) : "none", t1 - t0,
             c.present ? revstatus_state_name(c.st.state) : "none", now_mono_ms() - t1,
             published ? ": published" : "");
    return db_store(s->conn, s, d, &o, &c, published, rw->cfg->inv_recheck_ms);
}

/* ---- the due certificates ---------------------------------------------- */

/* One due row: parse and check it (a row without usable DER is unknown). */
static bool
check_row(struct revwatch *rw, struct sweeper *s, const PGresult *res, int i, long long now)
{
    size_t n = 0;
    unsigned char *der = PQgetisnull(res, i, 3) ? NULL
                         : PQunescapeBytea((const unsigned char *) PQgetvalue(res, i, 3), &n);
    struct revwatch_due d = { atoll(PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1),
                              PQgetvalue(res, i, 2), PQgetvalue(res, i, 4)[0] == 't', NULL };
    bool ok;

    d.cert = der ? revstatus_cert_parse(der, n) : NULL;
    PQfreemem(der);
    if (!d.cert) {
        struct revwatch_mech o = { 0 }, c = { 0 };

        o.present = c.present = true;
        revstatus_unknown(&o.st, "malformed: the inventory gave no certificate DER to check");
        c.st = o.st;
        return db_store(s->conn, s, &d, &o, &c, false, rw->cfg->inv_recheck_ms);
    }
    ok = check_one(rw, s, &d, now);
    X509_free(d.cert);
    return ok;
}

/* Claims REVWATCH_CLAIM_CHUNK at a time, up to [inventory] check_batch
 * and for at most REVWATCH_ROUND_MS, so a lease covers one bounded check
 * (a dead sweeper's claim comes free soon) and paging never waits long
 * behind slow responders. */
static bool
check_due(struct revwatch *rw, struct sweeper *s, long long now)
{
    char lim[24], rc[24], lease[24];
    const char *p[4] = { lim, rc, s->worker, lease };
    long done = 0;
    long long t0 = now_mono_ms();
    bool ok = true, more = true;

    snprintf(rc, sizeof(rc), "%lld", rw->cfg->inv_recheck_ms);
    /* Each check: at most two OCSP and two CRL fetches, each bounded. */
    snprintf(lease, sizeof(lease), "%lld",
             (long long) REVWATCH_CLAIM_CHUNK * 4 * rw->lim.timeout_ms + 60000);
    while (ok && more && done < rw->cfg->inv_check_batch
           && now_mono_ms() - t0 < REVWATCH_ROUND_MS) {
        long want = rw->cfg->inv_check_batch - done;
        PGresult *res;
        int rows;

        snprintf(lim, sizeof(lim), "%ld", want < REVWATCH_CLAIM_CHUNK ? want : REVWATCH_CLAIM_CHUNK);
        if (!(res = db_exec(s->conn, "SELECT id, tracking, serial, der, watched FROM "
                                     "cpr.revwatch_due($1::integer, $2::bigint, $3, $4::bigint)",
                            4, p)))
            return false;
        rows = PQntuples(res);
        more = rows == atoi(lim);
        for (int i = 0; ok && i < rows; i++)
            ok = check_row(rw, s, res, i, now);
        done += rows;
        PQclear(res);
    }
    return ok;
}

/* ---- pages -------------------------------------------------------------- */

static bool
open_claims(struct revwatch *rw, struct sweeper *s)
{
    char grace[24], lim[24];
    const char *p[2] = { grace, lim };
    PGresult *res;
    int rows, i = 0;
    bool ok = true;

    snprintf(grace, sizeof(grace), "%lld", rw->cfg->inv_publish_grace_ms);
    snprintf(lim, sizeof(lim), "%d", REVWATCH_CLAIMS_MAX);
    if (!(res = db_exec(s->conn, "SELECT * FROM cpr.revwatch_claims($1::bigint, $2::integer)",
                        2, p)))
        return false;
    rows = PQntuples(res);
    while (ok && i < rows) {
        struct revpublish_row *r = calloc((size_t) rows, sizeof(*r));
        const char *cid = PQgetvalue(res, i, 0);
        char summary[2048];
        const char *q[4];
        PGresult *x;
        size_t n = 0;
        int first = i;

        if (!r) {
            PQclear(res);
            return false;
        }
        for (; i < rows && strcmp(PQgetvalue(res, i, 0), cid) == 0; i++, n++)
            r[n] = (struct revpublish_row) { PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                                             PQgetvalue(res, i, 5) };
        revpublish_claim_summary(PQgetvalue(res, first, 1), PQgetvalue(res, first, 2), r, n,
                                 summary, sizeof(summary));
        free(r);
        q[0] = cid;
        q[1] = "claim-unpublished";
        q[2] = PQgetvalue(res, first, 2);
        q[3] = summary;
        x = db_exec(s->conn, "SELECT cpr.revwatch_alert_open($1::bigint, $2, $3, $4)", 4, q);
        ok = x != NULL;
        PQclear(x);
    }
    PQclear(res);
    return ok;
}

static bool
send_alerts(struct sweeper *s)
{
    char lease[24], retry[24];
    const char *p[2] = { s->worker, lease };

    snprintf(lease, sizeof(lease), "%lld", liveness_lease_ms(s));
    for (int k = 0; k < REVWATCH_ALERTS_MAX; k++) {
        PGresult *res = db_exec(s->conn, "SELECT * FROM cpr.revwatch_alert_take($1, $2::bigint)",
                                2, p);
        char id[160], dedup[200], aid[24];
        struct pager_notice n = { 0 };
        const char *q[4];
        bool sent;

        if (!res)
            return false;
        if (PQntuples(res) == 0) {
            PQclear(res);
            return true;
        }
        snprintf(id, sizeof(id), "cpr-revwatch/%s", PQgetvalue(res, 0, 0));
        snprintf(dedup, sizeof(dedup), "%s/revocation/%s/%s", PQgetvalue(res, 0, 1),
                 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 0));
        n.event = "health";
        n.id = id;
        n.dedup_key = dedup;
        n.tracking = PQgetvalue(res, 0, 1);
        n.clock = "revocation";
        n.tier = 1;
        n.category = PQgetvalue(res, 0, 2);
        n.summary = PQgetvalue(res, 0, 3);
        n.received_at = PQgetvalue(res, 0, 4);
        sent = liveness_tier1_send(s, &n);
        if (sent)
            log_info("revwatch: paged: %s", n.summary);
        else
            log_error("revwatch: no tier-1 channel took the page; retrying: %s", n.summary);
        snprintf(retry, sizeof(retry), "%lld",
                 retry_backoff_ms(atoi(PQgetvalue(res, 0, 5)) - 1, s->esc.retry_base_ms,
                                  s->esc.retry_cap_ms, (unsigned) rand()));
        snprintf(aid, sizeof(aid), "%s", PQgetvalue(res, 0, 0));   /* res is cleared next */
        q[0] = aid;
        q[1] = sent ? "true" : "false";
        q[2] = s->worker;
        q[3] = retry;
        PQclear(res);
        res = db_exec(s->conn, "SELECT cpr.revwatch_alert_done($1::bigint, $2::boolean, $3, "
                               "$4::bigint)", 4, q);
        if (!res)
            return false;
        PQclear(res);
    }
    return true;
}

static long long
next_due(struct revwatch *rw, PGconn *conn)
{
    char rc[24];
    const char *p[1] = { rc };
    PGresult *res;
    long long next = 0;

    snprintf(rc, sizeof(rc), "%lld", rw->cfg->inv_recheck_ms);
    if (!(res = db_exec(conn, "SELECT cpr.revwatch_next_ms($1::bigint)", 1, p)))
        return -1;
    if (!PQgetisnull(res, 0, 0))
        next = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return next;
}

void
revwatch_pending_text(PGconn *conn, long long case_id, char *buf, size_t len)
{
    char id[24], lim[24];
    const char *p[2] = { id, lim };
    struct revpublish_row r[REVPUBLISH_SERIALS_MAX * 10];
    PGresult *res;
    size_t n, used = strnlen(buf, len);

    snprintf(id, sizeof(id), "%lld", case_id);
    snprintf(lim, sizeof(lim), "%zu", sizeof(r) / sizeof(r[0]));
    if (!(res = db_exec(conn, "SELECT * FROM cpr.revwatch_pending($1::bigint, $2::integer)",
                        2, p)))
        return;
    n = (size_t) PQntuples(res);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct revpublish_row) { PQgetvalue(res, (int) i, 0), PQgetvalue(res, (int) i, 1),
                                         PQgetvalue(res, (int) i, 2) };
    if (n > 0 && used + 1 < len) {
        snprintf(buf + used, len - used, "; not yet published: ");
        revpublish_states(r, n, buf, len);
    }
    PQclear(res);
}

long long
revwatch_round(struct revwatch *rw, struct sweeper *s, bool *ok)
{
    long long now = (s->db_now > 0 ? s->db_now : now_wall_ms()) / 1000, next;

    *ok = check_due(rw, s, now) && open_claims(rw, s) && send_alerts(s);
    if (!*ok)
        return 0;
    next = next_due(rw, s->conn);
    if (next < 0)
        *ok = false;
    return next > 0 ? next : 0;
}

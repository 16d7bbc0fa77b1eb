/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   crlcache - CRLs kept in memory by URL until their nextUpdate
 * DESCRIPTION
 *   See crlcache.h. A small array searched linearly: the bound is a few
 *   dozen issuers' CRLs, and a lookup costs nothing beside a fetch.
 * DIAGNOSTICS
 *   None logged.
 */
#include "crlcache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct crlcache {
    struct crlcache_entry *e;
    size_t n, max, bytes, max_bytes;
};

struct crlcache *
crlcache_new(size_t entries, size_t max_bytes)
{
    struct crlcache *cc = calloc(1, sizeof(*cc));

    if (!cc || entries == 0 || !(cc->e = calloc(entries, sizeof(*cc->e)))) {
        free(cc);
        return NULL;
    }
    cc->max = entries;
    cc->max_bytes = max_bytes;
    return cc;
}

static void
entry_drop(struct crlcache *cc, size_t i)
{
    cc->bytes -= cc->e[i].bytes;
    free(cc->e[i].url);
    X509_CRL_free(cc->e[i].crl);
    cc->e[i] = cc->e[--cc->n];
    memset(&cc->e[cc->n], 0, sizeof(cc->e[cc->n]));
}

void
crlcache_free(struct crlcache *cc)
{
    if (!cc)
        return;
    while (cc->n > 0)
        entry_drop(cc, 0);
    free(cc->e);
    free(cc);
}

size_t
crlcache_count(const struct crlcache *cc)
{
    return cc ? cc->n : 0;
}

static struct crlcache_entry *
entry_find(struct crlcache *cc, const char *url, size_t *at)
{
    for (size_t i = 0; i < cc->n; i++)
        if (strcmp(cc->e[i].url, url) == 0) {
            *at = i;
            return &cc->e[i];
        }
    return NULL;
}

struct crlcache_entry *
crlcache_get(struct crlcache *cc, const char *url, long long now_ms)
{
    size_t at;
    struct crlcache_entry *e = entry_find(cc, url, &at);

    if (e)
        e->used_ms = now_ms;
    return e;
}

bool
crlcache_wanted(const struct crlcache_entry *e, long long now_ms, long long recheck_ms,
                bool watched)
{
    if (!e || e->next_update_ms == 0 || now_ms >= e->next_update_ms)
        return true;
    return watched && now_ms - e->fetched_ms >= recheck_ms;
}

void
crlcache_touch(struct crlcache_entry *e, long long now_ms)
{
    e->fetched_ms = now_ms;
    e->used_ms = now_ms;
}

static void
evict_lru(struct crlcache *cc)
{
    size_t lru = 0;

    for (size_t i = 1; i < cc->n; i++)
        if (cc->e[i].used_ms < cc->e[lru].used_ms)
            lru = i;
    entry_drop(cc, lru);
}

static long long
crl_next_ms(X509_CRL *crl)
{
    const ASN1_TIME *t = X509_CRL_get0_nextUpdate(crl);
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (long long) timegm(&tm) * 1000;
}

static void
validator_set(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    dst[0] = '\0';
    if (n > CRLCACHE_VALIDATOR_MAX)
        return;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool
crlcache_put(struct crlcache *cc, const char *url, X509_CRL *crl, size_t bytes,
             const char *etag, const char *last_modified, long long now_ms)
{
    size_t at;
    struct crlcache_entry *e;
    char *u;

    if (entry_find(cc, url, &at))
        entry_drop(cc, at);
    if (bytes > cc->max_bytes || !(u = strdup(url))) {
        X509_CRL_free(crl);
        return false;
    }
    while (cc->n > 0 && (cc->n >= cc->max || cc->bytes + bytes > cc->max_bytes))
        evict_lru(cc);
    e = &cc->e[cc->n++];
    e->url = u;
    e->crl = crl;
    e->bytes = bytes;
    e->next_update_ms = crl_next_ms(crl);
    e->fetched_ms = e->used_ms = now_ms;
    validator_set(e->etag, etag);
    validator_set(e->last_modified, last_modified);
    cc->bytes += bytes;
    return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   crlcache - CRLs kept in memory by URL until their nextUpdate
 * SUMMARY
 *   struct crlcache *cc = crlcache_new(entries, max_bytes);
 *   e = crlcache_get(cc, url, now_ms);          NULL: not cached
 *   want = crlcache_wanted(e, now_ms, recheck_ms, watched);
 *   crlcache_put(cc, url, crl, bytes, etag, last_modified, now_ms);
 *   crlcache_touch(e, now_ms);                  after a 304
 * DESCRIPTION
 *   The pure half of the CRL cache of revwatch (issue 16): no I/O, the
 *   clock passed in. An entry holds the parsed CRL, its size and the
 *   validators (ETag, Last-Modified) for a conditional GET. It is wanted
 *   again (refetched) when its nextUpdate has passed, or, while a case is
 *   watched (a revocation clock or a staff claim open), when it was last
 *   fetched recheck_ms ago or more: a subscriber CRL's nextUpdate can be
 *   days away. Bounded in entries and in bytes; the least recently used
 *   entry is dropped first. The cache owns the CRLs put in it.
 * DIAGNOSTICS
 *   crlcache_put returns false (and frees nothing of the caller's but the
 *   CRL, which it always takes) when the CRL alone is over max_bytes.
 */
#ifndef CPR_CRLCACHE_H
#define CPR_CRLCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#define CRLCACHE_VALIDATOR_MAX 200

struct crlcache_entry {
    char *url;
    X509_CRL *crl;
    size_t bytes;
    long long next_update_ms;       /* 0: none (wanted at every look) */
    long long fetched_ms;           /* last 200 or 304 */
    long long used_ms;
    char etag[CRLCACHE_VALIDATOR_MAX + 1];
    char last_modified[CRLCACHE_VALIDATOR_MAX + 1];
};

struct crlcache;

struct crlcache *crlcache_new(size_t entries, size_t max_bytes);
void crlcache_free(struct crlcache *cc);
struct crlcache_entry *crlcache_get(struct crlcache *cc, const char *url, long long now_ms);
bool crlcache_wanted(const struct crlcache_entry *e, long long now_ms, long long recheck_ms,
                     bool watched);
bool crlcache_put(struct crlcache *cc, const char *url, X509_CRL *crl, size_t bytes,
                  const char *etag, const char *last_modified, long long now_ms);
void crlcache_touch(struct crlcache_entry *e, long long now_ms);
size_t crlcache_count(const struct crlcache *cc);

#endif

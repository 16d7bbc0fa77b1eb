/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revcheck - fetch a certificate's CRL and OCSP answer and judge them
 * SUMMARY
 *   struct revcheck_limits lim = REVCHECK_LIMITS_DEFAULT;
 *   revcheck_ocsp(cert, issuer, url, &lim, now, &st, &ms);
 *   revcheck_crl(cert, issuer, url, &lim, now, &st, &ms);
 * DESCRIPTION
 *   The network half of revstatus (core/): one OCSP POST (RFC 6960
 *   appendix A, application/ocsp-request) or one CRL GET, with libcurl,
 *   http/https only, no redirects, bounded in time and in size (a body
 *   over the bound is cut off and is an error, never parsed). The answer
 *   is judged by revstatus_*_check with the clock `now` passed in. ms is
 *   the check's wall time (fetch and judgement), from the monotonic clock.
 * DIAGNOSTICS
 *   UNKNOWN with why: "unreachable: <curl's text>", "HTTP status N",
 *   "oversized: CRL larger than N bytes", "malformed: ..." and the
 *   reasons of revstatus.
 */
#ifndef CPR_REVCHECK_H
#define CPR_REVCHECK_H

#include <stddef.h>

#include "revstatus.h"

#define REVCHECK_OCSP_MAX    (64 * 1024)          /* bytes of an OCSP response */
#define REVCHECK_CRL_MAX     (10 * 1024 * 1024)   /* bytes of a CRL */
#define REVCHECK_TIMEOUT_MS  (10 * 1000L)

struct revcheck_limits {
    size_t ocsp_max;
    size_t crl_max;
    long timeout_ms;
};
#define REVCHECK_LIMITS_DEFAULT { REVCHECK_OCSP_MAX, REVCHECK_CRL_MAX, REVCHECK_TIMEOUT_MS }

/* A conditional CRL GET: If-None-Match / If-Modified-Since from the
 * validators given ("" = none). The body (at most lim->crl_max) is kept
 * on 200; 304 keeps the caller's copy. Validators are printable ASCII
 * without CR/LF, at most REVCHECK_VALIDATOR_MAX bytes, or dropped. */
#define REVCHECK_VALIDATOR_MAX 200
struct revcheck_crl_get {
    long status;                           /* 200 or 304; 0 failed (st says why) */
    unsigned char *body;                   /* 200: malloc'd, caller frees */
    size_t len;
    char etag[REVCHECK_VALIDATOR_MAX + 1];          /* of a 200 */
    char last_modified[REVCHECK_VALIDATOR_MAX + 1];
};
void revcheck_crl_get(const char *url, const struct revcheck_limits *lim, const char *etag,
                      const char *last_modified, struct revcheck_crl_get *out,
                      struct revstatus *st);

void revcheck_ocsp(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                   long long now, struct revstatus *st, long long *ms);
void revcheck_crl(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                  long long now, struct revstatus *st, long long *ms);

#endif

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

void revcheck_ocsp(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                   long long now, struct revstatus *st, long long *ms);
void revcheck_crl(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                  long long now, struct revstatus *st, long long *ms);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revpublish - is one certificate's revocation published; what a late
 *   claim's page says
 * SUMMARY
 *   ok = revpublish_published(ocsp, crl);     NULL: mechanism absent
 *   revpublish_claim_summary(tracking, claimed_at, rows, n, buf, len);
 * DESCRIPTION
 *   Pure rules of issue 16. A certificate's revocation is published only
 *   when it has at least one mechanism (an OCSP responder or a CRL,
 *   advertised or configured for its issuer: OCSP is optional since
 *   SC-063) and every mechanism it has says revoked; unknown is not
 *   revoked. The claim page counts, per mechanism, the certificates not
 *   shown revoked and names their serials: "CPR-2026-000001: claimed
 *   revoked at T, but OCSP says good for 2 of 3 certificates (1001,
 *   1002); the CRL says good for 1 of 3 (1001)".
 * DIAGNOSTICS
 *   The summary is cut at len, serials after REVPUBLISH_SERIALS_MAX are
 *   counted, not listed. Serials are printed only when hex.
 */
#ifndef CPR_REVPUBLISH_H
#define CPR_REVPUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "revstatus.h"

#define REVPUBLISH_SERIALS_MAX 10

bool revpublish_published(const struct revstatus *ocsp, const struct revstatus *crl);

/* One unexpired certificate of a late claim: state names as stored
 * ("good", "revoked", "unknown", "none", "unchecked"). */
struct revpublish_row {
    const char *serial;
    const char *ocsp;
    const char *crl;
};

/* Appends the per-mechanism part alone ("OCSP says good for 2 of 3
 * certificates (1002, 1003); the CRL says ..."), of n rows out of total
 * unpublished; nothing when every row is revoked everywhere. */
void revpublish_states(const struct revpublish_row *rows, size_t n, char *buf, size_t len);

void revpublish_claim_summary(const char *tracking, const char *claimed_at,
                              const struct revpublish_row *rows, size_t n, char *buf,
                              size_t len);

#endif

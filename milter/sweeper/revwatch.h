/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revwatch - cpr-sweeper proves each affected certificate's revocation
 *   published, and pages when it cannot
 * SUMMARY
 *   struct revwatch *rw = revwatch_new(cfg, &err);
 *   delay_ms = revwatch_round(rw, &sweeper, &ok);
 *   revwatch_free(rw);
 * DESCRIPTION
 *   Each round takes up to [inventory] check_batch affected certificates
 *   that are due (cpr.revwatch_due, 031_publication.sql: never checked,
 *   or rechecked every [inventory] recheck while their case's revocation
 *   clock runs or a staff claim is unproven), each leased to this sweeper.
 *   For each, not expired, it finds the [issuer NAME] whose subject is
 *   the certificate's issuer and whose key signed it, asks every OCSP
 *   responder it has (the AIA one and the issuer's ocsp_url) and every
 *   CRL (the CRL DP and the issuer's crl_url), and stores good, revoked
 *   (time, reason) or unknown (why) per mechanism ("none" when it has no
 *   such mechanism). With several URLs of one mechanism the least proven
 *   answer is kept: good over unknown over revoked. CRLs come from an
 *   in-memory cache (core/crlcache) kept until nextUpdate, refetched by
 *   a conditional GET every recheck while the case is watched.
 *   Published (core/revpublish): at least one mechanism, all revoked; the
 *   database then stops the case's clock when every unexpired
 *   certificate is published. It pages tier 1, once each, for a
 *   certificate with no mechanism and for a claim (cprctl revoked) not
 *   seen published within [inventory] publish_grace.
 * DIAGNOSTICS
 *   A line per state change of a certificate and per page; revwatch_new
 *   fails naming an [issuer] whose cert cannot be read.
 */
#ifndef CPR_REVWATCH_H
#define CPR_REVWATCH_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "config.h"
#include "sweep.h"

#define REVWATCH_ISSUERS_MAX   64
#define REVWATCH_CACHE_BYTES   (256LL * 1024 * 1024)   /* all cached CRLs */
#define REVWATCH_CLAIMS_MAX    20                      /* late claims per round */
#define REVWATCH_ALERTS_MAX    16                      /* pages per round */
#define REVWATCH_CLAIM_CHUNK   1                       /* certificates per lease */
/* A round starts no new check after this long, so the pages waiting
 * behind it in the sweeper's loop are held at most this plus one check
 * (four fetches, each REVCHECK_TIMEOUT_MS at most). */
#define REVWATCH_ROUND_MS      2000

struct revwatch;

struct revwatch *revwatch_new(const struct cpr_config *cfg, char **err);
void revwatch_free(struct revwatch *rw);
long long revwatch_round(struct revwatch *rw, struct sweeper *s, bool *ok);

/* For the revocation clock's warnings and breach: appends "; not yet
 * published: OCSP says good for 2 of 3 certificates (...)" to buf when
 * the case has unpublished certificates; nothing otherwise or on error. */
void revwatch_pending_text(PGconn *conn, long long case_id, char *buf, size_t len);

#endif

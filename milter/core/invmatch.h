/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   invmatch - what to ask the inventory for a report's evidence, and the answer
 * SUMMARY
 *   n = invmatch_asks(&ev, asks, INVMATCH_MAX_ASKS);
 *   invmatch_add(&res, &asks[i], &cert, source);  ... invmatch_done(&res, &asks[i]);
 *   json = invmatch_json(&res, ms);
 * DESCRIPTION
 *   Pure rules, no I/O:
 *     * a certificate: itself (by SHA-256) and its twin of the same issuer
 *       and serial (the precertificate, or the certificate of a reported
 *       precertificate);
 *     * a serial: every certificate with it; a fingerprint: that one;
 *     * a private key, or a CSR/PoCK/pwnedkeys proof whose signature
 *       verifies: every certificate with that SPKI, of every Subscriber,
 *       expired or not. A proof that does not verify asks nothing.
 *   The result holds each certificate once (the first ask and source that
 *   found it), what asked and found nothing ("serial 04:3a:..."), and
 *   the rows refused, then becomes the JSON cpr.lookup_done() takes.
 * DIAGNOSTICS
 *   invmatch_add returns false when max_certs or INVMATCH_MAX_DER_TOTAL is
 *   reached (said in "refused").
 */
#ifndef CPR_INVMATCH_H
#define CPR_INVMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "invcert.h"

#define INVMATCH_MAX_ASKS   512   /* two per evidence item, 256 items */
#define INVMATCH_PARAM_LEN  1200  /* JSON of an issuer and serial */
#define INVMATCH_WHAT_LEN   160
#define INVMATCH_MAX_REFUSED 20   /* refusal reasons kept (all are counted) */
#define INVMATCH_MAX_DER_TOTAL (32 * 1024 * 1024)  /* DER bytes one lookup carries */

/* One evidence item, as cpr.lookup_evidence gives it. */
struct inv_evidence {
    long long id;
    const char *kind;          /* certificate, serial, fingerprint, private-key, csr */
    const char *sha256, *spki_sha256, *serial, *issuer, *value, *proof;
    bool verified_key;
};

struct inv_ask {
    enum inv_query q;
    char param[INVMATCH_PARAM_LEN];    /* what the query's $1 gets */
    char key[INVCERT_SERIAL_LEN];      /* the serial, sha256 or SPKI compared */
    char issuer[INVCERT_NAME_LEN];     /* INV_BY_ISSUER_SERIAL */
    char found_kind[16];               /* cpr.affected.found_kind */
    char found_value[INVMATCH_WHAT_LEN];
    char what[INVMATCH_WHAT_LEN];      /* "serial 04:3a:..." when nothing is found */
    long long evidence_id;
    int group;                         /* asks of one item share a group */
    size_t hits;
};

struct inv_found {
    struct inv_cert cert;
    const struct inv_ask *ask;
    char source[INVCERT_SOURCE_LEN];
};

struct inv_result {
    struct inv_found *found;
    size_t n, cap, max_certs;
    size_t der_total;          /* bytes of DER taken so far */
    json_t *refused;           /* array of reasons */
    size_t nrefused;
    json_t *sources;           /* array of source names asked */
};

size_t invmatch_asks(const struct inv_evidence *ev, size_t nev, struct inv_ask *out, size_t max);

void invmatch_init(struct inv_result *r, size_t max_certs);
/* Take cert (moved: the caller's copy is cleared) if it answers ask and is new. */
bool invmatch_add(struct inv_result *r, struct inv_ask *ask, struct inv_cert *cert,
                  const char *source);
void invmatch_refuse(struct inv_result *r, const char *source, const char *why);
void invmatch_source(struct inv_result *r, const char *source);
/* {"found": [...], "missing": [...], "refused": [...], "sources": [...], "ms": ms} */
json_t *invmatch_json(const struct inv_result *r, const struct inv_ask *asks, size_t nasks,
                      long long ms);
void invmatch_free(struct inv_result *r);

/* "04:3a:9f:..." : a serial as staff read it, cut after 8 bytes. */
void invmatch_serial_text(const char *hex, char *out, size_t len);

#endif

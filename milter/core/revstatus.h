/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revstatus - what a CRL or an OCSP response says of one certificate
 * SUMMARY
 *   X509 *c = revstatus_cert_parse(buf, len);       PEM or DER
 *   char *url = revstatus_ocsp_url(c);  url = revstatus_crl_url(c);
 *   revstatus_crl_check(crl, c, issuer, now, &st);
 *   req = revstatus_ocsp_request(c, issuer, &id);  (DER: i2d_OCSP_REQUEST)
 *   revstatus_ocsp_check(der, len, req, id, issuer, now, &st);
 * DESCRIPTION
 *   The pure half of proving a revocation published (issue 16): parsing,
 *   building the OCSP request (SHA-1 CertID per RFC 5019, a nonce) and
 *   judging an answer, with `now` (Unix seconds) passed in. Fetching is
 *   io/revcheck's job. A CRL counts only when its issuer name is the
 *   issuer's subject, its signature verifies with the issuer's key and
 *   now lies in thisUpdate..nextUpdate (REVSTATUS_SKEW_S either side).
 *   An OCSP response counts only when OCSP_basic_verify() accepts it with
 *   the issuer as the one trust anchor (the issuer itself signed, or a
 *   responder certificate the issuer issued with id-kp-OCSPSigning), its
 *   nonce, if it carries one, is ours, and it is fresh the same way.
 *   Without nextUpdate, thisUpdate may be at most REVSTATUS_MAX_AGE_S old.
 *   A response without a nonce is accepted (RFC 5019 responders serve
 *   pre-signed answers); freshness then bounds a replay.
 * DIAGNOSTICS
 *   A verdict is GOOD, REVOKED (time, RFC 5280 reason code) or UNKNOWN
 *   with a one-line reason in why: "bad signature", "wrong issuer",
 *   "stale", "malformed", "nonce mismatch" and the like. Input never
 *   reaches why unsanitised.
 */
#ifndef CPR_REVSTATUS_H
#define CPR_REVSTATUS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#define REVSTATUS_WHY_MAX   256
#define REVSTATUS_URL_MAX   2048          /* bytes of a URL we use */
#define REVSTATUS_SKEW_S    (5 * 60)      /* clock skew allowed */
#define REVSTATUS_MAX_AGE_S (10 * 86400)  /* BR 4.9.10: OCSP valid <= 10 days */
#define REVSTATUS_NONCE_LEN 16

enum revstatus_state { REVSTATUS_UNKNOWN = 0, REVSTATUS_GOOD, REVSTATUS_REVOKED };

struct revstatus {
    enum revstatus_state state;
    long long revoked_at;        /* REVOKED: Unix seconds */
    int reason;                  /* REVOKED: RFC 5280 CRLReason, -1 none */
    long long this_update;       /* Unix seconds, 0 unknown */
    long long next_update;       /* Unix seconds, 0 none */
    bool nonce;                  /* OCSP: the response echoed our nonce */
    char why[REVSTATUS_WHY_MAX]; /* UNKNOWN: why */
};

/* "good", "revoked", "unknown". */
const char *revstatus_state_name(enum revstatus_state s);
/* RFC 5280 reason names ("keyCompromise"); "unspecified" for -1; NULL
 * for a code that is none of them. */
const char *revstatus_reason_name(int code);
/* Marks st UNKNOWN with a reason (printf); returns false for chaining. */
bool revstatus_unknown(struct revstatus *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One certificate or CRL, PEM (the first block) or DER; NULL if neither. */
X509 *revstatus_cert_parse(const unsigned char *buf, size_t len);
X509_CRL *revstatus_crl_parse(const unsigned char *buf, size_t len);

/* http:// or https://, printable ASCII without spaces, bounded. */
bool revstatus_url_ok(const char *url);
/* The first usable OCSP responder (AIA) or CRL DP URI, malloc'd; NULL
 * if the certificate advertises none. */
char *revstatus_ocsp_url(X509 *cert);
char *revstatus_crl_url(X509 *cert);

/* "2026-12-04T23:30:00Z" or Unix seconds; false if neither. */
bool revstatus_time_parse(const char *s, long long *out);
/* The same form, for printing; buf of at least 21 bytes. */
void revstatus_time_format(long long t, char *buf, size_t size);

/* issuer's subject is cert's issuer and its key signed cert. */
bool revstatus_issued_by(X509 *cert, X509 *issuer, struct revstatus *st);
/* thisUpdate <= now and now <= nextUpdate (or thisUpdate + MAX_AGE). */
bool revstatus_fresh(long long this_update, long long next_update, long long now,
                     struct revstatus *st);

void revstatus_crl_check(X509_CRL *crl, X509 *cert, X509 *issuer, long long now,
                         struct revstatus *st);

/* The request (with a fresh nonce) and its CertID (owned by the caller;
 * the request holds a copy). NULL on failure. */
OCSP_REQUEST *revstatus_ocsp_request(X509 *cert, X509 *issuer, OCSP_CERTID **id);
void revstatus_ocsp_check(const unsigned char *der, size_t len, OCSP_REQUEST *req,
                          OCSP_CERTID *id, X509 *issuer, long long now,
                          struct revstatus *st);

#endif

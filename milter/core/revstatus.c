/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revstatus - what a CRL or an OCSP response says of one certificate
 * DESCRIPTION
 *   See revstatus.h. Parsing, URL extraction, the OCSP request and the
 *   judgement of CRLs and OCSP responses, all with the clock passed in;
 *   no network here (io/revcheck fetches). Every check that fails says
 *   why in st->why and leaves st UNKNOWN: a verdict is GOOD or REVOKED
 *   only after every check has passed.
 * DIAGNOSTICS
 *   None logged; the reasons are in struct revstatus.
 */
#include "revstatus.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* ---- names and verdicts ---------------------------------------------- */

const char *
revstatus_state_name(enum revstatus_state s)
{
    return s == REVSTATUS_GOOD ? "good" : s == REVSTATUS_REVOKED ? "revoked" : "unknown";
}

const char *
revstatus_reason_name(int code)
{
    /* RFC 5280 5.3.1; 7 is unused. */
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
        "superseded", "cessationOfOperation", "certificateHold", NULL,
        "removeFromCRL", "privilegeWithdrawn", "aACompromise" };

    if (code == -1)
        return "unspecified";
    if (code < 0 || (size_t) code >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[code];
}

bool
revstatus_unknown(struct revstatus *st, const char *fmt, ...)
{
    va_list ap;

    st->state = REVSTATUS_UNKNOWN;
    va_start(ap, fmt);
    vsnprintf(st->why, sizeof(st->why), fmt, ap);
    va_end(ap);
    return false;
}

/* OpenSSL's first queued error as text (fixed library strings), and clear. */
static const char *
ssl_err(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, size, "no detail");
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* ---- parsing ---------------------------------------------------------- */

static bool
looks_pem(const unsigned char *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";

    for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
        if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
            return true;
    return false;
}

X509 *
revstatus_cert_parse(const unsigned char *buf, size_t len)
{
    const unsigned char *p = buf;
    X509 *x = NULL;

    if (!buf || len == 0 || len > INT_MAX)
        return NULL;
    if (looks_pem(buf, len)) {
        BIO *b = BIO_new_mem_buf(buf, (int) len);

        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else if ((x = d2i_X509(NULL, &p, (long) len)) && p != buf + len) {
        X509_free(x);   /* trailing bytes: not one DER certificate */
        x = NULL;
    }
    ERR_clear_error();
    return x;
}

X509_CRL *
revstatus_crl_parse(const unsigned char *buf, size_t len)
{
    const unsigned char *p = buf;
    X509_CRL *c = NULL;

    if (!buf || len == 0 || len > INT_MAX)
        return NULL;
    if (looks_pem(buf, len)) {
        BIO *b = BIO_new_mem_buf(buf, (int) len);

        c = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else if ((c = d2i_X509_CRL(NULL, &p, (long) len)) && p != buf + len) {
        X509_CRL_free(c);
        c = NULL;
    }
    ERR_clear_error();
    return c;
}

/* ---- URLs ------------------------------------------------------------- */

bool
revstatus_url_ok(const char *url)
{
    size_t n;

    if (!url || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
        return false;
    n = strlen(url);
    if (n > REVSTATUS_URL_MAX || n <= 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (url[i] <= ' ' || url[i] > '~')
            return false;
    return true;
}

/* An IA5String URI as a usable URL (malloc'd), or NULL. */
static char *
uri_dup(const ASN1_STRING *s)
{
    int n = ASN1_STRING_length(s);
    const unsigned char *d = ASN1_STRING_get0_data(s);
    char *u;

    if (n <= 0 || n > REVSTATUS_URL_MAX || memchr(d, '\0', (size_t) n))
        return NULL;
    if (!(u = malloc((size_t) n + 1)))
        return NULL;
    memcpy(u, d, (size_t) n);
    u[n] = '\0';
    if (!revstatus_url_ok(u)) {
        free(u);
        return NULL;
    }
    return u;
}

char *
revstatus_ocsp_url(X509 *cert)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
    char *url = NULL;

    for (int i = 0; aia && !url && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

        if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI)
            url = uri_dup(ad->location->d.uniformResourceIdentifier);
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    ERR_clear_error();
    return url;
}

static char *
dp_url(const DIST_POINT *dp)
{
    char *url = NULL;

    if (!dp->distpoint || dp->distpoint->type != 0)
        return NULL;   /* a relative name: not a URL */
    for (int k = 0; !url && k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);

        if (gn->type == GEN_URI)
            url = uri_dup(gn->d.uniformResourceIdentifier);
    }
    return url;
}

char *
revstatus_crl_url(X509 *cert)
{
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    char *url = NULL;

    for (int i = 0; dps && !url && i < sk_DIST_POINT_num(dps); i++)
        url = dp_url(sk_DIST_POINT_value(dps, i));
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return url;
}

/* ---- time ------------------------------------------------------------- */

bool
revstatus_time_parse(const char *s, long long *out)
{
    struct tm tm;
    char tail;
    long long v;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail) == 6) {
        if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1
            || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
            return false;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *out = (long long) timegm(&tm);
        return true;
    }
    if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
        return false;
    v = strtoll(s, NULL, 10);
    *out = v;
    return true;
}

void
revstatus_time_format(long long t, char *buf, size_t size)
{
    time_t tt = (time_t) t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "-");
}

/* An ASN.1 time as Unix seconds; 0 if absent or unreadable. */
static long long
asn1_secs(const ASN1_TIME *t)
{
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (long long) timegm(&tm);
}

bool
revstatus_fresh(long long this_update, long long next_update, long long now,
                struct revstatus *st)
{
    char a[32], b[32];

    st->this_update = this_update;
    st->next_update = next_update;
    if (this_update == 0)
        return revstatus_unknown(st, "malformed: no readable thisUpdate");
    revstatus_time_format(this_update, a, sizeof(a));
    if (this_update > now + REVSTATUS_SKEW_S)
        return revstatus_unknown(st, "not yet valid: thisUpdate %s is in the future", a);
    if (next_update != 0 && next_update < this_update)
        return revstatus_unknown(st, "malformed: nextUpdate before thisUpdate");
    if (next_update != 0 && now > next_update + REVSTATUS_SKEW_S) {
        revstatus_time_format(next_update, b, sizeof(b));
        return revstatus_unknown(st, "stale: nextUpdate %s has passed", b);
    }
    if (next_update == 0 && now > this_update + REVSTATUS_MAX_AGE_S)
        return revstatus_unknown(st, "stale: no nextUpdate and thisUpdate %s is over %d days old",
                                 a, REVSTATUS_MAX_AGE_S / 86400);
    return true;
}

/* ---- the issuer ------------------------------------------------------- */

bool
revstatus_issued_by(X509 *cert, X509 *issuer, struct revstatus *st)
{
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    bool ok;

    if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0)
        return revstatus_unknown(st, "wrong issuer: the issuer given is not the one named in the certificate");
    ok = key && X509_verify(cert, key) == 1;
    ERR_clear_error();
    if (!ok)
        return revstatus_unknown(st, "wrong issuer: the issuer's key did not sign the certificate");
    return true;
}

/* ---- CRL -------------------------------------------------------------- */

static void
crl_lookup(X509_CRL *crl, X509 *cert, struct revstatus *st)
{
    X509_REVOKED *rev = NULL;
    ASN1_ENUMERATED *e;
    int found = X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert));

    /* 2: listed with removeFromCRL (a delta CRL's un-hold): not revoked. */
    if (found != 1 || !rev) {
        st->state = REVSTATUS_GOOD;
        return;
    }
    st->state = REVSTATUS_REVOKED;
    st->revoked_at = asn1_secs(X509_REVOKED_get0_revocationDate(rev));
    st->reason = -1;
    if ((e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL))) {
        long r = ASN1_ENUMERATED_get(e);

        st->reason = revstatus_reason_name((int) r) ? (int) r : -1;
        ASN1_ENUMERATED_free(e);
    }
    ERR_clear_error();
}

void
revstatus_crl_check(X509_CRL *crl, X509 *cert, X509 *issuer, long long now,
                    struct revstatus *st)
{
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    char e[160];

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        revstatus_unknown(st, "wrong issuer: the CRL's issuer is not the certificate's issuer");
        return;
    }
    if (!key || X509_CRL_verify(crl, key) != 1) {
        revstatus_unknown(st, "bad signature: the CRL does not verify with the issuer's key (%s)",
                          ssl_err(e, sizeof(e)));
        return;
    }
    if (!revstatus_fresh(asn1_secs(X509_CRL_get0_lastUpdate(crl)),
                         asn1_secs(X509_CRL_get0_nextUpdate(crl)), now, st))
        return;
    if (X509_CRL_get0_nextUpdate(crl) == NULL) {
        revstatus_unknown(st, "malformed: the CRL has no nextUpdate (RFC 5280 5.1.2.5)");
        return;
    }
    crl_lookup(crl, cert, st);
}

/* ---- OCSP ------------------------------------------------------------- */

OCSP_REQUEST *
revstatus_ocsp_request(X509 *cert, X509 *issuer, OCSP_CERTID **id)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *cid = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
    OCSP_CERTID *copy = cid ? OCSP_CERTID_dup(cid) : NULL;

    /* OCSP_request_add0_id takes copy; the nonce is random, 16 bytes. */
    if (!req || !copy || !OCSP_request_add0_id(req, copy)) {
        OCSP_CERTID_free(copy);
        goto fail;
    }
    if (OCSP_request_add1_nonce(req, NULL, REVSTATUS_NONCE_LEN) != 1)
        goto fail;
    *id = cid;
    return req;
fail:
    OCSP_CERTID_free(cid);
    OCSP_REQUEST_free(req);
    ERR_clear_error();
    return NULL;
}

/* A store whose one anchor is the issuer, at time now. */
static X509_STORE *
issuer_store(X509 *issuer, long long now)
{
    X509_STORE *s = X509_STORE_new();

    if (!s || X509_STORE_add_cert(s, issuer) != 1) {
        X509_STORE_free(s);
        return NULL;
    }
    /* PARTIAL_CHAIN: the issuer is trusted though it is not self-signed;
     * the root above it plays no part in who may speak for it. */
    X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(s), (time_t) now);
    return s;
}

/* OCSP_basic_verify with the issuer as the only anchor and no shortcuts
 * (no OCSP_TRUSTOTHER, OCSP_NOVERIFY or OCSP_NOCHECKS). */
static bool
ocsp_verify(OCSP_BASICRESP *bs, X509 *issuer, long long now, struct revstatus *st)
{
    X509_STORE *store = issuer_store(issuer, now);
    STACK_OF(X509) *certs = sk_X509_new_null();
    char e[160];
    int ok = 0;

    if (store && certs && sk_X509_push(certs, issuer))
        ok = OCSP_basic_verify(bs, certs, store, 0);
    sk_X509_free(certs);
    X509_STORE_free(store);
    if (ok != 1)
        return revstatus_unknown(st, "bad signature: the response is signed neither by the issuer "
                                 "nor by a responder it authorised (%s)", ssl_err(e, sizeof(e)));
    return true;
}

static bool
ocsp_nonce(OCSP_REQUEST *req, OCSP_BASICRESP *bs, struct revstatus *st)
{
    int n = OCSP_check_nonce(req, bs);

    if (n == 0)
        return revstatus_unknown(st, "nonce mismatch: the response answers another request");
    st->nonce = n == 1;
    return true;
}

static void
ocsp_single(OCSP_BASICRESP *bs, OCSP_CERTID *id, long long now, struct revstatus *st)
{
    int status, reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

    if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1) {
        revstatus_unknown(st, "malformed: the response does not cover this certificate");
        return;
    }
    if (!revstatus_fresh(asn1_secs(thisupd), asn1_secs(nextupd), now, st))
        return;
    if (status == V_OCSP_CERTSTATUS_GOOD)
        st->state = REVSTATUS_GOOD;
    else if (status == V_OCSP_CERTSTATUS_REVOKED) {
        st->state = REVSTATUS_REVOKED;
        st->revoked_at = asn1_secs(rev);
        st->reason = revstatus_reason_name(reason) ? reason : -1;
    } else
        revstatus_unknown(st, "responder says unknown: it does not know this certificate");
}

void
revstatus_ocsp_check(const unsigned char *der, size_t len, OCSP_REQUEST *req,
                     OCSP_CERTID *id, X509 *issuer, long long now, struct revstatus *st)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = len <= INT_MAX ? d2i_OCSP_RESPONSE(NULL, &p, (long) len) : NULL;
    OCSP_BASICRESP *bs = NULL;
    int rs;

    ERR_clear_error();
    if (!resp) {
        revstatus_unknown(st, "malformed: not a DER OCSP response");
        return;
    }
    if ((rs = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        revstatus_unknown(st, "responder refused: %s", OCSP_response_status_str(rs));
    else if (!(bs = OCSP_response_get1_basic(resp)))
        revstatus_unknown(st, "malformed: no basic OCSP response");
    else if (ocsp_nonce(req, bs, st) && ocsp_verify(bs, issuer, now, st))
        ocsp_single(bs, id, now, st);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
}

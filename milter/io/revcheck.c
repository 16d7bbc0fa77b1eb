/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   revcheck - fetch a certificate's CRL and OCSP answer and judge them
 * DESCRIPTION
 *   See revcheck.h. One bounded HTTP exchange (struct fetch) per check;
 *   the bytes go to revstatus (core/), which owns every judgement.
 * DIAGNOSTICS
 *   Reasons in struct revstatus; nothing logged.
 */
#include "revcheck.h"
#include "now.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct fetch {
    unsigned char *buf;
    size_t len, max;
    bool over;
};

/* Keeps at most max bytes; one more stops the transfer (CURLE_WRITE_ERROR). */
static size_t
fetch_write(char *data, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t k = size * n;
    unsigned char *nb;

    if (k > f->max - f->len) {
        f->over = true;
        return 0;
    }
    if (!(nb = realloc(f->buf, f->len + k + 1)))
        return 0;
    f->buf = nb;
    memcpy(f->buf + f->len, data, k);
    f->len += k;
    return k;
}

static void
fetch_setup(CURL *c, const char *url, const struct revcheck_limits *lim, struct fetch *f,
            char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, lim->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, lim->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) f->max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cpr-milter-revcheck");
}

/* GET (body NULL) or POST url into f; false with st UNKNOWN on failure. */
static bool
fetch_run(const char *url, const unsigned char *body, size_t body_len, const char *what,
          const struct revcheck_limits *lim, struct fetch *f, struct revstatus *st)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    CURLcode rc;
    long code = 0;

    if (!c)
        return revstatus_unknown(st, "unreachable: cannot start libcurl");
    fetch_setup(c, url, lim, f, errbuf);
    if (body) {
        h = curl_slist_append(NULL, "Content-Type: application/ocsp-request");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *) body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) body_len);
    }
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (f->over || rc == CURLE_FILESIZE_EXCEEDED)
        return revstatus_unknown(st, "oversized: %s larger than %zu bytes", what, f->max);
    if (rc != CURLE_OK)
        return revstatus_unknown(st, "unreachable: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (code != 200)
        return revstatus_unknown(st, "HTTP status %ld from the %s URL", code, what);
    if (f->len == 0)
        return revstatus_unknown(st, "malformed: an empty %s", what);
    return true;
}

static void
revcheck_init(struct revstatus *st)
{
    memset(st, 0, sizeof(*st));
    st->reason = -1;
}

static void
ocsp_fetch_check(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                 long long now, struct revstatus *st)
{
    struct fetch f = { NULL, 0, lim->ocsp_max, false };
    OCSP_CERTID *id = NULL;
    OCSP_REQUEST *req = revstatus_ocsp_request(cert, issuer, &id);
    unsigned char *der = NULL;
    int n = req ? i2d_OCSP_REQUEST(req, &der) : -1;

    if (n <= 0)
        revstatus_unknown(st, "malformed: cannot build the OCSP request");
    else if (fetch_run(url, der, (size_t) n, "OCSP response", lim, &f, st))
        revstatus_ocsp_check(f.buf, f.len, req, id, issuer, now, st);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(id);
    free(f.buf);
}

void
revcheck_ocsp(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
              long long now, struct revstatus *st, long long *ms)
{
    long long t0 = now_mono_ms();

    revcheck_init(st);
    if (!revstatus_url_ok(url))
        revstatus_unknown(st, "malformed: the OCSP URL is not http:// or https://");
    else if (revstatus_issued_by(cert, issuer, st))
        ocsp_fetch_check(cert, issuer, url, lim, now, st);
    *ms = now_mono_ms() - t0;
}

static void
crl_fetch_check(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
                long long now, struct revstatus *st)
{
    struct fetch f = { NULL, 0, lim->crl_max, false };
    X509_CRL *crl = NULL;

    if (fetch_run(url, NULL, 0, "CRL", lim, &f, st)) {
        if (!(crl = revstatus_crl_parse(f.buf, f.len)))
            revstatus_unknown(st, "malformed: not a CRL in DER or PEM");
        else
            revstatus_crl_check(crl, cert, issuer, now, st);
    }
    X509_CRL_free(crl);
    free(f.buf);
}

void
revcheck_crl(X509 *cert, X509 *issuer, const char *url, const struct revcheck_limits *lim,
             long long now, struct revstatus *st, long long *ms)
{
    long long t0 = now_mono_ms();

    revcheck_init(st);
    if (!revstatus_url_ok(url))
        revstatus_unknown(st, "malformed: the CRL URL is not http:// or https://");
    else if (revstatus_issued_by(cert, issuer, st))
        crl_fetch_check(cert, issuer, url, lim, now, st);
    *ms = now_mono_ms() - t0;
}

/* ---- conditional CRL GET ---------------------------------------------- */

/* A validator fit to send back: printable ASCII, bounded; else "". */
static void
validator_copy(char *dst, const char *src, size_t n)
{
    size_t i;

    dst[0] = '\0';
    if (n > REVCHECK_VALIDATOR_MAX)
        return;
    for (i = 0; i < n; i++)
        if (src[i] < ' ' || src[i] > '~')
            return;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Picks ETag and Last-Modified out of the response headers. */
static size_t
header_seen(char *data, size_t size, size_t n, void *arg)
{
    struct revcheck_crl_get *out = arg;
    size_t k = size * n, v;
    static const char et[] = "etag:", lm[] = "last-modified:";
    char *dst = NULL;
    const char *p = data;

    if (k > sizeof(et) - 1 && strncasecmp(data, et, sizeof(et) - 1) == 0) {
        dst = out->etag;
        p += sizeof(et) - 1;
    } else if (k > sizeof(lm) - 1 && strncasecmp(data, lm, sizeof(lm) - 1) == 0) {
        dst = out->last_modified;
        p += sizeof(lm) - 1;
    }
    if (!dst)
        return k;
    while (p < data + k && (*p == ' ' || *p == '\t'))
        p++;
    v = (size_t) (data + k - p);
    while (v > 0 && (p[v - 1] == '\r' || p[v - 1] == '\n' || p[v - 1] == ' '))
        v--;
    validator_copy(dst, p, v);
    return k;
}

/* The If-* request headers (each checked again: they came from a server). */
static struct curl_slist *
cond_headers(const char *etag, const char *last_modified)
{
    char v[REVCHECK_VALIDATOR_MAX + 1], line[REVCHECK_VALIDATOR_MAX + 32];
    struct curl_slist *h = NULL;

    if (etag && etag[0]) {
        validator_copy(v, etag, strlen(etag));
        if (v[0] && snprintf(line, sizeof(line), "If-None-Match: %s", v) > 0)
            h = curl_slist_append(h, line);
    }
    if (last_modified && last_modified[0]) {
        validator_copy(v, last_modified, strlen(last_modified));
        if (v[0] && snprintf(line, sizeof(line), "If-Modified-Since: %s", v) > 0)
            h = curl_slist_append(h, line);
    }
    return h;
}

void
revcheck_crl_get(const char *url, const struct revcheck_limits *lim, const char *etag,
                 const char *last_modified, struct revcheck_crl_get *out, struct revstatus *st)
{
    struct fetch f = { NULL, 0, lim->crl_max, false };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    CURL *c;
    CURLcode rc;
    long code = 0;

    memset(out, 0, sizeof(*out));
    revcheck_init(st);
    if (!revstatus_url_ok(url)) {
        revstatus_unknown(st, "malformed: the CRL URL is not http:// or https://");
        return;
    }
    if (!(c = curl_easy_init())) {
        revstatus_unknown(st, "unreachable: cannot start libcurl");
        return;
    }
    fetch_setup(c, url, lim, &f, errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_seen);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    if ((h = cond_headers(etag, last_modified)))
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (f.over || rc == CURLE_FILESIZE_EXCEEDED)
        revstatus_unknown(st, "oversized: CRL larger than %zu bytes", f.max);
    else if (rc != CURLE_OK)
        revstatus_unknown(st, "unreachable: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else if (code == 304)
        out->status = 304;
    else if (code != 200)
        revstatus_unknown(st, "HTTP status %ld from the CRL URL", code);
    else if (f.len == 0)
        revstatus_unknown(st, "malformed: an empty CRL");
    else {
        out->status = 200;
        out->body = f.buf;
        out->len = f.len;
        f.buf = NULL;
    }
    free(f.buf);
}

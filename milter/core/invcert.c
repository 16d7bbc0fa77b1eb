/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   invcert - one certificate of the CA's inventory, parsed and checked
 * DESCRIPTION
 *   See invcert.h. The fields come from evidence_scan_der(), so a report's
 *   certificate and the inventory's copy of it print alike.
 * DIAGNOSTICS
 *   None logged; OpenSSL errors are cleared.
 */
#include "invcert.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <glib.h>

#include "evidence.h"

bool
invcert_serial_norm(const char *in, char *out, size_t len)
{
    size_t o = 0, digits = 0;
    bool lead = true;

    if (!in || len < 2)
        return false;
    for (const char *p = in; *p; p++) {
        if (*p == ':' || *p == ' ')
            continue;
        if (!isxdigit((unsigned char)*p))
            return false;
        digits++;
        if (lead && *p == '0')
            continue;
        lead = false;
        if (o + 1 >= len)
            return false;
        out[o++] = (char)tolower((unsigned char)*p);
    }
    if (digits == 0)
        return false;
    if (o == 0)
        out[o++] = '0';
    out[o] = '\0';
    return true;
}

bool
invcert_hex256(const char *in, char *out)
{
    size_t i;

    for (i = 0; in && in[i] && i < 64; i++) {
        if (!isxdigit((unsigned char)in[i]))
            return false;
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    if (i != 64 || in[64] != '\0')
        return false;
    out[64] = '\0';
    return true;
}

static bool
fail(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    ERR_clear_error();
    return false;
}

static bool
der_precert(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    bool poison = x && X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) >= 0;

    X509_free(x);
    return poison;
}

/* The one certificate item of an evidence scan of der, or NULL. */
static const struct evidence_item *
only_cert(const struct evidence_list *ev)
{
    if (ev->n != 1 || ev->items[0].kind != EVIDENCE_CERT || !ev->items[0].sha256[0])
        return NULL;
    return &ev->items[0];
}

static bool
fill_from_item(const struct evidence_item *it, struct inv_cert *c)
{
    snprintf(c->sha256, sizeof(c->sha256), "%s", it->sha256);
    snprintf(c->spki_sha256, sizeof(c->spki_sha256), "%s", it->spki_sha256);
    snprintf(c->issuer, sizeof(c->issuer), "%s", it->issuer);
    snprintf(c->subject, sizeof(c->subject), "%s", it->subject);
    snprintf(c->sans, sizeof(c->sans), "%s", it->sans);
    snprintf(c->not_before, sizeof(c->not_before), "%s", it->not_before);
    snprintf(c->not_after, sizeof(c->not_after), "%s", it->not_after);
    return invcert_serial_norm(it->serial, c->serial, sizeof(c->serial)) && c->issuer[0];
}

bool
invcert_from_der(const unsigned char *der, size_t len, size_t max_der,
                 struct inv_cert *c, char *why, size_t whylen)
{
    struct evidence_list ev;
    const struct evidence_item *it;
    bool ok;

    memset(c, 0, sizeof(*c));
    if (!der || len == 0)
        return fail(why, whylen, "empty certificate");
    if (len > max_der || len > INVCERT_MAX_DER)
        return fail(why, whylen, "certificate larger than the bound");
    evidence_list_init(&ev);
    ok = evidence_scan_der(der, len, &ev) && (it = only_cert(&ev)) != NULL
         && fill_from_item(it, c);
    evidence_list_free(&ev);
    if (!ok)
        return fail(why, whylen, "not a certificate (bad DER)");
    c->precert = der_precert(der, len);
    if (!(c->der = malloc(len)))
        return fail(why, whylen, "out of memory");
    memcpy(c->der, der, len);
    c->der_len = len;
    ERR_clear_error();
    return true;
}

static bool
text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n >= max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool
time_ok(const char *s)
{
    return !s || !*s || (strlen(s) < INVCERT_TIME_LEN && strlen(s) >= 10
                         && isdigit((unsigned char)s[0]) && text_ok(s, INVCERT_TIME_LEN));
}

bool
invcert_from_fields(const char *sha256, const char *serial, const char *issuer,
                    const char *subject, const char *sans, const char *spki_sha256,
                    const char *not_before, const char *not_after, bool precert,
                    struct inv_cert *c, char *why, size_t whylen)
{
    memset(c, 0, sizeof(*c));
    if (!sha256 || !invcert_hex256(sha256, c->sha256))
        return fail(why, whylen, "row without a well-formed sha256");
    if (!serial || !invcert_serial_norm(serial, c->serial, sizeof(c->serial)))
        return fail(why, whylen, "row without a well-formed serial");
    if (!issuer || !*issuer || !text_ok(issuer, sizeof(c->issuer)))
        return fail(why, whylen, "row without a well-formed issuer");
    if (!text_ok(subject, sizeof(c->subject)) || !text_ok(sans, sizeof(c->sans)))
        return fail(why, whylen, "row with an oversized or control-character subject or SANs");
    if (spki_sha256 && *spki_sha256 && !invcert_hex256(spki_sha256, c->spki_sha256))
        return fail(why, whylen, "row with a malformed spki_sha256");
    if (!time_ok(not_before) || !time_ok(not_after))
        return fail(why, whylen, "row with a malformed not_before or not_after");
    snprintf(c->issuer, sizeof(c->issuer), "%s", issuer);
    snprintf(c->subject, sizeof(c->subject), "%s", subject ? subject : "");
    snprintf(c->sans, sizeof(c->sans), "%s", sans ? sans : "");
    snprintf(c->not_before, sizeof(c->not_before), "%s", not_before ? not_before : "");
    snprintf(c->not_after, sizeof(c->not_after), "%s", not_after ? not_after : "");
    c->precert = precert;
    return true;
}

bool
invcert_set_contact(struct inv_cert *c, const char *contact)
{
    const char *at;

    c->contact[0] = '\0';
    if (!contact || !*contact)
        return true;
    at = strchr(contact, '@');
    if (strlen(contact) >= sizeof(c->contact) || !at || at == contact || !at[1]
        || strchr(at + 1, '@'))
        return false;
    for (const char *p = contact; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("<>,;\"\\", *p))
            return false;
    snprintf(c->contact, sizeof(c->contact), "%s", contact);
    return true;
}

/* One PEM block: its DER to fn, or NULL when it does not parse. */
static bool
pem_block(const char *p, size_t n, invcert_der_fn fn, void *arg)
{
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    bool go = len > 0 ? fn(der, (size_t)len, arg) : fn(NULL, 0, arg);

    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return go;
}

long
invcert_pem_each(const char *text, size_t len, size_t max, invcert_der_fn fn, void *arg)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    const char *p = text, *stop = text + len, *b, *e;
    long seen = 0;

    if (!text || len > (size_t)INT32_MAX)
        return 0;
    while ((size_t)seen < max && p < stop
           && (b = g_strstr_len(p, stop - p, begin)) != NULL) {
        e = g_strstr_len(b, stop - b, end);
        e = e ? e + sizeof(end) - 1 : stop;
        seen++;
        if (!pem_block(b, (size_t)(e - b), fn, arg))
            return -1;
        p = e;
    }
    return seen;
}

bool
invcert_matches(const struct inv_cert *c, enum inv_query q, const char *param,
                const char *issuer)
{
    switch (q) {
    case INV_BY_SERIAL:
        return strcmp(c->serial, param) == 0;
    case INV_BY_SHA256:
        return strcmp(c->sha256, param) == 0;
    case INV_BY_SPKI:
        return c->spki_sha256[0] && strcmp(c->spki_sha256, param) == 0;
    case INV_BY_ISSUER_SERIAL:
        return strcmp(c->serial, param) == 0 && issuer && strcmp(c->issuer, issuer) == 0;
    }
    return false;
}

void
invcert_clear(struct inv_cert *c)
{
    free(c->der);
    c->der = NULL;
    c->der_len = 0;
}

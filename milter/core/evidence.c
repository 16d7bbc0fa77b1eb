/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   evidence - certificates, CSRs, keys and identifiers found in a report
 * DESCRIPTION
 *   See evidence.h. PEM bodies are base64-decoded here (header lines and
 *   stray whitespace skipped) and parsed as DER, so PEM and attachments share
 *   one path. Identifiers are looked for only outside PEM blocks. Key blocks
 *   are recorded even past the item bound, so redaction never misses one.
 * DIAGNOSTICS
 *   None logged; OpenSSL errors are cleared and the item is marked
 *   unparsable instead.
 */
#include "evidence.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SERIAL_MIN_BYTES 8      /* unlabelled colon/0x serials */
#define SERIAL_LABEL_GAP 8      /* separator bytes after a serial label */
#define SERIAL_LABEL_MIN_HEX 4
#define SPKI_SHOWN 8            /* hex digits of a hash in a reason */

enum pem_type {
    PEM_CERT, PEM_TRUSTED, PEM_PKCS7, PEM_CSR, PEM_KEY, PEM_KEY_ENC, PEM_OTHER
};

static const struct {
    const char *label;
    enum pem_type type;
} pem_labels[] = {
    { "CERTIFICATE", PEM_CERT },
    { "TRUSTED CERTIFICATE", PEM_TRUSTED },
    { "X509 CERTIFICATE", PEM_CERT },
    { "PKCS7", PEM_PKCS7 },
    { "CERTIFICATE REQUEST", PEM_CSR },
    { "NEW CERTIFICATE REQUEST", PEM_CSR },
    { "PRIVATE KEY", PEM_KEY },
    { "RSA PRIVATE KEY", PEM_KEY },
    { "EC PRIVATE KEY", PEM_KEY },
    { "DSA PRIVATE KEY", PEM_KEY },
    { "OPENSSH PRIVATE KEY", PEM_KEY },
    { "ENCRYPTED PRIVATE KEY", PEM_KEY_ENC },
};

static const char *serial_labels[] = {
    "serial number", "serial no", "serial", "numéro de série",
    "numero de serie", "seriennummer", "número de serie", "序列号", "序號",
    "序号", "シリアル番号", "シリアルナンバー",
};

/* ---- the list ---- */

void
evidence_list_init(struct evidence_list *ev)
{
    ev->items = NULL;
    ev->n = ev->cap = 0;
    ev->items_dropped = 0;
    ev->keys_tried = 0;
    ev->cut_at = SIZE_MAX;
}

void
evidence_list_free(struct evidence_list *ev)
{
    free(ev->items);
    evidence_list_init(ev);
}

const char *
evidence_kind_name(enum evidence_kind kind)
{
    switch (kind) {
    case EVIDENCE_CERT: return "certificate";
    case EVIDENCE_CSR: return "csr";
    case EVIDENCE_KEY: return "private-key";
    case EVIDENCE_KEY_ENCRYPTED: return "private-key-encrypted";
    case EVIDENCE_KEY_TRUNCATED: return "private-key-truncated";
    case EVIDENCE_CRTSH: return "crtsh";
    case EVIDENCE_FINGERPRINT: return "fingerprint";
    case EVIDENCE_SERIAL: return "serial";
    case EVIDENCE_UNREADABLE: return "encoded-data";
    }
    return "unknown";
}

bool
evidence_is_key(const struct evidence_item *it)
{
    return it->kind == EVIDENCE_KEY || it->kind == EVIDENCE_KEY_ENCRYPTED
           || it->kind == EVIDENCE_KEY_TRUNCATED;
}

bool
evidence_is_redacted(const struct evidence_item *it)
{
    return evidence_is_key(it) || it->kind == EVIDENCE_UNREADABLE;
}

static size_t
evidence_count_keys(const struct evidence_list *ev)
{
    size_t k = 0;

    for (size_t i = 0; i < ev->n; i++)
        k += evidence_is_redacted(&ev->items[i]);
    return k;
}

/* Appends a copy; false only on ENOMEM. Over the bound, non-key items are
 * counted and dropped; key items (and data redacted as if one) are dropped
 * too but cut_at then covers them (and all that follows) for redaction. */
bool
evidence_push(struct evidence_list *ev, const struct evidence_item *it)
{
    bool key = evidence_is_redacted(it);

    if (key && evidence_count_keys(ev) >= EVIDENCE_MAX_KEY_RANGES) {
        if (it->has_range && it->start < ev->cut_at)
            ev->cut_at = it->start;
        return true;
    }
    if (!key && ev->n - evidence_count_keys(ev) >= EVIDENCE_MAX_ITEMS) {
        ev->items_dropped++;
        return true;
    }
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        struct evidence_item *p = realloc(ev->items, cap * sizeof(*p));

        if (!p)
            return false;
        ev->items = p;
        ev->cap = cap;
    }
    ev->items[ev->n++] = *it;
    return true;
}

static bool
evidence_has_value(const struct evidence_list *ev, enum evidence_kind kind,
                   const char *value)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->items[i].kind == kind && strcmp(ev->items[i].value, value) == 0)
            return true;
    return false;
}

static struct evidence_item *
evidence_item_new(enum evidence_kind kind)
{
    struct evidence_item *it = calloc(1, sizeof(*it));

    if (it)
        it->kind = kind;
    return it;
}

/* ---- small helpers ---- */

static void
hex_encode(const unsigned char *in, size_t n, char *out, size_t outsz)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < n && o + 2 < outsz; i++) {
        out[o++] = digits[in[i] >> 4];
        out[o++] = digits[in[i] & 15];
    }
    out[o] = '\0';
}

static void
sha256_hex(const unsigned char *der, size_t n, char out[EVIDENCE_HEX_SHA256])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL) == 1)
        hex_encode(md, mdlen, out, EVIDENCE_HEX_SHA256);
}

static void
pkey_spki_hex(EVP_PKEY *pkey, char out[EVIDENCE_HEX_SHA256])
{
    unsigned char *der = NULL;
    int n;

    out[0] = '\0';
    if (!pkey)
        return;
    n = i2d_PUBKEY(pkey, &der);
    if (n > 0)
        sha256_hex(der, (size_t)n, out);
    OPENSSL_free(der);
}

/* Copies with control bytes replaced, so names and values are safe to show. */
static void
copy_clean(char *dst, size_t dstsz, const char *src, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < dstsz; i++) {
        unsigned char c = (unsigned char)src[i];

        dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    dst[o] = '\0';
}

static void
name_oneline(const X509_NAME *name, char *out, size_t outsz)
{
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    out[0] = '\0';
    if (!bio)
        return;
    if (name && X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
        n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data)
            copy_clean(out, outsz, data, (size_t)n);
    }
    BIO_free(bio);
}

static void
name_cn(const X509_NAME *name, char *out, size_t outsz)
{
    int idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    X509_NAME_ENTRY *e;
    unsigned char *utf8 = NULL;
    int n;

    out[0] = '\0';
    if (idx < 0 || !(e = X509_NAME_get_entry(name, idx)))
        return;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (n >= 0 && utf8)
        copy_clean(out, outsz, (const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
}

static void
time_rfc3339(const ASN1_TIME *t, char *out, size_t outsz)
{
    struct tm tm;

    out[0] = '\0';
    /* Years 1..9999 only: anything else is not a time the database takes. */
    if (t && ASN1_TIME_to_tm(t, &tm) == 1 && tm.tm_year >= 1 - 1900
        && tm.tm_year <= 9999 - 1900)
        strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
key_describe(EVP_PKEY *pkey, char *out, size_t outsz)
{
    char group[64];
    size_t glen = 0;
    const char *nist;

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        snprintf(out, outsz, "RSA %d", EVP_PKEY_get_bits(pkey));
        return;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &glen) != 1) {
            snprintf(out, outsz, "EC %d", EVP_PKEY_get_bits(pkey));
            return;
        }
        nist = EC_curve_nid2nist(OBJ_sn2nid(group));
        snprintf(out, outsz, "EC %.24s", nist ? nist : group);   /* fits key_type */
        return;
    case EVP_PKEY_ED25519:
        snprintf(out, outsz, "Ed25519");
        return;
    default:
        nist = OBJ_nid2sn(EVP_PKEY_get_base_id(pkey));
        snprintf(out, outsz, "%s %d", nist ? nist : "key",
                 EVP_PKEY_get_bits(pkey));
    }
}

/* ---- certificates ---- */

static void
cert_sans(X509 *x, char *out, size_t outsz)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t o = 0;

    out[0] = '\0';
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *d;
        int n;

        if (g->type != GEN_DNS)
            continue;
        d = ASN1_STRING_get0_data(g->d.dNSName);
        n = ASN1_STRING_length(g->d.dNSName);
        if (n <= 0 || o + (size_t)n + 2 >= outsz)
            break;
        if (o)
            out[o++] = ',';
        copy_clean(out + o, outsz - o, (const char *)d, (size_t)n);
        o += strlen(out + o);
    }
    GENERAL_NAMES_free(gens);
}

/* A negative serial (a misissuance of its own) as the hex of its DER
 * content octets, two's complement, as crt.sh shows it; "" if longer than
 * out holds. */
static void
cert_serial_negative(const ASN1_INTEGER *ai, char *out, size_t outsz)
{
    unsigned char *der = NULL, *c;
    int n = i2d_ASN1_INTEGER(ai, &der);
    size_t len, o = 0;

    out[0] = '\0';
    if (n < 3 || der[1] == 0x80 || der[1] > 0x82) {
        OPENSSL_free(der);
        return;
    }
    len = der[1] < 0x80 ? der[1] : der[1] == 0x81 ? der[2] : 0;
    c = der + (der[1] < 0x80 ? 2 : 3);
    if (len > 0 && (size_t)(c - der) + len == (size_t)n && len * 2 < outsz)
        for (size_t i = 0; i < len; i++, o += 2)
            snprintf(out + o, outsz - o, "%02x", c[i]);
    OPENSSL_free(der);
}

static void
cert_serial(X509 *x, char *out, size_t outsz)
{
    const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
    BIGNUM *bn;
    char *hex;

    out[0] = '\0';
    if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER) {
        cert_serial_negative(ai, out, outsz);
        return;
    }
    bn = ASN1_INTEGER_to_BN(ai, NULL);
    hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex && strlen(hex) < outsz) {
        for (char *p = hex; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(out, outsz, "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
}

static void
cert_reason(struct evidence_item *it, bool negative)
{
    if (negative)
        snprintf(it->reason, sizeof(it->reason),
                 "certificate with a NEGATIVE serial (%.40s, two's complement) for %.60s, "
                 "SPKI %.*s…", it->serial[0] ? it->serial : "too long", it->subject,
                 SPKI_SHOWN, it->spki_sha256);
    else if (it->proof_pock)
        snprintf(it->reason, sizeof(it->reason),
                 "PoCK proof certificate (self-signature %s), SPKI %.*s…",
                 it->sig_ok ? "verifies" : "does NOT verify", SPKI_SHOWN,
                 it->spki_sha256);
    else
        snprintf(it->reason, sizeof(it->reason),
                 "certificate serial %s for %.80s, SPKI %.*s…", it->serial,
                 it->subject, SPKI_SHOWN, it->spki_sha256);
}

static void
cert_fill(X509 *x, struct evidence_item *it)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char cn[EVIDENCE_NAME_LEN];

    it->kind = EVIDENCE_CERT;
    it->sig_ok = false;
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        hex_encode(md, mdlen, it->sha256, sizeof(it->sha256));
    cert_serial(x, it->serial, sizeof(it->serial));
    name_oneline(X509_get_issuer_name(x), it->issuer, sizeof(it->issuer));
    name_oneline(X509_get_subject_name(x), it->subject, sizeof(it->subject));
    cert_sans(x, it->sans, sizeof(it->sans));
    time_rfc3339(X509_get0_notBefore(x), it->not_before, sizeof(it->not_before));
    time_rfc3339(X509_get0_notAfter(x), it->not_after, sizeof(it->not_after));
    pkey_spki_hex(X509_get0_pubkey(x), it->spki_sha256);
    name_cn(X509_get_subject_name(x), cn, sizeof(cn));
    it->proof_pock = strcmp(cn, EVIDENCE_POCK_CN) == 0;
    if (it->proof_pock && X509_get0_pubkey(x))
        it->sig_ok = X509_verify(x, X509_get0_pubkey(x)) == 1;
    ERR_clear_error();
    cert_reason(it, ASN1_STRING_type(X509_get0_serialNumber(x)) == V_ASN1_NEG_INTEGER);
}

static bool
cert_push(X509 *x, struct evidence_item *tmpl, struct evidence_list *out)
{
    cert_fill(x, tmpl);
    return evidence_push(out, tmpl);
}

static bool
pkcs7_push(PKCS7 *p7, struct evidence_item *tmpl, struct evidence_list *out)
{
    STACK_OF(X509) *certs = NULL;

    if (PKCS7_type_is_signed(p7) && p7->d.sign)
        certs = p7->d.sign->cert;
    else if (PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped)
        certs = p7->d.signed_and_enveloped->cert;
    for (int i = 0; certs && i < sk_X509_num(certs); i++) {
        if (i >= EVIDENCE_MAX_PKCS7_CERTS) {
            out->items_dropped++;
            continue;
        }
        if (!cert_push(sk_X509_value(certs, i), tmpl, out))
            return false;
    }
    return true;
}

/* ---- CSRs ---- */

static bool
csr_has_nsa(X509_REQ *req)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    bool found = false;
    char oid[64];

    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

        if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1) > 0
            && strcmp(oid, EVIDENCE_OID_NO_SECURITY_AFFORDED) == 0
            && X509_EXTENSION_get_critical(e))
            found = true;
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return found;
}

static void
csr_reason(struct evidence_item *it)
{
    const char *form = it->proof_pwnedkeys ? "pwnedkeys attestation CSR"
                       : it->proof_csr    ? "\"Proof of Key Compromise\" CSR"
                                          : "CSR";

    snprintf(it->reason, sizeof(it->reason),
             "%s for %.80s (signature %s), SPKI %.*s…", form, it->subject,
             it->sig_ok ? "verifies" : "does NOT verify", SPKI_SHOWN,
             it->spki_sha256);
}

static void
csr_fill(X509_REQ *req, struct evidence_item *it)
{
    EVP_PKEY *pkey = X509_REQ_get0_pubkey(req);
    char cn[EVIDENCE_NAME_LEN];

    it->kind = EVIDENCE_CSR;
    name_oneline(X509_REQ_get_subject_name(req), it->subject,
                 sizeof(it->subject));
    name_cn(X509_REQ_get_subject_name(req), cn, sizeof(cn));
    pkey_spki_hex(pkey, it->spki_sha256);
    it->sig_ok = pkey && X509_REQ_verify(req, pkey) == 1;
    it->proof_csr = strncasecmp(cn, EVIDENCE_PROOF_CSR_PREFIX,
                                strlen(EVIDENCE_PROOF_CSR_PREFIX)) == 0;
    it->proof_pwnedkeys = strcmp(cn, EVIDENCE_PWNEDKEYS_CN) == 0
                          && csr_has_nsa(req);
    ERR_clear_error();
    csr_reason(it);
}

/* ---- private keys ---- */

/* Does the private half belong to the public half the block carries?
 * A block can pair anyone's public key (n, e, or an EC point taken from
 * their certificate) with made-up private values; only a signature made
 * with the private half that verifies with the public half proves the key
 * (and so a compromise). RSA keys over EVIDENCE_KEY_PROOF_BITS, and keys
 * past the first EVIDENCE_KEY_PROOF_MAX of a message, are not tried
 * (signing is cubic in the size: a flood of huge keys would stall the
 * intake) and count as unproven. */
static bool
key_pair_proven(EVP_PKEY *pkey)
{
    static const unsigned char msg[] = "cpr-milter key possession check";
    const EVP_MD *md = EVP_sha256();
    unsigned char sig[EVIDENCE_KEY_SIG_MAX];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *m = NULL;
    bool ok = false;

    if (EVP_PKEY_get_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) > EVIDENCE_KEY_PROOF_BITS)
        return false;
    if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 || EVP_PKEY_get_id(pkey) == EVP_PKEY_ED448)
        md = NULL;                       /* one-shot, no digest */
    if (EVP_PKEY_get_size(pkey) <= 0 || (size_t)EVP_PKEY_get_size(pkey) > sizeof(sig))
        return false;
    if ((m = EVP_MD_CTX_new()) != NULL
        && EVP_DigestSignInit(m, NULL, md, NULL, pkey) == 1
        && EVP_DigestSign(m, sig, &siglen, msg, sizeof(msg) - 1) == 1) {
        EVP_MD_CTX_free(m);
        m = EVP_MD_CTX_new();
        ok = m && EVP_DigestVerifyInit(m, NULL, md, NULL, pkey) == 1
             && EVP_DigestVerify(m, sig, siglen, msg, sizeof(msg) - 1) == 1;
    }
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return ok;
}

static void
key_fill(EVP_PKEY *pkey, struct evidence_item *it, struct evidence_list *out)
{
    it->kind = EVIDENCE_KEY;
    pkey_spki_hex(pkey, it->spki_sha256);
    key_describe(pkey, it->key_type, sizeof(it->key_type));
    it->sig_ok = out->keys_tried < EVIDENCE_KEY_PROOF_MAX && key_pair_proven(pkey);
    out->keys_tried++;
    snprintf(it->reason, sizeof(it->reason),
             "private key block (%s), SPKI %.*s…%s", it->key_type, SPKI_SHOWN,
             it->spki_sha256,
             it->sig_ok ? "" : " (NOT proven: its private half does not sign for its public key)");
}

static void
key_unparsable(struct evidence_item *it, enum evidence_kind kind)
{
    it->kind = kind;
    snprintf(it->reason, sizeof(it->reason), "%s",
             kind == EVIDENCE_KEY_ENCRYPTED
                 ? "encrypted private key block (present, not readable)"
             : kind == EVIDENCE_KEY_TRUNCATED
                 ? "private key block cut short (no END line)"
                 : "private key block (unparsable)");
}

/* ---- DER dispatch ---- */

static bool
der_try_cert(const unsigned char *buf, long len, bool aux,
             struct evidence_item *tmpl, struct evidence_list *out, bool *ok)
{
    const unsigned char *p = buf;
    X509 *x = aux ? d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);

    if (!x)
        return false;
    *ok = cert_push(x, tmpl, out);
    X509_free(x);
    return true;
}

static bool
der_try_csr(const unsigned char *buf, long len, struct evidence_item *tmpl,
            struct evidence_list *out, bool *ok)
{
    const unsigned char *p = buf;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, len);

    if (!req)
        return false;
    csr_fill(req, tmpl);
    *ok = evidence_push(out, tmpl);
    X509_REQ_free(req);
    return true;
}

static bool
der_try_pkcs7(const unsigned char *buf, long len, struct evidence_item *tmpl,
              struct evidence_list *out, bool *ok)
{
    const unsigned char *p = buf;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, len);

    if (!p7)
        return false;
    *ok = pkcs7_push(p7, tmpl, out);
    PKCS7_free(p7);
    return true;
}

static bool
der_try_key(const unsigned char *buf, long len, struct evidence_item *tmpl,
            struct evidence_list *out, bool *ok)
{
    const unsigned char *p = buf;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, len);

    if (!pkey)
        return false;
    key_fill(pkey, tmpl, out);
    *ok = evidence_push(out, tmpl);
    EVP_PKEY_free(pkey);
    return true;
}

/* Passwords tried on a PKCS#12 file: none, empty, and the few that
 * exporting tools and people use most; a key behind any other is
 * "encrypted, present only". */
static const char *const pkcs12_passwords[] = {
    NULL, "", "password", "changeit", "123456", "secret", "pass", "1234", "test",
};

static bool
der_try_pkcs12(const unsigned char *buf, long len, struct evidence_item *tmpl,
               struct evidence_list *out, bool *ok)
{
    const unsigned char *p = buf;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, len);
    EVP_PKEY *pkey = NULL;

    if (!p12)
        return false;
    for (size_t i = 0; i < sizeof(pkcs12_passwords) / sizeof(pkcs12_passwords[0]) && !pkey; i++) {
        X509 *cert = NULL;
        STACK_OF(X509) *ca = NULL;

        if (!PKCS12_parse(p12, pkcs12_passwords[i], &pkey, &cert, &ca))
            pkey = NULL;
        X509_free(cert);
        sk_X509_pop_free(ca, X509_free);
        ERR_clear_error();
    }
    if (pkey) {
        key_fill(pkey, tmpl, out);
        snprintf(tmpl->reason, sizeof(tmpl->reason), "private key in a PKCS#12 file (%s), SPKI %.*s…",
                 tmpl->key_type, SPKI_SHOWN, tmpl->spki_sha256);
        EVP_PKEY_free(pkey);
    } else {
        tmpl->kind = EVIDENCE_KEY_ENCRYPTED;
        snprintf(tmpl->reason, sizeof(tmpl->reason),
                 "a PKCS#12 file whose password is not a common one");
    }
    *ok = evidence_push(out, tmpl);
    PKCS12_free(p12);
    return true;
}

bool
evidence_scan_der(const unsigned char *buf, size_t len,
                  struct evidence_list *out)
{
    struct evidence_item *tmpl;
    bool ok = true;
    long n = (long)len;

    if (!buf || len < 2 || buf[0] != 0x30 || len > EVIDENCE_MAX_SCAN)
        return true;  /* not DER SEQUENCE, or beyond the bound */
    if (!(tmpl = evidence_item_new(EVIDENCE_CERT)))
        return false;
    if (!der_try_cert(buf, n, false, tmpl, out, &ok)
        && !der_try_csr(buf, n, tmpl, out, &ok)
        && !der_try_pkcs7(buf, n, tmpl, out, &ok)
        && !der_try_key(buf, n, tmpl, out, &ok))
        (void)der_try_pkcs12(buf, n, tmpl, out, &ok);
    ERR_clear_error();
    free(tmpl);
    return ok;
}

/* ---- PEM ---- */

static const char *
mem_find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    const char *p = hay, *last;

    if (k == 0 || n < k)
        return NULL;
    last = hay + (n - k);
    while (p <= last && (p = memchr(p, needle[0], (size_t)(last - p) + 1))) {
        if (memcmp(p, needle, k) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* Base64 of the body: lines with ':' (RFC 1421 headers) are skipped and
 * anything outside the alphabet is dropped. Returns a malloc'd DER buffer. */
static unsigned char *
pem_decode(const char *body, size_t n, size_t *outlen)
{
    char *b64 = malloc(n + 4);
    unsigned char *der = NULL;
    size_t m = 0, pad = 0;
    int got;

    if (!b64)
        return NULL;
    for (size_t i = 0; i < n;) {
        const char *eol = memchr(body + i, '\n', n - i);
        size_t end = eol ? (size_t)(eol - body) : n;

        if (!memchr(body + i, ':', end - i))
            for (size_t j = i; j < end; j++)
                if (isalnum((unsigned char)body[j]) || body[j] == '+'
                    || body[j] == '/' || body[j] == '=')
                    b64[m++] = body[j];
        i = end + 1;
    }
    while (m % 4)
        b64[m++] = '=';
    for (size_t j = m; j > 0 && b64[j - 1] == '=' && pad < 2; j--)
        pad++;
    if (m > 0 && m <= INT32_MAX && (der = malloc(m / 4 * 3 + 1)) != NULL) {
        got = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)m);
        if (got < 0 || (size_t)got < pad) {
            free(der);
            der = NULL;
        } else
            *outlen = (size_t)got - pad;
    }
    free(b64);
    return der;
}

static bool
pem_parse(enum pem_type type, const unsigned char *der, size_t n,
          struct evidence_item *tmpl, struct evidence_list *out, bool *ok)
{
    long len = (long)n;

    switch (type) {
    case PEM_CERT: return der_try_cert(der, len, false, tmpl, out, ok);
    case PEM_TRUSTED: return der_try_cert(der, len, true, tmpl, out, ok);
    case PEM_PKCS7: return der_try_pkcs7(der, len, tmpl, out, ok);
    case PEM_CSR: return der_try_csr(der, len, tmpl, out, ok);
    case PEM_KEY: return der_try_key(der, len, tmpl, out, ok);
    default: return false;
    }
}

/* One complete block: [start,end) covers BEGIN line to END line. */
static bool
pem_block(enum pem_type type, const char *text, size_t start, size_t body,
          size_t body_end, size_t end, struct evidence_list *out)
{
    struct evidence_item *tmpl = evidence_item_new(EVIDENCE_KEY);
    unsigned char *der = NULL;
    size_t n = 0;
    bool ok = true, parsed = false;

    if (!tmpl)
        return false;
    tmpl->has_range = true;
    tmpl->start = start;
    tmpl->end = end;
    if (type != PEM_KEY_ENC && end - start <= EVIDENCE_MAX_PEM_BYTES
        && (der = pem_decode(text + body, body_end - body, &n)) != NULL)
        parsed = pem_parse(type, der, n, tmpl, out, &ok);
    ERR_clear_error();
    if (!parsed && (type == PEM_KEY || type == PEM_KEY_ENC)) {
        bool enc = type == PEM_KEY_ENC
                   || mem_find(text + body, body_end - body, "ENCRYPTED");

        key_unparsable(tmpl, enc ? EVIDENCE_KEY_ENCRYPTED : EVIDENCE_KEY);
        ok = evidence_push(out, tmpl);
    }
    if (der)
        OPENSSL_cleanse(der, n);  /* may hold a private key */
    free(der);
    free(tmpl);
    return ok;
}

static enum pem_type
pem_label_type(const char *label, size_t n)
{
    for (size_t i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++)
        if (strlen(pem_labels[i].label) == n
            && memcmp(pem_labels[i].label, label, n) == 0)
            return pem_labels[i].type;
    return PEM_OTHER;
}

static bool
pem_truncated(size_t start, size_t len, struct evidence_list *out)
{
    struct evidence_item *it = evidence_item_new(EVIDENCE_KEY_TRUNCATED);
    bool ok;

    if (!it)
        return false;
    it->has_range = true;
    it->start = start;
    it->end = len;
    key_unparsable(it, EVIDENCE_KEY_TRUNCATED);
    ok = evidence_push(out, it);
    free(it);
    return ok;
}

/*
 * Handles the BEGIN at `start`; returns where scanning resumes. A key block
 * runs to its own END even over nested BEGINs (so all of it is redacted);
 * any other block yields to a nested BEGIN, which may be a key.
 */
static size_t
pem_at(const char *text, size_t len, size_t start, struct evidence_list *out,
       bool *ok)
{
    const char *lab = text + start + 11, *lend, *endm, *nested;
    char endline[64];
    enum pem_type type;
    size_t body, rest;

    lend = mem_find(lab, len - (size_t)(lab - text), "-----");
    if (!lend || lend - lab > 40)
        return start + 11;
    type = pem_label_type(lab, (size_t)(lend - lab));
    if (type == PEM_OTHER)
        return start + 11;
    snprintf(endline, sizeof(endline), "-----END %.*s-----",
             (int)(lend - lab), lab);
    /* The body starts right after the BEGIN line's dashes, not at the next
     * line: HTML reduced to text joins a <pre> block into one line. */
    body = (size_t)(lend - text) + 5;
    rest = len - body;
    endm = mem_find(text + body, rest, endline);
    nested = mem_find(text + body, endm ? (size_t)(endm - text) - body : rest,
                      "-----BEGIN ");
    if (!endm) {
        if (type == PEM_KEY || type == PEM_KEY_ENC) {
            *ok = pem_truncated(start, len, out);
            return len;
        }
        return nested ? (size_t)(nested - text) : body;
    }
    if (nested && type != PEM_KEY && type != PEM_KEY_ENC)
        return (size_t)(nested - text);
    *ok = pem_block(type, text, start, body, (size_t)(endm - text),
                    (size_t)(endm - text) + strlen(endline), out);
    return (size_t)(endm - text) + strlen(endline);
}

/* ---- text identifiers ---- */

static bool
is_word(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static size_t
hex_run(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && isxdigit((unsigned char)s[i]))
        i++;
    return i;
}

static void
lower_copy(char *dst, size_t dstsz, const char *src, size_t n, bool skip_colon)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < dstsz; i++)
        if (!(skip_colon && src[i] == ':'))
            dst[o++] = (char)tolower((unsigned char)src[i]);
    dst[o] = '\0';
}

static bool
ident_push(struct evidence_list *out, enum evidence_kind kind,
           const char *value, const char *what)
{
    struct evidence_item it;

    if (evidence_has_value(out, kind, value))
        return true;
    memset(&it, 0, sizeof(it));
    it.kind = kind;
    snprintf(it.value, sizeof(it.value), "%s", value);
    if (kind == EVIDENCE_FINGERPRINT)
        snprintf(it.sha256, sizeof(it.sha256), "%s", value);
    if (kind == EVIDENCE_SERIAL)
        snprintf(it.serial, sizeof(it.serial), "%s", value);
    snprintf(it.reason, sizeof(it.reason), "%s %s", what, value);
    return evidence_push(out, &it);
}

/* "aa:bb:..." at s; returns its length (0 if none) and byte count. */
static size_t
colon_hex(const char *s, size_t n, size_t *bytes)
{
    size_t i = 0;

    *bytes = 0;
    while (i + 2 <= n && isxdigit((unsigned char)s[i])
           && isxdigit((unsigned char)s[i + 1])) {
        (*bytes)++;
        i += 2;
        if (i + 2 < n && s[i] == ':' && isxdigit((unsigned char)s[i + 1]))
            i++;
        else
            break;
    }
    if (i < n && is_word((unsigned char)s[i]))
        return 0;
    return *bytes >= 2 ? i : 0;
}

static bool
has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)s[i]))
            return true;
    return false;
}

/* A hex token at s that is not preceded by a word byte. Returns bytes used. */
static size_t
ident_hex_at(const char *s, size_t n, bool labelled, struct evidence_list *out,
             bool *ok)
{
    char v[EVIDENCE_SERIAL_LEN];
    size_t k, bytes;

    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        k = hex_run(s + 2, n - 2);
        if (k >= (labelled ? 1 : SERIAL_MIN_BYTES * 2) && k < sizeof(v)
            && (2 + k == n || !is_word((unsigned char)s[2 + k]))) {
            lower_copy(v, sizeof(v), s + 2, k, false);
            *ok = ident_push(out, EVIDENCE_SERIAL, v, "serial");
            return 2 + k;
        }
    }
    if ((k = colon_hex(s, n, &bytes)) > 0) {
        lower_copy(v, sizeof(v), s, k, true);
        if (bytes == 32)
            *ok = ident_push(out, EVIDENCE_FINGERPRINT, v, "SHA-256");
        else if ((bytes >= SERIAL_MIN_BYTES || labelled) && k < sizeof(v))
            *ok = ident_push(out, EVIDENCE_SERIAL, v, "serial");
        return k;
    }
    k = hex_run(s, n);
    if (k == 0 || (k < n && is_word((unsigned char)s[k])))
        return 0;
    lower_copy(v, sizeof(v), s, k, false);
    if (k == 64)
        *ok = ident_push(out, EVIDENCE_FINGERPRINT, v, "SHA-256");
    else if (labelled && k >= SERIAL_LABEL_MIN_HEX && k < sizeof(v)
             && has_digit(s, k))
        *ok = ident_push(out, EVIDENCE_SERIAL, v, "serial");
    return k;
}

static const char *gap_words[] = {
    "is ", "ist ", "est ", "es ", "\xe4\xb8\xba", "\xe7\x82\xba", "\xe3\x81\xaf",
};  /* 为 為 は */

static bool
gap_word(const char *s, size_t n, size_t *w)
{
    for (size_t i = 0; i < sizeof(gap_words) / sizeof(*gap_words); i++) {
        *w = strlen(gap_words[i]);
        if (n >= *w && strncasecmp(s, gap_words[i], *w) == 0)
            return true;
    }
    return false;
}

/* After a serial label: skip ":", "：", "=", "#", "is" and blanks. */
static size_t
label_gap(const char *s, size_t n)
{
    size_t i = 0, w;

    while (i < n && i < SERIAL_LABEL_GAP) {
        if (strchr(" \t:=#", s[i]) && s[i])
            i++;
        else if (n - i >= 3 && memcmp(s + i, "\xef\xbc\x9a", 3) == 0)
            i += 3;  /* full-width colon */
        else if (gap_word(s + i, n - i, &w))
            i += w;
        else
            break;
    }
    return i;
}

static size_t
serial_label_at(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(serial_labels) / sizeof(*serial_labels); i++) {
        size_t k = strlen(serial_labels[i]);

        if (n >= k && strncasecmp(s, serial_labels[i], k) == 0)
            return k;
    }
    return 0;
}

static bool
crtsh_param_ok(const char *key, const char *v, size_t n)
{
    if (n == 0 || n >= 70)
        return false;
    if (strcmp(key, "id") == 0 || strcmp(key, "d") == 0) {
        for (size_t i = 0; i < n; i++)
            if (!isdigit((unsigned char)v[i]))
                return false;
        return true;
    }
    return n == 64 && hex_run(v, n) == 64;
}

/* The query of a crt.sh URL starting at s (just past "crt.sh/"). */
static size_t
crtsh_at(const char *s, size_t n, struct evidence_list *out, bool *ok)
{
    static const char *keys[] = { "id", "sha256", "spkisha256", "d" };
    size_t u = 0, i;

    while (u < n && !isspace((unsigned char)s[u]) && !strchr("<>\"')]", s[u]))
        u++;
    while (u > 0 && strchr(".,;:!?", s[u - 1]))
        u--;  /* sentence punctuation after a link */
    for (i = 0; i < u && s[i] != '?'; i++)
        ;
    while (i < u && *ok) {
        size_t p = i + 1, e = p, vlen;

        while (e < u && s[e] != '&' && s[e] != ';')
            e++;
        for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
            size_t kl = strlen(keys[k]);
            char v[EVIDENCE_VALUE_LEN];

            if (e - p <= kl || strncasecmp(s + p, keys[k], kl) != 0
                || s[p + kl] != '=')
                continue;
            vlen = e - p - kl - 1;
            if (!crtsh_param_ok(keys[k], s + p + kl + 1, vlen))
                break;
            snprintf(v, sizeof(v), "%s=", keys[k]);
            lower_copy(v + strlen(v), sizeof(v) - strlen(v), s + p + kl + 1,
                       vlen, false);
            *ok = ident_push(out, EVIDENCE_CRTSH, v, "crt.sh");
            break;
        }
        i = e;
    }
    return u;
}

static size_t
ident_at(const char *s, size_t n, bool word_before, struct evidence_list *out,
         bool *ok)
{
    size_t k;

    if (n >= 7 && strncasecmp(s, "crt.sh/", 7) == 0)
        return 7 + crtsh_at(s + 7, n - 7, out, ok);
    if (!word_before && (k = serial_label_at(s, n)) > 0) {
        size_t g = label_gap(s + k, n - k), h;

        if ((g > 0 || (unsigned char)s[k - 1] >= 0x80)
            && (h = ident_hex_at(s + k + g, n - k - g, true, out, ok)))
            return k + g + h;
        return k;
    }
    if (!word_before && isxdigit((unsigned char)s[0]))
        return ident_hex_at(s, n, false, out, ok);
    return 0;
}

static bool
ident_scan(const char *text, size_t from, size_t to, struct evidence_list *out)
{
    bool ok = true;
    size_t i = from;

    while (i < to && ok) {
        bool word_before = i > from && is_word((unsigned char)text[i - 1]);
        size_t k = ident_at(text + i, to - i, word_before, out, &ok);

        i += k ? k : 1;
    }
    return ok;
}

/* ---- private keys in text form ("openssl pkey -text") ---- */

/* Labels whose hex lines are secret in an OpenSSL text dump. */
static const char *const textkey_labels[] = {
    "priv:", "privateExponent:", "prime1:", "prime2:", "exponent1:", "exponent2:",
    "coefficient:", NULL };

#define TEXTKEY_LABEL_MAX 40   /* "NIST CURVE:" and the like: a label line */

/* [*b, *e) is the next line of text[0..to) from pos, without its end. */
static bool
line_at(const char *text, size_t pos, size_t to, size_t *b, size_t *e)
{
    const char *nl;

    if (pos >= to)
        return false;
    *b = pos;
    nl = memchr(text + pos, '\n', to - pos);
    *e = nl ? (size_t)(nl - text) : to;
    return true;
}

static size_t
skip_blank(const char *s, size_t b, size_t e)
{
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    return b;
}

static bool
textkey_secret_line(const char *s, size_t b, size_t e)
{
    b = skip_blank(s, b, e);
    if (mem_find(s + b, e - b, "Private-Key:") != NULL)
        return true;
    for (size_t i = 0; textkey_labels[i]; i++) {
        size_t k = strlen(textkey_labels[i]);

        if (e - b >= k && memcmp(s + b, textkey_labels[i], k) == 0)
            return true;
    }
    return false;
}

/* An indented run of hex and colons, or a "label:" line of the dump. */
static bool
textkey_body_line(const char *s, size_t b, size_t e)
{
    size_t t = skip_blank(s, b, e), colon, hex;

    while (e > t && (s[e - 1] == ' ' || s[e - 1] == '\r'))
        e--;
    if (t == e)
        return false;
    for (hex = t; hex < e && (isxdigit((unsigned char)s[hex]) || s[hex] == ':'); hex++)
        ;   /* bounded: text need not be NUL-terminated (attachments) */
    if (hex == e)
        return true;
    for (colon = t; colon < e && colon - t < TEXTKEY_LABEL_MAX; colon++)
        if (s[colon] == ':')
            return isalpha((unsigned char)s[t]);
    return false;
}

/* The first text-form key dump in [from, to): its label line and every
 * hex or label line after it, up to a blank or other line. */
static bool
textkey_find(const char *text, size_t from, size_t to, size_t *start, size_t *end)
{
    size_t b, e, pos = from;

    while (line_at(text, pos, to, &b, &e)) {
        pos = e + 1;
        if (!textkey_secret_line(text, b, e))
            continue;
        *start = b;
        *end = e;
        while (line_at(text, pos, to, &b, &e) && textkey_body_line(text, b, e)) {
            *end = e;
            pos = e + 1;
        }
        return true;
    }
    return false;
}

static bool
textkey_push(size_t start, size_t end, struct evidence_list *out)
{
    struct evidence_item *it = evidence_item_new(EVIDENCE_KEY);
    bool ok;

    if (!it)
        return false;
    it->has_range = true;
    it->start = start;
    it->end = end;
    snprintf(it->key_type, sizeof(it->key_type), "text dump");
    snprintf(it->reason, sizeof(it->reason),
             "private key in text form (openssl -text output)");
    ok = evidence_push(out, it);
    free(it);
    return ok;
}

/* Identifiers in [from, to), around (never inside) text-form keys: the
 * hex of a private scalar is no serial. */
static bool
plain_scan(const char *text, size_t from, size_t to, struct evidence_list *out)
{
    size_t start, end;

    while (textkey_find(text, from, to, &start, &end)) {
        if (!ident_scan(text, from, start, out) || !textkey_push(start, end, out))
            return false;
        from = end;
    }
    return ident_scan(text, from, to, out);
}

/* ---- entry points ---- */

bool
evidence_scan_text(const char *text, size_t len, struct evidence_list *out)
{
    size_t pos = 0, seg = 0;
    bool ok = true;

    if (!text)
        return true;
    if (len > EVIDENCE_MAX_SCAN) {
        len = EVIDENCE_MAX_SCAN;  /* unseen bytes may hold keys */
        if (len < out->cut_at)
            out->cut_at = len;
    }
    while (ok && pos < len) {
        const char *b = mem_find(text + pos, len - pos, "-----BEGIN ");
        size_t start = b ? (size_t)(b - text) : len;

        ok = plain_scan(text, seg, start, out);
        if (!b || !ok)
            break;
        pos = pem_at(text, len, start, out, &ok);
        seg = pos;
    }
    return ok;
}

static int
range_cmp(const void *a, const void *b)
{
    const struct evidence_item *x = *(const struct evidence_item *const *)a;
    const struct evidence_item *y = *(const struct evidence_item *const *)b;

    return x->start < y->start ? -1 : x->start > y->start;
}

static size_t
redact_marker(const struct evidence_item *it, char *buf, size_t bufsz)
{
    int n;

    if (it->kind == EVIDENCE_UNREADABLE)
        n = snprintf(buf, bufsz, "[%.100s removed: not stored, it may hold a private key]",
                     it->reason[0] ? it->reason : "encoded data");
    else if (it->spki_sha256[0])
        n = snprintf(buf, bufsz, "[private key removed: SPKI SHA-256 %s]",
                     it->spki_sha256);
    else if (strncmp(it->key_type, "JWK", 3) == 0)
        n = snprintf(buf, bufsz, "[private key removed: JWK private member]");
    else if (strcmp(it->key_type, "text dump") == 0)
        n = snprintf(buf, bufsz, "[private key removed: text dump]");
    else
        n = snprintf(buf, bufsz, "[private key removed: unparsable]");
    return n > 0 ? (size_t)n : 0;
}

#define MARKER_MAX 160  /* longest marker, with room to spare */
#define REDACT_CUT "[rest of message removed: not scanned for private keys]"

/* Key ranges of ev inside [0, limit), sorted; caller frees the array. */
static const struct evidence_item **
redact_ranges(const struct evidence_list *ev, size_t limit, size_t *n)
{
    const struct evidence_item **r = calloc(ev->n + 1, sizeof(*r));

    *n = 0;
    if (!r)
        return NULL;
    for (size_t i = 0; i < ev->n; i++)
        if (evidence_is_redacted(&ev->items[i]) && ev->items[i].has_range
            && ev->items[i].start < limit)
            r[(*n)++] = &ev->items[i];
    qsort(r, *n, sizeof(*r), range_cmp);
    return r;
}

char *
evidence_redact(const char *text, size_t len, const struct evidence_list *ev)
{
    size_t limit = ev->cut_at < len ? ev->cut_at : len, n, pos = 0, o = 0;
    const struct evidence_item **r = redact_ranges(ev, limit, &n);
    char *res;

    res = r ? malloc(limit + (n + 1) * MARKER_MAX + sizeof(REDACT_CUT)) : NULL;
    if (!res) {
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = r[i]->start, e = r[i]->end < limit ? r[i]->end : limit;

        if (e <= pos)  /* inside a range already replaced */
            continue;
        if (s < pos)
            s = pos;
        memcpy(res + o, text + pos, s - pos);
        o += s - pos;
        o += redact_marker(r[i], res + o, MARKER_MAX);
        pos = e > pos ? e : pos;
    }
    memcpy(res + o, text + pos, limit - pos);
    o += limit - pos;
    if (limit < len) {
        memcpy(res + o, REDACT_CUT, sizeof(REDACT_CUT) - 1);
        o += sizeof(REDACT_CUT) - 1;
    }
    res[o] = '\0';
    free(r);
    return res;
}

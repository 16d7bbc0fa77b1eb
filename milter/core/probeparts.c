/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probeparts - the attachment kinds real filters have quarantined
 * SUMMARY
 *   struct probe_part p;
 *   if (probeparts_make("zip", text, &p)) { ... probeparts_free(&p); }
 * DESCRIPTION
 *   Each variant of a mail-path probe carries what has been quarantined or
 *   filed as junk in real CPR incidents:
 *     plain    nothing but the text;
 *     pem-key  the PEM private key of a P-256 key made for this probe alone
 *              (inline in the text, as reporters send them; it also proves
 *              that redaction works on the live path);
 *     zip      probe.txt in a .zip (stored, no compression);
 *     tar-xz   probe.txt in a .tar.xz (ustar, then an xz stream of
 *              uncompressed LZMA2 chunks with a CRC32 check);
 *     der      a self-signed DER certificate of such a key.
 *   The archives are written here byte by byte, so no compression library
 *   is needed; any unzip, tar or xz reads them.
 * DIAGNOSTICS
 *   probeparts_make() returns false on an unknown variant, or when memory
 *   or OpenSSL fails.
 */
#include "probeparts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define PROBEPARTS_FILE "probe.txt"
#define PROBEPARTS_TAR_BLOCK 512
#define PROBEPARTS_LZMA2_CHUNK 65536
#define PROBEPARTS_CERT_DAYS 1

const char *const probeparts_variants[] = { "plain", "pem-key", "zip", "tar-xz", "der", NULL };

bool
probeparts_known(const char *variant)
{
    for (size_t i = 0; probeparts_variants[i] != NULL; i++)
        if (strcmp(variant, probeparts_variants[i]) == 0)
            return true;
    return false;
}

unsigned long
probeparts_crc32(const unsigned char *d, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* ---- a growing byte buffer ---- */

struct buf {
    unsigned char *d;
    size_t n, cap;
    bool ok;
};

static void
buf_put(struct buf *b, const void *p, size_t n)
{
    if (!b->ok)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        unsigned char *d;

        while (cap < b->n + n)
            cap *= 2;
        if ((d = realloc(b->d, cap)) == NULL) {
            b->ok = false;
            return;
        }
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void
buf_le(struct buf *b, unsigned long v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));

        buf_put(b, &c, 1);
    }
}

static void
buf_zeros(struct buf *b, size_t n)
{
    static const unsigned char z[PROBEPARTS_TAR_BLOCK];

    while (n > 0) {
        size_t k = n < sizeof(z) ? n : sizeof(z);

        buf_put(b, z, k);
        n -= k;
    }
}

/* xz's variable-length integer. */
static void
buf_varint(struct buf *b, unsigned long long v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);

        v >>= 7;
        if (v != 0)
            c |= 0x80;
        buf_put(b, &c, 1);
    } while (v != 0);
}

/* ---- zip ---- */

static void
zip_entry(struct buf *b, bool central, unsigned long crc, size_t len, unsigned long offset)
{
    size_t name = strlen(PROBEPARTS_FILE);

    buf_le(b, central ? 0x02014b50u : 0x04034b50u, 4);
    if (central)
        buf_le(b, 20, 2);                        /* made by: 2.0 */
    buf_le(b, 20, 2);                            /* needed: 2.0 */
    buf_le(b, 0, 2);                             /* flags */
    buf_le(b, 0, 2);                             /* stored */
    buf_le(b, 0, 2);                             /* time 00:00 */
    buf_le(b, 0x21, 2);                          /* date 1980-01-01 */
    buf_le(b, crc, 4);
    buf_le(b, len, 4);
    buf_le(b, len, 4);
    buf_le(b, name, 2);
    buf_le(b, 0, 2);                             /* extra */
    if (central) {
        buf_le(b, 0, 2);                         /* comment */
        buf_le(b, 0, 2);                         /* disk */
        buf_le(b, 0, 2);                         /* internal attributes */
        buf_le(b, 0, 4);                         /* external attributes */
        buf_le(b, offset, 4);
    }
    buf_put(b, PROBEPARTS_FILE, name);
}

static void
make_zip(struct buf *b, const char *text)
{
    size_t len = strlen(text), cd_at;
    unsigned long crc = probeparts_crc32((const unsigned char *)text, len);

    zip_entry(b, false, crc, len, 0);
    buf_put(b, text, len);
    cd_at = b->n;
    zip_entry(b, true, crc, len, 0);
    buf_le(b, 0x06054b50u, 4);
    buf_le(b, 0, 2);
    buf_le(b, 0, 2);
    buf_le(b, 1, 2);
    buf_le(b, 1, 2);
    buf_le(b, b->n - cd_at - 4 - 8, 4);          /* the central directory's size */
    buf_le(b, cd_at, 4);
    buf_le(b, 0, 2);
}

/* ---- tar, then xz ---- */

static void
tar_of(struct buf *b, const char *text)
{
    unsigned char h[PROBEPARTS_TAR_BLOCK];
    size_t len = strlen(text);
    unsigned sum = 0;

    memset(h, 0, sizeof(h));
    memcpy(h, PROBEPARTS_FILE, strlen(PROBEPARTS_FILE));
    snprintf((char *)h + 100, 8, "%07o", 0644u);
    snprintf((char *)h + 108, 8, "%07o", 0u);
    snprintf((char *)h + 116, 8, "%07o", 0u);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)len);   /* len is a few hundred bytes */
    snprintf((char *)h + 136, 12, "%011o", 0u);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (size_t i = 0; i < sizeof(h); i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);   /* then NUL, and the space stays */
    buf_put(b, h, sizeof(h));
    buf_put(b, text, len);
    buf_zeros(b, (PROBEPARTS_TAR_BLOCK - len % PROBEPARTS_TAR_BLOCK) % PROBEPARTS_TAR_BLOCK);
    buf_zeros(b, 2 * PROBEPARTS_TAR_BLOCK);
}

/* The xz block: its header (one LZMA2 filter), the data as uncompressed
 * LZMA2 chunks, padding and the CRC32 check. Returns the unpadded size. */
static size_t
xz_block(struct buf *b, const unsigned char *d, size_t n)
{
    static const unsigned char head[8] = { 0x02, 0x00, 0x21, 0x01, 0x10, 0, 0, 0 };  /* 1 MiB dictionary */
    size_t start = b->n, unpadded;

    buf_put(b, head, sizeof(head));
    buf_le(b, probeparts_crc32(head, sizeof(head)), 4);
    for (size_t at = 0; at < n; at += PROBEPARTS_LZMA2_CHUNK) {
        size_t k = n - at < PROBEPARTS_LZMA2_CHUNK ? n - at : PROBEPARTS_LZMA2_CHUNK;
        unsigned char ch[3] = { at == 0 ? 0x01 : 0x02, (unsigned char)((k - 1) >> 8),
                                (unsigned char)((k - 1) & 0xff) };

        buf_put(b, ch, sizeof(ch));
        buf_put(b, d + at, k);
    }
    buf_zeros(b, 1);                             /* end of LZMA2 data */
    unpadded = b->n - start + 4;
    buf_zeros(b, (4 - (b->n - start) % 4) % 4);
    buf_le(b, probeparts_crc32(d, n), 4);
    return unpadded;
}

/* The stream footer: CRC32, backward size (of the index), flags, "YZ". */
static void
xz_footer(struct buf *b, size_t index_len, const unsigned char flags[2])
{
    unsigned long backward = (unsigned long)(index_len / 4 - 1);
    unsigned char foot[6] = { (unsigned char)(backward & 0xff),
                              (unsigned char)((backward >> 8) & 0xff),
                              (unsigned char)((backward >> 16) & 0xff),
                              (unsigned char)((backward >> 24) & 0xff), flags[0], flags[1] };

    buf_le(b, probeparts_crc32(foot, sizeof(foot)), 4);
    buf_put(b, foot, sizeof(foot));
    buf_put(b, "YZ", 2);
}

static void
make_tar_xz(struct buf *b, const char *text)
{
    static const unsigned char magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
    static const unsigned char flags[2] = { 0x00, 0x01 };   /* CRC32 check */
    struct buf tar = { NULL, 0, 0, true }, idx = { NULL, 0, 0, true };
    size_t unpadded;

    tar_of(&tar, text);
    buf_put(b, magic, sizeof(magic));
    buf_put(b, flags, sizeof(flags));
    buf_le(b, probeparts_crc32(flags, sizeof(flags)), 4);
    unpadded = tar.ok ? xz_block(b, tar.d, tar.n) : 0;
    buf_zeros(&idx, 1);                          /* index indicator */
    buf_varint(&idx, 1);
    buf_varint(&idx, unpadded);
    buf_varint(&idx, tar.n);
    buf_zeros(&idx, (4 - idx.n % 4) % 4);
    buf_le(&idx, idx.ok ? probeparts_crc32(idx.d, idx.n) : 0, 4);
    buf_put(b, idx.d, idx.n);
    xz_footer(b, idx.n, flags);
    b->ok = b->ok && tar.ok && idx.ok;
    free(tar.d);
    free(idx.d);
}

/* ---- keys and certificates ---- */

static void
make_pem_key(struct buf *b)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    BIO *mem = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;

    if (k != NULL && mem != NULL && PEM_write_bio_PrivateKey(mem, k, NULL, NULL, 0, NULL, NULL)
        && (n = BIO_get_mem_data(mem, &p)) > 0)
        buf_put(b, p, (size_t)n);
    else
        b->ok = false;
    BIO_free(mem);
    EVP_PKEY_free(k);
}

static bool
cert_fill(X509 *x, EVP_PKEY *k)
{
    X509_NAME *name = X509_get_subject_name(x);
    BIGNUM *serial = BN_new();
    bool ok = serial != NULL && BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
              && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL;

    BN_free(serial);
    return ok && X509_set_version(x, 2)
           && X509_gmtime_adj(X509_getm_notBefore(x), 0)
           && X509_gmtime_adj(X509_getm_notAfter(x), 86400L * PROBEPARTS_CERT_DAYS)
           && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"cpr-milter mail-path probe",
                                         -1, -1, 0)
           && X509_set_issuer_name(x, name) && X509_set_pubkey(x, k)
           && X509_sign(x, k, EVP_sha256()) > 0;
}

static void
make_der(struct buf *b)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    unsigned char *der = NULL;
    int n;

    if (k != NULL && x != NULL && cert_fill(x, k) && (n = i2d_X509(x, &der)) > 0)
        buf_put(b, der, (size_t)n);
    else
        b->ok = false;
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* ---- entry points ---- */

bool
probeparts_make(const char *variant, const char *text, struct probe_part *out)
{
    struct buf b = { NULL, 0, 0, true };

    memset(out, 0, sizeof(*out));
    if (variant == NULL || !probeparts_known(variant))
        return false;
    if (strcmp(variant, "pem-key") == 0) {
        make_pem_key(&b);
    } else if (strcmp(variant, "zip") == 0) {
        make_zip(&b, text);
        out->type = "application/zip";
        out->filename = "probe.zip";
    } else if (strcmp(variant, "tar-xz") == 0) {
        make_tar_xz(&b, text);
        out->type = "application/x-xz";
        out->filename = "probe.tar.xz";
    } else if (strcmp(variant, "der") == 0) {
        make_der(&b);
        out->type = "application/pkix-cert";
        out->filename = "probe.der";
    }
    if (!b.ok) {
        free(b.d);
        return false;
    }
    out->data = b.d;
    out->len = b.n;
    return true;
}

void
probeparts_free(struct probe_part *p)
{
    free(p->data);
    memset(p, 0, sizeof(*p));
}

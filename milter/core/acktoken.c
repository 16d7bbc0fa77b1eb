/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   acktoken - the signed token of a one-click acknowledge link
 * SUMMARY
 *   acktoken_make(key, keylen, &t, buf, sizeof buf);
 *   acktoken_verify(buf, key, keylen, now_ms, &t);
 * DESCRIPTION
 *   See acktoken.h for the layout. Owns the token's bytes: packing,
 *   unpacking, the MAC and base64url. Pure: the clock is passed in, and the
 *   nonce comes with the struct (acklink.c draws it).
 * DIAGNOSTICS
 *   Statuses, never messages: the caller decides what a visitor sees.
 */
#include "acktoken.h"

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ACKTOKEN_HEAD (1 + 8 + 8 + ACKTOKEN_NONCE_LEN)   /* version, times, nonce */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *const acktoken_clocks[] = {
    "acknowledge", "report-reporter", "report-subscriber", "revocation", NULL
};

bool
acktoken_clock_known(const char *clock)
{
    for (size_t i = 0; acktoken_clocks[i] != NULL; i++)
        if (strcmp(clock, acktoken_clocks[i]) == 0)
            return true;
    return false;
}

static bool
acktoken_channel_ok(const char *s, size_t n)
{
    if (n == 0 || n > ACKTOKEN_CHANNEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

const char *
acktoken_status_text(enum acktoken_status s)
{
    switch (s) {
    case ACKTOKEN_OK:
        return "valid";
    case ACKTOKEN_MALFORMED:
        return "not a link of ours";
    case ACKTOKEN_BAD_MAC:
        return "the link's signature does not verify (altered, or signed with another key)";
    case ACKTOKEN_BAD_VERSION:
        return "a link of a version this program does not accept";
    case ACKTOKEN_EXPIRED:
        return "the link has expired";
    case ACKTOKEN_BAD_KEY:
        return "no usable link key";
    }
    return "unknown";
}

/* ---- base64url ---- */

bool
acktoken_b64_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    size_t i, o = 0, need = (n * 4 + 2) / 3 + 1;
    uint32_t v;

    if (outlen < need)
        return false;
    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
    return true;
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long
acktoken_b64_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
    size_t i, o = 0, rest = len % 4;
    uint32_t v = 0;
    int d, bits = 0;

    if (rest == 1 || (len / 4) * 3 + (rest ? rest - 1 : 0) > outlen)
        return -1;
    for (i = 0; i < len; i++) {
        if ((d = b64_value(in[i])) < 0)
            return -1;
        v = v << 6 | (uint32_t) d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char) (v >> bits & 0xff);
        }
    }
    /* The bits left over must be zero: one token has one spelling. */
    if (bits > 0 && (v & ((1u << bits) - 1)) != 0)
        return -1;
    return (long) o;
}

/* ---- the bytes ---- */

static bool
acktoken_mac(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t n,
             unsigned char mac[ACKTOKEN_MAC_LEN])
{
    unsigned char buf[sizeof(ACKTOKEN_DOMAIN) + ACKTOKEN_RAW_MAX];
    unsigned int maclen = 0;

    if (n > ACKTOKEN_RAW_MAX)
        return false;
    memcpy(buf, ACKTOKEN_DOMAIN, sizeof(ACKTOKEN_DOMAIN));   /* with its NUL */
    memcpy(buf + sizeof(ACKTOKEN_DOMAIN), msg, n);
    return HMAC(EVP_sha256(), key, (int) keylen, buf, sizeof(ACKTOKEN_DOMAIN) + n, mac,
                &maclen) != NULL && maclen == ACKTOKEN_MAC_LEN;
}

static size_t
put_field(unsigned char *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (unsigned char) n;
    memcpy(p + 1, s, n);
    return n + 1;
}

static size_t
put_time(unsigned char *p, long long ms)
{
    uint64_t v = (uint64_t) ms;

    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char) (v >> ((7 - i) * 8) & 0xff);
    return 8;
}

/* 8 big-endian bytes; false above INT64_MAX. */
static bool
get_time(const unsigned char *p, long long *ms)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    if (v > (uint64_t) INT64_MAX)
        return false;
    *ms = (long long) v;
    return true;
}

static bool
acktoken_fields_ok(const struct acktoken *t)
{
    return tracking_parse(t->tracking, NULL, NULL) && acktoken_clock_known(t->clock)
           && acktoken_channel_ok(t->channel, strlen(t->channel));
}

bool
acktoken_make(const unsigned char *key, size_t keylen, const struct acktoken *t, char *out,
              size_t outlen)
{
    unsigned char raw[ACKTOKEN_RAW_MAX];
    size_t n = 0;

    if (keylen < ACKTOKEN_KEY_MIN || t->issued_ms <= 0 || t->expires_ms <= t->issued_ms
        || t->expires_ms - t->issued_ms > ACKTOKEN_TTL_MAX_MS || !acktoken_fields_ok(t))
        return false;
    raw[n++] = ACKTOKEN_VERSION;
    n += put_time(raw + n, t->issued_ms);
    n += put_time(raw + n, t->expires_ms);
    memcpy(raw + n, t->nonce, ACKTOKEN_NONCE_LEN);
    n += ACKTOKEN_NONCE_LEN;
    n += put_field(raw + n, t->tracking);
    n += put_field(raw + n, t->clock);
    n += put_field(raw + n, t->channel);
    if (!acktoken_mac(key, keylen, raw, n, raw + n))
        return false;
    return acktoken_b64_encode(raw, n + ACKTOKEN_MAC_LEN, out, outlen);
}

/* The field at *pos into dst (size cap + 1); false when it overruns end. */
static bool
get_field(const unsigned char *raw, size_t end, size_t *pos, char *dst, size_t cap)
{
    size_t n;

    if (*pos >= end || (n = raw[*pos]) == 0 || n > cap || *pos + 1 + n > end)
        return false;
    memcpy(dst, raw + *pos + 1, n);
    dst[n] = '\0';
    if (memchr(dst, '\0', n) != NULL)
        return false;
    *pos += 1 + n;
    return true;
}

/* Splits raw[0, body) into t; false unless the fields fill it exactly. */
static bool
acktoken_unpack(const unsigned char *raw, size_t body, struct acktoken *t)
{
    size_t pos = ACKTOKEN_HEAD;

    if (body < ACKTOKEN_HEAD || !get_time(raw + 1, &t->issued_ms)
        || !get_time(raw + 9, &t->expires_ms))
        return false;
    memcpy(t->nonce, raw + 17, ACKTOKEN_NONCE_LEN);
    return get_field(raw, body, &pos, t->tracking, TRACKING_MAX - 1)
           && get_field(raw, body, &pos, t->clock, ACKTOKEN_CLOCK_MAX)
           && get_field(raw, body, &pos, t->channel, ACKTOKEN_CHANNEL_MAX) && pos == body;
}

enum acktoken_status
acktoken_verify(const char *token, const unsigned char *key, size_t keylen, long long now_ms,
                struct acktoken *out)
{
    unsigned char raw[ACKTOKEN_RAW_MAX], mac[ACKTOKEN_MAC_LEN];
    struct acktoken t;
    size_t len;
    long n;

    memset(&t, 0, sizeof(t));
    if (keylen < ACKTOKEN_KEY_MIN)
        return ACKTOKEN_BAD_KEY;
    if (token == NULL || (len = strnlen(token, ACKTOKEN_MAX)) >= ACKTOKEN_MAX)
        return ACKTOKEN_MALFORMED;
    if ((n = acktoken_b64_decode(token, len, raw, sizeof(raw))) < 0
        || (size_t) n < ACKTOKEN_HEAD + 3 * 2 + ACKTOKEN_MAC_LEN)
        return ACKTOKEN_MALFORMED;
    if (!acktoken_unpack(raw, (size_t) n - ACKTOKEN_MAC_LEN, &t))
        return ACKTOKEN_MALFORMED;
    if (!acktoken_mac(key, keylen, raw, (size_t) n - ACKTOKEN_MAC_LEN, mac)
        || CRYPTO_memcmp(mac, raw + n - ACKTOKEN_MAC_LEN, ACKTOKEN_MAC_LEN) != 0)
        return ACKTOKEN_BAD_MAC;
    if (raw[0] != ACKTOKEN_VERSION)
        return ACKTOKEN_BAD_VERSION;
    if (!acktoken_fields_ok(&t) || t.issued_ms <= 0 || t.expires_ms <= t.issued_ms
        || t.expires_ms - t.issued_ms > ACKTOKEN_TTL_MAX_MS)
        return ACKTOKEN_MALFORMED;
    if (now_ms >= t.expires_ms)
        return ACKTOKEN_EXPIRED;
    if (t.expires_ms - now_ms > ACKTOKEN_TTL_MAX_MS)
        return ACKTOKEN_MALFORMED;    /* ours, yet longer-lived than any we make */
    *out = t;
    return ACKTOKEN_OK;
}

bool
acktoken_form_nonce(const unsigned char *key, size_t keylen, const char *token, char *out,
                    size_t outlen)
{
    unsigned char buf[sizeof(ACKTOKEN_FORM_DOMAIN) + ACKTOKEN_MAX], mac[ACKTOKEN_MAC_LEN];
    size_t n = strnlen(token, ACKTOKEN_MAX);
    unsigned int maclen = 0;

    if (keylen < ACKTOKEN_KEY_MIN || n >= ACKTOKEN_MAX)
        return false;
    memcpy(buf, ACKTOKEN_FORM_DOMAIN, sizeof(ACKTOKEN_FORM_DOMAIN));
    memcpy(buf + sizeof(ACKTOKEN_FORM_DOMAIN), token, n);
    if (HMAC(EVP_sha256(), key, (int) keylen, buf, sizeof(ACKTOKEN_FORM_DOMAIN) + n, mac,
             &maclen) == NULL || maclen != ACKTOKEN_MAC_LEN)
        return false;
    return acktoken_b64_encode(mac, sizeof(mac), out, outlen);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   acktoken - the signed token of a one-click acknowledge link
 * SUMMARY
 *   acktoken_make(key, keylen, &t, buf, sizeof buf);
 *   if (acktoken_verify(buf, key, keylen, now_ms, &t) == ACKTOKEN_OK) ...
 * DESCRIPTION
 *   A token is base64url (RFC 4648 section 5, no padding) of
 *     version (1 byte, ACKTOKEN_VERSION) || issued || expiry (8 bytes
 *     each, big-endian ms since the epoch, UTC) || nonce (16 bytes) ||
 *     tracking || clock ||
 *     channel (each one length byte and its bytes) || HMAC-SHA256
 *   where the HMAC is keyed with the [web] secret and taken over
 *   ACKTOKEN_DOMAIN, a NUL, and every byte before it. The clock is the case
 *   clock the page was about (acktoken_clock_known); the channel is the
 *   paged channel, the actor when no trusted proxy names a person. The
 *   issue time lets the database refuse a link made before the case's
 *   acknowledge clock (re)started: a link is for its own clock only.
 *   Once-only use is not decided here: the nonce is recorded by the
 *   database (sql/027_ack_links.sql) in the same transaction as the ack.
 * DIAGNOSTICS
 *   acktoken_verify checks, in order: the length and alphabet (strict
 *   base64url, canonical trailing bits), the field lengths, the MAC
 *   (CRYPTO_memcmp, constant time), the version, the fields' syntax, then
 *   the expiry against now (and that the token lives no longer than
 *   ACKTOKEN_TTL_MAX_MS). The first failure is the status returned; out
 *   is filled only on ACKTOKEN_OK.
 */
#ifndef CPR_ACKTOKEN_H
#define CPR_ACKTOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "tracking.h"

#define ACKTOKEN_VERSION     1
#define ACKTOKEN_DOMAIN      "cpr-ack-link-v1"
#define ACKTOKEN_NONCE_LEN   16     /* 128 bits */
#define ACKTOKEN_MAC_LEN     32     /* HMAC-SHA256 */
#define ACKTOKEN_KEY_MIN     32     /* bytes of the key, at least */
#define ACKTOKEN_CLOCK_MAX   32     /* bytes of a clock name */
#define ACKTOKEN_CHANNEL_MAX 64     /* bytes of a channel name (CONFIG_NAME_MAX) */
#define ACKTOKEN_TTL_MAX_MS  (7LL * 24 * 3600 * 1000)   /* no link lives longer */
#define ACKTOKEN_RAW_MAX (1 + 8 + 8 + ACKTOKEN_NONCE_LEN + 1 + (TRACKING_MAX - 1) + 1 \
                          + ACKTOKEN_CLOCK_MAX + 1 + ACKTOKEN_CHANNEL_MAX + ACKTOKEN_MAC_LEN)
/* Characters of the longest token, with the NUL. */
#define ACKTOKEN_MAX ((ACKTOKEN_RAW_MAX * 4 + 2) / 3 + 1)

struct acktoken {
    long long issued_ms;                        /* UTC ms since the epoch */
    long long expires_ms;                       /* after issued_ms */
    unsigned char nonce[ACKTOKEN_NONCE_LEN];
    char tracking[TRACKING_MAX];
    char clock[ACKTOKEN_CLOCK_MAX + 1];
    char channel[ACKTOKEN_CHANNEL_MAX + 1];
};

enum acktoken_status {
    ACKTOKEN_OK,
    ACKTOKEN_MALFORMED,     /* not a token of ours: length, alphabet, fields */
    ACKTOKEN_BAD_MAC,       /* tampered with, or signed with another key */
    ACKTOKEN_BAD_VERSION,   /* ours once, but a version this program refuses */
    ACKTOKEN_EXPIRED,       /* now is at or past the expiry */
    ACKTOKEN_BAD_KEY        /* the key given is shorter than ACKTOKEN_KEY_MIN */
};

/* The token of t into out (ACKTOKEN_MAX bytes suffice). False when a field
 * is malformed (tracking_parse, acktoken_clock_known, channel of
 * [A-Za-z0-9_.-]), the key is short, out is too small or HMAC fails. */
bool acktoken_make(const unsigned char *key, size_t keylen, const struct acktoken *t,
                   char *out, size_t outlen);

enum acktoken_status acktoken_verify(const char *token, const unsigned char *key,
                                     size_t keylen, long long now_ms, struct acktoken *out);

/* The form nonce of a token's page: base64url of HMAC-SHA256(key,
 * ACKTOKEN_FORM_DOMAIN NUL token), 43 characters, into out
 * (ACKTOKEN_FORM_MAX bytes). The page's form carries it; a POST without
 * it was not made from the page (cpr-web's CSRF rule, with Sec-Fetch-Site
 * and Origin). */
#define ACKTOKEN_FORM_DOMAIN "cpr-ack-form-v1"
#define ACKTOKEN_FORM_MAX 44
bool acktoken_form_nonce(const unsigned char *key, size_t keylen, const char *token,
                         char *out, size_t outlen);

/* acknowledge, report-reporter, report-subscriber or revocation. */
bool acktoken_clock_known(const char *clock);

/* A short English phrase for a status, for pages and logs. */
const char *acktoken_status_text(enum acktoken_status s);

/* base64url without padding of [in, in+n) into out; false if out is short. */
bool acktoken_b64_encode(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Strict decoding: only the alphabet, no padding, canonical final bits.
 * The number of bytes written, or -1. */
long acktoken_b64_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

#endif

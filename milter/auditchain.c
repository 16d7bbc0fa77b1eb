/*
 * NAME
 *   auditchain - check the per-case SHA-256 event chains, and digest them
 * DESCRIPTION
 *   See auditchain.h. Owns the recomputation of event hashes (OpenSSL
 *   EVP SHA-256) and the digest format. No I/O, no database.
 * DIAGNOSTICS
 *   An OpenSSL failure is reported as a break (the hash cannot be checked),
 *   never as a pass. Allocation failure of the digest context is fatal.
 */
#include "auditchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"

#define AUDIT_EX_FAIL 1

void
audit_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
audit_unhex(const char *hex, unsigned char *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static void
audit_break(struct audit_chain *ch, long seq, const char *what)
{
    ch->breaks++;
    if (ch->on_break)
        ch->on_break(ch->arg, ch->tracking, seq, what);
}

void
audit_chain_begin(struct audit_chain *ch, const char *tracking, const char *head_hex,
                  audit_break_fn on_break, void *arg)
{
    memset(ch, 0, sizeof(*ch));
    snprintf(ch->tracking, sizeof(ch->tracking), "%s", tracking ? tracking : "?");
    snprintf(ch->head_hex, sizeof(ch->head_hex), "%s", head_hex ? head_hex : "");
    ch->on_break = on_break;
    ch->arg = arg;
}

/* SHA-256(prev || canonical); false if OpenSSL failed. */
static bool
audit_sha256(const unsigned char *prev, const unsigned char *canon, size_t len,
             unsigned char out[AUDIT_HASH_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
        && (!prev || EVP_DigestUpdate(md, prev, AUDIT_HASH_LEN) == 1)
        && EVP_DigestUpdate(md, canon, len) == 1
        && EVP_DigestFinal_ex(md, out, &n) == 1 && n == AUDIT_HASH_LEN;

    EVP_MD_CTX_free(md);
    return ok;
}

/* The stored prev_hash must be the previous event's hash (none for seq 1). */
static void
audit_check_prev(struct audit_chain *ch, long seq, const char *prev_hex)
{
    unsigned char prev[AUDIT_HASH_LEN];
    bool has_prev = prev_hex && *prev_hex;

    if (!ch->have_last) {
        if (has_prev)
            audit_break(ch, seq, "the first event has a prev_hash");
        return;
    }
    if (!has_prev || !audit_unhex(prev_hex, prev, sizeof(prev))
        || memcmp(prev, ch->last, sizeof(prev)) != 0)
        audit_break(ch, seq, "prev_hash is not the hash of the event before it");
}

void
audit_chain_add(struct audit_chain *ch, long seq, const char *prev_hex,
                const char *hash_hex, const unsigned char *canonical, size_t len)
{
    unsigned char stored[AUDIT_HASH_LEN], computed[AUDIT_HASH_LEN];
    char what[96];

    if (seq != ch->last_seq + 1) {
        snprintf(what, sizeof(what), "seq %ld follows seq %ld (events missing or out of order)",
                 seq, ch->last_seq);
        audit_break(ch, seq, what);
    }
    audit_check_prev(ch, seq, prev_hex);
    if (!audit_sha256(ch->have_last ? ch->last : NULL, canonical, len, computed))
        audit_break(ch, seq, "cannot compute SHA-256 (OpenSSL failed)");
    else if (!audit_unhex(hash_hex, stored, sizeof(stored)))
        audit_break(ch, seq, "the stored hash is not a SHA-256");
    else if (memcmp(stored, computed, sizeof(stored)) != 0)
        audit_break(ch, seq, "hash does not match the event's content");
    /* The chain goes on from the stored hash when there is one, so one
     * edited event is named once; an edit that also rewrote its hash
     * breaks the next event's prev_hash, and so on up to the head. */
    if (audit_unhex(hash_hex, stored, sizeof(stored)))
        memcpy(ch->last, stored, sizeof(ch->last));
    else
        memcpy(ch->last, computed, sizeof(ch->last));
    ch->have_last = true;
    ch->last_seq = seq;
}

size_t
audit_chain_end(struct audit_chain *ch)
{
    char last_hex[AUDIT_HEX_LEN] = "";

    if (ch->have_last)
        audit_hex(ch->last, AUDIT_HASH_LEN, last_hex);
    if (strcmp(last_hex, ch->head_hex) != 0)
        audit_break(ch, 0, ch->have_last ? "the case's audit_head is not its last event's hash"
                                         : "the case has an audit_head but no events");
    return ch->breaks;
}

void
audit_digest_line(const struct audit_chain *ch, char *buf, size_t len)
{
    char hex[AUDIT_HEX_LEN] = "-";

    if (ch->have_last)
        audit_hex(ch->last, AUDIT_HASH_LEN, hex);
    snprintf(buf, len, "%s %ld %s\n", ch->tracking, ch->last_seq, hex);
}

struct audit_digest {
    EVP_MD_CTX *md;
};

struct audit_digest *
audit_digest_new(void)
{
    struct audit_digest *d = malloc(sizeof(*d));

    if (!d || !(d->md = EVP_MD_CTX_new())
        || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
        log_fatal(AUDIT_EX_FAIL, "cannot start a SHA-256 digest (OpenSSL)");
    return d;
}

void
audit_digest_add(struct audit_digest *d, const char *line)
{
    if (EVP_DigestUpdate(d->md, line, strlen(line)) != 1)
        log_fatal(AUDIT_EX_FAIL, "SHA-256 digest update failed (OpenSSL)");
}

void
audit_digest_finish(struct audit_digest *d, char hex[AUDIT_HEX_LEN])
{
    unsigned char out[AUDIT_HASH_LEN];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(d->md, out, &n) != 1 || n != AUDIT_HASH_LEN)
        log_fatal(AUDIT_EX_FAIL, "SHA-256 digest failed (OpenSSL)");
    EVP_MD_CTX_free(d->md);
    free(d);
    audit_hex(out, AUDIT_HASH_LEN, hex);
}

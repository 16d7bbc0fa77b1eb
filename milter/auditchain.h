/*
 * NAME
 *   auditchain - check the per-case SHA-256 event chains, and digest them
 * SUMMARY
 *   struct audit_chain ch; audit_chain_begin(&ch, tracking, head_hex, cb, arg);
 *   audit_chain_add(&ch, seq, prev_hex, hash_hex, canonical, len);  ...
 *   audit_chain_end(&ch);   audit_digest_line(&ch, buf, len);
 * DESCRIPTION
 *   The database chains each case's events: hash = SHA-256(prev_hash ||
 *   canonical), where canonical is cpr.event_canonical() of the event
 *   (sql/001_schema.sql). This module recomputes every hash in C with
 *   OpenSSL from the canonical bytes, so a replaced SQL hash function is
 *   not trusted, and checks that seq runs 1..n without gaps, that each
 *   prev_hash is the previous event's hash (NULL for seq 1), and that the
 *   case's audit_head is the last hash. Each break goes to the callback
 *   with the tracking number, the seq (0: the case as a whole) and what.
 *
 *   The digest: one line per case, "TRACKING SEQ HEAD\n" (SEQ the last
 *   seq, HEAD its hash in lower-case hex; a case with no events has SEQ 0
 *   and HEAD "-"), and one SHA-256 over all those lines in order
 *   (audit_digest_*), so that a copy kept elsewhere shows any rewrite.
 * DIAGNOSTICS
 *   audit_chain_end returns the number of breaks found in the case.
 */
#ifndef CPR_AUDITCHAIN_H
#define CPR_AUDITCHAIN_H

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_HASH_LEN   32
#define AUDIT_HEX_LEN    (2 * AUDIT_HASH_LEN + 1)
#define AUDIT_TRACKING_MAX 64
#define AUDIT_LINE_MAX   (AUDIT_TRACKING_MAX + 24 + AUDIT_HEX_LEN)

typedef void (*audit_break_fn)(void *arg, const char *tracking, long seq, const char *what);

struct audit_chain {
    char tracking[AUDIT_TRACKING_MAX];
    char head_hex[AUDIT_HEX_LEN];      /* cases.audit_head; "" if NULL */
    long last_seq;                     /* 0 before the first event */
    unsigned char last[AUDIT_HASH_LEN];
    bool have_last;
    size_t breaks;
    audit_break_fn on_break;
    void *arg;
};

void audit_chain_begin(struct audit_chain *ch, const char *tracking, const char *head_hex,
                       audit_break_fn on_break, void *arg);

/* One event in seq order; prev_hex NULL or "" for none. */
void audit_chain_add(struct audit_chain *ch, long seq, const char *prev_hex,
                     const char *hash_hex, const unsigned char *canonical, size_t len);

size_t audit_chain_end(struct audit_chain *ch);

/* "TRACKING SEQ HEAD\n" of a finished chain (the recomputed head). */
void audit_digest_line(const struct audit_chain *ch, char *buf, size_t len);

/* Hex of bytes; hex to bytes (false if not exactly n bytes of hex). */
void audit_hex(const unsigned char *in, size_t n, char *out);
bool audit_unhex(const char *hex, unsigned char *out, size_t n);

/* SHA-256 over a sequence of digest lines. */
struct audit_digest;
struct audit_digest *audit_digest_new(void);
void audit_digest_add(struct audit_digest *d, const char *line);
/* The hex digest; frees d. */
void audit_digest_finish(struct audit_digest *d, char hex[AUDIT_HEX_LEN]);

#endif

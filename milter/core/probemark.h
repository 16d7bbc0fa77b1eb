/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probemark.h - the signed mark that makes a message a mail-path probe
 * DESCRIPTION
 *   See probemark.c.
 */
#ifndef CPR_PROBEMARK_H
#define CPR_PROBEMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBEMARK_HEADER "CPR-Probe"         /* header name and body line prefix */
#define PROBEMARK_ID_MAX 64                  /* id characters, not counting NUL */
#define PROBEMARK_MAC_HEX 64                 /* HMAC-SHA256 in lower-case hex */
#define PROBEMARK_HASH_LEN 32                /* SHA-256 of the canonical body */
#define PROBEMARK_SECRET_MIN 16              /* shortest secret we accept, bytes */
#define PROBEMARK_VALUE_MAX 160              /* formatted header value, with NUL */

struct probemark {
    char id[PROBEMARK_ID_MAX + 1];
    int64_t sent;                            /* Unix seconds, by the sender's clock */
    char mac[PROBEMARK_MAC_HEX + 1];
};

/* What the MAC covers, besides the mark's id and time. */
struct probemark_subject {
    const char *recipient;                   /* the CPR address, as in RCPT TO */
    const char *message_id;                  /* the Message-ID, without <> */
    unsigned char body_sha256[PROBEMARK_HASH_LEN];
    unsigned char headers_sha256[PROBEMARK_HASH_LEN];
};

/* One header of a message, as it arrived. */
struct probemark_header {
    const char *name;
    const char *value;
};

/* The headers a reader sees, each signed (NULL-terminated). */
extern const char *const probemark_signed_headers[];

bool probemark_body_hash(const char *body, size_t len,
                         unsigned char out[PROBEMARK_HASH_LEN]);
/* Over all n headers of a message: false, with *why, when a signed header
 * appears twice or a Content-* header is not a signed one. */
bool probemark_headers_hash(const struct probemark_header *h, size_t n,
                            unsigned char out[PROBEMARK_HASH_LEN], const char **why);
bool probemark_sign(const unsigned char *secret, size_t secret_len,
                    struct probemark *m, const struct probemark_subject *s);
bool probemark_verify(const unsigned char *secret, size_t secret_len,
                      const struct probemark *m, const struct probemark_subject *s);
bool probemark_format(char *buf, size_t size, const struct probemark *m);
bool probemark_parse(const char *value, struct probemark *m);
/* The first "CPR-Probe:" line of the body (the one the hash leaves out),
 * parsed; false when there is none or it is no mark. */
bool probemark_find_body(const char *body, size_t len, struct probemark *m);
/* Is there any "CPR-Probe:" line, a mark or not? */
bool probemark_body_has_mark_line(const char *body, size_t len);

#endif

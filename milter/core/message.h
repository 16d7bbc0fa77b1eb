/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   message - what the milter collects about one message
 * SUMMARY
 *   m = message_new(); message_add_header(m, name, value); ...
 *   message_keep_raw(m, max_bytes); message_body_update(m, chunk, len);
 *   message_finish(m);
 * DESCRIPTION
 *   Owns struct cpr_message: envelope, connection facts, a bounded list of
 *   headers, a SHA-256 of the body computed while streaming and, when asked
 *   for, the raw message up to a size cap. Milter
 *   callbacks only collect into it; classify and db take it read-only.
 *   message_finish() derives Message-ID, the decoded (UTF-8) Subject,
 *   In-Reply-To and References from the headers.
 */
#ifndef CPR_MESSAGE_H
#define CPR_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESSAGE_MAX_HEADERS      1000      /* headers kept per message */
#define MESSAGE_MAX_HEADER_BYTES (256 * 1024) /* header bytes kept */
#define MESSAGE_MAX_RCPTS        1000
#define MESSAGE_MAX_REFERENCES   100
#define MESSAGE_MAX_KEY_HEADERS  200       /* key headers kept past the cap */
#define MESSAGE_MAX_MSGID        998       /* a longer msg-id is not kept */
#define MESSAGE_MAX_XCPR_NAMES   64        /* distinct incoming X-CPR-* names */

struct cpr_header {
    char *name;
    char *value;
};

/* Bytes kept between body chunks past the cap, to see an armour line
 * split across two chunks. */
#define MESSAGE_CAP_TAIL 16
#define MESSAGE_KEY_ARMOUR "PRIVATE KEY-----"

struct cpr_message {
    /* connection */
    char *client_addr;
    char *client_name;
    char *helo;
    char *daemon_name;
    char *auth_authen;
    /* envelope */
    char *queue_id;
    char *env_from;            /* without <>; "" for the null sender */
    char **rcpts;              /* NULL-terminated */
    size_t nrcpts;
    bool has_cpr_rcpt;
    /* headers */
    struct cpr_header *headers;
    size_t nheaders;
    size_t header_bytes;
    bool headers_truncated;
    size_t nkey_extra;         /* key headers kept past the cap */
    /* incoming X-CPR-* headers, counted even when not kept: all are removed */
    char *xcpr_names[MESSAGE_MAX_XCPR_NAMES];
    int xcpr_counts[MESSAGE_MAX_XCPR_NAMES];
    size_t nxcpr;
    bool xcpr_overflow;        /* more distinct names than we can track */
    /* body */
    void *sha_ctx;             /* EVP_MD_CTX *, private */
    long long body_bytes;
    unsigned char body_sha256[32];
    /* the raw message (kept headers, blank line, body) up to raw_max bytes,
     * for the report analysis; raw_max 0 keeps nothing */
    char *raw;
    size_t raw_len, raw_cap, raw_max;
    size_t raw_body_at;        /* where the body starts in raw; 0: unknown */
    bool raw_truncated;        /* the message was longer than raw_max */
    bool key_past_cap;         /* private-key armour seen past raw_max */
    char cap_tail[MESSAGE_CAP_TAIL];  /* last bytes seen past the cap */
    size_t cap_tail_len;
    /* derived by message_finish() */
    char *message_id;          /* without <>, or NULL */
    char *subject;             /* decoded UTF-8, or NULL */
    char *in_reply_to;         /* without <>, or NULL */
    char **references;         /* NULL-terminated, without <> */
    size_t nreferences;
};

struct cpr_message *message_new(void);
void message_free(struct cpr_message *m);
/* Frees the per-message state but keeps the connection facts. */
void message_reset(struct cpr_message *m);

void message_set(char **field, const char *value);
bool message_add_rcpt(struct cpr_message *m, const char *rcpt);
/* Count an incoming X-CPR-* header by name, kept or not: every one of them
 * must be removed, and removal is by name and occurrence. Headers of other
 * names are ignored. message_add_header counts them too. */
void message_count_xcpr(struct cpr_message *m, const char *name);

bool message_add_header(struct cpr_message *m, const char *name, const char *value);
/* Keep the raw message (headers as kept, then the body) up to max_bytes
 * from the next body chunk on; set before the body. 0 keeps nothing. */
void message_keep_raw(struct cpr_message *m, size_t max_bytes);
bool message_body_update(struct cpr_message *m, const void *buf, size_t len);
bool message_finish(struct cpr_message *m);

/* RFC 2047-decode a header value to valid UTF-8 with every control
 * character (CR, LF, TAB, ...) replaced by a space. Caller frees. */
char *message_decode_header(const char *raw);

/* First header of that name (case-insensitive), or NULL. */
const char *message_header(const struct cpr_message *m, const char *name);

#endif

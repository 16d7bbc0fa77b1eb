/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probemark - sign, format, parse and verify a mail-path probe's mark
 * SUMMARY
 *   probemark_body_hash(body, len, s.body_sha256);
 *   probemark_sign(secret, n, &m, &s);  probemark_format(buf, sizeof buf, &m);
 *   probemark_parse(value, &m) && probemark_verify(secret, n, &m, &s)
 * DESCRIPTION
 *   A probe carries "CPR-Probe: v=1; id=ID; t=SECONDS; mac=HEX", as a
 *   header and as a line of its body. The MAC is HMAC-SHA256, with the
 *   secret shared by the sender and cpr-milter, over a NUL-separated
 *   string: "cpr-probe-v1", the id, the decimal time, the recipient (ASCII
 *   lower case), the Message-ID (its id, without the angle brackets;
 *   surrounding white space removed), the SHA-256 of the canonical body
 *   and the SHA-256 of the headers that say what a reader sees
 *   (probemark_signed_headers: Subject, Date, MIME-Version, Content-Type,
 *   Content-Transfer-Encoding; each "name:value\n" with the name in lower
 *   case and blank runs made one space, absent ones left out; not the
 *   address headers, which an MTA may rewrite). A signed header given twice, or another Content-* header, is no
 *   probe. So a mark copied onto another message, onto the same probe sent
 *   to another address, or kept under new headers (a report in the
 *   Subject, an HTML Content-Type that hides the text) does not verify.
 *
 *   The canonical body is the body as it arrived (attachments and MIME
 *   boundaries included), read line by line: the line ending and trailing
 *   blanks are removed, the first line that starts with "CPR-Probe:" (any
 *   case; it holds the mark, which cannot cover itself) is left out, but
 *   no later one (so nothing can be added to a probe in such lines),
 *   trailing empty lines are dropped, and each line is ended with CRLF.
 *   The line left out must itself be the mark: probecheck.c refuses a
 *   probe whose first such line does not parse to the header's mark. So
 *   the mark survives a relay that rewrites line endings or pads the end,
 *   and nothing else.
 *
 *   Freshness and once-per-id are not decided here: the time in the mark is
 *   the sender's, and the database compares it with its own clock.
 * DIAGNOSTICS
 *   All functions return false on malformed input, a short buffer, a
 *   secret shorter than PROBEMARK_SECRET_MIN or a failed digest. verify
 *   compares in constant time.
 */
#include "probemark.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PROBEMARK_DOMAIN "cpr-probe-v1"
#define PROBEMARK_PREFIX PROBEMARK_HEADER ":"
#define PROBEMARK_PREFIX_LEN (sizeof(PROBEMARK_PREFIX) - 1)
#define PROBEMARK_TIME_DIGITS 18
#define PROBEMARK_FIELD_MAX 998              /* RFC 5322 line limit */

static char
probemark_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
probemark_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
probemark_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_';
}

/* Does the line [s, s+n) start with "CPR-Probe:", in any case? */
static bool
probemark_is_mark_line(const char *s, size_t n)
{
    if (n < PROBEMARK_PREFIX_LEN)
        return false;
    for (size_t i = 0; i < PROBEMARK_PREFIX_LEN; i++)
        if (probemark_lower(s[i]) != probemark_lower(PROBEMARK_PREFIX[i]))
            return false;
    return true;
}

/* One line [s, s+n) without its ending and trailing blanks. */
static size_t
probemark_trim_end(const char *s, size_t n)
{
    while (n > 0 && probemark_blank(s[n - 1]))
        n--;
    return n;
}

static bool
probemark_hash_line(EVP_MD_CTX *ctx, const char *s, size_t n)
{
    return EVP_DigestUpdate(ctx, s, n) == 1 && EVP_DigestUpdate(ctx, "\r\n", 2) == 1;
}

static bool
probemark_hash_lines(EVP_MD_CTX *ctx, const char *body, size_t len)
{
    size_t pos = 0, empty = 0;
    bool marked = false;

    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        const char *line = body + pos;
        size_t n = probemark_trim_end(line, end - pos);

        pos = end + 1;
        if (!marked && probemark_is_mark_line(line, n)) {
            marked = true;      /* the mark's own line; any later one counts */
            continue;
        }
        if (n == 0) {
            empty++;            /* held back: dropped if only empties follow */
            continue;
        }
        for (; empty > 0; empty--)
            if (!probemark_hash_line(ctx, "", 0))
                return false;
        if (!probemark_hash_line(ctx, line, n))
            return false;
    }
    return true;
}

bool
probemark_body_hash(const char *body, size_t len, unsigned char out[PROBEMARK_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = ctx != NULL && (body != NULL || len == 0)
              && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
              && probemark_hash_lines(ctx, body, len)
              && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == PROBEMARK_HASH_LEN;

    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Not the address headers: an MTA may rewrite those (Postfix's canonical
 * maps and masquerading), and the milter sees them after cleanup. */
const char *const probemark_signed_headers[] = {
    "Subject", "Date", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL
};

static bool
probemark_is_signed(const char *name)
{
    for (size_t i = 0; probemark_signed_headers[i] != NULL; i++)
        if (strcasecmp(name, probemark_signed_headers[i]) == 0)
            return true;
    return false;
}

/* "name:value\n", name in lower case, the value's blank runs made one
 * space and trimmed (a relay may refold it). */
static bool
probemark_hash_header(EVP_MD_CTX *ctx, const char *name, const char *value)
{
    bool ok = true, blank = false, any = false;

    for (const char *c = name; *c && ok; c++) {
        char l = probemark_lower(*c);

        ok = EVP_DigestUpdate(ctx, &l, 1) == 1;
    }
    ok = ok && EVP_DigestUpdate(ctx, ":", 1) == 1;
    for (const char *c = value; *c && ok; c++) {
        if (probemark_blank(*c)) {
            blank = any;
            continue;
        }
        if (blank)
            ok = EVP_DigestUpdate(ctx, " ", 1) == 1;
        blank = false;
        any = true;
        ok = ok && EVP_DigestUpdate(ctx, c, 1) == 1;
    }
    return ok && EVP_DigestUpdate(ctx, "\n", 1) == 1;
}

/* The one header of that name among h, NULL if none; *twice if more. */
static const char *
probemark_header_of(const struct probemark_header *h, size_t n, const char *name, bool *twice)
{
    const char *found = NULL;

    *twice = false;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0) {
            *twice = *twice || found != NULL;
            found = h[i].value;
        }
    return found;
}

static const char *
probemark_headers_problem(const struct probemark_header *h, size_t n)
{
    bool twice;

    for (size_t i = 0; probemark_signed_headers[i] != NULL; i++)
        if (probemark_header_of(h, n, probemark_signed_headers[i], &twice) && twice)
            return "a signed header (Subject, Date, Content-Type, ...) appears twice";
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(h[i].name, "Content-", 8) == 0 && !probemark_is_signed(h[i].name))
            return "a Content-* header that probes do not carry";
    return NULL;
}

bool
probemark_headers_hash(const struct probemark_header *h, size_t n,
                       unsigned char out[PROBEMARK_HASH_LEN], const char **why)
{
    EVP_MD_CTX *ctx;
    unsigned int len = 0;
    bool ok, twice;

    if ((*why = probemark_headers_problem(h, n)) != NULL)
        return false;
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && probemark_signed_headers[i] != NULL; i++) {
        const char *v = probemark_header_of(h, n, probemark_signed_headers[i], &twice);

        if (v != NULL)
            ok = probemark_hash_header(ctx, probemark_signed_headers[i], v);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == PROBEMARK_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    *why = ok ? NULL : "cannot hash the headers";
    return ok;
}

/* Appends [s, s+n) and a NUL to buf at *pos; false when it does not fit. */
static bool
probemark_put(char *buf, size_t size, size_t *pos, const char *s, size_t n, bool lower)
{
    if (n >= size || *pos > size - n - 1 || memchr(s, '\0', n) != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[*pos + i] = lower ? probemark_lower(s[i]) : s[i];
    buf[*pos + n] = '\0';
    *pos += n + 1;
    return true;
}

static void
probemark_trim(const char **s, size_t *n)
{
    while (*n > 0 && probemark_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    *n = probemark_trim_end(*s, *n);
}

/* The bytes the MAC covers, into buf; returns their length or 0. */
static size_t
probemark_message(char *buf, size_t size, const struct probemark *m,
                  const struct probemark_subject *s)
{
    char t[PROBEMARK_TIME_DIGITS + 2];
    const char *mid = s->message_id;
    size_t pos = 0, mid_len = mid ? strlen(mid) : 0;

    if (s->recipient == NULL || mid == NULL || m->sent < 0)
        return 0;
    probemark_trim(&mid, &mid_len);
    snprintf(t, sizeof(t), "%" PRId64, m->sent);
    if (!probemark_put(buf, size, &pos, PROBEMARK_DOMAIN, strlen(PROBEMARK_DOMAIN), false)
        || !probemark_put(buf, size, &pos, m->id, strlen(m->id), false)
        || !probemark_put(buf, size, &pos, t, strlen(t), false)
        || !probemark_put(buf, size, &pos, s->recipient, strlen(s->recipient), true)
        || !probemark_put(buf, size, &pos, mid, mid_len, false)
        || size - pos < 2 * PROBEMARK_HASH_LEN)
        return 0;
    memcpy(buf + pos, s->body_sha256, PROBEMARK_HASH_LEN);
    memcpy(buf + pos + PROBEMARK_HASH_LEN, s->headers_sha256, PROBEMARK_HASH_LEN);
    return pos + 2 * PROBEMARK_HASH_LEN;
}

static bool
probemark_valid_id(const char *id)
{
    size_t n = strlen(id);

    for (size_t i = 0; i < n; i++)
        if (!probemark_id_char(id[i]))
            return false;
    return n > 0 && n <= PROBEMARK_ID_MAX;
}

static bool
probemark_mac(const unsigned char *secret, size_t secret_len, const struct probemark *m,
              const struct probemark_subject *s, char hex[PROBEMARK_MAC_HEX + 1])
{
    char msg[4 * PROBEMARK_FIELD_MAX + 2 * PROBEMARK_HASH_LEN];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    size_t len;

    if (secret == NULL || secret_len < PROBEMARK_SECRET_MIN || !probemark_valid_id(m->id))
        return false;
    len = probemark_message(msg, sizeof(msg), m, s);
    if (len == 0 || HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)msg, len,
                         mac, &n) == NULL || n != PROBEMARK_MAC_HEX / 2)
        return false;
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    OPENSSL_cleanse(msg, sizeof(msg));
    return true;
}

bool
probemark_sign(const unsigned char *secret, size_t secret_len, struct probemark *m,
               const struct probemark_subject *s)
{
    return m != NULL && s != NULL && probemark_mac(secret, secret_len, m, s, m->mac);
}

bool
probemark_verify(const unsigned char *secret, size_t secret_len, const struct probemark *m,
                 const struct probemark_subject *s)
{
    char want[PROBEMARK_MAC_HEX + 1];

    return m != NULL && s != NULL && strlen(m->mac) == PROBEMARK_MAC_HEX
           && probemark_mac(secret, secret_len, m, s, want)
           && CRYPTO_memcmp(want, m->mac, PROBEMARK_MAC_HEX) == 0;
}

bool
probemark_format(char *buf, size_t size, const struct probemark *m)
{
    int n;

    if (buf == NULL || m == NULL || !probemark_valid_id(m->id) || m->sent < 0
        || strlen(m->mac) != PROBEMARK_MAC_HEX)
        return false;
    n = snprintf(buf, size, "v=1; id=%s; t=%" PRId64 "; mac=%s", m->id, m->sent, m->mac);
    return n > 0 && (size_t)n < size;
}

/* Expects "name=" at *p (after blanks), then copies the value up to ';' or
 * the end into out (at most max chars, each accepted by ok). */
static bool
probemark_field(const char **p, const char *name, char *out, size_t max, bool (*ok)(char))
{
    size_t k = strlen(name), n = 0;

    while (probemark_blank(**p))
        (*p)++;
    if (strncmp(*p, name, k) != 0 || (*p)[k] != '=')
        return false;
    *p += k + 1;
    while (**p != '\0' && **p != ';' && !probemark_blank(**p)) {
        if (n == max || !ok(**p))
            return false;
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
    while (probemark_blank(**p))
        (*p)++;
    if (**p == ';')
        (*p)++;
    else if (**p != '\0')
        return false;
    return n > 0;
}

static bool
probemark_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
probemark_hex_char(char c)
{
    return probemark_digit(c) || (c >= 'a' && c <= 'f');
}

static bool
probemark_version(char c)
{
    return c == '1';
}

bool
probemark_parse(const char *value, struct probemark *m)
{
    char v[2], t[PROBEMARK_TIME_DIGITS + 1];
    const char *p = value;

    if (value == NULL || m == NULL || strlen(value) >= PROBEMARK_FIELD_MAX)
        return false;
    memset(m, 0, sizeof(*m));
    if (!probemark_field(&p, "v", v, 1, probemark_version)
        || !probemark_field(&p, "id", m->id, PROBEMARK_ID_MAX, probemark_id_char)
        || !probemark_field(&p, "t", t, PROBEMARK_TIME_DIGITS, probemark_digit)
        || !probemark_field(&p, "mac", m->mac, PROBEMARK_MAC_HEX, probemark_hex_char)
        || *p != '\0' || strlen(m->mac) != PROBEMARK_MAC_HEX)
        return false;
    m->sent = 0;
    for (const char *c = t; *c; c++)
        m->sent = m->sent * 10 + (*c - '0');   /* 18 digits cannot overflow */
    return true;
}

bool
probemark_body_has_mark_line(const char *body, size_t len)
{
    size_t pos = 0;

    while (body != NULL && pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;

        if (probemark_is_mark_line(body + pos, probemark_trim_end(body + pos, end - pos)))
            return true;
        pos = end + 1;
    }
    return false;
}

bool
probemark_find_body(const char *body, size_t len, struct probemark *m)
{
    size_t pos = 0;

    while (body != NULL && pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len;
        size_t n = probemark_trim_end(body + pos, end - pos);

        if (probemark_is_mark_line(body + pos, n) && n < PROBEMARK_FIELD_MAX) {
            char value[PROBEMARK_FIELD_MAX];

            memcpy(value, body + pos + PROBEMARK_PREFIX_LEN, n - PROBEMARK_PREFIX_LEN);
            value[n - PROBEMARK_PREFIX_LEN] = '\0';
            return probemark_parse(value, m);
        }
        pos = end + 1;
    }
    return false;
}

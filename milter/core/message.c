/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   message - what the milter collects about one message
 * DESCRIPTION
 *   Owns struct cpr_message (see message.h). Everything kept is bounded by
 *   the MESSAGE_MAX_* constants; past a bound the rest is counted, not kept,
 *   and the message is still delivered and recorded. The body is hashed
 *   (SHA-256) and counted in full; a raw copy of headers and body is kept
 *   only when asked for, and only up to its cap (the rest is hashed, not
 *   kept), so a 50 MB message costs at most the cap. GMime decodes the Subject
 *   (RFC 2047) to UTF-8; control characters in it become spaces, so no
 *   decoded CR or LF can ever reach a header we write.
 * DIAGNOSTICS
 *   Functions return false on allocation or OpenSSL failure.
 */
#include "message.h"
#include "mime.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <openssl/evp.h>

static pthread_once_t message_once = PTHREAD_ONCE_INIT;

static void
message_lib_init(void)
{
    g_mime_init();
}

struct cpr_message *
message_new(void)
{
    pthread_once(&message_once, message_lib_init);
    return calloc(1, sizeof(struct cpr_message));
}

void
message_set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void
message_reset(struct cpr_message *m)
{
    message_set(&m->queue_id, NULL);
    message_set(&m->env_from, NULL);
    message_set(&m->auth_authen, NULL);
    strv_free(m->rcpts, m->nrcpts);
    m->rcpts = NULL;
    m->nrcpts = 0;
    m->has_cpr_rcpt = false;
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    m->headers = NULL;
    m->nheaders = 0;
    m->header_bytes = 0;
    m->headers_truncated = false;
    m->nkey_extra = 0;
    for (size_t i = 0; i < m->nxcpr; i++)
        free(m->xcpr_names[i]);
    m->nxcpr = 0;
    m->xcpr_overflow = false;
    EVP_MD_CTX_free(m->sha_ctx);
    m->sha_ctx = NULL;
    m->body_bytes = 0;
    memset(m->body_sha256, 0, sizeof(m->body_sha256));
    free(m->raw);
    m->raw = NULL;
    m->raw_len = m->raw_cap = m->raw_max = m->raw_body_at = 0;
    m->raw_truncated = false;
    m->key_past_cap = false;
    m->cap_tail_len = 0;
    message_set(&m->message_id, NULL);
    message_set(&m->subject, NULL);
    message_set(&m->in_reply_to, NULL);
    strv_free(m->references, m->nreferences);
    m->references = NULL;
    m->nreferences = 0;
}

void
message_free(struct cpr_message *m)
{
    if (m == NULL)
        return;
    message_reset(m);
    free(m->client_addr);
    free(m->client_name);
    free(m->helo);
    free(m->daemon_name);
    free(m);
}

/* Append s to a NULL-terminated vector of at most max entries. */
static bool
strv_push(char ***v, size_t *n, size_t max, const char *s)
{
    char **nv;

    if (*n >= max)
        return false;
    nv = realloc(*v, (*n + 2) * sizeof(char *));
    if (nv == NULL)
        return false;
    *v = nv;
    if ((nv[*n] = strdup(s)) == NULL)
        return false;
    nv[++*n] = NULL;
    return true;
}

bool
message_add_rcpt(struct cpr_message *m, const char *rcpt)
{
    return strv_push(&m->rcpts, &m->nrcpts, MESSAGE_MAX_RCPTS, rcpt);
}

static bool
message_header_is_key(const char *name)
{
    static const char *const keys[] = {
        "Subject", "Message-ID", "In-Reply-To", "References", "Auto-Submitted",
        "Precedence", "X-Auto-Response-Suppress", "Content-Type", "From", "Reply-To",
        /* decoding (so a key in a base64 body is found and redacted) */
        "MIME-Version", "Content-Transfer-Encoding",
        /* spam signals */
        "X-Spam-Flag", "X-Spam-Status", "Authentication-Results", NULL };

    if (strncasecmp(name, "List-", 5) == 0 || strncasecmp(name, "X-CPR-", 6) == 0)
        return true;
    for (size_t i = 0; keys[i] != NULL; i++)
        if (strcasecmp(name, keys[i]) == 0)
            return true;
    return false;
}

#define MESSAGE_OWN_XCPR 4

static bool
message_is_own_xcpr(const char *name)
{
    static const char *const own[MESSAGE_OWN_XCPR] = {
        "X-CPR-Tracking", "X-CPR-Received", "X-CPR-Kind", "X-CPR-Category" };

    for (size_t i = 0; i < MESSAGE_OWN_XCPR; i++)
        if (strcasecmp(name, own[i]) == 0)
            return true;
    return false;
}

void
message_count_xcpr(struct cpr_message *m, const char *name)
{
    size_t i;

    if (strncasecmp(name, "X-CPR-", 6) != 0)
        return;
    for (i = 0; i < m->nxcpr; i++)
        if (strcasecmp(m->xcpr_names[i], name) == 0) {
            m->xcpr_counts[i]++;
            return;
        }
    /* The last slots are kept for the names we write ourselves, so no flood
     * of other X-CPR-* names can make a forged tracking number survive. */
    if (m->nxcpr >= MESSAGE_MAX_XCPR_NAMES - MESSAGE_OWN_XCPR && !message_is_own_xcpr(name))
        m->xcpr_overflow = true;
    if (m->nxcpr == MESSAGE_MAX_XCPR_NAMES || (m->xcpr_overflow && !message_is_own_xcpr(name))
        || (m->xcpr_names[m->nxcpr] = strdup(name)) == NULL) {
        m->xcpr_overflow = true;
        return;
    }
    m->xcpr_counts[m->nxcpr++] = 1;
}

/* Past the cap only key headers are kept, up to their own bound. */
static bool
message_header_fits(struct cpr_message *m, const char *name, size_t len)
{
    if (m->nheaders < MESSAGE_MAX_HEADERS && m->header_bytes + len <= MESSAGE_MAX_HEADER_BYTES)
        return true;
    m->headers_truncated = true;
    if (!message_header_is_key(name) || m->nkey_extra >= MESSAGE_MAX_KEY_HEADERS
        || len > MESSAGE_MAX_HEADER_BYTES)
        return false;
    m->nkey_extra++;
    return true;
}

bool
message_add_header(struct cpr_message *m, const char *name, const char *value)
{
    size_t len = strlen(name) + strlen(value);
    struct cpr_header *nh;

    message_count_xcpr(m, name);
    if (!message_header_fits(m, name, len))
        return true;
    nh = realloc(m->headers, (m->nheaders + 1) * sizeof(*nh));
    if (nh == NULL)
        return false;
    m->headers = nh;
    nh[m->nheaders].name = strdup(name);
    nh[m->nheaders].value = strdup(value);
    if (nh[m->nheaders].name == NULL || nh[m->nheaders].value == NULL) {
        free(nh[m->nheaders].name);
        free(nh[m->nheaders].value);
        return false;
    }
    m->nheaders++;
    m->header_bytes += len;
    return true;
}

void
message_keep_raw(struct cpr_message *m, size_t max_bytes)
{
    m->raw_max = max_bytes;
}

/* What is not kept is still watched for private-key armour, so that a
 * key past the cap makes a key-compromise report (report.c), even though
 * it cannot be analysed. */
static void
raw_watch_past_cap(struct cpr_message *m, const char *p, size_t n)
{
    const size_t k = sizeof(MESSAGE_KEY_ARMOUR) - 1;
    char probe[2 * MESSAGE_CAP_TAIL];
    size_t head = n < MESSAGE_CAP_TAIL ? n : MESSAGE_CAP_TAIL;

    if (m->key_past_cap || n == 0)
        return;
    /* Across the chunk boundary: the old tail and the new head. */
    memcpy(probe, m->cap_tail, m->cap_tail_len);
    memcpy(probe + m->cap_tail_len, p, head);
    for (size_t i = 0; i + k <= m->cap_tail_len + head && !m->key_past_cap; i++)
        m->key_past_cap = memcmp(probe + i, MESSAGE_KEY_ARMOUR, k) == 0;
    for (size_t i = 0; i + k <= n && !m->key_past_cap; i++)
        m->key_past_cap = p[i] == 'P' && memcmp(p + i, MESSAGE_KEY_ARMOUR, k) == 0;
    m->cap_tail_len = n < MESSAGE_CAP_TAIL ? n : MESSAGE_CAP_TAIL;
    memcpy(m->cap_tail, p + n - m->cap_tail_len, m->cap_tail_len);
}

/* Append up to what the cap allows; grow by doubling, never past the cap. */
static bool
raw_append(struct cpr_message *m, const void *buf, size_t len)
{
    size_t room = m->raw_max - m->raw_len, need;

    if (len > room) {
        m->raw_truncated = true;
        raw_watch_past_cap(m, (const char *)buf + room, len - room);
        len = room;
    }
    if (len == 0)
        return true;
    need = m->raw_len + len;
    if (need > m->raw_cap) {
        size_t cap = m->raw_cap ? m->raw_cap : 64 * 1024;
        char *p;

        while (cap < need)
            cap = cap > m->raw_max / 2 ? m->raw_max : cap * 2;
        if ((p = realloc(m->raw, cap)) == NULL)
            return false;
        m->raw = p;
        m->raw_cap = cap;
    }
    memcpy(m->raw + m->raw_len, buf, len);
    m->raw_len = need;
    return true;
}

/* The header block as kept, CRLF line ends, then the empty line. */
static bool
raw_append_headers(struct cpr_message *m)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (!raw_append(m, m->headers[i].name, strlen(m->headers[i].name))
            || !raw_append(m, ": ", 2)
            || !raw_append(m, m->headers[i].value, strlen(m->headers[i].value))
            || !raw_append(m, "\r\n", 2))
            return false;
    return raw_append(m, "\r\n", 2);
}

bool
message_body_update(struct cpr_message *m, const void *buf, size_t len)
{
    if (m->raw_max > 0 && m->raw_len == 0) {
        if (!raw_append_headers(m))
            return false;
        m->raw_body_at = m->raw_truncated ? 0 : m->raw_len;
    }
    if (m->raw_max > 0 && !raw_append(m, buf, len))
        return false;
    if (m->sha_ctx == NULL) {
        if ((m->sha_ctx = EVP_MD_CTX_new()) == NULL)
            return false;
        if (EVP_DigestInit_ex(m->sha_ctx, EVP_sha256(), NULL) != 1)
            return false;
    }
    m->body_bytes += (long long)len;
    return EVP_DigestUpdate(m->sha_ctx, buf, len) == 1;
}

const char *
message_header(const struct cpr_message *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

/* Copy the first <...> token starting at or after *p, advancing *p.
 * Returns NULL when there is none. */
static char *
message_next_msgid(const char **p)
{
    const char *lt = strchr(*p, '<');
    const char *gt;

    if (lt == NULL || (gt = strchr(lt + 1, '>')) == NULL)
        return NULL;
    *p = gt + 1;
    /* An absurdly long id is not kept (it could not be indexed, and the
     * message would tempfail forever); "" is skipped by the callers. */
    if (gt == lt + 1 || (size_t)(gt - lt - 1) > MESSAGE_MAX_MSGID)
        return strdup("");
    return strndup(lt + 1, (size_t)(gt - lt - 1));
}

/* The msg-id in a Message-ID or In-Reply-To value, without <>; a value
 * with no angle brackets is taken whole, trimmed. */
static char *
message_msgid(const char *value)
{
    const char *p = value;
    char *id = message_next_msgid(&p);
    size_t len;

    if (id != NULL && *id == '\0') {
        free(id);
        return NULL;
    }
    if (id != NULL || value == NULL)
        return id;
    while (isspace((unsigned char)*value))
        value++;
    len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    return len && len <= MESSAGE_MAX_MSGID ? strndup(value, len) : NULL;
}

static bool
message_parse_references(struct cpr_message *m, const char *value)
{
    const char *p = value;
    char *id;

    while ((id = message_next_msgid(&p)) != NULL) {
        bool ok = *id == '\0'
                  || strv_push(&m->references, &m->nreferences,
                               MESSAGE_MAX_REFERENCES, id);
        free(id);
        if (!ok)
            break;
    }
    return true;
}

/* Decode RFC 2047, make valid UTF-8, and turn control characters into
 * spaces. The result never contains CR, LF or NUL. */
char *
message_decode_header(const char *raw)
{
    /* mime.c's decoder: GMime alone loses the rest of a header after a
     * padded B encoded-word. Every control character becomes a space. */
    return mime_header_decode(raw);
}

bool
message_finish(struct cpr_message *m)
{
    unsigned int len = 0;
    const char *v;

    if (m->sha_ctx == NULL && !message_body_update(m, "", 0))
        return false;
    if (EVP_DigestFinal_ex(m->sha_ctx, m->body_sha256, &len) != 1 || len != 32)
        return false;
    if ((v = message_header(m, "Message-ID")) != NULL)
        m->message_id = message_msgid(v);
    if ((v = message_header(m, "In-Reply-To")) != NULL)
        m->in_reply_to = message_msgid(v);
    if ((v = message_header(m, "References")) != NULL)
        message_parse_references(m, v);
    if ((v = message_header(m, "Subject")) != NULL
        && (m->subject = message_decode_header(v)) == NULL)
        return false;
    return true;
}

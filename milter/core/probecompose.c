/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probecompose - write one signed mail-path probe
 * SUMMARY
 *   char *msg = probecompose(&spec, secret, len, err, sizeof err);
 * DESCRIPTION
 *   A probe is a plain report-like message to one CPR address: From, To,
 *   Subject, Date, Message-ID, MIME-Version, a CPR-Probe header, and a
 *   7-bit text part whose first line is the same mark. The pem-key variant
 *   adds a throwaway private key to the text; zip, tar-xz and der add an
 *   attachment (probeparts.c), base64 in 76-column lines. The message is
 *   written by hand, byte for byte, so the body signed is the body sent:
 *   the mark's HMAC (probemark.c) covers the canonical body, which leaves
 *   out the mark's own line, so the body is written once to be hashed and
 *   once with the mark, and the headers a reader sees, hashed from the same
 *   list they are written from. It carries no Auto-Submitted header: a probe whose
 *   mark no longer verifies must be taken in as a real report.
 * DIAGNOSTICS
 *   NULL with err set for a field holding a line break or other control
 *   character, an unknown variant, or a failure of OpenSSL or memory.
 */
#include "probecompose.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "probemark.h"
#include "probeparts.h"

#define PROBECOMPOSE_B64_IN 57              /* bytes per 76-column line */

static bool
field_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void
append_b64(GString *g, const unsigned char *d, size_t n)
{
    unsigned char line[4 * PROBECOMPOSE_B64_IN / 3 + 1];

    for (size_t at = 0; at < n; at += PROBECOMPOSE_B64_IN) {
        size_t k = n - at < PROBECOMPOSE_B64_IN ? n - at : PROBECOMPOSE_B64_IN;

        EVP_EncodeBlock(line, d + at, (int)k);
        g_string_append_printf(g, "%s\r\n", line);
    }
}

/* CRLF line ends for text with LF or CRLF ones. */
static void
append_crlf(GString *g, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            g_string_append_c(g, '\r');
        g_string_append_c(g, s[i]);
    }
}

static void
append_text(GString *g, const struct probe_spec *p, const struct probe_part *part,
            const char *mark)
{
    g_string_append_printf(g, "%s: %s\r\n", PROBEMARK_HEADER, mark);
    g_string_append_printf(g,
        "This is a cpr-milter mail-path probe (variant %s, id %s).\r\n"
        "It proves that reports sent to %s reach the people who read them.\r\n"
        "It opens no case and needs no answer. If it was taken in as a\r\n"
        "report, something on the way changed it: tell the CA's compliance team.\r\n",
        p->variant, p->id, p->to);
    if (part->type == NULL && part->len > 0) {
        g_string_append(g, "\r\nThe private key of a throwaway key made for this probe:\r\n\r\n");
        append_crlf(g, (const char *)part->data, part->len);
    }
}

static char *
boundary_of(const struct probe_spec *p)
{
    return g_strdup_printf("=_cpr-probe_%s", p->id);
}

static GString *
body_of(const struct probe_spec *p, const struct probe_part *part, const char *mark)
{
    GString *g = g_string_new(NULL);
    char *b;

    if (part->type == NULL) {
        append_text(g, p, part, mark);
        return g;
    }
    b = boundary_of(p);
    g_string_append_printf(g, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                           "Content-Transfer-Encoding: 7bit\r\n\r\n", b);
    append_text(g, p, part, mark);
    g_string_append_printf(g, "\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                           "Content-Disposition: attachment; filename=\"%s\"\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\n",
                           b, part->type, part->filename, part->filename);
    append_b64(g, part->data, part->len);
    g_string_append_printf(g, "--%s--\r\n", b);
    g_free(b);
    return g;
}

#define PROBECOMPOSE_HEADERS 9

/* The probe's headers, in the order they are written; values g_malloc'd.
 * The mark goes in last, once it is known. */
static size_t
headers_of(const struct probe_spec *p, const struct probe_part *part,
           struct probemark_header h[PROBECOMPOSE_HEADERS])
{
    char date[64], *b = boundary_of(p);
    struct tm tm;
    size_t n = 0;

    gmtime_r(&p->date, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    h[n++] = (struct probemark_header){ "From", g_strdup(p->from) };
    h[n++] = (struct probemark_header){ "To", g_strdup_printf("<%s>", p->to) };
    h[n++] = (struct probemark_header){ "Subject",
                                        g_strdup_printf("CPR mail-path probe %s", p->id) };
    h[n++] = (struct probemark_header){ "Date", g_strdup(date) };
    h[n++] = (struct probemark_header){ "Message-ID", g_strdup_printf("<%s>", p->message_id) };
    h[n++] = (struct probemark_header){ "MIME-Version", g_strdup("1.0") };
    if (part->type == NULL) {
        h[n++] = (struct probemark_header){ "Content-Type",
                                            g_strdup("text/plain; charset=us-ascii") };
        h[n++] = (struct probemark_header){ "Content-Transfer-Encoding", g_strdup("7bit") };
    } else {
        h[n++] = (struct probemark_header){ "Content-Type",
                                            g_strdup_printf("multipart/mixed; boundary=\"%s\"", b) };
    }
    g_free(b);
    return n;
}

static void
headers_free(struct probemark_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_free((char *)h[i].value);
}

static void
append_headers(GString *g, const struct probemark_header *h, size_t n, const char *mark)
{
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(g, "%s: %s\r\n", h[i].name, h[i].value);
    g_string_append_printf(g, "%s: %s\r\n\r\n", PROBEMARK_HEADER, mark);
}

/* The mark for this body and these headers; false when signing fails. */
static bool
sign(const struct probe_spec *p, const struct probe_part *part,
     const struct probemark_header *h, size_t nh, const unsigned char *secret,
     size_t secret_len, char mark[PROBEMARK_VALUE_MAX])
{
    GString *body = body_of(p, part, "-");
    struct probemark m;
    struct probemark_subject s = { p->to, p->message_id, { 0 }, { 0 } };
    const char *why;
    bool ok;

    memset(&m, 0, sizeof(m));
    snprintf(m.id, sizeof(m.id), "%s", p->id);
    m.sent = p->mark_unix;
    ok = strlen(p->id) < sizeof(m.id)
         && probemark_body_hash(body->str, body->len, s.body_sha256)
         && probemark_headers_hash(h, nh, s.headers_sha256, &why)
         && probemark_sign(secret, secret_len, &m, &s)
         && probemark_format(mark, PROBEMARK_VALUE_MAX, &m);
    g_string_free(body, TRUE);
    return ok;
}

char *
probecompose(const struct probe_spec *p, const unsigned char *secret, size_t secret_len,
             char *err, size_t errlen)
{
    struct probe_part part;
    struct probemark_header h[PROBECOMPOSE_HEADERS];
    char mark[PROBEMARK_VALUE_MAX], *inside;
    GString *msg, *body;
    size_t nh;
    bool made;

    if (!field_ok(p->id) || !field_ok(p->from) || !field_ok(p->to) || !field_ok(p->message_id)
        || strchr(p->to, '>') != NULL || strchr(p->message_id, '>') != NULL) {
        snprintf(err, errlen, "probe %s: a field is empty or holds a control character",
                 field_ok(p->id) ? p->id : "?");
        return NULL;
    }
    inside = g_strdup_printf("cpr-milter mail-path probe %s\n", p->id);
    made = probeparts_make(p->variant, inside, &part);
    g_free(inside);
    if (!made) {
        snprintf(err, errlen, "probe %s: cannot make variant %s", p->id, p->variant);
        return NULL;
    }
    nh = headers_of(p, &part, h);
    if (!sign(p, &part, h, nh, secret, secret_len, mark)) {
        snprintf(err, errlen, "probe %s: cannot sign (id too long, or a short secret)", p->id);
        headers_free(h, nh);
        probeparts_free(&part);
        return NULL;
    }
    msg = g_string_new(NULL);
    append_headers(msg, h, nh, mark);
    body = body_of(p, &part, mark);
    g_string_append_len(msg, body->str, (gssize)body->len);
    g_string_free(body, TRUE);
    headers_free(h, nh);
    probeparts_free(&part);
    return g_string_free(msg, FALSE);
}

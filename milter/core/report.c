/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   report - what one report says: decoded text, evidence, category
 * DESCRIPTION
 *   Owns struct report (see report.h). Evidence byte ranges are relative
 *   to the text they were found in, so each text part (and the subject)
 *   is scanned into a list of its own, redacted with that list, and then
 *   merged into the message's list without ranges, duplicates dropped.
 *   Attachments are scanned as DER and, when they hold a PEM line, as text;
 *   their bytes are never copied out. The category sees the decoded
 *   subject and the texts up to CATEGORY_BODY_SCAN_MAX bytes, but not the
 *   original attached to a delivery report (often our own auto-reply). Reasons are
 *   cut on a UTF-8 character boundary; JSON strings are made valid UTF-8.
 * DIAGNOSTICS
 *   report_analyze() returns NULL only when memory runs out; malformed
 *   input gives reasons, never a failure.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "keygate.h"

#define REPORT_PEM_MARK "-----BEGIN "

/* ---- reasons ---- */

/* Cut s at its first invalid UTF-8 byte: a cut sequence at the end. */
static void
report_utf8_trim(char *s)
{
    const gchar *end;

    if (!g_utf8_validate(s, -1, &end))
        *(char *)end = '\0';
}

static void
report_reason(struct report *r, const char *fmt, ...)
{
    char buf[REPORT_REASON_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    report_utf8_trim(buf);
    for (size_t i = 0; i < r->nreasons; i++)
        if (strcmp(r->reasons[i], buf) == 0)
            return;
    if (r->nreasons < REPORT_MAX_REASONS)
        memcpy(r->reasons[r->nreasons++], buf, sizeof(buf));
}

/* ---- evidence: merging per-part lists ---- */

static bool
report_item_same(const struct evidence_item *a, const struct evidence_item *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case EVIDENCE_CERT:
        return strcmp(a->sha256, b->sha256) == 0;
    case EVIDENCE_CSR:
        return strcmp(a->spki_sha256, b->spki_sha256) == 0
               && strcmp(a->subject, b->subject) == 0;
    case EVIDENCE_KEY:
    case EVIDENCE_KEY_ENCRYPTED:
    case EVIDENCE_KEY_TRUNCATED:
        return strcmp(a->spki_sha256, b->spki_sha256) == 0;
    default:
        return strcmp(a->value, b->value) == 0;
    }
}

static bool
report_has_item(const struct evidence_list *ev, const struct evidence_item *it)
{
    for (size_t i = 0; i < ev->n; i++)
        if (report_item_same(&ev->items[i], it))
            return true;
    return false;
}

static size_t
report_count(const struct evidence_list *ev, bool keys)
{
    size_t n = 0;

    for (size_t i = 0; i < ev->n; i++)
        n += evidence_is_key(&ev->items[i]) == keys;
    return n;
}

/* Appends the items of src not yet in dst, without their ranges (they
 * belong to src's text). The per-message bounds of evidence.h hold. */
static bool
report_merge(struct evidence_list *dst, const struct evidence_list *src)
{
    dst->items_dropped += src->items_dropped;
    for (size_t i = 0; i < src->n; i++) {
        const struct evidence_item *it = &src->items[i];
        bool key = evidence_is_key(it);
        size_t bound = key ? EVIDENCE_MAX_KEY_RANGES : EVIDENCE_MAX_ITEMS;

        if (report_has_item(dst, it))
            continue;
        if (report_count(dst, key) >= bound) {
            dst->items_dropped++;
            continue;
        }
        if (dst->n == dst->cap) {
            size_t cap = dst->cap ? dst->cap * 2 : 8;
            struct evidence_item *p = realloc(dst->items, cap * sizeof(*p));

            if (p == NULL)
                return false;
            dst->items = p;
            dst->cap = cap;
        }
        dst->items[dst->n] = *it;
        dst->items[dst->n].has_range = false;
        dst->items[dst->n].start = dst->items[dst->n].end = 0;
        dst->n++;
    }
    return true;
}

/* Scans one text, merges what it holds, returns its redacted copy. */
static char *
report_scan_one(struct report *r, const char *text, size_t len)
{
    struct evidence_list one;
    char *red = NULL;

    evidence_list_init(&one);
    if (evidence_scan_text(text, len, &one) && keygate_scan(text, len, true, &one)
        && report_merge(&r->ev, &one))
        red = evidence_redact(text, len, &one);
    evidence_list_free(&one);
    return red;
}

static bool
report_scan_texts(struct report *r)
{
    const struct mime_doc *d = r->doc;

    r->subject = report_scan_one(r, d->subject, strlen(d->subject));
    if (r->subject == NULL)
        return false;
    r->redacted = calloc(d->ntexts ? d->ntexts : 1, sizeof(*r->redacted));
    if (r->redacted == NULL)
        return false;
    for (size_t i = 0; i < d->ntexts; i++) {
        r->redacted[i] = report_scan_one(r, d->texts[i].text, d->texts[i].len);
        if (r->redacted[i] == NULL)
            return false;
        r->nredacted++;
    }
    return true;
}

static bool
report_has_pem(const unsigned char *data, size_t len)
{
    size_t k = strlen(REPORT_PEM_MARK);

    for (size_t i = 0; i + k <= len; i++)
        if (data[i] == '-' && memcmp(data + i, REPORT_PEM_MARK, k) == 0)
            return true;
    return false;
}

/* No NUL byte in its first REPORT_TEXT_PROBE bytes: worth a text scan. */
#define REPORT_TEXT_PROBE 4096

static bool
report_is_text(const unsigned char *data, size_t len)
{
    return len > 0 && memchr(data, '\0', len < REPORT_TEXT_PROBE ? len : REPORT_TEXT_PROBE) == NULL;
}

/* DER by content, whatever the filename says; PEM files as text. */
static bool
report_scan_attachments(struct report *r)
{
    for (size_t i = 0; i < r->doc->natts; i++) {
        const struct mime_attachment *a = &r->doc->atts[i];
        struct evidence_list one;
        bool ok;

        evidence_list_init(&one);
        ok = evidence_scan_der(a->data, a->data_len, &one);
        if (ok && report_has_pem(a->data, a->data_len))
            ok = evidence_scan_text((const char *)a->data, a->data_len, &one);
        if (ok && report_is_text(a->data, a->data_len))   /* key.txt, key.jwk */
            ok = keygate_scan((const char *)a->data, a->data_len, false, &one);
        ok = ok && report_merge(&r->ev, &one);
        evidence_list_free(&one);
        if (!ok)
            return false;
    }
    return true;
}

/* A private key past max_message_bytes: never analysed nor stored, but
 * key-compromise evidence all the same (message.c saw its armour). */
static bool
report_past_cap(struct report *r, const struct cpr_message *m)
{
    struct evidence_list one;
    struct evidence_item it;
    bool ok;

    if (m == NULL || !m->key_past_cap)
        return true;
    memset(&it, 0, sizeof(it));
    it.kind = EVIDENCE_KEY_TRUNCATED;
    snprintf(it.reason, sizeof(it.reason),
             "a private key past the size limit (not analysed, not stored)");
    evidence_list_init(&one);
    ok = evidence_push(&one, &it) && report_merge(&r->ev, &one);
    evidence_list_free(&one);
    return ok;
}

/* ---- category ---- */

static void
report_evidence_flags(struct report *r, struct category_input *in)
{
    for (size_t i = 0; i < r->ev.n; i++) {
        const struct evidence_item *it = &r->ev.items[i];

        in->has_private_key |= evidence_is_key(it);
        in->has_proof_csr |= it->kind == EVIDENCE_CSR && it->proof_csr;
        in->has_pwnedkeys_attestation |= it->kind == EVIDENCE_CSR && it->proof_pwnedkeys;
        in->has_pock_cert |= it->kind == EVIDENCE_CERT && it->proof_pock;
        if (it->kind == EVIDENCE_CERT)
            in->n_certificates++;
    }
    in->has_certificate = in->n_certificates > 0;
    r->key_evidence = in->has_private_key || in->has_proof_csr
                      || in->has_pwnedkeys_attestation || in->has_pock_cert;
}

/* Part of the original attached to a delivery report: our own words,
 * or the bounced sender's, not what this message is about. */
static bool
report_in_bounced(const struct mime_doc *d, const char *path)
{
    for (size_t i = 0; i < d->nembedded; i++) {
        size_t k = strlen(d->embedded[i].path);

        if (d->embedded[i].in_report && strncmp(path, d->embedded[i].path, k) == 0
            && (path[k] == '\0' || path[k] == '.'))
            return true;
    }
    return false;
}

/* The texts one after another, at most CATEGORY_BODY_SCAN_MAX bytes;
 * the originals attached to delivery reports are left out. */
static char *
report_body(const struct mime_doc *d, size_t *len)
{
    char *body = malloc(CATEGORY_BODY_SCAN_MAX + 1);
    size_t n = 0;

    if (body == NULL)
        return NULL;
    for (size_t i = 0; i < d->ntexts && n < CATEGORY_BODY_SCAN_MAX; i++) {
        size_t take = d->texts[i].len;

        if (report_in_bounced(d, d->texts[i].path))
            continue;

        if (take > CATEGORY_BODY_SCAN_MAX - n)
            take = CATEGORY_BODY_SCAN_MAX - n;
        memcpy(body + n, d->texts[i].text, take);
        n += take;
        if (n < CATEGORY_BODY_SCAN_MAX)
            body[n++] = '\n';
    }
    body[n] = '\0';
    *len = n;
    return body;
}

static bool
report_category(struct report *r, const struct cpr_message *m)
{
    struct category_input in;
    char *body;

    memset(&in, 0, sizeof(in));
    report_evidence_flags(r, &in);
    if ((body = report_body(r->doc, &in.body_len)) == NULL)
        return false;
    in.subject = r->doc->subject;
    in.body = body;
    if (m != NULL) {
        in.x_spam_flag = message_header(m, "X-Spam-Flag");
        in.x_spam_status = message_header(m, "X-Spam-Status");
        in.authentication_results = message_header(m, "Authentication-Results");
    }
    category_decide(&in, &r->cat);
    free(body);
    return true;
}

/* ---- ids of a bounced original ---- */

static bool
report_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > MESSAGE_MAX_MSGID)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' || s[i] == 0x7f)
            return false;
    return true;
}

static bool
report_id_add(struct report *r, const char *s, size_t n)
{
    if (!report_id_ok(s, n) || r->ndsn_refs >= REPORT_MAX_DSN_REFS)
        return true;
    for (size_t i = 0; i < r->ndsn_refs; i++)
        if (strlen(r->dsn_refs[i]) == n && memcmp(r->dsn_refs[i], s, n) == 0)
            return true;
    if ((r->dsn_refs[r->ndsn_refs] = strndup(s, n)) == NULL)
        return false;
    r->ndsn_refs++;
    return true;
}

/* Every <id> in a header value; a value without '<' is one bare id. */
static bool
report_ids_add(struct report *r, const char *value)
{
    const char *p = value, *open, *close;

    if (strchr(value, '<') == NULL) {
        while (*p == ' ')
            p++;
        return report_id_add(r, p, strcspn(p, " "));
    }
    while ((open = strchr(p, '<')) != NULL && (close = strchr(open, '>')) != NULL) {
        if (!report_id_add(r, open + 1, (size_t)(close - open - 1)))
            return false;
        p = close + 1;
    }
    return true;
}

static bool
report_dsn_refs(struct report *r)
{
    for (size_t i = 0; i < r->doc->nembedded; i++) {
        const struct mime_embedded *e = &r->doc->embedded[i];

        if (!e->in_report)
            continue;
        if (!report_ids_add(r, e->message_id) || !report_ids_add(r, e->in_reply_to)
            || !report_ids_add(r, e->references))
            return false;
    }
    return true;
}

/* ---- reasons in plain words ---- */

static bool
report_is_proof(const struct evidence_item *it)
{
    return evidence_is_key(it) || it->proof_csr || it->proof_pwnedkeys || it->proof_pock;
}

static void
report_item_reason(struct report *r, const struct evidence_item *it)
{
    if (it->kind == EVIDENCE_CERT && !it->proof_pock)
        report_reason(r, "certificate serial %s issued by %s, subject %s", it->serial,
                      it->issuer[0] ? it->issuer : "(none)",
                      it->subject[0] ? it->subject : "(none)");
    else if (it->kind == EVIDENCE_CRTSH)
        report_reason(r, "crt.sh link %s", it->value);
    else if (it->kind == EVIDENCE_FINGERPRINT)
        report_reason(r, "SHA-256 fingerprint %s", it->value);
    else
        report_reason(r, "%s", it->reason);
}

static void
report_reasons(struct report *r)
{
    const struct mime_doc *d = r->doc;

    for (size_t i = 0; i < r->ev.n; i++)
        if (report_is_proof(&r->ev.items[i]))
            report_item_reason(r, &r->ev.items[i]);
    if (r->truncated)
        report_reason(r, "message cut at the size limit: the stored copy is partial");
    for (size_t i = 0; i < d->nreasons; i++)
        report_reason(r, "%s", d->reasons[i]);
    if (r->ndsn_refs > 0)
        report_reason(r, "delivery report about message <%s>", r->dsn_refs[0]);
    for (size_t i = 0; i < r->ev.n; i++)
        if (!report_is_proof(&r->ev.items[i]))
            report_item_reason(r, &r->ev.items[i]);
    if (r->ev.items_dropped > 0)
        report_reason(r, "%zu more evidence items not kept (limit %d)",
                      r->ev.items_dropped, EVIDENCE_MAX_ITEMS);
}

/* ---- analysis ---- */

struct report *
report_analyze(const char *raw, size_t len, const struct cpr_message *m, bool truncated,
               const struct mime_limits *lim)
{
    struct report *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    evidence_list_init(&r->ev);
    r->truncated = truncated;
    if ((r->doc = mime_parse(raw, len, lim)) == NULL || !report_scan_texts(r)
        || !report_scan_attachments(r) || !report_past_cap(r, m) || !report_category(r, m)
        || !report_dsn_refs(r)) {
        report_free(r);
        return NULL;
    }
    report_reasons(r);
    return r;
}

void
report_free(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nredacted; i++)
        free(r->redacted[i]);
    free(r->redacted);
    free(r->subject);
    for (size_t i = 0; i < r->ndsn_refs; i++)
        free(r->dsn_refs[i]);
    evidence_list_free(&r->ev);
    mime_doc_free(r->doc);
    free(r);
}

/* ---- JSON ---- */

/* A JSON string of s, made valid UTF-8 first if it is not. */
static json_t *
report_jstr(const char *s)
{
    json_t *j;
    gchar *valid;

    if (s == NULL)
        return json_null();
    if (g_utf8_validate(s, -1, NULL))
        return json_string(s);
    valid = g_utf8_make_valid(s, -1);
    j = json_string(valid);
    g_free(valid);
    return j;
}

static json_t *
report_jstr_or_null(const char *s)
{
    return s == NULL || s[0] == '\0' ? json_null() : report_jstr(s);
}

/* json_object_set_new() that also fails on a NULL value. */
static bool
report_jset(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

static bool
report_jpush(json_t *a, json_t *v)
{
    return v != NULL && json_array_append_new(a, v) == 0;
}

static json_t *
report_text_json(const struct mime_text *t, const char *redacted)
{
    json_t *o = json_object();

    if (o && report_jset(o, "part", report_jstr(t->path))
        && report_jset(o, "type", report_jstr(t->content_type))
        && report_jset(o, "charset", report_jstr(t->charset))
        && report_jset(o, "text", report_jstr(redacted))
        && report_jset(o, "truncated", json_boolean(t->truncated)))
        return o;
    json_decref(o);
    return NULL;
}

static json_t *
report_att_json(const struct mime_attachment *a)
{
    json_t *o = json_object();

    if (o && report_jset(o, "part", report_jstr(a->path))
        && report_jset(o, "filename", report_jstr(a->filename))
        && report_jset(o, "type", report_jstr(a->content_type))
        && report_jset(o, "size", json_integer((json_int_t)a->size))
        && report_jset(o, "sha256", report_jstr(a->sha256)))
        return o;
    json_decref(o);
    return NULL;
}

static json_t *
report_copy_lists(const struct report *r, json_t *texts, json_t *atts, json_t *reasons,
                  json_t *refs)
{
    for (size_t i = 0; i < r->nredacted; i++)
        if (!report_jpush(texts, report_text_json(&r->doc->texts[i], r->redacted[i])))
            return NULL;
    for (size_t i = 0; i < r->doc->natts; i++)
        if (!report_jpush(atts, report_att_json(&r->doc->atts[i])))
            return NULL;
    for (size_t i = 0; i < r->nreasons; i++)
        if (!report_jpush(reasons, report_jstr(r->reasons[i])))
            return NULL;
    for (size_t i = 0; i < r->ndsn_refs; i++)
        if (!report_jpush(refs, report_jstr(r->dsn_refs[i])))
            return NULL;
    return texts;
}

json_t *
report_copy_json(const struct report *r)
{
    json_t *o = json_object(), *texts = json_array(), *atts = json_array();
    json_t *reasons = json_array(), *refs = json_array();
    bool ok = o && texts && atts && reasons && refs
              && report_copy_lists(r, texts, atts, reasons, refs) != NULL;

    ok = ok && report_jset(o, "subject", report_jstr(r->subject))
         && report_jset(o, "content_type", report_jstr(r->doc->content_type))
         && report_jset(o, "texts", json_incref(texts))
         && report_jset(o, "attachments", json_incref(atts))
         && report_jset(o, "reasons", json_incref(reasons))
         && report_jset(o, "dsn_refs", json_incref(refs))
         && report_jset(o, "truncated", json_boolean(r->truncated));
    json_decref(texts);
    json_decref(atts);
    json_decref(reasons);
    json_decref(refs);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *
report_proof_name(const struct evidence_item *it)
{
    if (it->proof_pock)
        return "pock";
    if (it->proof_pwnedkeys)
        return "pwnedkeys";
    if (it->proof_csr)
        return "csr";
    return NULL;
}

static json_t *
report_sig_json(const struct evidence_item *it)
{
    if (it->kind == EVIDENCE_CSR || it->kind == EVIDENCE_KEY
        || (it->kind == EVIDENCE_CERT && it->proof_pock))
        return json_boolean(it->sig_ok);
    return json_null();
}

/* Names and hashes only: an item never holds key material. */
static json_t *
report_item_json(const struct evidence_item *it)
{
    json_t *o = json_object();

    if (o && report_jset(o, "kind", report_jstr(evidence_kind_name(it->kind)))
        && report_jset(o, "sha256", report_jstr_or_null(it->sha256))
        && report_jset(o, "spki_sha256", report_jstr_or_null(it->spki_sha256))
        && report_jset(o, "serial", report_jstr_or_null(it->serial))
        && report_jset(o, "issuer", report_jstr_or_null(it->issuer))
        && report_jset(o, "subject", report_jstr_or_null(it->subject))
        && report_jset(o, "sans", report_jstr_or_null(it->sans))
        && report_jset(o, "not_before", report_jstr_or_null(it->not_before))
        && report_jset(o, "not_after", report_jstr_or_null(it->not_after))
        && report_jset(o, "key_type", report_jstr_or_null(it->key_type))
        && report_jset(o, "value", report_jstr_or_null(it->value))
        && report_jset(o, "sig_ok", report_sig_json(it))
        && report_jset(o, "proof", report_jstr_or_null(report_proof_name(it)))
        && report_jset(o, "reason", report_jstr_or_null(it->reason)))
        return o;
    json_decref(o);
    return NULL;
}

json_t *
report_evidence_json(const struct report *r)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < r->ev.n; i++)
        if (!report_jpush(a, report_item_json(&r->ev.items[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   invmatch - what to ask the inventory for a report's evidence, and the answer
 * DESCRIPTION
 *   See invmatch.h. An item's asks share a group: it is missing only when
 *   no ask of its group found anything.
 * DIAGNOSTICS
 *   None.
 */
#include "invmatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_SHOWN_BYTES 8
#define HASH_SHOWN 16

void
invmatch_serial_text(const char *hex, char *out, size_t len)
{
    size_t n = strlen(hex), i = 0, o = 0, bytes = 0;

    out[0] = '\0';
    while (i < n && bytes < SERIAL_SHOWN_BYTES && o + 6 < len) {
        if (o)
            out[o++] = ':';
        if (i == 0 && n % 2) {           /* an odd length reads as a leading 0 */
            out[o++] = '0';
            out[o++] = hex[i++];
        } else {
            out[o++] = hex[i++];
            out[o++] = hex[i++];
        }
        bytes++;
    }
    if (i < n && o + 4 < len) {
        memcpy(out + o, "\xe2\x80\xa6", 3);   /* an ellipsis */
        o += 3;
    }
    out[o] = '\0';
}

static struct inv_ask *
ask_new(struct inv_ask *out, size_t *n, size_t max, const struct inv_evidence *e, int group,
        enum inv_query q, const char *found_kind)
{
    struct inv_ask *a;

    if (*n >= max)
        return NULL;
    a = &out[(*n)++];
    memset(a, 0, sizeof(*a));
    a->q = q;
    a->evidence_id = e->id;
    a->group = group;
    snprintf(a->found_kind, sizeof(a->found_kind), "%s", found_kind);
    return a;
}

static void
ask_serial(struct inv_ask *out, size_t *n, size_t max, const struct inv_evidence *e, int g)
{
    char shown[64];
    struct inv_ask *a;
    char norm[INVCERT_SERIAL_LEN];

    if (!e->serial || !invcert_serial_norm(e->serial, norm, sizeof(norm)))
        return;
    if (!(a = ask_new(out, n, max, e, g, INV_BY_SERIAL, "serial")))
        return;
    snprintf(a->key, sizeof(a->key), "%s", norm);
    snprintf(a->param, sizeof(a->param), "%s", norm);
    invmatch_serial_text(norm, shown, sizeof(shown));
    snprintf(a->found_value, sizeof(a->found_value), "%s", shown);
    snprintf(a->what, sizeof(a->what), "serial %s", shown);
}

static struct inv_ask *
ask_sha(struct inv_ask *out, size_t *n, size_t max, const struct inv_evidence *e, int g,
        const char *hex, enum inv_query q, const char *kind, const char *label)
{
    char norm[INVCERT_HEX256];
    struct inv_ask *a;

    if (!hex || !invcert_hex256(hex, norm) || !(a = ask_new(out, n, max, e, g, q, kind)))
        return NULL;
    snprintf(a->key, sizeof(a->key), "%s", norm);
    snprintf(a->param, sizeof(a->param), "%s", norm);
    snprintf(a->found_value, sizeof(a->found_value), "%s %s", label, norm);
    snprintf(a->what, sizeof(a->what), "%s %.*s\xe2\x80\xa6", label, HASH_SHOWN, norm);
    return a;
}

/* The twin of a reported certificate: same issuer and serial. */
static void
ask_twin(struct inv_ask *out, size_t *n, size_t max, const struct inv_evidence *e, int g)
{
    char norm[INVCERT_SERIAL_LEN], shown[64];
    struct inv_ask *a;
    json_t *j;
    char *s;

    if (!e->issuer || !*e->issuer || !e->serial
        || !invcert_serial_norm(e->serial, norm, sizeof(norm))
        || strlen(e->issuer) >= INVCERT_NAME_LEN
        || !(j = json_pack("{s:s, s:s}", "issuer", e->issuer, "serial", norm)))
        return;
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (s && strlen(s) < INVMATCH_PARAM_LEN
        && (a = ask_new(out, n, max, e, g, INV_BY_ISSUER_SERIAL, "issuer-serial"))) {
        snprintf(a->param, sizeof(a->param), "%s", s);
        snprintf(a->key, sizeof(a->key), "%s", norm);
        snprintf(a->issuer, sizeof(a->issuer), "%s", e->issuer);
        invmatch_serial_text(norm, shown, sizeof(shown));
        snprintf(a->found_value, sizeof(a->found_value), "serial %s of the reported certificate",
                 shown);
        snprintf(a->what, sizeof(a->what), "serial %s", shown);
    }
    free(s);
}

static const char *
key_kind(const struct inv_evidence *e)
{
    if (strcmp(e->kind, "private-key") == 0)
        return "private-key";
    return e->proof && *e->proof ? e->proof : "csr";
}

size_t
invmatch_asks(const struct inv_evidence *ev, size_t nev, struct inv_ask *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < nev; i++) {
        const struct inv_evidence *e = &ev[i];
        int g = (int)i;

        if (e->verified_key) {
            ask_sha(out, &n, max, e, g, e->spki_sha256, INV_BY_SPKI, key_kind(e), "key SPKI SHA-256");
            continue;      /* a PoCK or proof CSR is not ours: only its key is */
        }
        if (strcmp(e->kind, "certificate") == 0 && !(e->proof && *e->proof)) {
            ask_sha(out, &n, max, e, g, e->sha256, INV_BY_SHA256, "certificate",
                    "certificate SHA-256");
            ask_twin(out, &n, max, e, g);
        } else if (strcmp(e->kind, "serial") == 0) {
            ask_serial(out, &n, max, e, g);
        } else if (strcmp(e->kind, "fingerprint") == 0) {
            ask_sha(out, &n, max, e, g, e->sha256 && *e->sha256 ? e->sha256 : e->value,
                    INV_BY_SHA256, "fingerprint", "fingerprint");
        }
    }
    return n;
}

void
invmatch_init(struct inv_result *r, size_t max_certs)
{
    memset(r, 0, sizeof(*r));
    r->max_certs = max_certs;
    r->refused = json_array();
    r->sources = json_array();
}

static bool
have(const struct inv_result *r, const char *sha256)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->found[i].cert.sha256, sha256) == 0)
            return true;
    return false;
}

void
invmatch_refuse(struct inv_result *r, const char *source, const char *why)
{
    char line[256];

    r->nrefused++;
    if (json_array_size(r->refused) >= INVMATCH_MAX_REFUSED)
        return;
    snprintf(line, sizeof(line), "%s: %s", source, why);
    json_array_append_new(r->refused, json_string(line));
}

bool
invmatch_add(struct inv_result *r, struct inv_ask *ask, struct inv_cert *cert,
             const char *source)
{
    struct inv_found *f;

    if (!invcert_matches(cert, ask->q, ask->key, ask->issuer)) {
        invmatch_refuse(r, source, "a row that does not match its query");
        invcert_clear(cert);
        return true;
    }
    ask->hits++;
    if (have(r, cert->sha256)) {
        invcert_clear(cert);
        return true;
    }
    if (r->n >= r->max_certs) {
        invmatch_refuse(r, source, "more certificates than [inventory] max_certificates");
        invcert_clear(cert);
        return false;
    }
    if (r->der_total + cert->der_len > INVMATCH_MAX_DER_TOTAL) {
        invmatch_refuse(r, source, "more certificate bytes than one lookup carries");
        invcert_clear(cert);
        return false;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct inv_found *nf = realloc(r->found, cap * sizeof(*nf));

        if (!nf) {
            invcert_clear(cert);
            return false;
        }
        r->found = nf;
        r->cap = cap;
    }
    f = &r->found[r->n++];
    r->der_total += cert->der_len;
    f->cert = *cert;
    f->ask = ask;
    snprintf(f->source, sizeof(f->source), "%s", source);
    memset(cert, 0, sizeof(*cert));
    return true;
}

void
invmatch_source(struct inv_result *r, const char *source)
{
    json_array_append_new(r->sources, json_string(source));
}

static char *
hex_of(const unsigned char *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);

    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = d[p[i] >> 4];
        s[2 * i + 1] = d[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

static json_t *
found_json(const struct inv_found *f)
{
    const struct inv_cert *c = &f->cert;
    json_t *o = json_object();
    char *der = c->der ? hex_of(c->der, c->der_len) : NULL;

    set_str(o, "sha256", c->sha256);
    set_str(o, "serial", c->serial);
    set_str(o, "issuer", c->issuer);
    json_object_set_new(o, "subject", json_string(c->subject));
    set_str(o, "sans", c->sans);
    set_str(o, "spki_sha256", c->spki_sha256);
    set_str(o, "not_before", c->not_before);
    set_str(o, "not_after", c->not_after);
    json_object_set_new(o, "precert", json_boolean(c->precert));
    set_str(o, "der", der);
    set_str(o, "contact", c->contact);
    set_str(o, "found_kind", f->ask->found_kind);
    set_str(o, "found_value", f->ask->found_value);
    json_object_set_new(o, "evidence_id", json_integer(f->ask->evidence_id));
    set_str(o, "source", f->source);
    free(der);
    return o;
}

/* Items none of whose asks found anything, each said once. */
static json_t *
missing_json(const struct inv_ask *asks, size_t nasks)
{
    json_t *m = json_array();

    for (size_t i = 0; i < nasks; i++) {
        bool hit = false, said = false;

        for (size_t j = 0; j < nasks; j++)
            if (asks[j].group == asks[i].group && asks[j].hits)
                hit = true;
        for (size_t j = 0; j < i; j++)
            if (asks[j].group == asks[i].group || strcmp(asks[j].what, asks[i].what) == 0)
                said = true;
        if (!hit && !said)
            json_array_append_new(m, json_string(asks[i].what));
    }
    return m;
}

json_t *
invmatch_json(const struct inv_result *r, const struct inv_ask *asks, size_t nasks, long long ms)
{
    json_t *found = json_array();

    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(found, found_json(&r->found[i]));
    return json_pack("{s:o, s:o, s:O, s:O, s:I, s:I}", "found", found,
                     "missing", missing_json(asks, nasks), "refused", r->refused,
                     "sources", r->sources, "refused_count", (json_int_t)r->nrefused,
                     "ms", (json_int_t)ms);
}

void
invmatch_free(struct inv_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        invcert_clear(&r->found[i].cert);
    free(r->found);
    json_decref(r->refused);
    json_decref(r->sources);
    memset(r, 0, sizeof(*r));
}

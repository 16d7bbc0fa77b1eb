/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   fuzz_report - libFuzzer target over parse, extract and classify
 * SUMMARY
 *   contrib/fuzz.sh [SECONDS]
 * DESCRIPTION
 *   Feeds each input to the path a hostile report takes at end of
 *   message: the header block goes into a struct cpr_message header by
 *   header (as libmilter hands them over) and the body after it, then
 *   report_analyze() (mime_parse, evidence_scan_text/der, evidence_redact,
 *   category_decide), classify_message(), both JSON documents the
 *   database receives, and the probe mark's parser and body hash. The
 *   first input byte's low bit says whether the message counts as cut at
 *   the size cap. A private key is planted after
 *   the input (bare base64, hex or PEM, by the input's size): the stored
 *   copy and the evidence must not hold any 24 characters of it, and a
 *   copy that does aborts (a finding like a crash). Built with clang
 *   -fsanitize=fuzzer,address,undefined; any crash, leak or undefined
 *   behaviour is a finding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "classify.h"
#include "message.h"
#include "probemark.h"
#include "report.h"

#define FUZZ_NAME_MAX 128     /* longer "names" are not header lines */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *const fuzz_ours[] = { "cpr@ca.example", NULL };

/* An Ed25519 PKCS#8 key made for this target, in three forms; SECRET_* are
 * pieces past its algorithm identifier that must never be stored. */
#define FUZZ_KEY_B64 "MC4CAQAwBQYDK2VwBCIEIHXIvJVnJCAYB1rbYdYMFMb7TeCy0XxQtsNE72sjnEJ4"
#define FUZZ_KEY_HEX "302e020100300506032b657004220420" \
                     "75c8bc9567242018075adb61d60c14c6fb4de0b2d17c50b6c344ef6b239c4278"
#define FUZZ_SECRET_B64 "IHXIvJVnJCAYB1rbYdYMFMb7"
#define FUZZ_SECRET_HEX "75c8bc9567242018075adb61"

static const char *const fuzz_planted[] = {
    "\r\n" FUZZ_KEY_B64 "\r\n",
    "\r\n" FUZZ_KEY_HEX "\r\n",
    "\r\n-----BEGIN PRIVATE KEY-----\r\n" FUZZ_KEY_B64 "\r\n-----END PRIVATE KEY-----\r\n",
};

/* The input with a key planted after it; caller frees. */
static char *
fuzz_plant(const uint8_t *data, size_t size, size_t *len)
{
    const char *key = fuzz_planted[size % (sizeof(fuzz_planted) / sizeof(fuzz_planted[0]))];
    size_t k = strlen(key);
    char *buf = malloc(size + k + 1);

    if (buf == NULL)
        return NULL;
    memcpy(buf, data, size);
    memcpy(buf + size, key, k + 1);
    *len = size + k;
    return buf;
}

static bool
fuzz_contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= size; i++)
        if (data[i] == (uint8_t)needle[0] && memcmp(data + i, needle, k) == 0)
            return true;
    return false;
}

/* libFuzzer learns the strings we look for and writes them into inputs:
 * a piece that was in the input itself proves nothing. */
static bool fuzz_check_key;

static void
fuzz_assert_no_key(const char *json)
{
    if (fuzz_check_key && json != NULL
        && (strstr(json, FUZZ_SECRET_B64) || strstr(json, FUZZ_SECRET_HEX)))
        abort();
}

/* One header line [s, e) into m, if it has a plausible name. */
static void
fuzz_header(struct cpr_message *m, const char *s, const char *e)
{
    const char *colon = memchr(s, ':', (size_t)(e - s));
    char *name, *value;

    if (colon == NULL || colon == s || colon - s > FUZZ_NAME_MAX)
        return;
    name = strndup(s, (size_t)(colon - s));
    value = strndup(colon + 1, (size_t)(e - colon - 1));
    if (name && value && strlen(name) == (size_t)(colon - s))
        message_add_header(m, name, value);
    free(name);
    free(value);
}

/* Headers up to the first empty line; returns where the body starts. */
static size_t
fuzz_headers(struct cpr_message *m, const char *raw, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) : len;

        if (end == pos || (end == pos + 1 && raw[pos] == '\r'))
            return end + 1 < len ? end + 1 : len;
        fuzz_header(m, raw + pos, raw + end);
        pos = end + 1;
    }
    return len;
}

static void
fuzz_json(const struct report *r)
{
    json_t *copy = report_copy_json(r), *ev = report_evidence_json(r);
    char *s = copy ? json_dumps(copy, JSON_COMPACT) : NULL;

    fuzz_assert_no_key(s);
    free(s);
    s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    fuzz_assert_no_key(s);
    free(s);
    json_decref(copy);
    json_decref(ev);
}

/* The probe mark's parser and body hash see the same hostile bytes. */
static void
fuzz_probemark(const char *raw, size_t len)
{
    unsigned char hash[PROBEMARK_HASH_LEN];
    struct probemark pm;
    char value[PROBEMARK_VALUE_MAX];

    (void)probemark_body_hash(raw, len, hash);
    if (probemark_find_body(raw, len, &pm) && !probemark_format(value, sizeof(value), &pm))
        abort();    /* what parses must format back */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *raw = fuzz_plant(data, size, &len);
    struct cpr_message *m = raw ? message_new() : NULL;
    struct cpr_verdict v;
    struct report *r;
    size_t body;

    if (m == NULL) {
        free(raw);
        return 0;
    }
    fuzz_check_key = !fuzz_contains(data, size, FUZZ_SECRET_B64)
                     && !fuzz_contains(data, size, FUZZ_SECRET_HEX);
    message_set(&m->env_from, "reporter@example.org");
    body = fuzz_headers(m, raw, len);
    message_body_update(m, raw + body, len - body);
    message_finish(m);
    r = report_analyze(raw, len, m, size > 0 && (data[0] & 1), NULL);
    classify_message(m, fuzz_ours, r, &v);
    fuzz_probemark(raw, len);
    if (r != NULL)
        fuzz_json(r);
    report_free(r);
    message_free(m);
    free(raw);
    return 0;
}

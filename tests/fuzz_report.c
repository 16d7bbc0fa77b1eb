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
 *   category_decide), classify_message(), and both JSON documents the
 *   database receives. The first input byte's low bit says whether the
 *   message counts as cut at the size cap. Built with clang
 *   -fsanitize=fuzzer,address,undefined; any crash, leak or undefined
 *   behaviour is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "classify.h"
#include "message.h"
#include "report.h"

#define FUZZ_NAME_MAX 128     /* longer "names" are not header lines */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *const fuzz_ours[] = { "cpr@ca.example", NULL };

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

    free(s);
    s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    free(s);
    json_decref(copy);
    json_decref(ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    struct cpr_message *m = message_new();
    struct cpr_verdict v;
    struct report *r;
    size_t body;

    if (m == NULL)
        return 0;
    message_set(&m->env_from, "reporter@example.org");
    body = fuzz_headers(m, raw, size);
    message_body_update(m, raw + body, size - body);
    message_finish(m);
    r = report_analyze(raw, size, m, size > 0 && (data[0] & 1), NULL);
    classify_message(m, fuzz_ours, r, &v);
    if (r != NULL)
        fuzz_json(r);
    report_free(r);
    message_free(m);
    return 0;
}

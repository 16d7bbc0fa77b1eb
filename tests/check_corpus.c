/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_corpus - the report corpus through analysis and classification
 * SUMMARY
 *   top_srcdir=. CK_RUN_SUITE=corpus tests/check_unit
 * DESCRIPTION
 *   For every tests/fixtures/corpus/NAME.eml (found through $top_srcdir,
 *   else "." or ".."), builds a struct cpr_message the way the milter
 *   does (headers one by one, the body, message_finish()), runs
 *   report_analyze() and classify_message(), and checks every line of
 *   NAME.expect (format: tests/fixtures/corpus/make-corpus.py). Whatever
 *   the .expect says, no stored copy and no evidence row may hold a line
 *   of any throwaway private key in the fixtures, nor a PEM key label.
 * DIAGNOSTICS
 *   One loop test per message; a failure names the file and the line of
 *   its .expect that did not hold.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "check_unit.h"
#include "classify.h"
#include "message.h"
#include "mime.h"
#include "report.h"

#define CORPUS_MAX_FILE (4 * 1024 * 1024)   /* bytes read of one fixture */
#define CORPUS_MAX_FILES 256
#define CORPUS_MIN_MESSAGES 32
#define CORPUS_LINE_MAX 1024
#define CORPUS_KEY_LINE_MIN 16              /* shorter key lines may recur by chance */

static char *const corpus_ours[] = { "cpr@ca.example", NULL };

/* Private keys whose lines must never be stored, relative to tests/fixtures. */
static const char *const corpus_keys[] = {
    "evidence/ec.key", "evidence/ec-trad.key", "evidence/ec-enc.key", "evidence/rsa.key",
    "evidence/rsa-trad.key", "corpus/material/shop.key", "corpus/material/p384.key",
    "corpus/material/ed25519.key", "corpus/material/ca.key", NULL
};

struct corpus_case {
    const char *name;
    char *raw;
    size_t len;
    struct cpr_message *m;
    struct report *r;
    struct cpr_verdict v;
    char *copy;            /* JSON dumps */
    char *evidence;
};

/* ---- files ---- */

static const char *
corpus_fixtures(void)
{
    static char dir[1024];
    const char *tops[] = { getenv("top_srcdir"), ".", ".." };
    char sub[1100];

    for (size_t i = 0; i < 3; i++) {
        DIR *d;

        if (tops[i] == NULL)
            continue;
        snprintf(dir, sizeof(dir), "%s/tests/fixtures", tops[i]);
        snprintf(sub, sizeof(sub), "%s/corpus", dir);
        if ((d = opendir(sub)) != NULL) {
            closedir(d);
            return dir;
        }
    }
    return NULL;
}

static char *
corpus_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    if (f == NULL)
        return NULL;
    buf = malloc(CORPUS_MAX_FILE + 1);
    if (buf != NULL) {
        *len = fread(buf, 1, CORPUS_MAX_FILE, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

static int
corpus_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted .eml names (without .eml); caller frees each and the array. */
static size_t
corpus_list(char ***names)
{
    const char *fx = corpus_fixtures();
    char path[1100];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    *names = calloc(CORPUS_MAX_FILES, sizeof(**names));
    if (fx == NULL || *names == NULL)
        return 0;
    snprintf(path, sizeof(path), "%s/corpus", fx);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < CORPUS_MAX_FILES) {
        size_t k = strlen(e->d_name);

        if (k > 4 && strcmp(e->d_name + k - 4, ".eml") == 0)
            (*names)[n++] = strndup(e->d_name, k - 4);
    }
    closedir(d);
    qsort(*names, n, sizeof(**names), corpus_name_cmp);
    return n;
}

static void
corpus_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- the message, as the milter collects it ---- */

/* Length of the header block up to the blank line; *body set past it. */
static size_t
corpus_header_end(const char *raw, size_t len, size_t *body)
{
    for (size_t i = 0; i < len; i++) {
        if (raw[i] != '\n')
            continue;
        if (i + 1 < len && raw[i + 1] == '\n') {
            *body = i + 2;
            return i + 1;
        }
        if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n') {
            *body = i + 3;
            return i + 1;
        }
    }
    *body = len;
    return len;
}

/* The address in a Return-Path or From value: inside <>, else as is. */
static char *
corpus_address(const char *v)
{
    const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    while (*v == ' ')
        v++;
    if (lt && gt)
        return strndup(lt + 1, (size_t)(gt - lt - 1));
    return strndup(v, strcspn(v, " \r\n"));
}

static void
corpus_add_header(struct cpr_message *m, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    char *name, *value;
    size_t vs;

    if (colon == NULL)
        return;
    vs = (size_t)(colon - line) + 1;
    while (vs < n && line[vs] == ' ')
        vs++;
    while (n > vs && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    name = strndup(line, (size_t)(colon - line));
    value = strndup(line + vs, n - vs);
    ck_assert(name && value);
    ck_assert(message_add_header(m, name, value));
    if (strcasecmp(name, "Return-Path") == 0 || (strcasecmp(name, "From") == 0 && !m->env_from)) {
        free(m->env_from);
        m->env_from = corpus_address(value);
    }
    free(name);
    free(value);
}

/* Headers one by one (folded lines kept, as libmilter hands them over). */
static void
corpus_headers(struct cpr_message *m, const char *raw, size_t hlen)
{
    size_t start = 0;

    while (start < hlen) {
        size_t end = start;

        do {
            const char *nl = memchr(raw + end, '\n', hlen - end);

            end = nl ? (size_t)(nl - raw) + 1 : hlen;
        } while (end < hlen && (raw[end] == ' ' || raw[end] == '\t'));
        corpus_add_header(m, raw + start, end - start);
        start = end;
    }
}

static struct cpr_message *
corpus_message(const char *raw, size_t len)
{
    struct cpr_message *m = message_new();
    size_t body, hlen;

    ck_assert_ptr_nonnull(m);
    hlen = corpus_header_end(raw, len, &body);
    corpus_headers(m, raw, hlen);
    if (m->env_from == NULL)
        m->env_from = strdup("");
    ck_assert(message_add_rcpt(m, "cpr@ca.example"));
    ck_assert(message_body_update(m, raw + body, len - body));
    ck_assert(message_finish(m));
    return m;
}

/* ---- expectations ---- */

static bool
corpus_flag(const char *v)
{
    return strcmp(v, "yes") == 0;
}

static const struct evidence_item *
corpus_find_kind(const struct report *r, const char *kind, size_t from)
{
    for (size_t i = from; i < r->ev.n; i++)
        if (strcmp(evidence_kind_name(r->ev.items[i].kind), kind) == 0)
            return &r->ev.items[i];
    return NULL;
}

/* One "attr=value" against an item. */
static bool
corpus_attr_ok(const struct evidence_item *it, const char *attr)
{
    const char *eq = strchr(attr, '=');
    size_t k = eq ? (size_t)(eq - attr) : 0;
    const char *v = eq ? eq + 1 : "";
    const char *proof = it->proof_pock ? "pock" : it->proof_pwnedkeys ? "pwnedkeys"
                        : it->proof_csr ? "csr" : "";

    if (k == 4 && strncmp(attr, "spki", 4) == 0)
        return strcmp(it->spki_sha256, v) == 0;
    if (k == 6 && strncmp(attr, "sha256", 6) == 0)
        return strcmp(it->sha256, v) == 0;
    if (k == 6 && strncmp(attr, "serial", 6) == 0)
        return strcmp(it->serial, v) == 0;
    if (k == 5 && strncmp(attr, "value", 5) == 0)
        return strcmp(it->value, v) == 0;
    if (k == 5 && strncmp(attr, "proof", 5) == 0)
        return strcmp(proof, v) == 0;
    if (k == 3 && strncmp(attr, "sig", 3) == 0)
        return it->sig_ok == corpus_flag(v);
    ck_abort_msg("unknown evidence attribute %s", attr);
    return false;
}

static bool
corpus_item_ok(const struct evidence_item *it, char *attrs)
{
    char *save = NULL, *copy = strdup(attrs);
    bool ok = true;

    ck_assert_ptr_nonnull(copy);
    for (char *a = strtok_r(copy, " ", &save); a && ok; a = strtok_r(NULL, " ", &save))
        ok = corpus_attr_ok(it, a);
    free(copy);
    return ok;
}

/* "KIND attr=v ...": some item of that kind has all those fields. */
static bool
corpus_evidence_ok(const struct report *r, const char *spec)
{
    char kind[64];
    size_t k = strcspn(spec, " ");
    const struct evidence_item *it;
    char *attrs;
    bool found = false;

    snprintf(kind, sizeof(kind), "%.*s", (int)k, spec);
    attrs = strdup(spec + k);
    ck_assert_ptr_nonnull(attrs);
    for (size_t i = 0; !found && (it = corpus_find_kind(r, kind, i)) != NULL;
         i = (size_t)(it - r->ev.items) + 1)
        found = corpus_item_ok(it, attrs);
    free(attrs);
    return found;
}

static bool
corpus_any_text(const struct report *r, const char *needle)
{
    for (size_t i = 0; i < r->nredacted; i++)
        if (strstr(r->redacted[i], needle) != NULL)
            return true;
    return false;
}

static bool
corpus_any_charset(const struct report *r, const char *cs)
{
    for (size_t i = 0; i < r->doc->ntexts; i++)
        if (strcmp(r->doc->texts[i].charset, cs) == 0)
            return true;
    return false;
}

static bool
corpus_any_reason(const char (*reasons)[REPORT_REASON_LEN], size_t n, const char *needle)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(reasons[i], needle) != NULL)
            return true;
    return false;
}

static bool
corpus_any_verdict_reason(const struct cpr_verdict *v, const char *needle)
{
    for (size_t i = 0; i < v->nreasons; i++)
        if (strstr(v->reasons[i], needle) != NULL)
            return true;
    return false;
}

static bool
corpus_any_ref(const struct report *r, const char *id)
{
    for (size_t i = 0; i < r->ndsn_refs; i++)
        if (strcmp(r->dsn_refs[i], id) == 0)
            return true;
    return false;
}

static bool
corpus_any_attachment(const struct report *r, const char *name)
{
    for (size_t i = 0; i < r->doc->natts; i++)
        if (strcmp(r->doc->atts[i].filename, name) == 0)
            return true;
    return false;
}

static bool
corpus_count_is(size_t have, const char *want)
{
    return have == strtoul(want, NULL, 10);
}

/* The verdict and report facts: kind, category and the flags. */
static bool
corpus_check_verdict(const struct corpus_case *c, const char *key, const char *v, bool *known)
{
    *known = true;
    if (strcmp(key, "kind") == 0)
        return strcmp(classify_kind_name(c->v.kind), v) == 0;
    if (strcmp(key, "category") == 0)
        return strcmp(c->v.category, v) == 0 && strcmp(c->r->cat.category, v) == 0;
    if (strcmp(key, "priority") == 0)
        return strcmp(category_priority_name(c->v.priority), v) == 0;
    if (strcmp(key, "list") == 0)
        return ((c->v.flags & VERDICT_FLAG_LIST) != 0) == corpus_flag(v);
    if (strcmp(key, "spam") == 0)
        return ((c->v.flags & VERDICT_FLAG_SPAM) != 0) == corpus_flag(v);
    if (strcmp(key, "key-evidence") == 0)
        return c->r->key_evidence == corpus_flag(v);
    if (strcmp(key, "truncated") == 0)
        return c->r->truncated == corpus_flag(v);
    if (strcmp(key, "verdict-reason-has") == 0)
        return corpus_any_verdict_reason(&c->v, v);
    *known = false;
    return false;
}

/* The report's content: evidence, copy, texts, reasons, refs. */
static bool
corpus_check_report(const struct corpus_case *c, const char *key, const char *v, bool *known)
{
    const struct report *r = c->r;

    *known = true;
    if (strcmp(key, "evidence") == 0)
        return corpus_evidence_ok(r, v);
    if (strcmp(key, "evidence-count") == 0)
        return corpus_count_is(r->ev.n, v);
    if (strcmp(key, "copy-has") == 0)
        return strstr(c->copy, v) != NULL;
    if (strcmp(key, "copy-lacks") == 0)
        return strstr(c->copy, v) == NULL && strstr(c->evidence, v) == NULL;
    if (strcmp(key, "subject") == 0)
        return strcmp(r->doc->subject, v) == 0;
    if (strcmp(key, "text-has") == 0)
        return corpus_any_text(r, v);
    if (strcmp(key, "text-charset") == 0)
        return corpus_any_charset(r, v);
    if (strcmp(key, "reason-has") == 0)
        return corpus_any_reason((const char (*)[REPORT_REASON_LEN])r->reasons, r->nreasons, v);
    if (strcmp(key, "dsn-ref") == 0)
        return corpus_any_ref(r, v);
    if (strcmp(key, "dsn-refs") == 0)
        return corpus_count_is(r->ndsn_refs, v);
    if (strcmp(key, "attachment") == 0)
        return corpus_any_attachment(r, v);
    *known = false;
    return false;
}

static void
corpus_dump(const struct corpus_case *c)
{
    fprintf(stderr, "%s: kind %s, category %s, priority %s, flags %u, %zu evidence\n",
            c->name, classify_kind_name(c->v.kind), c->v.category,
            category_priority_name(c->v.priority), c->v.flags, c->r->ev.n);
    for (size_t i = 0; i < c->r->nreasons; i++)
        fprintf(stderr, "  reason: %s\n", c->r->reasons[i]);
    for (size_t i = 0; i < c->v.nreasons; i++)
        fprintf(stderr, "  verdict: %s\n", c->v.reasons[i]);
    fprintf(stderr, "  evidence: %s\n", c->evidence);
}

static void
corpus_check_line(const struct corpus_case *c, char *line)
{
    char *sep = strstr(line, ": ");
    bool known, ok;

    if (line[0] == '\0' || line[0] == '#')
        return;
    ck_assert_msg(sep != NULL, "%s.expect: bad line \"%s\"", c->name, line);
    *sep = '\0';
    ok = corpus_check_verdict(c, line, sep + 2, &known);
    if (!known)
        ok = corpus_check_report(c, line, sep + 2, &known);
    ck_assert_msg(known, "%s.expect: unknown key \"%s\"", c->name, line);
    if (!ok)
        corpus_dump(c);
    ck_assert_msg(ok, "%s: \"%s: %s\" does not hold", c->name, line, sep + 2);
}

/* ---- invariants ---- */

/* No line of any fixture private key, in the copy or the evidence. */
static void
corpus_check_no_keys(const struct corpus_case *c, const char *fx)
{
    char path[1200], *save = NULL;

    ck_assert_msg(strstr(c->copy, "PRIVATE KEY-----") == NULL, "%s: key label in copy", c->name);
    for (size_t i = 0; corpus_keys[i] != NULL; i++) {
        size_t len;
        char *key;

        snprintf(path, sizeof(path), "%s/%s", fx, corpus_keys[i]);
        key = corpus_read(path, &len);
        ck_assert_msg(key != NULL, "cannot read %s", path);
        for (char *l = strtok_r(key, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save))
            if (strncmp(l, "-----", 5) != 0 && strlen(l) >= CORPUS_KEY_LINE_MIN)
                ck_assert_msg(strstr(c->copy, l) == NULL && strstr(c->evidence, l) == NULL,
                              "%s: a line of %s is stored", c->name, corpus_keys[i]);
        free(key);
    }
}

/* ---- the test ---- */

static bool
corpus_expects_truncated(const char *expect)
{
    return strstr(expect, "\ntruncated: yes\n") != NULL
           || strncmp(expect, "truncated: yes\n", 15) == 0;
}

static void
corpus_run(struct corpus_case *c, const char *expect)
{
    json_t *copy, *ev;

    c->m = corpus_message(c->raw, c->len);
    c->r = report_analyze(c->raw, c->len, c->m, corpus_expects_truncated(expect), NULL);
    ck_assert_msg(c->r != NULL, "%s: report_analyze failed", c->name);
    classify_message(c->m, corpus_ours, c->r, &c->v);
    copy = report_copy_json(c->r);
    ev = report_evidence_json(c->r);
    ck_assert(copy != NULL && ev != NULL);
    c->copy = json_dumps(copy, JSON_COMPACT);
    c->evidence = json_dumps(ev, JSON_COMPACT);
    ck_assert(c->copy != NULL && c->evidence != NULL);
    json_decref(copy);
    json_decref(ev);
}

static void
corpus_case_free(struct corpus_case *c)
{
    report_free(c->r);
    message_free(c->m);
    free(c->copy);
    free(c->evidence);
    free(c->raw);
}

START_TEST(test_corpus_message)
{
    const char *fx = corpus_fixtures();
    struct corpus_case c = { 0 };
    char **names, path[1200], *expect, *save = NULL;
    size_t n = corpus_list(&names), elen;

    ck_assert_msg(fx != NULL && (size_t)_i < n, "corpus not found");
    c.name = names[_i];
    snprintf(path, sizeof(path), "%s/corpus/%s.eml", fx, c.name);
    ck_assert_msg((c.raw = corpus_read(path, &c.len)) != NULL, "cannot read %s", path);
    snprintf(path, sizeof(path), "%s/corpus/%s.expect", fx, c.name);
    ck_assert_msg((expect = corpus_read(path, &elen)) != NULL, "cannot read %s", path);
    corpus_run(&c, expect);
    for (char *l = strtok_r(expect, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        corpus_check_line(&c, l);
    corpus_check_no_keys(&c, fx);
    free(expect);
    corpus_case_free(&c);
    corpus_list_free(names, n);
}
END_TEST

START_TEST(test_corpus_size)
{
    char **names;
    size_t n = corpus_list(&names);

    ck_assert_msg(n >= CORPUS_MIN_MESSAGES, "corpus has %zu messages, want %d", n,
                  CORPUS_MIN_MESSAGES);
    corpus_list_free(names, n);
}
END_TEST

/* GMime 3.2 lost everything after a padded B encoded-word (ko_euc_kr). */
START_TEST(test_padded_b_words)
{
    char *s = mime_header_decode(" =?utf-8?B?YWI=?= =?utf-8?B?Y2Q=?=\r\n =?utf-8?B?w6k=?=");

    ck_assert_str_eq(s, "abcdé");
    free(s);
    s = mime_header_decode("=?utf-8?B?w6k?= =?utf-8?Q?=C3?= =?utf-8?Q?=A9?= x");
    ck_assert_str_eq(s, "éé x");
    free(s);
}
END_TEST

/* HTML reduced to text puts a <pre> key on one line (alt_key_plain_and_html). */
START_TEST(test_key_on_one_line)
{
    const char *fx = corpus_fixtures();
    char path[1200], *key, *html;
    size_t len;
    struct report *r;

    ck_assert_ptr_nonnull(fx);
    snprintf(path, sizeof(path), "%s/evidence/ec.key", fx);
    ck_assert_ptr_nonnull(key = corpus_read(path, &len));
    ck_assert_ptr_nonnull(html = malloc(len + 200));
    snprintf(html, len + 200, "Content-Type: text/html\n\n<p>key:</p><pre>%s</pre>", key);
    ck_assert_ptr_nonnull(r = report_analyze(html, strlen(html), NULL, false, NULL));
    ck_assert_uint_eq(r->ev.n, 1);
    ck_assert_int_eq(r->ev.items[0].kind, EVIDENCE_KEY);
    ck_assert_ptr_nonnull(strstr(r->redacted[0], "[private key removed: SPKI SHA-256 "));
    report_free(r);
    free(html);
    free(key);
}
END_TEST

Suite *
corpus_suite(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("corpus");
    char **names;
    size_t n = corpus_list(&names);

    corpus_list_free(names, n);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_corpus_size);
    tcase_add_test(tc, test_padded_b_words);
    tcase_add_test(tc, test_key_on_one_line);
    tcase_add_loop_test(tc, test_corpus_message, 0, n > 0 ? (int)n : 1);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   bench_report - parse, extract and classify throughput of the analysis
 * SUMMARY
 *   top_srcdir=. tests/bench_report [ITERATIONS]      (tests/bench_report.sh)
 * DESCRIPTION
 *   A benchmark, not a test: nothing is asserted. Builds two messages in
 *   memory from the fixtures (no openssl CLI): a typical report of about
 *   20 KB (text in two languages with crt.sh links and serials, a PEM
 *   certificate and a PEM private key inline, an HTML alternative) and a
 *   short report with a 5 MB attachment of pseudo-random bytes in base64.
 *   Times each stage on its own, ITERATIONS times (default 21; a third as
 *   many for the large message), and prints the median as MB/s of raw
 *   message and messages/s:
 *     parse     mime_parse()
 *     extract   evidence_scan_text() + evidence_redact() per text,
 *               evidence_scan_der() per attachment (what report.c does)
 *     classify  category_decide() + classify_message(), evidence as found
 *     keywords  the same without evidence flags: the keyword tables run
 *     total     report_analyze() + classify_message() + both JSON documents
 *   Peak RSS while a 50 MB message passes through cpr-milter is measured
 *   by tests/bench_rss.sh (it needs the milter, Postfix and PostgreSQL).
 * DIAGNOSTICS
 *   Exits 1 if a fixture cannot be read or memory runs out.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "category.h"
#include "classify.h"
#include "evidence.h"
#include "message.h"
#include "mime.h"
#include "report.h"

#define BENCH_TYPICAL_BYTES (20 * 1024)
#define BENCH_ATTACH_BYTES  (5 * 1024 * 1024)
#define BENCH_ITERATIONS    21
#define BENCH_MAX_ITER      1001
#define BENCH_FIXTURE_MAX   (64 * 1024)

static char *const bench_ours[] = { "cpr@ca.example", NULL };

struct bench_buf {
    char *p;
    size_t n, cap;
};

/* ---- building the messages ---- */

static void
bench_put(struct bench_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);

        if (p == NULL) {
            fprintf(stderr, "bench_report: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void
bench_puts(struct bench_buf *b, const char *s)
{
    bench_put(b, s, strlen(s));
}

static char *
bench_fixture(const char *name)
{
    const char *top = getenv("top_srcdir");
    char path[1024], *buf = malloc(BENCH_FIXTURE_MAX + 1);
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/tests/fixtures/evidence/%s", top ? top : ".", name);
    if (buf == NULL || (f = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "bench_report: cannot read %s (set top_srcdir)\n", path);
        exit(1);
    }
    n = fread(buf, 1, BENCH_FIXTURE_MAX, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static const char bench_headers[] =
    "Return-Path: <alice@research.example>\n"
    "From: Alice Researcher <alice@research.example>\n"
    "To: cpr@ca.example\n"
    "Subject: =?utf-8?Q?Key_compromise_=E2=80=93_www.example.org?=\n"
    "Date: Tue, 10 Mar 2026 09:14:00 +0000\n"
    "Message-ID: <bench@research.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"BENCH\"\n\n";

static const char bench_para[] =
    "While auditing public repositories we found the private key of the certificate "
    "for www.example.org (https://crt.sh/?id=123456789, serial number: "
    "01:23:45:67:89:ab:cd:ef:42). Nous demandons la révocation sous 24 heures. "
    "私钥泄露，请吊销证书。\n";

/* About 20 KB: prose, then a certificate and a key, then HTML. */
static void
bench_typical(struct bench_buf *b)
{
    char *cert = bench_fixture("leaf.pem"), *key = bench_fixture("ec.key");

    bench_puts(b, bench_headers);
    bench_puts(b, "--BENCH\nContent-Type: multipart/alternative; boundary=\"ALT\"\n\n"
                  "--ALT\nContent-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 8bit\n\n");
    while (b->n < BENCH_TYPICAL_BYTES * 6 / 10)
        bench_puts(b, bench_para);
    bench_puts(b, cert);
    bench_puts(b, key);
    bench_puts(b, "--ALT\nContent-Type: text/html; charset=utf-8\n\n<html><body>");
    while (b->n < BENCH_TYPICAL_BYTES)
        bench_puts(b, "<p>See <a href=\"https://crt.sh/?id=123456789\">crt.sh</a> &amp; "
                      "the attached key.</p>\n");
    bench_puts(b, "</body></html>\n--ALT--\n--BENCH--\n");
    free(cert);
    free(key);
}

/* A short report and BENCH_ATTACH_BYTES of pseudo-random bytes in base64. */
static void
bench_large(struct bench_buf *b)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t x = 2463534242u;
    char line[78];

    bench_puts(b, bench_headers);
    bench_puts(b, "--BENCH\nContent-Type: text/plain; charset=utf-8\n\n"
                  "Please revoke the certificate; the key dump is attached.\n"
                  "--BENCH\nContent-Type: application/octet-stream; name=\"dump.bin\"\n"
                  "Content-Transfer-Encoding: base64\n\n");
    for (size_t done = 0; done < BENCH_ATTACH_BYTES; done += 57) {
        for (int i = 0; i < 76; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            line[i] = b64[x & 63];
        }
        line[76] = '\n';
        bench_put(b, line, 77);
    }
    bench_puts(b, "--BENCH--\n");
}

/* ---- the stages ---- */

static double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct cpr_message *
bench_message(const struct bench_buf *b)
{
    struct cpr_message *m = message_new();

    message_set(&m->env_from, "alice@research.example");
    message_add_header(m, "From", "Alice Researcher <alice@research.example>");
    message_add_header(m, "Subject", "=?utf-8?Q?Key_compromise_=E2=80=93_www.example.org?=");
    message_add_header(m, "Content-Type", "multipart/mixed; boundary=\"BENCH\"");
    message_body_update(m, b->p, b->n);
    message_finish(m);
    return m;
}

static void
bench_extract(const struct mime_doc *d)
{
    for (size_t i = 0; i < d->ntexts; i++) {
        struct evidence_list ev;

        evidence_list_init(&ev);
        evidence_scan_text(d->texts[i].text, d->texts[i].len, &ev);
        free(evidence_redact(d->texts[i].text, d->texts[i].len, &ev));
        evidence_list_free(&ev);
    }
    for (size_t i = 0; i < d->natts; i++) {
        struct evidence_list ev;

        evidence_list_init(&ev);
        evidence_scan_der(d->atts[i].data, d->atts[i].data_len, &ev);
        evidence_list_free(&ev);
    }
}

/* With key evidence the keyword tables are skipped; evidence=false
 * times them too, as for a report without a key. */
static void
bench_classify(const struct mime_doc *d, const struct cpr_message *m, const struct report *r,
               bool evidence)
{
    struct category_input in = { .subject = d->subject };
    struct category_result out;
    struct cpr_verdict v;

    in.has_private_key = evidence && r->key_evidence;
    if (d->ntexts > 0) {
        in.body = d->texts[0].text;
        in.body_len = d->texts[0].len;
    }
    category_decide(&in, &out);
    classify_message(m, bench_ours, r, &v);
}

static void
bench_total(const struct bench_buf *b, const struct cpr_message *m)
{
    struct report *r = report_analyze(b->p, b->n, m, false, NULL);
    struct cpr_verdict v;
    json_t *copy, *ev;

    if (r == NULL) {
        fprintf(stderr, "bench_report: out of memory\n");
        exit(1);
    }
    classify_message(m, bench_ours, r, &v);
    copy = report_copy_json(r);
    ev = report_evidence_json(r);
    free(json_dumps(copy, JSON_COMPACT));
    free(json_dumps(ev, JSON_COMPACT));
    json_decref(copy);
    json_decref(ev);
    report_free(r);
}

/* ---- timing ---- */

enum bench_stage {
    STAGE_PARSE, STAGE_EXTRACT, STAGE_CLASSIFY, STAGE_KEYWORDS, STAGE_TOTAL, STAGE_COUNT
};

static const char *const bench_stage_names[STAGE_COUNT] = {
    "parse", "extract", "classify", "keywords", "total"
};

static int
bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One iteration: each stage timed on its own. */
static void
bench_once(const struct bench_buf *b, const struct cpr_message *m, const struct report *r,
           double t[STAGE_COUNT])
{
    double t0 = bench_now();
    struct mime_doc *d = mime_parse(b->p, b->n, NULL);

    t[STAGE_PARSE] = bench_now() - t0;
    if (d == NULL) {
        fprintf(stderr, "bench_report: out of memory\n");
        exit(1);
    }
    t0 = bench_now();
    bench_extract(d);
    t[STAGE_EXTRACT] = bench_now() - t0;
    t0 = bench_now();
    bench_classify(d, m, r, true);
    t[STAGE_CLASSIFY] = bench_now() - t0;
    t0 = bench_now();
    bench_classify(d, m, r, false);
    t[STAGE_KEYWORDS] = bench_now() - t0;
    mime_doc_free(d);
    t0 = bench_now();
    bench_total(b, m);
    t[STAGE_TOTAL] = bench_now() - t0;
}

static void
bench_run(const char *label, const struct bench_buf *b, int iterations)
{
    static double t[STAGE_COUNT][BENCH_MAX_ITER];
    struct cpr_message *m = bench_message(b);
    struct report *r = report_analyze(b->p, b->n, m, false, NULL);
    double one[STAGE_COUNT];

    printf("%s: %zu bytes, %d iterations, median\n", label, b->n, iterations);
    for (int i = 0; i < iterations; i++) {
        bench_once(b, m, r, one);
        for (int s = 0; s < STAGE_COUNT; s++)
            t[s][i] = one[s];
    }
    for (int s = 0; s < STAGE_COUNT; s++) {
        double med;

        qsort(t[s], (size_t)iterations, sizeof(double), bench_cmp);
        med = t[s][iterations / 2];
        printf("  %-9s %10.3f ms %10.1f MB/s %10.1f messages/s\n", bench_stage_names[s],
               med * 1e3, (double)b->n / 1e6 / med, 1.0 / med);
    }
    report_free(r);
    message_free(m);
}

/*
 * ---- peak RSS with a 50 MB message ----
 * Not measured here: the bound that matters is cpr-milter's (raw copy kept
 * up to max_message_bytes, then analysed). tests/bench_rss.sh sends a
 * 50 MB report through Postfix and the milter and prints its VmHWM.
 */

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : BENCH_ITERATIONS;
    struct bench_buf typical = { 0 }, large = { 0 };

    if (n < 1 || n > BENCH_MAX_ITER) {
        fprintf(stderr, "usage: bench_report [ITERATIONS 1..%d]\n", BENCH_MAX_ITER);
        return 1;
    }
    bench_typical(&typical);
    bench_large(&large);
    bench_run("typical report", &typical, n);
    bench_run("report with a 5 MB attachment", &large, n / 3 > 0 ? n / 3 : 1);
    printf("peak RSS with a 50 MB message: see tests/bench_rss.sh (needs the milter)\n");
    free(typical.p);
    free(large.p);
    return 0;
}

/*
 * NAME
 *   fuzz_report - libFuzzer target over parse, extract and classify
 * SUMMARY
 *   contrib/fuzz.sh [SECONDS]
 * DESCRIPTION
 *   Feeds each input as a raw message to mime_parse(), every decoded text
 *   part to evidence_scan_text() and evidence_redact(), every attachment
 *   to evidence_scan_der(), and the result to category_decide(): the path
 *   a hostile report takes. Built with clang -fsanitize=fuzzer,address,
 *   undefined; any crash, leak or undefined behaviour is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "category.h"
#include "evidence.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_texts(const struct mime_doc *d, struct evidence_list *ev, struct category_input *in)
{
    for (size_t i = 0; i < d->ntexts; i++) {
        struct evidence_list one;
        char *redacted;

        evidence_list_init(&one);
        evidence_scan_text(d->texts[i].text, d->texts[i].len, &one);
        redacted = evidence_redact(d->texts[i].text, d->texts[i].len, &one);
        free(redacted);
        evidence_list_free(&one);
        evidence_scan_text(d->texts[i].text, d->texts[i].len, ev);
        if (in->body == NULL) {
            in->body = d->texts[i].text;
            in->body_len = d->texts[i].len;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mime_doc *d = mime_parse((const char *)data, size, NULL);
    struct evidence_list ev;
    struct category_input in = { 0 };
    struct category_result out;

    if (d == NULL)
        return 0;
    evidence_list_init(&ev);
    fuzz_texts(d, &ev, &in);
    for (size_t i = 0; i < d->natts; i++)
        evidence_scan_der(d->atts[i].data, d->atts[i].data_len, &ev);
    for (size_t i = 0; i < ev.n; i++) {
        in.has_private_key |= evidence_is_key(&ev.items[i]);
        in.has_proof_csr |= ev.items[i].proof_csr;
        in.has_pock_cert |= ev.items[i].proof_pock;
        in.has_pwnedkeys_attestation |= ev.items[i].proof_pwnedkeys;
    }
    in.subject = d->subject;
    category_decide(&in, &out);
    evidence_list_free(&ev);
    mime_doc_free(d);
    return 0;
}

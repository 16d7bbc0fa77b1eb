/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   report - what one report says: decoded text, evidence, category
 * SUMMARY
 *   struct report *r = report_analyze(raw, len, msg, NULL);
 *   classify_message(msg, addresses, r, &verdict);
 *   json_t *copy = report_copy_json(r), *ev = report_evidence_json(r);
 *   report_free(r);
 * DESCRIPTION
 *   Runs mime_parse() over the raw message (headers, blank line, body as
 *   far as it was kept), evidence_scan_text() over every decoded text part
 *   and evidence_scan_der() over every attachment, evidence_redact() over
 *   every text part, and category_decide() over the decoded subject and
 *   text. Pure: no I/O, no database. The raw bytes stay the caller's.
 *   The stored copy (report_copy_json) is the redacted decoded text plus
 *   the attachments' metadata and SHA-256, never the raw MIME, and never
 *   a private key: every key block, including one cut short, is replaced
 *   by a marker naming its SPKI SHA-256.
 * DIAGNOSTICS
 *   report_analyze() returns NULL only when memory runs out.
 */
#ifndef CPR_REPORT_H
#define CPR_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "category.h"
#include "evidence.h"
#include "message.h"
#include "mime.h"

#define REPORT_MAX_DSN_REFS 16     /* ids taken from a DSN's attached original */
#define REPORT_MAX_REASONS  32
#define REPORT_REASON_LEN   160

struct report {
    struct mime_doc *doc;
    struct evidence_list ev;        /* from every text part and attachment */
    struct category_result cat;
    bool key_evidence;              /* private key, proof CSR, PoCK, pwnedkeys */
    bool truncated;                 /* the raw message was cut at the cap */
    /* Message-ID, In-Reply-To and References of the original message
     * attached to a delivery status notification (message/rfc822 or
     * text/rfc822-headers), without <>: how a bounce of our own auto-reply
     * finds its case. */
    char *dsn_refs[REPORT_MAX_DSN_REFS];
    size_t ndsn_refs;
    /* Plain-words reasons: evidence found ("private key block (EC P-256),
     * SPKI 8f73..."), MIME problems ("malformed MIME kept raw: ..."). */
    char reasons[REPORT_MAX_REASONS][REPORT_REASON_LEN];
    size_t nreasons;
    /* The stored copy's text: evidence_redact() of doc->subject and of
     * every doc->texts[i] (same index). The doc's own texts are never
     * stored: they may hold private keys. */
    char *subject;
    char **redacted;
    size_t nredacted;
};

/* m supplies the upstream headers (X-Spam-Flag, X-Spam-Status,
 * Authentication-Results); truncated says raw was cut at the size cap.
 * lim may be NULL for the mime.h defaults. */
struct report *report_analyze(const char *raw, size_t len, const struct cpr_message *m,
                              bool truncated, const struct mime_limits *lim);
void report_free(struct report *r);

/* {"subject": ..., "content_type": top-level type,
 *  "texts": [{"part","type","charset","text","truncated"}],
 *  "attachments": [{"part","filename","type","size","sha256"}],
 *  "reasons": [...], "dsn_refs": [...], "truncated": bool}, every text
 *  redacted. New reference; NULL if no memory. */
json_t *report_copy_json(const struct report *r);
/* [{"kind","sha256","spki_sha256","serial","issuer","subject","sans",
 *   "not_before","not_after","key_type","value","sig_ok","proof",
 *   "reason"}, ...]: empty strings become null; "proof" is "pock", "csr",
 *   "pwnedkeys" or null. Never holds key material. */
json_t *report_evidence_json(const struct report *r);

#endif

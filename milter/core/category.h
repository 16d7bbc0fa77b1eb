/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   category - the category and priority of a report, with reasons
 * DESCRIPTION
 *   A pure function of the decoded subject and body, the evidence flags
 *   found by the extractor and three upstream headers. Evidence outranks
 *   words: a private key, a proof CSR, a PoCK certificate or a pwnedkeys
 *   attestation means key-compromise. Otherwise weighted keyword tables
 *   (en, zh, zh-Hant, fr, de, es, ja) score each category; subject hits
 *   weigh more than body hits, and ties go to the first category in
 *   enum category_id order. Spam signals only lower the priority.
 * DIAGNOSTICS
 *   None: every input, including NULL strings, gives a result. What was
 *   decided and why is in the reasons, at most CATEGORY_MAX_REASONS.
 */
#ifndef CPR_CATEGORY_H
#define CPR_CATEGORY_H

#include <stdbool.h>
#include <stddef.h>

#define CATEGORY_BODY_SCAN_MAX    (64 * 1024)  /* body bytes searched */
#define CATEGORY_SUBJECT_SCAN_MAX 1024         /* subject bytes searched */
#define CATEGORY_HEADER_SCAN_MAX  4096         /* header bytes searched */
#define CATEGORY_KEYWORD_MAX      64           /* folded keyword bytes, NUL incl. */
#define CATEGORY_MAX_REASONS      16
#define CATEGORY_REASON_LEN       112          /* one reason, NUL included */
#define CATEGORY_MAX_SPAM         3

/* In tie-break order: the first wins a tie. */
enum category_id {
    CATEGORY_KEY_COMPROMISE,
    CATEGORY_REVOCATION_REQUEST,
    CATEGORY_MISISSUANCE,
    CATEGORY_ABUSE,
    CATEGORY_OTHER,
    CATEGORY_COUNT
};

enum category_priority { CATEGORY_PRIORITY_NORMAL, CATEGORY_PRIORITY_LOW };

struct category_input {
    const char *subject;        /* decoded UTF-8, NUL-terminated, or NULL */
    const char *body;           /* decoded UTF-8 text, or NULL; need not */
    size_t body_len;            /* be NUL-terminated */
    bool has_private_key;
    bool has_proof_csr;
    bool has_pock_cert;
    bool has_pwnedkeys_attestation;
    bool has_certificate;
    size_t n_certificates;
    const char *x_spam_flag;            /* header values, or NULL */
    const char *x_spam_status;
    const char *authentication_results;
};

struct category_result {
    enum category_id id;
    const char *category;               /* static: category_name(id) */
    enum category_priority priority;
    int scores[CATEGORY_COUNT];         /* keyword scores, 0 if evidence */
    const char *spam[CATEGORY_MAX_SPAM];        /* static strings */
    size_t nspam;
    char reasons[CATEGORY_MAX_REASONS][CATEGORY_REASON_LEN];
    size_t nreasons;
    bool reasons_truncated;             /* some reasons did not fit */
};

void category_decide(const struct category_input *in, struct category_result *out);

const char *category_name(enum category_id id);
bool category_parse(const char *name, enum category_id *id);
const char *category_priority_name(enum category_priority priority);

/* For tests: the keyword table, and the folding used for matching. */
size_t category_keyword_count(void);
bool category_keyword_get(size_t i, enum category_id *id, const char **lang,
                          const char **word, int *weight);
size_t category_fold(const char *s, size_t len, char *out, size_t outsize);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   evidence - certificates, CSRs, keys and identifiers found in a report
 * DESCRIPTION
 *   Pure extraction from bytes (OpenSSL libcrypto; no I/O, no database).
 *   evidence_scan_text() finds PEM blocks anywhere in decoded text plus
 *   crt.sh links, SHA-256 fingerprints and serial numbers; evidence_scan_der()
 *   recognises one DER attachment by content. Every private-key block
 *   (parsed, encrypted, unparsable or cut short) keeps its byte range so
 *   evidence_redact() can replace it by a marker before anything is stored.
 *   The list owns its items; evidence_list_free() releases them.
 * DIAGNOSTICS
 *   Nothing is logged. Scan functions return false only when memory runs
 *   out; hostile or malformed input yields fewer items, never a failure.
 *   Bounds that were hit are flagged in the list (items_dropped, cut_at).
 */
#ifndef CPR_EVIDENCE_H
#define CPR_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>

#define EVIDENCE_MAX_ITEMS 64               /* non-key items per message */
#define EVIDENCE_MAX_KEY_RANGES 256         /* key blocks before cut_at */
#define EVIDENCE_MAX_PEM_BYTES (256 * 1024) /* larger blocks are not parsed */
#define EVIDENCE_MAX_SCAN (8 * 1024 * 1024) /* text bytes examined */
#define EVIDENCE_MAX_PKCS7_CERTS 16         /* certificates per bundle */
#define EVIDENCE_KEY_PROOF_MAX 16           /* keys proven (sign+verify) per list */
#define EVIDENCE_KEY_PROOF_BITS 8192        /* larger RSA keys are not tried */
#define EVIDENCE_KEY_SIG_MAX 1024           /* bytes of the proof's signature */

/* RFC 7169 id-pe-nsa, "NoSecurityAfforded" in the pwnedkeys attestation
 * profile (draft-mpalmer-key-compromise-attestation). */
#define EVIDENCE_OID_NO_SECURITY_AFFORDED "1.3.6.1.5.5.7.1.23"
#define EVIDENCE_POCK_CN \
    "--------------------PROOF OF COMPROMISED KEY--------------------"
#define EVIDENCE_PROOF_CSR_PREFIX "Proof of Key Compromise"
#define EVIDENCE_PWNEDKEYS_CN "Key Compromise Attestation"

#define EVIDENCE_HEX_SHA256 65   /* 64 hex digits and NUL */
#define EVIDENCE_SERIAL_LEN 129  /* 64 bytes of serial in hex */
#define EVIDENCE_NAME_LEN 512
#define EVIDENCE_SANS_LEN 1024
#define EVIDENCE_VALUE_LEN 80
#define EVIDENCE_REASON_LEN 256

enum evidence_kind {
    EVIDENCE_CERT,
    EVIDENCE_CSR,
    EVIDENCE_KEY,            /* PRIVATE KEY, RSA/EC PRIVATE KEY, DER key */
    EVIDENCE_KEY_ENCRYPTED,  /* present only */
    EVIDENCE_KEY_TRUNCATED,  /* BEGIN without END */
    EVIDENCE_CRTSH,          /* value = param "=" value, e.g. "id=123" */
    EVIDENCE_FINGERPRINT,    /* sha256, lower-case hex */
    EVIDENCE_SERIAL,         /* serial, lower-case hex */
    EVIDENCE_UNREADABLE      /* encoded data that may hide a key: redacted,
                                not stored (keygate.c); reason says what */
};

struct evidence_item {
    enum evidence_kind kind;
    char sha256[EVIDENCE_HEX_SHA256];      /* certificate fingerprint */
    char spki_sha256[EVIDENCE_HEX_SHA256]; /* "" when unknown */
    char serial[EVIDENCE_SERIAL_LEN];
    char issuer[EVIDENCE_NAME_LEN];        /* RFC 2253, UTF-8 */
    char subject[EVIDENCE_NAME_LEN];
    char sans[EVIDENCE_SANS_LEN];          /* DNS names, comma-separated */
    char not_before[24];                   /* RFC 3339 UTC */
    char not_after[24];
    char key_type[32];                     /* "RSA 2048", "EC P-256" */
    char value[EVIDENCE_VALUE_LEN];        /* text identifiers */
    bool sig_ok;        /* CSR self-signature; cert self-signature (PoCK);
                           private key: its private half signs for its public */
    bool proof_pock;
    bool proof_csr;
    bool proof_pwnedkeys;
    bool has_range;     /* start/end set: a PEM block in scanned text */
    size_t start, end;  /* [start, end) in the text */
    char reason[EVIDENCE_REASON_LEN];
};

struct evidence_list {
    struct evidence_item *items;
    size_t n, cap;
    size_t items_dropped;   /* non-key items over EVIDENCE_MAX_ITEMS */
    size_t cut_at;          /* redact everything from here; SIZE_MAX if not */
    size_t keys_tried;      /* key-pair proofs made, EVIDENCE_KEY_PROOF_MAX */
};

void evidence_list_init(struct evidence_list *ev);
void evidence_list_free(struct evidence_list *ev);
const char *evidence_kind_name(enum evidence_kind kind);
bool evidence_is_key(const struct evidence_item *it);
/* Append a copy of it (see evidence.c for the bounds); false on ENOMEM. */
bool evidence_push(struct evidence_list *ev, const struct evidence_item *it);
/* A key, or data redacted because it may hide one. */
bool evidence_is_redacted(const struct evidence_item *it);

bool evidence_scan_text(const char *text, size_t len, struct evidence_list *out);
bool evidence_scan_der(const unsigned char *buf, size_t len,
                       struct evidence_list *out);
/* A NUL-terminated malloc'd copy (caller frees), or NULL if out of memory. */
char *evidence_redact(const char *text, size_t len,
                      const struct evidence_list *ev);

#endif

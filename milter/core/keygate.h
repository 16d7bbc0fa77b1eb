/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   keygate - private keys found by what they decode to, in any wrapper
 * DESCRIPTION
 *   The second half of the one redaction gate (evidence_scan_text finds
 *   PEM blocks): bare base64 and hex runs, JWK private members and
 *   uuencoded blocks. Each finding is an evidence item with a byte range,
 *   so evidence_redact() replaces it; see keygate.c for the rules.
 */
#ifndef CPR_KEYGATE_H
#define CPR_KEYGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "evidence.h"

/* Shortest run tried as DER: an Ed25519 PKCS#8 key is 48 bytes, 64
 * base64 characters, 96 hex digits. */
#define KEYGATE_MIN_B64 64
#define KEYGATE_MIN_HEX 96
/* Line-wrapped base64 that decodes to nothing public (not a certificate,
 * CSR or PKCS#7) is removed from this size on: half a key split across two
 * MIME parts, a cut-short key, an encrypted blob. */
#define KEYGATE_MIN_FRAGMENT 128
/* Longest run decoded (the DER scan's own bound). */
#define KEYGATE_MAX_RUN EVIDENCE_MAX_PEM_BYTES

/* Add what text holds to out: private keys (with their SPKI) and, when
 * fragments is set, encoded data that may hide one (EVIDENCE_UNREADABLE).
 * False only when memory runs out. */
bool keygate_scan(const char *text, size_t len, bool fragments, struct evidence_list *out);

/* True when text holds a private key by any rule (PEM, text dump, bare,
 * hex, JWK, PKCS#12, uuencode), or, with fragments, data that may hide
 * one; also true when memory runs out (the caller then stores nothing). */
bool keygate_holds_key(const char *text, size_t len, bool fragments);

#endif

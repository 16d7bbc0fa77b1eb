/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   invcert - one certificate of the CA's inventory, parsed and checked
 * SUMMARY
 *   struct inv_cert c;
 *   if (invcert_from_der(der, len, max, &c, why, sizeof(why))) ... invcert_clear(&c);
 * DESCRIPTION
 *   An inventory row is hostile input like any other: its DER is bounded
 *   and parsed by the same code as a report's evidence (evidence.c), so
 *   issuer names, serials and fingerprints compare equal byte for byte;
 *   a row of fields only (no DER) must carry a well-formed SHA-256,
 *   serial and issuer. invcert_pem_each walks the certificates of a PEM
 *   text (a directory file, a PEM column). invcert_matches says whether a
 *   certificate really is what a query asked for, so a wrong query can
 *   never attach a stranger's certificate to a case.
 * DIAGNOSTICS
 *   False with why set; nothing logged.
 */
#ifndef CPR_INVCERT_H
#define CPR_INVCERT_H

#include <stdbool.h>
#include <stddef.h>

#define INVCERT_MAX_DER     65536   /* bytes of one certificate, at most */
#define INVCERT_HEX256      65
#define INVCERT_SERIAL_LEN  129
#define INVCERT_NAME_LEN    1024
#define INVCERT_SANS_LEN    4096
#define INVCERT_TIME_LEN    32
#define INVCERT_CONTACT_LEN 321
#define INVCERT_SOURCE_LEN  65

enum inv_query { INV_BY_SERIAL, INV_BY_SHA256, INV_BY_SPKI, INV_BY_ISSUER_SERIAL };

struct inv_cert {
    char sha256[INVCERT_HEX256];
    char spki_sha256[INVCERT_HEX256];      /* "" when unknown (fields row) */
    char serial[INVCERT_SERIAL_LEN];       /* lower-case hex, no leading zeros */
    char issuer[INVCERT_NAME_LEN];         /* RFC 2253, as evidence.c prints it */
    char subject[INVCERT_NAME_LEN];
    char sans[INVCERT_SANS_LEN];
    char not_before[INVCERT_TIME_LEN];     /* RFC 3339 UTC, "" when unknown */
    char not_after[INVCERT_TIME_LEN];
    bool precert;                          /* carries the CT poison extension */
    unsigned char *der;                    /* owned; NULL for a fields row */
    size_t der_len;
    char contact[INVCERT_CONTACT_LEN];     /* Subscriber address, "" if none */
};

/* Lower-case hex without separators (':' ' ') or leading zeros ("0" for
 * zero) into out; false if in holds anything else or does not fit. */
bool invcert_serial_norm(const char *in, char *out, size_t len);
/* 64 hex digits, lower-cased into out (INVCERT_HEX256); false otherwise. */
bool invcert_hex256(const char *in, char *out);

bool invcert_from_der(const unsigned char *der, size_t len, size_t max_der,
                      struct inv_cert *c, char *why, size_t whylen);
/* A row of fields only: sha256, serial and issuer required and well formed. */
bool invcert_from_fields(const char *sha256, const char *serial, const char *issuer,
                         const char *subject, const char *sans, const char *spki_sha256,
                         const char *not_before, const char *not_after, bool precert,
                         struct inv_cert *c, char *why, size_t whylen);
/* A contact address: one plain address, at most 320 bytes, or "". */
bool invcert_set_contact(struct inv_cert *c, const char *contact);

/* Call fn for each CERTIFICATE block of text (up to max blocks), with
 * its DER, or with NULL for a block that does not parse; returns the
 * blocks seen, or -1 when fn returned false. */
typedef bool (*invcert_der_fn)(const unsigned char *der, size_t len, void *arg);
long invcert_pem_each(const char *text, size_t len, size_t max, invcert_der_fn fn, void *arg);

/* Does c answer query q with param (normalised as the query takes it;
 * for INV_BY_ISSUER_SERIAL the issuer and serial)? */
bool invcert_matches(const struct inv_cert *c, enum inv_query q, const char *param,
                     const char *issuer);

void invcert_clear(struct inv_cert *c);

#endif

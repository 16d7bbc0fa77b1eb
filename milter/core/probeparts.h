/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probeparts.h - the attachments of mail-path probes, one per variant
 * DESCRIPTION
 *   See probeparts.c.
 */
#ifndef CPR_PROBEPARTS_H
#define CPR_PROBEPARTS_H

#include <stdbool.h>
#include <stddef.h>

/* A made-up attachment (or inline text, for the PEM key): malloc'd data. */
struct probe_part {
    unsigned char *data;
    size_t len;
    const char *type;          /* MIME type; NULL: inline in the text part */
    const char *filename;
};

/* The variants, in their default order; NULL-terminated. */
extern const char *const probeparts_variants[];

bool probeparts_known(const char *variant);

/* The part for variant, about text (the file inside the archives). False
 * on an unknown variant or when OpenSSL or memory fails. "plain" gives an
 * empty part (no data). */
bool probeparts_make(const char *variant, const char *text, struct probe_part *out);
void probeparts_free(struct probe_part *p);

unsigned long probeparts_crc32(const unsigned char *d, size_t n);

#endif

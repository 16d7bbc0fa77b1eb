/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   tracking - CPR-YYYY-NNNNNN tracking numbers
 * DESCRIPTION
 *   YYYY is the UTC year of receipt, NNNNNN a zero-padded database-wide
 *   sequence of six or more digits. The database issues them; this module
 *   formats, validates and finds them in text (Subjects, bodies).
 */
#ifndef CPR_TRACKING_H
#define CPR_TRACKING_H

#include <stdbool.h>
#include <stddef.h>

#define TRACKING_MAX 32   /* "CPR-" + 4 + "-" + up to 19 digits + NUL */

bool tracking_format(char *buf, size_t len, int year, long long seq);
bool tracking_parse(const char *s, int *year, long long *seq);

/* Find the first well-formed tracking number in text (not glued to other
 * letters or digits). Copies it to out and returns a pointer to its start in
 * text, or NULL. */
const char *tracking_find(const char *text, char *out, size_t outlen);

#endif

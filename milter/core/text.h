/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   text - reporter text made safe for a terminal, a table or a CSV file
 * SUMMARY
 *   char *safe = text_sanitise(s);           width = text_width(safe);
 *   char *json = text_json_escape(dump);     text_csv_field(fp, s);
 * DESCRIPTION
 *   Reporters choose subjects, addresses and certificate names, so every
 *   string cprctl prints goes through here first: no escape sequence and
 *   no bidi override reaches a staff member's terminal or a pasted report.
 *   Widths count code points of valid UTF-8.
 * DIAGNOSTICS
 *   Allocation failure is fatal (log_fatal).
 */
#ifndef CPR_TEXT_H
#define CPR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A malloc'd copy: controls become '?' (tab and newlines a space), bytes
 * that are not UTF-8 become '?'. The result is never longer. NULL is "". */
char *text_sanitise(const char *s);

/* Code points of a sanitised string; bytes of its first n code points. */
size_t text_width(const char *s);
size_t text_prefix(const char *s, size_t n);

/* A JSON document with DEL, C1 and bidi controls escaped as \uXXXX. */
char *text_json_escape(const char *in);

/* One CSV field (RFC 4180): sanitised, quoted when it holds a comma, a
 * quote or begins with a space; quotes doubled. A leading = + - @ (after
 * spaces), tab or CR is prefixed with ' so that a spreadsheet does not
 * run it as a formula. */
void text_csv_field(FILE *fp, const char *s);

/* One Markdown table cell: sanitised; | \ [ ] * _ ~ ` < > escaped with a
 * backslash, so no text becomes a link, emphasis or HTML; "-" if empty. */
void text_md_cell(FILE *fp, const char *s);

void *text_xmalloc(size_t n);

#endif

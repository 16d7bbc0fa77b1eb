/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   export - a case or a report, as JSON in, as Markdown, CSV or text out
 * SUMMARY
 *   export_timeline(fp, case_json, &opts);
 *   export_incident_draft(fp, case_json, &opts);
 *   export_report_text(fp, report_json);  export_report_csv(fp, report_json);
 * DESCRIPTION
 *   Pure formatting: no database, no clock. case_json is what
 *   cpr.case_show() returns (sql/009_audit.sql); report_json is what
 *   compliance_report() builds. Fixed input gives fixed output, so the
 *   formats are golden-tested (tests/check_export.c, tests/golden/).
 *   Every string from the case goes through text.c: no control character
 *   reaches the output, and Markdown cells and CSV fields are escaped.
 *   Times are UTC as stored, to the millisecond. Facts come from the
 *   case's events, not its mutable columns (the appendix's revocation);
 *   a draft whose columns disagree with them opens with a warning.
 * DIAGNOSTICS
 *   Each returns 0, or -1 when writing failed (ferror on fp).
 */
#ifndef CPR_EXPORT_H
#define CPR_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct export_opts {
    bool name_reporter;        /* show the reporter's address (else withheld) */
};

/* The CSV header of the incident draft's certificate appendix (CCADB). */
#define EXPORT_CERT_CSV_HEADER \
    "Precertificate SHA-256,Certificate SHA-256,Subject,Issuer,Not before," \
    "Not after,Serial # (hex),dNSNames,Is revoked?,Revocation date,Revocation reason"

/* A Markdown table: time (UTC), event, details, by; one row per event. */
int export_timeline(FILE *fp, const json_t *c, const struct export_opts *o);

/* A CCADB incident report skeleton with the timeline and the appendix. */
int export_incident_draft(FILE *fp, const json_t *c, const struct export_opts *o);

/* The certificates of the case's evidence as CSV (header line first). */
int export_cert_csv(FILE *fp, const json_t *c);

/* The auditor's report: readable text, or one CSV row per clock per case. */
int export_report_text(FILE *fp, const json_t *report);
int export_report_csv(FILE *fp, const json_t *report);

/* The same a case at a time (cprctl report streams): head is
 * compliance_report_head()'s, each row compliance_case()'s, totals
 * compliance_totals_json()'s. The int ones return export_done()'s. */
void export_report_text_head(FILE *fp, const json_t *head);
void export_report_text_case(FILE *fp, const json_t *row);
int export_report_text_tail(FILE *fp, const json_t *totals);
void export_report_csv_head(FILE *fp);
void export_report_csv_case(FILE *fp, const json_t *row);
int export_report_csv_done(FILE *fp);

/* "2026-11-27T03:14:00.123Z" as "2026-11-27 03:14:00.123"; "-" if none. */
void export_time(FILE *fp, const char *iso);

#endif

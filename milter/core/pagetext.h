/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagetext - what a page says: summary, details, severity
 * SUMMARY
 *   pagetext_summary(&pc, "acknowledge", "page", now, buf, sizeof buf);
 *   char *d = pagetext_details(&pc, now);   (free)
 *   const char *sev = pagetext_severity(&sev_table, category, is_breach);
 * DESCRIPTION
 *   Pure text of a page, with the clock passed in. The summary is at most
 *   PAGETEXT_SUMMARY_MAX bytes (so at most that many characters): the
 *   category, the tracking number, the paged clock's state and time left,
 *   then the other running clocks by urgency while they fit:
 *   "key-compromise CPR-2026-000042: acknowledge overdue 5m; report due
 *   in 23h25m". The details list every clock with its due time (UTC) and
 *   time left, the reporter's domain (the address only when asked), the
 *   evidence summary, the decoded subject (controls as spaces, bounded),
 *   the ack link when there is one and the `cprctl ack` fallback.
 *   Severity follows the category ([paging] severity.CATEGORY); a breach
 *   is always critical.
 */
#ifndef CPR_PAGETEXT_H
#define CPR_PAGETEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "category.h"

#define PAGETEXT_SUMMARY_MAX   120    /* bytes, so also characters */
#define PAGETEXT_SUBJECT_MAX   300    /* bytes of the subject in the details */
#define PAGETEXT_NCLOCKS       4
#define PAGETEXT_DURATION_MAX  24     /* "99999d23h" and more */
#define PAGETEXT_EVIDENCE_MAX  160

enum pagetext_severity { SEV_CRITICAL, SEV_ERROR, SEV_WARNING, SEV_INFO, SEV_NSEVERITY };

struct pagetext_clock {
    const char *name;          /* acknowledge, report-reporter, ... */
    long long due;             /* its deadline, epoch ms; 0: the clock does not run */
    long long stopped;         /* when it stopped; 0: running */
};

struct pagetext_case {
    const char *tracking;
    const char *category;
    const char *subject;       /* reporter-controlled */
    const char *reporter;      /* the envelope address */
    bool show_reporter;        /* [paging] show_reporter */
    const char *evidence;      /* pagetext_evidence() output, or NULL */
    const char *ack_url;       /* the signed link, or NULL */
    struct pagetext_clock clocks[PAGETEXT_NCLOCKS];
    size_t nclocks;
};

/* What the evidence summary is made of (cpr.page_facts). */
struct pagetext_evidence_counts {
    int private_keys;          /* private-key* items */
    const char *first_spki;    /* hex SPKI SHA-256 of the first key, or NULL */
    int certificates, csrs, other;
};

/* "5m", "23h25m", "3d4h", "0m" (under a minute). */
void pagetext_duration(long long ms, char *buf, size_t len);

/* "private key, SPKI dc86…; 2 certificates" ("no evidence" when none). */
void pagetext_evidence(const struct pagetext_evidence_counts *e, char *buf, size_t len);

/* The summary line for event (page, warn, breach, acknowledge, resolve,
 * test) on clock; at most PAGETEXT_SUMMARY_MAX bytes and len-1. */
void pagetext_summary(const struct pagetext_case *c, const char *clock, const char *event,
                      long long now, char *buf, size_t len);

/* The details text, lines ending in \n; malloc'd, NULL on failure. */
char *pagetext_details(const struct pagetext_case *c, long long now);

/* The reporter as shown: its domain (lower case), the address when show;
 * "-" when there is none. */
void pagetext_reporter(const char *address, bool show, char *buf, size_t len);

/* Severity per category (enum category_id order) and its defaults:
 * key-compromise and revocation-request critical, misissuance error,
 * abuse and other warning. */
struct pagetext_severities {
    enum pagetext_severity by_category[CATEGORY_COUNT];
};
void pagetext_severities_default(struct pagetext_severities *s);
bool pagetext_severity_parse(const char *word, enum pagetext_severity *sev);
const char *pagetext_severity_name(enum pagetext_severity sev);
/* The severity of a page: breach critical, else the category's (unknown
 * category: other's). */
enum pagetext_severity pagetext_severity_of(const struct pagetext_severities *s,
                                            const char *category, bool breach);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pager - paging channels: PagerDuty, Opsgenie, Slack, webhook, email
 * SUMMARY
 *   body = pager_payload(&channel, &notice);
 *   r = pager_send(&channel, &notice, &status, &latency_ms, err, sizeof err);
 * DESCRIPTION
 *   Builds each channel's request with jansson (never by hand) and sends
 *   ONE attempt with libcurl, TLS verification always on. Retrying is the
 *   caller's business: retry_classify() (core/retry.h) says whether an
 *   outcome is worth a retry and retry_backoff_ms() how long to wait. Every notice carries an
 *   idempotency key: the PagerDuty dedup_key and Opsgenie alias (the alert
 *   key of cpr.alerts, 026_alerts.sql) and the webhook "id" (the step).
 *   Events: page, warn, breach (triggers), acknowledge, resolve, health.
 */
#ifndef CPR_PAGER_H
#define CPR_PAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "pagertype.h"   /* enum pager_type, pager_types[] */
#include "retry.h"

#define PAGER_PD_SUMMARY_MAX   1024   /* PagerDuty payload.summary */
#define PAGER_OG_MESSAGE_MAX   130    /* Opsgenie message */
#define PAGER_OG_ALIAS_MAX     512    /* Opsgenie alias */
#define PAGER_OG_DESCRIPTION_MAX 15000 /* Opsgenie description */
#define PAGER_OG_DETAILS_MAX   8000   /* Opsgenie details, all pairs */
#define PAGER_SLACK_TEXT_MAX   4000   /* Slack: text over 4,000 characters is cut */
#define PAGER_DETAILS_MAX      8000   /* our details text, bytes */
#define PAGER_TIMEOUT_MS       10000  /* one HTTP or SMTP attempt */

struct pager_channel {
    const char *name;
    enum pager_type type;
    const char *url;          /* API / webhook URL (defaults per type when NULL) */
    const char *secret;       /* PD routing key, Opsgenie API key, webhook bearer token */
    const char *to;           /* email: comma-separated recipients */
    const char *from;         /* email: From address */
    const char *smtp_url;     /* email: smtp://host:port */
    const char *ca_file;      /* optional CA bundle (tests); NULL = system store */
    long timeout_ms;          /* one attempt; 0 = PAGER_TIMEOUT_MS */
    bool resolve;             /* slack, email, webhook: "resolved" messages */
};

struct pager_notice {
    const char *event;        /* page, warn, breach, resolve, health */
    const char *id;           /* the step's idempotency key */
    const char *dedup_key;    /* tracking + clock + tier */
    const char *tracking;     /* NULL for health notices */
    const char *clock;        /* acknowledge, report-reporter, ... or NULL */
    int tier;                 /* 0 = every tier */
    const char *category;
    const char *subject;      /* reporter-controlled: sanitised on output */
    const char *summary;      /* one line for humans */
    const char *received_at;  /* RFC 3339 UTC */
    const char *deadline;     /* RFC 3339 UTC */
    const char *details;      /* pagetext_details(): lines; NULL = the facts */
    const char *severity;     /* critical, error, warning, info; NULL = by event */
    const char *ack_url;      /* the signed one-click link, NULL for now */
    const char *actor;        /* acknowledge and resolve: who (Opsgenie "user") */
};

/* The i-th driver's type name, NULL past the last (tests compare the
 * drivers with pager_types[]). */
const char *pager_driver_name(size_t i);

/* The request body (JSON, or the whole message for email). Caller frees. */
char *pager_payload(const struct pager_channel *ch, const struct pager_notice *n);

/* One attempt. status is the HTTP status (or SMTP code); latency in ms. */
enum send_result pager_send(const struct pager_channel *ch, const struct pager_notice *n,
                             long *status, double *latency_ms, char *err, size_t errlen);

/* pager_send, and one log line with the outcome (cprctl test-page and the
 * sweeper's health pages, which have no step row to record it). */
enum send_result pager_send_logged(const struct pager_channel *ch,
                                   const struct pager_notice *n, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   health - the sweeper's own health: database watch and heartbeat
 * DESCRIPTION
 *   Pure bookkeeping with times passed in, plus one I/O call (the
 *   heartbeat ping). The database counts as down from the first failed
 *   call; once it has been down for db_down_page_after, tier 1 is paged
 *   directly, without the database, under one shared dedup key so that
 *   every sweeper's page merges into one alert. When it comes back the
 *   alert is resolved. The heartbeat (a dead-man's switch) is pinged every
 *   heartbeat_interval; URL/fail when the last pass failed.
 */
#ifndef CPR_HEALTH_H
#define CPR_HEALTH_H

#include <stdbool.h>

#define HEALTH_DB_DEDUP "cpr-sweeper/database-unreachable"
#define HEALTH_STUCK_DEDUP "cpr-sweeper/autoreply-stuck"
#define HEALTH_PAGE_RETRY_MS 10000   /* when no tier-1 channel took the page */

struct health {
    long long db_down_since;       /* 0: up */
    bool db_down_paged;            /* tier 1 told of this outage */
    bool db_resolve_owed;          /* tell tier 1 it is over */
    long long db_page_retry_at;    /* no channel took it: try again then */
    long long next_heartbeat;      /* 0: heartbeat off */
    long long heartbeat_interval_ms;
    long long db_down_page_after_ms;
};

void health_init(struct health *h, long long now, long long heartbeat_interval_ms,
                 bool heartbeat_on, long long db_down_page_after_ms);
void health_db_result(struct health *h, bool up, long long now);
bool health_db_page_due(const struct health *h, long long now);
void health_db_page_failed(struct health *h, long long now);
bool health_heartbeat_due(const struct health *h, long long now);
void health_heartbeat_done(struct health *h, long long now);
/* The earliest time health needs the loop awake again (0: never). */
long long health_next_wake(const struct health *h, long long now);

/* GET url (or url + "/fail"); true on a 2xx. Secrets stay out of logs. */
bool health_ping(const char *url, bool failing, const char *ca_file);

#endif

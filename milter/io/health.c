/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   health - the sweeper's own health: database watch and heartbeat
 * DESCRIPTION
 *   See health.h. The heartbeat URL is a secret of sorts (it names the
 *   monitor), so logs say only whether it answered.
 */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"

#define HEALTH_PING_TIMEOUT_MS 10000

void
health_init(struct health *h, long long now, long long heartbeat_interval_ms,
            bool heartbeat_on, long long db_down_page_after_ms)
{
    memset(h, 0, sizeof(*h));
    h->heartbeat_interval_ms = heartbeat_interval_ms;
    h->db_down_page_after_ms = db_down_page_after_ms;
    h->next_heartbeat = heartbeat_on ? now : 0;
}

void
health_db_result(struct health *h, bool up, long long now)
{
    if (up) {
        if (h->db_down_paged)
            h->db_resolve_owed = true;
        h->db_down_since = 0;
        h->db_down_paged = false;
        h->db_page_retry_at = 0;
    } else if (h->db_down_since == 0) {
        h->db_down_since = now;
    }
}

bool
health_db_page_due(const struct health *h, long long now)
{
    return h->db_down_since != 0 && !h->db_down_paged
           && now - h->db_down_since >= h->db_down_page_after_ms
           && now >= h->db_page_retry_at;
}

void
health_db_page_failed(struct health *h, long long now)
{
    h->db_page_retry_at = now + HEALTH_PAGE_RETRY_MS;
}

bool
health_heartbeat_due(const struct health *h, long long now)
{
    return h->next_heartbeat != 0 && now >= h->next_heartbeat;
}

void
health_heartbeat_done(struct health *h, long long now)
{
    if (h->next_heartbeat != 0)
        h->next_heartbeat = now + h->heartbeat_interval_ms;
}

long long
health_next_wake(const struct health *h, long long now)
{
    long long wake = h->next_heartbeat;

    if (h->db_down_since != 0 && !h->db_down_paged) {
        long long page_at = h->db_down_since + h->db_down_page_after_ms;

        if (page_at < h->db_page_retry_at)
            page_at = h->db_page_retry_at;
        if (wake == 0 || page_at < wake)
            wake = page_at;
    }
    return wake != 0 && wake < now ? now : wake;
}

static size_t
health_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

bool
health_ping(const char *url, bool failing, const char *ca_file)
{
    CURL *curl = curl_easy_init();
    char *full;
    long status = 0;
    CURLcode rc;

    if (curl == NULL || (full = malloc(strlen(url) + 6)) == NULL) {
        curl_easy_cleanup(curl);
        return false;
    }
    sprintf(full, "%s%s", url, failing ? "/fail" : "");
    curl_easy_setopt(curl, CURLOPT_URL, full);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)HEALTH_PING_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, health_discard);
    if (ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    free(full);
    if (rc != CURLE_OK || status < 200 || status > 299) {
        log_warn("heartbeat ping failed (%s, status %ld)", curl_easy_strerror(rc), status);
        return false;
    }
    return true;
}

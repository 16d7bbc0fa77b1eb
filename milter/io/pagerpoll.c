/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pagerpoll - ask PagerDuty or Opsgenie what became of an alert we opened
 * DESCRIPTION
 *   See pagerpoll.h. The answer is kept in memory up to POLL_BODY_MAX
 *   bytes; a longer one aborts the transfer and is refused.
 */
#include "pagerpoll.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <glib.h>

struct answer {
    GString *body;
    bool too_big;
    char retry_after[64];
};

static size_t
body_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;

    if (a->body->len + n > POLL_BODY_MAX) {
        a->too_big = true;
        return 0;                       /* aborts the transfer */
    }
    g_string_append_len(a->body, ptr, (gssize) n);
    return n;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb, k = strlen("Retry-After:");

    if (n > k && g_ascii_strncasecmp(ptr, "Retry-After:", k) == 0) {
        size_t len = n - k < sizeof(a->retry_after) - 1 ? n - k : sizeof(a->retry_after) - 1;

        memcpy(a->retry_after, ptr + k, len);
        a->retry_after[len] = '\0';
    }
    return n;
}

static void
poll_err(char *err, size_t errlen, const struct pagerpoll_channel *ch, const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "channel %s (%s poll): %s", ch->name ? ch->name : "-",
                 pager_type_name(ch->type), what);
}

/* A key may go into a header only if it has no control character or blank. */
static bool
key_ok(const char *key)
{
    if (key == NULL || *key == '\0' || strlen(key) > 512)
        return false;
    for (const unsigned char *p = (const unsigned char *) key; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static char *
base_url(const struct pagerpoll_channel *ch)
{
    const char *u = ch->api_url != NULL && *ch->api_url != '\0' ? ch->api_url
                    : ch->type == PAGER_PAGERDUTY ? PAGERPOLL_PD_API_URL : PAGERPOLL_OG_API_URL;
    char *b;

    if (g_ascii_strncasecmp(u, "https://", 8) != 0 && g_ascii_strncasecmp(u, "http://", 7) != 0)
        return NULL;
    b = g_strdup(u);
    while (*b && b[strlen(b) - 1] == '/')
        b[strlen(b) - 1] = '\0';
    return b;
}

/* One GET; the status, the body (capped) and any Retry-After. */
static bool
http_get(const struct pagerpoll_channel *ch, const char *url, struct answer *a,
         long *status, char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE] = "", *auth;
    long timeout = ch->timeout_ms > 0 ? ch->timeout_ms : PAGERPOLL_TIMEOUT_MS;
    struct curl_slist *h = NULL, *t;
    CURL *curl = curl_easy_init();
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    *status = 0;
    if (curl == NULL)
        return poll_err(err, errlen, ch, "curl_easy_init failed"), false;
    auth = ch->type == PAGER_PAGERDUTY ? g_strdup_printf("Authorization: Token token=%s", ch->api_key)
                                       : g_strdup_printf("Authorization: GenieKey %s", ch->api_key);
    if ((t = curl_slist_append(h, auth)) != NULL && (h = t) != NULL
        && (t = curl_slist_append(h, ch->type == PAGER_PAGERDUTY
                                  ? "Accept: application/vnd.pagerduty+json;version=2"
                                  : "Accept: application/json")) != NULL) {
        h = t;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "cpr-sweeper");
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) POLL_BODY_MAX);
        if (ch->ca_file != NULL && *ch->ca_file != '\0')
            curl_easy_setopt(curl, CURLOPT_CAINFO, ch->ca_file);
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    }
    explicit_bzero(auth, strlen(auth));
    g_free(auth);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    if (a->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return poll_err(err, errlen, ch, "answer larger than 1 MiB"), false;
    if (rc != CURLE_OK) {
        char what[CURL_ERROR_SIZE + 64];

        snprintf(what, sizeof(what), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return poll_err(err, errlen, ch, what), false;
    }
    return true;
}

static char *
request_url(const struct pagerpoll_channel *ch, const char *base, const char *key)
{
    char *esc = curl_easy_escape(NULL, key, 0), *u = NULL;

    if (esc == NULL)
        return NULL;
    if (ch->type == PAGER_PAGERDUTY)
        u = g_strdup_printf("%s/incidents?incident_key=%s&date_range=all"
                            "&include%%5B%%5D=acknowledgers", base, esc);
    else
        u = g_strdup_printf("%s/v2/alerts/%s?identifierType=alias", base, esc);
    curl_free(esc);
    return u;
}

static enum pagerpoll_result
status_result(const struct pagerpoll_channel *ch, long status, const struct answer *a,
              long long now_ms, long long *retry_after_ms, char *err, size_t errlen)
{
    char what[64];

    if (status == 429) {
        *retry_after_ms = pollstate_retry_after(a->retry_after, now_ms);
        poll_err(err, errlen, ch, "HTTP 429: rate limited");
        return PAGERPOLL_LIMITED;
    }
    snprintf(what, sizeof(what), "HTTP %ld", status);
    poll_err(err, errlen, ch, what);
    return PAGERPOLL_FAILED;
}

/* The acknowledger came as a reference only: GET /users/ID for its email.
 * A failure keeps the ack (with the id as its actor): it still stops the
 * escalation. */
static void
pd_user(const struct pagerpoll_channel *ch, const char *base, struct poll_state *st)
{
    struct answer a = { g_string_new(NULL), false, "" };
    char *url = g_strdup_printf("%s/users/%s", base, st->user_id), why[160];
    long status = 0;

    if (!http_get(ch, url, &a, &status, why, sizeof(why)) || status != 200
        || !pollstate_pagerduty_user(a.body->str, a.body->len, st, why, sizeof(why)))
        pollstate_actor("pagerduty", st->user_id, st->actor, sizeof(st->actor));
    g_string_free(a.body, TRUE);
    g_free(url);
}

enum pagerpoll_result
pagerpoll_fetch(const struct pagerpoll_channel *ch, const char *key, long long now_ms,
                struct poll_state *st, long *status, long long *retry_after_ms,
                char *err, size_t errlen)
{
    struct answer a = { NULL, false, "" };
    char *base = NULL, *url = NULL, why[128];
    enum pagerpoll_result r = PAGERPOLL_FAILED;

    memset(st, 0, sizeof(*st));
    *status = 0;
    *retry_after_ms = -1;
    if (ch->type != PAGER_PAGERDUTY && ch->type != PAGER_OPSGENIE)
        return poll_err(err, errlen, ch, "type has no REST API to poll"), PAGERPOLL_FAILED;
    if (!key_ok(ch->api_key))
        return poll_err(err, errlen, ch, "unusable api key"), PAGERPOLL_FAILED;
    if ((base = base_url(ch)) == NULL)
        return poll_err(err, errlen, ch, "api_url is not http(s)"), PAGERPOLL_FAILED;
    if ((url = request_url(ch, base, key)) == NULL) {
        g_free(base);
        return poll_err(err, errlen, ch, "out of memory"), PAGERPOLL_FAILED;
    }
    a.body = g_string_new(NULL);
    if (!http_get(ch, url, &a, status, err, errlen))
        r = PAGERPOLL_FAILED;
    else if (*status == 404 && ch->type == PAGER_OPSGENIE)
        r = (st->status = POLL_MISSING, PAGERPOLL_OK);
    else if (*status != 200)
        r = status_result(ch, *status, &a, now_ms, retry_after_ms, err, errlen);
    else if (!(ch->type == PAGER_PAGERDUTY
               ? pollstate_pagerduty(a.body->str, a.body->len, st, why, sizeof(why))
               : pollstate_opsgenie(a.body->str, a.body->len, st, why, sizeof(why))))
        poll_err(err, errlen, ch, why);
    else
        r = PAGERPOLL_OK;
    if (r == PAGERPOLL_OK && ch->type == PAGER_PAGERDUTY && st->user_id[0] != '\0')
        pd_user(ch, base, st);
    g_string_free(a.body, TRUE);
    g_free(url);
    g_free(base);
    return r;
}

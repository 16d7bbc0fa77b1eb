/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   imap - the few IMAP commands the probe sender needs, over libcurl
 * DESCRIPTION
 *   See imap.h. Searches, stores and expunges are custom requests on the
 *   folder's URL (libcurl SELECTs the folder first, once); the Message-ID
 *   is fetched through libcurl's own ;UID=/;SECTION= URL, so literals are
 *   handled by libcurl. Only imap and imaps are allowed.
 */
#include "imap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

struct imap {
    CURL *curl;
    char *base;                /* the URL without its trailing slash */
    char *reply;               /* the current command's untagged answer */
    size_t len;
    bool too_big;
};

static size_t
imap_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct imap *c = arg;
    size_t n = size * nmemb;
    char *grown;

    if (c->len + n > IMAP_REPLY_MAX) {
        c->too_big = true;
        return 0;               /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if ((grown = realloc(c->reply, c->len + n + 1)) == NULL)
        return 0;
    c->reply = grown;
    memcpy(c->reply + c->len, data, n);
    c->len += n;
    c->reply[c->len] = '\0';
    return n;
}

bool
imap_url_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    char host[256];
    struct in_addr v4;
    struct in6_addr v6;
    size_t n;

    if (h == NULL)
        return false;
    h += 3;
    if (*h == '[') {
        n = strcspn(++h, "]");
    } else {
        n = strcspn(h, ":/");
    }
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
    return strcasecmp(host, "localhost") == 0;
}

struct imap *
imap_open(const char *url, const char *user, const char *password, long timeout_ms,
          char *err, size_t errlen)
{
    struct imap *c = calloc(1, sizeof(*c));
    size_t n = strlen(url);

    if (c == NULL || (c->curl = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }
    c->base = strndup(url, n > 0 && url[n - 1] == '/' ? n - 1 : n);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(c->curl, CURLOPT_USE_SSL,
                     imap_url_loopback(url) ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    curl_easy_setopt(c->curl, CURLOPT_USERNAME, user);
    curl_easy_setopt(c->curl, CURLOPT_PASSWORD, password);
    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, imap_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    if (c->base == NULL) {
        snprintf(err, errlen, "out of memory");
        imap_close(c);
        return NULL;
    }
    return c;
}

void
imap_close(struct imap *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->reply);
    free(c);
}

/* One request on folder's URL (plus tail), custom command cmd or NULL. */
static bool
imap_do(struct imap *c, const char *folder, const char *tail, const char *cmd, char *err,
        size_t errlen)
{
    char *f = curl_easy_escape(c->curl, folder, 0), *url;
    CURLcode rc;

    if (f == NULL || (url = malloc(strlen(c->base) + strlen(f) + strlen(tail) + 2)) == NULL) {
        curl_free(f);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    sprintf(url, "%s/%s%s", c->base, f, tail);
    curl_free(f);
    c->len = 0;
    c->too_big = false;
    if (c->reply != NULL)
        c->reply[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, cmd);
    rc = curl_easy_perform(c->curl);
    free(url);
    if (rc == CURLE_OK)
        return true;
    snprintf(err, errlen, "IMAP %s in %s: %s", cmd ? cmd : "FETCH", folder,
             c->too_big ? "answer too large" : curl_easy_strerror(rc));
    return false;
}

size_t
imap_parse_search(const char *reply, unsigned long *uids, size_t max)
{
    size_t n = 0;

    for (const char *l = reply; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : l) {
        const char *p;

        if (strncasecmp(l, "* SEARCH", 8) != 0)
            continue;
        for (p = l + 8; *p == ' ' && n < max;) {
            char *end;
            unsigned long v;

            p++;
            if (!isdigit((unsigned char)*p))
                break;              /* "(MODSEQ ...)" or the line's end */
            v = strtoul(p, &end, 10);
            if (v > 0)
                uids[n++] = v;
            p = end;
        }
    }
    return n;
}

bool
imap_parse_message_id(const char *header, char *out, size_t outlen)
{
    const char *l, *lt, *gt;

    for (l = header; l != NULL; l = strchr(l, '\n'), l = l ? l + 1 : l)
        if (strncasecmp(l, "Message-ID:", 11) == 0)
            break;
    if (l == NULL || (lt = strchr(l + 11, '<')) == NULL || (gt = strchr(lt, '>')) == NULL
        || gt == lt + 1 || (size_t)(gt - lt - 1) >= outlen)
        return false;
    for (const char *p = lt + 1; p < gt; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;   /* folded across lines, or not an id at all */
    memcpy(out, lt + 1, (size_t)(gt - lt - 1));
    out[gt - lt - 1] = '\0';
    return true;
}

bool
imap_search(struct imap *c, const char *folder, time_t since, unsigned long *uids, size_t max,
            size_t *n, char *err, size_t errlen)
{
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    char cmd[160];

    *n = 0;
    gmtime_r(&since, &tm);
    snprintf(cmd, sizeof(cmd), "UID SEARCH UNDELETED SINCE %d-%s-%d HEADER Message-ID \"%s\"",
             tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, IMAP_PROBE_DOMAIN);
    if (!imap_do(c, folder, "", cmd, err, errlen))
        return false;
    *n = imap_parse_search(c->reply ? c->reply : "", uids, max);
    return true;
}

bool
imap_message_id(struct imap *c, const char *folder, unsigned long uid, char *out,
                size_t outlen, char *err, size_t errlen)
{
    char tail[96];

    snprintf(tail, sizeof(tail), "/;UID=%lu/;SECTION=HEADER.FIELDS%%20(MESSAGE-ID)", uid);
    if (!imap_do(c, folder, tail, NULL, err, errlen))
        return false;
    if (!imap_parse_message_id(c->reply ? c->reply : "", out, outlen)) {
        snprintf(err, errlen, "IMAP message %lu in %s: no Message-ID", uid, folder);
        return false;
    }
    return true;
}

bool
imap_delete(struct imap *c, const char *folder, unsigned long uid, char *err, size_t errlen)
{
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "UID STORE %lu +FLAGS.SILENT (\\Deleted)", uid);
    if (!imap_do(c, folder, "", cmd, err, errlen))
        return false;
    snprintf(cmd, sizeof(cmd), "UID EXPUNGE %lu", uid);
    return imap_do(c, folder, "", cmd, err, errlen);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   smtp - send one message over SMTP with libcurl
 * DESCRIPTION
 *   See smtp.h. The message is streamed from memory by a read callback;
 *   only smtp and smtps are allowed, so a config typo cannot make libcurl
 *   speak another protocol.
 */
#include "smtp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct smtp_upload {
    const char *data;
    size_t len, off;
};

static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct smtp_upload *u = arg;
    size_t n = size * nitems;

    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* The server's last 4xx or 5xx reply line, kept printable and short: a
 * refusal's reason ("550 5.1.1 no such user") for the caller's error text. Only
 * what the server sent is looked at, never our commands (AUTH) or data. */
struct smtp_reply {
    char last[SMTP_REPLY_MAX];
};

static int
smtp_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
    struct smtp_reply *r = arg;
    size_t n = 0;

    (void)curl;
    if (type != CURLINFO_HEADER_IN || size == 0 || (data[0] != '4' && data[0] != '5'))
        return 0;       /* a refusal's reply, not the 221 that follows it */
    for (size_t i = 0; i < size && data[i] != '\r' && data[i] != '\n'
                       && n + 1 < sizeof(r->last); i++)
        r->last[n++] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
    if (n > 0)
        r->last[n] = '\0';
    return 0;
}

static enum smtp_result
smtp_classify(CURLcode rc, long code)
{
    if (rc == CURLE_OK)
        return SMTP_SENT;
    if (code >= 500 && code <= 599)
        return SMTP_FAILED;
    return SMTP_RETRY;
}

static struct curl_slist *
smtp_rcpt_list(char *const *to)
{
    struct curl_slist *list = NULL, *next;

    for (size_t i = 0; to[i] != NULL; i++) {
        if ((next = curl_slist_append(list, to[i])) == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

static bool
smtp_url_ok(const char *url)
{
    return url != NULL && (strncasecmp(url, "smtp://", 7) == 0
                           || strncasecmp(url, "smtps://", 8) == 0);
}

enum smtp_result
smtp_send(const struct smtp_request *req, long *code, char *err, size_t errlen)
{
    struct smtp_upload up = { req->message, strlen(req->message), 0 };
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : SMTP_TIMEOUT_MS;
    struct curl_slist *rcpt = NULL;
    struct smtp_reply reply = { "" };
    CURL *curl;
    CURLcode rc;

    *code = 0;
    if (!smtp_url_ok(req->url)) {
        snprintf(err, errlen, "smtp_url must start with smtp:// or smtps://");
        return SMTP_FAILED;
    }
    if (req->to == NULL || req->to[0] == NULL) {
        snprintf(err, errlen, "no recipient");
        return SMTP_FAILED;
    }
    if ((rcpt = smtp_rcpt_list(req->to)) == NULL || (curl = curl_easy_init()) == NULL) {
        curl_slist_free_all(rcpt);
        snprintf(err, errlen, "out of memory");
        return SMTP_RETRY;
    }
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     (long)(req->user != NULL ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (req->user != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, req->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, *req->from ? req->from : "<>");
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, smtp_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE, (long)up.len);
    if (req->ca_file != NULL)
        curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, smtp_debug);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK || reply.last[0] == '\0')
        snprintf(err, errlen, "%s (SMTP %ld)", rc == CURLE_OK ? "sent" : curl_easy_strerror(rc),
                 *code);
    else
        snprintf(err, errlen, "%s (SMTP %ld): the server said \"%s\"", curl_easy_strerror(rc),
                 *code, reply.last);
    return smtp_classify(rc, *code);
}

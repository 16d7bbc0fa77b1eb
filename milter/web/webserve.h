/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webserve - cpr-web's HTTP side: GET shows a case, POST acknowledges it
 * SUMMARY
 *   int fd = webserve_socket(cfg->web_listen, err, sizeof err);
 *   struct webserve *w = webserve_start(&settings, fd, err, sizeof err);
 *   ... webserve_stop(w);
 * DESCRIPTION
 *   libmicrohttpd on one listening socket, one polling thread of its own.
 *   Routes: /ack/TOKEN only.
 *     GET, HEAD  verify the token (acktoken.c); show the case and, while it
 *                can be acknowledged, a form POST button. Changes nothing.
 *     POST       verify the token again; refuse a cross-site request
 *                (Sec-Fetch-Site other than same-origin or none, or an
 *                Origin that is neither "null" nor the public_url's or the
 *                Host's origin) and a form without the page's form nonce;
 *                then cpr.ack_link, which uses the nonce up and acks in one
 *                transaction.
 *   The actor is [web] identity_header when the peer is one of [web]
 *   trusted_proxies and the value is 1..WEB_ACTOR_MAX (webpage.h) printable ASCII
 *   characters; otherwise link:CHANNEL, the channel in the token.
 *   Every answer carries Content-Security-Policy default-src 'none',
 *   Cache-Control no-store, X-Frame-Options DENY, Referrer-Policy
 *   no-referrer and X-Content-Type-Options nosniff. Bounds: the request
 *   line and headers within WEB_MEMORY_LIMIT bytes, a body of at most
 *   WEB_BODY_MAX bytes, [web] max_connections, [web] timeout.
 * DIAGNOSTICS
 *   webserve_socket and webserve_start: -1 or NULL with err set. Each
 *   acknowledgement, and each refused POST, is logged with its peer.
 */
#ifndef CPR_WEBSERVE_H
#define CPR_WEBSERVE_H

#include <stddef.h>

#include "config.h"
#include "webdb.h"

#define WEB_MEMORY_LIMIT (16 * 1024)   /* bytes of one request's line and headers */
#define WEB_BODY_MAX     1024          /* bytes of a POST body */

#define WEB_BACKLOG      64

struct webserve_settings {
    const struct cpr_config *cfg;
    const unsigned char *key;          /* [web] secret_file's line */
    size_t keylen;
    struct webdb *db;
};

struct webserve;

int webserve_socket(const char *spec, char *err, size_t errlen);
struct webserve *webserve_start(const struct webserve_settings *s, int fd, char *err,
                                size_t errlen);
void webserve_stop(struct webserve *w);

#endif

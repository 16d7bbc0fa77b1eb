/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webpage - what cpr-web answers to one request
 * SUMMARY
 *   webpage_init(&ctx, cfg, key, keylen, db, err, sizeof err);
 *   struct webpage_answer a = webpage_handle(&ctx, &request);
 * DESCRIPTION
 *   The decisions of webserve.h's DESCRIPTION, apart from libmicrohttpd
 *   (webserve.c hands a request in as plain values and sends the answer
 *   out): the route and method, the token, the CSRF rule, the actor, the
 *   database call and the page (ackpage.c).
 * DIAGNOSTICS
 *   Answers carry their HTTP status: 200, 400, 403, 404, 405, 409, 410,
 *   413, 503.
 */
#ifndef CPR_WEBPAGE_H
#define CPR_WEBPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <glib.h>

#include "config.h"
#include "webdb.h"

#define WEB_PROXIES_MAX 32
#define WEB_ACTOR_MAX   128    /* bytes of a proxy-asserted identity */

struct webpage_ctx {
    const struct cpr_config *cfg;
    const unsigned char *key;
    size_t keylen;
    struct webdb *db;
    struct sockaddr_storage proxies[WEB_PROXIES_MAX];
    size_t nproxies;
    char *public_origin;       /* "https://host[:port]" of public_url, or NULL */
};

/* What header() returns for a header the request carries more than once:
 * not printable, so it is never an actor, an Origin or a fetch site. */
#define WEB_HEADER_TWICE "\001(given twice)"

struct webpage_request {
    const char *url, *method, *body;
    size_t body_len;
    bool body_too_big;
    const struct sockaddr *peer;            /* NULL: not known */
    const char *(*header)(void *arg, const char *name);
    void *header_arg;
};

struct webpage_answer {
    unsigned int status;
    GString *body;             /* the caller sends and frees it */
};

bool webpage_init(struct webpage_ctx *ctx, const struct cpr_config *cfg,
                  const unsigned char *key, size_t keylen, struct webdb *db, char *err,
                  size_t errlen);
void webpage_free(struct webpage_ctx *ctx);
struct webpage_answer webpage_handle(const struct webpage_ctx *ctx,
                                     const struct webpage_request *r);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webserve - cpr-web's HTTP side: GET shows a case, POST acknowledges it
 * SUMMARY
 *   w = webserve_start(&settings, fd, err, sizeof err);
 * DESCRIPTION
 *   See webserve.h. Owns the request's life in libmicrohttpd: headers,
 *   the bounded body, the route, the security headers of every answer.
 *   What each route decides is in webpage.c.
 * DIAGNOSTICS
 *   Start errors in err; request errors as pages with their HTTP status.
 */
#include "webserve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <glib.h>
#include <microhttpd.h>

#include "ackpage.h"
#include "acktoken.h"
#include "log.h"
#include "metrics.h"
#include "webpage.h"

struct webserve {
    struct MHD_Daemon *daemon;
    struct webpage_ctx page;
};

/* One request: its body, bounded. */
struct webreq {
    GString *body;
    bool too_big;
};

static const char csp[] =
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static enum MHD_Result
web_reply(struct MHD_Connection *conn, const struct webpage_answer *a)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = a->body->len;

    r = MHD_create_response_from_buffer_with_free_callback(len, g_string_free(a->body, FALSE),
                                                           g_free);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    if (a->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
    ret = MHD_queue_response(conn, a->status, r);
    MHD_destroy_response(r);
    return ret;
}

struct header_count {
    const char *name;
    unsigned n;
};

static enum MHD_Result
header_counter(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct header_count *c = arg;

    (void)kind;
    (void)value;
    if (key && strcasecmp(key, c->name) == 0)
        c->n++;
    return MHD_YES;
}

/* A header's one value; WEB_HEADER_TWICE when the request carries it more
 * than once (a proxy that appends X-Remote-User to the client's own, two
 * Origins): no caller may pick one of two. */
static const char *
web_header(void *conn, const char *name)
{
    struct header_count c = { name, 0 };

    MHD_get_connection_values(conn, MHD_HEADER_KIND, header_counter, &c);
    if (c.n > 1)
        return WEB_HEADER_TWICE;
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static const struct sockaddr *
web_peer(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ci != NULL ? ci->client_addr : NULL;
}

/* The first call of a request: set up its context, size the body. */
static void
web_begin(struct MHD_Connection *conn, void **req)
{
    struct webreq *r = g_new0(struct webreq, 1);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);

    r->body = g_string_sized_new(64);
    if (cl != NULL && (strlen(cl) > 6 || atol(cl) > WEB_BODY_MAX))
        r->too_big = true;
    *req = r;
}

static enum MHD_Result
web_answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **req)
{
    struct webserve *w = cls;
    struct webreq *r = *req;
    struct webpage_request pr;

    (void) version;
    if (r == NULL) {
        web_begin(conn, req);
        if (!((struct webreq *) *req)->too_big)
            return MHD_YES;
        r = *req;     /* a declared Content-Length too large: answer now */
    } else if (*upload_size > 0) {
        /* A chunked body that grows too large: drop the connection. */
        if (r->body->len + *upload_size > WEB_BODY_MAX)
            return MHD_NO;
        g_string_append_len(r->body, upload, (gssize) *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&pr, 0, sizeof(pr));
    pr.url = url;
    pr.method = method;
    pr.body = r->body->str;
    pr.body_len = r->body->len;
    pr.body_too_big = r->too_big;
    pr.peer = web_peer(conn);
    pr.header = web_header;
    pr.header_arg = conn;
    {
        struct webpage_answer a = webpage_handle(&w->page, &pr);

        return web_reply(conn, &a);
    }
}

static void
web_completed(void *cls, struct MHD_Connection *conn, void **req,
              enum MHD_RequestTerminationCode why)
{
    struct webreq *r = *req;

    (void) cls;
    (void) conn;
    (void) why;
    if (r != NULL) {
        g_string_free(r->body, TRUE);
        g_free(r);
        *req = NULL;
    }
}

int
webserve_socket(const char *spec, char *err, size_t errlen)
{
    return metrics_listen_socket("[web] listen", spec, WEB_BACKLOG, err, errlen);
}

/* The server thread inherits the mask it is created with: all blocked. */
static struct MHD_Daemon *
web_daemon(int fd, struct webserve *w, const struct cpr_config *cfg)
{
    sigset_t all, old;
    struct MHD_Daemon *d;
    unsigned int timeout_s = (unsigned int) ((cfg->web_timeout_ms + 999) / 1000);

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, web_answer, w,
                         MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int) cfg->web_max_connections,
                         MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) WEB_MEMORY_LIMIT,
                         MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
                         MHD_OPTION_NOTIFY_COMPLETED, web_completed, NULL,
                         MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return d;
}

struct webserve *
webserve_start(const struct webserve_settings *s, int fd, char *err, size_t errlen)
{
    struct webserve *w = g_new0(struct webserve, 1);

    if (!webpage_init(&w->page, s->cfg, s->key, s->keylen, s->db, err, errlen)) {
        close(fd);
        g_free(w);
        return NULL;
    }
    if ((w->daemon = web_daemon(fd, w, s->cfg)) == NULL) {
        snprintf(err, errlen, "[web] listen %s: libmicrohttpd would not start",
                 s->cfg->web_listen);
        webserve_stop(w);
        return NULL;
    }
    return w;
}

void
webserve_stop(struct webserve *w)
{
    if (w == NULL)
        return;
    if (w->daemon != NULL)
        MHD_stop_daemon(w->daemon);
    webpage_free(&w->page);
    g_free(w);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   metrics_http - the metrics endpoint: libmicrohttpd on one address
 * DESCRIPTION
 *   See metrics.h. The listening socket is made and bound here (so a
 *   bind error names its cause) and handed to libmicrohttpd, which runs
 *   its own polling thread (MHD_USE_INTERNAL_POLLING_THREAD) and closes
 *   the socket at stop. Each scrape calls the program's render function
 *   on that thread.
 * DIAGNOSTICS
 *   metrics_start: NULL and err on a bad address, a socket or bind
 *   failure, or a daemon that would not start.
 */
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "listen.h"
#include "log.h"

#define METRICS_BACKLOG 16

struct metrics_server {
    struct MHD_Daemon *daemon;
    metrics_render *render;
    void *arg;
    char *version;
    double start_seconds;
};

static enum MHD_Result
metrics_reply(struct MHD_Connection *conn, unsigned int status, GString *body,
              const char *type)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = body->len;

    r = MHD_create_response_from_buffer_with_free_callback(len, g_string_free(body, FALSE),
                                                           g_free);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
metrics_answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
               const char *version, const char *upload, size_t *upload_size, void **req)
{
    struct metrics_server *srv = cls;
    GString *out;

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req;
    if (strcmp(url, "/metrics") != 0)
        return metrics_reply(conn, MHD_HTTP_NOT_FOUND, g_string_new("not found: try /metrics\n"),
                             "text/plain; charset=utf-8");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return metrics_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                             g_string_new("method not allowed: GET only\n"),
                             "text/plain; charset=utf-8");
    out = g_string_sized_new(4096);
    srv->render(out, srv->arg);
    metrics_write_process(out, srv->start_seconds, srv->version);
    return metrics_reply(conn, MHD_HTTP_OK, out, METRICS_CONTENT_TYPE);
}

/* A listening socket on exactly the configured address; -1 and err
 * naming what (e.g. "metrics_listen"). cpr-web's listener too. */
int
metrics_listen_socket(const char *what, const char *spec, int backlog, char *err,
                      size_t errlen)
{
    struct listen_addr a;
    const char *why;
    int fd, one = 1;

    if (!listen_parse(spec, &a, &why)) {
        snprintf(err, errlen, "%s %s: %s", what, spec, why);
        return -1;
    }
    if ((fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "%s %s: socket: %s", what, spec, strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a.ss, a.len) != 0 || listen(fd, backlog) != 0) {
        snprintf(err, errlen, "%s %s: %s", what, spec, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The server thread inherits the mask it is created with: all blocked. */
static struct MHD_Daemon *
metrics_daemon(int fd, struct metrics_server *srv)
{
    sigset_t all, old;
    struct MHD_Daemon *d;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, metrics_answer, srv,
                         MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
                         MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return d;
}

struct metrics_server *
metrics_start(const struct metrics_settings *s, char *err, size_t errlen)
{
    struct metrics_server *srv;
    int fd = metrics_listen_socket("metrics_listen", s->listen, METRICS_BACKLOG, err, errlen);

    if (fd < 0)
        return NULL;
    srv = g_new0(struct metrics_server, 1);
    srv->render = s->render;
    srv->arg = s->arg;
    srv->version = g_strdup(s->version);
    srv->start_seconds = (double)time(NULL);
    if ((srv->daemon = metrics_daemon(fd, srv)) == NULL) {
        /* Not closed here: a failed start may have closed it already, and
         * a second close could hit another thread's new descriptor. */
        snprintf(err, errlen, "metrics_listen %s: libmicrohttpd would not start", s->listen);
        metrics_stop(srv);
        return NULL;
    }
    return srv;
}

void
metrics_stop(struct metrics_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    g_free(srv->version);
    g_free(srv);
}

struct metrics_server *
metrics_open(const char *section, const struct metrics_settings *s)
{
    struct metrics_server *srv;
    char err[256];

    if (s->listen[0] == '\0')
        return NULL;
    if ((srv = metrics_start(s, err, sizeof(err))) == NULL)
        log_error("[%s] %s; running without metrics", section, err);
    else
        log_info("metrics on http://%s/metrics", s->listen);
    return srv;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   selfcheck - cpr-milter proves to systemd that it answers milters
 * DESCRIPTION
 *   See selfcheck.h. Owns the check thread (detached: it ends with the
 *   process) and the client half of the milter protocol's first step.
 *   Socket specs: unix:PATH, local:PATH, /PATH, inet:PORT[@HOST],
 *   inet6:PORT[@HOST]; a wildcard or missing host is checked on the
 *   loopback address.
 * DIAGNOSTICS
 *   log_warn on the first failed check of a run, log_info on recovery.
 */
#include "selfcheck.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "heartbeat.h"
#include "log.h"
#include "sdnotify.h"

/* The MTA side of SMFIC_OPTNEG, as Postfix offers it: protocol version 6,
 * every action, every step that may be skipped. */
#define SC_VERSION  6u
#define SC_ACTIONS  0x1ffu
#define SC_PROTOCOL 0x1fffffu
#define SC_REPLY_MAX 4096        /* bytes of the OPTNEG reply we accept */
#define SC_HOST_MAX 256

struct selfcheck {
    char *spec;
    long long watchdog_ms;
};

static void
set_timeouts(int fd, long long ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

    /* SO_SNDTIMEO bounds connect(2) too on Linux. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
connect_unix(const char *path, long long ms, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    set_timeouts(fd, ms);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* inet:PORT[@HOST] or inet6:PORT[@HOST]. */
static int
connect_inet(const char *rest, int family, long long ms, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM }, *ai;
    char port[16], host[SC_HOST_MAX];
    const char *at = strchr(rest, '@');
    size_t plen = at ? (size_t)(at - rest) : strlen(rest);
    int fd, r;

    if (plen == 0 || plen >= sizeof(port) || (at && strlen(at + 1) >= sizeof(host))) {
        snprintf(err, errlen, "cannot parse the socket's port and host");
        return -1;
    }
    memcpy(port, rest, plen);
    port[plen] = '\0';
    snprintf(host, sizeof(host), "%s", at ? at + 1 : "");
    if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0
        || strcmp(host, "[::]") == 0)
        snprintf(host, sizeof(host), "%s", family == AF_INET6 ? "::1" : "127.0.0.1");
    if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "%s port %s: %s", host, port, gai_strerror(r));
        return -1;
    }
    if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
    } else {
        set_timeouts(fd, ms);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            snprintf(err, errlen, "connect %s port %s: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

static bool
spec_known(const char *spec)
{
    return strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 || *spec == '/'
           || strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0;
}

/* A connected socket to spec, -1 with err; -2 when spec is of a kind we
 * cannot check. */
static int
connect_spec(const char *spec, long long ms, char *err, size_t errlen)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return connect_unix(spec + 5, ms, err, errlen);
    if (strncmp(spec, "local:", 6) == 0)
        return connect_unix(spec + 6, ms, err, errlen);
    if (*spec == '/')
        return connect_unix(spec, ms, err, errlen);
    if (strncmp(spec, "inet:", 5) == 0)
        return connect_inet(spec + 5, AF_INET, ms, err, errlen);
    if (strncmp(spec, "inet6:", 6) == 0)
        return connect_inet(spec + 6, AF_INET6, ms, err, errlen);
    snprintf(err, errlen, "socket %s: a kind the self-check does not know", spec);
    return -2;
}

static int
io_all(int fd, char *p, size_t n, bool writing)
{
    while (n > 0) {
        ssize_t k = writing ? write(fd, p, n) : read(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One packet: 4-byte length (command included), command, data. */
static int
packet_send(int fd, char cmd, const void *data, size_t len)
{
    char buf[5 + 12];
    uint32_t n = htonl((uint32_t)len + 1);

    if (len > sizeof(buf) - 5)
        return -1;
    memcpy(buf, &n, 4);
    buf[4] = cmd;
    if (len)
        memcpy(buf + 5, data, len);
    return io_all(fd, buf, len + 5, true);
}

/* OPTNEG, its reply (an 'O' packet of at least 12 bytes), QUIT. */
static int
negotiate(int fd, char *err, size_t errlen)
{
    uint32_t v[3] = { htonl(SC_VERSION), htonl(SC_ACTIONS), htonl(SC_PROTOCOL) }, n;
    char cmd, buf[SC_REPLY_MAX];

    if (packet_send(fd, 'O', v, sizeof(v)) != 0) {
        snprintf(err, errlen, "sending the negotiation: %s", strerror(errno));
        return -1;
    }
    if (io_all(fd, (char *)&n, 4, false) != 0 || io_all(fd, &cmd, 1, false) != 0) {
        snprintf(err, errlen, "no answer to the negotiation: %s",
                 errno ? strerror(errno) : "connection closed");
        return -1;
    }
    n = ntohl(n);
    if (cmd != 'O' || n < 13 || n - 1 > sizeof(buf) || io_all(fd, buf, n - 1, false) != 0) {
        snprintf(err, errlen, "a bad answer to the negotiation (command '%c', %u bytes)",
                 cmd, (unsigned)n);
        return -1;
    }
    (void)packet_send(fd, 'Q', NULL, 0);
    return 0;
}

int
selfcheck_negotiate(const char *spec, long long timeout_ms, char *err, size_t errlen)
{
    int fd = connect_spec(spec, timeout_ms, err, errlen), r;

    if (fd < 0)
        return fd;
    errno = 0;
    r = negotiate(fd, err, errlen);
    close(fd);
    return r;
}

static void
sleep_ms(long long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void *
selfcheck_run(void *arg)
{
    struct selfcheck *sc = arg;
    long long every = sc->watchdog_ms > 0 ? sc->watchdog_ms / 3 : 0;
    long long timeout = every > 0 && every < SELFCHECK_TIMEOUT_MAX_MS ? every
                                                                      : SELFCHECK_TIMEOUT_MAX_MS;
    bool ready = false, failing = false;
    char err[256], status[300];

    for (;;) {
        int r = selfcheck_negotiate(sc->spec, timeout, err, sizeof(err));

        if (r == 0 && ready && heartbeat_callback_stuck(sc->watchdog_ms)) {
            snprintf(err, sizeof(err), "a callback has been running for over %lld ms",
                     sc->watchdog_ms);
            r = -1;
        }
        if (r == 0 && !ready) {
            snprintf(status, sizeof(status), "answering milter negotiations on %s", sc->spec);
            sdnotify_ready(status);
            ready = true;
        } else if (r == 0) {
            sdnotify_watchdog();
        }
        if (r != 0 && !failing)
            log_warn("self-check on %s failed: %s; %s", sc->spec, err,
                     ready ? "no watchdog ping" : "not ready yet");
        else if (r == 0 && failing)
            log_info("self-check on %s passes again", sc->spec);
        failing = r != 0;
        if (ready && every == 0)
            break;   /* no watchdog: READY=1 was all */
        sleep_ms(ready ? every : SELFCHECK_START_RETRY_MS);
    }
    free(sc->spec);
    free(sc);
    return NULL;
}

void
selfcheck_start(const char *socket_spec)
{
    struct selfcheck *sc;
    pthread_attr_t attr;
    pthread_t t;

    if (!sdnotify_enabled())
        return;
    if (!spec_known(socket_spec)) {
        log_warn("socket %s: a kind the self-check does not know; ready without one",
                 socket_spec);
        sdnotify_ready("listening (no self-check for this socket kind)");
        return;
    }
    if ((sc = calloc(1, sizeof(*sc))) == NULL || (sc->spec = strdup(socket_spec)) == NULL)
        log_fatal(1, "out of memory");
    sc->watchdog_ms = sdnotify_watchdog_ms();
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, selfcheck_run, sc) != 0)
        log_fatal(1, "cannot start the self-check thread");
    pthread_attr_destroy(&attr);
}

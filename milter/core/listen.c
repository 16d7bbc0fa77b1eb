/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   listen - parse a numeric listen address, HOST:PORT or [HOST6]:PORT
 * DESCRIPTION
 *   See listen.h. The port is taken after the last colon; an IPv6 host
 *   must be in brackets, so "::1:9478" is refused rather than guessed.
 * DIAGNOSTICS
 *   None beyond the returned reason.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define LISTEN_HOST_MAX 64   /* bytes of the host part, NUL included */

static bool
listen_port(const char *s, unsigned short *port)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return false;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 1 || v > 65535)
        return false;
    *port = (unsigned short)v;
    return true;
}

/* Split "HOST:PORT" or "[HOST]:PORT"; host gets the part without brackets. */
static bool
listen_split(const char *spec, char *host, size_t hostlen, const char **port, bool *v6)
{
    const char *colon = strrchr(spec, ':');
    const char *start = spec, *stop = colon;

    if (colon == NULL)
        return false;
    *v6 = spec[0] == '[';
    if (*v6) {
        if (colon == spec || colon[-1] != ']')
            return false;
        start = spec + 1;
        stop = colon - 1;
    } else if (memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
        return false;   /* a bare IPv6 address: which colon is the port's? */
    }
    if (stop <= start || (size_t)(stop - start) >= hostlen)
        return false;
    memcpy(host, start, (size_t)(stop - start));
    host[stop - start] = '\0';
    *port = colon + 1;
    return true;
}

/* The sockaddr of a numeric host; false when host is not one. */
static bool
listen_fill(bool v6, const char *host, unsigned short port, struct listen_addr *out)
{
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;

    if (v6) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        out->len = sizeof(*a6);
        return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1;
    }
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    out->len = sizeof(*a4);
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1;
}

bool
listen_parse(const char *spec, struct listen_addr *out, const char **why)
{
    char host[LISTEN_HOST_MAX];
    const char *port_s;
    unsigned short port;
    bool v6;

    memset(out, 0, sizeof(*out));
    if (!listen_split(spec, host, sizeof(host), &port_s, &v6)) {
        *why = "must be HOST:PORT or [IPV6]:PORT";
        return false;
    }
    if (!listen_port(port_s, &port)) {
        *why = "port must be a number 1..65535";
        return false;
    }
    if (listen_fill(v6, host, port, out))
        return true;
    *why = "host must be a numeric IPv4 or IPv6 address (no names)";
    return false;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   listen - parse a numeric listen address, HOST:PORT or [HOST6]:PORT
 * SUMMARY
 *   struct listen_addr a; if (!listen_parse("127.0.0.1:9478", &a, &why)) ...
 * DESCRIPTION
 *   For the metrics endpoints ([milter] and [sweeper] metrics_listen).
 *   The host is a numeric IPv4 or IPv6 address (no name lookup: a
 *   listener must not depend on DNS at start), the port 1..65535. The
 *   empty string is "off". Pure: inet_pton only.
 * DIAGNOSTICS
 *   listen_parse returns false with *why, a static string, set.
 */
#ifndef CPR_LISTEN_H
#define CPR_LISTEN_H

#include <stdbool.h>

#include <netinet/in.h>
#include <sys/socket.h>

struct listen_addr {
    struct sockaddr_storage ss;   /* a sockaddr_in or sockaddr_in6, port set */
    socklen_t len;
};

bool listen_parse(const char *spec, struct listen_addr *out, const char **why);

#endif

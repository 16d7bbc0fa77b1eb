/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   metrics - Prometheus text exposition (0.0.4) and its HTTP endpoint
 * SUMMARY
 *   static struct metrics_histogram h = METRICS_HISTOGRAM(bounds);
 *   metrics_histogram_observe(&h, 0.012);
 *   srv = metrics_start(&(struct metrics_settings){ "127.0.0.1:9478",
 *                       PACKAGE_VERSION, render, arg }, err, sizeof(err));
 * DESCRIPTION
 *   Shared by cpr-milter and cpr-sweeper; each keeps its own table of
 *   metrics (intakemetrics.c, sweepmetrics.c) and a render function that
 *   writes it with metrics_family(), metrics_sample() and
 *   metrics_histogram_write(). Counters and histograms are C11 atomics,
 *   updated from any thread with relaxed order and read by the server
 *   thread: a scrape never takes a lock the mail path holds.
 *   The server is libmicrohttpd with its own polling thread, on a socket
 *   bound here to the configured address only. GET /metrics answers the
 *   exposition (text/plain; version=0.0.4), other paths 404, other
 *   methods on /metrics 405 with Allow: GET. At most
 *   METRICS_MAX_CONNECTIONS at once, each closed after
 *   METRICS_TIMEOUT_S idle. The server thread takes no signals.
 *   Every response ends with process_start_time_seconds (the time
 *   metrics_start ran, at the program's start) and cpr_build_info.
 * DIAGNOSTICS
 *   metrics_start returns NULL with err set ("metrics_listen HOST:PORT:
 *   why"); metrics_open logs it, and the program runs on without metrics.
 */
#ifndef CPR_METRICS_H
#define CPR_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define METRICS_MAX_CONNECTIONS 16
#define METRICS_TIMEOUT_S       10
#define METRICS_BUCKETS_MAX     16
#define METRICS_CONTENT_TYPE    "text/plain; version=0.0.4; charset=utf-8"

struct metrics_histogram {
    const double *bounds;      /* upper bounds in seconds, ascending */
    size_t nbounds;            /* at most METRICS_BUCKETS_MAX */
    atomic_uint_least64_t counts[METRICS_BUCKETS_MAX + 1];  /* per bucket, not
                                  cumulative; [nbounds] is above them all */
    atomic_uint_least64_t sum_ns;
};

#define METRICS_HISTOGRAM(b) { .bounds = (b), .nbounds = sizeof(b) / sizeof((b)[0]) }

void metrics_counter_add(atomic_uint_least64_t *c, uint64_t n);
uint64_t metrics_counter_get(atomic_uint_least64_t *c);
void metrics_histogram_observe(struct metrics_histogram *h, double seconds);

/* # HELP and # TYPE lines; help is escaped (\\ and \n). */
void metrics_family(GString *out, const char *name, const char *type, const char *help);

/* One sample line. labels: NULL, or name, value, name, value, ..., NULL;
 * values are escaped (\\, \" and \n). */
void metrics_sample(GString *out, const char *name, const char *const *labels, double value);

/* A whole histogram family: _bucket{le=...} (cumulative, +Inf last), _sum
 * and _count, count being the +Inf bucket so the two always agree. */
void metrics_histogram_write(GString *out, const char *name, const char *help,
                             struct metrics_histogram *h);

/* process_start_time_seconds and cpr_build_info{version} 1. */
void metrics_write_process(GString *out, double start_seconds, const char *version);

/* A value as the exposition writes it: NaN, +Inf, -Inf, or the shortest
 * decimal that reads back as v. */
void metrics_format_value(double v, char *buf, size_t len);

typedef void metrics_render(GString *out, void *arg);

struct metrics_settings {
    const char *listen;        /* HOST:PORT, listen_parse() */
    const char *version;       /* cpr_build_info */
    metrics_render *render;    /* called on the server thread per scrape */
    void *arg;
};

struct metrics_server;

/* A socket bound to spec (listen_parse) and listening; -1 with err
 * ("WHAT SPEC: why"). */
int metrics_listen_socket(const char *what, const char *spec, int backlog, char *err,
                          size_t errlen);
struct metrics_server *metrics_start(const struct metrics_settings *s, char *err,
                                     size_t errlen);
/* metrics_start for a program's [section] metrics_listen: NULL when it is
 * empty (off), or after logging why it could not start. */
struct metrics_server *metrics_open(const char *section, const struct metrics_settings *s);
void metrics_stop(struct metrics_server *srv);

#endif

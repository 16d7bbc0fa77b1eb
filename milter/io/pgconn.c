/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pgconn - PostgreSQL connect and query, each with a client-side deadline
 * DESCRIPTION
 *   See pgconn.h. The deadlines are on the monotonic clock. A query that
 *   times out is not cancelled (a frozen server would not answer the
 *   cancel request either): the socket is shut down, which makes libpq
 *   see the connection as lost, and the server drops the session when it
 *   resumes. TCP keepalives and tcp_user_timeout catch a dead peer while
 *   the connection is idle or data is unacknowledged.
 * DIAGNOSTICS
 *   err gets libpq's message or "no answer within N ms".
 */
#include "pgconn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "now.h"

#define PGCONN_KEEPALIVE_IDLE_S  "10"
#define PGCONN_KEEPALIVE_INTVL_S "5"
#define PGCONN_KEEPALIVE_COUNT   "2"

/* Wait until fd is ready for events or the deadline; false on timeout. */
static bool
pgconn_wait(int fd, short events, long long deadline)
{
    for (int tries = 0; tries < 1000; tries++) {   /* EINTR storms are bounded */
        long long left = deadline - now_mono_ms();
        struct pollfd p = { .fd = fd, .events = events };
        int rc;

        if (left <= 0 || fd < 0)
            return false;
        rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
    return false;
}

/* Make libpq give up on a connection whose server does not answer. */
static void
pgconn_abandon(PGconn *conn)
{
    PGresult *res;

    if (PQsocket(conn) >= 0)
        shutdown(PQsocket(conn), SHUT_RDWR);
    /* The reads now see EOF at once, so this drains without waiting. */
    for (int i = 0; i < 16 && PQconsumeInput(conn) && PQisBusy(conn); i++)
        ;
    while (!PQisBusy(conn) && (res = PQgetResult(conn)) != NULL)
        PQclear(res);
}

static bool
pgconn_poll_connect(PGconn *conn, long long deadline)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;

    for (int steps = 0; steps < 10000; steps++) {
        if (st == PGRES_POLLING_OK)
            return true;
        if (st == PGRES_POLLING_FAILED)
            return false;
        if (!pgconn_wait(PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                         deadline))
            return false;
        st = PQconnectPoll(conn);
    }
    return false;
}

static bool
pgconn_set_timeout(PGconn *conn, long long timeout_ms, char *err, size_t errlen)
{
    char stimeout[32];
    const char *set[] = { stimeout };
    PGresult *res;
    bool ok;

    /* The server gives up first (an SQL error, this statement only); the
     * client's deadline is for a server that does not answer at all. */
    snprintf(stimeout, sizeof(stimeout), "%lldms", timeout_ms * 4 / 5);
    res = pgconn_exec(conn, NULL, "SELECT set_config('statement_timeout', $1, false)",
                      1, set, timeout_ms, err, errlen);
    ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
    if (res != NULL && !ok)
        snprintf(err, errlen, "statement_timeout: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

PGconn *
pgconn_connect(const char *conninfo, const char *app, long long timeout_ms,
               char *err, size_t errlen)
{
    char ctimeout[32], utimeout[32];
    const char *keys[] = { "dbname", "application_name", "client_encoding",
                           "connect_timeout", "keepalives", "keepalives_idle",
                           "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                           NULL };
    const char *vals[] = { conninfo, app, "UTF8", ctimeout, "1", PGCONN_KEEPALIVE_IDLE_S,
                           PGCONN_KEEPALIVE_INTVL_S, PGCONN_KEEPALIVE_COUNT, utimeout,
                           NULL };
    long long deadline;
    PGconn *conn;

    if (timeout_ms < PGCONN_MIN_TIMEOUT_MS)
        timeout_ms = PGCONN_MIN_TIMEOUT_MS;
    deadline = now_mono_ms() + timeout_ms;
    snprintf(ctimeout, sizeof(ctimeout), "%lld", (timeout_ms + 999) / 1000);
    snprintf(utimeout, sizeof(utimeout), "%lld", timeout_ms);
    conn = PQconnectStartParams(keys, vals, 1);
    if (conn == NULL || PQstatus(conn) == CONNECTION_BAD
        || !pgconn_poll_connect(conn, deadline)) {
        snprintf(err, errlen, "connect: %s", conn == NULL ? "out of memory"
                 : PQstatus(conn) == CONNECTION_OK || *PQerrorMessage(conn) == '\0'
                 ? "no answer in time" : PQerrorMessage(conn));
        if (conn != NULL && PQstatus(conn) != CONNECTION_BAD && now_mono_ms() >= deadline)
            snprintf(err, errlen, "connect: no answer within %lld ms", timeout_ms);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGconn *
pgconn_open(const char *conninfo, const char *app, long long timeout_ms,
            char *err, size_t errlen)
{
    PGconn *conn = pgconn_connect(conninfo, app, timeout_ms, err, errlen);

    if (conn != NULL && !pgconn_set_timeout(conn, timeout_ms, err, errlen)) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Wait for the result of what was just sent; NULL (and the connection
 * abandoned) when it does not come by the deadline. */
static PGresult *
pgconn_await(PGconn *conn, long long deadline, long long timeout_ms, bool script,
             char *err, size_t errlen)
{
    PGresult *res, *last = NULL;

    for (int rc; (rc = PQflush(conn)) != 0;)
        if (rc < 0 || !pgconn_wait(PQsocket(conn), POLLOUT | POLLIN, deadline)
            || !PQconsumeInput(conn))
            goto lost;
    while (PQisBusy(conn))
        if (!pgconn_wait(PQsocket(conn), POLLIN, deadline) || !PQconsumeInput(conn))
            goto lost;
    while ((res = PQgetResult(conn)) != NULL) {
        PQclear(last);
        last = res;
        /* A script has a result per statement: wait for each. One query
         * never waits again here (a second PQisBusy on a connection the
         * server dropped makes a result nobody frees). */
        while (script && PQisBusy(conn))
            if (!pgconn_wait(PQsocket(conn), POLLIN, deadline) || !PQconsumeInput(conn)) {
                PQclear(last);
                last = NULL;
                goto lost;
            }
    }
    PQsetnonblocking(conn, 0);
    return last;
lost:
    snprintf(err, errlen, now_mono_ms() >= deadline ? "no answer within %lld ms"
             : "connection lost (%lld ms deadline)", timeout_ms);
    pgconn_abandon(conn);
    PQsetnonblocking(conn, 0);
    return NULL;
}

/* Non-blocking while sending: a large query to a frozen server must not
 * block in write(); PQexec users of the same conn get it back after. */
static bool
pgconn_nonblocking(PGconn *conn, char *err, size_t errlen)
{
    if (PQsetnonblocking(conn, 1) == 0)
        return true;
    snprintf(err, errlen, "nonblocking: %s", PQerrorMessage(conn));
    return false;
}

PGresult *
pgconn_exec(PGconn *conn, const char *stmt, const char *sql, int nparams,
            const char *const *values, long long timeout_ms, char *err, size_t errlen)
{
    long long deadline = now_mono_ms() + timeout_ms;
    int sent;

    if (!pgconn_nonblocking(conn, err, errlen))
        return NULL;
    sent = stmt ? PQsendQueryPrepared(conn, stmt, nparams, values, NULL, NULL, 0)
                : PQsendQueryParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
    if (!sent) {
        snprintf(err, errlen, "send: %s", PQerrorMessage(conn));
        PQsetnonblocking(conn, 0);
        return NULL;
    }
    return pgconn_await(conn, deadline, timeout_ms, false, err, errlen);
}

PGresult *
pgconn_prepare(PGconn *conn, const char *stmt, const char *sql, long long timeout_ms,
               char *err, size_t errlen)
{
    long long deadline = now_mono_ms() + timeout_ms;

    if (!pgconn_nonblocking(conn, err, errlen))
        return NULL;
    if (!PQsendPrepare(conn, stmt, sql, 0, NULL)) {
        snprintf(err, errlen, "prepare: %s", PQerrorMessage(conn));
        PQsetnonblocking(conn, 0);
        return NULL;
    }
    return pgconn_await(conn, deadline, timeout_ms, false, err, errlen);
}

PGresult *
pgconn_exec_script(PGconn *conn, const char *sql, long long timeout_ms, char *err,
                   size_t errlen)
{
    long long deadline = now_mono_ms() + timeout_ms;

    if (!pgconn_nonblocking(conn, err, errlen))
        return NULL;
    if (!PQsendQuery(conn, sql)) {
        snprintf(err, errlen, "send: %s", PQerrorMessage(conn));
        PQsetnonblocking(conn, 0);
        return NULL;
    }
    return pgconn_await(conn, deadline, timeout_ms, true, err, errlen);
}

PGresult *
pgconn_next(PGconn *conn, long long timeout_ms, bool *lost, char *err, size_t errlen)
{
    long long deadline = now_mono_ms() + timeout_ms;

    *lost = false;
    while (PQisBusy(conn))
        if (!pgconn_wait(PQsocket(conn), POLLIN, deadline) || !PQconsumeInput(conn)) {
            snprintf(err, errlen, now_mono_ms() >= deadline ? "no answer within %lld ms"
                     : "connection lost (%lld ms deadline)", timeout_ms);
            pgconn_abandon(conn);
            *lost = true;
            return NULL;
        }
    return PQgetResult(conn);
}

bool
pgconn_broken(const PGconn *conn)
{
    return conn == NULL || PQstatus(conn) != CONNECTION_OK;
}

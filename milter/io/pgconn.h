/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pgconn - PostgreSQL connect and query, each with a client-side deadline
 * SUMMARY
 *   conn = pgconn_open(conninfo, "cpr-sweeper", timeout_ms, err, len);
 *   res = pgconn_exec(conn, NULL, sql, n, values, timeout_ms, err, len);
 * DESCRIPTION
 *   The one way every program (cpr-milter's pool and outbox, cpr-sweeper,
 *   cprctl) talks to PostgreSQL. pgconn_open connects asynchronously with
 *   the same keepalives, tcp_user_timeout, connect_timeout,
 *   client_encoding (UTF8) and application_name for all, and sets the
 *   server's statement_timeout below the client's deadline, so that a
 *   slow statement fails on the server first. pgconn_exec sends one query
 *   (prepared when stmt is set) and waits for its result until the
 *   deadline. A server that does not answer in time (frozen, partitioned)
 *   leaves the connection broken: PQstatus(conn) is then CONNECTION_BAD,
 *   the same test callers already make for a dead server.
 * DIAGNOSTICS
 *   NULL with the reason in err; never the conninfo (it may hold a password).
 */
#ifndef CPR_PGCONN_H
#define CPR_PGCONN_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#define PGCONN_MIN_TIMEOUT_MS 1000   /* below this, libpq's connect_timeout rounds to 2 s */

PGconn *pgconn_open(const char *conninfo, const char *app, long long timeout_ms,
                    char *err, size_t errlen);

/* The same connect, without the statement_timeout: for cprctl, whose
 * migrate may run long statements. */
PGconn *pgconn_connect(const char *conninfo, const char *app, long long timeout_ms,
                       char *err, size_t errlen);

/* The last result of the query (the caller checks PQresultStatus), or NULL
 * when it could not be sent or no answer came within timeout_ms. */
PGresult *pgconn_exec(PGconn *conn, const char *stmt, const char *sql, int nparams,
                      const char *const *values, long long timeout_ms,
                      char *err, size_t errlen);

/* PQprepare with the same deadline. */
PGresult *pgconn_prepare(PGconn *conn, const char *stmt, const char *sql,
                         long long timeout_ms, char *err, size_t errlen);

/* One or more statements with no parameters (PQsendQuery), the same
 * deadline for the whole; the last result, as PQexec gives it. */
PGresult *pgconn_exec_script(PGconn *conn, const char *sql, long long timeout_ms,
                             char *err, size_t errlen);

/* The next result of a query already sent (single-row mode, say): what
 * PQgetResult would return, waiting at most timeout_ms for it; NULL with
 * *lost set (and the connection abandoned) when it does not come. */
PGresult *pgconn_next(PGconn *conn, long long timeout_ms, bool *lost, char *err,
                      size_t errlen);

/* Is this a connection failure (as opposed to an SQL error)? */
bool pgconn_broken(const PGconn *conn);

#endif

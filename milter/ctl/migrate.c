/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   migrate - apply the numbered SQL migrations in sql/
 * SUMMARY
 *   n = migrate_apply(conn, sqldir);
 * DESCRIPTION
 *   Owns cpr.schema_migrations. Under a session advisory lock it makes sure
 *   the schema and the bookkeeping table exist, lists NNN_name.sql files in
 *   sqldir in name order, and applies each one not yet recorded (version =
 *   file name without ".sql") in its own transaction together with the row
 *   that records it. A failed file rolls back whole; nothing after it runs.
 * DIAGNOSTICS
 *   Returns -1 after log_error() naming the file and the PostgreSQL message
 *   (with the line in the file when the server reports a position).
 *   Logs "applied NNN_name" for each file applied.
 */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pgconn.h"

/* The build tree's program directory and the source tree's sql/, compiled
 * in by Makefile.am; they are used only by the cprctl that sits there. */
#ifndef CPR_BUILD_BINDIR
#define CPR_BUILD_BINDIR ""
#define CPR_BUILD_SQLDIR ""
#endif

#define MIGRATE_MAX_FILE_BYTES (8L * 1024 * 1024) /* one migration file */
#define MIGRATE_MAX_FILES      10000              /* files in sqldir */
#define MIGRATE_MIN_DIGITS     3                  /* NNN_ */
#define MIGRATE_LOCK_KEY       "4350520001"       /* "CPR" 0001 */

static const char migrate_bootstrap_sql[] =
    "SET LOCAL client_min_messages = warning;"
    "CREATE SCHEMA IF NOT EXISTS cpr;"
    "CREATE TABLE IF NOT EXISTS cpr.schema_migrations ("
    " version text PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())";

struct migrate_list {
    char **names;
    size_t n;
};

/* Line number (1-based) of a 1-based character position in text. */
static long
migrate_line_of(const char *text, long pos)
{
    long line = 1, chars = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars >= pos)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

static const char *
migrate_field(const PGresult *res, int field)
{
    const char *v = res ? PQresultErrorField(res, field) : NULL;

    return v ? v : "";
}

/* Log a failed result: "file:LINE: ERROR: message (detail) (context)". */
static void
migrate_log_result(const char *file, const char *text, const PGresult *res,
                   const PGconn *conn)
{
    const char *msg = migrate_field(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *pos = migrate_field(res, PG_DIAG_STATEMENT_POSITION);
    const char *detail = migrate_field(res, PG_DIAG_MESSAGE_DETAIL);
    const char *ctx = migrate_field(res, PG_DIAG_CONTEXT);
    const char *sev = migrate_field(res, PG_DIAG_SEVERITY);
    char where[32] = "";

    if (!*msg) {
        msg = *PQerrorMessage(conn) ? PQerrorMessage(conn) : "unknown libpq error";
        log_error("%s: %.*s", file, (int)strcspn(msg, "\n"), msg);
        return;
    }
    if (*pos && text)
        snprintf(where, sizeof(where), ":%ld", migrate_line_of(text, atol(pos)));
    log_error("%s%s: %s: %s%s%s%s%s%.*s%s", file, where, *sev ? sev : "ERROR",
              msg, *detail ? " (" : "", detail, *detail ? ")" : "",
              *ctx ? " (" : "", (int)strcspn(ctx, "\n"), ctx, *ctx ? ")" : "");
}

/* Every statement of a migration has a client-side deadline too, a long
 * one: an index build over years of history may take a while, and a
 * second migrate waits on the first one's lock. */
#define MIGRATE_TIMEOUT_MS (60 * 60 * 1000LL)

static PGresult *
migrate_run(PGconn *conn, const char *sql, int n, const char *const *params)
{
    char err[256] = "";
    PGresult *res = n == 0
        ? pgconn_exec_script(conn, sql, MIGRATE_TIMEOUT_MS, err, sizeof(err))
        : pgconn_exec(conn, NULL, sql, n, params, MIGRATE_TIMEOUT_MS, err, sizeof(err));

    if (res == NULL && err[0])
        log_error("migrate: database: %s", err);
    return res;
}

static bool
migrate_exec(PGconn *conn, const char *file, const char *sql, const char *text)
{
    PGresult *res = migrate_run(conn, sql, 0, NULL);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        migrate_log_result(file, text, res, conn);
    PQclear(res);
    return ok;
}

static void
migrate_rollback(PGconn *conn)
{
    PGresult *res = migrate_run(conn, "ROLLBACK", 0, NULL);

    PQclear(res);
}

static bool
migrate_lock(PGconn *conn, bool lock)
{
    const char *params[1] = { MIGRATE_LOCK_KEY };
    PGresult *res = migrate_run(conn,
        lock ? "SELECT pg_advisory_lock($1::bigint)"
             : "SELECT pg_advisory_unlock($1::bigint)",
        1, params);
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;

    if (!ok)
        migrate_log_result(lock ? "advisory lock" : "advisory unlock", NULL, res, conn);
    PQclear(res);
    return ok;
}

static bool
migrate_bootstrap(PGconn *conn)
{
    if (!migrate_exec(conn, "bootstrap", "BEGIN", NULL))
        return false;
    if (!migrate_exec(conn, "bootstrap", migrate_bootstrap_sql, NULL)
        || !migrate_exec(conn, "bootstrap", "COMMIT", NULL)) {
        migrate_rollback(conn);
        return false;
    }
    return true;
}

/* NNN_name.sql: at least MIGRATE_MIN_DIGITS digits, '_', a name, ".sql". */
static bool
migrate_name_ok(const char *name)
{
    size_t len = strlen(name), digits = 0;

    while (isdigit((unsigned char)name[digits]))
        digits++;
    return digits >= MIGRATE_MIN_DIGITS && name[digits] == '_'
        && len > digits + 1 + 4 && strcmp(name + len - 4, ".sql") == 0;
}

static int
migrate_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
migrate_list_free(struct migrate_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

static bool
migrate_list_add(struct migrate_list *l, const char *name, const char *sqldir)
{
    char **names;

    if (l->n >= MIGRATE_MAX_FILES) {
        log_error("%s: more than %d migration files", sqldir, MIGRATE_MAX_FILES);
        return false;
    }
    names = realloc(l->names, (l->n + 1) * sizeof(*names));
    if (!names || !(names[l->n] = strdup(name))) {
        if (names)
            l->names = names;
        log_error("%s: out of memory", sqldir);
        return false;
    }
    l->names = names;
    l->n++;
    return true;
}

static bool
migrate_list_read(const char *sqldir, struct migrate_list *l)
{
    DIR *d = opendir(sqldir);
    struct dirent *de;
    bool ok = true;

    if (!d) {
        log_error("%s: %s", sqldir, strerror(errno));
        return false;
    }
    while (ok && (de = readdir(d)) != NULL)
        if (migrate_name_ok(de->d_name))
            ok = migrate_list_add(l, de->d_name, sqldir);
    closedir(d);
    if (ok && l->n > 0)
        qsort(l->names, l->n, sizeof(*l->names), migrate_cmp);
    if (!ok)
        migrate_list_free(l);
    return ok;
}

/* 1 if recorded, 0 if not, -1 on error. */
static int
migrate_recorded(PGconn *conn, const char *version)
{
    const char *params[1] = { version };
    PGresult *res = migrate_run(conn,
        "SELECT 1 FROM cpr.schema_migrations WHERE version = $1", 1, params);
    int rc = -1;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        rc = PQntuples(res) > 0;
    else
        migrate_log_result(version, NULL, res, conn);
    PQclear(res);
    return rc;
}

static bool
migrate_record(PGconn *conn, const char *version)
{
    const char *params[1] = { version };
    PGresult *res = migrate_run(conn,
        "INSERT INTO cpr.schema_migrations (version) VALUES ($1)", 1, params);
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok)
        migrate_log_result(version, NULL, res, conn);
    PQclear(res);
    return ok;
}

static char *
migrate_read_stream(FILE *f, const char *path, long long size)
{
    char *buf = malloc((size_t)size + 1);
    size_t got;

    if (!buf) {
        log_error("%s: out of memory", path);
        return NULL;
    }
    got = fread(buf, 1, (size_t)size, f);
    if (ferror(f) || got != (size_t)size || memchr(buf, '\0', got)) {
        log_error("%s: %s", path, ferror(f) ? strerror(errno)
                  : got != (size_t)size ? "file changed while reading"
                  : "contains a NUL byte");
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    return buf;
}

/* The whole file as a string, at most MIGRATE_MAX_FILE_BYTES. */
static char *
migrate_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    char *buf = NULL;

    if (!f) {
        log_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0)
        log_error("%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        log_error("%s: not a regular file", path);
    else if (st.st_size > MIGRATE_MAX_FILE_BYTES)
        log_error("%s: %lld bytes, more than the %ld allowed", path,
                  (long long)st.st_size, MIGRATE_MAX_FILE_BYTES);
    else
        buf = migrate_read_stream(f, path, (long long)st.st_size);
    fclose(f);
    return buf;
}

static bool
migrate_run_file(PGconn *conn, const char *file, const char *version,
                 const char *text)
{
    /* NOTICEs ("already exists, skipping") are noise here; warnings stay. */
    if (!migrate_exec(conn, file,
                      "BEGIN; SET LOCAL client_min_messages = warning", NULL))
        return false;
    if (!migrate_exec(conn, file, text, text) || !migrate_record(conn, version)
        || !migrate_exec(conn, file, "COMMIT", NULL)) {
        migrate_rollback(conn);
        return false;
    }
    return true;
}

/* 1 applied, 0 already recorded, -1 error. */
static int
migrate_one(PGconn *conn, const char *sqldir, const char *file)
{
    size_t plen = strlen(sqldir) + strlen(file) + 2;
    char *path = malloc(plen), *version = strdup(file), *text = NULL;
    int rc = -1;

    if (!path || !version) {
        log_error("%s: out of memory", file);
        goto out;
    }
    snprintf(path, plen, "%s/%s", sqldir, file);
    version[strlen(version) - 4] = '\0';    /* drop ".sql" */
    rc = migrate_recorded(conn, version);
    if (rc != 0) {
        rc = rc > 0 ? 0 : -1;
        goto out;
    }
    rc = -1;
    if ((text = migrate_read_file(path)) && migrate_run_file(conn, file, version, text)) {
        log_info("applied %s", version);
        rc = 1;
    }
out:
    free(text);
    free(version);
    free(path);
    return rc;
}

static int
migrate_all(PGconn *conn, const char *sqldir, const struct migrate_list *l)
{
    int applied = 0;

    for (size_t i = 0; i < l->n; i++) {
        int rc = migrate_one(conn, sqldir, l->names[i]);

        if (rc < 0)
            return -1;
        applied += rc;
    }
    return applied;
}

int
migrate_apply(PGconn *conn, const char *sqldir)
{
    struct migrate_list l = { NULL, 0 };
    int applied;

    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        log_error("migrate: the connection is not idle");
        return -1;
    }
    if (!migrate_list_read(sqldir, &l))
        return -1;
    if (l.n == 0) {
        log_error("%s: no NNN_name.sql migration files", sqldir);
        return -1;
    }
    if (!migrate_lock(conn, true)) {
        migrate_list_free(&l);
        return -1;
    }
    applied = migrate_bootstrap(conn) ? migrate_all(conn, sqldir, &l) : -1;
    if (!migrate_lock(conn, false))
        applied = -1;
    migrate_list_free(&l);
    return applied;
}

static bool
migrate_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is the running program in the build tree's program directory? */
static bool
migrate_uninstalled(void)
{
    char exe[PATH_MAX], bindir[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0 || *CPR_BUILD_BINDIR == '\0' || realpath(CPR_BUILD_BINDIR, bindir) == NULL)
        return false;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return false;
    *slash = '\0';
    return strcmp(exe, bindir) == 0;
}

const char *
migrate_sql_dir(const char *given)
{
    if (given != NULL)
        return given;
    if (!migrate_is_dir(CPR_SQLDIR) && migrate_uninstalled() && migrate_is_dir(CPR_BUILD_SQLDIR))
        return CPR_BUILD_SQLDIR;
    return CPR_SQLDIR;
}

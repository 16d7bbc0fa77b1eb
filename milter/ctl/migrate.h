/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   migrate - apply the numbered SQL migrations in sql/
 * DESCRIPTION
 *   Files named NNN_name.sql are applied in order, each in its own
 *   transaction, and recorded in cpr.schema_migrations. Already-applied
 *   files are skipped, so migrate is idempotent. A session advisory lock
 *   keeps two concurrent migrators from racing.
 *
 *   migrate_sql_dir says where the files are: the directory given
 *   (--sql-dir); else the installed one (CPR_SQLDIR) if it exists; else,
 *   when this cprctl is the one in its build tree (uninstalled), the source
 *   tree's sql/ (CPR_BUILD_SQLDIR); else the installed one, whose absence
 *   migrate_apply then reports.
 */
#ifndef CPR_MIGRATE_H
#define CPR_MIGRATE_H

#include <libpq-fe.h>

/* Returns the number applied (>= 0), or -1 after logging the error. */
int migrate_apply(PGconn *conn, const char *sqldir);
const char *migrate_sql_dir(const char *given);

#endif

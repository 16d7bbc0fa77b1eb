/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   migrate - apply the numbered SQL migrations in sql/
 * DESCRIPTION
 *   Files named NNN_name.sql are applied in order, each in its own
 *   transaction, and recorded in cpr.schema_migrations. Already-applied
 *   files are skipped, so migrate is idempotent. A session advisory lock
 *   keeps two concurrent migrators from racing.
 */
#ifndef CPR_MIGRATE_H
#define CPR_MIGRATE_H

#include <libpq-fe.h>

/* Returns the number applied (>= 0), or -1 after logging the error. */
int migrate_apply(PGconn *conn, const char *sqldir);

#endif

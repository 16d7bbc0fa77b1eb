/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   inventory - the sources of the CA's certificate inventory
 * SUMMARY
 *   struct invsource *s = invsource_new(&cfg->source_defs[i]);
 *   ok = invsource_query(s, INV_BY_SERIAL, "43a9", NULL, on_cert, on_refuse, arg, err, len);
 *   invsource_free(s);
 * DESCRIPTION
 *   postgresql: the CA's issuance database, read-only. The conninfo is
 *   read from conninfo_file (never logged); the session is made read-only
 *   (default_transaction_read_only), UTC and ISO dates. Each configured
 *   query is a prepared statement with one text parameter, run with the
 *   source's timeout. Columns are found by name: der (bytea) or pem
 *   (text), or the fields sha256, serial, issuer, subject, sans,
 *   spki_sha256, not_before, not_after, precertificate; and contact.
 *   At most max_rows rows are read; the rest are refused and counted.
 *   directory: the certificates (PEM, one or more per file, or DER) of the
 *   files directly in path, indexed by invsource_index: at start, on
 *   SIGHUP, and when the directory's mtime changes (a file added or
 *   removed). Files over max_file_bytes, hidden files and FILE.contact
 *   (the Subscriber address of FILE) are not certificates; more than
 *   max_files certificates refuses the whole index. A match is read again
 *   from its file, so the index holds only what it compares.
 *   Every certificate goes through invcert (bounded, parsed like evidence);
 *   a bad row is refused with its reason, never stored.
 * DIAGNOSTICS
 *   invsource_query returns false, with err, when the source failed (down,
 *   an SQL error, a timeout, an unreadable directory): the caller retries.
 */
#ifndef CPR_INVENTORY_H
#define CPR_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "invcert.h"

struct invsource;

typedef void (*invsource_cert_fn)(struct inv_cert *c, void *arg);   /* may take c->der */
typedef void (*invsource_refuse_fn)(const char *why, void *arg);

struct invsource *invsource_new(const struct config_source *cfg);
const char *invsource_name(const struct invsource *s);
/* Directory: (re)build the index; true for postgresql. */
bool invsource_index(struct invsource *s, char *err, size_t errlen);
bool invsource_is_dir(const struct invsource *s);
/* Directory whose mtime differs from the index's (or never indexed). */
bool invsource_stale(const struct invsource *s);
size_t invsource_count(const struct invsource *s);
/* The source has a query for q (a directory answers all). */
bool invsource_asks(const struct invsource *s, enum inv_query q);
bool invsource_query(struct invsource *s, enum inv_query q, const char *param, const char *key,
                     const char *issuer, invsource_cert_fn cert, invsource_refuse_fn refuse,
                     void *arg, char *err, size_t errlen);
void invsource_free(struct invsource *s);

#endif

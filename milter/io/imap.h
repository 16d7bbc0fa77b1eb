/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   imap - the few IMAP commands the probe sender needs, over libcurl
 * SUMMARY
 *   struct imap *c = imap_open(url, user, password, timeout_ms, err, len);
 *   imap_search(c, folder, since, uids, max, &n, err, len);
 *   imap_message_id(c, folder, uid, msgid, sizeof(msgid), err, len);
 *   imap_delete(c, folder, uid, err, len);
 *   imap_close(c);
 * DESCRIPTION
 *   One logged-in connection, reused for every command (libcurl keeps it
 *   and the selected folder). url is imap://HOST:PORT/ or imaps://HOST:PORT/;
 *   over imap:// STARTTLS is required unless HOST is a loopback address.
 *   Certificates are verified. Folder names must already be safe to quote
 *   (config.c checks them); they are percent-encoded into the URL.
 *
 *   imap_search finds the messages of a folder whose Message-ID holds
 *   IMAP_PROBE_DOMAIN and that arrived since the given day, as UIDs.
 *   imap_message_id reads one message's Message-ID (without <>);
 *   imap_delete flags it \Deleted and expunges that UID alone.
 * DIAGNOSTICS
 *   Each call returns false with err set to libcurl's reason (never the
 *   password). A server answer larger than IMAP_REPLY_MAX is an error.
 */
#ifndef CPR_IMAP_H
#define CPR_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define IMAP_PROBE_DOMAIN "@probe.cpr-milter.invalid"
#define IMAP_REPLY_MAX    (64 * 1024)

struct imap;

struct imap *imap_open(const char *url, const char *user, const char *password,
                       long timeout_ms, char *err, size_t errlen);
bool imap_search(struct imap *c, const char *folder, time_t since, unsigned long *uids,
                 size_t max, size_t *n, char *err, size_t errlen);
bool imap_message_id(struct imap *c, const char *folder, unsigned long uid, char *out,
                     size_t outlen, char *err, size_t errlen);
bool imap_delete(struct imap *c, const char *folder, unsigned long uid, char *err,
                 size_t errlen);
void imap_close(struct imap *c);

/* For tests: the UIDs in an untagged "* SEARCH ..." reply; the
 * Message-ID (without <>) in a header block. */
size_t imap_parse_search(const char *reply, unsigned long *uids, size_t max);
bool imap_parse_message_id(const char *header, char *out, size_t outlen);
/* Whether the host of url is an address literal in 127.0.0.0/8, ::1, or
 * localhost. */
bool imap_url_loopback(const char *url);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   acklink - the one-click acknowledge link of a page
 * SUMMARY
 *   char *url = acklink_for(cfg, "CPR-2026-000042", "acknowledge", "oncall", now_ms);
 *   ... free(url);
 * DESCRIPTION
 *   acklink_for is what a page maker calls: it reads [web] secret_file,
 *   draws a 128-bit nonce (RAND_bytes), makes the token (acktoken.c)
 *   expiring [web] link_ttl after now_ms, and returns
 *   "[web] public_url/ack/TOKEN". NULL (and nothing logged) when links are
 *   off: public_url or secret_file empty. NULL with a warning logged when
 *   the secret cannot be read or a field is malformed: the page goes out
 *   without a link, never not at all.
 * DIAGNOSTICS
 *   Results are malloc'd; the caller frees them with free().
 */
#ifndef CPR_ACKLINK_H
#define CPR_ACKLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define ACKLINK_BASE_MAX 512     /* bytes of [web] public_url */
#define ACKLINK_PATH "/ack/"

/* NULL when base can prefix links, else why not (a static string). */
const char *acklink_base_problem(const char *base);

/* base (trailing slashes dropped) + "/ack/" + token; NULL when base is bad
 * or the token is not base64url. */
char *acklink_url(const char *public_base_url, const char *token);

/* A token for tracking, clock and channel, expiring at now_ms + ttl_ms,
 * into out (ACKTOKEN_MAX bytes). The nonce is drawn here. */
bool acklink_token(const unsigned char *key, size_t keylen, const char *tracking,
                   const char *clock, const char *channel, long long now_ms,
                   long long ttl_ms, char *out, size_t outlen);

char *acklink_for(const struct cpr_config *cfg, const char *tracking, const char *clock,
                  const char *channel, long long now_ms);

#endif

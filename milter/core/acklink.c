/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   acklink - the one-click acknowledge link of a page
 * SUMMARY
 *   url = acklink_for(cfg, tracking, clock, channel, now_ms);
 * DESCRIPTION
 *   See acklink.h. Owns the URL's shape and where the key and the nonce
 *   come from; the token's bytes are acktoken.c's.
 * DIAGNOSTICS
 *   Warnings through log.c name the file, never the secret.
 */
#include "acklink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/rand.h>

#include "acktoken.h"
#include "log.h"

const char *
acklink_base_problem(const char *base)
{
    const char *host;
    size_t n = strlen(base);

    if (strncmp(base, "https://", 8) == 0)
        host = base + 8;
    else if (strncmp(base, "http://", 7) == 0)
        host = base + 7;
    else
        return "must start with https:// (or http://)";
    if (n > ACKLINK_BASE_MAX)
        return "longer than 512 bytes";
    if (*host == '\0' || *host == '/')
        return "names no host";
    for (const char *p = base; *p != '\0'; p++) {
        unsigned char c = (unsigned char) *p;

        if (c <= 0x20 || c >= 0x7f || strchr("\"'<>\\^`{|}", c) != NULL)
            return "has a blank, a control, a quote or a character a URL may not hold";
        if (c == '?' || c == '#')
            return "may not have a query or a fragment";
    }
    return NULL;
}

char *
acklink_url(const char *public_base_url, const char *token)
{
    size_t n = strlen(public_base_url), tn = strlen(token), size;
    char *url;

    if (acklink_base_problem(public_base_url) != NULL || tn == 0 || tn >= ACKTOKEN_MAX
        || strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != tn)
        return NULL;
    while (n > 0 && public_base_url[n - 1] == '/')
        n--;
    size = n + sizeof(ACKLINK_PATH) + tn;
    if ((url = malloc(size)) == NULL)
        return NULL;
    snprintf(url, size, "%.*s%s%s", (int) n, public_base_url, ACKLINK_PATH, token);
    return url;
}

bool
acklink_token(const unsigned char *key, size_t keylen, const char *tracking, const char *clock,
              const char *channel, long long now_ms, long long ttl_ms, char *out, size_t outlen)
{
    struct acktoken t;
    bool ok;

    memset(&t, 0, sizeof(t));
    if (now_ms <= 0 || ttl_ms <= 0 || ttl_ms > ACKTOKEN_TTL_MAX_MS || strlen(tracking) >= sizeof(t.tracking)
        || strlen(clock) >= sizeof(t.clock) || strlen(channel) >= sizeof(t.channel))
        return false;
    strcpy(t.tracking, tracking);
    strcpy(t.clock, clock);
    strcpy(t.channel, channel);
    t.issued_ms = now_ms;
    t.expires_ms = now_ms + ttl_ms;
    if (RAND_bytes(t.nonce, ACKTOKEN_NONCE_LEN) != 1)
        return false;
    ok = acktoken_make(key, keylen, &t, out, outlen);
    memset(&t, 0, sizeof(t));
    return ok;
}

char *
acklink_for(const struct cpr_config *cfg, const char *tracking, const char *clock,
            const char *channel, long long now_ms)
{
    char token[ACKTOKEN_MAX], *err = NULL, *key, *url = NULL;

    if (cfg->web_public_url[0] == '\0' || cfg->web_secret_file[0] == '\0')
        return NULL;
    if ((key = config_read_private_secret(cfg->web_secret_file, ACKTOKEN_KEY_MIN, &err)) == NULL) {
        log_warn("ack link for %s: [web] secret_file: %s; the page goes without a link",
                 tracking, err);
        g_free(err);
        return NULL;
    }
    if (acklink_token((const unsigned char *) key, strlen(key), tracking, clock, channel,
                      now_ms, cfg->web_link_ttl_ms, token, sizeof(token)))
        url = acklink_url(cfg->web_public_url, token);
    else
        log_warn("ack link for %s: cannot make a token (clock \"%s\", channel \"%s\")",
                 tracking, clock, channel);
    memset(key, 0, strlen(key));
    g_free(key);
    return url;
}

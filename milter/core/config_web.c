/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   config_web - what cpr-web and the link makers need of [web]
 * SUMMARY
 *   if (!config_check_web(cfg, &err)) ...
 * DESCRIPTION
 *   The [web] keys as a whole: a numeric listen address, a public_url that
 *   links can be made from, trusted_proxies of numeric addresses, an
 *   identity_header that is an HTTP token. Kept apart from config.c so the
 *   table stays a table. The secret file itself is read at start by
 *   config_read_private_secret (config_secret.c).
 * DIAGNOSTICS
 *   False with *err = "FILE:LINE: [web] KEY: why" (g_free).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib.h>

#include "acklink.h"
#include "listen.h"

static bool
config_web_token_ok(const char *s)
{
    if (*s == '\0' || strlen(s) > 64)
        return false;
    for (; *s != '\0'; s++)
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_')
            return false;
    return true;
}

bool
config_web_proxy_ok(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool
config_check_proxies(const struct cpr_config *cfg, char **err)
{
    gchar **v = g_strsplit(cfg->web_trusted_proxies, ",", -1);
    bool ok = true;

    for (size_t i = 0; ok && v[i] != NULL; i++) {
        g_strstrip(v[i]);
        if (cfg->web_trusted_proxies[0] != '\0' && !config_web_proxy_ok(v[i]))
            ok = config_fail(cfg, err, "web", "trusted_proxies",
                             "\"%s\" is not a numeric IPv4 or IPv6 address", v[i]);
    }
    g_strfreev(v);
    return ok;
}

bool
config_check_web(const struct cpr_config *cfg, char **err)
{
    struct listen_addr a;
    const char *why;

    if (cfg->web_listen[0] == '\0' || !listen_parse(cfg->web_listen, &a, &why))
        return config_fail(cfg, err, "web", "listen", "\"%s\": %s", cfg->web_listen,
                           cfg->web_listen[0] == '\0' ? "required by cpr-web" : why);
    if (cfg->web_secret_file[0] == '\0')
        return config_fail(cfg, err, "web", "secret_file", "required by cpr-web");
    if (cfg->web_public_url[0] != '\0' && (why = acklink_base_problem(cfg->web_public_url)))
        return config_fail(cfg, err, "web", "public_url", "%s", why);
    if (cfg->web_identity_header[0] != '\0' && !config_web_token_ok(cfg->web_identity_header))
        return config_fail(cfg, err, "web", "identity_header",
                           "a header name of letters, digits, '-' and '_' (64 at most)");
    if (cfg->web_identity_header[0] != '\0' && cfg->web_trusted_proxies[0] == '\0')
        return config_fail(cfg, err, "web", "identity_header",
                           "needs trusted_proxies: from anyone else it is ignored");
    return config_check_proxies(cfg, err);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   webpage - what cpr-web answers to one request
 * SUMMARY
 *   a = webpage_handle(&ctx, &request);
 * DESCRIPTION
 *   See webpage.h and webserve.h. GET and HEAD only read (cpr.link_case);
 *   POST alone acts (cpr.ack_link). The token is verified on both with
 *   the wall clock; the database checks the expiry again with its own.
 * DIAGNOSTICS
 *   Acknowledgements and refused POSTs are logged with the peer address;
 *   tokens, nonces and form values never are.
 */
#include "webpage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ackpage.h"
#include "acktoken.h"
#include "log.h"
#include "now.h"

#define WEB_PEER_MAX 64

static struct webpage_answer
answer(unsigned int status, const char *title, const char *text, const char *tracking)
{
    struct webpage_answer a = { status, g_string_sized_new(1024) };

    ackpage_message(a.body, title, text, tracking);
    return a;
}

/* ---- set-up ---- */

static bool
parse_proxy(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s, &((struct sockaddr_in *) ss)->sin_addr) == 1) {
        ss->ss_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *) ss)->sin6_addr) == 1) {
        ss->ss_family = AF_INET6;
        return true;
    }
    return false;
}

/* "scheme://authority" of public_url, or NULL. */
static char *
origin_of(const char *url)
{
    const char *p = strstr(url, "://"), *slash;

    if (url[0] == '\0' || p == NULL)
        return NULL;
    slash = strchr(p + 3, '/');
    return slash != NULL ? g_strndup(url, (gsize) (slash - url)) : g_strdup(url);
}

bool
webpage_init(struct webpage_ctx *ctx, const struct cpr_config *cfg, const unsigned char *key,
             size_t keylen, struct webdb *db, char *err, size_t errlen)
{
    gchar **v = g_strsplit(cfg->web_trusted_proxies, ",", -1);
    bool ok = true;

    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = cfg;
    ctx->key = key;
    ctx->keylen = keylen;
    ctx->db = db;
    for (size_t i = 0; ok && v[i] != NULL && cfg->web_trusted_proxies[0] != '\0'; i++) {
        if (ctx->nproxies == WEB_PROXIES_MAX)
            ok = (snprintf(err, errlen, "[web] trusted_proxies: more than %d", WEB_PROXIES_MAX), false);
        else if (!parse_proxy(g_strstrip(v[i]), &ctx->proxies[ctx->nproxies++]))
            ok = (snprintf(err, errlen, "[web] trusted_proxies: \"%s\" is no address", v[i]), false);
    }
    g_strfreev(v);
    ctx->public_origin = origin_of(cfg->web_public_url);
    return ok;
}

void
webpage_free(struct webpage_ctx *ctx)
{
    g_free(ctx->public_origin);
    ctx->public_origin = NULL;
}

/* ---- who is acting ---- */

static void
peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *a = NULL;

    if (sa != NULL && sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *) sa)->sin_addr;
    else if (sa != NULL && sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t) len) == NULL)
        snprintf(buf, len, "unknown");
}

/* An IPv4-mapped IPv6 peer (a listener on [::]) as the IPv4 it is. */
static const struct sockaddr *
peer_unmapped(const struct sockaddr *sa, struct sockaddr_in *v4)
{
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) sa;

    if (sa == NULL || sa->sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
        return sa;
    memset(v4, 0, sizeof(*v4));
    v4->sin_family = AF_INET;
    memcpy(&v4->sin_addr, &v6->sin6_addr.s6_addr[12], sizeof(v4->sin_addr));
    return (const struct sockaddr *) v4;
}

static bool
peer_trusted(const struct webpage_ctx *ctx, const struct sockaddr *peer)
{
    struct sockaddr_in v4;
    const struct sockaddr *sa = peer_unmapped(peer, &v4);

    for (size_t i = 0; sa != NULL && i < ctx->nproxies; i++) {
        const struct sockaddr_storage *p = &ctx->proxies[i];

        if (p->ss_family != sa->sa_family)
            continue;
        if (sa->sa_family == AF_INET
            && memcmp(&((const struct sockaddr_in *) p)->sin_addr,
                      &((const struct sockaddr_in *) sa)->sin_addr, sizeof(struct in_addr)) == 0)
            return true;
        if (sa->sa_family == AF_INET6
            && memcmp(&((const struct sockaddr_in6 *) p)->sin6_addr,
                      &((const struct sockaddr_in6 *) sa)->sin6_addr,
                      sizeof(struct in6_addr)) == 0)
            return true;
    }
    return false;
}

static bool
actor_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > WEB_ACTOR_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
            return false;
    return true;
}

/* The proxy's identity if trusted and sane, else link:CHANNEL. g_free. */
static char *
actor_of(const struct webpage_ctx *ctx, const struct webpage_request *r,
         const struct acktoken *t)
{
    const char *name = ctx->cfg->web_identity_header, *v;
    char peer[WEB_PEER_MAX];

    if (name[0] == '\0' || (v = r->header(r->header_arg, name)) == NULL)
        return g_strdup_printf("link:%s", t->channel);
    if (!peer_trusted(ctx, r->peer)) {
        peer_text(r->peer, peer, sizeof(peer));
        log_notice("%s: %s from %s, not a trusted proxy: ignored", t->tracking, name, peer);
        return g_strdup_printf("link:%s", t->channel);
    }
    if (strcmp(v, WEB_HEADER_TWICE) == 0) {
        log_warn("%s: %s given twice (the proxy must set it, never append it): ignored",
                 t->tracking, name);
        return g_strdup_printf("link:%s", t->channel);
    }
    if (!actor_ok(v)) {
        log_warn("%s: %s from the proxy is not 1..%d printable characters: ignored",
                 t->tracking, name, WEB_ACTOR_MAX);
        return g_strdup_printf("link:%s", t->channel);
    }
    return g_strdup(v);
}

/* ---- the token and the form ---- */

/* The token of /ack/TOKEN, or NULL. */
static const char *
token_of(const char *url)
{
    const char *t;

    if (strncmp(url, "/ack/", 5) != 0)
        return NULL;
    t = url + 5;
    if (*t == '\0' || strlen(t) >= ACKTOKEN_MAX || strchr(t, '/') != NULL)
        return NULL;
    return t;
}

static struct webpage_answer
token_refused(enum acktoken_status s)
{
    if (s == ACKTOKEN_EXPIRED)
        return answer(410, "Link expired",
                      "This link has expired. Use a newer page, or cprctl ack.", NULL);
    if (s == ACKTOKEN_BAD_KEY)
        return answer(503, "Unavailable", "cpr-web has no usable link key.", NULL);
    return answer(404, "Not a valid link", acktoken_status_text(s), NULL);
}

/* The value of confirm= in an x-www-form-urlencoded body, or NULL. */
static char *
form_confirm(const char *body, size_t len)
{
    gchar **pairs;
    char *v = NULL;

    if (memchr(body, '\0', len) != NULL)
        return NULL;
    pairs = g_strsplit(body, "&", 16);
    for (size_t i = 0; pairs[i] != NULL; i++)
        if (g_str_has_prefix(pairs[i], "confirm=")) {
            g_free(v);
            v = g_strdup(pairs[i] + 8);
        }
    g_strfreev(pairs);
    return v;
}

/* The answer that refuses a cross-site or page-less POST, or status 0. */
static struct webpage_answer
csrf_check(const struct webpage_ctx *ctx, const struct webpage_request *r, const char *token)
{
    struct webpage_answer ok = { 0, NULL };
    const char *site = r->header(r->header_arg, "Sec-Fetch-Site");
    const char *origin = r->header(r->header_arg, "Origin");
    const char *host = r->header(r->header_arg, "Host");
    char want[ACKTOKEN_FORM_MAX], *got;
    bool same;

    if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return answer(403, "Refused", "A request from another site cannot acknowledge.", NULL);
    if (origin != NULL && strcmp(origin, "null") != 0) {
        same = (ctx->public_origin != NULL && strcmp(origin, ctx->public_origin) == 0)
               || (host != NULL && (g_str_has_prefix(origin, "http://")
                                    || g_str_has_prefix(origin, "https://"))
                   && strcmp(strstr(origin, "://") + 3, host) == 0);
        if (!same)
            return answer(403, "Refused", "A request from another site cannot acknowledge.",
                          NULL);
    }
    got = form_confirm(r->body, r->body_len);
    if (!acktoken_form_nonce(ctx->key, ctx->keylen, token, want, sizeof(want)) || got == NULL
        || strlen(got) != strlen(want) || CRYPTO_memcmp(got, want, strlen(want)) != 0) {
        g_free(got);
        return answer(403, "Refused", "Open the link and press the button to acknowledge.",
                      NULL);
    }
    g_free(got);
    return ok;
}

/* ---- the case ---- */

static const char *
js(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long
jn(json_t *o, const char *k)
{
    return (long long) json_integer_value(json_object_get(o, k));
}

static void
case_page(GString *out, const struct webpage_ctx *ctx, json_t *o, const struct acktoken *t,
          const char *token)
{
    char nonce[ACKTOKEN_FORM_MAX] = "";
    struct ackpage_clocks k = { ctx->cfg->acknowledge_ms, ctx->cfg->report_ms };
    struct ackpage_case c = {
        js(o, "tracking"), js(o, "category"), js(o, "state"), js(o, "subject"),
        js(o, "received_at"), js(o, "ack_clock_from"), js(o, "acked_at"), js(o, "acked_by"),
        js(o, "reporter_done_at"), js(o, "subscriber_done_at"), js(o, "revocation_due_at"),
        js(o, "revoked_at"), jn(o, "received_ms"), jn(o, "ack_clock_from_ms"), jn(o, "now_ms"),
        t->clock
    };

    if (!acktoken_form_nonce(ctx->key, ctx->keylen, token, nonce, sizeof(nonce)))
        nonce[0] = '\0';
    ackpage_case(out, &c, &k, nonce);
}

static struct webpage_answer
db_refused(enum webdb_result res, const char *tracking)
{
    switch (res) {
    case WEBDB_NO_CASE:
        return answer(404, "No such case", "The case of this link does not exist.", NULL);
    case WEBDB_USED:
        return answer(409, "Link already used",
                      "This link has already been used: each link acknowledges once.", tracking);
    case WEBDB_NOTHING:
        return answer(409, "Nothing to acknowledge",
                      "The case is already acknowledged, or has no acknowledge clock running.",
                      tracking);
    case WEBDB_EXPIRED:
        return answer(410, "Link expired", "This link has expired.", tracking);
    case WEBDB_STALE:
        return answer(409, "Link for an earlier clock",
                      "This link was made before the case's acknowledge clock last started "
                      "(a later follow-up): use the newest page.", tracking);
    default:
        return answer(503, "Unavailable",
                      "The database cannot be reached; nothing was changed. Try again, or "
                      "use cprctl ack.", tracking);
    }
}

static struct webpage_answer
show(const struct webpage_ctx *ctx, const struct acktoken *t, const char *token)
{
    struct webpage_answer a = { 200, NULL };
    json_t *o = NULL;
    enum webdb_result res = webdb_case(ctx->db, t->tracking, &o);

    if (res != WEBDB_OK)
        return db_refused(res, NULL);
    a.body = g_string_sized_new(4096);
    case_page(a.body, ctx, o, t, token);
    json_decref(o);
    return a;
}

static struct webpage_answer
act(const struct webpage_ctx *ctx, const struct webpage_request *r, const struct acktoken *t,
    const char *token)
{
    struct webpage_answer a = csrf_check(ctx, r, token);
    char peer[WEB_PEER_MAX], *actor, *text;
    enum webdb_result res;
    json_t *o = NULL;

    peer_text(r->peer, peer, sizeof(peer));
    if (a.status != 0) {
        log_notice("%s: POST from %s refused (%u)", t->tracking, peer, a.status);
        return a;
    }
    actor = actor_of(ctx, r, t);
    res = webdb_ack(ctx->db, t, actor, &o);
    if (res != WEBDB_OK) {
        log_notice("%s: link from %s (actor %s) not used: %d", t->tracking, peer, actor, res);
        g_free(actor);
        return db_refused(res, t->tracking);
    }
    log_info("%s acknowledged by link (channel %s), actor %s, from %s", t->tracking,
             t->channel, actor, peer);
    text = g_strdup_printf("%s is acknowledged by %s at %s. The escalation stops; the report "
                           "and revocation clocks run on.", t->tracking, actor,
                           js(o, "acked_at") != NULL ? js(o, "acked_at") : "now");
    a = answer(200, "Acknowledged", text, t->tracking);
    g_free(text);
    g_free(actor);
    json_decref(o);
    return a;
}

struct webpage_answer
webpage_handle(const struct webpage_ctx *ctx, const struct webpage_request *r)
{
    const char *token = token_of(r->url);
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    struct acktoken t;
    enum acktoken_status s;

    if (token == NULL)
        return answer(404, "Not found", "Nothing here: links look like /ack/TOKEN.", NULL);
    if (!get && strcmp(r->method, "POST") != 0)
        return answer(405, "Method not allowed", "GET shows a case; only POST acts.", NULL);
    if (r->body_too_big)
        return answer(413, "Too large", "The request body is too large.", NULL);
    if ((s = acktoken_verify(token, ctx->key, ctx->keylen, now_wall_ms(), &t)) != ACKTOKEN_OK)
        return token_refused(s);
    return get ? show(ctx, &t, token) : act(ctx, r, &t, token);
}

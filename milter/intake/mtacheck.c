/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   mtacheck - does Postfix accept mail for the CPR addresses' domains?
 * SUMMARY
 *   mtacheck_domains(cfg);   at start and with cpr-milter -n
 * DESCRIPTION
 *   Runs "postconf [-c DIR] -xh mydestination virtual_mailbox_domains
 *   virtual_alias_domains relay_domains" (expanded values, no shell) and
 *   reads each list: a domain, ".domain" for its subdomains, "/file" for
 *   a file of such entries, and "type:table", looked up with "postmap
 *   [-c DIR] -q DOMAIN type:table". A CPR domain none of them names gets a
 *   warning: a typo there means every report passes unrecorded. The check
 *   only warns; Sendmail sites, or sites that set
 *   [milter] postfix_config_directory = no, are not checked.
 *   An smtpd milter sees each recipient before virtual_alias_maps rewrites
 *   it, so every alias of the CPR mailbox must itself be listed in
 *   [milter] addresses: this check cannot see that.
 * DIAGNOSTICS
 *   Warnings through log_warn; "not checked" lines say why (no postconf,
 *   postconf failed).
 */
#include "mtacheck.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include <glib.h>

#include "log.h"

/* Blanks and commas separate the entries of a Postfix list. */
#define MTACHECK_SEPARATORS " \t\r\n,"

/* Run argv (no shell); its stdout in *out (g_free). Returns the exit
 * status, or -1 when it could not run; *err (g_free) is then why, or the
 * first line of what it printed on stderr when it exited non-zero. */
static int
mtacheck_run(char **argv, char **out, char **err)
{
    GError *gerr = NULL;
    char *stderr_text = NULL;
    int status = 0;

    *out = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out,
                      &stderr_text, &status, &gerr)) {
        *err = g_strdup(gerr->message);
        g_error_free(gerr);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        if (WIFEXITED(status)) {
            *err = g_strndup(stderr_text, strcspn(stderr_text, "\r\n"));
            g_free(stderr_text);
            return WEXITSTATUS(status);
        }
        g_free(stderr_text);
        *err = g_strdup("killed by a signal");
        g_free(*out);
        *out = NULL;
        return -1;
    }
    g_free(stderr_text);
    return 0;
}

static const char *
mtacheck_dir(const struct cpr_config *cfg)
{
    return *cfg->postfix_config_directory ? cfg->postfix_config_directory : NULL;
}

struct mtacheck_ctx {
    const char *dir;
};

/* postmap -q: 1 found, 0 not found, -1 cannot tell. */
static int
mtacheck_postmap(const char *table, const char *domain, void *arg)
{
    const struct mtacheck_ctx *cx = arg;
    char *argv[7], *out = NULL, *err = NULL;
    int n = 0, rc;

    argv[n++] = (char *)"postmap";
    if (cx->dir != NULL) {
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)cx->dir;
    }
    argv[n++] = (char *)"-q";
    argv[n++] = (char *)domain;
    argv[n++] = (char *)table;
    argv[n] = NULL;
    rc = mtacheck_run(argv, &out, &err);
    g_free(out);
    g_free(err);
    return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

static bool
mtacheck_entry_has(const char *tok, const char *domain, mtacheck_lookup_fn lookup,
                   void *arg, int depth);

/* "/file": a file of entries, read one level deep. */
static bool
mtacheck_file_has(const char *path, const char *domain, mtacheck_lookup_fn lookup,
                  void *arg, int depth)
{
    char *text = NULL;
    gsize len = 0;
    bool found;

    if (depth > 0 || !g_file_get_contents(path, &text, &len, NULL))
        return false;
    found = len <= MTACHECK_OUTPUT_MAX && mtacheck_list_has(text, domain, lookup, arg) > 0;
    g_free(text);
    return found;
}

static bool
mtacheck_entry_has(const char *tok, const char *domain, mtacheck_lookup_fn lookup,
                   void *arg, int depth)
{
    size_t tl = strlen(tok), dl = strlen(domain);

    if (tok[0] == '/')
        return mtacheck_file_has(tok, domain, lookup, arg, depth);
    if (strchr(tok, ':') != NULL && tok[0] != '[')
        return lookup != NULL && lookup(tok, domain, arg) != 0;   /* unsure: no warning */
    if (tok[0] == '.')
        return dl > tl && strcasecmp(domain + dl - tl, tok) == 0;
    return strcasecmp(tok, domain) == 0;
}

int
mtacheck_list_has(const char *list, const char *domain, mtacheck_lookup_fn lookup, void *arg)
{
    char *copy = g_strdup(list), *save = NULL;
    int found = 0;

    for (char *tok = strtok_r(copy, MTACHECK_SEPARATORS, &save); tok != NULL && !found;
         tok = strtok_r(NULL, MTACHECK_SEPARATORS, &save))
        found = mtacheck_entry_has(tok, domain, lookup, arg, 0);
    g_free(copy);
    return found;
}

/* The expanded values of MTACHECK_PARAMS, one line each; NULL on failure. */
static char *
mtacheck_postconf(const char *dir)
{
    char *argv[] = { (char *)"postconf", NULL, NULL, (char *)"-xh", MTACHECK_PARAMS, NULL };
    char *out = NULL, *err = NULL;
    int rc;

    if (dir != NULL) {
        argv[1] = (char *)"-c";
        argv[2] = (char *)dir;
    } else {
        memmove(argv + 1, argv + 3, sizeof(argv) - 3 * sizeof(argv[0]));
    }
    if ((rc = mtacheck_run(argv, &out, &err)) != 0) {
        log_warn("[milter] addresses not checked against Postfix: %s",
                 err && *err ? err : "postconf failed");
        g_free(out);
        g_free(err);
        return NULL;
    }
    if (strlen(out) > MTACHECK_OUTPUT_MAX) {
        log_warn("[milter] addresses not checked against Postfix: postconf printed too much");
        g_free(out);
        return NULL;
    }
    return out;
}

static bool
mtacheck_accepts(const char *domains, const char *domain, struct mtacheck_ctx *cx)
{
    return mtacheck_list_has(domains, domain, mtacheck_postmap, cx) > 0;
}

int
mtacheck_domains(const struct cpr_config *cfg)
{
    struct mtacheck_ctx cx = { mtacheck_dir(cfg) };
    char *domains;
    int warned = 0;

    if (strcmp(cfg->postfix_config_directory, "no") == 0)
        return 0;
    if ((domains = mtacheck_postconf(cx.dir)) == NULL)
        return 0;
    for (char *const *a = cfg->addresses; a != NULL && *a != NULL; a++) {
        const char *at = strrchr(*a, '@');

        if (at == NULL || mtacheck_accepts(domains, at + 1, &cx))
            continue;
        log_warn("[milter] addresses: %s: Postfix%s%s accepts no mail for %s (not in "
                 "mydestination, virtual_mailbox_domains, virtual_alias_domains or "
                 "relay_domains): reports to it would pass unrecorded; a typo?",
                 *a, cx.dir ? " in " : "", cx.dir ? cx.dir : "", at + 1);
        warned++;
    }
    g_free(domains);
    return warned;
}

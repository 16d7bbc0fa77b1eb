/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_args - one parser and one usage text for every command row
 * SUMMARY
 *   rc = cprctl_parse_cmd(cmd, argc, argv, &opts);   argv[0] is the command
 *   cprctl_usage(stdout, cprctl_cmds, true);
 * DESCRIPTION
 *   A command is a row of cprctl_cmds[] (cprctl.c): its positional words,
 *   its options (each with the struct cprctl_opts field it fills, in the
 *   offsetof style of config_keys[]), its help line and a check for rules
 *   between options. This file turns a row into getopt_long options,
 *   fills the fields, checks what is required and what excludes what, and
 *   prints the synopsis the same way cprctl(1) writes it
 *   (tests/cprctl_usage.test compares the two).
 *
 *   Positional words: TRACKING (any spelling tracking_parse takes, stored
 *   canonical), [TRACKING] (optional), ADDRESS, GROUP (a page group's
 *   number), CHANNEL, CERT (a file), and lower-case literals such as "add".
 * DIAGNOSTICS
 *   Usage errors say what is wrong, print the synopsis and return
 *   CPRCTL_EX_USAGE (64).
 */
#include "cprctl.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "text.h"
#include "tracking.h"

#define FIELD_STR(o, off)  ((const char **) (void *) ((char *) (o) + (off)))
#define FIELD_BOOL(o, off) ((bool *) (void *) ((char *) (o) + (off)))
#define OPT_VAL_BASE 1000

/* ---- synopsis ---- */

static void
synopsis_opt(GString *s, const struct cprctl_optdef *d)
{
    g_string_append_printf(s, "--%s", d->name);
    if (d->arg != NULL)
        g_string_append_printf(s, " %s", d->arg);
}

/* The options of one group (group > 0) as "--a X|--b Y", or one option. */
static void
synopsis_opts(GString *s, const struct cprctl_cmd *cmd)
{
    for (size_t i = 0; i < CPRCTL_MAX_OPTS && cmd->opts[i].name; i++) {
        const struct cprctl_optdef *d = &cmd->opts[i];
        bool first = true;

        if (d->group > 0 && i > 0 && cmd->opts[i - 1].group == d->group)
            continue;   /* printed with the first of its group */
        g_string_append(s, d->required ? " " : " [");
        for (size_t k = i; k < CPRCTL_MAX_OPTS && cmd->opts[k].name; k++) {
            if (k > i && (d->group == 0 || cmd->opts[k].group != d->group))
                break;
            if (!first)
                g_string_append_c(s, '|');
            synopsis_opt(s, &cmd->opts[k]);
            first = false;
        }
        if (!d->required)
            g_string_append_c(s, ']');
    }
}

char *
cprctl_synopsis(const struct cprctl_cmd *cmd)
{
    GString *s = g_string_new("cprctl [-c FILE] [--conninfo STR] ");

    g_string_append(s, cmd->name);
    if (*cmd->args)
        g_string_append_printf(s, " %s", cmd->args);
    synopsis_opts(s, cmd);
    return g_string_free(s, FALSE);
}

void
cprctl_usage(FILE *f, const struct cprctl_cmd *cmds, bool full)
{
    const struct cprctl_cmd *c;
    char *line;

    for (c = cmds; c->name; c++) {
        line = cprctl_synopsis(c);
        fprintf(f, "%s %s\n", c == cmds ? "usage:" : "      ", line);
        g_free(line);
    }
    fputs("       cprctl -V | --version\n       cprctl -h | --help\n", f);
    if (!full)
        return;
    fputs("\n  -c FILE          config file (default " CPRCTL_CONFIG ")\n"
          "  --conninfo STR   libpq connection string; overrides the config\n", f);
    for (c = cmds; c->name; c++) {
        gchar **lines = g_strsplit(c->help, "\n", -1);

        for (size_t i = 0; lines[i]; i++)
            fprintf(f, "  %-16s %s\n", i == 0 ? c->name : "", lines[i]);
        g_strfreev(lines);
    }
    fputs("  --by NAME        who acts (default: the Unix user)\n"
          "  --json           print JSON instead of text\n", f);
}

/* ---- usage errors ---- */

/* The message, then the usage, on stderr; returns EX_USAGE. */
int
cprctl_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cprctl_vsay(fmt, ap);
    va_end(ap);
    cprctl_usage(stderr, cprctl_cmds, false);
    return CPRCTL_EX_USAGE;
}

/* ---- parsing ---- */

static int
parse_options(const struct cprctl_cmd *cmd, int argc, char **argv, struct cprctl_opts *o,
              bool *given)
{
    struct option longopts[CPRCTL_MAX_OPTS + 1];
    size_t n = 0;
    int opt, idx;

    memset(longopts, 0, sizeof(longopts));
    for (; n < CPRCTL_MAX_OPTS && cmd->opts[n].name; n++)
        longopts[n] = (struct option) { cmd->opts[n].name,
                                        cmd->opts[n].arg ? required_argument : no_argument,
                                        NULL, OPT_VAL_BASE + (int) n };
    optind = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        const struct cprctl_optdef *d;

        if (opt < OPT_VAL_BASE || opt >= OPT_VAL_BASE + (int) n)
            return cprctl_usage_error("%s: unknown option or missing argument: %s", argv[0],
                                      argv[optind - 1 < argc ? optind - 1 : argc - 1]);
        d = &cmd->opts[opt - OPT_VAL_BASE];
        if (given[opt - OPT_VAL_BASE])
            return cprctl_usage_error("%s: --%s given twice", argv[0], d->name);
        given[opt - OPT_VAL_BASE] = true;
        if (d->arg == NULL)
            *FIELD_BOOL(o, d->off) = true;
        else
            *FIELD_STR(o, d->off) = optarg;
        if (d->names_field)
            o->field = d->name;
    }
    return CPRCTL_EX_OK;
}

/* Required options, and at most (or, if required, exactly) one per group. */
static int
check_required(const struct cprctl_cmd *cmd, const bool *given)
{
    for (size_t i = 0; i < CPRCTL_MAX_OPTS && cmd->opts[i].name; i++) {
        const struct cprctl_optdef *d = &cmd->opts[i];
        size_t in_group = 0;
        char *want;
        GString *s;

        if (d->group == 0) {
            if (d->required && !given[i])
                return cprctl_usage_error("%s: --%s%s%s is required", cmd->name, d->name,
                                          d->arg ? " " : "", d->arg ? d->arg : "");
            continue;
        }
        for (size_t k = 0; k < CPRCTL_MAX_OPTS && cmd->opts[k].name; k++)
            in_group += cmd->opts[k].group == d->group && given[k];
        if (in_group <= 1 && (in_group == 1 || !d->required))
            continue;
        s = g_string_new(NULL);
        for (size_t k = 0; k < CPRCTL_MAX_OPTS && cmd->opts[k].name; k++)
            if (cmd->opts[k].group == d->group)
                g_string_append_printf(s, "%s--%s", s->len ? ", " : "", cmd->opts[k].name);
        want = g_string_free(s, FALSE);
        cprctl_usage_error("%s: %s of %s", cmd->name, in_group > 1 ? "only one" : "one is required", want);
        g_free(want);
        return CPRCTL_EX_USAGE;
    }
    return CPRCTL_EX_OK;
}

/* Accepts any spelling tracking_parse() does; queries the canonical one. */
int
cprctl_tracking_arg(const char *cmd, const char *arg, struct cprctl_opts *o)
{
    int year;
    long long seq;
    char *safe;

    if (tracking_parse(arg, &year, &seq)
        && tracking_format(o->tracking, sizeof(o->tracking), year, seq)) {
        o->has_tracking = true;
        return CPRCTL_EX_OK;
    }
    safe = text_sanitise(arg);
    cprctl_usage_error("%s: not a tracking number (CPR-YYYY-NNNNNN): %s", cmd, safe);
    free(safe);
    return CPRCTL_EX_USAGE;
}

/* One positional word against its spec word. */
static int
parse_word(const struct cprctl_cmd *cmd, const char *spec, const char *arg,
           struct cprctl_opts *o)
{
    if (strcmp(spec, "TRACKING") == 0)
        return cprctl_tracking_arg(cmd->name, arg, o);
    if (strcmp(spec, "ADDRESS") == 0)
        o->address = arg;
    else if (strcmp(spec, "CERT") == 0)
        o->cert_file = arg;
    else if (strcmp(spec, "CHANNEL") == 0)
        o->channel = arg;
    else if (strcmp(spec, "GROUP") == 0) {
        if (arg[0] == '\0' || strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 18)
            return cprctl_usage_error("%s: GROUP is the page group's number", cmd->name);
        o->group = arg;
    } else if (strcmp(spec, arg) != 0)
        return cprctl_usage_error("%s: %s is required", cmd->name, spec);
    return CPRCTL_EX_OK;
}

static int
parse_words(const struct cprctl_cmd *cmd, int argc, char **argv, struct cprctl_opts *o)
{
    gchar **spec = g_strsplit(cmd->args, " ", -1);
    int i = optind, rc = CPRCTL_EX_OK;

    for (size_t k = 0; spec[k] && *spec[k] && rc == CPRCTL_EX_OK; k++) {
        bool optional = spec[k][0] == '[';
        char *word = optional ? g_strndup(spec[k] + 1, strlen(spec[k]) - 2) : g_strdup(spec[k]);

        if (i < argc)
            rc = parse_word(cmd, word, argv[i++], o);
        else if (!optional)
            rc = cprctl_usage_error("%s: %s is required", cmd->name, word);
        g_free(word);
    }
    if (rc == CPRCTL_EX_OK && i < argc)
        rc = cprctl_usage_error("%s: unexpected argument %s", cmd->name, argv[i]);
    g_strfreev(spec);
    return rc;
}

int
cprctl_parse_cmd(const struct cprctl_cmd *cmd, int argc, char **argv, struct cprctl_opts *o)
{
    bool given[CPRCTL_MAX_OPTS] = { false };
    int rc = parse_options(cmd, argc, argv, o, given);

    if (rc == CPRCTL_EX_OK)
        rc = parse_words(cmd, argc, argv, o);
    if (rc == CPRCTL_EX_OK)
        rc = check_required(cmd, given);
    if (rc == CPRCTL_EX_OK && cmd->check)
        rc = cmd->check(cmd->name, o);
    return rc;
}

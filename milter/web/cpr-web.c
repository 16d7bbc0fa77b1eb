/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cpr-web - the one-click acknowledge links of pages, over HTTP
 * SUMMARY
 *   cpr-web [-f] [-n] [-c FILE] [-V] [-h]
 *   cpr-web [-c FILE] --make-link TRACKING [--channel NAME] [--clock CLOCK] [--at MS]
 * DESCRIPTION
 *   Start-up and shut-down only: read the config ([web]) and the link
 *   key, bind [web] listen, daemonize unless -f, drop to [web] user,
 *   serve (webserve.c) until SIGTERM or SIGINT. --make-link prints the
 *   link a page would carry (acklink.c), made at --at (ms since the
 *   epoch, default now): for a page sent by hand, and for the tests.
 * DIAGNOSTICS
 *   Exit 0 on SIGTERM/SIGINT, 78 for a bad config or key, 64 for bad
 *   arguments, 1 when the listener cannot start.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "acklink.h"
#include "acktoken.h"
#include "config.h"
#include "log.h"
#include "now.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "webdb.h"
#include "webserve.h"

#define DEFAULT_CONFIG CPR_SYSCONFDIR "/cpr-milter.conf"

struct options {
    const char *config;
    bool foreground, check_only;
    const char *make_link, *channel, *clock;
    long long at_ms;
};

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: cpr-web [-f] [-n] [-c FILE] [-V] [-h]\n"
                "       cpr-web [-c FILE] --make-link TRACKING [--channel NAME] "
                "[--clock CLOCK] [--at MS]\n"
                "  -c FILE   config file (default %s)\n"
                "  -f        stay in the foreground and log to stderr\n"
                "  -n        check the config and the link key, and exit\n"
                "  --make-link TRACKING  print the acknowledge link a page would carry\n"
                "  --channel NAME        the paged channel (actor link:NAME; default manual)\n"
                "  --clock CLOCK         acknowledge (default), report-reporter,\n"
                "                        report-subscriber or revocation\n"
                "  --at MS               make it as at this time, ms since the epoch\n"
                "  -V, --version  print the version and exit\n"
                "  -h, --help     print this help and exit\n", DEFAULT_CONFIG);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
        { "make-link", required_argument, NULL, 'L' },
        { "channel", required_argument, NULL, 'C' }, { "clock", required_argument, NULL, 'K' },
        { "at", required_argument, NULL, 'A' }, { NULL, 0, NULL, 0 } };
    char *end;
    int ch;

    o->config = DEFAULT_CONFIG;
    o->channel = "manual";
    o->clock = "acknowledge";
    o->at_ms = -1;
    while ((ch = getopt_long(argc, argv, "c:fnVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'f': o->foreground = true; break;
        case 'n': o->check_only = true; break;
        case 'L': o->make_link = optarg; break;
        case 'C': o->channel = optarg; break;
        case 'K': o->clock = optarg; break;
        case 'A':
            o->at_ms = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o->at_ms < 0) {
                fprintf(stderr, "cpr-web: --at: not a number of ms\n");
                exit(64);
            }
            break;
        case 'V': printf("cpr-web %s\n", PACKAGE_VERSION); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(64);
        }
    }
    if (optind != argc) {
        usage(stderr);
        exit(64);
    }
}

static int
make_link(const struct cpr_config *cfg, const struct options *o)
{
    char *url = acklink_for(cfg, o->make_link, o->clock, o->channel,
                            o->at_ms >= 0 ? o->at_ms : now_wall_ms());

    if (cfg->web_public_url[0] == '\0') {
        fprintf(stderr, "cpr-web: [web] public_url is empty: no links are made\n");
        return CPR_EX_CONFIG;
    }
    if (url == NULL) {
        fprintf(stderr, "cpr-web: no link for %s (see the warning above)\n", o->make_link);
        return 1;
    }
    printf("%s\n", url);
    free(url);
    return 0;
}

/* Blocks SIGTERM and SIGINT (so every thread does too) and waits for one. */
static void
wait_for_stop(const sigset_t *set)
{
    int sig = 0;

    while (sigwait(set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    log_info("stopping on signal %d", sig);
}

static int
serve(const struct cpr_config *cfg, const char *key, const struct privdrop *priv,
      bool foreground)
{
    struct webserve_settings s = { cfg, (const unsigned char *) key, strlen(key), NULL };
    struct webdb db;
    struct webserve *w;
    char err[512];
    sigset_t set;
    int fd;

    if ((fd = webserve_socket(cfg->web_listen, err, sizeof(err))) < 0)
        log_fatal(1, "%s", err);
    if (!foreground && daemon(0, 0) != 0)
        log_fatal(1, "daemon: %s", strerror(errno));
    if (!privdrop_become(priv, err, sizeof(err)))
        log_fatal(1, "%s", err);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    webdb_init(&db, config_conninfo(cfg, PROGRAM_WEB), cfg->web_timeout_ms);
    s.db = &db;
    if ((w = webserve_start(&s, fd, err, sizeof(err))) == NULL)
        log_fatal(1, "%s", err);
    log_info("cpr-web %s listening on http://%s/ack/", PACKAGE_VERSION, cfg->web_listen);
    sdnotify_ready("listening");
    wait_for_stop(&set);
    webserve_stop(w);
    webdb_free(&db);
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o = { 0 };
    struct cpr_config *cfg;
    struct privdrop priv;
    char *err = NULL, *key, perr[512];
    int rc;

    parse_options(argc, argv, &o);
    log_init("cpr-web", o.foreground || o.check_only || o.make_link != NULL);
    if ((cfg = config_load_checked(o.config, config_check_web, &err)) == NULL) {
        log_error("%s", err);
        g_free(err);
        return CPR_EX_CONFIG;
    }
    log_set_facility(cfg->log_facility);
    if (o.make_link != NULL) {
        rc = make_link(cfg, &o);
        config_free(cfg);
        return rc;
    }
    if ((key = config_read_private_secret(cfg->web_secret_file, ACKTOKEN_KEY_MIN, &err)) == NULL)
        log_fatal(CPR_EX_CONFIG, "[web] secret_file: %s", err);
    if (!privdrop_check("[web] user", cfg->web_user, &priv, perr, sizeof(perr)))
        log_fatal(CPR_EX_CONFIG, "%s", perr);
    if (o.check_only) {
        printf("cpr-web: %s: config OK\n", o.config);
        rc = 0;
    } else {
        rc = serve(cfg, key, &priv, o.foreground);
    }
    memset(key, 0, strlen(key));
    g_free(key);
    config_free(cfg);
    return rc;
}

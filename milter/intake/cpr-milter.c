/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cpr-milter - stamp Certificate Problem Reports into PostgreSQL before 250
 * SUMMARY
 *   cpr-milter [-f] [-n] [-c FILE] [-V] [-h]
 * DESCRIPTION
 *   Start-up and signals only; the callbacks live in filter.c. Order
 *   matters: load the config, open the milter socket, daemonize, drop
 *   privileges, then start threads (fork would lose them). SIGUSR1 reloads
 *   the config from a thread of our own (libmilter owns SIGHUP, SIGINT and
 *   SIGTERM; SIGTERM makes smfi_main return and we shut down cleanly).
 *   Database and socket settings need a restart; a reload says so.
 * DIAGNOSTICS
 *   Exit 0 on a clean stop or a good -n check, 78 (EX_CONFIG) for a bad
 *   config, 1 for other start-up failures.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <libmilter/mfapi.h>

#include "autoreply.h"
#include "config.h"
#include "db.h"
#include "filter.h"
#include "heartbeat.h"
#include "intakemetrics.h"
#include "log.h"
#include "mtacheck.h"
#include "outbox.h"
#include "privdrop.h"
#include "selfcheck.h"

#define DEFAULT_CONFIG CPR_SYSCONFDIR "/cpr-milter.conf"

struct options {
    const char *config;
    bool foreground;
    bool check_only;
};

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: cpr-milter [-f] [-n] [-c FILE] [-V] [-h]\n"
                "  -c FILE  config file (default %s)\n"
                "  -f       stay in the foreground and log to stderr\n"
                "  -n       check the config (and that [milter] user can be\n"
                "           taken) and exit\n"
                "  -V, --version  print the version and exit\n"
                "  -h, --help     print this help and exit\n", DEFAULT_CONFIG);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 } };
    int ch;

    o->config = DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, "c:fnVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'f': o->foreground = true; break;
        case 'n': o->check_only = true; break;
        case 'V': printf("cpr-milter %s\n", PACKAGE_VERSION); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(64);
        }
    }
    if (optind != argc) {
        usage(stderr);
        exit(64);
    }
}

static struct cpr_config *
load_config(const char *path)
{
    char *err = NULL;
    struct cpr_config *cfg = config_load_checked(path, config_check_milter, &err);

    if (cfg != NULL && !config_read_probe_secret(cfg, &err)) {
        config_free(cfg);
        cfg = NULL;
    }
    if (cfg == NULL)
        log_error("%s", err ? err : "cannot load config");
    g_free(err);
    return cfg;
}

static const char *
socket_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    return NULL;
}

/* Before the socket is opened, and for -n too: -n passing means the start
 * will not fail here. */
static void
check_user(const struct cpr_config *cfg, struct privdrop *p)
{
    char err[512];

    if (!privdrop_check("[milter] user", cfg->milter_user, p, err, sizeof(err)))
        log_fatal(CPR_EX_CONFIG, "%s", err);
}

/* The socket belongs to the run-time user, so the MTA's group can use it. */
static void
drop_privileges(const struct privdrop *p, const char *socket_spec)
{
    const char *path = socket_path(socket_spec);
    char err[512];

    if (p->action != PRIVDROP_DROP)
        return;
    if (path && chown(path, p->uid, p->gid) != 0)
        log_warn("chown %s: %s", path, strerror(errno));
    if (!privdrop_become(p, err, sizeof(err)))
        log_fatal(1, "%s", err);
}

static void
warn_restart_only(const struct cpr_config *old, const struct cpr_config *new)
{
    if (strcmp(old->milter_socket, new->milter_socket) != 0
        || strcmp(config_conninfo(old, PROGRAM_MILTER), config_conninfo(new, PROGRAM_MILTER)) != 0
        || old->db_pool_size != new->db_pool_size
        || old->db_timeout_ms != new->db_timeout_ms
        || strcmp(old->milter_user, new->milter_user) != 0
        || old->milter_heartbeat_ms != new->milter_heartbeat_ms
        || strcmp(old->milter_metrics_listen, new->milter_metrics_listen) != 0
        || strcmp(old->log_facility, new->log_facility) != 0)
        log_warn("reload: socket, user, heartbeat, metrics, log facility and database "
                 "settings take effect only after a restart");
}

struct reloader {
    const char *path;
    struct cpr_config *started_with;   /* read-only copy of the start-up settings */
    sigset_t set;
};

static void *
reload_loop(void *arg)
{
    struct reloader *r = arg;
    int sig;

    for (;;) {
        struct cpr_config *cfg;

        if (sigwait(&r->set, &sig) != 0)
            continue;
        if ((cfg = load_config(r->path)) == NULL) {
            log_error("reload failed; keeping the running config");
            continue;
        }
        warn_restart_only(r->started_with, cfg);
        filter_reload(cfg);
        log_info("config reloaded from %s", r->path);
    }
    return NULL;
}

/* Before any thread starts: libmilter's own signal thread takes HUP, INT
 * and TERM, ours takes USR1; every other thread must block them all, or a
 * SIGTERM landing there kills the process instead of stopping smfi_main(). */
static void
block_signals(struct reloader *r)
{
    sigset_t milter_set;

    sigemptyset(&milter_set);
    sigaddset(&milter_set, SIGHUP);
    sigaddset(&milter_set, SIGINT);
    sigaddset(&milter_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &milter_set, NULL);
    sigemptyset(&r->set);
    sigaddset(&r->set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &r->set, NULL);
}

static void
start_reloader(struct reloader *r)
{
    pthread_t tid;

    if (pthread_create(&tid, NULL, reload_loop, r) != 0)
        log_fatal(1, "cannot start the reload thread");
    pthread_detach(tid);
}

/* The MTA connects as its own user: a unix socket is group-writable, so
 * adding that user to our group is enough (0660, never world-writable). */
static void
socket_permit_group(const char *spec)
{
    const char *path = socket_path(spec);

    if (path != NULL && chmod(path, 0660) != 0)
        log_warn("chmod %s: %s", path, strerror(errno));
}

/* libmilter writes each reply of end of message (our headers, then the
 * verdict) separately; with Nagle on, every write after the first waits for
 * the MTA's delayed ACK, about 40 ms a message. libmilter has no hook for
 * its sockets, but on Linux accepted sockets inherit TCP_NODELAY from the
 * listener, which is the only listening socket we have at this point. */
static void
socket_nodelay(void)
{
    int one = 1, max = (int)sysconf(_SC_OPEN_MAX);

    for (int fd = 3; fd < max && fd < 4096; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss), olen = sizeof(int);
        int listening = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) != 0
            || !listening || getsockname(fd, (struct sockaddr *)&ss, &len) != 0
            || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            log_warn("TCP_NODELAY on the milter socket: %s", strerror(errno));
    }
}

/* Refuse a unix socket that someone other than us and the MTA could
 * replace or reach. */
static void
socket_check_unix(const char *path)
{
    char *dir = g_path_get_dirname(path);
    struct stat st;

    if (stat(dir, &st) != 0)
        log_fatal(CPR_EX_CONFIG, "milter socket %s: directory %s: %s", path, dir, strerror(errno));
    if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
        log_fatal(CPR_EX_CONFIG, "milter socket %s: its directory %s is world-writable: "
                  "anyone could replace the socket; use a directory only cpr-milter and "
                  "the MTA's group can write (for example 0750)", path, dir);
    if (stat(path, &st) != 0)
        log_fatal(CPR_EX_CONFIG, "milter socket %s: %s", path, strerror(errno));
    if (st.st_mode & (S_IWOTH | S_IROTH))
        log_fatal(CPR_EX_CONFIG, "milter socket %s: mode %04o lets any local user talk "
                  "to the milter and fake staff replies; it must be 0660 or stricter",
                  path, (unsigned)(st.st_mode & 07777));
    g_free(dir);
}

/* Whether the MTA's macros can be trusted on this socket (filter.c). */
static bool
socket_trusted(const struct cpr_config *cfg)
{
    const char *path = socket_path(cfg->milter_socket);

    if (path != NULL) {
        socket_check_unix(path);
        return true;
    }
    if (!cfg->trust_inet_macros && cfg->submission_daemons[0] != NULL)
        log_warn("milter socket %s is inet: staff replies are not recorded from it (any "
                 "local user could fake one); use a unix socket, or set [milter] "
                 "trust_inet_macros = yes", cfg->milter_socket);
    return cfg->trust_inet_macros;
}

/* libmilter says only that it failed: name the path and the reason first
 * (a missing directory; a read-only one, as under ProtectSystem=strict).
 * -n checks only that the directory is there: it may run as another user
 * or outside the unit's sandbox. */
static void
socket_check_dir(const char *path, bool writable)
{
    char *dir = g_path_get_dirname(path);
    struct stat st;

    if (stat(dir, &st) != 0 && errno == ENOENT)
        log_fatal(CPR_EX_CONFIG, "cannot open milter socket %s: directory %s does not exist",
                  path, dir);
    if (stat(dir, &st) != 0)
        log_fatal(CPR_EX_CONFIG, "cannot open milter socket %s: directory %s: %s", path, dir,
                  strerror(errno));
    if (!S_ISDIR(st.st_mode))
        log_fatal(CPR_EX_CONFIG, "cannot open milter socket %s: %s is not a directory",
                  path, dir);
    if (writable && access(dir, W_OK | X_OK) != 0)
        log_fatal(CPR_EX_CONFIG, "cannot open milter socket %s: cannot create it in %s: %s",
                  path, dir, strerror(errno));
    g_free(dir);
}

static void
open_socket(const struct cpr_config *cfg)
{
    const char *path = socket_path(cfg->milter_socket);

    if (smfi_setconn(cfg->milter_socket) != MI_SUCCESS
        || smfi_register(filter_desc) != MI_SUCCESS)
        log_fatal(1, "cannot register the milter on %s", cfg->milter_socket);
    if (path != NULL)
        socket_check_dir(path, true);
    errno = 0;
    if (smfi_opensocket(true) != MI_SUCCESS)
        log_fatal(1, "cannot open milter socket %s: %s", cfg->milter_socket,
                  errno != 0 ? strerror(errno) : "libmilter gave no reason (see syslog)");
    socket_permit_group(cfg->milter_socket);
    socket_nodelay();
    filter_trust_macros(socket_trusted(cfg));
}

/* The reply template: the configured file, or the built-in default. */
static char *
load_template(const struct cpr_config *cfg)
{
    GError *gerr = NULL;
    char *text = NULL;
    gsize len = 0;

    if (*cfg->autoreply_template == '\0')
        return g_strdup(autoreply_default_template);
    if (!g_file_get_contents(cfg->autoreply_template, &text, &len, &gerr))
        log_fatal(CPR_EX_CONFIG, "[autoreply] template: %s", gerr->message);
    if (len > AUTOREPLY_TEMPLATE_MAX || strlen(text) != len)
        log_fatal(CPR_EX_CONFIG, "[autoreply] template: %s: larger than %d bytes or binary",
                  cfg->autoreply_template, AUTOREPLY_TEMPLATE_MAX);
    return text;
}

/* The sender thread; NULL when auto-replies are off. SMTP and template
 * settings are read here, once: changing them needs a restart. */
static struct outbox *
start_outbox(const struct cpr_config *cfg, const char *template_text)
{
    struct outbox_settings s = {
        .conninfo = config_conninfo(cfg, PROGRAM_MILTER), .smtp_url = cfg->autoreply_smtp_url,
        .from = cfg->autoreply_from, .template_text = template_text,
        .max_attempts = cfg->autoreply_max_attempts,
        .retry_base_ms = cfg->autoreply_retry_base_ms,
        .retry_cap_ms = cfg->autoreply_retry_cap_ms, .lease_ms = cfg->autoreply_lease_ms,
        .db_timeout_ms = cfg->db_timeout_ms, .report_ms = cfg->report_ms,
    };
    struct outbox *ob;

    if (!cfg->autoreply_enabled)
        return NULL;
    if ((ob = outbox_start(&s)) == NULL)
        log_fatal(1, "cannot start the auto-reply sender");
    return ob;
}

/* The heartbeat thread, on its own connection; it never stops the
 * milter from starting (a database down at start is paged by the sweeper
 * as silence, and the beats begin when it is back). */
static struct heartbeat *
start_heartbeat(const struct cpr_config *cfg)
{
    struct heartbeat_settings s = {
        .conninfo = config_conninfo(cfg, PROGRAM_MILTER), .socket = cfg->milter_socket,
        .version = PACKAGE_VERSION, .interval_ms = cfg->milter_heartbeat_ms,
        .db_timeout_ms = cfg->db_timeout_ms,
    };
    struct heartbeat *hb = heartbeat_start(&s);

    if (hb == NULL)
        log_fatal(1, "cannot start the heartbeat thread");
    return hb;
}

int
main(int argc, char **argv)
{
    struct options o = { 0 };
    struct reloader r = { 0 };
    struct cpr_config *cfg;
    struct db_pool *pool;
    struct outbox *outbox;
    struct heartbeat *hb;
    struct metrics_server *metrics;
    struct privdrop priv;
    char *template_text = NULL;
    int rc;

    parse_options(argc, argv, &o);
    log_init("cpr-milter", o.foreground || o.check_only);
    if ((cfg = load_config(o.config)) == NULL || (r.started_with = load_config(o.config)) == NULL)
        return CPR_EX_CONFIG;
    log_set_facility(cfg->log_facility);   /* checked by config_load */
    if (cfg->autoreply_enabled)
        template_text = load_template(cfg);
    mtacheck_domains(cfg);
    check_user(cfg, &priv);
    if (o.check_only && socket_path(cfg->milter_socket) != NULL)
        socket_check_dir(socket_path(cfg->milter_socket), false);
    if (o.check_only) {
        printf("cpr-milter: %s: config OK\n", o.config);
        g_free(template_text);
        config_free(cfg);
        config_free(r.started_with);
        return 0;
    }
    open_socket(cfg);
    if (!o.foreground && daemon(0, 0) != 0)
        log_fatal(1, "daemon: %s", strerror(errno));
    drop_privileges(&priv, cfg->milter_socket);
    r.path = o.config;
    block_signals(&r);
    pool = db_pool_new(config_conninfo(cfg, PROGRAM_MILTER), (int)cfg->db_pool_size,
                       cfg->db_timeout_ms);
    if (pool == NULL)
        log_fatal(1, "cannot create the database pool");
    hb = start_heartbeat(r.started_with);   /* read-only: never reloaded */
    metrics = intakemetrics_start(r.started_with);
    outbox = start_outbox(cfg, template_text);
    g_free(template_text);
    filter_setup(pool, cfg, outbox);
    start_reloader(&r);   /* after setup: a reload never races the start-up config */
    log_info("cpr-milter %s listening on %s", PACKAGE_VERSION, r.started_with->milter_socket);
    selfcheck_start(r.started_with->milter_socket);   /* systemd: READY=1, WATCHDOG=1 */
    rc = smfi_main();
    log_info("cpr-milter stopping");
    heartbeat_stop_begin(hb, rc == MI_SUCCESS);   /* a signal: stopped on purpose */
    outbox_stop(outbox);
    heartbeat_stop(hb);
    metrics_stop(metrics);
    filter_shutdown();
    db_pool_free(pool);
    config_free(r.started_with);
    return rc == MI_SUCCESS ? 0 : 1;
}

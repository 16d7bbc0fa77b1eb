/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   config_secret - secrets read from files named in the config
 * SUMMARY
 *   char *s = config_read_secret(inline, path, &err);
 *   config_read_probe_secret(cfg, &err);
 * DESCRIPTION
 *   A secret file holds one line: its first line, blanks and CR around it
 *   dropped, at most CONFIG_SECRET_MAX bytes, with no control character.
 *   It must be a regular file (a FIFO in its place does not hang the
 *   start). Used for the channels' keys (cpr-sweeper) and the probe
 *   secret (cpr-milter and the sender); kept apart from the sweeper's
 *   config checks so that cpr-milter does not link them.
 * DIAGNOSTICS
 *   Errors name the file, never its content; the caller frees them with
 *   g_free.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#define SECRET_BUF  (CONFIG_SECRET_MAX + 3)   /* a line, CR, LF, one more */

/* Up to len bytes, or fewer at end of file; -1 with errno on error. */
static ssize_t
secret_read(int fd, char *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t) n;
    }
    return (ssize_t) got;
}

/* The first line of buf, blanks and CR around it dropped, checked. */
static char *
secret_line(const char *path, char *buf, size_t n, char **err)
{
    char *eol = memchr(buf, '\n', n), *start = buf;
    size_t len = eol != NULL ? (size_t) (eol - buf) : n, i;

    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'
                       || start[len - 1] == '\r'))
        len--;
    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    if (eol == NULL && n == SECRET_BUF)
        len = CONFIG_SECRET_MAX + 1;   /* no end of line in sight: too long */
    if (len == 0)
        *err = g_strdup_printf("%s: the first line is empty", path);
    else if (len > CONFIG_SECRET_MAX)
        *err = g_strdup_printf("%s: the first line is longer than %d bytes",
                               path, CONFIG_SECRET_MAX);
    for (i = 0; *err == NULL && i < len; i++)
        if ((unsigned char) start[i] < 0x20 || start[i] == 0x7f)
            *err = g_strdup_printf("%s: the first line has a control "
                                   "character", path);
    return *err == NULL ? g_strndup(start, len) : NULL;
}

static char *
secret_file_mode(const char *path, bool private_only, char **err)
{
    char buf[SECRET_BUF];
    struct stat st;
    ssize_t n = -1;
    int fd, saved = 0;

    /* O_NONBLOCK: a FIFO in place of the file must not hang start-up. */
    if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        *err = g_strdup_printf("%s: %s", path, g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0)
        saved = errno;
    else if (!S_ISREG(st.st_mode))
        *err = g_strdup_printf("%s: not a regular file", path);
    else if (private_only && (st.st_mode & (S_IROTH | S_IWOTH)) != 0)
        *err = g_strdup_printf("%s: readable or writable by others (chmod o-rw)", path);
    else if ((n = secret_read(fd, buf, sizeof(buf))) < 0)
        saved = errno;
    close(fd);
    if (saved != 0)
        *err = g_strdup_printf("%s: %s", path, g_strerror(saved));
    return *err == NULL ? secret_line(path, buf, (size_t) n, err) : NULL;
}

static char *
secret_file(const char *path, char **err)
{
    return secret_file_mode(path, false, err);
}

char *
config_read_private_secret(const char *path, size_t min, char **err)
{
    char *s;

    *err = NULL;
    if (path == NULL || *path == '\0') {
        *err = g_strdup("no secret file given");
        return NULL;
    }
    if ((s = secret_file_mode(path, true, err)) != NULL && strlen(s) < min) {
        *err = g_strdup_printf("%s: the secret is shorter than %zu bytes", path, min);
        memset(s, 0, strlen(s));
        g_free(s);
        s = NULL;
    }
    return s;
}

char *
config_read_api_key(const char *inline_value, const char *path, char **err)
{
    *err = NULL;
    if (path != NULL && *path != '\0' && (inline_value == NULL || *inline_value == '\0'))
        return secret_file_mode(path, true, err);
    return config_read_secret(inline_value, path, err);
}

char *
config_read_secret(const char *inline_value, const char *path, char **err)
{
    bool have_inline = inline_value != NULL && *inline_value != '\0';
    bool have_file = path != NULL && *path != '\0';

    *err = NULL;
    if (have_inline && have_file) {
        *err = g_strdup_printf("%s: a secret is given inline too; give one "
                               "of them", path);
        return NULL;
    }
    if (have_inline)
        return g_strdup(inline_value);
    if (!have_file) {
        *err = g_strdup("no secret given, neither inline nor in a file");
        return NULL;
    }
    return secret_file(path, err);
}

bool
config_read_probe_secret(struct cpr_config *cfg, char **err)
{
    const char *path = cfg->probe_secret_file;

    *err = NULL;
    if (path == NULL || *path == '\0')
        return true;
    g_free(cfg->probe_secret);
    cfg->probe_secret = secret_file(path, err);
    if (cfg->probe_secret != NULL && strlen(cfg->probe_secret) < CONFIG_PROBE_SECRET_MIN) {
        *err = g_strdup_printf("%s:%d: [probe] secret_file: %s: the secret is shorter "
                               "than %d bytes", cfg->path, config_line(cfg, "probe", "secret_file"),
                               path, CONFIG_PROBE_SECRET_MIN);
        memset(cfg->probe_secret, 0, strlen(cfg->probe_secret));
        g_free(cfg->probe_secret);
        cfg->probe_secret = NULL;
    }
    return cfg->probe_secret != NULL;
}

bool
config_read_credentials(const char *path, struct config_credentials *c, char **err)
{
    char *colon;

    memset(c, 0, sizeof(*c));
    if ((c->line = config_read_secret(NULL, path, err)) == NULL)
        return false;
    if ((colon = strchr(c->line, ':')) == NULL || colon == c->line) {
        *err = g_strdup_printf("%s: not USER:PASSWORD", path);
        config_credentials_free(c);
        return false;
    }
    *colon = '\0';
    c->user = c->line;
    c->password = colon + 1;
    return true;
}

void
config_credentials_free(struct config_credentials *c)
{
    if (c->line != NULL) {
        size_t n = strlen(c->line);

        if (c->password != NULL)
            n += 1 + strlen(c->password);
        memset(c->line, 0, n);
        g_free(c->line);
    }
    memset(c, 0, sizeof(*c));
}

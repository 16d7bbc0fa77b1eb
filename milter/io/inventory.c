/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   inventory - the sources of the CA's certificate inventory
 * DESCRIPTION
 *   See inventory.h. One struct per source; a postgresql source keeps its
 *   connection between lookups and drops it on any failure, so the next
 *   lookup connects again.
 * DIAGNOSTICS
 *   Errors come back in err; index problems (a skipped file) are logged
 *   as warnings, naming the file, never its content.
 */
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <libpq-fe.h>

#include "log.h"
#include "pgconn.h"

#define INV_SESSION_SQL "SET default_transaction_read_only = on; SET TimeZone = 'UTC'; " \
                        "SET DateStyle = 'ISO, YMD'"
#define INV_CONTACT_MAX 512   /* bytes of a FILE.contact read */
#define INV_FILES_PER_CERT 2  /* files examined per max_files, at most */

struct dir_entry {
    char sha256[INVCERT_HEX256];
    char spki[INVCERT_HEX256];
    char serial[INVCERT_SERIAL_LEN];
    char *issuer;
    char *file;
    long ordinal;              /* which certificate of the file */
};

struct invsource {
    const struct config_source *cfg;
    PGconn *conn;
    bool prepared;
    struct dir_entry *idx;
    size_t n, cap;
    bool indexed;
    struct timespec mtime;
};

static const char *const query_names[] = { "inv_by_serial", "inv_by_sha256", "inv_by_spki",
                                           "inv_by_issuer_serial" };

struct invsource *
invsource_new(const struct config_source *cfg)
{
    struct invsource *s = calloc(1, sizeof(*s));

    if (s)
        s->cfg = cfg;
    return s;
}

const char *
invsource_name(const struct invsource *s)
{
    return s->cfg->name;
}

static bool
is_dir(const struct invsource *s)
{
    return strcmp(s->cfg->type, "directory") == 0;
}

static const char *
query_sql(const struct invsource *s, enum inv_query q)
{
    switch (q) {
    case INV_BY_SERIAL: return s->cfg->by_serial;
    case INV_BY_SHA256: return s->cfg->by_sha256;
    case INV_BY_SPKI: return s->cfg->by_spki_sha256;
    case INV_BY_ISSUER_SERIAL: return s->cfg->by_issuer_serial;
    }
    return "";
}

bool
invsource_asks(const struct invsource *s, enum inv_query q)
{
    return is_dir(s) || *query_sql(s, q);
}

size_t
invsource_count(const struct invsource *s)
{
    return s->n;
}

/* ---- directory ---- */

static void
index_clear(struct invsource *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->idx[i].issuer);
        free(s->idx[i].file);
    }
    free(s->idx);
    s->idx = NULL;
    s->n = s->cap = 0;
    s->indexed = false;
}

static bool
read_file(const char *path, long long max, char **buf, size_t *len)
{
    gchar *data = NULL;
    gsize n = 0;
    struct stat st;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > max)
        return false;
    if (!g_file_get_contents(path, &data, &n, NULL) || (long long)n > max) {
        g_free(data);
        return false;
    }
    *buf = data;
    *len = n;
    return true;
}

struct file_walk {
    struct invsource *s;
    const char *file;
    long ordinal, want;        /* want >= 0: stop at that certificate */
    struct inv_cert *out;
    bool overflow, found;
    size_t bad;
};

static bool
index_add(struct file_walk *w, const struct inv_cert *c, long ordinal)
{
    struct invsource *s = w->s;
    struct dir_entry *e;

    if (s->n >= (size_t)s->cfg->max_files) {
        w->overflow = true;
        return false;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct dir_entry *ni = realloc(s->idx, cap * sizeof(*ni));

        if (!ni)
            return false;
        s->idx = ni;
        s->cap = cap;
    }
    e = &s->idx[s->n];
    memcpy(e->sha256, c->sha256, sizeof(e->sha256));
    memcpy(e->spki, c->spki_sha256, sizeof(e->spki));
    memcpy(e->serial, c->serial, sizeof(e->serial));
    e->issuer = strdup(c->issuer);
    e->file = strdup(w->file);
    e->ordinal = ordinal;
    if (!e->issuer || !e->file) {
        free(e->issuer);
        free(e->file);
        return false;
    }
    s->n++;
    return true;
}

/* One certificate of a file: indexed, or (want) handed back. */
static bool
walk_der(const unsigned char *der, size_t len, void *arg)
{
    struct file_walk *w = arg;
    struct inv_cert c;
    char why[128];
    bool go = true;
    long me = w->ordinal++;

    if (w->want >= 0 && me != w->want)
        return true;
    if (!der || !invcert_from_der(der, len, (size_t)w->s->cfg->max_file_bytes, &c, why, sizeof(why))) {
        w->bad++;
        return w->want < 0;
    }
    if (w->want >= 0) {
        *w->out = c;
        w->found = true;
        return false;
    }
    go = index_add(w, &c, me);
    invcert_clear(&c);
    return go;
}

static void
walk_file(struct file_walk *w, const char *buf, size_t len)
{
    if (g_strstr_len(buf, (gssize)len, "-----BEGIN") != NULL)
        (void)invcert_pem_each(buf, len, (size_t)w->s->cfg->max_files + 1, walk_der, w);
    else
        (void)walk_der((const unsigned char *)buf, len, w);
}

static bool
skip_name(const char *name)
{
    return name[0] == '.' || g_str_has_suffix(name, ".contact");
}

static bool
index_file(struct invsource *s, const char *name, char *err, size_t errlen)
{
    char *path = g_build_filename(s->cfg->path, name, NULL), *buf = NULL;
    struct file_walk w = { .s = s, .file = path, .want = -1 };
    size_t len = 0;

    if (!read_file(path, s->cfg->max_file_bytes, &buf, &len)) {
        log_warn("inventory source %s: %s skipped: not a regular file, unreadable or over "
                 "max_file_bytes", s->cfg->name, path);
        g_free(path);
        return true;
    }
    walk_file(&w, buf, len);
    if (w.bad)
        log_warn("inventory source %s: %s: %zu certificate(s) refused (bad DER or too large)",
                 s->cfg->name, path, w.bad);
    g_free(buf);
    g_free(path);
    if (w.overflow)
        snprintf(err, errlen, "more than max_files (%ld) certificates in %s", s->cfg->max_files,
                 s->cfg->path);
    return !w.overflow;
}

bool
invsource_index(struct invsource *s, char *err, size_t errlen)
{
    DIR *d;
    struct dirent *de;
    struct stat st;
    bool ok = true;
    size_t files = 0;

    if (!is_dir(s))
        return true;
    index_clear(s);
    if (stat(s->cfg->path, &st) != 0 || !(d = opendir(s->cfg->path))) {
        snprintf(err, errlen, "cannot read directory %s: %s", s->cfg->path, strerror(errno));
        return false;
    }
    while (ok && (de = readdir(d)) != NULL) {
        if (skip_name(de->d_name))
            continue;
        /* files that hold no certificate count too: a directory of
         * millions of them must not stall the sweeper */
        if (++files > INV_FILES_PER_CERT * (size_t)s->cfg->max_files) {
            snprintf(err, errlen, "more than %zu files in %s (max_files %ld)",
                     INV_FILES_PER_CERT * (size_t)s->cfg->max_files, s->cfg->path,
                     s->cfg->max_files);
            ok = false;
            break;
        }
        ok = index_file(s, de->d_name, err, errlen);
    }
    closedir(d);
    if (!ok) {
        index_clear(s);
        return false;
    }
    s->mtime = st.st_mtim;
    s->indexed = true;
    return true;
}

bool
invsource_is_dir(const struct invsource *s)
{
    return is_dir(s);
}

bool
invsource_stale(const struct invsource *s)
{
    struct stat st;

    if (!is_dir(s))
        return false;
    if (!s->indexed || stat(s->cfg->path, &st) != 0)
        return true;
    return st.st_mtim.tv_sec != s->mtime.tv_sec || st.st_mtim.tv_nsec != s->mtime.tv_nsec;
}

static void
dir_contact(const char *file, struct inv_cert *c)
{
    char *path = g_strconcat(file, ".contact", NULL), *buf = NULL;
    size_t len = 0;

    if (read_file(path, INV_CONTACT_MAX, &buf, &len)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        g_strstrip(buf);
        if (!invcert_set_contact(c, buf))
            log_warn("inventory: %s is not one plain address: ignored", path);
    }
    g_free(buf);
    g_free(path);
}

static bool
dir_entry_matches(const struct dir_entry *e, enum inv_query q, const char *key,
                  const char *issuer)
{
    switch (q) {
    case INV_BY_SERIAL: return strcmp(e->serial, key) == 0;
    case INV_BY_SHA256: return strcmp(e->sha256, key) == 0;
    case INV_BY_SPKI: return e->spki[0] && strcmp(e->spki, key) == 0;
    case INV_BY_ISSUER_SERIAL:
        return strcmp(e->serial, key) == 0 && issuer && strcmp(e->issuer, issuer) == 0;
    }
    return false;
}

/* Read entry e's certificate again from its file. */
static bool
dir_load(struct invsource *s, const struct dir_entry *e, struct inv_cert *c)
{
    struct file_walk w = { .s = s, .file = e->file, .want = e->ordinal, .out = c };
    char *buf = NULL;
    size_t len = 0;

    if (!read_file(e->file, s->cfg->max_file_bytes, &buf, &len))
        return false;
    walk_file(&w, buf, len);
    g_free(buf);
    if (w.found && strcmp(c->sha256, e->sha256) != 0) {   /* the file changed under us */
        invcert_clear(c);
        return false;
    }
    return w.found;
}

static bool
dir_query(struct invsource *s, enum inv_query q, const char *key, const char *issuer,
          invsource_cert_fn cert, invsource_refuse_fn refuse, void *arg, char *err,
          size_t errlen)
{
    if (invsource_stale(s) && !invsource_index(s, err, errlen))
        return false;
    for (size_t i = 0; i < s->n; i++) {
        struct inv_cert c;

        if (!dir_entry_matches(&s->idx[i], q, key, issuer))
            continue;
        if (!dir_load(s, &s->idx[i], &c)) {
            refuse("a file changed or vanished since it was indexed", arg);
            continue;
        }
        dir_contact(s->idx[i].file, &c);
        cert(&c, arg);
        invcert_clear(&c);
    }
    return true;
}

/* ---- postgresql ---- */

static void
pg_drop(struct invsource *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
    s->prepared = false;
}

static bool
pg_prepare_all(struct invsource *s, char *err, size_t errlen)
{
    for (int q = INV_BY_SERIAL; q <= INV_BY_ISSUER_SERIAL; q++) {
        const char *sql = query_sql(s, (enum inv_query)q);
        PGresult *res;
        bool ok;

        if (!*sql)
            continue;
        res = pgconn_prepare(s->conn, query_names[q], sql, s->cfg->timeout_ms, err, errlen);
        ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        if (res && !ok)
            snprintf(err, errlen, "query %s: %s", query_names[q] + 4,
                     PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return false;
    }
    return true;
}

static bool
pg_ensure(struct invsource *s, char *err, size_t errlen)
{
    char *cerr = NULL, *conninfo;
    PGresult *res;
    bool ok;

    if (s->conn && PQstatus(s->conn) == CONNECTION_OK && s->prepared)
        return true;
    pg_drop(s);
    if (!(conninfo = config_read_secret("", s->cfg->conninfo_file, &cerr))) {
        snprintf(err, errlen, "%s", cerr ? cerr : "cannot read conninfo_file");
        g_free(cerr);
        return false;
    }
    s->conn = pgconn_open(conninfo, "cpr-sweeper-inventory", s->cfg->timeout_ms, err, errlen);
    g_free(conninfo);
    if (!s->conn)
        return false;
    res = pgconn_exec_script(s->conn, INV_SESSION_SQL, s->cfg->timeout_ms, err, errlen);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok || !pg_prepare_all(s, err, errlen)) {
        pg_drop(s);
        return false;
    }
    s->prepared = true;
    return true;
}

static const char *
col(const PGresult *res, int row, const char *name)
{
    int c = PQfnumber(res, name);

    return c < 0 || PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static bool
pg_der(const PGresult *res, int row, const struct invsource *s, struct inv_cert *c, char *why,
       size_t whylen)
{
    int cd = PQfnumber(res, "der");
    unsigned char *der;
    size_t n = 0;
    bool ok;

    if (PQgetlength(res, row, cd) > 2 * INVCERT_MAX_DER + 2) {
        snprintf(why, whylen, "certificate larger than the bound");
        return false;
    }
    if (!(der = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, cd), &n))) {
        snprintf(why, whylen, "unreadable der column");
        return false;
    }
    ok = invcert_from_der(der, n, INVCERT_MAX_DER, c, why, whylen);
    PQfreemem(der);
    (void)s;
    return ok;
}

struct pem_one {
    struct inv_cert *c;
    char *why;
    size_t whylen;
    bool ok;
};

static bool
pem_first(const unsigned char *der, size_t len, void *arg)
{
    struct pem_one *p = arg;

    p->ok = der && invcert_from_der(der, len, INVCERT_MAX_DER, p->c, p->why, p->whylen);
    return false;
}

static bool
pg_row(const PGresult *res, int row, const struct invsource *s, struct inv_cert *c, char *why,
       size_t whylen)
{
    const char *pem = col(res, row, "pem"), *pre = col(res, row, "precertificate");
    bool ok;

    if (col(res, row, "der"))
        ok = pg_der(res, row, s, c, why, whylen);
    else if (pem) {
        struct pem_one p = { c, why, whylen, false };

        snprintf(why, whylen, "pem column holds no certificate");
        ok = strlen(pem) <= 4 * INVCERT_MAX_DER
             && invcert_pem_each(pem, strlen(pem), 1, pem_first, &p) != 0 && p.ok;
        if (!ok && strlen(pem) > 4 * INVCERT_MAX_DER)
            snprintf(why, whylen, "certificate larger than the bound");
    } else
        ok = invcert_from_fields(col(res, row, "sha256"), col(res, row, "serial"),
                                 col(res, row, "issuer"), col(res, row, "subject"),
                                 col(res, row, "sans"), col(res, row, "spki_sha256"),
                                 col(res, row, "not_before"), col(res, row, "not_after"),
                                 pre && (*pre == 't' || *pre == '1'), c, why, whylen);
    if (ok && !invcert_set_contact(c, col(res, row, "contact")))
        c->contact[0] = '\0';      /* a bad contact loses only the contact */
    return ok;
}

static bool
pg_query(struct invsource *s, enum inv_query q, const char *param,
         invsource_cert_fn cert, invsource_refuse_fn refuse, void *arg, char *err,
         size_t errlen)
{
    const char *values[1] = { param };
    PGresult *res;
    int rows;

    if (!pg_ensure(s, err, errlen))
        return false;
    res = pgconn_exec(s->conn, query_names[q], NULL, 1, values, s->cfg->timeout_ms, err, errlen);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (res)
            snprintf(err, errlen, "query %s: %s", query_names[q] + 4, PQresultErrorMessage(res));
        PQclear(res);
        pg_drop(s);
        return false;
    }
    rows = PQntuples(res);
    for (int r = 0; r < rows && r < s->cfg->max_rows; r++) {
        struct inv_cert c;
        char why[160];

        if (pg_row(res, r, s, &c, why, sizeof(why)))
            cert(&c, arg);
        else
            refuse(why, arg);
        invcert_clear(&c);
    }
    if (rows > s->cfg->max_rows) {
        char why[128];

        snprintf(why, sizeof(why), "%d rows over max_rows (%ld) not read",
                 rows - (int)s->cfg->max_rows, s->cfg->max_rows);
        refuse(why, arg);
    }
    PQclear(res);
    return true;
}

bool
invsource_query(struct invsource *s, enum inv_query q, const char *param, const char *key,
                const char *issuer, invsource_cert_fn cert, invsource_refuse_fn refuse,
                void *arg, char *err, size_t errlen)
{
    if (is_dir(s))
        return dir_query(s, q, key, issuer, cert, refuse, arg, err, errlen);
    if (!*query_sql(s, q))
        return true;
    return pg_query(s, q, param, cert, refuse, arg, err, errlen);
}

void
invsource_free(struct invsource *s)
{
    if (!s)
        return;
    index_clear(s);
    pg_drop(s);
    free(s);
}

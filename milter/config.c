/*
 * NAME
 *   config - the one INI file every program reads (GLib GKeyFile)
 * SUMMARY
 *   cfg = config_load(path, &err); ... config_free(cfg);
 * DESCRIPTION
 *   Owns config_keys[], the single table of every key, and the rules for
 *   reading values. Defaults are parsed from their strings by the same
 *   parsers as the file, so a default can never be a value the file could
 *   not hold. GKeyFile checks the syntax and hands out values as written
 *   (no escape processing). It gives no line numbers and silently keeps the
 *   last of a repeated key, so config_scan() walks the text once more to
 *   map each key to its line and to refuse unknown names and repeats.
 * DIAGNOSTICS
 *   Errors are "file:line: [section] key: problem", or "file: problem" when
 *   no line applies. The caller frees them with g_free.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "address.h"

#define CONFIG_FILE_MAX   (1024 * 1024)  /* bytes; a config is never larger */
#define CONFIG_READ_CHUNK 8192
#define CONFIG_QUOTE_MAX  64             /* bytes of a bad value quoted back */
#define CONFIG_MS_BUF     32

#define MS_SECOND 1000LL
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR   (60 * MS_MINUTE)
#define MS_DAY    (24 * MS_HOUR)

#define OFF(field) offsetof(struct cpr_config, field)

const struct config_key config_keys[] = {
    {"milter", "socket", CONFIG_STRING, OFF(milter_socket),
     "inet:8895@127.0.0.1",
     "libmilter socket the MTA connects to: inet:PORT@HOST, inet6:PORT@HOST "
     "or unix:PATH", 0, 0},
    {"milter", "addresses", CONFIG_ADDRESSES, OFF(addresses), "",
     "CPR addresses, comma-separated; required by cpr-milter", 0, 0},
    {"milter", "subject_tag", CONFIG_BOOL, OFF(subject_tag), "yes",
     "append \" [CPR-YYYY-NNNNNN]\" to the Subject of each report", 0, 0},
    {"milter", "max_message_bytes", CONFIG_BYTES, OFF(max_message_bytes),
     "26214400",
     "largest message, in bytes, taken in for intake (1024..1073741824)",
     1024, 1073741824LL},
    {"milter", "db_pool_size", CONFIG_INT, OFF(db_pool_size), "16",
     "database connections shared by the milter threads (1..256)", 1, 256},
    {"milter", "db_timeout", CONFIG_DURATION, OFF(db_timeout_ms), "10s",
     "database connect and statement timeout (1s..1h)",
     MS_SECOND, MS_HOUR},
    {"milter", "user", CONFIG_STRING, OFF(milter_user), "",
     "user to switch to after start; empty: keep the current user", 0, 0},
    {"milter", "conninfo", CONFIG_STRING, OFF(milter_conninfo), "",
     "libpq connection string for cpr-milter; empty: [database] conninfo",
     0, 0},
    {"database", "conninfo", CONFIG_STRING, OFF(db_conninfo),
     "host=/run/postgresql dbname=cpr",
     "libpq connection string used by every program without its own", 0, 0},
    {"sweeper", "conninfo", CONFIG_STRING, OFF(sweeper_conninfo), "",
     "libpq connection string for cpr-sweeper; empty: [database] conninfo",
     0, 0},
    {"cprctl", "conninfo", CONFIG_STRING, OFF(cprctl_conninfo), "",
     "libpq connection string for cprctl; empty: [database] conninfo", 0, 0},
    {NULL, NULL, CONFIG_STRING, 0, NULL, NULL, 0, 0}
};

/* A parser stores a valid value in its field, or returns why it is not. */
typedef char *(*config_parser)(const struct config_key *k, const char *val,
                               void *field);

/* ---- values ---- */

static char *
config_bad(const char *val, const char *what)
{
    size_t len = strlen(val);

    return g_strdup_printf("\"%.*s%s\" %s", CONFIG_QUOTE_MAX, val,
                           len > CONFIG_QUOTE_MAX ? "..." : "", what);
}

/* A decimal number, optionally negative, and nothing else. */
static bool
config_parse_number(const char *s, long long *v)
{
    char *end;
    const char *d = *s == '-' ? s + 1 : s;

    if (*d < '0' || *d > '9')
        return false;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Largest unit that divides ms exactly: "1h", "90s", "250ms". */
static void
config_format_ms(long long ms, char *buf, size_t len)
{
    static const struct { const char *unit; long long ms; } units[] = {
        {"d", MS_DAY}, {"h", MS_HOUR}, {"m", MS_MINUTE}, {"s", MS_SECOND},
    };
    size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", ms / units[i].ms, units[i].unit);
            return;
        }
    snprintf(buf, len, "%lldms", ms);
}

static char *
config_out_of_range(const struct config_key *k, const char *val)
{
    char lo[CONFIG_MS_BUF], hi[CONFIG_MS_BUF], what[3 * CONFIG_MS_BUF];

    if (k->type == CONFIG_DURATION) {
        config_format_ms(k->min, lo, sizeof(lo));
        config_format_ms(k->max, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%lld", k->min);
        snprintf(hi, sizeof(hi), "%lld", k->max);
    }
    snprintf(what, sizeof(what), "is out of range (%s..%s)", lo, hi);
    return config_bad(val, what);
}

bool
config_parse_duration(const char *s, long long *ms)
{
    static const struct { const char *unit; long long ms; } units[] = {
        {"ms", 1}, {"s", MS_SECOND}, {"m", MS_MINUTE}, {"h", MS_HOUR},
        {"d", MS_DAY},
    };
    long long n = 0;
    size_t i;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (n > (LLONG_MAX - (*s - '0')) / 10)
            return false;
        n = n * 10 + (*s - '0');
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(s, units[i].unit) == 0) {
            if (n > LLONG_MAX / units[i].ms)
                return false;
            *ms = n * units[i].ms;
            return true;
        }
    return false;
}

static char *
config_parse_string(const struct config_key *k, const char *val, void *field)
{
    char **p = field;

    (void) k;
    g_free(*p);
    *p = g_strdup(val);
    return NULL;
}

static char *
config_parse_bool(const struct config_key *k, const char *val, void *field)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    size_t i;

    (void) k;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (g_ascii_strcasecmp(val, yes[i]) == 0) {
            *(bool *) field = true;
            return NULL;
        }
        if (g_ascii_strcasecmp(val, no[i]) == 0) {
            *(bool *) field = false;
            return NULL;
        }
    }
    return config_bad(val, "is not a boolean (yes/no, true/false, on/off, 1/0)");
}

static char *
config_parse_int(const struct config_key *k, const char *val, void *field)
{
    long long v;

    if (!config_parse_number(val, &v))
        return config_bad(val, "is not a number");
    if (v < k->min || v > k->max || v < LONG_MIN || v > LONG_MAX)
        return config_out_of_range(k, val);
    *(long *) field = (long) v;
    return NULL;
}

static char *
config_parse_bytes(const struct config_key *k, const char *val, void *field)
{
    long long v;

    if (!config_parse_number(val, &v))
        return config_bad(val, "is not a number of bytes");
    if (v < k->min || v > k->max)
        return config_out_of_range(k, val);
    *(long long *) field = v;
    return NULL;
}

static char *
config_parse_dur(const struct config_key *k, const char *val, void *field)
{
    long long ms;

    if (!config_parse_duration(val, &ms))
        return config_bad(val, "is not a duration "
                          "(a number followed by ms, s, m, h or d)");
    if (ms < k->min || ms > k->max)
        return config_out_of_range(k, val);
    *(long long *) field = ms;
    return NULL;
}

/* Normalise each comma-separated entry into list; why on the first bad one. */
static char *
config_fill_addresses(char **parts, char **list)
{
    size_t i;
    char *norm;

    for (i = 0; parts[i] != NULL; i++) {
        g_strstrip(parts[i]);
        if (*parts[i] == '\0')
            return g_strdup("empty entry in the address list");
        if ((norm = address_normalise(parts[i])) == NULL)
            return config_bad(parts[i], "is not a mail address");
        list[i] = g_strdup(norm);
        free(norm);
    }
    return NULL;
}

static char *
config_parse_addresses(const struct config_key *k, const char *val, void *field)
{
    char **parts, **list, ***p = field;
    char *why = NULL;

    (void) k;
    parts = *val ? g_strsplit(val, ",", -1) : g_new0(char *, 1);
    list = g_new0(char *, g_strv_length(parts) + 1);
    if ((why = config_fill_addresses(parts, list)) != NULL) {
        g_strfreev(list);
    } else {
        g_strfreev(*p);
        *p = list;
    }
    g_strfreev(parts);
    return why;
}

static const config_parser config_parsers[] = {
    [CONFIG_STRING] = config_parse_string,
    [CONFIG_BOOL] = config_parse_bool,
    [CONFIG_INT] = config_parse_int,
    [CONFIG_BYTES] = config_parse_bytes,
    [CONFIG_DURATION] = config_parse_dur,
    [CONFIG_ADDRESSES] = config_parse_addresses,
};

static char *
config_parse_key(struct cpr_config *cfg, const struct config_key *k,
                 const char *val)
{
    return config_parsers[k->type](k, val, (char *) cfg + k->offset);
}

/* ---- the table ---- */

static const struct config_key *
config_find(const char *section, const char *key)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        if (strcmp(k->section, section) == 0
            && (key == NULL || strcmp(k->key, key) == 0))
            return k;
    return NULL;
}

struct cpr_config *
config_defaults(void)
{
    struct cpr_config *cfg = g_new0(struct cpr_config, 1);
    const struct config_key *k;
    char *why;

    for (k = config_keys; k->key != NULL; k++)
        if ((why = config_parse_key(cfg, k, k->def)) != NULL)
            g_error("config: default of [%s] %s: %s", k->section, k->key, why);
    return cfg;
}

void
config_free(struct cpr_config *cfg)
{
    const struct config_key *k;

    if (cfg == NULL)
        return;
    for (k = config_keys; k->key != NULL; k++) {
        void *field = (char *) cfg + k->offset;

        if (k->type == CONFIG_STRING)
            g_free(*(char **) field);
        else if (k->type == CONFIG_ADDRESSES)
            g_strfreev(*(char ***) field);
    }
    g_free(cfg->path);
    g_free(cfg);
}

void
config_print_keys(FILE *fp)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        fprintf(fp, "[%s] %s = %s  # %s\n", k->section, k->key, k->def, k->doc);
}

/* ---- the file ---- */

static char *
config_read(const char *path, size_t *lenp, char **err)
{
    FILE *fp = fopen(path, "r");
    GString *buf;
    char chunk[CONFIG_READ_CHUNK];
    size_t n;
    int saved;

    if (fp == NULL) {
        *err = g_strdup_printf("%s: %s", path, g_strerror(errno));
        return NULL;
    }
    buf = g_string_new(NULL);
    while (buf->len <= CONFIG_FILE_MAX
           && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        g_string_append_len(buf, chunk, (gssize) n);
    saved = ferror(fp) ? (errno != 0 ? errno : EIO) : 0;
    fclose(fp);
    if (saved != 0)
        *err = g_strdup_printf("%s: %s", path, g_strerror(saved));
    else if (buf->len > CONFIG_FILE_MAX)
        *err = g_strdup_printf("%s: larger than %d bytes", path, CONFIG_FILE_MAX);
    else if (memchr(buf->str, '\0', buf->len) != NULL)
        *err = g_strdup_printf("%s: contains a NUL byte", path);
    *lenp = buf->len;
    return g_string_free(buf, *err != NULL);
}

static GKeyFile *
config_keyfile(const char *path, const char *text, size_t len, char **err)
{
    GKeyFile *kf = g_key_file_new();
    GError *gerr = NULL;

    if (g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &gerr))
        return kf;
    *err = g_strdup_printf("%s: %s", path, gerr->message);
    g_error_free(gerr);
    g_key_file_free(kf);
    return NULL;
}

struct config_scan {
    const char *path;
    GHashTable *lines;         /* "section\nkey" -> line number */
    char *section;             /* current section, points into the text */
};

static char *
config_scan_group(struct config_scan *s, char *line, int lineno)
{
    char *end = strrchr(line, ']');

    if (end != NULL)
        *end = '\0';
    s->section = line + 1;
    if (config_find(s->section, NULL) == NULL)
        return g_strdup_printf("%s:%d: unknown section [%s]", s->path, lineno,
                               s->section);
    return NULL;
}

static char *
config_scan_key(struct config_scan *s, char *line, int lineno)
{
    char *eq = strchr(line, '='), *name;
    gpointer first;

    if (eq == NULL || s->section == NULL)
        return NULL;   /* GKeyFile has already refused such a line */
    *eq = '\0';
    g_strchomp(line);
    if (config_find(s->section, line) == NULL)
        return g_strdup_printf("%s:%d: [%s] %s: unknown key", s->path, lineno,
                               s->section, line);
    name = g_strdup_printf("%s\n%s", s->section, line);
    if ((first = g_hash_table_lookup(s->lines, name)) != NULL) {
        g_free(name);
        return g_strdup_printf("%s:%d: [%s] %s: repeated (first set on line %d)",
                               s->path, lineno, s->section, line,
                               GPOINTER_TO_INT(first));
    }
    g_hash_table_insert(s->lines, name, GINT_TO_POINTER(lineno));
    return NULL;
}

/* Map every key to its line; refuse unknown sections, keys and repeats. */
static GHashTable *
config_scan(const char *path, const char *text, char **err)
{
    struct config_scan s = {path, NULL, NULL};
    char **lines = g_strsplit(text, "\n", -1);
    char *line;
    int i;

    s.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (i = 0; lines[i] != NULL && *err == NULL; i++) {
        line = g_strstrip(lines[i]);
        if (*line == '\0' || *line == '#')
            continue;
        if (*line == '[')
            *err = config_scan_group(&s, line, i + 1);
        else
            *err = config_scan_key(&s, line, i + 1);
    }
    g_strfreev(lines);
    if (*err != NULL) {
        g_hash_table_destroy(s.lines);
        return NULL;
    }
    return s.lines;
}

static char *
config_apply_key(struct cpr_config *cfg, GKeyFile *kf, GHashTable *lines,
                 const struct config_key *k)
{
    char *val, *why, *name, *msg = NULL;

    if ((val = g_key_file_get_value(kf, k->section, k->key, NULL)) == NULL)
        return NULL;
    if ((why = config_parse_key(cfg, k, g_strstrip(val))) != NULL) {
        name = g_strdup_printf("%s\n%s", k->section, k->key);
        msg = g_strdup_printf("%s:%d: [%s] %s: %s", cfg->path,
                              GPOINTER_TO_INT(g_hash_table_lookup(lines, name)),
                              k->section, k->key, why);
        g_free(name);
        g_free(why);
    }
    g_free(val);
    return msg;
}

static struct cpr_config *
config_apply(const char *path, GKeyFile *kf, GHashTable *lines, char **err)
{
    struct cpr_config *cfg = config_defaults();
    const struct config_key *k;

    cfg->path = g_strdup(path);
    for (k = config_keys; k->key != NULL && *err == NULL; k++)
        *err = config_apply_key(cfg, kf, lines, k);
    if (*err != NULL) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct cpr_config *
config_load(const char *path, char **err)
{
    struct cpr_config *cfg = NULL;
    GKeyFile *kf = NULL;
    GHashTable *lines = NULL;
    char *text;
    size_t len;

    *err = NULL;
    if ((text = config_read(path, &len, err)) == NULL)
        return NULL;
    if ((kf = config_keyfile(path, text, len, err)) != NULL
        && (lines = config_scan(path, text, err)) != NULL)
        cfg = config_apply(path, kf, lines, err);
    if (lines != NULL)
        g_hash_table_destroy(lines);
    if (kf != NULL)
        g_key_file_free(kf);
    g_free(text);
    return cfg;
}

/* ---- what the programs ask ---- */

bool
config_check_milter(const struct cpr_config *cfg, char **err)
{
    if (cfg->addresses != NULL && cfg->addresses[0] != NULL)
        return true;
    *err = g_strdup_printf("%s: [milter] addresses: at least one address "
                           "required", cfg->path ? cfg->path : "(defaults)");
    return false;
}

const char *
config_conninfo(const struct cpr_config *cfg, enum cpr_program prog)
{
    const char *own = NULL;

    switch (prog) {
    case PROGRAM_MILTER:
        own = cfg->milter_conninfo;
        break;
    case PROGRAM_SWEEPER:
        own = cfg->sweeper_conninfo;
        break;
    case PROGRAM_CPRCTL:
        own = cfg->cprctl_conninfo;
        break;
    }
    return own != NULL && *own != '\0' ? own : cfg->db_conninfo;
}

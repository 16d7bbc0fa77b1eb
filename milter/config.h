/*
 * NAME
 *   config - the one INI file every program reads (GLib GKeyFile)
 * SUMMARY
 *   struct cpr_config *cfg = config_load(path, &err);
 * DESCRIPTION
 *   Table-driven, after PgBouncer: config_keys[] lists every key with its
 *   section, type, default and one line of documentation. Parsing, the
 *   documentation check (tests) and `--help` listings come from that table.
 *   Unknown sections, unknown keys, repeated keys and bad values are errors
 *   naming the file, the line and the key; programs exit with EX_CONFIG (78).
 * DIAGNOSTICS
 *   config_load returns NULL and sets *err (caller frees with g_free).
 */
#ifndef CPR_CONFIG_H
#define CPR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CPR_EX_CONFIG 78

enum config_type {
    CONFIG_STRING,   /* char * */
    CONFIG_BOOL,     /* bool: yes/no/true/false/on/off/1/0 */
    CONFIG_INT,      /* long, within [min, max] of its key */
    CONFIG_BYTES,    /* long long, plain number of bytes, within [min, max] */
    CONFIG_DURATION, /* long long ms; "90s", "30m", "24h", "7d", "500ms";
                        within [min, max] ms */
    CONFIG_ADDRESSES /* char ** NULL-terminated, comma-separated, normalised */
};

enum cpr_program { PROGRAM_MILTER, PROGRAM_SWEEPER, PROGRAM_CPRCTL };

struct cpr_config {
    char *path;
    /* [milter] */
    char *milter_socket;
    char **addresses;          /* normalised with address_normalise() */
    bool subject_tag;
    long long max_message_bytes;
    long db_pool_size;
    long long db_timeout_ms;   /* statement and connect timeout */
    char *milter_user;         /* "" = do not change user */
    char *milter_conninfo;     /* "" = use [database] conninfo */
    /* [database] */
    char *db_conninfo;
    /* [sweeper] */
    char *sweeper_conninfo;
    /* [cprctl] */
    char *cprctl_conninfo;
};

struct config_key {
    const char *section;
    const char *key;
    enum config_type type;
    size_t offset;             /* offsetof(struct cpr_config, ...) */
    const char *def;           /* default, as it would be written in the file */
    const char *doc;           /* one line */
    long long min, max;        /* CONFIG_INT, CONFIG_BYTES, CONFIG_DURATION */
};

extern const struct config_key config_keys[];   /* ends with key == NULL */

struct cpr_config *config_load(const char *path, char **err);
struct cpr_config *config_defaults(void);
void config_free(struct cpr_config *cfg);

/* What cpr-milter needs beyond syntax: at least one CPR address. False with
 * *err set (g_free) otherwise. */
bool config_check_milter(const struct cpr_config *cfg, char **err);

/* Every key as "[section] key = default  # doc", for --help listings. */
void config_print_keys(FILE *fp);

/* The conninfo a program uses: its own section's, else [database]'s. */
const char *config_conninfo(const struct cpr_config *cfg, enum cpr_program prog);

/* Parse a duration ("30m", "2h", "45s", "1d", "250ms"); false if malformed. */
bool config_parse_duration(const char *s, long long *ms);

#endif

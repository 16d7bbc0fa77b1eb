/* SPDX-License-Identifier: BSD-2-Clause */
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
 *
 *   Templated sections: a key whose section is "tier *" belongs to every
 *   [tier NAME] section (likewise "channel *"). Each such section becomes
 *   one element of cfg->tier_defs (cfg->channel_defs), and the key's offset
 *   is into that element's struct, not into struct cpr_config.
 *
 *   config_load checks each value; config_check_milter and
 *   config_check_sweeper check what one program needs of the whole file.
 *   Four files: config.c (the table and the file), config_value.c (the
 *   value types), config_sweeper.c (the ladder check, lookups),
 *   config_secret.c (secret files).
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

#define CONFIG_DURATIONS_MAX 8      /* entries of a duration list */
#define CONFIG_NAME_MAX      64     /* bytes of a tier or channel name */
#define CONFIG_TIERS_MAX     8      /* [escalation] tiers */
#define CONFIG_CHANNELS_MAX  16     /* channels of one tier */
#define CONFIG_SECRET_MAX    4096   /* bytes of a secret read from a file */
#define CONFIG_PROBE_SECRET_MIN 16  /* bytes of the probe secret, at least */
#define CONFIG_RATE_MAX      10000  /* most events a rate allows */

enum config_type {
    CONFIG_STRING,     /* char * */
    CONFIG_BOOL,       /* bool: yes/no/true/false/on/off/1/0 */
    CONFIG_INT,        /* long, within [min, max] of its key */
    CONFIG_BYTES,      /* long long, plain number of bytes, within [min, max] */
    CONFIG_DURATION,   /* long long ms; "90s", "30m", "24h", "7d", "500ms";
                          within [min, max] ms */
    CONFIG_ADDRESSES,  /* char ** NULL-terminated, comma-separated, normalised
                          for matching (lower case, no +detail) */
    CONFIG_RECIPIENTS, /* char ** NULL-terminated, comma-separated mail
                          addresses, checked but kept as written: mail is
                          sent to them */
    CONFIG_DURATIONS,  /* long long[CONFIG_DURATIONS_MAX] at offset, size_t
                          count at count_offset; comma-separated, each within
                          [min, max], distinct, stored largest first */
    CONFIG_NAMES,      /* char ** NULL-terminated, comma-separated, distinct
                          names of [A-Za-z0-9_.-], at most max entries */
    CONFIG_CHOICE,     /* char *, one of the '|'-separated choices */
    CONFIG_RATE        /* "N/DURATION", e.g. "5/1h": long N (0..
                          CONFIG_RATE_MAX) at offset, long long window ms
                          at count_offset, within [min, max] ms */
};

enum cpr_program { PROGRAM_MILTER, PROGRAM_SWEEPER, PROGRAM_CPRCTL, PROGRAM_WEB };

#define CONFIG_CATEGORIES 5    /* enum category_id (category.h) */

/* A [tier NAME] section. */
struct config_tier {
    char *name;                /* first member: the parser relies on it */
    char **channels;           /* never NULL; each a [channel NAME] */
};

/* A [channel NAME] section. Strings are never NULL ("" when unset) except
 * type, which is NULL until set. Secrets come inline or from a file: use
 * config_read_secret(). */
struct config_channel {
    char *name;                /* first member: the parser relies on it */
    char *type;                /* pagerduty|opsgenie|slack|webhook|email */
    char *url, *url_file;
    char *routing_key, *routing_key_file;      /* pagerduty */
    char *api_key, *api_key_file;              /* opsgenie; pagerduty REST (poll) */
    bool poll;                                 /* pagerduty, opsgenie: ackpoll */
    long long poll_interval_ms;
    long poll_rate;                            /* REST requests per minute */
    char *api_url;                             /* REST base; "" = the service's */
    char *bearer_token, *bearer_token_file;    /* webhook, optional */
    char **to;                                 /* email; never NULL */
    char *from, *smtp_url;                     /* email */
    char *ca_file;             /* "" = the system CA store */
    bool resolve;              /* slack, email, webhook: send "resolved" messages */
};

/* An [issuer NAME] section: an issuing CA whose certificates' revocation
 * cpr-sweeper proves published (revwatch). URLs "" = the certificate's own
 * AIA OCSP / CRL distribution point. */
struct config_issuer {
    char *name;                /* first member: the parser relies on it */
    char *cert;                /* PEM or DER file of the issuing CA */
    char *ocsp_url;            /* also asked, besides the AIA responder */
    char *crl_url;             /* also fetched, besides the CRL DP (CCADB) */
};

/* A [source NAME] section of the certificate inventory ([inventory]
 * sources). Strings are never NULL except type. */
struct config_source {
    char *name;                /* first member: the parser relies on it */
    char *type;                /* postgresql|directory */
    char *conninfo_file;       /* postgresql: file of the libpq conninfo */
    char *by_serial, *by_sha256, *by_spki_sha256, *by_issuer_serial;
    char *path;                /* directory */
    long max_files;            /* directory: certificates indexed, at most */
    long long max_file_bytes;  /* directory: larger files are skipped */
    long max_rows;             /* postgresql: rows one query may return */
    long long timeout_ms;      /* postgresql: connect and statement deadline */
};

struct cpr_config {
    char *path;
    void *lines;               /* private: where each key was set */
    /* [milter] */
    char *milter_socket;
    char **addresses;          /* normalised with address_normalise() */
    char *recipient_delimiter; /* "" = no address extensions */
    char *postfix_config_directory; /* "" = default, "no" = skip the check */
    bool trust_inet_macros;    /* staff replies from an inet socket too */
    bool subject_tag;
    long long max_message_bytes;
    long db_pool_size;
    long long db_timeout_ms;   /* statement and connect timeout */
    char *milter_user;         /* "" = do not change user */
    char *milter_conninfo;     /* "" = use [database] conninfo */
    char **submission_daemons; /* never NULL; {daemon_name} values */
    char **internal_domains;   /* never NULL; "" = CPR address domains */
    long long milter_heartbeat_ms;     /* cpr.milter_beat every this long */
    char *milter_metrics_listen;       /* HOST:PORT; "" = no metrics */
    /* [autoreply], read by cpr-milter; checked only when enabled */
    bool autoreply_enabled;
    char *autoreply_smtp_url;  /* smtp://HOST:PORT or smtps://HOST:PORT */
    char *autoreply_from;      /* "Name <addr>" or "addr"; required */
    char *autoreply_template;  /* path; "" = the built-in template */
    long rate_sender_count;    /* replies per envelope sender ... */
    long long rate_sender_window_ms;   /* ... per this window */
    long rate_domain_count;    /* replies per sender domain ... */
    long long rate_domain_window_ms;   /* ... per this window */
    long autoreply_budget_hour; /* replies per hour over all senders */
    bool reply_to_followups;
    long long autoreply_retry_base_ms; /* after a 4xx or connection failure, */
    long long autoreply_retry_cap_ms;  /* doubled up to the cap */
    long autoreply_max_attempts;       /* attempts in all; a 5xx is final */
    long long autoreply_lease_ms;      /* a claimed outbox row is reserved */
    /* [database] */
    char *db_conninfo;
    /* [deadlines] */
    long long acknowledge_ms;
    long long report_ms;
    long long warn_before_ms[CONFIG_DURATIONS_MAX];   /* largest first */
    size_t nwarn;
    /* [escalation] */
    char **tiers;              /* never NULL; tier 1 first */
    long long interval_ms;
    long long repeat_ms;
    /* [tier NAME] and [channel NAME], in order of first appearance */
    struct config_tier *tier_defs;
    size_t ntier_defs;
    struct config_channel *channel_defs;
    size_t nchannel_defs;
    struct config_issuer *issuer_defs;      /* [issuer NAME] */
    size_t nissuer_defs;
    /* [inventory], the published-revocation keys (revwatch) */
    long long inv_recheck_ms;          /* recheck while a clock or claim is open */
    long long inv_publish_grace_ms;    /* a claim unpublished this long pages */
    long inv_check_batch;              /* certificates checked per pass */
    long inv_crl_cache;                /* CRLs kept in memory */
    /* [sweeper] */
    char *sweeper_conninfo;
    char *sweeper_user;        /* "" = do not change user */
    char *heartbeat_url;       /* "" = no heartbeat */
    long long heartbeat_interval_ms;
    long long db_down_page_after_ms;
    long long retry_base_ms;
    long long retry_cap_ms;
    long retry_max;            /* retries after the first attempt */
    long long db_check_interval_ms;
    long long wake_poll_ms;
    long long claim_lease_ms;  /* a crashed sweeper's steps wait this long */
    long long group_window_ms; /* [paging] group_window; 0 = no grouping */
    bool paging_show_reporter; /* [paging] show_reporter: the address, not the domain */
    char *paging_severity[CONFIG_CATEGORIES]; /* [paging] severity.CATEGORY,
                                                 enum category_id order */
    long long sweeper_db_timeout_ms;   /* client deadline of every query */
    long long stuck_reply_after_ms;    /* an auto-reply unsent this long
                                          pages tier 1 (health) */
    long long milter_down_after_ms;    /* a milter silent this long pages */
    long long milter_stop_grace_ms;    /* ... or stopped (SIGTERM) this long */
    char *sweeper_metrics_listen;      /* HOST:PORT; "" = no metrics */
    /* [probe] */
    char *probe_secret_file;   /* "" = probes off */
    long long probe_max_age_ms;
    char *probe_secret;        /* not a key: read from probe_secret_file by
                                  config_read_probe_secret(); NULL when off */
    char *probe_send_url;      /* "" = this program sends no probes */
    char *probe_credentials_file;
    char *probe_from;
    char **probe_addresses;    /* never NULL; empty = [milter] addresses */
    char **probe_variants;     /* never NULL, never empty */
    long long probe_interval_ms;
    long long probe_timeout_ms;
    char *probe_imap_url;      /* "" = no mailbox stage */
    char *probe_imap_credentials_file;
    char *probe_mailbox;       /* the folder staff read */
    char *probe_junk_folders;  /* comma-separated; "" = none */
    long long probe_mailbox_poll_ms;
    /* [inventory], read by cpr-sweeper's lookup worker */
    char **inventory_sources;  /* never NULL; each a [source NAME]; empty: off */
    char *inventory_issuers;   /* directory of issuer certificates; "" = none */
    long long inventory_key_recheck_ms;
    long long inventory_retry_base_ms;
    long long inventory_retry_cap_ms;
    long inventory_page_after; /* failures in a row that page */
    long inventory_max_certs;  /* certificates one lookup stores */
    struct config_source *source_defs;
    size_t nsource_defs;
    /* [cprctl] */
    char *cprctl_conninfo;
    /* [web], read by cpr-web and by whoever makes links (acklink.c) */
    char *web_listen;          /* HOST:PORT, numeric */
    char *web_conninfo;        /* "" = use [database] conninfo */
    char *web_user;            /* "" = do not change user */
    char *web_secret_file;     /* "" = no links */
    char *web_public_url;      /* "" = no links */
    long long web_link_ttl_ms;
    char *web_identity_header; /* "" = no proxy identity */
    char *web_trusted_proxies; /* comma-separated numeric addresses */
    long web_max_connections;
    long long web_timeout_ms;  /* connection and statement timeout */
    /* [log] */
    char *log_facility;        /* one of LOG_FACILITY_CHOICES (log.h) */
};

struct config_key {
    const char *section;       /* "milter", or "tier *" for [tier NAME] */
    const char *key;
    enum config_type type;
    size_t offset;             /* offsetof(struct cpr_config, ...), or of
                                  the templated section's struct */
    const char *def;           /* default, as it would be written in the
                                  file; NULL: none (the field stays NULL) */
    const char *doc;           /* one line */
    long long min, max;        /* INT, BYTES, DURATION(S): range;
                                  NAMES: max = most entries;
                                  RATE: range of the window */
    size_t count_offset;       /* DURATIONS: where the count goes;
                                  RATE: where the window goes */
    const char *choices;       /* CHOICE: "a|b|c" */
};

extern const struct config_key config_keys[];   /* ends with key == NULL */

struct cpr_config *config_load(const char *path, char **err);
/* config_load, then a program's own check (config_check_milter, ...). */
struct cpr_config *config_load_checked(const char *path,
                                       bool (*check)(const struct cpr_config *, char **),
                                       char **err);
struct cpr_config *config_defaults(void);
void config_free(struct cpr_config *cfg);

/* What cpr-milter needs beyond syntax: at least one CPR address; when
 * [autoreply] is enabled, an smtp:// or smtps:// smtp_url, a from of
 * exactly one address ("addr" or "Name <addr>", printable ASCII), and
 * retry_cap not below retry_base. False with *err set (g_free) otherwise,
 * naming the file, line and key. Does not read the template file. */
bool config_check_milter(const struct cpr_config *cfg, char **err);

/* What cpr-sweeper needs beyond syntax: at least one tier; every listed
 * tier has a [tier NAME] section with a channel, and every [tier NAME] is
 * listed; every channel named exists and has what its type needs, and no
 * key its type ignores. False with *err set (g_free) otherwise. Does not
 * read the secret files. */
bool config_check_sweeper(const struct cpr_config *cfg, char **err);

/* A [section] metrics_listen value: empty, or what listen_parse() takes. */
bool config_check_listen(const struct cpr_config *cfg, char **err, const char *section,
                         const char *spec);

/* [probe] for the sender: with send_url set, a secret_file, an smtp:// or
 * smtps:// send_url, a from of one address, known variants and some
 * address to probe. config_check_sweeper calls it. */
bool config_check_probe(const struct cpr_config *cfg, char **err);

/* Line where [section] key was set (key NULL: the section's first header),
 * or 0. section is as written, e.g. "tier oncall". */
int config_line(const struct cpr_config *cfg, const char *section,
                const char *key);

/* NULL when no such section. */
const struct config_tier *config_tier(const struct cpr_config *cfg,
                                      const char *name);
const struct config_channel *config_channel(const struct cpr_config *cfg,
                                            const char *name);
const struct config_source *config_source(const struct cpr_config *cfg,
                                          const char *name);

/* [inventory]: every listed source has a [source NAME] of a known type
 * with what it needs (a conninfo_file and at least one query, or a
 * path), every [source NAME] is listed, retry_cap >= retry_base. */
bool config_check_inventory(const struct cpr_config *cfg, char **err);

/* A secret given inline or in a file (exactly one of them non-empty).
 * Returns a g_malloc'd copy of the inline value, or of the file's first
 * line without surrounding blanks and CR/LF (at most CONFIG_SECRET_MAX
 * bytes, not empty, no control characters). NULL with *err set (g_free)
 * otherwise; *err names the file but never quotes its content. */
char *config_read_secret(const char *inline_value, const char *path,
                         char **err);
/* config_read_secret, and a file readable or writable by others is
 * refused (a REST API key can do more than page). */
char *config_read_api_key(const char *inline_value, const char *path, char **err);

/* USER:PASSWORD from the first line of a file (config_read_secret's
 * rules), split at the first colon. credentials_free wipes and frees it. */
struct config_credentials {
    char *line;                /* g_malloc'd; NULL when not read */
    const char *user, *password;
};
bool config_read_credentials(const char *path, struct config_credentials *c, char **err);
void config_credentials_free(struct config_credentials *c);

/* A key file that must be private: config_read_secret's rules, and the
 * file may not be readable or writable by others, and its first line must
 * be at least min bytes. g_malloc'd; wipe before g_free. NULL with *err. */
char *config_read_private_secret(const char *path, size_t min, char **err);

/* What cpr-web needs beyond syntax (config_web.c): a listen address; a
 * public_url of http:// or https:// with no query or fragment; a
 * secret_file; trusted_proxies of numeric addresses; an identity_header
 * of token characters. */
bool config_check_web(const struct cpr_config *cfg, char **err);
/* s is a numeric IPv4 or IPv6 address (a [web] trusted_proxies entry). */
bool config_web_proxy_ok(const char *s);

/* Reads [probe] secret_file into cfg->probe_secret (nothing when it is
 * empty). False with *err set (g_free) when the file cannot be read or its
 * first line is shorter than CONFIG_PROBE_SECRET_MIN bytes. */
bool config_read_probe_secret(struct cpr_config *cfg, char **err);

/* For the config_*.c modules: *err = "FILE:LINE: [section] key: why"
 * (the key's line, else the section's), and false. key may be NULL. */
bool config_fail(const struct cpr_config *cfg, char **err, const char *section,
                 const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Every key as "[section] key = default  # doc", for --help listings. */
void config_print_keys(FILE *fp);

/* The conninfo a program uses: its own section's, else [database]'s. */
const char *config_conninfo(const struct cpr_config *cfg, enum cpr_program prog);

/* Parse a duration ("30m", "2h", "45s", "1d", "250ms"); false if malformed. */
bool config_parse_duration(const char *s, long long *ms);

/* One value of key k, as written, into its field of base (the config, or a
 * templated section's struct), replacing the old value. NULL, or why the
 * value is bad (g_free), leaving the field alone. */
char *config_parse_value(const struct config_key *k, const char *val,
                         void *base);

/* NULL if s is a good tier or channel name, else why not (g_free). */
char *config_name_check(const char *s);

#endif

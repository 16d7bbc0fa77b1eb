/* SPDX-License-Identifier: BSD-2-Clause */
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
 *   map each key to its line and to refuse unknown names and repeats. That
 *   map stays with the config, so later checks can name lines too.
 *   Templated sections ([tier NAME], [channel NAME]) are described by
 *   config_templates[]: each becomes one element of an array in the config.
 * DIAGNOSTICS
 *   Errors are "file:line: [section] key: problem", or "file: problem" when
 *   no line applies. The caller frees them with g_free.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "address.h"
#include "listen.h"
#include "log.h"
#include "pagertype.h"
#include "probeparts.h"
#include "retry.h"

#define CONFIG_FILE_MAX   (1024 * 1024)  /* bytes; a config is never larger */
#define CONFIG_READ_CHUNK 8192

#define MS_SECOND 1000LL
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR   (60 * MS_MINUTE)
#define MS_DAY    (24 * MS_HOUR)
/* The longest one auto-reply send may take: the SMTP timeout, and the
 * claim and finish queries around it. */
#define CONFIG_SEND_BOUND_MS (SMTP_TIMEOUT_MS + 10 * MS_SECOND)

#define OFF(field)      offsetof(struct cpr_config, field)
#define TIER(field)     offsetof(struct config_tier, field)
#define CHANNEL(field)  offsetof(struct config_channel, field)
#define ISSUER(field)   offsetof(struct config_issuer, field)
#define SOURCE(field)   offsetof(struct config_source, field)
#define FIELD(base, k)  ((void *) ((char *) (base) + (k)->offset))

/* Table rows: a plain value, a ranged one, and the two special kinds. */
#define KEY(sec, key, type, off, def, doc) \
    {sec, key, type, off, def, doc, 0, 0, 0, NULL}
#define RANGED(sec, key, type, off, def, doc, min, max) \
    {sec, key, type, off, def, doc, min, max, 0, NULL}
#define LIST(sec, key, type, off, count, def, doc, min, max) \
    {sec, key, type, off, def, doc, min, max, count, NULL}
#define CHOICE(sec, key, off, choices, doc) \
    {sec, key, CONFIG_CHOICE, off, NULL, doc, 0, 0, 0, choices}
#define RATE(sec, key, count, window, def, doc, min, max) \
    {sec, key, CONFIG_RATE, count, def, doc, min, max, window, NULL}

const struct config_key config_keys[] = {
    KEY("milter", "socket", CONFIG_STRING, OFF(milter_socket),
        "inet:8895@127.0.0.1",
        "libmilter socket the MTA connects to: inet:PORT@HOST, inet6:PORT@HOST "
        "or unix:PATH"),
    KEY("milter", "addresses", CONFIG_ADDRESSES, OFF(addresses), "",
        "CPR addresses, comma-separated; required by cpr-milter"),
    KEY("milter", "recipient_delimiter", CONFIG_STRING, OFF(recipient_delimiter), "+",
        "characters that start an address extension, as Postfix's "
        "recipient_delimiter: cpr+key@ matches cpr@; empty: none"),
    KEY("milter", "postfix_config_directory", CONFIG_STRING,
        OFF(postfix_config_directory), "",
        "Postfix configuration directory checked at start for the CPR domains "
        "(postconf -c); empty: Postfix's default; \"no\": no check"),
    KEY("milter", "trust_inet_macros", CONFIG_BOOL, OFF(trust_inet_macros), "no",
        "record staff replies (the MTA's {auth_authen} and {daemon_name}) from an "
        "inet socket too; anyone who can reach it can then fake one"),
    KEY("milter", "subject_tag", CONFIG_BOOL, OFF(subject_tag), "yes",
        "append \" [CPR-YYYY-NNNNNN]\" to the Subject of each report"),
    RANGED("milter", "max_message_bytes", CONFIG_BYTES, OFF(max_message_bytes),
           "26214400",
           "largest message, in bytes, taken in for intake (1024..1073741824)",
           1024, 1073741824LL),
    RANGED("milter", "db_pool_size", CONFIG_INT, OFF(db_pool_size), "16",
           "database connections shared by the milter threads (1..256)", 1, 256),
    RANGED("milter", "db_timeout", CONFIG_DURATION, OFF(db_timeout_ms), "10s",
           "database connect and statement timeout (1s..1h)",
           MS_SECOND, MS_HOUR),
    KEY("milter", "user", CONFIG_STRING, OFF(milter_user), "",
        "user to switch to after start, when started as root; empty: keep the "
        "current user"),
    KEY("milter", "conninfo", CONFIG_STRING, OFF(milter_conninfo), "",
        "libpq connection string for cpr-milter; empty: [database] conninfo"),
    RANGED("milter", "submission_daemons", CONFIG_NAMES, OFF(submission_daemons), "",
           "MTA daemon names ({daemon_name}) of the authenticated submission "
           "services where staff replies are recorded; empty: none (at most 16)",
           0, 16),
    RANGED("milter", "internal_domains", CONFIG_NAMES, OFF(internal_domains), "",
           "our own mail domains and their subdomains: staff mail to them is "
           "no response; the domains of [milter] addresses always count (at most 64)",
           0, 64),
    RANGED("milter", "heartbeat_interval", CONFIG_DURATION, OFF(milter_heartbeat_ms), "30s",
           "write this milter's heartbeat to the database this often, from a "
           "thread of its own; below [sweeper] milter_down_page_after (1s..10m)",
           MS_SECOND, 10 * MS_MINUTE),
    KEY("milter", "metrics_listen", CONFIG_STRING, OFF(milter_metrics_listen), "",
        "serve Prometheus metrics at http://HOST:PORT/metrics, HOST a numeric "
        "IPv4 or [IPv6] address (e.g. 127.0.0.1:9478); no TLS, no auth; empty: off"),

    KEY("autoreply", "enabled", CONFIG_BOOL, OFF(autoreply_enabled), "yes",
        "answer each new report with its tracking number (RFC 3834 rules)"),
    KEY("autoreply", "smtp_url", CONFIG_STRING, OFF(autoreply_smtp_url),
        "smtp://127.0.0.1:25",
        "the relay replies go to, smtp://HOST:PORT or smtps://HOST:PORT"),
    KEY("autoreply", "from", CONFIG_STRING, OFF(autoreply_from), "",
        "From of the replies, \"Name <address>\" or an address; required "
        "when enabled"),
    KEY("autoreply", "template", CONFIG_STRING, OFF(autoreply_template), "",
        "file of the reply's text; empty: the built-in template"),
    RATE("autoreply", "rate_per_sender", OFF(rate_sender_count),
         OFF(rate_sender_window_ms), "5/1h",
         "most replies to one sender per window, N/DURATION (N 0..10000, "
         "1s..7d)", MS_SECOND, 7 * MS_DAY),
    RATE("autoreply", "rate_per_domain", OFF(rate_domain_count),
         OFF(rate_domain_window_ms), "50/1h",
         "most replies to one sender domain per window, N/DURATION (N "
         "0..10000, 1s..7d)", MS_SECOND, 7 * MS_DAY),
    KEY("autoreply", "reply_to_followups", CONFIG_BOOL,
        OFF(reply_to_followups), "no",
        "answer follow-ups to a known report too"),
    RANGED("autoreply", "retry_base", CONFIG_DURATION,
           OFF(autoreply_retry_base_ms), "1s",
           "first retry delay after a 4xx or connection failure; doubled "
           "each retry (100ms..1h)", 100, MS_HOUR),
    RANGED("autoreply", "retry_cap", CONFIG_DURATION,
           OFF(autoreply_retry_cap_ms), "5m",
           "longest retry delay, at least retry_base (1s..1d)",
           MS_SECOND, MS_DAY),
    RANGED("autoreply", "max_attempts", CONFIG_INT,
           OFF(autoreply_max_attempts), "10",
           "attempts in all before a reply counts as failed; a 5xx fails at "
           "once (1..100)", 1, 100),
    RANGED("autoreply", "hourly_budget", CONFIG_INT, OFF(autoreply_budget_hour), "200",
           "auto-replies per hour over all senders, which bounds backscatter from "
           "forged senders; past it a report still gets its case, not a reply "
           "(1..1000000)", 1, 1000000),
    RANGED("autoreply", "sender_lease", CONFIG_DURATION,
           OFF(autoreply_lease_ms), "60s",
           "how long an outbox row claimed by one milter is reserved for it; "
           "longer than one send (the 30 s SMTP timeout and the database round "
           "trips around it), so two milters never send one reply (41s..1h)",
           CONFIG_SEND_BOUND_MS + MS_SECOND, MS_HOUR),

    KEY("database", "conninfo", CONFIG_STRING, OFF(db_conninfo),
        "host=/run/postgresql dbname=cpr",
        "libpq connection string used by every program without its own"),

    RANGED("deadlines", "acknowledge", CONFIG_DURATION, OFF(acknowledge_ms),
           "30m", "time from receipt (or an unacknowledged follow-up) to the "
           "first page of tier 1 (1s..30d)", MS_SECOND, 30 * MS_DAY),
    RANGED("deadlines", "report", CONFIG_DURATION, OFF(report_ms), "24h",
           "time from receipt to the preliminary reports to the reporter and "
           "the Subscriber (1s..24h, BR 4.9.5)", MS_SECOND, 24 * MS_HOUR),
    LIST("deadlines", "warn_before", CONFIG_DURATIONS, OFF(warn_before_ms),
         OFF(nwarn), "6h, 2h, 30m",
         "page tier 1 this long before each report and revocation deadline; "
         "up to 8, comma-separated (each 1s..5d); empty: no warnings",
         MS_SECOND, 5 * MS_DAY),

    RANGED("escalation", "tiers", CONFIG_NAMES, OFF(tiers), "",
           "escalation tiers, tier 1 first, each a [tier NAME] section; "
           "required by cpr-sweeper (at most 8)", 0, CONFIG_TIERS_MAX),
    RANGED("escalation", "interval", CONFIG_DURATION, OFF(interval_ms), "15m",
           "page the next tier after this long without an acknowledgement "
           "(1s..1d)", MS_SECOND, MS_DAY),
    RANGED("escalation", "repeat", CONFIG_DURATION, OFF(repeat_ms), "30m",
           "then page the last tier again this often (1s..1d)",
           MS_SECOND, MS_DAY),

    RANGED("tier *", "channels", CONFIG_NAMES, TIER(channels), "",
           "channels notified when this tier is paged, each a [channel NAME] "
           "section; at least one (at most 16)", 0, CONFIG_CHANNELS_MAX),

    CHOICE("channel *", "type", CHANNEL(type), PAGER_TYPE_CHOICES,
           PAGER_TYPE_WORDS "; required"),
    KEY("channel *", "url", CONFIG_STRING, CHANNEL(url), "",
        "API or webhook URL; empty: the PagerDuty or Opsgenie (US) API; "
        "slack and webhook need url or url_file"),
    KEY("channel *", "url_file", CONFIG_STRING, CHANNEL(url_file), "",
        "file whose first line is the url, to keep a webhook URL secret"),
    KEY("channel *", "routing_key", CONFIG_STRING, CHANNEL(routing_key), "",
        "pagerduty: Events API v2 routing key; or routing_key_file"),
    KEY("channel *", "routing_key_file", CONFIG_STRING,
        CHANNEL(routing_key_file), "",
        "pagerduty: file whose first line is the routing key"),
    KEY("channel *", "api_key", CONFIG_STRING, CHANNEL(api_key), "",
        "opsgenie: API key of an API integration; pagerduty: REST API key "
        "for poll = yes; or api_key_file"),
    KEY("channel *", "api_key_file", CONFIG_STRING, CHANNEL(api_key_file), "",
        "opsgenie: file whose first line is the API key; pagerduty: the REST "
        "API key's file (poll = yes); refused when world-readable"),
    KEY("channel *", "poll", CONFIG_BOOL, CHANNEL(poll), "no",
        "pagerduty, opsgenie: ask the service's REST API about the alerts "
        "this channel opened, so that an acknowledgement there acknowledges "
        "the case"),
    RANGED("channel *", "poll_interval", CONFIG_DURATION, CHANNEL(poll_interval_ms), "30s",
           "how often each open alert is asked about (1s..1h)", MS_SECOND, MS_HOUR),
    RANGED("channel *", "poll_rate", CONFIG_INT, CHANNEL(poll_rate), "60",
           "REST requests per minute at most, per sweeper (PagerDuty allows "
           "960 per minute per key, Opsgenie's Alert API less on small plans) "
           "(1..960)", 1, 960),
    KEY("channel *", "api_url", CONFIG_STRING, CHANNEL(api_url), "",
        "REST API base URL for poll; empty: https://api.pagerduty.com or "
        "https://api.opsgenie.com"),
    KEY("channel *", "bearer_token", CONFIG_STRING, CHANNEL(bearer_token), "",
        "webhook: optional bearer token sent in Authorization"),
    KEY("channel *", "bearer_token_file", CONFIG_STRING,
        CHANNEL(bearer_token_file), "",
        "webhook: file whose first line is the bearer token"),
    KEY("channel *", "to", CONFIG_RECIPIENTS, CHANNEL(to), "",
        "email: recipients, comma-separated; required for email"),
    KEY("channel *", "from", CONFIG_STRING, CHANNEL(from),
        "cpr-sweeper@localhost", "email: the From address of pages"),
    KEY("channel *", "smtp_url", CONFIG_STRING, CHANNEL(smtp_url),
        "smtp://127.0.0.1:25",
        "email: the relay, smtp://HOST:PORT or smtps://HOST:PORT"),
    KEY("channel *", "ca_file", CONFIG_STRING, CHANNEL(ca_file), "",
        "CA bundle to verify the server with; empty: the system store"),
    KEY("channel *", "resolve", CONFIG_BOOL, CHANNEL(resolve), "yes",
        "slack, email, webhook: send a \"resolved\" message when the clock that paged "
        "stops; no: pages only"),

    KEY("sweeper", "conninfo", CONFIG_STRING, OFF(sweeper_conninfo), "",
        "libpq connection string for cpr-sweeper; empty: [database] conninfo"),
    KEY("sweeper", "user", CONFIG_STRING, OFF(sweeper_user), "",
        "user to switch to after start, when started as root; empty: keep the "
        "current user"),
    KEY("sweeper", "heartbeat_url", CONFIG_STRING, OFF(heartbeat_url), "",
        "dead man's switch, pinged every heartbeat_interval (URL/fail when "
        "unhealthy); empty: none"),
    RANGED("sweeper", "heartbeat_interval", CONFIG_DURATION,
           OFF(heartbeat_interval_ms), "1m",
           "how often heartbeat_url is pinged (1s..1h)", MS_SECOND, MS_HOUR),
    RANGED("sweeper", "db_down_page_after", CONFIG_DURATION,
           OFF(db_down_page_after_ms), "2m",
           "page every tier-1 channel directly when the database has been "
           "unreachable this long (1s..1d)", MS_SECOND, MS_DAY),
    RANGED("sweeper", "retry_base", CONFIG_DURATION, OFF(retry_base_ms), "5s",
           "first retry delay of a delivery; doubled each retry, with jitter "
           "(100ms..1h)", 100, MS_HOUR),
    RANGED("sweeper", "retry_cap", CONFIG_DURATION, OFF(retry_cap_ms), "5m",
           "longest retry delay, at least retry_base (1s..1d)",
           MS_SECOND, MS_DAY),
    RANGED("sweeper", "retry_max", CONFIG_INT, OFF(retry_max), "5",
           "retries after the first attempt before a channel counts as "
           "failed and the next tier is paged (0..50)", 0, 50),
    RANGED("sweeper", "db_check_interval", CONFIG_DURATION,
           OFF(db_check_interval_ms), "15s",
           "check the idle database connection this often (1s..15s)",
           MS_SECOND, 15 * MS_SECOND),
    RANGED("sweeper", "wake_poll", CONFIG_DURATION, OFF(wake_poll_ms), "500ms",
           "look for new events (a new case, a follow-up, an ack) this often "
           "between passes; the longest delay before a sweeper acts on one "
           "(50ms..5s)", 50, 5 * MS_SECOND),
    RANGED("sweeper", "db_timeout", CONFIG_DURATION, OFF(sweeper_db_timeout_ms), "10s",
           "deadline of every database connect and query of cpr-sweeper; a "
           "database that does not answer in time counts as down (1s..5m)",
           MS_SECOND, 5 * MS_MINUTE),
    RANGED("sweeper", "claim_lease", CONFIG_DURATION, OFF(claim_lease_ms), "60s",
           "how long a claimed step is reserved for its sweeper; after that "
           "another sweeper sends it again (15s..1h: above one attempt's 10 s)",
           15 * MS_SECOND, MS_HOUR),
    KEY("sweeper", "metrics_listen", CONFIG_STRING, OFF(sweeper_metrics_listen), "",
        "serve Prometheus metrics at http://HOST:PORT/metrics, HOST a numeric "
        "IPv4 or [IPv6] address (e.g. 127.0.0.1:9479); no TLS, no auth; empty: off"),
    RANGED("paging", "group_window", CONFIG_DURATION, OFF(group_window_ms), "5m",
           "new reports from one sender domain that follow another within this "
           "window page once per window, as a group with the count and the list "
           "(0s..1d; 0s: never grouped)", 0, MS_DAY),
    KEY("paging", "show_reporter", CONFIG_BOOL, OFF(paging_show_reporter), "no",
        "pages name the reporter's address; no: only its domain"),
    KEY("paging", "severity.key-compromise", CONFIG_STRING, OFF(paging_severity[0]),
        "critical", "severity of key-compromise pages: critical, error, warning or info"),
    KEY("paging", "severity.revocation-request", CONFIG_STRING, OFF(paging_severity[1]),
        "critical", "severity of revocation-request pages"),
    KEY("paging", "severity.misissuance", CONFIG_STRING, OFF(paging_severity[2]),
        "error", "severity of misissuance pages"),
    KEY("paging", "severity.abuse", CONFIG_STRING, OFF(paging_severity[3]),
        "warning", "severity of abuse pages"),
    KEY("paging", "severity.other", CONFIG_STRING, OFF(paging_severity[4]),
        "warning", "severity of other pages (a breach is always critical)"),
    RANGED("sweeper", "stuck_reply_after", CONFIG_DURATION,
           OFF(stuck_reply_after_ms), "5m",
           "an auto-reply still unsent this long pages tier 1 as a health "
           "event (1s..1d)", MS_SECOND, MS_DAY),
    RANGED("sweeper", "milter_down_page_after", CONFIG_DURATION,
           OFF(milter_down_after_ms), "2m",
           "page tier 1 when a cpr-milter that was beating has not for this "
           "long, or its callbacks have stalled this long (2s..1d)",
           2 * MS_SECOND, MS_DAY),
    RANGED("sweeper", "milter_stop_grace", CONFIG_DURATION,
           OFF(milter_stop_grace_ms), "15m",
           "page tier 1 when a cpr-milter stopped on purpose (SIGTERM) has "
           "not started again within this long (0s..7d)", 0, 7 * MS_DAY),

    KEY("probe", "secret_file", CONFIG_STRING, OFF(probe_secret_file), "",
        "file whose first line is the secret that signs mail-path probes, "
        "shared by cpr-milter and the probe sender (16 bytes or more); "
        "empty: no probes, every mark is ignored"),
    RANGED("probe", "max_age", CONFIG_DURATION, OFF(probe_max_age_ms), "1h",
           "a probe whose mark is older (or newer) than this by the database "
           "clock is taken in as a report (1m..7d)", MS_MINUTE, 7 * MS_DAY),
    KEY("probe", "send_url", CONFIG_STRING, OFF(probe_send_url), "",
        "the relay outside the CA's mail system that cpr-sweeper sends probes "
        "through, smtp://HOST:PORT or smtps://HOST:PORT; empty: send none"),
    KEY("probe", "credentials_file", CONFIG_STRING, OFF(probe_credentials_file), "",
        "file whose first line is USER:PASSWORD for SMTP AUTH at send_url "
        "(then TLS is required); empty: no AUTH"),
    KEY("probe", "from", CONFIG_STRING, OFF(probe_from), "",
        "From and envelope sender of probes, \"Name <address>\" or an "
        "address at a domain outside the CA; required with send_url"),
    KEY("probe", "addresses", CONFIG_RECIPIENTS, OFF(probe_addresses), "",
        "the published CPR addresses to probe, comma-separated (add the CCADB "
        "and CPS 1.5.2 ones where they differ), kept as written; empty: [milter] "
        "addresses"),
    RANGED("probe", "variants", CONFIG_NAMES, OFF(probe_variants),
           "plain, pem-key, zip, tar-xz, der",
           "what probes carry, in turn: plain, pem-key, zip, tar-xz, der "
           "(at most 16)", 1, 16),
    RANGED("probe", "timeout", CONFIG_DURATION, OFF(probe_timeout_ms), "15m",
           "a probe that has not passed a stage this long after it was sent pages "
           "tier 1, naming the stage (5s..1d)", 5 * MS_SECOND, MS_DAY),
    RANGED("probe", "interval", CONFIG_DURATION, OFF(probe_interval_ms), "1h",
           "how often each address is probed, staggered (10s..7d)",
           10 * MS_SECOND, 7 * MS_DAY),
    KEY("probe", "imap_url", CONFIG_STRING, OFF(probe_imap_url), "",
        "the IMAP server where staff read CPR mail, imap://HOST:PORT/ (STARTTLS "
        "required unless HOST is a loopback address) or imaps://HOST:PORT/; the "
        "sender looks there for each probe and deletes it; empty: no mailbox stage"),
    KEY("probe", "imap_credentials_file", CONFIG_STRING, OFF(probe_imap_credentials_file), "",
        "file whose first line is USER:PASSWORD for the IMAP login; required "
        "with imap_url"),
    KEY("probe", "mailbox", CONFIG_STRING, OFF(probe_mailbox), "INBOX",
        "the IMAP folder staff read; a probe found there passes"),
    KEY("probe", "junk_folders", CONFIG_STRING, OFF(probe_junk_folders), "",
        "comma-separated IMAP folders of junk and quarantine (say Junk, "
        "Quarantine); a probe found there fails as \"filed as junk\""),
    RANGED("probe", "mailbox_poll", CONFIG_DURATION, OFF(probe_mailbox_poll_ms), "30s",
           "how often the sender looks in the mailbox while probes are under "
           "way (1s..1h)", MS_SECOND, 60 * MS_MINUTE),

    RANGED("inventory", "sources", CONFIG_NAMES, OFF(inventory_sources), "",
           "the CA's certificate inventory: source names, tried in order, each a "
           "[source NAME] section; cpr-sweeper looks each report's evidence up in "
           "them; empty: no lookups (at most 8)", 0, 8),
    KEY("inventory", "issuers", CONFIG_STRING, OFF(inventory_issuers), "",
        "directory of the issuing CA certificates (PEM or DER), used to verify "
        "OCSP responses and CRLs of the affected certificates; empty: none"),
    RANGED("inventory", "key_recheck", CONFIG_DURATION, OFF(inventory_key_recheck_ms), "1h",
           "look every verified compromised key up again this often, so a "
           "certificate issued on it after the report pages (1s..7d)",
           MS_SECOND, 7 * MS_DAY),
    RANGED("inventory", "retry_base", CONFIG_DURATION, OFF(inventory_retry_base_ms), "30s",
           "first retry delay of a lookup whose source failed; doubled each "
           "retry, with jitter (100ms..1h)", 100, MS_HOUR),
    RANGED("inventory", "retry_cap", CONFIG_DURATION, OFF(inventory_retry_cap_ms), "30m",
           "longest retry delay of a lookup, at least retry_base (1s..1d)",
           MS_SECOND, MS_DAY),
    RANGED("inventory", "page_after_failures", CONFIG_INT, OFF(inventory_page_after), "5",
           "failed lookups of one case in a row that page tier 1 (1..100)", 1, 100),
    RANGED("inventory", "max_certificates", CONFIG_INT, OFF(inventory_max_certs), "10000",
           "most certificates one lookup stores for a case; more is said in the "
           "lookup event (1..1000000)", 1, 1000000),

    CHOICE("source *", "type", SOURCE(type), "postgresql|directory",
           "postgresql (the CA's issuance database, read-only) or directory "
           "(issued certificates, PEM or DER); required"),
    KEY("source *", "conninfo_file", CONFIG_STRING, SOURCE(conninfo_file), "",
        "postgresql: file whose first line is the libpq conninfo of the "
        "issuance database (a read-only role); required"),
    KEY("source *", "by_serial", CONFIG_STRING, SOURCE(by_serial), "",
        "postgresql: query of the certificates with serial $1 (lower-case hex, "
        "no leading zeros); empty: not asked"),
    KEY("source *", "by_sha256", CONFIG_STRING, SOURCE(by_sha256), "",
        "postgresql: query of the certificate whose SHA-256 fingerprint is $1 "
        "(64 lower-case hex digits); empty: not asked"),
    KEY("source *", "by_spki_sha256", CONFIG_STRING, SOURCE(by_spki_sha256), "",
        "postgresql: query of every certificate whose SubjectPublicKeyInfo "
        "SHA-256 is $1 (64 lower-case hex digits); empty: not asked"),
    KEY("source *", "by_issuer_serial", CONFIG_STRING, SOURCE(by_issuer_serial), "",
        "postgresql: query of the certificate and precertificate with an issuer "
        "and serial, $1 a JSON object {\"issuer\": RFC 2253 name, \"serial\": hex}; "
        "empty: not asked"),
    RANGED("source *", "max_rows", CONFIG_INT, SOURCE(max_rows), "10000",
           "postgresql: rows of one query read, at most; the rest are refused "
           "and said in the lookup event (1..1000000)", 1, 1000000),
    RANGED("source *", "timeout", CONFIG_DURATION, SOURCE(timeout_ms), "10s",
           "postgresql: connect and statement deadline (1s..5m)",
           MS_SECOND, 5 * MS_MINUTE),
    KEY("source *", "path", CONFIG_STRING, SOURCE(path), "",
        "directory: the directory of issued certificates (PEM or DER, one or "
        "more per file; FILE.contact holds the Subscriber address), indexed at "
        "start, on SIGHUP and when it changes; required"),
    RANGED("source *", "max_files", CONFIG_INT, SOURCE(max_files), "100000",
           "directory: certificates indexed, at most (and twice as many files "
           "examined); past it the index is refused (1..10000000)", 1, 10000000),
    RANGED("source *", "max_file_bytes", CONFIG_BYTES, SOURCE(max_file_bytes), "65536",
           "directory: larger files are skipped and logged (1024..16777216)",
           1024, 16777216),

    KEY("cprctl", "conninfo", CONFIG_STRING, OFF(cprctl_conninfo), "",
        "libpq connection string for cprctl; empty: [database] conninfo"),

    RANGED("inventory", "recheck", CONFIG_DURATION, OFF(inv_recheck_ms), "15m",
           "while a case's revocation clock runs, or staff have claimed it revoked "
           "and publication is not yet seen, each affected certificate's OCSP and "
           "CRL are checked again this often, the CRL by a conditional GET (1s..1d)",
           MS_SECOND, MS_DAY),
    RANGED("inventory", "publish_grace", CONFIG_DURATION, OFF(inv_publish_grace_ms), "30m",
           "a staff claim (cprctl revoked) not seen published in OCSP and the CRL "
           "within this long pages tier 1, naming the certificates still good "
           "(1s..7d)", MS_SECOND, 7 * MS_DAY),
    RANGED("inventory", "check_batch", CONFIG_INT, OFF(inv_check_batch), "50",
           "most affected certificates whose revocation is checked in one sweeper "
           "pass; the rest wait for the next (1..10000)", 1, 10000),
    RANGED("inventory", "crl_cache", CONFIG_INT, OFF(inv_crl_cache), "64",
           "CRLs cpr-sweeper keeps in memory, each until its nextUpdate; the least "
           "recently used goes first (1..4096)", 1, 4096),

    KEY("issuer *", "cert", CONFIG_STRING, ISSUER(cert), "",
        "the issuing CA's certificate (PEM or DER file); an affected certificate "
        "is checked against the [issuer NAME] whose subject is its issuer and "
        "whose key signed it; required"),
    KEY("issuer *", "ocsp_url", CONFIG_STRING, ISSUER(ocsp_url), "",
        "an OCSP responder for this issuer's certificates, asked besides the "
        "one in their AIA (http:// or https://); empty: only the AIA one"),
    KEY("issuer *", "crl_url", CONFIG_STRING, ISSUER(crl_url), "",
        "a CRL for this issuer's certificates (as disclosed in CCADB), fetched "
        "besides the certificate's CRL distribution point; empty: only that"),

    KEY("web", "listen", CONFIG_STRING, OFF(web_listen), "127.0.0.1:8480",
        "where cpr-web serves the acknowledge links, HOST:PORT with HOST a numeric "
        "IPv4 or [IPv6] address; plain HTTP, meant for the CA's reverse proxy"),
    KEY("web", "conninfo", CONFIG_STRING, OFF(web_conninfo), "",
        "libpq connection string for cpr-web (role cpr_web); empty: [database] conninfo"),
    KEY("web", "user", CONFIG_STRING, OFF(web_user), "",
        "user cpr-web switches to after start, when started as root; empty: keep the "
        "current user"),
    KEY("web", "secret_file", CONFIG_STRING, OFF(web_secret_file), "",
        "file whose first line (32 bytes or more) keys the links' HMAC-SHA256; not "
        "readable by others; shared by cpr-sweeper and cpr-web; empty: no links"),
    KEY("web", "public_url", CONFIG_STRING, OFF(web_public_url), "",
        "the address of cpr-web as staff reach it through the proxy, e.g. "
        "https://cpr.example.com; links are PUBLIC_URL/ack/TOKEN; empty: no links"),
    RANGED("web", "link_ttl", CONFIG_DURATION, OFF(web_link_ttl_ms), "24h",
           "how long a link works after its page (1m..7d)", MS_MINUTE, 7 * MS_DAY),
    KEY("web", "identity_header", CONFIG_STRING, OFF(web_identity_header), "",
        "request header in which the reverse proxy names the signed-in person "
        "(e.g. X-Remote-User), believed only from trusted_proxies; empty: none"),
    KEY("web", "trusted_proxies", CONFIG_STRING, OFF(web_trusted_proxies), "",
        "comma-separated numeric addresses of the reverse proxies whose "
        "identity_header is believed; empty: none"),
    RANGED("web", "max_connections", CONFIG_INT, OFF(web_max_connections), "32",
           "connections cpr-web serves at once (1..1024)", 1, 1024),
    RANGED("web", "timeout", CONFIG_DURATION, OFF(web_timeout_ms), "10s",
           "an idle connection is closed, and a database call given up, after "
           "this long (1s..5m)", MS_SECOND, 5 * MS_MINUTE),

    {"log", "facility", CONFIG_CHOICE, OFF(log_facility), "mail",
     "syslog facility of cpr-milter and cpr-sweeper when daemonized: mail, daemon, "
     "user or local0..local7", 0, 0, 0, LOG_FACILITY_CHOICES},
    KEY(NULL, NULL, CONFIG_STRING, 0, NULL, NULL)
};

/* A templated section [WORD NAME]: one element of an array in the config. */
struct config_template {
    const char *word;          /* "tier" */
    const char *section;       /* "tier *", as in config_keys[] */
    size_t size;               /* of one element; its first member is name */
    size_t array, count;       /* offsets in struct cpr_config */
};

static const struct config_template config_templates[] = {
    {"tier", "tier *", sizeof(struct config_tier), OFF(tier_defs),
     OFF(ntier_defs)},
    {"channel", "channel *", sizeof(struct config_channel), OFF(channel_defs),
     OFF(nchannel_defs)},
    {"issuer", "issuer *", sizeof(struct config_issuer), OFF(issuer_defs),
     OFF(nissuer_defs)},
    {"source", "source *", sizeof(struct config_source), OFF(source_defs),
     OFF(nsource_defs)},
};

_Static_assert(offsetof(struct config_tier, name) == 0, "name comes first");
_Static_assert(offsetof(struct config_channel, name) == 0, "name comes first");
_Static_assert(offsetof(struct config_issuer, name) == 0, "name comes first");
_Static_assert(offsetof(struct config_source, name) == 0, "name comes first");

/* ---- the table ---- */

static bool
config_templated(const char *pattern)
{
    return g_str_has_suffix(pattern, " *");
}

/* "tier *" matches "tier NAME" for any non-empty NAME; others exactly. */
static bool
config_section_matches(const char *pattern, const char *section)
{
    size_t n = strlen(pattern);

    if (config_templated(pattern))
        return strncmp(section, pattern, n - 1) == 0 && section[n - 1] != '\0';
    return strcmp(pattern, section) == 0;
}

static const struct config_key *
config_find(const char *section, const char *key)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        if (config_section_matches(k->section, section)
            && (key == NULL || strcmp(k->key, key) == 0))
            return k;
    return NULL;
}

/* The template of "tier", "tier " or "tier NAME"; NULL for other sections. */
static const struct config_template *
config_template_of(const char *section)
{
    size_t i, n;

    for (i = 0; i < G_N_ELEMENTS(config_templates); i++) {
        n = strlen(config_templates[i].word);
        if (strncmp(section, config_templates[i].word, n) == 0
            && (section[n] == '\0' || section[n] == ' '))
            return &config_templates[i];
    }
    return NULL;
}

/* Parse the default of every key of pattern's section (NULL: every key of
 * a plain section) into base. */
static void
config_fill_defaults(const char *pattern, void *base)
{
    const struct config_key *k;
    char *why;

    for (k = config_keys; k->key != NULL; k++) {
        if (pattern ? strcmp(k->section, pattern) != 0
                    : config_templated(k->section))
            continue;
        if (k->def != NULL && (why = config_parse_value(k, k->def, base)) != NULL)
            g_error("config: default of [%s] %s: %s", k->section, k->key, why);
    }
}

static void
config_free_fields(const char *pattern, void *base)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++) {
        if (pattern ? strcmp(k->section, pattern) != 0
                    : config_templated(k->section))
            continue;
        if (k->type == CONFIG_STRING || k->type == CONFIG_CHOICE)
            g_free(*(char **) FIELD(base, k));
        else if (k->type == CONFIG_ADDRESSES || k->type == CONFIG_RECIPIENTS
                 || k->type == CONFIG_NAMES)
            g_strfreev(*(char ***) FIELD(base, k));
    }
}

/* Append a zeroed element named name to t's array, with its defaults.
 * The array pointer is copied with memcpy: its real type is the element's
 * struct pointer, which a char * lvalue may not alias. */
static void *
config_section_new(struct cpr_config *cfg, const struct config_template *t,
                   const char *name)
{
    size_t *count = (size_t *) ((char *) cfg + t->count);
    char *array, *elem;

    memcpy(&array, (char *) cfg + t->array, sizeof(array));
    array = g_realloc_n(array, *count + 1, t->size);
    memcpy((char *) cfg + t->array, &array, sizeof(array));
    elem = array + *count * t->size;
    memset(elem, 0, t->size);
    (*count)++;
    *(char **) elem = g_strdup(name);
    config_fill_defaults(t->section, elem);
    return elem;
}

static void
config_free_sections(struct cpr_config *cfg, const struct config_template *t)
{
    size_t count = *(size_t *) ((char *) cfg + t->count), i;
    char *array;

    memcpy(&array, (char *) cfg + t->array, sizeof(array));
    for (i = 0; i < count; i++) {
        config_free_fields(t->section, array + i * t->size);
        g_free(*(char **) (array + i * t->size));
    }
    g_free(array);
}

struct cpr_config *
config_defaults(void)
{
    struct cpr_config *cfg = g_new0(struct cpr_config, 1);

    config_fill_defaults(NULL, cfg);
    return cfg;
}

struct cpr_config *
config_load_checked(const char *path, bool (*check)(const struct cpr_config *, char **),
                    char **err)
{
    struct cpr_config *cfg = config_load(path, err);

    if (cfg != NULL && !check(cfg, err)) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

void
config_free(struct cpr_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    config_free_fields(NULL, cfg);
    for (i = 0; i < G_N_ELEMENTS(config_templates); i++)
        config_free_sections(cfg, &config_templates[i]);
    if (cfg->lines != NULL)
        g_hash_table_destroy(cfg->lines);
    if (cfg->probe_secret != NULL)
        memset(cfg->probe_secret, 0, strlen(cfg->probe_secret));
    g_free(cfg->probe_secret);
    g_free(cfg->path);
    g_free(cfg);
}

void
config_print_keys(FILE *fp)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        fprintf(fp, "[%s] %s = %s  # %s\n", k->section, k->key,
                k->def != NULL ? k->def : "", k->doc);
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
    GHashTable *lines;         /* "section\nkey" -> line; "section\n" ->
                                  line of its first header */
    char *section;             /* current section, points into the text */
};

static int
config_lookup_line(GHashTable *lines, const char *section, const char *key)
{
    char *name = g_strdup_printf("%s\n%s", section, key ? key : "");
    int line = GPOINTER_TO_INT(g_hash_table_lookup(lines, name));

    g_free(name);
    return line;
}

/* [tier], [tier ] and [tier bad name] are errors; [tier NAME] is not. */
static char *
config_scan_name(struct config_scan *s, const struct config_template *t,
                 int lineno)
{
    const char *name = s->section + strlen(t->word);
    char *why, *msg;

    if (*name == ' ')
        name++;
    if (*name == '\0')
        return g_strdup_printf("%s:%d: [%s]: a name is required: [%s NAME]",
                               s->path, lineno, s->section, t->word);
    if ((why = config_name_check(name)) == NULL)
        return NULL;
    msg = g_strdup_printf("%s:%d: [%s %s]: %s", s->path, lineno, t->word,
                          "NAME", why);
    g_free(why);
    return msg;
}

static char *
config_scan_group(struct config_scan *s, char *line, int lineno)
{
    char *end = strrchr(line, ']'), *why = NULL;
    const struct config_template *t;

    if (end != NULL)
        *end = '\0';
    s->section = line + 1;
    if ((t = config_template_of(s->section)) != NULL)
        why = config_scan_name(s, t, lineno);
    else if (config_find(s->section, NULL) == NULL)
        why = g_strdup_printf("%s:%d: unknown section [%s]", s->path, lineno,
                              s->section);
    if (why == NULL && config_lookup_line(s->lines, s->section, NULL) == 0)
        g_hash_table_insert(s->lines, g_strdup_printf("%s\n", s->section),
                            GINT_TO_POINTER(lineno));
    return why;
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

/* Parse [group] k, if set, into base. */
static char *
config_apply_key(const struct cpr_config *cfg, GKeyFile *kf, const char *group,
                 const struct config_key *k, void *base)
{
    char *val, *why, *msg = NULL;

    if ((val = g_key_file_get_value(kf, group, k->key, NULL)) == NULL)
        return NULL;
    if ((why = config_parse_value(k, g_strstrip(val), base)) != NULL) {
        msg = g_strdup_printf("%s:%d: [%s] %s: %s", cfg->path,
                              config_lookup_line(cfg->lines, group, k->key),
                              group, k->key, why);
        g_free(why);
    }
    g_free(val);
    return msg;
}

/* One [tier NAME] or [channel NAME]: a new element, then its keys. */
static char *
config_apply_section(struct cpr_config *cfg, GKeyFile *kf,
                     const struct config_template *t, const char *group)
{
    void *elem = config_section_new(cfg, t, group + strlen(t->word) + 1);
    const struct config_key *k;
    char *why = NULL;

    for (k = config_keys; k->key != NULL && why == NULL; k++)
        if (strcmp(k->section, t->section) == 0)
            why = config_apply_key(cfg, kf, group, k, elem);
    return why;
}

static struct cpr_config *
config_apply(const char *path, GKeyFile *kf, GHashTable *lines, char **err)
{
    struct cpr_config *cfg = config_defaults();
    const struct config_key *k;
    const struct config_template *t;
    char **groups = g_key_file_get_groups(kf, NULL);
    size_t i;

    cfg->path = g_strdup(path);
    cfg->lines = lines;
    for (k = config_keys; k->key != NULL && *err == NULL; k++)
        if (!config_templated(k->section))
            *err = config_apply_key(cfg, kf, k->section, k, cfg);
    for (i = 0; groups[i] != NULL && *err == NULL; i++)
        if ((t = config_template_of(groups[i])) != NULL)
            *err = config_apply_section(cfg, kf, t, groups[i]);
    g_strfreev(groups);
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
        cfg = config_apply(path, kf, lines, err);   /* takes lines */
    if (kf != NULL)
        g_key_file_free(kf);
    g_free(text);
    return cfg;
}

/* ---- what the programs ask ---- */

int
config_line(const struct cpr_config *cfg, const char *section, const char *key)
{
    return cfg->lines != NULL ? config_lookup_line(cfg->lines, section, key) : 0;
}

/* The len bytes before "<address>", blanks after it aside, are a display
 * name that needs no quoting, or one quoted string: "Reports, CA". */
static bool
config_phrase_ok(const char *name, size_t len)
{
    static const char atext[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                                "vwxyz0123456789!#$%&'*+-/=?^_`{|}~. ";
    size_t i;

    while (len > 0 && name[len - 1] == ' ')
        len--;
    if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
        for (i = 1; i < len - 1; i++)
            if (name[i] == '"' || name[i] == '\\')
                return false;
        return true;
    }
    for (i = 0; i < len; i++)
        if (strchr(atext, name[i]) == NULL)
            return false;
    return true;
}

/* "file:line: [section] key: problem" into *err (g_free); returns false. */
bool
config_fail(const struct cpr_config *cfg, char **err, const char *section,
            const char *key, const char *fmt, ...)
{
    const char *path = cfg->path != NULL ? cfg->path : "(defaults)";
    int line = key != NULL ? config_line(cfg, section, key) : 0;
    char where[32] = "";
    char *why;
    va_list ap;

    if (line == 0)
        line = config_line(cfg, section, NULL);
    if (line > 0)
        snprintf(where, sizeof(where), ":%d", line);
    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    *err = g_strdup_printf("%s%s: [%s]%s%s: %s", path, where, section,
                           key != NULL ? " " : "", key != NULL ? key : "", why);
    g_free(why);
    return false;
}

/* Why from is not one mailbox, "address" or "Name <address>", or NULL. */
static const char *
config_from_problem(const char *from)
{
    const char *lt = strchr(from, '<'), *gt = strchr(from, '>'), *p;
    const char *bad = "must be an address or \"Name <address>\"";
    char *norm;

    if (*from == '\0')
        return "required when enabled = yes";
    for (p = from; *p != '\0'; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
            return "printable ASCII only: no CR, LF or other control character";
    if (strchr(from, '@') == NULL || strchr(from, '@') != strrchr(from, '@'))
        return "must hold exactly one address (one '@')";
    if ((lt == NULL) != (gt == NULL) || lt != strrchr(from, '<')
        || gt != strrchr(from, '>') || (gt != NULL && gt[1] != '\0')
        || (lt != NULL && !config_phrase_ok(from, (size_t) (lt - from))))
        return bad;
    if ((norm = address_normalise(lt != NULL ? lt : from)) == NULL)
        return bad;
    free(norm);
    return NULL;
}

static bool
config_smtp_url_ok(const char *url)
{
    return g_ascii_strncasecmp(url, "smtp://", strlen("smtp://")) == 0
           || g_ascii_strncasecmp(url, "smtps://", strlen("smtps://")) == 0;
}

/* An IMAP folder name we can quote and put in a URL: printable ASCII,
 * none of the quoting or wildcard characters, not empty, not too long. */
static bool
config_folder_ok(const char *f)
{
    size_t n = strlen(f);

    if (n == 0 || n > 200 || f[0] == ' ' || f[n - 1] == ' ')
        return false;
    for (; *f != '\0'; f++)
        if (*f < 0x20 || *f > 0x7e || strchr("\"\\%*", *f) != NULL)
            return false;
    return true;
}

/* The mailbox stage: an imap:// or imaps:// URL with no folder in it,
 * credentials, and folder names that can be sent as they are. */
static bool
config_check_probe_imap(const struct cpr_config *cfg, char **err)
{
    const char *u = cfg->probe_imap_url, *host, *slash;
    gchar **junk;
    bool ok = true;

    if (u[0] == '\0')
        return true;
    host = g_str_has_prefix(u, "imap://") ? u + 7 : g_str_has_prefix(u, "imaps://") ? u + 8 : "";
    slash = strchr(host, '/');
    if (host[0] == '\0' || host[0] == '/' || strpbrk(host, "@?#; \t\r\n") != NULL
        || (slash != NULL && slash[1] != '\0'))
        return config_fail(cfg, err, "probe", "imap_url",
                           "must be imap://HOST:PORT/ or imaps://HOST:PORT/, with no "
                           "folder or user in it");
    if (cfg->probe_imap_credentials_file[0] == '\0')
        return config_fail(cfg, err, "probe", "imap_credentials_file", "required with imap_url");
    if (!config_folder_ok(cfg->probe_mailbox))
        return config_fail(cfg, err, "probe", "mailbox", "not a folder name this can use "
                           "(printable ASCII without \" \\ %% *)");
    junk = g_strsplit(cfg->probe_junk_folders, ",", -1);
    for (size_t i = 0; ok && junk[i] != NULL; i++) {
        g_strstrip(junk[i]);
        if (!config_folder_ok(junk[i]))
            ok = config_fail(cfg, err, "probe", "junk_folders", "\"%s\" is not a folder name "
                             "this can use (printable ASCII without \" \\ %% *)", junk[i]);
        else if (g_ascii_strcasecmp(junk[i], cfg->probe_mailbox) == 0)
            ok = config_fail(cfg, err, "probe", "junk_folders", "\"%s\" is [probe] mailbox",
                             junk[i]);
    }
    g_strfreev(junk);
    return ok;
}

bool
config_check_probe(const struct cpr_config *cfg, char **err)
{
    const char *why;

    if (cfg->probe_send_url[0] == '\0')
        return true;
    if (cfg->probe_secret_file[0] == '\0')
        return config_fail(cfg, err, "probe", "send_url", "probes need [probe] secret_file");
    if (!config_smtp_url_ok(cfg->probe_send_url))
        return config_fail(cfg, err, "probe", "send_url", "must start with smtp:// or smtps://");
    if ((why = config_from_problem(cfg->probe_from)) != NULL)
        return config_fail(cfg, err, "probe", "from", "%s", why);
    for (size_t i = 0; cfg->probe_variants[i] != NULL; i++)
        if (!probeparts_known(cfg->probe_variants[i]))
            return config_fail(cfg, err, "probe", "variants",
                               "unknown variant \"%s\" (plain, pem-key, zip, tar-xz, der)",
                               cfg->probe_variants[i]);
    if (cfg->probe_addresses[0] == NULL && cfg->addresses[0] == NULL)
        return config_fail(cfg, err, "probe", "addresses",
                           "no address to probe (nor any in [milter] addresses)");
    return config_check_probe_imap(cfg, err);
}

bool
config_check_listen(const struct cpr_config *cfg, char **err, const char *section,
                    const char *spec)
{
    struct listen_addr a;
    const char *why;

    if (spec[0] == '\0' || listen_parse(spec, &a, &why))
        return true;
    return config_fail(cfg, err, section, "metrics_listen", "\"%s\": %s", spec, why);
}

static bool
config_check_autoreply(const struct cpr_config *cfg, char **err)
{
    const char *url = cfg->autoreply_smtp_url, *why;

    if (!config_smtp_url_ok(url))
        return config_fail(cfg, err, "autoreply", "smtp_url",
                             "must start with smtp:// or smtps://");
    if ((why = config_from_problem(cfg->autoreply_from)) != NULL)
        return config_fail(cfg, err, "autoreply", "from", "%s", why);
    if (cfg->autoreply_retry_cap_ms < cfg->autoreply_retry_base_ms)
        return config_fail(cfg, err, "autoreply", "retry_cap",
                             "shorter than retry_base");
    return true;
}

bool
config_check_milter(const struct cpr_config *cfg, char **err)
{
    if (cfg->addresses == NULL || cfg->addresses[0] == NULL) {
        *err = g_strdup_printf("%s: [milter] addresses: at least one address "
                               "required", cfg->path ? cfg->path : "(defaults)");
        return false;
    }
    /* One late beat must not page: the sweeper reads this file's value
     * when it runs on the same host, as it usually does. */
    if (cfg->milter_heartbeat_ms * 2 > cfg->milter_down_after_ms)
        return config_fail(cfg, err, "milter", "heartbeat_interval",
                           "%lld ms is more than half of [sweeper] milter_down_page_after "
                           "(%lld ms): one late beat would page", cfg->milter_heartbeat_ms,
                           cfg->milter_down_after_ms);
    if (!config_check_listen(cfg, err, "milter", cfg->milter_metrics_listen))
        return false;
    return !cfg->autoreply_enabled || config_check_autoreply(cfg, err);
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
    case PROGRAM_WEB:
        own = cfg->web_conninfo;
        break;
    }
    return own != NULL && *own != '\0' ? own : cfg->db_conninfo;
}

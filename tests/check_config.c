/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_config - unit tests for the configuration file
 * DESCRIPTION
 *   Loads small files written to $TMPDIR (or /tmp) and checks values,
 *   defaults and every kind of error, with its line number; then the
 *   sweeper's checks of the escalation ladder and secrets read from files.
 *   The documentation tests walk config_keys[] and fail when a key is
 *   missing from contrib/man/cpr-milter.conf.5.in or contrib/cpr-milter.conf
 *   (keys of [tier NAME] and [channel NAME] under any such section, even
 *   commented out), or when the example does not load, also with its
 *   commented-out lines enabled. Files of the source tree are found
 *   through $top_srcdir, which `make check` exports, else "." or "..".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "check_unit.h"
#include "config.h"
#include "pager.h"

#define LONG_LIST_ADDRESSES 400   /* ~10 KB on one line */
#define MAN_PAGE "contrib/man/cpr-milter.conf.5.in"
#define EXAMPLE "contrib/cpr-milter.conf"

/* ---- helpers ---- */

static char *
tmp_write(const char *text, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path = g_strdup_printf("%s/check_config.XXXXXX",
                                 dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);

    ck_assert_msg(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, text, len), (ssize_t) len);
    close(fd);
    return path;
}

static struct cpr_config *
load_ok(const char *text)
{
    char *path = tmp_write(text, strlen(text)), *err = NULL;
    struct cpr_config *cfg = config_load(path, &err);

    ck_assert_msg(cfg != NULL, "unexpected error: %s", err);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(cfg->path, path);
    unlink(path);
    g_free(path);
    return cfg;
}

/* Load text that must fail; the error must be "<path><expect>". */
static void
load_fails(const char *text, const char *expect)
{
    char *path = tmp_write(text, strlen(text)), *err = NULL, *want;

    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_ptr_nonnull(err);
    want = g_strconcat(path, expect, NULL);
    ck_assert_str_eq(err, want);
    unlink(path);
    g_free(want);
    g_free(path);
    g_free(err);
}

/* Load text that must fail with an error starting "<path>: ". */
static void
load_fails_prefix(const char *text, size_t len)
{
    char *path = tmp_write(text, len), *err = NULL, *want;

    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_ptr_nonnull(err);
    want = g_strconcat(path, ": ", NULL);
    ck_assert_msg(g_str_has_prefix(err, want), "error: %s", err);
    unlink(path);
    g_free(want);
    g_free(path);
    g_free(err);
}

/* ---- good files ---- */

static const char full_file[] =
    "# a full file\n"
    "[database]\n"
    "conninfo = host=db.example dbname=cpr\n"
    "\n"
    "[milter]\n"
    "  socket = unix:/run/cpr-milter/milter.sock  \n"
    "addresses = <CPR+x@CA.Example> , compliance@ca.example\n"
    "subject_tag = Off\n"
    "max_message_bytes = 1048576\n"
    "db_pool_size = 256\n"
    "db_timeout = 2500ms\n"
    "user = cpr-milter\n"
    "conninfo = user=cpr_milter\n"
    "[sweeper]\n"
    "conninfo = user=cpr_sweeper\n"
    "[cprctl]\n"
    "conninfo = user=cpr_staff\n"
    "[autoreply]\n"
    "from = cpr@ca.example\n";

START_TEST(test_full_file)
{
    struct cpr_config *cfg = load_ok(full_file);
    char *err = NULL;

    ck_assert_str_eq(cfg->db_conninfo, "host=db.example dbname=cpr");
    ck_assert_str_eq(cfg->milter_socket, "unix:/run/cpr-milter/milter.sock");
    ck_assert_str_eq(cfg->addresses[0], "cpr@ca.example");
    ck_assert_str_eq(cfg->addresses[1], "compliance@ca.example");
    ck_assert_ptr_null(cfg->addresses[2]);
    ck_assert(!cfg->subject_tag);
    ck_assert_int_eq(cfg->max_message_bytes, 1048576);
    ck_assert_int_eq(cfg->db_pool_size, 256);
    ck_assert_int_eq(cfg->db_timeout_ms, 2500);
    ck_assert_str_eq(cfg->milter_user, "cpr-milter");
    ck_assert_str_eq(cfg->milter_conninfo, "user=cpr_milter");
    ck_assert_str_eq(cfg->sweeper_conninfo, "user=cpr_sweeper");
    ck_assert_str_eq(cfg->cprctl_conninfo, "user=cpr_staff");
    ck_assert(config_check_milter(cfg, &err));
    ck_assert_ptr_null(err);
    config_free(cfg);
}
END_TEST

static void
assert_defaults(const struct cpr_config *cfg)
{
    ck_assert_str_eq(cfg->milter_socket, "inet:8895@127.0.0.1");
    ck_assert_ptr_nonnull(cfg->addresses);
    ck_assert_ptr_null(cfg->addresses[0]);
    ck_assert(cfg->subject_tag);
    ck_assert_int_eq(cfg->max_message_bytes, 26214400);
    ck_assert_int_eq(cfg->db_pool_size, 16);
    ck_assert_int_eq(cfg->db_timeout_ms, 10000);
    ck_assert_str_eq(cfg->milter_user, "");
    ck_assert_str_eq(cfg->milter_conninfo, "");
    ck_assert_str_eq(cfg->db_conninfo, "host=/run/postgresql dbname=cpr");
    ck_assert_str_eq(cfg->sweeper_conninfo, "");
    ck_assert_str_eq(cfg->cprctl_conninfo, "");
    ck_assert(cfg->autoreply_enabled);
    ck_assert_str_eq(cfg->autoreply_smtp_url, "smtp://127.0.0.1:25");
    ck_assert_str_eq(cfg->autoreply_from, "");
    ck_assert_str_eq(cfg->autoreply_template, "");
    ck_assert_int_eq(cfg->rate_sender_count, 5);
    ck_assert_int_eq(cfg->rate_sender_window_ms, 3600000);
    ck_assert_int_eq(cfg->rate_domain_count, 50);
    ck_assert_int_eq(cfg->rate_domain_window_ms, 3600000);
    ck_assert(!cfg->reply_to_followups);
    ck_assert_int_eq(cfg->autoreply_retry_base_ms, 1000);
    ck_assert_int_eq(cfg->autoreply_retry_cap_ms, 300000);
    ck_assert_int_eq(cfg->autoreply_max_attempts, 10);
    ck_assert_int_eq(cfg->autoreply_lease_ms, 60000);
    ck_assert_int_eq(cfg->stuck_reply_after_ms, 300000);
}

START_TEST(test_defaults)
{
    struct cpr_config *cfg = config_defaults();
    char *err = NULL;

    assert_defaults(cfg);
    ck_assert_ptr_null(cfg->path);
    ck_assert(!config_check_milter(cfg, &err));
    ck_assert_str_eq(err, "(defaults): [milter] addresses: at least one "
                     "address required");
    g_free(err);
    config_free(cfg);
    config_free(NULL);
}
END_TEST

START_TEST(test_empty_file)
{
    struct cpr_config *cfg = load_ok("# nothing set\n\n[milter]\n");
    char *err = NULL;

    assert_defaults(cfg);
    ck_assert(!config_check_milter(cfg, &err));
    ck_assert(g_str_has_prefix(err, cfg->path));
    ck_assert(g_str_has_suffix(err, ": [milter] addresses: at least one "
                               "address required"));
    g_free(err);
    config_free(cfg);
}
END_TEST

START_TEST(test_merged_sections)
{
    struct cpr_config *cfg = load_ok(
        "[milter]\r\ndb_pool_size = 4\r\n[database]\r\nconninfo = x\r\n"
        "[milter]\r\ndb_timeout = 1m\r\n"
        "socket = inet:1@h # not a comment\r\n");

    ck_assert_int_eq(cfg->db_pool_size, 4);
    ck_assert_int_eq(cfg->db_timeout_ms, 60000);
    ck_assert_str_eq(cfg->db_conninfo, "x");
    ck_assert_str_eq(cfg->milter_socket, "inet:1@h # not a comment");
    config_free(cfg);
}
END_TEST

START_TEST(test_long_addresses_line)
{
    GString *text = g_string_new("[milter]\naddresses = ");
    struct cpr_config *cfg;
    int i;

    for (i = 0; i < LONG_LIST_ADDRESSES; i++)
        g_string_append_printf(text, "%sReports%03d+tag@Example.ORG",
                               i ? ", " : "", i);
    g_string_append(text, "\nsubject_tag = no\n");
    ck_assert_uint_gt(text->len, 10240);
    cfg = load_ok(text->str);
    ck_assert_uint_eq(g_strv_length(cfg->addresses), LONG_LIST_ADDRESSES);
    ck_assert_str_eq(cfg->addresses[0], "reports000@example.org");
    ck_assert_str_eq(cfg->addresses[LONG_LIST_ADDRESSES - 1],
                     "reports399@example.org");
    ck_assert(!cfg->subject_tag);
    config_free(cfg);
    g_string_free(text, TRUE);
}
END_TEST

START_TEST(test_conninfo_fallback)
{
    struct cpr_config *cfg = load_ok("[database]\nconninfo = D\n"
                                     "[sweeper]\nconninfo = S\n"
                                     "[cprctl]\nconninfo =\n");

    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_MILTER), "D");
    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_SWEEPER), "S");
    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_CPRCTL), "D");
    config_free(cfg);
    cfg = load_ok("[milter]\nconninfo = M\n");
    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_MILTER), "M");
    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_SWEEPER),
                     "host=/run/postgresql dbname=cpr");
    config_free(cfg);
}
END_TEST

static const struct { const char *text; bool value; } bools[] = {
    {"yes", true}, {"YES", true}, {"True", true}, {"on", true}, {"1", true},
    {"no", false}, {"No", false}, {"FALSE", false}, {"off", false},
    {"0", false},
};

START_TEST(test_bools)
{
    char *text = g_strdup_printf("[milter]\nsubject_tag = %s\n", bools[_i].text);
    struct cpr_config *cfg = load_ok(text);

    ck_assert_int_eq(cfg->subject_tag, bools[_i].value);
    config_free(cfg);
    g_free(text);
}
END_TEST

static const struct { const char *text; bool ok; long long ms; } durations[] = {
    {"250ms", true, 250}, {"0s", true, 0}, {"45s", true, 45000},
    {"30m", true, 1800000}, {"2h", true, 7200000}, {"1d", true, 86400000},
    {"7d", true, 604800000}, {"007s", true, 7000},
    {"", false, 0}, {"10", false, 0}, {"s", false, 0}, {"10x", false, 0},
    {"10S", false, 0}, {"-5s", false, 0}, {"+5s", false, 0},
    {"1.5h", false, 0}, {"10 s", false, 0}, {" 10s", false, 0},
    {"10sec", false, 0}, {"10ms5", false, 0}, {"1h30m", false, 0},
    {"9223372036854775807ms", true, 9223372036854775807LL},
    {"9223372036854775808ms", false, 0}, {"106751991167301d", false, 0},
};

START_TEST(test_durations)
{
    long long ms = -1;

    ck_assert_msg(config_parse_duration(durations[_i].text, &ms)
                  == durations[_i].ok, "\"%s\"", durations[_i].text);
    if (durations[_i].ok)
        ck_assert_int_eq(ms, durations[_i].ms);
}
END_TEST

START_TEST(test_print_keys)
{
    char *buf = NULL, *line;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    const struct config_key *k;

    config_print_keys(fp);
    fclose(fp);
    for (k = config_keys; k->key != NULL; k++) {
        line = g_strdup_printf("[%s] %s = %s  # %s\n", k->section, k->key,
                               k->def != NULL ? k->def : "", k->doc);
        ck_assert_msg(strstr(buf, line) != NULL, "missing: %s", line);
        g_free(line);
    }
    ck_assert_ptr_nonnull(strstr(buf, "[milter] db_pool_size = 16  # "));
    ck_assert_ptr_nonnull(strstr(buf, "[tier *] channels =   # "));
    ck_assert_ptr_nonnull(strstr(buf, "[channel *] type =   # "));
    free(buf);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_unknown_section)
{
    load_fails("[milter]\naddresses = a@b.example\n\n[bogus]\nx = 1\n",
               ":4: unknown section [bogus]");
    load_fails("[Milter]\n", ":1: unknown section [Milter]");
}
END_TEST

START_TEST(test_unknown_key)
{
    load_fails("[milter]\nsocket = inet:1@h\n# c\ndb_poolsize = 3\n",
               ":4: [milter] db_poolsize: unknown key");
    load_fails("[database]\nconninfo[de] = x\n",
               ":2: [database] conninfo[de]: unknown key");
    load_fails("[sweeper]\nconninfo = x\nsocket = y\n",
               ":3: [sweeper] socket: unknown key");
    load_fails("[escalation]\ntiers = a\nchannels = b\n",
               ":3: [escalation] channels: unknown key");
}
END_TEST

START_TEST(test_repeated_key)
{
    load_fails("[milter]\ndb_pool_size = 4\n# c\n\n[database]\nconninfo = x\n"
               "[milter]\ndb_pool_size = 5\n",
               ":8: [milter] db_pool_size: repeated (first set on line 2)");
    load_fails("[database]\nconninfo = a\n  conninfo=b\n",
               ":3: [database] conninfo: repeated (first set on line 2)");
}
END_TEST

START_TEST(test_same_key_other_section)
{
    struct cpr_config *cfg = load_ok("[milter]\nconninfo = a\n"
                                     "[database]\nconninfo = b\n");

    ck_assert_str_eq(cfg->milter_conninfo, "a");
    ck_assert_str_eq(cfg->db_conninfo, "b");
    config_free(cfg);
}
END_TEST

START_TEST(test_bad_int)
{
    load_fails("[milter]\n\n\n\n\n\n\n\n\n\n\ndb_pool_size = abc\n",
               ":12: [milter] db_pool_size: \"abc\" is not a number");
    load_fails("[milter]\ndb_pool_size = 12abc\n",
               ":2: [milter] db_pool_size: \"12abc\" is not a number");
    load_fails("[milter]\ndb_pool_size =\n",
               ":2: [milter] db_pool_size: \"\" is not a number");
    load_fails("[milter]\nmax_message_bytes = 25M\n",
               ":2: [milter] max_message_bytes: \"25M\" is not a number of bytes");
    load_fails("[milter]\nmax_message_bytes = 99999999999999999999\n",
               ":2: [milter] max_message_bytes: \"99999999999999999999\" "
               "is not a number of bytes");
}
END_TEST

START_TEST(test_pool_range)
{
    struct cpr_config *cfg = load_ok("[milter]\ndb_pool_size = 1\n");

    ck_assert_int_eq(cfg->db_pool_size, 1);
    config_free(cfg);
    load_fails("[milter]\ndb_pool_size = 0\n",
               ":2: [milter] db_pool_size: \"0\" is out of range (1..256)");
    load_fails("[milter]\ndb_pool_size = 257\n",
               ":2: [milter] db_pool_size: \"257\" is out of range (1..256)");
    load_fails("[milter]\ndb_pool_size = -1\n",
               ":2: [milter] db_pool_size: \"-1\" is out of range (1..256)");
    load_fails("[milter]\nmax_message_bytes = 1023\n",
               ":2: [milter] max_message_bytes: \"1023\" is out of range "
               "(1024..1073741824)");
}
END_TEST

START_TEST(test_bad_bool)
{
    load_fails("[milter]\nsubject_tag = maybe\n",
               ":2: [milter] subject_tag: \"maybe\" is not a boolean "
               "(yes/no, true/false, on/off, 1/0)");
}
END_TEST

START_TEST(test_bad_duration)
{
    load_fails("[milter]\ndb_timeout = 10\n",
               ":2: [milter] db_timeout: \"10\" is not a duration "
               "(a number followed by ms, s, m, h or d)");
    load_fails("[milter]\ndb_timeout = 2h\n",
               ":2: [milter] db_timeout: \"2h\" is out of range (1s..1h)");
    load_fails("[milter]\ndb_timeout = 999ms\n",
               ":2: [milter] db_timeout: \"999ms\" is out of range (1s..1h)");
}
END_TEST

START_TEST(test_bad_address)
{
    load_fails("[milter]\naddresses = cpr@ca.example, nobody\n",
               ":2: [milter] addresses: \"nobody\" is not a mail address");
    load_fails("[milter]\naddresses = cpr@ca.example,, x@ca.example\n",
               ":2: [milter] addresses: empty entry in the address list");
    load_fails("[milter]\naddresses = cpr@ca.example,\n",
               ":2: [milter] addresses: empty entry in the address list");
    load_fails("[milter]\naddresses = cpr @ca.example\n",
               ":2: [milter] addresses: \"cpr @ca.example\" is not a mail address");
}
END_TEST

START_TEST(test_long_bad_value_quoted_short)
{
    GString *text = g_string_new("[milter]\ndb_pool_size = ");
    char *path, *err = NULL;

    g_string_append(text, "x");
    while (text->len < 4096)
        g_string_append_c(text, 'y');
    g_string_append_c(text, '\n');
    path = tmp_write(text->str, text->len);
    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_uint_lt(strlen(err), strlen(path) + 200);
    ck_assert_ptr_nonnull(strstr(err, "...\" is not a number"));
    unlink(path);
    g_free(path);
    g_free(err);
    g_string_free(text, TRUE);
}
END_TEST

START_TEST(test_missing_file)
{
    char *err = NULL;
    const char *path = "/nonexistent/cpr-milter.conf";

    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_str_eq(err, "/nonexistent/cpr-milter.conf: No such file or directory");
    g_free(err);
}
END_TEST

START_TEST(test_syntax_error)
{
    static const char nul_file[] = "[milter]\nsocket = a\0b\n";

    static const char *const bad[] = {
        "[milter]\nthis line is not a key\n", "socket = before any section\n",
        "[milter\n", "[milter]\n=5\n",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        load_fails_prefix(bad[i], strlen(bad[i]));
    load_fails_prefix(nul_file, sizeof(nul_file) - 1);
}
END_TEST

/* ---- [autoreply] ---- */

static const char autoreply_file[] =
    "[milter]\n"                                            /* 1 */
    "addresses = cpr@ca.example\n"
    "[autoreply]\n"
    "enabled = yes\n"
    "smtp_url = SMTPS://relay.ca.example:465\n"             /* 5 */
    "from = \"Reports, CA\" <cpr+auto@ca.example>\n"
    "template = /etc/cpr-milter/autoreply.txt\n"
    "rate_per_sender = 0/7d\n"
    "rate_per_domain = 10000/1s\n"
    "reply_to_followups = on\n"                             /* 10 */
    "retry_base = 100ms\n"
    "retry_cap = 1d\n"
    "max_attempts = 100\n"
    "sender_lease = 45s\n"
    "[sweeper]\n"                                           /* 15 */
    "stuck_reply_after = 1s\n";

START_TEST(test_autoreply_file)
{
    struct cpr_config *cfg = load_ok(autoreply_file);
    char *err = NULL;

    ck_assert(cfg->autoreply_enabled);
    ck_assert_str_eq(cfg->autoreply_smtp_url, "SMTPS://relay.ca.example:465");
    ck_assert_str_eq(cfg->autoreply_from, "\"Reports, CA\" <cpr+auto@ca.example>");
    ck_assert_str_eq(cfg->autoreply_template, "/etc/cpr-milter/autoreply.txt");
    ck_assert_int_eq(cfg->rate_sender_count, 0);
    ck_assert_int_eq(cfg->rate_sender_window_ms, 7 * 86400000LL);
    ck_assert_int_eq(cfg->rate_domain_count, 10000);
    ck_assert_int_eq(cfg->rate_domain_window_ms, 1000);
    ck_assert(cfg->reply_to_followups);
    ck_assert_int_eq(cfg->autoreply_retry_base_ms, 100);
    ck_assert_int_eq(cfg->autoreply_retry_cap_ms, 86400000);
    ck_assert_int_eq(cfg->autoreply_max_attempts, 100);
    ck_assert_int_eq(cfg->autoreply_lease_ms, 45000);
    ck_assert_int_eq(cfg->stuck_reply_after_ms, 1000);
    ck_assert_msg(config_check_milter(cfg, &err), "%s", err);
    ck_assert_int_eq(config_line(cfg, "autoreply", "rate_per_domain"), 9);
    config_free(cfg);
}
END_TEST

static const struct { const char *text, *why; } bad_rates[] = {
    {"5", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"x/1h", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"5/1x", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"5/", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"/1h", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"5 / 1h", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"5/1h/1h", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"", "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"-1/1h", "has a count out of range (0..10000)"},
    {"10001/1h", "has a count out of range (0..10000)"},
    {"99999999999999999999/1h",
     "is not a rate (a number, '/' and a duration, e.g. 5/1h)"},
    {"5/0s", "has a duration out of range (1s..7d)"},
    {"5/999ms", "has a duration out of range (1s..7d)"},
    {"5/8d", "has a duration out of range (1s..7d)"},
};

START_TEST(test_bad_rates)
{
    char *text = g_strdup_printf("[autoreply]\n\nrate_per_domain = %s\n",
                                 bad_rates[_i].text);
    char *want = g_strdup_printf(":3: [autoreply] rate_per_domain: \"%s\" %s",
                                 bad_rates[_i].text, bad_rates[_i].why);

    load_fails(text, want);
    g_free(want);
    g_free(text);
}
END_TEST

START_TEST(test_bad_autoreply_values)
{
    load_fails("[autoreply]\nenabled = sometimes\n",
               ":2: [autoreply] enabled: \"sometimes\" is not a boolean "
               "(yes/no, true/false, on/off, 1/0)");
    load_fails("[autoreply]\nmax_attempts = 0\n",
               ":2: [autoreply] max_attempts: \"0\" is out of range (1..100)");
    load_fails("[autoreply]\nretry_base = 99ms\n",
               ":2: [autoreply] retry_base: \"99ms\" is out of range "
               "(100ms..1h)");
    /* The lease must outlive one send (30 s SMTP timeout): issue 10. */
    load_fails("[autoreply]\nsender_lease = 40s\n",
               ":2: [autoreply] sender_lease: \"40s\" is out of range (41s..1h)");
    load_fails("[sweeper]\nstuck_reply_after = 2d\n",
               ":2: [sweeper] stuck_reply_after: \"2d\" is out of range "
               "(1s..1d)");
    load_fails("[autoreply]\nrate_per_sender = 5/1h\nrate_per_sender = 6/1h\n",
               ":3: [autoreply] rate_per_sender: repeated (first set on "
               "line 2)");
}
END_TEST

/* config_check_milter on "[milter] addresses" plus body must fail with
 * "<path><expect>". */
static void
milter_fails(const char *body, const char *expect)
{
    char *text = g_strconcat("[milter]\naddresses = cpr@ca.example\n", body,
                             NULL);
    struct cpr_config *cfg = load_ok(text);
    char *err = NULL, *want = g_strconcat(cfg->path, expect, NULL);

    ck_assert_msg(!config_check_milter(cfg, &err), "passed: %s", body);
    ck_assert_str_eq(err, want);
    g_free(want);
    g_free(err);
    config_free(cfg);
    g_free(text);
}

static void
milter_passes(const char *body)
{
    char *text = g_strconcat("[milter]\naddresses = cpr@ca.example\n", body,
                             NULL);
    struct cpr_config *cfg = load_ok(text);
    char *err = NULL;

    ck_assert_msg(config_check_milter(cfg, &err), "%s: %s", body, err);
    config_free(cfg);
    g_free(text);
}

/* Issue 13: the milter's heartbeat, and the sweeper's liveness bounds. */
START_TEST(test_check_heartbeat)
{
    struct cpr_config *cfg = load_ok("[milter]\naddresses = cpr@ca.example\n");

    ck_assert_int_eq(cfg->milter_heartbeat_ms, 30000);
    ck_assert_int_eq(cfg->milter_down_after_ms, 120000);
    ck_assert_int_eq(cfg->milter_stop_grace_ms, 900000);
    config_free(cfg);
    milter_passes("heartbeat_interval = 1m\n[autoreply]\nenabled = no\n");
    milter_passes("heartbeat_interval = 5s\n[sweeper]\nmilter_down_page_after = 10s\n"
                  "milter_stop_grace = 0s\n[autoreply]\nenabled = no\n");
    milter_fails("heartbeat_interval = 61s\n[autoreply]\nenabled = no\n",
                 ":3: [milter] heartbeat_interval: 61000 ms is more than half of "
                 "[sweeper] milter_down_page_after (120000 ms): one late beat would page");
    load_fails("[milter]\nheartbeat_interval = 500ms\n",
               ":2: [milter] heartbeat_interval: \"500ms\" is out of range (1s..10m)");
    load_fails("[sweeper]\nmilter_down_page_after = 1s\n",
               ":2: [sweeper] milter_down_page_after: \"1s\" is out of range (2s..1d)");
    load_fails("[sweeper]\nmilter_stop_grace = 8d\n",
               ":2: [sweeper] milter_stop_grace: \"8d\" is out of range (0ms..7d)");
}
END_TEST

START_TEST(test_check_autoreply)
{
    milter_fails("", ": [autoreply] from: required when enabled = yes");
    milter_fails("[autoreply]\nenabled = yes\n",
                 ":3: [autoreply] from: required when enabled = yes");
    milter_fails("[autoreply]\nenabled = yes\n\nfrom =\n",
                 ":6: [autoreply] from: required when enabled = yes");
    milter_fails("[autoreply]\nfrom = cpr@ca.example\n"
                 "smtp_url = relay.ca.example:25\n",
                 ":5: [autoreply] smtp_url: must start with smtp:// or "
                 "smtps://");
    milter_fails("[autoreply]\nfrom = cpr@ca.example\n"
                 "smtp_url = https://relay.ca.example\n",
                 ":5: [autoreply] smtp_url: must start with smtp:// or "
                 "smtps://");
    milter_fails("[autoreply]\nfrom = cpr@ca.example\nretry_base = 10m\n",
                 ":3: [autoreply] retry_cap: shorter than retry_base");
    milter_passes("[autoreply]\nenabled = no\n");
    milter_passes("[autoreply]\nenabled = no\nsmtp_url = nonsense\n");
    milter_passes("[autoreply]\nfrom = CA Problem Reports <cpr@ca.example>\n"
                  "smtp_url = smtps://relay:465\nretry_base = 5m\n");
}
END_TEST

static const char *const good_froms[] = {
    "cpr@ca.example", "<cpr@ca.example>", "CA Problem Reports <cpr@ca.example>",
    "\"Reports, CA\" <cpr@ca.example>", "CA Reports<cpr@ca.example>",
    "CA Reports  <cpr+auto@ca.example>",
};

static const struct { const char *from, *why; } bad_froms[] = {
    {"cpr@ca.example\r\nBcc: victim@example.org",
     "printable ASCII only: no CR, LF or other control character"},
    {"cpr@ca.example\n", "printable ASCII only: no CR, LF or other control "
     "character"},
    {"R\xc3\xa9ports <cpr@ca.example>", "printable ASCII only: no CR, LF or "
     "other control character"},
    {"cpr", "must hold exactly one address (one '@')"},
    {"cpr@ca.example, other@ca.example",
     "must hold exactly one address (one '@')"},
    {"a@b <cpr@ca.example>", "must hold exactly one address (one '@')"},
    {"CA Reports cpr@ca.example", "must be an address or \"Name <address>\""},
    {"Reports <cpr@ca.example", "must be an address or \"Name <address>\""},
    {"Reports <cpr@ca.example> x", "must be an address or \"Name <address>\""},
    {"Reports, CA <cpr@ca.example>",
     "must be an address or \"Name <address>\""},
    {"\"Rep\"orts\" <cpr@ca.example>",
     "must be an address or \"Name <address>\""},
    {"<<cpr@ca.example>>", "must be an address or \"Name <address>\""},
    {"Reports <@ca.example>", "must be an address or \"Name <address>\""},
};

/* from is checked by config_check_milter, whatever config_load let in. */
START_TEST(test_check_from)
{
    struct cpr_config *cfg = load_ok("[milter]\naddresses = cpr@ca.example\n");
    char *err = NULL, *want;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(good_froms); i++) {
        g_free(cfg->autoreply_from);
        cfg->autoreply_from = g_strdup(good_froms[i]);
        ck_assert_msg(config_check_milter(cfg, &err), "%s: %s", good_froms[i],
                      err);
    }
    for (i = 0; i < G_N_ELEMENTS(bad_froms); i++) {
        g_free(cfg->autoreply_from);
        cfg->autoreply_from = g_strdup(bad_froms[i].from);
        ck_assert_msg(!config_check_milter(cfg, &err), "%s", bad_froms[i].from);
        want = g_strconcat(cfg->path, ": [autoreply] from: ", bad_froms[i].why,
                           NULL);
        ck_assert_str_eq(err, want);
        g_free(want);
        g_free(err);
    }
    config_free(cfg);
}
END_TEST

static TCase *
config_tcase_autoreply(void)
{
    TCase *tc = tcase_create("autoreply");

    tcase_add_test(tc, test_autoreply_file);
    tcase_add_loop_test(tc, test_bad_rates, 0, G_N_ELEMENTS(bad_rates));
    tcase_add_test(tc, test_bad_autoreply_values);
    tcase_add_test(tc, test_check_autoreply);
    tcase_add_test(tc, test_check_heartbeat);
    tcase_add_test(tc, test_check_from);
    return tc;
}

/* ---- the sweeper: deadlines, escalation, tiers and channels ---- */

static const char sweeper_file[] =
    "[deadlines]\n"                                         /* 1 */
    "acknowledge = 3s\n"
    "report = 24h\n"
    "warn_before = 30m, 6h,2h\n"
    "[escalation]\n"                                        /* 5 */
    "tiers = oncall, backup, management\n"
    "interval = 3s\n"
    "repeat = 1m\n"
    "[tier oncall]\n"
    "channels = pd-oncall, slack-cpr\n"                     /* 10 */
    "[tier backup]\n"
    "channels = og.backup, hook_backup\n"
    "[tier management]\n"
    "channels = mail-managers\n"
    "[channel pd-oncall]\n"                                 /* 15 */
    "type = pagerduty\n"
    "routing_key_file = /etc/cpr-milter/pd.key\n"
    "routing_key =\n"
    "[channel slack-cpr]\n"
    "type = slack\n"                                        /* 20 */
    "url_file = /etc/cpr-milter/slack.url\n"
    "[channel og.backup]\n"
    "type = opsgenie\n"
    "api_key = 0123-abcd\n"
    "url = https://api.eu.opsgenie.com/v2/alerts\n"         /* 25 */
    "[channel hook_backup]\n"
    "type = webhook\n"
    "url = http://127.0.0.1:8080/page\n"
    "bearer_token_file = /etc/cpr-milter/backup.token\n"
    "ca_file = /etc/cpr-milter/hooks-ca.pem\n"              /* 30 */
    "[channel mail-managers]\n"
    "type = email\n"
    "to = Managers+CPR@CA.Example, <ops@ca.example>\n"
    "from = cpr-sweeper@ca.example\n"
    "[sweeper]\n"                                           /* 35 */
    "conninfo = user=cpr_sweeper\n"
    "heartbeat_url = https://hc.example/ping/abc\n"
    "heartbeat_interval = 30s\n"
    "db_down_page_after = 90s\n"
    "retry_base = 500ms\n"                                  /* 40 */
    "retry_cap = 1m\n"
    "retry_max = 0\n"
    "db_check_interval = 5s\n";

static void
assert_strv(char **got, const char *const *want)
{
    size_t i;

    ck_assert_ptr_nonnull(got);
    for (i = 0; want[i] != NULL; i++) {
        ck_assert_ptr_nonnull(got[i]);
        ck_assert_str_eq(got[i], want[i]);
    }
    ck_assert_ptr_null(got[i]);
}

static void
assert_sweeper_channels(const struct cpr_config *cfg)
{
    const struct config_channel *pd = config_channel(cfg, "pd-oncall");
    const struct config_channel *og = config_channel(cfg, "og.backup");
    const struct config_channel *hook = config_channel(cfg, "hook_backup");
    const struct config_channel *mail = config_channel(cfg, "mail-managers");

    ck_assert_uint_eq(cfg->nchannel_defs, 5);
    ck_assert_ptr_eq(pd, &cfg->channel_defs[0]);
    ck_assert_str_eq(pd->type, "pagerduty");
    ck_assert_str_eq(pd->routing_key_file, "/etc/cpr-milter/pd.key");
    ck_assert_str_eq(pd->routing_key, "");
    ck_assert_str_eq(pd->url, "");
    ck_assert_str_eq(pd->ca_file, "");
    ck_assert_str_eq(config_channel(cfg, "slack-cpr")->url_file,
                     "/etc/cpr-milter/slack.url");
    ck_assert_str_eq(og->api_key, "0123-abcd");
    ck_assert_str_eq(og->url, "https://api.eu.opsgenie.com/v2/alerts");
    ck_assert_str_eq(hook->bearer_token_file, "/etc/cpr-milter/backup.token");
    ck_assert_str_eq(hook->ca_file, "/etc/cpr-milter/hooks-ca.pem");
    /* Kept as written: mail goes to exactly this address. */
    assert_strv(mail->to, (const char *const[]) {"Managers+CPR@CA.Example",
                                                 "ops@ca.example", NULL});
    ck_assert_str_eq(mail->from, "cpr-sweeper@ca.example");
    ck_assert_str_eq(mail->smtp_url, "smtp://127.0.0.1:25");
    assert_strv(pd->to, (const char *const[]) {NULL});
    ck_assert_ptr_null(config_channel(cfg, "nosuch"));
    ck_assert_ptr_null(config_channel(cfg, "oncall"));
}

START_TEST(test_sweeper_file)
{
    struct cpr_config *cfg = load_ok(sweeper_file);
    char *err = NULL;

    ck_assert_int_eq(cfg->acknowledge_ms, 3000);
    ck_assert_int_eq(cfg->report_ms, 86400000);
    ck_assert_uint_eq(cfg->nwarn, 3);       /* sorted, largest first */
    ck_assert_int_eq(cfg->warn_before_ms[0], 6 * 3600000);
    ck_assert_int_eq(cfg->warn_before_ms[1], 2 * 3600000);
    ck_assert_int_eq(cfg->warn_before_ms[2], 30 * 60000);
    assert_strv(cfg->tiers, (const char *const[]) {"oncall", "backup",
                                                  "management", NULL});
    ck_assert_int_eq(cfg->interval_ms, 3000);
    ck_assert_int_eq(cfg->repeat_ms, 60000);
    ck_assert_uint_eq(cfg->ntier_defs, 3);
    ck_assert_str_eq(cfg->tier_defs[1].name, "backup");
    ck_assert_ptr_eq(config_tier(cfg, "backup"), &cfg->tier_defs[1]);
    assert_strv(config_tier(cfg, "oncall")->channels,
                (const char *const[]) {"pd-oncall", "slack-cpr", NULL});
    ck_assert_ptr_null(config_tier(cfg, "pd-oncall"));
    assert_sweeper_channels(cfg);
    ck_assert_str_eq(config_conninfo(cfg, PROGRAM_SWEEPER), "user=cpr_sweeper");
    ck_assert_str_eq(cfg->heartbeat_url, "https://hc.example/ping/abc");
    ck_assert_int_eq(cfg->heartbeat_interval_ms, 30000);
    ck_assert_int_eq(cfg->db_down_page_after_ms, 90000);
    ck_assert_int_eq(cfg->retry_base_ms, 500);
    ck_assert_int_eq(cfg->retry_cap_ms, 60000);
    ck_assert_int_eq(cfg->retry_max, 0);
    ck_assert_int_eq(cfg->db_check_interval_ms, 5000);
    ck_assert_msg(config_check_sweeper(cfg, &err), "%s", err);
    ck_assert_ptr_null(err);
    config_free(cfg);
}
END_TEST

START_TEST(test_sweeper_defaults)
{
    struct cpr_config *cfg = config_defaults();
    char *err = NULL;

    ck_assert_int_eq(cfg->acknowledge_ms, 30 * 60000);
    ck_assert_int_eq(cfg->report_ms, 24 * 3600000);
    ck_assert_uint_eq(cfg->nwarn, 3);
    ck_assert_int_eq(cfg->warn_before_ms[0], 6 * 3600000);
    ck_assert_int_eq(cfg->warn_before_ms[2], 30 * 60000);
    assert_strv(cfg->tiers, (const char *const[]) {NULL});
    ck_assert_int_eq(cfg->interval_ms, 15 * 60000);
    ck_assert_int_eq(cfg->repeat_ms, 30 * 60000);
    ck_assert_uint_eq(cfg->ntier_defs, 0);
    ck_assert_uint_eq(cfg->nchannel_defs, 0);
    ck_assert_str_eq(cfg->heartbeat_url, "");
    ck_assert_int_eq(cfg->heartbeat_interval_ms, 60000);
    ck_assert_int_eq(cfg->db_down_page_after_ms, 120000);
    ck_assert_int_eq(cfg->retry_base_ms, 5000);
    ck_assert_int_eq(cfg->retry_cap_ms, 300000);
    ck_assert_int_eq(cfg->retry_max, 5);
    ck_assert_int_eq(cfg->db_check_interval_ms, 15000);
    ck_assert_int_eq(config_line(cfg, "escalation", "tiers"), 0);
    ck_assert(!config_check_sweeper(cfg, &err));
    ck_assert_str_eq(err, "(defaults): [escalation] tiers: at least one tier "
                     "required");
    g_free(err);
    config_free(cfg);
}
END_TEST

START_TEST(test_sweeper_lines)
{
    struct cpr_config *cfg = load_ok(sweeper_file);

    ck_assert_int_eq(config_line(cfg, "escalation", "tiers"), 6);
    ck_assert_int_eq(config_line(cfg, "escalation", NULL), 5);
    ck_assert_int_eq(config_line(cfg, "channel og.backup", "url"), 25);
    ck_assert_int_eq(config_line(cfg, "channel og.backup", NULL), 22);
    ck_assert_int_eq(config_line(cfg, "channel og.backup", "type"), 23);
    ck_assert_int_eq(config_line(cfg, "channel og.backup", "ca_file"), 0);
    ck_assert_int_eq(config_line(cfg, "milter", NULL), 0);
    config_free(cfg);
}
END_TEST

START_TEST(test_sweeper_merged_sections)
{
    struct cpr_config *cfg = load_ok(
        "[escalation]\ntiers = a\n[tier a]\n[channel c]\ntype = email\n"
        "[tier a]\nchannels = c\n[channel c]\nto = x@ca.example\n");
    char *err = NULL;

    ck_assert_uint_eq(cfg->ntier_defs, 1);
    ck_assert_uint_eq(cfg->nchannel_defs, 1);
    ck_assert_str_eq(cfg->tier_defs[0].channels[0], "c");
    ck_assert_str_eq(cfg->channel_defs[0].to[0], "x@ca.example");
    ck_assert_int_eq(config_line(cfg, "tier a", NULL), 3);
    ck_assert_msg(config_check_sweeper(cfg, &err), "%s", err);
    config_free(cfg);
    load_fails("[tier a]\nchannels = c\n[channel c]\n[tier a]\nchannels = d\n",
               ":5: [tier a] channels: repeated (first set on line 2)");
}
END_TEST

START_TEST(test_warn_before_lists)
{
    struct cpr_config *cfg = load_ok("[deadlines]\nwarn_before =\n");
    int i;
    GString *text;

    ck_assert_uint_eq(cfg->nwarn, 0);
    config_free(cfg);
    cfg = load_ok("[deadlines]\nwarn_before = 1s,2s,3s,4s,5s,6s,7s,8s\n");
    ck_assert_uint_eq(cfg->nwarn, 8);
    ck_assert_int_eq(cfg->warn_before_ms[0], 8000);
    ck_assert_int_eq(cfg->warn_before_ms[7], 1000);
    config_free(cfg);
    text = g_string_new("[deadlines]\nwarn_before = ");
    for (i = 1; i <= 9; i++)
        g_string_append_printf(text, "%s%dm", i > 1 ? ", " : "", i);
    g_string_append_c(text, '\n');
    load_fails(text->str, ":2: [deadlines] warn_before: more than 8 entries");
    g_string_free(text, TRUE);
}
END_TEST

START_TEST(test_bad_duration_list)
{
    load_fails("[deadlines]\nwarn_before = 6h, 2x\n",
               ":2: [deadlines] warn_before: \"2x\" is not a duration "
               "(a number followed by ms, s, m, h or d)");
    load_fails("[deadlines]\nwarn_before = 6h,,2h\n",
               ":2: [deadlines] warn_before: empty entry in the duration list");
    load_fails("[deadlines]\nwarn_before = 6h,\n",
               ":2: [deadlines] warn_before: empty entry in the duration list");
    load_fails("[deadlines]\nwarn_before = 6d\n",
               ":2: [deadlines] warn_before: \"6d\" is out of range (1s..5d)");
    load_fails("[deadlines]\nwarn_before = 0s\n",
               ":2: [deadlines] warn_before: \"0s\" is out of range (1s..5d)");
    load_fails("[deadlines]\nwarn_before = 1h, 60m\n",
               ":2: [deadlines] warn_before: \"60m\" repeats an earlier entry");
    load_fails("[deadlines]\nwarn_before = 6h 2h\n",
               ":2: [deadlines] warn_before: \"6h 2h\" is not a duration "
               "(a number followed by ms, s, m, h or d)");
}
END_TEST

START_TEST(test_bad_sweeper_values)
{
    load_fails("[deadlines]\nreport = 25h\n",
               ":2: [deadlines] report: \"25h\" is out of range (1s..1d)");
    load_fails("[sweeper]\nretry_max = 51\n",
               ":2: [sweeper] retry_max: \"51\" is out of range (0..50)");
    load_fails("[sweeper]\ndb_check_interval = 16s\n",
               ":2: [sweeper] db_check_interval: \"16s\" is out of range "
               "(1s..15s)");
    load_fails("[sweeper]\nretry_base = 99ms\n",
               ":2: [sweeper] retry_base: \"99ms\" is out of range (100ms..1h)");
    load_fails("[channel m]\ntype = email\nto = a@ca.example, nobody\n",
               ":3: [channel m] to: \"nobody\" is not a mail address");
    load_fails("[channel m]\nto = a@ca.example,\n",
               ":2: [channel m] to: empty entry in the address list");
}
END_TEST

START_TEST(test_bad_names)
{
    GString *text = g_string_new("[escalation]\ntiers = ");
    int i;

    load_fails("[escalation]\ntiers = a, b c\n",
               ":2: [escalation] tiers: \"b c\" is not a name "
               "(1 to 64 of A-Z a-z 0-9 _ . -)");
    load_fails("[escalation]\ntiers = a,,b\n",
               ":2: [escalation] tiers: empty entry in the name list");
    load_fails("[escalation]\ntiers = a, b, a\n",
               ":2: [escalation] tiers: \"a\" is listed twice");
    load_fails("[tier t]\nchannels = [x]\n",
               ":2: [tier t] channels: \"[x]\" is not a name "
               "(1 to 64 of A-Z a-z 0-9 _ . -)");
    for (i = 1; i <= 9; i++)
        g_string_append_printf(text, "%st%d", i > 1 ? "," : "", i);
    g_string_append_c(text, '\n');
    load_fails(text->str, ":2: [escalation] tiers: more than 8 names");
    g_string_assign(text, "[tier t]\nchannels = ");
    for (i = 1; i <= 17; i++)
        g_string_append_printf(text, "%sc%d", i > 1 ? "," : "", i);
    g_string_append_c(text, '\n');
    load_fails(text->str, ":2: [tier t] channels: more than 16 names");
    g_string_free(text, TRUE);
}
END_TEST

START_TEST(test_bad_type)
{
    load_fails("[channel x]\ntype = pager\n",
               ":2: [channel x] type: \"pager\" is not one of pagerduty, "
               "opsgenie, slack, webhook, email");
    load_fails("[channel x]\ntype = PagerDuty\n",
               ":2: [channel x] type: \"PagerDuty\" is not one of pagerduty, "
               "opsgenie, slack, webhook, email");
    load_fails("[channel x]\ntype =\n",
               ":2: [channel x] type: \"\" is not one of pagerduty, "
               "opsgenie, slack, webhook, email");
}
END_TEST

START_TEST(test_bad_templated_sections)
{
    load_fails("[escalation]\n[tier]\nchannels = a\n",
               ":2: [tier]: a name is required: [tier NAME]");
    load_fails("[channel]\n", ":1: [channel]: a name is required: [channel NAME]");
    load_fails("[channel ]\n",
               ":1: [channel ]: a name is required: [channel NAME]");
    load_fails("[tier on call]\n",
               ":1: [tier NAME]: \"on call\" is not a name "
               "(1 to 64 of A-Z a-z 0-9 _ . -)");
    load_fails("[tier  oncall]\n",
               ":1: [tier NAME]: \" oncall\" is not a name "
               "(1 to 64 of A-Z a-z 0-9 _ . -)");
    load_fails("[tiers oncall]\n", ":1: unknown section [tiers oncall]");
    load_fails("[Tier oncall]\n", ":1: unknown section [Tier oncall]");
    load_fails("[tier a]\nchannels = c\nchanels = d\n",
               ":3: [tier a] chanels: unknown key");
    load_fails("[channel c]\ntype = slack\nurl = https://x\nchannels = d\n",
               ":4: [channel c] channels: unknown key");
    load_fails("[tier a]\ntype = slack\n", ":2: [tier a] type: unknown key");
    load_fails("[channel c]\nurl = a\n\nurl = b\n",
               ":4: [channel c] url: repeated (first set on line 2)");
}
END_TEST

START_TEST(test_long_name)
{
    char name[CONFIG_NAME_MAX + 2];
    char *text;
    struct cpr_config *cfg;

    memset(name, 'n', CONFIG_NAME_MAX);
    name[CONFIG_NAME_MAX] = '\0';
    text = g_strdup_printf("[channel %s]\ntype = slack\n", name);
    cfg = load_ok(text);
    ck_assert_str_eq(cfg->channel_defs[0].name, name);
    config_free(cfg);
    g_free(text);
    strcat(name, "n");
    text = g_strdup_printf("[escalation]\ntiers = %s\n", name);
    load_fails(text, ":2: [escalation] tiers: \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
               "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" is not a name "
               "(1 to 64 of A-Z a-z 0-9 _ . -)");
    g_free(text);
}
END_TEST

/* Load text (which must load), then config_check_sweeper must fail with
 * "<path><expect>". */
static void
sweeper_fails(const char *text, const char *expect)
{
    struct cpr_config *cfg = load_ok(text);
    char *err = NULL, *want = g_strconcat(cfg->path, expect, NULL);

    ck_assert_msg(!config_check_sweeper(cfg, &err), "passed: %s", text);
    ck_assert_str_eq(err, want);
    g_free(want);
    g_free(err);
    config_free(cfg);
}

/* A one-tier ladder whose channel c1 opens on line 5. */
#define LADDER "[escalation]\ntiers = t1\n[tier t1]\nchannels = c1\n[channel c1]\n"

/* Issue 15: [paging] severity.CATEGORY, show_reporter; [channel] resolve. */
START_TEST(test_check_paging_keys)
{
    struct cpr_config *cfg = load_ok(LADDER "type = slack\nurl = https://x\nresolve = no\n"
                                     "[paging]\nseverity.abuse = Info\n");
    char *err = NULL;

    ck_assert(config_check_sweeper(cfg, &err));
    ck_assert(!cfg->channel_defs[0].resolve);
    ck_assert(!cfg->paging_show_reporter);
    ck_assert_str_eq(cfg->paging_severity[0], "critical");
    ck_assert_str_eq(cfg->paging_severity[1], "critical");
    ck_assert_str_eq(cfg->paging_severity[2], "error");
    ck_assert_str_eq(cfg->paging_severity[3], "Info");
    ck_assert_str_eq(cfg->paging_severity[4], "warning");
    config_free(cfg);
    cfg = load_ok(LADDER "type = email\nto = a@ca.example\n");
    ck_assert(cfg->channel_defs[0].resolve);       /* default yes */
    config_free(cfg);
    sweeper_fails(LADDER "type = slack\nurl = https://x\n[paging]\n"
                  "severity.misissuance = P1\n",
                  ":9: [paging] severity.misissuance: must be critical, error, warning or info");
    sweeper_fails(LADDER "type = pagerduty\nrouting_key = k\nresolve = no\n",
                  ":8: [channel c1] resolve: not used by type pagerduty");
}
END_TEST

/* Issue 14: [milter] and [sweeper] metrics_listen, off by default. */
START_TEST(test_check_metrics_listen)
{
    struct cpr_config *cfg = load_ok("[milter]\naddresses = cpr@ca.example\n");

    ck_assert_str_eq(cfg->milter_metrics_listen, "");
    ck_assert_str_eq(cfg->sweeper_metrics_listen, "");
    config_free(cfg);
    milter_passes("metrics_listen = 127.0.0.1:9478\n[autoreply]\nenabled = no\n");
    milter_passes("metrics_listen = [::1]:9478\n[autoreply]\nenabled = no\n");
    milter_fails("metrics_listen = localhost:9478\n[autoreply]\nenabled = no\n",
                 ":3: [milter] metrics_listen: \"localhost:9478\": host must be a numeric "
                 "IPv4 or IPv6 address (no names)");
    milter_fails("metrics_listen = 127.0.0.1:0\n[autoreply]\nenabled = no\n",
                 ":3: [milter] metrics_listen: \"127.0.0.1:0\": port must be a number "
                 "1..65535");
    sweeper_fails(LADDER "type = slack\nurl = https://x\n[sweeper]\nmetrics_listen = 9479\n",
                  ":9: [sweeper] metrics_listen: \"9479\": must be HOST:PORT or [IPV6]:PORT");
}
END_TEST

/* Issue 15: [channel] poll and its keys, on pagerduty and opsgenie only. */
START_TEST(test_check_poll)
{
    struct cpr_config *cfg = load_ok(LADDER "type = pagerduty\nrouting_key = r\n");
    char *err = NULL;

    ck_assert(!cfg->channel_defs[0].poll);
    ck_assert_int_eq(cfg->channel_defs[0].poll_interval_ms, 30000);
    ck_assert_int_eq(cfg->channel_defs[0].poll_rate, 60);
    ck_assert_str_eq(cfg->channel_defs[0].api_url, "");
    config_free(cfg);
    cfg = load_ok(LADDER "type = pagerduty\nrouting_key = r\npoll = yes\n"
                  "api_key_file = /k\npoll_interval = 5s\npoll_rate = 960\n"
                  "api_url = https://api.pagerduty.com\n");
    ck_assert_msg(config_check_sweeper(cfg, &err), "%s", err);
    ck_assert(cfg->channel_defs[0].poll);
    ck_assert_int_eq(cfg->channel_defs[0].poll_interval_ms, 5000);
    config_free(cfg);
    cfg = load_ok(LADDER "type = opsgenie\napi_key = k\npoll = yes\n");
    ck_assert_msg(config_check_sweeper(cfg, &err), "%s", err);
    config_free(cfg);
    sweeper_fails(LADDER "type = pagerduty\nrouting_key = r\npoll = yes\n",
                  ":8: [channel c1] poll: needs api_key or api_key_file");
    sweeper_fails(LADDER "type = slack\nurl = https://x\npoll = yes\n",
                  ":8: [channel c1] poll: not used by type slack");
    sweeper_fails(LADDER "type = webhook\nurl = https://x\npoll_interval = 5s\n",
                  ":8: [channel c1] poll_interval: not used by type webhook");
    sweeper_fails(LADDER "type = opsgenie\napi_key = k\npoll = yes\napi_url = ftp://x\n",
                  ":9: [channel c1] api_url: must start with https:// or http://");
    load_fails(LADDER "type = opsgenie\npoll_interval = 0s\n",
               ":7: [channel c1] poll_interval: \"0s\" is out of range (1s..1h)");
    load_fails(LADDER "type = opsgenie\npoll_rate = 961\n",
               ":7: [channel c1] poll_rate: \"961\" is out of range (1..960)");
}
END_TEST

START_TEST(test_check_ladder)
{
    sweeper_fails("[escalation]\ntiers =\n",
                  ":2: [escalation] tiers: at least one tier required");
    sweeper_fails("[milter]\n", ": [escalation] tiers: at least one tier required");
    sweeper_fails(LADDER "type = slack\nurl = https://x\n"
                  "[escalation]\ninterval = 1m\n"
                  "[tier t1]\n[tier t2]\nchannels = c1\n",
                  ":11: [tier t2]: not listed in [escalation] tiers");
    sweeper_fails("[escalation]\ntiers = t1, t2\n[tier t1]\nchannels = c1\n"
                  "[channel c1]\ntype = slack\nurl = https://x\n",
                  ":2: [escalation] tiers: no [tier t2] section");
    sweeper_fails("[escalation]\ntiers = t1\n[tier t1]\n",
                  ":3: [tier t1] channels: at least one channel required");
    sweeper_fails("[escalation]\ntiers = t1\n[tier t1]\n\nchannels =\n",
                  ":5: [tier t1] channels: at least one channel required");
    sweeper_fails("[escalation]\ntiers = t1\n[tier t1]\nchannels = c1, nosuch\n"
                  "[channel c1]\ntype = slack\nurl = https://x\n",
                  ":4: [tier t1] channels: no [channel nosuch] section");
}
END_TEST

START_TEST(test_check_channels)
{
    sweeper_fails(LADDER, ":5: [channel c1] type: required: pagerduty, "
                  "opsgenie, slack, webhook or email");
    sweeper_fails(LADDER "url = https://x\n", ":5: [channel c1] type: "
                  "required: pagerduty, opsgenie, slack, webhook or email");
    sweeper_fails(LADDER "type = pagerduty\n",
                  ":5: [channel c1]: type pagerduty needs routing_key or "
                  "routing_key_file");
    sweeper_fails(LADDER "type = pagerduty\nrouting_key =\nrouting_key_file =\n",
                  ":5: [channel c1]: type pagerduty needs routing_key or "
                  "routing_key_file");
    sweeper_fails(LADDER "type = opsgenie\nurl = https://api.eu.opsgenie.com\n",
                  ":5: [channel c1]: type opsgenie needs api_key or "
                  "api_key_file");
    sweeper_fails(LADDER "type = slack\n",
                  ":5: [channel c1]: type slack needs url or url_file");
    sweeper_fails(LADDER "type = webhook\nbearer_token = t\n",
                  ":5: [channel c1]: type webhook needs url or url_file");
    sweeper_fails(LADDER "type = email\nfrom = a@ca.example\n",
                  ":5: [channel c1]: type email needs to");
}
END_TEST

/* config accepts exactly the types the pager has drivers for: each
 * driver's type with its required key passes, and pager_types[] holds no
 * type without a driver. */
START_TEST(test_channel_types_are_drivers)
{
    size_t n = 0;

    for (; pager_driver_name(n) != NULL; n++) {
        const struct pager_type_info *t = pager_type_find(pager_driver_name(n));
        char *text;
        struct cpr_config *cfg;
        char *err = NULL;

        ck_assert_msg(t != NULL, "driver %s has no pager_types[] row", pager_driver_name(n));
        text = g_strdup_printf(LADDER "type = %s\n%s = %s\n", t->name, t->needs,
                               strcmp(t->needs, "url") == 0 ? "https://hooks.example/x"
                               : strcmp(t->needs, "to") == 0 ? "oncall@ca.example" : "k");
        cfg = load_ok(text);
        ck_assert_msg(config_check_sweeper(cfg, &err), "type %s: %s", t->name, err);
        config_free(cfg);
        g_free(text);
    }
    ck_assert_uint_eq(n, PAGER_NTYPES);
    for (size_t i = 0; i < PAGER_NTYPES; i++) {
        bool found = false;

        for (size_t k = 0; k < n; k++)
            found |= strcmp(pager_driver_name(k), pager_types[i].name) == 0;
        ck_assert_msg(found, "type %s has no driver", pager_types[i].name);
    }
    for (const struct config_key *k = config_keys; k->key != NULL; k++) {
        char list[128];
        GString *choices = g_string_new(NULL);

        if (strcmp(k->section, "channel *") != 0 || strcmp(k->key, "type") != 0)
            continue;
        for (size_t i = 0; i < n; i++)
            g_string_append_printf(choices, "%s%s", i ? "|" : "", pager_driver_name(i));
        ck_assert_str_eq(k->choices, choices->str);
        pager_type_list(list, sizeof(list));
        ck_assert_msg(g_str_has_prefix(k->doc, list), "doc \"%s\" lacks \"%s\"", k->doc, list);
        g_string_free(choices, TRUE);
    }
}
END_TEST

START_TEST(test_check_channel_keys)
{
    sweeper_fails(LADDER "type = pagerduty\nrouting_key = k\n"
                  "routing_key_file = /k\n",
                  ":8: [channel c1] routing_key_file: routing_key is set too; "
                  "give one of them");
    sweeper_fails(LADDER "api_key_file = /k\ntype = opsgenie\napi_key = k\n",
                  ":6: [channel c1] api_key_file: api_key is set too; "
                  "give one of them");
    sweeper_fails(LADDER "type = webhook\nurl = https://x\nurl_file = /u\n",
                  ":8: [channel c1] url_file: url is set too; give one of them");
    sweeper_fails(LADDER "type = webhook\nurl = https://x\nbearer_token = t\n"
                  "bearer_token_file = /t\n",
                  ":9: [channel c1] bearer_token_file: bearer_token is set too; "
                  "give one of them");
    sweeper_fails(LADDER "type = slack\nurl = https://x\nrouting_key = k\n",
                  ":8: [channel c1] routing_key: not used by type slack");
    sweeper_fails(LADDER "type = pagerduty\nrouting_key = k\nto = a@ca.example\n",
                  ":8: [channel c1] to: not used by type pagerduty");
    sweeper_fails(LADDER "type = pagerduty\nrouting_key = k\n"
                  "smtp_url = smtp://x\n",
                  ":8: [channel c1] smtp_url: not used by type pagerduty");
    sweeper_fails(LADDER "type = email\nto = a@ca.example\nurl = https://x\n",
                  ":8: [channel c1] url: not used by type email");
    sweeper_fails(LADDER "type = slack\nurl = hooks.slack.com/services/x\n",
                  ":7: [channel c1] url: must start with https:// or http://");
    sweeper_fails(LADDER "type = email\nto = a@ca.example\n"
                  "smtp_url = mail.ca.example:25\n",
                  ":8: [channel c1] smtp_url: must start with smtp:// or "
                  "smtps://");
}
END_TEST

/* Every type with the least it needs, an unused channel and empty keys of
 * other types pass. */
START_TEST(test_check_channel_minimal)
{
    static const char *const bodies[] = {
        "type = pagerduty\nrouting_key = k\nurl_file = /u\n",
        "type = opsgenie\napi_key_file = /k\napi_key =\n",
        "type = slack\nurl_file = /u\nrouting_key =\n",
        "type = webhook\nurl = HTTPS://x\n",
        "type = email\nto = a@ca.example\nsmtp_url = smtps://relay:465\n",
    };
    struct cpr_config *cfg;
    char *text, *err = NULL;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bodies); i++) {
        text = g_strconcat(LADDER, bodies[i], "[channel spare]\ntype = email\n"
                           "to = b@ca.example\n", NULL);
        cfg = load_ok(text);
        ck_assert_msg(config_check_sweeper(cfg, &err), "%s: %s", bodies[i], err);
        config_free(cfg);
        g_free(text);
    }
}
END_TEST

START_TEST(test_check_retry)
{
    sweeper_fails(LADDER "type = slack\nurl = https://x\n"
                  "[sweeper]\nretry_base = 10m\n",
                  ":8: [sweeper] retry_cap: shorter than retry_base");
    sweeper_fails(LADDER "type = slack\nurl = https://x\n"
                  "[sweeper]\nretry_base = 1m\nretry_cap = 59s\n",
                  ":10: [sweeper] retry_cap: shorter than retry_base");
}
END_TEST

/* ---- secrets ---- */

#define SECRET_MARK "TOPSECRET"

/* config_read_secret on a file with this content must fail with
 * "<path><expect>" and must not quote the content. */
static void
secret_fails(const char *text, size_t len, const char *expect)
{
    char *path = tmp_write(text, len), *err = NULL, *want;

    ck_assert_ptr_null(config_read_secret(NULL, path, &err));
    ck_assert_ptr_nonnull(err);
    want = g_strconcat(path, expect, NULL);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(strstr(err, SECRET_MARK));
    unlink(path);
    g_free(want);
    g_free(path);
    g_free(err);
}

static char *
secret_ok(const char *text)
{
    char *path = tmp_write(text, strlen(text)), *err = NULL;
    char *secret = config_read_secret("", path, &err);

    ck_assert_msg(secret != NULL, "%s", err);
    ck_assert_ptr_null(err);
    unlink(path);
    g_free(path);
    return secret;
}

START_TEST(test_secret_inline)
{
    char *err = NULL, *secret = config_read_secret("k3y", NULL, &err);

    ck_assert_str_eq(secret, "k3y");
    ck_assert_ptr_null(err);
    g_free(secret);
    secret = config_read_secret("k3y", "", &err);
    ck_assert_str_eq(secret, "k3y");
    g_free(secret);
    ck_assert_ptr_null(config_read_secret("", NULL, &err));
    ck_assert_str_eq(err, "no secret given, neither inline nor in a file");
    g_free(err);
    ck_assert_ptr_null(config_read_secret(SECRET_MARK, "/etc/k", &err));
    ck_assert_str_eq(err, "/etc/k: a secret is given inline too; give one of "
                     "them");
    g_free(err);
}
END_TEST

START_TEST(test_secret_file)
{
    GString *big = g_string_new(NULL);
    char *secret;

    secret = secret_ok(" \t" SECRET_MARK "-1 \r\nsecond line\n");
    ck_assert_str_eq(secret, SECRET_MARK "-1");
    g_free(secret);
    secret = secret_ok("https://hooks.slack.com/services/T/B/x");
    ck_assert_str_eq(secret, "https://hooks.slack.com/services/T/B/x");
    g_free(secret);
    while (big->len < CONFIG_SECRET_MAX)
        g_string_append_c(big, 'k');
    g_string_append(big, "\r\n");
    secret = secret_ok(big->str);
    ck_assert_uint_eq(strlen(secret), CONFIG_SECRET_MAX);
    g_free(secret);
    g_string_free(big, TRUE);
}
END_TEST

/* [probe] secret_file: off when empty, read when set, refused when short. */
/* A sweeper config that sends probes, plus extra [probe] lines: it must
 * pass config_check_sweeper (expect NULL), or fail with an error that holds
 * expect. */
static void
probe_check(const char *extra, const char *expect)
{
    char *text = g_strconcat(LADDER "type = slack\nurl = https://x\n[milter]\n"
                             "addresses = cpr@ca.example\n[probe]\nsecret_file = /nonexistent\n"
                             "send_url = smtp://relay.example.org:587\n"
                             "from = probe@monitor.example.org\n", extra, NULL);
    struct cpr_config *cfg = load_ok(text);
    char *err = NULL;
    bool ok = config_check_sweeper(cfg, &err);

    if (expect == NULL) {
        ck_assert_msg(ok, "%s: %s", extra, err);
    } else {
        ck_assert_msg(!ok, "passed: %s", extra);
        ck_assert_msg(strstr(err, expect) != NULL, "%s: got %s, want %s", extra, err, expect);
    }
    g_free(err);
    g_free(text);
    config_free(cfg);
}

START_TEST(test_probe_imap)
{
    struct cpr_config *cfg = load_ok("[milter]\naddresses = cpr@ca.example\n");

    ck_assert_str_eq(cfg->probe_imap_url, "");
    ck_assert_str_eq(cfg->probe_mailbox, "INBOX");
    ck_assert_str_eq(cfg->probe_junk_folders, "");
    ck_assert_int_eq(cfg->probe_mailbox_poll_ms, 30000);
    config_free(cfg);
    probe_check("", NULL);
    probe_check("imap_url = imaps://imap.ca.example:993/\nimap_credentials_file = /x\n"
                "junk_folders = Junk, [Gmail]/Spam , Junk E-mail\n", NULL);
    probe_check("imap_url = imap://127.0.0.1:143\nimap_credentials_file = /x\n", NULL);
    probe_check("imap_url = imaps://imap.ca.example/\n",
                "[probe] imap_credentials_file: required with imap_url");
    probe_check("imap_url = https://imap.ca.example/\nimap_credentials_file = /x\n",
                "[probe] imap_url: must be imap://HOST:PORT/ or imaps://HOST:PORT/");
    probe_check("imap_url = imaps://imap.ca.example/INBOX\nimap_credentials_file = /x\n",
                "[probe] imap_url: must be");
    probe_check("imap_url = imaps://staff@imap.ca.example/\nimap_credentials_file = /x\n",
                "with no folder or user in it");
    probe_check("imap_url = imaps:///\nimap_credentials_file = /x\n", "[probe] imap_url");
    probe_check("imap_url = imaps://i/\nimap_credentials_file = /x\nmailbox = In\"box\n",
                "[probe] mailbox: not a folder name");
    probe_check("imap_url = imaps://i/\nimap_credentials_file = /x\njunk_folders = Junk, *\n",
                "[probe] junk_folders: \"*\" is not a folder name");
    probe_check("imap_url = imaps://i/\nimap_credentials_file = /x\njunk_folders = Junk,\n",
                "[probe] junk_folders: \"\" is not a folder name");
    probe_check("imap_url = imaps://i/\nimap_credentials_file = /x\njunk_folders = inbox\n",
                "[probe] junk_folders: \"inbox\" is [probe] mailbox");
    load_fails("[probe]\nmailbox_poll = 500ms\n",
               ":2: [probe] mailbox_poll: \"500ms\" is out of range (1s..1h)");
}
END_TEST

START_TEST(test_credentials)
{
    char *good = tmp_write("staff:pa:ss\n", 12), *bad = tmp_write(":nouser\n", 8);
    struct config_credentials c;
    char *err = NULL;

    ck_assert_msg(config_read_credentials(good, &c, &err), "%s", err);
    ck_assert_str_eq(c.user, "staff");
    ck_assert_str_eq(c.password, "pa:ss");
    config_credentials_free(&c);
    ck_assert_ptr_null(c.line);
    ck_assert(!config_read_credentials(bad, &c, &err));
    ck_assert_ptr_nonnull(strstr(err, "not USER:PASSWORD"));
    ck_assert_ptr_null(strstr(err, "nouser"));
    ck_assert_ptr_null(c.line);
    g_free(err);
    unlink(good);
    unlink(bad);
    g_free(good);
    g_free(bad);
}
END_TEST

START_TEST(test_probe_secret)
{
    char *good = tmp_write(SECRET_MARK "-0123456789\n", strlen(SECRET_MARK) + 12);
    char *shrt = tmp_write(SECRET_MARK "\n", strlen(SECRET_MARK) + 1);
    char *text, *err = NULL;
    struct cpr_config *cfg = load_ok("[milter]\naddresses = cpr@ca.example\n");

    ck_assert(config_read_probe_secret(cfg, &err));
    ck_assert_ptr_null(cfg->probe_secret);
    ck_assert_int_eq(cfg->probe_max_age_ms, 3600000);
    config_free(cfg);
    text = g_strconcat("[probe]\nsecret_file = ", good, "\nmax_age = 5m\n", NULL);
    cfg = load_ok(text);
    ck_assert_msg(config_read_probe_secret(cfg, &err), "%s", err);
    ck_assert_str_eq(cfg->probe_secret, SECRET_MARK "-0123456789");
    ck_assert_int_eq(cfg->probe_max_age_ms, 300000);
    config_free(cfg);
    g_free(text);
    text = g_strconcat("[probe]\nsecret_file = ", shrt, "\n", NULL);
    cfg = load_ok(text);
    ck_assert(!config_read_probe_secret(cfg, &err));
    ck_assert_ptr_null(cfg->probe_secret);
    ck_assert_ptr_nonnull(strstr(err, "[probe] secret_file"));
    ck_assert_ptr_nonnull(strstr(err, "shorter than 16 bytes"));
    ck_assert_ptr_null(strstr(err, SECRET_MARK));
    g_free(err);
    config_free(cfg);
    g_free(text);
    unlink(good);
    unlink(shrt);
    text = g_strconcat("[probe]\nsecret_file = ", good, "\n", NULL);
    cfg = load_ok(text);
    ck_assert(!config_read_probe_secret(cfg, &err));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    g_free(err);
    config_free(cfg);
    g_free(text);
    load_fails("[probe]\nmax_age = 10s\n", ":2: [probe] max_age: \"10s\" is out of range (1m..7d)");
    g_free(good);
    g_free(shrt);
}
END_TEST

START_TEST(test_secret_file_errors)
{
    static const char nul[] = SECRET_MARK "\0x\n";
    GString *big = g_string_new(SECRET_MARK);
    char *err = NULL;

    ck_assert_ptr_null(config_read_secret(NULL, "/nonexistent/pd.key", &err));
    ck_assert_str_eq(err, "/nonexistent/pd.key: No such file or directory");
    g_free(err);
    ck_assert_ptr_null(config_read_secret(NULL, "/", &err));
    ck_assert_str_eq(err, "/: not a regular file");
    g_free(err);
    secret_fails("", 0, ": the first line is empty");
    secret_fails(" \r\n", 3, ": the first line is empty");
    secret_fails("\n" SECRET_MARK "\n", 11, ": the first line is empty");
    secret_fails(SECRET_MARK "\tx\n", 12, ": the first line has a control "
                 "character");
    secret_fails(nul, sizeof(nul) - 1, ": the first line has a control "
                 "character");
    while (big->len <= CONFIG_SECRET_MAX)
        g_string_append_c(big, 'S');
    g_string_append_c(big, '\n');
    secret_fails(big->str, big->len, ": the first line is longer than 4096 bytes");
    g_string_truncate(big, big->len - 1);
    while (big->len < 3 * CONFIG_SECRET_MAX)
        g_string_append_c(big, 'S');
    secret_fails(big->str, big->len, ": the first line is longer than 4096 bytes");
    g_string_free(big, TRUE);
}
END_TEST

/* ---- documentation and the example ---- */

/* Path of a source-tree file, or fail the test. */
static char *
srcdir_file(const char *rel)
{
    const char *env = getenv("top_srcdir");
    const char *dirs[] = {env ? env : ".", ".", ".."};
    char *path;
    size_t i;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        path = g_build_filename(dirs[i], rel, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return path;
        g_free(path);
    }
    ck_abort_msg("cannot find %s (set top_srcdir)", rel);
    return NULL;
}

static char **
read_lines(const char *rel)
{
    char *path = srcdir_file(rel), *text = NULL;
    char **lines;

    ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "read %s", path);
    lines = g_strsplit(text, "\n", -1);
    g_free(text);
    g_free(path);
    return lines;
}

/* "[milter]"; "[tier NAME]" for the keys of every [tier NAME]. */
static char *
section_title(const struct config_key *k)
{
    if (g_str_has_suffix(k->section, " *"))
        return g_strdup_printf("[%.*s NAME]", (int) strlen(k->section) - 2,
                               k->section);
    return g_strdup_printf("[%s]", k->section);
}

/* In the man page: a ".TP" then ".B key" inside the .SS for [section]. */
static bool
man_documents(char **lines, const struct config_key *k)
{
    char *ss = section_title(k), *b = g_strdup_printf(".B %s", k->key);
    bool in = false, found = false;
    size_t i;

    for (i = 0; lines[i] != NULL && !found; i++) {
        if (g_str_has_prefix(lines[i], ".SS") || g_str_has_prefix(lines[i], ".SH"))
            in = g_str_has_prefix(lines[i], ".SS") && strstr(lines[i], ss) != NULL;
        else if (in && i > 0 && strcmp(lines[i - 1], ".TP") == 0)
            found = strcmp(g_strchomp(lines[i]), b) == 0;
    }
    g_free(ss);
    g_free(b);
    return found;
}

/* Does the example header "[name]" (maybe commented out) open k's section?
 * A templated key belongs under any [tier NAME], e.g. [tier oncall]. */
static bool
example_header_opens(const char *p, const struct config_key *k)
{
    size_t n = strlen(k->section), len = strlen(p);
    char *name = g_strndup(p + 1, len - 2);
    bool in;

    if (g_str_has_suffix(k->section, " *"))
        in = strncmp(name, k->section, n - 1) == 0 && name[n - 1] != '\0';
    else
        in = strcmp(name, k->section) == 0;
    g_free(name);
    return in;
}

/* A whole-line "[name]" or "# [name]". */
static bool
example_is_header(const char *p)
{
    if (*p == '#')
        p += 1 + strspn(p + 1, " \t");
    return *p == '[' && strchr(p, ']') == p + strlen(p) - 1;
}

/* In the example: "key =" or "# key =" under the [section] header, which
 * may itself be commented out. */
static bool
example_shows(char **lines, const struct config_key *k)
{
    char *p;
    bool in = false, found = false;
    size_t i, n = strlen(k->key);

    for (i = 0; lines[i] != NULL && !found; i++) {
        p = g_strstrip(lines[i]);
        if (example_is_header(p)) {
            if (*p == '#')
                p = g_strchug(p + 1);
            in = example_header_opens(p, k);
            continue;
        }
        if (*p == '#')
            p = g_strchug(p + 1);
        found = in && strncmp(p, k->key, n) == 0 && *g_strchug(p + n) == '=';
    }
    return found;
}

START_TEST(test_keys_in_man_page)
{
    char **lines = read_lines(MAN_PAGE);
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        ck_assert_msg(man_documents(lines, k), "%s: [%s] %s is not documented",
                      MAN_PAGE, k->section, k->key);
    g_strfreev(lines);
}
END_TEST

START_TEST(test_keys_in_example)
{
    char **lines;
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++) {
        lines = read_lines(EXAMPLE);
        ck_assert_msg(example_shows(lines, k), "%s: [%s] %s is missing",
                      EXAMPLE, k->section, k->key);
        g_strfreev(lines);
    }
}
END_TEST

START_TEST(test_example_loads)
{
    char *path = srcdir_file(EXAMPLE), *err = NULL;
    struct cpr_config *cfg = config_load(path, &err);

    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_msg(config_check_milter(cfg, &err), "%s", err);
    ck_assert(cfg->autoreply_enabled);
    ck_assert_str_eq(cfg->autoreply_from, "CA Problem Reports <cpr@ca.example>");
    ck_assert_str_eq(cfg->addresses[0], "cpr@ca.example");
    ck_assert_str_eq(cfg->addresses[1], "compliance@ca.example");
    ck_assert_ptr_null(cfg->addresses[2]);
    config_free(cfg);
    g_free(path);
}
END_TEST

/* The example with its commented-out headers and keys enabled: "# [x]"
 * and "# key = value" lose their "# "; prose stays a comment. */
static char *
example_enabled(void)
{
    char **lines = read_lines(EXAMPLE), *p, *text;
    GString *out = g_string_new(NULL);
    size_t i;

    for (i = 0; lines[i] != NULL; i++) {
        p = lines[i];
        if (*p == '#') {
            p += 1 + strspn(p + 1, " ");
            if (!example_is_header(p)
                && !(strspn(p, "abcdefghijklmnopqrstuvwxyz_") > 0
                     && *g_strchug(p + strspn(p, "abcdefghijklmnopqrstuvwxyz_"))
                        == '='))
                p = lines[i];
        }
        g_string_append_printf(out, "%s\n", p);
    }
    g_strfreev(lines);
    text = tmp_write(out->str, out->len);
    g_string_free(out, TRUE);
    return text;
}

START_TEST(test_example_enabled)
{
    char *path = example_enabled(), *err = NULL;
    struct cpr_config *cfg = config_load(path, &err);

    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_msg(config_check_sweeper(cfg, &err), "%s", err);
    ck_assert_uint_eq(g_strv_length(cfg->tiers), 3);
    ck_assert_uint_eq(cfg->ntier_defs, 3);
    ck_assert_uint_eq(cfg->nchannel_defs, 5);
    ck_assert_str_eq(config_channel(cfg, "mail-managers")->type, "email");
    ck_assert_str_eq(cfg->milter_user, "cpr-milter");
    ck_assert_int_eq(cfg->nwarn, 3);
    ck_assert_str_eq(cfg->autoreply_template, "/etc/cpr-milter/autoreply.txt");
    ck_assert_int_eq(cfg->rate_domain_count, 50);
    ck_assert_msg(config_check_milter(cfg, &err), "%s", err);
    config_free(cfg);
    unlink(path);
    g_free(path);
}
END_TEST

static TCase *
config_tcase_sweeper(void)
{
    TCase *tc = tcase_create("sweeper");

    tcase_add_test(tc, test_sweeper_file);
    tcase_add_test(tc, test_sweeper_defaults);
    tcase_add_test(tc, test_sweeper_lines);
    tcase_add_test(tc, test_sweeper_merged_sections);
    tcase_add_test(tc, test_warn_before_lists);
    tcase_add_test(tc, test_bad_duration_list);
    tcase_add_test(tc, test_bad_sweeper_values);
    tcase_add_test(tc, test_check_poll);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_bad_type);
    tcase_add_test(tc, test_bad_templated_sections);
    tcase_add_test(tc, test_long_name);
    tcase_add_test(tc, test_check_ladder);
    tcase_add_test(tc, test_check_metrics_listen);
    tcase_add_test(tc, test_check_paging_keys);
    tcase_add_test(tc, test_check_channels);
    tcase_add_test(tc, test_check_channel_keys);
    tcase_add_test(tc, test_channel_types_are_drivers);
    tcase_add_test(tc, test_check_channel_minimal);
    tcase_add_test(tc, test_check_retry);
    tcase_add_test(tc, test_secret_inline);
    tcase_add_test(tc, test_secret_file);
    tcase_add_test(tc, test_secret_file_errors);
    tcase_add_test(tc, test_probe_secret);
    tcase_add_test(tc, test_probe_imap);
    tcase_add_test(tc, test_credentials);
    return tc;
}

static TCase *
config_tcase_errors(void)
{
    TCase *tc = tcase_create("errors");

    tcase_add_test(tc, test_unknown_section);
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_repeated_key);
    tcase_add_test(tc, test_same_key_other_section);
    tcase_add_test(tc, test_bad_int);
    tcase_add_test(tc, test_pool_range);
    tcase_add_test(tc, test_bad_bool);
    tcase_add_test(tc, test_bad_duration);
    tcase_add_test(tc, test_bad_address);
    tcase_add_test(tc, test_long_bad_value_quoted_short);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_syntax_error);
    return tc;
}

Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("values");
    TCase *doc = tcase_create("documentation");

    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_empty_file);
    tcase_add_test(tc, test_merged_sections);
    tcase_add_test(tc, test_long_addresses_line);
    tcase_add_test(tc, test_conninfo_fallback);
    tcase_add_loop_test(tc, test_bools, 0, sizeof(bools) / sizeof(bools[0]));
    tcase_add_loop_test(tc, test_durations, 0,
                        sizeof(durations) / sizeof(durations[0]));
    tcase_add_test(tc, test_print_keys);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, config_tcase_errors());
    suite_add_tcase(s, config_tcase_sweeper());
    suite_add_tcase(s, config_tcase_autoreply());
    tcase_add_test(doc, test_keys_in_man_page);
    tcase_add_test(doc, test_keys_in_example);
    tcase_add_test(doc, test_example_loads);
    tcase_add_test(doc, test_example_enabled);
    suite_add_tcase(s, doc);
    return s;
}

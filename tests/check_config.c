/*
 * NAME
 *   check_config - unit tests for the configuration file
 * DESCRIPTION
 *   Loads small files written to $TMPDIR (or /tmp) and checks values,
 *   defaults and every kind of error, with its line number. The
 *   documentation tests walk config_keys[] and fail when a key is missing
 *   from contrib/man/cpr-milter.conf.5 or contrib/cpr-milter.conf, or when
 *   the example file does not load. Files of the source tree are found
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

#define LONG_LIST_ADDRESSES 400   /* ~10 KB on one line */
#define MAN_PAGE "contrib/man/cpr-milter.conf.5"
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
    "conninfo = user=cpr_staff\n";

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
                               k->def, k->doc);
        ck_assert_msg(strstr(buf, line) != NULL, "missing: %s", line);
        g_free(line);
    }
    ck_assert_ptr_nonnull(strstr(buf, "[milter] db_pool_size = 16  # "));
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
    /* [sweeper] takes only conninfo for now. */
    load_fails("[sweeper]\nconninfo = x\nsocket = y\n",
               ":3: [sweeper] socket: unknown key");
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

/* In the man page: a ".TP" then ".B key" inside the .SS for [section]. */
static bool
man_documents(char **lines, const struct config_key *k)
{
    char *ss = g_strdup_printf("[%s]", k->section), *b = g_strdup_printf(".B %s", k->key);
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

/* In the example: "key =" or "# key =" under the [section] header. */
static bool
example_shows(char **lines, const struct config_key *k)
{
    char *header = g_strdup_printf("[%s]", k->section), *p;
    bool in = false, found = false;
    size_t i, n = strlen(k->key);

    for (i = 0; lines[i] != NULL && !found; i++) {
        p = g_strstrip(lines[i]);
        if (*p == '[') {
            in = strcmp(p, header) == 0;
            continue;
        }
        if (*p == '#')
            p = g_strchug(p + 1);
        found = in && strncmp(p, k->key, n) == 0 && *g_strchug(p + n) == '=';
    }
    g_free(header);
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
    ck_assert(config_check_milter(cfg, &err));
    ck_assert_str_eq(cfg->addresses[0], "cpr@ca.example");
    ck_assert_str_eq(cfg->addresses[1], "compliance@ca.example");
    ck_assert_ptr_null(cfg->addresses[2]);
    config_free(cfg);
    g_free(path);
}
END_TEST

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
    tcase_add_test(doc, test_keys_in_man_page);
    tcase_add_test(doc, test_keys_in_example);
    tcase_add_test(doc, test_example_loads);
    suite_add_tcase(s, doc);
    return s;
}

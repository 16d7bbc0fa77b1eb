/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_autoreply - unit tests of the RFC 3834 table and the reply
 * DESCRIPTION
 *   Every row of autoreply_decide() and its priorities, with the headers
 *   checked even when the verdict says nothing; the subject sanitiser; and
 *   autoreply_compose(): the header set (each name once, nothing else, no
 *   line a crafted subject could start), RFC 2047, folding, threading,
 *   refused From/To/msg-ids, placeholders, and the default template, which
 *   must match contrib/autoreply.txt; random bytes in every field taken
 *   from the report; and our own reply, fed back, gets no reply.
 */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "autoreply.h"
#include "check_unit.h"
#include "classify.h"
#include "message.h"

static char *const ours[] = { "cpr@ca.example", "compliance@ca.example", NULL };

#define TRACKING "CPR-2026-000042"
#define NOW_2026_11_27 1795749240LL   /* 2026-11-27T03:14:00Z, a Friday */

/* ---- the decision table ---- */

struct row {
    const char *from;
    const char *hname, *hvalue;
    enum cpr_kind kind;         /* the verdict handed in */
    unsigned flags;
    bool follow_up, reply_to_followups;
    const char *want;           /* NULL: reply */
};

static const char *
decide(const struct row *r)
{
    struct cpr_message *m = message_new();
    struct cpr_verdict v = { .kind = r->kind, .category = "other", .flags = r->flags };
    struct autoreply_input in = { m, &v, ours, r->reply_to_followups, r->follow_up };
    const char *got;

    message_set(&m->env_from, r->from);
    message_add_header(m, "Subject", "Key compromise");
    if (r->hname)
        message_add_header(m, r->hname, r->hvalue);
    ck_assert(message_finish(m));
    got = autoreply_decide(&in);
    message_free(m);
    return got;
}

static const struct row rows[] = {
    /* replies */
    { "alice@example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, NULL },
    { "alice@example.net", "Auto-Submitted", "no", KIND_NEW_REPORT, 0, false, false, NULL },
    { "alice@example.net", "Auto-Submitted", " No (human)", KIND_NEW_REPORT, 0, false, false, NULL },
    { "alice@example.net", "Precedence", "first-class", KIND_NEW_REPORT, 0, false, false, NULL },
    { "alice@example.net", "Content-Type", "multipart/mixed; boundary=x", KIND_NEW_REPORT, 0, false, false, NULL },
    { "owner@example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, NULL },
    { "request@example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, NULL },
    { "alice@example.net", NULL, NULL, KIND_NEW_REPORT, 0, true, true, NULL },
    /* null sender */
    { "", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "null sender" },
    { NULL, NULL, NULL, KIND_NEW_REPORT, 0, false, false, "null sender" },
    { "<>", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "null sender" },
    /* our own address, with +detail and case folded */
    { "cpr@ca.example", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "our own address" },
    { "CPR+x@CA.Example", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "our own address" },
    { "Compliance@ca.example", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "our own address" },
    /* automated: the verdict, then each header and sender rule alone */
    { "alice@example.net", NULL, NULL, KIND_AUTOMATED, 0, false, false, "automated mail" },
    { "MAILER-DAEMON@mx.example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "mailer-daemon", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "owner-certs@lists.example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "certs-request@lists.example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "certs-request+bounce@lists.example.net", NULL, NULL, KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Auto-Submitted", "auto-replied", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "auto-submitted", "Auto-Generated", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Auto-Submitted", "", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Auto-Submitted", "nope", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Precedence", "bulk", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Precedence", " JUNK", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "X-Auto-Response-Suppress", "DR, OOF", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    { "alice@example.net", "Content-Type", "Multipart/Report; report-type=delivery-status", KIND_NEW_REPORT, 0, false, false, "automated mail" },
    /* list mail: the flag, then each header alone */
    { "alice@example.net", NULL, NULL, KIND_NEW_REPORT, VERDICT_FLAG_LIST, false, false, "list mail" },
    { "alice@example.net", "List-Id", "<certs.lists.example.net>", KIND_NEW_REPORT, 0, false, false, "list mail" },
    { "alice@example.net", "list-unsubscribe", "<mailto:x@example.net>", KIND_NEW_REPORT, 0, false, false, "list mail" },
    { "alice@example.net", "Precedence", "list", KIND_NEW_REPORT, 0, false, false, "list mail" },
    /* follow-ups */
    { "alice@example.net", NULL, NULL, KIND_NEW_REPORT, 0, true, false, "follow-up" },
    { "alice@example.net", NULL, NULL, KIND_FOLLOW_UP, 0, false, false, "follow-up" },
    /* priorities */
    { "", "List-Id", "<x>", KIND_AUTOMATED, VERDICT_FLAG_LIST, true, false, "null sender" },
    { "cpr@ca.example", "Auto-Submitted", "auto-replied", KIND_AUTOMATED, VERDICT_FLAG_LIST, true, false, "our own address" },
    { "alice@example.net", "Auto-Submitted", "auto-replied", KIND_NEW_REPORT, VERDICT_FLAG_LIST, true, false, "automated mail" },
    { "owner-x@example.net", "List-Id", "<x>", KIND_NEW_REPORT, 0, true, false, "automated mail" },
    { "alice@example.net", "List-Id", "<x>", KIND_NEW_REPORT, 0, true, false, "list mail" },
    { "alice@example.net", NULL, NULL, KIND_NEW_REPORT, VERDICT_FLAG_LIST, true, true, "list mail" },
};

START_TEST(test_decide_row)
{
    const struct row *r = &rows[_i];
    const char *got = decide(r);

    if (r->want == NULL)
        ck_assert_msg(got == NULL, "row %d (%s, %s: %s): got \"%s\", want a reply",
                      _i, r->from ? r->from : "(null)", r->hname ? r->hname : "-",
                      r->hvalue ? r->hvalue : "-", got);
    else
        ck_assert_msg(got != NULL && strcmp(got, r->want) == 0,
                      "row %d (%s, %s: %s): got \"%s\", want \"%s\"", _i,
                      r->from ? r->from : "(null)", r->hname ? r->hname : "-",
                      r->hvalue ? r->hvalue : "-", got ? got : "reply", r->want);
}
END_TEST

START_TEST(test_decide_hostile_input)
{
    struct cpr_message *m = message_new();
    struct autoreply_input in = { m, NULL, NULL, false, false };

    ck_assert_str_eq(autoreply_decide(NULL), "null sender");
    ck_assert_str_eq(autoreply_decide(&in), "null sender");
    message_set(&m->env_from, "alice@example.net");
    ck_assert_ptr_null(autoreply_decide(&in));   /* no verdict, no list */
    /* A second Auto-Submitted after a harmless first one still counts. */
    message_add_header(m, "Auto-Submitted", "no");
    message_add_header(m, "Auto-Submitted", "auto-generated");
    ck_assert_str_eq(autoreply_decide(&in), "automated mail");
    message_free(m);
}
END_TEST

/* The verdict from classify and the table agree on a real DSN. */
START_TEST(test_decide_with_classify)
{
    struct cpr_message *m = message_new();
    struct cpr_verdict v;
    struct autoreply_input in = { m, &v, ours, false, false };

    message_set(&m->env_from, "alice@example.net");
    message_add_header(m, "Content-Type", "multipart/report; report-type=disposition-notification");
    ck_assert(message_finish(m));
    classify_message(m, ours, NULL, &v);
    ck_assert_int_eq(v.kind, KIND_AUTOMATED);
    ck_assert_str_eq(autoreply_decide(&in), "automated mail");
    message_free(m);
}
END_TEST

/* message_decode_header() needs GMime, which message_new() sets up. */
static char *
decode(const char *raw)
{
    message_free(message_new());
    return message_decode_header(raw);
}

/* ---- the sanitiser ---- */

static void
assert_sanitised(const char *in, const char *want)
{
    char *got = autoreply_sanitise_subject(in);

    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, want) == 0, "sanitise(%s): got \"%s\", want \"%s\"",
                  in ? in : "NULL", got, want);
    free(got);
}

START_TEST(test_sanitise_controls)
{
    assert_sanitised(NULL, "");
    assert_sanitised("", "");
    assert_sanitised("Key compromise", "Key compromise");
    assert_sanitised("Re: Fwd: Key", "Re: Fwd: Key");
    assert_sanitised("a\r\nBcc: victim@example.net", "a Bcc: victim@example.net");
    assert_sanitised("a\rb\nc\td\x7f" "e", "a b c d e");
    assert_sanitised("\x01\x1f lead and trail \t\r\n", "lead and trail");
    assert_sanitised("runs    of \t\t blanks", "runs of blanks");
    assert_sanitised("nel\xc2\x85" "csi\xc2\x9b" "x", "nel csi x");          /* C1 */
    assert_sanitised("ls\xe2\x80\xa8ps\xe2\x80\xa9" "end", "ls ps end");      /* U+2028/9 */
    assert_sanitised("rlo\xe2\x80\xaegnp.exe", "rlo gnp.exe");                 /* U+202E */
    assert_sanitised("Schl\xc3\xbcssel", "Schl\xc3\xbcssel");
}
END_TEST

START_TEST(test_sanitise_invalid_utf8)
{
    char *got = autoreply_sanitise_subject("bad \xff\xfe bytes \xc3");

    ck_assert(g_utf8_validate(got, -1, NULL));
    ck_assert_ptr_nonnull(strstr(got, "bad"));
    ck_assert_ptr_nonnull(strstr(got, "bytes"));
    free(got);
}
END_TEST

/* Long subjects are cut at AUTOREPLY_SUBJECT_MAX on a character boundary. */
START_TEST(test_sanitise_length)
{
    static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91" };

    for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
        GString *s = g_string_new(NULL);
        char *got;

        for (int i = 0; i < 300; i++)
            g_string_append(s, chars[c]);
        got = autoreply_sanitise_subject(s->str);
        ck_assert_uint_le(strlen(got), AUTOREPLY_SUBJECT_MAX);
        ck_assert_uint_gt(strlen(got), AUTOREPLY_SUBJECT_MAX - strlen(chars[c]));
        ck_assert_uint_eq(strlen(got) % strlen(chars[c]), 0);
        ck_assert(g_utf8_validate(got, -1, NULL));
        free(got);
        g_string_free(s, TRUE);
    }
}
END_TEST

/* A NUL, CR or LF smuggled in an encoded-word cannot come out. */
START_TEST(test_sanitise_decoded_nul)
{
    char *dec = decode("=?UTF-8?Q?a=00b=0D=0ABcc:_x?= tail");
    char *got = autoreply_sanitise_subject(dec);

    ck_assert_ptr_null(strpbrk(got, "\r\n\t"));
    ck_assert(g_utf8_validate(got, -1, NULL));
    free(got);
    free(dec);
}
END_TEST

/* ---- compose ---- */

static struct autoreply_reply
reply_base(void)
{
    struct autoreply_reply r = {
        .from = "CA Problem Reports <cpr@ca.example>",
        .to = "alice@example.net",
        .tracking = TRACKING,
        .received_at = "2026-11-27T03:14:00.123Z",
        .report_due_at = "2026-11-28T03:14:00.123Z",
        .subject = "Key compromise for www.example.com",
        .category = "key-compromise",
        .message_id = "orig.1@mail.example.net",
        .references = NULL,
        .now = NOW_2026_11_27,
    };
    return r;
}

static char *
compose_ok(const struct autoreply_reply *r, const char *tmpl)
{
    const char *err = NULL;
    char *msg = autoreply_compose(r, tmpl, &err);

    ck_assert_msg(msg != NULL, "compose failed: %s", err ? err : "?");
    return msg;
}

static void
compose_refused(const struct autoreply_reply *r, const char *tmpl)
{
    const char *err = NULL;
    char *msg = autoreply_compose(r, tmpl, &err);

    ck_assert_msg(msg == NULL, "composed a reply it should refuse:\n%s", msg);
    ck_assert_ptr_nonnull(err);
}

/* A parsed reply: the unfolded header fields and the body. */
struct parsed {
    char **names, **values;     /* g_strfreev */
    size_t n;
    char *body;                 /* points into the message */
};

static const char *const expected_names[] = {
    "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Auto-Submitted", "X-Auto-Response-Suppress",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL
};

static bool
expected_name(const char *name)
{
    for (size_t i = 0; expected_names[i]; i++)
        if (g_ascii_strcasecmp(name, expected_names[i]) == 0)   /* GMime: Message-Id */
            return true;
    return false;
}

/* Line syntax of the whole message: CRLF only, no line over 998 bytes;
 * header lines no longer than 78 when soft is set. */
static void
check_lines(const char *msg, const char *body, bool soft)
{
    const char *line = msg;

    for (const char *p = msg; *p; p++) {
        if (*p == '\r')
            ck_assert_msg(p[1] == '\n', "bare CR at %td", p - msg);
        if (*p == '\n') {
            ck_assert_msg(p > msg && p[-1] == '\r', "bare LF at %td", p - msg);
            ck_assert_int_le(p - 1 - line, 998);
            if (soft && line < body)
                ck_assert_msg(p - 1 - line <= 78, "long header line: %.*s",
                              (int) (p - 1 - line), line);
            line = p + 1;
        }
    }
    ck_assert_msg(line == msg + strlen(msg), "last line has no CRLF");
}

/* Split the header section into fields; every field must be an expected
 * name, so no line of the original could have started a header. */
static struct parsed
parse(char *msg, bool soft)
{
    struct parsed p = { NULL, NULL, 0, NULL };
    char *sep = strstr(msg, "\r\n\r\n"), *head, **lines;
    GPtrArray *names = g_ptr_array_new(), *values = g_ptr_array_new();

    ck_assert_ptr_nonnull(sep);
    p.body = sep + 4;
    check_lines(msg, p.body, soft);
    head = g_strndup(msg, (gsize) (sep - msg));
    lines = g_strsplit(head, "\r\n", -1);
    g_free(head);
    for (size_t i = 0; lines[i]; i++) {
        char *colon, *joined;

        if (lines[i][0] == ' ' || lines[i][0] == '\t') {
            ck_assert_uint_gt(values->len, 0);
            ck_assert_msg(lines[i][strspn(lines[i], " \t")] != '\0', "blank continuation");
            joined = g_strconcat(g_ptr_array_index(values, values->len - 1),
                                       lines[i], NULL);
            g_free(g_ptr_array_index(values, values->len - 1));
            g_ptr_array_index(values, values->len - 1) = joined;
            continue;
        }
        colon = strchr(lines[i], ':');
        ck_assert_msg(colon != NULL, "not a header line: %s", lines[i]);
        g_ptr_array_add(names, g_strndup(lines[i], (gsize) (colon - lines[i])));
        ck_assert_msg(expected_name(g_ptr_array_index(names, names->len - 1)),
                      "unexpected header: %s", lines[i]);
        g_ptr_array_add(values, g_strdup(colon[1] == ' ' ? colon + 2 : colon + 1));
    }
    g_strfreev(lines);
    p.n = names->len;
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(values, NULL);
    p.names = (char **) g_ptr_array_free(names, FALSE);
    p.values = (char **) g_ptr_array_free(values, FALSE);
    return p;
}

static void
parsed_free(struct parsed *p)
{
    g_strfreev(p->names);
    g_strfreev(p->values);
}

/* The value of the one header called name, or NULL; fails on two. */
static const char *
field(const struct parsed *p, const char *name)
{
    const char *found = NULL;

    for (size_t i = 0; i < p->n; i++)
        if (g_ascii_strcasecmp(p->names[i], name) == 0) {
            ck_assert_msg(found == NULL, "%s twice", name);
            found = p->values[i];
        }
    return found;
}

/* The decoded Subject of a reply. */
static char *
decoded_subject(const struct parsed *p)
{
    const char *v = field(p, "Subject");

    ck_assert_ptr_nonnull(v);
    return decode(v);
}

/* A quoted-printable body decoded (soft breaks joined). g_free. */
static char *
qp_decode(const char *s)
{
    GString *out = g_string_new(NULL);

    for (; *s; s++) {
        if (*s == '=' && s[1] == '\r' && s[2] == '\n')
            s += 2;
        else if (*s == '=' && g_ascii_isxdigit(s[1]) && g_ascii_isxdigit(s[2])) {
            g_string_append_c(out, (char) (g_ascii_xdigit_value(s[1]) * 16
                                           + g_ascii_xdigit_value(s[2])));
            s += 2;
        } else
            g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

START_TEST(test_compose_headers)
{
    struct autoreply_reply r = reply_base();
    char *msg = compose_ok(&r, NULL);
    struct parsed p = parse(msg, true);

    for (size_t i = 0; expected_names[i]; i++)
        ck_assert_msg(field(&p, expected_names[i]) != NULL, "no %s", expected_names[i]);
    ck_assert_uint_eq(p.n, 12);
    ck_assert_str_eq(field(&p, "From"), "CA Problem Reports <cpr@ca.example>");
    ck_assert_str_eq(field(&p, "To"), "alice@example.net");
    ck_assert_str_eq(field(&p, "Subject"), "Auto: Key compromise for www.example.com [" TRACKING "]");
    ck_assert_str_eq(field(&p, "Date"), "Fri, 27 Nov 2026 03:14:00 +0000");
    ck_assert_str_eq(field(&p, "Message-ID"), "<" TRACKING ".autoreply@ca.example>");
    ck_assert_str_eq(field(&p, "In-Reply-To"), "<orig.1@mail.example.net>");
    ck_assert_str_eq(field(&p, "References"), "<orig.1@mail.example.net>");
    ck_assert_str_eq(field(&p, "Auto-Submitted"), "auto-replied");
    ck_assert_ptr_null(field(&p, "X-CPR-Tracking"));
    ck_assert_str_eq(field(&p, "MIME-Version"), "1.0");
    ck_assert_str_eq(field(&p, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(field(&p, "Content-Transfer-Encoding"), "7bit");
    ck_assert_ptr_nonnull(strstr(p.body, TRACKING));
    ck_assert_ptr_nonnull(strstr(p.body, "2026-11-27T03:14:00.123Z"));
    parsed_free(&p);
    free(msg);
}
END_TEST

/* The issue's attack: an encoded-word that decodes to CRLF + Bcc. */
START_TEST(test_compose_no_injection)
{
    struct autoreply_reply r = reply_base();
    gchar *b64 = g_base64_encode((const guchar *) "Hello\r\nBcc: victim@example.net\r\n\r\nbody",
                                 strlen("Hello\r\nBcc: victim@example.net\r\n\r\nbody"));
    char *raw = g_strdup_printf("=?UTF-8?B?%s?=", b64);
    char *orig = decode(raw), *msg, *subj;
    struct parsed p;

    r.subject = orig;
    r.message_id = "x@y\r\nBcc: victim2@example.net";
    msg = compose_ok(&r, "{subject}\n");
    p = parse(msg, true);
    ck_assert_ptr_null(field(&p, "Bcc"));
    ck_assert_ptr_null(field(&p, "In-Reply-To"));
    subj = decoded_subject(&p);
    ck_assert_str_eq(subj, "Auto: Hello Bcc: victim@example.net body [" TRACKING "]");
    ck_assert_ptr_null(strstr(msg, "victim2"));
    free(subj);
    parsed_free(&p);
    free(msg);
    free(orig);
    g_free(raw);
    g_free(b64);
}
END_TEST

/* Decoded text that looks like an encoded-word is encoded, so the
 * reporter's MUA cannot decode it a second time into CRLF. */
START_TEST(test_compose_literal_encoded_word)
{
    struct autoreply_reply r = reply_base();
    char *msg, *subj;
    struct parsed p;

    r.subject = "See =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?= here";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_ptr_nonnull(strstr(field(&p, "Subject"), "=?UTF-8?Q?"));
    subj = decoded_subject(&p);
    ck_assert_str_eq(subj, "Auto: See =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLm5ldA==?= here ["
                     TRACKING "]");
    free(subj);
    parsed_free(&p);
    free(msg);
}
END_TEST

START_TEST(test_compose_rfc2047)
{
    struct autoreply_reply r = reply_base();
    char *msg, *subj;
    struct parsed p;

    r.subject = "Schl\xc3\xbcssel kompromittiert";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    for (const char *s = field(&p, "Subject"); *s; s++)
        ck_assert_int_lt((unsigned char) *s, 0x80);
    ck_assert_ptr_nonnull(strstr(field(&p, "Subject"), "=?UTF-8?Q?"));
    ck_assert_ptr_nonnull(strstr(field(&p, "Subject"), "[" TRACKING "]"));
    subj = decoded_subject(&p);
    ck_assert_str_eq(subj, "Auto: Schl\xc3\xbcssel kompromittiert [" TRACKING "]");
    free(subj);
    parsed_free(&p);
    free(msg);
}
END_TEST

/* A subject at the length bound, in three-byte characters: folded into
 * encoded-words of at most 75 characters, lines of at most 78. */
START_TEST(test_compose_rfc2047_long)
{
    struct autoreply_reply r = reply_base();
    GString *s = g_string_new(NULL);
    char *msg, *subj, *want, *kept, **words;
    struct parsed p;

    for (int i = 0; i < 100; i++)
        g_string_append(s, i % 10 == 9 ? " " : "\xe6\x97\xa5");
    r.subject = s->str;
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    words = g_strsplit(field(&p, "Subject"), " ", -1);
    for (size_t i = 0; words[i]; i++)
        ck_assert_uint_le(strlen(words[i]), 75);
    kept = autoreply_sanitise_subject(s->str);
    want = g_strdup_printf("Auto: %s [" TRACKING "]", kept);
    subj = decoded_subject(&p);
    ck_assert_str_eq(subj, want);
    free(subj);
    g_free(want);
    free(kept);
    g_strfreev(words);
    parsed_free(&p);
    free(msg);
    g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_compose_subject_forms)
{
    struct autoreply_reply r = reply_base();
    char *msg;
    struct parsed p;

    r.subject = "Re: Key compromise [" TRACKING "]";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "Subject"), "Auto: Re: Key compromise [" TRACKING "]");
    parsed_free(&p);
    free(msg);

    r.subject = NULL;
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "Subject"), "Auto: Your certificate problem report [" TRACKING "]");
    parsed_free(&p);
    free(msg);

    r.subject = " \r\n\t ";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "Subject"), "Auto: Your certificate problem report [" TRACKING "]");
    parsed_free(&p);
    free(msg);
}
END_TEST

START_TEST(test_compose_references)
{
    struct autoreply_reply r = reply_base();
    GString *refs = g_string_new("junk <bad id@x> <ok.0@x>");
    char *msg, *want;
    struct parsed p;

    for (int i = 1; i <= 30; i++)
        g_string_append_printf(refs, "\r\n <r%d@x>", i);
    r.references = refs->str;
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "In-Reply-To"), "<orig.1@mail.example.net>");
    want = g_strdup("");
    for (int i = 12; i <= 30; i++) {
        char *w = g_strdup_printf("%s<r%d@x> ", want, i);
        g_free(want);
        want = w;
    }
    {
        char *w = g_strconcat(want, "<orig.1@mail.example.net>", NULL);
        g_free(want);
        want = w;
    }
    ck_assert_str_eq(field(&p, "References"), want);
    g_free(want);
    parsed_free(&p);
    free(msg);

    g_string_assign(refs, "<a@x> <orig.1@mail.example.net>");
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "References"), "<a@x> <orig.1@mail.example.net>");
    parsed_free(&p);
    free(msg);
    g_string_free(refs, TRUE);
}
END_TEST

START_TEST(test_compose_hostile_message_id)
{
    static const char *const bad[] = { NULL, "", "a b@x", "<a@x>", "a>@x",
        "a@x\r\nBcc: v@x", "a\x01@x", "caf\xc3\xa9@x", "" /* long_id */ };
    const size_t nbad = sizeof(bad) / sizeof(bad[0]);
    struct autoreply_reply r = reply_base();
    char long_id[AUTOREPLY_MSGID_MAX + 2];

    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    for (size_t i = 0; i < nbad; i++) {
        char *msg;
        struct parsed p;

        r.message_id = i == nbad - 1 ? long_id : bad[i];
        r.references = "<a@x>";
        msg = compose_ok(&r, NULL);
        p = parse(msg, true);
        ck_assert_msg(field(&p, "In-Reply-To") == NULL, "kept message id %s",
                      r.message_id ? r.message_id : "(null)");
        ck_assert_ptr_null(field(&p, "References"));
        parsed_free(&p);
        free(msg);
    }
}
END_TEST

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_compose_refuses)
{
    static const char *const froms[] = { NULL, "", "cpr@ca.example\r\nBcc: v@x",
        "CA <cpr@ca.example>\n", "CA\r\n <cpr@ca.example>", "no address",
        "a@b <cpr@ca.example>", "CA <cpr@ca.example> x", "CA <cpr@ca.ex ample>",
        "CA \xc3\xa9 <cpr@ca.example>", "cpr@", "CA <cpr@ca.example" };
    static const char *const tos[] = { NULL, "", "a@x\r\nBcc: v@x", "a@x\n", "a b@x",
        "<a@x>", "a@x>", "\"a\"@x", "a@x, v@y", "a@x\tb", "noat", "@x", "a@",
        "a@b@c", "a@x;v@y", "caf\xc3\xa9@x" };
    static const char *const trackings[] = { NULL, "", "CPR-2026-42",
        "CPR-2026-000042\r\n", "cpr-2026-000042", "CPR-2026-0000042" };
    struct autoreply_reply r;

    for (size_t i = 0; i < NELEM(froms); i++) {
        r = reply_base();
        r.from = froms[i];
        compose_refused(&r, NULL);
    }
    for (size_t i = 0; i < NELEM(tos); i++) {
        r = reply_base();
        r.to = tos[i];
        compose_refused(&r, NULL);
    }
    for (size_t i = 0; i < NELEM(trackings); i++) {
        r = reply_base();
        r.tracking = trackings[i];
        compose_refused(&r, NULL);
    }
    r = reply_base();
    r.now = -1;
    compose_refused(&r, NULL);
    r = reply_base();
    r.received_at = NULL;
    compose_refused(&r, NULL);
    compose_refused(NULL, NULL);
}
END_TEST

START_TEST(test_compose_from_forms)
{
    struct autoreply_reply r = reply_base();
    char *msg;
    struct parsed p;

    r.from = "cpr@pki.ca.example";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "From"), "cpr@pki.ca.example");
    ck_assert_str_eq(field(&p, "Message-ID"), "<" TRACKING ".autoreply@pki.ca.example>");
    parsed_free(&p);
    free(msg);

    r.from = "\"Example CA, Certificate Problem Reports\" <cpr@ca.example>";
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_str_eq(field(&p, "From"), r.from);
    parsed_free(&p);
    free(msg);
}
END_TEST

START_TEST(test_compose_placeholders)
{
    struct autoreply_reply r = reply_base();
    char *msg;
    struct parsed p;

    r.subject = "Key\r\nBcc: x";
    msg = compose_ok(&r, "T={tracking} R={received_at} D={report_due_at}\n"
                         "S={subject} C={category}\n"
                         "U={unknown} {tracking {} {{tracking}} {TRACKING}\n");
    p = parse(msg, true);
    ck_assert_str_eq(p.body, "T=" TRACKING " R=2026-11-27T03:14:00.123Z "
                     "D=2026-11-28T03:14:00.123Z\r\n"
                     "S=Key Bcc: x C=key-compromise\r\n"
                     "U={unknown} {tracking {} {" TRACKING "} {TRACKING}\r\n");
    parsed_free(&p);
    free(msg);
}
END_TEST

START_TEST(test_compose_body_lines)
{
    struct autoreply_reply r = reply_base();
    GString *t = g_string_new("lf\ncr\rcrlf\r\n\nnoeol");
    char *msg, *big, *qp;
    struct parsed p;

    msg = compose_ok(&r, t->str);
    p = parse(msg, true);
    ck_assert_str_eq(p.body, "lf\r\ncr\r\ncrlf\r\n\r\nnoeol\r\n");
    parsed_free(&p);
    free(msg);

    /* A 3000-byte line of two-byte characters is wrapped on a boundary. */
    g_string_assign(t, "");
    for (int i = 0; i < 1500; i++)
        g_string_append(t, "\xc3\xa9");
    msg = compose_ok(&r, t->str);
    p = parse(msg, true);       /* checks every line <= 998 */
    ck_assert_str_eq(field(&p, "Content-Transfer-Encoding"), "quoted-printable");
    qp = qp_decode(p.body);     /* 7-bit on the wire, the same text decoded */
    ck_assert(g_utf8_validate(qp, -1, NULL));
    {
        gchar **lines = g_strsplit(qp, "\r\n", -1), *joined = g_strjoinv("", lines);

        ck_assert_str_eq(joined, t->str);   /* wrapped, not cut */
        g_free(joined);
        g_strfreev(lines);
    }
    g_free(qp);
    parsed_free(&p);
    free(msg);

    /* Templates over the bound, and output over its bound, are refused. */
    big = g_malloc(AUTOREPLY_TEMPLATE_MAX + 2);
    memset(big, 'x', AUTOREPLY_TEMPLATE_MAX + 1);
    big[AUTOREPLY_TEMPLATE_MAX + 1] = '\0';
    compose_refused(&r, big);
    g_string_assign(t, "");
    while (t->len + 9 < AUTOREPLY_TEMPLATE_MAX)
        g_string_append(t, "{subject}");
    r.subject = "a subject long enough to blow the reply bound up";
    compose_refused(&r, t->str);
    g_free(big);
    g_string_free(t, TRUE);
}
END_TEST

/* Our own reply, fed back to the table, is never answered. */
START_TEST(test_reply_not_answered)
{
    struct autoreply_reply r = reply_base();
    char *msg = compose_ok(&r, NULL);
    struct parsed p = parse(msg, true);
    struct cpr_message *m = message_new();
    struct autoreply_input in = { m, NULL, ours, true, false };

    message_set(&m->env_from, "relay-rewrote-it@example.net");
    for (size_t i = 0; i < p.n; i++)
        message_add_header(m, p.names[i], p.values[i]);
    ck_assert_str_eq(autoreply_decide(&in), "automated mail");
    message_set(&m->env_from, "");
    ck_assert_str_eq(autoreply_decide(&in), "null sender");
    message_free(m);
    parsed_free(&p);
    free(msg);
}
END_TEST

/* Random bytes in every field taken from the report: the reply still
 * parses into the expected headers only, with sound lines. */
START_TEST(test_compose_random)
{
    GRand *rnd = g_rand_new_with_seed(3834);

    for (int n = 0; n < 500; n++) {
        char subj[401], mid[80], refs[400], *msg, *kept, *want, *got;
        struct autoreply_reply r = reply_base();
        struct parsed p;

        for (size_t f = 0; f < 3; f++) {
            char *buf = f == 0 ? subj : f == 1 ? mid : refs;
            size_t cap = f == 0 ? sizeof(subj) : f == 1 ? sizeof(mid) : sizeof(refs);
            size_t len = (size_t) g_rand_int_range(rnd, 0, (gint32) cap);

            for (size_t i = 0; i < len; i++)
                buf[i] = (char) g_rand_int_range(rnd, 1, 256);
            buf[len] = '\0';
        }
        r.subject = subj;
        r.message_id = mid;
        r.references = refs;
        msg = compose_ok(&r, "{subject}\n");
        p = parse(msg, false);
        ck_assert_ptr_null(field(&p, "X-CPR-Tracking"));
        kept = autoreply_sanitise_subject(subj);
        want = g_strdup_printf("Auto: %s [" TRACKING "]",
                               *kept ? kept : "Your certificate problem report");
        got = decoded_subject(&p);
        ck_assert_str_eq(got, want);
        free(got);
        g_free(want);
        free(kept);
        parsed_free(&p);
        free(msg);
    }
    g_rand_free(rnd);
}
END_TEST

/* ---- the default template ---- */

static char *
srcdir_file(const char *rel)
{
    const char *env = getenv("top_srcdir");
    const char *dirs[] = { env ? env : ".", ".", ".." };

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *path = g_build_filename(dirs[i], rel, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return path;
        g_free(path);
    }
    ck_abort_msg("cannot find %s (set top_srcdir)", rel);
    return NULL;
}

START_TEST(test_default_template)
{
    const char *t = autoreply_default_template;
    struct autoreply_reply r = reply_base();
    char *msg, *path, *file = NULL;
    struct parsed p;

    ck_assert_ptr_nonnull(strstr(t, "24 hours"));
    ck_assert_ptr_nonnull(strstr(t, "{tracking}"));
    ck_assert_ptr_nonnull(strstr(t, "{received_at} (UTC)"));
    ck_assert_ptr_nonnull(strstr(t, "{report_due_at}"));
    ck_assert_ptr_nonnull(strstr(t, "Subject"));
    ck_assert_ptr_nonnull(strstr(t, "automated"));
    msg = compose_ok(&r, NULL);
    p = parse(msg, true);
    ck_assert_ptr_nonnull(strstr(p.body, "Tracking number: " TRACKING "\r\n"));
    ck_assert_ptr_nonnull(strstr(p.body, "2026-11-28T03:14:00.123Z (UTC)"));
    ck_assert_ptr_null(strchr(p.body, '{'));
    parsed_free(&p);
    free(msg);

    path = srcdir_file("contrib/autoreply.txt");
    ck_assert(g_file_get_contents(path, &file, NULL, NULL));
    ck_assert_str_eq(file, t);
    g_free(file);
    g_free(path);
}
END_TEST

Suite *
autoreply_suite(void)
{
    Suite *s = suite_create("autoreply");
    TCase *tc = tcase_create("decide");

    tcase_add_loop_test(tc, test_decide_row, 0, (int) (sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, test_decide_hostile_input);
    tcase_add_test(tc, test_decide_with_classify);
    suite_add_tcase(s, tc);
    tc = tcase_create("sanitise");
    tcase_add_test(tc, test_sanitise_controls);
    tcase_add_test(tc, test_sanitise_invalid_utf8);
    tcase_add_test(tc, test_sanitise_length);
    tcase_add_test(tc, test_sanitise_decoded_nul);
    suite_add_tcase(s, tc);
    tc = tcase_create("compose");
    tcase_add_test(tc, test_compose_headers);
    tcase_add_test(tc, test_compose_no_injection);
    tcase_add_test(tc, test_compose_literal_encoded_word);
    tcase_add_test(tc, test_compose_rfc2047);
    tcase_add_test(tc, test_compose_rfc2047_long);
    tcase_add_test(tc, test_compose_subject_forms);
    tcase_add_test(tc, test_compose_references);
    tcase_add_test(tc, test_compose_hostile_message_id);
    tcase_add_test(tc, test_compose_refuses);
    tcase_add_test(tc, test_compose_from_forms);
    tcase_add_test(tc, test_compose_placeholders);
    tcase_add_test(tc, test_compose_body_lines);
    tcase_add_test(tc, test_compose_random);
    tcase_add_test(tc, test_reply_not_answered);
    tcase_add_test(tc, test_default_template);
    suite_add_tcase(s, tc);
    return s;
}

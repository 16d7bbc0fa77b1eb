/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   autoreply - whether to answer a reporter, and the answer itself
 * SUMMARY
 *   reason = autoreply_decide(&in);            NULL: reply
 *   msg = autoreply_compose(&reply, template, &err);
 * DESCRIPTION
 *   Owns the RFC 3834 decision table and the bytes of the reply. The table
 *   re-reads the headers (and X-Auto-Response-Suppress: All/OOF, as
 *   classify does) rather than trust the verdict alone, so a caller with a
 *   stale or empty verdict cannot open a loop. Precedence: list counts as
 *   list mail, as in classify.
 *   The reply is built line by line: the only text from the report in a
 *   header is the sanitised Subject and plausible msg-ids. Subjects that
 *   are not ASCII, or hold "=?"/"?=", are Q-encoded here: GMime's encoder
 *   makes encoded-words over RFC 2047's 75 characters and passes literal
 *   "=?...?=" through for the reporter's MUA to decode a second time.
 *   Header lines fold at blanks to 78 characters where possible, never
 *   over 998; body lines wrap at 998 bytes on a UTF-8 boundary; all lines
 *   end in CRLF. The reply also asks Exchange not to answer it
 *   (X-Auto-Response-Suppress: All).
 * DIAGNOSTICS
 *   autoreply_compose() returns NULL with a static reason: a bad tracking
 *   number, From or To, a missing time, a template or reply over its
 *   bound, or no memory. autoreply_sanitise_subject() returns NULL only
 *   when out of memory.
 */
#include "autoreply.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "compose.h"
#include "tracking.h"

#define AUTOREPLY_LINE_SOFT   78        /* RFC 5322 2.1.1: SHOULD */
#define AUTOREPLY_LINE_HARD   998       /* RFC 5322 2.1.1: MUST */
#define AUTOREPLY_FROM_MAX    512       /* bytes of the configured From */
#define AUTOREPLY_REPLY_MAX   (4 * AUTOREPLY_TEMPLATE_MAX)  /* whole reply */
#define AUTOREPLY_REFS_MAX    20        /* msg-ids in References */
#define AUTOREPLY_WORD_MAX    75        /* RFC 2047 2: chars per encoded-word */

const char autoreply_default_template[] =
    "Thank you for your certificate problem report.\n"
    "\n"
    "Tracking number: {tracking}\n"
    "Received at:     {received_at} (UTC)\n"
    "\n"
    "Your report has been received and recorded under the tracking number\n"
    "above. We will send you a preliminary report on our findings within\n"
    "24 hours of receipt, that is by {report_due_at} (UTC).\n"
    "\n"
    "When you write to us about this report, please keep the tracking\n"
    "number {tracking} in the Subject line, so that your message joins\n"
    "the same case.\n"
    "\n"
    "This is an automated message confirming receipt. It is not the\n"
    "preliminary report itself.\n";

/* ---- the decision table ---- */

/* Compare the first token of a header value (up to blank, ';', ',' or
 * '(') with word, case-insensitively. */
static bool
autoreply_token_is(const char *value, const char *word)
{
    size_t n = strlen(word);

    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    if (strncasecmp(value, word, n) != 0)
        return false;
    value += n;
    return *value == '\0' || *value == ';' || *value == ',' || *value == '('
           || *value == ' ' || *value == '\t' || *value == '\r' || *value == '\n';
}

/* True if a comma-separated list contains word (case-insensitive). */
static bool
autoreply_list_has(const char *value, const char *word)
{
    for (const char *p = value; p != NULL; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (autoreply_token_is(p, word))
            return true;
    }
    return false;
}

/* True if any header called name has word as its first token. */
static bool
autoreply_header_is(const struct cpr_message *m, const char *name, const char *word)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0
            && autoreply_token_is(m->headers[i].value, word))
            return true;
    return false;
}

/* Any Auto-Submitted other than "no", in any of its copies. */
static bool
autoreply_auto_submitted(const struct cpr_message *m)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, "Auto-Submitted") == 0
            && !autoreply_token_is(m->headers[i].value, "no"))
            return true;
    return false;
}

static bool
autoreply_suppressed(const struct cpr_message *m)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, "X-Auto-Response-Suppress") == 0
            && (autoreply_list_has(m->headers[i].value, "All")
                || autoreply_list_has(m->headers[i].value, "OOF")))
            return true;
    return false;
}

/* The envelope sender without blanks and one pair of <>, as [*s, *e). */
static void
autoreply_sender_span(const char *from, const char **s, const char **e)
{
    const char *a = from, *b = from + strlen(from);

    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    if (b - a >= 2 && *a == '<' && b[-1] == '>') {
        a++;
        b--;
    }
    *s = a;
    *e = b;
}

static bool
autoreply_ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

/* MAILER-DAEMON, owner-* or *-request (with or without a +detail). */
static bool
autoreply_sender_automated(const char *s, const char *e)
{
    const char *at = e, *plus;
    size_t local;

    while (at > s && at[-1] != '@')
        at--;
    local = at > s ? (size_t) (at - 1 - s) : (size_t) (e - s);
    plus = memchr(s, '+', local);
    if (local == strlen("mailer-daemon")
        && strncasecmp(s, "mailer-daemon", local) == 0)
        return true;
    if (local >= strlen("owner-") && strncasecmp(s, "owner-", strlen("owner-")) == 0)
        return true;
    return autoreply_ends_with(s, local, "-request")
           || (plus != NULL && autoreply_ends_with(s, (size_t) (plus - s), "-request"));
}

static bool
autoreply_headers_automated(const struct cpr_message *m)
{
    return autoreply_auto_submitted(m) || autoreply_suppressed(m)
           || autoreply_header_is(m, "Precedence", "bulk")
           || autoreply_header_is(m, "Precedence", "junk")
           || autoreply_header_is(m, "Content-Type", "multipart/report");
}

static bool
autoreply_headers_list(const struct cpr_message *m)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strncasecmp(m->headers[i].name, "List-", strlen("List-")) == 0)
            return true;
    return autoreply_header_is(m, "Precedence", "list");
}

const char *
autoreply_decide(const struct autoreply_input *in)
{
    const struct cpr_verdict *v;
    const char *s, *e;

    if (in == NULL || in->msg == NULL || in->msg->env_from == NULL)
        return "null sender";
    v = in->verdict;
    autoreply_sender_span(in->msg->env_from, &s, &e);
    if (s == e)
        return "null sender";
    if (address_in_list(in->msg->env_from, in->own_addresses))
        return "our own address";
    if ((v != NULL && v->kind == KIND_AUTOMATED) || autoreply_sender_automated(s, e)
        || autoreply_headers_automated(in->msg))
        return "automated mail";
    if ((v != NULL && (v->flags & VERDICT_FLAG_LIST)) || autoreply_headers_list(in->msg))
        return "list mail";
    if ((in->is_follow_up || (v != NULL && v->kind == KIND_FOLLOW_UP))
        && !in->reply_to_followups)
        return "follow-up";
    return NULL;
}

/* ---- the subject ---- */

/* Characters that must not reach a header or fool a reader: C0 and C1
 * controls, DEL, the Unicode line and paragraph separators, and the bidi
 * embedding, override and isolate controls. */
static bool
autoreply_is_control(gunichar c)
{
    GUnicodeType t = g_unichar_type(c);

    return t == G_UNICODE_CONTROL || t == G_UNICODE_LINE_SEPARATOR
           || t == G_UNICODE_PARAGRAPH_SEPARATOR
           || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Copy valid UTF-8 src to dst (room for AUTOREPLY_SUBJECT_MAX + 1),
 * controls as blanks, blank runs collapsed, cut on a character boundary. */
static size_t
autoreply_subject_copy(const char *src, char *dst)
{
    size_t len = 0;
    bool blank = true;   /* drops leading blanks */

    for (const char *p = src; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        size_t n = (size_t) (g_utf8_next_char(p) - p);

        if (c == ' ' || autoreply_is_control(c)) {
            if (!blank && len < AUTOREPLY_SUBJECT_MAX)
                dst[len++] = ' ';
            blank = true;
            continue;
        }
        if (len + n > AUTOREPLY_SUBJECT_MAX)
            break;
        memcpy(dst + len, p, n);
        len += n;
        blank = false;
    }
    while (len > 0 && dst[len - 1] == ' ')
        len--;
    dst[len] = '\0';
    return len;
}

char *
autoreply_sanitise_subject(const char *subject)
{
    char *valid, *out;

    if ((out = malloc(AUTOREPLY_SUBJECT_MAX + 1)) == NULL)
        return NULL;
    if (subject == NULL) {
        *out = '\0';
        return out;
    }
    valid = g_utf8_make_valid(subject, -1);
    autoreply_subject_copy(valid, out);
    g_free(valid);
    return out;
}

/* ---- a bounded output buffer ---- */

struct autoreply_buf {
    char *p;
    size_t len, cap;
    const char *err;     /* first failure, static */
};

static void
autoreply_add(struct autoreply_buf *b, const char *s, size_t n)
{
    char *np;
    size_t cap;

    if (b->err != NULL)
        return;
    if (n > AUTOREPLY_REPLY_MAX - b->len) {
        b->err = "reply too long";
        return;
    }
    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if ((np = realloc(b->p, cap)) == NULL) {
            b->err = "out of memory";
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
autoreply_adds(struct autoreply_buf *b, const char *s)
{
    autoreply_add(b, s, strlen(s));
}

/* "Auto: <subject> [TRACKING]" (the tag once); compose encodes it. */
static char *
autoreply_subject_value(const char *subject, const char *tracking)
{
    char *tag = g_strdup_printf("[%s]", tracking), *value;
    bool tagged = strstr(subject, tag) != NULL;

    if (*subject == '\0')
        subject = "Your certificate problem report";
    value = g_strconcat("Auto: ", subject, tagged ? "" : " ", tagged ? "" : tag, NULL);
    g_free(tag);
    return value;
}

/* ---- checks of what the caller hands us ---- */

static bool
autoreply_msgid_ok(const char *s, size_t n)
{
    if (n == 0 || n > AUTOREPLY_MSGID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f
            || s[i] == '<' || s[i] == '>')
            return false;
    return true;
}

static bool
autoreply_domain_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(s[i]) && strchr(".-[]:", s[i]) == NULL)
            return false;
    return true;
}

/* The domain of the configured From, or an error. From is printable
 * ASCII with exactly one address, bare or in <>. */
static const char *
autoreply_check_from(const char *from, const char **dom, size_t *dlen)
{
    const char *lt, *gt, *at, *end;
    char *norm;

    if (from == NULL || *from == '\0' || strlen(from) > AUTOREPLY_FROM_MAX)
        return "from: empty or too long";
    for (const char *p = from; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
            return "from: CR, LF or another control or 8-bit character";
    lt = strchr(from, '<');
    gt = strchr(from, '>');
    if ((lt == NULL) != (gt == NULL) || (lt && (lt != strrchr(from, '<') || gt < lt
                                               || gt != strrchr(from, '>') || gt[1])))
        return "from: not an address or \"Name <address>\"";
    end = gt ? gt : from + strlen(from);
    if ((at = strchr(from, '@')) == NULL || at != strrchr(from, '@') || (lt && at < lt))
        return "from: not exactly one '@'";
    norm = address_normalise(lt ? lt : from);
    free(norm);
    if (norm == NULL || !autoreply_domain_ok(at + 1, (size_t) (end - at - 1)))
        return "from: not an address or \"Name <address>\"";
    *dom = at + 1;
    *dlen = (size_t) (end - at - 1);
    return NULL;
}

/* An envelope sender we are willing to write into To: dot-atom local
 * part, one '@', a plain domain. Nothing quoted, bracketed or blank. */
static bool
autoreply_to_ok(const char *to)
{
    const char *at;

    if (to == NULL || strlen(to) > ADDRESS_MAX || (at = strchr(to, '@')) == NULL
        || at == to || at != strrchr(to, '@'))
        return false;
    for (const char *p = to; p < at; p++)
        if (!g_ascii_isalnum(*p) && strchr("!#$%&'*+-/=?^_`{|}~.", *p) == NULL)
            return false;
    return autoreply_domain_ok(at + 1, strlen(at + 1));
}

/* ---- the body ---- */

static const char *
autoreply_placeholder(const char *p, const struct autoreply_reply *r,
                      const char *subject, size_t *n)
{
    static const char *const names[] = { "{tracking}", "{received_at}",
        "{report_due_at}", "{subject}", "{category}" };
    const char *values[] = { r->tracking, r->received_at, r->report_due_at,
                             subject, r->category ? r->category : "" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(p, names[i], (*n = strlen(names[i]))) == 0)
            return values[i];
    return NULL;
}

static void
autoreply_render(struct autoreply_buf *b, const char *tmpl,
                 const struct autoreply_reply *r, const char *subject)
{
    const char *p = tmpl, *brace, *value;
    size_t n;

    while ((brace = strchr(p, '{')) != NULL && b->err == NULL) {
        autoreply_add(b, p, (size_t) (brace - p));
        if ((value = autoreply_placeholder(brace, r, subject, &n)) != NULL) {
            autoreply_adds(b, value);
            p = brace + n;
        } else {
            autoreply_add(b, brace, 1);
            p = brace + 1;
        }
    }
    autoreply_adds(b, p);
}

/* Length of the next body line piece: at most AUTOREPLY_LINE_HARD bytes,
 * broken at the last blank if there is one, else on a UTF-8 boundary. */
static size_t
autoreply_wrap(const char *s, size_t len)
{
    size_t cut = AUTOREPLY_LINE_HARD;

    if (len <= cut)
        return len;
    for (size_t i = cut - 1; i > cut / 2; i--)
        if (s[i] == ' ')
            return i + 1;
    while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
        cut--;
    return cut;
}

/* Append text as body lines: CRLF, CR or LF each end a line; each line is
 * written in pieces of at most AUTOREPLY_LINE_HARD bytes plus CRLF. */
static void
autoreply_body(struct autoreply_buf *b, const char *text)
{
    const char *p = text;

    while (*p != '\0' && b->err == NULL) {
        size_t len = strcspn(p, "\r\n"), piece;

        do {
            piece = autoreply_wrap(p, len);
            autoreply_add(b, p, piece);
            autoreply_adds(b, "\r\n");
            p += piece;
            len -= piece;
        } while (len > 0 && b->err == NULL);
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
    }
}

/* ---- the headers ---- */

/* Years 1970..9999: a four-digit year in Date, and no time_t overflow. */
static bool
autoreply_time_ok(long long now)
{
    return now >= 0 && now <= 253402300799LL && (long long) (time_t) now == now;
}

/* Append the plausible msg-ids of a References value to out, as "<id>"
 * joined by blanks, keeping the last max of them. Ids are taken from <>
 * when the value has any, else as blank-separated words. */
static void
autoreply_refs(GString *out, const char *refs, size_t max)
{
    const char *starts[AUTOREPLY_REFS_MAX];
    size_t lens[AUTOREPLY_REFS_MAX], n = 0, first;
    bool angled = strchr(refs, '<') != NULL;
    const char *p = refs, *s, *e;

    while (*p != '\0') {
        if (angled) {
            if ((s = strchr(p, '<')) == NULL || (e = strchr(++s, '>')) == NULL)
                break;
            p = e + 1;
        } else {
            s = p + strspn(p, " \t\r\n,");
            e = s + strcspn(s, " \t\r\n,");
            p = e;
        }
        if (autoreply_msgid_ok(s, (size_t) (e - s))) {
            starts[n % AUTOREPLY_REFS_MAX] = s;
            lens[n % AUTOREPLY_REFS_MAX] = (size_t) (e - s);
            n++;
        }
    }
    first = n > max ? n - max : 0;
    for (size_t i = first; i < n; i++)
        g_string_append_printf(out, "%s<%.*s>", out->len ? " " : "",
                               (int) lens[i % AUTOREPLY_REFS_MAX],
                               starts[i % AUTOREPLY_REFS_MAX]);
}

/* In-Reply-To and References (g_free both), or false when message_id is
 * implausible. */
static bool
autoreply_threading(const struct autoreply_reply *r, char **irt, char **refs_out)
{
    GString *refs;

    if (r->message_id == NULL
        || !autoreply_msgid_ok(r->message_id, strlen(r->message_id)))
        return false;
    *irt = g_strdup_printf("<%s>", r->message_id);
    refs = g_string_new(NULL);
    if (r->references != NULL)
        autoreply_refs(refs, r->references, AUTOREPLY_REFS_MAX - 1);
    /* A report that lists itself last is not listed twice. */
    if (refs->len < strlen(*irt)
        || strcmp(refs->str + refs->len - strlen(*irt), *irt) != 0)
        g_string_append_printf(refs, "%s%s", refs->len ? " " : "", *irt);
    *refs_out = g_string_free(refs, FALSE);
    return true;
}

/* TRACKING.TOKEN.autoreply@domain: the token (cpr.reply_token, keyed in
 * the database) makes it unguessable, so nobody can thread mail onto a
 * case by quoting a Message-ID we never sent them. Without a well-formed
 * token, the old TRACKING.autoreply@domain, which threads nothing. */
static char *
autoreply_message_id(const struct autoreply_reply *r, const char *domain, size_t dlen)
{
    const char *t = r->reply_token;

    if (t != NULL && strlen(t) == 32 && strspn(t, "0123456789abcdef") == 32)
        return g_strdup_printf("%s.%s.autoreply@%.*s", r->tracking, t, (int)dlen, domain);
    return g_strdup_printf("%s.autoreply@%.*s", r->tracking, (int)dlen, domain);
}

/* Everything about r that can be refused before building anything. */
static const char *
autoreply_check(const struct autoreply_reply *r, const char *tmpl,
                const char **dom, size_t *dlen)
{
    const char *why;

    if (r == NULL)
        return "no reply data";
    if (!tracking_parse(r->tracking, NULL, NULL))
        return "invalid tracking number";
    if ((why = autoreply_check_from(r->from, dom, dlen)) != NULL)
        return why;
    if (!autoreply_to_ok(r->to))
        return "to: not a plain address";
    if (r->received_at == NULL || r->report_due_at == NULL)
        return "missing receipt or due time";
    if (!autoreply_time_ok(r->now))
        return "time out of range";
    if (strnlen(tmpl, AUTOREPLY_TEMPLATE_MAX + 1) > AUTOREPLY_TEMPLATE_MAX)
        return "template too long";
    return NULL;
}

/* The rendered template as CRLF body lines, wrapped (malloc), or NULL
 * with *err. */
static char *
autoreply_text(const struct autoreply_reply *r, const char *tmpl,
               const char *subject, const char **err)
{
    struct autoreply_buf text = { NULL, 0, 0, NULL }, body = { NULL, 0, 0, NULL };
    char *valid;

    autoreply_render(&text, tmpl, r, subject);
    if (text.err != NULL) {
        *err = text.err;
        free(text.p);
        return NULL;
    }
    valid = g_utf8_make_valid(text.p ? text.p : "", -1);
    free(text.p);
    autoreply_body(&body, valid);
    g_free(valid);
    if (body.err != NULL) {
        *err = body.err;
        free(body.p);
        return NULL;
    }
    return body.p ? body.p : strdup("");
}

/* The message through compose; NULL with *err. */
static char *
autoreply_message(const struct autoreply_reply *r, const char *subject,
                  const char *domain, size_t dlen, const char *body, const char **err)
{
    char *subj = autoreply_subject_value(subject, r->tracking);
    char *mid = autoreply_message_id(r, domain, dlen), *irt = NULL, *refs = NULL;
    bool threaded = autoreply_threading(r, &irt, &refs);
    /* No X-CPR-* header: cpr-milter strips every one it sees, ours too,
     * so that none can be forged; the number is in Subject and body.
     * X-Auto-Response-Suppress asks Exchange and Outlook not to answer. */
    const char *threaded_hdrs[] = { "In-Reply-To", irt, "References", refs,
                                    "Auto-Submitted", "auto-replied",
                                    "X-Auto-Response-Suppress", "All", NULL };
    const char *const *hdrs = threaded ? threaded_hdrs : threaded_hdrs + 4;
    const char *to[] = { r->to, NULL };
    struct compose_mail m = { r->from, to, subj, r->now, mid, hdrs, body };
    char *wire = compose_message(&m), *out = wire ? strdup(wire) : NULL;

    if (out == NULL)
        *err = wire ? "out of memory" : "cannot compose the reply";
    g_free(wire);
    g_free(irt);
    g_free(refs);
    g_free(mid);
    g_free(subj);
    return out;
}

char *
autoreply_compose(const struct autoreply_reply *r, const char *template_text,
                  const char **err)
{
    const char *tmpl = template_text ? template_text : autoreply_default_template;
    const char *domain = NULL, *why;
    char *subject, *body, *out = NULL;
    size_t dlen = 0;

    if ((why = autoreply_check(r, tmpl, &domain, &dlen)) != NULL) {
        *err = why;
        return NULL;
    }
    if ((subject = autoreply_sanitise_subject(r->subject)) == NULL) {
        *err = "out of memory";
        return NULL;
    }
    if ((body = autoreply_text(r, tmpl, subject, err)) != NULL)
        out = autoreply_message(r, subject, domain, dlen, body, err);
    free(body);
    free(subject);
    return out;
}

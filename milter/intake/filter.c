/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   filter - the libmilter callbacks of cpr-milter
 * DESCRIPTION
 *   Negotiates only the steps it needs (no EOH, no unknown commands) and
 *   asks for {daemon_name}, {auth_authen} and {i}. A recipient is a CPR
 *   address when address_match() says so or cannot tell (it errs towards
 *   recording). Mail with no CPR recipient is read only for forged X-CPR-*
 *   headers and accepted at end of headers when it has none, so its body
 *   is never sent to us; except authenticated mail on a submission
 *   daemon, read for a staff reply (staffmail.c). Never ACCEPT at RCPT:
 *   Postfix would stop calling us for the rest of the message. At end of
 *   message: the report analysis (report.c) and classification, then one
 *   db_intake() round trip; on failure 451 4.3.0 and TEMPFAIL, never a
 *   reject or discard. On success: strip every incoming X-CPR-* header,
 *   add ours, and tag the Subject. Forged X-CPR-* headers are stripped
 *   from every message, CPR or not. Staff replies are recorded with
 *   staffmail_record() and never open a case. A verified mail-path probe
 *   (probecheck.c) is recorded as seen and delivered with no case; a mark
 *   that does not hold changes nothing.
 *   Each message's outcome, each tempfail's reason and each intake's
 *   round trip are counted for the metrics endpoint (intakemetrics.h).
 * DIAGNOSTICS
 *   One log line per recorded message: queue, tracking, kind, category and
 *   database time. Failures log the queue id and the database error.
 */
#include "filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "autoreply.h"
#include "classify.h"
#include "heartbeat.h"
#include "intakemetrics.h"
#include "log.h"
#include "message.h"
#include "probecheck.h"
#include "report.h"
#include "staffmail.h"
#include "tracking.h"

#define FILTER_HEADER_PREFIX "X-CPR-"
#define FILTER_TEMPFAIL_TEXT "CPR intake temporarily unavailable, please retry"

struct snapshot {
    struct cpr_config *cfg;
    int refs;
};

struct conn {
    struct snapshot *snap;
    struct cpr_message *msg;
    unsigned long noreply;     /* SMFIP_NR_* steps the MTA agreed to */
    bool broken;               /* a step failed where no reply was possible */
    bool staff;                /* authenticated, on a submission daemon */
    bool scan_only;            /* no CPR recipient: only X-CPR-* is looked for */
};

/* The steps that need no reply: each saves a round trip per header, body
 * chunk, HELO, MAIL and RCPT. Failures there are kept in conn.broken and
 * answered at end of message. */
#define FILTER_NOREPLY (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR \
                        | SMFIP_NR_BODY)

static pthread_mutex_t filter_mu = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *filter_current;
static struct db_pool *filter_pool;
static struct outbox *filter_outbox;
static bool filter_macros_trusted;   /* set once at start-up */

static struct snapshot *
snapshot_get(void)
{
    struct snapshot *s;

    pthread_mutex_lock(&filter_mu);
    s = filter_current;
    s->refs++;
    pthread_mutex_unlock(&filter_mu);
    return s;
}

static void
snapshot_put(struct snapshot *s)
{
    bool last;

    pthread_mutex_lock(&filter_mu);
    last = --s->refs == 0;
    pthread_mutex_unlock(&filter_mu);
    if (last) {
        config_free(s->cfg);
        free(s);
    }
}

void
filter_reload(struct cpr_config *cfg)
{
    struct snapshot *s = calloc(1, sizeof(*s)), *old;

    if (s == NULL) {
        log_error("reload: out of memory; keeping the old config");
        config_free(cfg);
        return;
    }
    s->cfg = cfg;
    s->refs = 1;
    pthread_mutex_lock(&filter_mu);
    old = filter_current;
    filter_current = s;
    pthread_mutex_unlock(&filter_mu);
    if (old)
        snapshot_put(old);
}

void
filter_setup(struct db_pool *pool, struct cpr_config *cfg, struct outbox *outbox)
{
    filter_pool = pool;
    filter_outbox = outbox;
    filter_reload(cfg);
}

void
filter_trust_macros(bool trusted)
{
    filter_macros_trusted = trusted;
}

void
filter_shutdown(void)
{
    struct snapshot *old;

    pthread_mutex_lock(&filter_mu);
    old = filter_current;
    filter_current = NULL;
    pthread_mutex_unlock(&filter_mu);
    if (old)
        snapshot_put(old);
}

static struct conn *
conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* The connection's state, made at negotiate (or at connect when the MTA
 * does not negotiate): libmilter may run the two on different threads. */
static struct conn *
conn_get(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c != NULL)
        return c;
    if ((c = calloc(1, sizeof(*c))) == NULL || (c->msg = message_new()) == NULL) {
        free(c);
        return NULL;
    }
    c->snap = snapshot_get();
    smfi_setpriv(ctx, c);
    return c;
}

static sfsistat
filter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                 unsigned long f2, unsigned long f3, unsigned long *pf0,
                 unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct conn *c;

    (void)f2;
    (void)f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
        return SMFIS_REJECT;   /* this MTA cannot let us add our headers */
    if ((c = conn_get(ctx)) == NULL)
        return SMFIS_TEMPFAIL;
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | (f0 & SMFIF_SETSYMLIST);
    *pf1 = f1 & (SMFIP_NOUNKNOWN | FILTER_NOREPLY);
    *pf2 = 0;
    *pf3 = 0;
    c->noreply = *pf1 & FILTER_NOREPLY;
    if (f0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} {i}");
        smfi_setsymlist(ctx, SMFIM_EOM, "{i}");
    }
    return SMFIS_CONTINUE;
}

static void
format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = NULL;

    buf[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (src == NULL || inet_ntop(sa->sa_family, src, buf, (socklen_t)len) == NULL)
        buf[0] = '\0';
}

static sfsistat
filter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct conn *c = conn_get(ctx);
    char addr[INET6_ADDRSTRLEN];

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    format_addr(hostaddr, addr, sizeof(addr));
    message_set(&c->msg->client_addr, addr[0] ? addr : NULL);
    message_set(&c->msg->client_name, hostname);
    message_set(&c->msg->daemon_name, smfi_getsymval(ctx, "{daemon_name}"));
    return SMFIS_CONTINUE;
}

/* CONTINUE, or NOREPLY where the MTA agreed to expect no reply. */
static sfsistat
filter_next(const struct conn *c, unsigned long step)
{
    return (c->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
filter_helo(SMFICTX *ctx, char *helo)
{
    struct conn *c = conn_of(ctx);

    message_set(&c->msg->helo, helo);
    return filter_next(c, SMFIP_NR_HELO);
}

/* "<a@b>" -> "a@b"; "<>" -> "". */
static void
set_address(char **field, const char *arg)
{
    size_t len = strlen(arg);

    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
        char *inner = strndup(arg + 1, len - 2);

        message_set(field, inner ? inner : "");
        free(inner);
    } else {
        message_set(field, arg);
    }
}

static sfsistat
filter_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    struct cpr_message *m = c->msg;

    message_reset(m);
    c->broken = false;
    c->scan_only = false;
    set_address(&m->env_from, argv[0] ? argv[0] : "");
    message_set(&m->auth_authen, smfi_getsymval(ctx, "{auth_authen}"));
    message_set(&m->queue_id, smfi_getsymval(ctx, "i"));
    c->staff = staffmail_session(m, c->snap->cfg);
    if (c->staff && !filter_macros_trusted) {
        log_warn("queue=%s {auth_authen}=%s on an untrusted milter socket: not read as "
                 "staff mail (a unix socket only the MTA can reach, or [milter] "
                 "trust_inet_macros = yes)", m->queue_id ? m->queue_id : "-", m->auth_authen);
        c->staff = false;
    }
    return filter_next(c, SMFIP_NR_MAIL);
}

/* A recipient the milter cannot read but that may reach the CPR mailbox
 * is taken as one: a report recorded twice is better than one lost. */
static bool
is_cpr_rcpt(const struct conn *c, const char *rcpt)
{
    const struct cpr_config *cfg = c->snap->cfg;
    const char *why = NULL;

    switch (address_match(rcpt, cfg->addresses, cfg->recipient_delimiter, &why)) {
    case ADDRESS_MATCH:
        return true;
    case ADDRESS_UNSURE:
        log_warn("queue=%s recipient <%s> taken as a CPR address: %s",
                 c->msg->queue_id ? c->msg->queue_id : "-", rcpt, why ? why : "unsure");
        return true;
    default:
        return false;
    }
}

static sfsistat
filter_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    char *rcpt = NULL;

    set_address(&rcpt, argv[0] ? argv[0] : "");
    if (rcpt && is_cpr_rcpt(c, rcpt))
        c->msg->has_cpr_rcpt = true;
    if (rcpt && !message_add_rcpt(c->msg, rcpt))
        log_warn("recipient list full; %s not recorded", rcpt);
    free(rcpt);
    return filter_next(c, SMFIP_NR_RCPT);
}

/* Mail for a CPR address is kept raw up to max_message_bytes for the
 * report analysis, staff mail on the submission path up to what is
 * searched for tracking numbers; other mail is only scanned for forged
 * X-CPR-* headers. */
static sfsistat
filter_data(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c->msg->has_cpr_rcpt)
        message_keep_raw(c->msg, (size_t)c->snap->cfg->max_message_bytes);
    else if (c->staff)
        message_keep_raw(c->msg, STAFFMAIL_SCAN_BYTES);
    else
        c->scan_only = true;
    return SMFIS_CONTINUE;
}

static sfsistat
filter_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = conn_of(ctx);

    if (c->scan_only)
        message_count_xcpr(c->msg, name);
    else if (!message_add_header(c->msg, name, value))
        c->broken = true;
    return filter_next(c, SMFIP_NR_HDR);
}

/* Other mail with no X-CPR-* header is done with: its body is not sent. */
static sfsistat
filter_eoh(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c->scan_only && c->msg->nxcpr == 0 && !c->msg->xcpr_overflow) {
        intakemetrics_message(INTAKEMETRICS_OTHER);
        return SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat
filter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct conn *c = conn_of(ctx);

    if (!c->scan_only && !message_body_update(c->msg, chunk, len))
        c->broken = true;
    return filter_next(c, SMFIP_NR_BODY);
}

/* Delete every incoming X-CPR-* header, last occurrence first. The counts
 * come from message.c, which sees every header even past its cap. */
static void
strip_forged(SMFICTX *ctx, const struct cpr_message *m)
{
    if (m->xcpr_overflow)
        log_warn("queue=%s: too many distinct X-CPR-* header names; only ours are "
                 "guaranteed removed", m->queue_id ? m->queue_id : "-");
    for (size_t i = 0; i < m->nxcpr; i++)
        for (int index = m->xcpr_counts[i]; index >= 1; index--)
            if (smfi_chgheader(ctx, m->xcpr_names[i], index, NULL) != MI_SUCCESS)
                log_warn("could not remove forged %s header", m->xcpr_names[i]);
}

static void
tag_subject(SMFICTX *ctx, const struct cpr_message *m, const char *tracking)
{
    const char *subject = message_header(m, "Subject");
    char tag[TRACKING_MAX + 3], *value;

    snprintf(tag, sizeof(tag), "[%s]", tracking);
    if (subject == NULL) {
        smfi_addheader(ctx, "Subject", tag);
        return;
    }
    /* The decoded form too: the tag may sit inside an encoded-word. */
    if (strstr(subject, tag) != NULL || (m->subject && strstr(m->subject, tag)))
        return;
    if ((value = malloc(strlen(subject) + strlen(tag) + 2)) == NULL)
        return;
    sprintf(value, "%s %s", subject, tag);
    if (smfi_chgheader(ctx, "Subject", 1, value) != MI_SUCCESS)
        log_warn("could not tag Subject with %s", tracking);
    free(value);
}

/* Our header values come from the database; check them anyway. */
static bool
result_is_sane(const struct intake_result *r)
{
    enum cpr_kind kind;

    /* "outbound": our own staff reply came back in through the MX. */
    return tracking_parse(r->tracking, &(int){ 0 }, &(long long){ 0 })
           && (classify_kind_parse(r->kind, &kind) || strcmp(r->kind, "outbound") == 0)
           && strspn(r->received_at, "0123456789-T:.Z") == strlen(r->received_at)
           && strspn(r->category, "abcdefghijklmnopqrstuvwxyz-") == strlen(r->category);
}

static void
add_headers(SMFICTX *ctx, const struct cpr_message *m, const struct intake_result *r,
            bool subject_tag)
{
    strip_forged(ctx, m);
    smfi_addheader(ctx, "X-CPR-Tracking", (char *)r->tracking);
    smfi_addheader(ctx, "X-CPR-Received", (char *)r->received_at);
    smfi_addheader(ctx, "X-CPR-Kind", (char *)r->kind);
    smfi_addheader(ctx, "X-CPR-Category", (char *)r->category);
    if (subject_tag)
        tag_subject(ctx, m, r->tracking);
}

static sfsistat
tempfail(SMFICTX *ctx, enum intakemetrics_tempfail why)
{
    heartbeat_count_tempfailed();
    intakemetrics_tempfail(why);
    smfi_setreply(ctx, "451", "4.3.0", FILTER_TEMPFAIL_TEXT);
    return SMFIS_TEMPFAIL;
}

/* The auto-reply half of the decision that needs no database; NULL when
 * auto-replies are off. cpr.intake adds follow-ups and the rate limits. */
static const struct intake_reply *
reply_terms(const struct cpr_config *cfg, const struct cpr_message *m,
            const struct cpr_verdict *v, struct intake_reply *out)
{
    struct autoreply_input in = { m, v, cfg->addresses, cfg->reply_to_followups, false };

    if (!cfg->autoreply_enabled || filter_outbox == NULL)
        return NULL;
    out->skip_reason = autoreply_decide(&in);
    out->rate_sender = cfg->rate_sender_count;
    out->rate_sender_window_ms = cfg->rate_sender_window_ms;
    out->rate_domain = cfg->rate_domain_count;
    out->rate_domain_window_ms = cfg->rate_domain_window_ms;
    out->followups = cfg->reply_to_followups;
    out->budget_hour = cfg->autoreply_budget_hour;
    return out;
}

/* Decode, extract and classify. Without a report (out of memory) the
 * message is still recorded, with the header rules alone. */
static struct report *
analyse(const struct cpr_message *m)
{
    struct report *r = report_analyze(m->raw ? m->raw : "", m->raw_len, m,
                                      m->raw_truncated, NULL);

    if (r == NULL)
        log_warn("queue=%s out of memory analysing the report; recorded unanalysed",
                 m->queue_id ? m->queue_id : "-");
    return r;
}

static bool
record(SMFICTX *ctx, struct conn *c, struct intake_result *r,
       enum intakemetrics_tempfail *why)
{
    struct cpr_message *m = c->msg;
    struct report *rep = analyse(m);
    struct cpr_verdict v;
    struct intake_reply terms;
    char err[512];
    enum db_status st;
    double t0;

    classify_message(m, c->snap->cfg->addresses, rep, &v);
    t0 = intakemetrics_clock();
    st = db_intake(filter_pool, m, &v, reply_terms(c->snap->cfg, m, &v, &terms), rep,
                   r, err, sizeof(err));
    intakemetrics_intake(intakemetrics_clock() - t0);
    report_free(rep);
    if (st != DB_OK) {
        *why = st == DB_UNAVAILABLE ? INTAKEMETRICS_DB_UNAVAILABLE : INTAKEMETRICS_DB_ERROR;
        log_error("queue=%s intake failed, tempfail: %s",
                  m->queue_id ? m->queue_id : "-", err);
        return false;
    }
    if (!result_is_sane(r)) {
        log_error("queue=%s intake returned a malformed result", m->queue_id ? m->queue_id : "-");
        *why = INTAKEMETRICS_BAD_RESULT;
        return false;
    }
    add_headers(ctx, m, r, c->snap->cfg->subject_tag);
    return true;
}

/* Staff mail naming a known case: record it as a response. Mail that
 * also goes to a CPR address counts only with the number in its Subject
 * (a reply copying the CPR mailbox); a number only in its body makes it a
 * forward of a report, taken in as one. Returns true when recorded. A
 * database failure does not stop the staff member's mail (the response
 * can be recorded with cprctl respond): it is logged as an error. */
static bool
staff_reply(struct conn *c)
{
    struct cpr_message *m = c->msg;
    const char *qid = m->queue_id ? m->queue_id : "-";
    char found[STAFFMAIL_MAX_TRACKINGS][TRACKING_MAX], err[512];
    struct staffmail_result res;
    size_t n;

    if (staffmail_automated(m)
        || (n = staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS,
                                    m->has_cpr_rcpt)) == 0)
        return false;
    if (staffmail_record(filter_pool, m, c->snap->cfg, found, n, &res, err,
                         sizeof(err)) != DB_OK) {
        log_error("queue=%s staff=%s mail naming %s NOT recorded as a response "
                  "(record it with cprctl respond): %s", qid, m->auth_authen, found[0], err);
        return false;
    }
    log_info("queue=%s staff=%s tracking=%s %s", qid, m->auth_authen,
             res.tracking[0] ? res.tracking : "-", res.outcome);
    return res.tracking[0] != '\0';
}

/* Mail that opens no case: forged X-CPR-* headers go all the same. */
static sfsistat
strip_other(SMFICTX *ctx, struct cpr_message *m, enum intakemetrics_kind kind)
{
    intakemetrics_message(kind);
    if (m->nxcpr > 0 || m->xcpr_overflow) {
        strip_forged(ctx, m);
        log_info("queue=%s not a report: forged X-CPR-* headers removed",
                 m->queue_id ? m->queue_id : "-");
    }
    message_reset(m);
    return SMFIS_CONTINUE;
}

/* A verified probe is delivered with no case (the next stage must see it);
 * a refused mark is logged, and the message goes on as a report. */
static enum probecheck
probe(struct conn *c)
{
    const char *qid = c->msg->queue_id ? c->msg->queue_id : "-";
    char why[320];
    enum probecheck p = probecheck_message(filter_pool, c->snap->cfg, c->msg, why,
                                           sizeof(why));

    if (p == PROBECHECK_PROBE)
        log_info("queue=%s %s seen: delivered, no case", qid, why);
    else if (p == PROBECHECK_REFUSED)
        log_warn("queue=%s %s: taken in as a report", qid, why);
    else if (p == PROBECHECK_DB_FAILED)
        log_error("queue=%s %s, tempfail", qid, why);
    return p;
}

static sfsistat
filter_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    struct cpr_message *m = c->msg;
    struct intake_result r;
    enum intakemetrics_tempfail why = INTAKEMETRICS_DB_ERROR;
    const char *qid = smfi_getsymval(ctx, "i");

    if (qid != NULL)
        message_set(&m->queue_id, qid);
    if (!m->has_cpr_rcpt && !c->staff)
        return strip_other(ctx, m, INTAKEMETRICS_OTHER);
    if (c->broken || !message_finish(m)) {
        log_error("queue=%s out of memory collecting the message, tempfail",
                  m->queue_id ? m->queue_id : "-");
        return tempfail(ctx, INTAKEMETRICS_NO_MEMORY);
    }
    if (c->staff && staff_reply(c))
        return strip_other(ctx, m, INTAKEMETRICS_STAFF_REPLY);
    if (!m->has_cpr_rcpt)
        return strip_other(ctx, m, INTAKEMETRICS_OTHER);   /* outbound staff mail */
    switch (probe(c)) {
    case PROBECHECK_PROBE:
        return strip_other(ctx, m, INTAKEMETRICS_PROBE);
    case PROBECHECK_DB_FAILED:
        return tempfail(ctx, INTAKEMETRICS_DB_ERROR);
    default:
        break;
    }
    if (!record(ctx, c, &r, &why))
        return tempfail(ctx, why);
    heartbeat_count_stamped();
    intakemetrics_recorded(r.kind, r.category);
    if (strcmp(r.autoreply, "queued") == 0)
        outbox_wake(filter_outbox);
    log_info("queue=%s tracking=%s kind=%s category=%s db=%.2fms reply=%s%s",
             m->queue_id ? m->queue_id : "-", r.tracking, r.kind, r.category,
             r.db_ms, r.autoreply, r.redelivery ? " redelivery" : "");
    message_reset(m);   /* the raw copy is freed now, not at the next MAIL */
    return SMFIS_CONTINUE;
}

static sfsistat
filter_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c != NULL)
        message_reset(c->msg);
    return SMFIS_CONTINUE;
}

static sfsistat
filter_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_CONTINUE;
    message_free(c->msg);
    snapshot_put(c->snap);
    free(c);
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/* Every callback is counted while it runs, and its end time kept: a
 * milter whose callbacks all hang while its heartbeat thread beats on is
 * seen as wedged (heartbeat.h). */
#define COUNTED_AS(fn, params, args, end) \
    static sfsistat fn##_counted params \
    { \
        sfsistat r; \
        heartbeat_callback_begin(); \
        r = fn args; \
        end(); \
        return r; \
    }
#define COUNTED(fn, params, args) COUNTED_AS(fn, params, args, heartbeat_callback_end)
/* Negotiate and close prove no progress: selfcheck.c's probes run them. */
#define COUNTED_QUIET(fn, params, args) \
    COUNTED_AS(fn, params, args, heartbeat_callback_end_quiet)
COUNTED(filter_connect, (SMFICTX *ctx, char *h, _SOCK_ADDR *a), (ctx, h, a))
COUNTED(filter_helo, (SMFICTX *ctx, char *h), (ctx, h))
COUNTED(filter_envfrom, (SMFICTX *ctx, char **argv), (ctx, argv))
COUNTED(filter_envrcpt, (SMFICTX *ctx, char **argv), (ctx, argv))
COUNTED(filter_header, (SMFICTX *ctx, char *n, char *v), (ctx, n, v))
COUNTED(filter_eoh, (SMFICTX *ctx), (ctx))
COUNTED(filter_body, (SMFICTX *ctx, unsigned char *b, size_t n), (ctx, b, n))
COUNTED(filter_eom, (SMFICTX *ctx), (ctx))
COUNTED(filter_abort, (SMFICTX *ctx), (ctx))
COUNTED_QUIET(filter_close, (SMFICTX *ctx), (ctx))
COUNTED(filter_data, (SMFICTX *ctx), (ctx))
COUNTED_QUIET(filter_negotiate, (SMFICTX *ctx, unsigned long f0, unsigned long f1,
        unsigned long f2, unsigned long f3, unsigned long *p0, unsigned long *p1,
        unsigned long *p2, unsigned long *p3), (ctx, f0, f1, f2, f3, p0, p1, p2, p3))

struct smfiDesc filter_desc = {
    .xxfi_name = "cpr-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = filter_connect_counted,
    .xxfi_helo = filter_helo_counted,
    .xxfi_envfrom = filter_envfrom_counted,
    .xxfi_envrcpt = filter_envrcpt_counted,
    .xxfi_header = filter_header_counted,
    .xxfi_eoh = filter_eoh_counted,
    .xxfi_body = filter_body_counted,
    .xxfi_eom = filter_eom_counted,
    .xxfi_abort = filter_abort_counted,
    .xxfi_close = filter_close_counted,
    .xxfi_unknown = NULL,
    .xxfi_data = filter_data_counted,
    .xxfi_negotiate = filter_negotiate_counted,
};

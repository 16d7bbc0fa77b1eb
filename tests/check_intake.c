/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_intake - integration tests of cpr.intake through the milter's pool
 * SUMMARY
 *   CPR_TEST_CONNINFO=... CPR_TEST_MILTER_CONNINFO=... tests/check_intake
 * DESCRIPTION
 *   Runs against a real, throwaway PostgreSQL (tests/intake.test starts it
 *   and migrates). Calls db_intake() as cpr-milter does, as role cpr_milter,
 *   and checks the rows as the owner: new reports, retry dedupe, follow-ups
 *   by Subject and by References, automated mail, 32 threads of concurrent
 *   intake, the immutability triggers, the audit hash chain, the circuit
 *   breaker, and staff replies recorded from the submission path
 *   (staffmail_record -> cpr.record_outbound).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <libpq-fe.h>

#include "classify.h"
#include "db.h"
#include "message.h"
#include "staffmail.h"
#include "tracking.h"

#define THREADS 32
#define PER_THREAD 8

static char *const cpr_addresses[] = { "cpr@ca.example", NULL };
static const char *owner_conninfo;
static const char *milter_conninfo;
static int body_counter;

/* A message with a unique body unless body is given. */
static struct cpr_message *
make_msg(const char *from, const char *subject, const char *msgid,
         const char *refs, const char *body)
{
    struct cpr_message *m = message_new();
    char buf[256];

    message_set(&m->env_from, from);
    message_set(&m->queue_id, "TESTQ");
    message_add_rcpt(m, "cpr@ca.example");
    if (subject)
        message_add_header(m, "Subject", subject);
    if (msgid)
        message_add_header(m, "Message-ID", msgid);
    if (refs)
        message_add_header(m, "References", refs);
    if (body == NULL) {
        snprintf(buf, sizeof(buf), "body %d-%d-%d\r\n", (int)getpid(),
                 __atomic_add_fetch(&body_counter, 1, __ATOMIC_SEQ_CST), rand());
        body = buf;
    }
    message_body_update(m, body, strlen(body));
    ck_assert(message_finish(m));
    return m;
}

static enum db_status
intake(struct db_pool *pool, struct cpr_message *m, struct intake_result *r)
{
    struct cpr_verdict v;
    char err[512];
    enum db_status st;

    classify_message(m, cpr_addresses, NULL, &v);
    st = db_intake(pool, m, &v, NULL, NULL, r, err, sizeof(err));
    if (st != DB_OK)
        fprintf(stderr, "intake: %s\n", err);
    return st;
}

static struct db_pool *
pool_open(void)
{
    struct db_pool *pool = db_pool_new(milter_conninfo, 4, 5000);

    ck_assert_ptr_nonnull(pool);
    return pool;
}

/* One value of a one-row query run as the owner; caller frees. */
static char *
owner_value(const char *sql, const char *param)
{
    PGconn *c = PQconnectdb(owner_conninfo);
    PGresult *res;
    char *out = NULL;

    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    res = PQexecParams(c, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        out = strdup(PQgetvalue(res, 0, 0));
    else if (PQresultStatus(res) != PGRES_TUPLES_OK)
        out = strdup(PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    return out;
}

static bool
owner_exec_fails(const char *sql)
{
    PGconn *c = PQconnectdb(owner_conninfo);
    PGresult *res;
    bool failed;

    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    res = PQexec(c, sql);
    failed = PQresultStatus(res) == PGRES_FATAL_ERROR;
    PQclear(res);
    PQfinish(c);
    return failed;
}

static void
assert_value(const char *sql, const char *param, const char *want)
{
    char *got = owner_value(sql, param);

    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_new_report)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *m = make_msg("reporter@example.net", "Key compromise",
                                     "<new1@example.net>", NULL, NULL);
    struct intake_result r;

    ck_assert_int_eq(intake(pool, m, &r), DB_OK);
    ck_assert(tracking_parse(r.tracking, &(int){ 0 }, &(long long){ 0 }));
    ck_assert_str_eq(r.kind, "new-report");
    ck_assert_str_eq(r.category, "other");
    ck_assert(!r.redelivery);
    assert_value("SELECT cpr.utc_text(received_at) FROM cpr.cases WHERE tracking = $1",
                 r.tracking, r.received_at);
    assert_value("SELECT reporter || '|' || subject || '|' || state FROM cpr.cases WHERE tracking = $1",
                 r.tracking, "reporter@example.net|Key compromise|open");
    assert_value("SELECT count(*)::text FROM cpr.events e JOIN cpr.cases c ON c.id = e.case_id "
                 "WHERE c.tracking = $1 AND e.type = 'received'", r.tracking, "1");
    message_free(m);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_retry_dedupe)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("r@example.net", "Report", "<retry1@example.net>",
                                     NULL, "same body\r\n");
    struct cpr_message *b = make_msg("r@example.net", "Report (retried)",
                                     "<retry1@example.net>", NULL, "same body\r\n");
    struct cpr_message *c = make_msg("r@example.net", "Report", "<retry1@example.net>",
                                     NULL, "other body\r\n");
    struct intake_result ra, rb, rc;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    ck_assert(rb.redelivery);
    ck_assert_str_eq(ra.tracking, rb.tracking);
    ck_assert_str_eq(ra.received_at, rb.received_at);
    /* Same Message-ID, different body: not a retry. */
    ck_assert_int_eq(intake(pool, c, &rc), DB_OK);
    ck_assert(!rc.redelivery);
    ck_assert_str_ne(ra.tracking, rc.tracking);
    assert_value("SELECT m.redeliveries::text FROM cpr.messages m JOIN cpr.cases c "
                 "ON c.id = m.case_id WHERE c.tracking = $1", ra.tracking, "1");
    message_free(a);
    message_free(b);
    message_free(c);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_retry_without_message_id)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("r2@example.net", "No id", NULL, NULL, "nid body\r\n");
    struct cpr_message *b = make_msg("r2@example.net", "No id", NULL, NULL, "nid body\r\n");
    struct cpr_message *c = make_msg("r3@example.net", "No id", NULL, NULL, "nid body\r\n");
    struct intake_result ra, rb, rc;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    ck_assert_int_eq(intake(pool, c, &rc), DB_OK);
    ck_assert(rb.redelivery);
    ck_assert_str_eq(ra.tracking, rb.tracking);
    ck_assert(!rc.redelivery);                  /* another sender */
    ck_assert_str_ne(ra.tracking, rc.tracking);
    message_free(a);
    message_free(b);
    message_free(c);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_follow_up_by_subject)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("r@example.net", "First", "<fu1@example.net>", NULL, NULL);
    struct cpr_message *b;
    struct intake_result ra, rb;
    char subject[128], *first_ack;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    first_ack = owner_value("SELECT ack_clock_from::text FROM cpr.cases WHERE tracking = $1",
                            ra.tracking);
    ck_assert(!owner_exec_fails("UPDATE cpr.cases SET state = 'closed' WHERE id = "
                                "(SELECT max(id) FROM cpr.cases)"));
    snprintf(subject, sizeof(subject), "Re: First [%s]", ra.tracking);
    b = make_msg("r@example.net", subject, "<fu2@example.net>", NULL, NULL);
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    ck_assert_str_eq(rb.tracking, ra.tracking);
    ck_assert_str_eq(rb.kind, "follow-up");
    ck_assert_str_ne(rb.received_at, "");
    assert_value("SELECT state FROM cpr.cases WHERE tracking = $1", ra.tracking, "open");
    assert_value("SELECT cpr.utc_text(received_at) FROM cpr.cases WHERE tracking = $1",
                 ra.tracking, ra.received_at);      /* 24 h clocks not restarted */
    assert_value("SELECT (ack_clock_from > $1::timestamptz)::text FROM cpr.cases "
                 "WHERE id = (SELECT max(id) FROM cpr.cases)", first_ack, "true");
    free(first_ack);
    message_free(a);
    message_free(b);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_follow_up_by_references)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("r@example.net", "Orig", "<ref-orig@example.net>", NULL, NULL);
    struct cpr_message *b = make_msg("r@example.net", "Re: something",
                                     "<ref-reply@example.net>",
                                     "<unknown@x> <ref-orig@example.net>", NULL);
    struct intake_result ra, rb;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    ck_assert_str_eq(rb.tracking, ra.tracking);
    ck_assert_str_eq(rb.kind, "follow-up");
    message_free(a);
    message_free(b);
    db_pool_free(pool);
}
END_TEST

/* ---- who may act on a case (issue 10) ---- */

/* One-value query with the tracking number as $1; caller frees nothing. */
#define CASE_VALUE(sql, tracking, want) assert_value(sql, tracking, want)

static void
owner_exec_ok(const char *sql, const char *param)
{
    char *got = owner_value(sql, param);

    ck_assert_ptr_nonnull(got);
    free(got);
}

/* Everything a stranger must not change, as one string. */
static char *
case_state(const char *tracking)
{
    return owner_value("SELECT concat_ws('|', state, category, coalesce(acked_at::text, '-'), "
                       "coalesce(ack_clock_from::text, '-'), "
                       "(SELECT string_agg(address, ',' ORDER BY address) FROM cpr.reporters r "
                       " WHERE r.case_id = c.id), "
                       "(SELECT count(*) FROM cpr.messages m WHERE m.case_id = c.id)) "
                       "FROM cpr.cases c WHERE tracking = $1", tracking);
}

START_TEST(test_stranger_never_acts_on_a_case)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("owner@example.net", "Misissued cert",
                                     "<auth-orig@example.net>", NULL, NULL);
    struct cpr_message *b, *c;
    struct intake_result ra, rb, rc;
    char subj[128], *before, *after;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    owner_exec_ok("SELECT cpr.ack($1, 'alice')", ra.tracking);
    owner_exec_ok("SELECT cpr.close($1, 'resolved', 'alice')", ra.tracking);
    before = case_state(ra.tracking);
    /* By Subject, with a key-compromise word and a victim Reply-To. */
    snprintf(subj, sizeof(subj), "Re: [%s] private key compromise", ra.tracking);
    b = make_msg("evil@example.org", subj, "<auth-evil1@example.org>", NULL, NULL);
    message_add_header(b, "From", "Evil <evil@example.org>");
    message_add_header(b, "Reply-To", "victim@example.net");
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    /* By References to a stored message of the case. */
    c = make_msg("evil2@example.org", "more", "<auth-evil2@example.org>",
                 "<auth-orig@example.net>", NULL);
    ck_assert_int_eq(intake(pool, c, &rc), DB_OK);
    after = case_state(ra.tracking);
    ck_assert_str_eq(after, before);   /* state, category, ack, clock, reporters, messages */
    ck_assert_str_ne(rb.tracking, ra.tracking);
    ck_assert_str_ne(rc.tracking, ra.tracking);
    ck_assert_str_eq(rb.kind, "new-report");
    CASE_VALUE("SELECT string_agg(address, ',') FROM cpr.reporters r JOIN cpr.cases c "
               "ON c.id = r.case_id WHERE c.tracking = $1", rb.tracking, "evil@example.org");
    CASE_VALUE("SELECT (ack_clock_from IS NOT NULL)::text FROM cpr.cases WHERE tracking = $1",
               rb.tracking, "true");
    CASE_VALUE("SELECT n.tracking FROM cpr.case_links l JOIN cpr.cases c ON c.id = l.case_id "
               "JOIN cpr.cases n ON n.id = l.names_case WHERE c.tracking = $1",
               rb.tracking, ra.tracking);
    CASE_VALUE("SELECT (array_to_string(m.reasons, ' ') LIKE '%names CPR-%not from its "
               "reporter%')::text FROM cpr.messages m JOIN cpr.cases c ON c.id = m.case_id "
               "WHERE c.tracking = $1", rb.tracking, "true");
    CASE_VALUE("SELECT count(*)::text FROM cpr.events e JOIN cpr.cases c ON c.id = e.case_id "
               "WHERE c.tracking = $1 AND e.type = 'linked'", ra.tracking, "2");
    /* A staff reply to the stranger is no response to the real reporter. */
    CASE_VALUE("SELECT string_agg(r.role, ',') FROM cpr.cases c, "
               "cpr.outbound_roles(c.id, ARRAY['evil@example.org', 'victim@example.net', "
               "'OWNER@example.net'], '{}') r WHERE c.tracking = $1", ra.tracking,
               "subscriber,subscriber,reporter");
    free(before);
    free(after);
    message_free(a);
    message_free(b);
    message_free(c);
    db_pool_free(pool);
}
END_TEST

/* The From address decides: a forwarder's SRS envelope is not the reporter. */
START_TEST(test_reporter_is_from)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("SRS0=abcd=XY=example.net=alice@fwd.example", "Report",
                                     NULL, NULL, NULL);
    struct cpr_message *b, *c;
    struct intake_result ra, rb, rc;
    char subj[128];

    message_add_header(a, "From", "\"Alice (bob@evil.example)\" <Alice@Example.NET>");
    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    CASE_VALUE("SELECT string_agg(address, ',') FROM cpr.reporters r JOIN cpr.cases c "
               "ON c.id = r.case_id WHERE c.tracking = $1", ra.tracking, "alice@example.net");
    snprintf(subj, sizeof(subj), "Re: %s", ra.tracking);
    b = make_msg("bounces+123@mailer.example", subj, NULL, NULL, NULL);
    message_add_header(b, "From", "alice@example.net");
    ck_assert_int_eq(intake(pool, b, &rb), DB_OK);
    ck_assert_str_eq(rb.tracking, ra.tracking);
    ck_assert_str_eq(rb.kind, "follow-up");
    /* cprctl reporter add: the only way in; then mail from it threads. */
    CASE_VALUE("SELECT cpr.reporter_add($1, ' Co@Example.net ', 'alice')", ra.tracking, "added");
    CASE_VALUE("SELECT cpr.reporter_add($1, 'co@example.net', 'alice')", ra.tracking, "already");
    c = make_msg("co@example.net", subj, NULL, NULL, NULL);
    ck_assert_int_eq(intake(pool, c, &rc), DB_OK);
    ck_assert_str_eq(rc.tracking, ra.tracking);
    CASE_VALUE("SELECT count(*)::text FROM cpr.events e JOIN cpr.cases c ON c.id = e.case_id "
               "WHERE c.tracking = $1 AND e.type = 'reporter_added'", ra.tracking, "1");
    message_free(a);
    message_free(b);
    message_free(c);
    db_pool_free(pool);
}
END_TEST

/* Bounces attach only by a Message-ID we sent; ours are unguessable. */
START_TEST(test_bounce_needs_our_message_id)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("rep@example.net", "Report", NULL, NULL, NULL);
    struct cpr_message *forged, *real, *guess;
    struct intake_result ra, rf, rr, rg;
    char subj[128], refs[256], *token;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    snprintf(subj, sizeof(subj), "Undelivered: [%s]", ra.tracking);
    snprintf(refs, sizeof(refs), "<%s.autoreply@ca.example>", ra.tracking);
    forged = make_msg("", subj, NULL, refs, NULL);
    ck_assert_int_eq(intake(pool, forged, &rf), DB_OK);
    ck_assert_str_ne(rf.tracking, ra.tracking);       /* a case of its own */
    ck_assert_str_eq(rf.kind, "automated");
    token = owner_value("SELECT cpr.reply_token($1)", ra.tracking);
    ck_assert_uint_eq(strlen(token), 32);
    snprintf(refs, sizeof(refs), "<%s.%s.autoreply@ca.example>", ra.tracking, token);
    real = make_msg("", "Undelivered Mail Returned to Sender", NULL, refs, NULL);
    ck_assert_int_eq(intake(pool, real, &rr), DB_OK);
    ck_assert_str_eq(rr.tracking, ra.tracking);
    ck_assert_str_eq(rr.kind, "automated");
    /* A stranger who guesses the old id format threads nothing. */
    snprintf(refs, sizeof(refs), "<%s.autoreply@ca.example>", ra.tracking);
    guess = make_msg("stranger@example.org", "hello", NULL, refs, NULL);
    ck_assert_int_eq(intake(pool, guess, &rg), DB_OK);
    ck_assert_str_ne(rg.tracking, ra.tracking);
    CASE_VALUE("SELECT count(*)::text FROM cpr.case_links l JOIN cpr.cases c ON c.id = l.case_id "
               "WHERE c.tracking = $1", rg.tracking, "0");
    free(token);
    message_free(a);
    message_free(forged);
    message_free(real);
    message_free(guess);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_unknown_tracking_is_new)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("r@example.net", "Re: [CPR-1999-999999]", NULL, NULL, NULL);
    struct intake_result ra;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    ck_assert_str_eq(ra.kind, "new-report");
    ck_assert_str_ne(ra.tracking, "CPR-1999-999999");
    message_free(a);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_automated)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *a = make_msg("", "Undelivered Mail Returned to Sender", NULL, NULL, NULL);
    struct intake_result ra;

    ck_assert_int_eq(intake(pool, a, &ra), DB_OK);
    ck_assert_str_eq(ra.kind, "automated");
    assert_value("SELECT kind || '|' || coalesce(ack_clock_from::text, 'no clock') "
                 "FROM cpr.cases WHERE tracking = $1", ra.tracking, "automated|no clock");
    assert_value("SELECT reasons[1] FROM cpr.messages m JOIN cpr.cases c ON c.id = m.case_id "
                 "WHERE c.tracking = $1", ra.tracking, "null sender");
    message_free(a);
    db_pool_free(pool);
}
END_TEST

struct worker {
    struct db_pool *pool;
    char tracking[PER_THREAD][32];
    int errors;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        struct cpr_message *m = make_msg("load@example.net", "Load", NULL, NULL, NULL);
        struct intake_result r;

        if (intake(w->pool, m, &r) != DB_OK || r.redelivery)
            w->errors++;
        else
            memcpy(w->tracking[i], r.tracking, sizeof(r.tracking));
        message_free(m);
    }
    return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(test_concurrent_intake)
{
    struct db_pool *pool = db_pool_new(milter_conninfo, 16, 10000);
    static struct worker w[THREADS];
    pthread_t tid[THREADS];
    static char all[THREADS * PER_THREAD][32];

    for (int i = 0; i < THREADS; i++) {
        w[i].pool = pool;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        ck_assert_int_eq(w[i].errors, 0);
        memcpy(all[i * PER_THREAD], w[i].tracking, sizeof(w[i].tracking));
    }
    qsort(all, THREADS * PER_THREAD, sizeof(all[0]), cmp_str);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        ck_assert_str_ne(all[i - 1], all[i]);
    db_pool_free(pool);
}
END_TEST

START_TEST(test_immutable)
{
    ck_assert(owner_exec_fails("UPDATE cpr.cases SET received_at = now()"));
    ck_assert(owner_exec_fails("UPDATE cpr.messages SET received_at = now()"));
    ck_assert(owner_exec_fails("UPDATE cpr.cases SET tracking = 'CPR-2000-000001'"));
    ck_assert(owner_exec_fails("DELETE FROM cpr.cases"));
    ck_assert(owner_exec_fails("DELETE FROM cpr.messages"));
    ck_assert(owner_exec_fails("UPDATE cpr.events SET actor = 'mallory'"));
    ck_assert(owner_exec_fails("DELETE FROM cpr.events"));
    ck_assert(owner_exec_fails("TRUNCATE cpr.events CASCADE"));
    ck_assert(owner_exec_fails("UPDATE cpr.messages SET subject = 'rewritten'"));
    ck_assert(owner_exec_fails("UPDATE cpr.messages SET headers = '[]'"));
    /* A legitimate change to a case is still possible. */
    ck_assert(!owner_exec_fails("UPDATE cpr.cases SET state = state"));
}
END_TEST

START_TEST(test_milter_role_is_confined)
{
    PGconn *c = PQconnectdb(milter_conninfo);
    PGresult *res;

    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    res = PQexec(c, "UPDATE cpr.cases SET state = 'closed'");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = PQexec(c, "SELECT count(*) FROM cpr.events");
    ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    PQfinish(c);
}
END_TEST

START_TEST(test_hash_chain)
{
    /* Every event's hash recomputes from its predecessor and its content. */
    assert_value("SELECT count(*)::text FROM cpr.events e JOIN cpr.cases c ON c.id = e.case_id "
                 "LEFT JOIN cpr.events p ON p.case_id = e.case_id AND p.seq = e.seq - 1 "
                 "WHERE e.hash <> cpr.event_hash(p.hash, cpr.event_canonical_of(e, c.tracking)) "
                 "OR e.prev_hash IS DISTINCT FROM p.hash", NULL, "0");
    assert_value("SELECT (count(*) > 0)::text FROM cpr.events", NULL, "true");
    assert_value("SELECT count(*)::text FROM cpr.cases c WHERE audit_head IS DISTINCT FROM "
                 "(SELECT hash FROM cpr.events e WHERE e.case_id = c.id ORDER BY seq DESC LIMIT 1)",
                 NULL, "0");
}
END_TEST

START_TEST(test_breaker_fails_fast)
{
    struct db_pool *pool = db_pool_new("host=/nonexistent-cpr-test dbname=cpr", 2, 2000);
    struct cpr_message *m = make_msg("r@example.net", "x", NULL, NULL, NULL);
    struct cpr_verdict v;
    struct intake_result r;
    char err[512];

    classify_message(m, cpr_addresses, NULL, &v);
    ck_assert_int_eq(db_intake(pool, m, &v, NULL, NULL, &r, err, sizeof(err)), DB_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err, "connect"));
    ck_assert_int_eq(db_intake(pool, m, &v, NULL, NULL, &r, err, sizeof(err)), DB_UNAVAILABLE);
    ck_assert_str_eq(err, "circuit breaker open");
    message_free(m);
    db_pool_free(pool);
}
END_TEST

/* A staff message as the submission path sees it. */
static struct cpr_message *
staff_msg(const char *subject, const char *msgid, const char *const *rcpts)
{
    struct cpr_message *m = message_new();

    message_set(&m->env_from, "alice@ca.example");
    message_set(&m->auth_authen, "alice");
    message_set(&m->daemon_name, "submission");
    message_set(&m->queue_id, "STAFFQ");
    for (; *rcpts; rcpts++)
        message_add_rcpt(m, *rcpts);
    message_add_header(m, "Subject", subject);
    message_add_header(m, "Message-ID", msgid);
    message_body_update(m, "We are looking into it.\r\n", 25);
    ck_assert(message_finish(m));
    return m;
}

static void
staff_record(struct db_pool *pool, struct cpr_message *m, struct staffmail_result *res)
{
    struct cpr_config *cfg = config_defaults();
    char found[STAFFMAIL_MAX_TRACKINGS][TRACKING_MAX], err[512];
    size_t n = staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS, false);

    g_strfreev(cfg->addresses);
    cfg->addresses = g_new0(char *, 2);
    cfg->addresses[0] = g_strdup("cpr@ca.example");
    ck_assert_int_eq(staffmail_record(pool, m, cfg, found, n, res, err, sizeof(err)), DB_OK);
    config_free(cfg);
}

START_TEST(test_staff_replies)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *m = make_msg("Reporter@Example.net", "Key for www.example.com",
                                     "<staff1@example.net>", NULL, NULL);
    const char *to_all[] = { "reporter@example.net", "admin@subscriber.test",
                             "bob@ca.example", "carol@mail.ca.example", NULL };
    const char *to_internal[] = { "bob@ca.example", NULL };
    struct intake_result r, r2;
    struct staffmail_result res;
    char subject[128];

    ck_assert_int_eq(intake(pool, m, &r), DB_OK);
    message_free(m);
    snprintf(subject, sizeof(subject), "Re: Key for www.example.com [%s]", r.tracking);
    /* A forged follow-up on the MX claims a staff address as its From, and
     * an out-of-office of the Subscriber lands on the case: neither makes
     * that address "the reporter". */
    m = message_new();
    message_set(&m->env_from, "mallory@evil.example");
    message_add_rcpt(m, "cpr@ca.example");
    message_add_header(m, "Subject", subject);
    message_add_header(m, "From", "Bob <bob@ca.example>");
    message_body_update(m, "forged\r\n", 8);
    ck_assert(message_finish(m));
    ck_assert_int_eq(intake(pool, m, &r2), DB_OK);
    message_free(m);
    m = message_new();
    message_set(&m->env_from, "admin@subscriber.test");
    message_add_rcpt(m, "cpr@ca.example");
    message_add_header(m, "Subject", subject);
    message_add_header(m, "Auto-Submitted", "auto-replied");
    message_body_update(m, "out of office\r\n", 15);
    ck_assert(message_finish(m));
    ck_assert_int_eq(intake(pool, m, &r2), DB_OK);
    ck_assert_str_eq(r2.kind, "automated");
    message_free(m);
    m = staff_msg(subject, "<int1@ca.example>", to_internal);
    staff_record(pool, m, &res);
    ck_assert_str_eq(res.tracking, r.tracking);
    ck_assert_ptr_nonnull(strstr(res.outcome, "no response"));
    message_free(m);
    assert_value("SELECT (reporter_done_at IS NULL AND subscriber_done_at IS NULL)::text "
                 "FROM cpr.cases WHERE tracking = $1", r.tracking, "true");

    m = staff_msg(subject, "<out1@ca.example>", to_all);
    staff_record(pool, m, &res);
    ck_assert_str_eq(res.tracking, r.tracking);
    assert_value("SELECT (reporter_done_at IS NOT NULL AND subscriber_done_at IS NOT NULL)::text "
                 "FROM cpr.cases WHERE tracking = $1", r.tracking, "true");
    assert_value("SELECT string_agg(e.data->>'to' || ' ' || (e.data->>'address') || ' ' || e.actor, "
                 "',' ORDER BY e.seq) FROM cpr.events e JOIN cpr.cases c ON c.id = e.case_id "
                 "WHERE c.tracking = $1 AND e.type = 'response'", r.tracking,
                 "reporter reporter@example.net alice,subscriber admin@subscriber.test alice");
    assert_value("SELECT count(*)::text FROM cpr.messages m JOIN cpr.cases c ON c.id = m.case_id "
                 "WHERE c.tracking = $1 AND m.direction = 'outbound' AND m.kind = 'outbound'",
                 r.tracking, "2");
    staff_record(pool, m, &res);   /* a retry of the same message */
    ck_assert_str_eq(res.outcome, "redelivery");
    message_free(m);
    /* The reply copied cpr@ and came back in through the MX: no follow-up. */
    m = make_msg("alice@ca.example", subject, "<out1@ca.example>", NULL,
                 "We are looking into it.\r\n");
    ck_assert_int_eq(intake(pool, m, &r2), DB_OK);
    ck_assert(r2.redelivery);
    ck_assert_str_eq(r2.kind, "outbound");
    ck_assert_str_eq(r2.tracking, r.tracking);
    message_free(m);

    m = staff_msg("Re: [CPR-1999-999999]", "<out2@ca.example>", to_all);
    staff_record(pool, m, &res);
    ck_assert_str_eq(res.tracking, "");
    ck_assert_str_eq(res.outcome, "no such case");
    message_free(m);
    assert_value("SELECT count(*)::text FROM cpr.outbox", NULL, "0");
    db_pool_free(pool);
}
END_TEST

START_TEST(test_staff_session_rules)
{
    struct cpr_config *cfg = config_defaults();
    const char *rc[] = { "x@subscriber.test", NULL };
    struct cpr_message *m = staff_msg("no number here", "<s@ca.example>", rc);
    char found[STAFFMAIL_MAX_TRACKINGS][TRACKING_MAX];

    g_strfreev(cfg->submission_daemons);
    cfg->submission_daemons = g_new0(char *, 2);
    cfg->submission_daemons[0] = g_strdup("submission");
    ck_assert(staffmail_session(m, cfg));
    message_set(&m->daemon_name, "smtpd");
    ck_assert(!staffmail_session(m, cfg));          /* the MX path */
    message_set(&m->daemon_name, "submission");
    message_set(&m->auth_authen, NULL);
    ck_assert(!staffmail_session(m, cfg));          /* not authenticated */
    ck_assert_uint_eq(staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS, false), 0);
    ck_assert(!staffmail_automated(m));
    message_add_header(m, "Auto-Submitted", "auto-generated");
    ck_assert(staffmail_automated(m));
    message_free(m);
    config_free(cfg);
}
END_TEST

/* The tracking number in a base64 body is found once decoded. */
START_TEST(test_staff_tracking_in_body)
{
    struct cpr_message *m = message_new();
    char found[STAFFMAIL_MAX_TRACKINGS][TRACKING_MAX];
    /* "Regarding CPR-2026-000123, revoked." in base64 */
    const char *body = "UmVnYXJkaW5nIENQUi0yMDI2LTAwMDEyMywgcmV2b2tlZC4=\r\n";

    message_keep_raw(m, STAFFMAIL_SCAN_BYTES);
    message_add_header(m, "Subject", "Re: your report");
    message_add_header(m, "MIME-Version", "1.0");
    message_add_header(m, "Content-Type", "text/plain; charset=utf-8");
    message_add_header(m, "Content-Transfer-Encoding", "base64");
    message_body_update(m, body, strlen(body));
    ck_assert(message_finish(m));
    ck_assert_uint_eq(staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS, false), 1);
    ck_assert_str_eq(found[0], "CPR-2026-000123");
    /* to a CPR address only the Subject counts: this is a forward */
    ck_assert_uint_eq(staffmail_trackings(m, found, STAFFMAIL_MAX_TRACKINGS, true), 0);
    message_free(m);
}
END_TEST

/* Values from hostile certificates never fail the intake: what does not
 * fit its column is NULL, an unknown kind is skipped. */
START_TEST(test_evidence_hostile_values)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *m = make_msg("r@example.net", "odd cert", "<oddcert@example.net>",
                                     NULL, NULL);
    struct intake_result r;
    char *id;

    ck_assert_int_eq(intake(pool, m, &r), DB_OK);
    id = owner_value("SELECT m.id::text FROM cpr.messages m JOIN cpr.cases c "
                     "ON c.id = m.case_id WHERE c.tracking = $1", r.tracking);
    ck_assert_ptr_nonnull(id);
    assert_value("SELECT cpr.store_evidence(case_id, id, '[{\"kind\": \"certificate\", "
                 "\"serial\": \"-02\", \"not_before\": \"0-01-01T00:00:00Z\", "
                 "\"sha256\": \"xyz\", \"sig_ok\": \"yes\", \"proof\": \"bogus\"}, "
                 "{\"kind\": \"bogus\"}]')::text FROM cpr.messages WHERE id = $1::bigint",
                 id, "1");
    assert_value("SELECT concat_ws(',', serial, not_before, sha256, sig_ok, proof, reason) "
                 "FROM cpr.evidence WHERE message_id = $1::bigint", id, "certificate");
    ck_assert(owner_exec_fails("UPDATE cpr.evidence SET serial = '01'"));
    free(id);
    message_free(m);
    db_pool_free(pool);
}
END_TEST

/* A key pasted into a header is not stored, in headers or Subject. */
START_TEST(test_key_in_header_redacted)
{
    struct db_pool *pool = pool_open();
    struct cpr_message *m = message_new();
    struct intake_result r;
    const char *key = "-----BEGIN PRIVATE KEY----- MIGHAgEAMBMGByqGSM49AgEGCCqGSM49 "
                      "-----END PRIVATE KEY-----";

    message_set(&m->env_from, "r@example.net");
    message_add_rcpt(m, "cpr@ca.example");
    message_add_header(m, "Subject", key);
    message_add_header(m, "X-Note", key);
    /* the same block in an encoded-word, and a text-form key */
    message_add_header(m, "X-Enc", "=?UTF-8?B?LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tIE1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5IC0tLS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0=?=");
    message_add_header(m, "X-Dump", "Private-Key: (256 bit) priv: 08:15:d6:02:4f:f6:17:f4:59");
    message_add_header(m, "Message-ID", "<hdrkey@example.net>");
    message_body_update(m, "see headers\r\n", 13);
    ck_assert(message_finish(m));
    ck_assert_int_eq(intake(pool, m, &r), DB_OK);
    assert_value("SELECT (position('MIGHAgEA' IN m.headers::text || coalesce(m.subject, '') "
                 "|| coalesce(c.subject, '')) = 0 AND position('LS0tLS1CRUdJTiBQUklWQVRF' IN m.headers::text) = 0 "
                 "AND position('08:15:d6' IN m.headers::text) = 0)::text FROM cpr.messages m "
                 "JOIN cpr.cases c ON c.id = m.case_id WHERE c.tracking = $1",
                 r.tracking, "true");
    message_free(m);
    db_pool_free(pool);
}
END_TEST

static Suite *
intake_suite(void)
{
    Suite *s = suite_create("intake");
    TCase *tc = tcase_create("db");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_new_report);
    tcase_add_test(tc, test_retry_dedupe);
    tcase_add_test(tc, test_retry_without_message_id);
    tcase_add_test(tc, test_follow_up_by_subject);
    tcase_add_test(tc, test_follow_up_by_references);
    tcase_add_test(tc, test_unknown_tracking_is_new);
    tcase_add_test(tc, test_stranger_never_acts_on_a_case);
    tcase_add_test(tc, test_reporter_is_from);
    tcase_add_test(tc, test_bounce_needs_our_message_id);
    tcase_add_test(tc, test_automated);
    tcase_add_test(tc, test_concurrent_intake);
    tcase_add_test(tc, test_immutable);
    tcase_add_test(tc, test_milter_role_is_confined);
    tcase_add_test(tc, test_hash_chain);
    tcase_add_test(tc, test_breaker_fails_fast);
    tcase_add_test(tc, test_key_in_header_redacted);
    tcase_add_test(tc, test_evidence_hostile_values);
    tcase_add_test(tc, test_staff_replies);
    tcase_add_test(tc, test_staff_session_rules);
    tcase_add_test(tc, test_staff_tracking_in_body);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int failed;

    owner_conninfo = getenv("CPR_TEST_CONNINFO");
    milter_conninfo = getenv("CPR_TEST_MILTER_CONNINFO");
    if (owner_conninfo == NULL || milter_conninfo == NULL) {
        fprintf(stderr, "check_intake: set CPR_TEST_CONNINFO and CPR_TEST_MILTER_CONNINFO "
                        "(tests/intake.test does)\n");
        return 77;
    }
    srand((unsigned)getpid());
    sr = srunner_create(intake_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

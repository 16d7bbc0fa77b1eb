/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   auditchain - check the per-case SHA-256 event chains, and digest them
 * SUMMARY
 *   struct audit_chain ch; audit_chain_begin(&ch, tracking, head_hex, cb, arg);
 *   audit_chain_add(&ch, seq, prev_hex, hash_hex, canonical, len);  ...
 *   audit_chain_end(&ch);   audit_digest_line(&ch, buf, len);
 * DESCRIPTION
 *   The database chains each case's events: hash = SHA-256(prev_hash ||
 *   canonical), where canonical is the event's canonical form in its
 *   format: 1, cpr.event_canonical() (sql/001_schema.sql), the JSON array
 *   [tracking, seq, at, actor, type, message_id, data]; 2,
 *   cpr.event_canonical_v2() (sql/013_audit_truth.sql), [2, tracking, seq,
 *   at, actor, db_user, type, message_id, data], which binds the database
 *   session_user too (audit_event_parse reads both; a format-1 event after
 *   a format-2 one is a break). This module recomputes every hash in C with
 *   OpenSSL from the canonical bytes, so a replaced SQL hash function is
 *   not trusted, and checks that seq runs 1..n without gaps, that each
 *   prev_hash is the previous event's hash (NULL for seq 1), and that the
 *   case's audit_head is the last hash. Each break goes to the callback
 *   with the tracking number, the seq (0: the case as a whole) and what.
 *
 *   The digest: one line per case, "TRACKING SEQ HEAD\n" (SEQ the last
 *   seq, HEAD its hash in lower-case hex; a case with no events has SEQ 0
 *   and HEAD "-"), and one SHA-256 over all those lines in order
 *   (audit_digest_*), so that a copy kept elsewhere shows any rewrite.
 *
 *   The columns: the clock facts on cpr.cases (reporter_done_at, br_item,
 *   state, ...) can be UPDATEd by the database owner without touching an
 *   event. audit_facts_* replays the events as the SQL that writes those
 *   columns does (sql/002_intake.sql, 005_sweeper.sql, 008_staff_mail.sql)
 *   and names each column that is not what its events say. Given the
 *   case's columns (audit_chain_columns), a chain does this with the very
 *   canonical bytes whose hashes it checked.
 *
 *   The times: events are timed after the case-row lock (sql/013), so an
 *   event whose time is earlier than the event before it ("time runs
 *   backwards") or than the case's receipt ("event precedes receipt") is
 *   a finding of its own, not a chain break: it goes to the on_time
 *   callback (audit_chain_on_time) and is counted in time_findings.
 *
 *   A confirm whose BR item differs from the one before it is a change of
 *   BR item: the replay lists each in audit_facts.br_changes ({"seq",
 *   "at", "from", "to", "reason" (null if none was recorded), "by",
 *   "db_user"}), for report and timeline to flag.
 * DIAGNOSTICS
 *   audit_chain_end returns the number of breaks found in the case,
 *   column mismatches included (seq 0, "column NAME: X but events say Y");
 *   time findings are not breaks.
 */
#ifndef CPR_AUDITCHAIN_H
#define CPR_AUDITCHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define AUDIT_HASH_LEN   32
#define AUDIT_HEX_LEN    (2 * AUDIT_HASH_LEN + 1)
#define AUDIT_TRACKING_MAX 64
#define AUDIT_LINE_MAX   (AUDIT_TRACKING_MAX + 24 + AUDIT_HEX_LEN)

/* How much later than its column an event may be. The staff actions of
 * sql/005_sweeper.sql (ack, respond, confirm, revoked, close) UPDATE the
 * case with one clock_timestamp() and cpr.append_event takes another, a
 * few microseconds later, in the same transaction; intake and staff mail
 * (002, 007, 008) use one time for both, so there the two are equal. The
 * event is never earlier than its column; 1 s bounds the gap generously
 * and moves no deadline that matters (they are hours). */
#define AUDIT_COLUMN_SLACK_US  1000000LL
#define AUDIT_ISO_LEN          40      /* "2026-11-27T03:14:00.123456Z" and NUL */

/* What a case's events say its columns hold. Times in UTC microseconds,
 * 0 for NULL; the JSON values are owned (NULL for SQL NULL). */
struct audit_facts {
    long long received_at, ack_clock_from, acked_at, reporter_done_at,
              subscriber_done_at, revoked_at, closed_at;
    json_t *br_item, *crl_reason, *subscriber_waiver, *resolution;
    bool closed;
    /* Set by a format-2 event, timed after the case lock: the column
     * (written before it) may be up to AUDIT_COLUMN_SLACK_US earlier. */
    bool received_late, ack_from_late;
    json_t *br_changes;                /* array, or NULL: none */
    /* Issue 16: the case has inventory certificates (a lookup found some,
     * or the revocation worker checked them), and when their revocation
     * was seen published (the revocation-published event's time). */
    bool inventory;
    long long published_at;
};

/* When the revocation clock stopped by the trail: publication seen for a
 * case with inventory certificates, else the staff claim; 0 running. */
long long audit_facts_revocation_stop(const struct audit_facts *f);

/* One event as its canonical bytes (or case_show) say it; the strings and
 * data are borrowed. */
struct audit_event {
    int format;                        /* 1 or 2 */
    long seq;
    long long at;                      /* UTC microseconds */
    const char *actor, *db_user, *type;   /* db_user NULL in format 1 */
    const json_t *data;
};

/* One disagreeing column: its name, the stored value and what the events
 * say, as text ("NULL" for none). */
typedef void (*audit_column_fn)(void *arg, const char *column, const char *stored,
                                const char *events_say);

void audit_facts_init(struct audit_facts *f);
void audit_facts_free(struct audit_facts *f);

/* Read canonical bytes (either format) into e, borrowing from *doc, which
 * the caller json_decref()s; false if they are not a canonical event. */
bool audit_event_parse(const unsigned char *canon, size_t len, json_t **doc,
                       struct audit_event *e);

/* Every event of case JSON (cpr.case_show: "events" with "at"). */
void audit_facts_of_case(struct audit_facts *f, const json_t *c);

/* Compare with the columns (a JSON object; a missing key is NULL); calls
 * fn for each mismatch and returns how many there were. */
size_t audit_facts_check(const struct audit_facts *f, const json_t *columns,
                         audit_column_fn fn, void *arg);

/* "2026-11-27T03:14:00[.f{1,6}]Z" as UTC microseconds; 0 if NULL or
 * malformed. Back with 6 or 3 fraction digits ("" for 0). */
long long audit_time_us(const char *iso);
void audit_time_iso(long long us, int digits, char *buf, size_t len);

typedef void (*audit_break_fn)(void *arg, const char *tracking, long seq, const char *what);

struct audit_chain {
    char tracking[AUDIT_TRACKING_MAX];
    char head_hex[AUDIT_HEX_LEN];      /* cases.audit_head; "" if NULL */
    long last_seq;                     /* 0 before the first event */
    unsigned char last[AUDIT_HASH_LEN];
    bool have_last;
    size_t breaks;
    audit_break_fn on_break;
    void *arg;
    json_t *columns;                   /* audit_chain_columns; NULL: not checked */
    struct audit_facts facts;
    int last_format;                   /* of the event before; 0 before the first */
    long long last_at;                 /* its time, UTC us; 0 if unknown */
    long long received_at;             /* the columns' receipt; 0 if unknown */
    size_t time_findings;              /* not counted in breaks */
    audit_break_fn on_time;
};

void audit_chain_begin(struct audit_chain *ch, const char *tracking, const char *head_hex,
                       audit_break_fn on_break, void *arg);

/* Check the case's columns too, at audit_chain_end (takes a reference).
 * Each event's canonical bytes are read in either format (above). */
void audit_chain_columns(struct audit_chain *ch, json_t *columns);

/* Report time findings (backwards, before receipt) to fn; without it
 * they are only counted. Call after audit_chain_begin. */
void audit_chain_on_time(struct audit_chain *ch, audit_break_fn fn);

/* One event in seq order; prev_hex NULL or "" for none. */
void audit_chain_add(struct audit_chain *ch, long seq, const char *prev_hex,
                     const char *hash_hex, const unsigned char *canonical, size_t len);

/* The end of a case: the head, then the columns; frees what the chain held. */
size_t audit_chain_end(struct audit_chain *ch);

/* "TRACKING SEQ HEAD\n" of a finished chain (the recomputed head). */
void audit_digest_line(const struct audit_chain *ch, char *buf, size_t len);

/* Hex of bytes; hex to bytes (false if not exactly n bytes of hex). */
void audit_hex(const unsigned char *in, size_t n, char *out);
bool audit_unhex(const char *hex, unsigned char *out, size_t n);

/* SHA-256 over a sequence of digest lines. */
struct audit_digest;
struct audit_digest *audit_digest_new(void);
void audit_digest_add(struct audit_digest *d, const char *line);
/* The hex digest; frees d. */
void audit_digest_finish(struct audit_digest *d, char hex[AUDIT_HEX_LEN]);

#endif

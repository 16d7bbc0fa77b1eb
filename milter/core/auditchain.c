/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   auditchain - check the per-case SHA-256 event chains, and digest them
 * DESCRIPTION
 *   See auditchain.h. Owns the recomputation of event hashes (OpenSSL
 *   EVP SHA-256), the digest format, and the replay of events into the
 *   column values they imply. No I/O, no database.
 * DIAGNOSTICS
 *   An OpenSSL failure is reported as a break (the hash cannot be checked),
 *   never as a pass. Allocation failure of the digest context is fatal.
 */
#include "auditchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "log.h"

#define AUDIT_EX_FAIL 1
#define AUDIT_US_DIGITS 6              /* fraction digits of a microsecond time */
#define AUDIT_SHOW_MAX  120            /* bytes of a text value shown in a break */
#define AUDIT_WHAT_MAX  (2 * AUDIT_SHOW_MAX + 96)

void
audit_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
audit_unhex(const char *hex, unsigned char *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ---- times ---- */

long long
audit_time_us(const char *iso)
{
    struct tm tm;
    int n = 0;
    long long frac = 0, scale = 1000000;
    const char *p;
    time_t t;

    if (!iso)
        return 0;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return 0;
    p = iso + n;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (scale == 1)
                return 0;                  /* finer than a microsecond */
            scale /= 10;
            frac += (*p - '0') * scale;
        }
        if (scale == 1000000)
            return 0;                      /* "." without digits */
    }
    if (strcmp(p, "Z") != 0 && *p != '\0')
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if ((t = timegm(&tm)) == (time_t)-1)
        return 0;
    return (long long)t * 1000000 + frac;
}

void
audit_time_iso(long long us, int digits, char *buf, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    long long frac = us % 1000000;

    if (us <= 0 || !gmtime_r(&t, &tm)) {
        snprintf(buf, len, "%s", "");
        return;
    }
    if (digits != AUDIT_US_DIGITS) {
        digits = 3;
        frac /= 1000;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%0*lldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, digits, frac);
}

/* ---- the columns the events imply ---- */

void
audit_facts_init(struct audit_facts *f)
{
    memset(f, 0, sizeof(*f));
}

void
audit_facts_free(struct audit_facts *f)
{
    json_decref(f->br_item);
    json_decref(f->crl_reason);
    json_decref(f->subscriber_waiver);
    json_decref(f->resolution);
    json_decref(f->br_changes);
    audit_facts_init(f);
}

/* *slot := data[key] (a JSON null for none: the SQL stores NULL). */
static void
facts_take(json_t **slot, const json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    json_decref(*slot);
    *slot = v && !json_is_null(v) ? json_incref(v) : NULL;
}

static bool
str_is(const json_t *o, const char *key, const char *want)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s && strcmp(s, want) == 0;
}

/* A received event: the first is the receipt (cpr.intake_open_case); a
 * new report starts the acknowledge clock, a follow-up restarts it and
 * clears the ack (cpr.intake_follow_up); automated mail does neither. */
static void
facts_received(struct audit_facts *f, long long at, const json_t *data, bool late)
{
    if (!f->received_at) {
        f->received_at = at;
        f->received_late = late;
    }
    if (str_is(data, "kind", "new-report") || str_is(data, "kind", "follow-up")) {
        f->ack_clock_from = at;
        f->ack_from_late = late;
    }
    if (str_is(data, "kind", "follow-up"))
        f->acked_at = 0;
}

/* cpr.confirm: the item and CRL reason; an item other than the one
 * before it is a change of BR item, listed whether or not the event
 * carries a reason (before sql/013 a change needed none). */
static void
facts_confirm(struct audit_facts *f, const struct audit_event *e)
{
    const json_t *to = json_object_get(e->data, "br_item");
    const json_t *why = json_object_get(e->data, "reason");
    char at[AUDIT_ISO_LEN];

    if (f->br_item && to && !json_is_null(to) && !json_equal(f->br_item, to)) {
        if (!f->br_changes)
            f->br_changes = json_array();
        audit_time_iso(e->at, AUDIT_US_DIGITS, at, sizeof(at));
        json_array_append_new(f->br_changes, json_pack("{s:I, s:s, s:O, s:O, s:O?, s:s?, s:s?}",
            "seq", (json_int_t)e->seq, "at", at, "from", f->br_item, "to", to,
            "reason", json_is_string(why) ? why : NULL, "by", e->actor,
            "db_user", e->db_user));
    }
    facts_take(&f->br_item, e->data, "br_item");
    facts_take(&f->crl_reason, e->data, "crl_reason");
}

/* cpr.respond and cpr.outbound_response: the first response of each kind
 * stops its clock (coalesce); a waiver stops the Subscriber's and its
 * reason, the last one given, is kept. */
static void
facts_response(struct audit_facts *f, long long at, const json_t *data, bool waiver)
{
    if (str_is(data, "to", "reporter") && !waiver) {
        if (!f->reporter_done_at)
            f->reporter_done_at = at;
        return;
    }
    if (!str_is(data, "to", "subscriber"))
        return;
    if (!f->subscriber_done_at)
        f->subscriber_done_at = at;
    if (waiver)
        facts_take(&f->subscriber_waiver, data, "reason");
}

static void
audit_facts_add(struct audit_facts *f, const struct audit_event *ev)
{
    const char *type = ev->type;
    const json_t *data = ev->data;
    long long at = ev->at;

    if (!type || at <= 0)
        return;
    if (strcmp(type, "received") == 0)
        facts_received(f, at, data, ev->format >= 2);
    else if (strcmp(type, "ack") == 0)
        f->acked_at = at;
    else if (strcmp(type, "response") == 0 || strcmp(type, "waiver") == 0)
        facts_response(f, at, data, type[0] == 'w');
    else if (strcmp(type, "confirm") == 0)
        facts_confirm(f, ev);
    else if (strcmp(type, "revoked") == 0) {
        if (!f->revoked_at)
            f->revoked_at = at;
    } else if (strcmp(type, "lookup") == 0 || strcmp(type, "revocation-status") == 0) {
        const json_t *total = json_object_get(data, "total");

        if (type[0] == 'r' || (json_is_integer(total) && json_integer_value(total) > 0))
            f->inventory = true;
    } else if (strcmp(type, "revocation-reopened") == 0) {
        f->published_at = 0;   /* a certificate found later: not met yet */
    } else if (strcmp(type, "revocation-published") == 0) {
        const json_t *p = json_object_get(data, "published_at");
        long long t = json_is_string(p) ? audit_time_us(json_string_value(p)) : 0;

        f->inventory = true;
        if (!f->published_at)
            f->published_at = t > 0 && t <= at ? t : at;
    } else if (strcmp(type, "close") == 0) {
        /* cpr.close: closed_at stays set after a re-open (sql/005). */
        f->closed = true;
        f->closed_at = at;
        facts_take(&f->resolution, data, "resolution");
    } else if (strcmp(type, "reopened") == 0)
        f->closed = false;
}

long long
audit_facts_revocation_stop(const struct audit_facts *f)
{
    return f->inventory ? f->published_at : f->revoked_at;
}

void
audit_facts_of_case(struct audit_facts *f, const json_t *c)
{
    size_t i;
    const json_t *e;

    json_array_foreach(json_object_get(c, "events"), i, e) {
        json_int_t format = json_integer_value(json_object_get(e, "format"));
        struct audit_event ev = {
            format >= 2 ? 2 : 1, (long)json_integer_value(json_object_get(e, "seq")),
            audit_time_us(json_string_value(json_object_get(e, "at"))),
            json_string_value(json_object_get(e, "actor")),
            json_string_value(json_object_get(e, "db_user")),
            json_string_value(json_object_get(e, "type")), json_object_get(e, "data") };

        audit_facts_add(f, &ev);
    }
}

struct facts_check {
    size_t n;
    audit_column_fn fn;
    void *arg;
};

static void
facts_mismatch(struct facts_check *k, const char *column, const char *stored,
               const char *said)
{
    k->n++;
    if (k->fn)
        k->fn(k->arg, column, stored, said);
}

/* A time column: NULL both, or the event at most slack later. */
static void
facts_time(struct facts_check *k, const json_t *cols, const char *column, long long said,
           long long slack)
{
    const json_t *v = json_object_get(cols, column);
    const char *text = json_string_value(v);
    long long stored = audit_time_us(text);
    char a[AUDIT_ISO_LEN], b[AUDIT_ISO_LEN];

    if (!stored && !said && (!v || json_is_null(v)))
        return;
    if (stored && said && said - stored >= 0 && said - stored <= slack)
        return;
    audit_time_iso(said, AUDIT_US_DIGITS, b, sizeof(b));
    snprintf(a, sizeof(a), "%s", text ? text : v && !json_is_null(v) ? "?" : "NULL");
    facts_mismatch(k, column, a, said ? b : "NULL");
}

static void
facts_show(const json_t *v, char *buf, size_t len)
{
    char *s;

    if (!v || json_is_null(v)) {
        snprintf(buf, len, "%s", "NULL");
        return;
    }
    s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(buf, len, "%.*s", AUDIT_SHOW_MAX, s ? s : "?");
    free(s);
}

/* Any other column: equal as JSON (NULL and a missing key alike). */
static void
facts_value(struct facts_check *k, const json_t *cols, const char *column, const json_t *said)
{
    const json_t *v = json_object_get(cols, column);
    char a[AUDIT_SHOW_MAX + 8], b[AUDIT_SHOW_MAX + 8];

    if (v && json_is_null(v))
        v = NULL;
    if ((!v && !said) || (v && said && json_equal(v, said)))
        return;
    facts_show(v, a, sizeof(a));
    facts_show(said, b, sizeof(b));
    facts_mismatch(k, column, a, b);
}

size_t
audit_facts_check(const struct audit_facts *f, const json_t *cols, audit_column_fn fn,
                  void *arg)
{
    struct facts_check k = { 0, fn, arg };
    json_t *state = json_string(f->closed ? "closed" : "open");

    /* Written with the event's own time (exact) before sql/013; since,
     * the event is timed after the case lock, a little later. */
    facts_time(&k, cols, "received_at", f->received_at,
               f->received_late ? AUDIT_COLUMN_SLACK_US : 0);
    facts_time(&k, cols, "ack_clock_from", f->ack_clock_from,
               f->ack_from_late ? AUDIT_COLUMN_SLACK_US : 0);
    /* Written by a staff action too: the event may be a little later. */
    facts_time(&k, cols, "acked_at", f->acked_at, AUDIT_COLUMN_SLACK_US);
    facts_time(&k, cols, "reporter_done_at", f->reporter_done_at, AUDIT_COLUMN_SLACK_US);
    facts_time(&k, cols, "subscriber_done_at", f->subscriber_done_at, AUDIT_COLUMN_SLACK_US);
    facts_value(&k, cols, "subscriber_waiver", f->subscriber_waiver);
    facts_value(&k, cols, "br_item", f->br_item);
    facts_value(&k, cols, "crl_reason", f->crl_reason);
    facts_time(&k, cols, "revoked_at", f->revoked_at, AUDIT_COLUMN_SLACK_US);
    facts_value(&k, cols, "state", state);
    facts_time(&k, cols, "closed_at", f->closed_at, AUDIT_COLUMN_SLACK_US);
    facts_value(&k, cols, "resolution", f->resolution);
    json_decref(state);
    return k.n;
}

/* ---- the chain ---- */

static void
audit_break(struct audit_chain *ch, long seq, const char *what)
{
    ch->breaks++;
    if (ch->on_break)
        ch->on_break(ch->arg, ch->tracking, seq, what);
}

void
audit_chain_begin(struct audit_chain *ch, const char *tracking, const char *head_hex,
                  audit_break_fn on_break, void *arg)
{
    memset(ch, 0, sizeof(*ch));
    snprintf(ch->tracking, sizeof(ch->tracking), "%s", tracking ? tracking : "?");
    snprintf(ch->head_hex, sizeof(ch->head_hex), "%s", head_hex ? head_hex : "");
    ch->on_break = on_break;
    ch->arg = arg;
    audit_facts_init(&ch->facts);
}

void
audit_chain_columns(struct audit_chain *ch, json_t *columns)
{
    json_decref(ch->columns);
    ch->columns = json_incref(columns);
    ch->received_at = audit_time_us(json_string_value(json_object_get(columns,
                                                                       "received_at")));
}

void
audit_chain_on_time(struct audit_chain *ch, audit_break_fn fn)
{
    ch->on_time = fn;
}

bool
audit_event_parse(const unsigned char *canon, size_t len, json_t **doc,
                  struct audit_event *e)
{
    json_error_t err;
    json_t *a = json_loadb((const char *)canon, len, 0, &err);
    size_t n = json_array_size(a);
    /* Format 2 leads with its number and has db_user after the actor. */
    size_t o = n == 9 && json_integer_value(json_array_get(a, 0)) == 2 ? 1 : 0;

    *doc = a;
    memset(e, 0, sizeof(*e));
    if (!json_is_array(a) || (n != 7 && o == 0))
        return false;
    e->format = o ? 2 : 1;
    e->seq = (long)json_integer_value(json_array_get(a, o + 1));
    e->at = audit_time_us(json_string_value(json_array_get(a, o + 2)));
    e->actor = json_string_value(json_array_get(a, o + 3));
    e->db_user = o ? json_string_value(json_array_get(a, 5)) : NULL;
    e->type = json_string_value(json_array_get(a, 2 * o + 4));
    e->data = json_array_get(a, 2 * o + 6);
    return true;
}

static void
audit_time_finding(struct audit_chain *ch, long seq, const char *what)
{
    ch->time_findings++;
    if (ch->on_time)
        ch->on_time(ch->arg, ch->tracking, seq, what);
}

/* Honest events are timed after the case lock: never before the event
 * before them, never before the receipt. */
static void
audit_chain_times(struct audit_chain *ch, long seq, long long at)
{
    char a[AUDIT_ISO_LEN], b[AUDIT_ISO_LEN], what[2 * AUDIT_ISO_LEN + 64];

    audit_time_iso(at, AUDIT_US_DIGITS, a, sizeof(a));
    if (at > 0 && ch->last_at > 0 && at < ch->last_at) {
        audit_time_iso(ch->last_at, AUDIT_US_DIGITS, b, sizeof(b));
        snprintf(what, sizeof(what), "time runs backwards at seq %ld (%s, the event before "
                 "at %s)", seq, a, b);
        audit_time_finding(ch, seq, what);
    }
    if (at > 0 && ch->received_at > 0 && at < ch->received_at) {
        audit_time_iso(ch->received_at, AUDIT_US_DIGITS, b, sizeof(b));
        snprintf(what, sizeof(what), "event precedes receipt (%s, received %s)", a, b);
        audit_time_finding(ch, seq, what);
    }
    if (at > 0)
        ch->last_at = at;
}

/* The event's canonical bytes, read for the format, the times and the
 * columns check. */
static void
audit_chain_event(struct audit_chain *ch, long seq, const unsigned char *canon, size_t len)
{
    json_t *doc;
    struct audit_event e;

    if (!audit_event_parse(canon, len, &doc, &e)) {
        if (ch->columns)
            audit_break(ch, seq, "the event's content is not a canonical event (cannot "
                        "check the case's columns against it)");
        json_decref(doc);
        return;
    }
    if (e.format < ch->last_format)
        audit_break(ch, seq, "a format 1 event after a format 2 one (its db_user is not "
                    "covered by its hash)");
    ch->last_format = e.format;
    audit_chain_times(ch, seq, e.at);
    if (ch->columns)
        audit_facts_add(&ch->facts, &e);
    json_decref(doc);
}

/* SHA-256(prev || canonical); false if OpenSSL failed. */
static bool
audit_sha256(const unsigned char *prev, const unsigned char *canon, size_t len,
             unsigned char out[AUDIT_HASH_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
        && (!prev || EVP_DigestUpdate(md, prev, AUDIT_HASH_LEN) == 1)
        && EVP_DigestUpdate(md, canon, len) == 1
        && EVP_DigestFinal_ex(md, out, &n) == 1 && n == AUDIT_HASH_LEN;

    EVP_MD_CTX_free(md);
    return ok;
}

/* The stored prev_hash must be the previous event's hash (none for seq 1). */
static void
audit_check_prev(struct audit_chain *ch, long seq, const char *prev_hex)
{
    unsigned char prev[AUDIT_HASH_LEN];
    bool has_prev = prev_hex && *prev_hex;

    if (!ch->have_last) {
        if (has_prev)
            audit_break(ch, seq, "the first event has a prev_hash");
        return;
    }
    if (!has_prev || !audit_unhex(prev_hex, prev, sizeof(prev))
        || memcmp(prev, ch->last, sizeof(prev)) != 0)
        audit_break(ch, seq, "prev_hash is not the hash of the event before it");
}

void
audit_chain_add(struct audit_chain *ch, long seq, const char *prev_hex,
                const char *hash_hex, const unsigned char *canonical, size_t len)
{
    unsigned char stored[AUDIT_HASH_LEN], computed[AUDIT_HASH_LEN];
    char what[96];

    if (seq != ch->last_seq + 1) {
        snprintf(what, sizeof(what), "seq %ld follows seq %ld (events missing or out of order)",
                 seq, ch->last_seq);
        audit_break(ch, seq, what);
    }
    audit_check_prev(ch, seq, prev_hex);
    if (!audit_sha256(ch->have_last ? ch->last : NULL, canonical, len, computed))
        audit_break(ch, seq, "cannot compute SHA-256 (OpenSSL failed)");
    else if (!audit_unhex(hash_hex, stored, sizeof(stored)))
        audit_break(ch, seq, "the stored hash is not a SHA-256");
    else if (memcmp(stored, computed, sizeof(stored)) != 0)
        audit_break(ch, seq, "hash does not match the event's content");
    /* The chain goes on from the stored hash when there is one, so one
     * edited event is named once; an edit that also rewrote its hash
     * breaks the next event's prev_hash, and so on up to the head. */
    if (audit_unhex(hash_hex, stored, sizeof(stored)))
        memcpy(ch->last, stored, sizeof(ch->last));
    else
        memcpy(ch->last, computed, sizeof(ch->last));
    ch->have_last = true;
    ch->last_seq = seq;
    audit_chain_event(ch, seq, canonical, len);
}

static void
audit_column_break(void *arg, const char *column, const char *stored, const char *said)
{
    struct audit_chain *ch = arg;
    char what[AUDIT_WHAT_MAX];

    snprintf(what, sizeof(what), "column %s: %s but events say %s", column, stored, said);
    audit_break(ch, 0, what);
}

size_t
audit_chain_end(struct audit_chain *ch)
{
    char last_hex[AUDIT_HEX_LEN] = "";

    if (ch->have_last)
        audit_hex(ch->last, AUDIT_HASH_LEN, last_hex);
    if (strcmp(last_hex, ch->head_hex) != 0)
        audit_break(ch, 0, ch->have_last ? "the case's audit_head is not its last event's hash"
                                         : "the case has an audit_head but no events");
    if (ch->columns)
        audit_facts_check(&ch->facts, ch->columns, audit_column_break, ch);
    json_decref(ch->columns);
    ch->columns = NULL;
    audit_facts_free(&ch->facts);
    return ch->breaks;
}

void
audit_digest_line(const struct audit_chain *ch, char *buf, size_t len)
{
    char hex[AUDIT_HEX_LEN] = "-";

    if (ch->have_last)
        audit_hex(ch->last, AUDIT_HASH_LEN, hex);
    snprintf(buf, len, "%s %ld %s\n", ch->tracking, ch->last_seq, hex);
}

struct audit_digest {
    EVP_MD_CTX *md;
};

struct audit_digest *
audit_digest_new(void)
{
    struct audit_digest *d = malloc(sizeof(*d));

    if (!d || !(d->md = EVP_MD_CTX_new())
        || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
        log_fatal(AUDIT_EX_FAIL, "cannot start a SHA-256 digest (OpenSSL)");
    return d;
}

void
audit_digest_add(struct audit_digest *d, const char *line)
{
    if (EVP_DigestUpdate(d->md, line, strlen(line)) != 1)
        log_fatal(AUDIT_EX_FAIL, "SHA-256 digest update failed (OpenSSL)");
}

void
audit_digest_finish(struct audit_digest *d, char hex[AUDIT_HEX_LEN])
{
    unsigned char out[AUDIT_HASH_LEN];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(d->md, out, &n) != 1 || n != AUDIT_HASH_LEN)
        log_fatal(AUDIT_EX_FAIL, "SHA-256 digest failed (OpenSSL)");
    EVP_MD_CTX_free(d->md);
    free(d);
    audit_hex(out, AUDIT_HASH_LEN, hex);
}

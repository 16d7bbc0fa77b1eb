/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   compliance - which deadlines a case met, and the auditor's totals
 * DESCRIPTION
 *   See compliance.h. Owns the reading of clock facts out of case JSON and
 *   the statistics of the auditor's report; the deadline arithmetic itself
 *   is deadline.c's, the replay of events into facts auditchain.c's. No
 *   I/O, no clock reads.
 * DIAGNOSTICS
 *   Allocation failures give NULL from the json_t builders.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include "compliance.h"

#include "auditchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMPLIANCE_NCLOCKS 4
#define COMPLIANCE_P95     95      /* percent */

static const enum deadline_clock compliance_clocks[COMPLIANCE_NCLOCKS] = {
    CLOCK_ACKNOWLEDGE, CLOCK_REPORT_REPORTER, CLOCK_REPORT_SUBSCRIBER, CLOCK_REVOCATION
};

/* The millisecond face of auditchain.c's RFC 3339 parser and printer. */
long long
compliance_time_ms(const char *iso)
{
    return audit_time_us(iso) / 1000;
}

void
compliance_time_iso(long long ms, char *buf, size_t len)
{
    audit_time_iso(ms * 1000, 3, buf, len);
}

static long long
field_ms(const json_t *o, const char *key)
{
    return compliance_time_ms(json_string_value(json_object_get(o, key)));
}

static void
compliance_case_facts(const json_t *c, struct deadline_case *dc)
{
    memset(dc, 0, sizeof(*dc));
    dc->received_at = field_ms(c, "received_at");
    dc->ack_clock_from = field_ms(c, "ack_clock_from");
    dc->acked_at = field_ms(c, "acked_at");
    dc->reporter_done_at = field_ms(c, "reporter_done_at");
    dc->subscriber_done_at = field_ms(c, "subscriber_done_at");
    dc->br_item = (int)json_integer_value(json_object_get(c, "br_item"));
    dc->revoked_at = field_ms(c, "revoked_at");
    dc->closed = json_is_string(json_object_get(c, "state"))
        && strcmp(json_string_value(json_object_get(c, "state")), "closed") == 0;
    dc->closed_at = dc->closed ? field_ms(c, "closed_at") : 0;
}

bool
compliance_next(const json_t *c, const struct deadline_policy *p, long long now,
                struct compliance_next *out)
{
    struct deadline_case dc;
    bool found = false;

    compliance_case_facts(c, &dc);
    if (dc.closed)
        return false;
    for (size_t i = 0; i < COMPLIANCE_NCLOCKS; i++) {
        enum deadline_clock k = compliance_clocks[i];
        long long d = deadline_of(&dc, p, k);

        if (d == 0 || deadline_clock_stop(&dc, k) != 0 || (found && d >= out->deadline))
            continue;
        out->clock = k;
        out->deadline = d;
        out->left_ms = d - now;
        found = true;
    }
    return found;
}

/* The first event of a type (and, if key, with data.key == val). */
static const json_t *
first_event(const json_t *c, const char *type, const char *key, const char *val)
{
    size_t i;
    const json_t *e;

    json_array_foreach(json_object_get(c, "events"), i, e) {
        const json_t *data = json_object_get(e, "data");
        const char *t = json_string_value(json_object_get(e, "type"));
        const char *v = key ? json_string_value(json_object_get(data, key)) : NULL;

        if (t && strcmp(t, type) == 0 && (!key || (v && strcmp(v, val) == 0)))
            return e;
    }
    return NULL;
}

/* The acknowledge clock as the auditor sees it: the first ack, against
 * the clock it stopped; without an ack, the clock running now. */
static void
ack_facts(const json_t *c, struct deadline_case *dc)
{
    const json_t *ack = first_event(c, "ack", NULL, NULL);
    long long from;

    if (!ack)
        return;
    from = field_ms(json_object_get(ack, "data"), "ack_clock_from");
    dc->ack_clock_from = from ? from : dc->received_at;
    dc->acked_at = field_ms(ack, "at");
}

static const char *
clock_status(long long deadline, long long stop, long long now)
{
    if (deadline == 0)
        return "none";
    if (stop != 0)
        return stop <= deadline ? "met" : "missed";
    return now > deadline ? "overdue" : "running";
}

static json_t *
iso_json(long long ms)
{
    char buf[COMPLIANCE_ISO_LEN];

    if (ms == 0)
        return json_null();
    compliance_time_iso(ms, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
clock_json(const json_t *c, const struct deadline_case *dc,
           const struct deadline_policy *p, enum deadline_clock k, long long now)
{
    long long d = deadline_of(dc, p, k), stop = deadline_clock_stop(dc, k);
    long long start = deadline_clock_start(dc, k);
    const char *name = deadline_clock_name(k);

    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:b}", "clock", name,
                     "start", iso_json(d ? start : 0), "deadline", iso_json(d),
                     "done_at", iso_json(stop),
                     "took_ms", d && stop ? json_integer(stop - start) : json_null(),
                     "status", clock_status(d, stop, now),
                     "breach_recorded", first_event(c, "breach", "clock", name) != NULL);
}

/* Every response and waiver: when, to whom, how, by whom. */
static json_t *
responses_json(const json_t *c)
{
    json_t *out = json_array();
    size_t i;
    const json_t *e;

    json_array_foreach(json_object_get(c, "events"), i, e) {
        const char *t = json_string_value(json_object_get(e, "type"));
        const json_t *data = json_object_get(e, "data");

        if (!t || (strcmp(t, "response") != 0 && strcmp(t, "waiver") != 0))
            continue;
        json_array_append_new(out, json_pack("{s:O?, s:s, s:O?, s:O?, s:O?}",
            "at", json_object_get(e, "at"), "type", t, "to", json_object_get(data, "to"),
            "via", json_object_get(data, "via"), "by", json_object_get(e, "actor")));
    }
    return out;
}

/* The clock facts as the case's events say them, not its columns: the
 * events are hash-chained (verify-audit), the columns are not. Only the
 * receipt falls back to the column, for a case without a received event. */
/* Since sql/013 an event is timed after the case lock, a little after the
 * receipt stamp its column holds: a column that is at most the slack
 * earlier is the stamp the clock runs from (verify-audit checks that). */
static long long
trail_time(long long event_us, bool late, long long column_ms)
{
    long long ms = event_us / 1000;

    if (late && column_ms > 0 && ms >= column_ms
        && ms - column_ms <= AUDIT_COLUMN_SLACK_US / 1000)
        return column_ms;
    return ms;
}

static void
trail_facts(const json_t *c, const struct audit_facts *f, struct deadline_case *dc)
{
    long long received = dc->received_at, ack_from = dc->ack_clock_from;

    memset(dc, 0, sizeof(*dc));
    dc->received_at = f->received_at ? trail_time(f->received_at, f->received_late, received)
                                     : received;
    dc->ack_clock_from = trail_time(f->ack_clock_from, f->ack_from_late, ack_from);
    dc->acked_at = f->acked_at / 1000;
    dc->reporter_done_at = f->reporter_done_at / 1000;
    dc->subscriber_done_at = f->subscriber_done_at / 1000;
    dc->br_item = (int)json_integer_value(f->br_item);
    dc->revoked_at = audit_facts_revocation_stop(f) / 1000;
    dc->closed = f->closed;
    dc->closed_at = f->closed ? f->closed_at / 1000 : 0;
    ack_facts(c, dc);
}

static void
disagree_add(void *arg, const char *column, const char *stored, const char *said)
{
    (void)stored;
    (void)said;
    json_array_append_new(arg, json_string(column));
}

json_t *
compliance_case(const json_t *c, const struct deadline_policy *p, long long now)
{
    struct deadline_case dc;
    struct audit_facts f;
    json_t *clocks = json_array(), *disagree = json_array(), *row;

    compliance_case_facts(c, &dc);
    audit_facts_init(&f);
    audit_facts_of_case(&f, c);
    audit_facts_check(&f, c, disagree_add, disagree);
    trail_facts(c, &f, &dc);
    for (size_t i = 0; i < COMPLIANCE_NCLOCKS; i++)
        json_array_append_new(clocks, clock_json(c, &dc, p, compliance_clocks[i], now));
    row = json_pack("{s:O?, s:o, s:O?, s:s, s:o, s:o, s:o, s:O?, s:o, s:o, s:o}",
                    "tracking", json_object_get(c, "tracking"),
                    "received_at", iso_json(dc.received_at),
                    "category", json_object_get(c, "category"),
                    "state", dc.closed ? "closed" : "open",
                    "acked_at", iso_json(dc.acked_at),
                    "responses", responses_json(c),
                    "revoked_at", iso_json(f.revoked_at / 1000),
                    "br_item", f.br_item,
                    "clocks", clocks,
                    "columns_disagree", disagree,
                    "br_item_changes", f.br_changes ? json_incref(f.br_changes)
                                                    : json_array());
    if (f.inventory)   /* issue 16: the clock stopped on publication, not on the claim */
        json_object_set_new(row, "revocation_published_at", iso_json(f.published_at / 1000));
    audit_facts_free(&f);
    return row;
}

/* ---- totals ---- */

struct clock_totals {
    long long *took;               /* durations of stopped clocks */
    size_t n;
    long long met, missed, overdue, running;
};

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

static void
totals_add(struct clock_totals *t, const json_t *clock)
{
    const char *s = json_string_value(json_object_get(clock, "status"));
    const json_t *took = json_object_get(clock, "took_ms");

    if (json_is_integer(took))
        t->took[t->n++] = json_integer_value(took);
    if (strcmp(s, "met") == 0)
        t->met++;
    else if (strcmp(s, "missed") == 0)
        t->missed++;
    else if (strcmp(s, "overdue") == 0)
        t->overdue++;
    else if (strcmp(s, "running") == 0)
        t->running++;
}

static json_t *
totals_json(struct clock_totals *t)
{
    json_t *median = json_null(), *p95 = json_null(), *max = json_null();

    if (t->n > 0) {
        size_t rank = (t->n * COMPLIANCE_P95 + 99) / 100;   /* nearest rank */

        qsort(t->took, t->n, sizeof(*t->took), cmp_ll);
        median = json_integer(t->n % 2 ? t->took[t->n / 2]
                              : (t->took[t->n / 2 - 1] + t->took[t->n / 2]) / 2);
        p95 = json_integer(t->took[rank - 1]);
        max = json_integer(t->took[t->n - 1]);
    }
    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", "done", (json_int_t)t->n,
                     "median_ms", median, "p95_ms", p95, "max_ms", max,
                     "met", (json_int_t)t->met, "missed", (json_int_t)t->missed,
                     "overdue", (json_int_t)t->overdue, "running", (json_int_t)t->running);
}

struct compliance_totals {
    struct clock_totals t[COMPLIANCE_NCLOCKS];
    size_t cap;                    /* room in each t[k].took */
    json_int_t cases, breaches, disagree;
};

struct compliance_totals *
compliance_totals_new(void)
{
    return calloc(1, sizeof(struct compliance_totals));
}

void
compliance_totals_free(struct compliance_totals *tot)
{
    if (!tot)
        return;
    for (size_t k = 0; k < COMPLIANCE_NCLOCKS; k++)
        free(tot->t[k].took);
    free(tot);
}

/* Room for one more duration per clock; false when memory is out. */
static bool
totals_grow(struct compliance_totals *tot)
{
    size_t cap = tot->cap ? tot->cap * 2 : 1024;

    if ((size_t)tot->cases < tot->cap)
        return true;
    for (size_t k = 0; k < COMPLIANCE_NCLOCKS; k++) {
        long long *v = realloc(tot->t[k].took, cap * sizeof(long long));

        if (!v)
            return false;
        tot->t[k].took = v;
    }
    tot->cap = cap;
    return true;
}

bool
compliance_totals_add(struct compliance_totals *tot, const json_t *row)
{
    const json_t *clock;
    size_t k;

    if (!totals_grow(tot))
        return false;
    tot->cases++;
    tot->disagree += json_array_size(json_object_get(row, "columns_disagree")) > 0;
    json_array_foreach(json_object_get(row, "clocks"), k, clock) {
        const char *s = json_string_value(json_object_get(clock, "status"));

        if (!s)
            s = "";
        if (k < COMPLIANCE_NCLOCKS)
            totals_add(&tot->t[k], clock);
        tot->breaches += strcmp(s, "missed") == 0 || strcmp(s, "overdue") == 0
            || json_is_true(json_object_get(clock, "breach_recorded"));
    }
    return true;
}

json_t *
compliance_totals_json(struct compliance_totals *tot)
{
    json_t *clocks = json_object();

    for (size_t k = 0; k < COMPLIANCE_NCLOCKS; k++)
        json_object_set_new(clocks, deadline_clock_name(compliance_clocks[k]),
                            totals_json(&tot->t[k]));
    return json_pack("{s:I, s:I, s:I, s:o}", "cases", tot->cases,
                     "breaches", tot->breaches, "columns_disagree", tot->disagree,
                     "clocks", clocks);
}

json_t *
compliance_report_head(const struct deadline_policy *p, long long now,
                       const char *from, const char *to)
{
    return json_pack("{s:s, s:s, s:o, s:{s:I, s:I}}", "from", from, "to", to,
                     "generated_at", iso_json(now), "policy",
                     "acknowledge_ms", (json_int_t)p->acknowledge_ms,
                     "report_ms", (json_int_t)p->report_ms);
}

json_t *
compliance_report(const json_t *cases, const struct deadline_policy *p, long long now,
                  const char *from, const char *to)
{
    struct compliance_totals *tot = compliance_totals_new();
    json_t *rows = json_array(), *report = compliance_report_head(p, now, from, to), *c, *row;
    size_t i;

    json_array_foreach(cases, i, c) {
        row = compliance_case(c, p, now);
        if (!tot || !compliance_totals_add(tot, row)) {
            json_decref(row);
            json_decref(rows);
            json_decref(report);
            compliance_totals_free(tot);
            return NULL;
        }
        json_array_append_new(rows, row);
    }
    json_object_set_new(report, "totals", compliance_totals_json(tot));
    json_object_set_new(report, "cases", rows);
    compliance_totals_free(tot);
    return report;
}

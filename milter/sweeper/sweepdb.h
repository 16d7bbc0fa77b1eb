/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   sweepdb - the database calls of cpr-sweeper
 * DESCRIPTION
 *   Thin, typed wrappers around the SQL functions of 005_sweeper.sql, all
 *   run with parameters (never SQL built from strings). One connection,
 *   used by one thread. Every function returns false (or -1) after
 *   logging when the call failed; the caller checks PQstatus to tell a
 *   broken connection from an SQL error.
 */
#ifndef CPR_SWEEPDB_H
#define CPR_SWEEPDB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "deadline.h"

struct sweep_case {
    long long id;
    char tracking[32];
    char *category;
    char *subject;
    struct deadline_case clocks;
};

struct sweep_step {
    long long id;
    char *key;
    char *channel;
    char *clock;
    char *event;
    int tier;
    int attempts;
    long long due;
    long long deadline;
    bool case_open;
    struct sweep_case kase;
};

/* Every query then has a client-side deadline of timeout_ms (pgconn.h). */
PGconn *sweepdb_connect(const char *conninfo, long long timeout_ms, char *err,
                        size_t errlen);

/* New events since the last look (wake.h): the highest event id with
 * lo < 0, else the rows above lo and above base, and the highest id. */
bool sweepdb_changes(PGconn *conn, long long lo, long long base, long long *n_lo,
                     long long *n_base, long long *top);

/* The cases, and the database's clock (epoch ms) read in the same query. */
bool sweepdb_cases(PGconn *conn, struct sweep_case **out, size_t *n, long long *db_now);
void sweepdb_cases_free(struct sweep_case *cases, size_t n);

/* The metrics gauges (025_metrics.sql): open cases, unsent auto-replies. */
bool sweepdb_metrics_counts(PGconn *conn, long long *cases_open, long long *outbox_pending);

/* One statement with the connection's bounded wait (sweepdb_connect's
 * timeout); a failure or a result other than rows is logged, NULL. The
 * sweeper's other modules (lookupdb, ackpoll) run their SQL through it. */
PGresult *sweepdb_query(PGconn *conn, const char *sql, int n, const char *const *params);

/* Offer one step to channels (JSON array of names); -1 on failure, else new rows. */
int sweepdb_offer(PGconn *conn, const struct sweep_case *c, const char *key,
                  const char *channels_json, const struct deadline_action *a,
                  const char *actor);

bool sweepdb_claim(PGconn *conn, const char *worker, int lease_ms, int limit,
                   struct sweep_step **out, size_t *n);
void sweepdb_steps_free(struct sweep_step *steps, size_t n);

/* outcome: sent, retry, failed or skipped. */
bool sweepdb_finish(PGconn *conn, const struct sweep_step *s, const char *worker,
                    const char *actor, const char *outcome, long status, double latency_ms,
                    const char *error, long long retry_in_ms);

/* The alerts of a case clock at the paging services (026_alerts.sql). */
struct sweep_open_alert {
    long long id;
    char *key;                 /* the dedup_key / alias sent */
    char state[16];            /* triggered or acknowledged */
};

/* A trigger with key went out on channel: record the open alert. */
bool sweepdb_alert_triggered(PGconn *conn, long long case_id, const char *clock,
                             long long clock_start, const char *base_key, const char *key,
                             const char *channel, const char *channel_type,
                             const char *event, int tier, const char *actor);
/* The open alerts of that clock (this start or an earlier one) on channel;
 * *out malloc'd (sweepdb_open_alerts_free). */
bool sweepdb_alerts_open(PGconn *conn, long long case_id, const char *clock,
                         long long clock_start, const char *channel,
                         struct sweep_open_alert **out, size_t *n);
void sweepdb_open_alerts_free(struct sweep_open_alert *a, size_t n);
/* state: acknowledged or resolved; sent: we told the service. */
bool sweepdb_alert_state(PGconn *conn, long long alert_id, const char *state,
                         const char *actor, bool sent);

/* What a page says beyond the clocks (cpr.page_facts). */
struct sweep_facts {
    char *reporter;
    int private_keys, certificates, csrs, other;
    char spki[72];             /* the first key's SPKI hex, "" if none */
};
bool sweepdb_page_facts(PGconn *conn, long long case_id, struct sweep_facts *f);
void sweepdb_facts_free(struct sweep_facts *f);

/* Auto-replies unsent for longer than after_ms: how many, and the
 * tracking number of the oldest (into oldest, "" if none). */
bool sweepdb_stuck_replies(PGconn *conn, long long after_ms, long long *count,
                           char *oldest, size_t len);

/* How long (ms) until the next retry, expired lease or group page is
 * ready; 0 if none, -1 on failure. */
long long sweepdb_next_retry(PGconn *conn);

/* Page groups (016_page_groups.sql). */
struct sweep_group {
    long long id;
    char *domain;
    int tier;                  /* the tier this page goes to */
    int open_count;            /* cases listed and not yet acknowledged */
    char *trackings;           /* the first of them, ", "-separated */
    long long window_ends_at;
};

/* The page group of a case whose acknowledge page is due: its id, 0 when
 * the case pages on its own, -1 on failure. */
long long sweepdb_group_join(PGconn *conn, long long case_id, long long window_ms,
                             const char *actor);
/* Claim one due group page: true with *found set (and g filled, to free
 * with sweepdb_group_free) or not; false on failure. */
bool sweepdb_group_claim(PGconn *conn, const char *worker, int lease_ms, int list,
                         struct sweep_group *g, bool *found);
void sweepdb_group_free(struct sweep_group *g);
/* outcome: sent or failed; the next page of the group is due in next_ms. */
bool sweepdb_group_finish(PGconn *conn, const struct sweep_group *g, const char *worker,
                          const char *outcome, long long next_ms, const char *error,
                          const char *actor);

/* An acknowledged group whose alerts are open (026_alerts.sql): true
 * with *found set (id, last tier paged) or not; false on failure. */
bool sweepdb_group_resolve_claim(PGconn *conn, int lease_ms, long long *id, int *tier,
                                 bool *found);
bool sweepdb_group_resolved(PGconn *conn, long long id, bool ok, long long retry_ms);

/* Milter liveness (021_liveness.sql): one page or resolve due. */
struct sweep_alert {
    long long id;
    char action[16];           /* page or resolve */
    char *host, *socket, *reason, *version, *beat_at, *opened_at;
    int pid;                   /* 0: unknown */
    int attempts;              /* this one included */
};

/* Claim the next alert action due, leased for lease_ms: true with *found
 * set (and a filled, to free with sweepdb_alert_free) or not; false on
 * failure. */
bool sweepdb_milter_alert(PGconn *conn, long long down_after_ms, long long grace_ms,
                          const char *worker, long long lease_ms, struct sweep_alert *a,
                          bool *found);
void sweepdb_alert_free(struct sweep_alert *a);
/* Sent (ok), or due again in retry_ms. False on failure or a lost lease. */
bool sweepdb_alert_done(PGconn *conn, const struct sweep_alert *a, bool ok,
                        const char *worker, long long retry_ms);
/* How long (ms) until milter liveness may need a pass; 0 if never, -1 on
 * failure. */
long long sweepdb_milter_next(PGconn *conn, long long down_after_ms, long long grace_ms);

/* A probe handed to this sweeper to send (cpr.probe_take). */
struct sweep_probe {
    char id[72];
    char address[320];
    char variant[32];
    char message_id[128];
    long long mark_unix;
};

/* The probes due now, made and handed to worker alone; addresses and
 * variants are JSON arrays of strings. *out is malloc'd (free it); false
 * on failure. */
bool sweepdb_probe_take(PGconn *conn, const char *addresses_json, const char *variants_json,
                        long long interval_ms, const char *worker, struct sweep_probe **out,
                        size_t *n);
/* The relay took it (error NULL) or refused it with error; mailbox: the
 * sender will look for it in the mailbox. */
bool sweepdb_probe_sent(PGconn *conn, const char *id, const char *error, bool mailbox);
/* Whether a probe of the last day may still be in the mailbox. */
bool sweepdb_probe_mailbox_due(PGconn *conn, bool *due);
/* A probe message found in folder (cpr.probe_found): *id is the probe to
 * delete, or "" when there is none to delete (not ours, or a report). */
bool sweepdb_probe_found(PGconn *conn, const char *message_id, const char *folder, bool junk,
                         char *id, size_t idlen);
bool sweepdb_probe_deleted(PGconn *conn, const char *id);
/* ms until the next probe is due; 0 if none is scheduled, -1 on failure. */
long long sweepdb_probe_next(PGconn *conn);

/* A probe page or resolve claimed by this sweeper (cpr.probe_alerts). */
struct sweep_probe_alert {
    long long id;
    char action[16];           /* page or resolve */
    char address[320];
    char variant[32];
    char stage[64];
    char probe_id[72];
    char detail[1024];         /* the relay's reply, for send failed */
    char sent_at[40];
    char opened_at[40];
    int plain_passes;          /* 1 yes, 0 no, -1 unknown */
    int attempts;
};

bool sweepdb_probe_alert(PGconn *conn, long long timeout_ms, const char *worker,
                         long long lease_ms, struct sweep_probe_alert *a, bool *found);
bool sweepdb_probe_alert_done(PGconn *conn, const struct sweep_probe_alert *a, bool ok,
                              const char *worker, long long retry_ms);
/* ms until probe alerts may need a pass; 0 if never, -1 on failure. */
long long sweepdb_probe_alert_next(PGconn *conn, long long timeout_ms);

#endif

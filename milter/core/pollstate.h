/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   pollstate - what PagerDuty or Opsgenie says of an alert we opened
 * SUMMARY
 *   struct poll_state st;
 *   if (pollstate_pagerduty(body, len, &st, err, sizeof err)) ... st.status ...
 *   if (pollstate_opsgenie(body, len, &st, err, sizeof err)) ...
 *   ms = pollstate_retry_after("120", now_ms);
 * DESCRIPTION
 *   Pure parsers (jansson) of the REST answers cpr-sweeper polls for
 *   (io/pagerpoll.c fetches them): PagerDuty GET /incidents?incident_key=K
 *   (the newest incident of that key; its status, and the last
 *   acknowledgement's acknowledger, expanded by include[]=acknowledgers,
 *   or the id to look up with GET /users/ID), PagerDuty GET /users/ID
 *   (the email), Opsgenie GET /v2/alerts/ALIAS?identifierType=alias
 *   (status, acknowledged, report.acknowledgedBy / closedBy).
 *   Every answer is hostile: a body over POLL_BODY_MAX, an array over
 *   POLL_ARRAY_MAX, a wrong type or a missing field is refused with a
 *   reason; an actor is cut to POLL_ACTOR_MAX and keeps only the
 *   characters of an address or a name (others become '?'), so it can go
 *   into an audit event and a log line as it is.
 * DIAGNOSTICS
 *   false with a reason in err (never the body's text).
 */
#ifndef CPR_POLLSTATE_H
#define CPR_POLLSTATE_H

#include <stdbool.h>
#include <stddef.h>

#define POLL_BODY_MAX   (1 << 20)  /* bytes of a REST answer we read */
#define POLL_ARRAY_MAX  100        /* incidents or acknowledgements looked at */
#define POLL_ACTOR_MAX  160        /* "pagerduty:" + an address, cut */
#define POLL_ID_MAX     64         /* a PagerDuty user id */

enum poll_status {
    POLL_OPEN,       /* triggered / open and not acknowledged */
    POLL_ACKED,      /* acknowledged there */
    POLL_RESOLVED,   /* resolved / closed there */
    POLL_MISSING     /* the service knows no alert of that key */
};

struct poll_state {
    enum poll_status status;
    char actor[POLL_ACTOR_MAX];    /* "pagerduty:alice@example.com"; "" = unknown */
    char user_id[POLL_ID_MAX];     /* PagerDuty: acknowledger with no email; "" = none */
    char acker[POLL_ACTOR_MAX];    /* resolved, but acknowledged first: by whom; "" = not */
    bool by_service;               /* PagerDuty: acknowledged by a service (Events API),
                                      not a person: reported as open */
};

bool pollstate_pagerduty(const char *body, size_t len, struct poll_state *st,
                         char *err, size_t errlen);
/* GET /users/ID: sets st->actor to pagerduty:EMAIL. */
bool pollstate_pagerduty_user(const char *body, size_t len, struct poll_state *st,
                              char *err, size_t errlen);
bool pollstate_opsgenie(const char *body, size_t len, struct poll_state *st,
                        char *err, size_t errlen);

/* "pagerduty:" + value, cleaned and cut, into out (POLL_ACTOR_MAX). */
void pollstate_actor(const char *service, const char *value, char *out, size_t outlen);

/* A Retry-After value (delta-seconds or an IMF-fixdate) as ms from now,
 * capped at POLL_RETRY_AFTER_MAX_MS; -1 when absent or unreadable. */
#define POLL_RETRY_AFTER_MAX_MS  (3600LL * 1000)
long long pollstate_retry_after(const char *value, long long now_ms);

const char *pollstate_name(enum poll_status s);

/* A channel's request budget: a token bucket of `rate` requests per
 * minute holding at most a quarter minute's worth, and a block after a
 * 429 until its Retry-After (else 60 s, doubling to 15 min on repeated
 * 429s). Times are the caller's monotonic ms. */
#define POLL_LIMITED_FIRST_MS  (60LL * 1000)
#define POLL_LIMITED_MAX_MS    (15LL * 60 * 1000)
struct poll_budget {
    double tokens;
    long long at_ms;             /* when tokens was last refilled */
    long long blocked_until_ms;  /* no request before this */
    int limited;                 /* 429s in a row */
};
void poll_budget_init(struct poll_budget *b, long rate, long long now_ms);
bool poll_budget_take(struct poll_budget *b, long rate, long long now_ms);
/* A 429: returns how long the channel now waits (ms). */
long long poll_budget_limited(struct poll_budget *b, long long retry_after_ms, long long now_ms);
void poll_budget_ok(struct poll_budget *b);

#endif

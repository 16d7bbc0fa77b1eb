/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_pollstate - unit tests for the PagerDuty and Opsgenie REST parsers
 * DESCRIPTION
 *   The documented answers (triggered, acknowledged with the acknowledger
 *   expanded or only referenced, resolved; Opsgenie open, acknowledged,
 *   closed), then hostile ones: wrong types, duplicate keys, huge arrays,
 *   huge bodies, missing fields, an actor with control characters and
 *   quotes. Retry-After in seconds and as an HTTP date, the clock passed in.
 */
#include "check_unit.h"
#include "pollstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

static struct poll_state st;
static char err[128];

static bool
pd(const char *body)
{
    err[0] = '\0';
    return pollstate_pagerduty(body, strlen(body), &st, err, sizeof(err));
}

static bool
og(const char *body)
{
    err[0] = '\0';
    return pollstate_opsgenie(body, strlen(body), &st, err, sizeof(err));
}

START_TEST(test_pd_states)
{
    ck_assert(pd("{\"incidents\":[]}"));
    ck_assert_int_eq(st.status, POLL_MISSING);
    ck_assert(pd("{\"incidents\":[{\"status\":\"triggered\",\"created_at\":\"2026-12-07T01:00:00Z\"}]}"));
    ck_assert_int_eq(st.status, POLL_OPEN);
    ck_assert(pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{\"at\":\"x\","
                 "\"acknowledger\":{\"id\":\"PXPGF42\",\"type\":\"user\",\"email\":\"alice@example.com\"}}]}]}"));
    ck_assert_int_eq(st.status, POLL_ACKED);
    ck_assert_str_eq(st.actor, "pagerduty:alice@example.com");
    ck_assert_str_eq(st.user_id, "");
    /* only a reference: the caller asks GET /users/ID */
    ck_assert(pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{"
                 "\"acknowledger\":{\"id\":\"PXPGF42\",\"type\":\"user_reference\",\"summary\":\"Alice\"}}]}]}"));
    ck_assert_str_eq(st.user_id, "PXPGF42");
    ck_assert(pollstate_pagerduty_user("{\"user\":{\"email\":\"alice@example.com\"}}", 38, &st,
                                       err, sizeof(err)));
    ck_assert_str_eq(st.actor, "pagerduty:alice@example.com");
    ck_assert(!pollstate_pagerduty_user("{\"user\":{\"email\":7}}", 20, &st, err, sizeof(err)));
    ck_assert(pd("{\"incidents\":[{\"status\":\"resolved\",\"last_status_change_by\":"
                 "{\"type\":\"user_reference\",\"summary\":\"Bob Smith\"}}]}"));
    ck_assert_int_eq(st.status, POLL_RESOLVED);
    ck_assert_str_eq(st.actor, "pagerduty:Bob Smith");
    ck_assert_str_eq(st.acker, "");
    /* acknowledged through the Events API (our own acknowledge): nobody acted */
    ck_assert(pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{"
                 "\"acknowledger\":{\"id\":\"PSVC\",\"type\":\"service_reference\"}}]}]}"));
    ck_assert_int_eq(st.status, POLL_OPEN);
    ck_assert(st.by_service);
    ck_assert_str_eq(st.user_id, "");
    ck_assert(pd("{\"incidents\":[{\"status\":\"resolved\",\"last_status_change_by\":{\"summary\":\"x\"},"
                 "\"acknowledgements\":[{\"acknowledger\":{\"type\":\"service_reference\"}}]}]}"));
    ck_assert_int_eq(st.status, POLL_RESOLVED);
    ck_assert_str_eq(st.acker, "");
    /* acknowledged, then resolved between two polls: both count */
    ck_assert(pd("{\"incidents\":[{\"status\":\"resolved\",\"last_status_change_by\":"
                 "{\"summary\":\"Bob\"},\"acknowledgements\":[{\"acknowledger\":"
                 "{\"email\":\"alice@example.com\"}}]}]}"));
    ck_assert_str_eq(st.actor, "pagerduty:Bob");
    ck_assert_str_eq(st.acker, "pagerduty:alice@example.com");
}
END_TEST

/* A key resolved and triggered again: the newest incident speaks. */
START_TEST(test_pd_newest)
{
    ck_assert(pd("{\"incidents\":[{\"status\":\"triggered\",\"created_at\":\"2026-12-07T02:00:00Z\"},"
                 "{\"status\":\"resolved\",\"created_at\":\"2026-12-07T01:00:00Z\"}]}"));
    ck_assert_int_eq(st.status, POLL_OPEN);
    ck_assert(pd("{\"incidents\":[{\"status\":\"resolved\",\"created_at\":\"2026-12-07T01:00:00Z\"},"
                 "{\"status\":\"acknowledged\",\"created_at\":\"2026-12-07T02:00:00Z\"}]}"));
    ck_assert_int_eq(st.status, POLL_ACKED);
    ck_assert_str_eq(st.actor, "pagerduty:unknown");
}
END_TEST

START_TEST(test_pd_hostile)
{
    GString *big = g_string_new("{\"incidents\":[");

    ck_assert(!pd(""));
    ck_assert(!pd("not json"));
    ck_assert(!pd("[1,2]"));
    ck_assert(!pd("{\"incidents\":{}}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":7}]}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":\"snoozed\"}]}"));
    ck_assert(!pd("{\"incidents\":[1,2,3]}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":\"alice\"}]}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{\"acknowledger\":\"x\"}]}]}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{"
                  "\"acknowledger\":{\"id\":\"../../admin\"}}]}]}"));
    ck_assert(!pd("{\"incidents\":[{\"status\":\"triggered\",\"status\":\"resolved\"}]}"));
    ck_assert_str_eq(err, "answer is not JSON");
    for (int i = 0; i <= POLL_ARRAY_MAX; i++)
        g_string_append(big, i ? ",{\"status\":\"triggered\"}" : "{\"status\":\"triggered\"}");
    g_string_append(big, "]}");
    ck_assert(!pd(big->str));
    ck_assert_str_eq(err, "too many incidents");
    ck_assert(!pollstate_pagerduty(big->str, POLL_BODY_MAX + 1, &st, err, sizeof(err)));
    ck_assert_str_eq(err, "answer too large");
    g_string_free(big, TRUE);
}
END_TEST

/* An actor is cut and keeps only what an address or a name is made of. */
START_TEST(test_actor_clean)
{
    char many[400];

    ck_assert(pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{"
                 "\"acknowledger\":{\"email\":\"eve\\r\\nX-Evil: 1\\\"<b>\"}}]}]}"));
    ck_assert_str_eq(st.actor, "pagerduty:eve??X-Evil? 1??b?");
    ck_assert(!pd("{\"incidents\":[{\"status\":\"acknowledged\",\"acknowledgements\":[{"
                  "\"acknowledger\":{\"email\":\"eve\\u0000x\"}}]}]}"));
    memset(many, 'a', sizeof(many) - 1);
    many[sizeof(many) - 1] = '\0';
    pollstate_actor("opsgenie", many, st.actor, sizeof(st.actor));
    ck_assert_uint_eq(strlen(st.actor), POLL_ACTOR_MAX - 1);
    pollstate_actor("opsgenie", "", st.actor, sizeof(st.actor));
    ck_assert_str_eq(st.actor, "opsgenie:unknown");
}
END_TEST

START_TEST(test_og_states)
{
    ck_assert(og("{\"data\":{\"status\":\"open\",\"acknowledged\":false},\"took\":0.1}"));
    ck_assert_int_eq(st.status, POLL_OPEN);
    ck_assert(og("{\"data\":{\"status\":\"open\",\"acknowledged\":true,"
                 "\"report\":{\"ackTime\":15702,\"acknowledgedBy\":\"bob@example.com\"}}}"));
    ck_assert_int_eq(st.status, POLL_ACKED);
    ck_assert_str_eq(st.actor, "opsgenie:bob@example.com");
    ck_assert(og("{\"data\":{\"status\":\"closed\",\"acknowledged\":true,"
                 "\"report\":{\"closedBy\":\"carol@example.com\"}}}"));
    ck_assert_int_eq(st.status, POLL_RESOLVED);
    ck_assert_str_eq(st.actor, "opsgenie:carol@example.com");
    ck_assert_str_eq(st.acker, "opsgenie:unknown");
}
END_TEST

START_TEST(test_og_hostile)
{
    ck_assert(!og("{}"));
    ck_assert(!og("{\"data\":[]}"));
    ck_assert(!og("{\"data\":{\"acknowledged\":true}}"));
    ck_assert(!og("{\"data\":{\"status\":\"open\",\"acknowledged\":\"yes\"}}"));
    ck_assert(!og("{\"data\":{\"status\":\"open\",\"acknowledged\":true,\"report\":[]}}"));
    ck_assert(!og("{\"data\":{\"status\":\"gone\"}}"));
    ck_assert(og("{\"data\":{\"status\":\"open\",\"acknowledged\":true,\"report\":{\"acknowledgedBy\":42}}}"));
    ck_assert_str_eq(st.actor, "opsgenie:unknown");
}
END_TEST

START_TEST(test_retry_after)
{
    long long now = 784111777000LL;     /* Sun, 06 Nov 1994 08:49:37 GMT */

    ck_assert_int_eq(pollstate_retry_after("120", now), 120000);
    ck_assert_int_eq(pollstate_retry_after(" 0 \r\n", now), 0);
    ck_assert_int_eq(pollstate_retry_after("99999999999999999999", now), POLL_RETRY_AFTER_MAX_MS);
    ck_assert_int_eq(pollstate_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), 30000);
    ck_assert_int_eq(pollstate_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0);
    ck_assert_int_eq(pollstate_retry_after("Sun, 06 Nov 2094 08:00:00 GMT", now), POLL_RETRY_AFTER_MAX_MS);
    ck_assert_int_eq(pollstate_retry_after("-5", now), -1);
    ck_assert_int_eq(pollstate_retry_after("12abc", now), -1);
    ck_assert_int_eq(pollstate_retry_after("Sun, 06 Foo 1994 08:50:07 GMT", now), -1);
    ck_assert_int_eq(pollstate_retry_after("", now), -1);
    ck_assert_int_eq(pollstate_retry_after(NULL, now), -1);
}
END_TEST

START_TEST(test_budget)
{
    struct poll_budget b;
    int n = 0;

    poll_budget_init(&b, 60, 1000);          /* 60/min: a burst of 15, then 1/s */
    while (poll_budget_take(&b, 60, 1000))
        n++;
    ck_assert_int_eq(n, 15);
    ck_assert(!poll_budget_take(&b, 60, 1999));
    ck_assert(poll_budget_take(&b, 60, 2000));
    ck_assert(!poll_budget_take(&b, 60, 2000));
    /* a 429 with Retry-After 5 s: nothing until then */
    ck_assert_int_eq(poll_budget_limited(&b, 5000, 3000), 5000);
    ck_assert(!poll_budget_take(&b, 60, 7999));
    ck_assert(poll_budget_take(&b, 60, 9000));
    /* without Retry-After: 60 s, 120 s, ... at most 15 min */
    ck_assert_int_eq(poll_budget_limited(&b, -1, 0), 120000);
    poll_budget_ok(&b);
    ck_assert_int_eq(poll_budget_limited(&b, -1, 0), POLL_LIMITED_FIRST_MS);
    for (int i = 0; i < 10; i++)
        poll_budget_limited(&b, -1, 0);
    ck_assert_int_eq(poll_budget_limited(&b, -1, 0), POLL_LIMITED_MAX_MS);
    ck_assert_int_eq(poll_budget_limited(&b, 99999999, 0), POLL_LIMITED_MAX_MS);
    /* a tiny rate still allows one request */
    poll_budget_init(&b, 1, 0);
    ck_assert(poll_budget_take(&b, 1, 0));
    ck_assert(!poll_budget_take(&b, 1, 59999));
    ck_assert(poll_budget_take(&b, 1, 60000));
}
END_TEST

Suite *
pollstate_suite(void)
{
    Suite *s = suite_create("pollstate");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_pd_states);
    tcase_add_test(tc, test_pd_newest);
    tcase_add_test(tc, test_pd_hostile);
    tcase_add_test(tc, test_actor_clean);
    tcase_add_test(tc, test_og_states);
    tcase_add_test(tc, test_og_hostile);
    tcase_add_test(tc, test_retry_after);
    tcase_add_test(tc, test_budget);
    suite_add_tcase(s, tc);
    return s;
}

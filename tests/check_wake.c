/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   check_wake - unit tests for the sweeper's wake-up on new events
 * DESCRIPTION
 *   A model events table: rows with an id and the time their transaction
 *   commits (ids are taken before commit, so out of order). Each look
 *   counts the committed rows above the floors, as sweepdb_changes() does.
 *   A late commit below the highest id is seen; the floor moves; the
 *   count stays within the rows of two windows.
 */
#include "check_unit.h"
#include "wake.h"

#define WINDOW 10000

struct row { long long id, committed_at; };

static long long
above(const struct row *rows, int n, long long floor, long long now)
{
    long long c = 0;

    for (int i = 0; i < n; i++)
        c += rows[i].id > floor && rows[i].committed_at <= now;
    return c;
}

static long long
top_at(const struct row *rows, int n, long long now)
{
    long long t = 0;

    for (int i = 0; i < n; i++)
        if (rows[i].committed_at <= now && rows[i].id > t)
            t = rows[i].id;
    return t;
}

static bool
look(struct wake *w, const struct row *rows, int n, long long now)
{
    long long lo, base;

    if (!wake_known(w)) {
        wake_start(w, now, top_at(rows, n, now));
        return false;
    }
    wake_floors(w, now, &lo, &base);
    return wake_saw(w, now, above(rows, n, lo, now), above(rows, n, base, now),
                    top_at(rows, n, now));
}

START_TEST(test_first_look_learns)
{
    struct row rows[] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
    struct wake w;

    wake_init(&w, WINDOW);
    ck_assert(!wake_known(&w));
    ck_assert(!look(&w, rows, 3, 100));
    ck_assert(wake_known(&w));
    ck_assert_int_eq(w.floor, 3);
    ck_assert(!look(&w, rows, 3, 600));        /* nothing new */
}
END_TEST

START_TEST(test_late_commit_below_top)
{
    /* id 5 commits at 1000, id 4 (taken first) only at 1600. */
    struct row rows[] = { { 3, 0 }, { 4, 1600 }, { 5, 1000 } };
    struct wake w;

    wake_init(&w, WINDOW);
    look(&w, rows, 3, 500);
    ck_assert(look(&w, rows, 3, 1100));        /* 5 */
    ck_assert(!look(&w, rows, 3, 1500));
    ck_assert(look(&w, rows, 3, 1700));        /* 4, below the top 5 */
    ck_assert(!look(&w, rows, 3, 2200));
}
END_TEST

START_TEST(test_floor_moves)
{
    struct row rows[64] = { { 0, 0 } };
    struct wake w;
    int n = 0;

    wake_init(&w, WINDOW);
    look(&w, rows, 0, 0);
    for (long long t = 500; t <= 60000; t += 500) {
        bool changed;

        if (t % 2000 == 0 && n < 64) {
            rows[n].id = n + 1;
            rows[n].committed_at = t;
            n++;
        }
        changed = look(&w, rows, n, t);
        ck_assert_int_eq(changed, t % 2000 == 0);
        /* the counted range never holds more than two windows of rows */
        ck_assert_int_le(above(rows, n, w.floor, t), 2 * WINDOW / 2000 + 1);
    }
    ck_assert_int_gt(w.floor, 20);
}
END_TEST

START_TEST(test_late_commit_across_move)
{
    /* id 2 taken at 0, committed at 10500: after the floor moved at 10000
     * to the top of one window earlier (0), so it is still counted. */
    struct row rows[] = { { 1, 0 }, { 2, 10500 }, { 3, 9000 } };
    struct wake w;

    wake_init(&w, WINDOW);
    ck_assert(!look(&w, rows, 3, 0));
    ck_assert(look(&w, rows, 3, 9500));        /* 3 */
    ck_assert(!look(&w, rows, 3, 10000));      /* the floor moves */
    ck_assert(look(&w, rows, 3, 10600));       /* 2 */
}
END_TEST

START_TEST(test_reset)
{
    struct wake w;

    wake_init(&w, 0);
    ck_assert_int_eq(w.window_ms, 1);
    wake_start(&w, 0, 42);
    wake_reset(&w);
    ck_assert(!wake_known(&w));
}
END_TEST

Suite *
wake_suite(void)
{
    Suite *s = suite_create("wake");
    TCase *tc = tcase_create("wake");

    tcase_add_test(tc, test_first_look_learns);
    tcase_add_test(tc, test_late_commit_below_top);
    tcase_add_test(tc, test_floor_moves);
    tcase_add_test(tc, test_late_commit_across_move);
    tcase_add_test(tc, test_reset);
    suite_add_tcase(s, tc);
    return s;
}

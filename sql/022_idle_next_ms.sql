-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   022_idle_next_ms.sql - nothing pending means NULL, not "again in 1 ms"
-- DESCRIPTION
--   step_next_ms, page_group_next_ms and outbox_next_ms said "at least 1"
--   with greatest(1, min(...) - now). PostgreSQL's greatest() ignores a
--   NULL argument, so over no rows they returned 1 instead of NULL: an
--   idle cpr-sweeper (no pending step, no open page group) ran a pass
--   every millisecond, and an idle auto-reply sender of cpr-milter
--   queried the outbox every millisecond. Found by tests/liveness.test,
--   which counts the sweepers' passes while they have nothing to do. The
--   bodies are the same queries, with NULL kept NULL.
-- REPLACES cpr.step_next_ms (005_sweeper.sql)
-- REPLACES cpr.outbox_next_ms (006_autoreply.sql)
-- REPLACES cpr.page_group_next_ms (016_page_groups.sql)

CREATE OR REPLACE FUNCTION cpr.step_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, t - epoch_ms(clock_timestamp())) FROM (
        SELECT epoch_ms(min(CASE WHEN state = 'pending' THEN next_attempt_at
                                 ELSE lease_until END)) AS t
        FROM cpr.steps WHERE state IN ('pending', 'sending')
    ) due WHERE t IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION cpr.outbox_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, t - epoch_ms(clock_timestamp())) FROM (
        SELECT epoch_ms(min(CASE WHEN state = 'pending' THEN next_attempt_at
                                 ELSE lease_until END)) AS t
        FROM cpr.outbox WHERE state IN ('pending', 'sending')
    ) due WHERE t IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION cpr.page_group_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, t - epoch_ms(clock_timestamp())) FROM (
        SELECT epoch_ms(min(greatest(next_page_at, coalesce(lease_until, next_page_at)))) AS t
        FROM cpr.page_groups WHERE acked_at IS NULL
    ) due WHERE t IS NOT NULL
$$;

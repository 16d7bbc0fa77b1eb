-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   025_metrics.sql - the database gauges of cpr-sweeper's metrics endpoint
-- DESCRIPTION
--   cpr.metrics_counts gives the two counts cpr-sweeper shows as
--   Prometheus gauges: the open cases (cpr_cases_open) and the
--   auto-replies not yet sent (cpr_outbox_pending: pending or sending).
--   The sweeper calls it once per loop round (at most every [sweeper]
--   db_check_interval, and after each pass), never per scrape, so a
--   scraper cannot load the database. Both counts read partial indexes
--   only: cases_open_idx (001_schema.sql) and outbox_ready_idx
--   (006_autoreply.sql). The nearest deadline of each clock is computed
--   by the sweeper from the cases its pass already read (deadline.c),
--   not here, so the deadline rules have one definition.
-- DIAGNOSTICS
--   None: over empty tables both counts are 0.

CREATE FUNCTION cpr.metrics_counts(OUT cases_open bigint, OUT outbox_pending bigint)
RETURNS record LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT (SELECT count(*) FROM cpr.cases WHERE state = 'open'),
           (SELECT count(*) FROM cpr.outbox WHERE state IN ('pending', 'sending'))
$$;

REVOKE EXECUTE ON FUNCTION cpr.metrics_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.metrics_counts() TO cpr_sweeper;

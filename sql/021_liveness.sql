-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   021_liveness.sql - every cpr-milter beats; a silent one pages
-- DESCRIPTION
--   Each cpr-milter (one row per host and milter socket) calls
--   cpr.milter_beat every [milter] heartbeat_interval from a thread of its
--   own: pid, version, start time, messages stamped and tempfailed, how
--   long ago its last milter callback completed and how many callbacks
--   are running now. Every time is the database clock's: the milter sends
--   ages measured on its monotonic clock, never its wall clock. On SIGTERM
--   its last beat says it is stopping.
--
--   cpr-sweeper calls cpr.milter_alerts each pass. A milter is
--     down     when it has not beaten for down_after;
--     stopped  when it said it was stopping, after grace (a mistaken stop
--              leaves the MX deferring all mail);
--     wedged   when it beats, callbacks are running, and none has
--              completed for down_after (its heartbeat thread runs, its
--              callbacks do not);
--     none     (host '*') when no milter at all beats: always, stopped on
--              purpose or not, down_after after the last beat or stop
--              (nothing is expected before the first milter ever beats).
--   One row of cpr.milter_alerts per incident: opened when first due,
--   paged once, resolved when the milter beats again (or is forgotten),
--   and the resolve sent once. Each page and resolve is leased to one
--   sweeper (FOR UPDATE SKIP LOCKED, as the steps are), so with several
--   sweepers each is sent once; a crashed sweeper's lease expires and
--   another sends it.
--
--   Also fixed here, found by tests/liveness.test (which counts the
--   sweepers' passes while they have nothing to do): step_next_ms,
--   page_group_next_ms and outbox_next_ms said "at least 1" with
--   greatest(1, min(...) - now), and greatest() ignores a NULL argument,
--   so over no rows they returned 1 instead of NULL. An idle cpr-sweeper
--   (no pending step, no open page group) ran a pass every millisecond,
--   and an idle auto-reply sender queried the outbox every millisecond.
--   The bodies are the same queries, with NULL kept NULL.
-- REPLACES cpr.step_next_ms (005_sweeper.sql)
-- REPLACES cpr.outbox_next_ms (006_autoreply.sql)
-- REPLACES cpr.page_group_next_ms (016_page_groups.sql)

CREATE TABLE cpr.milters (
    host             text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    socket           text NOT NULL CHECK (length(socket) BETWEEN 1 AND 1024),
    pid              integer NOT NULL,
    version          text NOT NULL CHECK (length(version) <= 64),
    started_at       timestamptz NOT NULL,
    beat_at          timestamptz NOT NULL,
    last_callback_at timestamptz NOT NULL,
    in_callbacks     integer NOT NULL DEFAULT 0,
    stamped          bigint NOT NULL DEFAULT 0,
    tempfailed       bigint NOT NULL DEFAULT 0,
    stopping         boolean NOT NULL DEFAULT false,
    stopped_at       timestamptz,
    beat_by          name NOT NULL DEFAULT session_user,
    PRIMARY KEY (host, socket)
);

CREATE TABLE cpr.milter_alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host            text NOT NULL,          -- '*' for reason none
    socket          text NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('down', 'stopped', 'wedged', 'none')),
    pid             integer,
    opened_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    paged_at        timestamptz,
    resolved_at     timestamptz,
    resolve_sent_at timestamptz,
    closed_at       timestamptz,            -- nothing more to send
    attempts        integer NOT NULL DEFAULT 0,
    next_try_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_by      text,
    lease_until     timestamptz
);
CREATE UNIQUE INDEX milter_alerts_open_idx ON cpr.milter_alerts (host, socket)
    WHERE closed_at IS NULL;

-- One beat. p_uptime_ms and p_idle_ms are ages on the milter's monotonic
-- clock (since its start, since its last completed callback); started_at
-- is set on the first beat of a process (p_first, or a new pid).
CREATE FUNCTION cpr.milter_beat(p_host text, p_socket text, p_pid integer, p_version text,
        p_first boolean, p_uptime_ms bigint, p_idle_ms bigint, p_in_callbacks integer,
        p_stamped bigint, p_tempfailed bigint, p_stopping boolean)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF p_uptime_ms < 0 OR p_idle_ms < 0 OR p_in_callbacks < 0 THEN
        RAISE EXCEPTION 'milter_beat: negative age or count' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO cpr.milters AS m (host, socket, pid, version, started_at, beat_at,
        last_callback_at, in_callbacks, stamped, tempfailed, stopping, stopped_at)
    VALUES (p_host, p_socket, p_pid, p_version, v_now - p_uptime_ms * interval '1 ms', v_now,
        v_now - p_idle_ms * interval '1 ms', p_in_callbacks, p_stamped, p_tempfailed,
        p_stopping, CASE WHEN p_stopping THEN v_now END)
    ON CONFLICT (host, socket) DO UPDATE SET
        pid = EXCLUDED.pid, version = EXCLUDED.version,
        started_at = CASE WHEN p_first OR m.pid <> EXCLUDED.pid THEN EXCLUDED.started_at
                          ELSE m.started_at END,
        beat_at = v_now, last_callback_at = EXCLUDED.last_callback_at,
        in_callbacks = EXCLUDED.in_callbacks, stamped = EXCLUDED.stamped,
        tempfailed = EXCLUDED.tempfailed, stopping = p_stopping,
        stopped_at = CASE WHEN NOT p_stopping THEN NULL
                          ELSE coalesce(m.stopped_at, v_now) END,
        beat_by = session_user;
END
$$;

-- What is wrong with one milter now, or NULL.
CREATE FUNCTION cpr.milter_problem(m cpr.milters, p_down_after_ms bigint, p_grace_ms bigint,
        p_now timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN m.stopping THEN
            CASE WHEN m.stopped_at <= p_now - p_grace_ms * interval '1 ms' THEN 'stopped' END
        WHEN m.beat_at <= p_now - p_down_after_ms * interval '1 ms' THEN 'down'
        WHEN m.in_callbacks > 0
             AND m.last_callback_at <= p_now - p_down_after_ms * interval '1 ms' THEN 'wedged'
    END
$$;

-- Open the alerts now due and resolve those whose milter is well again.
CREATE FUNCTION cpr.milter_alerts_update(p_down_after_ms bigint, p_grace_ms bigint,
        p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_since timestamptz;
BEGIN
    INSERT INTO cpr.milter_alerts (host, socket, reason, pid, opened_at, next_try_at)
    SELECT m.host, m.socket, cpr.milter_problem(m, p_down_after_ms, p_grace_ms, p_now), m.pid,
           p_now, p_now
    FROM cpr.milters m
    WHERE cpr.milter_problem(m, p_down_after_ms, p_grace_ms, p_now) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM cpr.milter_alerts a WHERE a.host = m.host
                      AND a.socket = m.socket AND a.closed_at IS NULL)
    ON CONFLICT (host, socket) WHERE closed_at IS NULL DO NOTHING;
    -- Nobody beating: down_after since the last beat or stop of any milter
    -- (before the first milter ever beats, nothing is expected).
    SELECT max(CASE WHEN m.stopping THEN m.stopped_at ELSE m.beat_at END) INTO v_since
    FROM cpr.milters m;
    IF EXISTS (SELECT 1 FROM cpr.milters m WHERE NOT m.stopping
               AND m.beat_at > p_now - p_down_after_ms * interval '1 ms')
       OR v_since IS NULL THEN   -- one beats, or none is expected (all forgotten)
        UPDATE cpr.milter_alerts SET resolved_at = p_now
        WHERE host = '*' AND closed_at IS NULL AND resolved_at IS NULL;
    ELSIF v_since <= p_now - p_down_after_ms * interval '1 ms'
          AND NOT EXISTS (SELECT 1 FROM cpr.milter_alerts a WHERE a.host = '*'
                          AND a.closed_at IS NULL) THEN
        INSERT INTO cpr.milter_alerts (host, socket, reason, opened_at, next_try_at)
        VALUES ('*', '*', 'none', p_now, p_now)
        ON CONFLICT (host, socket) WHERE closed_at IS NULL DO NOTHING;
    END IF;
    UPDATE cpr.milter_alerts a SET resolved_at = p_now
    WHERE a.closed_at IS NULL AND a.resolved_at IS NULL AND a.host <> '*'
      AND NOT EXISTS (SELECT 1 FROM cpr.milters m WHERE m.host = a.host AND m.socket = a.socket
                      AND cpr.milter_problem(m, p_down_after_ms, p_grace_ms, p_now) IS NOT NULL);
    -- Resolved before anyone was paged: nothing to send.
    UPDATE cpr.milter_alerts SET closed_at = p_now
    WHERE closed_at IS NULL AND resolved_at IS NOT NULL AND paged_at IS NULL
      AND (lease_until IS NULL OR lease_until < p_now);
END
$$;

-- One page or resolve due now, leased to p_worker for p_lease_ms (none
-- when nothing is due): action 'page' or 'resolve', and what the notice
-- names. One per call, so that the lease covers a single send.
CREATE FUNCTION cpr.milter_alerts(p_down_after_ms bigint, p_grace_ms bigint, p_worker text,
        p_lease_ms integer)
RETURNS TABLE (alert_id bigint, action text, host text, socket text, reason text, pid integer,
               version text, beat_at text, opened_at text, attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    a cpr.milter_alerts%ROWTYPE;
BEGIN
    IF p_down_after_ms <= 0 OR p_grace_ms < 0 OR p_lease_ms <= 0 THEN
        RAISE EXCEPTION 'milter_alerts: bad bounds' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM cpr.milter_alerts_update(p_down_after_ms, p_grace_ms, v_now);
    FOR a IN SELECT * FROM cpr.milter_alerts x
             WHERE x.closed_at IS NULL AND x.next_try_at <= v_now
               AND (x.lease_until IS NULL OR x.lease_until < v_now)
               AND (x.paged_at IS NULL AND x.resolved_at IS NULL
                    OR x.paged_at IS NOT NULL AND x.resolved_at IS NOT NULL)
             ORDER BY x.id LIMIT 8 FOR UPDATE SKIP LOCKED LOOP
        UPDATE cpr.milter_alerts SET claimed_by = p_worker,
            lease_until = v_now + p_lease_ms * interval '1 ms', attempts = a.attempts + 1
        WHERE id = a.id;
        RETURN QUERY SELECT a.id, CASE WHEN a.paged_at IS NULL THEN 'page' ELSE 'resolve' END,
            a.host, a.socket, a.reason, coalesce(m.pid, a.pid), coalesce(m.version, ''),
            coalesce(cpr.utc_text(m.beat_at), ''), cpr.utc_text(a.opened_at), a.attempts + 1
            FROM (SELECT 1) one LEFT JOIN cpr.milters m ON m.host = a.host AND m.socket = a.socket;
        RETURN;
    END LOOP;
END
$$;

-- Record a page or resolve: sent (p_ok), or try again after p_retry_ms.
-- Only the sweeper holding the lease may; false otherwise.
CREATE FUNCTION cpr.alert_done(p_id bigint, p_action text, p_ok boolean, p_worker text,
        p_retry_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF p_action NOT IN ('page', 'resolve') THEN
        RAISE EXCEPTION 'alert_done: action must be page or resolve' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE cpr.milter_alerts SET
        paged_at = CASE WHEN p_ok AND p_action = 'page' THEN v_now ELSE paged_at END,
        resolve_sent_at = CASE WHEN p_ok AND p_action = 'resolve' THEN v_now
                               ELSE resolve_sent_at END,
        closed_at = CASE WHEN p_ok AND p_action = 'resolve' THEN v_now ELSE closed_at END,
        next_try_at = CASE WHEN p_ok THEN v_now
                           ELSE v_now + greatest(p_retry_ms, 0) * interval '1 ms' END,
        attempts = CASE WHEN p_ok THEN 0 ELSE attempts END,
        claimed_by = NULL, lease_until = NULL
    WHERE id = p_id AND claimed_by = p_worker AND lease_until >= v_now;
    RETURN FOUND;
END
$$;

-- How long until milter_alerts may have something to do, in ms (at least
-- 1), or NULL: a page or resolve owed (its retry or an expired lease), or
-- a milter's beat, stop or callback growing old. Times already past are
-- left out (their alerts are open, or opened in this pass), so an open
-- alert waiting for its milter never makes the sweeper spin.
CREATE FUNCTION cpr.milter_next_ms(p_down_after_ms bigint, p_grace_ms bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH n AS (SELECT clock_timestamp() AS now)
    -- greatest() ignores a NULL: with nothing due, NULL must stay NULL.
    SELECT CASE WHEN min(t) IS NOT NULL
                THEN greatest(1, epoch_ms(min(t)) - epoch_ms(min(n.now))) END FROM n, (
        SELECT greatest(a.next_try_at, coalesce(a.lease_until, a.next_try_at)) AS t
        FROM cpr.milter_alerts a
        WHERE a.closed_at IS NULL
          AND (a.paged_at IS NULL AND a.resolved_at IS NULL
               OR a.paged_at IS NOT NULL AND a.resolved_at IS NOT NULL)
        UNION ALL
        SELECT t FROM (
            SELECT CASE WHEN m.stopping THEN m.stopped_at + p_grace_ms * interval '1 ms'
                        ELSE m.beat_at + p_down_after_ms * interval '1 ms' END
            FROM cpr.milters m
            UNION ALL
            SELECT m.last_callback_at + p_down_after_ms * interval '1 ms'
            FROM cpr.milters m WHERE NOT m.stopping AND m.in_callbacks > 0
            UNION ALL
            SELECT max(CASE WHEN m.stopping THEN m.stopped_at ELSE m.beat_at END)
                   + p_down_after_ms * interval '1 ms'
            FROM cpr.milters m
        ) ages(t), n WHERE ages.t > n.now
    ) due
$$;

-- For cprctl milters: every heartbeat, with its age by the database clock.
CREATE FUNCTION cpr.milter_list()
RETURNS TABLE (host text, socket text, pid integer, version text, started_at text,
               beat_at text, beat_age_ms bigint, last_callback_at text, in_callbacks integer,
               stamped bigint, tempfailed bigint, stopping boolean, stopped_at text,
               alert text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT m.host, m.socket, m.pid, m.version, cpr.utc_text(m.started_at),
           cpr.utc_text(m.beat_at), epoch_ms(clock_timestamp()) - epoch_ms(m.beat_at),
           cpr.utc_text(m.last_callback_at), m.in_callbacks, m.stamped, m.tempfailed,
           m.stopping, cpr.utc_text(m.stopped_at),
           (SELECT a.reason FROM cpr.milter_alerts a WHERE a.host = m.host
            AND a.socket = m.socket AND a.closed_at IS NULL AND a.resolved_at IS NULL)
    FROM cpr.milters m ORDER BY m.host, m.socket
$$;

-- A milter taken out of service for good: no longer expected to beat. Its
-- open alert resolves at the next pass. True when there was such a milter.
CREATE FUNCTION cpr.milter_forget(p_host text, p_socket text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    DELETE FROM cpr.milters WHERE host = p_host AND socket = p_socket;
    RETURN FOUND;
END
$$;

-- Nothing pending: NULL, not "again in 1 ms" (see the header).
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.milters, cpr.milter_alerts FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.milter_beat(text, text, integer, text, boolean, bigint, bigint,
    integer, bigint, bigint, boolean) TO cpr_milter;
GRANT EXECUTE ON FUNCTION cpr.milter_alerts(bigint, bigint, text, integer),
    cpr.alert_done(bigint, text, boolean, text, bigint),
    cpr.milter_next_ms(bigint, bigint)
    TO cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.milter_list(), cpr.milter_forget(text, text) TO cpr_staff;
GRANT SELECT ON cpr.milters, cpr.milter_alerts TO cpr_staff, cpr_sweeper;

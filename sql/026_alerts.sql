-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   026_alerts.sql - one alert per case clock, as the paging services see it
-- DESCRIPTION
--   cpr.alerts holds every alert cpr-sweeper opened at a receiving
--   service, one row per (alert_key, channel), and the state it has
--   there. Each case clock that needs a human (acknowledge,
--   report-reporter, report-subscriber, revocation) is one alert whose
--   base key is TRACKING/CLOCK/CLOCK_START_MS, so a restarted acknowledge
--   clock is a new alert. A page that must notify although the clock's
--   alert is open (PagerDuty merges a trigger with the dedup_key of an
--   open incident, Opsgenie counts an alert with the alias of an open
--   one, neither notifies) has a key of its own under the base key:
--   BASE/t2 (a later tier), BASE/t3/r1 (a repeat), BASE/w7200000 (a later
--   warning), BASE/breach, BASE/tN/fallback. Acknowledging or resolving a
--   clock acts on every open row of that case, clock and channel
--   (cpr.alerts_open), and on those of an older start of the same clock.
--
--   Columns (stable: cpr-sweeper's REST poller reads them):
--     id               identity
--     case_id          the case (cpr.cases.id)
--     clock            acknowledge | report-reporter | report-subscriber
--                      | revocation
--     clock_start      when that clock started (ack clock: its restart)
--     base_key         TRACKING/CLOCK/CLOCK_START_MS: the clock's alert
--     alert_key        the key sent: PagerDuty dedup_key, Opsgenie alias,
--                      webhook "alert"; base_key or base_key/SUFFIX
--     channel          [channel NAME]
--     channel_type     pagerduty | opsgenie | slack | webhook | email
--     event, tier      the step that opened it (page, warn, breach)
--     state            triggered | acknowledged | resolved
--     triggered_at     first trigger sent (database clock)
--     last_sent_at     last trigger sent with this key (a resend)
--     sends            how many triggers were sent with this key
--     acknowledged_at, acknowledged_by   the ack, and whose (cprctl user,
--                      pagerduty:EMAIL, opsgenie:USER, link:CHANNEL)
--     ack_sent_at      when the acknowledge went out to the service
--     resolved_at, resolved_by           the resolve, and whose
--     resolve_sent_at  when the resolve went out (NULL: resolved there)
--     service_id       the service's id for it (PagerDuty incident id,
--                      Opsgenie alert id), filled in by the poller
--     polled_at        when the poller last looked at it
--   alerts_open_idx covers the open rows only, so finding what to
--   acknowledge, resolve or poll never scans history.
--
--   cprctl test-page records each notice it sends in
--   cpr.monitor_events (024) with source 'test-page' (no case has it).
-- DIAGNOSTICS
--   cpr.alert_triggered on a resolved key (a resend after the service
--   resolved it) opens it again: the service opened a new incident.

CREATE TABLE cpr.alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cpr.cases (id),
    clock           text NOT NULL CHECK (clock IN ('acknowledge', 'report-reporter',
                                                   'report-subscriber', 'revocation')),
    clock_start     timestamptz NOT NULL,
    base_key        text NOT NULL,
    alert_key       text NOT NULL CHECK (alert_key LIKE base_key || '%'),
    channel         text NOT NULL,
    channel_type    text NOT NULL CHECK (channel_type IN ('pagerduty', 'opsgenie', 'slack',
                                                          'webhook', 'email')),
    event           text NOT NULL CHECK (event IN ('page', 'warn', 'breach')),
    tier            integer NOT NULL,
    state           text NOT NULL DEFAULT 'triggered'
                    CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
    triggered_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_sent_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    sends           integer NOT NULL DEFAULT 1,
    acknowledged_at timestamptz,
    acknowledged_by text,
    ack_sent_at     timestamptz,
    resolved_at     timestamptz,
    resolved_by     text,
    resolve_sent_at timestamptz,
    service_id      text,
    polled_at       timestamptz,
    UNIQUE (alert_key, channel)
);
CREATE INDEX alerts_open_idx ON cpr.alerts (case_id, clock, channel)
    WHERE state <> 'resolved';
CREATE INDEX alerts_poll_idx ON cpr.alerts (channel_type, polled_at NULLS FIRST)
    WHERE state <> 'resolved';

-- A trigger went out: the alert is open at the service. Returns its id.
CREATE FUNCTION cpr.alert_triggered(p_case_id bigint, p_clock text, p_clock_start_ms bigint,
        p_base_key text, p_alert_key text, p_channel text, p_channel_type text,
        p_event text, p_tier integer, p_actor text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_id bigint;
    v_new boolean;
BEGIN
    -- The case row first: the INSERT below takes a key-share lock on it
    -- (the foreign key) and append_event then wants it FOR UPDATE; two
    -- sweepers sending one case's pages at once would deadlock.
    PERFORM 1 FROM cpr.cases WHERE id = p_case_id FOR UPDATE;
    INSERT INTO cpr.alerts AS a (case_id, clock, clock_start, base_key, alert_key, channel,
                                 channel_type, event, tier)
    VALUES (p_case_id, p_clock, to_timestamp(p_clock_start_ms / 1000.0), p_base_key,
            p_alert_key, p_channel, p_channel_type, p_event, p_tier)
    ON CONFLICT (alert_key, channel) DO UPDATE
        SET last_sent_at = clock_timestamp(), sends = a.sends + 1,
            state = CASE WHEN a.state = 'resolved' THEN 'triggered' ELSE a.state END
    RETURNING id, (xmax = 0) INTO v_id, v_new;
    IF v_new THEN
        PERFORM cpr.append_event(p_case_id, p_actor, 'alert-triggered', NULL,
            jsonb_build_object('alert', p_alert_key, 'channel', p_channel,
                               'clock', p_clock, 'event', p_event, 'tier', p_tier));
    END IF;
    RETURN v_id;
END
$$;

-- The open alerts of a case clock on one channel: this start of the clock
-- and any earlier one (a restarted acknowledge clock supersedes it).
CREATE FUNCTION cpr.alerts_open(p_case_id bigint, p_clock text, p_clock_start_ms bigint,
        p_channel text)
RETURNS TABLE (alert_id bigint, alert_key text, state text, event text, tier integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT a.id, a.alert_key, a.state, a.event, a.tier
    FROM cpr.alerts a
    WHERE a.case_id = p_case_id AND a.clock = p_clock AND a.channel = p_channel
      AND a.state <> 'resolved'
      AND a.clock_start <= to_timestamp(p_clock_start_ms / 1000.0)
    ORDER BY a.id
$$;

-- The service was told (p_sent) or told us (poller) that the alert is
-- acknowledged (p_state 'acknowledged') or resolved. A resolved alert
-- stays resolved; the first actor is kept. Returns whether it changed.
CREATE FUNCTION cpr.alert_state(p_alert_id bigint, p_state text, p_actor text, p_sent boolean)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    a cpr.alerts%ROWTYPE;
BEGIN
    IF p_state NOT IN ('acknowledged', 'resolved') THEN
        RAISE EXCEPTION 'alert_state: % is not acknowledged or resolved', p_state;
    END IF;
    SELECT * INTO a FROM cpr.alerts WHERE id = p_alert_id FOR UPDATE;
    IF NOT FOUND OR a.state = 'resolved' OR a.state = p_state THEN
        RETURN false;
    END IF;
    IF p_state = 'acknowledged' THEN
        UPDATE cpr.alerts SET state = p_state, acknowledged_at = clock_timestamp(),
            acknowledged_by = p_actor,
            ack_sent_at = CASE WHEN p_sent THEN clock_timestamp() END
        WHERE id = p_alert_id;
    ELSE
        UPDATE cpr.alerts SET state = p_state, resolved_at = clock_timestamp(),
            resolved_by = p_actor,
            resolve_sent_at = CASE WHEN p_sent THEN clock_timestamp() END
        WHERE id = p_alert_id;
    END IF;
    PERFORM cpr.append_event(a.case_id, p_actor, 'alert-' || p_state, NULL,
        jsonb_build_object('alert', a.alert_key, 'channel', a.channel, 'clock', a.clock,
                           'sent', p_sent));
    RETURN true;
END
$$;

-- What a page says about a case beyond its clocks (core/pagetext.c):
-- the reporter's address and the evidence counts, the first private
-- key's SPKI among them.
CREATE FUNCTION cpr.page_facts(p_case_id bigint,
        OUT reporter text, OUT private_keys integer, OUT first_spki text,
        OUT certificates integer, OUT csrs integer, OUT other integer)
RETURNS record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.reporter,
           (SELECT count(*) FROM cpr.evidence e WHERE e.case_id = c.id
               AND e.kind LIKE 'private-key%')::integer,
           (SELECT e.spki_sha256 FROM cpr.evidence e WHERE e.case_id = c.id
               AND e.kind LIKE 'private-key%' AND e.spki_sha256 IS NOT NULL
             ORDER BY e.id LIMIT 1),
           (SELECT count(*) FROM cpr.evidence e WHERE e.case_id = c.id
               AND e.kind = 'certificate')::integer,
           (SELECT count(*) FROM cpr.evidence e WHERE e.case_id = c.id
               AND e.kind = 'csr')::integer,
           (SELECT count(*) FROM cpr.evidence e WHERE e.case_id = c.id
               AND e.kind IN ('crtsh', 'fingerprint', 'serial'))::integer
    FROM cpr.cases c WHERE c.id = p_case_id
$$;

-- A group page (016_page_groups.sql) is one alert per tier paged, keyed
-- group-ID/tTIER. Once the group is acknowledged (cprctl ack-group, or
-- every case it lists acknowledged) its alerts are acknowledged and
-- resolved: resolved_at records that, and the lease keeps it to one
-- sweeper.
ALTER TABLE cpr.page_groups ADD COLUMN resolved_at timestamptz,
                            ADD COLUMN resolve_lease timestamptz;
CREATE INDEX page_groups_resolve_idx ON cpr.page_groups (acked_at)
    WHERE acked_at IS NOT NULL AND resolved_at IS NULL AND tier > 0;

-- Claim one acknowledged group whose alerts are still open: its id and
-- the last tier paged (tiers 1..tier each opened an alert).
CREATE FUNCTION cpr.page_group_resolve_claim(p_lease_ms integer,
        OUT group_id bigint, OUT tier integer, OUT acked_by text)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH g AS (
        SELECT pg.id FROM cpr.page_groups pg
        WHERE pg.acked_at IS NOT NULL AND pg.resolved_at IS NULL AND pg.tier > 0
          AND (pg.resolve_lease IS NULL OR pg.resolve_lease < clock_timestamp())
        ORDER BY pg.acked_at, pg.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    UPDATE cpr.page_groups pg
    SET resolve_lease = clock_timestamp() + p_lease_ms * interval '1 ms'
    FROM g WHERE pg.id = g.id
    RETURNING pg.id, pg.tier, pg.acked_by
$$;

-- The group's alerts were closed (p_ok), or try again after p_retry_ms.
CREATE FUNCTION cpr.page_group_resolved(p_group bigint, p_ok boolean, p_retry_ms bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.page_groups
    SET resolved_at = CASE WHEN p_ok THEN clock_timestamp() END,
        resolve_lease = CASE WHEN p_ok THEN NULL
                             ELSE clock_timestamp() + p_retry_ms * interval '1 ms' END
    WHERE id = p_group
$$;

-- cprctl test-page: one audit event per notice sent (or failed).
ALTER TABLE cpr.monitor_events DROP CONSTRAINT monitor_events_source_check;
ALTER TABLE cpr.monitor_events ADD CONSTRAINT monitor_events_source_check
    CHECK (source IN ('probe', 'milter', 'test-page'));

CREATE FUNCTION cpr.test_page_record(p_channel text, p_action text, p_outcome text,
        p_id text, p_actor text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    IF p_action NOT IN ('page', 'resolve') THEN
        RAISE EXCEPTION 'test_page_record: action must be page or resolve';
    END IF;
    PERFORM cpr.monitor_append('test-page', 0, p_action, p_actor,
        jsonb_build_object('channel', p_channel, 'outcome', p_outcome, 'id', p_id));
END
$$;

REVOKE ALL ON cpr.alerts FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION
    cpr.alert_triggered(bigint, text, bigint, text, text, text, text, text, integer, text),
    cpr.alerts_open(bigint, text, bigint, text),
    cpr.alert_state(bigint, text, text, boolean),
    cpr.page_facts(bigint),
    cpr.page_group_resolve_claim(integer), cpr.page_group_resolved(bigint, boolean, bigint),
    cpr.test_page_record(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    cpr.alert_triggered(bigint, text, bigint, text, text, text, text, text, integer, text),
    cpr.alerts_open(bigint, text, bigint, text),
    cpr.alert_state(bigint, text, text, boolean),
    cpr.page_facts(bigint),
    cpr.page_group_resolve_claim(integer), cpr.page_group_resolved(bigint, boolean, bigint)
    TO cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.test_page_record(text, text, text, text, text)
    TO cpr_staff, cpr_sweeper;
GRANT SELECT ON cpr.alerts TO cpr_staff, cpr_sweeper;

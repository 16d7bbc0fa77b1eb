-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   029_pager_poll.sql - acknowledge where the page arrives: PagerDuty and
--   Opsgenie polled for the alerts cpr-sweeper opened
-- DESCRIPTION
--   cpr.pager_polls holds one row per alert (channel, alert key: the
--   PagerDuty dedup_key / Opsgenie alias) that cpr-sweeper opened on a
--   channel with `poll = yes`, from the successful trigger
--   (cpr.poll_open) until the service says it is resolved, or the sweeper
--   resolves it itself (cpr.poll_closed, from its own resolve). Its state:
--     open          polled every poll_interval
--     acknowledged  acknowledged there (the case was acked through
--                   cpr.ack); still polled, to see a resolve by hand
--     resolved      resolved there, by hand: recorded, never polled again;
--                   the case's clocks keep running
--     closed        resolved by the sweeper (the clock stopped)
--     gone          the service has not known the key for a day
--   Only rows in open/acknowledged are polled: pager_polls_due_idx is a
--   partial index on (channel, next_poll_at) over those, so a poll pass
--   never reads the history. Claiming (cpr.poll_claim) moves next_poll_at
--   one interval ahead under FOR UPDATE SKIP LOCKED: with any number of
--   sweepers, each alert is asked about once per interval, and an alert
--   whose sweeper died is asked again one interval later.
--   cpr.poll_report records what the service said. An acknowledgement
--   acknowledges the case through cpr.ack (the four-argument form added
--   here, which the two-argument form of 005 now calls: one function, one
--   'ack' event, whose data names the path: {"via": "pagerduty", channel,
--   alert_key, clock}). A resolve by hand is a 'pager-resolved' event;
--   an acknowledgement of a case already acknowledged a 'pager-ack'
--   event; neither stops a clock. The alert's row in cpr.alerts
--   (026_alerts.sql), when the sweeper recorded one under the same
--   (alert_key, channel), follows: polled_at, and cpr.alert_state with
--   the service's actor (p_sent false: the service told us).
-- REPLACES cpr.ack (005_sweeper.sql)

CREATE TABLE cpr.pager_polls (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES cpr.cases (id),
    channel          text NOT NULL,
    service          text NOT NULL CHECK (service IN ('pagerduty', 'opsgenie')),
    clock            text NOT NULL,
    alert_key        text NOT NULL CHECK (length(alert_key) BETWEEN 1 AND 512),
    opened_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    state            text NOT NULL DEFAULT 'open'
                     CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed', 'gone')),
    next_poll_at     timestamptz NOT NULL,
    polls            integer NOT NULL DEFAULT 0,
    last_polled_at   timestamptz,
    last_http        integer,
    last_error       text,
    acked_by         text,
    acked_seen_at    timestamptz,
    resolved_by      text,
    resolved_seen_at timestamptz,
    missing_since    timestamptz,
    UNIQUE (channel, alert_key)
);
CREATE INDEX pager_polls_due_idx ON cpr.pager_polls (channel, next_poll_at)
    WHERE state IN ('open', 'acknowledged');

-- One ack function for every path; p_via NULL is cprctl's (its event data
-- stays what 005 wrote).
CREATE FUNCTION cpr.ack(p_tracking text, p_actor text, p_via text, p_detail jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF c.ack_clock_from IS NULL OR c.acked_at IS NOT NULL THEN
        RAISE EXCEPTION 'case % has nothing to acknowledge', p_tracking
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE cpr.cases SET acked_at = clock_timestamp() WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'ack', NULL,
        jsonb_build_object('ack_clock_from', cpr.utc_text(c.ack_clock_from))
        || CASE WHEN p_via IS NULL THEN '{}'::jsonb
                ELSE coalesce(p_detail, '{}'::jsonb) || jsonb_build_object('via', p_via) END);
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE OR REPLACE FUNCTION cpr.ack(p_tracking text, p_actor text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.ack(p_tracking, p_actor, NULL, NULL)
$$;

-- A trigger went out on a polled channel: poll its alert from one interval
-- on. A key seen before (a warning alert raised again after a resolve)
-- is polled again.
CREATE FUNCTION cpr.poll_open(p_case_id bigint, p_channel text, p_service text,
        p_clock text, p_key text, p_interval_ms bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    INSERT INTO cpr.pager_polls (case_id, channel, service, clock, alert_key, next_poll_at)
    VALUES (p_case_id, p_channel, p_service, p_clock, p_key,
            clock_timestamp() + greatest(p_interval_ms, 1000) * interval '1 ms')
    ON CONFLICT (channel, alert_key) DO UPDATE
        SET state = 'open', opened_at = clock_timestamp(), next_poll_at = EXCLUDED.next_poll_at,
            missing_since = NULL
        WHERE pager_polls.state IN ('resolved', 'closed', 'gone')
$$;

-- The sweeper resolved the alert itself: no longer polled.
CREATE FUNCTION cpr.poll_closed(p_channel text, p_key text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.pager_polls SET state = 'closed'
    WHERE channel = p_channel AND alert_key = p_key AND state IN ('open', 'acknowledged')
$$;

-- Up to p_limit alerts of one channel due for a poll, each moved one
-- interval ahead (the claim), oldest due first.
CREATE FUNCTION cpr.poll_claim(p_channel text, p_interval_ms bigint, p_limit integer)
RETURNS TABLE (id bigint, tracking text, clock text, alert_key text, state text)
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH due AS (
        SELECT p.id FROM cpr.pager_polls p
        WHERE p.channel = p_channel AND p.state IN ('open', 'acknowledged')
          AND p.next_poll_at <= clock_timestamp()
        ORDER BY p.next_poll_at
        LIMIT greatest(least(p_limit, 1000), 0)
        FOR UPDATE SKIP LOCKED
    )
    UPDATE cpr.pager_polls p
    SET next_poll_at = clock_timestamp() + greatest(p_interval_ms, 1000) * interval '1 ms',
        polls = p.polls + 1
    FROM due, cpr.cases c
    WHERE p.id = due.id AND c.id = p.case_id
    RETURNING p.id, c.tracking, p.clock, p.alert_key, p.state
$$;

-- Milliseconds until the channel's next poll is due (0: now; NULL: none).
CREATE FUNCTION cpr.poll_next_ms(p_channel text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(0, cpr.epoch_ms(min(next_poll_at)) - cpr.epoch_ms(clock_timestamp()))
    FROM cpr.pager_polls
    WHERE channel = p_channel AND state IN ('open', 'acknowledged')
$$;

-- What the service said of one claimed alert. p_said: open, acknowledged,
-- resolved, missing, error or limited (p_delay_ms: wait that long). An
-- acknowledgement seen with a resolve (acked and resolved between two
-- polls) comes as 'resolved' with p_acker set. Returns what was done:
-- acked, noted, resolved, gone or nothing.
CREATE FUNCTION cpr.poll_report(p_id bigint, p_said text, p_actor text, p_acker text,
        p_http integer, p_error text, p_delay_ms bigint)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    p cpr.pager_polls%ROWTYPE;
    c cpr.cases%ROWTYPE;
    v_acker text := CASE WHEN p_said = 'acknowledged' THEN p_actor ELSE p_acker END;
    v_detail jsonb;
    v_done text := 'nothing';
    v_alert bigint;
BEGIN
    IF p_said NOT IN ('open', 'acknowledged', 'resolved', 'missing', 'error', 'limited') THEN
        RAISE EXCEPTION 'poll_report: % is not a poll outcome', p_said
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO p FROM cpr.pager_polls WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR p.state NOT IN ('open', 'acknowledged') THEN
        RETURN 'nothing';
    END IF;
    UPDATE cpr.pager_polls SET last_polled_at = clock_timestamp(), last_http = p_http,
        last_error = left(p_error, 300),
        next_poll_at = CASE WHEN p_said = 'limited'
            THEN greatest(next_poll_at, clock_timestamp() + greatest(p_delay_ms, 0) * interval '1 ms')
            ELSE next_poll_at END,
        missing_since = CASE WHEN p_said = 'missing' THEN coalesce(missing_since, clock_timestamp()) END
    WHERE id = p_id;
    IF p_said = 'missing' AND p.missing_since < clock_timestamp() - interval '1 day' THEN
        UPDATE cpr.pager_polls SET state = 'gone' WHERE id = p_id;
        RETURN 'gone';
    END IF;
    SELECT a.id INTO v_alert FROM cpr.alerts a
    WHERE a.alert_key = p.alert_key AND a.channel = p.channel;
    UPDATE cpr.alerts SET polled_at = clock_timestamp() WHERE id = v_alert;
    SELECT * INTO c FROM cpr.cases WHERE id = p.case_id FOR UPDATE;
    v_detail := jsonb_build_object('channel', p.channel, 'alert_key', p.alert_key, 'clock', p.clock);
    IF v_acker IS NOT NULL AND p.state = 'open' THEN
        UPDATE cpr.pager_polls SET state = 'acknowledged', acked_by = v_acker,
            acked_seen_at = clock_timestamp() WHERE id = p_id;
        IF v_alert IS NOT NULL THEN
            PERFORM cpr.alert_state(v_alert, 'acknowledged', v_acker, false);
        END IF;
        IF c.ack_clock_from IS NOT NULL AND c.acked_at IS NULL AND c.state = 'open' THEN
            PERFORM cpr.ack(c.tracking, v_acker, p.service, v_detail);
            v_done := 'acked';
        ELSE
            PERFORM cpr.append_event(c.id, v_acker, 'pager-ack', NULL,
                v_detail || jsonb_build_object('via', p.service,
                                               'note', 'case already acknowledged'));
            v_done := 'noted';
        END IF;
    END IF;
    IF p_said = 'resolved' THEN
        UPDATE cpr.pager_polls SET state = 'resolved', resolved_by = p_actor,
            resolved_seen_at = clock_timestamp() WHERE id = p_id;
        IF v_alert IS NOT NULL THEN
            PERFORM cpr.alert_state(v_alert, 'resolved', coalesce(p_actor, p.service || ':unknown'),
                                    false);
        END IF;
        PERFORM cpr.append_event(c.id, coalesce(p_actor, p.service || ':unknown'),
            'pager-resolved', NULL,
            v_detail || jsonb_build_object('via', p.service,
                'note', 'resolved by hand; the clocks keep running'));
        v_done := CASE WHEN v_done = 'acked' THEN 'acked' ELSE 'resolved' END;
    END IF;
    RETURN v_done;
END
$$;

REVOKE EXECUTE ON FUNCTION cpr.ack(text, text, text, jsonb),
    cpr.poll_open(bigint, text, text, text, text, bigint), cpr.poll_closed(text, text),
    cpr.poll_claim(text, bigint, integer), cpr.poll_next_ms(text),
    cpr.poll_report(bigint, text, text, text, integer, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.ack(text, text, text, jsonb) TO cpr_staff;
GRANT EXECUTE ON FUNCTION cpr.poll_open(bigint, text, text, text, text, bigint),
    cpr.poll_closed(text, text), cpr.poll_claim(text, bigint, integer),
    cpr.poll_next_ms(text),
    cpr.poll_report(bigint, text, text, text, integer, text, bigint) TO cpr_sweeper;
GRANT SELECT ON cpr.pager_polls TO cpr_staff, cpr_sweeper;

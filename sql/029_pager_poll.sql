-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   029_pager_poll.sql - acknowledge where the page arrives: PagerDuty and
--   Opsgenie polled for the alerts cpr-sweeper opened
-- DESCRIPTION
--   The alerts to poll are cpr.alerts rows (026_alerts.sql) opened on a
--   channel with `poll = yes`: the sweeper sets next_poll_at after the
--   trigger (cpr.poll_open) and clears it before its own acknowledge or
--   resolve goes out (cpr.poll_closed), so that a poll never takes the
--   sweeper's own resolve for one made by hand. A resolved alert is never
--   polled (a trigger clears next_poll_at), nor one the service has not
--   known for a day (poll_gone_at). alerts_poll_due_idx is a partial index
--   on (channel, next_poll_at) over the polled rows only, so a poll pass
--   reads an index range, never the history. Claiming (cpr.poll_claim)
--   moves next_poll_at one interval on under FOR UPDATE SKIP LOCKED: with
--   any number of sweepers each alert is asked about once per interval,
--   and one whose sweeper died is asked again an interval later.
--   cpr.poll_report records what the service said (polled_at, last_http,
--   last_error). An acknowledgement there moves the alert to acknowledged
--   (cpr.alert_state, sent false: the service told us, with its actor)
--   and acknowledges the case through cpr.ack_via (027_ack_links.sql),
--   cpr.ack's body with the path named: one 'ack' event, whose
--   data names the path {"path": "pagerduty", channel, alert_key, clock}.
--   A resolve there by
--   hand moves the alert to resolved (an 'alert-resolved' event with
--   sent false and the service's actor) and stops no clock.

ALTER TABLE cpr.alerts
    ADD COLUMN next_poll_at  timestamptz,      -- NULL: not polled
    ADD COLUMN polls         integer NOT NULL DEFAULT 0,
    ADD COLUMN last_http     integer,
    ADD COLUMN last_error    text,
    ADD COLUMN missing_since timestamptz,      -- the service did not know it
    ADD COLUMN poll_gone_at  timestamptz;      -- ... for a day: given up
CREATE INDEX alerts_poll_due_idx ON cpr.alerts (channel, next_poll_at)
    WHERE next_poll_at IS NOT NULL;

-- Resolved, by whoever: no longer polled.
CREATE FUNCTION cpr.alerts_poll_stop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'resolved' THEN
        NEW.next_poll_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER alerts_poll_stop BEFORE UPDATE OF state ON cpr.alerts
    FOR EACH ROW EXECUTE FUNCTION cpr.alerts_poll_stop();

-- A trigger went out on a polled channel: poll its alert from one interval on.
CREATE FUNCTION cpr.poll_open(p_channel text, p_key text, p_interval_ms bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.alerts
    SET next_poll_at = clock_timestamp() + greatest(p_interval_ms, 1000) * interval '1 ms',
        missing_since = NULL, poll_gone_at = NULL
    WHERE channel = p_channel AND alert_key = p_key AND state <> 'resolved'
      AND channel_type IN ('pagerduty', 'opsgenie')
$$;

-- The sweeper acknowledges or resolves the alert itself: no longer polled.
CREATE FUNCTION cpr.poll_closed(p_channel text, p_key text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.alerts SET next_poll_at = NULL
    WHERE channel = p_channel AND alert_key = p_key AND next_poll_at IS NOT NULL
$$;

-- Up to p_limit alerts of one channel due for a poll, each moved one
-- interval ahead (the claim), oldest due first.
CREATE FUNCTION cpr.poll_claim(p_channel text, p_interval_ms bigint, p_limit integer)
RETURNS TABLE (id bigint, tracking text, clock text, alert_key text, state text)
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH due AS (
        SELECT a.id FROM cpr.alerts a
        WHERE a.channel = p_channel AND a.next_poll_at IS NOT NULL
          AND a.next_poll_at <= clock_timestamp()
        ORDER BY a.next_poll_at
        LIMIT greatest(least(p_limit, 1000), 0)
        FOR UPDATE SKIP LOCKED
    )
    UPDATE cpr.alerts a
    SET next_poll_at = clock_timestamp() + greatest(p_interval_ms, 1000) * interval '1 ms',
        polls = a.polls + 1
    FROM due, cpr.cases c
    WHERE a.id = due.id AND c.id = a.case_id
    RETURNING a.id, c.tracking, a.clock, a.alert_key, a.state
$$;

-- Milliseconds until the channel's next poll is due (0: now; NULL: none).
CREATE FUNCTION cpr.poll_next_ms(p_channel text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(0, cpr.epoch_ms(min(next_poll_at)) - cpr.epoch_ms(clock_timestamp()))
    FROM cpr.alerts
    WHERE channel = p_channel AND next_poll_at IS NOT NULL
$$;

-- What the service said of one claimed alert. p_said: open, acknowledged,
-- resolved, missing, error or limited (p_delay_ms: wait that long). An
-- acknowledgement seen with a resolve (acked and resolved between two
-- polls) comes as 'resolved' with p_acker set. Returns what was done:
-- acked (the case), noted (the alert only: the case was acknowledged
-- already), resolved, gone or nothing.
CREATE FUNCTION cpr.poll_report(p_id bigint, p_said text, p_actor text, p_acker text,
        p_http integer, p_error text, p_delay_ms bigint)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    a cpr.alerts%ROWTYPE;
    c cpr.cases%ROWTYPE;
    v_acker text := CASE WHEN p_said = 'acknowledged' THEN p_actor ELSE p_acker END;
    v_done text := 'nothing';
BEGIN
    IF p_said NOT IN ('open', 'acknowledged', 'resolved', 'missing', 'error', 'limited') THEN
        RAISE EXCEPTION 'poll_report: % is not a poll outcome', p_said
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO a FROM cpr.alerts WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR a.next_poll_at IS NULL OR a.state = 'resolved' THEN
        RETURN 'nothing';        -- closed meanwhile: our own resolve is on its way
    END IF;
    UPDATE cpr.alerts SET polled_at = clock_timestamp(), last_http = p_http,
        last_error = left(p_error, 300),
        next_poll_at = CASE WHEN p_said = 'limited'
            THEN greatest(next_poll_at, clock_timestamp() + greatest(p_delay_ms, 0) * interval '1 ms')
            ELSE next_poll_at END,
        missing_since = CASE WHEN p_said = 'missing' THEN coalesce(missing_since, clock_timestamp()) END
    WHERE id = p_id;
    IF p_said = 'missing' AND a.missing_since < clock_timestamp() - interval '1 day' THEN
        UPDATE cpr.alerts SET next_poll_at = NULL, poll_gone_at = clock_timestamp() WHERE id = p_id;
        RETURN 'gone';
    END IF;
    SELECT * INTO c FROM cpr.cases WHERE id = a.case_id FOR UPDATE;
    IF v_acker IS NOT NULL AND a.state = 'triggered' THEN
        PERFORM cpr.alert_state(a.id, 'acknowledged', v_acker, false);
        IF c.ack_clock_from IS NOT NULL AND c.acked_at IS NULL AND c.state = 'open' THEN
            PERFORM cpr.ack_via(c.tracking, v_acker, a.channel_type,
                jsonb_build_object('channel', a.channel, 'alert_key', a.alert_key,
                                   'clock', a.clock));
            v_done := 'acked';
        ELSE
            v_done := 'noted';
        END IF;
    END IF;
    IF p_said = 'resolved' THEN
        PERFORM cpr.alert_state(a.id, 'resolved', coalesce(p_actor, a.channel_type || ':unknown'),
                                false);
        v_done := CASE WHEN v_done = 'acked' THEN 'acked' ELSE 'resolved' END;
    END IF;
    RETURN v_done;
END
$$;

REVOKE EXECUTE ON FUNCTION cpr.poll_open(text, text, bigint), cpr.poll_closed(text, text),
    cpr.poll_claim(text, bigint, integer), cpr.poll_next_ms(text),
    cpr.poll_report(bigint, text, text, text, integer, text, bigint),
    cpr.alerts_poll_stop() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.poll_open(text, text, bigint),
    cpr.poll_closed(text, text), cpr.poll_claim(text, bigint, integer),
    cpr.poll_next_ms(text),
    cpr.poll_report(bigint, text, text, text, integer, text, bigint) TO cpr_sweeper;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   005_sweeper.sql - clocks, notification steps and staff actions
-- DESCRIPTION
--   Adds the clock facts to cases, the steps table through which every
--   notification goes, and the SECURITY DEFINER functions that cpr-sweeper
--   and cprctl call.
--
--   A step is one notification to one channel, keyed by (case, step key,
--   channel); the step key comes from deadline_step_key() in C. Offering a
--   step twice is a no-op (unique index). Claiming uses FOR UPDATE SKIP
--   LOCKED and a lease, so any number of sweepers send each step once; a
--   sweeper that dies mid-send leaves a lease that expires, and the step is
--   sent again with the same idempotency key: delivery is at least once.
--   Every attempt is recorded in cpr.deliveries and as an audit event.
--   Changes to a case NOTIFY cpr_sweeper, so sweepers wake at once.
-- REPLACES cpr.case_json (003_queries.sql)

ALTER TABLE cpr.cases
    ADD COLUMN reporter_done_at   timestamptz,
    ADD COLUMN subscriber_done_at timestamptz,
    ADD COLUMN subscriber_waiver  text,
    ADD COLUMN br_item            integer CHECK (br_item BETWEEN 1 AND 16),
    ADD COLUMN crl_reason         text,
    ADD COLUMN revoked_at         timestamptz,
    ADD COLUMN closed_at          timestamptz,
    ADD COLUMN resolution         text,
    ADD COLUMN incident_due_at    timestamptz;

CREATE TABLE cpr.steps (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cpr.cases (id),
    step_key        text NOT NULL,
    channel         text NOT NULL,
    clock           text NOT NULL,
    event           text NOT NULL CHECK (event IN ('page', 'warn', 'breach', 'resolve')),
    tier            integer NOT NULL,
    due_at          timestamptz NOT NULL,
    deadline_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_by      text,
    lease_until     timestamptz,
    sent_at         timestamptz,
    last_error      text,
    UNIQUE (case_id, step_key, channel)
);
CREATE INDEX steps_ready_idx ON cpr.steps (next_attempt_at)
    WHERE state IN ('pending', 'sending');

CREATE TABLE cpr.deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    step_id     bigint NOT NULL REFERENCES cpr.steps (id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    worker      text NOT NULL,
    attempt     integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed', 'skipped')),
    status      integer,
    latency_ms  double precision,
    error       text
);
CREATE INDEX deliveries_step_idx ON cpr.deliveries (step_id);

CREATE TRIGGER deliveries_immutable BEFORE UPDATE OR DELETE ON cpr.deliveries
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();

CREATE FUNCTION cpr.epoch_ms(p timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM p) * 1000)::bigint $$;

CREATE FUNCTION cpr.notify_sweeper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cpr_sweeper', NEW.tracking);
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_notify AFTER INSERT OR UPDATE ON cpr.cases
    FOR EACH ROW EXECUTE FUNCTION cpr.notify_sweeper();

-- The clock facts of every case that can still page, for deadline_plan():
-- open cases, and cases closed in the last 7 days, whose open alerts the
-- sweeper resolves. closed_at is set only while the case is closed (a
-- follow-up re-opens it).
CREATE FUNCTION cpr.sweep_cases()
RETURNS TABLE (case_id bigint, tracking text, category text, subject text,
               received_at bigint, ack_clock_from bigint, acked_at bigint,
               reporter_done_at bigint, subscriber_done_at bigint,
               br_item integer, revoked_at bigint, closed_at bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.id, c.tracking, c.category, c.subject, epoch_ms(c.received_at),
           epoch_ms(c.ack_clock_from), epoch_ms(c.acked_at),
           epoch_ms(c.reporter_done_at), epoch_ms(c.subscriber_done_at),
           c.br_item, epoch_ms(c.revoked_at),
           CASE WHEN c.state = 'closed' THEN epoch_ms(c.closed_at) END
    FROM cpr.cases c
    WHERE c.kind <> 'automated'
      AND (c.state = 'open' OR c.closed_at > clock_timestamp() - interval '7 days')
    ORDER BY c.id
$$;

-- Offer one step to each channel; returns how many were new. A new breach
-- is recorded on the case, which then owes an incident report in 72 h.
CREATE FUNCTION cpr.step_offer(p_case_id bigint, p_step_key text,
        p_channels jsonb, p_clock text, p_event text, p_tier integer,
        p_due_ms bigint, p_deadline_ms bigint, p_actor text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_new integer;
BEGIN
    INSERT INTO cpr.steps (case_id, step_key, channel, clock, event, tier,
                           due_at, deadline_at, next_attempt_at)
    SELECT p_case_id, p_step_key, ch, p_clock, p_event, p_tier,
           to_timestamp(p_due_ms / 1000.0), to_timestamp(p_deadline_ms / 1000.0),
           clock_timestamp()
    FROM unnest(cpr.json_text_array(p_channels)) AS ch
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_new = ROW_COUNT;
    IF v_new > 0 AND p_event = 'breach' AND NOT EXISTS (
            SELECT 1 FROM cpr.events e WHERE e.case_id = p_case_id
            AND e.type = 'breach' AND e.data->>'clock' = p_clock) THEN
        PERFORM cpr.append_event(p_case_id, p_actor, 'breach', NULL,
            jsonb_build_object('clock', p_clock,
                'deadline', cpr.utc_text(to_timestamp(p_deadline_ms / 1000.0)),
                'incident_report_due', cpr.utc_text(
                    to_timestamp(p_deadline_ms / 1000.0) + interval '72 hours')));
        UPDATE cpr.cases SET incident_due_at = coalesce(incident_due_at,
                to_timestamp(p_deadline_ms / 1000.0) + interval '72 hours')
        WHERE id = p_case_id;
    END IF;
    RETURN v_new;
END
$$;

-- Claim up to p_limit ready steps for p_lease_ms: pending ones whose time
-- has come, and sending ones whose claimer's lease ran out. Each comes
-- with its case's current clock facts, so the sweeper can check that the
-- step is still wanted (an ack may have come in since it was offered).
CREATE FUNCTION cpr.step_claim(p_worker text, p_lease_ms integer, p_limit integer)
RETURNS TABLE (step_id bigint, step_key text, channel text, clock text,
               event text, tier integer, attempts integer, due_at bigint,
               deadline_at bigint, case_state text, case_id bigint,
               tracking text, category text, subject text, received_at bigint,
               ack_clock_from bigint, acked_at bigint, reporter_done_at bigint,
               subscriber_done_at bigint, br_item integer, revoked_at bigint,
               closed_at bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH ready AS (
        SELECT s.id FROM cpr.steps s
        WHERE s.state IN ('pending', 'sending')
          AND s.next_attempt_at <= clock_timestamp()
          AND (s.state = 'pending' OR s.lease_until < clock_timestamp())
        ORDER BY s.due_at, s.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE cpr.steps s
        SET state = 'sending', claimed_by = p_worker, attempts = s.attempts + 1,
            lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
        FROM ready WHERE s.id = ready.id
        RETURNING s.*)
    SELECT s.id, s.step_key, s.channel, s.clock, s.event, s.tier, s.attempts,
           epoch_ms(s.due_at), epoch_ms(s.deadline_at), c.state, c.id,
           c.tracking, c.category, c.subject, epoch_ms(c.received_at),
           epoch_ms(c.ack_clock_from), epoch_ms(c.acked_at),
           epoch_ms(c.reporter_done_at), epoch_ms(c.subscriber_done_at),
           c.br_item, epoch_ms(c.revoked_at),
           CASE WHEN c.state = 'closed' THEN epoch_ms(c.closed_at) END
    FROM claimed s JOIN cpr.cases c ON c.id = s.case_id
    ORDER BY s.due_at, s.id
$$;

-- Record one attempt. Only the current claimer may finish a step; a late
-- finisher whose lease was taken over is told so (false) and changes nothing.
CREATE FUNCTION cpr.step_finish(p_step_id bigint, p_worker text, p_outcome text,
        p_status integer, p_latency_ms double precision, p_error text,
        p_retry_in_ms bigint, p_actor text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    s cpr.steps%ROWTYPE;
BEGIN
    SELECT * INTO s FROM cpr.steps WHERE id = p_step_id FOR UPDATE;
    IF NOT FOUND OR s.state <> 'sending' OR s.claimed_by <> p_worker THEN
        RETURN false;
    END IF;
    UPDATE cpr.steps SET
        state = CASE p_outcome WHEN 'retry' THEN 'pending' ELSE p_outcome END,
        next_attempt_at = clock_timestamp()
            + coalesce(p_retry_in_ms, 0) * interval '1 millisecond',
        sent_at = CASE WHEN p_outcome = 'sent' THEN clock_timestamp() END,
        last_error = p_error, lease_until = NULL
    WHERE id = p_step_id;
    INSERT INTO cpr.deliveries (step_id, worker, attempt, outcome, status, latency_ms, error)
    VALUES (p_step_id, p_worker, s.attempts, p_outcome, p_status, p_latency_ms, p_error);
    PERFORM cpr.append_event(s.case_id, p_actor, 'page-attempt', NULL,
        jsonb_build_object('step', s.step_key, 'channel', s.channel,
            'clock', s.clock, 'event', s.event, 'tier', s.tier,
            'attempt', s.attempts, 'outcome', p_outcome, 'status', p_status,
            'worker', p_worker,
            'latency_ms', round(p_latency_ms::numeric, 1), 'error', p_error));
    RETURN true;
END
$$;

-- How long until the next pending step (a retry) or expired lease is
-- ready, in ms by the database clock (at least 1), or NULL. A delay, not a
-- time: the sweeper adds it to its own clock, so clock skew between hosts
-- can neither spin the loop nor make a retry late.
CREATE FUNCTION cpr.step_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, epoch_ms(min(CASE WHEN state = 'pending' THEN next_attempt_at
                                         ELSE lease_until END))
                       - epoch_ms(clock_timestamp()))
    FROM cpr.steps WHERE state IN ('pending', 'sending')
$$;

-- The CRL reason a BR 4.9.1.1 item implies (RFC 5280 names), for --crl-reason.
CREATE FUNCTION cpr.default_crl_reason(p_item integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_item IN (3, 4, 16) THEN 'keyCompromise'
        WHEN p_item IN (2, 7, 8, 10) THEN 'privilegeWithdrawn'
        WHEN p_item IN (5, 6, 12) THEN 'superseded'
        WHEN p_item IN (9, 14) THEN 'cessationOfOperation'
        WHEN p_item IN (11, 13) THEN 'affiliationChanged'
        ELSE 'unspecified' END
$$;

-- The open case with that tracking number, locked; raises if none.
CREATE FUNCTION cpr.case_for_action(p_tracking text) RETURNS cpr.cases
LANGUAGE plpgsql AS $$
DECLARE
    c cpr.cases%ROWTYPE;
BEGIN
    SELECT * INTO c FROM cpr.cases WHERE tracking = p_tracking FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no case %', p_tracking USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;

CREATE FUNCTION cpr.ack(p_tracking text, p_actor text) RETURNS jsonb
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
        jsonb_build_object('ack_clock_from', cpr.utc_text(c.ack_clock_from)));
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE FUNCTION cpr.respond(p_tracking text, p_to text, p_actor text, p_waive text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF p_to NOT IN ('reporter', 'subscriber') THEN
        RAISE EXCEPTION 'respond: --to must be reporter or subscriber';
    END IF;
    IF p_waive IS NOT NULL AND (p_to <> 'subscriber' OR btrim(p_waive) = '') THEN
        RAISE EXCEPTION 'respond: a waiver is for the subscriber report and needs a reason';
    END IF;
    IF p_to = 'reporter' THEN
        UPDATE cpr.cases SET reporter_done_at = coalesce(reporter_done_at, clock_timestamp())
        WHERE id = c.id;
    ELSE
        UPDATE cpr.cases SET subscriber_done_at = coalesce(subscriber_done_at, clock_timestamp()),
                             subscriber_waiver = coalesce(p_waive, subscriber_waiver)
        WHERE id = c.id;
    END IF;
    PERFORM cpr.append_event(c.id, p_actor,
        CASE WHEN p_waive IS NULL THEN 'response' ELSE 'waiver' END, NULL,
        jsonb_strip_nulls(jsonb_build_object('to', p_to, 'reason', p_waive,
                                             'via', 'cprctl')));
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE FUNCTION cpr.confirm(p_tracking text, p_br_item integer, p_crl_reason text,
        p_actor text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
    v_reason text := coalesce(p_crl_reason, cpr.default_crl_reason(p_br_item));
BEGIN
    IF p_br_item IS NULL OR p_br_item NOT BETWEEN 1 AND 16 THEN
        RAISE EXCEPTION 'confirm: --br-item must be 1 to 16 (BR 4.9.1.1)';
    END IF;
    UPDATE cpr.cases SET br_item = p_br_item, crl_reason = v_reason WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'confirm', NULL,
        jsonb_build_object('br_item', p_br_item, 'crl_reason', v_reason,
            'revocation_due', cpr.utc_text(c.received_at + CASE WHEN p_br_item <= 5
                THEN interval '24 hours' ELSE interval '120 hours' END)));
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE FUNCTION cpr.revoked(p_tracking text, p_actor text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF c.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'case % is already recorded as revoked', p_tracking
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE cpr.cases SET revoked_at = clock_timestamp() WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'revoked', NULL,
        jsonb_strip_nulls(jsonb_build_object('br_item', c.br_item,
                                             'crl_reason', c.crl_reason)));
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE FUNCTION cpr.close(p_tracking text, p_resolution text, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF p_resolution IS NULL OR btrim(p_resolution) = '' THEN
        RAISE EXCEPTION 'close: --resolution is required';
    END IF;
    UPDATE cpr.cases SET state = 'closed', closed_at = clock_timestamp(),
                         resolution = p_resolution
    WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'close', NULL,
        jsonb_build_object('resolution', p_resolution));
    RETURN cpr.case_show(p_tracking);
END
$$;

-- list and show gain the clock facts (003 had only the intake fields).
CREATE OR REPLACE FUNCTION cpr.case_json(c cpr.cases) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'tracking', c.tracking,
        'received_at', cpr.utc_text(c.received_at),
        'kind', c.kind,
        'category', c.category,
        'state', c.state,
        'flags', to_jsonb(c.flags),
        'reporter', c.reporter,
        'subject', c.subject,
        'message_count', count(m.id),
        'last_message_at', cpr.utc_text(max(m.received_at)),
        'ack_clock_from', cpr.utc_text(c.ack_clock_from),
        'acked_at', cpr.utc_text(c.acked_at),
        'reporter_done_at', cpr.utc_text(c.reporter_done_at),
        'subscriber_done_at', cpr.utc_text(c.subscriber_done_at),
        'subscriber_waiver', c.subscriber_waiver,
        'br_item', c.br_item,
        'crl_reason', c.crl_reason,
        'revocation_due_at', cpr.utc_text(c.received_at + CASE
            WHEN c.br_item BETWEEN 1 AND 5 THEN interval '24 hours'
            WHEN c.br_item BETWEEN 6 AND 16 THEN interval '120 hours' END),
        'revoked_at', cpr.utc_text(c.revoked_at),
        'closed_at', cpr.utc_text(c.closed_at),
        'resolution', c.resolution,
        'incident_due_at', cpr.utc_text(c.incident_due_at))
    FROM cpr.messages m
    WHERE m.case_id = c.id
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.steps, cpr.deliveries FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.sweep_cases(), cpr.step_claim(text, integer, integer),
    cpr.step_offer(bigint, text, jsonb, text, text, integer, bigint, bigint, text),
    cpr.step_finish(bigint, text, text, integer, double precision, text, bigint, text),
    cpr.step_next_ms()
    TO cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.ack(text, text), cpr.respond(text, text, text, text),
    cpr.confirm(text, integer, text, text), cpr.revoked(text, text),
    cpr.close(text, text, text)
    TO cpr_staff;
GRANT SELECT ON cpr.steps, cpr.deliveries TO cpr_staff, cpr_sweeper;

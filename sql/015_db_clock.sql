-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   015_db_clock.sql - deadlines, breaches and step due times on the database clock
-- DESCRIPTION
--   The sweeper plans on the database's clock (it reads clock_timestamp()
--   with the cases), but a planner on a skewed host, or an older sweeper,
--   could still offer a step early. These functions are the gate: nothing
--   early gets in, whatever the caller's clock says.
--
--   Replaces cpr.step_offer (from 005_sweeper.sql): an offer whose due time
--   is still ahead by clock_timestamp() inserts nothing and returns 0 (the
--   next pass offers it again when it is due), and a breach is recorded
--   only when its deadline is at or before clock_timestamp().
--   Replaces cpr.step_claim (from 005_sweeper.sql): a step is claimed only
--   when its due_at is at or before clock_timestamp(), besides its
--   next_attempt_at. Signatures and results are unchanged.
-- DIAGNOSTICS
--   None: an early offer is refused silently (0 new steps).
-- REPLACES cpr.step_offer (005_sweeper.sql)
-- REPLACES cpr.step_claim (005_sweeper.sql)

CREATE OR REPLACE FUNCTION cpr.step_offer(p_case_id bigint, p_step_key text,
        p_channels jsonb, p_clock text, p_event text, p_tier integer,
        p_due_ms bigint, p_deadline_ms bigint, p_actor text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_new integer;
    v_due timestamptz := to_timestamp(p_due_ms / 1000.0);
    v_deadline timestamptz := to_timestamp(p_deadline_ms / 1000.0);
BEGIN
    IF p_due_ms IS NULL OR v_due > clock_timestamp() THEN
        RETURN 0;
    END IF;
    IF p_event = 'breach' AND (p_deadline_ms IS NULL OR v_deadline > clock_timestamp()) THEN
        RETURN 0;
    END IF;
    INSERT INTO cpr.steps (case_id, step_key, channel, clock, event, tier,
                           due_at, deadline_at, next_attempt_at)
    SELECT p_case_id, p_step_key, ch, p_clock, p_event, p_tier,
           v_due, v_deadline, clock_timestamp()
    FROM unnest(cpr.json_text_array(p_channels)) AS ch
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_new = ROW_COUNT;
    IF v_new > 0 AND p_event = 'breach' AND NOT EXISTS (
            SELECT 1 FROM cpr.events e WHERE e.case_id = p_case_id
            AND e.type = 'breach' AND e.data->>'clock' = p_clock) THEN
        PERFORM cpr.append_event(p_case_id, p_actor, 'breach', NULL,
            jsonb_build_object('clock', p_clock,
                'deadline', cpr.utc_text(v_deadline),
                'incident_report_due', cpr.utc_text(v_deadline + interval '72 hours')));
        UPDATE cpr.cases SET incident_due_at = coalesce(incident_due_at,
                v_deadline + interval '72 hours')
        WHERE id = p_case_id;
    END IF;
    RETURN v_new;
END
$$;

CREATE OR REPLACE FUNCTION cpr.step_claim(p_worker text, p_lease_ms integer, p_limit integer)
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
          AND s.due_at <= clock_timestamp()
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

REVOKE EXECUTE ON FUNCTION
    cpr.step_offer(bigint, text, jsonb, text, text, integer, bigint, bigint, text),
    cpr.step_claim(text, integer, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    cpr.step_offer(bigint, text, jsonb, text, text, integer, bigint, bigint, text),
    cpr.step_claim(text, integer, integer)
    TO cpr_sweeper;

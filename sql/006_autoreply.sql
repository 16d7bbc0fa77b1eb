-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   006_autoreply.sql - the auto-reply outbox
-- DESCRIPTION
--   cpr.intake records, in the same transaction as the report, whether the
--   reporter gets an auto-reply: an outbox row that is pending, or skipped
--   with its reason (the milter's RFC 3834 decision, a follow-up, or the
--   per-sender and per-domain rate limits, which are counted here under
--   advisory locks per sender and per domain). Each milter's sender thread claims pending
--   rows with FOR UPDATE SKIP LOCKED and a lease, sends them, and records
--   every attempt: sent, retry (4xx, connection failure) with backoff, or
--   failed (5xx, attempts used up). One reply per report message at most.
--   cpr-sweeper pages when a row stays unsent too long (cpr.outbox_stuck).
-- REPLACES cpr.queue_autoreply (002_intake.sql)

CREATE TABLE cpr.outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cpr.cases (id),
    message_id      bigint NOT NULL UNIQUE REFERENCES cpr.messages (id),
    created_at      timestamptz NOT NULL,
    to_addr         text NOT NULL,
    to_domain       text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'sending', 'sent',
                                                   'failed', 'skipped')),
    reason          text,                     -- why skipped
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    claimed_by      text,
    lease_until     timestamptz,
    sent_at         timestamptz,
    last_status     integer,
    last_error      text
);
CREATE INDEX outbox_ready_idx ON cpr.outbox (next_attempt_at)
    WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_rate_idx ON cpr.outbox (lower(to_addr), created_at)
    WHERE state <> 'skipped';
CREATE INDEX outbox_domain_idx ON cpr.outbox (to_domain, created_at) WHERE state <> 'skipped';

CREATE TRIGGER outbox_no_delete BEFORE DELETE ON cpr.outbox
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();

-- Why this report gets no reply, or NULL. p_reply comes from the milter:
-- {"skip": reason|null, "rate_sender": N, "rate_sender_window_ms": MS,
--  "rate_domain": N, "rate_domain_window_ms": MS, "followups": bool}.
CREATE FUNCTION cpr.autoreply_skip_reason(p_kind text, p_reply jsonb, p_to text,
        p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply->>'skip' IS NOT NULL THEN
        RETURN p_reply->>'skip';
    END IF;
    IF p_kind = 'follow-up' AND NOT coalesce((p_reply->>'followups')::boolean, false) THEN
        RETURN 'follow-up';
    END IF;
    IF p_kind = 'automated' THEN
        RETURN 'automated mail';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('outbox:' || p_to, 0));
    IF (SELECT count(*) FROM cpr.outbox o WHERE lower(o.to_addr) = p_to
        AND o.state <> 'skipped'
        AND o.created_at > p_now - (p_reply->>'rate_sender_window_ms')::bigint
                                   * interval '1 millisecond')
       >= (p_reply->>'rate_sender')::bigint THEN
        RETURN 'rate limit (sender)';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('outbox-domain:' || split_part(p_to, '@', 2), 0));
    IF (SELECT count(*) FROM cpr.outbox o WHERE o.to_domain = split_part(p_to, '@', 2)
        AND o.state <> 'skipped'
        AND o.created_at > p_now - (p_reply->>'rate_domain_window_ms')::bigint
                                   * interval '1 millisecond')
       >= (p_reply->>'rate_domain')::bigint THEN
        RETURN 'rate limit (domain)';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION cpr.queue_autoreply(p_case_id bigint, p_message bigint,
        p_kind text, p_reply jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_to     text;
    v_reason text;
BEGIN
    IF p_reply IS NULL THEN
        RETURN 'none';
    END IF;
    SELECT env_from INTO v_to FROM cpr.messages WHERE id = p_message;
    v_reason := CASE WHEN v_to = '' THEN 'null sender'
                     ELSE cpr.autoreply_skip_reason(p_kind, p_reply, lower(v_to), p_now) END;
    INSERT INTO cpr.outbox (case_id, message_id, created_at, to_addr, to_domain,
                            state, reason, next_attempt_at)
    VALUES (p_case_id, p_message, p_now, v_to, lower(split_part(v_to, '@', 2)),
            CASE WHEN v_reason IS NULL THEN 'pending' ELSE 'skipped' END,
            v_reason, CASE WHEN v_reason IS NULL THEN p_now END);
    PERFORM cpr.append_event(p_case_id, 'cpr-milter',
        CASE WHEN v_reason IS NULL THEN 'autoreply-queued' ELSE 'autoreply-skipped' END,
        p_message, jsonb_strip_nulls(jsonb_build_object('reason', v_reason)), p_now);
    RETURN CASE WHEN v_reason IS NULL THEN 'queued' ELSE 'skipped: ' || v_reason END;
END
$$;

-- Claim up to p_limit rows to send, with what the reply needs.
CREATE FUNCTION cpr.outbox_claim(p_worker text, p_lease_ms integer, p_limit integer)
RETURNS TABLE (outbox_id bigint, attempts integer, to_addr text, tracking text,
               received_at text, report_due_at text, subject text, category text,
               message_id text, references_hdr text)
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH ready AS (
        SELECT o.id FROM cpr.outbox o
        WHERE o.state IN ('pending', 'sending')
          AND o.next_attempt_at <= clock_timestamp()
          AND (o.state = 'pending' OR o.lease_until < clock_timestamp())
        ORDER BY o.next_attempt_at, o.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE cpr.outbox o
        SET state = 'sending', claimed_by = p_worker, attempts = o.attempts + 1,
            lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
        FROM ready WHERE o.id = ready.id
        RETURNING o.*)
    SELECT o.id, o.attempts, o.to_addr, c.tracking, utc_text(m.received_at),
           utc_text(c.received_at + interval '24 hours'), m.subject, c.category,
           m.message_id,
           (SELECT string_agg('<' || r || '>', ' ' ORDER BY n)
            FROM unnest(m.refs) WITH ORDINALITY AS t(r, n))
    FROM claimed o JOIN cpr.cases c ON c.id = o.case_id
    JOIN cpr.messages m ON m.id = o.message_id
    ORDER BY o.id
$$;

-- Record one attempt; only the current claimer may. outcome: sent, retry
-- or failed. Every attempt is an audit event.
CREATE FUNCTION cpr.outbox_finish(p_id bigint, p_worker text, p_outcome text,
        p_status integer, p_error text, p_retry_in_ms bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    o cpr.outbox%ROWTYPE;
BEGIN
    IF p_outcome NOT IN ('sent', 'retry', 'failed') THEN
        RAISE EXCEPTION 'outbox_finish: bad outcome %', p_outcome;
    END IF;
    SELECT * INTO o FROM cpr.outbox WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR o.state <> 'sending' OR o.claimed_by <> p_worker THEN
        RETURN false;
    END IF;
    UPDATE cpr.outbox SET
        state = CASE p_outcome WHEN 'retry' THEN 'pending' ELSE p_outcome END,
        next_attempt_at = CASE WHEN p_outcome = 'retry' THEN clock_timestamp()
            + coalesce(p_retry_in_ms, 0) * interval '1 millisecond' END,
        sent_at = CASE WHEN p_outcome = 'sent' THEN clock_timestamp() END,
        lease_until = NULL, last_status = p_status, last_error = p_error
    WHERE id = p_id;
    PERFORM cpr.append_event(o.case_id, 'cpr-milter', 'autoreply-attempt', o.message_id,
        jsonb_strip_nulls(jsonb_build_object('attempt', o.attempts, 'outcome', p_outcome,
            'status', p_status, 'error', p_error, 'worker', p_worker)));
    RETURN true;
END
$$;

-- How long until the next row becomes ready, in ms by the database clock
-- (at least 1), or NULL: a delay, so the milter's clock never matters.
CREATE FUNCTION cpr.outbox_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, epoch_ms(min(CASE WHEN state = 'pending' THEN next_attempt_at
                                         ELSE lease_until END))
                       - epoch_ms(clock_timestamp()))
    FROM cpr.outbox WHERE state IN ('pending', 'sending')
$$;

-- Replies still unsent after p_after_ms: how many, and the oldest's age.
CREATE FUNCTION cpr.outbox_stuck(p_after_ms bigint)
RETURNS TABLE (stuck bigint, oldest_ms bigint, oldest_tracking text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT count(*),
           max(epoch_ms(clock_timestamp()) - epoch_ms(o.created_at)),
           (array_agg(c.tracking ORDER BY o.created_at))[1]
    FROM cpr.outbox o JOIN cpr.cases c ON c.id = o.case_id
    WHERE o.state IN ('pending', 'sending')
      AND o.created_at < clock_timestamp() - p_after_ms * interval '1 millisecond'
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.outbox FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.outbox_claim(text, integer, integer),
    cpr.outbox_finish(bigint, text, text, integer, text, bigint), cpr.outbox_next_ms()
    TO cpr_milter;
GRANT EXECUTE ON FUNCTION cpr.outbox_stuck(bigint) TO cpr_sweeper;
GRANT SELECT ON cpr.outbox TO cpr_staff, cpr_sweeper;

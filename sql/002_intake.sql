-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   002_intake.sql - cpr.intake(): all of one message's work in one transaction
-- DESCRIPTION
--   Called once per message by cpr-milter, before the MTA says 250:
--     1. a retry of a message we already hold (same Message-ID and body
--        SHA-256 within 7 days; with no Message-ID, same envelope sender,
--        Subject and body SHA-256 within 24 h) maps to the same case as a
--        redelivery event and opens nothing new;
--     2. a tracking number in the Subject, or In-Reply-To/References naming
--        a stored message, threads the message onto that case: a follow-up
--        re-opens a closed case and restarts its acknowledge clock only;
--     3. anything else opens a new case with a new tracking number;
--   then the auto-reply decision is recorded (cpr.queue_autoreply).
--   The receipt time is the database clock, truncated to milliseconds so
--   that the X-CPR-Received header equals the stored value exactly.
--   List-ish arguments arrive as JSON arrays (built with jansson by the
--   caller), so no array literal is ever assembled from strings.

CREATE FUNCTION cpr.json_text_array(p jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(e ORDER BY n), '{}')
    FROM jsonb_array_elements_text(coalesce(p, '[]'::jsonb)) WITH ORDINALITY AS t(e, n)
$$;

CREATE FUNCTION cpr.utc_text(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION cpr.new_tracking(p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_seq text := nextval('cpr.tracking_seq')::text;
BEGIN
    IF length(v_seq) < 6 THEN
        v_seq := lpad(v_seq, 6, '0');
    END IF;
    RETURN 'CPR-' || to_char(p_at AT TIME ZONE 'UTC', 'YYYY') || '-' || v_seq;
END
$$;

-- The earlier message this one repeats, if any (rule 1 above).
CREATE FUNCTION cpr.find_redelivery(p_message_id text, p_env_from text,
        p_subject text, p_sha bytea, p_now timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT m.id FROM cpr.messages m
    WHERE m.direction = 'inbound' AND m.body_sha256 = p_sha
      AND CASE WHEN p_message_id IS NOT NULL THEN
               m.message_id = p_message_id
               AND m.received_at > p_now - interval '7 days'
          ELSE m.message_id IS NULL AND m.env_from = p_env_from
               AND m.subject IS NOT DISTINCT FROM p_subject
               AND m.received_at > p_now - interval '24 hours'
          END
    ORDER BY m.received_at LIMIT 1
$$;

-- The case this message threads onto, if any (rule 2 above).
CREATE FUNCTION cpr.find_thread(p_subject text, p_in_reply_to text, p_refs text[])
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT id FROM (
        SELECT c.id, 0 AS pref, t.n AS ord
        FROM regexp_matches(coalesce(p_subject, ''),
                 '(?:^|[^A-Za-z0-9])(CPR-[0-9]{4}-[0-9]{6,})(?![A-Za-z0-9])', 'g')
                 WITH ORDINALITY AS t(m, n)
        JOIN cpr.cases c ON c.tracking = t.m[1]
        UNION ALL
        SELECT m.case_id, 1, -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (array_append(p_refs, p_in_reply_to))
    ) hits
    ORDER BY pref, ord LIMIT 1
$$;

CREATE FUNCTION cpr.intake(
        p_queue_id text, p_message_id text, p_in_reply_to text, p_refs jsonb,
        p_env_from text, p_rcpts jsonb, p_client_addr text, p_client_name text,
        p_helo text, p_auth_authen text, p_subject text, p_headers jsonb,
        p_body_sha256 text, p_body_bytes bigint, p_kind text, p_category text,
        p_flags jsonb, p_reasons jsonb, p_reply jsonb)
RETURNS TABLE (tracking text, received_at text, kind text, category text,
               redelivery boolean, autoreply text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now   timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_sha   bytea := decode(p_body_sha256, 'hex');
    v_msg   bigint;
    v_case  cpr.cases%ROWTYPE;
    v_kind  text := p_kind;
    v_id    bigint;
BEGIN
    IF p_kind NOT IN ('new-report', 'automated') THEN
        RAISE EXCEPTION 'cpr.intake: bad kind %', p_kind;
    END IF;
    -- Serialise concurrent copies of one body (e.g. two MX hosts at once).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_body_sha256, 0));

    v_msg := cpr.find_redelivery(p_message_id, p_env_from, p_subject, v_sha, v_now);
    IF v_msg IS NOT NULL THEN
        RETURN QUERY SELECT * FROM cpr.intake_redelivery(v_msg, p_queue_id, v_now);
        RETURN;
    END IF;

    v_id := cpr.find_thread(p_subject, p_in_reply_to, cpr.json_text_array(p_refs));
    IF v_id IS NOT NULL THEN
        SELECT * INTO v_case FROM cpr.cases c WHERE c.id = v_id FOR UPDATE;
        IF p_kind = 'new-report' THEN
            v_kind := 'follow-up';
            PERFORM cpr.intake_follow_up(v_case, v_now);
        END IF;
    ELSE
        v_case := cpr.intake_open_case(v_now, p_kind, p_category, p_flags,
                                       p_env_from, p_subject);
    END IF;

    INSERT INTO cpr.messages (case_id, received_at, kind, category, flags, reasons,
        queue_id, message_id, in_reply_to, refs, env_from, rcpts, client_addr,
        client_name, helo, auth_authen, subject, headers, body_sha256, body_bytes)
    VALUES (v_case.id, v_now, v_kind, p_category, cpr.json_text_array(p_flags),
        cpr.json_text_array(p_reasons), p_queue_id, p_message_id, p_in_reply_to,
        cpr.json_text_array(p_refs), p_env_from, cpr.json_text_array(p_rcpts),
        p_client_addr, p_client_name, p_helo, p_auth_authen, p_subject,
        coalesce(p_headers, '[]'::jsonb), v_sha, p_body_bytes)
    RETURNING id INTO v_msg;

    PERFORM cpr.append_event(v_case.id, 'cpr-milter', 'received', v_msg,
        jsonb_build_object('queue_id', p_queue_id, 'kind', v_kind,
                           'category', p_category, 'flags', coalesce(p_flags, '[]'::jsonb),
                           'reasons', coalesce(p_reasons, '[]'::jsonb)),
        v_now);

    RETURN QUERY SELECT v_case.tracking, cpr.utc_text(v_now), v_kind, p_category, false,
        cpr.queue_autoreply(v_case.id, v_msg, v_kind, p_reply, v_now);
END
$$;

-- The auto-reply seam: 006_autoreply.sql replaces this with the outbox.
-- Returns what was decided: 'none', 'queued' or 'skipped: REASON'.
CREATE FUNCTION cpr.queue_autoreply(p_case_id bigint, p_message bigint,
        p_kind text, p_reply jsonb, p_now timestamptz)
RETURNS text LANGUAGE sql AS $$ SELECT 'none'::text $$;

CREATE FUNCTION cpr.intake_open_case(p_now timestamptz, p_kind text,
        p_category text, p_flags jsonb, p_env_from text, p_subject text)
RETURNS cpr.cases LANGUAGE plpgsql AS $$
DECLARE
    v_case cpr.cases%ROWTYPE;
BEGIN
    INSERT INTO cpr.cases (tracking, received_at, kind, category, flags,
                           reporter, subject, ack_clock_from)
    VALUES (cpr.new_tracking(p_now), p_now, p_kind, p_category,
            cpr.json_text_array(p_flags), p_env_from, p_subject,
            CASE WHEN p_kind = 'new-report' THEN p_now END)
    RETURNING * INTO v_case;
    RETURN v_case;
END
$$;

-- A follow-up needs a human's look: re-open, restart the acknowledge clock.
-- The 24-hour clocks keep counting from the first receipt.
CREATE FUNCTION cpr.intake_follow_up(p_case cpr.cases, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_case.state = 'closed' THEN
        UPDATE cpr.cases SET state = 'open' WHERE id = p_case.id;
        PERFORM cpr.append_event(p_case.id, 'cpr-milter', 'reopened', NULL,
            '{"reason": "follow-up"}'::jsonb, p_now);
    END IF;
    UPDATE cpr.cases SET ack_clock_from = p_now, acked_at = NULL WHERE id = p_case.id;
END
$$;

CREATE FUNCTION cpr.intake_redelivery(p_msg bigint, p_queue_id text, p_now timestamptz)
RETURNS TABLE (tracking text, received_at text, kind text, category text,
               redelivery boolean, autoreply text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    m cpr.messages%ROWTYPE;
BEGIN
    UPDATE cpr.messages SET redeliveries = redeliveries + 1 WHERE id = p_msg
    RETURNING * INTO m;
    PERFORM cpr.append_event(m.case_id, 'cpr-milter', 'redelivery', m.id,
        jsonb_build_object('queue_id', p_queue_id, 'first_queue_id', m.queue_id),
        p_now);
    RETURN QUERY SELECT c.tracking, cpr.utc_text(m.received_at), m.kind, m.category, true,
        'none'::text
        FROM cpr.cases c WHERE c.id = m.case_id;
END
$$;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   008_staff_mail.sql - staff replies seen on the submission path
-- DESCRIPTION
--   cpr-milter attached to the authenticated submission service calls
--   cpr.record_outbound() for staff mail that names a tracking number (in
--   the Subject or body) and is not automated. The milter decides that the
--   session is authenticated and on a listed submission daemon; the MX
--   path never calls this, since an envelope sender can be forged there.
--   The message is recorded on the case as an outbound message (it never
--   opens a case and never gets an auto-reply), and:
--     * internal recipients count for nothing: the internal domains (and
--       their subdomains) and the CPR addresses' domains, checked first,
--       so no forged From can make an internal forward a response;
--     * a recipient that is the case's reporter (the envelope sender, From
--       or Reply-To of any inbound message of the case that is not
--       automated mail: an out-of-office reply of the Subscriber copied to
--       the CPR address must not make the Subscriber "the reporter") is a
--       response to the reporter: the report-reporter clock stops;
--     * any other recipient is a response to the subscriber: the
--       report-subscriber clock stops and the address is recorded.
--   Each response is a 'response' event (actor: the SASL login); the first
--   one stops its clock, later ones are still recorded. A retry of the
--   same message (same Message-ID and body) records nothing new.
-- REPLACES cpr.find_redelivery (002_intake.sql)

ALTER TABLE cpr.messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE cpr.messages ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('new-report', 'follow-up', 'automated', 'outbound'));

-- Every address in the From and Reply-To headers and the envelope sender
-- of the case's inbound messages, lower case.
CREATE FUNCTION cpr.reporter_addresses(p_case_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT a), '{}') FROM (
        SELECT lower(m.env_from) AS a FROM cpr.messages m
        WHERE m.case_id = p_case_id AND m.direction = 'inbound' AND m.env_from <> ''
          AND m.kind <> 'automated'
        UNION
        SELECT lower(x.m[1]) FROM cpr.messages m,
             jsonb_array_elements(m.headers) AS h,
             regexp_matches(h->>1, '([A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+)', 'g')
                 AS x(m)
        WHERE m.case_id = p_case_id AND m.direction = 'inbound'
          AND m.kind <> 'automated' AND lower(h->>0) IN ('from', 'reply-to')
    ) s
$$;

-- The first tracking number of p_trackings that names a case, locked.
CREATE FUNCTION cpr.outbound_case(p_trackings text[]) RETURNS cpr.cases
LANGUAGE plpgsql AS $$
DECLARE
    c cpr.cases%ROWTYPE;
BEGIN
    SELECT * INTO c FROM cpr.cases
    WHERE tracking = ANY (p_trackings)
    ORDER BY array_position(p_trackings, tracking) LIMIT 1 FOR UPDATE;
    RETURN c;
END
$$;

-- Record one response and stop its clock if it is the first.
CREATE FUNCTION cpr.outbound_response(p_case cpr.cases, p_to text, p_address text,
        p_msg bigint, p_actor text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_to = 'reporter' THEN
        UPDATE cpr.cases SET reporter_done_at = coalesce(reporter_done_at, p_now)
        WHERE id = p_case.id;
    ELSE
        UPDATE cpr.cases SET subscriber_done_at = coalesce(subscriber_done_at, p_now)
        WHERE id = p_case.id;
    END IF;
    PERFORM cpr.append_event(p_case.id, p_actor, 'response', p_msg,
        jsonb_build_object('to', p_to, 'via', 'mail', 'address', p_address), p_now);
END
$$;

-- The domain of an address: what follows its last '@'.
CREATE FUNCTION cpr.address_domain(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(coalesce(substring(p FROM '@([^@]*)$'), ''))
$$;

-- p_domain is one of p_internal or a subdomain of one.
CREATE FUNCTION cpr.domain_internal(p_domain text, p_internal text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(p_internal) d
                   WHERE d <> '' AND (p_domain = d
                         OR right(p_domain, length(d) + 1) = '.' || d))
$$;

-- What each recipient is: 'internal', 'reporter' or 'subscriber', in that
-- order of precedence.
CREATE FUNCTION cpr.outbound_roles(p_case_id bigint, p_rcpts text[],
        p_internal text[], OUT address text, OUT role text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT r.a,
           CASE WHEN cpr.domain_internal(cpr.address_domain(r.a), p_internal) THEN 'internal'
                WHEN r.a = ANY (cpr.reporter_addresses(p_case_id)) THEN 'reporter'
                ELSE 'subscriber' END
    FROM (SELECT DISTINCT lower(x) AS a, min(n) AS n
          FROM unnest(p_rcpts) WITH ORDINALITY AS t(x, n) GROUP BY lower(x)) r
    ORDER BY r.n
$$;

CREATE FUNCTION cpr.record_outbound(
        p_queue_id text, p_message_id text, p_in_reply_to text, p_refs jsonb,
        p_env_from text, p_rcpts jsonb, p_client_addr text, p_auth_authen text,
        p_subject text, p_headers jsonb, p_body_sha256 text, p_body_bytes bigint,
        p_trackings jsonb, p_internal_domains jsonb)
RETURNS TABLE (tracking text, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now   timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_case  cpr.cases%ROWTYPE;
    v_msg   bigint;
    v_role  record;
    v_said  text[] := '{}';
BEGIN
    v_case := cpr.outbound_case(cpr.json_text_array(p_trackings));
    IF v_case.id IS NULL THEN
        RETURN QUERY SELECT NULL::text, 'no such case'::text;
        RETURN;
    END IF;
    IF p_message_id IS NOT NULL AND EXISTS (SELECT 1 FROM cpr.messages m
            WHERE m.case_id = v_case.id AND m.direction = 'outbound'
              AND m.message_id = p_message_id
              AND m.body_sha256 = decode(p_body_sha256, 'hex')) THEN
        RETURN QUERY SELECT v_case.tracking, 'redelivery'::text;
        RETURN;
    END IF;
    INSERT INTO cpr.messages (case_id, received_at, direction, kind, category,
        queue_id, message_id, in_reply_to, refs, env_from, rcpts, client_addr,
        auth_authen, subject, headers, body_sha256, body_bytes)
    VALUES (v_case.id, v_now, 'outbound', 'outbound', v_case.category, p_queue_id,
        p_message_id, p_in_reply_to, cpr.json_text_array(p_refs), p_env_from,
        cpr.json_text_array(p_rcpts), p_client_addr, p_auth_authen, p_subject,
        coalesce(p_headers, '[]'::jsonb), decode(p_body_sha256, 'hex'), p_body_bytes)
    RETURNING id INTO v_msg;
    PERFORM cpr.append_event(v_case.id, p_auth_authen, 'outbound', v_msg,
        jsonb_build_object('queue_id', p_queue_id, 'rcpts', p_rcpts), v_now);
    FOR v_role IN SELECT * FROM cpr.outbound_roles(v_case.id,
            cpr.json_text_array(p_rcpts),
            ARRAY(SELECT lower(d) FROM unnest(cpr.json_text_array(p_internal_domains)) d))
    LOOP
        CONTINUE WHEN v_role.role = 'internal';
        PERFORM cpr.outbound_response(v_case, v_role.role, v_role.address, v_msg,
                                      p_auth_authen, v_now);
        v_said := v_said || (v_role.role || ' ' || v_role.address);
    END LOOP;
    RETURN QUERY SELECT v_case.tracking, CASE WHEN cardinality(v_said) = 0
        THEN 'recorded, no response (internal recipients only)'
        ELSE 'response to ' || array_to_string(v_said, ', ') END;
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.record_outbound(text, text, text, jsonb, text, jsonb,
    text, text, text, jsonb, text, bigint, jsonb, jsonb) TO cpr_milter;

-- A staff reply that copies a CPR address may come back in through the MX
-- (when the CPR mailbox is hosted elsewhere). It is the same message we
-- recorded as outbound, so it is a redelivery of that message, not a
-- follow-up that would restart the acknowledge clock: the dedupe of
-- 002_intake.sql now looks at outbound messages too.
CREATE OR REPLACE FUNCTION cpr.find_redelivery(p_message_id text, p_env_from text,
        p_subject text, p_sha bytea, p_now timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT m.id FROM cpr.messages m
    WHERE m.body_sha256 = p_sha
      AND CASE WHEN p_message_id IS NOT NULL THEN
               m.message_id = p_message_id
               AND m.received_at > p_now - interval '7 days'
          ELSE m.direction = 'inbound' AND m.message_id IS NULL
               AND m.env_from = p_env_from
               AND m.subject IS NOT DISTINCT FROM p_subject
               AND m.received_at > p_now - interval '24 hours'
          END
    ORDER BY m.received_at LIMIT 1
$$;

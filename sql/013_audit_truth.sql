-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   013_audit_truth.sql - events name the real login, keep their order, and a
--   change of BR item needs a reason
-- SUMMARY
--   SELECT e.db_user, e.format FROM cpr.events e;        -- session_user; 1 or 2
--   SELECT cpr.confirm('CPR-2026-000042', 6, NULL, 'alice', 'not a key compromise');
-- DESCRIPTION
--   REPLACES cpr.append_event (sql/001_schema.sql), cpr.event_json
--   (sql/003_queries.sql), cpr.confirm(text, integer, text, text)
--   (sql/005_sweeper.sql), cpr.audit_chain (sql/009_audit.sql) and
--   cpr.audit_rows (sql/011_audit_columns.sql); their signatures and
--   grants are unchanged.
--
--   events.db_user is the database session_user of the transaction that
--   appended the event. The staff functions are SECURITY DEFINER, so
--   current_user inside them is the owner; session_user is the role that
--   logged in. With one login role per person, each a member of cpr_staff
--   (CREATE ROLE alice LOGIN IN ROLE cpr_staff), the trail names the real
--   login beside the free-text actor (--by). Events from before 013 have
--   db_user '' (not recorded).
--
--   events.format says which canonical form the event's hash covers:
--   1, cpr.event_canonical (001, which never changes), for events from
--   before 013; 2, cpr.event_canonical_v2, the JSON array
--   [2, tracking, seq, at, actor, db_user, type, message_id, data], for
--   every event appended since. The leading 2 is inside the hashed bytes,
--   so a format-2 event read as format 1 (or back) breaks its hash.
--   cpr.event_canonical_of(event, tracking) picks the form by format.
--
--   append_event takes the event time from clock_timestamp() after it
--   holds the case-row lock, so the events of one case are stored in
--   the order their times say. p_at is still accepted, so that callers
--   (cpr.intake and the rest) keep working, and is ignored.
--
--   confirm with a BR item other than the one the case is confirmed as
--   moves the revocation deadline (items 1-5: 24 h; 6-16: 120 h) and is
--   refused unless p_reason says why; the event then carries
--   br_item_from and reason. The four-argument confirm is kept and passes
--   no reason.
-- DIAGNOSTICS
--   confirm raises object_not_in_prerequisite_state on a change of BR
--   item without a reason.
-- REPLACES cpr.append_event (001_schema.sql)
-- REPLACES cpr.event_json (003_queries.sql)
-- REPLACES cpr.confirm (005_sweeper.sql)
-- REPLACES cpr.audit_chain (009_audit.sql)
-- REPLACES cpr.audit_rows (011_audit_columns.sql)

ALTER TABLE cpr.events ADD COLUMN db_user text NOT NULL DEFAULT '';
ALTER TABLE cpr.events ALTER COLUMN db_user SET DEFAULT session_user;
ALTER TABLE cpr.events ADD COLUMN format smallint NOT NULL DEFAULT 1
    CHECK (format IN (1, 2));

-- The canonical content a format-2 event hash covers. Like
-- cpr.event_canonical it never changes; a new format is a new function.
CREATE FUNCTION cpr.event_canonical_v2(p_tracking text, p_seq integer,
        p_at timestamptz, p_actor text, p_db_user text, p_type text,
        p_message_id bigint, p_data jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(jsonb_build_array(2, p_tracking, p_seq,
               to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               p_actor, p_db_user, p_type, p_message_id, p_data)::text, 'UTF8')
$$;

-- The bytes an event's hash covers, in the event's own format.
CREATE FUNCTION cpr.event_canonical_of(e cpr.events, p_tracking text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN e.format = 1
        THEN cpr.event_canonical(p_tracking, e.seq, e.at, e.actor, e.type,
                                 e.message_id, e.data)
        ELSE cpr.event_canonical_v2(p_tracking, e.seq, e.at, e.actor, e.db_user,
                                    e.type, e.message_id, e.data) END
$$;

-- Append one event to a case's chain (replaces 001). The case row lock
-- serialises appends; the time is read after it, so within a chain a
-- later seq never has an earlier time (unless the clock itself steps
-- back, which verify-audit reports).
CREATE OR REPLACE FUNCTION cpr.append_event(p_case_id bigint, p_actor text, p_type text,
        p_message_id bigint, p_data jsonb, p_at timestamptz DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = cpr, pg_temp AS $$
DECLARE
    c      cpr.cases%ROWTYPE;
    v_seq  integer;
    v_at   timestamptz;
    v_user text := session_user;
    v_data jsonb := coalesce(p_data, '{}'::jsonb);
    v_hash bytea;
    v_id   bigint;
BEGIN
    SELECT * INTO c FROM cpr.cases WHERE id = p_case_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'append_event: no case %', p_case_id;
    END IF;
    v_at := clock_timestamp();           -- p_at is ignored (see the header)
    SELECT coalesce(max(seq), 0) + 1 INTO v_seq FROM cpr.events WHERE case_id = p_case_id;
    v_hash := cpr.event_hash(c.audit_head,
        cpr.event_canonical_v2(c.tracking, v_seq, v_at, p_actor, v_user, p_type,
                               p_message_id, v_data));
    INSERT INTO cpr.events (case_id, seq, at, actor, db_user, format, type, message_id,
                            data, prev_hash, hash)
    VALUES (p_case_id, v_seq, v_at, p_actor, v_user, 2, p_type, p_message_id, v_data,
            c.audit_head, v_hash)
    RETURNING id INTO v_id;
    UPDATE cpr.cases SET audit_head = v_hash WHERE id = p_case_id;
    RETURN v_id;
END
$$;

-- Events in case_show gain db_user (NULL before 013) and format (replaces 003).
CREATE OR REPLACE FUNCTION cpr.event_json(e cpr.events) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'seq', e.seq,
        'at', cpr.utc_text(e.at),
        'actor', e.actor,
        'db_user', nullif(e.db_user, ''),
        'format', e.format,
        'type', e.type,
        'data', e.data,
        'prev_hash', encode(e.prev_hash, 'hex'),
        'hash', encode(e.hash, 'hex'))
$$;

-- confirm with a reason (the BR item change needs one).
CREATE FUNCTION cpr.confirm(p_tracking text, p_br_item integer, p_crl_reason text,
        p_actor text, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
    v_crl text := coalesce(p_crl_reason, cpr.default_crl_reason(p_br_item));
    v_why text := nullif(btrim(coalesce(p_reason, '')), '');
    v_from integer;
BEGIN
    IF p_br_item IS NULL OR p_br_item NOT BETWEEN 1 AND 16 THEN
        RAISE EXCEPTION 'confirm: --br-item must be 1 to 16 (BR 4.9.1.1)';
    END IF;
    IF c.br_item IS NOT NULL AND c.br_item <> p_br_item THEN
        v_from := c.br_item;
    END IF;
    IF v_from IS NOT NULL AND v_why IS NULL THEN
        RAISE EXCEPTION 'confirm: case % is confirmed as BR item %; changing it to % moves the revocation deadline and needs --reason',
            p_tracking, v_from, p_br_item
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE cpr.cases SET br_item = p_br_item, crl_reason = v_crl WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'confirm', NULL,
        jsonb_build_object('br_item', p_br_item, 'crl_reason', v_crl,
            'revocation_due', cpr.utc_text(c.received_at + CASE WHEN p_br_item <= 5
                THEN interval '24 hours' ELSE interval '120 hours' END))
        || jsonb_strip_nulls(jsonb_build_object('br_item_from', v_from, 'reason', v_why)));
    RETURN cpr.case_show(p_tracking);
END
$$;

-- The old signature (replaces 005): no reason, so a change is refused.
CREATE OR REPLACE FUNCTION cpr.confirm(p_tracking text, p_br_item integer,
        p_crl_reason text, p_actor text)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.confirm(p_tracking, p_br_item, p_crl_reason, p_actor, NULL::text)
$$;

-- As 009, the canonical bytes in the event's own format (replaces 009).
CREATE OR REPLACE FUNCTION cpr.audit_chain(p_tracking text)
RETURNS TABLE (tracking text, audit_head text, seq integer, prev_hash text,
               hash text, canonical text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.tracking, encode(c.audit_head, 'hex'), e.seq, encode(e.prev_hash, 'hex'),
           encode(e.hash, 'hex'),
           encode(cpr.event_canonical_of(e, c.tracking), 'hex')
    FROM cpr.cases c LEFT JOIN cpr.events e ON e.case_id = c.id
    WHERE p_tracking IS NULL OR c.tracking = p_tracking
    ORDER BY c.id, e.seq, e.id
$$;

-- As 011, the canonical bytes in the event's own format (replaces 011).
CREATE OR REPLACE FUNCTION cpr.audit_rows(p_tracking text)
RETURNS TABLE (tracking text, audit_head text, seq integer, prev_hash text,
               hash text, canonical text, columns jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.tracking, encode(c.audit_head, 'hex'), e.seq, encode(e.prev_hash, 'hex'),
           encode(e.hash, 'hex'),
           encode(cpr.event_canonical_of(e, c.tracking), 'hex'),
           CASE WHEN e.seq IS NULL OR e.seq = (SELECT min(x.seq) FROM cpr.events x
                                               WHERE x.case_id = c.id)
                THEN cpr.audit_columns(c) END
    FROM cpr.cases c LEFT JOIN cpr.events e ON e.case_id = c.id
    WHERE p_tracking IS NULL OR c.tracking = p_tracking
    ORDER BY c.id, e.seq, e.id
$$;

REVOKE EXECUTE ON FUNCTION
    cpr.event_canonical_v2(text, integer, timestamptz, text, text, text, bigint, jsonb),
    cpr.event_canonical_of(cpr.events, text),
    cpr.append_event(bigint, text, text, bigint, jsonb, timestamptz),
    cpr.event_json(cpr.events),
    cpr.confirm(text, integer, text, text, text),
    cpr.confirm(text, integer, text, text),
    cpr.audit_chain(text), cpr.audit_rows(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.confirm(text, integer, text, text, text),
    cpr.confirm(text, integer, text, text), cpr.audit_chain(text), cpr.audit_rows(text)
    TO cpr_staff;

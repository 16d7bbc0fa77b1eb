-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   001_schema.sql - cases, messages and the hash-chained audit events
-- DESCRIPTION
--   The receipt time is the database clock (clock_timestamp(), UTC) and can
--   never change: triggers reject UPDATE of received_at/tracking and any
--   DELETE of cases, messages and events. Events form a SHA-256 hash chain
--   per case: hash = sha256(prev_hash || canonical content), where the
--   canonical content is cpr.event_canonical(). Appends to one case are
--   serialised by locking the case row (cpr.append_event).

CREATE SCHEMA IF NOT EXISTS cpr;

CREATE SEQUENCE cpr.tracking_seq AS bigint MINVALUE 1 START 1;

CREATE TABLE cpr.cases (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tracking      text NOT NULL UNIQUE
                  CHECK (tracking ~ '^CPR-[0-9]{4}-[0-9]{6,}$'),
    received_at   timestamptz NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('new-report', 'automated')),
    category      text NOT NULL,
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    flags         text[] NOT NULL DEFAULT '{}',
    reporter      text NOT NULL,            -- envelope sender of the first message
    subject       text,                     -- decoded UTF-8
    ack_clock_from timestamptz,             -- acknowledge clock start (receipt or latest follow-up)
    acked_at      timestamptz,
    audit_head    bytea                     -- hash of the newest event
);
CREATE INDEX cases_open_idx ON cpr.cases (received_at) WHERE state = 'open';

CREATE TABLE cpr.messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cpr.cases (id),
    received_at   timestamptz NOT NULL,
    direction     text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    kind          text NOT NULL CHECK (kind IN ('new-report', 'follow-up', 'automated')),
    category      text NOT NULL,
    flags         text[] NOT NULL DEFAULT '{}',
    reasons       text[] NOT NULL DEFAULT '{}',
    queue_id      text,
    message_id    text,                     -- without <>
    in_reply_to   text,
    refs          text[] NOT NULL DEFAULT '{}',
    env_from      text NOT NULL,            -- '' is the null sender
    rcpts         text[] NOT NULL,
    client_addr   text,
    client_name   text,
    helo          text,
    auth_authen   text,
    subject       text,
    headers       jsonb NOT NULL,           -- [[name, value], ...] as received
    body_sha256   bytea NOT NULL CHECK (octet_length(body_sha256) = 32),
    body_bytes    bigint NOT NULL,
    redeliveries  integer NOT NULL DEFAULT 0
);
CREATE INDEX messages_case_idx ON cpr.messages (case_id);
CREATE INDEX messages_msgid_idx ON cpr.messages (message_id, received_at);
CREATE INDEX messages_nomsgid_idx ON cpr.messages (body_sha256, received_at)
    WHERE message_id IS NULL;

CREATE TABLE cpr.events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cpr.cases (id),
    seq           integer NOT NULL,          -- 1, 2, ... per case
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    type          text NOT NULL,
    message_id    bigint REFERENCES cpr.messages (id),
    data          jsonb NOT NULL DEFAULT '{}',
    prev_hash     bytea,                     -- NULL for the first event of a case
    hash          bytea NOT NULL,
    UNIQUE (case_id, seq)
);

CREATE TABLE IF NOT EXISTS cpr.schema_migrations (
    version       text PRIMARY KEY,
    applied_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The canonical content an event hash covers. Changing this breaks every
-- chain, so it never changes; a new format would be a new function.
CREATE FUNCTION cpr.event_canonical(p_tracking text, p_seq integer,
        p_at timestamptz, p_actor text, p_type text, p_message_id bigint,
        p_data jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(jsonb_build_array(p_tracking, p_seq,
               to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               p_actor, p_type, p_message_id, p_data)::text, 'UTF8')
$$;

CREATE FUNCTION cpr.event_hash(p_prev bytea, p_canonical bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(p_prev, ''::bytea) || p_canonical)
$$;

-- Append one event to a case's chain. The case row lock serialises appends
-- from every milter, sweeper and cprctl, so chains never fork.
CREATE FUNCTION cpr.append_event(p_case_id bigint, p_actor text, p_type text,
        p_message_id bigint, p_data jsonb, p_at timestamptz DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c      cpr.cases%ROWTYPE;
    v_seq  integer;
    v_at   timestamptz := coalesce(p_at, clock_timestamp());
    v_hash bytea;
    v_id   bigint;
BEGIN
    SELECT * INTO c FROM cpr.cases WHERE id = p_case_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'append_event: no case %', p_case_id;
    END IF;
    SELECT coalesce(max(seq), 0) + 1 INTO v_seq FROM cpr.events WHERE case_id = p_case_id;
    v_hash := cpr.event_hash(c.audit_head,
        cpr.event_canonical(c.tracking, v_seq, v_at, p_actor, p_type,
                            p_message_id, coalesce(p_data, '{}'::jsonb)));
    INSERT INTO cpr.events (case_id, seq, at, actor, type, message_id, data, prev_hash, hash)
    VALUES (p_case_id, v_seq, v_at, p_actor, p_type, p_message_id,
            coalesce(p_data, '{}'::jsonb), c.audit_head, v_hash)
    RETURNING id INTO v_id;
    UPDATE cpr.cases SET audit_head = v_hash WHERE id = p_case_id;
    RETURN v_id;
END
$$;

-- Immutability: evidence of receipt and the audit trail never change.
CREATE FUNCTION cpr.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cpr: % on %.% is not allowed: receipts and audit events are immutable',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
END
$$;

CREATE FUNCTION cpr.guard_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.received_at IS DISTINCT FROM OLD.received_at THEN
        RAISE EXCEPTION 'cpr: the receipt time of %.% id % is immutable',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.id;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION cpr.guard_case() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tracking IS DISTINCT FROM OLD.tracking THEN
        RAISE EXCEPTION 'cpr: the tracking number of case % is immutable', OLD.id;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER cases_guard BEFORE UPDATE ON cpr.cases
    FOR EACH ROW EXECUTE FUNCTION cpr.guard_receipt();
CREATE TRIGGER cases_guard_tracking BEFORE UPDATE ON cpr.cases
    FOR EACH ROW EXECUTE FUNCTION cpr.guard_case();
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cpr.cases
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER messages_guard BEFORE UPDATE ON cpr.messages
    FOR EACH ROW EXECUTE FUNCTION cpr.guard_receipt();
CREATE TRIGGER messages_no_delete BEFORE DELETE ON cpr.messages
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON cpr.events
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_cases BEFORE TRUNCATE ON cpr.cases
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_messages BEFORE TRUNCATE ON cpr.messages
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_events BEFORE TRUNCATE ON cpr.events
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   027_ack_links.sql - acknowledging a case through a signed one-click link
-- DESCRIPTION
--   cpr-web (milter/web/) verifies a link's token (milter/core/acktoken.c)
--   and then calls, as the cpr_web role:
--     cpr.link_case(tracking)   what the GET page shows: the case's
--                               summary only (no reporter address, no
--                               messages, no evidence);
--     cpr.ack_link(tracking, clock, channel, nonce, issued, expires, actor)
--                               the POST: in one transaction, records the
--                               token's nonce as used (a second use is a
--                               unique_violation, 23505), refuses a link
--                               expired by the database clock (22023) or
--                               made before the case's acknowledge clock
--                               last started (CP001: a link is for its own
--                               clock, not for one a follow-up restarted),
--                               and acknowledges through cpr.ack_via, the
--                               one acknowledgement every path takes.
--   cpr.ack_via(tracking, actor, path, data) is cpr.ack's body with the
--   path that acknowledged ('cprctl', 'link', ...) named in the audit
--   event's data; cpr.ack(tracking, actor), which cprctl calls, is now
--   ack_via with path 'cprctl', so every ack event names its path.
--   If the acknowledgement fails (the case is already acknowledged, or
--   has no open acknowledge clock: 55000) the nonce is not kept either,
--   and the link stays as unused as the case stays unchanged.
-- DIAGNOSTICS
--   SQLSTATEs, which cpr-web maps to its pages: P0002 no such case,
--   55000 nothing to acknowledge, 23505 link used, 22023 link expired or
--   malformed, CP001 link made before the current acknowledge clock.
-- REPLACES cpr.ack (005_sweeper.sql)

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpr_web') THEN
        CREATE ROLE cpr_web LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA cpr TO cpr_web;

-- One row per link used: the nonce is unique, so a link acts once.
CREATE TABLE cpr.ack_link_uses (
    nonce     bytea PRIMARY KEY CHECK (length(nonce) = 16),
    case_id   bigint NOT NULL REFERENCES cpr.cases (id),
    clock     text NOT NULL,
    channel   text NOT NULL,
    actor     text NOT NULL,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    db_user   text NOT NULL DEFAULT session_user
);
REVOKE ALL ON cpr.ack_link_uses FROM PUBLIC;

CREATE FUNCTION cpr.ack_via(p_tracking text, p_actor text, p_path text, p_data jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF c.ack_clock_from IS NULL OR c.acked_at IS NOT NULL THEN
        RAISE EXCEPTION 'case % has nothing to acknowledge', p_tracking
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF p_path IS NULL OR p_path !~ '^[a-z][a-z0-9-]{0,31}$' THEN
        RAISE EXCEPTION 'ack: path must name how the acknowledgement came'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE cpr.cases SET acked_at = clock_timestamp() WHERE id = c.id;
    PERFORM cpr.append_event(c.id, p_actor, 'ack', NULL,
        coalesce(p_data, '{}'::jsonb)
        || jsonb_build_object('ack_clock_from', cpr.utc_text(c.ack_clock_from),
                              'path', p_path));
    RETURN cpr.case_show(p_tracking);
END
$$;

CREATE OR REPLACE FUNCTION cpr.ack(p_tracking text, p_actor text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.ack_via(p_tracking, p_actor, 'cprctl', NULL)
$$;

CREATE FUNCTION cpr.link_case(p_tracking text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'tracking', c.tracking,
        'category', c.category,
        'state', c.state,
        'subject', c.subject,
        'received_at', cpr.utc_text(c.received_at),
        'received_ms', (extract(epoch FROM c.received_at) * 1000)::bigint,
        'ack_clock_from', cpr.utc_text(c.ack_clock_from),
        'ack_clock_from_ms', (extract(epoch FROM c.ack_clock_from) * 1000)::bigint,
        'acked_at', cpr.utc_text(c.acked_at),
        'acked_by', (SELECT e.actor FROM cpr.events e
                     WHERE e.case_id = c.id AND e.type = 'ack'
                     ORDER BY e.seq DESC LIMIT 1),
        'reporter_done_at', cpr.utc_text(c.reporter_done_at),
        'subscriber_done_at', cpr.utc_text(c.subscriber_done_at),
        'revocation_due_at', cpr.utc_text(c.received_at + CASE
            WHEN c.br_item BETWEEN 1 AND 5 THEN interval '24 hours'
            WHEN c.br_item BETWEEN 6 AND 16 THEN interval '120 hours' END),
        'revoked_at', cpr.utc_text(c.revoked_at),
        'now_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
    FROM cpr.cases c
    WHERE c.tracking = p_tracking
$$;

CREATE FUNCTION cpr.ack_link(p_tracking text, p_clock text, p_channel text, p_nonce bytea,
                             p_issued timestamptz, p_expires timestamptz, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_case bigint;
    v_from timestamptz;
BEGIN
    SELECT id, ack_clock_from INTO v_case, v_from FROM cpr.cases WHERE tracking = p_tracking;
    IF v_case IS NULL THEN
        RAISE EXCEPTION 'no case %', p_tracking USING ERRCODE = 'no_data_found';
    END IF;
    IF p_nonce IS NULL OR length(p_nonce) <> 16 OR p_actor IS NULL OR btrim(p_actor) = ''
       OR p_clock IS NULL OR p_channel IS NULL THEN
        RAISE EXCEPTION 'ack_link: malformed link' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_expires IS NULL OR p_expires <= clock_timestamp() THEN
        RAISE EXCEPTION 'ack_link: the link expired at %', cpr.utc_text(p_expires)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_issued IS NULL OR p_issued > p_expires THEN
        RAISE EXCEPTION 'ack_link: malformed link' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_from IS NOT NULL AND p_issued < v_from THEN
        RAISE EXCEPTION 'ack_link: the link (%) is older than the acknowledge clock (%)',
            cpr.utc_text(p_issued), cpr.utc_text(v_from) USING ERRCODE = 'CP001';
    END IF;
    INSERT INTO cpr.ack_link_uses (nonce, case_id, clock, channel, actor, issued_at, expires_at)
    VALUES (p_nonce, v_case, p_clock, p_channel, p_actor, p_issued, p_expires);
    RETURN cpr.ack_via(p_tracking, p_actor, 'link',
        jsonb_build_object('clock', p_clock, 'channel', p_channel,
                           'link_expires_at', cpr.utc_text(p_expires)));
END
$$;

REVOKE EXECUTE ON FUNCTION cpr.ack_via(text, text, text, jsonb), cpr.link_case(text),
    cpr.ack_link(text, text, text, bytea, timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.ack_via(text, text, text, jsonb) TO cpr_staff, cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.link_case(text),
    cpr.ack_link(text, text, text, bytea, timestamptz, timestamptz, text) TO cpr_web;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   003_queries.sql - read-only case queries for cprctl (list, show)
-- SUMMARY
--   SELECT c FROM cpr.case_list(false) AS c;       -- one jsonb per case
--   SELECT cpr.case_show('CPR-2026-000042');       -- jsonb, or NULL
-- DESCRIPTION
--   The JSON is built here with jsonb_build_object, never from strings, so
--   cprctl only parses and prints it. Times are RFC 3339 UTC with
--   milliseconds (cpr.utc_text); hashes are lower-case hex.
--   case_list: open cases that are not automated mail, or every case when
--   p_all; ordered by receipt. case_show: the case, its messages and its
--   audit events, or NULL when no case has that tracking number.
--   Both are SECURITY DEFINER with a pinned search_path. EXECUTE is revoked
--   from PUBLIC here and granted to the staff role in 004_roles.sql.
-- DIAGNOSTICS
--   None of their own: an unknown tracking number is a NULL, not an error.

-- The fields list and show share. Counts come from the messages table.
CREATE FUNCTION cpr.case_json(c cpr.cases) RETURNS jsonb
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
        'last_message_at', cpr.utc_text(max(m.received_at)))
    FROM cpr.messages m
    WHERE m.case_id = c.id
$$;

CREATE FUNCTION cpr.message_json(m cpr.messages) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'received_at', cpr.utc_text(m.received_at),
        'kind', m.kind,
        'category', m.category,
        'direction', m.direction,
        'queue_id', m.queue_id,
        'message_id', m.message_id,
        'in_reply_to', m.in_reply_to,
        'references', to_jsonb(m.refs),
        'env_from', m.env_from,
        'rcpts', to_jsonb(m.rcpts),
        'subject', m.subject,
        'client_addr', m.client_addr,
        'client_name', m.client_name,
        'helo', m.helo,
        'auth_authen', m.auth_authen,
        'body_sha256', encode(m.body_sha256, 'hex'),
        'body_bytes', m.body_bytes,
        'redeliveries', m.redeliveries,
        'flags', to_jsonb(m.flags),
        'reasons', to_jsonb(m.reasons))
$$;

CREATE FUNCTION cpr.event_json(e cpr.events) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'seq', e.seq,
        'at', cpr.utc_text(e.at),
        'actor', e.actor,
        'type', e.type,
        'data', e.data,
        'prev_hash', encode(e.prev_hash, 'hex'),
        'hash', encode(e.hash, 'hex'))
$$;

CREATE FUNCTION cpr.case_list(p_all boolean) RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.case_json(c)
    FROM cpr.cases c
    WHERE coalesce(p_all, false)
       OR (c.state = 'open' AND c.kind <> 'automated')
    ORDER BY c.received_at, c.id
$$;

CREATE FUNCTION cpr.case_show(p_tracking text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.case_json(c) || jsonb_build_object(
        'messages', (SELECT coalesce(jsonb_agg(cpr.message_json(m)
                                               ORDER BY m.received_at, m.id),
                                     '[]'::jsonb)
                     FROM cpr.messages m WHERE m.case_id = c.id),
        'events', (SELECT coalesce(jsonb_agg(cpr.event_json(e) ORDER BY e.seq),
                                   '[]'::jsonb)
                   FROM cpr.events e WHERE e.case_id = c.id))
    FROM cpr.cases c
    WHERE c.tracking = p_tracking
$$;

REVOKE EXECUTE ON FUNCTION cpr.case_json(cpr.cases), cpr.message_json(cpr.messages),
    cpr.event_json(cpr.events), cpr.case_list(boolean), cpr.case_show(text)
    FROM PUBLIC;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   009_audit.sql - read-only queries for the staff view and the auditors
-- SUMMARY
--   SELECT cpr.case_show('CPR-2026-000042');           -- now with evidence
--   SELECT cpr.search_evidence('spki', 'AB:CD...');    -- jsonb array of cases
--   SELECT * FROM cpr.audit_chain(NULL);               -- every event, in chain order
--   SELECT c FROM cpr.audit_cases('2026-01-01', '2026-01-31') AS c;
-- DESCRIPTION
--   case_show gains per message "priority", "spam" and "decoded_subject",
--   a case-level "reasons" (those of the message that opened the case) and
--   "evidence": one object per evidence row with "also_in", the other
--   cases naming the same SPKI or the same certificate fingerprint.
--   search_evidence finds cases by serial, fingerprint, spki or crtsh; the
--   value is normalised (lower case; colons, spaces and 0x removed).
--   audit_chain returns each event's stored hashes and the canonical bytes
--   its hash covers, so that cprctl recomputes every SHA-256 itself and
--   does not have to trust cpr.event_hash. audit_cases gives the report
--   its cases (received in [from, to); a bare date as --to counts whole).
--   All are SECURITY DEFINER with a pinned search_path; EXECUTE is granted
--   to cpr_staff only. Nothing here writes.
-- DIAGNOSTICS
--   search_evidence raises on an unknown field or an empty value.
-- REPLACES cpr.message_json (003_queries.sql)
-- REPLACES cpr.case_show (003_queries.sql)

CREATE OR REPLACE FUNCTION cpr.message_json(m cpr.messages) RETURNS jsonb
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
        'decoded_subject', m.copy->>'subject',
        'client_addr', m.client_addr,
        'client_name', m.client_name,
        'helo', m.helo,
        'auth_authen', m.auth_authen,
        'body_sha256', encode(m.body_sha256, 'hex'),
        'body_bytes', m.body_bytes,
        'redeliveries', m.redeliveries,
        'flags', to_jsonb(m.flags),
        'reasons', to_jsonb(m.reasons),
        'priority', m.priority,
        'spam', to_jsonb(m.spam))
$$;

-- The normalised form of a search value: lower case, no colons, spaces or
-- 0x prefix.
CREATE FUNCTION cpr.evidence_norm(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(regexp_replace(lower(coalesce(p, '')), '[[:space:]:]', '', 'g'),
                          '^0x', '')
$$;

-- The certificate fingerprint an evidence row names: its own SHA-256, or
-- the value of a fingerprint found in the text.
CREATE FUNCTION cpr.evidence_fp(e cpr.evidence) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(e.sha256,
                    CASE WHEN e.kind = 'fingerprint' THEN cpr.evidence_norm(e.value) END)
$$;

CREATE FUNCTION cpr.evidence_json(e cpr.evidence) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'kind', e.kind, 'sha256', e.sha256, 'spki_sha256', e.spki_sha256,
        'serial', e.serial, 'issuer', e.issuer, 'subject', e.subject,
        'sans', e.sans, 'not_before', cpr.utc_text(e.not_before),
        'not_after', cpr.utc_text(e.not_after), 'key_type', e.key_type,
        'value', e.value, 'sig_ok', e.sig_ok, 'proof', e.proof,
        'reason', e.reason,
        'received_at', (SELECT cpr.utc_text(m.received_at) FROM cpr.messages m
                        WHERE m.id = e.message_id),
        'also_in', (SELECT coalesce(jsonb_agg(DISTINCT c.tracking ORDER BY c.tracking),
                                    '[]'::jsonb)
                    FROM cpr.evidence o JOIN cpr.cases c ON c.id = o.case_id
                    WHERE o.case_id <> e.case_id
                      AND ((e.spki_sha256 IS NOT NULL AND o.spki_sha256 = e.spki_sha256)
                        OR (cpr.evidence_fp(e) IS NOT NULL
                            AND cpr.evidence_fp(o) = cpr.evidence_fp(e)))))
$$;

CREATE OR REPLACE FUNCTION cpr.case_show(p_tracking text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.case_json(c) || jsonb_build_object(
        'reasons', coalesce((SELECT to_jsonb(m.reasons) FROM cpr.messages m
                             WHERE m.case_id = c.id AND m.direction = 'inbound'
                             ORDER BY m.received_at, m.id LIMIT 1), '[]'::jsonb),
        'messages', (SELECT coalesce(jsonb_agg(cpr.message_json(m)
                                               ORDER BY m.received_at, m.id),
                                     '[]'::jsonb)
                     FROM cpr.messages m WHERE m.case_id = c.id),
        'evidence', (SELECT coalesce(jsonb_agg(cpr.evidence_json(e) ORDER BY e.id),
                                     '[]'::jsonb)
                     FROM cpr.evidence e WHERE e.case_id = c.id),
        'events', (SELECT coalesce(jsonb_agg(cpr.event_json(e) ORDER BY e.seq),
                                   '[]'::jsonb)
                   FROM cpr.events e WHERE e.case_id = c.id))
    FROM cpr.cases c
    WHERE c.tracking = p_tracking
$$;

-- The crt.sh value as evidence stores it: "id=N", "sha256=..." and so on,
-- from "N", "id=N" or a whole crt.sh URL.
CREATE FUNCTION cpr.crtsh_norm(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v ~ '^[0-9]+$' THEN 'id=' || v ELSE v END
    FROM (SELECT regexp_replace(regexp_replace(lower(btrim(coalesce(p, ''))),
                                               '^.*[?&]', ''), '[&#].*$', '') AS v) s
$$;

CREATE FUNCTION cpr.evidence_match(e cpr.evidence, p_field text, p_value text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_field
        WHEN 'serial' THEN ltrim(e.serial, '0') = ltrim(p_value, '0')
            OR (e.kind = 'serial' AND ltrim(cpr.evidence_norm(e.value), '0') = ltrim(p_value, '0'))
        WHEN 'fingerprint' THEN cpr.evidence_fp(e) = p_value
        WHEN 'spki' THEN e.spki_sha256 = p_value
        WHEN 'crtsh' THEN e.kind = 'crtsh' AND lower(e.value) = p_value
        ELSE false END
$$;

CREATE FUNCTION cpr.search_evidence(p_field text, p_value text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v text := CASE WHEN p_field = 'crtsh' THEN cpr.crtsh_norm(p_value)
                   ELSE cpr.evidence_norm(p_value) END;
BEGIN
    IF p_field IS NULL OR p_field NOT IN ('serial', 'fingerprint', 'spki', 'crtsh') THEN
        RAISE EXCEPTION 'search: the field must be serial, fingerprint, spki or crtsh'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v = '' OR v = 'id=' THEN
        RAISE EXCEPTION 'search: an empty value matches nothing'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(hit ORDER BY received, id), '[]'::jsonb) FROM (
        SELECT c.received_at AS received, c.id, jsonb_build_object(
            'tracking', c.tracking, 'received_at', cpr.utc_text(c.received_at),
            'state', c.state, 'kind', c.kind, 'category', c.category,
            'subject', c.subject,
            'matches', jsonb_agg(cpr.evidence_json(e) ORDER BY e.id)) AS hit
        FROM cpr.evidence e JOIN cpr.cases c ON c.id = e.case_id
        WHERE cpr.evidence_match(e, p_field, v)
        GROUP BY c.id) hits);
END
$$;

-- Every event of one case (or of all cases when p_tracking is NULL) in
-- chain order, with the case's stored head; a case without events is one
-- row with seq NULL. Hashes are lower-case hex; canonical is the hex of
-- the bytes the event's hash covers.
CREATE FUNCTION cpr.audit_chain(p_tracking text)
RETURNS TABLE (tracking text, audit_head text, seq integer, prev_hash text,
               hash text, canonical text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.tracking, encode(c.audit_head, 'hex'), e.seq, encode(e.prev_hash, 'hex'),
           encode(e.hash, 'hex'),
           encode(cpr.event_canonical(c.tracking, e.seq, e.at, e.actor, e.type,
                                      e.message_id, e.data), 'hex')
    FROM cpr.cases c LEFT JOIN cpr.events e ON e.case_id = c.id
    WHERE p_tracking IS NULL OR c.tracking = p_tracking
    ORDER BY c.id, e.seq, e.id
$$;

-- The cases the auditor's report covers: received in [from, to), full
-- detail, automated mail left out. A bare date as p_to includes that day.
CREATE FUNCTION cpr.audit_cases(p_from text, p_to text) RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.case_show(c.tracking)
    FROM cpr.cases c
    WHERE c.kind <> 'automated'
      AND c.received_at >= (p_from::timestamp AT TIME ZONE 'UTC')
      AND c.received_at < (p_to::timestamp AT TIME ZONE 'UTC')
          + CASE WHEN p_to ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN interval '1 day'
                 ELSE interval '0' END
    ORDER BY c.received_at, c.id
$$;

REVOKE EXECUTE ON FUNCTION cpr.evidence_norm(text), cpr.evidence_fp(cpr.evidence),
    cpr.evidence_json(cpr.evidence), cpr.crtsh_norm(text),
    cpr.evidence_match(cpr.evidence, text, text), cpr.search_evidence(text, text),
    cpr.audit_chain(text), cpr.audit_cases(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.search_evidence(text, text), cpr.audit_chain(text),
    cpr.audit_cases(text, text) TO cpr_staff;

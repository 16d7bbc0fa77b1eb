-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   017_flat.sql - every intake-path and staff lookup is an index lookup
-- SUMMARY
--   Redefines cpr.find_redelivery (replaces 008_staff_mail.sql's, which
--   replaced 002_intake.sql's), cpr.safe_timestamptz and
--   cpr.store_evidence (replace 007_evidence.sql's), cpr.json_text_array
--   (replaces 002_intake.sql's) and cpr.case_list (replaces
--   003_queries.sql's). New indexes on messages, evidence, cases.
-- DESCRIPTION
--   A CA's CPR address takes years of reports, spam, bounces and list
--   mail; the time per message must not grow with that history.
--     * find_redelivery was one SQL function planned with generic
--       parameters: its CASE WHEN p_message_id IS NOT NULL hid
--       message_id = $1 from every index, so each message scanned all of
--       cpr.messages. It is now plpgsql with one query per branch, each an
--       equality lookup on messages_redelivery_idx (body_sha256,
--       message_id, received_at): the Message-ID branch is three index
--       columns, the no-Message-ID branch two (IS NULL is indexable) and a
--       24-hour range. messages_nomsgid_idx of 001 is covered by it and is
--       dropped.
--     * safe_timestamptz caught a failed cast in an EXCEPTION block: one
--       subtransaction per evidence time, two per certificate. It now
--       validates the one form cpr-milter sends (evidence.c:
--       "YYYY-MM-DDTHH:MM:SSZ", years 1-9999) by pattern and calendar
--       arithmetic, with no cast that can fail, and builds the time with
--       make_timestamp only from what passed; anything else is NULL, as before for what
--       PostgreSQL refused. store_evidence and json_text_array, SQL
--       functions called from plpgsql and so planned on every call, are
--       plpgsql (plans cached per connection); store_evidence returns at
--       once for no evidence.
--     * evidence_json's also_in (009) compared cpr.evidence_fp(o) for every
--       row of cpr.evidence, once per evidence row shown: a report over a
--       year was quadratic. With evidence_fp_idx (the expression
--       evidence_fp inlines to) its OR is a BitmapOr of two index scans
--       (the partial SPKI index of 007 and this one); 009's text stays.
--     * cases_received_idx (received_at, id) serves case_list --all and
--       audit_cases' range in their output order, so cprctl can stream.
-- DIAGNOSTICS
--   None: lookups return NULL or an empty array, as before.
-- REPLACES cpr.find_redelivery (002_intake.sql, 008_staff_mail.sql)
-- REPLACES cpr.safe_timestamptz (007_evidence.sql)
-- REPLACES cpr.store_evidence (007_evidence.sql)
-- REPLACES cpr.json_text_array (002_intake.sql)
-- REPLACES cpr.case_list (003_queries.sql)

DROP INDEX IF EXISTS cpr.messages_nomsgid_idx;
CREATE INDEX messages_redelivery_idx ON cpr.messages (body_sha256, message_id, received_at);
CREATE INDEX evidence_fp_idx ON cpr.evidence ((coalesce(sha256,
    CASE WHEN kind = 'fingerprint' THEN cpr.evidence_norm(value) END)))
    WHERE coalesce(sha256, CASE WHEN kind = 'fingerprint' THEN cpr.evidence_norm(value) END)
          IS NOT NULL;
CREATE INDEX cases_received_idx ON cpr.cases (received_at, id);

-- The earlier message this one repeats, if any (rule 1 of 002_intake.sql,
-- with 008's outbound messages). One index lookup per branch.
CREATE OR REPLACE FUNCTION cpr.find_redelivery(p_message_id text, p_env_from text,
        p_subject text, p_sha bytea, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_message_id IS NOT NULL THEN
        RETURN (SELECT m.id FROM cpr.messages m
                WHERE m.body_sha256 = p_sha AND m.message_id = p_message_id
                  AND m.received_at > p_now - interval '7 days'
                ORDER BY m.received_at LIMIT 1);
    END IF;
    RETURN (SELECT m.id FROM cpr.messages m
            WHERE m.body_sha256 = p_sha AND m.message_id IS NULL
              AND m.received_at > p_now - interval '24 hours'
              AND m.direction = 'inbound' AND m.env_from = p_env_from
              AND m.subject IS NOT DISTINCT FROM p_subject
            ORDER BY m.received_at LIMIT 1);
END
$$;

-- The six numbers of "YYYY-MM-DDTHH:MM:SSZ", or NULL for any other form.
-- Only digit strings are cast, so nothing here can raise, not even when
-- the planner folds a constant argument.
CREATE FUNCTION cpr.evidence_time_parts(p text) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_match(p, '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$')::integer[]
$$;

-- Whether t names a real UTC second: years 1-9999, no leap second.
CREATE FUNCTION cpr.evidence_time_valid(t integer[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(t[1] >= 1 AND t[2] BETWEEN 1 AND 12 AND t[3] >= 1
        AND t[3] <= CASE WHEN t[2] IN (4, 6, 9, 11) THEN 30
                         WHEN t[2] <> 2 THEN 31
                         WHEN t[1] % 4 = 0 AND (t[1] % 100 <> 0 OR t[1] % 400 = 0) THEN 29
                         ELSE 28 END
        AND t[4] < 24 AND t[5] < 60 AND t[6] < 60, false)
$$;

-- The time t names; NULL unless evidence_time_valid(t), so make_timestamp
-- never sees what it would refuse.
CREATE FUNCTION cpr.evidence_time(t integer[]) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cpr.evidence_time_valid(t) THEN
        make_timestamp(t[1], t[2], t[3], t[4], t[5], t[6]) AT TIME ZONE 'UTC' END
$$;

-- A time from message content, or NULL when it is not one evidence.c
-- writes. Replaces 007's, which caught a failed cast (a subtransaction).
CREATE OR REPLACE FUNCTION cpr.safe_timestamptz(p text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT cpr.evidence_time(cpr.evidence_time_parts(p))
$$;

-- As 007's store_evidence, with the safe_timestamptz above (no
-- subtransaction per evidence time), in plpgsql so that its INSERT is
-- planned once per connection, not on every call as an SQL function's
-- is (250 us of each intake, most of which have no evidence at all).
CREATE OR REPLACE FUNCTION cpr.store_evidence(p_case_id bigint, p_msg bigint,
        p_evidence jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF jsonb_typeof(p_evidence) IS DISTINCT FROM 'array'
       OR jsonb_array_length(p_evidence) = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO cpr.evidence (case_id, message_id, kind, sha256, spki_sha256,
        serial, issuer, subject, sans, not_before, not_after, key_type, value,
        sig_ok, proof, reason)
    SELECT p_case_id, p_msg, e->>'kind',
        CASE WHEN e->>'sha256' ~ '^[0-9a-f]{64}$' THEN e->>'sha256' END,
        CASE WHEN e->>'spki_sha256' ~ '^[0-9a-f]{64}$' THEN e->>'spki_sha256' END,
        CASE WHEN e->>'serial' ~ '^[0-9a-f]{1,128}$' THEN e->>'serial' END,
        e->>'issuer', e->>'subject', e->>'sans',
        cpr.safe_timestamptz(e->>'not_before'), cpr.safe_timestamptz(e->>'not_after'),
        e->>'key_type', e->>'value',
        CASE WHEN jsonb_typeof(e->'sig_ok') = 'boolean' THEN (e->>'sig_ok')::boolean END,
        CASE WHEN e->>'proof' IN ('pock', 'csr', 'pwnedkeys') THEN e->>'proof' END,
        coalesce(e->>'reason', e->>'kind')
    FROM jsonb_array_elements(p_evidence) AS e
    WHERE e->>'kind' IN ('certificate', 'csr', 'private-key', 'private-key-encrypted',
                         'private-key-truncated', 'crtsh', 'fingerprint', 'serial');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- As 002's json_text_array (the same result and the same error for a
-- non-array), in plpgsql for the same reason: cpr.intake calls it eight
-- times, and as an SQL function it was planned every time (26 us each).
CREATE OR REPLACE FUNCTION cpr.json_text_array(p jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p IS NULL OR p = '[]'::jsonb THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(SELECT e FROM jsonb_array_elements_text(p) WITH ORDINALITY AS t(e, n)
                 ORDER BY n);
END
$$;

-- cprctl list: the open cases through cases_open_idx, or every case
-- through cases_received_idx, in receipt order. Replaces 003_queries.sql's
-- one SQL query, whose "p_all OR state = 'open'" planned generically read
-- every case for the open ones.
CREATE OR REPLACE FUNCTION cpr.case_list(p_all boolean) RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    IF coalesce(p_all, false) THEN
        RETURN QUERY SELECT cpr.case_json(c) FROM cpr.cases c ORDER BY c.received_at, c.id;
    ELSE
        RETURN QUERY SELECT cpr.case_json(c) FROM cpr.cases c
            WHERE c.state = 'open' AND c.kind <> 'automated'
            ORDER BY c.received_at, c.id;
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION cpr.find_redelivery(text, text, text, bytea, timestamptz),
    cpr.evidence_time_parts(text), cpr.evidence_time_valid(integer[]),
    cpr.evidence_time(integer[]), cpr.safe_timestamptz(text),
    cpr.store_evidence(bigint, bigint, jsonb), cpr.json_text_array(jsonb),
    cpr.case_list(boolean) FROM PUBLIC;
-- The helpers run only inside the SECURITY DEFINER functions (cpr.intake
-- for cpr_milter; case_show, search_evidence, audit_cases for cpr_staff),
-- as their owner. case_list keeps its one grantee (004_roles.sql).
GRANT EXECUTE ON FUNCTION cpr.case_list(boolean) TO cpr_staff;

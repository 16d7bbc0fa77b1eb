-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   020_cached_plans.sql - the intake's helper functions keep their plans
-- SUMMARY
--   Redefines, in plpgsql with the same results, the SQL-language helpers
--   that cpr.intake calls and PostgreSQL cannot inline: find_thread3,
--   our_reply_tracking, reply_token, is_reporter, sender_addresses,
--   reporters_add_opened (012_authority.sql); unknown_trackings
--   (007_evidence.sql); autoreply_count_all, autoreply_count_domain,
--   autoreply_count_sender (014_trust.sql); safe_timestamptz
--   (007_evidence.sql, 017_flat.sql). cpr.intake plans with
--   enable_seqscan = off.
-- DESCRIPTION
--   A SQL-language function that is not inlined (it has a FROM, an
--   aggregate, a UNION or a subquery) is parsed, analysed and planned
--   again every time the statement that calls it runs, and a plpgsql
--   caller runs that statement once per intake. Profiled with perf while
--   tests/bench_milter drove cpr-milter (8 connections, empty history),
--   fmgr_sql was 40% of all the machine's CPU: 60% of PostgreSQL's, half
--   of it in the parser and planner. plpgsql keeps each statement's plan
--   for the session (a generic plan after five calls), so the work is
--   done once per connection. tests/explain.test checks the generic
--   plans with auto_explain for sequential scans, as before.
--
--   The bodies are the old queries, unchanged; a scalar function returns
--   its query's first row, as a SQL function did.
--
--   A cached plan is only as good as the statistics it was made with. A
--   connection that starts while the tables are nearly empty caches seq
--   scans, and keeps them as the tables grow until an ANALYZE comes: in
--   contrib/bench.sh at HISTORY=0 the rate fell pair by pair (481, 419,
--   353, 326, 296 msgs/s) with 6M tuples read by seq scans in 4000
--   messages. Every lookup of the intake has its index
--   (tests/explain.test), so cpr.intake now plans with enable_seqscan =
--   off: the index plan whatever the statistics. A table with no usable
--   index still gets its seq scan; the setting only prices it out.
-- DIAGNOSTICS
--   None new.
-- REPLACES cpr.find_thread3 (012_authority.sql)
-- REPLACES cpr.our_reply_tracking (012_authority.sql)
-- REPLACES cpr.reply_token (012_authority.sql)
-- REPLACES cpr.is_reporter (012_authority.sql)
-- REPLACES cpr.sender_addresses (012_authority.sql)
-- REPLACES cpr.reporters_add_opened (012_authority.sql)
-- REPLACES cpr.unknown_trackings (007_evidence.sql)
-- REPLACES cpr.autoreply_count_all (014_trust.sql)
-- REPLACES cpr.autoreply_count_domain (014_trust.sql)
-- REPLACES cpr.autoreply_count_sender (014_trust.sql)
-- REPLACES cpr.safe_timestamptz (007_evidence.sql, 017_flat.sql)

ALTER FUNCTION cpr.intake(text, text, text, jsonb, text, jsonb, text, text, text, text, text,
                          jsonb, text, bigint, text, text, jsonb, jsonb, jsonb, jsonb)
    SET enable_seqscan = off;

CREATE OR REPLACE FUNCTION cpr.find_thread3(p_subject text, p_in_reply_to text,
    p_refs text[], p_dsn_refs text[], p_ours_only boolean,
    OUT case_id bigint, OUT via text, OUT ours boolean)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    SELECT hits.id, hits.via, hits.ours INTO case_id, via, ours FROM (
        SELECT c.id, 'tracking number ' || t.m[1] || ' in the Subject' AS via,
               false AS ours, 0 AS pref, t.n::double precision AS ord
        FROM regexp_matches(coalesce(p_subject, ''),
                 '(?:^|[^A-Za-z0-9])(CPR-[0-9]{4}-[0-9]{6,})(?![A-Za-z0-9])', 'g')
                 WITH ORDINALITY AS t(m, n)
        JOIN cpr.cases c ON c.tracking = t.m[1]
        UNION ALL
        SELECT m.case_id, 'In-Reply-To/References name a stored message', false, 1,
               -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (array_append(p_refs, p_in_reply_to))
          AND m.direction = 'inbound'
        UNION ALL
        SELECT m.case_id, 'In-Reply-To/References name our staff reply', true, 1,
               -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (array_append(p_refs, p_in_reply_to))
          AND m.direction = 'outbound'
        UNION ALL
        SELECT c.id, 'In-Reply-To/References name our auto-reply', true, 2, 0
        FROM unnest(array_append(p_refs, p_in_reply_to)) AS r(id)
        JOIN cpr.cases c ON c.tracking = cpr.our_reply_tracking(r.id)
        UNION ALL
        SELECT m.case_id, 'the bounced original is our staff reply', true, 3,
               -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (p_dsn_refs) AND m.direction = 'outbound'
        UNION ALL
        SELECT c.id, 'bounce of our auto-reply for ' || c.tracking, true, 3, 0
        FROM unnest(p_dsn_refs) AS r(id)
        JOIN cpr.cases c ON c.tracking = cpr.our_reply_tracking(r.id)
    ) hits
    WHERE hits.ours OR NOT p_ours_only
    ORDER BY hits.pref, hits.ord LIMIT 1;
END
$$;

CREATE OR REPLACE FUNCTION cpr.our_reply_tracking(p_id text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT r.m[1]
            FROM regexp_match(p_id, '^(CPR-[0-9]{4}-[0-9]{6,})\.([0-9a-f]{32})\.autoreply@') AS r(m)
            WHERE r.m[2] = cpr.reply_token(r.m[1]));
END
$$;

CREATE OR REPLACE FUNCTION cpr.reply_token(p_tracking text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT left(encode(sha256(k.key || convert_to(p_tracking, 'UTF8')), 'hex'), 32)
            FROM cpr.reply_key k LIMIT 1);
END
$$;

CREATE OR REPLACE FUNCTION cpr.is_reporter(p_case_id bigint, p_senders text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM cpr.reporters r
                   WHERE r.case_id = p_case_id AND r.address = ANY (p_senders));
END
$$;

CREATE OR REPLACE FUNCTION cpr.sender_addresses(p_env_from text, p_headers jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT a) FILTER (WHERE a ~ '^[^@[:space:]]+@[^@[:space:]]+$'
                                                      AND length(a) <= 320), '{}')
        FROM (SELECT cpr.header_address((
                  SELECT h->>1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_headers) = 'array'
                                                              THEN p_headers ELSE '[]' END)
                                      WITH ORDINALITY AS t(h, n)
                  WHERE jsonb_typeof(h) = 'array' AND lower(h->>0) = 'from'
                  ORDER BY n LIMIT 1)) AS a
              UNION ALL
              SELECT lower(p_env_from) WHERE cpr.plain_envelope(p_env_from)) s);
END
$$;

CREATE OR REPLACE FUNCTION cpr.reporters_add_opened(p_case_id bigint, p_senders text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cpr.reporters (case_id, address, source, actor)
    SELECT p_case_id, a, 'opened', 'cpr-milter' FROM unnest(p_senders) AS a
    ON CONFLICT DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION cpr.unknown_trackings(p_subject text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(DISTINCT t.m[1]), '{}')
            FROM regexp_matches(coalesce(p_subject, ''),
                     '(?:^|[^A-Za-z0-9])(CPR-[0-9]{4}-[0-9]{6,})(?![A-Za-z0-9])', 'g') AS t(m)
            WHERE NOT EXISTS (SELECT 1 FROM cpr.cases c WHERE c.tracking = t.m[1]));
END
$$;

CREATE OR REPLACE FUNCTION cpr.autoreply_count_all(p_since timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM cpr.outbox o
            WHERE o.state <> 'skipped' AND o.created_at > p_since);
END
$$;

CREATE OR REPLACE FUNCTION cpr.autoreply_count_domain(p_domain text, p_since timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM cpr.outbox o
            WHERE o.to_domain = p_domain AND o.state <> 'skipped' AND o.created_at > p_since);
END
$$;

CREATE OR REPLACE FUNCTION cpr.autoreply_count_sender(p_to text, p_since timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM cpr.outbox o
            WHERE lower(o.to_addr) = p_to AND o.state <> 'skipped' AND o.created_at > p_since);
END
$$;

-- The parts are computed once; evidence_time and evidence_time_parts
-- are then inlined into this function's cached expression.
CREATE OR REPLACE FUNCTION cpr.safe_timestamptz(p text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    t integer[] := cpr.evidence_time_parts(p);
BEGIN
    RETURN cpr.evidence_time(t);
END
$$;

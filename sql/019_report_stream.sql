-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   019_report_stream.sql - cprctl report streams a year of cases
-- SUMMARY
--   New: cpr.case_json_of(cases, bigint, timestamptz), the view
--   cpr.audit_case_rows (SELECT for cpr_staff), cpr.audit_from(text) and
--   cpr.audit_until(text). Redefines cpr.case_json (replaces
--   005_sweeper.sql's) over case_json_of, with the same fields. Drops
--   cpr.audit_cases (011_audit_columns.sql), whose one caller was
--   cprctl report.
-- DESCRIPTION
--   cpr.audit_cases was a set-returning function: PostgreSQL computes
--   such a function's whole result before it returns the first row, so
--   single-row mode streamed nothing. It also built cpr.case_show for
--   every case, with messages, evidence, reporters and links the report
--   never reads. At 1M messages (about 350k cases in a year) the first
--   row came later than cprctl's 120 s query timeout.
--
--   The view is one plain query, so it streams: rows leave the server as
--   the index scan on cases_received_idx (received_at, id) finds them,
--   in the order the report prints them, with no sort. Its table reads
--   are checked against its owner, and every function it calls reads no
--   table and is inlined, so it runs as fast as the query written out.
--   cpr_staff could already read every case through cpr.case_show.
--   Measured at 100k messages (35k cases in the year), database time:
--   case_show 0.39 ms a case; a SQL function of case_json and the events
--   0.21 ms (an executor per call, twice); this view 0.10 ms.
--
--   case_json_of holds case_json's field list, so that the view and
--   case_json (case_show, case_list) print one shape.
--
--   audit_from and audit_until keep audit_cases' reading of the range:
--   UTC, and a bare date as --to includes that day.
-- DIAGNOSTICS
--   A malformed date raises invalid_datetime_format, as before.
-- REPLACES cpr.case_json (003_queries.sql, 005_sweeper.sql)

DROP FUNCTION IF EXISTS cpr.audit_cases(text, text);

-- A case as JSON, given its message count and latest message time.
CREATE FUNCTION cpr.case_json_of(c cpr.cases, p_message_count bigint,
                                 p_last_message_at timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'tracking', c.tracking,
        'received_at', cpr.utc_text(c.received_at),
        'kind', c.kind,
        'category', c.category,
        'state', c.state,
        'flags', to_jsonb(c.flags),
        'reporter', c.reporter,
        'subject', c.subject,
        'message_count', p_message_count,
        'last_message_at', cpr.utc_text(p_last_message_at),
        'ack_clock_from', cpr.utc_text(c.ack_clock_from),
        'acked_at', cpr.utc_text(c.acked_at),
        'reporter_done_at', cpr.utc_text(c.reporter_done_at),
        'subscriber_done_at', cpr.utc_text(c.subscriber_done_at),
        'subscriber_waiver', c.subscriber_waiver,
        'br_item', c.br_item,
        'crl_reason', c.crl_reason,
        'revocation_due_at', cpr.utc_text(c.received_at + CASE
            WHEN c.br_item BETWEEN 1 AND 5 THEN interval '24 hours'
            WHEN c.br_item BETWEEN 6 AND 16 THEN interval '120 hours' END),
        'revoked_at', cpr.utc_text(c.revoked_at),
        'closed_at', cpr.utc_text(c.closed_at),
        'resolution', c.resolution,
        'incident_due_at', cpr.utc_text(c.incident_due_at))
$$;

CREATE OR REPLACE FUNCTION cpr.case_json(c cpr.cases) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT cpr.case_json_of(c, count(m.id), max(m.received_at))
    FROM cpr.messages m
    WHERE m.case_id = c.id
$$;

-- What the compliance report reads of a case: case_json and its events.
CREATE VIEW cpr.audit_case_rows AS
    SELECT c.received_at, c.id,
           cpr.case_json_of(c, m.n, m.last_at) || jsonb_build_object('events', ev.events) AS c
    FROM cpr.cases c
    CROSS JOIN LATERAL (SELECT count(*) AS n, max(m.received_at) AS last_at
                        FROM cpr.messages m WHERE m.case_id = c.id) m
    CROSS JOIN LATERAL (SELECT coalesce(jsonb_agg(cpr.event_json(e) ORDER BY e.seq),
                                        '[]'::jsonb) AS events
                        FROM cpr.events e WHERE e.case_id = c.id) ev
    WHERE c.kind <> 'automated';

CREATE FUNCTION cpr.audit_from(p_from text) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = cpr, pg_temp SET "TimeZone" = 'UTC' AS $$
    SELECT p_from::timestamptz
$$;

CREATE FUNCTION cpr.audit_until(p_to text) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = cpr, pg_temp SET "TimeZone" = 'UTC' AS $$
    SELECT p_to::timestamptz
           + CASE WHEN btrim(p_to) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN interval '1 day'
                  ELSE interval '0' END
$$;

-- The view's helpers read no table; run as the caller, they are inlined.
REVOKE ALL ON FUNCTION cpr.case_json_of(cpr.cases, bigint, timestamptz),
    cpr.audit_from(text), cpr.audit_until(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.case_json_of(cpr.cases, bigint, timestamptz),
    cpr.event_json(cpr.events), cpr.utc_text(timestamptz),
    cpr.audit_from(text), cpr.audit_until(text) TO cpr_staff;
REVOKE ALL ON cpr.audit_case_rows FROM PUBLIC;
GRANT SELECT ON cpr.audit_case_rows TO cpr_staff;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   011_audit_columns.sql - verify-audit checks the case columns too; report dates
-- SUMMARY
--   SELECT * FROM cpr.audit_rows(NULL);   -- audit_chain() plus each case's columns
-- DESCRIPTION
--   The clock facts on cpr.cases (reporter_done_at, br_item, state, ...)
--   are plain columns: the database owner can UPDATE them without touching
--   an event. audit_rows returns what audit_chain (009) does, and on the
--   first row of each case the columns the events set, as JSON with
--   times to the microsecond (audit_columns), so that cprctl verify-audit
--   replays the events it has just hash-checked and names every column
--   that is not what they say (auditchain.h).
--
--   audit_cases is redefined: --from and --to may carry a UTC offset
--   ("2026-03-01T00:00:00+02:00"); a time without one is UTC, and a bare
--   DATE is a UTC day (whole, as --to). 009 cast to timestamp, which
--   dropped the offset.
--
--   SECURITY DEFINER with a pinned search_path (and TimeZone, for the
--   casts); EXECUTE is granted to cpr_staff only. Nothing here writes.
-- DIAGNOSTICS
--   audit_cases raises on a --from or --to that is not a time.
-- REPLACES cpr.audit_cases (009_audit.sql)

CREATE FUNCTION cpr.utc_text_us(p timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The columns an event sets (sql/002, 005, 008), to the microsecond.
CREATE FUNCTION cpr.audit_columns(c cpr.cases) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_build_object(
        'received_at', cpr.utc_text_us(c.received_at),
        'ack_clock_from', cpr.utc_text_us(c.ack_clock_from),
        'acked_at', cpr.utc_text_us(c.acked_at),
        'reporter_done_at', cpr.utc_text_us(c.reporter_done_at),
        'subscriber_done_at', cpr.utc_text_us(c.subscriber_done_at),
        'subscriber_waiver', c.subscriber_waiver,
        'br_item', c.br_item,
        'crl_reason', c.crl_reason,
        'revoked_at', cpr.utc_text_us(c.revoked_at),
        'state', c.state,
        'closed_at', cpr.utc_text_us(c.closed_at),
        'resolution', c.resolution)
$$;

-- As cpr.audit_chain, with the case's columns on its first row (NULL on
-- the others, so a long chain does not repeat them).
CREATE FUNCTION cpr.audit_rows(p_tracking text)
RETURNS TABLE (tracking text, audit_head text, seq integer, prev_hash text,
               hash text, canonical text, columns jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.tracking, encode(c.audit_head, 'hex'), e.seq, encode(e.prev_hash, 'hex'),
           encode(e.hash, 'hex'),
           encode(cpr.event_canonical(c.tracking, e.seq, e.at, e.actor, e.type,
                                      e.message_id, e.data), 'hex'),
           CASE WHEN e.seq IS NULL OR e.seq = (SELECT min(x.seq) FROM cpr.events x
                                               WHERE x.case_id = c.id)
                THEN cpr.audit_columns(c) END
    FROM cpr.cases c LEFT JOIN cpr.events e ON e.case_id = c.id
    WHERE p_tracking IS NULL OR c.tracking = p_tracking
    ORDER BY c.id, e.seq, e.id
$$;

-- The cases the auditor's report covers: received in [from, to), full
-- detail, automated mail left out. TimeZone is pinned to UTC, so a time
-- without an offset is UTC and one with an offset is read with it; a
-- bare date is a UTC day, and as p_to it counts whole.
CREATE OR REPLACE FUNCTION cpr.audit_cases(p_from text, p_to text) RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp SET TimeZone = 'UTC' AS $$
    SELECT cpr.case_show(c.tracking)
    FROM cpr.cases c
    WHERE c.kind <> 'automated'
      AND c.received_at >= p_from::timestamptz
      AND c.received_at < p_to::timestamptz
          + CASE WHEN btrim(p_to) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN interval '1 day'
                 ELSE interval '0' END
    ORDER BY c.received_at, c.id
$$;

REVOKE EXECUTE ON FUNCTION cpr.utc_text_us(timestamptz), cpr.audit_columns(cpr.cases),
    cpr.audit_rows(text), cpr.audit_cases(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.audit_rows(text), cpr.audit_cases(text, text) TO cpr_staff;

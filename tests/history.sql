-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   history.sql - years of CPR-address history, generated in SQL
-- SUMMARY
--   psql -v n=100000 -f tests/history.sql cpr     (as the owner, a superuser)
-- DESCRIPTION
--   Appends :n inbound messages over the two years before now to cpr.*:
--   n/2 cases (70% reports, 30% automated mail; all closed and answered
--   but the newest 1%, or :open if set, which are open with their clocks
--   running), so every case has two messages; one "received"
--   event per message; a certificate evidence row on every fifth message
--   (SPKIs repeat every 5000, so "also in" has hits); an outbox row for
--   each case. 10% of the messages have no Message-ID. Bodies, senders,
--   Message-IDs and tracking numbers are distinct, as years of real mail
--   are. Tracking numbers are CPR-YYYY-1NNNNNNNN (nine digits), which the
--   tracking sequence does not reach. The tables are insert-only; triggers
--   are skipped (session_replication_role = replica) so that a million
--   rows take seconds, not a NOTIFY each. Ends with ANALYZE.
--   Used by tests/explain.test (100k) and contrib/bench.sh (HISTORY=).
-- DIAGNOSTICS
--   psql -v ON_ERROR_STOP=1 stops at the first error.

\if :{?open}
\else
\set open 0
\endif
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE hist_base ON COMMIT DROP AS SELECT
    (SELECT coalesce(max(id), 0) FROM cpr.cases) AS c0,
    (SELECT coalesce(max(id), 0) FROM cpr.messages) AS m0,
    greatest(:n::bigint / 2, 1) AS nc,
    :n::bigint AS nm,
    CASE WHEN :open::bigint > 0 THEN :open::bigint ELSE greatest(:n::bigint / 200, 1) END AS nopen,
    date_trunc('milliseconds', clock_timestamp()) - interval '1 hour' AS t_end,
    interval '730 days' / greatest(:n::bigint, 1) AS step;

-- Case g (0-based) opens with message g; message g + nc is its follow-up.
INSERT INTO cpr.cases (tracking, received_at, kind, category, state, flags, reporter,
                       subject, ack_clock_from, acked_at, reporter_done_at,
                       subscriber_done_at, closed_at, resolution, audit_head)
SELECT 'CPR-' || to_char(r.at AT TIME ZONE 'UTC', 'YYYY') || '-1' || lpad((b.c0 + g)::text, 8, '0'),
       r.at, CASE WHEN g % 10 < 3 THEN 'automated' ELSE 'new-report' END,
       (ARRAY['key-compromise', 'misissuance', 'revocation-request', 'abuse', 'other'])[1 + g % 5],
       CASE WHEN g >= b.nc - b.nopen THEN 'open' ELSE 'closed' END, '{}',
       'sender' || g || '@example' || (g % 1000) || '.net', 'history report ' || g,
       r.at, CASE WHEN g < b.nc - b.nopen THEN r.at + interval '10 minutes' END,
       CASE WHEN g < b.nc - b.nopen THEN r.at + interval '3 hours' END,
       CASE WHEN g < b.nc - b.nopen THEN r.at + interval '5 hours' END,
       CASE WHEN g >= b.nc - b.nopen THEN NULL ELSE r.at + interval '2 days' END,
       CASE WHEN g >= b.nc - b.nopen THEN NULL ELSE 'history' END,
       sha256(int8send(b.c0 + g))
FROM hist_base b, generate_series(0, b.nc - 1) AS g,
     LATERAL (SELECT b.t_end - (b.nm - g) * b.step AS at) r
ORDER BY g;

INSERT INTO cpr.messages (case_id, received_at, kind, category, flags, reasons, queue_id,
    message_id, refs, env_from, rcpts, client_addr, helo, subject, headers,
    body_sha256, body_bytes, copy)
SELECT b.c0 + 1 + g % b.nc, b.t_end - (b.nm - g) * b.step,
       CASE WHEN g >= b.nc THEN 'follow-up'
            WHEN g % 10 < 3 THEN 'automated' ELSE 'new-report' END,
       (ARRAY['key-compromise', 'misissuance', 'revocation-request', 'abuse', 'other'])[1 + g % b.nc % 5],
       '{}', '{}', 'H' || lpad(to_hex(b.m0 + g), 10, '0'),
       CASE WHEN g % 10 = 9 THEN NULL ELSE 'hist' || (b.m0 + g) || '@example.net' END,
       '{}', 'sender' || g % b.nc || '@example' || (g % b.nc % 1000) || '.net',
       '{cpr@ca.example}', '192.0.2.' || g % 250, 'mx.example.net',
       'history report ' || g % b.nc, '[]'::jsonb,
       sha256(int8send(-(b.m0 + g))), 2000 + g % 5000,
       jsonb_build_object('subject', 'history report ' || g % b.nc)
FROM hist_base b, generate_series(0, b.nm - 1) AS g
ORDER BY g;

INSERT INTO cpr.events (case_id, seq, at, actor, type, message_id, data, prev_hash, hash)
SELECT b.c0 + 1 + g % b.nc, 1 + g / b.nc, b.t_end - (b.nm - g) * b.step, 'cpr-milter',
       'received', b.m0 + 1 + g, jsonb_build_object('history', true),
       CASE WHEN g >= b.nc THEN sha256(int8send(g - b.nc)) END, sha256(int8send(g))
FROM hist_base b, generate_series(0, b.nm - 1) AS g;

INSERT INTO cpr.evidence (case_id, message_id, kind, sha256, spki_sha256, serial,
    issuer, subject, not_before, not_after, key_type, reason)
SELECT b.c0 + 1 + g % b.nc, b.m0 + 1 + g, 'certificate',
       encode(sha256(int8send(g % 20000)), 'hex'), encode(sha256(int8send(g % 5000 + 7)), 'hex'),
       to_hex(b.m0 + g), 'CN=History CA', 'CN=host' || g || '.example', b.t_end - interval '900 days',
       b.t_end + interval '90 days', 'EC P-256', 'certificate'
FROM hist_base b, generate_series(0, b.nm - 1, 5) AS g;

INSERT INTO cpr.outbox (case_id, message_id, created_at, to_addr, to_domain, state,
                        attempts, sent_at)
SELECT b.c0 + 1 + g, b.m0 + 1 + g, b.t_end - (b.nm - g) * b.step,
       'sender' || g || '@example' || (g % 1000) || '.net', 'example' || (g % 1000) || '.net',
       CASE WHEN g % 10 < 3 THEN 'skipped' ELSE 'sent' END, 1, b.t_end - (b.nm - g) * b.step
FROM hist_base b, generate_series(0, b.nc - 1) AS g;
COMMIT;
RESET session_replication_role;
ANALYZE cpr.cases;
ANALYZE cpr.messages;
ANALYZE cpr.events;
ANALYZE cpr.evidence;
ANALYZE cpr.outbox;

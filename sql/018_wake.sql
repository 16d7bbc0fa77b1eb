-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   018_wake.sql - commits that do not wait on each other: no NOTIFY per
--   intake, a lock per message instead of per body, an O(open) sweep
-- SUMMARY
--   Drops the cases_notify trigger and cpr.notify_sweeper (005_sweeper.sql).
--   Redefines cpr.intake (replaces 012_authority.sql's, which replaced
--   007_evidence.sql's, which replaced 002_intake.sql's) and
--   cpr.sweep_cases (replaces 005_sweeper.sql's). New partial indexes on
--   cpr.cases. case_json, message_json, event_json and evidence_json
--   (009_audit.sql) inherit their caller's search_path.
-- DESCRIPTION
--   Measured with pgbench running cpr.intake, 8 clients, empty history:
--     * The row trigger cases_notify sent a NOTIFY for every insert and
--       update of a case: twice per intake. At commit a NOTIFY takes the
--       one notification-queue lock of the cluster, so commits queued
--       behind it one by one instead of sharing an fsync. Without it:
--       705 -> 818 tps (3 alternating pairs, +14% to +19%). cpr-sweeper
--       now looks for new rows in cpr.events every [sweeper] wake_poll
--       (default 500 ms) with one index range scan (milter/wake.h);
--       every change a sweeper acts on appends an event.
--     * The body-hash advisory lock of 002 was held through the commit,
--       so distinct messages with one body (a form letter, smtp-source)
--       waited on each other. The lock key is now the body hash and the
--       Message-ID: it serialises exactly the copies find_redelivery
--       would call one message, and with no Message-ID the body alone,
--       as before.
--     * sweep_cases read every case (kind <> 'automated' OR'd with a
--       now()-relative range cannot use an index): 0.7 s a pass at 1M.
--       It is now two index branches: the open reports
--       (cases_sweep_open_idx) and the reports closed since a cutoff
--       computed once (cases_closed_idx on closed_at; an index predicate
--       cannot hold now()). O(open + closed in the last 7 days).
--     * The four *_json helpers pinned search_path, so they were never
--       inlined and each call set and reset it: they run only inside
--       SECURITY DEFINER callers that pin it. A report over 14k cases
--       8.1 s -> 6.6 s. Bodies unchanged.
-- DIAGNOSTICS
--   None new.
-- REPLACES cpr.sweep_cases (005_sweeper.sql)
-- REPLACES cpr.intake (002_intake.sql, 007_evidence.sql, 012_authority.sql)

DROP TRIGGER IF EXISTS cases_notify ON cpr.cases;
DROP FUNCTION IF EXISTS cpr.notify_sweeper();

CREATE INDEX cases_sweep_open_idx ON cpr.cases (id)
    WHERE state = 'open' AND kind <> 'automated';
CREATE INDEX cases_closed_idx ON cpr.cases (closed_at) WHERE state = 'closed';

-- As in 005_sweeper.sql: open reports, and reports closed in the last 7
-- days (whose open alerts the sweeper resolves).
CREATE OR REPLACE FUNCTION cpr.sweep_cases()
RETURNS TABLE (case_id bigint, tracking text, category text, subject text,
               received_at bigint, ack_clock_from bigint, acked_at bigint,
               reporter_done_at bigint, subscriber_done_at bigint,
               br_item integer, revoked_at bigint, closed_at bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_cut timestamptz := clock_timestamp() - interval '7 days';
BEGIN
    RETURN QUERY
    SELECT c.id, c.tracking, c.category, c.subject, epoch_ms(c.received_at),
           epoch_ms(c.ack_clock_from), epoch_ms(c.acked_at),
           epoch_ms(c.reporter_done_at), epoch_ms(c.subscriber_done_at),
           c.br_item, epoch_ms(c.revoked_at), NULL::bigint
    FROM cpr.cases c
    WHERE c.state = 'open' AND c.kind <> 'automated'
    UNION ALL
    SELECT c.id, c.tracking, c.category, c.subject, epoch_ms(c.received_at),
           epoch_ms(c.ack_clock_from), epoch_ms(c.acked_at),
           epoch_ms(c.reporter_done_at), epoch_ms(c.subscriber_done_at),
           c.br_item, epoch_ms(c.revoked_at), epoch_ms(c.closed_at)
    FROM cpr.cases c
    WHERE c.state = 'closed' AND c.closed_at > v_cut AND c.kind <> 'automated'
    ORDER BY 1;
END
$$;

ALTER FUNCTION cpr.case_json(cpr.cases) RESET search_path;
ALTER FUNCTION cpr.message_json(cpr.messages) RESET search_path;
ALTER FUNCTION cpr.event_json(cpr.events) RESET search_path;
ALTER FUNCTION cpr.evidence_json(cpr.evidence) RESET search_path;

CREATE OR REPLACE FUNCTION cpr.intake(
        p_queue_id text, p_message_id text, p_in_reply_to text, p_refs jsonb,
        p_env_from text, p_rcpts jsonb, p_client_addr text, p_client_name text,
        p_helo text, p_auth_authen text, p_subject text, p_headers jsonb,
        p_body_sha256 text, p_body_bytes bigint, p_kind text, p_category text,
        p_flags jsonb, p_reasons jsonb, p_reply jsonb, p_report jsonb DEFAULT NULL)
RETURNS TABLE (tracking text, received_at text, kind text, category text,
               redelivery boolean, autoreply text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now     timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_sha     bytea := decode(p_body_sha256, 'hex');
    v_msg     bigint;
    v_case    cpr.cases%ROWTYPE;
    v_kind    text := p_kind;
    v_thread  bigint;
    v_via     text;
    v_ours    boolean;
    v_named   bigint;
    v_senders text[] := cpr.sender_addresses(p_env_from, p_headers);
    v_reasons text[] := cpr.json_text_array(p_reasons);
    v_ev_err  text;
BEGIN
    IF p_kind NOT IN ('new-report', 'automated') THEN
        RAISE EXCEPTION 'cpr.intake: bad kind %', p_kind;
    END IF;
    -- Serialise concurrent copies of one message (two MX hosts at once):
    -- the same Message-ID and body, or, with no Message-ID, the same body.
    -- Distinct messages with one body (a form letter) no longer wait on
    -- each other's commit.
    PERFORM pg_advisory_xact_lock(hashtextextended(
        p_body_sha256 || coalesce(' ' || p_message_id, ''), 0));

    v_msg := cpr.find_redelivery(p_message_id, p_env_from, p_subject, v_sha, v_now);
    IF v_msg IS NOT NULL THEN
        RETURN QUERY SELECT * FROM cpr.intake_redelivery(v_msg, p_queue_id, v_now);
        RETURN;
    END IF;

    SELECT t.case_id, t.via, t.ours INTO v_thread, v_via, v_ours
    FROM cpr.find_thread3(p_subject, p_in_reply_to, cpr.json_text_array(p_refs),
                          cpr.json_text_array(p_report->'dsn_refs'),
                          p_kind = 'automated') t;
    IF v_thread IS NOT NULL AND p_kind = 'new-report'
       AND NOT cpr.is_reporter(v_thread, v_senders) THEN
        v_named := v_thread;     -- a stranger names the case: never act on it
        v_thread := NULL;
    END IF;
    IF v_thread IS NOT NULL THEN
        SELECT * INTO v_case FROM cpr.cases c WHERE c.id = v_thread FOR UPDATE;
        v_reasons := v_reasons || ('threaded onto ' || v_case.tracking || ': ' || v_via);
        IF p_kind = 'new-report' THEN
            v_kind := 'follow-up';
            PERFORM cpr.intake_follow_up(v_case, v_now);
        END IF;
    ELSE
        v_reasons := v_reasons || ARRAY(SELECT 'tracking number ' || u
            || ' in the Subject is unknown: handled as a new report'
            FROM unnest(cpr.unknown_trackings(p_subject)) AS u);
        IF v_named IS NOT NULL THEN
            v_reasons := v_reasons || ('names '
                || (SELECT c.tracking FROM cpr.cases c WHERE c.id = v_named)
                || ', not from its reporter: a new case, linked to it (' || v_via || ')');
        END IF;
        v_case := cpr.intake_open_case(v_now, p_kind, p_category, p_flags,
                                       p_env_from, p_subject);
        PERFORM cpr.reporters_add_opened(v_case.id, v_senders);
    END IF;

    INSERT INTO cpr.messages (case_id, received_at, kind, category, flags, reasons,
        queue_id, message_id, in_reply_to, refs, env_from, rcpts, client_addr,
        client_name, helo, auth_authen, subject, headers, body_sha256, body_bytes,
        copy, priority, spam)
    VALUES (v_case.id, v_now, v_kind, p_category, cpr.json_text_array(p_flags),
        v_reasons, p_queue_id, p_message_id, p_in_reply_to,
        cpr.json_text_array(p_refs), p_env_from, cpr.json_text_array(p_rcpts),
        p_client_addr, p_client_name, p_helo, p_auth_authen, p_subject,
        coalesce(p_headers, '[]'::jsonb), v_sha, p_body_bytes,
        p_report->'copy', coalesce(p_report->>'priority', 'normal'),
        cpr.json_text_array(p_report->'spam'))
    RETURNING id INTO v_msg;
    -- Belt and braces: evidence that still cannot be stored is said in the
    -- received event, and the report is taken in regardless.
    BEGIN
        PERFORM cpr.store_evidence(v_case.id, v_msg, p_report->'evidence');
    EXCEPTION WHEN OTHERS THEN
        v_ev_err := SQLERRM;
    END;
    IF v_thread IS NOT NULL AND v_kind = 'follow-up' THEN
        PERFORM cpr.intake_recategorise(v_case, p_category, v_msg, v_now);
    END IF;

    PERFORM cpr.append_event(v_case.id, 'cpr-milter', 'received', v_msg,
        jsonb_strip_nulls(jsonb_build_object('queue_id', p_queue_id, 'kind', v_kind,
                           'category', p_category, 'flags', coalesce(p_flags, '[]'::jsonb),
                           'reasons', to_jsonb(v_reasons),
                           'evidence', jsonb_array_length(CASE WHEN
                               jsonb_typeof(p_report->'evidence') = 'array'
                               THEN p_report->'evidence' ELSE '[]'::jsonb END),
                           'evidence_error', v_ev_err,
                           'message_id', p_message_id,
                           'body_sha256', p_body_sha256,
                           'body_bytes', p_body_bytes)),
        v_now);
    IF v_named IS NOT NULL THEN
        PERFORM cpr.intake_link(v_case, v_named, v_via, v_msg, v_now);
    END IF;

    RETURN QUERY SELECT v_case.tracking, cpr.utc_text(v_now), v_kind, p_category, false,
        cpr.queue_autoreply(v_case.id, v_msg, v_kind, p_reply, v_now);
END
$$;


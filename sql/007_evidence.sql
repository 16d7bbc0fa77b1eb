-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   007_evidence.sql - the stored copy of each report and its evidence
-- DESCRIPTION
--   cpr-milter now understands what it records (see milter/report.c):
--     * messages.copy holds the decoded, redacted copy of an inbound
--       message (text parts with every private-key block replaced by a
--       marker, attachments as metadata and SHA-256): never raw MIME, never
--       a private key;
--     * cpr.evidence holds one row per certificate, CSR, key (its public
--       half only), crt.sh link, fingerprint or serial found in it, indexed
--       so that staff can find every case naming the same key;
--     * messages.priority/spam show upstream spam signals, which only
--       lower the priority and never drop a message or stop a clock.
--   cpr.intake gains p_report (copy, evidence, DSN references, priority,
--   spam) in one JSON argument.

ALTER TABLE cpr.messages ADD COLUMN copy jsonb;
ALTER TABLE cpr.messages ADD COLUMN priority text NOT NULL DEFAULT 'normal'
    CHECK (priority IN ('normal', 'low'));
ALTER TABLE cpr.messages ADD COLUMN spam text[] NOT NULL DEFAULT '{}';

CREATE TABLE cpr.evidence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cpr.cases (id),
    message_id    bigint NOT NULL REFERENCES cpr.messages (id),
    kind          text NOT NULL CHECK (kind IN ('certificate', 'csr', 'private-key',
                      'private-key-encrypted', 'private-key-truncated', 'crtsh',
                      'fingerprint', 'serial')),
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),        -- certificate
    spki_sha256   text CHECK (spki_sha256 ~ '^[0-9a-f]{64}$'),
    serial        text CHECK (serial ~ '^[0-9a-f]{1,128}$'),
    issuer        text,
    subject       text,
    sans          text,
    not_before    timestamptz,
    not_after     timestamptz,
    key_type      text,
    value         text,            -- crt.sh "id=123", fingerprint or serial as found
    sig_ok        boolean,
    proof         text CHECK (proof IN ('pock', 'csr', 'pwnedkeys')),
    reason        text NOT NULL
);
CREATE INDEX evidence_case_idx ON cpr.evidence (case_id);
CREATE INDEX evidence_message_idx ON cpr.evidence (message_id);
CREATE INDEX evidence_sha256_idx ON cpr.evidence (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX evidence_spki_idx ON cpr.evidence (spki_sha256) WHERE spki_sha256 IS NOT NULL;
CREATE INDEX evidence_serial_idx ON cpr.evidence (serial) WHERE serial IS NOT NULL;
CREATE INDEX evidence_value_idx ON cpr.evidence (kind, value) WHERE value IS NOT NULL;
CREATE TRIGGER evidence_immutable BEFORE UPDATE OR DELETE ON cpr.evidence
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_evidence BEFORE TRUNCATE ON cpr.evidence
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();
REVOKE ALL ON cpr.evidence FROM PUBLIC;

-- A stored message never changes after intake, except its redelivery
-- count (001 guarded only the receipt time).
CREATE FUNCTION cpr.guard_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n cpr.messages := NEW;
BEGIN
    n.redeliveries := OLD.redeliveries;
    IF n IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'cpr: stored message % is immutable (only its redelivery count changes)',
            OLD.id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER messages_immutable BEFORE UPDATE ON cpr.messages
    FOR EACH ROW EXECUTE FUNCTION cpr.guard_message();

-- The case this message threads onto, and how (rule 2 of 002_intake.sql,
-- extended): a tracking number in the Subject; In-Reply-To/References
-- naming a message we stored or an auto-reply we sent (its Message-ID is
-- <TRACKING.autoreply@domain>, see milter/autoreply.c); or, for a bounce,
-- the same ids taken from the DSN's attached original.
CREATE FUNCTION cpr.find_thread2(p_subject text, p_in_reply_to text, p_refs text[],
        p_dsn_refs text[], OUT case_id bigint, OUT via text)
LANGUAGE sql STABLE AS $$
    SELECT id, via FROM (
        SELECT c.id, 'tracking number ' || t.m[1] || ' in the Subject' AS via,
               0 AS pref, t.n::double precision AS ord
        FROM regexp_matches(coalesce(p_subject, ''),
                 '(?:^|[^A-Za-z0-9])(CPR-[0-9]{4}-[0-9]{6,})(?![A-Za-z0-9])', 'g')
                 WITH ORDINALITY AS t(m, n)
        JOIN cpr.cases c ON c.tracking = t.m[1]
        UNION ALL
        SELECT m.case_id, 'In-Reply-To/References name a stored message', 1,
               -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (array_append(p_refs, p_in_reply_to))
        UNION ALL
        SELECT c.id, 'In-Reply-To/References name our auto-reply', 2, 0
        FROM unnest(array_append(p_refs, p_in_reply_to)) AS r(id)
        JOIN cpr.cases c ON c.tracking = substring(r.id FROM '^(CPR-[0-9]{4}-[0-9]{6,})\.autoreply@')
        UNION ALL
        SELECT m.case_id, 'the bounced original is a message of this case', 3,
               -extract(epoch FROM m.received_at)
        FROM cpr.messages m
        WHERE m.message_id = ANY (p_dsn_refs)
        UNION ALL
        SELECT c.id, 'bounce of our auto-reply for ' || c.tracking, 3, 0
        FROM unnest(p_dsn_refs) AS r(id)
        JOIN cpr.cases c ON c.tracking = substring(r.id FROM '^(CPR-[0-9]{4}-[0-9]{6,})\.autoreply@')
    ) hits
    ORDER BY pref, ord LIMIT 1
$$;

-- Tracking numbers in the Subject that name no case: said as a reason.
CREATE FUNCTION cpr.unknown_trackings(p_subject text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT t.m[1]), '{}')
    FROM regexp_matches(coalesce(p_subject, ''),
             '(?:^|[^A-Za-z0-9])(CPR-[0-9]{4}-[0-9]{6,})(?![A-Za-z0-9])', 'g') AS t(m)
    WHERE NOT EXISTS (SELECT 1 FROM cpr.cases c WHERE c.tracking = t.m[1])
$$;

-- A time from message content, or NULL when it is none PostgreSQL takes.
CREATE FUNCTION cpr.safe_timestamptz(p text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN p::timestamptz;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$;

-- One evidence row per item of p_evidence (report_evidence_json()). Every
-- value comes from hostile content: what does not fit its column is
-- stored as NULL (an unknown kind is skipped), so a strange certificate
-- can never fail the intake and lose the report.
CREATE FUNCTION cpr.store_evidence(p_case_id bigint, p_msg bigint, p_evidence jsonb)
RETURNS integer LANGUAGE sql AS $$
    WITH ins AS (
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
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_evidence) = 'array'
                                       THEN p_evidence ELSE '[]'::jsonb END) AS e
        WHERE e->>'kind' IN ('certificate', 'csr', 'private-key', 'private-key-encrypted',
                             'private-key-truncated', 'crtsh', 'fingerprint', 'serial')
        RETURNING 1)
    SELECT count(*)::integer FROM ins
$$;

-- A follow-up that brings better evidence (say, the key after a question)
-- moves the case out of "other"; the change is an audit event.
CREATE FUNCTION cpr.intake_recategorise(p_case cpr.cases, p_category text,
        p_msg bigint, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_case.category = p_category
       OR NOT (p_case.category = 'other' OR p_category = 'key-compromise') THEN
        RETURN;
    END IF;
    UPDATE cpr.cases SET category = p_category WHERE id = p_case.id;
    PERFORM cpr.append_event(p_case.id, 'cpr-milter', 'recategorised', p_msg,
        jsonb_build_object('from', p_case.category, 'to', p_category), p_now);
END
$$;

DROP FUNCTION cpr.intake(text, text, text, jsonb, text, jsonb, text, text, text,
    text, text, jsonb, text, bigint, text, text, jsonb, jsonb, jsonb);

-- As in 002_intake.sql, plus p_report: {"copy": {...}, "evidence": [...],
-- "dsn_refs": [...], "priority": "normal"|"low", "spam": [...]}.
CREATE FUNCTION cpr.intake(
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
    v_reasons text[] := cpr.json_text_array(p_reasons);
    v_ev_err  text;
BEGIN
    IF p_kind NOT IN ('new-report', 'automated') THEN
        RAISE EXCEPTION 'cpr.intake: bad kind %', p_kind;
    END IF;
    -- Serialise concurrent copies of one body (e.g. two MX hosts at once).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_body_sha256, 0));

    v_msg := cpr.find_redelivery(p_message_id, p_env_from, p_subject, v_sha, v_now);
    IF v_msg IS NOT NULL THEN
        RETURN QUERY SELECT * FROM cpr.intake_redelivery(v_msg, p_queue_id, v_now);
        RETURN;
    END IF;

    SELECT t.case_id, t.via INTO v_thread, v_via
    FROM cpr.find_thread2(p_subject, p_in_reply_to, cpr.json_text_array(p_refs),
                          cpr.json_text_array(p_report->'dsn_refs')) t;
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
        v_case := cpr.intake_open_case(v_now, p_kind, p_category, p_flags,
                                       p_env_from, p_subject);
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

    RETURN QUERY SELECT v_case.tracking, cpr.utc_text(v_now), v_kind, p_category, false,
        cpr.queue_autoreply(v_case.id, v_msg, v_kind, p_reply, v_now);
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.intake(text, text, text, jsonb, text, jsonb,
    text, text, text, text, text, jsonb, text, bigint, text, text, jsonb, jsonb, jsonb,
    jsonb)
    TO cpr_milter;
GRANT SELECT ON cpr.evidence TO cpr_staff, cpr_sweeper;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   012_authority.sql - who may act on a case by mail
-- DESCRIPTION
--   Mail that names a case (its tracking number in the Subject, or a
--   Message-ID of the case in In-Reply-To/References) used to act on it,
--   whoever sent it. Now:
--     * The reporter set of a case is explicit (cpr.reporters, insert-only):
--       the sender of the message that opened it (its From address, and
--       its envelope sender when that is a plain address: SRS, VERP and
--       BATV rewrite envelope senders, so From decides), and addresses
--       staff add (cprctl reporter add). Mail never adds to it.
--     * Mail from a reporter that names the case is a follow-up, as before.
--     * Mail from anyone else that names a case never changes it: not its
--       acknowledgement, clocks, state, category or reporter set. It opens
--       a new case, with clocks of its own, linked to the one it names
--       (cpr.case_links; a 'linked' event on both) and flagged
--       "names CPR-..., not from its reporter".
--     * Automated mail (bounces, out-of-office replies) attaches to a case
--       only when it quotes a Message-ID that we sent: an auto-reply, whose
--       Message-ID now carries a keyed token (cpr.reply_token), or a staff
--       reply recorded by cpr.record_outbound. A forged bounce opens an
--       automated case of its own, with no clocks.
--     * Staff replies count as responses to the reporter only for
--       addresses in the reporter set (cpr.reporter_addresses).
-- REPLACES
--   cpr.intake (007_evidence.sql), cpr.reporter_addresses (008_staff_mail.sql),
--   cpr.outbox_claim (006_autoreply.sql; it also returns the reply token),
--   cpr.case_show (009_audit.sql; it also returns reporters and links).
--   cpr.find_thread2 (007) is no longer called: cpr.find_thread3 replaces it.
-- REPLACES cpr.reporter_addresses (008_staff_mail.sql)
-- REPLACES cpr.intake (002_intake.sql, 007_evidence.sql)
-- REPLACES cpr.case_show (003_queries.sql, 009_audit.sql)

CREATE TABLE cpr.reporters (
    case_id   bigint NOT NULL REFERENCES cpr.cases (id),
    address   text NOT NULL CHECK (address = lower(address) AND address ~ '^[^@[:space:]]+@[^@[:space:]]+$'
                                   AND length(address) <= 320),
    source    text NOT NULL CHECK (source IN ('opened', 'staff')),
    actor     text NOT NULL,
    db_user   text NOT NULL DEFAULT session_user,
    added_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (case_id, address)
);
CREATE TRIGGER reporters_immutable BEFORE UPDATE OR DELETE ON cpr.reporters
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_reporters BEFORE TRUNCATE ON cpr.reporters
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();

-- case_id names names_case without being from its reporter.
CREATE TABLE cpr.case_links (
    case_id     bigint NOT NULL REFERENCES cpr.cases (id),
    names_case  bigint NOT NULL REFERENCES cpr.cases (id),
    via         text NOT NULL,
    message_id  bigint REFERENCES cpr.messages (id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (case_id, names_case)
);
CREATE INDEX case_links_names_idx ON cpr.case_links (names_case);
CREATE TRIGGER case_links_immutable BEFORE UPDATE OR DELETE ON cpr.case_links
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();

-- Outbound staff mail is looked up by Message-ID (bounces, replies).
CREATE INDEX messages_outbound_msgid_idx ON cpr.messages (message_id)
    WHERE direction = 'outbound';

-- The key of the auto-reply Message-ID tokens: random, readable by the
-- owner only (the SECURITY DEFINER functions).
CREATE TABLE cpr.reply_key (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    key  bytea NOT NULL CHECK (octet_length(key) = 32)
);
INSERT INTO cpr.reply_key (key)
SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                         || gen_random_uuid()::text, 'UTF8'));
REVOKE ALL ON cpr.reply_key FROM PUBLIC;

-- 128 bits of keyed hash of the tracking number: <TRACKING.TOKEN.autoreply@...>
-- cannot be guessed from the sequential tracking number.
CREATE FUNCTION cpr.reply_token(p_tracking text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT left(encode(sha256(k.key || convert_to(p_tracking, 'UTF8')), 'hex'), 32)
    FROM cpr.reply_key k
$$;

-- The tracking number of an auto-reply Message-ID we made, or NULL.
CREATE FUNCTION cpr.our_reply_tracking(p_id text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT r.m[1]
    FROM regexp_match(p_id, '^(CPR-[0-9]{4}-[0-9]{6,})\.([0-9a-f]{32})\.autoreply@') AS r(m)
    WHERE r.m[2] = cpr.reply_token(r.m[1])
$$;

-- The address of a header value: the one in <...>, else the first bare one.
CREATE FUNCTION cpr.header_address(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(coalesce(
        substring(p_value FROM '<([^<>@[:space:]]+@[^<>@[:space:]]+)>'),
        substring(p_value FROM '([A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+)')))
$$;

-- An envelope sender that names its sender: not null, not rewritten by
-- SRS, BATV or VERP (an '=' in the local part).
CREATE FUNCTION cpr.plain_envelope(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p ~ '^[^@=[:space:]]+@[^@[:space:]]+$'
                    AND p !~* '^(srs[01]|prvs|btv1|msprvs1)[=+-]', false)
$$;

-- Who sent a message, as the reporter rule reads it.
CREATE FUNCTION cpr.sender_addresses(p_env_from text, p_headers jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(DISTINCT a) FILTER (WHERE a ~ '^[^@[:space:]]+@[^@[:space:]]+$'
                                                  AND length(a) <= 320), '{}')
    FROM (SELECT cpr.header_address((
              SELECT h->>1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_headers) = 'array'
                                                          THEN p_headers ELSE '[]' END)
                                  WITH ORDINALITY AS t(h, n)
              WHERE jsonb_typeof(h) = 'array' AND lower(h->>0) = 'from'
              ORDER BY n LIMIT 1)) AS a
          UNION ALL
          SELECT lower(p_env_from) WHERE cpr.plain_envelope(p_env_from)) s
$$;

CREATE FUNCTION cpr.is_reporter(p_case_id bigint, p_senders text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM cpr.reporters r
                   WHERE r.case_id = p_case_id AND r.address = ANY (p_senders))
$$;

CREATE FUNCTION cpr.reporters_add_opened(p_case_id bigint, p_senders text[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO cpr.reporters (case_id, address, source, actor)
    SELECT p_case_id, a, 'opened', 'cpr-milter' FROM unnest(p_senders) AS a
    ON CONFLICT DO NOTHING
$$;

-- Staff-reply matching (record_outbound) reads the reporter set.
CREATE OR REPLACE FUNCTION cpr.reporter_addresses(p_case_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(r.address ORDER BY r.address), '{}')
    FROM cpr.reporters r WHERE r.case_id = p_case_id
$$;

-- The case this message names, how, and whether by a Message-ID we sent.
-- With p_ours_only (automated mail), only Message-IDs we sent count.
CREATE FUNCTION cpr.find_thread3(p_subject text, p_in_reply_to text, p_refs text[],
        p_dsn_refs text[], p_ours_only boolean,
        OUT case_id bigint, OUT via text, OUT ours boolean)
LANGUAGE sql STABLE AS $$
    SELECT id, via, ours FROM (
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
    WHERE ours OR NOT p_ours_only
    ORDER BY pref, ord LIMIT 1
$$;

-- A stranger's mail names p_named: link the new case to it, both ways.
CREATE FUNCTION cpr.intake_link(p_case cpr.cases, p_named bigint, p_via text,
        p_msg bigint, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_named text := (SELECT c.tracking FROM cpr.cases c WHERE c.id = p_named);
BEGIN
    INSERT INTO cpr.case_links (case_id, names_case, via, message_id)
    VALUES (p_case.id, p_named, p_via, p_msg);
    PERFORM cpr.append_event(p_case.id, 'cpr-milter', 'linked', p_msg,
        jsonb_build_object('names', v_named, 'via', p_via,
                           'reason', 'not from its reporter'), p_now);
    PERFORM cpr.append_event(p_named, 'cpr-milter', 'linked', NULL,
        jsonb_build_object('named_by', p_case.tracking, 'via', p_via,
                           'reason', 'not from its reporter'), p_now);
END
$$;

-- As in 007_evidence.sql, with the reporter rule: a report naming a case
-- is a follow-up only from one of its reporters; otherwise a new, linked
-- case. Automated mail attaches only by a Message-ID we sent.
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
    -- Serialise concurrent copies of one body (e.g. two MX hosts at once).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_body_sha256, 0));

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

-- Every existing case gets the reporter set of the message that opened it.
INSERT INTO cpr.reporters (case_id, address, source, actor)
SELECT c.id, a, 'opened', 'migration 012'
FROM cpr.cases c
CROSS JOIN LATERAL (SELECT m.env_from, m.headers FROM cpr.messages m
                    WHERE m.case_id = c.id AND m.direction = 'inbound'
                    ORDER BY m.received_at, m.id LIMIT 1) f
CROSS JOIN LATERAL unnest(cpr.sender_addresses(f.env_from, f.headers)) AS a
ON CONFLICT DO NOTHING;

-- Staff add a reporter (a co-reporter, a changed address). Returns
-- 'added' or 'already'.
CREATE FUNCTION cpr.reporter_add(p_tracking text, p_address text, p_actor text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE;
    v_addr text := lower(btrim(p_address));
BEGIN
    IF v_addr !~ '^[^@[:space:]<>"]+@[^@[:space:]<>"]+$' OR length(v_addr) > 320 THEN
        RAISE EXCEPTION 'cpr.reporter_add: % is not a mail address', p_address;
    END IF;
    c := cpr.case_for_action(p_tracking);
    INSERT INTO cpr.reporters (case_id, address, source, actor)
    VALUES (c.id, v_addr, 'staff', p_actor) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'already';
    END IF;
    PERFORM cpr.append_event(c.id, p_actor, 'reporter_added', NULL,
        jsonb_build_object('address', v_addr));
    RETURN 'added';
END
$$;

-- The auto-reply's Message-ID token joins what a claim returns.
DROP FUNCTION cpr.outbox_claim(text, integer, integer);
CREATE FUNCTION cpr.outbox_claim(p_worker text, p_lease_ms integer, p_limit integer)
RETURNS TABLE (outbox_id bigint, attempts integer, to_addr text, tracking text,
               received_at text, report_due_at text, subject text, category text,
               message_id text, references_hdr text, reply_token text)
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH ready AS (
        SELECT o.id FROM cpr.outbox o
        WHERE o.state IN ('pending', 'sending')
          AND o.next_attempt_at <= clock_timestamp()
          AND (o.state = 'pending' OR o.lease_until < clock_timestamp())
        ORDER BY o.next_attempt_at, o.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE cpr.outbox o
        SET state = 'sending', claimed_by = p_worker, attempts = o.attempts + 1,
            lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
        FROM ready WHERE o.id = ready.id
        RETURNING o.*)
    SELECT o.id, o.attempts, o.to_addr, c.tracking, utc_text(m.received_at),
           utc_text(c.received_at + interval '24 hours'), m.subject, c.category,
           m.message_id,
           (SELECT string_agg('<' || r || '>', ' ' ORDER BY n)
            FROM unnest(m.refs) WITH ORDINALITY AS t(r, n)),
           cpr.reply_token(c.tracking)
    FROM claimed o JOIN cpr.cases c ON c.id = o.case_id
    JOIN cpr.messages m ON m.id = o.message_id
    ORDER BY o.id
$$;

-- show gains the reporter set and the links, both ways.
CREATE OR REPLACE FUNCTION cpr.case_show(p_tracking text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT cpr.case_json(c) || jsonb_build_object(
        'reasons', coalesce((SELECT to_jsonb(m.reasons) FROM cpr.messages m
                             WHERE m.case_id = c.id AND m.direction = 'inbound'
                             ORDER BY m.received_at, m.id LIMIT 1), '[]'::jsonb),
        'reporters', (SELECT coalesce(jsonb_agg(r.address || CASE WHEN r.source = 'staff'
                                          THEN ' (added by ' || r.actor || ')' ELSE '' END
                                      ORDER BY r.added_at, r.address), '[]'::jsonb)
                      FROM cpr.reporters r WHERE r.case_id = c.id),
        'names', (SELECT coalesce(jsonb_agg(n.tracking ORDER BY l.at), '[]'::jsonb)
                  FROM cpr.case_links l JOIN cpr.cases n ON n.id = l.names_case
                  WHERE l.case_id = c.id),
        'named_by', (SELECT coalesce(jsonb_agg(n.tracking ORDER BY l.at), '[]'::jsonb)
                     FROM cpr.case_links l JOIN cpr.cases n ON n.id = l.case_id
                     WHERE l.names_case = c.id),
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.reporters, cpr.case_links, cpr.reply_key FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.outbox_claim(text, integer, integer) TO cpr_milter;
GRANT EXECUTE ON FUNCTION cpr.reporter_add(text, text, text) TO cpr_staff;
GRANT EXECUTE ON FUNCTION cpr.case_show(text) TO cpr_staff, cpr_sweeper;
GRANT SELECT ON cpr.reporters, cpr.case_links TO cpr_staff, cpr_sweeper;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   028_inventory.sql - from a report's evidence to every affected certificate
-- SUMMARY
--   New tables cpr.affected, cpr.lookups, cpr.subscribers and
--   cpr.inventory_alerts; functions cpr.lookup_claim, cpr.lookup_evidence,
--   cpr.lookup_done, cpr.lookup_failed, cpr.lookup_next_ms,
--   cpr.inventory_alert_claim, cpr.inventory_alert_done, cpr.affected_list,
--   cpr.blocklist and cpr.verified_key().
-- DESCRIPTION
--   cpr-sweeper's lookup worker (milter/sweeper/lookup.c) looks each new
--   report's evidence up in the CA's certificate inventory ([inventory] in
--   cpr-milter.conf), off the SMTP path:
--     * Every evidence row a lookup can use (certificate, serial,
--       fingerprint, key, CSR) marks its case due in cpr.lookups, by a
--       statement trigger: intake does no more than one small upsert.
--     * cpr.lookup_claim leases due cases to one sweeper (SKIP LOCKED);
--       the lease expires, so a sweeper that dies loses nothing.
--     * cpr.lookup_done stores what was found in cpr.affected (one row per
--       case and certificate, with how it was found and from which
--       source), the Subscriber contacts in cpr.subscribers, and one
--       'lookup' event. Evidence that names no certificate of ours flags
--       the case ("no certificate of ours found for serial 04:3a...": seen
--       in cprctl show and list) and opens a 'not-found' page.
--     * cpr.lookup_failed (a source down) makes the case due again after
--       the back-off the worker computed; each failure is an event, and
--       the fifth in a row opens a 'lookup-failing' page.
--     * A case with a verified compromised key (cpr.verified_key) stays
--       due every [inventory] key_recheck: a certificate on that key found
--       later, or issued (notBefore) after the report, opens an
--       'issued-after-report' page, since the blocklist failed. Rechecks
--       append an event only when they find something new.
--   The published-revocation columns of cpr.affected (ocsp_*, crl_*,
--   revoked_at, reason, checked_at, why, check_*) are filled by the
--   revocation worker; only they may change after the insert.
--   A key is verified compromised (cpr.verified_key, cprctl blocklist)
--   only on proof: a private key whose private half signs for its public
--   half (sig_ok: a block can pair anyone's public key with made-up
--   private values), or a CSR/PoCK/pwnedkeys proof whose self-signature
--   verifies (sig_ok).
--   A bare CSR, a failed signature or words are never enough.
--   Staff-reply matching (cpr.outbound_roles, 008_staff_mail.sql) learns
--   the Subscribers: a recipient who is both a reporter of the case and
--   one of its Subscribers from the inventory (a Subscriber reporting its
--   own certificate) is a response to both, so one reply stops both
--   preliminary-report clocks. Any other non-internal recipient still
--   counts as the Subscriber, as before.
--   Open cases that already hold evidence are made due once here.
-- REPLACES cpr.outbound_roles (008_staff_mail.sql)
-- DIAGNOSTICS
--   cpr.affected rejects a change of any column but the revocation ones;
--   cpr.subscribers rejects every change.

-- ---- the affected certificates ---------------------------------------------------
CREATE TABLE cpr.affected (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cpr.cases (id),
    cert_sha256     text NOT NULL CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    serial          text NOT NULL CHECK (serial ~ '^[0-9a-f]{1,128}$'),
    issuer          text NOT NULL CHECK (length(issuer) <= 1024),
    subject         text NOT NULL CHECK (length(subject) <= 1024),
    sans            text CHECK (length(sans) <= 4096),
    spki_sha256     text CHECK (spki_sha256 ~ '^[0-9a-f]{64}$'),
    not_before      timestamptz,
    not_after       timestamptz,
    precert         boolean NOT NULL DEFAULT false,
    der             bytea CHECK (octet_length(der) <= 65536),
    found_kind      text NOT NULL CHECK (found_kind IN ('certificate', 'serial', 'fingerprint',
                        'private-key', 'csr', 'pock', 'pwnedkeys', 'issuer-serial')),
    found_value     text NOT NULL CHECK (length(found_value) <= 300),
    evidence_id     bigint REFERENCES cpr.evidence (id),
    source          text NOT NULL CHECK (length(source) <= 64),
    subscriber      text CHECK (length(subscriber) <= 320),
    found_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    after_report    boolean NOT NULL DEFAULT false,  -- on a compromised key, issued later
    -- published revocation (the revocation worker fills these)
    ocsp_state      text CHECK (ocsp_state IN ('good', 'revoked', 'unknown', 'none')),
    ocsp_revoked_at timestamptz,
    ocsp_reason     text,
    ocsp_checked_at timestamptz,
    ocsp_why        text,
    crl_state       text CHECK (crl_state IN ('good', 'revoked', 'unknown', 'none')),
    crl_revoked_at  timestamptz,
    crl_reason      text,
    crl_checked_at  timestamptz,
    crl_why         text,
    revoked_at      timestamptz,     -- latest publication seen, once every mechanism shows it
    reason          text,
    checked_at      timestamptz,
    why             text,
    check_due_at    timestamptz,
    check_claimed_by text,
    check_lease_until timestamptz,
    check_attempts  integer NOT NULL DEFAULT 0,
    UNIQUE (case_id, cert_sha256)
);
CREATE INDEX affected_sha256_idx ON cpr.affected (cert_sha256);
CREATE INDEX affected_spki_idx ON cpr.affected (spki_sha256) WHERE spki_sha256 IS NOT NULL;
CREATE INDEX affected_check_due_idx ON cpr.affected (check_due_at)
    WHERE check_due_at IS NOT NULL;

-- Only the revocation columns change after the insert; nothing is deleted.
CREATE FUNCTION cpr.guard_affected() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n cpr.affected := NEW;
BEGIN
    n.ocsp_state := OLD.ocsp_state; n.ocsp_revoked_at := OLD.ocsp_revoked_at;
    n.ocsp_reason := OLD.ocsp_reason; n.ocsp_checked_at := OLD.ocsp_checked_at;
    n.ocsp_why := OLD.ocsp_why;
    n.crl_state := OLD.crl_state; n.crl_revoked_at := OLD.crl_revoked_at;
    n.crl_reason := OLD.crl_reason; n.crl_checked_at := OLD.crl_checked_at;
    n.crl_why := OLD.crl_why;
    n.revoked_at := OLD.revoked_at; n.reason := OLD.reason;
    n.checked_at := OLD.checked_at; n.why := OLD.why;
    n.check_due_at := OLD.check_due_at; n.check_claimed_by := OLD.check_claimed_by;
    n.check_lease_until := OLD.check_lease_until; n.check_attempts := OLD.check_attempts;
    IF n IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'cpr: affected certificate % is immutable (only its revocation status changes)',
            OLD.id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER affected_guard BEFORE UPDATE ON cpr.affected
    FOR EACH ROW EXECUTE FUNCTION cpr.guard_affected();
CREATE TRIGGER affected_no_delete BEFORE DELETE ON cpr.affected
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_affected BEFORE TRUNCATE ON cpr.affected
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();

-- ---- Subscribers, from the inventory -----------------------------------------------
CREATE TABLE cpr.subscribers (
    case_id   bigint NOT NULL REFERENCES cpr.cases (id),
    address   text NOT NULL CHECK (address = lower(address) AND address ~ '^[^@[:space:]]+@[^@[:space:]]+$'
                                   AND length(address) <= 320),
    source    text NOT NULL CHECK (length(source) <= 64),
    cert_sha256 text NOT NULL CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    added_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (case_id, address)
);
CREATE TRIGGER subscribers_immutable BEFORE UPDATE OR DELETE ON cpr.subscribers
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_subscribers BEFORE TRUNCATE ON cpr.subscribers
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();

-- ---- the lookup queue: one row per case -----------------------------------------------
CREATE TABLE cpr.lookups (
    case_id        bigint PRIMARY KEY REFERENCES cpr.cases (id),
    due_at         timestamptz,                -- NULL: nothing to do
    attempts       integer NOT NULL DEFAULT 0, -- failures in a row
    last_error     text,
    claimed_by     text,
    lease_until    timestamptz,
    first_done_at  timestamptz,
    last_done_at   timestamptz,
    keys_seen      text[] NOT NULL DEFAULT '{}'  -- verified SPKIs looked up so far
);
CREATE INDEX lookups_due_idx ON cpr.lookups (due_at) WHERE due_at IS NOT NULL;

-- The evidence kinds a lookup can use.
CREATE FUNCTION cpr.lookup_kind(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_kind IN ('certificate', 'serial', 'fingerprint', 'private-key', 'csr')
$$;

-- The evidence proves its SPKI's private key is compromised.
CREATE FUNCTION cpr.verified_key(e cpr.evidence) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT e.spki_sha256 IS NOT NULL AND e.sig_ok IS TRUE
       AND (e.kind = 'private-key' OR e.proof IN ('csr', 'pwnedkeys', 'pock'))
$$;

CREATE FUNCTION cpr.lookups_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- one row per case (DISTINCT before the clock: each call differs)
    INSERT INTO cpr.lookups AS l (case_id, due_at)
    SELECT d.case_id, clock_timestamp()
    FROM (SELECT DISTINCT n.case_id FROM new_evidence n WHERE cpr.lookup_kind(n.kind)) d
    ON CONFLICT (case_id) DO UPDATE SET due_at = clock_timestamp(), attempts = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER evidence_lookup AFTER INSERT ON cpr.evidence
    REFERENCING NEW TABLE AS new_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.lookups_mark();

INSERT INTO cpr.lookups (case_id, due_at)
SELECT d.case_id, clock_timestamp()
FROM (SELECT DISTINCT e.case_id FROM cpr.evidence e JOIN cpr.cases c ON c.id = e.case_id
      WHERE c.state = 'open' AND cpr.lookup_kind(e.kind)) d;

-- ---- pages ---------------------------------------------------------------------------
CREATE TABLE cpr.inventory_alerts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cpr.cases (id),
    kind         text NOT NULL CHECK (kind IN ('not-found', 'issued-after-report',
                                               'lookup-failing')),
    summary      text NOT NULL CHECK (length(summary) <= 2000),
    opened_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    paged_at     timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    next_try_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_by   text,
    lease_until  timestamptz
);
CREATE INDEX inventory_alerts_due_idx ON cpr.inventory_alerts (next_try_at)
    WHERE paged_at IS NULL;
CREATE INDEX inventory_alerts_case_idx ON cpr.inventory_alerts (case_id, kind);

-- ---- the worker's calls ---------------------------------------------------------------
-- Up to p_limit due cases, leased to p_worker for p_lease_ms. recheck: the
-- case was looked up before (a key recheck or new evidence).
CREATE FUNCTION cpr.lookup_claim(p_worker text, p_lease_ms integer, p_limit integer)
RETURNS TABLE (case_id bigint, tracking text, received_ms bigint, category text,
               attempts integer, recheck boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF p_lease_ms <= 0 OR p_limit <= 0 OR p_limit > 1000 THEN
        RAISE EXCEPTION 'lookup_claim: bad bounds' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT l.case_id FROM cpr.lookups l
        WHERE l.due_at IS NOT NULL AND l.due_at <= v_now
          AND (l.lease_until IS NULL OR l.lease_until < v_now)
        ORDER BY l.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED),
    upd AS (
        UPDATE cpr.lookups l SET claimed_by = p_worker,
            lease_until = v_now + p_lease_ms * interval '1 ms'
        FROM due WHERE l.case_id = due.case_id
        RETURNING l.case_id, l.attempts, l.first_done_at)
    SELECT u.case_id, c.tracking, epoch_ms(c.received_at), c.category, u.attempts,
           u.first_done_at IS NOT NULL
    FROM upd u JOIN cpr.cases c ON c.id = u.case_id
    ORDER BY u.case_id;
END
$$;

-- The case's evidence a lookup uses (at most 256 items, oldest first).
CREATE FUNCTION cpr.lookup_evidence(p_case_id bigint)
RETURNS TABLE (evidence_id bigint, kind text, sha256 text, spki_sha256 text, serial text,
               issuer text, value text, proof text, verified_key boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT e.id, e.kind, e.sha256, e.spki_sha256, e.serial, e.issuer, e.value, e.proof,
           cpr.verified_key(e)
    FROM cpr.evidence e
    WHERE e.case_id = p_case_id AND cpr.lookup_kind(e.kind)
    ORDER BY e.id LIMIT 256
$$;

-- Store one affected certificate; true if it is new to the case. Found
-- by a key that an earlier lookup of the case already asked for (p_seen),
-- or with a notBefore after the receipt, it was issued after the report.
CREATE FUNCTION cpr.lookup_store_cert(p_case cpr.cases, a jsonb, p_seen text[],
        OUT is_new boolean, OUT after_report boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_nb   timestamptz := cpr.safe_timestamptz(a->>'not_before');
    v_key  boolean := a->>'found_kind' IN ('private-key', 'csr', 'pock', 'pwnedkeys');
    v_ev   bigint := CASE WHEN a->>'evidence_id' ~ '^[0-9]{1,18}$'
                          THEN (a->>'evidence_id')::bigint END;
BEGIN
    after_report := v_key AND (coalesce(a->>'spki_sha256' = ANY (p_seen), false)
                               OR coalesce(v_nb > p_case.received_at, false));
    INSERT INTO cpr.affected (case_id, cert_sha256, serial, issuer, subject, sans,
        spki_sha256, not_before, not_after, precert, der, found_kind, found_value,
        evidence_id, source, subscriber, after_report)
    VALUES (p_case.id, a->>'sha256', a->>'serial', a->>'issuer', a->>'subject', a->>'sans',
        a->>'spki_sha256', v_nb, cpr.safe_timestamptz(a->>'not_after'),
        coalesce((a->>'precert')::boolean, false),
        CASE WHEN a->>'der' ~ '^[0-9a-f]+$' THEN decode(a->>'der', 'hex') END,
        a->>'found_kind', a->>'found_value',
        (SELECT e.id FROM cpr.evidence e WHERE e.id = v_ev AND e.case_id = p_case.id),
        a->>'source', lower(nullif(a->>'contact', '')), after_report)
    ON CONFLICT (case_id, cert_sha256) DO NOTHING;
    is_new := FOUND;
    IF is_new AND a->>'contact' ~ '^[^@[:space:]]+@[^@[:space:]]+$'
       AND length(a->>'contact') <= 320 THEN
        INSERT INTO cpr.subscribers (case_id, address, source, cert_sha256)
        VALUES (p_case.id, lower(a->>'contact'), a->>'source', a->>'sha256')
        ON CONFLICT DO NOTHING;
    END IF;
END
$$;

-- Open a page for the case unless the same one is already open or sent.
CREATE FUNCTION cpr.inventory_alert_open(p_case_id bigint, p_kind text, p_summary text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO cpr.inventory_alerts (case_id, kind, summary)
    SELECT p_case_id, p_kind, left(p_summary, 2000)
    WHERE NOT EXISTS (SELECT 1 FROM cpr.inventory_alerts a
                      WHERE a.case_id = p_case_id AND a.kind = p_kind
                        AND a.summary = left(p_summary, 2000))
$$;

-- The result of one lookup (p_result, built by milter/core/invmatch.c):
--   {"found": [{sha256, serial, issuer, subject, sans, spki_sha256,
--               not_before, not_after, precert, der (hex), contact,
--               found_kind, found_value, evidence_id, source}],
--    "missing": ["serial 04:3a...", ...], "refused": [why, ...],
--    "sources": [name, ...], "ms": elapsed}
-- Due again after p_recheck_ms if the case has a verified key, else done.
-- False if p_worker no longer holds the lease (nothing is stored).
CREATE FUNCTION cpr.lookup_done(p_case_id bigint, p_worker text, p_result jsonb,
                                p_recheck_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now     timestamptz := clock_timestamp();
    l         cpr.lookups%ROWTYPE;
    c         cpr.cases%ROWTYPE;
    a         jsonb;
    r         record;
    v_recheck boolean;
    v_new     integer := 0;
    v_after   text[] := '{}';
    v_missing text[] := '{}';
    v_flag    text;
    v_key     boolean;
    v_keys    text[];
BEGIN
    SELECT * INTO l FROM cpr.lookups x WHERE x.case_id = p_case_id FOR UPDATE;
    IF NOT FOUND OR l.claimed_by IS DISTINCT FROM p_worker OR l.lease_until < v_now THEN
        RETURN false;
    END IF;
    SELECT * INTO c FROM cpr.cases x WHERE x.id = p_case_id;
    v_recheck := l.first_done_at IS NOT NULL;
    FOR a IN SELECT * FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_result->'found') = 'array'
                                              THEN p_result->'found' ELSE '[]' END) LOOP
        r := cpr.lookup_store_cert(c, a, l.keys_seen);
        IF r.is_new THEN
            v_new := v_new + 1;
            IF r.after_report THEN
                v_after := v_after || (a->>'serial');
            END IF;
        END IF;
    END LOOP;
    FOR v_flag IN SELECT 'no certificate of ours found for ' || m
                  FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(p_result->'missing') = 'array'
                                                 THEN p_result->'missing' ELSE '[]' END) m LOOP
        v_flag := left(v_flag, 200);
        IF NOT v_flag = ANY (c.flags) AND NOT v_flag = ANY (v_missing) THEN
            v_missing := v_missing || v_flag;
        END IF;
    END LOOP;
    IF cardinality(v_missing) > 0 THEN
        UPDATE cpr.cases SET flags = flags || v_missing WHERE id = p_case_id;
        PERFORM cpr.inventory_alert_open(p_case_id, 'not-found',
            c.tracking || ': ' || array_to_string(v_missing, '; '));
    END IF;
    IF cardinality(v_after) > 0 THEN
        PERFORM cpr.inventory_alert_open(p_case_id, 'issued-after-report',
            c.tracking || ': ' || cardinality(v_after) || ' certificate(s) on the reported '
            || 'compromised key issued after the report (the blocklist failed): serial '
            || array_to_string(v_after, ', '));
    END IF;
    IF NOT v_recheck OR v_new > 0 OR cardinality(v_missing) > 0
       OR jsonb_array_length(coalesce(p_result->'refused', '[]')) > 0 THEN
        PERFORM cpr.append_event(p_case_id, 'cpr-sweeper', 'lookup', NULL,
            jsonb_strip_nulls(jsonb_build_object('outcome', 'done',
                'recheck', v_recheck, 'new', v_new,
                'total', (SELECT count(*) FROM cpr.affected x WHERE x.case_id = p_case_id),
                'after_report', CASE WHEN cardinality(v_after) > 0 THEN to_jsonb(v_after) END,
                'missing', CASE WHEN cardinality(v_missing) > 0 THEN to_jsonb(v_missing) END,
                'refused', p_result->'refused', 'sources', p_result->'sources',
                'ms', p_result->'ms', 'worker', p_worker)));
    END IF;
    v_keys := ARRAY(SELECT DISTINCT e.spki_sha256 FROM cpr.evidence e
                    WHERE e.case_id = p_case_id AND cpr.verified_key(e) ORDER BY 1);
    v_key := cardinality(v_keys) > 0;
    UPDATE cpr.lookups SET keys_seen = v_keys,
        due_at = CASE WHEN v_key AND p_recheck_ms > 0
                      THEN v_now + p_recheck_ms * interval '1 ms' END,
        attempts = 0, last_error = NULL, claimed_by = NULL, lease_until = NULL,
        first_done_at = coalesce(first_done_at, v_now), last_done_at = v_now
    WHERE case_id = p_case_id;
    RETURN true;
END
$$;

-- A lookup that could not finish (a source down): due again in p_retry_ms.
-- p_page_after failures in a row open a 'lookup-failing' page.
CREATE FUNCTION cpr.lookup_failed(p_case_id bigint, p_worker text, p_error text,
                                  p_retry_ms bigint, p_page_after integer)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_n   integer;
    v_err text := left(coalesce(p_error, 'unknown'), 500);
BEGIN
    UPDATE cpr.lookups SET attempts = attempts + 1, last_error = v_err,
        due_at = v_now + greatest(p_retry_ms, 0) * interval '1 ms',
        claimed_by = NULL, lease_until = NULL
    WHERE case_id = p_case_id AND claimed_by = p_worker AND lease_until >= v_now
    RETURNING attempts INTO v_n;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM cpr.append_event(p_case_id, 'cpr-sweeper', 'lookup', NULL,
        jsonb_build_object('outcome', 'failed', 'error', v_err, 'attempt', v_n,
                           'retry_ms', p_retry_ms, 'worker', p_worker));
    IF v_n = p_page_after THEN
        PERFORM cpr.inventory_alert_open(p_case_id, 'lookup-failing',
            (SELECT tracking FROM cpr.cases WHERE id = p_case_id)
            || ': the certificate inventory lookup failed ' || v_n
            || ' times in a row: ' || v_err);
    END IF;
    RETURN true;
END
$$;

-- In how many ms a lookup or an inventory page is due (at least 1), or NULL.
CREATE FUNCTION cpr.lookup_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, ceil(extract(epoch FROM (t - clock_timestamp())) * 1000))::bigint
    FROM (SELECT least(
            (SELECT min(greatest(l.due_at, coalesce(l.lease_until, l.due_at)))
             FROM cpr.lookups l WHERE l.due_at IS NOT NULL),
            (SELECT min(greatest(a.next_try_at, coalesce(a.lease_until, a.next_try_at)))
             FROM cpr.inventory_alerts a WHERE a.paged_at IS NULL)) AS t) s
    WHERE t IS NOT NULL
$$;

-- One inventory page due now, leased to p_worker.
CREATE FUNCTION cpr.inventory_alert_claim(p_worker text, p_lease_ms integer)
RETURNS TABLE (alert_id bigint, tracking text, kind text, summary text, opened_at text,
               attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
    a cpr.inventory_alerts%ROWTYPE;
BEGIN
    FOR a IN SELECT * FROM cpr.inventory_alerts x
             WHERE x.paged_at IS NULL AND x.next_try_at <= v_now
               AND (x.lease_until IS NULL OR x.lease_until < v_now)
             ORDER BY x.next_try_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED LOOP
        UPDATE cpr.inventory_alerts SET claimed_by = p_worker, attempts = a.attempts + 1,
            lease_until = v_now + p_lease_ms * interval '1 ms'
        WHERE id = a.id;
        RETURN QUERY SELECT a.id, c.tracking, a.kind, a.summary, cpr.utc_text(a.opened_at),
                            a.attempts + 1
                     FROM cpr.cases c WHERE c.id = a.case_id;
    END LOOP;
END
$$;

CREATE FUNCTION cpr.inventory_alert_done(p_id bigint, p_ok boolean, p_worker text,
                                         p_retry_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now  timestamptz := clock_timestamp();
    v_case bigint;
    v_kind text;
BEGIN
    UPDATE cpr.inventory_alerts SET
        paged_at = CASE WHEN p_ok THEN v_now END,
        next_try_at = CASE WHEN p_ok THEN next_try_at
                           ELSE v_now + greatest(p_retry_ms, 0) * interval '1 ms' END,
        claimed_by = NULL, lease_until = NULL
    WHERE id = p_id AND claimed_by = p_worker AND lease_until >= v_now
    RETURNING case_id, kind INTO v_case, v_kind;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p_ok THEN
        PERFORM cpr.append_event(v_case, 'cpr-sweeper', 'inventory-page', NULL,
            jsonb_build_object('kind', v_kind, 'alert', p_id));
    END IF;
    RETURN true;
END
$$;

-- ---- staff replies: a reporter who is also a Subscriber ---------------------------
CREATE OR REPLACE FUNCTION cpr.outbound_roles(p_case_id bigint, p_rcpts text[],
        p_internal text[], OUT address text, OUT role text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT r.a, x.role
    FROM (SELECT DISTINCT lower(x) AS a, min(n) AS n
          FROM unnest(p_rcpts) WITH ORDINALITY AS t(x, n) GROUP BY lower(x)) r
    CROSS JOIN LATERAL (
        SELECT cpr.domain_internal(cpr.address_domain(r.a), p_internal) AS internal,
               r.a = ANY (cpr.reporter_addresses(p_case_id)) AS reporter,
               EXISTS (SELECT 1 FROM cpr.subscribers s
                       WHERE s.case_id = p_case_id AND s.address = r.a) AS subscriber) k
    CROSS JOIN LATERAL (
        SELECT 'internal' AS role, 0 AS o WHERE k.internal
        UNION ALL SELECT 'reporter', 1 WHERE NOT k.internal AND k.reporter
        UNION ALL SELECT 'subscriber', 2 WHERE NOT k.internal
                                          AND (NOT k.reporter OR k.subscriber)) x
    ORDER BY r.n, x.o
$$;

-- ---- cprctl --------------------------------------------------------------------------
-- The affected certificates of a case, in the order found.
CREATE FUNCTION cpr.affected_list(p_tracking text) RETURNS SETOF jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'sha256', a.cert_sha256, 'serial', a.serial, 'issuer', a.issuer,
        'subject', a.subject, 'sans', a.sans, 'spki_sha256', a.spki_sha256,
        'not_before', cpr.utc_text(a.not_before), 'not_after', cpr.utc_text(a.not_after),
        'precert', a.precert, 'found_kind', a.found_kind, 'found_value', a.found_value,
        'source', a.source, 'subscriber', a.subscriber,
        'found_at', cpr.utc_text(a.found_at), 'after_report', a.after_report,
        'ocsp', jsonb_build_object('state', a.ocsp_state,
                    'revoked_at', cpr.utc_text(a.ocsp_revoked_at), 'reason', a.ocsp_reason,
                    'checked_at', cpr.utc_text(a.ocsp_checked_at), 'why', a.ocsp_why),
        'crl', jsonb_build_object('state', a.crl_state,
                    'revoked_at', cpr.utc_text(a.crl_revoked_at), 'reason', a.crl_reason,
                    'checked_at', cpr.utc_text(a.crl_checked_at), 'why', a.crl_why),
        'revoked_at', cpr.utc_text(a.revoked_at), 'reason', a.reason,
        'checked_at', cpr.utc_text(a.checked_at), 'why', a.why))
    FROM cpr.affected a JOIN cpr.cases c ON c.id = a.case_id
    WHERE c.tracking = p_tracking
    ORDER BY a.id
$$;

-- The lookup state of a case, for cprctl affected.
CREATE FUNCTION cpr.lookup_state(p_tracking text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('tracking', c.tracking,
        'state', CASE WHEN l.case_id IS NULL THEN 'no evidence to look up'
                      WHEN l.first_done_at IS NULL AND l.attempts > 0 THEN 'failing'
                      WHEN l.first_done_at IS NULL THEN 'pending'
                      ELSE 'done' END,
        'attempts', l.attempts, 'last_error', l.last_error,
        'looked_up_at', cpr.utc_text(l.last_done_at), 'due_at', cpr.utc_text(l.due_at),
        'missing', (SELECT jsonb_agg(f) FROM unnest(c.flags) f
                    WHERE f LIKE 'no certificate of ours found%'),
        'subscribers', (SELECT jsonb_agg(s.address ORDER BY s.added_at, s.address)
                        FROM cpr.subscribers s WHERE s.case_id = c.id)))
    FROM cpr.cases c LEFT JOIN cpr.lookups l ON l.case_id = c.id
    WHERE c.tracking = p_tracking
$$;

-- Every SPKI proven compromised (cpr.verified_key) in a report received at
-- or after p_since, oldest first, one row per case and key; der is one
-- certificate of ours on that key, if any (for its public key: the
-- evidence keeps only the SPKI's hash).
CREATE FUNCTION cpr.blocklist(p_since timestamptz)
RETURNS TABLE (spki_sha256 text, tracking text, evidence text, reported_at text, der bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT b.spki_sha256, b.tracking, b.evidence, cpr.utc_text(b.at),
           (SELECT a.der FROM cpr.affected a
            WHERE a.spki_sha256 = b.spki_sha256 AND a.der IS NOT NULL LIMIT 1)
    FROM (SELECT DISTINCT ON (e.spki_sha256, c.id) e.spki_sha256, c.tracking,
                 CASE WHEN e.kind = 'private-key' THEN 'private-key' ELSE e.proof END AS evidence,
                 m.received_at AS at
          FROM cpr.evidence e
          JOIN cpr.messages m ON m.id = e.message_id
          JOIN cpr.cases c ON c.id = e.case_id
          WHERE e.spki_sha256 IS NOT NULL AND cpr.verified_key(e)
            AND m.received_at >= coalesce(p_since, '-infinity')
          ORDER BY e.spki_sha256, c.id, m.received_at) b
    ORDER BY b.at, b.spki_sha256
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.affected, cpr.subscribers, cpr.lookups, cpr.inventory_alerts FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.lookup_claim(text, integer, integer),
    cpr.lookup_evidence(bigint), cpr.lookup_done(bigint, text, jsonb, bigint),
    cpr.lookup_failed(bigint, text, text, bigint, integer), cpr.lookup_next_ms(),
    cpr.inventory_alert_claim(text, integer),
    cpr.inventory_alert_done(bigint, boolean, text, bigint) TO cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.affected_list(text), cpr.lookup_state(text),
    cpr.blocklist(timestamptz) TO cpr_staff;
GRANT SELECT ON cpr.affected, cpr.subscribers, cpr.lookups, cpr.inventory_alerts
    TO cpr_staff, cpr_sweeper;

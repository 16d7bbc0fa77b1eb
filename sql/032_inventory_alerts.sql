-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   032_inventory_alerts.sql - inventory pages are resolved, and a lookup
--   reads all of a case's evidence
-- SUMMARY
--   cpr.lookups gains claimed_at; cpr.inventory_alerts (028_inventory.sql) gains resolved_at,
--   resolve_sent and resolve_attempts, the kind 'evidence-over-limit' and
--   the partial index inventory_alerts_resolve_idx; new functions
--   cpr.inventory_resolve_claim, cpr.inventory_resolve_done and
--   cpr.lookup_over_limit. Redefines cpr.lookup_evidence (now paged) and
--   cpr.lookup_next_ms (028_inventory.sql).
-- DESCRIPTION
--   Issue 16, found by an attacker:
--     * An inventory page stays open at PagerDuty/Opsgenie until resolved.
--       Once its case is closed, or acknowledged after the page went out,
--       cpr.inventory_resolve_claim leases it (one at a time, SKIP LOCKED,
--       next_try_at and the lease of the page reused: a paged row is
--       never claimed as a page again) and cpr.inventory_resolve_done
--       records it: resolved_at, and resolve_sent (false when every
--       channel has resolve = no and nothing went out), or due again after
--       the back-off. A page sent after the acknowledgement stays open
--       until the case is closed. The scan is the partial index on the
--       unresolved pages sent.
--     * cpr.lookup_evidence reads a page of the case's evidence after an
--       id (keyset, oldest first) and says how many rows there are from
--       there on (total), so cpr-sweeper reads them all up to its bound;
--       what lies past the bound is flagged on the case and paged
--       ('evidence-over-limit') by cpr.lookup_over_limit, never silently
--       dropped.
--     * Evidence that arrives while its case is being looked up (a
--       follow-up) keeps the case due: cpr.lookups.claimed_at, set by
--       cpr.lookup_claim, against the due_at the intake set meanwhile
--       (cpr.lookup_done used to clear it, and that evidence was never
--       looked up). cpr.lookup_done and cpr.lookup_failed now lock the
--       case before the lookup row, the intake's order (the other deadlocked with a follow-up).
-- REPLACES cpr.lookup_claim (028_inventory.sql)
-- REPLACES cpr.lookup_done (028_inventory.sql)
-- REPLACES cpr.lookup_failed (028_inventory.sql)
-- REPLACES cpr.lookup_next_ms (028_inventory.sql)
-- DIAGNOSTICS
--   cpr.lookup_evidence rejects p_limit outside 1..1000.

ALTER TABLE cpr.inventory_alerts
    ADD COLUMN resolved_at      timestamptz,
    ADD COLUMN resolve_sent     boolean,
    ADD COLUMN resolve_attempts integer NOT NULL DEFAULT 0,
    DROP CONSTRAINT inventory_alerts_kind_check,
    ADD CONSTRAINT inventory_alerts_kind_check CHECK (kind IN ('not-found',
        'issued-after-report', 'lookup-failing', 'evidence-over-limit'));
CREATE INDEX inventory_alerts_resolve_idx ON cpr.inventory_alerts (next_try_at)
    WHERE paged_at IS NOT NULL AND resolved_at IS NULL;

-- The alert's case is closed, or was acknowledged after the page went out.
CREATE FUNCTION cpr.inventory_alert_settled(a cpr.inventory_alerts, c cpr.cases)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT c.state = 'closed' OR coalesce(c.acked_at >= a.paged_at, false)
$$;

-- One sent inventory page whose case is settled, leased to p_worker.
CREATE FUNCTION cpr.inventory_resolve_claim(p_worker text, p_lease_ms integer)
RETURNS TABLE (alert_id bigint, tracking text, kind text, summary text, opened_at text,
               attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
    a cpr.inventory_alerts%ROWTYPE;
BEGIN
    FOR a IN SELECT x.* FROM cpr.inventory_alerts x JOIN cpr.cases c ON c.id = x.case_id
             WHERE x.paged_at IS NOT NULL AND x.resolved_at IS NULL AND x.next_try_at <= v_now
               AND (x.lease_until IS NULL OR x.lease_until < v_now)
               AND cpr.inventory_alert_settled(x, c)
             ORDER BY x.next_try_at, x.id LIMIT 1 FOR UPDATE OF x SKIP LOCKED LOOP
        UPDATE cpr.inventory_alerts SET claimed_by = p_worker,
            resolve_attempts = a.resolve_attempts + 1,
            lease_until = v_now + p_lease_ms * interval '1 ms'
        WHERE id = a.id;
        RETURN QUERY SELECT a.id, c.tracking, a.kind, a.summary, cpr.utc_text(a.opened_at),
                            a.resolve_attempts + 1
                     FROM cpr.cases c WHERE c.id = a.case_id;
    END LOOP;
END
$$;

-- p_ok: every channel took the resolve (p_sent: at least one was sent).
CREATE FUNCTION cpr.inventory_resolve_done(p_id bigint, p_ok boolean, p_sent boolean,
                                           p_worker text, p_retry_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now  timestamptz := clock_timestamp();
    v_case bigint;
    v_kind text;
BEGIN
    UPDATE cpr.inventory_alerts SET
        resolved_at = CASE WHEN p_ok THEN v_now END,
        resolve_sent = CASE WHEN p_ok THEN p_sent END,
        next_try_at = CASE WHEN p_ok THEN next_try_at
                           ELSE v_now + greatest(p_retry_ms, 0) * interval '1 ms' END,
        claimed_by = NULL, lease_until = NULL
    WHERE id = p_id AND claimed_by = p_worker AND lease_until >= v_now
      AND paged_at IS NOT NULL AND resolved_at IS NULL
    RETURNING case_id, kind INTO v_case, v_kind;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p_ok THEN
        PERFORM cpr.append_event(v_case, 'cpr-sweeper', 'inventory-resolve', NULL,
            jsonb_build_object('kind', v_kind, 'alert', p_id, 'sent', p_sent));
    END IF;
    RETURN true;
END
$$;

-- A page of the case's evidence a lookup uses: after p_after, oldest
-- first; total counts the rows from p_after on (this page included).
DROP FUNCTION cpr.lookup_evidence(bigint);
CREATE FUNCTION cpr.lookup_evidence(p_case_id bigint, p_after bigint, p_limit integer)
RETURNS TABLE (evidence_id bigint, kind text, sha256 text, spki_sha256 text, serial text,
               issuer text, value text, proof text, verified_key boolean, total bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    IF p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION 'lookup_evidence: bad limit' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT e.id, e.kind, e.sha256, e.spki_sha256, e.serial, e.issuer, e.value, e.proof,
           cpr.verified_key(e), count(*) OVER ()
    FROM cpr.evidence e
    WHERE e.case_id = p_case_id AND cpr.lookup_kind(e.kind) AND e.id > coalesce(p_after, 0)
    ORDER BY e.id LIMIT p_limit;
END
$$;

-- p_unread evidence items of the case lie past the lookup's bound: flag
-- the case and page it (p_worker must hold the lookup's lease).
CREATE FUNCTION cpr.lookup_over_limit(p_case_id bigint, p_worker text, p_unread bigint,
                                      p_limit integer)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_flag text := 'evidence not looked up: ' || p_unread || ' items over the limit of '
                   || p_limit;
    v_tracking text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM cpr.lookups l WHERE l.case_id = p_case_id
                   AND l.claimed_by = p_worker AND l.lease_until >= clock_timestamp()) THEN
        RETURN false;
    END IF;
    UPDATE cpr.cases SET flags = flags || v_flag
    WHERE id = p_case_id AND NOT v_flag = ANY (flags)
    RETURNING tracking INTO v_tracking;
    IF FOUND THEN
        PERFORM cpr.inventory_alert_open(p_case_id, 'evidence-over-limit',
            v_tracking || ': ' || v_flag);
    END IF;
    RETURN true;
END
$$;

-- ---- evidence that arrives during a lookup ----------------------------------------
-- The intake marks the case due again (cpr.lookups_mark) while a lookup
-- runs; cpr.lookup_done used to clear due_at regardless, so that evidence
-- was never looked up. The claim records when it was taken; a case marked
-- due after that stays due.
ALTER TABLE cpr.lookups ADD COLUMN claimed_at timestamptz;

CREATE OR REPLACE FUNCTION cpr.lookup_claim(p_worker text, p_lease_ms integer, p_limit integer)
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
        UPDATE cpr.lookups l SET claimed_by = p_worker, claimed_at = v_now,
            lease_until = v_now + p_lease_ms * interval '1 ms'
        FROM due WHERE l.case_id = due.case_id
        RETURNING l.case_id, l.attempts, l.first_done_at)
    SELECT u.case_id, c.tracking, epoch_ms(c.received_at), c.category, u.attempts,
           u.first_done_at IS NOT NULL
    FROM upd u JOIN cpr.cases c ON c.id = u.case_id
    ORDER BY u.case_id;
END
$$;

CREATE OR REPLACE FUNCTION cpr.lookup_done(p_case_id bigint, p_worker text, p_result jsonb,
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
    -- the case before its lookup row, as the intake locks them (it updates
    -- the case, then its evidence marks the lookup due): the other order
    -- deadlocks with a follow-up arriving during the lookup
    SELECT * INTO c FROM cpr.cases x WHERE x.id = p_case_id FOR UPDATE;
    SELECT * INTO l FROM cpr.lookups x WHERE x.case_id = p_case_id FOR UPDATE;
    IF NOT FOUND OR l.claimed_by IS DISTINCT FROM p_worker OR l.lease_until < v_now THEN
        RETURN false;
    END IF;
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
        due_at = CASE WHEN l.due_at > l.claimed_at THEN l.due_at   -- evidence came meanwhile
                      WHEN v_key AND p_recheck_ms > 0
                      THEN v_now + p_recheck_ms * interval '1 ms' END,
        attempts = 0, last_error = NULL, claimed_by = NULL, lease_until = NULL,
        first_done_at = coalesce(first_done_at, v_now), last_done_at = v_now
    WHERE case_id = p_case_id;
    RETURN true;
END
$$;

-- A failed lookup takes the locks in the same order.
CREATE OR REPLACE FUNCTION cpr.lookup_failed(p_case_id bigint, p_worker text, p_error text,
                                  p_retry_ms bigint, p_page_after integer)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_n   integer;
    v_err text := left(coalesce(p_error, 'unknown'), 500);
BEGIN
    PERFORM 1 FROM cpr.cases WHERE id = p_case_id FOR UPDATE;  -- the intake's order
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

-- In how many ms a lookup, an inventory page or its resolve is due (at
-- least 1), or NULL.
CREATE OR REPLACE FUNCTION cpr.lookup_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, ceil(extract(epoch FROM (t - clock_timestamp())) * 1000))::bigint
    FROM (SELECT least(
            (SELECT min(greatest(l.due_at, coalesce(l.lease_until, l.due_at)))
             FROM cpr.lookups l WHERE l.due_at IS NOT NULL),
            (SELECT min(greatest(a.next_try_at, coalesce(a.lease_until, a.next_try_at)))
             FROM cpr.inventory_alerts a WHERE a.paged_at IS NULL),
            (SELECT min(greatest(a.next_try_at, coalesce(a.lease_until, a.next_try_at)))
             FROM cpr.inventory_alerts a JOIN cpr.cases c ON c.id = a.case_id
             WHERE a.paged_at IS NOT NULL AND a.resolved_at IS NULL
               AND cpr.inventory_alert_settled(a, c))) AS t) s
    WHERE t IS NOT NULL
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.lookup_evidence(bigint, bigint, integer),
    cpr.lookup_over_limit(bigint, text, bigint, integer),
    cpr.inventory_resolve_claim(text, integer),
    cpr.inventory_resolve_done(bigint, boolean, boolean, text, bigint) TO cpr_sweeper;

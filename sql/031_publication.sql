-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   031_publication.sql - the revocation clock stops only on proof of
--   published revocation
-- SUMMARY
--   Fills the published-revocation columns of cpr.affected
--   (028_inventory.sql); cpr.cases.revocation_published_at;
--   cpr.revocation_stop(case), the one
--   definition of when a revocation clock stops; cpr.revwatch_* for the
--   cpr-sweeper worker (milter/sweeper/revwatch.c); cpr.revwatch_alerts,
--   pages owed by it. Redefines cpr.sweep_cases (018_wake.sql, which
--   replaced 005_sweeper.sql's) and cpr.case_json_of (019), which gains
--   revocation_published_at.
-- DESCRIPTION
--   cpr.affected holds, per case, the certificates the inventory lookup
--   found (028_inventory.sql, issue 16). Per certificate and mechanism:
--   ocsp_state / crl_state good, revoked, unknown (ocsp_why / crl_why) or
--   none (neither advertised nor configured); revoked_at is when this
--   sweeper first saw it revoked in every mechanism it has (NULL while
--   not), reason the reason published, why the first unknown's reason.
--
--   A case with affected certificates stops its revocation clock at
--   revocation_published_at, set (once) when every affected certificate
--   that is not expired has been seen revoked in every mechanism it
--   advertises or that is configured for its issuer (at least one). The
--   time recorded is the latest of the certificates' revoked_at: when
--   cpr-sweeper first saw each one revoked everywhere (the database
--   clock), never a time taken from the CA's own CRL or response. A case
--   with no affected certificates keeps the staff claim (cprctl revoked,
--   cases.revoked_at), as before issue 16; revoked_at stays the claim in
--   every case.
--
--   A certificate is due for a check (cpr.affected.check_due_at, indexed)
--   when it is new, when its case becomes watched (the revocation clock
--   runs, or staff claim revoked, and publication is not yet seen), and
--   [inventory] recheck after each check while watched. A claimed check
--   is leased to one sweeper.
-- DIAGNOSTICS
--   revwatch_store returns false when the caller no longer holds the lease.
-- REPLACES cpr.case_json_of (019_report_stream.sql)
-- REPLACES cpr.sweep_cases (005_sweeper.sql, 018_wake.sql)

ALTER TABLE cpr.cases ADD COLUMN revocation_published_at timestamptz;

-- case_json_of as in 019_report_stream.sql, plus revocation_published_at
-- (cprctl show, list and report see the publication).
CREATE OR REPLACE FUNCTION cpr.case_json_of(c cpr.cases, p_message_count bigint,
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
        'revocation_published_at', cpr.utc_text(c.revocation_published_at),
        'closed_at', cpr.utc_text(c.closed_at),
        'resolution', c.resolution,
        'incident_due_at', cpr.utc_text(c.incident_due_at))
$$;

-- When the revocation clock of c stops (NULL: it runs): publication seen
-- when the case has affected certificates, else the staff claim.
CREATE FUNCTION cpr.revocation_stop(c cpr.cases) RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM cpr.affected a WHERE a.case_id = c.id)
                THEN c.revocation_published_at ELSE c.revoked_at END
$$;

-- Watched: the revocation clock runs or a claim is unproven.
CREATE FUNCTION cpr.revwatch_watched(c cpr.cases) RETURNS boolean
LANGUAGE sql STABLE SET search_path = cpr, pg_temp AS $$
    SELECT c.revocation_published_at IS NULL
       AND (c.br_item IS NOT NULL OR c.revoked_at IS NOT NULL)
$$;

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
           c.br_item, epoch_ms(cpr.revocation_stop(c)), NULL::bigint
    FROM cpr.cases c
    WHERE c.state = 'open' AND c.kind <> 'automated'
    UNION ALL
    SELECT c.id, c.tracking, c.category, c.subject, epoch_ms(c.received_at),
           epoch_ms(c.ack_clock_from), epoch_ms(c.acked_at),
           epoch_ms(c.reporter_done_at), epoch_ms(c.subscriber_done_at),
           c.br_item, epoch_ms(cpr.revocation_stop(c)), epoch_ms(c.closed_at)
    FROM cpr.cases c
    WHERE c.state = 'closed' AND c.closed_at > v_cut AND c.kind <> 'automated'
    ORDER BY 1;
END
$$;

-- Up to p_limit certificates due for a check (check_due_at, 028's
-- indexed column: set at insert, when a case becomes watched, and to
-- now + recheck after a check while watched; NULL when nothing is owed),
-- each leased to p_worker for p_lease_ms: check_due_at moves to the
-- lease's end, so a dead sweeper's certificate falls due again then.
-- Expired certificates and closed cases owe nothing.
CREATE FUNCTION cpr.revwatch_due(p_limit integer, p_recheck_ms bigint, p_worker text,
                                 p_lease_ms bigint)
RETURNS TABLE (id bigint, tracking text, serial text, der bytea, watched boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    UPDATE cpr.affected a SET check_due_at = NULL
      FROM cpr.cases c
     WHERE a.check_due_at <= v_now AND c.id = a.case_id
       AND (a.not_after <= v_now OR c.state <> 'open');
    RETURN QUERY
    WITH due AS (
        SELECT a.id FROM cpr.affected a JOIN cpr.cases c ON c.id = a.case_id
         WHERE a.check_due_at <= v_now AND c.state = 'open'
         ORDER BY a.check_due_at, a.id
         LIMIT greatest(p_limit, 0)
         FOR UPDATE OF a SKIP LOCKED)
    UPDATE cpr.affected a SET check_claimed_by = p_worker,
           check_lease_until = v_now + p_lease_ms * interval '1 ms',
           check_due_at = v_now + p_lease_ms * interval '1 ms',
           check_attempts = a.check_attempts + 1
      FROM due, cpr.cases c
     WHERE a.id = due.id AND c.id = a.case_id
    RETURNING a.id, c.tracking, a.serial, a.der, cpr.revwatch_watched(c);
END
$$;

-- In how many ms a certificate falls due (at least 1), or NULL.
CREATE FUNCTION cpr.revwatch_next_ms(p_recheck_ms bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    -- greatest() skips NULLs: with nothing due, NULL, not 1 (which spun)
    SELECT CASE WHEN min(a.check_due_at) IS NOT NULL
                THEN greatest(1, epoch_ms(min(a.check_due_at)) - epoch_ms(clock_timestamp())) END
      FROM cpr.affected a WHERE a.check_due_at IS NOT NULL
$$;

-- New certificates are due at once.
CREATE FUNCTION cpr.revwatch_due_new() RETURNS trigger
LANGUAGE plpgsql SET search_path = cpr, pg_temp AS $$
BEGIN
    NEW.check_due_at := coalesce(NEW.check_due_at, clock_timestamp());
    RETURN NEW;
END
$$;
CREATE TRIGGER affected_due_new BEFORE INSERT ON cpr.affected
    FOR EACH ROW EXECUTE FUNCTION cpr.revwatch_due_new();

-- A case that becomes watched (confirmed, claimed revoked, reopened)
-- owes a check of each certificate now; a closed one owes none.
CREATE FUNCTION cpr.revwatch_case_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    IF NEW.state <> 'open' THEN
        UPDATE cpr.affected SET check_due_at = NULL
         WHERE case_id = NEW.id AND check_due_at IS NOT NULL;
    ELSIF cpr.revwatch_watched(NEW) THEN
        UPDATE cpr.affected SET check_due_at = clock_timestamp()
         WHERE case_id = NEW.id AND check_lease_until IS NULL
           AND (check_due_at IS NULL OR check_due_at > clock_timestamp())
           AND (not_after IS NULL OR not_after > clock_timestamp());
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_revwatch AFTER UPDATE OF br_item, revoked_at, state, revocation_published_at
    ON cpr.cases FOR EACH ROW
    WHEN (OLD.br_item IS DISTINCT FROM NEW.br_item OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.state IS DISTINCT FROM NEW.state
          OR OLD.revocation_published_at IS DISTINCT FROM NEW.revocation_published_at)
    EXECUTE FUNCTION cpr.revwatch_case_changed();

CREATE TABLE cpr.revwatch_alerts (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cpr.cases (id),
    kind         text NOT NULL CHECK (kind IN ('no-mechanism', 'claim-unpublished')),
    subject_key  text NOT NULL,          -- what the alert is about (serial, claim time)
    summary      text NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    paged_at     timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    next_try_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_by   text,
    lease_until  timestamptz,
    UNIQUE (case_id, kind, subject_key)
);
CREATE INDEX revwatch_alerts_unsent_idx ON cpr.revwatch_alerts (next_try_at)
    WHERE paged_at IS NULL;

-- Opens an alert once per (case, kind, subject); true if it is new.
CREATE FUNCTION cpr.revwatch_alert_open(p_case_id bigint, p_kind text, p_key text,
                                        p_summary text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    INSERT INTO cpr.revwatch_alerts (case_id, kind, subject_key, summary)
    VALUES (p_case_id, p_kind, p_key, p_summary)
    ON CONFLICT (case_id, kind, subject_key) DO NOTHING;
    IF FOUND THEN
        PERFORM cpr.append_event(p_case_id, 'cpr-sweeper', 'revocation-alert', NULL,
                                 jsonb_build_object('kind', p_kind, 'summary', p_summary));
    END IF;
    RETURN FOUND;
END
$$;

-- One unsent alert, leased to p_worker.
CREATE FUNCTION cpr.revwatch_alert_take(p_worker text, p_lease_ms bigint)
RETURNS TABLE (id bigint, tracking text, kind text, summary text, opened_at text,
               attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    WITH one AS (
        SELECT x.id FROM cpr.revwatch_alerts x
         WHERE x.paged_at IS NULL AND x.next_try_at <= v_now
           AND (x.lease_until IS NULL OR x.lease_until < v_now)
         ORDER BY x.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    UPDATE cpr.revwatch_alerts x SET claimed_by = p_worker, attempts = x.attempts + 1,
           lease_until = v_now + p_lease_ms * interval '1 ms'
      FROM one, cpr.cases c
     WHERE x.id = one.id AND c.id = x.case_id
    RETURNING x.id, c.tracking, x.kind, x.summary, cpr.utc_text(x.opened_at), x.attempts;
END
$$;

CREATE FUNCTION cpr.revwatch_alert_done(p_id bigint, p_ok boolean, p_worker text,
                                        p_retry_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    UPDATE cpr.revwatch_alerts SET
        paged_at = CASE WHEN p_ok THEN v_now END,
        next_try_at = CASE WHEN p_ok THEN v_now
                           ELSE v_now + greatest(p_retry_ms, 0) * interval '1 ms' END,
        claimed_by = NULL, lease_until = NULL
     WHERE id = p_id AND claimed_by = p_worker AND lease_until >= v_now;
    RETURN FOUND;
END
$$;

-- Sets revocation_published_at once every unexpired certificate of the
-- case is published (expired ones need no revocation; with none left
-- unexpired the latest expiry stands in). True when it was set now.
CREATE FUNCTION cpr.revwatch_settle(p_case_id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_at  timestamptz;
    v_n   bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM cpr.affected a
                WHERE a.case_id = p_case_id AND a.revoked_at IS NULL
                  AND (a.not_after IS NULL OR a.not_after > v_now))
       OR NOT EXISTS (SELECT 1 FROM cpr.affected a WHERE a.case_id = p_case_id) THEN
        RETURN false;
    END IF;
    SELECT coalesce(max(a.revoked_at) FILTER (WHERE a.not_after IS NULL OR a.not_after > v_now),
                    max(a.not_after)), count(*)
      INTO v_at, v_n FROM cpr.affected a WHERE a.case_id = p_case_id;
    UPDATE cpr.cases SET revocation_published_at = v_at
     WHERE id = p_case_id AND revocation_published_at IS NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM cpr.append_event(p_case_id, 'cpr-sweeper', 'revocation-published', NULL,
        jsonb_build_object('published_at', cpr.utc_text(v_at), 'certificates', v_n));
    RETURN true;
END
$$;

-- Stores one check (times in Unix ms, 0 = none) made under the lease;
-- p_published: the certificate shows revoked in every mechanism it has.
-- A change of state is an audit event. False without the lease.
CREATE FUNCTION cpr.revwatch_store(p_id bigint, p_worker text,
        p_ocsp_state text, p_ocsp_revoked_ms bigint, p_ocsp_reason text, p_ocsp_why text,
        p_crl_state text, p_crl_revoked_ms bigint, p_crl_reason text, p_crl_why text,
        p_published boolean, p_recheck_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    a     cpr.affected%ROWTYPE;
BEGIN
    SELECT * INTO a FROM cpr.affected x
     WHERE x.id = p_id AND x.check_claimed_by = p_worker AND x.check_lease_until >= v_now
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE cpr.affected SET
        ocsp_state = p_ocsp_state,
        ocsp_revoked_at = CASE WHEN p_ocsp_revoked_ms > 0
                               THEN to_timestamp(p_ocsp_revoked_ms / 1000.0) END,
        ocsp_reason = p_ocsp_reason, ocsp_why = p_ocsp_why,
        ocsp_checked_at = CASE WHEN p_ocsp_state = 'none' THEN ocsp_checked_at ELSE v_now END,
        crl_state = p_crl_state,
        crl_revoked_at = CASE WHEN p_crl_revoked_ms > 0
                              THEN to_timestamp(p_crl_revoked_ms / 1000.0) END,
        crl_reason = p_crl_reason, crl_why = p_crl_why,
        crl_checked_at = CASE WHEN p_crl_state = 'none' THEN crl_checked_at ELSE v_now END,
        checked_at = v_now,
        revoked_at = CASE WHEN p_published THEN coalesce(revoked_at, v_now) END,
        reason = CASE WHEN p_published THEN coalesce(p_crl_reason, p_ocsp_reason) END,
        why = CASE WHEN p_ocsp_state = 'none' AND p_crl_state = 'none'
                   THEN 'no mechanism: no OCSP responder and no CRL'
                   ELSE coalesce(p_ocsp_why, p_crl_why) END,
        check_claimed_by = NULL, check_lease_until = NULL, check_attempts = 0
     WHERE id = p_id;
    IF a.ocsp_state IS DISTINCT FROM p_ocsp_state OR a.crl_state IS DISTINCT FROM p_crl_state THEN
        PERFORM cpr.append_event(a.case_id, 'cpr-sweeper', 'revocation-status', NULL,
            jsonb_build_object('serial', a.serial, 'ocsp', p_ocsp_state, 'crl', p_crl_state,
                               'ocsp_why', p_ocsp_why, 'crl_why', p_crl_why));
    END IF;
    IF p_ocsp_state = 'none' AND p_crl_state = 'none' THEN
        PERFORM cpr.revwatch_alert_open(a.case_id, 'no-mechanism', a.serial,
            format('%s: certificate %s advertises no OCSP responder and no CRL, and its '
                   'issuer has none configured: its revocation cannot be proven',
                   (SELECT tracking FROM cpr.cases WHERE id = a.case_id), a.serial));
    END IF;
    IF p_published THEN
        PERFORM cpr.revwatch_settle(a.case_id);
    END IF;
    -- Again after recheck while the case is watched; else nothing owed.
    UPDATE cpr.affected x SET check_due_at =
        CASE WHEN cpr.revwatch_watched(c) THEN v_now + p_recheck_ms * interval '1 ms' END
      FROM cpr.cases c WHERE x.id = p_id AND c.id = x.case_id;
    RETURN true;
END
$$;

-- Claims older than p_grace_ms not seen published, with no alert yet:
-- one row per affected unexpired certificate, for the page's text.
CREATE FUNCTION cpr.revwatch_claims(p_grace_ms bigint, p_limit integer)
RETURNS TABLE (case_id bigint, tracking text, claimed_at text, serial text,
               ocsp_state text, crl_state text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH late AS (
        SELECT c.id, c.tracking, c.revoked_at FROM cpr.cases c
         WHERE c.state = 'open' AND c.revoked_at IS NOT NULL
           AND c.revocation_published_at IS NULL
           AND c.revoked_at <= clock_timestamp() - p_grace_ms * interval '1 ms'
           AND EXISTS (SELECT 1 FROM cpr.affected a WHERE a.case_id = c.id)
           AND NOT EXISTS (SELECT 1 FROM cpr.revwatch_alerts x
                            WHERE x.case_id = c.id AND x.kind = 'claim-unpublished'
                              AND x.subject_key = cpr.utc_text(c.revoked_at))
         ORDER BY c.id LIMIT greatest(p_limit, 0))
    SELECT l.id, l.tracking, cpr.utc_text(l.revoked_at), a.serial,
           coalesce(a.ocsp_state, 'unchecked'), coalesce(a.crl_state, 'unchecked')
      FROM late l JOIN cpr.affected a ON a.case_id = l.id
     WHERE a.not_after IS NULL OR a.not_after > clock_timestamp()
     ORDER BY l.id, a.id
$$;

-- The unexpired certificates of a case not yet seen published, for the
-- revocation clock's warnings and breach (at most p_limit rows).
CREATE FUNCTION cpr.revwatch_pending(p_case_id bigint, p_limit integer)
RETURNS TABLE (serial text, ocsp_state text, crl_state text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT a.serial, coalesce(a.ocsp_state, 'unchecked'), coalesce(a.crl_state, 'unchecked')
      FROM cpr.affected a
     WHERE a.case_id = p_case_id AND a.revoked_at IS NULL
       AND (a.not_after IS NULL OR a.not_after > clock_timestamp())
     ORDER BY a.id LIMIT greatest(p_limit, 0)
$$;

-- A certificate found after the clock stopped (a key-compromise case: a
-- certificate on the key found later) and not expired reopens it: the
-- case is met only when every unexpired certificate is revoked.
CREATE FUNCTION cpr.revwatch_reopen() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
BEGIN
    IF NEW.not_after IS NULL OR NEW.not_after > clock_timestamp() THEN
        UPDATE cpr.cases SET revocation_published_at = NULL
         WHERE id = NEW.case_id AND revocation_published_at IS NOT NULL;
        IF FOUND THEN
            PERFORM cpr.append_event(NEW.case_id, 'cpr-sweeper', 'revocation-reopened', NULL,
                jsonb_build_object('serial', NEW.serial, 'found_kind', NEW.found_kind));
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER affected_reopen AFTER INSERT ON cpr.affected
    FOR EACH ROW EXECUTE FUNCTION cpr.revwatch_reopen();

REVOKE ALL ON FUNCTION cpr.revwatch_pending(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.revwatch_pending(bigint, integer) TO cpr_sweeper;
REVOKE ALL ON FUNCTION cpr.revwatch_due(integer, bigint, text, bigint),
    cpr.revwatch_next_ms(bigint), cpr.revwatch_alert_open(bigint, text, text, text),
    cpr.revwatch_alert_take(text, bigint), cpr.revwatch_alert_done(bigint, boolean, text, bigint),
    cpr.revwatch_settle(bigint),
    cpr.revwatch_store(bigint, text, text, bigint, text, text, text, bigint, text, text,
                       boolean, bigint),
    cpr.revwatch_claims(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.revwatch_due(integer, bigint, text, bigint),
    cpr.revwatch_next_ms(bigint), cpr.revwatch_alert_open(bigint, text, text, text),
    cpr.revwatch_alert_take(text, bigint), cpr.revwatch_alert_done(bigint, boolean, text, bigint),
    cpr.revwatch_store(bigint, text, text, bigint, text, text, text, bigint, text, text,
                       boolean, bigint),
    cpr.revwatch_claims(bigint, integer) TO cpr_sweeper;
GRANT SELECT ON cpr.revwatch_alerts TO cpr_staff, cpr_sweeper;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   022_probes.sql - mail-path probes: one row each, and the stages it passed
-- DESCRIPTION
--   A probe is a signed report sent from outside to a published CPR
--   address (see milter/core/probemark.c for the mark). cpr.probes holds
--   one row per probe, made by the sender before it sends; each stage
--   then stamps its time at the database clock:
--     sent_at         the relay accepted it (send_error: its reply if not)
--     milter_seen_at  cpr-milter verified the mark (cpr.probe_seen)
--     mailbox_at      found over IMAP, in mailbox_folder
--   cpr.probe_schedule keeps, per address, when the next probe is due and
--   which variant it takes (in turn, the n-th address starting at the n-th
--   variant); cpr.probe_take hands each due probe to exactly one sender,
--   however many sweepers run (the schedule row's lock decides).
--
--   cpr.probe_seen is the only way the milter touches probes. It accepts
--   a mark once per id, for the address the probe was sent to, and only
--   while the time in the mark is within max_age of the database clock;
--   anything else ('unknown', 'replayed', 'stale', 'wrong address',
--   'wrong time') makes
--   the message an ordinary report, so a probe mark can never silence a
--   real one. A probe whose acceptance fails after probe_seen (the MTA
--   could not queue it) comes back as 'replayed' and is taken in as a
--   report: a false alarm, never a silence.
-- DIAGNOSTICS
--   probe_take raises on an empty address or variant list.

CREATE TABLE cpr.probes (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    address         text NOT NULL CHECK (address <> ''),
    variant         text NOT NULL CHECK (variant <> ''),
    message_id      text NOT NULL,
    mark_unix       bigint NOT NULL,            -- the time in the mark (sender's clock)
    created_at      timestamptz NOT NULL DEFAULT now(),
    worker          text NOT NULL,
    sent_at         timestamptz,
    send_error      text,
    milter_seen_at  timestamptz,
    mailbox_at      timestamptz,
    mailbox_folder  text,
    deleted_at      timestamptz,
    verdict         text,                       -- 'passed' or the stage that failed
    decided_at      timestamptz                 -- NULL while the probe is under way
);

CREATE INDEX probes_address_created_idx ON cpr.probes (address, variant, created_at DESC);
CREATE INDEX probes_pending_idx ON cpr.probes (created_at) WHERE decided_at IS NULL;
CREATE INDEX probes_created_idx ON cpr.probes (created_at);

CREATE TABLE cpr.probe_schedule (
    address  text PRIMARY KEY,
    next_at  timestamptz NOT NULL,
    turn     bigint NOT NULL DEFAULT 0     -- variants rotate by this count
);

-- The milter's check of a verified mark. Returns 'probe' when the probe is
-- taken as one (and stamps milter_seen_at), else why not.
CREATE FUNCTION cpr.probe_seen(p_id text, p_recipient text, p_mark_unix bigint,
                               p_max_age_ms bigint)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v cpr.probes%ROWTYPE;
BEGIN
    SELECT * INTO v FROM cpr.probes WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown';
    ELSIF v.milter_seen_at IS NOT NULL THEN
        RETURN 'replayed';
    ELSIF lower(v.address) <> lower(p_recipient) THEN
        RETURN 'wrong address';
    ELSIF v.mark_unix <> p_mark_unix THEN
        RETURN 'wrong time';
    ELSIF abs(extract(epoch FROM now()) - p_mark_unix) * 1000 > p_max_age_ms THEN
        RETURN 'stale';
    END IF;
    UPDATE cpr.probes SET milter_seen_at = now() WHERE id = p_id;
    RETURN 'probe';
END
$$;

-- Probes due now, one per address whose turn has come, each made here and
-- handed to this worker alone. The mark's time is the database's.
CREATE FUNCTION cpr.probe_take(p_addresses text[], p_variants text[], p_interval_ms bigint,
                               p_worker text)
RETURNS TABLE (id text, address text, variant text, message_id text, mark_unix bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    a      text;
    v_turn bigint;
    v_id   text;
    v_var  text;
    v_now  bigint := floor(extract(epoch FROM now()));
    v_n    int := coalesce(array_length(p_addresses, 1), 0);
    v_i    int := 0;
BEGIN
    IF v_n = 0 OR coalesce(array_length(p_variants, 1), 0) = 0 THEN
        RAISE EXCEPTION 'probe_take: no addresses or no variants';
    END IF;
    FOREACH a IN ARRAY p_addresses LOOP
        -- a new address starts within one interval, staggered by its place
        INSERT INTO cpr.probe_schedule (address, next_at)
        VALUES (a, now() + (p_interval_ms * v_i / v_n) * interval '1 ms')
        ON CONFLICT DO NOTHING;
        v_i := v_i + 1;
        UPDATE cpr.probe_schedule s
           -- behind by more than an interval (the sweepers were down): the next
           -- one an interval from now, not at once again
           SET next_at = CASE WHEN s.next_at + p_interval_ms * interval '1 ms' > now()
                              THEN s.next_at + p_interval_ms * interval '1 ms'
                              ELSE now() + p_interval_ms * interval '1 ms' END,
               turn = s.turn + 1
         WHERE s.address = a AND s.next_at <= now()
        RETURNING s.turn - 1 INTO v_turn;
        CONTINUE WHEN NOT FOUND;
        -- addresses start at different variants, so one round tries several
        v_var := p_variants[1 + ((v_turn + v_i - 1) % array_length(p_variants, 1))];
        v_id := to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '-' || v_var
                || '-' || substr(md5(random()::text || clock_timestamp()::text), 1, 10);
        INSERT INTO cpr.probes (id, address, variant, message_id, mark_unix, worker)
        VALUES (v_id, a, v_var, v_id || '@probe.cpr-milter.invalid', v_now, p_worker);
        id := v_id; address := a; variant := v_var;
        message_id := v_id || '@probe.cpr-milter.invalid'; mark_unix := v_now;
        RETURN NEXT;
    END LOOP;
END
$$;

-- In how many ms the next probe is due; NULL when none is scheduled.
CREATE FUNCTION cpr.probe_next_ms()
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT CASE WHEN min(next_at) IS NULL THEN NULL
                ELSE greatest(1, ceil(extract(epoch FROM min(next_at) - now()) * 1000))::bigint END
      FROM cpr.probe_schedule
$$;

-- The relay's answer to one probe: accepted (p_error NULL) or refused.
CREATE FUNCTION cpr.probe_sent(p_id text, p_error text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.probes SET sent_at = CASE WHEN p_error IS NULL THEN now() END,
                          send_error = left(p_error, 1000)
     WHERE id = p_id AND sent_at IS NULL AND send_error IS NULL
$$;

-- Found over IMAP in p_folder (and deleted there when p_deleted).
CREATE FUNCTION cpr.probe_in_mailbox(p_id text, p_folder text, p_deleted boolean)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.probes SET mailbox_at = coalesce(mailbox_at, now()),
                          mailbox_folder = coalesce(mailbox_folder, left(p_folder, 200)),
                          deleted_at = CASE WHEN p_deleted THEN now() ELSE deleted_at END
     WHERE id = p_id
$$;

-- For cprctl probes: the last probe of each address and variant, with
-- its stages, latency and failure. Pairs are found by a skip scan of
-- probes_address_created_idx, so the cost grows with the pairs, not with
-- the years of probes.
CREATE FUNCTION cpr.probe_list()
RETURNS TABLE (address text, variant text, id text, created_at text, sent_at text,
               send_error text, milter_seen_at text, mailbox_at text, mailbox_folder text,
               milter_ms bigint, mailbox_ms bigint, stage text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH RECURSIVE pairs(address, variant) AS (
        (SELECT p.address, p.variant FROM cpr.probes p ORDER BY p.address, p.variant LIMIT 1)
        UNION ALL
        SELECT n.address, n.variant FROM pairs x, LATERAL (
            SELECT q.address, q.variant FROM cpr.probes q
            WHERE (q.address, q.variant) > (x.address, x.variant)
            ORDER BY q.address, q.variant LIMIT 1) n
    )
    SELECT l.address, l.variant, l.id, cpr.utc_text(l.created_at), cpr.utc_text(l.sent_at),
           l.send_error, cpr.utc_text(l.milter_seen_at), cpr.utc_text(l.mailbox_at),
           l.mailbox_folder,
           (extract(epoch FROM l.milter_seen_at - l.sent_at) * 1000)::bigint,
           (extract(epoch FROM l.mailbox_at - l.sent_at) * 1000)::bigint,
           CASE WHEN l.send_error IS NOT NULL THEN 'send failed'
                WHEN l.sent_at IS NULL THEN 'sending'
                WHEN l.milter_seen_at IS NULL THEN 'not seen by cpr-milter (yet)'
                WHEN l.mailbox_at IS NULL THEN 'seen by cpr-milter'
                ELSE 'in ' || coalesce(l.mailbox_folder, 'the mailbox') END
    FROM pairs, LATERAL (
        SELECT * FROM cpr.probes p WHERE p.address = pairs.address AND p.variant = pairs.variant
        ORDER BY p.created_at DESC LIMIT 1) l
    ORDER BY l.address, l.variant
$$;

REVOKE ALL ON FUNCTION cpr.probe_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_list() TO cpr_staff;

REVOKE ALL ON FUNCTION cpr.probe_seen(text, text, bigint, bigint),
    cpr.probe_take(text[], text[], bigint, text), cpr.probe_sent(text, text),
    cpr.probe_in_mailbox(text, text, boolean), cpr.probe_next_ms() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_seen(text, text, bigint, bigint) TO cpr_milter;
GRANT EXECUTE ON FUNCTION cpr.probe_take(text[], text[], bigint, text),
    cpr.probe_sent(text, text), cpr.probe_in_mailbox(text, text, boolean),
    cpr.probe_next_ms() TO cpr_sweeper;
GRANT SELECT ON cpr.probes, cpr.probe_schedule TO cpr_staff, cpr_sweeper;

-- ---- pages: a stage that broke -----------------------------------------------------
-- One alert per address and variant whose last decided probe failed; it is
-- resolved when a later probe of the pair passes. Each page and resolve is
-- leased to one sweeper, as for cpr.milter_alerts (021_liveness.sql).
CREATE TABLE cpr.probe_alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address         text NOT NULL,
    variant         text NOT NULL,
    stage           text NOT NULL CHECK (stage IN ('send failed', 'not seen by cpr-milter')),
    probe_id        text NOT NULL REFERENCES cpr.probes (id),
    detail          text,                   -- the relay's reply, for send failed
    opened_at       timestamptz NOT NULL,
    paged_at        timestamptz,
    resolved_at     timestamptz,
    resolved_by     text REFERENCES cpr.probes (id),
    resolve_sent_at timestamptz,
    closed_at       timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_try_at     timestamptz NOT NULL,
    claimed_by      text,
    lease_until     timestamptz
);
CREATE UNIQUE INDEX probe_alerts_open_idx ON cpr.probe_alerts (address, variant)
    WHERE closed_at IS NULL;

-- What a probe has shown by p_now: 'passed', the stage that failed, or NULL
-- while it is still under way. Until the mailbox stage exists, seen by
-- cpr-milter is passed.
CREATE FUNCTION cpr.probe_verdict(p cpr.probes, p_timeout_ms bigint, p_now timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p.milter_seen_at IS NOT NULL THEN 'passed'
        WHEN p.send_error IS NOT NULL THEN 'send failed'
        WHEN p.sent_at IS NULL AND p.created_at + p_timeout_ms * interval '1 ms' <= p_now
            THEN 'send failed'
        WHEN p.sent_at + p_timeout_ms * interval '1 ms' <= p_now THEN 'not seen by cpr-milter'
    END
$$;

-- Decide the probes under way that can be decided, oldest first, and open
-- or resolve the alert of each one's pair.
CREATE FUNCTION cpr.probe_alerts_update(p_timeout_ms bigint, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p cpr.probes%ROWTYPE;
    v text;
BEGIN
    FOR p IN SELECT * FROM cpr.probes x WHERE x.decided_at IS NULL
             ORDER BY x.created_at FOR UPDATE SKIP LOCKED LOOP
        v := cpr.probe_verdict(p, p_timeout_ms, p_now);
        CONTINUE WHEN v IS NULL;
        UPDATE cpr.probes SET verdict = v, decided_at = p_now WHERE id = p.id;
        IF v = 'passed' THEN
            UPDATE cpr.probe_alerts a SET resolved_at = p_now, resolved_by = p.id
             WHERE a.address = p.address AND a.variant = p.variant
               AND a.closed_at IS NULL AND a.resolved_at IS NULL;
        ELSE
            INSERT INTO cpr.probe_alerts (address, variant, stage, probe_id, detail,
                                          opened_at, next_try_at)
            VALUES (p.address, p.variant, v, p.id, p.send_error, p_now, p_now)
            ON CONFLICT (address, variant) WHERE closed_at IS NULL DO NOTHING;
        END IF;
    END LOOP;
    UPDATE cpr.probe_alerts SET closed_at = p_now      -- resolved before anyone was paged
     WHERE closed_at IS NULL AND resolved_at IS NOT NULL AND paged_at IS NULL
       AND (lease_until IS NULL OR lease_until < p_now);
END
$$;

-- One page or resolve due now, leased to p_worker; none when nothing is
-- due. plain_passes says whether the address's plain probes pass, so a
-- page can say that only this variant fails.
CREATE FUNCTION cpr.probe_alerts(p_timeout_ms bigint, p_worker text, p_lease_ms integer)
RETURNS TABLE (alert_id bigint, action text, address text, variant text, stage text,
               probe_id text, detail text, sent_at text, opened_at text, plain_passes boolean,
               attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    a cpr.probe_alerts%ROWTYPE;
BEGIN
    IF p_timeout_ms <= 0 OR p_lease_ms <= 0 THEN
        RAISE EXCEPTION 'probe_alerts: bad bounds' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM cpr.probe_alerts_update(p_timeout_ms, v_now);
    FOR a IN SELECT * FROM cpr.probe_alerts x
             WHERE x.closed_at IS NULL AND x.next_try_at <= v_now
               AND (x.lease_until IS NULL OR x.lease_until < v_now)
               AND (x.paged_at IS NULL AND x.resolved_at IS NULL
                    OR x.paged_at IS NOT NULL AND x.resolved_at IS NOT NULL)
             ORDER BY x.id LIMIT 1 FOR UPDATE SKIP LOCKED LOOP
        UPDATE cpr.probe_alerts SET claimed_by = p_worker,
            lease_until = v_now + p_lease_ms * interval '1 ms', attempts = a.attempts + 1
         WHERE id = a.id;
        RETURN QUERY SELECT a.id, CASE WHEN a.paged_at IS NULL THEN 'page' ELSE 'resolve' END,
            a.address, a.variant, a.stage, a.probe_id, a.detail, cpr.utc_text(p.sent_at),
            cpr.utc_text(a.opened_at),
            (SELECT q.verdict = 'passed' FROM cpr.probes q
              WHERE q.address = a.address AND q.variant = 'plain' AND q.decided_at IS NOT NULL
              ORDER BY q.created_at DESC LIMIT 1),
            a.attempts + 1
            FROM cpr.probes p WHERE p.id = a.probe_id;
        RETURN;
    END LOOP;
END
$$;

-- Record a page or resolve: sent (p_ok), or due again after p_retry_ms.
-- Only the sweeper holding the lease may; false otherwise.
CREATE FUNCTION cpr.probe_alert_done(p_id bigint, p_action text, p_ok boolean, p_worker text,
        p_retry_ms bigint)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    IF p_action NOT IN ('page', 'resolve') THEN
        RAISE EXCEPTION 'probe_alert_done: action must be page or resolve'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE cpr.probe_alerts SET
        paged_at = CASE WHEN p_ok AND p_action = 'page' THEN v_now ELSE paged_at END,
        resolve_sent_at = CASE WHEN p_ok AND p_action = 'resolve' THEN v_now
                               ELSE resolve_sent_at END,
        closed_at = CASE WHEN p_ok AND p_action = 'resolve' THEN v_now ELSE closed_at END,
        next_try_at = CASE WHEN p_ok THEN v_now
                           ELSE v_now + greatest(p_retry_ms, 0) * interval '1 ms' END,
        attempts = CASE WHEN p_ok THEN 0 ELSE attempts END,
        claimed_by = NULL, lease_until = NULL
    WHERE id = p_id AND claimed_by = p_worker AND lease_until >= v_now;
    RETURN FOUND;
END
$$;

-- In how many ms the probe alerts may have something to do (at least 1),
-- or NULL: an alert's retry or lease, or a probe under way reaching its
-- timeout.
CREATE FUNCTION cpr.probe_alert_next_ms(p_timeout_ms bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH n AS (SELECT clock_timestamp() AS now)
    SELECT CASE WHEN min(t) IS NOT NULL
                THEN greatest(1, epoch_ms(min(t)) - epoch_ms(min(n.now))) END FROM n, (
        SELECT greatest(a.next_try_at, coalesce(a.lease_until, a.next_try_at)) AS t
          FROM cpr.probe_alerts a
         WHERE a.closed_at IS NULL
           AND (a.paged_at IS NULL AND a.resolved_at IS NULL
                OR a.paged_at IS NOT NULL AND a.resolved_at IS NOT NULL)
        UNION ALL
        SELECT coalesce(p.sent_at, p.created_at) + p_timeout_ms * interval '1 ms'
          FROM cpr.probes p WHERE p.decided_at IS NULL
    ) due
$$;

REVOKE ALL ON FUNCTION cpr.probe_alerts(bigint, text, integer),
    cpr.probe_alert_done(bigint, text, boolean, text, bigint),
    cpr.probe_alert_next_ms(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_alerts(bigint, text, integer),
    cpr.probe_alert_done(bigint, text, boolean, text, bigint),
    cpr.probe_alert_next_ms(bigint) TO cpr_sweeper;
GRANT SELECT ON cpr.probe_alerts TO cpr_staff, cpr_sweeper;

-- ---- the auditor's evidence ---------------------------------------------------------
-- For cprctl report: per probed address, the probes made between p_from
-- and p_to (as cpr.audit_from/audit_until read them), how many passed and
-- failed, the longest time the address was not proven working (between
-- two passing probes, or from the period's start to the first and from
-- the last to its end or now), and the path latency (relay accepted ->
-- seen by cpr-milter) of the passing ones: median and p99, in ms.
CREATE FUNCTION cpr.probe_report(p_from text, p_to text)
RETURNS TABLE (address text, sent bigint, passed bigint, failed bigint,
               longest_unproven_s bigint, median_ms bigint, p99_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH r AS (SELECT cpr.audit_from(p_from) AS lo,
                      least(cpr.audit_until(p_to), now()) AS hi),
    p AS (SELECT q.* FROM cpr.probes q, r WHERE q.created_at >= r.lo AND q.created_at < r.hi),
    marks AS (SELECT p.address, p.milter_seen_at AS t FROM p WHERE p.verdict = 'passed'
              UNION ALL SELECT DISTINCT p.address, r.lo FROM p, r
              UNION ALL SELECT DISTINCT p.address, r.hi FROM p, r),
    gaps AS (SELECT m.address, max(m.gap) AS gap FROM (
                 SELECT marks.address, marks.t - lag(marks.t) OVER w AS gap FROM marks
                 WINDOW w AS (PARTITION BY marks.address ORDER BY marks.t)) m
             GROUP BY m.address)
    SELECT p.address, count(*), count(*) FILTER (WHERE p.verdict = 'passed'),
           count(*) FILTER (WHERE p.verdict <> 'passed'),
           floor(extract(epoch FROM g.gap))::bigint,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.milter_seen_at - p.sent_at))
               FILTER (WHERE p.verdict = 'passed') * 1000)::bigint,
           (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM p.milter_seen_at - p.sent_at))
               FILTER (WHERE p.verdict = 'passed') * 1000)::bigint
    FROM p JOIN gaps g ON g.address = p.address
    GROUP BY p.address, g.gap
    ORDER BY p.address
$$;

REVOKE ALL ON FUNCTION cpr.probe_report(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_report(text, text) TO cpr_staff;

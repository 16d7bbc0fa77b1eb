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
    deleted_at      timestamptz
);

CREATE INDEX probes_address_created_idx ON cpr.probes (address, variant, created_at DESC);
CREATE INDEX probes_open_idx ON cpr.probes (created_at) WHERE mailbox_at IS NULL;

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
           SET next_at = greatest(s.next_at + p_interval_ms * interval '1 ms', now()),
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

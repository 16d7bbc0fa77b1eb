-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   016_page_groups.sql - one page for a flood of new reports from one domain
-- DESCRIPTION
--   200 reports from one sender gave 200 pages. Now the acknowledge pages
--   of new cases from one sender domain are grouped: the first report from
--   a domain pages on its own; a report that follows another from the same
--   domain within [paging] group_window joins that window's page group
--   instead, and the group pages once when its window ends, with the count
--   and the list, then escalates tier by tier like a case until every
--   case it lists is acknowledged. A report with no other one from its
--   domain within the window before it (so the first report from a new
--   domain), and a case with a private key for evidence (an SPKI was
--   derived), are never grouped. Every case still has its
--   clocks; its own acknowledge pages are recorded as skipped, "grouped".
--   Acknowledging the group (cprctl ack-group) acknowledges each case it
--   lists, each with its own ack event.
--   Windows are aligned to the database clock (bucket = epoch / window), so
--   every sweeper puts a case into the same group without a lock another
--   login could take.
-- REPLACES
--   Nothing: new tables and functions only.

CREATE TABLE cpr.page_groups (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain         text NOT NULL,
    bucket         bigint NOT NULL,
    window_ends_at timestamptz NOT NULL,
    tier           integer NOT NULL DEFAULT 0,     -- the last tier paged
    next_page_at   timestamptz NOT NULL,
    claimed_by     text,
    lease_until    timestamptz,
    acked_at       timestamptz,
    acked_by       text,
    UNIQUE (domain, bucket)
);
CREATE INDEX page_groups_due_idx ON cpr.page_groups (next_page_at) WHERE acked_at IS NULL;

CREATE TABLE cpr.page_group_members (
    group_id  bigint NOT NULL REFERENCES cpr.page_groups (id),
    case_id   bigint NOT NULL UNIQUE REFERENCES cpr.cases (id),
    added_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (group_id, case_id)
);
CREATE TRIGGER page_group_members_immutable BEFORE UPDATE OR DELETE ON cpr.page_group_members
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();

-- Earlier reports from one domain, by receipt: an index lookup.
CREATE INDEX cases_reporter_domain_idx ON cpr.cases (cpr.address_domain(reporter), received_at)
    WHERE kind = 'new-report';

-- Does this case join a page group? Not for key evidence, nor for a
-- report with no other one from its domain within the window before it.
CREATE FUNCTION cpr.page_group_wanted(c cpr.cases, p_window_ms bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT c.kind = 'new-report' AND cpr.address_domain(c.reporter) <> ''
       AND NOT EXISTS (SELECT 1 FROM cpr.evidence e WHERE e.case_id = c.id
                       AND e.kind = 'private-key' AND e.spki_sha256 IS NOT NULL)
       AND EXISTS (SELECT 1 FROM cpr.cases o
                   WHERE cpr.address_domain(o.reporter) = cpr.address_domain(c.reporter)
                     AND o.kind = 'new-report' AND o.id <> c.id
                     AND o.received_at <= c.received_at
                     AND o.received_at > c.received_at - p_window_ms * interval '1 ms')
$$;

-- The page group of a case whose acknowledge page falls due, joining or
-- opening the current window's group; NULL: the case pages on its own.
CREATE FUNCTION cpr.page_group_join(p_case_id bigint, p_window_ms bigint, p_actor text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c        cpr.cases%ROWTYPE;
    v_group  bigint;
    v_bucket bigint;
    v_domain text;
BEGIN
    SELECT m.group_id INTO v_group FROM cpr.page_group_members m WHERE m.case_id = p_case_id;
    IF v_group IS NOT NULL THEN
        RETURN v_group;
    END IF;
    SELECT * INTO c FROM cpr.cases WHERE id = p_case_id;
    IF NOT FOUND OR p_window_ms <= 0 OR NOT cpr.page_group_wanted(c, p_window_ms) THEN
        RETURN NULL;
    END IF;
    v_domain := cpr.address_domain(c.reporter);
    v_bucket := floor(epoch_ms(clock_timestamp()) / p_window_ms);
    INSERT INTO cpr.page_groups (domain, bucket, window_ends_at, next_page_at)
    VALUES (v_domain, v_bucket, to_timestamp((v_bucket + 1) * p_window_ms / 1000.0),
            to_timestamp((v_bucket + 1) * p_window_ms / 1000.0))
    ON CONFLICT (domain, bucket) DO NOTHING;
    SELECT g.id INTO v_group FROM cpr.page_groups g
    WHERE g.domain = v_domain AND g.bucket = v_bucket;
    INSERT INTO cpr.page_group_members (group_id, case_id) VALUES (v_group, p_case_id)
    ON CONFLICT DO NOTHING;
    PERFORM cpr.append_event(p_case_id, p_actor, 'grouped', NULL,
        jsonb_build_object('group', v_group, 'domain', v_domain,
                           'reason', 'a flood of new reports from one domain: one page for the group'));
    RETURN v_group;
END
$$;

-- Cases of a group not acknowledged yet: count, and the first p_list.
CREATE FUNCTION cpr.page_group_open(p_group bigint, p_list integer,
        OUT open_count integer, OUT trackings text[])
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer,
           (array_agg(c.tracking ORDER BY c.received_at, c.id))[1:p_list]
    FROM cpr.page_group_members m JOIN cpr.cases c ON c.id = m.case_id
    WHERE m.group_id = p_group AND c.acked_at IS NULL AND c.state = 'open'
$$;

-- Claim one group whose page is due and that still lists an open case.
-- A group whose cases were all acknowledged one by one is done.
CREATE FUNCTION cpr.page_group_claim(p_worker text, p_lease_ms integer, p_list integer)
RETURNS TABLE (group_id bigint, domain text, tier integer, open_count integer,
               trackings text[], window_ends_at bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    g cpr.page_groups%ROWTYPE;
    o record;
BEGIN
    FOR g IN SELECT * FROM cpr.page_groups pg
             WHERE pg.acked_at IS NULL AND pg.next_page_at <= clock_timestamp()
               AND (pg.lease_until IS NULL OR pg.lease_until < clock_timestamp())
             ORDER BY pg.next_page_at, pg.id LIMIT 8 FOR UPDATE SKIP LOCKED LOOP
        SELECT * INTO o FROM cpr.page_group_open(g.id, p_list);
        IF o.open_count = 0 THEN
            UPDATE cpr.page_groups SET acked_at = clock_timestamp(), acked_by = 'every case acknowledged'
            WHERE id = g.id;
            CONTINUE;
        END IF;
        UPDATE cpr.page_groups SET claimed_by = p_worker,
            lease_until = clock_timestamp() + p_lease_ms * interval '1 ms'
        WHERE id = g.id;
        RETURN QUERY SELECT g.id, g.domain, g.tier + 1, o.open_count, o.trackings,
                            epoch_ms(g.window_ends_at);
        RETURN;
    END LOOP;
END
$$;

-- Record a group page: sent moves it to the next tier after p_next_ms;
-- failed tries again after p_next_ms. Only the claimer may; each listed
-- open case gets a page-attempt event naming the group.
CREATE FUNCTION cpr.page_group_finish(p_group bigint, p_worker text, p_tier integer,
        p_outcome text, p_next_ms bigint, p_error text, p_actor text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    g cpr.page_groups%ROWTYPE;
    v_case bigint;
BEGIN
    SELECT * INTO g FROM cpr.page_groups WHERE id = p_group FOR UPDATE;
    IF NOT FOUND OR g.claimed_by IS DISTINCT FROM p_worker THEN
        RETURN false;
    END IF;
    UPDATE cpr.page_groups SET
        tier = CASE WHEN p_outcome = 'sent' THEN p_tier ELSE tier END,
        next_page_at = clock_timestamp() + p_next_ms * interval '1 ms',
        claimed_by = NULL, lease_until = NULL
    WHERE id = p_group;
    FOR v_case IN SELECT m.case_id FROM cpr.page_group_members m JOIN cpr.cases c
                  ON c.id = m.case_id
                  WHERE m.group_id = p_group AND c.acked_at IS NULL AND c.state = 'open' LOOP
        PERFORM cpr.append_event(v_case, p_actor, 'page-attempt', NULL,
            jsonb_build_object('group', p_group, 'clock', 'acknowledge', 'event', 'page',
                               'tier', p_tier, 'outcome', p_outcome, 'worker', p_worker,
                               'error', p_error));
    END LOOP;
    RETURN true;
END
$$;

-- How long until a group page is due, in ms (at least 1), or NULL.
CREATE FUNCTION cpr.page_group_next_ms() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT greatest(1, epoch_ms(min(greatest(next_page_at, coalesce(lease_until, next_page_at))))
                       - epoch_ms(clock_timestamp()))
    FROM cpr.page_groups WHERE acked_at IS NULL
$$;

-- Staff acknowledge a group page: every open case it lists is
-- acknowledged through cpr.ack, each with its own event. Returns how many.
CREATE FUNCTION cpr.page_group_ack(p_group bigint, p_actor text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_tracking text;
    v_n integer := 0;
BEGIN
    PERFORM 1 FROM cpr.page_groups WHERE id = p_group FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no page group %', p_group USING ERRCODE = 'no_data_found';
    END IF;
    FOR v_tracking IN SELECT c.tracking FROM cpr.page_group_members m
                      JOIN cpr.cases c ON c.id = m.case_id
                      WHERE m.group_id = p_group AND c.acked_at IS NULL AND c.state = 'open'
                        AND c.ack_clock_from IS NOT NULL
                      ORDER BY c.id LOOP
        PERFORM cpr.ack(v_tracking, p_actor || ' (page group ' || p_group || ')');
        v_n := v_n + 1;
    END LOOP;
    UPDATE cpr.page_groups SET acked_at = clock_timestamp(), acked_by = p_actor
    WHERE id = p_group AND acked_at IS NULL;
    RETURN v_n;
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON cpr.page_groups, cpr.page_group_members FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.page_group_join(bigint, bigint, text),
    cpr.page_group_claim(text, integer, integer),
    cpr.page_group_finish(bigint, text, integer, text, bigint, text, text),
    cpr.page_group_next_ms()
    TO cpr_sweeper;
GRANT EXECUTE ON FUNCTION cpr.page_group_ack(bigint, text) TO cpr_staff;
GRANT SELECT ON cpr.page_groups, cpr.page_group_members TO cpr_staff, cpr_sweeper;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   014_trust.sql - default privileges that work, rate limits nobody can block
-- DESCRIPTION
--   * "ALTER DEFAULT PRIVILEGES IN SCHEMA cpr REVOKE EXECUTE ... FROM
--     PUBLIC" (004) does nothing: per-schema defaults can only add to the
--     global ones, and PUBLIC's EXECUTE on new functions is global. The
--     form that works names the role that creates the functions (the one
--     running the migrations), without IN SCHEMA.
--   * The auto-reply rate limits took advisory locks, which any login can
--     take too (and so hold back every report of a domain: 451 after the
--     statement timeout), and which serialised one domain. Now they only
--     count outbox rows (insert-only) through indexes: no lock, at the cost
--     of a small overshoot when reports of one sender arrive at once.
--   * A first report from a sender is not held back by its domain's limit
--     (a flood from one domain must not silence a genuine reporter there);
--     an hourly budget over all senders ("budget_hour" in the milter's
--     reply terms, [autoreply] hourly_budget) bounds backscatter instead.
-- REPLACES
--   cpr.autoreply_skip_reason (006_autoreply.sql).
-- REPLACES cpr.autoreply_skip_reason (006_autoreply.sql)

DO $$
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC',
                   current_user);
END
$$;

CREATE INDEX outbox_sent_idx ON cpr.outbox (created_at) WHERE state <> 'skipped';

-- Replies not skipped to one sender, to one domain, and in all, since a time.
CREATE FUNCTION cpr.autoreply_count_sender(p_to text, p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM cpr.outbox o
    WHERE lower(o.to_addr) = p_to AND o.state <> 'skipped' AND o.created_at > p_since
$$;

CREATE FUNCTION cpr.autoreply_count_domain(p_domain text, p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM cpr.outbox o
    WHERE o.to_domain = p_domain AND o.state <> 'skipped' AND o.created_at > p_since
$$;

CREATE FUNCTION cpr.autoreply_count_all(p_since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM cpr.outbox o WHERE o.state <> 'skipped' AND o.created_at > p_since
$$;

-- As in 006_autoreply.sql, without locks; a new sender passes its domain's
-- limit; the hourly budget (when the milter sends one) comes last.
CREATE OR REPLACE FUNCTION cpr.autoreply_skip_reason(p_kind text, p_reply jsonb, p_to text,
        p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_ms     bigint := (p_reply->>'rate_sender_window_ms')::bigint;
    v_dom_ms bigint := (p_reply->>'rate_domain_window_ms')::bigint;
    v_sender bigint;
BEGIN
    IF p_reply->>'skip' IS NOT NULL THEN
        RETURN p_reply->>'skip';
    END IF;
    IF p_kind = 'follow-up' AND NOT coalesce((p_reply->>'followups')::boolean, false) THEN
        RETURN 'follow-up';
    END IF;
    IF p_kind = 'automated' THEN
        RETURN 'automated mail';
    END IF;
    v_sender := cpr.autoreply_count_sender(p_to, p_now - v_ms * interval '1 ms');
    IF v_sender >= (p_reply->>'rate_sender')::bigint THEN
        RETURN 'rate limit (sender)';
    END IF;
    IF cpr.autoreply_count_sender(p_to, p_now - greatest(v_ms, v_dom_ms) * interval '1 ms') > 0
       AND cpr.autoreply_count_domain(split_part(p_to, '@', 2), p_now - v_dom_ms * interval '1 ms')
           >= (p_reply->>'rate_domain')::bigint THEN
        RETURN 'rate limit (domain)';
    END IF;
    IF jsonb_typeof(p_reply->'budget_hour') = 'number'
       AND cpr.autoreply_count_all(p_now - interval '1 hour')
           >= (p_reply->>'budget_hour')::bigint THEN
        RETURN 'hourly budget';
    END IF;
    RETURN NULL;
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;

-- Does p_worker still hold this outbox row? Asked just before the send, so
-- a sender whose lease ran out (a slow database, a paused host) does not
-- send a reply another milter has taken over; outbox_finish fences after.
CREATE FUNCTION cpr.outbox_held(p_id bigint, p_worker text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT coalesce((SELECT o.state = 'sending' AND o.claimed_by = p_worker
                            AND o.lease_until > clock_timestamp()
                     FROM cpr.outbox o WHERE o.id = p_id), false)
$$;
REVOKE EXECUTE ON FUNCTION cpr.outbox_held(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.outbox_held(bigint, text) TO cpr_milter;

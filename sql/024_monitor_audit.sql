-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   024_monitor_audit.sql - audit events for the mail-path and milter pages
-- DESCRIPTION
--   The pages about the mail path (cpr.probe_alerts) and about cpr-milter
--   itself (cpr.milter_alerts) belong to no case, so they cannot go into a
--   case's chain of cpr.events. cpr.monitor_events is their own
--   append-only, hash-chained log: one event each time a page or a resolve
--   is recorded as sent. A trigger on each alerts table writes it, so no
--   path can mark an alert paged without the event. Each event's hash
--   covers the previous one's hash and its own canonical bytes
--   (cpr.monitor_event_canonical); the head sits in
--   cpr.monitor_audit_head, whose row lock serialises appends from every
--   sweeper. cpr.monitor_audit_verify recomputes the chain.
-- DIAGNOSTICS
--   cpr.monitor_audit_verify returns the ids of the events whose link or
--   hash does not hold (none when the log is intact).

CREATE TABLE cpr.monitor_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    source    text NOT NULL CHECK (source IN ('probe', 'milter')),
    alert_id  bigint NOT NULL,
    action    text NOT NULL CHECK (action IN ('page', 'resolve')),
    actor     text NOT NULL,            -- the sweeper that sent it
    db_user   text NOT NULL,
    data      jsonb NOT NULL,
    prev_hash bytea,
    hash      bytea NOT NULL
);
CREATE INDEX monitor_events_at_idx ON cpr.monitor_events (at);

CREATE TABLE cpr.monitor_audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    hash bytea
);
INSERT INTO cpr.monitor_audit_head VALUES (true, NULL);

CREATE FUNCTION cpr.monitor_event_canonical(e cpr.monitor_events)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(jsonb_build_array(1, e.id,
               to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               e.source, e.alert_id, e.action, e.actor, e.db_user, e.data)::text, 'UTF8')
$$;

CREATE FUNCTION cpr.monitor_append(p_source text, p_alert_id bigint, p_action text,
                                   p_actor text, p_data jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = cpr, pg_temp AS $$
DECLARE
    v_prev bytea;
    e cpr.monitor_events%ROWTYPE;
BEGIN
    SELECT hash INTO v_prev FROM cpr.monitor_audit_head FOR UPDATE;
    e.id := nextval(pg_get_serial_sequence('cpr.monitor_events', 'id'));
    e.at := clock_timestamp();
    e.source := p_source; e.alert_id := p_alert_id; e.action := p_action;
    e.actor := coalesce(p_actor, ''); e.db_user := session_user; e.data := p_data;
    e.prev_hash := v_prev;
    e.hash := cpr.event_hash(v_prev, cpr.monitor_event_canonical(e));
    INSERT INTO cpr.monitor_events OVERRIDING SYSTEM VALUE SELECT e.*;
    UPDATE cpr.monitor_audit_head SET hash = e.hash;
END
$$;

-- The gate: an alert whose page or resolve is now recorded as sent.
CREATE FUNCTION cpr.monitor_alert_sent() RETURNS trigger
LANGUAGE plpgsql SET search_path = cpr, pg_temp AS $$
DECLARE
    v_action text := CASE WHEN OLD.paged_at IS NULL AND NEW.paged_at IS NOT NULL
                          THEN 'page' ELSE 'resolve' END;
BEGIN
    IF TG_TABLE_NAME = 'probe_alerts' THEN
        PERFORM cpr.monitor_append('probe', NEW.id, v_action, OLD.claimed_by,
            jsonb_build_object('address', NEW.address, 'variant', NEW.variant,
                               'stage', NEW.stage, 'probe_id', NEW.probe_id,
                               'detail', NEW.detail, 'resolved_by', NEW.resolved_by,
                               'opened_at', cpr.utc_text(NEW.opened_at)));
    ELSE
        PERFORM cpr.monitor_append('milter', NEW.id, v_action, OLD.claimed_by,
            jsonb_build_object('host', NEW.host, 'socket', NEW.socket, 'reason', NEW.reason,
                               'pid', NEW.pid, 'opened_at', cpr.utc_text(NEW.opened_at)));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER probe_alerts_audit AFTER UPDATE OF paged_at, resolve_sent_at ON cpr.probe_alerts
    FOR EACH ROW WHEN (OLD.paged_at IS NULL AND NEW.paged_at IS NOT NULL
                       OR OLD.resolve_sent_at IS NULL AND NEW.resolve_sent_at IS NOT NULL)
    EXECUTE FUNCTION cpr.monitor_alert_sent();
CREATE TRIGGER milter_alerts_audit AFTER UPDATE OF paged_at, resolve_sent_at ON cpr.milter_alerts
    FOR EACH ROW WHEN (OLD.paged_at IS NULL AND NEW.paged_at IS NOT NULL
                       OR OLD.resolve_sent_at IS NULL AND NEW.resolve_sent_at IS NOT NULL)
    EXECUTE FUNCTION cpr.monitor_alert_sent();

-- The events whose link to the previous one, or whose own hash, fails.
CREATE FUNCTION cpr.monitor_audit_verify()
RETURNS TABLE (id bigint, problem text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT c.id, c.problem FROM (
        SELECT e.id, CASE
            WHEN e.prev_hash IS DISTINCT FROM lag(e.hash) OVER w THEN 'broken link'
            WHEN e.hash <> cpr.event_hash(e.prev_hash, cpr.monitor_event_canonical(e))
                THEN 'hash mismatch' END AS problem
          FROM cpr.monitor_events e
        WINDOW w AS (ORDER BY e.id)) c
    WHERE c.problem IS NOT NULL
    UNION ALL       -- the head must be the last event's hash
    SELECT NULL, 'head is not the last event' FROM cpr.monitor_audit_head h
     WHERE h.hash IS DISTINCT FROM (SELECT m.hash FROM cpr.monitor_events m ORDER BY m.id DESC LIMIT 1)
    ORDER BY 1
$$;

REVOKE ALL ON cpr.monitor_events, cpr.monitor_audit_head FROM PUBLIC;
GRANT SELECT ON cpr.monitor_events TO cpr_staff, cpr_sweeper;
REVOKE ALL ON FUNCTION cpr.monitor_audit_verify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.monitor_audit_verify() TO cpr_staff;
REVOKE ALL ON FUNCTION cpr.monitor_append(text, bigint, text, text, jsonb),
    cpr.monitor_alert_sent() FROM PUBLIC;

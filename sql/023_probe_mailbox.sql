-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   023_probe_mailbox.sql - the mailbox stage of the mail-path probes
-- DESCRIPTION
--   With [probe] imap_url set, the sender looks for each probe over IMAP
--   in the folder staff read and in the junk folders
--   (milter/sweeper/probemailbox.c). What it finds is recorded by
--   cpr.probe_found, which also says whether the message may be deleted;
--   a probe's verdict then needs the mailbox too:
--     filed as junk                                found in a junk folder
--     in the mailbox but never seen by cpr-milter  found, milter_seen_at NULL
--     passed                                       found in the staff folder,
--                                                  and seen by cpr-milter
--     seen by cpr-milter but not in the mailbox    seen, not found by timeout
--     not seen by cpr-milter                       neither, by timeout
--   A probe sent without the mailbox stage (mailbox_check false) passes
--   when cpr-milter has seen it, as in 022.
--
--   A message is deleted only when it carries the Message-ID of a probe
--   this database made and cpr-milter did not take that Message-ID in as
--   a report: a report that reuses a probe's Message-ID (a replayed mark)
--   stays in the mailbox for staff.
-- DIAGNOSTICS
--   cpr.probe_found returns NULL for a Message-ID that is not a probe's.
-- REPLACES cpr.probe_verdict (022_probes.sql)
-- REPLACES cpr.probe_alerts_update (022_probes.sql)

-- mailbox_check: the sender looks for this probe in the mailbox, so it
-- passes only there (set when it is sent, so every sweeper judges alike).
ALTER TABLE cpr.probes ADD COLUMN mailbox_check boolean NOT NULL DEFAULT false,
                       ADD COLUMN mailbox_junk boolean;

ALTER TABLE cpr.probe_alerts DROP CONSTRAINT probe_alerts_stage_check;
ALTER TABLE cpr.probe_alerts ADD CONSTRAINT probe_alerts_stage_check CHECK (stage IN (
    'send failed', 'not seen by cpr-milter', 'seen by cpr-milter but not in the mailbox',
    'in the mailbox but never seen by cpr-milter', 'filed as junk'));

DROP FUNCTION cpr.probe_in_mailbox(text, text, boolean);
DROP FUNCTION cpr.probe_sent(text, text);

-- The relay's answer to one probe: accepted (p_error NULL) or refused;
-- p_mailbox: the sender will look for it in the mailbox.
CREATE FUNCTION cpr.probe_sent(p_id text, p_error text, p_mailbox boolean)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.probes SET sent_at = CASE WHEN p_error IS NULL THEN now() END,
                          send_error = left(p_error, 1000), mailbox_check = p_mailbox
     WHERE id = p_id AND sent_at IS NULL AND send_error IS NULL
$$;

-- Whether a probe sent in the last day may still be in the mailbox (not
-- yet deleted there): the sender looks only then.
CREATE FUNCTION cpr.probe_mailbox_due()
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM cpr.probes p
                    WHERE p.created_at > now() - interval '1 day' AND p.mailbox_check
                      AND p.sent_at IS NOT NULL AND p.deleted_at IS NULL)
$$;

-- A probe message found over IMAP, by its Message-ID (without <>), in
-- p_folder (p_junk: one of junk_folders). Returns the probe's id when the
-- message may be deleted, '' when it is a probe's but must stay (cpr-milter
-- took that Message-ID in as a report), NULL when it is no probe of ours.
-- The first place a probe is found is the one that counts.
CREATE FUNCTION cpr.probe_found(p_message_id text, p_folder text, p_junk boolean)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    v_id text;
BEGIN
    UPDATE cpr.probes SET mailbox_at = coalesce(mailbox_at, now()),
                          mailbox_folder = coalesce(mailbox_folder, left(p_folder, 200)),
                          mailbox_junk = coalesce(mailbox_junk, p_junk)
     WHERE message_id = p_message_id RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM cpr.messages m WHERE m.message_id = p_message_id) THEN
        RETURN '';
    END IF;
    RETURN v_id;
END
$$;

CREATE UNIQUE INDEX probes_message_id_idx ON cpr.probes (message_id);

-- The message of probe p_id was deleted from the mailbox.
CREATE FUNCTION cpr.probe_deleted(p_id text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    UPDATE cpr.probes SET deleted_at = coalesce(deleted_at, now()) WHERE id = p_id
$$;

CREATE OR REPLACE FUNCTION cpr.probe_verdict(p cpr.probes, p_timeout_ms bigint,
                                             p_now timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p.send_error IS NOT NULL THEN 'send failed'
        WHEN p.mailbox_junk THEN 'filed as junk'
        WHEN p.mailbox_at IS NOT NULL AND p.milter_seen_at IS NULL
            THEN 'in the mailbox but never seen by cpr-milter'
        WHEN p.mailbox_at IS NOT NULL THEN 'passed'
        WHEN p.milter_seen_at IS NOT NULL AND NOT p.mailbox_check THEN 'passed'
        WHEN p.sent_at IS NULL AND p.created_at + p_timeout_ms * interval '1 ms' <= p_now
            THEN 'send failed'
        WHEN p.sent_at IS NULL OR p.sent_at + p_timeout_ms * interval '1 ms' > p_now THEN NULL
        WHEN p.milter_seen_at IS NULL THEN 'not seen by cpr-milter'
        ELSE 'seen by cpr-milter but not in the mailbox'
    END
$$;

-- Decide the probes under way that can be decided, oldest first, and open
-- or resolve the alert of each one's pair.
CREATE OR REPLACE FUNCTION cpr.probe_alerts_update(p_timeout_ms bigint, p_now timestamptz)
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
            VALUES (p.address, p.variant, v, p.id,
                    CASE WHEN v = 'filed as junk' THEN p.mailbox_folder ELSE p.send_error END,
                    p_now, p_now)
            ON CONFLICT (address, variant) WHERE closed_at IS NULL DO NOTHING;
        END IF;
    END LOOP;
    UPDATE cpr.probe_alerts SET closed_at = p_now      -- resolved before anyone was paged
     WHERE closed_at IS NULL AND resolved_at IS NOT NULL AND paged_at IS NULL
       AND (lease_until IS NULL OR lease_until < p_now);
END
$$;

REVOKE ALL ON FUNCTION cpr.probe_found(text, text, boolean), cpr.probe_deleted(text),
    cpr.probe_sent(text, text, boolean), cpr.probe_mailbox_due() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_found(text, text, boolean), cpr.probe_deleted(text),
    cpr.probe_sent(text, text, boolean), cpr.probe_mailbox_due() TO cpr_sweeper;

-- The auditor's evidence (022), now with the mailbox: an address is proven
-- working at each passing probe's last stage (the mailbox when it was
-- looked for, else cpr-milter), and the latency of both stages is given.
DROP FUNCTION cpr.probe_report(text, text);
CREATE FUNCTION cpr.probe_report(p_from text, p_to text)
RETURNS TABLE (address text, sent bigint, passed bigint, failed bigint,
               longest_unproven_s bigint, median_ms bigint, p99_ms bigint,
               mailbox_median_ms bigint, mailbox_p99_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
    WITH r AS (SELECT cpr.audit_from(p_from) AS lo,
                      least(cpr.audit_until(p_to), now()) AS hi),
    p AS (SELECT q.* FROM cpr.probes q, r WHERE q.created_at >= r.lo AND q.created_at < r.hi),
    marks AS (SELECT p.address, coalesce(p.mailbox_at, p.milter_seen_at) AS t FROM p
               WHERE p.verdict = 'passed'
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
               FILTER (WHERE p.verdict = 'passed') * 1000)::bigint,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.mailbox_at - p.sent_at))
               FILTER (WHERE p.verdict = 'passed' AND p.mailbox_at IS NOT NULL) * 1000)::bigint,
           (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM p.mailbox_at - p.sent_at))
               FILTER (WHERE p.verdict = 'passed' AND p.mailbox_at IS NOT NULL) * 1000)::bigint
    FROM p JOIN gaps g ON g.address = p.address
    GROUP BY p.address, g.gap
    ORDER BY p.address
$$;

REVOKE ALL ON FUNCTION cpr.probe_report(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.probe_report(text, text) TO cpr_staff;

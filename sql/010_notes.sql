-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   010_notes.sql - free-text notes in a case's audit trail
-- DESCRIPTION
--   cprctl note TRACKING --text TEXT: what was done outside the tools (a
--   phone call with the Subscriber, a revocation checked on the CRL) goes
--   into the case's hash chain as a 'note' event with its author, so the
--   timeline and the incident draft show it. A note stops no clock. Closed
--   cases take notes too: the record of an incident goes on after it.

CREATE FUNCTION cpr.note(p_tracking text, p_text text, p_actor text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = cpr, pg_temp AS $$
DECLARE
    c cpr.cases%ROWTYPE := cpr.case_for_action(p_tracking);
BEGIN
    IF p_text IS NULL OR btrim(p_text) = '' THEN
        RAISE EXCEPTION 'note: --text is required';
    END IF;
    IF length(p_text) > 10000 THEN
        RAISE EXCEPTION 'note: at most 10000 characters';
    END IF;
    PERFORM cpr.append_event(c.id, p_actor, 'note', NULL,
                             jsonb_build_object('text', p_text));
    RETURN cpr.case_show(p_tracking);
END
$$;

REVOKE EXECUTE ON FUNCTION cpr.note(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cpr.note(text, text, text) TO cpr_staff;

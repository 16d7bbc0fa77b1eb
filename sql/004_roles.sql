-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   004_roles.sql - the three program roles and their grants
-- DESCRIPTION
--   cpr_milter, cpr_sweeper and cpr_staff are LOGIN roles without a
--   password: give them one (ALTER ROLE ... PASSWORD) or map OS users with
--   peer authentication. Each is granted only the SECURITY DEFINER functions
--   and the reads its program needs; none can UPDATE or DELETE receipts or
--   events directly. Later migrations add their functions to these grants.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cpr_milter', 'cpr_sweeper', 'cpr_staff'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
END
$$;

-- A later migration that forgets its REVOKE still exposes nothing.
ALTER DEFAULT PRIVILEGES IN SCHEMA cpr REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA cpr FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA cpr FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA cpr FROM PUBLIC;
GRANT USAGE ON SCHEMA cpr TO cpr_milter, cpr_sweeper, cpr_staff;

GRANT EXECUTE ON FUNCTION cpr.intake(text, text, text, jsonb, text, jsonb,
    text, text, text, text, text, jsonb, text, bigint, text, text, jsonb, jsonb, jsonb)
    TO cpr_milter;

GRANT EXECUTE ON FUNCTION cpr.case_list(boolean), cpr.case_show(text)
    TO cpr_staff, cpr_sweeper;
GRANT SELECT ON cpr.cases, cpr.messages, cpr.events TO cpr_staff, cpr_sweeper;

-- NAME
--   007_evidence.sql - the stored copy of each report and its evidence
-- DESCRIPTION
--   cpr-milter now understands what it records (see milter/report.c):
--     * messages.copy holds the decoded, redacted copy of an inbound
--       message (text parts with every private-key block replaced by a
--       marker, attachments as metadata and SHA-256): never raw MIME, never
--       a private key;
--     * cpr.evidence holds one row per certificate, CSR, key (its public
--       half only), crt.sh link, fingerprint or serial found in it, indexed
--       so that staff can find every case naming the same key;
--     * messages.priority/spam show upstream spam signals, which only
--       lower the priority and never drop a message or stop a clock.
--   cpr.intake gains p_report (copy, evidence, DSN references, priority,
--   spam) in one JSON argument.

ALTER TABLE cpr.messages ADD COLUMN copy jsonb;
ALTER TABLE cpr.messages ADD COLUMN priority text NOT NULL DEFAULT 'normal'
    CHECK (priority IN ('normal', 'low'));
ALTER TABLE cpr.messages ADD COLUMN spam text[] NOT NULL DEFAULT '{}';

CREATE TABLE cpr.evidence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cpr.cases (id),
    message_id    bigint NOT NULL REFERENCES cpr.messages (id),
    kind          text NOT NULL CHECK (kind IN ('certificate', 'csr', 'private-key',
                      'private-key-encrypted', 'private-key-truncated', 'crtsh',
                      'fingerprint', 'serial')),
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),        -- certificate
    spki_sha256   text CHECK (spki_sha256 ~ '^[0-9a-f]{64}$'),
    serial        text CHECK (serial ~ '^[0-9a-f]{1,128}$'),
    issuer        text,
    subject       text,
    sans          text,
    not_before    timestamptz,
    not_after     timestamptz,
    key_type      text,
    value         text,            -- crt.sh "id=123", fingerprint or serial as found
    sig_ok        boolean,
    proof         text CHECK (proof IN ('pock', 'csr', 'pwnedkeys')),
    reason        text NOT NULL
);
CREATE INDEX evidence_case_idx ON cpr.evidence (case_id);
CREATE INDEX evidence_message_idx ON cpr.evidence (message_id);
CREATE INDEX evidence_sha256_idx ON cpr.evidence (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX evidence_spki_idx ON cpr.evidence (spki_sha256) WHERE spki_sha256 IS NOT NULL;
CREATE INDEX evidence_serial_idx ON cpr.evidence (serial) WHERE serial IS NOT NULL;
CREATE INDEX evidence_value_idx ON cpr.evidence (kind, value) WHERE value IS NOT NULL;
CREATE TRIGGER evidence_immutable BEFORE UPDATE OR DELETE ON cpr.evidence
    FOR EACH ROW EXECUTE FUNCTION cpr.reject_change();
CREATE TRIGGER no_truncate_evidence BEFORE TRUNCATE ON cpr.evidence
    FOR EACH STATEMENT EXECUTE FUNCTION cpr.reject_change();
REVOKE ALL ON cpr.evidence FROM PUBLIC;

-- SPDX-License-Identifier: BSD-2-Clause
-- NAME
--   inventory-example.sql - an example issuance database for [source NAME] type = postgresql
-- SUMMARY
--   psql -d issuance -f inventory-example.sql
-- DESCRIPTION
--   cpr-sweeper reads the CA's own issuance database, read-only, through
--   four queries set in cpr-milter.conf(5). Each is a prepared statement
--   with one text parameter ($1) and returns rows with some of these
--   columns, found by name:
--     der             bytea: the certificate (preferred: every field is
--                     then taken from it, checked like report evidence)
--     pem             text: the certificate as PEM, when there is no der
--     sha256, serial, issuer, subject, sans, spki_sha256, not_before,
--     not_after, precertificate
--                     the fields, when the database keeps no certificate:
--                     sha256 (64 hex digits), serial (hex) and issuer (the
--                     RFC 2253 name, as `openssl x509 -issuer -nameopt
--                     RFC2253` prints it) are required; by_spki_sha256
--                     rows need spki_sha256
--     contact         text: the Subscriber's address (becomes one of the
--                     case's Subscribers)
--   The parameter of each query:
--     by_serial         the serial in lower-case hex without leading zeros
--     by_sha256         the certificate's SHA-256, 64 lower-case hex digits
--     by_spki_sha256    the SHA-256 of its SubjectPublicKeyInfo, likewise
--     by_issuer_serial  {"issuer": "CN=...,O=...", "serial": "43a9..."} (JSON)
--   A row that does not answer its query (another serial, say) is refused,
--   so a wrong query never attaches a stranger's certificate to a case.
--   The example keeps the columns the queries compare as computed
--   columns, indexed; a real issuance database has its own.
-- EXAMPLE
--   [inventory]
--   sources = issuance
--   [source issuance]
--   type = postgresql
--   conninfo_file = /etc/cpr-milter/inventory.conninfo
--   by_serial = SELECT der, contact FROM issued WHERE serial_hex = $1
--   by_sha256 = SELECT der, contact FROM issued WHERE sha256_hex = $1
--   by_spki_sha256 = SELECT der, contact FROM issued WHERE spki_sha256_hex = $1
--   by_issuer_serial = SELECT der, contact FROM issued WHERE serial_hex = ($1::jsonb)->>'serial' AND issuer_dn = ($1::jsonb)->>'issuer'

CREATE TABLE issued (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    der              bytea NOT NULL,
    serial_hex       text NOT NULL,     -- lower-case, no leading zeros
    sha256_hex       text GENERATED ALWAYS AS (encode(sha256(der), 'hex')) STORED,
    spki_sha256_hex  text NOT NULL,
    issuer_dn        text NOT NULL,     -- RFC 2253
    precertificate   boolean NOT NULL DEFAULT false,
    contact          text,              -- the Subscriber's address
    issued_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issued_serial_idx ON issued (serial_hex);
CREATE INDEX issued_sha256_idx ON issued (sha256_hex);
CREATE INDEX issued_spki_idx ON issued (spki_sha256_hex);

-- The role cpr-sweeper logs in as: it reads, nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cpr_inventory') THEN
        CREATE ROLE cpr_inventory LOGIN;
    END IF;
END
$$;
GRANT SELECT ON issued TO cpr_inventory;

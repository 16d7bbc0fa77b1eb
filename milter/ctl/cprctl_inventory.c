/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_inventory - cprctl affected and cprctl blocklist
 * SUMMARY
 *   cprctl affected TRACKING [--json]
 *   cprctl blocklist [--since DATE] [--format spki-sha256|pem-spki|json]
 * DESCRIPTION
 *   affected: the lookup's state (pending, failing with its error, done),
 *   the evidence that named no certificate of ours, the Subscribers, and
 *   each affected certificate (cpr.affected_list, 028_inventory.sql): how
 *   found, from which source, OCSP and CRL state with when each was
 *   checked. blocklist: every SPKI proven compromised (cpr.blocklist);
 *   spki-sha256 prints "HEX  # TRACKING EVIDENCE", pem-spki the public key
 *   as PEM when a certificate of ours carries it (else a comment saying
 *   there is none on record: keys themselves are never stored).
 * DIAGNOSTICS
 *   Exit 1 for an unknown case or a database error; 64 for a bad --format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cprctl.h"

/* ---- affected ---- */

static void
field(const char *label, const json_t *obj, const char *key)
{
    printf("    %-11s ", label);
    cprctl_value_print(json_object_get(obj, key));
    putchar('\n');
}

static void
mechanism(const char *label, const json_t *m)
{
    const char *state = json_string_value(json_object_get(m, "state"));

    printf("    %-11s %s", label, state ? state : "not checked yet");
    if (json_object_get(m, "revoked_at")) {
        fputs(" at ", stdout);
        cprctl_value_print(json_object_get(m, "revoked_at"));
    }
    if (json_object_get(m, "reason")) {
        fputs(" (", stdout);
        cprctl_value_print(json_object_get(m, "reason"));
        putchar(')');
    }
    if (json_object_get(m, "why")) {
        fputs(": ", stdout);
        cprctl_value_print(json_object_get(m, "why"));
    }
    if (json_object_get(m, "checked_at")) {
        fputs(", checked ", stdout);
        cprctl_value_print(json_object_get(m, "checked_at"));
    }
    putchar('\n');
}

static void
affected_print(const json_t *state, const json_t *certs)
{
    size_t i;
    const json_t *c, *v;

    printf("%s  lookup: ", json_string_value(json_object_get(state, "tracking")));
    cprctl_value_print(json_object_get(state, "state"));
    if ((v = json_object_get(state, "looked_up_at"))) {
        fputs(" at ", stdout);
        cprctl_value_print(v);
    }
    if ((v = json_object_get(state, "last_error"))) {
        fputs(" (last error: ", stdout);
        cprctl_value_print(v);
        putchar(')');
    }
    putchar('\n');
    json_array_foreach(json_object_get(state, "missing"), i, v) {
        fputs("  NOT FOUND: ", stdout);
        cprctl_value_print(v);
        putchar('\n');
    }
    if ((v = json_object_get(state, "subscribers"))) {
        fputs("  Subscribers: ", stdout);
        cprctl_value_print(v);
        putchar('\n');
    }
    printf("\nAffected certificates (%zu)\n", json_array_size(certs));
    json_array_foreach(certs, i, c) {
        printf("  %zu. serial ", i + 1);
        cprctl_value_print(json_object_get(c, "serial"));
        printf("%s%s\n", json_is_true(json_object_get(c, "precert")) ? "  (precertificate)" : "",
               json_is_true(json_object_get(c, "after_report"))
                   ? "  ISSUED AFTER THE REPORT ON A COMPROMISED KEY" : "");
        field("SHA-256:", c, "sha256");
        field("Subject:", c, "subject");
        field("Issuer:", c, "issuer");
        field("Not after:", c, "not_after");
        printf("    %-11s ", "Found by:");
        cprctl_value_print(json_object_get(c, "found_kind"));
        fputs(" ", stdout);
        cprctl_value_print(json_object_get(c, "found_value"));
        fputs(" in ", stdout);
        cprctl_value_print(json_object_get(c, "source"));
        fputs(" at ", stdout);
        cprctl_value_print(json_object_get(c, "found_at"));
        putchar('\n');
        mechanism("OCSP:", json_object_get(c, "ocsp"));
        mechanism("CRL:", json_object_get(c, "crl"));
    }
}

static json_t *
query_json(PGconn *conn, const char *sql, const char *param, const char *what)
{
    const char *params[1] = { param };
    PGresult *res = cprctl_exec(conn, sql, 1, params);
    json_t *rows = NULL;

    if (cprctl_db_ok(res, conn, what))
        rows = cprctl_db_rows_json(res);
    PQclear(res);
    return rows;
}

int
cmd_affected_run(PGconn *conn, const struct cprctl_opts *o)
{
    json_t *state = query_json(conn, "SELECT cpr.lookup_state($1)", o->tracking, "affected");
    json_t *certs = NULL, *out;
    int rc = CPRCTL_EX_FAIL;

    if (state && json_array_size(state) == 0)
        cprctl_say("affected: no case %s", o->tracking);
    else if (state && (certs = query_json(conn, "SELECT a FROM cpr.affected_list($1) AS a",
                                          o->tracking, "affected")) != NULL) {
        if (o->json) {
            out = json_deep_copy(json_array_get(state, 0));
            json_object_set(out, "certificates", certs);
            rc = cprctl_json_print(out);
            json_decref(out);
        } else {
            affected_print(json_array_get(state, 0), certs);
            rc = CPRCTL_EX_OK;
        }
    }
    json_decref(state);
    json_decref(certs);
    return rc;
}

/* ---- blocklist ---- */

int
cmd_blocklist_check(const char *cmd, struct cprctl_opts *o)
{
    if (!o->format)
        o->format = "spki-sha256";
    if (strcmp(o->format, "spki-sha256") != 0 && strcmp(o->format, "pem-spki") != 0
        && strcmp(o->format, "json") != 0)
        return cprctl_usage_error("%s: --format must be spki-sha256, pem-spki or json", cmd);
    return CPRCTL_EX_OK;
}

/* The public key of the certificate in a bytea column, as PEM. */
static bool
print_pubkey(const PGresult *res, int row)
{
    size_t n = 0;
    unsigned char *der;
    const unsigned char *p;
    X509 *x = NULL;
    bool ok = false;

    if (PQgetisnull(res, row, 4))
        return false;
    der = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 4), &n);
    p = der;
    if (der && (x = d2i_X509(NULL, &p, (long)n)) && X509_get0_pubkey(x))
        ok = PEM_write_PUBKEY(stdout, X509_get0_pubkey(x)) == 1;
    X509_free(x);
    PQfreemem(der);
    return ok;
}

static void
blocklist_line(const PGresult *res, int r, const char *format)
{
    if (strcmp(format, "spki-sha256") == 0) {
        printf("%s  # %s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
               PQgetvalue(res, r, 2));
        return;
    }
    printf("# SPKI SHA-256 %s, %s, %s, reported %s\n", PQgetvalue(res, r, 0),
           PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3));
    if (!print_pubkey(res, r))
        puts("# no public key on record: no certificate of ours carries it");
}

static int
blocklist_json(const PGresult *res)
{
    json_t *a = json_array();
    int rc;

    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
                                           "spki_sha256", PQgetvalue(res, r, 0),
                                           "tracking", PQgetvalue(res, r, 1),
                                           "evidence", PQgetvalue(res, r, 2),
                                           "reported_at", PQgetvalue(res, r, 3)));
    rc = cprctl_json_print(a);
    json_decref(a);
    return rc;
}

int
cmd_blocklist_run(PGconn *conn, const struct cprctl_opts *o)
{
    const char *params[1] = { o->since };
    PGresult *res = cprctl_exec(conn, "SELECT spki_sha256, tracking, evidence, reported_at, der "
                                      "FROM cpr.blocklist(cpr.audit_from($1))", 1, params);
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "blocklist")) {
        if (strcmp(o->format, "json") == 0)
            rc = blocklist_json(res);
        else {
            for (int r = 0; r < PQntuples(res); r++)
                blocklist_line(res, r, o->format);
            rc = CPRCTL_EX_OK;
        }
    }
    PQclear(res);
    return rc;
}

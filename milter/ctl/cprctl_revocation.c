/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_revocation - revocation-status: is a revocation published?
 * SUMMARY
 *   cprctl revocation-status CERT --issuer FILE [--ocsp-url URL]
 *          [--crl-url URL] [--at TIME] [--json]
 * DESCRIPTION
 *   Reads the certificate and its issuer (PEM or DER, at most
 *   REVOCATION_FILE_MAX bytes each), then asks each mechanism the
 *   certificate advertises (AIA OCSP, CRL distribution point) or that is
 *   given on the command line (which replaces the advertised URL) through
 *   io/revcheck, and prints each verdict with its time, reason and check
 *   time in ms. Needs no database. --at sets the clock the answers are
 *   judged by (default: now).
 * DIAGNOSTICS
 *   Exit 0 when every mechanism says revoked, 3 (CPRCTL_EX_GOOD) when any
 *   says good (the revocation is not published there), else 1: a
 *   mechanism unknown, no mechanism at all, or a file that cannot be read.
 */
#include "cprctl.h"
#include "now.h"
#include "revcheck.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#define REVOCATION_FILE_MAX (256 * 1024)

struct mech {
    const char *name;          /* "ocsp", "crl" */
    char *url;                 /* NULL: not advertised nor given */
    struct revstatus st;
    long long ms;
};

int
cmd_revocation_check(const char *cmd, struct cprctl_opts *o)
{
    long long t;

    if (o->ocsp_url && !revstatus_url_ok(o->ocsp_url))
        return cprctl_usage_error("%s: --ocsp-url must be an http:// or https:// URL", cmd);
    if (o->crl_url && !revstatus_url_ok(o->crl_url))
        return cprctl_usage_error("%s: --crl-url must be an http:// or https:// URL", cmd);
    if (o->at && !revstatus_time_parse(o->at, &t))
        return cprctl_usage_error("%s: --at is YYYY-MM-DDTHH:MM:SSZ or Unix seconds", cmd);
    return CPRCTL_EX_OK;
}

/* The certificate in path, or NULL (said). */
static X509 *
cert_load(const char *path, const char *what)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(REVOCATION_FILE_MAX + 1);
    size_t n = 0;
    X509 *x = NULL;

    if (f && buf)
        n = fread(buf, 1, REVOCATION_FILE_MAX + 1, f);
    if (!f)
        cprctl_say("cannot read the %s %s", what, path);
    else if (n > REVOCATION_FILE_MAX)
        cprctl_say("the %s %s is larger than %d bytes", what, path, REVOCATION_FILE_MAX);
    else if (!(x = revstatus_cert_parse(buf, n)))
        cprctl_say("the %s %s is not a certificate in PEM or DER", what, path);
    if (f)
        fclose(f);
    free(buf);
    return x;
}

static json_t *
mech_json(const struct mech *m)
{
    char t[32];
    json_t *j = json_pack("{s:s, s:s?, s:s, s:I}", "mechanism", m->name, "url", m->url,
                          "status", revstatus_state_name(m->st.state), "ms", (json_int_t) m->ms);

    if (m->st.state == REVSTATUS_REVOKED) {
        revstatus_time_format(m->st.revoked_at, t, sizeof(t));
        json_object_set_new(j, "revoked_at", json_string(t));
        json_object_set_new(j, "reason", json_string(revstatus_reason_name(m->st.reason)));
    }
    if (m->st.state == REVSTATUS_UNKNOWN)
        json_object_set_new(j, "why", json_string(m->st.why));
    if (m->st.this_update) {
        revstatus_time_format(m->st.this_update, t, sizeof(t));
        json_object_set_new(j, "this_update", json_string(t));
    }
    if (m->st.next_update) {
        revstatus_time_format(m->st.next_update, t, sizeof(t));
        json_object_set_new(j, "next_update", json_string(t));
    }
    return j;
}

static void
mech_text(const struct mech *m)
{
    char t[32], *line, *safe;
    const char *detail = m->st.why;

    if (m->st.state == REVSTATUS_REVOKED) {
        revstatus_time_format(m->st.revoked_at, t, sizeof(t));
        line = g_strdup_printf("%-5s revoked  %s %s  %lld ms  %s", m->name, t,
                               revstatus_reason_name(m->st.reason), m->ms, m->url);
    } else {
        if (m->st.state == REVSTATUS_GOOD)
            detail = "-";
        line = g_strdup_printf("%-5s %-8s %s  %lld ms  %s", m->name,
                               revstatus_state_name(m->st.state), detail, m->ms, m->url);
    }
    safe = text_sanitise(line);   /* the URL came from the certificate */
    printf("%s\n", safe ? safe : "");
    free(safe);
    g_free(line);
}

/* 0 all revoked, 3 any good, else 1. */
static int
verdict(const struct mech *m, size_t n)
{
    bool good = false, unknown = false;

    for (size_t i = 0; i < n; i++) {
        good |= m[i].st.state == REVSTATUS_GOOD;
        unknown |= m[i].st.state == REVSTATUS_UNKNOWN;
    }
    return good ? CPRCTL_EX_GOOD : unknown ? CPRCTL_EX_FAIL : CPRCTL_EX_OK;
}

static int
report(const struct mech *m, size_t n, bool json)
{
    int rc = verdict(m, n);
    json_t *arr, *top;
    int prc;

    if (!json) {
        for (size_t i = 0; i < n; i++)
            mech_text(&m[i]);
        return rc;
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, mech_json(&m[i]));
    top = json_pack("{s:s, s:o}", "verdict",
                    rc == CPRCTL_EX_OK ? "revoked" : rc == CPRCTL_EX_GOOD ? "good" : "unknown",
                    "checks", arr);
    prc = cprctl_json_print(top);
    json_decref(top);
    return prc != CPRCTL_EX_OK ? CPRCTL_EX_FAIL : rc;
}

static int
check_all(X509 *cert, X509 *issuer, const struct cprctl_opts *o, long long now)
{
    const struct revcheck_limits lim = REVCHECK_LIMITS_DEFAULT;
    struct mech m[2] = { { "ocsp", NULL, { 0 }, 0 }, { "crl", NULL, { 0 }, 0 } };
    int rc;

    m[0].url = o->ocsp_url ? strdup(o->ocsp_url) : revstatus_ocsp_url(cert);
    m[1].url = o->crl_url ? strdup(o->crl_url) : revstatus_crl_url(cert);
    if (!m[0].url && !m[1].url) {
        cprctl_say("no mechanism advertised: the certificate names no OCSP responder and no "
                   "CRL distribution point, and neither --ocsp-url nor --crl-url was given");
        return CPRCTL_EX_FAIL;
    }
    if (m[0].url)
        revcheck_ocsp(cert, issuer, m[0].url, &lim, now, &m[0].st, &m[0].ms);
    if (m[1].url)
        revcheck_crl(cert, issuer, m[1].url, &lim, now, &m[1].st, &m[1].ms);
    rc = report(m[0].url ? m : m + 1, m[0].url && m[1].url ? 2 : 1, o->json);
    free(m[0].url);
    free(m[1].url);
    return rc;
}

int
cmd_revocation_run(PGconn *conn, const struct cprctl_opts *o)
{
    X509 *cert = cert_load(o->cert_file, "certificate");
    X509 *issuer = cert ? cert_load(o->issuer_file, "issuer certificate") : NULL;
    long long now = now_wall_ms() / 1000;
    int rc = CPRCTL_EX_FAIL;

    (void) conn;
    if (o->at)
        revstatus_time_parse(o->at, &now);
    if (cert && issuer)
        rc = check_all(cert, issuer, o, now);
    X509_free(issuer);
    X509_free(cert);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probesend - cpr-sweeper sends the mail-path probes that are due
 * SUMMARY
 *   next_ms = probesend_round(conn, cfg, worker);
 * DESCRIPTION
 *   With [probe] send_url set, each round asks the database for the probes
 *   due now (cpr.probe_take: one per address every [probe] interval,
 *   staggered, variants in turn, each handed to one sweeper however many
 *   run), writes each one signed (probecompose.c; its mark's time and Date
 *   are the database's clock), sends it through the outside relay at
 *   send_url, with SMTP AUTH from credentials_file when set, and records
 *   the relay's answer (cpr.probe_sent): accepted, or the error and SMTP
 *   code. One attempt each: a probe the relay refused is a failed probe,
 *   and the next one comes an interval later.
 * DIAGNOSTICS
 *   One log line per probe sent or refused; never the secret or the
 *   password.
 */
#include "probesend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "log.h"
#include "probecompose.h"
#include "smtp.h"
#include "sweepdb.h"

static char *
json_of(char *const *v)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; a != NULL && v[i] != NULL; i++)
        json_array_append_new(a, json_string(v[i]));
    s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

/* The envelope sender: the address inside <...>, or the whole From. */
static char *
envelope_of(const char *from)
{
    const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    return lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strdup(from);
}

/* The SMTP AUTH login, when credentials_file is set. */
static bool
auth_read(const struct cpr_config *cfg, struct config_credentials *a)
{
    char *err = NULL;

    memset(a, 0, sizeof(*a));
    if (cfg->probe_credentials_file[0] == '\0')
        return true;
    if (config_read_credentials(cfg->probe_credentials_file, a, &err))
        return true;
    log_error("probe: [probe] credentials_file: %s", err);
    g_free(err);
    return false;
}

/* One SMTP attempt at the outside relay. */
static enum smtp_result
relay(const struct cpr_config *cfg, const struct sweep_probe *p, const struct config_credentials *a,
      const char *msg, char *err, size_t errlen)
{
    char *from = envelope_of(cfg->probe_from);
    char *to[] = { (char *)p->address, NULL };
    struct smtp_request req = { cfg->probe_send_url, from, to, msg, 0, NULL,
                                a->user, a->password };
    long code = 0;
    enum smtp_result r = smtp_send(&req, &code, err, errlen);

    g_free(from);
    return r;
}

/* Compose and send; the relay's answer as an error text (NULL: sent). */
static char *
send_one(const struct cpr_config *cfg, const struct sweep_probe *p,
         const struct config_credentials *a)
{
    struct probe_spec spec = { p->id, p->variant, cfg->probe_from, p->address, p->message_id,
                               p->mark_unix, (time_t)p->mark_unix };
    char err[256], *msg;
    enum smtp_result r;

    msg = probecompose(&spec, (const unsigned char *)cfg->probe_secret,
                       strlen(cfg->probe_secret), err, sizeof(err));
    if (msg == NULL)
        return g_strdup(err);
    r = relay(cfg, p, a, msg, err, sizeof(err));
    g_free(msg);
    return r == SMTP_SENT ? NULL : g_strdup(err);
}

static void
send_all(PGconn *conn, const struct cpr_config *cfg, const struct sweep_probe *v, size_t n)
{
    struct config_credentials a;
    bool authed = auth_read(cfg, &a);

    for (size_t i = 0; i < n; i++) {
        char *error = authed ? send_one(cfg, &v[i], &a)
                             : g_strdup("no SMTP credentials: [probe] credentials_file unreadable");

        if (error == NULL)
            log_info("probe %s (%s) sent to %s", v[i].id, v[i].variant, v[i].address);
        else
            log_warn("probe %s (%s) to %s not sent: %s", v[i].id, v[i].variant,
                     v[i].address, error);
        if (!sweepdb_probe_sent(conn, v[i].id, error, cfg->probe_imap_url[0] != '\0'))
            log_error("probe %s: its send was not recorded", v[i].id);
        g_free(error);
    }
    config_credentials_free(&a);
}

long long
probesend_round(PGconn *conn, const struct cpr_config *cfg, const char *worker)
{
    char *const *addrs = cfg->probe_addresses[0] ? cfg->probe_addresses : cfg->addresses;
    char *aj, *vj;
    struct sweep_probe *v = NULL;
    size_t n = 0;
    bool ok;

    if (cfg->probe_send_url[0] == '\0' || cfg->probe_secret == NULL)
        return 0;
    aj = json_of(addrs);
    vj = json_of(cfg->probe_variants);
    ok = aj && vj && sweepdb_probe_take(conn, aj, vj, cfg->probe_interval_ms, worker, &v, &n);
    free(aj);
    free(vj);
    if (!ok)
        return -1;
    if (n > 0)          /* the credentials file is read only when a probe is due */
        send_all(conn, cfg, v, n);
    free(v);
    return sweepdb_probe_next(conn);
}

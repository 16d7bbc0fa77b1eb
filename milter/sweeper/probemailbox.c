/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probemailbox - the probe sender looks for its probes in the mailbox
 * DESCRIPTION
 *   See probemailbox.h. Only Message-IDs of the probe domain are looked
 *   up, and the database says which of them are probes it made; a message
 *   is deleted only on its word, so nothing of staff's is touched.
 */
#include "probemailbox.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "imap.h"
#include "log.h"
#include "now.h"
#include "sweepdb.h"

#define PROBEMAILBOX_MAX_UIDS 256          /* probe messages looked at per folder and look */
#define PROBEMAILBOX_LOOKBACK (2 * 86400)  /* SINCE: probes of the last two days */
#define PROBEMAILBOX_TIMEOUT_MS 10000L   /* one IMAP command */
#define PROBEMAILBOX_BUDGET_MS 20000LL   /* one look, all commands: the sweeper's loop waits */

struct look {
    struct imap *imap;
    PGconn *conn;
    long long deadline_ms;     /* monotonic: the rest waits for the next look */
    bool db_failed;
    char err[256];
};

/* Whether the look still has time; a slow server never holds the
 * sweeper's pages back for long. */
static bool
in_time(struct look *l)
{
    if (now_mono_ms() < l->deadline_ms)
        return true;
    snprintf(l->err, sizeof(l->err), "the look took longer than %lld s; the rest waits for "
             "the next one", PROBEMAILBOX_BUDGET_MS / 1000);
    return false;
}

static bool
is_probe_id(const char *msgid)
{
    size_t n = strlen(msgid), d = strlen(IMAP_PROBE_DOMAIN);

    return n > d && g_ascii_strcasecmp(msgid + n - d, IMAP_PROBE_DOMAIN) == 0;
}

/* One probe message: record where it was, delete it if the database says so. */
static bool
look_one(struct look *l, const char *folder, bool junk, unsigned long uid)
{
    char msgid[256], id[80];

    if (!in_time(l) || !imap_message_id(l->imap, folder, uid, msgid, sizeof(msgid), l->err, sizeof(l->err)))
        return false;
    if (!is_probe_id(msgid))
        return true;
    if (!sweepdb_probe_found(l->conn, msgid, folder, junk, id, sizeof(id))) {
        l->db_failed = true;
        return false;
    }
    if (id[0] == '\0')
        return true;                /* not ours, or cpr-milter took it in as a report */
    if (!imap_delete(l->imap, folder, uid, l->err, sizeof(l->err)))
        return false;
    if (!sweepdb_probe_deleted(l->conn, id)) {
        l->db_failed = true;
        return false;
    }
    log_info("probe %s found in %s%s and deleted there", id, folder, junk ? " (junk)" : "");
    return true;
}

static bool
look_folder(struct look *l, const char *folder, bool junk)
{
    unsigned long uids[PROBEMAILBOX_MAX_UIDS];
    size_t n;

    if (!in_time(l) || !imap_search(l->imap, folder, time(NULL) - PROBEMAILBOX_LOOKBACK, uids,
                     PROBEMAILBOX_MAX_UIDS, &n, l->err, sizeof(l->err)))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!look_one(l, folder, junk, uids[i]))
            return false;
    return true;
}

/* The staff folder, then each junk folder. */
static bool
look_all(struct look *l, const struct cpr_config *cfg)
{
    gchar **junk = g_strsplit(cfg->probe_junk_folders, ",", -1);
    bool ok = look_folder(l, cfg->probe_mailbox, false);

    for (size_t i = 0; ok && junk[i] != NULL; i++)
        ok = look_folder(l, g_strstrip(junk[i]), true);
    g_strfreev(junk);
    return ok;
}

static bool
look(PGconn *conn, const struct cpr_config *cfg, char *err, size_t errlen, bool *db_failed)
{
    struct config_credentials cred;
    struct look l = { NULL, conn, now_mono_ms() + PROBEMAILBOX_BUDGET_MS, false, "" };
    char *cerr = NULL;
    bool ok;

    *db_failed = false;
    if (!config_read_credentials(cfg->probe_imap_credentials_file, &cred, &cerr)) {
        snprintf(err, errlen, "[probe] imap_credentials_file: %s", cerr);
        g_free(cerr);
        return false;
    }
    l.imap = imap_open(cfg->probe_imap_url, cred.user, cred.password, PROBEMAILBOX_TIMEOUT_MS,
                       l.err, sizeof(l.err));
    ok = l.imap != NULL && look_all(&l, cfg);
    imap_close(l.imap);
    config_credentials_free(&cred);
    *db_failed = l.db_failed;
    snprintf(err, errlen, "%s", l.err);
    return ok;
}

long long
probemailbox_round(struct probemailbox *m, PGconn *conn, const struct cpr_config *cfg,
                   long long now_ms)
{
    char err[256] = "";
    bool due, db_failed;

    if (cfg->probe_imap_url[0] == '\0' || cfg->probe_send_url[0] == '\0')
        return 0;
    if (now_ms < m->next_ms)
        return m->next_ms - now_ms;
    if (!sweepdb_probe_mailbox_due(conn, &due))
        return -1;
    m->next_ms = now_ms + cfg->probe_mailbox_poll_ms;
    if (!due)
        return cfg->probe_mailbox_poll_ms;
    if (look(conn, cfg, err, sizeof(err), &db_failed)) {
        if (m->failing)
            log_info("probe mailbox: %s can be read again", cfg->probe_imap_url);
        m->failing = false;
    } else if (db_failed) {
        return -1;
    } else if (!m->failing) {
        log_warn("probe mailbox: cannot look for probes at %s: %s (logged once until it "
                 "recovers; probes will fail as not in the mailbox)", cfg->probe_imap_url, err);
        m->failing = true;
    }
    return cfg->probe_mailbox_poll_ms;
}

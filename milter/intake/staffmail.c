/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   staffmail - staff replies seen on the authenticated submission path
 * DESCRIPTION
 *   See staffmail.h for the rule. The session test trusts only what the
 *   MTA says about the connection ({auth_authen}, {daemon_name}), never an
 *   address in the message. Tracking numbers are looked for in the decoded
 *   Subject, then in the decoded text parts of the first
 *   STAFFMAIL_SCAN_BYTES of the message (a staff client may send
 *   quoted-printable or base64). The internal domains are [milter]
 *   internal_domains and the domains of [milter] addresses.
 * DIAGNOSTICS
 *   staffmail_record() returns the db_query() status; the caller
 *   tempfails on anything but DB_OK, so a response is never lost.
 */
#include "staffmail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <jansson.h>

#include "mime.h"

#define STAFFMAIL_SQL \
    "SELECT tracking, outcome FROM cpr.record_outbound($1, $2, $3, $4::jsonb, $5, " \
    "$6::jsonb, $7, $8, $9, $10::jsonb, $11, $12::bigint, $13::jsonb, $14::jsonb)"
#define STAFFMAIL_PARAMS 14

bool
staffmail_session(const struct cpr_message *m, const struct cpr_config *cfg)
{
    if (m->auth_authen == NULL || *m->auth_authen == '\0' || m->daemon_name == NULL)
        return false;
    for (char **d = cfg->submission_daemons; d && *d; d++)
        if (strcasecmp(*d, m->daemon_name) == 0)
            return true;
    return false;
}

bool
staffmail_automated(const struct cpr_message *m)
{
    const char *h = message_header(m, "Auto-Submitted");

    if (h == NULL)
        return false;
    h += strspn(h, " \t\r\n");
    return !(strncasecmp(h, "no", 2) == 0 && strspn(h + 2, " \t\r\n;(") == strlen(h + 2));
}

/* Add every tracking number of text[0..len) not yet in out. */
static size_t
find_all(const char *text, size_t len, char (*out)[TRACKING_MAX], size_t n, size_t max)
{
    char *copy = strndup(text, len), found[TRACKING_MAX];
    const char *p = copy, *at;

    if (copy == NULL)
        return n;
    while (n < max && (at = tracking_find(p, found, sizeof(found))) != NULL) {
        bool seen = false;

        for (size_t i = 0; i < n; i++)
            seen = seen || strcmp(out[i], found) == 0;
        if (!seen)
            snprintf(out[n++], TRACKING_MAX, "%s", found);
        p = at + strlen(found);
    }
    free(copy);
    return n;
}

size_t
staffmail_trackings(const struct cpr_message *m, char (*out)[TRACKING_MAX], size_t max,
                    bool subject_only)
{
    struct mime_doc *d;
    size_t n = 0;

    if (m->subject != NULL)
        n = find_all(m->subject, strlen(m->subject), out, n, max);
    if (subject_only || m->raw == NULL || n >= max
        || (d = mime_parse(m->raw, m->raw_len, NULL)) == NULL)
        return n;
    for (size_t i = 0; i < d->ntexts && n < max; i++)
        n = find_all(d->texts[i].text, d->texts[i].len < STAFFMAIL_TEXT_SCAN
                     ? d->texts[i].len : STAFFMAIL_TEXT_SCAN, out, n, max);
    mime_doc_free(d);
    return n;
}

/* [milter] internal_domains and, always, the domains of our CPR
 * addresses: a copy to the CPR mailbox is never a response. */
static char *
internal_domains_json(const struct cpr_config *cfg)
{
    json_t *a = json_array();
    char *s;

    for (char **d = cfg->internal_domains; d && *d; d++)
        json_array_append_new(a, json_string(*d));
    for (char **ad = cfg->addresses; ad && *ad; ad++) {
        const char *at = strrchr(*ad, '@');

        if (at != NULL && at[1] != '\0')
            json_array_append_new(a, json_string(at + 1));
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static bool
staffmail_read(PGresult *res, void *arg, char *err, size_t errlen)
{
    struct staffmail_result *out = arg;

    if (PQntuples(res) != 1 || PQnfields(res) != 2) {
        snprintf(err, errlen, "record_outbound: unexpected result shape");
        return false;
    }
    snprintf(out->tracking, sizeof(out->tracking), "%.*s", TRACKING_MAX - 1,
             PQgetvalue(res, 0, 0));
    snprintf(out->outcome, sizeof(out->outcome), "%.*s", (int)sizeof(out->outcome) - 1,
             PQgetvalue(res, 0, 1));
    return true;
}

enum db_status
staffmail_record(struct db_pool *pool, const struct cpr_message *m,
                 const struct cpr_config *cfg, char (*trackings)[TRACKING_MAX], size_t n,
                 struct staffmail_result *res, char *err, size_t errlen)
{
    char *tv[STAFFMAIL_MAX_TRACKINGS], hex[65], bytes[32];
    char *owned[5];
    char *text[STAFFMAIL_PARAMS] = { NULL };   /* made valid UTF-8 */
    const char *v[STAFFMAIL_PARAMS];
    enum db_status st;

    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < n && i < STAFFMAIL_MAX_TRACKINGS; i++)
        tv[i] = trackings[i];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", m->body_sha256[i]);
    snprintf(bytes, sizeof(bytes), "%lld", m->body_bytes);
    owned[0] = db_json_strv(m->references, m->nreferences);
    owned[1] = db_json_strv(m->rcpts, m->nrcpts);
    owned[2] = db_json_headers(m);
    owned[3] = db_json_strv(tv, n < STAFFMAIL_MAX_TRACKINGS ? n : STAFFMAIL_MAX_TRACKINGS);
    owned[4] = internal_domains_json(cfg);
    v[0] = m->queue_id; v[1] = m->message_id; v[2] = m->in_reply_to; v[3] = owned[0];
    v[4] = m->env_from ? m->env_from : ""; v[5] = owned[1]; v[6] = m->client_addr;
    v[7] = m->auth_authen; v[9] = owned[2]; v[10] = hex;
    v[8] = text[8] = m->subject ? db_text_safe(m->subject) : NULL;
    v[11] = bytes; v[12] = owned[3]; v[13] = owned[4];
    for (int i = 0; i <= 7; i++)      /* the text fields: through the key gate */
        if (v[i] != NULL && text[i] == NULL && i != 3 && i != 5)
            v[i] = text[i] = db_text_safe(v[i]);
    for (int i = 0; i < STAFFMAIL_PARAMS; i++)
        if (v[i] != NULL && text[i] == NULL && !g_utf8_validate(v[i], -1, NULL))
            v[i] = text[i] = g_utf8_make_valid(v[i], -1);
    st = db_query(pool, STAFFMAIL_SQL, STAFFMAIL_PARAMS, v, staffmail_read, res, err, errlen);
    for (int i = 0; i < 5; i++)
        free(owned[i]);
    for (int i = 0; i < STAFFMAIL_PARAMS; i++)
        g_free(text[i]);
    return st;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probecheck - recognise a mail-path probe at end of message
 * SUMMARY
 *   switch (probecheck_message(pool, cfg, msg, why, sizeof why)) { ... }
 * DESCRIPTION
 *   A message is a probe only when all of these hold, in this order:
 *     * [probe] secret_file is set (cfg->probe_secret was read);
 *     * it carries a CPR-Probe mark as the body's first "CPR-Probe:" line
 *       (the one line the body hash leaves out, so it may hold nothing
 *       else), equal to the CPR-Probe header when there is one, and no
 *       second header;
 *     * all its headers were kept, no signed header (Subject, Date,
 *       MIME-Version, Content-Type, Content-Transfer-Encoding) is given
 *       twice and no other Content-* header is present;
 *     * it has exactly one recipient, a Message-ID, and its whole body was
 *       kept (not cut at max_message_bytes);
 *     * the HMAC verifies (probemark_verify) over the id, time, recipient,
 *       Message-ID, canonical body and the signed headers as they arrived;
 *     * cpr.probe_seen() accepts it: a probe the sender recorded, to this
 *       address, not seen before, with the mark's time within [probe]
 *       max_age of the database clock. That call stamps milter_seen_at.
 *   Any other mark is refused, and the caller takes the message in as an
 *   ordinary report with its full clocks: a mark never silences a report.
 * DIAGNOSTICS
 *   why says what was refused or failed; it never holds the secret.
 */
#include "probecheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "probemark.h"

#define PROBECHECK_SQL "SELECT cpr.probe_seen($1, $2, $3::bigint, $4::bigint)"
#define PROBECHECK_PARAMS 4
#define PROBECHECK_VERDICT_MAX 32

/* The one CPR-Probe header, or NULL; *many when there are several. */
static const char *
probecheck_header(const struct cpr_message *m, bool *many)
{
    const char *found = NULL;

    *many = false;
    for (size_t i = 0; i < m->nheaders; i++) {
        if (strcasecmp(m->headers[i].name, PROBEMARK_HEADER) != 0)
            continue;
        *many = found != NULL;
        found = m->headers[i].value;
    }
    return found;
}

static bool
probecheck_same(const struct probemark *a, const struct probemark *b)
{
    return strcmp(a->id, b->id) == 0 && a->sent == b->sent && strcmp(a->mac, b->mac) == 0;
}

/* The mark of m into *pm: 1 found, 0 none, -1 malformed or ambiguous. The
 * body's first CPR-Probe: line is left out of the body hash, so it must be
 * the mark itself, and the header's when there is one. */
static int
probecheck_mark(const struct cpr_message *m, struct probemark *pm, const char **why)
{
    const char *body = m->raw_body_at > 0 ? m->raw + m->raw_body_at : NULL;
    size_t blen = body ? m->raw_len - m->raw_body_at : 0;
    const char *h;
    struct probemark hm;
    bool many, hok, bok;

    h = probecheck_header(m, &many);
    bok = probemark_find_body(body, blen, pm);
    if (h == NULL && !bok && !probemark_body_has_mark_line(body, blen))
        return 0;
    hok = h != NULL && probemark_parse(h, &hm);
    *why = many ? "more than one CPR-Probe header"
         : (h != NULL && !hok) ? "malformed CPR-Probe header"
         : !bok ? "the body's first CPR-Probe: line is missing or not a mark"
         : (hok && !probecheck_same(pm, &hm)) ? "header and body marks differ"
         : NULL;
    return *why != NULL ? -1 : 1;
}

/* The headers of m for probemark_headers_hash; NULL when out of memory. */
static struct probemark_header *
probecheck_headers(const struct cpr_message *m)
{
    struct probemark_header *h = calloc(m->nheaders + 1, sizeof(*h));

    for (size_t i = 0; h != NULL && i < m->nheaders; i++) {
        h[i].name = m->headers[i].name;
        h[i].value = m->headers[i].value;
    }
    return h;
}

/* Hash the body and the headers a reader sees into s; NULL or why not. */
static const char *
probecheck_hashes(const struct cpr_message *m, struct probemark_subject *s)
{
    struct probemark_header *h;
    const char *why = NULL;

    if (m->headers_truncated)
        return "more headers than were kept";
    if (!probemark_body_hash(m->raw + m->raw_body_at, m->raw_len - m->raw_body_at,
                             s->body_sha256))
        return "cannot hash the body";
    if ((h = probecheck_headers(m)) == NULL)
        return "out of memory";
    if (!probemark_headers_hash(h, m->nheaders, s->headers_sha256, &why) && why == NULL)
        why = "cannot hash the headers";
    free(h);
    return why;
}

/* Everything that can be checked without the database. */
static const char *
probecheck_local(const struct cpr_config *cfg, const struct cpr_message *m,
                 const struct probemark *pm)
{
    struct probemark_subject s;
    const unsigned char *key = (const unsigned char *)cfg->probe_secret;
    const char *why;

    if (m->nrcpts != 1 || m->message_id == NULL)
        return "not exactly one recipient, or no Message-ID";
    if (m->raw_truncated || m->raw_body_at == 0)
        return "the body was not kept whole";
    s.recipient = m->rcpts[0];
    s.message_id = m->message_id;
    if ((why = probecheck_hashes(m, &s)) != NULL)
        return why;
    if (!probemark_verify(key, strlen(cfg->probe_secret), pm, &s))
        return "the mark does not verify (forged, or the message was changed)";
    return NULL;
}

static bool
probecheck_read(PGresult *res, void *arg, char *err, size_t errlen)
{
    char *verdict = arg;

    if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)) {
        snprintf(err, errlen, "cpr.probe_seen returned no verdict");
        return false;
    }
    snprintf(verdict, PROBECHECK_VERDICT_MAX, "%s", PQgetvalue(res, 0, 0));
    return true;
}

static enum probecheck
probecheck_db(struct db_pool *pool, const struct cpr_config *cfg, const struct cpr_message *m,
              const struct probemark *pm, char *why, size_t whylen)
{
    char sent[24], age[24], verdict[PROBECHECK_VERDICT_MAX] = "", err[256];
    const char *v[PROBECHECK_PARAMS] = { pm->id, m->rcpts[0], sent, age };

    snprintf(sent, sizeof(sent), "%lld", (long long)pm->sent);
    snprintf(age, sizeof(age), "%lld", cfg->probe_max_age_ms);
    if (db_query(pool, PROBECHECK_SQL, PROBECHECK_PARAMS, v, probecheck_read, verdict, err,
                 sizeof(err)) != DB_OK) {
        snprintf(why, whylen, "probe %s: %s", pm->id, err);
        return PROBECHECK_DB_FAILED;
    }
    if (strcmp(verdict, "probe") == 0) {
        snprintf(why, whylen, "probe %s", pm->id);
        return PROBECHECK_PROBE;
    }
    snprintf(why, whylen, "probe mark %s refused: %s", pm->id, verdict);
    return PROBECHECK_REFUSED;
}

enum probecheck
probecheck_message(struct db_pool *pool, const struct cpr_config *cfg,
                   const struct cpr_message *m, char *why, size_t whylen)
{
    struct probemark pm;
    const char *local = NULL;
    int found;

    snprintf(why, whylen, "no probe mark");
    if (cfg->probe_secret == NULL || (found = probecheck_mark(m, &pm, &local)) == 0)
        return PROBECHECK_NONE;
    if (found > 0)
        local = probecheck_local(cfg, m, &pm);
    if (local != NULL) {
        snprintf(why, whylen, "probe mark refused: %s", local);
        return PROBECHECK_REFUSED;
    }
    return probecheck_db(pool, cfg, m, &pm, why, whylen);
}

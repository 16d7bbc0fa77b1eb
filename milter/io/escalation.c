/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   escalation - the tiers and channels of a config, ready to page
 * DESCRIPTION
 *   See escalation.h. Owns every string it puts into struct escalation's
 *   channels and tiers; escalation_free releases them all.
 */
#include "escalation.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

/* The channel's secret, inline or from a file (pager_types[] says which
 * key); none for a type without one, or an optional one left unset. */
static bool
channel_secret(const struct config_channel *cc, enum pager_type type, char **out,
               char **err)
{
    const struct pager_type_info *t = &pager_types[type];
    const char *inline_value, *file;

    *out = NULL;
    if (t->secret_off == 0 && t->secret_file_off == 0)
        return true;
    inline_value = *(char *const *) ((const char *) cc + t->secret_off);
    file = *(char *const *) ((const char *) cc + t->secret_file_off);
    if (t->secret_optional && *inline_value == '\0' && *file == '\0')
        return true;
    return (*out = config_read_secret(inline_value, file, err)) != NULL;
}

/* A URL may be a secret too (Slack): inline or from a file; "" = default. */
static bool
channel_url(const struct config_channel *cc, char **out, char **err)
{
    *out = NULL;
    if (*cc->url == '\0' && *cc->url_file == '\0')
        return true;
    return (*out = config_read_secret(cc->url, cc->url_file, err)) != NULL;
}

static bool
channel_build(const struct config_channel *cc, struct pager_channel *pc, char **err)
{
    char *secret = NULL, *url = NULL;

    memset(pc, 0, sizeof(*pc));
    if (!pager_type_parse(cc->type, &pc->type)) {
        *err = g_strdup_printf("[channel %s] type: unknown type \"%s\"", cc->name, cc->type);
        return false;
    }
    if (!channel_secret(cc, pc->type, &secret, err) || !channel_url(cc, &url, err)) {
        g_free(secret);
        return false;
    }
    pc->name = g_strdup(cc->name);
    pc->secret = secret;
    pc->url = url;
    pc->to = g_strjoinv(", ", cc->to);
    pc->from = g_strdup(cc->from);
    pc->smtp_url = g_strdup(cc->smtp_url);
    pc->ca_file = *cc->ca_file ? g_strdup(cc->ca_file) : NULL;
    pc->resolve = cc->resolve;
    return true;
}

static size_t
channel_index(const struct escalation *s, const char *name)
{
    for (size_t i = 0; i < s->nchannels; i++)
        if (strcmp(s->channels[i].name, name) == 0)
            return i;
    return s->nchannels;
}

static char *
names_json(char *const *names)
{
    json_t *a = json_array();
    char *dumped, *out;

    for (size_t i = 0; names[i] != NULL; i++)
        json_array_append_new(a, json_string(names[i]));
    dumped = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    out = g_strdup(dumped);
    free(dumped);
    return out;
}

static bool
tier_build(struct escalation *s, const struct config_tier *ct, struct escalation_tier *t,
           char **err)
{
    size_t n = g_strv_length(ct->channels);

    t->name = g_strdup(ct->name);
    t->channels = g_new0(size_t, n ? n : 1);
    t->channels_json = names_json(ct->channels);
    for (size_t i = 0; i < n; i++) {
        t->channels[i] = channel_index(s, ct->channels[i]);
        if (t->channels[i] == s->nchannels) {
            *err = g_strdup_printf("[tier %s] channels: no [channel %s]", ct->name,
                                   ct->channels[i]);
            return false;
        }
        t->nchannels++;
    }
    return true;
}

static void
policy_build(const struct cpr_config *cfg, struct escalation *s)
{
    deadline_policy_from_config(cfg, (int)s->ntiers, &s->policy);
    s->retry_max = (int)cfg->retry_max;
    s->show_reporter = cfg->paging_show_reporter;
    pagetext_severities_default(&s->severities);
    for (int i = 0; i < CONFIG_CATEGORIES; i++)
        pagetext_severity_parse(cfg->paging_severity[i], &s->severities.by_category[i]);
    s->retry_base_ms = cfg->retry_base_ms;
    s->retry_cap_ms = cfg->retry_cap_ms;
}

/* Every channel of every tier, once each: where a breach goes. */
static char *
tier_channels_json(const struct escalation *s)
{
    char **names = g_new0(char *, s->nchannels + 1);
    size_t n = 0;
    char *json;

    for (size_t c = 0; c < s->nchannels; c++)
        for (size_t t = 0; t < s->ntiers; t++)
            for (size_t k = 0; k < s->tiers[t].nchannels; k++)
                if (s->tiers[t].channels[k] == c && (n == 0 || names[n - 1] != s->channels[c].name))
                    names[n++] = (char *)s->channels[c].name;
    json = names_json(names);
    g_free(names);
    return json;
}

bool
escalation_build(const struct cpr_config *cfg, struct escalation *s, char **err)
{
    size_t ntiers = g_strv_length(cfg->tiers);

    s->channels = g_new0(struct pager_channel, cfg->nchannel_defs ? cfg->nchannel_defs : 1);
    for (size_t i = 0; i < cfg->nchannel_defs; i++, s->nchannels++)
        if (!channel_build(&cfg->channel_defs[i], &s->channels[i], err))
            goto fail;
    s->tiers = g_new0(struct escalation_tier, ntiers ? ntiers : 1);
    for (size_t i = 0; i < ntiers; i++, s->ntiers++) {
        const struct config_tier *ct = config_tier(cfg, cfg->tiers[i]);

        if (ct == NULL) {
            *err = g_strdup_printf("[escalation] tiers: no [tier %s]", cfg->tiers[i]);
            goto fail;
        }
        if (!tier_build(s, ct, &s->tiers[i], err)) {
            s->ntiers++;
            goto fail;
        }
    }
    s->all_channels_json = tier_channels_json(s);
    policy_build(cfg, s);
    return true;
fail:
    escalation_free(s);
    return false;
}

void
escalation_free(struct escalation *s)
{
    for (size_t i = 0; i < s->nchannels; i++) {
        struct pager_channel *c = &s->channels[i];

        g_free((char *)c->name);
        g_free((char *)c->url);
        g_free((char *)c->secret);
        g_free((char *)c->to);
        g_free((char *)c->from);
        g_free((char *)c->smtp_url);
        g_free((char *)c->ca_file);
    }
    for (size_t i = 0; i < s->ntiers; i++) {
        g_free(s->tiers[i].name);
        g_free(s->tiers[i].channels);
        g_free(s->tiers[i].channels_json);
    }
    g_free(s->channels);
    g_free(s->tiers);
    g_free(s->all_channels_json);
    s->channels = NULL;
    s->tiers = NULL;
    s->all_channels_json = NULL;
    s->nchannels = s->ntiers = 0;
}

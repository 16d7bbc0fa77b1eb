/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   config_sweeper - what cpr-sweeper asks of the configuration
 * SUMMARY
 *   if (!config_check_sweeper(cfg, &err)) exit(CPR_EX_CONFIG);
 * DESCRIPTION
 *   Checks the escalation ladder as a whole, which config_load cannot do
 *   key by key: the tiers listed and the [tier NAME] sections agree, every
 *   channel named exists, and each channel has what its type needs and
 *   nothing it would ignore (pager_types[], core/pagertype.c). Looks tiers and channels up
 *   by name. Secrets are read by config_secret.c, so that the main config
 *   can stay world-readable while the secrets are readable by the
 *   programs only.
 * DIAGNOSTICS
 *   Errors are "file:line: [section] key: problem", with the line of the
 *   key, else of the section header; without a line when neither is known.
 */
#include "config.h"
#include "pagertype.h"
#include "pagetext.h"

#include <string.h>

#include <glib.h>

#define SECTION_MAX (sizeof("channel ") + CONFIG_NAME_MAX)

/* ---- lookups ---- */

const struct config_tier *
config_tier(const struct cpr_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->ntier_defs; i++)
        if (strcmp(cfg->tier_defs[i].name, name) == 0)
            return &cfg->tier_defs[i];
    return NULL;
}

const struct config_channel *
config_channel(const struct cpr_config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->nchannel_defs; i++)
        if (strcmp(cfg->channel_defs[i].name, name) == 0)
            return &cfg->channel_defs[i];
    return NULL;
}

/* ---- the ladder ---- */

static bool
config_check_tier(const struct cpr_config *cfg, const struct config_tier *t,
                  char **err)
{
    char section[SECTION_MAX];
    size_t i;

    snprintf(section, sizeof(section), "tier %s", t->name);
    if (!g_strv_contains((const char *const *) cfg->tiers, t->name))
        return config_fail(cfg, err, section, NULL,
                           "not listed in [escalation] tiers");
    if (t->channels[0] == NULL)
        return config_fail(cfg, err, section, "channels",
                           "at least one channel required");
    for (i = 0; t->channels[i] != NULL; i++)
        if (config_channel(cfg, t->channels[i]) == NULL)
            return config_fail(cfg, err, section, "channels",
                               "no [channel %s] section", t->channels[i]);
    return true;
}

static bool
config_check_ladder(const struct cpr_config *cfg, char **err)
{
    size_t i;

    if (cfg->tiers[0] == NULL)
        return config_fail(cfg, err, "escalation", "tiers",
                           "at least one tier required");
    for (i = 0; cfg->tiers[i] != NULL; i++)
        if (config_tier(cfg, cfg->tiers[i]) == NULL)
            return config_fail(cfg, err, "escalation", "tiers",
                               "no [tier %s] section", cfg->tiers[i]);
    for (i = 0; i < cfg->ntier_defs; i++)
        if (!config_check_tier(cfg, &cfg->tier_defs[i], err))
            return false;
    return true;
}

/* ---- channels ---- */

static const struct config_key *
channel_key(const char *name)
{
    const struct config_key *k;

    for (k = config_keys; k->key != NULL; k++)
        if (strcmp(k->section, "channel *") == 0 && strcmp(k->key, name) == 0)
            return k;
    return NULL;
}

/* A non-empty value (list) of key name; unknown names are never set. */
static bool
channel_has(const struct config_channel *ch, const char *name)
{
    const struct config_key *k = channel_key(name);
    const void *field;

    if (k == NULL)
        return false;
    field = (const char *) ch + k->offset;
    if (k->type == CONFIG_BOOL || k->type == CONFIG_INT || k->type == CONFIG_DURATION)
        return true;            /* always has a value; config_line says if set */
    if (k->type == CONFIG_RECIPIENTS)
        return *(char **const *) field != NULL
               && (*(char **const *) field)[0] != NULL;
    return *(char *const *) field != NULL && **(char *const *) field != '\0';
}

/* Keys set in the file that the type ignores, and secrets given twice. */
static bool
config_check_keys(const struct cpr_config *cfg, const struct config_channel *ch,
                  const struct pager_type_info *r, const char *section, char **err)
{
    const struct config_key *k;
    char pad[CONFIG_NAME_MAX + 3], *twin;
    bool both;

    for (k = config_keys; k->key != NULL; k++) {
        if (strcmp(k->section, "channel *") != 0 || !channel_has(ch, k->key)
            || config_line(cfg, section, k->key) == 0)
            continue;
        snprintf(pad, sizeof(pad), " %s ", k->key);
        if (strstr(r->uses, pad) == NULL)
            return config_fail(cfg, err, section, k->key,
                               "not used by type %s", ch->type);
        if (!g_str_has_suffix(k->key, "_file"))
            continue;
        twin = g_strndup(k->key, strlen(k->key) - strlen("_file"));
        both = channel_has(ch, twin);
        if (both)
            config_fail(cfg, err, section, k->key,
                        "%s is set too; give one of them", twin);
        g_free(twin);
        if (both)
            return false;
    }
    return true;
}

/* A URL given inline has the scheme its channel speaks; one in a file is
 * checked when it is used. */
static bool
config_check_url(const struct cpr_config *cfg, const struct config_channel *ch,
                 const struct pager_type_info *t, const char *section, char **err)
{
    const struct config_key *k = channel_key(t->url_key);
    const char *url = k != NULL ? *(char *const *) ((const char *) ch + k->offset) : "";
    const char *a = t->url_schemes[0], *b = t->url_schemes[1];

    if (url == NULL || *url == '\0' || g_ascii_strncasecmp(url, a, strlen(a)) == 0
        || g_ascii_strncasecmp(url, b, strlen(b)) == 0)
        return true;
    return config_fail(cfg, err, section, t->url_key, "must start with %s or %s", a, b);
}

_Static_assert(CONFIG_CATEGORIES == CATEGORY_COUNT, "one severity key per category");

/* [paging] severity.CATEGORY: one of the words pagetext knows. */
static bool
config_check_severities(const struct cpr_config *cfg, char **err)
{
    enum pagetext_severity sev;
    char key[64];

    for (int i = 0; i < CONFIG_CATEGORIES; i++) {
        if (pagetext_severity_parse(cfg->paging_severity[i], &sev))
            continue;
        snprintf(key, sizeof(key), "severity.%s", category_name((enum category_id) i));
        return config_fail(cfg, err, "paging", key, "must be critical, error, warning or info");
    }
    return true;
}

static bool
config_check_channel(const struct cpr_config *cfg,
                     const struct config_channel *ch, char **err)
{
    char section[SECTION_MAX], file[CONFIG_NAME_MAX], types[128];
    const struct pager_type_info *r = pager_type_find(ch->type);

    snprintf(section, sizeof(section), "channel %s", ch->name);
    if (r == NULL || strcmp(ch->type, r->name) != 0) {   /* the file says it exactly */
        pager_type_list(types, sizeof(types));
        return config_fail(cfg, err, section, "type", "required: %s", types);
    }
    if (!config_check_keys(cfg, ch, r, section, err)
        || !config_check_url(cfg, ch, r, section, err))
        return false;
    if (ch->poll && !channel_has(ch, "api_key") && !channel_has(ch, "api_key_file"))
        return config_fail(cfg, err, section, "poll", "needs api_key or api_key_file");
    if (ch->api_url != NULL && *ch->api_url != '\0'
        && g_ascii_strncasecmp(ch->api_url, "https://", 8) != 0
        && g_ascii_strncasecmp(ch->api_url, "http://", 7) != 0)
        return config_fail(cfg, err, section, "api_url", "must start with https:// or http://");
    snprintf(file, sizeof(file), "%s_file", r->needs);
    if (channel_has(ch, r->needs) || channel_has(ch, file))
        return true;
    if (channel_key(file) == NULL)
        return config_fail(cfg, err, section, NULL, "type %s needs %s",
                           r->name, r->needs);
    return config_fail(cfg, err, section, NULL, "type %s needs %s or %s",
                       r->name, r->needs, file);
}

bool
config_check_sweeper(const struct cpr_config *cfg, char **err)
{
    size_t i;

    if (!config_check_ladder(cfg, err))
        return false;
    for (i = 0; i < cfg->nchannel_defs; i++)
        if (!config_check_channel(cfg, &cfg->channel_defs[i], err))
            return false;
    if (cfg->retry_cap_ms < cfg->retry_base_ms)
        return config_fail(cfg, err, "sweeper", "retry_cap",
                           "shorter than retry_base");
    if (!config_check_listen(cfg, err, "sweeper", cfg->sweeper_metrics_listen))
        return false;
    if (!config_check_inventory(cfg, err))
        return false;
    if (!config_check_severities(cfg, err))
        return false;
    return config_check_probe(cfg, err);
}

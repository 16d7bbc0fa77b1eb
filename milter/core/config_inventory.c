/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   config_inventory - what the lookup worker asks of [inventory]
 * SUMMARY
 *   if (!config_check_inventory(cfg, &err)) exit(CPR_EX_CONFIG);
 * DESCRIPTION
 *   The sources listed in [inventory] sources and the [source NAME]
 *   sections agree; each has a type and what it needs: a postgresql source
 *   a conninfo_file and at least one query, a directory source a path and
 *   no query (which it would ignore). Looks sources up by name.
 * DIAGNOSTICS
 *   Errors are "file:line: [section] key: problem" (config_fail).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#define SOURCE_SECTION_MAX (sizeof("source ") + CONFIG_NAME_MAX)

const struct config_source *
config_source(const struct cpr_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsource_defs; i++)
        if (strcmp(cfg->source_defs[i].name, name) == 0)
            return &cfg->source_defs[i];
    return NULL;
}

static bool
source_has_query(const struct config_source *s)
{
    return *s->by_serial || *s->by_sha256 || *s->by_spki_sha256 || *s->by_issuer_serial;
}

static bool
config_check_source(const struct cpr_config *cfg, const struct config_source *s, char **err)
{
    char section[SOURCE_SECTION_MAX];
    bool listed = false;

    snprintf(section, sizeof(section), "source %s", s->name);
    for (size_t i = 0; cfg->inventory_sources[i]; i++)
        listed = listed || strcmp(cfg->inventory_sources[i], s->name) == 0;
    if (!listed)
        return config_fail(cfg, err, section, NULL, "not listed in [inventory] sources");
    if (s->type == NULL)
        return config_fail(cfg, err, section, NULL, "type is required");
    if (strcmp(s->type, "postgresql") == 0) {
        if (!*s->conninfo_file)
            return config_fail(cfg, err, section, "conninfo_file", "required for postgresql");
        if (!source_has_query(s))
            return config_fail(cfg, err, section, NULL,
                               "postgresql needs at least one of by_serial, by_sha256, "
                               "by_spki_sha256, by_issuer_serial");
        if (*s->path)
            return config_fail(cfg, err, section, "path", "only for type directory");
        return true;
    }
    if (!*s->path)
        return config_fail(cfg, err, section, "path", "required for directory");
    if (source_has_query(s) || *s->conninfo_file)
        return config_fail(cfg, err, section, NULL,
                           "queries and conninfo_file are only for type postgresql");
    return true;
}

bool
config_check_inventory(const struct cpr_config *cfg, char **err)
{
    for (size_t i = 0; cfg->inventory_sources[i]; i++)
        if (config_source(cfg, cfg->inventory_sources[i]) == NULL)
            return config_fail(cfg, err, "inventory", "sources",
                               "no [source %s] section", cfg->inventory_sources[i]);
    for (size_t i = 0; i < cfg->nsource_defs; i++)
        if (!config_check_source(cfg, &cfg->source_defs[i], err))
            return false;
    if (cfg->inventory_retry_cap_ms < cfg->inventory_retry_base_ms)
        return config_fail(cfg, err, "inventory", "retry_cap", "shorter than retry_base");
    return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   cprctl_probes - the last mail-path probe of each address and variant
 * SUMMARY
 *   cprctl probes [--json]
 * DESCRIPTION
 *   Lists cpr.probe_list() (022_probes.sql): for each probed address and
 *   variant its last probe, when it was made, when the relay took it (or
 *   the relay's error), when cpr-milter saw it and when it was found in
 *   the mailbox, the latencies from the send (ms), the stage it reached
 *   and its verdict (passed, the stage that failed, or empty while under
 *   way; 023_probe_mailbox.sql). The rows come as JSON from the database (to_jsonb, never
 *   built by hand).
 * DIAGNOSTICS
 *   Exit 1 on a database failure.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <stdio.h>

#include "cprctl.h"

#define PROBES_SQL "SELECT to_jsonb(p) FROM cpr.probe_list() p"

static void
probes_field(const json_t *row, const char *key, const char *sep)
{
    cprctl_value_print(json_object_get(row, key));
    fputs(sep, stdout);
}

static void
probes_table(const json_t *rows)
{
    static const char *const cols[] = { "address", "variant", "id", "sent_at", "milter_seen_at",
                                        "mailbox_at", "milter_ms", "mailbox_ms", "stage",
                                        "verdict", "send_error", NULL };
    size_t i;
    json_t *row;

    printf("ADDRESS\tVARIANT\tID\tSENT\tSEEN_BY_MILTER\tIN_MAILBOX\tMILTER_MS\tMAILBOX_MS\t"
           "STAGE\tVERDICT\tSEND_ERROR\n");
    json_array_foreach(rows, i, row)
        for (size_t c = 0; cols[c] != NULL; c++)
            probes_field(row, cols[c], cols[c + 1] ? "\t" : "\n");
}

int
cmd_probes_run(PGconn *conn, const struct cprctl_opts *o)
{
    PGresult *res = cprctl_exec(conn, PROBES_SQL, 0, NULL);
    json_t *rows = NULL;
    int rc = CPRCTL_EX_FAIL;

    if (cprctl_db_ok(res, conn, "probes") && (rows = cprctl_db_rows_json(res)) != NULL) {
        if (o->json) {
            rc = cprctl_json_print(rows);
        } else {
            probes_table(rows);
            rc = CPRCTL_EX_OK;
        }
    }
    json_decref(rows);
    PQclear(res);
    return rc;
}

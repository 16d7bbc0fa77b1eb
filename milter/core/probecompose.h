/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   probecompose.h - write one signed mail-path probe
 * DESCRIPTION
 *   See probecompose.c.
 */
#ifndef CPR_PROBECOMPOSE_H
#define CPR_PROBECOMPOSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct probe_spec {
    const char *id;            /* cpr.probes id: [A-Za-z0-9._-]{1,64} */
    const char *variant;       /* one of probeparts_variants[] */
    const char *from;          /* header From: and envelope sender */
    const char *to;            /* the CPR address probed */
    const char *message_id;    /* without <> */
    int64_t mark_unix;         /* the time in the mark */
    time_t date;               /* the Date: header */
};

/* The whole message, CRLF line ends; g_free it. NULL with err set. */
char *probecompose(const struct probe_spec *p, const unsigned char *secret, size_t secret_len,
                   char *err, size_t errlen);

#endif

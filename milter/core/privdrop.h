/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   privdrop - become the configured run-time user, or say exactly why not
 * SUMMARY
 *   struct privdrop p;
 *   if (!privdrop_check("[milter] user", cfg->milter_user, &p, err, sizeof(err)))
 *       exit(CPR_EX_CONFIG);
 *   ... open the socket, daemonize ...
 *   if (!privdrop_become(&p, err, sizeof(err))) exit(1);
 * DESCRIPTION
 *   privdrop_check decides, before anything is opened, so that -n catches
 *   what start-up would refuse:
 *     - no user set: nothing to do (a warning when that leaves root);
 *     - already running as that user (systemd User=): nothing to do, and
 *       nothing said;
 *     - root: drop (initgroups, setgid, setuid, in that order);
 *     - any other user: refuse, naming the uid we run as and the fix.
 *   privdrop_become does the drop when one is planned, then verifies that
 *   root cannot be regained (setuid(0) must fail, every id must be the
 *   user's). privdrop_plan is the pure decision, for the unit tests.
 * DIAGNOSTICS
 *   False with a message in err ("KEY: ..."); the caller logs it.
 */
#ifndef CPR_PRIVDROP_H
#define CPR_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum privdrop_action {
    PRIVDROP_NONE,       /* no user configured */
    PRIVDROP_ALREADY,    /* running as the user already */
    PRIVDROP_DROP,       /* root: become the user */
    PRIVDROP_REFUSE      /* another user: cannot */
};

struct privdrop {
    enum privdrop_action action;
    uid_t uid;
    gid_t gid;
    char name[64];
};

enum privdrop_action privdrop_plan(bool user_set, uid_t ruid, uid_t euid, uid_t target);
bool privdrop_check(const char *key, const char *user, struct privdrop *p, char *err,
                    size_t errsize);
bool privdrop_become(const struct privdrop *p, char *err, size_t errsize);

#endif

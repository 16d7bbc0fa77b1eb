/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAME
 *   privdrop - become the configured run-time user, or say exactly why not
 * DESCRIPTION
 *   See privdrop.h. Owns the only setuid/setgid calls of the programs.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum privdrop_action
privdrop_plan(bool user_set, uid_t ruid, uid_t euid, uid_t target)
{
    if (!user_set)
        return PRIVDROP_NONE;
    if (ruid == target && euid == target)
        return PRIVDROP_ALREADY;
    if (euid == 0)
        return PRIVDROP_DROP;
    return PRIVDROP_REFUSE;
}

bool
privdrop_check(const char *key, const char *user, struct privdrop *p, char *err,
               size_t errsize)
{
    struct passwd *pw;
    uid_t euid = geteuid();

    memset(p, 0, sizeof(*p));
    if (user == NULL || *user == '\0') {
        if (euid == 0)
            log_warn("running as root: set %s", key);
        return true;
    }
    if ((pw = getpwnam(user)) == NULL) {
        snprintf(err, errsize, "%s: no such user \"%s\"", key, user);
        return false;
    }
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    snprintf(p->name, sizeof(p->name), "%s", pw->pw_name);
    p->action = privdrop_plan(true, getuid(), euid, p->uid);
    if (p->action == PRIVDROP_REFUSE) {
        const struct passwd *me = getpwuid(euid);

        snprintf(err, errsize, "%s: running as uid %ld (%s), not root, cannot become "
                 "user %s; start as root or as %s", key, (long)euid,
                 me ? me->pw_name : "no name", p->name, p->name);
        return false;
    }
    return true;
}

/* After a drop: no id is root's any more, and root cannot come back. */
static bool
privdrop_verify(const struct privdrop *p)
{
    if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid
        || getegid() != p->gid)
        return false;
    return p->uid == 0 || (setuid(0) != 0 && seteuid(0) != 0);
}

bool
privdrop_become(const struct privdrop *p, char *err, size_t errsize)
{
    const char *step;

    if (p->action != PRIVDROP_DROP)
        return true;
    if (initgroups(p->name, p->gid) != 0)
        step = "initgroups";
    else if (setgid(p->gid) != 0)
        step = "setgid";
    else if (setuid(p->uid) != 0)
        step = "setuid";
    else if (!privdrop_verify(p)) {
        snprintf(err, errsize, "became user %s, but root could be regained", p->name);
        return false;
    } else
        return true;
    snprintf(err, errsize, "cannot become user %s: %s: %s", p->name, step, strerror(errno));
    return false;
}

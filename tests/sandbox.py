#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   sandbox.py - run a program under the units' seccomp and W^X settings
# SUMMARY
#   sandbox.py UNIT_FILE -- PROGRAM [ARGS...]
# DESCRIPTION
#   There is no systemd as PID 1 on the test machines, so this applies by
#   hand what the unit's lines would, as far as the kernel lets a plain
#   process do it, then execs PROGRAM:
#     NoNewPrivileges=yes          prctl(PR_SET_NO_NEW_PRIVS)
#     MemoryDenyWriteExecute=yes   prctl(PR_SET_MDWE, REFUSE_EXEC_GAIN)
#     SystemCallFilter=            a libseccomp allow-list: the unit's
#                                  groups and names, expanded with
#                                  `systemd-analyze syscall-filter`, minus
#                                  its ~ lines; anything else fails with
#                                  SystemCallErrorNumber (EPERM)
#     RestrictAddressFamilies=     socket(2) only for the listed families
#   Namespaces (ProtectSystem, PrivateDevices, PrivateTmp, ...) and
#   capability sets are NOT applied: run PROGRAM as an unprivileged user
#   (setpriv) for those to matter less.
# DIAGNOSTICS
#   Exit 2 with a message when the unit cannot be read or a filter cannot
#   be loaded; otherwise PROGRAM's own status (it replaces this process).
import ctypes, errno, os, re, socket, subprocess, sys

PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 1
SCMP_ACT_ALLOW = 0x7fff0000
SCMP_CMP_EQ = 4


def scmp_act_errno(e):
    return 0x00050000 | (e & 0xffff)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def fail(msg):
    print("sandbox.py: " + msg, file=sys.stderr)
    sys.exit(2)


def expand(item, seen=None):
    """The system call names of a name or @group, groups expanded."""
    seen = set() if seen is None else seen
    if not item.startswith("@"):
        return {item}
    if item in seen:
        return set()
    seen.add(item)
    out = subprocess.run(["systemd-analyze", "syscall-filter", item],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names |= expand(line, seen)
    return names


def unit_settings(path):
    allow, deny, families, mdwe, errno_name = set(), set(), [], False, "EPERM"
    for line in open(path):
        m = re.match(r"^(\w+)=(.*)$", line.strip())
        if not m:
            continue
        key, val = m.group(1), m.group(2).split()
        if key == "SystemCallFilter" and val:
            if val[0].startswith("~"):
                val[0] = val[0][1:]
                for v in val:
                    deny |= expand(v)
            else:
                for v in val:
                    allow |= expand(v)
        elif key == "RestrictAddressFamilies":
            families += val
        elif key == "MemoryDenyWriteExecute":
            mdwe = val == ["yes"]
        elif key == "SystemCallErrorNumber":
            errno_name = val[0]
    return allow - deny, families, mdwe, getattr(errno, errno_name)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        fail("usage: sandbox.py UNIT_FILE -- PROGRAM [ARGS...]")
    allowed, families, mdwe, err = unit_settings(sys.argv[1])
    if not allowed:
        fail("no SystemCallFilter= allow-list in " + sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("PR_SET_NO_NEW_PRIVS failed")
    if mdwe and libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        fail("PR_SET_MDWE failed: %s" % os.strerror(ctypes.get_errno()))
    ctx = lib.seccomp_init(scmp_act_errno(err))
    if not ctx:
        fail("seccomp_init failed")
    for name in sorted(allowed):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0 or (name == "socket" and families):
            continue
        if lib.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 0, None) != 0:
            fail("cannot allow " + name)
    if families and "socket" in allowed:
        nr = lib.seccomp_syscall_resolve_name(b"socket")
        for f in families:
            cmp = ArgCmp(0, SCMP_CMP_EQ, int(getattr(socket, f)), 0)
            if lib.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, ctypes.byref(cmp)) != 0:
                fail("cannot allow socket(%s)" % f)
    prog = sys.argv[3]
    # Resolve before the filter: execve itself must pass it afterwards.
    if lib.seccomp_load(ctx) != 0:
        fail("seccomp_load failed")
    os.execvp(prog, sys.argv[3:])


main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   notify_listen.py - stand in for systemd's notification socket
# SUMMARY
#   notify_listen.py SOCKET LOG [--max-seconds 300]
# DESCRIPTION
#   Binds a unix datagram socket at SOCKET (mode 0666, so a program that
#   dropped privileges can still send), as systemd does for NOTIFY_SOCKET,
#   and appends every datagram to LOG as one line: the monotonic time in
#   ms, a tab, then its assignments (READY=1, STATUS=..., WATCHDOG=1)
#   joined by " | ". The line is flushed at once, so a test can poll LOG.
#   Exits on SIGTERM or SIGINT, and after --max-seconds anyway.
# DIAGNOSTICS
#   Exit 0; 2 for bad arguments.
import argparse, os, signal, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("log")
ap.add_argument("--max-seconds", type=float, default=300)
a = ap.parse_args()

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
if os.path.exists(a.socket):
    os.unlink(a.socket)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(a.socket)
os.chmod(a.socket, 0o666)
end = time.monotonic() + a.max_seconds
with open(a.log, "a", buffering=1) as log:
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        text = data.decode("utf-8", "replace").strip("\n").replace("\n", " | ")
        log.write("%d\t%s\n" % (int(time.monotonic() * 1000), text))

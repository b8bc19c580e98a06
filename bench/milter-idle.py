#!/usr/bin/python3
"""milter-idle.py: open N milter connections, negotiate each, hold them.

    milter-idle.py SOCKET N READYFILE [HOLD_SECONDS]

SOCKET: unix:/path or inet:PORT@HOST. Each connection sends an OPTNEG
(version 6, every action, every protocol step offered, as vigil scan and
Postfix do) and waits for the filter's OPTNEG reply, one connection after
the other, so a short listen backlog never matters. When all N are
negotiated, "N" is written to READYFILE (atomically, by rename) and the
connections are held, idle, until SIGTERM/SIGINT or HOLD_SECONDS (default
300) pass. Exit status 0 when all N were negotiated, 1 otherwise (the
reason on stderr). Part of bench/milter-bench.sh; not a test.
"""
import os
import signal
import socket
import struct
import sys
import time

OPTNEG = b"O" + struct.pack(">III", 6, 0x1FF, 0x1FFFFF)


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
        return s
    if spec.startswith("inet:") and "@" in spec:
        port, host = spec[5:].split("@", 1)
        return socket.create_connection((host, int(port)))
    raise ValueError("unsupported socket " + spec)


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed by the filter")
        buf += chunk
    return buf


def negotiate(s):
    s.sendall(struct.pack(">I", len(OPTNEG)) + OPTNEG)
    (length,) = struct.unpack(">I", read_exact(s, 4))
    if length < 13 or length > 65536:
        raise ConnectionError("bad OPTNEG reply length %d" % length)
    reply = read_exact(s, length)
    if reply[:1] != b"O":
        raise ConnectionError("reply %r instead of OPTNEG" % reply[:1])


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    spec, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    hold = float(sys.argv[4]) if len(sys.argv) == 5 else 300.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    conns = []
    try:
        for i in range(n):
            s = connect(spec)
            s.settimeout(10)
            negotiate(s)
            conns.append(s)
    except (OSError, ValueError, ConnectionError) as e:
        sys.stderr.write("milter-idle: connection %d of %d: %s\n"
                         % (len(conns) + 1, n, e))
        return 1
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % len(conns))
    os.rename(ready + ".tmp", ready)
    time.sleep(hold)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

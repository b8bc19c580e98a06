#!/bin/sh
# Bounded libFuzzer smoke pass over the milter codec (TAP): every decoder
# of both sides, round trips, encoders fed decoded strings.
# Builds the harness with clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/fuzz/lib.sh"
fuzz_begin proto
# shellcheck disable=SC2046
fuzz_build proto -Wall -Wextra -Werror -fno-sanitize-recover=undefined \
	"$top_srcdir/milter/proto.c" $(pkg-config --cflags --libs libevent_core)
# Seeds: every MTA command, every filter reply, a few malformed packets.
/usr/bin/python3 - "$work/corpus" <<'PY'
import struct, sys
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
z = b"\0"
mta = pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))
mta += pkt(b"D", b"C" + b"j" + z + b"mx" + z + b"{daemon_name}" + z + b"smtpd" + z)
mta += pkt(b"C", b"host" + z + b"4" + struct.pack(">H", 25) + b"192.0.2.1" + z)
mta += pkt(b"C", b"h6" + z + b"6" + struct.pack(">H", 2525) + b"2001:db8::1" + z)
mta += pkt(b"C", b"local" + z + b"L" + struct.pack(">H", 0) + b"/run/s" + z)
mta += pkt(b"C", b"unknown" + z + b"U")
mta += pkt(b"H", b"helo.example" + z)
mta += pkt(b"M", b"<a@x>" + z + b"SIZE=1" + z)
mta += pkt(b"R", b"<b@y>" + z)
mta += pkt(b"T") + pkt(b"U", b"XFOO bar" + z)
mta += pkt(b"L", b"Subject" + z + b" 100% hi\r\n\tthere\nX: y" + z)
mta += pkt(b"N") + pkt(b"B", b"body\r\n") + pkt(b"E", b"")
mta += pkt(b"A") + pkt(b"K") + pkt(b"Q")
open(sys.argv[1] + "/mta", "wb").write(mta)
rep = pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff) +
          struct.pack(">I", 0) + b"j {daemon_name}" + z +
          struct.pack(">I", 5) + b"i" + z)
rep += pkt(b"y", b"550 5.7.1 no" + z) + pkt(b"q", b"held" + z)
rep += pkt(b"h", b"X-A" + z + b"v" + z)
rep += pkt(b"i", struct.pack(">I", 0) + b"X-B" + z + b"w" + z)
rep += pkt(b"m", struct.pack(">I", 1) + b"X-C" + z + z)
rep += pkt(b"+", b"<c@z>" + z) + pkt(b"-", b"<d@z>" + z)
rep += pkt(b"b", b"new body") + pkt(b"e", b"<f@z>" + z)
for c in b"acdrtps":
    rep += pkt(bytes([c]))
open(sys.argv[1] + "/replies", "wb").write(rep)
bad = pkt(b"O", b"\0\0\0\6") + pkt(b"D", b"Cj" + z) + pkt(b"C", b"h" + z + b"4\0")
bad += pkt(b"L", b"A" + z) + pkt(b"M", b"a" + z + b"bc") + b"\0\0\0\0N"
open(sys.argv[1] + "/malformed", "wb").write(bad)
open(sys.argv[1] + "/toobig", "wb").write(b"\0\1\0\1B" + b"x" * 100)
PY
fuzz_run proto 100000 4096

#!/bin/sh
# Bounded libFuzzer smoke pass over the session state machine (TAP).
# Builds the harness with clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/fuzz/lib.sh"
fuzz_begin sess
srcs=$(ls "$top_srcdir"/milter/*.c | grep -v -e '/vigild\?\.c$' -e '/cmd_')
libs="$(pkg-config --cflags --libs libevent_core libevent_pthreads libevent_extra libpcre2-8 opendkim libconfuse libunbound libidn2 libcrypto zlib) -lspf2 -lopendmarc -lm -lpthread"
# shellcheck disable=SC2086
fuzz_build sess -DSYSCONFDIR='"/usr/local/etc"' \
	-DPKGDATADIR='"/usr/local/share/vigil"' $srcs $libs
# A seed: negotiation, envelope, headers, body, end of message.
/usr/bin/python3 - "$work/corpus/seed" <<'PY'
import struct, sys
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
z = b"\0"
s = pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))
s += pkt(b"D", b"C" + b"j" + z + b"mx" + z)
s += pkt(b"C", b"host" + z + b"4" + struct.pack(">H", 25) + b"192.0.2.1" + z)
s += pkt(b"H", b"helo" + z)
s += pkt(b"M", b"<a@x>" + z + b"SIZE=1" + z)
s += pkt(b"R", b"<b@y>" + z)
s += pkt(b"L", b"Subject" + z + b" hi" + z)
s += pkt(b"L", b"X-Spam-Status" + z + b" Yes" + z)
s += pkt(b"N")
s += pkt(b"B", b"body\r\n")
s += pkt(b"E", b"")
s += pkt(b"A") + pkt(b"K") + pkt(b"Q")
open(sys.argv[1], "wb").write(s)
PY
fuzz_run sess 30000 4096

#!/bin/sh
# Bounded libFuzzer smoke pass over the session state machine (TAP).
# Builds the harness with clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${top_builddir:=$top_srcdir}"
echo "1..1"
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang not installed"; exit 0
fi
work=$(mktemp -d /tmp/vigil-fuzz-sess.XXXXXX)
trap 'rm -rf "$work"' EXIT
srcs=$(ls "$top_srcdir"/milter/*.c | grep -v -e '/vigild\?\.c$' -e '/cmd_')
libs="$(pkg-config --cflags --libs libevent_core libevent_pthreads libevent_extra libpcre2-8 opendkim libconfuse libunbound libidn2 libcrypto) -lspf2 -lopendmarc -lm -lpthread"
# shellcheck disable=SC2086
if ! clang -std=c11 -D_GNU_SOURCE -DSYSCONFDIR='"/usr/local/etc"' \
	-DPKGDATADIR='"/usr/local/share/vigil"' -g -O1 -fsanitize=fuzzer,address,undefined \
	-I"$top_srcdir/milter" -I"$top_builddir" \
	"$top_srcdir/tests/fuzz/fuzz_sess.c" $srcs $libs -o "$work/fuzz_sess" \
	>"$work/build.log" 2>&1; then
	echo "not ok 1 - fuzz_sess builds"; sed 's/^/# /' "$work/build.log"; exit 0
fi
# A seed: negotiation, envelope, headers, body, end of message.
mkdir -p "$work/corpus"
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
if "$work/fuzz_sess" -runs=30000 -max_len=4096 -seed=1 "$work/corpus" \
	>"$work/run.log" 2>&1; then
	echo "ok 1 - fuzz_sess: 30000 runs clean"
else
	echo "not ok 1 - fuzz_sess found a crash"; tail -40 "$work/run.log" | sed 's/^/# /'
fi

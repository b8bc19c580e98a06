#!/bin/sh
# make install into a DESTDIR keeps an edited configuration file and puts
# the new one beside it as FILE.dist; make uninstall removes the .dist
# files and the unedited configuration, and keeps the edited one (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d /tmp/vigil-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 9

dest=$tmp/dest
# mk TARGET: make TARGET in the build directory into $dest, its stdout in
# $tmp/out; a make of its own, not a part of the one running the tests
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s \
		-C "$top_builddir" "$1" DESTDIR="$dest" >"$tmp/out" 2>&1
}

if ! mk install; then notok "first make install" "$(cat "$tmp/out")"; skip_rest "no install"; fi
etc=$(find "$dest" -type f -name vigild.conf -path '*/vigil/*' | head -n 1)
etc=${etc%/vigild.conf}
if [ -n "$etc" ] && cmp -s "$etc/vigild.conf" "$top_srcdir/conf/vigild.conf" &&
	cmp -s "$etc/replay.conf" "$top_srcdir/conf/replay.conf"; then
	ok "first install: vigild.conf and replay.conf installed under DESTDIR"
else
	notok "first install" "$(find "$dest" -name '*.conf*')"
	skip_rest "nothing installed"
fi

mk install
if [ -z "$(find "$etc" -name '*.dist')" ]; then ok "unchanged files: no .dist on a second install"
else notok "no .dist expected" "$(find "$etc" -name '*.dist')"; fi

echo '# local edit' >>"$etc/vigild.conf"
check "install over an edited vigild.conf succeeds" mk install
if [ "$(tail -n 1 "$etc/vigild.conf")" = "# local edit" ]; then ok "the edit survives"
else notok "the edit survives" "$(tail -n 3 "$etc/vigild.conf")"; fi
check "the new one is vigild.conf.dist" cmp "$etc/vigild.conf.dist" "$top_srcdir/conf/vigild.conf"
check "stdout names vigild.conf.dist" grep -q 'vigild\.conf\.dist' "$tmp/out"
check "replay.conf, not edited: no replay.conf.dist" test ! -e "$etc/replay.conf.dist"

check "make uninstall succeeds" mk uninstall
if [ -f "$etc/vigild.conf" ] && [ ! -e "$etc/vigild.conf.dist" ] && [ ! -e "$etc/replay.conf" ]; then
	ok "uninstall: .dist and unedited replay.conf removed, edited vigild.conf kept"
else
	notok "uninstall" "$(find "$etc")"
fi

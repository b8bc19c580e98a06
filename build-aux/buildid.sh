#!/bin/sh
# buildid.sh SRCDIR: the id of the commit vigil is built from, for
# buildid.h (--version, the evaluation's reproducibility block).
#   1. SRCDIR/.tarball-version, first line: written by make dist, so a
#      release tarball names the tree it was made from;
#   2. git describe --always --dirty, only when SRCDIR is itself the top
#      of a git work tree (a tarball unpacked inside another repository
#      must not take that repository's commit);
#   3. "unknown".
# An id is taken only when it is 1-80 characters of [A-Za-z0-9._+-]: it
# goes into a C string.
set -u
src=${1:-.}

valid() {
	case $1 in
	'' | *[!A-Za-z0-9._+-]*) return 1 ;;
	esac
	[ ${#1} -le 80 ]
}

if [ -f "$src/.tarball-version" ]; then
	id=$(sed -n 1p "$src/.tarball-version")
	if valid "$id"; then
		printf '%s\n' "$id"
		exit 0
	fi
fi
if command -v git >/dev/null 2>&1; then
	top=$(git -C "$src" rev-parse --show-toplevel 2>/dev/null) || top=
	here=$(cd "$src" 2>/dev/null && pwd -P) || here=
	if [ -n "$top" ] && [ -n "$here" ] &&
	   [ "$(cd "$top" && pwd -P)" = "$here" ]; then
		id=$(git -C "$src" describe --always --dirty --abbrev=12 2>/dev/null)
		if valid "$id"; then
			printf '%s\n' "$id"
			exit 0
		fi
	fi
fi
echo unknown

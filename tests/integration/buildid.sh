#!/bin/sh
# build-aux/buildid.sh alone, on made-up source trees: the id comes from
# a tarball's .tarball-version, else from git only when the tree is the
# top of a git work tree (not a tarball unpacked inside another
# repository), else "unknown" (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d /tmp/vigil-buildid.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 9

buildid() { sh "$top_srcdir/build-aux/buildid.sh" "$1"; }
# is NAME GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got:  $2" "want: $3"; fi
}
git_q() { git -c user.email=t@example.com -c user.name=t "$@" >/dev/null 2>&1; }

mkdir -p "$tmp/plain" "$tmp/tb" "$tmp/bad" "$tmp/long" "$tmp/outer/vigil"
is "no git, no .tarball-version: unknown" "$(buildid "$tmp/plain")" unknown

echo 0f1df38abcde >"$tmp/tb/.tarball-version"
is ".tarball-version is read" "$(buildid "$tmp/tb")" 0f1df38abcde

printf 'abc"def\n' >"$tmp/bad/.tarball-version"
is "an id that cannot go into a C string is refused" "$(buildid "$tmp/bad")" unknown

head -c 81 /dev/zero | tr '\0' a >"$tmp/long/.tarball-version"
is "an id of more than 80 characters is refused" "$(buildid "$tmp/long")" unknown

if ! command -v git >/dev/null 2>&1; then skip_rest "git is not installed"; fi
git_q -C "$tmp/outer" init -q
echo x >"$tmp/outer/f"
git_q -C "$tmp/outer" add f
git_q -C "$tmp/outer" commit -q -m outer
head=$(git -C "$tmp/outer" rev-parse --short=12 HEAD)
is "inside another repository (not its top): not that repository's commit" \
	"$(buildid "$tmp/outer/vigil")" unknown
is "at the top of a git work tree: git describe" "$(buildid "$tmp/outer")" "$head"
is "a relative SRCDIR is the same tree" "$(cd "$tmp" && buildid outer)" "$head"

echo y >"$tmp/outer/f"
is "uncommitted changes: -dirty" "$(buildid "$tmp/outer")" "$head-dirty"

echo 0f1df38abcde >"$tmp/outer/.tarball-version"
is "a tarball imported at a repository's top keeps its own id" \
	"$(buildid "$tmp/outer")" 0f1df38abcde

#!/bin/sh
# vigil set-up: one script for a fresh Debian 12 machine.
#   ./setup.sh deps    install the Debian packages needed to build and test
#                      (as root; otherwise prints the apt-get line to run)
#   ./setup.sh build   deps, then configure and build in build/
#   ./setup.sh start   build, install (make install: binaries, rules), then
#                      run vigild in the foreground with
#                      conf/vigild.conf (inet:127.0.0.1:8891, log on stderr)
#   ./setup.sh test    build, then run every test (plain build and an
#                      AddressSanitizer/UBSan build of the unit tests;
#                      a clang build of everything, built only);
#                      ends with "N passed, N failed[, N skipped]"
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

BUILD_PKGS="build-essential autoconf automake pkg-config clang
 libevent-dev libpcre2-dev libopendkim-dev libmilter-dev libconfuse-dev
 libunbound-dev libspf2-dev libopendmarc-dev libidn2-dev libssl-dev zlib1g-dev
 publicsuffix
 dns-root-data"
TEST_PKGS="libcmocka-dev libclang-rt-14-dev miltertest python3 python3-dnslib
 python3-yaml python3-dkim python3-nacl openssl opendkim-tools swaks spamassassin m4 libwrap0
 iproute2 procps strace"

missing_pkgs() {
	for p in $*; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

deps() {
	pkgs=$(missing_pkgs $BUILD_PKGS $TEST_PKGS | tr '\n' ' ')
	[ -n "$pkgs" ] || return 0
	line="apt-get install -y --no-install-recommends $pkgs"
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: run as root, or install the packages yourself:" >&2
		echo "  sudo apt-get update && sudo $line" >&2
		exit 1
	fi
	echo "setup.sh: installing $pkgs" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
}

configure_in() {	# configure_in DIR [configure args...]
	dir=$1; shift
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$dir/config.status" -ot configure ]; then
		(cd "$dir" && "$top/configure" -q "$@")
	fi
}

build() {
	deps
	configure_in build
	make -C build -s -j2
}

# Sum the automake test logs: passed, failed, skipped.
totals() {
	awk '
	/^# PASS:/ { p += $3 } /^# XFAIL:/ { p += $3 }
	/^# FAIL:/ { f += $3 } /^# ERROR:/ { f += $3 } /^# XPASS:/ { f += $3 }
	/^# SKIP:/ { s += $3 }
	END { printf "%d %d %d\n", p, f, s }' "$@" /dev/null
}

run_tests() {
	status=0
	deps || status=1
	logs=""
	if [ $status = 0 ] && configure_in build && make -C build -s -j2; then
		make -C build -j2 check >build/check.out 2>&1 || status=1
		grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL)' build/check.out || true
		logs="build/test-suite.log"
		[ $status = 0 ] || cat build/test-suite.log
	else
		echo "setup.sh: build failed" >&2
		status=1
	fi
	if [ $status = 0 ] && configure_in build-asan --enable-sanitizers &&
	   make -C build-asan -s -j2; then
		unit=$(make -C build-asan -s print-unit-tests)
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
			make -C build-asan -j2 check TESTS="$unit" \
			>build-asan/check.out 2>&1 || status=1
		sed -n 's/^\(PASS\|FAIL\|SKIP\|ERROR\|XPASS\|XFAIL\)/asan \1/p' \
			build-asan/check.out
		logs="$logs build-asan/test-suite.log"
		[ $status = 0 ] || cat build-asan/test-suite.log
	elif [ $status = 0 ]; then
		echo "setup.sh: sanitizer build failed" >&2
		status=1
	fi
	# clang too: the code must build -Werror clean under both compilers
	# (gcc and clang warn about different things); the unit test
	# programs are built, not run again
	if [ $status = 0 ] && { ! configure_in build-clang CC=clang ||
	   ! make -C build-clang -s -j2 >build-clang/build.out 2>&1 ||
	   ! make -C build-clang -s -j2 \
	       $(make -C build-clang -s print-unit-tests) >>build-clang/build.out 2>&1; }; then
		cat build-clang/build.out >&2
		echo "setup.sh: clang build failed" >&2
		status=1
	fi
	set -- $(totals $logs)
	passed=$1 failed=$2 skipped=$3
	if [ $status != 0 ] && [ "$failed" = 0 ]; then
		failed=1	# a build or harness failure counts
	fi
	if [ "$skipped" != 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ $status = 0 ] && [ "$failed" = 0 ]
}

case "${1:-}" in
deps) deps ;;
build) build ;;
start)
	build
	# The shipped configuration reads vigil's own rules from where
	# `make install` puts them (PKGDATADIR/rules).
	# make install's own lines are noise here, except the one saying an
	# edited vigild.conf or replay.conf was kept (new one as FILE.dist).
	make -C build -s install >build/install.log
	grep '\.dist$' build/install.log >&2 || :
	exec build/milter/vigild -f -c conf/vigild.conf ;;
test) run_tests ;;
*)
	sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
	exit 2 ;;
esac

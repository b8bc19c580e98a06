#!/bin/sh
# Bounded libFuzzer smoke pass over the rules stage with SpamAssassin's
# stock rules, every eval function included (TAP): the sanitizers, and
# lazy against eager runs (tests/fuzz/fuzz_scan.c). Builds the harness
# with clang and the sanitizers; skips without clang or without the
# stock rules (Debian's spamassassin package, which setup.sh installs).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/fuzz/lib.sh"
rules=${VIGIL_FUZZ_RULES:-/usr/share/spamassassin}
if ! ls "$rules"/*.cf >/dev/null 2>&1; then
	echo "1..1"; echo "ok 1 # SKIP no rules in $rules"; exit 0
fi
fuzz_begin scan
srcs=$(ls "$top_srcdir"/milter/*.c | grep -v -e '/vigild\?\.c$' -e '/cmd_')
libs="$(pkg-config --cflags --libs libevent_core libevent_pthreads libevent_extra libpcre2-8 opendkim libconfuse libunbound libidn2 libcrypto zlib) -lspf2 -lopendmarc -lm -lpthread"
# shellcheck disable=SC2086
fuzz_build scan -DSYSCONFDIR='"/usr/local/etc"' \
	-DPKGDATADIR='"/usr/local/share/vigil"' $srcs $libs
# Seeds: what the eval functions read. Relays and dates, addresses, a
# multipart message with HTML (tags, fonts, links, images), plain text
# with URIs and money, an attachment, a bounce.
printf '%s\n' \
	'Received: from mail.example.com (mail.example.com [192.0.2.7])' \
	'	by mx.example.org (Postfix) with ESMTPS id 4AB12C for <u@example.org>;' \
	'	Tue, 24 Nov 2026 10:00:00 +0100' \
	'Received: from [10.1.2.3] (helo=pc17) by mail.example.com with esmtpa' \
	'	(Exim 4.96) id 1abc-000X; Tue, 24 Nov 2026 09:59:58 +0100' \
	'Return-Path: <bounce-123@lists.example.com>' \
	'From: "PayPal Service" <service@paypa1.example.net>' \
	'Reply-To: winner2026@gmail.com' \
	'To: undisclosed-recipients:;' \
	'Subject: =?utf-8?B?WW91ciBhY2NvdW50IGhhcyBiZWVuIHN1c3BlbmRlZA==?=' \
	'Date: Tue, 24 Nov 2026 10:00:00 +2500' \
	'Message-ID: <20261124.abc@pc17>' \
	'MIME-Version: 1.0' \
	'X-Mailer: Microsoft Outlook Express 6.00.2600.0000' \
	'Content-Type: multipart/alternative; boundary="b1"' '' \
	'--b1' 'Content-Type: text/plain; charset=iso-8859-1' \
	'Content-Transfer-Encoding: quoted-printable' '' \
	'Dear friend, send $4,500,000 USD to http://192.0.2.9/login.php?id=3D1' \
	'Fill in: your name, age, city, phone, bank account number.' '' \
	'--b1' 'Content-Type: text/html' '' \
	'<html><head><title>Verify</title><base href="http://x.example/"></head>' \
	'<body bgcolor=white><font color="#ffffff" size=1>hidden text</font>' \
	'<a href="http://bit.ly/abc">https://www.paypal.com/</a><img src=a.gif' \
	'width=1 height=1><!-- c --><p style="font-size:0px">x</p>' \
	'<a href="mailto:a@b.example?subject=hi">m</a><script>x</script>' \
	'</body></html>' '--b1--' >"$work/corpus/seed1"
printf '%s\r\n' 'From: MAILER-DAEMON@example.org' \
	'To: u@example.org' 'Subject: Undelivered Mail Returned to Sender' \
	'Content-Type: multipart/report; report-type=delivery-status; boundary=r' \
	'' '--r' 'Content-Type: text/plain' '' 'could not be delivered' \
	'--r' 'Content-Type: message/rfc822' '' 'From: u@example.org' \
	'Subject: hello' '' 'hi' '--r' \
	'Content-Type: application/octet-stream; name="invoice.zip"' \
	'Content-Transfer-Encoding: base64' '' 'UEsDBBQAAAAIAA==' '--r--' \
	>"$work/corpus/seed2"
fuzz_run scan 400 16384

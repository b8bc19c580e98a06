/* Unit tests of the scan's message storage (scan.c): the raw message
 * and the body are one buffer, the header section written in front of
 * the body (whichever way it came: a file's bytes, or header and body
 * calls as from a milter), the parsed message and its relays dropped
 * when the bytes change, the relays kept per trust path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "relays.h"
#include "ruleset.h"
#include "scan.h"

static struct scan *fresh(void)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	return s;
}

static struct scan *from_file(const char *raw)
{
	struct scan *s = fresh();
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	return s;
}

static void assert_raw(struct scan *s, const char *want)
{
	size_t len;
	const char *raw = scan_raw(s, &len);
	assert_non_null(raw);
	if (len != strlen(want) || memcmp(raw, want, len) != 0)
		fail_msg("raw \"%.*s\", want \"%s\"", (int)len, raw, want);
	assert_int_equal(raw[len], '\0');   /* msg_parse_borrowed() needs it */
}

/* The body is the end of the raw message's buffer, not a copy. */
static void assert_body_in_raw(struct scan *s)
{
	size_t len, blen;
	const char *raw = scan_raw(s, &len);
	const char *body = scan_body(s, &blen);
	assert_true(blen <= len);
	assert_ptr_equal(body, raw + len - blen);
}

static void t_file(void **st)
{
	(void)st;
	struct scan *s = from_file("From: a@example.org\nSubject:  two\n\t"
	                           "lines\n\nbody\nmore\n");
	assert_raw(s, "From: a@example.org\r\nSubject:  two\r\n\tlines\r\n\r\n"
	              "body\r\nmore\r\n");
	size_t blen;
	const char *body = scan_body(s, &blen);
	assert_int_equal(blen, 12);
	assert_memory_equal(body, "body\r\nmore\r\n", 12);
	assert_body_in_raw(s);
	scan_free(s);
	/* a line that is no field stays in the message as read */
	s = from_file("From: a@example.org\nno colon here\n\nbody\n");
	assert_raw(s, "From: a@example.org\r\nno colon here\r\n\r\nbody\r\n");
	assert_int_equal(scan_header_count(s), 1);
	assert_body_in_raw(s);
	scan_free(s);
	/* mixed line ends: a file whose first and last lines end in LF
	 * keeps a CR before an LF as text of its line (as SpamAssassin
	 * reads it, and an SMTP client sends it); one whose first or last
	 * line ends in CRLF has CRLF line ends */
	static const char *const eol[][2] = {
		{ "A: b\n\none\r\ntwo\n", "A: b\r\n\r\none\r\r\ntwo\r\n" },
		{ "A: b\r\n\r\none\ntwo\n", "A: b\r\n\r\none\r\ntwo\r\n" },
		{ "A: b\n\none\r\ntwo\r\n", "A: b\r\n\r\none\r\ntwo\r\n" },
		{ "A: b\n\none\r\ntwo", "A: b\r\n\r\none\r\r\ntwo" },
	};
	for (size_t i = 0; i < sizeof eol / sizeof eol[0]; i++) {
		s = from_file(eol[i][0]);
		assert_raw(s, eol[i][1]);
		scan_free(s);
	}
	/* there, a line of a CR ends no header section: it is a line
	 * that is no field, and the body starts after the third such line
	 * (audit16 L1, as spamassassin -t reads it); in a CRLF file it is
	 * the empty line */
	s = from_file("A: b\n\r\nx1\nx2\nbody\n");
	const struct msg *m = scan_msg(s);
	assert_non_null(m);
	assert_int_equal(msg_header_count(m), 1);
	struct msg_text rb = msg_raw_body(m);
	assert_int_equal(rb.len, 6);
	assert_memory_equal(rb.ptr, "body\r\n", 6);
	scan_free(s);
	s = from_file("A: b\r\n\r\nx1\r\n");
	m = scan_msg(s);
	rb = msg_raw_body(m);
	assert_int_equal(rb.len, 4);
	scan_free(s);
}

/* The scan's fields and body are the parsed message's (what a milter
 * sends vigild is what vigil scan parses in process). */
static void assert_agrees(struct scan *s)
{
	const struct msg *m = scan_msg(s);
	assert_non_null(m);
	assert_int_equal(scan_header_count(s), msg_header_count(m));
	for (size_t i = 0; i < scan_header_count(s); i++) {
		const char *name, *value;
		size_t nlen, vlen;
		scan_header_at(s, i, &name, &nlen, &value, &vlen);
		const struct msg_header *h = msg_header_at(m, i);
		assert_int_equal(h->name.len, nlen);
		assert_memory_equal(h->name.ptr, name, nlen);
	}
	size_t blen;
	const char *body = scan_body(s, &blen);
	assert_int_equal(msg_raw_body(m).len, blen);
	assert_memory_equal(msg_raw_body(m).ptr, body, blen);
}

/* The header section ends where msg.c ends it: at a line starting with
 * "--" (a delimiter right after the header: the fields after it are
 * body, as in SpamAssassin), at the fourth line that is no field, a
 * leading continuation not counting; the section is kept as read. */
static void t_head_end(void **st)
{
	(void)st;
	struct scan *s = from_file("From: a@example.org\nContent-Type: "
	                           "multipart/mixed; boundary=\"B\"\n--B\n"
	                           "Content-Type: text/plain\n\nhi\n--B--\n");
	assert_int_equal(scan_header_count(s), 2);
	assert_raw(s, "From: a@example.org\r\nContent-Type: multipart/mixed; "
	              "boundary=\"B\"\r\n--B\r\nContent-Type: text/plain\r\n"
	              "\r\nhi\r\n--B--\r\n");
	assert_agrees(s);
	scan_free(s);
	s = from_file(" orphan: x\nA: 1\nb1\nb2\nb3\nX-B: 2\n\nbody\n");
	assert_int_equal(scan_header_count(s), 2);
	assert_raw(s, " orphan: x\r\nA: 1\r\nb1\r\nb2\r\nb3\r\nX-B: 2\r\n\r\n"
	              "body\r\n");
	assert_agrees(s);
	scan_free(s);
	s = from_file("A: 1\nb1\nb2\nb3\nb4\nX-B: 2\n\nbody\n");
	assert_int_equal(scan_header_count(s), 1);
	assert_agrees(s);
	scan_free(s);
}

/* The body cut at max_body: the raw message ends where it does. */
static void t_cut(void **st)
{
	(void)st;
	struct scan *s = fresh();
	scan_set_max_body(s, 5);
	assert_int_equal(scan_set_raw(s, "A: b\n\n123\n456\n", 14), 0);
	assert_raw(s, "A: b\r\n\r\n123\r\n");
	assert_true(scan_truncated(s));
	assert_body_in_raw(s);
	scan_free(s);
}

/* As vigild builds it: headers, then body chunks; a header after body
 * bytes (not what a milter sends, but allowed) moves the body behind
 * the longer header section, and the parsed message follows. */
static void t_milter_order(void **st)
{
	(void)st;
	struct scan *s = fresh();
	assert_int_equal(scan_add_header(s, "From", 4, " a@example.org", 14), 0);
	assert_int_equal(scan_add_body(s, "one\r\n", 5), 0);
	assert_raw(s, "From: a@example.org\r\n\r\none\r\n");
	assert_non_null(scan_msg(s));
	assert_null(msg_header_get(scan_msg(s), "Subject", 0));
	assert_int_equal(scan_add_header(s, "Subject", 7, " hi", 3), 0);
	assert_int_equal(scan_add_body(s, "two\r\n", 5), 0);
	assert_raw(s, "From: a@example.org\r\nSubject: hi\r\n\r\none\r\ntwo\r\n");
	assert_body_in_raw(s);
	const struct msg_header *h = msg_header_get(scan_msg(s), "Subject", 0);
	assert_non_null(h);
	assert_string_equal(h->value.ptr, "hi");
	assert_int_equal(msg_raw_body(scan_msg(s)).len, 10);
	scan_free(s);
	/* no body at all */
	s = fresh();
	assert_int_equal(scan_add_header(s, "A", 1, " b", 2), 0);
	assert_raw(s, "A: b\r\n\r\n");
	scan_free(s);
}

static const char two_hops[] =
	"Received: from relay.partner.example (relay.partner.example "
	"[198.51.100.40]) by mx.dest.example (Postfix) with ESMTP id 1; "
	"Mon, 1 Jan 2024 00:00:02 +0000\n"
	"Received: from out.sender.example (out.sender.example "
	"[203.0.113.50]) by relay.partner.example (Postfix) with ESMTP id "
	"2; Mon, 1 Jan 2024 00:00:01 +0000\n"
	"From: a@sender.example\n\nbody\n";

/* The relays are built once per trust path and kept with the message;
 * a trust path that configures nothing is inference, as NULL. */
static void t_relays(void **st)
{
	(void)st;
	static const char tn[] = "trusted_networks 198.51.100.40\n";
	static const char msa[] = "msa_networks 198.51.100.40\n";
	struct ruleset *trusted = ruleset_load_buf("t.cf", tn, strlen(tn), NULL);
	struct ruleset *none = ruleset_load_buf("m.cf", msa, strlen(msa), NULL);
	assert_non_null(trusted);
	assert_non_null(none);
	struct scan *s = from_file(two_hops);
	const struct relays *inferred = scan_relays(s, NULL);
	assert_non_null(inferred);
	assert_ptr_equal(scan_relays(s, NULL), inferred);
	assert_ptr_equal(scan_relays(s, ruleset_trustpath(none)), inferred);
	assert_int_equal(relays_num(inferred, RELAYS_UNTRUSTED), 2);
	const struct relays *t = scan_relays(s, ruleset_trustpath(trusted));
	assert_non_null(t);
	assert_true(t != inferred);
	assert_int_equal(relays_num(t, RELAYS_TRUSTED), 1);
	assert_int_equal(relays_num(t, RELAYS_UNTRUSTED), 1);
	/* the first stays valid beside the second */
	assert_int_equal(relays_num(inferred, RELAYS_UNTRUSTED), 2);
	/* a new header: the message changed, its relays are read again */
	static const char rcv[] = " from a.example (a.example [192.0.2.9]) by "
	                          "mx.dest.example with ESMTP id 0; Mon, 1 Jan "
	                          "2024 00:00:03 +0000";
	assert_int_equal(scan_add_header(s, "Received", 8, rcv, strlen(rcv)), 0);
	assert_int_equal(relays_num(scan_relays(s, NULL), RELAYS_UNTRUSTED), 3);
	scan_free(s);
	ruleset_free(trusted);
	ruleset_free(none);
}

/* Bytes never read (a file's rest past the reading bound) are counted
 * in one step: the size says them, the message is truncated, nothing
 * more is stored. */
static void t_count_unread(void **st)
{
	(void)st;
	struct scan *s = from_file("A: b\n\n123\n");
	assert_false(scan_truncated(s));
	scan_count_unread(s, (uint64_t)1 << 40);
	assert_true(scan_truncated(s));
	assert_int_equal(scan_size(s), 6 + 2 + 5 + ((uint64_t)1 << 40));
	assert_raw(s, "A: b\r\n\r\n123\r\n");
	scan_free(s);
}

/* Past SCAN_MAX_HEADERS fields only those the message model keeps past
 * its bound are stored, MSG_KEPT_BEYOND_LIMIT of each: a From after
 * junk fields still counts, the junk beyond is counted, not stored. */
static void t_many_fields(void **st)
{
	(void)st;
	struct scan *s = fresh();
	for (unsigned i = 0; i < SCAN_MAX_HEADERS + 100; i++)
		assert_int_equal(scan_add_header(s, "X-J", 3, " v", 2),
		                 i < SCAN_MAX_HEADERS ? 0 : 1);
	for (unsigned i = 0; i < MSG_KEPT_BEYOND_LIMIT + 1; i++)
		assert_int_equal(scan_add_header(s, "from", 4, " a@b.example",
		                                 12), i < MSG_KEPT_BEYOND_LIMIT ? 0 : 1);
	assert_int_equal(scan_header_count(s),
	                 SCAN_MAX_HEADERS + MSG_KEPT_BEYOND_LIMIT);
	assert_int_equal(scan_headers_dropped(s), 101);
	assert_int_equal(scan_size(s), (SCAN_MAX_HEADERS + 100) * 8 +
	                 (MSG_KEPT_BEYOND_LIMIT + 1) * 19 + 2);
	const char *name, *value;
	size_t nl, vl;
	scan_header_at(s, SCAN_MAX_HEADERS, &name, &nl, &value, &vl);
	assert_int_equal(nl, 4);
	assert_memory_equal(name, "from", 4);
	assert_non_null(msg_header_get(scan_msg(s), "From", 0));
	/* the header section written holds every field once, in order:
	 * the full text SpamAssassin's full rules see */
	size_t len;
	const char *raw = scan_raw(s, &len);
	assert_non_null(raw);
	assert_int_equal(len, scan_size(s));
	assert_int_equal(scan_headers_cut(s), 0);
	size_t from = (SCAN_MAX_HEADERS + 100) * 8;
	for (size_t i = 0; i < from; i += 8)
		assert_memory_equal(raw + i, "X-J: v\r\n", 8);
	for (unsigned i = 0; i < MSG_KEPT_BEYOND_LIMIT + 1; i++)
		assert_memory_equal(raw + from + i * 19,
		                    "from: a@b.example\r\n", 19);
	assert_string_equal(raw + len - 2, "\r\n");
	scan_free(s);
}

/* Past SCAN_MAX_HEADERS the fields are written whole while the header
 * section stays within max_body; those past it are cut (counted, in
 * scan_size(), not written), the vital ones stored still. */
static void t_fields_cut(void **st)
{
	(void)st;
	struct scan *s = fresh();
	size_t room = SCAN_MAX_HEADERS * 8 + 3 * 8;   /* 3 more fit */
	scan_set_max_body(s, room);
	for (unsigned i = 0; i < SCAN_MAX_HEADERS + 5; i++)
		assert_int_equal(scan_add_header(s, "X-J", 3, " v", 2),
		                 i < SCAN_MAX_HEADERS ? 0 : 1);
	assert_int_equal(scan_add_header(s, "Subject", 7, " s", 2), 0);
	assert_int_equal(scan_headers_dropped(s), 5);
	assert_int_equal(scan_headers_cut(s), 3);
	assert_int_equal(scan_size(s), (SCAN_MAX_HEADERS + 5) * 8 + 12 + 2);
	size_t len;
	const char *raw = scan_raw(s, &len);
	assert_non_null(raw);
	assert_int_equal(len, room + 2);
	assert_memory_equal(raw + room - 8, "X-J: v\r\n\r\n", 10);
	const char *name, *value;
	size_t nl, vl;
	scan_header_at(s, SCAN_MAX_HEADERS, &name, &nl, &value, &vl);
	assert_memory_equal(name, "Subject", 7);
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_file),
		cmocka_unit_test(t_head_end),
		cmocka_unit_test(t_cut),
		cmocka_unit_test(t_milter_order),
		cmocka_unit_test(t_relays),
		cmocka_unit_test(t_count_unread),
		cmocka_unit_test(t_fields_cut),
		cmocka_unit_test(t_many_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the scan's message storage (scan.c): the raw message
 * and the body are one buffer, the header section written in front of
 * the body (whichever way it came: a file's bytes, or header and body
 * calls as from a milter), the parsed message dropped when the bytes
 * change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "scan.h"

static struct scan *from_file(const char *raw)
{
	struct scan *s = scan_new();
	assert_non_null(s);
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
}

/* The body cut at max_body: the raw message ends where it does. */
static void t_cut(void **st)
{
	(void)st;
	struct scan *s = scan_new();
	assert_non_null(s);
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
	struct scan *s = scan_new();
	assert_non_null(s);
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
	s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_add_header(s, "A", 1, " b", 2), 0);
	assert_raw(s, "A: b\r\n\r\n");
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_file),
		cmocka_unit_test(t_cut),
		cmocka_unit_test(t_milter_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: UTF-8 decoding (well-formed 1-4 byte forms; overlongs,
 * surrogates, values above U+10FFFF, truncated sequences and stray
 * continuation bytes refused), validation of whole strings, encoding,
 * and decode/encode agreement over every code point and every two- and
 * three-byte sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

/* Decode the n bytes of s; returns the length, the code point in *cp
 * (left at 0xdeadbeef on failure). */
static size_t dec(const char *s, size_t n, uint32_t *cp)
{
	*cp = 0xdeadbeef;
	return utf8_decode((const unsigned char *)s, n, cp);
}

static void ok(const char *s, size_t n, uint32_t want)
{
	uint32_t cp;
	assert_int_equal(dec(s, n, &cp), n);
	assert_int_equal(cp, want);
	assert_true(utf8_valid(s, n));
}

static void bad(const char *s, size_t n)
{
	uint32_t cp;
	assert_int_equal(dec(s, n, &cp), 0);
	assert_int_equal(cp, 0xdeadbeef);
	assert_false(utf8_valid(s, n));
}

static void t_valid_forms(void **state)
{
	(void)state;
	ok("\0", 1, 0);
	ok("A", 1, 'A');
	ok("\x7f", 1, 0x7f);
	ok("\xc2\x80", 2, 0x80);          /* C1 control: well-formed */
	ok("\xc3\xa9", 2, 0xe9);
	ok("\xdf\xbf", 2, 0x7ff);
	ok("\xe0\xa0\x80", 3, 0x800);
	ok("\xe2\x82\xac", 3, 0x20ac);
	ok("\xed\x9f\xbf", 3, 0xd7ff);
	ok("\xee\x80\x80", 3, 0xe000);
	ok("\xef\xbf\xbf", 3, 0xffff);
	ok("\xf0\x90\x80\x80", 4, 0x10000);
	ok("\xf0\x9f\x98\x80", 4, 0x1f600);
	ok("\xf4\x8f\xbf\xbf", 4, 0x10ffff);
}

static void t_only_first_sequence(void **state)
{
	(void)state;
	uint32_t cp;
	assert_int_equal(dec("\xc3\xa9xyz", 5, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(dec("ab", 2, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 3,
	                             NULL), 3);
	assert_int_equal(utf8_decode((const unsigned char *)"", 0, NULL), 0);
}

static void t_overlongs(void **state)
{
	(void)state;
	bad("\xc0\x80", 2);
	bad("\xc1\xbf", 2);
	bad("\xe0\x80\x80", 3);
	bad("\xe0\x9f\xbf", 3);
	bad("\xf0\x80\x80\x80", 4);
	bad("\xf0\x8f\xbf\xbf", 4);
}

static void t_surrogates_and_range(void **state)
{
	(void)state;
	bad("\xed\xa0\x80", 3);           /* U+D800 */
	bad("\xed\xbf\xbf", 3);           /* U+DFFF */
	bad("\xf4\x90\x80\x80", 4);       /* U+110000 */
	bad("\xf5\x80\x80\x80", 4);
	bad("\xf7\xbf\xbf\xbf", 4);
	bad("\xf8\x88\x80\x80\x80", 5);   /* old five-byte form */
	bad("\xfc\x84\x80\x80\x80\x80", 6);
	bad("\xfe", 1);
	bad("\xff", 1);
}

static void t_truncated_and_stray(void **state)
{
	(void)state;
	bad("\xc3", 1);
	bad("\xe2\x82", 2);
	bad("\xe2", 1);
	bad("\xf0\x9f\x98", 3);
	bad("\xf0\x9f", 2);
	bad("\x80", 1);
	bad("\xbf", 1);
	bad("\xc3\x41", 2);               /* lead then ASCII */
	bad("\xe2\x82\x41", 3);
	bad("\xf0\x9f\x98\xc3", 4);       /* lead where a continuation goes */
	/* the length given bounds the read, whatever follows in memory */
	uint32_t cp;
	assert_int_equal(dec("\xe2\x82\xac", 2, &cp), 0);
}

static void t_valid_strings(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid(NULL, 0));
	assert_true(utf8_valid("plain ASCII\r\n", 13));
	assert_true(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	assert_true(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("caf\xe9", 4));            /* Latin-1 */
	assert_false(utf8_valid("ok \xe2\x82", 5));        /* truncated at end */
	assert_false(utf8_valid("\xed\xa0\x80 x", 5));
	assert_false(utf8_valid("x \x80 y", 5));
}

static void t_encode(void **state)
{
	(void)state;
	char b[4];
	assert_int_equal(utf8_encode(0, b), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(utf8_encode(0xe9, b), 2);
	assert_memory_equal(b, "\xc3\xa9", 2);
	assert_int_equal(utf8_encode(0x20ac, b), 3);
	assert_memory_equal(b, "\xe2\x82\xac", 3);
	assert_int_equal(utf8_encode(0xfffd, b), 3);
	assert_memory_equal(b, "\xef\xbf\xbd", 3);
	assert_int_equal(utf8_encode(0x10ffff, b), 4);
	assert_memory_equal(b, "\xf4\x8f\xbf\xbf", 4);
	memset(b, 'x', sizeof b);
	assert_int_equal(utf8_encode(0xd800, b), 0);
	assert_int_equal(utf8_encode(0xdfff, b), 0);
	assert_int_equal(utf8_encode(0x110000, b), 0);
	assert_int_equal(utf8_encode(0xffffffff, b), 0);
	assert_memory_equal(b, "xxxx", 4);
}

/* Every scalar value encodes to a sequence that decodes back to it. */
static void t_roundtrip_all(void **state)
{
	(void)state;
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		char b[4];
		size_t n = utf8_encode(cp, b);
		if (cp >= 0xd800 && cp <= 0xdfff) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 :
		                    cp < 0x10000 ? 3 : 4);
		uint32_t back;
		assert_int_equal(dec(b, n, &back), n);
		assert_int_equal(back, cp);
	}
}

/* Every two- and three-byte input: accepted exactly when it is the
 * encoding of what it decodes to, and as many as RFC 3629 counts. */
static void t_exhaustive_short(void **state)
{
	(void)state;
	size_t two = 0, three = 0;
	for (unsigned a = 0x80; a < 0x100; a++) {
		for (unsigned b = 0; b < 0x100; b++) {
			char s2[2] = { (char)a, (char)b };
			uint32_t cp;
			size_t n = dec(s2, 2, &cp);
			if (n == 2) {
				char e[4];
				assert_int_equal(utf8_encode(cp, e), 2);
				assert_memory_equal(e, s2, 2);
				two++;
			} else {
				assert_int_equal(n, 0);
			}
			for (unsigned c = 0; c < 0x100; c++) {
				char s3[3] = { (char)a, (char)b, (char)c };
				n = dec(s3, 3, &cp);
				if (n != 3)
					continue;
				char e[4];
				assert_int_equal(utf8_encode(cp, e), 3);
				assert_memory_equal(e, s3, 3);
				three++;
			}
		}
	}
	assert_int_equal(two, 0x800 - 0x80);
	assert_int_equal(three, 0x10000 - 0x800 - 0x800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_valid_forms),
		cmocka_unit_test(t_only_first_sequence),
		cmocka_unit_test(t_overlongs),
		cmocka_unit_test(t_surrogates_and_range),
		cmocka_unit_test(t_truncated_and_stray),
		cmocka_unit_test(t_valid_strings),
		cmocka_unit_test(t_encode),
		cmocka_unit_test(t_roundtrip_all),
		cmocka_unit_test(t_exhaustive_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: the Aho-Corasick scanner (against a naive search on random
 * literal sets and texts) and a text's bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acscan.h"
#include "litscan.h"
#include "test_lit_util.h"

/* acscan_bytes() and acscan_run_bytes() on texts of every length
 * around their methods (acscan_run_bytes() with an automaton: in
 * t_scan_random). */
static void t_bytes_of(void **state)
{
	(void)state;
	char text[300];
	for (size_t len = 0; len < sizeof text; len++) {
		struct litscan_bset want = { { 0 } }, got;
		for (size_t i = 0; i < len; i++) {
			unsigned char b = (unsigned char)(rnd() % (len % 3 ? 256 : 40));
			text[i] = (char)b;
			want.w[b / 64] |= (uint64_t)1 << (b % 64);
		}
		acscan_bytes(text, len, &got);
		assert_memory_equal(&want, &got, sizeof want);
		uint64_t found = 0;
		acscan_run_bytes(NULL, text, len, &found, &got);
		assert_memory_equal(&want, &got, sizeof want);
	}
}

/* ---- scanner ---- */

static void t_scan_basic(void **state)
{
	(void)state;
	struct acscan *ls = acscan_new();
	assert_non_null(ls);
	assert_int_equal(acscan_add(ls, "he", 2, 0), 0);
	assert_int_equal(acscan_add(ls, "She", 3, 1), 0);
	assert_int_equal(acscan_add(ls, "his", 3, 2), 0);
	assert_int_equal(acscan_add(ls, "HERS", 4, 3), 0);
	assert_int_equal(acscan_add(ls, "hers", 4, 70), 0);  /* same literal */
	assert_int_equal(acscan_add(ls, "caf\xc3\xa9", 5, 4), 0);
	assert_int_equal(acscan_add(ls, "xyz", 3, 4), 0);     /* same id */
	assert_int_equal(acscan_add(ls, "", 0, 5), -1);
	assert_int_equal(acscan_id_limit(ls), 71);
	uint64_t found[2] = { 0, 0 };
	acscan_run(ls, "ushers", 6, found);   /* before build: nothing */
	assert_true(found[0] == 0);
	assert_int_equal(acscan_build(ls), 0);
	assert_int_equal(acscan_build(ls), -1);
	assert_int_equal(acscan_add(ls, "late", 4, 6), -1);
	acscan_run(ls, "uSHErs", 6, found);
	assert_true(found[0] == ((1u << 0) | (1u << 1) | (1u << 3)));
	assert_true(found[1] == (1ull << 6));
	memset(found, 0, sizeof found);
	acscan_run(ls, "CAF\xc3\xa9", 5, found);
	assert_true(found[0] == (1u << 4));
	memset(found, 0, sizeof found);
	acscan_run(ls, "CAF\xc3\x89", 5, found);  /* É: not folded */
	acscan_run(ls, "", 0, found);
	acscan_run(ls, "h\0is", 4, found);
	assert_true(found[0] == 0 && found[1] == 0);
	acscan_free(ls);
	acscan_free(NULL);

	/* An empty matcher builds and finds nothing. */
	ls = acscan_new();
	assert_int_equal(acscan_build(ls), 0);
	acscan_run(ls, "abc", 3, found);
	assert_true(found[0] == 0);
	acscan_free(ls);
}

static void t_scan_random(void **state)
{
	(void)state;
	static const char alpha[] = "abAB\xc3\xa9" "c\n";
	for (int round = 0; round < 400; round++) {
		size_t nlit = 1 + rnd() % 60;
		size_t alen = 2 + rnd() % (sizeof alpha - 2);
		char lit[60][8];
		size_t ll[60];
		uint32_t id[60];
		uint32_t nid = 1 + rnd() % 100;
		struct acscan *ls = acscan_new();
		assert_non_null(ls);
		for (size_t i = 0; i < nlit; i++) {
			ll[i] = 1 + rnd() % 7;
			for (size_t j = 0; j < ll[i]; j++)
				lit[i][j] = alpha[rnd() % alen];
			id[i] = rnd() % nid;
			assert_int_equal(acscan_add(ls, lit[i], ll[i], id[i]), 0);
		}
		assert_int_equal(acscan_build(ls), 0);
		for (int t = 0; t < 10; t++) {
			char text[300];
			size_t tl = rnd() % sizeof text;
			for (size_t j = 0; j < tl; j++)
				text[j] = (rnd() % 10 == 0) ? (char)(rnd() & 0xff)
				                             : alpha[rnd() % alen];
			uint64_t got[2] = { 0, 0 }, want[2] = { 0, 0 };
			acscan_run(ls, text, tl, got);
			for (size_t i = 0; i < nlit; i++)
				if (contains_ci(text, tl, lit[i], ll[i]))
					want[id[i] / 64] |= 1ull << (id[i] % 64);
			if (got[0] != want[0] || got[1] != want[1])
				fail_msg("round %d text %d: got %016llx%016llx want "
				         "%016llx%016llx", round, t,
				         (unsigned long long)got[1], (unsigned long long)got[0],
				         (unsigned long long)want[1], (unsigned long long)want[0]);
			/* the same with the text's bytes in the same pass */
			uint64_t got2[2] = { 0, 0 };
			struct litscan_bset bytes, wbytes;
			acscan_run_bytes(ls, text, tl, got2, &bytes);
			acscan_bytes(text, tl, &wbytes);
			assert_memory_equal(got, got2, sizeof got);
			assert_memory_equal(&bytes, &wbytes, sizeof bytes);
		}
		acscan_free(ls);
	}
}

/* Long texts take the four-stream path: literals planted across the
 * slice boundaries must be found exactly once as by a naive search. */
static void t_scan_long(void **state)
{
	(void)state;
	static const char alpha[] = "abcAB";
	static char text[8192];
	for (int round = 0; round < 60; round++) {
		size_t nlit = 1 + rnd() % 40;
		char lit[40][48];
		size_t ll[40];
		struct acscan *ls = acscan_new();
		assert_non_null(ls);
		for (size_t i = 0; i < nlit; i++) {
			ll[i] = 3 + rnd() % 45;
			for (size_t j = 0; j < ll[i]; j++)
				lit[i][j] = alpha[rnd() % 3 + (rnd() % 4 == 0 ? 2 : 0)];
			assert_int_equal(acscan_add(ls, lit[i], ll[i], (uint32_t)i), 0);
		}
		assert_int_equal(acscan_build(ls), 0);
		for (int t = 0; t < 8; t++) {
			size_t tl = 100 + rnd() % (sizeof text - 100);
			for (size_t j = 0; j < tl; j++)
				text[j] = alpha[rnd() % 5];
			/* plant literals, some straddling len/4, len/2, 3len/4 */
			for (int k = 0; k < 6; k++) {
				size_t i = rnd() % nlit;
				size_t at = (k < 3 ? (size_t)(k + 1) * (tl / 4) : rnd() % tl);
				at = at >= ll[i] ? at - rnd() % ll[i] : 0;
				if (at + ll[i] <= tl)
					memcpy(text + at, lit[i], ll[i]);
			}
			uint64_t got = 0, want = 0;
			acscan_run(ls, text, tl, &got);
			for (size_t i = 0; i < nlit; i++)
				if (contains_ci(text, tl, lit[i], ll[i]))
					want |= 1ull << i;
			if (got != want)
				fail_msg("round %d text %d (len %zu): got %016llx want "
				         "%016llx", round, t, tl, (unsigned long long)got,
				         (unsigned long long)want);
		}
		acscan_free(ls);
	}
}

/* Literals over many byte values: more classes than a cache line's
 * worth of transitions (rows padded, frequent bytes first, the rest in
 * byte order), and in the last rounds enough states for a table of
 * several MiB (the huge-page allocation). Checked against a naive
 * search, with found bits for ids past the first word too. */
static void t_scan_wide(void **state)
{
	(void)state;
	enum { MAXLIT = 3000 };
	static char lit[MAXLIT][12];
	static size_t ll[MAXLIT];
	static char text[4000];
	for (int round = 0; round < 12; round++) {
		/* about 20 to 250 byte values in the literals */
		unsigned span = 20 + rnd() % 236;
		size_t nlit = round < 9 ? 1 + rnd() % 200 : MAXLIT;
		struct acscan *ls = acscan_new();
		assert_non_null(ls);
		for (size_t i = 0; i < nlit; i++) {
			ll[i] = 2 + rnd() % 10;
			for (size_t j = 0; j < ll[i]; j++)
				lit[i][j] = (char)(1 + rnd() % span);
			assert_int_equal(acscan_add(ls, lit[i], ll[i],
			                            (uint32_t)(i % 150)), 0);
		}
		assert_int_equal(acscan_build(ls), 0);
		for (int t = 0; t < 20; t++) {
			size_t tl = rnd() % sizeof text;
			for (size_t j = 0; j < tl; j++)
				text[j] = (char)(rnd() % 256);
			for (int k = 0; k < 8 && tl > 12; k++) {   /* plant some */
				size_t i = rnd() % nlit;
				memcpy(text + rnd() % (tl - 11), lit[i], ll[i]);
			}
			uint64_t got[3] = { 0, 0, 0 }, want[3] = { 0, 0, 0 };
			struct litscan_bset bytes;
			acscan_run_bytes(ls, text, tl, got, &bytes);
			for (size_t i = 0; i < nlit; i++)
				if (contains_ci(text, tl, lit[i], ll[i]))
					want[i % 150 / 64] |= 1ull << (i % 150 % 64);
			if (memcmp(got, want, sizeof got) != 0)
				fail_msg("round %d text %d (len %zu, span %u, %zu "
				         "literals): found bits differ", round, t, tl,
				         span, nlit);
		}
		acscan_free(ls);
	}
}

/* acscan_count(): distinct end positions, overlaps count, stops at
 * need. */
static void t_count(void **state)
{
	(void)state;
	char l3[3][64] = { "aaa", "abc", "bc" };
	struct acscan *ls = rep_scanner(l3, 3);
	assert_int_equal(acscan_count(ls, "aaaaa", 5, 10), 3);
	assert_int_equal(acscan_count(ls, "AAAAA", 5, 2), 2);
	assert_int_equal(acscan_count(ls, "abc", 3, 10), 1);  /* abc, bc */
	assert_int_equal(acscan_count(ls, "xbcxabc", 7, 10), 2);
	assert_int_equal(acscan_count(ls, "", 0, 10), 0);
	acscan_free(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_bytes_of),
		cmocka_unit_test(t_scan_basic),
		cmocka_unit_test(t_scan_random),
		cmocka_unit_test(t_scan_long),
		cmocka_unit_test(t_scan_wide),
		cmocka_unit_test(t_count),
	};
	return cmocka_run_group_tests_name("acscan", tests, NULL, NULL);
}

/*
 * test_lit_util.h — helpers for the literal prefilter's tests
 * (test_litscan.c, test_acscan.c): a fixed-seed random generator and a
 * naive ASCII-case-insensitive search to check scans against, and a
 * scanner over a repeat's literals. Include after cmocka.h.
 */
#ifndef TEST_LIT_UTIL_H
#define TEST_LIT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "acscan.h"

/* A fixed-seed generator: the tests are reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static inline unsigned char low(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ASCII-case-insensitive search. */
static inline bool contains_ci(const char *hay, size_t hl, const char *needle, size_t nl)
{
	if (nl == 0)
		return true;
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t j = 0;
		while (j < nl && low((unsigned char)hay[i + j]) ==
		                 low((unsigned char)needle[j]))
			j++;
		if (j == nl)
			return true;
	}
	return false;
}

/* A scanner over the literals of a repeat's body (all with id 0). */
static inline struct acscan *rep_scanner(char lits[][64], size_t n)
{
	struct acscan *ls = acscan_new();
	assert_non_null(ls);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(acscan_add(ls, lits[i], strlen(lits[i]), 0), 0);
	assert_int_equal(acscan_build(ls), 0);
	return ls;
}

#endif

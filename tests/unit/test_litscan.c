/* Unit tests: literal extraction (expected literals, soundness checked
 * against PCRE2 itself on hand-picked and random patterns and subjects,
 * every regex of the stock SpamAssassin rules). The scanner's are in
 * test_acscan.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "acscan.h"
#include "litscan.h"
#include "test_lit_util.h"
#include "utf8.h"

/* ---- extraction: expected literals ---- */

struct want {
	const char *pat;
	uint32_t opts;
	const char *lits;   /* "|"-separated, in order; "" = none */
};

static void t_extract_expected(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ "viagra", 0, "viagra" },
		{ "ViAgRa", PCRE2_CASELESS, "viagra" },
		{ "ab", 0, "" },                         /* too short */
		{ "foo.*barbaz", 0, "barbaz" },          /* the longest factor */
		{ "\\bcheap\\s+meds\\b", 0, "cheap" },   /* \b \s cut */
		{ "foo|barx|bazz", 0, "foo|barx|bazz" },
		{ "foo|ba", 0, "" },                     /* a branch without */
		/* products of exact alternatives and optional parts */
		{ "(?:hello|howdy) world", 0, "hello world|howdy world" },
		{ "(?:hello|howdy)x", 0, "hellox|howdyx" },
		{ "x(hello|howdy)y", 0, "xhelloy|xhowdyy" },
		{ "e-?mai?l", 0, "e-mail|e-mal|email|emal" },
		{ "(?:ab|)cde", 0, "cde" },              /* minimised */
		{ "ab+cd", 0, "bcd" },
		{ "abc+", 0, "abc" },
		{ "abcd?ef", 0, "abcdef|abcef" },
		{ "abc{2}d", 0, "abccd" },
		{ "(abc){2}", 0, "abcabc" },
		{ "(abc)?defg", 0, "defg" },
		{ "x[Vv]iagra", 0, "xviagra" },
		{ "v[i1]agra", 0, "viagra|v1agra" },     /* small classes expand */
		{ "gu[a-c]ide", 0, "guaide|gubide|gucide" },
		{ "gu[a-e]ide", 0, "ide" },              /* five bytes: cut */
		{ "[^ab]cde", 0, "cde" },
		{ "a[\\w]bcd", 0, "bcd" },
		{ "x[-_]yz", 0, "x-yz|x_yz" },
		{ "x[a-]yz", PCRE2_CASELESS, "xayz|x-yz" },
		{ "x[Aa\\x42]yz", 0, "xayz|xbyz" },
		{ "free\\.money", 0, "free.money" },
		{ "free.money", 0, "money" },
		{ "free\\x20money", 0, "free money" },   /* \xhh decoded */
		{ "caf[\\xc3][\\xa9]s", 0, "caf\xc3\xa9s" },
		{ "x[\\xe9]y", PCRE2_UTF, "" },         /* U+00E9: two bytes */
		{ "\\Qa.b.c\\E", 0, "" },
		{ "(foo)\\1bar", 0, "foo" },
		{ "foo bar # comment", PCRE2_EXTENDED, "foobar" },
		{ "foo\\ bar", PCRE2_EXTENDED, "foo bar" },
		{ "foo (?#x) bar", PCRE2_EXTENDED, "foobar" },
		{ "(?x) a b c d", 0, "abcd" },
		{ "(?x: a b c ) d e", 0, "abc d e" },
		{ "(?=foobar)xyz", 0, "xyz" },
		{ "(?!foobar)xy", 0, "" },
		{ "caf\xc3\xa9 au lait", 0, "caf\xc3\xa9 au lait" },
		/* bytes >= 0x80 have no case without UTF or UCP */
		{ "caf\xc3\xa9s au lait", PCRE2_CASELESS, "caf\xc3\xa9s au lait" },
		{ "(?i)caf\xc3\xa9s", 0, "caf\xc3\xa9s" },
		{ "caf\xc3\xa9 au lait", PCRE2_CASELESS | PCRE2_UTF, " au lait" },
		{ "caf\xc3\xa9 au lait", PCRE2_CASELESS | PCRE2_UCP, " au lait" },
		{ "mask", PCRE2_CASELESS | PCRE2_UTF, "" },   /* k, s: U+212A, U+017F */
		{ "market", PCRE2_CASELESS | PCRE2_UTF, "mar" },
		{ "marvel", PCRE2_CASELESS | PCRE2_UTF, "marvel" },
		{ "a{,3}bcd", 0, "" },                   /* version-dependent */
		{ "x{foo}", 0, "x{foo}" },
		{ "(*UTF)abcdef", 0, "" },
		{ "abc)", 0, "" },
		{ "[]abc]def", 0, "]def|adef|bdef|cdef" },
		{ "[^]abc]def", 0, "def" },
		{ "[[:alpha:]]+ing", 0, "ing" },
		{ "abc", PCRE2_LITERAL, "abc" },
		{ "a.c", PCRE2_LITERAL, "a.c" },
		{ "foo(?i)BAR", 0, "foobar" },
		{ "foobar|foo", 0, "foo" },              /* minimised */
		{ "a|b|c|d|e|f|g|h|i", 0, "" },
		{ "aaa1|aaa2|aaa3|aaa4|aaa5|aaa6|aaa7|aaa8|aaa9", 0, "" },
		{ "abc\\d{3}defg", 0, "defg" },
		{ "abc(?:def)+ghi", 0, "abcdef" },
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		char lits[8][64];
		size_t n = litscan_extract(w[i].pat, strlen(w[i].pat), w[i].opts,
		                           lits, 8);
		char got[600] = "";
		for (size_t j = 0; j < n; j++) {
			if (j)
				strcat(got, "|");
			strcat(got, lits[j]);
		}
		if (strcmp(got, w[i].lits) != 0) {
			print_message("# /%s/: got \"%s\", want \"%s\"\n", w[i].pat,
			              got, w[i].lits);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	/* max_lits smaller than the branches needed: none */
	char lits[8][64];
	assert_int_equal(litscan_extract("foo|bar|baz", 11, 0, lits, 2), 0);
	assert_int_equal(litscan_extract("foo|bar", 7, 0, lits, 2), 2);
	assert_int_equal(litscan_extract(NULL, 0, 0, lits, 8), 0);
	assert_int_equal(litscan_extract("", 0, 0, lits, 8), 0);
	/* branches whose sets do not fit together: their shorter forms */
	static const char big[] =
		"(?:abc|abd)(?:efg|efh)(?:ijk|ijl)(?:mno|mnp)(?:qrs|qrt)(?:uvw|uvx)"
		"(?:yz1|yz2)|(?:ABC|ABD)(?:EFG|EFH)(?:IJK|IJL)(?:MNO|MNP)(?:QRS|QRT)"
		"(?:UVW|UVX)(?:YZ3|YZ4)";
	char many[LITSCAN_MAX_LITS][64];
	assert_int_equal(litscan_extract(big, strlen(big), 0, many,
	                                 LITSCAN_MAX_LITS), 8);
	assert_string_equal(many[0], "abcefgijk");
	size_t first = (size_t)(strstr(big, ")|(") + 1 - big);
	assert_int_equal(litscan_extract(big, first, 0, many, LITSCAN_MAX_LITS),
	                 128);   /* the first branch alone: all of it */
	/* a long literal is kept to 63 bytes */
	char longp[200];
	memset(longp, 'q', 150);
	assert_int_equal(litscan_extract(longp, 150, 0, lits, 8), 1);
	assert_int_equal(strlen(lits[0]), 63);
}

/* Under PCRE2_CASELESS | PCRE2_UTF, the only ASCII letters with a
 * non-ASCII case variant are k (U+212A) and s (U+017F); extraction cuts
 * at those two. Check that PCRE2 agrees: no other ASCII letter matches
 * any non-ASCII code point. */
static void t_utf_casefold_assumption(void **state)
{
	(void)state;
	size_t cap = 0x110000 * 4, n = 0;
	unsigned char *s = malloc(cap);
	assert_non_null(s);
	for (uint32_t cp = 0x80; cp < 0x110000; cp++) {
		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		n += utf8_encode(cp, (char *)s + n);
	}
	static const char *const pats[] = { "[a-jl-rt-z]", "k", "s" };
	static const int want[] = { 0, 1, 1 };
	for (int ucp = 0; ucp < 2; ucp++) {
		for (size_t i = 0; i < 3; i++) {
			int ec;
			PCRE2_SIZE eo;
			pcre2_code *re = pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED,
			                               PCRE2_CASELESS | PCRE2_UTF |
			                               (ucp ? PCRE2_UCP : 0), &ec, &eo, NULL);
			assert_non_null(re);
			pcre2_match_data *md = pcre2_match_data_create(1, NULL);
			int rc = pcre2_match(re, s, n, 0, 0, md, NULL);
			assert_int_equal(rc >= 0, want[i]);
			pcre2_match_data_free(md);
			pcre2_code_free(re);
		}
	}
	free(s);
}

/* ---- extraction: soundness against PCRE2 ---- */

static pcre2_code *compile(const char *pat, size_t len, uint32_t opts)
{
	int ec;
	PCRE2_SIZE eo;
	return pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &eo, NULL);
}

/* Returns false (and says why) when PCRE2 matches the subject but no
 * extracted literal occurs in it. */
static bool sound_on(const char *pat, size_t plen, uint32_t opts,
                     pcre2_code *re, pcre2_match_data *md,
                     char lits[][64], size_t n,
                     const char *subj, size_t slen)
{
	if (n == 0)
		return true;
	int rc = pcre2_match(re, (PCRE2_SPTR)subj, slen, 0, 0, md, NULL);
	if (rc < 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (contains_ci(subj, slen, lits[i], strlen(lits[i])))
			return true;
	print_message("# UNSOUND: /%.*s/ opts %#x matches \"%.*s\" but "
	              "lacks \"%s\"%s\n", (int)plen, pat, opts, (int)slen, subj,
	              lits[0], n > 1 ? " (and others)" : "");
	return false;
}

static const char *const tricky[] = {
	"ab+cd", "ab*cd", "ab?cde", "a(bc)*def", "(abc|abd)efg", "abc|def|ghi",
	"x\\bfoo", "foo\\Bbar", "abc(?=def)", "(?<=abc)def", "(?<!x)abc",
	"(a|b)\\1cde", "(?i)ABC", "[Aa]bc[Dd]", "a.c.e.g", "abc$", "^abc",
	"abc\\d+def", "(?:ab){2,}cd", "(?:ab){2}cd", "a{2}bc", "a{1,3}bcd",
	"(?:)abc", "(abc)?+def", "abc++d", "a*+bcd", "ab\\.cd", "\\x61bcd",
	"\\141bcd", "ab\\tcd", "(?x) a b c \\# d", "(?x)abc#comment\nxyz",
	"(?|(abc)|(xyz))", "(?>abc|ab)cde", "a(?i:bcd)e", "(?i)a(?-i)bcd",
	"abc{2,3}", "a(b(c(d(e))))", "[^a]bcd", "(?s:.)abc", "a\\Kbcd",
	"abc|", "(abc|)def", "ab(?:c|d)ef", "(?P<n>abc)(?P=n)", "\\w+@\\w+\\.com",
	"a{0}bcd", "(?:abc){0,2}de", "a\\Ebcd", "\\babc\\b|\\bdef",
	"(?i)k[s]x", "xks", "ks+t", "\\Qab\\Ecd",
};

static const char *const subjects[] = {
	"abcd", "abbbcd", "acd", "acde", "abcde", "defg", "abcdefg", "abdefg",
	"x foo", "xfoo", "foobar", "abcdef", "xabc", "yabc", "aacde", "bbcde",
	"ABC", "aBcD", "abcD", "aXcXeXg", "abc", "xyzabc", "abc1def",
	"ababcd", "abcd", "aabc", "aaabcd", "abd", "ab.cd", "ab\tcd",
	"abc#d", "abcxyz", "abc\nxyz", "xyz", "abcde", "aBCDe", "abcd",
	"ABcd", "abccc", "abcde", "zbcd", "\nabc", "bcd", "", "def",
	"abef", "abdef", "abcabc", "joe@ex.com", "me@x.com", "de",
	"abc abc", " abc", "def ", "kSx", "xks", "KSST", "xkst", "abcd",
	"\xe2\x84\xaa" "sx", "x\xe2\x84\xaa" "s", "\xc5\xbf" "abc",
};

/* Random patterns: up to 8 pieces, each a group opener (choice 0), a
 * close (1), a '|' (2) or an atom (else; choice = rnd() % choices),
 * atoms followed by a random quantifier unless they start with one of
 * the bytes in noquant. Open groups are closed at the end. */
struct gen {
	const char *const *atoms;
	size_t natoms;
	const char *const *quants;
	size_t nquants;
	const char *const *opens;
	size_t nopens;
	unsigned choices;
	const char *noquant;
};

#define GEN_ARRAY(a) (a), sizeof (a) / sizeof (a)[0]

static size_t gen_pattern(const struct gen *g, char pat[256])
{
	size_t pl = 0;
	int depth = 0;
	int pieces = 1 + (int)(rnd() % 8);
	for (int k = 0; k < pieces && pl < 200; k++) {
		uint32_t r = rnd() % g->choices;
		const char *add;
		if (r == 0 && depth < 3) {
			add = g->opens[rnd() % g->nopens];
			depth++;
		} else if (r == 1 && depth > 0) {
			add = ")";
			depth--;
		} else if (r == 2) {
			add = "|";
		} else {
			add = g->atoms[rnd() % g->natoms];
		}
		size_t al = strlen(add);
		memcpy(pat + pl, add, al);
		pl += al;
		if (add[0] != '(' && add[0] != '|' && add[0] != ')' &&
		    strchr(g->noquant, add[0]) == NULL) {
			const char *q = g->quants[rnd() % g->nquants];
			memcpy(pat + pl, q, strlen(q));
			pl += strlen(q);
		}
	}
	while (depth-- > 0)
		pat[pl++] = ')';
	pat[pl] = '\0';
	return pl;
}

/* A random pattern of g (in pat, *pl bytes) compiled with one of the
 * nopts option sets (*opts); NULL when PCRE2 refuses it. */
static pcre2_code *gen_compiled(const struct gen *g, const uint32_t *optsets,
                                size_t nopts, char pat[256], size_t *pl,
                                uint32_t *opts)
{
	*pl = gen_pattern(g, pat);
	*opts = optsets[rnd() % nopts];
	return compile(pat, *pl, *opts);
}

/* A random subject (room for 64 bytes): up to max-1 bytes of alpha, or
 * (pieces) 1 to 6 of the pieces, whose length stays under 10 each; the
 * pieces are like the patterns' own text, for more matches. */
static size_t gen_subject(char *subj, bool bytes, const char *alpha,
                          size_t max, const char *const *pieces,
                          size_t npieces)
{
	size_t sl = 0;
	if (bytes) {
		sl = rnd() % max;
		for (size_t i = 0; i < sl; i++)
			subj[i] = alpha[rnd() % strlen(alpha)];
		return sl;
	}
	int np = 1 + (int)(rnd() % 6);
	for (int i = 0; i < np; i++) {
		const char *pc = pieces[rnd() % npieces];
		memcpy(subj + sl, pc, strlen(pc));
		sl += strlen(pc);
	}
	return sl;
}

/* The ASCII projection finds the same matches (start and end) as the
 * pattern in ASCII subjects: random patterns mixing ASCII items with
 * items that can only match bytes >= 0x80. */
static bool same_matches(pcre2_code *a, pcre2_code *b, pcre2_match_data *md,
                         const char *subj, size_t sl)
{
	for (size_t start = 0; start <= sl; start++) {
		int ra = pcre2_match(a, (PCRE2_SPTR)subj, sl, start, 0, md, NULL);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		PCRE2_SIZE s0 = ov[0], s1 = ov[1];
		int rb = pcre2_match(b, (PCRE2_SPTR)subj, sl, start, 0, md, NULL);
		if ((ra >= 0) != (rb >= 0) || (ra >= 0 && (s0 != ov[0] ||
		                                            s1 != ov[1])))
			return false;
	}
	return true;
}

static void t_ascii_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "b", "m", "rn", "[mM\xcc]", "[\\xce][\\xa1]", "\\xd0\\x9c",
		"\xc3\xa9", "\\x{e9}", "[^\\xd0a]", "(?!\\xd0)", "(?<=\\xc3)",
		"(?=\\xd0|b)", "(?!\\xd0|)", "[\\x80-\\xffb]", "[\\xc0-\\xc6A]",
		"\\s", ".", "\\b", "^", "$", "\\W", "[[:alpha:]\\xe9]", "\\0141",
		"\\x61", "[]\\xe9]", "(?<!\\xd1)", "\\\\", "\\d", "&\\#",
	};
	static const char *const quants[] = {
		"", "", "", "?", "*", "+", "{2}", "{0,2}", "+?", "*+", "{0}",
	};
	static const char *const opens[] = { "(", "(", "(?:", "(?=" };
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 14, "" };
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_DOTALL | PCRE2_MULTILINE,
	};
	static const char alpha[] = "abmMrnA \n1&#\\-";
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t bad = 0, projected = 0, dead = 0;
	for (int round = 0; round < 6000; round++) {
		char pat[256];
		size_t pl;
		uint32_t opts;
		pcre2_code *re = gen_compiled(&g, GEN_ARRAY(optsets), pat, &pl,
		                              &opts);
		if (re == NULL)
			continue;
		size_t al;
		bool no_amp = round % 3 == 0;   /* subjects without '&' then */
		char *ap = litscan_ascii(pat, pl, opts, no_amp, &al);
		if (ap == NULL) {
			pcre2_code_free(re);
			continue;
		}
		projected++;
		dead += strcmp(ap, "(*FAIL)") == 0;
		pcre2_code *pr = compile(ap, al, opts);
		if (pr != NULL && litscan_pcre2_trap(pr, ap, al)) {
			pcre2_code_free(pr);   /* the engine leaves it out */
			pr = NULL;
		} else if (pr == NULL) {
			print_message("# %s -> %s does not compile\n", pat, ap);
			bad++;
		}
		for (int s = 0; s < 30 && pr != NULL; s++) {
			char subj[32];
			size_t sl = rnd() % 12;
			for (size_t i = 0; i < sl; i++)
				do
					subj[i] = alpha[rnd() % (sizeof alpha - 1)];
				while (no_amp && subj[i] == '&');
			if (!same_matches(re, pr, md, subj, sl)) {
				print_message("# %s -> %s (no_amp %d) differs on \"%.*s\"\n",
				              pat, ap, no_amp, (int)sl, subj);
				bad++;
				break;
			}
		}
		pcre2_code_free(pr);
		pcre2_code_free(re);
		free(ap);
	}
	pcre2_match_data_free(md);
	print_message("# ascii projection: %zu projected, %zu never match\n",
	              projected, dead);
	assert_true(projected > 500);
	assert_int_equal(bad, 0);
}

/* Skeleton literals: what the rules spelling words with separators get. */
static void t_skel_expected(void **state)
{
	(void)state;
	static const struct { const char *pat; uint32_t opts; const char *want; }
	w[] = {
		{ "\\bv[_\\W]?i[_\\W]?a[_\\W]?g[_\\W]?r[_\\W]?a", 0, "uiagra" },
		{ "t[_\\W]?[e3\\xE8-\\xEB][_\\W]?n[_\\W]?u[_\\W]?a", PCRE2_CASELESS,
		  "tenua|tnua" },
		{ "x_{0,3}y\\s*z(?!q)w", 0, "xisw" },   /* lookalikes folded */
		{ "[il1][o0]u[e3]", 0, "ioue" },
		{ "a-b\\.c", 0, "abc" },
		{ "(?:\\\\\\/|V)i[a@]gr", 0, "iagr|igr" },
		{ "ab\\wcd", 0, NULL },               /* \w: any letter */
		{ "ab[a-z]cd", 0, NULL },
		{ "ab[^x]cd", 0, NULL },
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		char lits[16][64], got[256] = "";
		size_t n = litscan_extract_skel(w[i].pat, strlen(w[i].pat),
		                                w[i].opts, lits, 16);
		for (size_t k = 0; k < n; k++) {
			strcat(got, k ? "|" : "");
			strcat(got, lits[k]);
		}
		bool ok = w[i].want == NULL ? n == 0 : strcmp(got, w[i].want) == 0;
		if (!ok) {
			print_message("# skel /%s/: got %s, want %s\n", w[i].pat,
			              n ? got : "none", w[i].want ? w[i].want : "none");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	char out[16];
	assert_int_equal(litscan_skeleton("V-i_a g\xc3\xa9r@4!", 14, out), 6);
	assert_memory_equal(out, "uiagra", 6);
	size_t n;
	char lits[4][64];
	n = litscan_extract_skel("v.?i", 4, PCRE2_UTF, lits, 4);
	assert_int_equal(n, 0);
}

/* Random patterns: whenever one matches a subject, one of its skeleton
 * literals occurs in the subject's skeleton. */
static void t_skel_sound_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "b", "c", "ab", "abc", "A", "x", "1", ".", "[ab]", "[a@]",
		"[_\\W]", "\\W", "\\s", "_", "-", "@", " ", "[b\\xe9-\\xef]",
		"\\b", "^", "$", "(?!a)", "(?<=b)", "\\d", "[a-c]", "(?:\\\\/|c)",
		"\\xe9", "\\.", "[^a]", "\\w",
	};
	static const char *const quants[] = {
		"", "", "", "", "?", "*", "+", "{2}", "{0,3}", "{1,2}", "+?",
	};
	static const char *const opens[] = { "(", "(?:", "(?=" };
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 16, "^$\\(" };
	static const uint32_t optsets[] = { 0, PCRE2_CASELESS, PCRE2_MULTILINE };
	static const char alpha[] = "aabbcABx1 _-@.\\/\xe9\n";
	static const char *const pieces[] = {
		"a", "b", "c", "ab", "abc", "A", "x", "1", " ", "_", "-", "@",
		"\xe9", "\\/", ".", "a_b", "a b", "\n",
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t bad = 0, usable = 0, matched = 0;
	for (int round = 0; round < 4000; round++) {
		char pat[256];
		size_t pl;
		uint32_t opts;
		pcre2_code *re = gen_compiled(&g, GEN_ARRAY(optsets), pat, &pl,
		                              &opts);
		if (re == NULL)
			continue;
		char lits[16][64];
		size_t n = litscan_extract_skel(pat, pl, opts, lits, 16);
		usable += n > 0;
		for (int s = 0; s < 150 && n > 0; s++) {
			char subj[64], sk[64];
			size_t sl = gen_subject(subj, s & 1, alpha, 20,
			                        GEN_ARRAY(pieces));
			if (pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) < 0)
				continue;
			matched++;
			size_t kl = litscan_skeleton(subj, sl, sk);
			bool found = false;
			for (size_t i = 0; i < n && !found; i++)
				found = contains_ci(sk, kl, lits[i], strlen(lits[i]));
			if (!found) {
				print_message("# UNSOUND skeleton: /%s/ matches \"%.*s\" "
				              "but lacks \"%s\"\n", pat, (int)sl, subj,
				              lits[0]);
				bad++;
				break;
			}
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# skeleton: %zu patterns with literals, %zu matches\n",
	              usable, matched);
	assert_true(usable > 200);
	assert_true(matched > 250);
	assert_int_equal(bad, 0);
}

/* PCRE2 before 10.45 misses "b" with /(?=b)b?b/; the check says so. */
static void t_pcre2_trap(void **state)
{
	(void)state;
	static const struct { const char *pat; bool trap; } w[] = {
		{ "(?=b)b?b", true }, { "(?=b)[\\x62]{0,2}b+?", true },
		{ "(?=B)b?b", true }, { "b{0,2}b+?", false }, { "(?=m)m?o", false },
		{ "(?=a|b)b?b", false }, { "ab?b", false },
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		pcre2_code *re = compile(w[i].pat, strlen(w[i].pat), PCRE2_CASELESS);
		assert_non_null(re);
		assert_int_equal(litscan_pcre2_trap(re, w[i].pat, strlen(w[i].pat)),
		                 w[i].trap);
		pcre2_code_free(re);
	}
}

static void t_ascii_expected(void **state)
{
	(void)state;
	static const struct { const char *pat, *want; } w[] = {
		{ "(?:[mM\\xcc]|rn|[\\xc9][\\xb1])y", "(?:[\\x4d\\x6d]|rn)y" },
		{ "a\\xd0b|c", "c" },
		{ "(?!\\xd0)a(?:\xc3\xa9)?", "a" },
		{ "\\xd0\\x9c|[\\x80-\\xff]", "(*FAIL)" },
		{ "abc", NULL },                 /* nothing to drop */
		{ "(a)\\1\\xd0", NULL },         /* references */
		{ "(?i)a\\xd0", NULL },          /* option settings */
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		size_t n = 0;
		char *p = litscan_ascii(w[i].pat, strlen(w[i].pat), 0, false, &n);
		if (w[i].want == NULL) {
			assert_null(p);
			continue;
		}
		assert_non_null(p);
		assert_string_equal(p, w[i].want);
		assert_int_equal(n, strlen(w[i].want));
		free(p);
	}
	/* no '&': the entity forms of a homoglyph letter go too */
	static const char hg[] = "(?:[pP]|&\\#(?:1056|x420);|\\xd0\\xa0)\\&?ay";
	size_t n = 0;
	char *p = litscan_ascii(hg, strlen(hg), 0, true, &n);
	assert_non_null(p);
	assert_string_equal(p, "(?:[pP])ay");
	free(p);
	p = litscan_ascii("a&b|c", 5, 0, true, &n);
	assert_non_null(p);
	assert_string_equal(p, "c");
	free(p);
	assert_null(litscan_ascii("a&b|c", 5, 0, false, &n));
}

static void t_extract_sound_tricky(void **state)
{
	(void)state;
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_EXTENDED, PCRE2_CASELESS | PCRE2_UTF,
		PCRE2_UTF, PCRE2_DOTALL | PCRE2_MULTILINE,
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t bad = 0, usable = 0, total = 0;
	for (size_t o = 0; o < sizeof optsets / sizeof optsets[0]; o++) {
		for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
			const char *p = tricky[i];
			pcre2_code *re = compile(p, strlen(p), optsets[o]);
			if (re == NULL)
				continue;
			char lits[8][64];
			size_t n = litscan_extract(p, strlen(p), optsets[o], lits, 8);
			total++;
			usable += n > 0;
			for (size_t s = 0; s < sizeof subjects / sizeof subjects[0]; s++)
				if (!sound_on(p, strlen(p), optsets[o], re, md, lits, n,
				              subjects[s], strlen(subjects[s])))
					bad++;
			pcre2_code_free(re);
		}
	}
	pcre2_match_data_free(md);
	print_message("# tricky patterns: %zu of %zu with literals\n", usable, total);
	assert_int_equal(bad, 0);
}

/* Random patterns from pieces, random subjects over a small alphabet:
 * whatever PCRE2 matches must contain an extracted literal. */
static void t_extract_sound_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "b", "c", "ab", "abc", "bca", "A", "B", "x", ".", "[ab]",
		"[Aa]", "[^a]", "\\d", "\\.", "\\b", "^", "$", "(?i)", "(?-i)",
		" ", "\\ ", "#", "\\x61", "k", "s", "\xc3\xa9", "\\w", "(?=ab)",
	};
	static const char *const quants[] = {
		"", "", "", "", "?", "*", "+", "{2}", "{1,2}", "{0,1}", "+?",
		"*+", "{2,}",
	};
	static const char *const opens[] = { "(", "(?:" };
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 16, "^$" };
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_EXTENDED, PCRE2_CASELESS | PCRE2_UTF,
		PCRE2_UTF,
	};
	static const char alpha[] = "aabbcABCx. 1#k\xc3\xa9s";
	static const char *const texts[] = {
		"a", "b", "c", "ab", "abc", "bca", "AB", "x", "1", ".", " ", "#",
		"k", "s", "S", "\xc3\xa9", "\xc3\x89", "\xe2\x84\xaa", "\xc5\xbf", "aa", "bb",
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t bad = 0, checked = 0, usable = 0, matched = 0;
	for (int round = 0; round < 3000; round++) {
		char pat[256];
		size_t pl;
		uint32_t opts;
		pcre2_code *re = gen_compiled(&g, GEN_ARRAY(optsets), pat, &pl,
		                              &opts);
		if (re == NULL)
			continue;
		char lits[8][64];
		size_t n = litscan_extract(pat, pl, opts, lits, 8);
		usable += n > 0;
		for (int s = 0; s < 40 && n > 0; s++) {
			char subj[64];
			size_t sl = gen_subject(subj, s & 1, alpha, 16,
			                        GEN_ARRAY(texts));
			checked++;
			matched += pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) >= 0;
			if (!sound_on(pat, pl, opts, re, md, lits, n, subj, sl))
				bad++;
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# random patterns: %zu with literals, %zu subjects "
	              "checked, %zu matched\n", usable, checked, matched);
	assert_int_equal(bad, 0);
}

/* ---- conjunctions: several required sets ---- */

/* The sets of litscan_extract_conj() as "a|b;c|d" (sets in order). */
static void conj_str(const char *pat, uint32_t opts, char *out, size_t cap)
{
	char lits[LITSCAN_MAX_LITS][64];
	size_t counts[4];
	size_t ns = litscan_extract_conj(pat, strlen(pat), opts, lits,
	                                 LITSCAN_MAX_LITS, counts, 4);
	size_t o = 0, l = 0;
	out[0] = '\0';
	for (size_t s = 0; s < ns; s++) {
		for (size_t i = 0; i < counts[s]; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s",
			                      i ? "|" : s ? ";" : "", lits[l++]);
	}
}

static void t_conj_expected(void **state)
{
	(void)state;
	static const struct want w[] = {
		{ "\\b(?:lock|deactivate|suspend)\\w*\\s+(?:your\\s+)?"
		  "(?:account|mailbox)", PCRE2_CASELESS,
		  "account|mailbox;lock|deactivate|suspend" },
		{ "click\\s+here\\s+(?:to\\s+)?unsub", 0, "click;unsub;here" },
		{ "foo(?:bar\\s+baz)+qux", 0, "foo;bar;baz;qux" },
		{ "(?:bar\\s+baz)?quux", 0, "quux" },       /* optional group */
		{ "(?:bar\\s+baz)*quux", 0, "quux" },
		{ "abc\\s+(?=defg\\s+hij)", 0, "abc" },     /* lookarounds: */
		{ "abc\\s+(?!defg)hij", 0, "abc;hij" },     /* nothing inside */
		{ "(?<=wxyz)\\s+abc", 0, "abc" },
		{ "abcd\\s+efg|hijk", 0, "abcd|hijk" },      /* branches: one set */
		{ "(?:abcd\\s+efg|hijk)\\s+lmno", 0, "lmno;abcd|hijk" },
		{ "(?:abcd\\s+efg)\\s+lmno", 0, "abcd;lmno;efg" },
		{ "foobar\\s+foo", 0, "foobar" },           /* foo: implied */
		{ "foo\\s+foobar", 0, "foobar" },
		{ "ab\\s+cdef", 0, "cdef" },                 /* too short */
		{ "a(?i:bcd)\\s+efgh", 0, "abcd;efgh" },
		{ "abc\\1\\s+(def)", 0, "abc;def" },
		{ "abc(?:\\s+def){2,}", 0, "abc;def" },
		{ "abc(?:\\s+def){0,2}", 0, "abc" },
		{ "k\\s+ssss\\s+abc", PCRE2_CASELESS | PCRE2_UTF, "abc" },
		{ "uvw\\s+xyz", PCRE2_LITERAL, "uvw\\s+xyz" },
		{ "a\\s+b\\s+c\\s+defg\\s+hijk\\s+lmno\\s+pqrs", 0,
		  "defg;hijk;lmno;pqrs" },                  /* at most 4 */
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		char got[2048], one[2048];
		conj_str(w[i].pat, w[i].opts, got, sizeof got);
		if (strcmp(got, w[i].lits) != 0)
			print_message("# /%s/: got \"%s\", want \"%s\"\n", w[i].pat,
			              got, w[i].lits);
		assert_string_equal(got, w[i].lits);
		/* set 0 is litscan_extract()'s */
		char lits[LITSCAN_MAX_LITS][64];
		size_t n = litscan_extract(w[i].pat, strlen(w[i].pat), w[i].opts,
		                           lits, LITSCAN_MAX_LITS);
		size_t o = 0;
		one[0] = '\0';
		for (size_t k = 0; k < n; k++)
			o += (size_t)snprintf(one + o, sizeof one - o, "%s%s",
			                      k ? "|" : "", lits[k]);
		assert_int_equal(strncmp(got, one, o), 0);
		assert_true(got[o] == '\0' || got[o] == ';');
	}
}

/* Whether subj (a match of re) holds a member of each of the ns sets;
 * reports the first lacking. */
static bool conj_sound_on(const char *pat, size_t plen, uint32_t opts,
                          pcre2_code *re, pcre2_match_data *md,
                          char lits[][64], const size_t *counts, size_t ns,
                          const char *subj, size_t slen, size_t *matched)
{
	if (ns == 0 ||
	    pcre2_match(re, (PCRE2_SPTR)subj, slen, 0, 0, md, NULL) < 0)
		return true;
	++*matched;
	size_t l = 0;
	for (size_t s = 0; s < ns; s++) {
		bool any = false;
		for (size_t i = 0; i < counts[s]; i++, l++)
			any |= contains_ci(subj, slen, lits[l], strlen(lits[l]));
		if (!any) {
			print_message("# UNSOUND: /%.*s/ opts %#x matches \"%.*s\" "
			              "without a member of set %zu (\"%s\"...)\n",
			              (int)plen, pat, opts, (int)slen, subj, s,
			              lits[l - counts[s]]);
			return false;
		}
	}
	return true;
}

/* A subject of up to 4 of the literals (case flipped at random), with
 * random separators: matches of the pattern become likely. */
static size_t conj_subject(char *subj, size_t cap, char lits[][64],
                           size_t nlits)
{
	static const char *const seps[] = {
		"", " ", "  ", "\t", "x", "your ", "-", ".", "\n", "1", "s ",
		"\xc3\xa9",
	};
	size_t sl = 0;
	int np = 1 + (int)(rnd() % 6);
	for (int k = 0; k < np; k++) {
		const char *pc = rnd() % 3 ? lits[rnd() % nlits] :
		                 seps[rnd() % (sizeof seps / sizeof seps[0])];
		const char *sp = seps[rnd() % (sizeof seps / sizeof seps[0])];
		size_t pl = strlen(pc), spl = strlen(sp);
		if (sl + pl + spl >= cap)
			break;
		for (size_t i = 0; i < pl; i++) {
			unsigned char c = (unsigned char)pc[i];
			subj[sl++] = (char)(rnd() % 4 == 0 && c >= 'a' && c <= 'z' ?
			                    c - 32 : c);
		}
		memcpy(subj + sl, sp, spl);
		sl += spl;
	}
	return sl;
}

/* Patterns like the stock rules' (sequences of words, optional words,
 * alternations, lookarounds, classes, repeats) and random ones: whenever
 * PCRE2 matches a subject, it holds a literal of every set. Subjects
 * are made of the literals themselves, so most sets are met and the
 * check is of the case where one lacks. */
static void t_conj_sound(void **state)
{
	(void)state;
	static const char *const reps[] = {
		"\\b(?:lock|deactivate|suspend)\\w*\\s+(?:your\\s+)?(?:account|mailbox)",
		"click\\s+here\\s+(?:to\\s+)?unsub",
		"(?:bar\\s+baz)?quux\\s+corge",
		"abcd\\s+(?=efgh\\s+ijkl)\\w+",
		"abcd\\s+(?!efgh)\\w+\\s+ijkl",
		"(?<=wxyz\\s)abcd\\s+efgh",
		"(?:abcd\\s+efgh|ijkl)\\s+mnop",
		"abcd\\s+efgh|ijkl\\s+mnop",
		"(?:your\\s+)+account\\s+(?:is|was)\\s+(?:locked|suspended)",
		"(?:abc\\s*){2,}def\\s+ghij",
		"(?:abc\\s*){0,2}def\\s+ghij",
		"(abcd)\\s+efgh\\s+\\1",
		"(?i:ABCD)\\s+efgh",
		"abcd(?:\\s+efgh(?:\\s+ijkl)?)?\\s+mnop",
		"(?>abcd|abc)\\s+efgh",
		"(?|(abcd)|(efgh))\\s+ijkl",
		"abcd\\s+efgh\\K\\s+ijkl",
		"\\$\\s*\\d+\\s+(?:million|billion)\\s+(?:usd|dollars)",
		"you(?:'ve| have)\\s+won\\s+(?:the\\s+)?(?:lottery|prize)",
		"abcd\\s+(?:efgh)?\\s+ijkl",
		"abcd\\s+(?:efgh|)\\s+ijkl",
		"abcd\\s+(?:x|efgh)\\s+ijkl",
		"ab[cd]e\\s+fgh[ij]\\s+klm",
	};
	/* random patterns of words, separators and groups */
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_CASELESS | PCRE2_UTF,
	};
	static const char *const opens[] = { "(", "(?:", "(?>", "(?=" };
	static const char *const atoms[] = {
		"abc", "bcd", "cde", "abcd", "\\s+", "\\s", " ", "x", "\\w+", ".",
		"(?=abc)", "(?!bcd)", "(?<=a)", "\\b", "[ab]", "\\d", "your ",
		"(?i)", "(?-i)",
	};
	static const char *const quants[] = {
		"", "", "", "", "?", "*", "+", "{2}", "{0,1}", "{2,}", "+?",
	};
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 12, "" };
	pcre2_match_data *md = pcre2_match_data_create(8, NULL);
	assert_non_null(md);
	size_t bad = 0, multi = 0, matched = 0, npat = sizeof reps / sizeof reps[0];
	for (size_t round = 0; round < npat + 4000; round++) {
		char pat[256];
		size_t pl;
		uint32_t opts;
		pcre2_code *re;
		if (round < npat) {
			pl = strlen(reps[round]);
			memcpy(pat, reps[round], pl + 1);
			opts = PCRE2_CASELESS;
			re = compile(pat, pl, opts);
			assert_non_null(re);
		} else {
			re = gen_compiled(&g, GEN_ARRAY(optsets), pat, &pl, &opts);
			if (re == NULL)
				continue;
		}
		char lits[LITSCAN_MAX_LITS][64];
		size_t counts[4], total = 0;
		size_t ns = litscan_extract_conj(pat, pl, opts, lits,
		                                 LITSCAN_MAX_LITS, counts, 4);
		for (size_t s = 0; s < ns; s++)
			total += counts[s];
		multi += ns > 1;
		int nsubj = round < npat ? 3000 : ns > 1 ? 200 : 0;
		for (int k = 0; k < nsubj; k++) {
			char subj[128];
			size_t sl = conj_subject(subj, sizeof subj, lits, total);
			if (!conj_sound_on(pat, pl, opts, re, md, lits, counts, ns,
			                   subj, sl, &matched))
				bad++;
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# conjunctions: %zu patterns with several sets, %zu "
	              "matching subjects checked\n", multi, matched);
	assert_true(multi > 100);
	assert_true(matched > 1000);
	assert_int_equal(bad, 0);
}

/* ---- repeat count check ---- */

static void t_repeat_expected(void **state)
{
	(void)state;
	static const struct {
		const char *pat;
		uint32_t opts;
		long min;
		const char *lits;   /* "|"-separated; NULL: refused */
	} cases[] = {
		{ "(?:(?:name|age)\\W+){3}", PCRE2_CASELESS, 3, "name|age" },
		{ "(?:(?:name|age)\\W+){2,}", 0, 2, "name|age" },
		{ "(?:x?\\(?s?\\)abc\\s){2,4}", 0, 2, ")abc" },  /* escaped ( */
		{ "(?:a(?<!x)abc(?>de)(?i:FGH)){2}", 0, 2, "abcdefgh" },
		{ "(?:(?i)abc\\d){2}", 0, 0, NULL },         /* option setting */
		{ "(?:abc){1}", 0, 0, NULL },                 /* one iteration */
		{ "(?:abc)+", 0, 0, NULL },                   /* not {n} */
		{ "x(?:abc){2}", 0, 0, NULL },                /* not the whole */
		{ "(?:(?=abc)\\w{3}){2}", 0, 0, NULL },       /* lookahead */
		{ "(?:(?<=abc)\\w){2}", 0, 0, NULL },         /* lookbehind */
		{ "(?:abc(*SKIP)d){2}", 0, 0, NULL },         /* verb */
		{ "(?:(abc)\\1){2}", 0, 0, NULL },            /* reference */
		{ "(?:(?<n>abc)\\d){2}", 0, 0, NULL },        /* unknown (?< */
		{ "(?:a?b?){3}", 0, 0, NULL },                /* no literal */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char lits[8][64], got[600] = "";
		long min = 0;
		size_t n = litscan_repeat_lits(cases[i].pat, strlen(cases[i].pat),
		                               cases[i].opts, lits, 8, &min);
		for (size_t k = 0; k < n; k++) {
			if (k > 0)
				strcat(got, "|");
			strcat(got, lits[k]);
		}
		if (cases[i].lits == NULL) {
			if (n != 0)
				print_message("# /%s/ gave %s\n", cases[i].pat, got);
			assert_int_equal(n, 0);
			continue;
		}
		assert_string_equal(got, cases[i].lits);
		assert_int_equal(min, cases[i].min);
	}
	/* the pattern of the stock __FILL_THIS_FORM_SHORT2, in small */
	const char *pat = "(?:(?:your\\s)?(?:name|age|address)(?:\\W{1,3}|\\sand\\s)){3}";
	char lits[8][64];
	long min = 0;
	size_t n = litscan_repeat_lits(pat, strlen(pat), PCRE2_CASELESS, lits,
	                               8, &min);
	assert_int_equal(n, 3);
	assert_int_equal(min, 3);
	struct acscan *ls = rep_scanner(lits, n);
	const char *two = "Your name and age, please: we need them for the form";
	assert_int_equal(acscan_count(ls, two, strlen(two), 3), 2);
	const char *three = "Name: Age: Address: ";
	assert_int_equal(acscan_count(ls, three, strlen(three), 3), 3);
	acscan_free(ls);
}

/* Wherever the count check would skip a text (fewer than min positions
 * ending a literal), PCRE2 must find no match. */
static void t_repeat_sound_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"abc", "bca", "ab", "name", "age", "NAME", "a", "b", ".", "\\W",
		"\\s", "[ab]", "(?:abc|age)", "(?:x|abc)", "\\b", "(?<!a)",
		"(?!ab)", "(?i:ABC)", "(?>ab|abc)", "(?:na|ag)me?", "\\w",
		"(?=abc)", "(?<=abc)",   /* refused */
	};
	static const char *const quants[] = {
		"", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,3}", "*?", "++",
	};
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_CASELESS | PCRE2_UTF, PCRE2_MULTILINE,
	};
	static const char *const pieces[] = {
		"abc", "ABC", "bca", "ab", "name", "Name", "age", "nage", "ageage",
		" ", ".", ",", "x", "a", "b", "\n", "me", "abca",
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t usable = 0, checked = 0, skipped = 0, matched = 0, bad = 0;
	for (int round = 0; round < 2000; round++) {
		char pat[300];
		size_t pl = 0;
		memcpy(pat, "(?:", 3);
		pl = 3;
		int na = 1 + (int)(rnd() % 5);
		for (int k = 0; k < na; k++) {
			const char *a = atoms[rnd() % (sizeof atoms / sizeof atoms[0])];
			const char *q = quants[rnd() % (sizeof quants / sizeof quants[0])];
			if (a[0] == '\\' && a[1] == 'b')
				q = "";
			if (a[0] == '(' && strchr("<!=", a[2]) != NULL)
				q = "";
			pl += (size_t)sprintf(pat + pl, "%s%s", a, q);
		}
		if (rnd() % 4 == 0)
			pl += (size_t)sprintf(pat + pl, "|%s",
			                      atoms[rnd() % (sizeof atoms / sizeof atoms[0])]);
		long want = 2 + (long)(rnd() % 3);
		switch (rnd() % 3) {
		case 0: pl += (size_t)sprintf(pat + pl, "){%ld}", want); break;
		case 1: pl += (size_t)sprintf(pat + pl, "){%ld,}", want); break;
		default: pl += (size_t)sprintf(pat + pl, "){%ld,%ld}", want, want + 2);
		}
		uint32_t opts = optsets[rnd() % (sizeof optsets / sizeof optsets[0])];
		pcre2_code *re = compile(pat, pl, opts);
		if (re == NULL)
			continue;
		char lits[LITSCAN_MAX_LITS][64];
		long min = 0;
		size_t n = litscan_repeat_lits(pat, pl, opts, lits,
		                               LITSCAN_MAX_LITS, &min);
		if (n == 0) {
			pcre2_code_free(re);
			continue;
		}
		usable++;
		assert_int_equal(min, want);
		struct acscan *ls = rep_scanner(lits, n);
		for (int s = 0; s < 60; s++) {
			char subj[128];
			size_t sl = 0;
			int np = (int)(rnd() % 10);
			for (int i = 0; i < np; i++) {
				const char *pc = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
				memcpy(subj + sl, pc, strlen(pc));
				sl += strlen(pc);
			}
			checked++;
			bool m = pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md,
			                     NULL) >= 0;
			matched += m;
			size_t cnt = acscan_count(ls, subj, sl, (size_t)min);
			if (cnt < (size_t)min) {
				skipped++;
				if (m) {
					print_message("# UNSOUND /%s/ (%u) min %ld count %zu "
					              "on \"%.*s\"\n", pat, opts, min, cnt,
					              (int)sl, subj);
					bad++;
				}
			}
		}
		acscan_free(ls);
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# repeats: %zu usable, %zu subjects, %zu matched, %zu "
	              "skipped\n", usable, checked, matched, skipped);
	assert_true(usable > 100 && matched > 100 && skipped > 100);
	assert_int_equal(bad, 0);
}

/* ---- leading optional items ---- */

static void t_strip_expected(void **state)
{
	(void)state;
	static const struct { const char *pat; bool calls; const char *want; }
	w[] = {
		{ "a?b", false, "b" },
		{ "(?:your\\s)?(?:full\\s)*name", false, "name" },
		{ "(?:x|y?z)+w", false, "(?:x|z)(?:x|y?z){0,}w" },
		{ "(?:x|y?z)+w", true, "(?:x|z)(?:(x|y?z)(?1){0,})?w" },
		{ "(?:a?(b)c){3}d", false, "(?:(?:b)c)(?:a?(?:b)c){2,2}d" },
		{ "(?:a?(b)c){3}d", true, "(?:(?:b)c)(a?(?:b)c)(?1){1,1}d" },
		/* the outer repeat takes the calls, the inner one is copied */
		{ "(?:a?(?:x?y){1,2}c){3}d", true,
		  "(?:(?:y)(?:x?y){0,1}c)(a?(?:x?y){1,2}c)(?1){1,1}d" },
		{ "(?>a)?b", false, "b" },            /* atomic, not possessive */
		{ "q{0,3}(?i:a?B)", false, "(?i:B)" },
		{ "[ab]?c|d*e", false, "c|e" },
		/* nothing to drop, or not understood: none */
		{ "ab?c", false, NULL },
		{ "\\bx?y", false, NULL },          /* \b first: kept, so no change */
		{ "a?+b", false, NULL },              /* possessive */
		{ "(?=a)?b", false, NULL },           /* a lookaround */
		{ "x?(?<n>a)b", false, NULL },        /* named group */
		{ "(a)?\\1b", false, NULL },        /* reference */
		{ "a?\\Gb", false, NULL },
		{ "a?{2}b", false, NULL },
		{ "(?:foo)?(?:bar)?", false, NULL },  /* all optional */
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		size_t n = 0;
		char *got = litscan_strip_lead(w[i].pat, strlen(w[i].pat), 0,
		                               w[i].calls, &n);
		if ((got == NULL) != (w[i].want == NULL) ||
		    (got != NULL && (strcmp(got, w[i].want) != 0 ||
		                     n != strlen(got)))) {
			print_message("# /%s/ (calls %d): got %s, want %s\n", w[i].pat,
			              w[i].calls, got ? got : "none",
			              w[i].want ? w[i].want : "none");
			bad++;
		}
		free(got);
	}
	assert_int_equal(bad, 0);
	size_t n;
	assert_null(litscan_strip_lead("a?b", 3, PCRE2_EXTENDED, false, &n));
	assert_null(litscan_strip_lead("a?b", 3, PCRE2_UTF, false, &n));
}

/* Random patterns: the stripped pattern matches a subject exactly when
 * the pattern does, written out or with calls. */
static void t_strip_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "b", "ab", "ba", "[ab]", "[^a]", "\\s", ".", "\\b", "^", "$",
		"(?=ab)", "(?!b)", "(?<=a)", "(?>ab|a)", "\\w", " ", "(?i:A)",
		"(?:a|)", "\\K",
	};
	static const char *const quants[] = {
		"", "", "?", "?", "*", "+", "{2}", "{0,2}", "{1,3}", "??", "*?",
		"?+", "{2,}",
	};
	static const char *const opens[] = { "(", "(?:", "(?:", "(?>" };
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 12, "" };
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_MULTILINE, PCRE2_DOTALL,
	};
	static const char alpha[] = "aabbA \nx";
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t stripped = 0, checked = 0, matched = 0, bad = 0;
	for (int round = 0; round < 4000; round++) {
		char pat[300];
		size_t pl = gen_pattern(&g, pat);
		if (rnd() % 3 == 0) {   /* a repeated group, as the rules have */
			memmove(pat + 3, pat, pl);
			memcpy(pat, "(?:", 3);
			pl += 3;
			pl += (size_t)sprintf(pat + pl, "){%u}", 1 + rnd() % 3);
		}
		uint32_t opts = optsets[rnd() % (sizeof optsets / sizeof optsets[0])];
		pcre2_code *re = compile(pat, pl, opts);
		if (re == NULL)
			continue;
		for (int calls = 0; calls < 2; calls++) {
			size_t sn;
			char *sp = litscan_strip_lead(pat, pl, opts, calls, &sn);
			pcre2_code *sr = sp ? compile(sp, sn, opts) : NULL;
			if (sr != NULL && litscan_pcre2_trap(sr, sp, sn)) {
				pcre2_code_free(sr);   /* the engine leaves it out */
				free(sp);
				continue;
			}
			if (sp != NULL && sr == NULL) {
				print_message("# /%s/ -> /%s/ does not compile\n", pat, sp);
				bad++;
			}
			stripped += sr != NULL;
			for (int t = 0; t < 40 && sr != NULL; t++) {
				char subj[16];
				size_t sl = rnd() % 12;
				for (size_t i = 0; i < sl; i++)
					subj[i] = alpha[rnd() % (sizeof alpha - 1)];
				int a = pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL);
				int b = pcre2_match(sr, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL);
				checked++;
				matched += a >= 0;
				if ((a >= 0) != (b >= 0)) {
					print_message("# /%s/ -> /%s/: %d vs %d on \"%.*s\"\n",
					              pat, sp, a, b, (int)sl, subj);
					bad++;
					break;
				}
			}
			pcre2_code_free(sr);
			free(sp);
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# strip: %zu stripped, %zu subjects, %zu matched\n",
	              stripped, checked, matched);
	assert_true(stripped > 500 && matched > 1000);
	assert_int_equal(bad, 0);
}

/* ---- tails ---- */

/* What PCRE2 knows of where a match of re may start: first code unit
 * type and unit, and the start bitmap (zeros when there is none). */
static void start_info(const pcre2_code *re, uint32_t *type, uint32_t *unit,
                       uint8_t bits[32])
{
	const uint8_t *b = NULL;
	*type = *unit = 0;
	memset(bits, 0, 32);
	assert_int_equal(pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, type), 0);
	if (*type == 1)
		assert_int_equal(pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT,
		                                    unit), 0);
	if (pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &b) == 0 && b)
		memcpy(bits, b, 32);
}

/* A head that compiles must tell the same start information as its tail
 * (the engine ranks tails by their heads). */
static size_t head_differs(const char *pat, size_t off, size_t head,
                           size_t end, uint32_t opts, const pcre2_code *t)
{
	pcre2_code *h = head < end ? compile(pat + off, head - off, opts) : NULL;
	if (h == NULL)
		return 0;
	uint32_t ht, hu, tt, tu;
	uint8_t hb[32], tb[32];
	start_info(h, &ht, &hu, hb);
	start_info(t, &tt, &tu, tb);
	pcre2_code_free(h);
	if (ht == tt && hu == tu && memcmp(hb, tb, 32) == 0)
		return 0;
	print_message("# head /%.*s/ of tail /%.*s/ (in /%s/): start info "
	              "differs\n", (int)(head - off), pat + off,
	              (int)(end - off), pat + off, pat);
	return 1;
}

/* The heads of pat's tails that tell otherwise than their tails. */
static size_t heads_differ(const char *pat, uint32_t opts)
{
	size_t offs[32], ends[32], heads[32], bad = 0;
	size_t n = litscan_tails(pat, strlen(pat), opts, offs, ends, heads, 32);
	for (size_t k = 0; k < n; k++) {
		pcre2_code *t = compile(pat + offs[k], ends[k] - offs[k], opts);
		if (t != NULL)
			bad += head_differs(pat, offs[k], heads[k], ends[k], opts, t);
		pcre2_code_free(t);
	}
	return bad;
}

/* Every tail must match wherever the whole pattern matches. */
static size_t tails_unsound(const char *pat, uint32_t opts,
                            pcre2_match_data *md, const char *subj)
{
	size_t offs[32], ends[32], heads[32], bad = 0;
	size_t n = litscan_tails(pat, strlen(pat), opts, offs, ends, heads, 32);
	pcre2_code *re = compile(pat, strlen(pat), opts);
	if (re == NULL || n == 0 ||
	    pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md, NULL) < 0) {
		pcre2_code_free(re);
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		pcre2_code *t = compile(pat + offs[k], ends[k] - offs[k], opts);
		if (t != NULL &&
		    litscan_pcre2_trap(t, pat + offs[k], ends[k] - offs[k])) {
			pcre2_code_free(t);   /* the engine leaves it out */
			continue;
		}
		if (t == NULL ||
		    pcre2_match(t, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md, NULL) < 0) {
			print_message("# UNSOUND tail /%.*s/ of /%s/ on \"%s\"\n",
			              (int)(ends[k] - offs[k]), pat + offs[k], pat, subj);
			bad++;
		}
		pcre2_code_free(t);
	}
	pcre2_code_free(re);
	return bad;
}

static void t_tails(void **state)
{
	(void)state;
	/* why no tail starts with a lookaround: PCRE2 10.42 misses this match
	 * unless its start-of-match optimisation is off */
	pcre2_match_data *md0 = pcre2_match_data_create(4, NULL);
	pcre2_code *la = compile("(?=ab)b?a", 9, PCRE2_NO_START_OPTIMIZE);
	assert_true(pcre2_match(la, (PCRE2_SPTR)"ab", 2, 0, 0, md0, NULL) >= 0);
	pcre2_code_free(la);
	pcre2_match_data_free(md0);
	static const struct want w[] = {   /* tails joined by "|" */
		{ "(?:\\b|\\s)[_\\W]{0,3}m", 0, "[_\\W]{0,3}m|m" },
		{ "ab", PCRE2_EXTENDED, "b" },
		{ "a b", PCRE2_EXTENDED, "b" },
		{ "abc|def", 0, "" },              /* top-level alternation */
		{ "(?:abc|def)g", 0, "g" },
		{ "(a)\\1b", 0, "" },            /* backreference */
		{ "(?<n>a)\\k<n>b", 0, "" },
		{ "(a)(?1)b", 0, "" },             /* subroutine call */
		{ "\\Gab", 0, "" },
		{ "(?i)ab", 0, "" },               /* option setting first */
		{ "a(?s)bc", 0, "(?s)bc" },        /* kept, nothing after it */
		{ "a(?s:b)c", 0, "(?s:b)c|c" },
		{ "a+?b{2}", 0, "b{2}" },
		{ "x(?:ab)y", 0, "(?:ab)y|ab|b|y" },      /* inside groups */
		{ "x(?:ab)?y", 0, "(?:ab)?y|y" },         /* not optional ones */
		{ "x(?:ab|c)y", 0, "(?:ab|c)y|y" },
		{ "x(?!ab)y", 0, "y" },                   /* none at a lookaround */
		{ "x(?!=a)y", 0, "y" },                   /* nor in a negative one */
		{ "x(?=ab)y", 0, "ab|b|y" },
		{ "x(?:a(?i)b)y", 0, "(?:a(?i)b)y|a(?i)b|(?i)b|y" },
		{ "x(?i:ab)y", 0, "(?i:ab)y|y" },
		{ "ab", PCRE2_ANCHORED, "" },
		{ "a", 0, "" },
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		size_t offs[32], ends[32], heads[32];
		size_t n = litscan_tails(w[i].pat, strlen(w[i].pat), w[i].opts,
		                         offs, ends, heads, 32);
		char got[600] = "";
		for (size_t j = 0; j < n; j++) {
			if (j)
				strcat(got, "|");
			strncat(got, w[i].pat + offs[j], ends[j] - offs[j]);
		}
		if (strcmp(got, w[i].lits) != 0) {
			print_message("# tails /%s/: got \"%s\", want \"%s\"\n",
			              w[i].pat, got, w[i].lits);
			bad++;
		}
	}
	/* soundness: patterns built from context-sensitive pieces */
	static const char *const atoms[] = {
		"a", "b", "ab", "\\b", "\\B", "^", "$", "(?=ab)", "(?!b)",
		"(?<=a)", "(?<!b)", "(?>ab|a)", "a*+", "b?+", "[ab]", ".", "\\s",
		"\\A", "\\z", "\\Z", "(?:a|b)", "(a)", "\\K", " ", "(?s:.)",
		"(?:a\\b)", "(?:ab)?", "(?=a\\B)", "(?<=b)", "(?>a\\s)", "(?:(?i)A)",
		"(?:b(?!a))", "(?:(?:a)b)+", "(?:a$)", "a{2,3}", "\\s*", "[ab]+?",
		"b{0,2}", "(?:a|)", "\\d",
	};
	static const char *const subj[] = {
		"", "a", "b", "ab", "ba", "aab", "abb", "a b", "ab\n", "\nab",
		"b a", "abab", "bab", " a", "a\nb",
	};
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_MULTILINE, PCRE2_DOTALL, PCRE2_EXTENDED,
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t na = sizeof atoms / sizeof atoms[0];
	for (int round = 0; round < 4000; round++) {
		char pat[128] = "";
		int pieces = 2 + (int)(rnd() % 5);
		for (int k = 0; k < pieces; k++)
			strcat(pat, atoms[rnd() % na]);
		uint32_t opts = optsets[rnd() % (sizeof optsets / sizeof optsets[0])];
		bad += heads_differ(pat, opts);
		for (size_t s = 0; s < sizeof subj / sizeof subj[0]; s++)
			bad += tails_unsound(pat, opts, md, subj[s]);
	}
	for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
		bad += heads_differ(tricky[i], 0);
		for (size_t s = 0; s < sizeof subjects / sizeof subjects[0]; s++)
			bad += tails_unsound(tricky[i], 0, md, subjects[s]);
	}
	pcre2_match_data_free(md);
	assert_int_equal(bad, 0);
}

/* ---- splitting alternations ---- */

/* pattern with branches [lo, hi) of its split alternation */
static size_t split_part(const char *pat, size_t from, size_t to,
                         const size_t *br, size_t nb, size_t lo, size_t hi,
                         char *out)
{
	size_t a = br[lo], b = hi < nb ? br[hi] - 1 : to, n = 0;
	memcpy(out, pat, from);
	n += from;
	memcpy(out + n, pat + a, b - a);
	n += b - a;
	memcpy(out + n, pat + to, strlen(pat) - to);
	n += strlen(pat) - to;
	out[n] = '\0';
	return n;
}

static void t_split(void **state)
{
	(void)state;
	size_t from, to, br[16];
	/* the largest separable alternation; "|"-joined branches */
	static const struct { const char *pat, *want; } w[] = {
		{ "ab|cd|ef", "ab|cd|ef" },
		{ "x(?:ab|cd)y(?:e|f)", "ab|cd" },
		{ "x(?:ab|cd)+y", "" },          /* quantified */
		{ "(?=ab|cd)x", "" },            /* inside a lookahead */
		{ "(a|b)\\1", "" },              /* backreference */
		{ "(?i)a|b", "" },               /* unscoped option setting */
		{ "(?i:ab|cd)", "ab|cd" },
		{ "(?<n>ab|[|]c)", "ab|[|]c" },  /* a class is not a bar */
		{ "a\\|b", "" },
		{ "(?>ab|cd)", "" },
		{ "(?'n'ab|cd)e", "ab|cd" },     /* the name is no branch */
		{ "a[\\Q]\\E|x]b|c", "" },     /* \Q..\E: its ']' is literal */
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		const char *p = w[i].pat;
		size_t nb = litscan_alternation(p, strlen(p), 0, &from, &to, br, 16);
		char got[256] = "";
		for (size_t k = 0; k < nb; k++) {
			size_t e = k + 1 < nb ? br[k + 1] - 1 : to;
			if (k)
				strcat(got, "|");
			strncat(got, p + br[k], e - br[k]);
		}
		if (strcmp(got, w[i].want) != 0) {
			print_message("# split /%s/: got \"%s\", want \"%s\"\n", p,
			              got, w[i].want);
			bad++;
		}
	}
	size_t bl;
	long mn, mx;
	assert_true(litscan_repeat("(?:a|b){3}", 10, 0, &from, &bl, &mn, &mx));
	assert_int_equal(from, 3);
	assert_int_equal(bl, 3);
	assert_int_equal(mn, 3);
	assert_int_equal(mx, 3);
	assert_true(litscan_repeat("(?:ab){2,}", 10, 0, &from, &bl, &mn, &mx));
	assert_int_equal(mx, -1);
	assert_false(litscan_repeat("(?:ab){0,3}", 11, 0, &from, &bl, &mn, &mx));
	assert_false(litscan_repeat("(ab){3}", 7, 0, &from, &bl, &mn, &mx));
	assert_false(litscan_repeat("(?:ab){3}c", 10, 0, &from, &bl, &mn, &mx));
	/* random patterns: the halves together match what the whole does */
	static const char *const atoms[] = {
		"a", "b", "ab", "\\b", "^", "$", "(?=a)", "(?!b)", "[ab]", ".",
		"\\s", " ", "(?:a|b)", "(a|ab|b)", "(?:b|ba)+", "a*", "(?i:A|B)",
	};
	static const char *const subj[] = {
		"", "a", "b", "ab", "ba", "aab", "a b", "ab\n", "A", "bab",
	};
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	size_t na = sizeof atoms / sizeof atoms[0], checked = 0;
	for (int round = 0; round < 3000; round++) {
		char pat[160] = "(?:", half[160];
		int nbr = 2 + (int)(rnd() % 3);
		if (rnd() % 2)
			pat[0] = '\0';
		for (int k = 0; k < nbr; k++) {
			if (k)
				strcat(pat, "|");
			for (int j = 0; j < 1 + (int)(rnd() % 3); j++)
				strcat(pat, atoms[rnd() % na]);
		}
		if (pat[0] == '(')
			strcat(pat, rnd() % 2 ? ")x?" : ")");
		size_t nb = litscan_alternation(pat, strlen(pat), 0, &from, &to,
		                                br, 16);
		if (nb < 2)
			continue;
		pcre2_code *re = compile(pat, strlen(pat), 0), *h[2];
		size_t n0 = split_part(pat, from, to, br, nb, 0, nb / 2, half);
		h[0] = compile(half, n0, 0);
		size_t n1 = split_part(pat, from, to, br, nb, nb / 2, nb, half);
		h[1] = compile(half, n1, 0);
		assert_non_null(re);
		assert_non_null(h[0]);
		assert_non_null(h[1]);
		for (size_t t = 0; t < sizeof subj / sizeof subj[0]; t++) {
			size_t sl = strlen(subj[t]);
			bool all = pcre2_match(re, (PCRE2_SPTR)subj[t], sl, 0, 0, md,
			                       NULL) >= 0;
			bool any = pcre2_match(h[0], (PCRE2_SPTR)subj[t], sl, 0, 0, md,
			                       NULL) >= 0 ||
			           pcre2_match(h[1], (PCRE2_SPTR)subj[t], sl, 0, 0, md,
			                       NULL) >= 0;
			checked++;
			if (all != any) {
				print_message("# split /%s/ on \"%s\": %d vs %d\n", pat,
				              subj[t], all, any);
				bad++;
			}
		}
		pcre2_code_free(re);
		pcre2_code_free(h[0]);
		pcre2_code_free(h[1]);
	}
	/* (?:X){n,m} matches what (X)(?1){n-1,m-1} does (the engine's
	 * rewrite of a repeat too large for PCRE2) */
	for (int round = 0; round < 2000; round++) {
		char pat[160] = "(?:", alt[200];
		for (int j = 0; j < 1 + (int)(rnd() % 4); j++)
			strcat(pat, atoms[rnd() % na]);
		long n = 1 + (long)(rnd() % 3), m = n + (long)(rnd() % 2);
		sprintf(pat + strlen(pat), "){%ld,%ld}", n, m);
		size_t body, bl2;
		long mn2, mx2;
		if (!litscan_repeat(pat, strlen(pat), 0, &body, &bl2, &mn2, &mx2))
			continue;
		sprintf(alt, "(%.*s)(?1){%ld,%ld}", (int)bl2, pat + body, mn2 - 1,
		        mx2 - 1);
		pcre2_code *a = compile(pat, strlen(pat), 0);
		pcre2_code *b = compile(alt, strlen(alt), 0);
		assert_non_null(a);
		assert_non_null(b);
		/* PCRE2 before 10.45 misses matches of a itself there
		 * ("(?:(?=a)a*a){1,2}" on "a"): nothing to compare */
		bool trap = litscan_pcre2_trap(a, pat, strlen(pat));
		for (size_t t = 0; t < sizeof subj / sizeof subj[0] && !trap; t++) {
			size_t sl = strlen(subj[t]);
			bool x = pcre2_match(a, (PCRE2_SPTR)subj[t], sl, 0, 0, md, NULL) >= 0;
			bool y = pcre2_match(b, (PCRE2_SPTR)subj[t], sl, 0, 0, md, NULL) >= 0;
			checked++;
			if (x != y) {
				print_message("# repeat /%s/ vs /%s/ on \"%s\"\n", pat,
				              alt, subj[t]);
				bad++;
			}
		}
		pcre2_code_free(a);
		pcre2_code_free(b);
	}
	pcre2_match_data_free(md);
	print_message("# split: %zu random checks\n", checked);
	assert_true(checked > 1000);
	assert_int_equal(bad, 0);
}

/* ---- stock SpamAssassin regexes ---- */

/* Split "/re/flags" or "m{re}flags" (SpamAssassin's forms) into pattern
 * and PCRE2 options; false when it is not a regex. */
static bool split_regex(const char *s, char *pat, size_t patcap, uint32_t *opts)
{
	char open, close;
	if (s[0] == '/') {
		open = close = '/';
		s++;
	} else if (s[0] == 'm' && s[1] != '\0' && strchr("{([<", s[1]) == NULL &&
	           !(s[1] >= 'a' && s[1] <= 'z')) {
		open = close = s[1];
		s += 2;
	} else if (s[0] == 'm' && s[1] != '\0' && strchr("{([<", s[1]) != NULL) {
		open = s[1];
		close = open == '{' ? '}' : open == '(' ? ')' : open == '[' ? ']' : '>';
		s += 2;
	} else {
		return false;
	}
	size_t n = 0;
	int nest = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1] != '\0') {
			if (n + 2 >= patcap)
				return false;
			/* "\/" in a /-delimited regex is just "/" */
			if (s[1] == close && open == close) {
				pat[n++] = '\\';
				pat[n++] = s[1];
			} else {
				pat[n++] = s[0];
				pat[n++] = s[1];
			}
			s++;
			continue;
		}
		if (open != close && *s == open)
			nest++;
		if (*s == close) {
			if (nest == 0)
				break;
			nest--;
		}
		if (n + 1 >= patcap)
			return false;
		pat[n++] = *s;
	}
	if (*s != close)
		return false;
	pat[n] = '\0';
	*opts = 0;
	for (s++; *s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'; s++) {
		switch (*s) {
		case 'i': *opts |= PCRE2_CASELESS; break;
		case 'm': *opts |= PCRE2_MULTILINE; break;
		case 's': *opts |= PCRE2_DOTALL; break;
		case 'x': *opts |= PCRE2_EXTENDED; break;
		default: break;
		}
	}
	return true;
}

/* ---- required byte classes ---- */

/* A byte set as text: its bytes, runs of 3 or more as "a-c", others
 * than printable ASCII as \xHH; "^" and the complement when it holds
 * more than half the bytes. */
static void bset_str(const struct litscan_bset *s, char *out, size_t cap)
{
	struct litscan_bset t = *s;
	size_t pop = 0, n = 0;
	for (int i = 0; i < 4; i++)
		pop += (size_t)__builtin_popcountll(t.w[i]);
	if (pop > 128) {
		for (int i = 0; i < 4; i++)
			t.w[i] = ~t.w[i];
		n += (size_t)snprintf(out + n, cap - n, "^");
	}
	for (unsigned b = 0; b < 256 && n < cap; b++) {
		if (!(t.w[b / 64] >> (b % 64) & 1))
			continue;
		unsigned e = b;
		while (e + 1 < 256 && (t.w[(e + 1) / 64] >> ((e + 1) % 64) & 1))
			e++;
		for (unsigned v = b; v <= e && n < cap; v = v + 1) {
			if (v > b && v < e && e - b >= 2) {
				n += (size_t)snprintf(out + n, cap - n, "-");
				v = e - 1;
				continue;
			}
			n += (size_t)snprintf(out + n, cap - n,
			                      v > 32 && v < 127 ? "%c" : "\\x%02X", v);
		}
		b = e;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The requirements of pat as sorted set strings joined by " & ", ""
 * for none. */
static void req_str(const char *pat, uint32_t opts, unsigned max_cost,
                    char *out, size_t cap)
{
	struct litscan_bset sets[8];
	size_t n = litscan_req_bytes(pat, strlen(pat), opts, max_cost, sets, 8);
	char strs[8][300];
	for (size_t i = 0; i < n; i++)
		bset_str(&sets[i], strs[i], sizeof strs[i]);
	qsort(strs, n, sizeof strs[0], cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(out, " & ", cap - strlen(out) - 1);
		strncat(out, strs[i], cap - strlen(out) - 1);
	}
}

static void t_req_expected(void **state)
{
	(void)state;
	static const struct want cases[] = {
		/* TVD_DOLLARS_US: white space, a digit, U and S */
		{ "\\s\\d[\\d.,]+US", 0, "0-9 & S & U & \\x09-\\x0D\\x20" },
		/* US_DOLLARS_3: '$' or u, s, d; ',' or '.'; a digit, which
		 * texts lack least often of the five, goes (four at most) */
		{ "(?:\\$|usd).?\\d{1,3}[,.]\\d{3}[,.]\\d{3}(?:[,.]\\d\\d)?", 0,
		  "$d & $s & $u & ,." },
		{ "\\$.?\\d{1,3}[,.]\\d{3}", 0, "$ & ,. & 0-9" },
		/* case-insensitive: both cases; scoped and unscoped */
		{ "(?i)ab", 0, "Aa & Bb" },
		{ "ab", PCRE2_CASELESS, "Aa & Bb" },
		{ "(?i:x)y", 0, "Xx & y" },
		{ "(?i)x(?-i)y", 0, "Xx & y" },
		/* an unscoped setting holds in the later branches too */
		{ "(?:a(?i)b|c)", 0, "BCbc & Cac" },
		/* alternation: a set of each branch united */
		{ "(?:xy|z)", 0, "xz & yz" },
		{ "(?:xy|)", 0, "" },
		{ "x|.", 0, "" },
		/* optional items require nothing */
		{ "ab?c*d{0,2}e+", 0, "a & e" },
		{ "(?:abc)?x", 0, "x" },
		{ "a{0}b", 0, "b" },
		/* classes, ranges, POSIX classes, hex and octal */
		{ "[b-dx]", 0, "b-dx" },
		{ "[[:digit:]_]", 0, "0-9_" },
		{ "\\x41\\x{42}\\103", 0, "" },
		{ "\\x41\\x{42}\\0103", 0, "3 & A & B & \\x08" },
		/* negated classes: the exact complement */
		{ "[^a-z]", 0, "^a-z" },
		{ "[^a-z]", PCRE2_CASELESS, "^A-Za-z" },
		{ "[^\\d]", 0, "^0-9" },
		/* a set implied by another goes: x is no digit */
		{ "[^\\d]x", 0, "x" },
		{ "\\W", 0, "^0-9A-Z_a-z" },
		{ "[^[:^alpha:]]", 0, "A-Za-z" },
		/* lookarounds: positive ones require, negative ones do not */
		{ "(?=.*\\d)x", 0, "0-9 & x" },
		{ "(?!\\d)x(?<!y)", 0, "x" },
		{ "(?<=q)x", 0, "q & x" },
		/* references and calls require nothing of their own */
		{ "(a)\\1", 0, "a" },
		{ "(a|b)(?1)", 0, "ab" },
		/* what it does not understand: nothing at all */
		{ "a\\p{L}", 0, "" },
		{ "a b", PCRE2_EXTENDED, "" },
		{ "a", PCRE2_UTF, "" },
		{ "a\\Qb\\E", 0, "" },
		{ "(*UTF)a", 0, "" },
		{ "a(?(1)b|c)", 0, "" },
		{ "[[:upper:]]", PCRE2_CASELESS, "" },
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[1024];
		req_str(cases[i].pat, cases[i].opts, UINT_MAX, got, sizeof got);
		if (strcmp(got, cases[i].lits) != 0) {
			print_message("# /%s/ %#x: got \"%s\", want \"%s\"\n",
			              cases[i].pat, cases[i].opts, got, cases[i].lits);
			bad++;
		}
	}
	/* what the engine asks: sets nearly every text has are left out */
	static const struct want common[] = {
		{ "\\s\\d[\\d.,]+US", 0, "0-9 & S & U & \\x09-\\x0D\\x20" },
		{ "(?:the|an?)\\s+\\$\\d", 0, "$ & 0-9 & \\x09-\\x0D\\x20 & ae" },
		{ "[^a-z]", 0, "" },
		{ "(?:st|re|on)x", 0, "x" },   /* unions of three letters */
		{ "e", 0, "e" },
		{ "[etaoin]", 0, "" },
	};
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
		char got[1024];
		req_str(common[i].pat, common[i].opts, LITSCAN_REQ_COST, got,
		        sizeof got);
		if (strcmp(got, common[i].lits) != 0) {
			print_message("# /%s/ %#x (cost): got \"%s\", want \"%s\"\n",
			              common[i].pat, common[i].opts, got,
			              common[i].lits);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Whether subj holds a byte of each of the n sets (and says when not). */
static bool req_sound_on(const char *pat, const struct litscan_bset *sets,
                         size_t n, const char *subj, size_t sl)
{
	struct litscan_bset have;
	acscan_bytes(subj, sl, &have);
	for (size_t i = 0; i < n; i++) {
		if (litscan_bset_meets(&have, &sets[i]))
			continue;
		char s[300];
		bset_str(&sets[i], s, sizeof s);
		print_message("# UNSOUND: /%s/ matches \"%.*s\", which has no "
		              "byte of [%s]\n", pat, (int)sl, subj, s);
		return false;
	}
	return true;
}

/* Soundness: whenever PCRE2 matches a random subject, the subject holds
 * a byte of each required class of the random pattern. */
static void t_req_random(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "B", "x", "1", "_", " ", "-", ".", ",", "$", "\\.", "\\$",
		"[a-c]", "[^a-c]", "[^ab1]", "[B-Xy]", "[^\\d]", "[^\\s,]", "[\\W_]",
		"[[:alpha:]]", "[^[:digit:]x]", "[[:^space:]]", "[]a]", "[^]a]",
		"[a\\-z]", "[\\x41-\\x43]", "[\\xa0\\xe9]", "\\xe9", "\\x{41}",
		"\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\h", "\\H", "\\v", "\\V",
		"\\R", "\\N", "\\b", "\\B", "^", "$", "\\A", "\\z", "\\Z", "\\K",
		"\\1", "(?1)", "(?i)", "(?-i)", "(?s)", "(?#c)", "\\t", "\\n",
		"\\0101", "\\e",
	};
	static const char *const quants[] = {
		"", "", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "+?", "*+",
		"{0}", "??",
	};
	static const char *const opens[] = {
		"(", "(?:", "(?>", "(?=", "(?!", "(?<=", "(?<!", "(?i:", "(?|",
		"(?-i:", "(?<n>",
	};
	static const struct gen g = { GEN_ARRAY(atoms), GEN_ARRAY(quants),
	                              GEN_ARRAY(opens), 12, "(\\^$" };
	static const uint32_t optsets[] = {
		0, PCRE2_CASELESS, PCRE2_DOTALL | PCRE2_MULTILINE,
	};
	static const char alpha[] = "aAbBcCxXyY1 9_\n\t-.,$\xa0\xe9\x85";
	pcre2_match_data *md = pcre2_match_data_create(16, NULL);
	assert_non_null(md);
	size_t bad = 0, derived = 0, matched = 0;
	for (int round = 0; round < 20000 && bad < 5; round++) {
		char pat[256];
		size_t pl;
		uint32_t opts;
		pcre2_code *re = gen_compiled(&g, GEN_ARRAY(optsets), pat, &pl,
		                              &opts);
		if (re == NULL)
			continue;
		struct litscan_bset sets[8];
		size_t n = litscan_req_bytes(pat, pl, opts,
		                             round % 2 ? UINT_MAX : LITSCAN_REQ_COST,
		                             sets, 8);
		derived += n > 0;
		for (int s = 0; s < 40 && n > 0; s++) {
			char subj[16];
			size_t sl = rnd() % sizeof subj;
			for (size_t i = 0; i < sl; i++)
				subj[i] = alpha[rnd() % (sizeof alpha - 1)];
			if (pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) < 0)
				continue;
			matched++;
			if (!req_sound_on(pat, sets, n, subj, sl)) {
				bad++;
				break;
			}
		}
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
	print_message("# required bytes: %zu patterns with some, %zu matches "
	              "checked\n", derived, matched);
	assert_true(derived > 2000);
	assert_true(matched > 10000);
	assert_int_equal(bad, 0);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void t_stock_patterns(void **state)
{
	(void)state;
	const char *dir = getenv("VIGIL_SA_RULES");
	if (dir == NULL)
		dir = "/usr/share/spamassassin";
	DIR *d = opendir(dir);
	if (d == NULL) {
		print_message("# %s not present: stock pattern test skipped\n", dir);
		skip();
	}
	char *names[512];
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && nn < 512) {
		size_t l = strlen(de->d_name);
		if (l > 3 && strcmp(de->d_name + l - 3, ".cf") == 0)
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof names[0], cmpstr);

	/* Sample subjects: every "describe" text of the stock files plus a
	 * few spam-like lines; used to check soundness where PCRE2 matches. */
	static char samples[4096][256];
	size_t nsamples = 0;
	static const char *const spam[] = {
		"Subject: Cheap V1AGRA!!! Buy now, click here http://example.com/",
		"Dear friend, I am Mr. John, a banker; transfer of US$15,000,000",
		"<html><body><a href=\"http://bit.ly/x\">CLICK HERE</a></body></html>",
		"To unsubscribe from this list reply with REMOVE in the subject",
		"From: \"Best Deals\" <deals@example.com>",
		"Content-Type: text/html; charset=\"iso-8859-1\"",
		"Received: from mail.example.com (mail.example.com [192.0.2.1])",
		"Message-ID: <1234567890.ABCDEF@example.com>",
		"X-Mailer: Microsoft Outlook Express 6.00.2600.0000",
		"YOU HAVE WON THE LOTTERY!!! CLAIM YOUR PRIZE NOW",
	};
	for (size_t i = 0; i < sizeof spam / sizeof spam[0]; i++)
		snprintf(samples[nsamples++], 256, "%s", spam[i]);

	struct rx { char *pat; uint32_t opts; };
	struct rx *rxs = NULL;
	size_t nrx = 0, caprx = 0;
	for (size_t f = 0; f < nn; f++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, names[f]);
		free(names[f]);
		FILE *fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		char line[16384];
		while (fgets(line, sizeof line, fp) != NULL) {
			char *p = line + strspn(line, " \t");
			char kw[16];
			size_t kl = strcspn(p, " \t");
			if (kl == 0 || kl >= sizeof kw)
				continue;
			memcpy(kw, p, kl);
			kw[kl] = '\0';
			p += kl;
			p += strspn(p, " \t");
			p += strcspn(p, " \t");          /* rule name */
			p += strspn(p, " \t");
			if (strcmp(kw, "describe") == 0) {
				size_t l = strcspn(p, "\r\n");
				if (nsamples < 4096 && l > 0) {
					snprintf(samples[nsamples], 256, "%.*s", (int)l, p);
					nsamples++;
				}
				continue;
			}
			if (strcmp(kw, "header") == 0 || strcmp(kw, "mimeheader") == 0) {
				char *op = strstr(p, "=~");
				if (op == NULL)
					op = strstr(p, "!~");
				if (op == NULL)
					continue;
				p = op + 2;
				p += strspn(p, " \t");
			} else if (strcmp(kw, "body") != 0 && strcmp(kw, "rawbody") != 0 &&
			           strcmp(kw, "uri") != 0 && strcmp(kw, "full") != 0) {
				continue;
			}
			char pat[16384];
			uint32_t opts;
			if (!split_regex(p, pat, sizeof pat, &opts))
				continue;
			if (nrx == caprx) {
				caprx = caprx ? caprx * 2 : 256;
				rxs = realloc(rxs, caprx * sizeof *rxs);
				assert_non_null(rxs);
			}
			rxs[nrx].pat = strdup(pat);
			rxs[nrx].opts = opts;
			nrx++;
		}
		fclose(fp);
	}
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	assert_non_null(md);
	size_t compiled = 0, usable = 0, bad = 0, matched = 0, nlits = 0;
	size_t nwithreq = 0;
	for (size_t i = 0; i < nrx; i++) {
		for (int utf = 0; utf < 2; utf++) {
			uint32_t opts = rxs[i].opts | (utf ? PCRE2_UTF : 0);
			size_t pl = strlen(rxs[i].pat);
			pcre2_code *re = compile(rxs[i].pat, pl, opts);
			if (re == NULL)
				continue;
			char lits[8][64];
			size_t n = litscan_extract(rxs[i].pat, pl, opts, lits, 8);
			struct litscan_bset req[8];
			size_t nreq = litscan_req_bytes(rxs[i].pat, pl, opts,
			                                LITSCAN_REQ_COST, req, 8);
			nwithreq += nreq > 0 && !utf;
			if (!utf) {
				compiled++;
				usable += n > 0;
				nlits += n;
			}
			for (size_t s = 0; s < nsamples; s++) {
				size_t sl = strlen(samples[s]);
				if (n > 0 && pcre2_match(re, (PCRE2_SPTR)samples[s], sl, 0,
				                         0, md, NULL) >= 0)
					matched++;
				if (!sound_on(rxs[i].pat, pl, opts, re, md, lits, n,
				              samples[s], sl))
					bad++;
				if (nreq > 0 && pcre2_match(re, (PCRE2_SPTR)samples[s], sl,
				                            0, 0, md, NULL) >= 0 &&
				    !req_sound_on(rxs[i].pat, req, nreq, samples[s], sl))
					bad++;
			}
			pcre2_code_free(re);
		}
		free(rxs[i].pat);
	}
	free(rxs);
	pcre2_match_data_free(md);
	print_message("# stock regexes: %zu compiled, %zu (%.1f%%) with usable "
	              "literals (%.2f per such pattern); %zu matches on %zu "
	              "sample lines checked\n", compiled, usable,
	              compiled ? 100.0 * (double)usable / (double)compiled : 0.0,
	              usable ? (double)nlits / (double)usable : 0.0, matched,
	              nsamples);
	print_message("# stock regexes: %zu with required byte classes\n",
	              nwithreq);
	assert_int_equal(bad, 0);
	assert_true(compiled > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_extract_expected),
		cmocka_unit_test(t_utf_casefold_assumption),
		cmocka_unit_test(t_extract_sound_tricky),
		cmocka_unit_test(t_extract_sound_random),
		cmocka_unit_test(t_conj_expected),
		cmocka_unit_test(t_conj_sound),
		cmocka_unit_test(t_ascii_random),
		cmocka_unit_test(t_ascii_expected),
		cmocka_unit_test(t_skel_expected),
		cmocka_unit_test(t_skel_sound_random),
		cmocka_unit_test(t_pcre2_trap),
		cmocka_unit_test(t_repeat_expected),
		cmocka_unit_test(t_repeat_sound_random),
		cmocka_unit_test(t_strip_expected),
		cmocka_unit_test(t_strip_random),
		cmocka_unit_test(t_tails),
		cmocka_unit_test(t_split),
		cmocka_unit_test(t_req_expected),
		cmocka_unit_test(t_req_random),
		cmocka_unit_test(t_stock_patterns),
	};
	return cmocka_run_group_tests_name("litscan", tests, NULL, NULL);
}

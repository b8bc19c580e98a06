/*
 * perlre.c — what Perl 5.36 says about a rule's pattern (see perlre.h).
 *
 * Written by hand: no library reports Perl's regex warnings, and PCRE2
 * accepts these forms. The scan below knows only what the checks need:
 * escapes, classes, groups, alternation and quantifiers.
 */
#include "perlre.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#define ZL_DEPTH 64
#define ZL_INF SIZE_MAX

size_t perlre_class_end(const char *p, size_t n, size_t i)
{
	size_t k = i + 1;
	if (k < n && p[k] == '^')
		k++;
	if (k < n && p[k] == ']')
		k++;
	for (; k < n && p[k] != ']'; k++) {
		if (p[k] == '\\')
			k++;
		else if (p[k] == '[' && k + 1 < n && p[k + 1] == ':') {
			const char *r = memchr(p + k + 2, ']', n - k - 2);
			if (r != NULL && r[-1] == ':')
				k = (size_t)(r - p);
		}
	}
	return k < n ? k : n;
}

static bool zl_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A number of a quantifier's braces at p[*k]: its value (capped), or
 * dflt when there are no digits. */
static size_t zl_number(const char *p, size_t n, size_t *k, size_t dflt)
{
	size_t v = 0, start = *k;
	for (; *k < n && p[*k] >= '0' && p[*k] <= '9'; (*k)++)
		if (v < 1000000)
			v = v * 10 + (size_t)(p[*k] - '0');
	return *k > start ? v : dflt;
}

/* A quantifier at p[i] (*, +, ?, {n}, {n,}, {n,m}, {,m}, blanks inside
 * the braces as Perl 5.34+ allows): its bounds, and its length with a
 * lazy or possessive mark after it; 0 when none is there. */
static size_t zl_quantifier(const char *p, size_t n, size_t i, size_t *min,
                            size_t *max)
{
	size_t k = i + 1;
	switch (p[i]) {
	case '*': *min = 0; *max = ZL_INF; break;
	case '+': *min = 1; *max = ZL_INF; break;
	case '?': *min = 0; *max = 1; break;
	case '{': {
		while (k < n && zl_blank(p[k]))
			k++;
		size_t d1 = k;
		*min = zl_number(p, n, &k, 0);
		bool first = k > d1, comma = false;
		while (k < n && zl_blank(p[k]))
			k++;
		*max = *min;
		if (k < n && p[k] == ',') {
			comma = true;
			for (k++; k < n && zl_blank(p[k]);)
				k++;
			size_t d2 = k;
			*max = zl_number(p, n, &k, ZL_INF);
			if (!first && k == d2)
				return 0;   /* "{,}" is text */
			while (k < n && zl_blank(p[k]))
				k++;
		}
		if (k >= n || p[k] != '}' || (!first && !comma))
			return 0;
		k++;
		break;
	}
	default:
		return 0;
	}
	if (k < n && (p[k] == '?' || p[k] == '+'))
		k++;
	return k - i;
}

/* The length of the escape at p[i] ('\\'), with its braces or name. */
static size_t zl_escape(const char *p, size_t n, size_t i)
{
	if (i + 1 >= n)
		return 1;
	char e = p[i + 1];
	size_t k = i + 2;
	if (strchr("xNopPgk", e) != NULL && k < n &&
	    (p[k] == '{' || (e == 'k' && (p[k] == '<' || p[k] == '\'')))) {
		char close = p[k] == '{' ? '}' : p[k] == '<' ? '>' : '\'';
		const char *r = memchr(p + k, close, n - k);
		return r != NULL ? (size_t)(r - p) + 1 - i : n - i;
	}
	if (e == 'c' && k < n)
		k++;
	return k - i;
}

struct zl_level {
	bool width;     /* an item that matches a character */
	bool capture;   /* a capture group in it, or it is one */
	bool alt;       /* a '|' of its own */
	bool look;      /* a lookaround */
	bool cand;      /* a count on a zero-length item, not yet cleared */
	size_t cand_at;
};

struct zl_item {
	bool valid, zero, capture;
	bool cand;   /* a group's candidate, which an optional group drops */
	size_t cand_at;
};

static void zl_candidate(struct zl_level *l, size_t at)
{
	if (!l->cand) {
		l->cand = true;
		l->cand_at = at;
	}
}

/* The item before ends: it counts towards its group. */
static void zl_close_item(struct zl_level *l, struct zl_item *a)
{
	if (a->valid) {
		l->width |= !a->zero;
		l->capture |= a->capture;
		if (a->cand)
			zl_candidate(l, a->cand_at);
	}
	a->valid = false;
}

static bool zl_in_look(const struct zl_level *st, int d)
{
	for (int k = 0; k <= d; k++)
		if (st[k].look)
			return true;
	return false;
}

/* The length of a group's opening at p[i] ('('), and what it is. */
static size_t zl_group_open(const char *p, size_t n, size_t i,
                            struct zl_level *g)
{
	memset(g, 0, sizeof *g);
	if (i + 1 >= n || p[i + 1] != '?') {
		g->capture = true;
		return 1;
	}
	const char *s = p + i + 2;
	size_t left = n - i - 2;
	static const char *const looks[] = { "=", "!", "<=", "<!" };
	for (size_t k = 0; k < sizeof looks / sizeof *looks; k++)
		if (left >= strlen(looks[k]) &&
		    memcmp(s, looks[k], strlen(looks[k])) == 0) {
			g->look = true;
			return 2 + strlen(looks[k]);
		}
	if (left > 0 && (s[0] == '<' || s[0] == '\'' || s[0] == 'P')) {
		g->capture = true;   /* (?<name>, (?'name', (?P<name> */
		return 2;
	}
	size_t k = 0;   /* (?:, (?>, (?|, (?flags: */
	while (k < left && (isalpha((unsigned char)s[k]) || s[k] == '-' ||
	                    s[k] == '^'))
		k++;
	if (k < left && (s[k] == ':' || (k == 0 && (s[0] == '>' || s[0] == '|'))))
		return 2 + k + 1;
	g->width = true;   /* conditions, recursion: not followed */
	return 2;
}

/* Whether the flags at p[k] up to a ':' or ')' turn /x on. */
static bool zl_flags_x(const char *p, size_t n, size_t k)
{
	for (; k < n && (isalpha((unsigned char)p[k]) || p[k] == '^'); k++)
		if (p[k] == 'x')
			return true;
	return false;
}

/* Whether p[i] opens a group that is no item: a comment (?#...), a flag
 * group (?flags) or a verb (*VERB); *len: its length. */
static bool zl_no_item(const char *p, size_t n, size_t i, size_t *len)
{
	size_t k = i + 1;
	if (k < n && p[k] == '*') {
		const char *r = memchr(p + k, ')', n - k);
		*len = r != NULL ? (size_t)(r - p) + 1 - i : n - i;
		return true;
	}
	if (k >= n || p[k] != '?')
		return false;
	if (k + 1 < n && p[k + 1] == '#') {
		const char *r = memchr(p + k, ')', n - k);
		*len = r != NULL ? (size_t)(r - p) + 1 - i : n - i;
		return true;
	}
	for (k++; k < n && (isalpha((unsigned char)p[k]) || p[k] == '-' ||
	                    p[k] == '^'); k++)
		;
	if (k < n && p[k] == ')') {
		*len = k + 1 - i;
		return true;
	}
	return false;
}

static const char many[] =
	"a zero-length item under *, + or {n,}: Perl warns that it "
	"\"matches null string many times\" and SpamAssassin refuses the rule";
static const char count[] =
	"a count on a zero-length item: Perl warns \"Quantifier unexpected "
	"on zero-length expression\" and SpamAssassin refuses the rule";

const char *perlre_zero_length_fault(const char *p, size_t n, bool x,
                                     size_t *at)
{
	struct zl_level st[ZL_DEPTH];
	struct zl_item a = { false, false, false, false, 0 };
	int d = 0;
	memset(&st[0], 0, sizeof st[0]);
	for (size_t i = 0; i < n;) {
		char c = p[i];
		size_t min, max, len;
		if (x && isspace((unsigned char)c)) {
			i++;
		} else if (a.valid && (len = zl_quantifier(p, n, i, &min, &max))) {
			if (a.zero && max == ZL_INF) {
				*at = i;
				return many;
			}
			if (a.zero && !a.capture && (min >= 1 || max == 0) &&
			    !zl_in_look(st, d))
				zl_candidate(&st[d], i);
			a.zero |= max == 0;   /* x{0} */
			a.cand &= min > 0;    /* Perl does not look into (...)? */
			zl_close_item(&st[d], &a);
			i += len;
		} else if (c == '(' && zl_no_item(p, n, i, &len)) {
			/* as ruleset.c, /x stays on from where it is turned on */
			x = x || (i + 2 < n && zl_flags_x(p, n, i + 2));
			i += len;   /* a comment keeps the item before */
		} else if (c == '(') {
			x = x || (i + 2 < n && p[i + 1] == '?' &&
			          zl_flags_x(p, n, i + 2));
			zl_close_item(&st[d], &a);
			if (d + 1 == ZL_DEPTH)
				return NULL;
			i += zl_group_open(p, n, i, &st[++d]);
		} else if (c == ')') {
			zl_close_item(&st[d], &a);
			if (d == 0)
				return NULL;
			struct zl_level g = st[d--];
			a = (struct zl_item){ true, g.look || !g.width, g.capture,
			                      g.cand && !g.alt, g.cand_at };
			i++;
		} else {
			zl_close_item(&st[d], &a);
			if (c == '|') {
				st[d].alt = true;
				i++;
				continue;
			}
			a.valid = true;
			a.capture = a.cand = false;
			a.zero = c == '^' || c == '$' ||
			         (c == '\\' && i + 1 < n &&
			          strchr("bBAzZGK", p[i + 1]) != NULL);
			i = c == '\\' ? i + zl_escape(p, n, i) :
			    c == '[' ? perlre_class_end(p, n, i) + 1 : i + 1;
		}
	}
	zl_close_item(&st[d], &a);
	if (d == 0 && st[0].cand && !st[0].alt) {
		*at = st[0].cand_at;
		return count;
	}
	return NULL;
}

size_t perlre_quantified_assertion(const char *p, size_t n, size_t i,
                                   bool x)
{
	size_t len;
	if (p[i] == '\\' && i + 1 < n && strchr("bBAzZGK", p[i + 1]) != NULL)
		len = 2;   /* \b{...} is no \b with a count: refused elsewhere */
	else if ((p[i] == '^' && !(i >= 2 && p[i - 1] == '?' &&
	                           p[i - 2] == '(')) || p[i] == '$')
		len = 1;
	else
		return 0;
	size_t k = i + len, min, max;
	if (len == 2 && (p[i + 1] == 'b' || p[i + 1] == 'B') && k < n &&
	    p[k] == '{')
		return 0;
	while (x && k < n && isspace((unsigned char)p[k]))
		k++;
	return k < n && zl_quantifier(p, n, k, &min, &max) > 0 ? len : 0;
}

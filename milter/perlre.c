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

/* Whether p[k] ('{') opens a quantifier's braces (digits, a comma,
 * blanks), which \N{1,2} is, not a name. */
static bool zl_count_braces(const char *p, size_t n, size_t k)
{
	size_t min, max;
	return zl_quantifier(p, n, k, &min, &max) > 0;
}

/* The digits of kind `digits` ("0123456789abcdefABCDEF" or "01234567")
 * at p[k], at most max of them. */
static size_t zl_digits(const char *p, size_t n, size_t k, const char *digits,
                        size_t max)
{
	size_t d = 0;
	while (d < max && k + d < n && strchr(digits, p[k + d]) != NULL &&
	       p[k + d] != '\0')
		d++;
	return d;
}

/* The length of the escape at p[i] ('\\'), with its braces, name, hex
 * or octal digits, or property letter (\x41, \101, \pL as one item). */
static size_t zl_escape(const char *p, size_t n, size_t i)
{
	if (i + 1 >= n)
		return 1;
	char e = p[i + 1];
	size_t k = i + 2;
	if (e == 'x' && !(k < n && p[k] == '{'))
		return 2 + zl_digits(p, n, k, "0123456789abcdefABCDEF", 2);
	if (e == '0')
		return 2 + zl_digits(p, n, k, "01234567", 2);
	if ((e == 'p' || e == 'P') && k < n && p[k] != '{')
		return 3;
	if (strchr("xNopPgk", e) != NULL && k < n &&
	    !(e == 'N' && p[k] == '{' && zl_count_braces(p, n, k)) &&
	    (p[k] == '{' || (e == 'k' && (p[k] == '<' || p[k] == '\'')))) {
		char close = p[k] == '{' ? '}' : p[k] == '<' ? '>' : '\'';
		const char *r = memchr(p + k, close, n - k);
		return r != NULL ? (size_t)(r - p) + 1 - i : n - i;
	}
	if (e == 'c' && k < n)
		k++;
	return k - i;
}

/* Whether p[i] starts an escape that matches no character: \b, \B, \A,
 * \z, \Z, \G, \K. */
static bool zl_assertion_escape(const char *p, size_t n, size_t i)
{
	return p[i] == '\\' && i + 1 < n && p[i + 1] != '\0' &&
	       strchr("bBAzZGK", p[i + 1]) != NULL;
}

struct zl_level {
	bool x_outer;   /* /x around the group, back in force after it */
	bool width;     /* an item that matches a character */
	bool capture;   /* a capture group in it, or it is one */
	bool alt;       /* a '|' of its own */
	bool look;      /* a lookaround */
	bool neg;       /* a negative one */
	bool any;       /* an item in it so far */
	bool fail;      /* a failure met in its sequence ((?!), (*FAIL)) */
	bool cand;      /* a count on a zero-length item, not yet cleared */
	size_t cand_at;
};

struct zl_item {
	bool valid, zero, capture;
	bool cand;   /* a group's candidate, which an optional group drops */
	size_t cand_at;
	bool fail;   /* the match fails here: (?!), a group that must fail */
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
		l->any = true;
		l->fail |= a->fail;
		if (a->cand)
			zl_candidate(l, a->cand_at);
	}
	a->valid = false;
}

/* /x after the flags at p[k] (up to a ':' or ')'), x before them:
 * "x" turns it on, "-x" off, "^" first resets it (Perl's (?^...)). */
static bool zl_flags_x(const char *p, size_t n, size_t k, bool x)
{
	bool on = true;
	for (; k < n && (isalpha((unsigned char)p[k]) || p[k] == '^' ||
	                 p[k] == '-'); k++) {
		if (p[k] == '^')
			x = false;
		else if (p[k] == '-')
			on = false;
		else if (p[k] == 'x')
			x = on;
	}
	return x;
}

/* The name of a named group opening at p[i] ('('): its start and length;
 * 0 when p[i] opens none. */
static size_t group_name(const char *p, size_t n, size_t i, size_t *start)
{
	size_t k = i + 2;
	if (i + 2 >= n || p[i + 1] != '?')
		return 0;
	if (p[k] == 'P' && k + 1 < n && p[k + 1] == '<')
		k++;
	char close = p[k] == '<' ? '>' : p[k] == '\'' ? '\'' : 0;
	if (close == 0 || k + 1 >= n || p[k + 1] == '=' || p[k + 1] == '!')
		return 0;
	const char *e = memchr(p + k + 1, close, n - k - 1);
	*start = k + 1;
	return e != NULL ? (size_t)(e - p) - k - 1 : 0;
}

/* The length of a group's opening at p[i] ('('), and what it is; *x:
 * /x inside it ((?x:...) sets it). */
static size_t zl_group_open(const char *p, size_t n, size_t i,
                            struct zl_level *g, bool *x)
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
			g->neg = strchr(looks[k], '!') != NULL;
			return 2 + strlen(looks[k]);
		}
	size_t name, nl = group_name(p, n, i, &name);
	if (nl > 0) {   /* (?<name>, (?P<name>, (?'name': past the name */
		g->capture = true;
		return name + nl + 1 - i;
	}
	size_t k = 0;   /* (?:, (?>, (?|, (?flags: */
	while (k < left && (isalpha((unsigned char)s[k]) || s[k] == '-' ||
	                    s[k] == '^'))
		k++;
	if (k < left && s[k] == ':') {
		*x = zl_flags_x(p, n, i + 2, *x);
		return 2 + k + 1;
	}
	if (k == 0 && left > 0 && (s[0] == '>' || s[0] == '|'))
		return 3;
	g->width = true;   /* conditions, recursion: not followed */
	return 2;
}

enum zl_kind { ZL_GROUP, ZL_COMMENT, ZL_FLAGS, ZL_FAIL };

/* What p[i] ('(') opens: a group, or no item: a comment (?#...) (the
 * item before it stays open), a flag group (?flags) or a verb (*VERB)
 * (they end it), (*FAIL) or (*F) (the match fails there); *len: the
 * length of the latter. */
static enum zl_kind zl_no_item(const char *p, size_t n, size_t i, size_t *len)
{
	size_t k = i + 1;
	const char *r = memchr(p + i, ')', n - i);
	size_t to_paren = r != NULL ? (size_t)(r - p) + 1 - i : n - i;
	if (k < n && p[k] == '*') {
		*len = to_paren;
		return (*len == 7 && memcmp(p + i, "(*FAIL)", 7) == 0) ||
		       (*len == 4 && memcmp(p + i, "(*F)", 4) == 0) ? ZL_FAIL :
		                                                      ZL_FLAGS;
	}
	if (k >= n || p[k] != '?')
		return ZL_GROUP;
	if (k + 1 < n && p[k + 1] == '#') {
		*len = to_paren;
		return ZL_COMMENT;
	}
	for (k++; k < n && (isalpha((unsigned char)p[k]) || p[k] == '-' ||
	                    p[k] == '^'); k++)
		;
	if (k < n && p[k] == ')') {
		*len = k + 1 - i;
		return ZL_FLAGS;
	}
	return ZL_GROUP;
}

static const char many[] =
	"a zero-length item under *, + or {n,}: Perl warns that it "
	"\"matches null string many times\" and SpamAssassin refuses the rule";
static const char count[] =
	"a count on a zero-length item: Perl warns \"Quantifier unexpected "
	"on zero-length expression\" and SpamAssassin refuses the rule";

struct zl_scan {
	const char *p;
	size_t n;
	bool x;                       /* /x in force */
	struct zl_level st[ZL_DEPTH]; /* st[0]: the pattern, st[d]: innermost */
	int d;
	struct zl_item a;             /* the item before, open to a quantifier */
};

/* Whether a count on a zero-length item at the innermost level is where
 * Perl's optimiser looks: not in a lookaround, not after a failure it
 * cannot get past ((?!), (*FAIL)). */
static bool zl_studied(const struct zl_scan *z)
{
	for (int k = 0; k <= z->d; k++)
		if (z->st[k].look || z->st[k].fail)
			return false;
	return true;
}

/* The quantifier at i (length len, bounds min..max) on the item before:
 * the "many" fault, or NULL. */
static const char *zl_quantified(struct zl_scan *z, size_t i, size_t min,
                                 size_t max)
{
	struct zl_item *a = &z->a;
	if (a->zero && max == ZL_INF)
		return many;
	if (a->zero && !a->capture && (min >= 1 || max == 0) && zl_studied(z))
		zl_candidate(&z->st[z->d], i);
	a->zero |= max == 0;   /* x{0} */
	a->cand &= min > 0;    /* Perl does not look into (...)? */
	a->fail &= min > 0;
	zl_close_item(&z->st[z->d], a);
	return NULL;
}

/* '(' at i: a group opens, or a no-item group is passed; false when
 * groups nest too deep to follow. */
static bool zl_open(struct zl_scan *z, size_t *i)
{
	size_t len;
	enum zl_kind k = zl_no_item(z->p, z->n, *i, &len);
	if (k != ZL_GROUP) {
		if (k == ZL_FLAGS && z->p[*i + 1] == '?')   /* (?x): to the */
			z->x = zl_flags_x(z->p, z->n, *i + 2, z->x); /* group's end */
		if (k != ZL_COMMENT)
			zl_close_item(&z->st[z->d], &z->a);
		z->st[z->d].fail |= k == ZL_FAIL;
		*i += len;
		return true;
	}
	zl_close_item(&z->st[z->d], &z->a);
	if (z->d + 1 == ZL_DEPTH)
		return false;
	bool inner = z->x;
	*i += zl_group_open(z->p, z->n, *i, &z->st[++z->d], &inner);
	z->st[z->d].x_outer = z->x;
	z->x = inner;
	return true;
}

/* ')': the group closes and is the item before; false when none is open. */
static bool zl_close(struct zl_scan *z)
{
	zl_close_item(&z->st[z->d], &z->a);
	if (z->d == 0)
		return false;
	z->x = z->st[z->d].x_outer;
	struct zl_level g = z->st[z->d--];
	z->a = (struct zl_item){ true, g.look || !g.width, g.capture,
	                         g.cand && !g.alt, g.cand_at,
	                         /* (?!), or a group that must fail */
	                         (g.look && g.neg && !g.any) ||
	                         (!g.look && g.fail && !g.alt) };
	return true;
}

/* An escape, class, '^', '$' or character at i: the item before; the
 * index after it. */
static size_t zl_atom(struct zl_scan *z, size_t i)
{
	const char *p = z->p;
	char c = p[i];
	zl_close_item(&z->st[z->d], &z->a);
	z->a = (struct zl_item){ true, c == '^' || c == '$' ||
	                         zl_assertion_escape(p, z->n, i),
	                         false, false, 0, false };
	return c == '\\' ? i + zl_escape(p, z->n, i) :
	       c == '[' ? perlre_class_end(p, z->n, i) + 1 : i + 1;
}

const char *perlre_zero_length_fault(const char *p, size_t n, bool x,
                                     size_t *at)
{
	struct zl_scan z = { .p = p, .n = n, .x = x };
	for (size_t i = 0; i < n;) {
		size_t min, max, len;
		if (x && isspace((unsigned char)p[i])) {
			i++;
		} else if (z.a.valid && (len = zl_quantifier(p, n, i, &min, &max))) {
			const char *fault = zl_quantified(&z, i, min, max);
			if (fault != NULL) {
				*at = i;
				return fault;
			}
			i += len;
		} else if (p[i] == '(') {
			if (!zl_open(&z, &i))
				return NULL;
		} else if (p[i] == ')') {
			if (!zl_close(&z))
				return NULL;
			i++;
		} else if (p[i] == '|') {
			zl_close_item(&z.st[z.d], &z.a);
			z.st[z.d].alt = true;
			i++;
		} else {
			i = zl_atom(&z, i);
		}
		x = z.x;
	}
	zl_close_item(&z.st[z.d], &z.a);
	if (z.d == 0 && z.st[0].cand && !z.st[0].alt) {
		*at = z.st[0].cand_at;
		return count;
	}
	return NULL;
}

#define LB_ITEMS 32
#define LB_BRANCHES 64

struct lb_item {
	size_t at, len;     /* its text in the pattern */
	size_t min, max;    /* its count */
};

/* The items of the lookbehind body starting at p[i] up to its ')': false
 * when it holds anything else (a group, an alternation, an unbounded
 * count, a backreference) or too many; *end: the ')'. */
static bool lb_items(const char *p, size_t n, size_t i, bool x,
                     struct lb_item *it, size_t *nit, size_t *end)
{
	*nit = 0;
	while (i < n && p[i] != ')') {
		size_t len, min, max;
		if (x && isspace((unsigned char)p[i])) {
			i++;
			continue;
		}
		/* \101: octal; other digits: a backreference */
		bool octal = p[i] == '\\' &&
		             zl_digits(p, n, i + 1, "01234567", 3) == 3;
		if (p[i] == '(' || p[i] == '|' || *nit == LB_ITEMS ||
		    (p[i] == '\\' && i + 1 < n && !octal && p[i + 1] != '0' &&
		     (isdigit((unsigned char)p[i + 1]) || p[i + 1] == 'g' ||
		      p[i + 1] == 'k')))
			return false;
		len = octal ? 4 : p[i] == '\\' ? zl_escape(p, n, i) :
		      p[i] == '[' ? perlre_class_end(p, n, i) + 1 - i : 1;
		/* \b{...} is Perl's bound type, refused by the loader */
		if (zl_assertion_escape(p, n, i) && (p[i + 1] | 0x20) == 'b' &&
		    i + 2 < n && p[i + 2] == '{')
			return false;
		it[*nit] = (struct lb_item){ i, len, 1, 1 };
		i += len;
		while (x && i < n && isspace((unsigned char)p[i]))
			i++;
		size_t q = i < n ? zl_quantifier(p, n, i, &min, &max) : 0;
		if (q > 0) {
			if (max == ZL_INF || max > 255)
				return false;
			it[*nit].min = min;
			it[*nit].max = max;
			i += q;
		}
		(*nit)++;
	}
	*end = i;
	return i < n;
}

/* The branches of items it[0..nit): how many (0 when too many, or one
 * longer than 255 characters, or all of one length: nothing to do). */
static size_t lb_branches(const struct lb_item *it, size_t nit)
{
	size_t branches = 1, longest = 0;
	bool variable = false;
	for (size_t k = 0; k < nit; k++) {
		branches *= it[k].max - it[k].min + 1;
		longest += it[k].max;
		variable |= it[k].min != it[k].max;
		if (branches > LB_BRANCHES || longest > 255)
			return 0;
	}
	return variable ? branches : 0;
}

/* Appends s[0..len) at *o when it fits cap. */
static void lb_put(char *out, size_t cap, size_t *o, const char *s,
                   size_t len)
{
	if (out != NULL && *o + len <= cap)
		memcpy(out + *o, s, len);
	*o += len;
}

/* Writes the branches of it[0..nit), '|' between them. */
static void lb_write(const char *p, const struct lb_item *it, size_t nit,
                     size_t branches, char *out, size_t cap, size_t *o)
{
	for (size_t b = 0; b < branches; b++) {
		size_t rest = b;   /* b as mixed-radix counts of the items */
		if (b > 0)
			lb_put(out, cap, o, "|", 1);
		for (size_t k = 0; k < nit; k++) {
			size_t span = it[k].max - it[k].min + 1;
			size_t times = it[k].min + rest % span;
			rest /= span;
			for (size_t t = 0; t < times; t++)
				lb_put(out, cap, o, p + it[k].at, it[k].len);
		}
	}
}

size_t perlre_lookbehind_expand(const char *p, size_t n, bool x, char *out,
                                size_t cap)
{
	struct lb_item it[LB_ITEMS];
	size_t o = 0, from = 0, nit, end, branches;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (p[i] == '[') {
			i = perlre_class_end(p, n, i);
		} else if (i + 4 <= n && p[i] == '(' && p[i + 1] == '?' &&
		           p[i + 2] == '<' && (p[i + 3] == '=' || p[i + 3] == '!') &&
		           lb_items(p, n, i + 4, x, it, &nit, &end) &&
		           (branches = lb_branches(it, nit)) > 0) {
			lb_put(out, cap, &o, p + from, i + 4 - from);
			lb_write(p, it, nit, branches, out, cap, &o);
			from = end;
			i = end;
			any = true;
		}
	}
	lb_put(out, cap, &o, p + from, n - from);
	return any ? o : 0;
}

bool perlre_dup_names(const char *p, size_t n)
{
	size_t at[64], len[64], names = 0;
	for (size_t i = 0; i < n && names < 64; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (p[i] == '[') {
			i = perlre_class_end(p, n, i);
		} else if (p[i] == '(' &&
		           (len[names] = group_name(p, n, i, &at[names])) > 0) {
			for (size_t k = 0; k < names; k++)
				if (len[k] == len[names] &&
				    memcmp(p + at[k], p + at[names], len[k]) == 0)
					return true;
			names++;
		}
	}
	return false;
}

size_t perlre_quantified_assertion(const char *p, size_t n, size_t i,
                                   bool x)
{
	size_t len;
	if (zl_assertion_escape(p, n, i))
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

/*
 * litscan.c — literal prefilter: extraction of required literals from
 * PCRE2 patterns, and pattern structure for the engine (the scanner that
 * looks for the literals is acscan.c).
 *
 * Extraction parses the pattern (the subset we understand; anything else
 * makes us give up) and computes, per node, either the strings the node
 * always matches one of ("exact": "ab", "(?:ab|cd)", "x?"), or a set of
 * literals one of which occurs in every match ("required set"). In a
 * concatenation, adjacent exact items join into a run, the products of
 * their strings ("e-?mail" gives "email" and "e-mail"); anything else, or
 * a run with too many or too long strings, cuts the run; the best
 * candidate (longest shortest member) of the runs and the items' own
 * required sets is the concatenation's required set. An alternation's
 * required set is the union of its branches' sets, or nothing when a
 * branch has none.
 *
 * It also finds the tails and the splittable alternations the engine
 * uses (litscan_tails(), litscan_alternation(), litscan_repeat()), and
 * the byte classes every match needs (litscan_req_bytes()).
 */
#include "litscan.h"
#include "strbuf.h"


#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Pattern lexing
 *
 * The walkers below (literal extraction, the ASCII projection, required
 * byte classes) read PCRE2 syntax with one set of decoders: escapes,
 * classes and their members, POSIX names, group openers and their option
 * letters, quantifiers. A decoder reads an item as PCRE2 does and says
 * what it is (values in full: callers apply their own limits); what the
 * item means for a walker is the walker's business.
 * ====================================================================== */

/* A read position in a pattern: the decoders (lx_*) advance pos past
 * what they read and set giveup on what they cannot read. */
struct lexer {
	const unsigned char *p;
	size_t len, pos;
	bool giveup;
};

/* Options in force inside a group. */
struct lopts {
	bool caseless;
	bool extended;
	bool extended_more;
};

/* Options that leave classes and escapes as PCRE2's built-in tables
 * give them, byte for byte (no UTF, UCP or extended syntax). */
#define LX_PLAIN_OPTS (PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_DOTALL | \
                       PCRE2_DOLLAR_ENDONLY | PCRE2_UNGREEDY | \
                       PCRE2_NO_AUTO_CAPTURE)

static bool lx_end(const struct lexer *lx) { return lx->pos >= lx->len; }

static int lx_peek(const struct lexer *lx, size_t k)
{
	return lx->pos + k < lx->len ? lx->p[lx->pos + k] : -1;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(int c)
{
	return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 :
	       (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

static void bs_add(struct litscan_bset *s, unsigned b)
{
	s->w[b >> 6] |= (uint64_t)1 << (b & 63);
}

static bool bs_has(const struct litscan_bset *s, unsigned b)
{
	return (s->w[b >> 6] >> (b & 63)) & 1;
}

static void bs_range(struct litscan_bset *s, unsigned lo, unsigned hi)
{
	for (unsigned b = lo; b <= hi; b++)
		bs_add(s, b);
}

static void bs_not(struct litscan_bset *s)
{
	for (int i = 0; i < 4; i++)
		s->w[i] = ~s->w[i];
}

static void bs_or(struct litscan_bset *d, const struct litscan_bset *s)
{
	for (int i = 0; i < 4; i++)
		d->w[i] |= s->w[i];
}

/* ASCII letters get their other case (PCRE2's built-in tables fold
 * nothing else). */
static void bs_fold(struct litscan_bset *s)
{
	/* 'A' + i is bit 1 + i of w[1], 'a' + i bit 33 + i */
	uint64_t m = ((s->w[1] >> 1) | (s->w[1] >> 33)) & 0x3ffffffu;
	s->w[1] |= m << 1 | m << 33;
}

/* Past the next byte c from pos on; false (and giveup) when there is
 * none. */
static bool lx_skip_past(struct lexer *lx, int c)
{
	while (!lx_end(lx) && lx_peek(lx, 0) != c)
		lx->pos++;
	if (lx_end(lx)) {
		lx->giveup = true;
		return false;
	}
	lx->pos++;
	return true;
}

/* Skip white space and #-comments in extended mode. */
static void lx_skip_ignorable(struct lexer *lx, const struct lopts *o)
{
	if (!o->extended)
		return;
	while (!lx_end(lx)) {
		int c = lx_peek(lx, 0);
		if (is_space(c)) {
			lx->pos++;
		} else if (c == '#') {
			while (!lx_end(lx) && lx_peek(lx, 0) != '\n')
				lx->pos++;
		} else {
			break;
		}
	}
}

/* Digits from p[*q] on (value capped near 100000); their number. */
static size_t lx_number(const struct lexer *lx, size_t *q, long *v)
{
	size_t nd = 0;
	for (*v = 0; *q < lx->len && is_digit(lx->p[*q]); (*q)++, nd++)
		if (*v < 100000)
			*v = *v * 10 + (lx->p[*q] - '0');
	return nd;
}

/* A quantifier at pos: fills min/max (max = -1 for no limit) and
 * consumes it with its lazy/possessive suffix. Returns false when there
 * is none. Sets giveup for forms whose meaning depends on the PCRE2
 * version ({,n}, spaces inside braces). */
static bool lx_quant(struct lexer *lx, long *min, long *max)
{
	int c = lx_peek(lx, 0);
	if (c == '?' || c == '*' || c == '+') {
		*min = c == '+' ? 1 : 0;
		*max = c == '?' ? 1 : -1;
		lx->pos++;
	} else if (c == '{') {
		size_t q = lx->pos + 1;
		long a, b = -1;
		if (lx_number(lx, &q, &a) == 0) {
			/* "{,n}" or "{ n}": version-dependent; "{x" is literal. */
			if (q < lx->len && (lx->p[q] == ',' || is_space(lx->p[q])))
				lx->giveup = true;
			return false;
		}
		if (q < lx->len && lx->p[q] == '}') {
			b = a;
		} else if (q < lx->len && lx->p[q] == ',') {
			q++;
			long bb;
			size_t nd2 = lx_number(lx, &q, &bb);
			if (q >= lx->len || lx->p[q] != '}') {
				lx->giveup = true;
				return false;
			}
			b = nd2 ? bb : -1;
		} else {
			lx->giveup = true;
			return false;
		}
		*min = a;
		*max = b;
		lx->pos = q + 1;
	} else {
		return false;
	}
	c = lx_peek(lx, 0);
	if (c == '?' || c == '+')
		lx->pos++;
	return true;
}

/* After "\x": \xhh (up to two digits) or \x{h...} of 1 to max_digits
 * digits (values past 0xfffffff saturate); consumes it and returns the
 * value, or -1 for a brace form without its digits or '}' (pos then
 * after the "\x"). */
static long lx_hex(struct lexer *lx, size_t max_digits)
{
	long v = 0;
	if (lx_peek(lx, 0) == '{') {
		size_t q = lx->pos + 1, nd = 0;
		for (; q < lx->len && hexval(lx->p[q]) >= 0 && nd < max_digits;
		     q++, nd++)
			v = v > 0xfffffff ? v : v * 16 + hexval(lx->p[q]);
		if (nd == 0 || q >= lx->len || lx->p[q] != '}')
			return -1;
		lx->pos = q + 1;
		return v;
	}
	for (int i = 0; i < 2 && hexval(lx_peek(lx, 0)) >= 0; i++)
		v = v * 16 + hexval(lx->p[lx->pos++]);
	return v;
}

/* After "\0": up to two more octal digits; the value. */
static long lx_octal(struct lexer *lx)
{
	long v = 0;
	for (int i = 0; i < 2 && lx_peek(lx, 0) >= '0' && lx_peek(lx, 0) <= '7';
	     i++)
		v = v * 8 + (lx->p[lx->pos++] - '0');
	return v;
}

/* The byte of \t \n \r \f \e \a, or -1. */
static long lx_ctrl(int c)
{
	static const char from[] = "tnrfea";
	static const char to[] = "\t\n\r\f\033\007";
	const char *l = c > 0 ? strchr(from, c) : NULL;
	return l != NULL ? (unsigned char)to[l - from] : -1;
}

/* \d \w \s \h \v and their negations (PCRE2's built-in tables, 8-bit
 * without UTF or UCP): false for another letter. */
static bool lx_type(int c, struct litscan_bset *s)
{
	int l = c | 0x20;
	if (l != 'd' && l != 'w' && l != 's' && l != 'h' && l != 'v')
		return false;   /* (most escapes: before clearing s) */
	*s = (struct litscan_bset){ { 0 } };
	switch (l) {
	case 'd':
		bs_range(s, '0', '9');
		break;
	case 'w':
		bs_range(s, '0', '9');
		bs_range(s, 'a', 'z');
		bs_range(s, 'A', 'Z');
		bs_add(s, '_');
		break;
	case 's':
		bs_range(s, '\t', '\r');
		bs_add(s, ' ');
		break;
	case 'h':
		bs_add(s, '\t');
		bs_add(s, ' ');
		bs_add(s, 0xa0);
		break;
	default:   /* 'v' */
		bs_range(s, '\n', '\r');
		bs_add(s, 0x85);
		break;
	}
	if (c >= 'A' && c <= 'Z')
		bs_not(s);
	return true;
}

/* At "[:", "[." or "[=" inside a class: consumes up to the closing ":]"
 * (".]", "=]"; giveup when there is none). True, with its bytes in s,
 * for a POSIX class "[:name:]" or "[:^name:]" whose bytes are known
 * (caseless [:upper:] and [:lower:] fold differently between PCRE2
 * versions). */
static bool lx_posix(struct lexer *lx, bool caseless, struct litscan_bset *s)
{
	static const struct { const char *name; const char *ranges; } tab[] = {
		{ "alpha", "AZaz" }, { "digit", "09" }, { "alnum", "09AZaz" },
		{ "upper", "AZ" }, { "lower", "az" }, { "space", "\t\r  " },
		{ "blank", "\t\t  " }, { "xdigit", "09AFaf" },
		{ "word", "09AZaz__" }, { "cntrl", "\x01\x1f\x7f\x7f" },
		{ "graph", "!~" }, { "print", " ~" },
		{ "punct", "!/:@[`{~" },
	};
	int t = lx_peek(lx, 1);
	size_t q = lx->pos + 2;
	while (q + 1 < lx->len && !(lx->p[q] == t && lx->p[q + 1] == ']'))
		q++;
	if (q + 1 >= lx->len) {
		lx->giveup = true;
		return false;
	}
	size_t start = lx->pos + 2;
	bool neg = t == ':' && lx->p[start] == '^';
	start += neg;
	lx->pos = q + 2;
	*s = (struct litscan_bset){ { 0 } };
	for (size_t i = 0; t == ':' && i < sizeof tab / sizeof tab[0]; i++) {
		if (strlen(tab[i].name) != q - start ||
		    memcmp(tab[i].name, lx->p + start, q - start) != 0)
			continue;
		if (caseless && (tab[i].name[0] == 'u' || tab[i].name[0] == 'l'))
			return false;
		for (const char *r = tab[i].ranges; r[0] != '\0'; r += 2)
			bs_range(s, (unsigned char)r[0], (unsigned char)r[1]);
		if (!strcmp(tab[i].name, "cntrl"))
			bs_add(s, 0);
		if (neg)
			bs_not(s);
		return true;
	}
	return false;
}

enum lx_item {
	LX_BYTE,   /* one character: *v (may be above 0xff) */
	LX_SET,    /* bytes of an escape type or POSIX class: s */
	LX_NONE    /* what we do not decode (read; giveup where unreadable) */
};

/* One class member at pos (not the closing ']'): a byte, an escape
 * (\xhh with braces of up to hex_digits digits, \0oo, \b, \t.., \d..,
 * or an escaped non-alphanumeric byte) or a POSIX class. Sets giveup
 * for \Q, \E and a '\' at the end. */
static enum lx_item lx_member(struct lexer *lx, size_t hex_digits,
                              bool caseless, long *v,
                              struct litscan_bset *s)
{
	int c = lx_peek(lx, 0), e = lx_peek(lx, 1);
	*v = -1;
	if (c == '\\') {
		if (e == 'Q' || e == 'E' || e < 0) {
			lx->giveup = true;
			return LX_NONE;
		}
		lx->pos += 2;
		if (lx_type(e, s))
			return LX_SET;
		*v = e == 'x' ? lx_hex(lx, hex_digits) : e == '0' ? lx_octal(lx) :
		     e == 'b' ? '\b' : !is_alnum(e) ? e : lx_ctrl(e);
		return *v >= 0 ? LX_BYTE : LX_NONE;
	}
	if (c == '[' && (e == ':' || e == '.' || e == '='))
		return lx_posix(lx, caseless, s) ? LX_SET : LX_NONE;
	lx->pos++;
	*v = c;
	return LX_BYTE;
}

/* Past the class at pos ('[') as PCRE2 delimits it: a ']' first (after
 * '^') is a member, an escape takes the next byte, and "[:" starts a
 * POSIX name when a ':' stands before the next ']'. Sets giveup for an
 * unclosed class, and for \Q and \E (quoting, which may hide its ']'),
 * then going on as if they were not. */
static void lx_class_end(struct lexer *lx)
{
	/* A plain index over the bytes: the homoglyph rules hold hundreds
	 * of thousands of classes in all. */
	const unsigned char *p = lx->p;
	size_t i = lx->pos + 1, len = lx->len;
	if (i < len && p[i] == '^')
		i++;
	if (i < len && p[i] == ']')
		i++;
	while (i < len) {
		unsigned char c = p[i++];
		if (c == ']') {
			lx->pos = i;
			return;
		}
		if (c == '\\') {
			if (i < len && (p[i] == 'Q' || p[i] == 'E'))
				lx->giveup = true;
			i++;
		} else if (c == '[' && i < len && p[i] == ':') {
			const void *e = memchr(p + i, ']', len - i);
			size_t q = e ? (size_t)((const unsigned char *)e - p) : 0;
			if (q > i && p[q - 1] == ':')
				i = q + 1;
		}
	}
	lx->pos = i;
	lx->giveup = true;
}

/* The bytes of the class at pos ('['), negation and caseless folding
 * applied; false (giveup) for what we do not decode: members above 0xff,
 * unknown escapes and POSIX names, ranges with a set at either end. */
static bool lx_class(struct lexer *lx, bool caseless, struct litscan_bset *out)
{
	lx->pos++;
	*out = (struct litscan_bset){ { 0 } };
	bool neg = lx_peek(lx, 0) == '^';
	lx->pos += neg;
	for (bool first = true;; first = false) {
		int c = lx_peek(lx, 0);
		if (c < 0)
			lx->giveup = true;
		if (lx->giveup)
			return false;
		if (c == ']' && !first)
			break;
		long lo, hi;
		struct litscan_bset s;
		enum lx_item k = lx_member(lx, 4, caseless, &lo, &s);
		if (k == LX_SET) {
			bs_or(out, &s);
			if (lx_peek(lx, 0) == '-' && lx_peek(lx, 1) != ']')
				lx->giveup = true;   /* "[\d-z]": version-dependent */
			continue;
		}
		hi = lo;
		if (k == LX_BYTE && lx_peek(lx, 0) == '-' && lx_peek(lx, 1) != ']' &&
		    lx_peek(lx, 1) >= 0) {
			lx->pos++;
			if (lx_member(lx, 4, caseless, &hi, &s) != LX_BYTE)
				hi = -1;
		}
		if (k != LX_BYTE || hi < lo || hi > 0xff)
			lx->giveup = true;   /* a set, or an invalid range */
		if (!lx->giveup)
			bs_range(out, (unsigned)lo, (unsigned)hi);
	}
	lx->pos++;   /* ']' */
	if (caseless)
		bs_fold(out);
	if (neg)
		bs_not(out);
	return true;
}

enum lx_esc {
	LXE_BYTE,   /* one character: *v (\t.., \xhh, \0oo, an escaped byte
	               other than a letter or digit, also >= 0x80) */
	LXE_TYPE,   /* \d \D \w \W \s \S \h \H \v \V: its bytes in s */
	LXE_ANY,    /* \R \X \C \N \cx: characters we do not name */
	LXE_ZERO,   /* \b \B \A \z \Z \G \K: an assertion */
	LXE_PROP,   /* \p, \P and their property */
	LXE_REF,    /* \1..\9, \g.., \k..: a backreference */
	LXE_OTHER   /* \Q, \E, \o, \u, another letter: the two bytes */
};

/* The escape at pos ('\\'), read whole (\x{..} of up to hex_digits
 * digits). Sets giveup for a '\' at the end and for forms we cannot
 * read: \N{..}, \x{ without its digits or '}', \c at the end, an
 * unclosed \p{, \g and \k forms we do not know, and a backreference
 * followed by a digit (a reference or octal, by the number of groups). */
static enum lx_esc lx_escape(struct lexer *lx, size_t hex_digits, long *v,
                             struct litscan_bset *s)
{
	int c = lx_peek(lx, 1);
	*v = -1;
	if (c < 0) {
		lx->giveup = true;
		return LXE_OTHER;
	}
	lx->pos += 2;
	if (lx_type(c, s))
		return LXE_TYPE;
	*v = !is_alnum(c) ? c : c == 'x' ? lx_hex(lx, hex_digits) :
	     c == '0' ? lx_octal(lx) : lx_ctrl(c);
	if (*v >= 0 || c == 'x') {
		lx->giveup |= *v < 0;
		return LXE_BYTE;
	}
	switch (c) {
	case 'N':
		lx->giveup |= lx_peek(lx, 0) == '{';
		return LXE_ANY;
	case 'c':
		lx->giveup |= lx_end(lx);
		lx->pos += !lx_end(lx);
		return LXE_ANY;
	case 'R': case 'X': case 'C':
		return LXE_ANY;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
		return LXE_ZERO;
	case 'p': case 'P':
		if (lx_peek(lx, 0) == '{')
			lx_skip_past(lx, '}');
		else if (!lx_end(lx))
			lx->pos++;
		return LXE_PROP;
	case 'g': case 'k': {
		/* \g1 \g-1 \g{..} \g<..> \g'..' \k<..> ... */
		int o = lx_peek(lx, 0);
		int close = o == '{' ? '}' : o == '<' ? '>' : o == '\'' ? '\'' : 0;
		if (close) {
			lx->pos++;
			lx_skip_past(lx, close);
			return LXE_REF;
		}
		if (c == 'g' && (lx_peek(lx, 0) == '-' || lx_peek(lx, 0) == '+'))
			lx->pos++;
		lx->giveup |= c == 'k' || !is_digit(lx_peek(lx, 0));
		while (is_digit(lx_peek(lx, 0)))
			lx->pos++;
		return LXE_REF;
	}
	default:
		if (!is_digit(c))
			return LXE_OTHER;
		lx->giveup |= is_digit(lx_peek(lx, 0));
		return LXE_REF;
	}
}

enum lx_group {
	LXG_CAPTURE,      /* "(" */
	LXG_PLAIN,        /* "(?:" */
	LXG_NAMED,        /* "(?<n>", "(?'n'", "(?P<n>" */
	LXG_ATOMIC,       /* "(?>" */
	LXG_RESET,        /* "(?|" */
	LXG_AHEAD, LXG_NOT_AHEAD, LXG_BEHIND, LXG_NOT_BEHIND,
	LXG_NON_ATOMIC,   /* "(?*", "(?<*": non-atomic lookarounds */
	LXG_SCOPED,       /* "(?i:": options for the group */
	LXG_SET,          /* "(?i)": for the rest of the enclosing group */
	LXG_COMMENT,      /* "(?#...)" */
	LXG_CALL,         /* "(?R)", "(?1)", "(?-1)", "(?&n)", "(?P=n)", .. */
	LXG_OTHER         /* verbs, conditions, callouts, ...: giveup */
};

/* Option letters "(?imnsxJU-imnsxJU" (or "(?^...") after the '?' at pos,
 * up to ')' (unscoped) or ':': *o updated, pos past them; LXG_OTHER
 * (giveup) for anything else. *fancy tells of '^', 'x' or a second '-'
 * (what litscan_req_bytes() does not take). */
static enum lx_group lx_options(struct lexer *lx, struct lopts *o,
                                bool *fancy)
{
	size_t q = lx->pos + 1;
	bool on = true;
	struct lopts no = *o;
	if (q < lx->len && lx->p[q] == '^') {
		no.caseless = no.extended = no.extended_more = false;
		*fancy = true;
		q++;
	}
	for (; q < lx->len; q++) {
		int f = lx->p[q];
		if (f == '-') {
			*fancy |= !on;
			on = false;
		} else if (f == 'i') {
			no.caseless = on;
		} else if (f == 'x') {
			*fancy = true;
			if (q + 1 < lx->len && lx->p[q + 1] == 'x') {
				no.extended_more = on;
				q++;
			}
			no.extended = on;
			if (!on)
				no.extended_more = false;
		} else if (f != 'm' && f != 's' && f != 'n' && f != 'J' && f != 'U') {
			break;   /* the others have no effect on what we read */
		}
	}
	if (q >= lx->len || (lx->p[q] != ')' && lx->p[q] != ':')) {
		lx->giveup = true;   /* conditions, callouts, ... */
		return LXG_OTHER;
	}
	*o = no;
	lx->pos = q + 1;
	return lx->p[q] == ')' ? LXG_SET : LXG_SCOPED;
}

/* The group opening at pos ('('): consumes its opener, or the whole of
 * a comment, call or option setting (giveup when unclosed). Option
 * letters update *o (lx_options()). */
static enum lx_group lx_group(struct lexer *lx, struct lopts *o, bool *fancy)
{
	lx->pos++;
	*fancy = false;
	if (lx_peek(lx, 0) == '*') {
		lx->giveup = true;   /* (*VERB) and friends */
		return LXG_OTHER;
	}
	if (lx_peek(lx, 0) != '?')
		return LXG_CAPTURE;
	static const char one[] = ":>|=!*";
	static const enum lx_group one_kind[] = {
		LXG_PLAIN, LXG_ATOMIC, LXG_RESET, LXG_AHEAD, LXG_NOT_AHEAD,
		LXG_NON_ATOMIC,
	};
	int c = lx_peek(lx, 1), d = lx_peek(lx, 2);
	const char *k = c > 0 ? strchr(one, c) : NULL;
	if (k != NULL) {
		lx->pos += 2;
		return one_kind[k - one];
	}
	if (c == '<' && (d == '=' || d == '!' || d == '*')) {
		lx->pos += 3;
		return d == '=' ? LXG_BEHIND : d == '!' ? LXG_NOT_BEHIND :
		       LXG_NON_ATOMIC;
	}
	if (c == '#') {
		lx_skip_past(lx, ')');
		return LXG_COMMENT;
	}
	if (c == '<' || c == '\'' || (c == 'P' && d == '<')) {
		lx->pos += c == 'P' ? 3 : 2;
		lx_skip_past(lx, c == '\'' ? '\'' : '>');
		return LXG_NAMED;
	}
	if ((c == 'P' && (d == '=' || d == '>')) || c == 'R' || c == '&' ||
	    is_digit(c) || ((c == '+' || c == '-') && is_digit(d))) {
		lx_skip_past(lx, ')');
		return LXG_CALL;
	}
	return lx_options(lx, o, fancy);
}

/* ======================================================================
 * Extraction
 * ====================================================================== */

#define LS_MAX_GROUP_DEPTH 64
#define LS_CONJ_CAND 24   /* candidate sets kept for the conjunction */

struct lset {
	size_t n;
	unsigned char len[LITSCAN_MAX_LITS];
	char s[LITSCAN_MAX_LITS][LITSCAN_MAX_LEN + 1];
};

/* What we know about a node. */
struct linfo {
	bool exact;            /* every match is one of exs (lower-cased) */
	struct lset exs;
	struct lset req;       /* one of these occurs in every match */
	struct lset small;     /* the same with fewer members (or none): what
	                          an alternation unites when the union of the
	                          branches' req sets would not fit */
	bool takes;            /* every match is at least one character */
};

struct lparse {
	struct lexer lx;       /* giveup: something we do not understand */
	bool utf;
	bool unicode;          /* PCRE2_UTF or PCRE2_UCP: Unicode case folding */
	unsigned depth;
	/* litscan_extract_skel(): literals of the pattern's skeleton */
	bool skel;
	bool gap;              /* skip_class(): the class also matches bytes
	                          the skeleton drops */
	/* litscan_tails(): */
	bool notail;           /* backreference, subroutine call, \G, or a
	                          top-level '|' */
	bool optset;           /* an unscoped option setting was just read */
	unsigned tailoff;      /* > 0: after one, record no tails */
	size_t *tails, *ends;  /* tail spans, or NULL */
	size_t *heads;         /* their heads (litscan.h) */
	bool nolits;           /* tails alone: no literal sets (they cost
	                          most of a parse and change no tail) */
	size_t ntails, maxtails;
	/* litscan_extract_conj(): the required sets of the concatenations
	 * every match passes through (the pattern's, and those of the plain
	 * groups of one branch it takes on every match), or NULL */
	bool want_conj;
	struct lset *conj[LS_CONJ_CAND];   /* allocated as needed */
	size_t nconj, aconj;   /* in use; allocated */
};

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Shortest member length: the quality of a set (0 for an empty set). */
static size_t lset_score(const struct lset *s)
{
	if (s->n == 0)
		return 0;
	size_t m = LITSCAN_MAX_LEN + 1;
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] < m)
			m = s->len[i];
	return m;
}

static bool lset_better(const struct lset *a, const struct lset *b)
{
	size_t sa = lset_score(a), sb = lset_score(b);
	if (sa != sb)
		return sa > sb;
	return a->n != 0 && a->n < b->n;
}

static void lset_one(struct lset *s, const char *str, size_t len)
{
	if (len > LITSCAN_MAX_LEN)
		len = LITSCAN_MAX_LEN;
	s->n = 1;
	s->len[0] = (unsigned char)len;
	memcpy(s->s[0], str, len);
	s->s[0][len] = '\0';
}

/* Union into dst; false when the result would not fit. */
static bool lset_union(struct lset *dst, const struct lset *src)
{
	for (size_t i = 0; i < src->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < dst->n && !dup; j++)
			dup = dst->len[j] == src->len[i] &&
			      memcmp(dst->s[j], src->s[i], src->len[i]) == 0;
		if (dup)
			continue;
		if (dst->n == LITSCAN_MAX_LITS)
			return false;
		dst->len[dst->n] = src->len[i];
		memcpy(dst->s[dst->n], src->s[i], (size_t)src->len[i] + 1);
		dst->n++;
	}
	return true;
}

/* Adds the empty string to s; false when it does not fit. */
static bool lset_add_empty(struct lset *s)
{
	static const struct lset none = { .n = 1 };
	return lset_union(s, &none);
}

/* What a byte becomes in a skeleton: letters and digits folded to one
 * lower-case letter per family of lookalikes (the homoglyph rules spell
 * i as [iIl|!1y]: all i in a skeleton), 0 for the bytes it drops. Any
 * such map serves, as long as texts and literals go through the same;
 * folding more only makes a literal a little less rare. */
static const unsigned char skel_map[256] = {
	['0'] = 'o', ['1'] = 'i', ['2'] = 's', ['3'] = 'e', ['4'] = 'a', ['5'] = 's',
	['6'] = 'b', ['7'] = 't', ['8'] = 'b', ['9'] = 'g', ['a'] = 'a', ['A'] = 'a',
	['b'] = 'b', ['B'] = 'b', ['c'] = 'c', ['C'] = 'c', ['d'] = 'd', ['D'] = 'd',
	['e'] = 'e', ['E'] = 'e', ['f'] = 'f', ['F'] = 'f', ['g'] = 'g', ['G'] = 'g',
	['h'] = 'h', ['H'] = 'h', ['i'] = 'i', ['I'] = 'i', ['j'] = 'i', ['J'] = 'i',
	['k'] = 'c', ['K'] = 'c', ['l'] = 'i', ['L'] = 'i', ['m'] = 'm', ['M'] = 'm',
	['n'] = 'n', ['N'] = 'n', ['o'] = 'o', ['O'] = 'o', ['p'] = 'p', ['P'] = 'p',
	['q'] = 'q', ['Q'] = 'q', ['r'] = 'r', ['R'] = 'r', ['s'] = 's', ['S'] = 's',
	['t'] = 't', ['T'] = 't', ['u'] = 'u', ['U'] = 'u', ['v'] = 'u', ['V'] = 'u',
	['w'] = 'w', ['W'] = 'w', ['x'] = 'x', ['X'] = 'x', ['y'] = 'i', ['Y'] = 'i',
	['z'] = 's', ['Z'] = 's',
};

static unsigned char skel_byte(unsigned char c)
{
	return skel_map[c];
}

/* The members without their bytes other than letters and digits, the
 * others folded (skel_byte()), duplicates dropped: what they leave in a
 * skeleton. */
static void lset_skel(struct lset *s)
{
	size_t out = 0;
	for (size_t i = 0; i < s->n; i++) {
		size_t m = 0;
		for (size_t j = 0; j < s->len[i]; j++) {
			unsigned char b = skel_byte((unsigned char)s->s[i][j]);
			if (b != 0)
				s->s[i][m++] = (char)b;
		}
		s->s[i][m] = '\0';
		bool dup = false;
		for (size_t k = 0; k < out && !dup; k++)
			dup = s->len[k] == m && memcmp(s->s[k], s->s[i], m) == 0;
		if (dup)
			continue;
		if (out != i)
			memcpy(s->s[out], s->s[i], m + 1);
		s->len[out++] = (unsigned char)m;
	}
	s->n = out;
}

/* Copies only the members in use: a whole struct lset is 8 KiB, and
 * loading the stock rules copies and clears them tens of thousands of
 * times. */
static void lset_copy(struct lset *dst, const struct lset *src)
{
	if (dst == src)
		return;
	dst->n = src->n;
	memcpy(dst->len, src->len, src->n);
	for (size_t i = 0; i < src->n; i++)
		memcpy(dst->s[i], src->s[i], (size_t)src->len[i] + 1);
}

static void linfo_clear(struct linfo *info)
{
	info->exact = false;
	info->exs.n = 0;
	info->req.n = 0;
	info->small.n = 0;
	info->takes = false;
}

/* The state of a concatenation being analysed. */
struct lseq {
	struct lset run;       /* what the current run of exact items can be */
	bool all_exact;        /* no cut so far */
	struct lset best;
	struct lset small;     /* the best of few members (linfo.small) */
	struct lparse *ps;     /* its candidates go to ps->conj too */
};

#define LS_SMALL 8   /* runs growing past this many members leave their
                        shorter form as the small candidate */

static void seq_small(struct lseq *q, const struct lset *s)
{
	if (s->n > 0 && lset_score(s) >= LITSCAN_MIN_LEN &&
	    lset_better(s, &q->small))
		lset_copy(&q->small, s);
}

static void seq_consider(struct lseq *q, const struct lset *s)
{
	struct lparse *ps = q->ps;
	bool usable = s->n > 0 && lset_score(s) >= LITSCAN_MIN_LEN;
	if (usable && ps->want_conj && ps->nconj < LS_CONJ_CAND) {
		/* a set every match of q holds */
		if (ps->nconj == ps->aconj &&
		    (ps->conj[ps->aconj] = malloc(sizeof (struct lset))) != NULL)
			ps->aconj++;
		if (ps->nconj < ps->aconj)
			lset_copy(ps->conj[ps->nconj++], s);
	}
	if (usable && lset_better(s, &q->best))
		lset_copy(&q->best, s);
	if (s->n <= LS_SMALL)
		seq_small(q, s);
}

#define LS_REP_SPREAD 2   /* x{n,m} with m - n up to this multiplies */
#define LS_REP_MAX 4      /* out, for m up to this */

static bool lset_product(struct lset *dst, const struct lset *a,
                         const struct lset *b);

/* s becomes the members of s repeated qmin to qmax times (qmin 0: and
 * ""); false (s unchanged) when they do not fit. The homoglyph rules
 * write each letter as "(?:[pP]){1,2}". */
static bool lset_powers(struct lset *s, long qmin, long qmax)
{
	struct lset *acc = malloc(sizeof *acc), *cur = malloc(sizeof *cur);
	bool ok = acc != NULL && cur != NULL;
	if (ok) {
		acc->n = 0;
		lset_one(cur, "", 0);
	}
	for (long k = 0; ok && k <= qmax; k++) {
		if (k >= qmin)
			ok = lset_union(acc, cur);
		if (ok && k < qmax)
			ok = lset_product(cur, cur, s);
	}
	if (ok)
		lset_copy(s, acc);
	free(acc);
	free(cur);
	return ok;
}

/* Products: every member of a followed by every member of b; false when
 * there would be too many or too long members. */
static bool lset_product(struct lset *dst, const struct lset *a,
                         const struct lset *b)
{
	if (a->n * b->n > LITSCAN_MAX_LITS)
		return false;
	struct lset *r = malloc(sizeof *r);
	if (r == NULL)
		return false;
	r->n = 0;
	bool ok = true;
	for (size_t i = 0; i < a->n && ok; i++) {
		for (size_t j = 0; j < b->n && ok; j++) {
			size_t n = (size_t)a->len[i] + b->len[j];
			if (n > LITSCAN_MAX_LEN) {
				ok = false;
				break;
			}
			char *d = r->s[r->n];   /* a->n * b->n fit */
			memcpy(d, a->s[i], a->len[i]);
			memcpy(d + a->len[i], b->s[j], b->len[j]);
			d[n] = '\0';
			bool dup = false;
			for (size_t k = 0; k < r->n && !dup; k++)
				dup = r->len[k] == n && memcmp(r->s[k], d, n) == 0;
			if (!dup)
				r->len[r->n++] = (unsigned char)n;
		}
	}
	if (ok)
		lset_copy(dst, r);
	free(r);
	return ok;
}

static void seq_cut(struct lseq *q)
{
	seq_consider(q, &q->run);
	q->run.n = 1;
	q->run.len[0] = 0;
	q->run.s[0][0] = '\0';
	q->all_exact = false;
}

/* The run continues with one of e; when the products do not fit, the run
 * so far is a candidate and e starts a new one. */
static void seq_append(struct lseq *q, const struct lset *e)
{
	if (q->run.n <= LS_SMALL && q->run.n * e->n > LS_SMALL)
		seq_small(q, &q->run);   /* every match holds one of these too */
	if (!lset_product(&q->run, &q->run, e)) {
		seq_cut(q);
		lset_copy(&q->run, e);
	}
}

/* A byte value that stands for itself as one byte: not NUL, and below
 * 0x80 in UTF mode (where higher values are multi-byte characters). */
static bool one_byte(const struct lparse *ps, long v)
{
	return v > 0 && v < (ps->utf ? 0x80 : 0x100);
}

#define LS_CLASS_MAX 4   /* a class of more bytes is not expanded */

/* One member of a class at pos (not ']'): a byte, an escaped byte or
 * \xhh; -1 for what stands for more than one byte (\w, [:alpha:], a
 * multi-byte character) or that we do not expand (\t), after consuming
 * it. Sets giveup for \Q, \E. */
static long class_member(struct lparse *ps)
{
	int c = lx_peek(&ps->lx, 0), e = lx_peek(&ps->lx, 1);
	if (c != '\\' && c != '[') {   /* most members: a byte, no call */
		ps->lx.pos++;
		return one_byte(ps, c) ? c : -1;
	}
	if (ps->skel && c == '\\' && e >= 0 && e < 0x80 &&
	    strchr("sWhv", e) != NULL) {
		ps->lx.pos += 2;
		ps->gap = true;   /* no letter or digit in it */
		return -2;
	}
	long v;
	struct litscan_bset s;
	if (lx_member(&ps->lx, 8, false, &v, &s) != LX_BYTE ||
	    (c == '\\' && e != 'x' && (e >= 0x80 || is_alnum(e))))
		v = -1;
	return one_byte(ps, v) ? v : -1;
}

/* Skip a character class starting at '['. When it stands for at most
 * LS_CLASS_MAX bytes (lower-cased: [Vv] is one), writes them to set and
 * their number to *nset; else *nset is 0. In skeleton mode only its
 * letters and digits count, and ps->gap tells whether it also matches
 * some other byte. */
static void skip_class(struct lparse *ps, unsigned char *set, size_t *nset)
{
	ps->lx.pos++; /* '[' */
	ps->gap = false;
	bool negated = false, complex = false;
	bool in[256] = { false };
	size_t n = 0;
	if (lx_peek(&ps->lx, 0) == '^') {
		negated = true;
		ps->lx.pos++;
	}
	bool first = true;
	for (;;) {
		if (lx_end(&ps->lx)) {
			ps->lx.giveup = true;
			return;
		}
		if (lx_peek(&ps->lx, 0) == ']' && !first)
			break;
		first = false;
		long lo = class_member(ps), hi = lo;
		if (ps->lx.giveup)
			return;
		if (lo == -2)
			continue;   /* \s, \W ... in skeleton mode */
		if (lx_peek(&ps->lx, 0) == '-' && lx_peek(&ps->lx, 1) != ']' && lx_peek(&ps->lx, 1) >= 0) {
			ps->lx.pos++;
			hi = class_member(ps);
			if (ps->lx.giveup)
				return;
		}
		if (lo < 0 || hi < lo || (hi - lo >= LS_CLASS_MAX && !ps->skel)) {
			complex = true;
			continue;
		}
		for (long v = lo; v <= hi && !complex; v++) {
			unsigned char b = lower((unsigned char)v);
			if (ps->skel && skel_byte(b) == 0) {
				ps->gap = true;
				continue;
			}
			if (ps->skel)
				b = skel_byte(b);
			if (in[b])
				continue;
			if (n == LS_CLASS_MAX)
				complex = true;
			else
				in[b] = true, set[n++] = b;
		}
	}
	ps->lx.pos++; /* ']' */
	*nset = negated || complex ? 0 : n;
	ps->gap = ps->gap && !negated && !complex;
}

enum atom_kind {
	A_NONE,   /* nothing (end, '|', ')') */
	A_EXACT,  /* exact string */
	A_OTHER,  /* consumes text we do not know; may carry a required set */
	A_ZERO,   /* zero-width: cuts, cannot be quantified usefully */
	A_NOP     /* nothing at all (option setting, comment) */
};

static void parse_alt(struct lparse *ps, struct lopts o, struct linfo *out);

/* Handle "(" ... ; the '(' is at pos. */
static enum atom_kind parse_group(struct lparse *ps, struct lopts *o,
                                  struct linfo *inner)
{
	struct lopts io = *o;
	bool fancy;
	enum lx_group k = lx_group(&ps->lx, &io, &fancy);
	bool zero = k == LXG_AHEAD || k == LXG_NOT_AHEAD || k == LXG_BEHIND ||
	            k == LXG_NOT_BEHIND || k == LXG_NON_ATOMIC;
	/* tails inside are tails of the whole: not those of a branch of a
	 * reset group, a negative or non-atomic lookaround, or of options
	 * of their own */
	bool descend = k != LXG_RESET && k != LXG_NOT_AHEAD &&
	               k != LXG_NOT_BEHIND && k != LXG_NON_ATOMIC &&
	               k != LXG_SCOPED;
	if (k == LXG_CALL)
		ps->notail = true;   /* backreference / subroutine call */
	if (ps->lx.giveup || k == LXG_OTHER)
		return A_NONE;
	if (k == LXG_CALL) {
		linfo_clear(inner);
		return A_OTHER;
	}
	if (k == LXG_SET) {
		ps->optset = true;
		*o = io;   /* rest of the enclosing group */
	}
	if (k == LXG_SET || k == LXG_COMMENT)
		return A_NOP;
	if (++ps->depth > LS_MAX_GROUP_DEPTH) {
		ps->lx.giveup = true;
		return A_NONE;
	}
	size_t t0 = ps->ntails, c0 = ps->nconj;
	parse_alt(ps, io, inner);
	if (!descend)
		ps->ntails = t0;
	if (zero)
		ps->nconj = c0;   /* none inside lookarounds, as for set 0 (a
		                     negative one requires nothing) */
	ps->depth--;
	if (ps->lx.giveup)
		return A_NONE;
	if (lx_peek(&ps->lx, 0) != ')') {
		ps->lx.giveup = true;
		return A_NONE;
	}
	ps->lx.pos++;
	if (zero)
		return A_ZERO;
	return inner->exact ? A_EXACT : A_OTHER;
}

/* Parse one escape at pos ('\\'); fills a one-byte exact string in
 * buf (length in *n) for literal escapes. */
static enum atom_kind parse_escape(struct lparse *ps, char *buf, size_t *n)
{
	size_t start = ps->lx.pos;
	int c = lx_peek(&ps->lx, 1);
	long v;
	struct litscan_bset s;
	enum lx_esc k = lx_escape(&ps->lx, 8, &v, &s);
	if (k == LXE_REF || (k == LXE_ZERO && c == 'G'))
		ps->notail = true;   /* depends on a group or the match's start */
	if (k == LXE_OTHER)
		ps->lx.giveup = true;   /* \Q..\E, \E, \u.., \o{..}, unknown letters */
	if (ps->lx.giveup)
		return A_NONE;
	switch (k) {
	case LXE_BYTE:
		if (c >= 0x80) {
			/* escaped non-ASCII: itself (UTF sequences follow as
			 * ordinary bytes); the caller reads the character */
			ps->lx.pos = start + 1;
			*n = 0;
			return A_NOP;
		}
		if (c == '0' || (c == 'x' && !one_byte(ps, v)))
			return A_OTHER;   /* a multi-byte character, or NUL */
		buf[0] = (char)lower((unsigned char)v);
		*n = 1;
		return A_EXACT;
	case LXE_ZERO:
		return A_ZERO;
	default:
		return A_OTHER;   /* \d, \R, \p{..}, \1, ... */
	}
}

/* Length of the UTF-8 sequence starting with lead byte c (1 when not a
 * valid lead byte: it is then taken alone). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc2)
		return 2;
	return 1;
}

/* Whether a literal byte sequence may be used under the options: with
 * Unicode case folding (UTF or UCP), caseless matching gives non-ASCII
 * characters case variants we do not fold, and 'k' and 's' also match
 * U+212A and U+017F. Otherwise PCRE2's built-in (C locale) tables give
 * bytes >= 0x80 no other case. */
static bool usable_bytes(const char *s, size_t n, const struct lopts *o,
                         bool unicode)
{
	if (!o->caseless || !unicode)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			return false;
		if (unicode && (c == 'k' || c == 's'))
			return false;
	}
	return true;
}

/* Whether a lookaround group starts at pos. No tail starts with one:
 * PCRE2 10.42's start-of-match optimisation misses matches of some such
 * patterns ("(?=ab)b?a" does not match "ab"). */
static bool lookaround_at(const struct lparse *ps)
{
	int a = lx_peek(&ps->lx, 1), b = lx_peek(&ps->lx, 2), c = lx_peek(&ps->lx, 3);
	return lx_peek(&ps->lx, 0) == '(' && a == '?' &&
	       (b == '=' || b == '!' || (b == '<' && (c == '=' || c == '!')));
}

/* litscan_tails(): a head not found yet, and one given up (its tail
 * starts with an item that may or may not take characters: PCRE2 then
 * tells the start of the whole tail otherwise than its head's). */
#define HEAD_OPEN SIZE_MAX
#define HEAD_NONE (SIZE_MAX - 1)

/* Open heads of this concatenation's tails (index first on; those of
 * groups inside are settled) become to (HEAD_NONE or pos); at its end
 * (last) every unsettled head ends there. */
static void settle_heads(struct lparse *ps, size_t first, size_t to,
                         bool last)
{
	for (size_t t = first; t < ps->ntails; t++)
		if (ps->heads[t] == HEAD_OPEN ||
		    (last && ps->heads[t] == HEAD_NONE))
			ps->heads[t] = to;
}

/* A concatenation, up to '|', ')' or the end. */
static void parse_seq(struct lparse *ps, struct lopts *o, struct linfo *out)
{
	struct lseq *qp = malloc(sizeof *qp);
	struct linfo *inner = malloc(sizeof *inner);
	struct lset *ex = malloc(sizeof *ex);
	if (qp == NULL || inner == NULL || ex == NULL) {
		free(qp);
		free(inner);
		free(ex);
		ps->lx.giveup = true;
		linfo_clear(out);
		return;
	}
	struct lseq *const q = qp;
	q->ps = ps;
	q->run.n = 1;   /* the empty string */
	q->run.len[0] = 0;
	q->run.s[0][0] = '\0';
	q->best.n = 0;
	q->small.n = 0;
	q->all_exact = true;
	size_t myfirst = ps->ntails;
	bool stopped = false;
	bool seq_takes = false;
	while (!ps->lx.giveup) {
		lx_skip_ignorable(&ps->lx, o);
		if (lx_end(&ps->lx))
			break;
		int c = lx_peek(&ps->lx, 0);
		if (c == '|' || c == ')')
			break;
		if (ps->tails != NULL && ps->tailoff == 0 &&
		    ps->ntails < ps->maxtails && !lookaround_at(ps)) {
			ps->ends[ps->ntails] = SIZE_MAX;   /* set at the end */
			ps->heads[ps->ntails] = HEAD_OPEN;
			ps->tails[ps->ntails++] = ps->lx.pos;
		}
		size_t t_inner = ps->ntails, c_inner = ps->nconj;
		char buf[8];
		size_t n = 0;
		enum atom_kind k;
		inner->req.n = 0;
		inner->small.n = 0;
		inner->exact = false;
		inner->takes = false;
		bool atom = c != '(';   /* not a group: it takes a character */
		switch (c) {
		case '(':
			k = parse_group(ps, o, inner);
			break;
		case '[': {
			unsigned char set[LS_CLASS_MAX];
			size_t nset = 0;
			skip_class(ps, set, &nset);
			/* a small class: one of its bytes, as an exact group */
			inner->exs.n = nset;
			for (size_t i = 0; i < nset; i++) {
				inner->exs.len[i] = 1;
				inner->exs.s[i][0] = (char)set[i];
				inner->exs.s[i][1] = '\0';
			}
			if (ps->gap)   /* skeleton: or nothing (fits: <= 4 bytes) */
				(void)lset_add_empty(&inner->exs);
			k = inner->exs.n > 0 ? A_EXACT : A_OTHER;
			break;
		}
		case '\\':
			k = parse_escape(ps, buf, &n);
			if (ps->skel && k == A_OTHER &&
			    strchr("sWhvR", ps->lx.p[ps->lx.pos - 1]) != NULL) {
				lset_one(&inner->exs, "", 0);   /* all dropped */
				k = A_EXACT;
			}
			if (k != A_NOP)
				break;
			/* escaped non-ASCII: read it as a literal below */
			c = lx_peek(&ps->lx, 0);
			/* fall through */
		default:
			if (c == '.') {
				ps->lx.pos++;
				k = A_OTHER;
			} else if (c == '^' || c == '$') {
				ps->lx.pos++;
				k = A_ZERO;
			} else if (c == '*' || c == '+' || c == '?') {
				ps->lx.giveup = true;   /* quantifier without atom */
				k = A_NONE;
			} else {
				n = ps->utf ? utf8_len((unsigned char)c) : 1;
				if (ps->lx.pos + n > ps->lx.len)
					n = 1;
				for (size_t i = 0; i < n; i++)
					buf[i] = (char)lower(ps->lx.p[ps->lx.pos + i]);
				ps->lx.pos += n;
				k = A_EXACT;
			}
			break;
		}
		if (ps->lx.giveup)
			break;
		if (k == A_EXACT && !ps->nolits) {
			if (n > 0)
				lset_one(ex, buf, n);
			else
				lset_copy(ex, &inner->exs);
			if (ps->skel)
				lset_skel(ex);
			for (size_t i = 0; i < ex->n; i++)
				if (!usable_bytes(ex->s[i], ex->len[i], o, ps->unicode))
					k = A_OTHER;   /* an unknown character: cuts */
		}
		/* Is it quantified? */
		lx_skip_ignorable(&ps->lx, o);
		long qmin = 1, qmax = 1;
		bool quant = lx_quant(&ps->lx, &qmin, &qmax);
		if (ps->lx.giveup)
			break;
		if (quant) {
			/* a second quantifier ("a{2}{3}"): do not guess */
			size_t save = ps->lx.pos;
			long m1, m2;
			lx_skip_ignorable(&ps->lx, o);
			if (lx_quant(&ps->lx, &m1, &m2))
				ps->lx.giveup = true;
			ps->lx.pos = save;
			if (ps->lx.giveup)
				break;
		}
		if (quant && (k == A_ZERO || k == A_NOP)) {
			ps->lx.giveup = true;   /* unusual: do not guess */
			break;
		}
		if (ps->skel && (k == A_ZERO ||
		                 (k == A_EXACT && ex->n == 1 && ex->len[0] == 0)))
			k = A_NOP;   /* an assertion, or only dropped bytes */
		if (qmin == 0) {
			ps->ntails = t_inner;   /* an optional group: none inside */
			ps->nconj = c_inner;
		}
		if (k == A_EXACT || k == A_OTHER) {
			bool takes = qmin >= 1 && (atom || inner->takes);
			settle_heads(ps, myfirst, takes ? ps->lx.pos : HEAD_NONE, false);
			seq_takes |= takes;
		}
		if (ps->optset && !stopped) {
			stopped = true;   /* later items lack the option */
			ps->tailoff++;
		}
		ps->optset = false;
		switch (ps->nolits ? A_NOP : k) {
		case A_NOP:
			break;
		case A_ZERO:
			seq_cut(q);
			break;
		case A_OTHER:
			seq_cut(q);
			if (qmin >= 1) {
				seq_consider(q, &inner->req);
				seq_small(q, &inner->small);
			}
			break;
		case A_EXACT:
			if (qmin == 0 && qmax == 1) {
				/* x?: the run goes on with x or without */
				if (!lset_add_empty(ex))
					seq_cut(q);
				else
					seq_append(q, ex);
			} else if (qmax > qmin && qmax - qmin <= LS_REP_SPREAD &&
			           qmax <= LS_REP_MAX && lset_powers(ex, qmin, qmax)) {
				seq_append(q, ex);   /* "p{1,2}": p or pp */
			} else if (qmin == 0) {
				seq_cut(q);
			} else if (qmin == qmax && qmin <= LITSCAN_MAX_LEN) {
				for (long i = 0; i < qmin; i++)
					seq_append(q, ex);
			} else {
				/* x{n,m}: a match starts and ends with one of x */
				seq_append(q, ex);
				seq_cut(q);
				lset_copy(&q->run, ex);
			}
			break;
		default:
			break;
		}
	}
	free(inner);
	free(ex);
	if (stopped)
		ps->tailoff--;
	settle_heads(ps, myfirst, ps->lx.pos, true);
	for (size_t t = myfirst; t < ps->ntails; t++)
		if (ps->ends[t] == SIZE_MAX)
			ps->ends[t] = ps->lx.pos;
	linfo_clear(out);
	out->takes = seq_takes;
	if (!ps->lx.giveup && !ps->nolits) {
		out->exact = q->all_exact;
		if (out->exact)
			lset_copy(&out->exs, &q->run);
		seq_cut(q);
		lset_copy(&out->req, &q->best);
		lset_copy(&out->small, &q->small);
	}
	free(qp);
}

/* Alternation: branches separated by '|'. */
static void parse_alt(struct lparse *ps, struct lopts o, struct linfo *out)
{
	struct linfo *br = malloc(sizeof *br);
	if (br == NULL) {
		ps->lx.giveup = true;
		return;
	}
	size_t t0 = ps->ntails, c0 = ps->nconj;
	parse_seq(ps, &o, out);
	bool single = true, all_req = out->req.n > 0, all_exact = out->exact;
	bool all_small = out->small.n > 0;
	while (!ps->lx.giveup && lx_peek(&ps->lx, 0) == '|') {
		ps->lx.pos++;
		if (ps->depth == 0)
			ps->notail = true;
		single = false;
		parse_seq(ps, &o, br);
		out->takes &= br->takes;
		if (ps->nolits)
			continue;
		if (br->req.n == 0 || !lset_union(&out->req, &br->req))
			all_req = false;
		if (br->small.n == 0 || !lset_union(&out->small, &br->small))
			all_small = false;
		if (!br->exact || !lset_union(&out->exs, &br->exs))
			all_exact = false;
	}
	free(br);
	if (!single) {
		ps->ntails = t0;   /* no branch is required */
		ps->nconj = c0;
		out->exact = all_exact;
		if (!all_small)
			out->small.n = 0;
		if (!all_req)
			lset_copy(&out->req, &out->small);
	}
}

/* Drop literals that contain another member: the shorter one suffices. */
static void lset_minimise(struct lset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		bool redundant = false;
		for (size_t j = 0; j < s->n && !redundant; j++) {
			if (i == j || s->len[j] == 0 || s->len[j] > s->len[i])
				continue;
			if (s->len[j] == s->len[i] && j > i)
				continue;
			redundant = memmem(s->s[i], s->len[i], s->s[j], s->len[j]) != NULL;
		}
		if (redundant) {
			s->s[i][0] = '\0';
			s->len[i] = 0;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->len[i] == 0)
			continue;
		if (k != i) {
			s->len[k] = s->len[i];
			memcpy(s->s[k], s->s[i], (size_t)s->len[i] + 1);
		}
		k++;
	}
	s->n = k;
}

/* Whether a text holding a member of a holds one of b: every member
 * of a contains one of b. */
static bool lset_implies(const struct lset *a, const struct lset *b)
{
	for (size_t i = 0; i < a->n; i++) {
		bool in = false;
		for (size_t j = 0; j < b->n && !in; j++)
			in = b->len[j] <= a->len[i] &&
			     memmem(a->s[i], a->len[i], b->s[j], b->len[j]) != NULL;
		if (!in)
			return false;
	}
	return true;
}

/* litscan_extract_conj(): where its further sets go. */
struct conjout {
	size_t *counts;        /* per set: its literals */
	size_t max_sets;
	size_t nsets;
};

/* The best candidates (ps->conj, minimised in place) that set 0 (first,
 * lits[0..used)) and those already taken do not imply, after it in
 * lits while they fit max_lits. */
static void pick_conj(struct lset *const *cand, size_t ncand,
                      const struct lset *first, char lits[][64],
                      size_t used, size_t max_lits, struct conjout *co)
{
	bool taken[LS_CONJ_CAND] = { false };
	size_t pick[LS_CONJ_CAND];
	size_t npick = 0;
	for (size_t k = 0; k < ncand; k++)
		lset_minimise(cand[k]);
	while (co->nsets < co->max_sets) {
		size_t b = SIZE_MAX;
		for (size_t k = 0; k < ncand; k++) {
			if (taken[k] || cand[k]->n == 0 ||
			    lset_score(cand[k]) < LITSCAN_MIN_LEN ||
			    used + cand[k]->n > max_lits ||
			    lset_implies(first, cand[k]))
				continue;
			bool implied = false;
			for (size_t p = 0; p < npick && !implied; p++)
				implied = lset_implies(cand[pick[p]], cand[k]);
			if (!implied && (b == SIZE_MAX || lset_better(cand[k], cand[b])))
				b = k;
		}
		if (b == SIZE_MAX)
			break;
		taken[b] = true;
		pick[npick++] = b;
		for (size_t i = 0; i < cand[b]->n; i++)
			memcpy(lits[used + i], cand[b]->s[i], (size_t)cand[b]->len[i] + 1);
		used += cand[b]->n;
		co->counts[co->nsets++] = cand[b]->n;
	}
}

static size_t extract(const char *pattern, size_t len,
                      uint32_t pcre2_options, char lits[][64],
                      size_t max_lits, bool skel, struct conjout *co)
{
	if (co != NULL)
		co->nsets = 0;
	if (pattern == NULL || max_lits == 0)
		return 0;
	if (skel && (pcre2_options & (PCRE2_UTF | PCRE2_UCP | PCRE2_LITERAL)))
		return 0;   /* \w and \W as PCRE2's tables say: ASCII */
	if (pcre2_options & PCRE2_ALLOW_EMPTY_CLASS)
		return 0;   /* changes how "[]" parses */
	struct lopts o = {
		.caseless = (pcre2_options & PCRE2_CASELESS) != 0,
		.extended = (pcre2_options & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE)) != 0,
		.extended_more = (pcre2_options & PCRE2_EXTENDED_MORE) != 0,
	};
	bool unicode = (pcre2_options & (PCRE2_UTF | PCRE2_UCP)) != 0;
	struct linfo *top = malloc(sizeof *top);
	if (top == NULL)
		return 0;
	linfo_clear(top);
	struct lparse ps = {
		.lx = { .p = (const unsigned char *)pattern, .len = len },
		.utf = (pcre2_options & PCRE2_UTF) != 0,
		.unicode = unicode, .skel = skel, .want_conj = co != NULL,
	};
	if (pcre2_options & PCRE2_LITERAL) {
		char buf[LITSCAN_MAX_LEN + 1];
		size_t n = len < LITSCAN_MAX_LEN ? len : LITSCAN_MAX_LEN;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)lower((unsigned char)pattern[i]);
		/* cut at the first byte we may not use */
		size_t u = 0;
		while (u < n && usable_bytes(buf + u, 1, &o, unicode))
			u++;
		if (u >= LITSCAN_MIN_LEN)
			lset_one(&top->req, buf, u);
	} else {
		parse_alt(&ps, o, top);
		if (ps.lx.giveup || !lx_end(&ps.lx))
			top->req.n = 0;   /* unsure, or an unbalanced ')' */
	}
	lset_minimise(&top->req);
	size_t n = top->req.n;
	if (n > max_lits || n > LITSCAN_MAX_LITS)
		n = 0;   /* all branches are needed: fewer would be unsound */
	for (size_t i = 0; i < n; i++)
		memcpy(lits[i], top->req.s[i], (size_t)top->req.len[i] + 1);
	if (co != NULL && n > 0) {
		co->counts[0] = n;
		co->nsets = 1;
		pick_conj(ps.conj, ps.nconj, &top->req, lits, n, max_lits, co);
	}
	for (size_t k = 0; k < ps.aconj; k++)
		free(ps.conj[k]);
	free(top);
	return n;
}

size_t litscan_extract(const char *pattern, size_t len,
                       uint32_t pcre2_options,
                       char lits[][64], size_t max_lits)
{
	return extract(pattern, len, pcre2_options, lits, max_lits, false, NULL);
}

size_t litscan_extract_conj(const char *pattern, size_t len,
                            uint32_t pcre2_options, char lits[][64],
                            size_t max_lits, size_t *counts, size_t max_sets)
{
	struct conjout co = { .counts = counts, .max_sets = max_sets };
	if (max_sets == 0)
		return 0;
	(void)extract(pattern, len, pcre2_options, lits, max_lits, false, &co);
	return co.nsets;
}

size_t litscan_extract_skel(const char *pattern, size_t len,
                            uint32_t pcre2_options,
                            char lits[][64], size_t max_lits)
{
	return extract(pattern, len, pcre2_options, lits, max_lits, true, NULL);
}

size_t litscan_skeleton(const char *text, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {   /* branch-free */
		unsigned char b = skel_map[(unsigned char)text[i]];
		out[n] = (char)b;
		n += b != 0;
	}
	return n;
}

size_t litscan_tails(const char *pattern, size_t len, uint32_t pcre2_options,
                     size_t *offs, size_t *ends, size_t *heads, size_t max)
{
	if (pattern == NULL || max == 0 ||
	    (pcre2_options & (PCRE2_ALLOW_EMPTY_CLASS | PCRE2_LITERAL |
	                      PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	                      PCRE2_FIRSTLINE)))
		return 0;
	struct lopts o = {
		.caseless = (pcre2_options & PCRE2_CASELESS) != 0,
		.extended = (pcre2_options & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE)) != 0,
		.extended_more = (pcre2_options & PCRE2_EXTENDED_MORE) != 0,
	};
	struct lparse ps = {
		.lx = { .p = (const unsigned char *)pattern, .len = len },
		.utf = (pcre2_options & PCRE2_UTF) != 0,
		.tails = offs, .ends = ends, .heads = heads, .maxtails = max,
		.nolits = true,
	};
	struct linfo *top = malloc(sizeof *top);
	if (top == NULL)
		return 0;
	parse_alt(&ps, o, top);
	free(top);
	if (ps.lx.giveup || ps.notail || !lx_end(&ps.lx))
		return 0;
	/* the first item starts the whole pattern: not a tail */
	if (ps.ntails > 0) {
		memmove(offs, offs + 1, (ps.ntails - 1) * sizeof *offs);
		memmove(ends, ends + 1, (ps.ntails - 1) * sizeof *ends);
		memmove(heads, heads + 1, (ps.ntails - 1) * sizeof *heads);
		ps.ntails--;
	}
	return ps.ntails;
}

/* ---- alternations to split ---- */

struct sgroup {
	size_t open, body, close;   /* '(' , content start, ')' */
	size_t parent, branches;
	bool ok;                    /* plain group, not quantified */
};

struct sgroups {
	struct sgroup *g;
	size_t n, cap;
	size_t *bars, *barg;        /* '|' offsets and their group */
	size_t nbars, capbars;
};

static bool sg_push(struct sgroups *v, struct sgroup g)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		struct sgroup *p = realloc(v->g, cap * sizeof *p);
		if (p == NULL)
			return false;
		v->g = p;
		v->cap = cap;
	}
	v->g[v->n++] = g;
	return true;
}

static bool sg_bar(struct sgroups *v, size_t pos, size_t group)
{
	if (v->nbars == v->capbars) {
		size_t cap = v->capbars ? 2 * v->capbars : 64;
		size_t *a = realloc(v->bars, cap * sizeof *a);
		if (a != NULL)
			v->bars = a;
		size_t *b = a ? realloc(v->barg, cap * sizeof *b) : NULL;
		if (b == NULL)
			return false;
		v->barg = b;
		v->capbars = cap;
	}
	v->bars[v->nbars] = pos;
	v->barg[v->nbars++] = group;
	return true;
}

/* Kind of the group opening at p[i] == '(': 1 plain (capturing,
 * non-capturing, named, scoped options), 0 another kind (lookaround,
 * atomic, ...), -1 something that forbids splitting (a reference, an
 * unscoped option setting, a verb). *body is where its content starts. */
static int group_kind(const unsigned char *p, size_t len, size_t i,
                      size_t *body)
{
	struct lexer lx = { .p = p, .len = len, .pos = i };
	struct lopts o = { 0 };
	bool fancy;
	enum lx_group k = lx_group(&lx, &o, &fancy);
	*body = lx.pos;
	switch (k) {
	case LXG_CAPTURE: case LXG_PLAIN: case LXG_NAMED: case LXG_SCOPED:
		return lx.giveup ? -1 : 1;
	case LXG_OTHER: case LXG_CALL: case LXG_SET: case LXG_NON_ATOMIC:
		return -1;   /* verbs, references, calls, "(?i)", ... */
	default:
		return 0;    /* lookarounds, atomic and reset groups, comments */
	}
}

/* Lex the pattern into groups (group 0: the whole pattern) and '|'s.
 * False when splitting is not safe or the pattern is not understood. */
static bool lex_groups(const unsigned char *p, size_t len,
                       struct sgroups *v)
{
	size_t stack[LS_MAX_GROUP_DEPTH + 1], depth = 0;
	if (!sg_push(v, (struct sgroup){ .body = 0, .close = len, .ok = true }))
		return false;
	stack[0] = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c == '\\') {
			int e = i + 1 < len ? p[i + 1] : -1;
			if (e < 0 || e == 'Q' || e == 'g' || e == 'k' || e == 'c' ||
			    (e >= '1' && e <= '9'))
				return false;   /* backreference, \Q..\E, \cx */
			i++;
		} else if (c == '[') {
			struct lexer lx = { .p = p, .len = len, .pos = i };
			lx_class_end(&lx);
			if (lx.giveup)
				return false;   /* unclosed, or \Q..\E inside */
			i = lx.pos - 1;
		} else if (c == '(') {
			size_t body;
			int kind = group_kind(p, len, i, &body);
			if (kind < 0 || depth == LS_MAX_GROUP_DEPTH)
				return false;
			if (i + 2 < len && p[i + 1] == '?' && p[i + 2] == '#') {
				while (i < len && p[i] != ')')
					i++;
				continue;   /* a comment */
			}
			if (!sg_push(v, (struct sgroup){ .open = i, .body = body,
			                                 .parent = stack[depth],
			                                 .ok = kind == 1 }))
				return false;
			stack[++depth] = v->n - 1;
			i = body - 1;
		} else if (c == ')') {
			if (depth == 0)
				return false;
			struct sgroup *g = &v->g[stack[depth--]];
			g->close = i;
			int q = i + 1 < len ? p[i + 1] : -1;
			if (q == '?' || q == '*' || q == '+' || q == '{')
				g->ok = false;
		} else if (c == '|') {
			v->g[stack[depth]].branches++;
			if (!sg_bar(v, i, stack[depth]))
				return false;
		}
	}
	return depth == 0;
}

size_t litscan_alternation(const char *pattern, size_t len,
                           uint32_t pcre2_options, size_t *from, size_t *to,
                           size_t *branches, size_t max)
{
	if (pattern == NULL || max < 2 ||
	    (pcre2_options & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE |
	                      PCRE2_LITERAL | PCRE2_ALLOW_EMPTY_CLASS)))
		return 0;
	struct sgroups v = { 0 };
	size_t n = 0;
	if (lex_groups((const unsigned char *)pattern, len, &v)) {
		size_t best = SIZE_MAX;
		for (size_t k = 0; k < v.n; k++) {
			bool ok = v.g[k].branches > 0;
			for (size_t a = k; ok && a != 0; a = v.g[a].parent)
				ok = v.g[a].ok;
			if (ok && (best == SIZE_MAX || v.g[k].close - v.g[k].body >
			                               v.g[best].close - v.g[best].body))
				best = k;
		}
		if (best != SIZE_MAX && v.g[best].branches + 1 <= max) {
			*from = v.g[best].body;
			*to = v.g[best].close;
			branches[n++] = *from;
			for (size_t b = 0; b < v.nbars; b++)
				if (v.barg[b] == best)
					branches[n++] = v.bars[b] + 1;
		}
	}
	free(v.g);
	free(v.bars);
	free(v.barg);
	return n;
}

bool litscan_repeat(const char *pattern, size_t len, uint32_t pcre2_options,
                    size_t *body, size_t *body_len, long *min, long *max)
{
	if (pattern == NULL || (pcre2_options & (PCRE2_EXTENDED |
	                                         PCRE2_EXTENDED_MORE |
	                                         PCRE2_LITERAL |
	                                         PCRE2_ALLOW_EMPTY_CLASS)))
		return false;
	struct sgroups v = { 0 };
	bool ok = lex_groups((const unsigned char *)pattern, len, &v) &&
	          v.n > 1 && v.g[1].open == 0 && v.g[1].body == 3 &&
	          pattern[1] == '?' && pattern[2] == ':';
	if (ok) {
		struct lexer lx = { .p = (const unsigned char *)pattern,
		                    .len = len, .pos = v.g[1].close + 1 };
		ok = lx_quant(&lx, min, max) && !lx.giveup && lx.pos == len &&
		     pattern[len - 1] == '}' && *min >= 1;
		*body = 3;
		*body_len = v.g[1].close - 3;
	}
	free(v.g);
	free(v.bars);
	free(v.barg);
	return ok;
}

/* Whether a repeated body only has groups whose consumed text holds the
 * literals extraction takes from them: plain, atomic, negative
 * lookaround and option groups; no verbs, references or calls. Judged on
 * the text (a '(' in a class only makes it refuse). */
static bool body_contained(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\\' && i + 1 < n) {
			char e = b[i + 1];
			if (e == 'g' || e == 'k' || (e >= '1' && e <= '9'))
				return false;
			i++;   /* an escaped byte opens no group */
			continue;
		}
		if (b[i] != '(' || i + 1 >= n)
			continue;
		if (b[i + 1] == '*')
			return false;
		if (b[i + 1] != '?')
			continue;
		const char *q = b + i + 2, *end = b + n;
		if (q < end && (*q == ':' || *q == '>' || *q == '!'))
			continue;
		if (q + 1 < end && q[0] == '<' && q[1] == '!')
			continue;
		while (q < end && strchr("imnsxJU^-", *q) != NULL && *q != '\0')
			q++;
		if (q == b + i + 2 || q >= end || (*q != ':' && *q != ')'))
			return false;
	}
	return true;
}

size_t litscan_repeat_lits(const char *pattern, size_t len,
                           uint32_t pcre2_options, char lits[][64],
                           size_t max_lits, long *min)
{
	size_t body, blen;
	long max;
	if (!litscan_repeat(pattern, len, pcre2_options, &body, &blen, min,
	                    &max) || *min < 2 ||
	    !body_contained(pattern + body, blen))
		return 0;
	return litscan_extract(pattern + body, blen, pcre2_options, lits,
	                       max_lits);
}

/* ---- leading optional items ----
 *
 * Whether a pattern P matches somewhere in a subject does not change when
 * an optional item it starts with is dropped: a match that gave the item
 * some text can start after it instead (lookbehinds and \b see the whole
 * subject either way), and one that gave it nothing is a match of the
 * rest. The same holds inside a plain group P starts with (in each of its
 * branches), and inside the first turn of a group repeated {m,n}, written
 * out as "stripped copy" + "group{m-1,n-1}". Possessive quantifiers and
 * atomic or lookaround groups commit to what they matched: never looked
 * into. A pattern with optional "your complete " before its field words
 * is tried at every byte: without it, far less is tried per start. */

struct strip {
	const unsigned char *p;
	size_t len;
	const struct sgroups *v;
	struct strbuf out;
	bool calls;          /* turns after the first as calls (see below) */
	bool giveup, changed;
};

static void st_put(struct strip *s, const void *b, size_t n)
{
	if (s->giveup)
		return;
	strbuf_put(&s->out, b, n);
	if (s->out.oom || s->out.len > 4 * s->len + 256)
		s->giveup = true;   /* (nested repeats: enough) */
}

/* Copy p[from..to) with its capturing groups made non-capturing: the
 * copy is only asked whether it matches, and may hold a group twice. */
static void st_copy(struct strip *s, size_t from, size_t to)
{
	for (size_t k = 1; k < s->v->n && from < to; k++) {
		size_t o = s->v->g[k].open;
		if (o < from || o >= to || s->p[o + 1] == '?')
			continue;   /* not a plain capturing "(" */
		st_put(s, s->p + from, o + 1 - from);
		st_put(s, "?:", 2);
		from = o + 1;
	}
	st_put(s, s->p + from, to - from);
}

/* The turns after the first of group g repeated {min,max}: a copy of the
 * group repeated, or with calls, the group once as the only capturing
 * group then calls of it ("(?1)"), which PCRE2 compiles to one copy. */
static void st_turns(struct strip *s, const struct sgroup *g, long min,
                     long max)
{
	char q[64];
	if (!s->calls) {
		int qn = max < 0 ? snprintf(q, sizeof q, "{%ld,}", min - 1) :
		         snprintf(q, sizeof q, "{%ld,%ld}", min - 1, max - 1);
		st_copy(s, g->open, g->close + 1);
		st_put(s, q, (size_t)qn);
		return;
	}
	s->calls = false;   /* one group 1 */
	long from = min > 2 ? min - 2 : 0;
	int qn = max < 0 ? snprintf(q, sizeof q, "(?1){%ld,}", from) :
	         snprintf(q, sizeof q, "(?1){%ld,%ld}", from, max - 2);
	if (min < 2)
		st_put(s, "(?:", 3);   /* none at all, or the group and calls */
	st_put(s, "(", 1);
	st_copy(s, g->body, g->close);
	st_put(s, ")", 1);
	st_put(s, q, (size_t)qn);
	if (min < 2)
		st_put(s, ")?", 2);
}

enum item { I_OTHER, I_ZERO, I_PLAIN, I_ATOMIC };

/* The atom at p[i] (inside [i, end)): its kind, where it ends, and for a
 * group its index in s->v. */
static enum item st_atom(struct strip *s, size_t i, size_t end,
                         size_t *aend, size_t *gi)
{
	const unsigned char *p = s->p;
	struct lparse ps = { .lx = { .p = p, .len = end, .pos = i } };
	if (p[i] == '(') {
		for (size_t k = 1; k < s->v->n; k++) {
			if (s->v->g[k].open != i)
				continue;
			*gi = k;
			*aend = s->v->g[k].close + 1;
			if (s->v->g[k].ok)   /* set from group_kind() */
				return I_PLAIN;
			return p[i + 2] == '>' ? I_ATOMIC : I_ZERO;
		}
		s->giveup = true;   /* a comment: not expected here */
		return I_ZERO;
	}
	enum item it = I_OTHER;
	if (p[i] == '[') {
		unsigned char set[LS_CLASS_MAX];
		size_t nset;
		skip_class(&ps, set, &nset);
	} else if (p[i] == '\\') {
		char buf[8];
		size_t n;
		enum atom_kind k = parse_escape(&ps, buf, &n);
		if (k == A_NOP)
			ps.lx.pos++;   /* an escaped byte >= 0x80 */
		else if (k == A_ZERO)
			it = I_ZERO;
	} else {
		if (p[i] == '^' || p[i] == '$')
			it = I_ZERO;
		ps.lx.pos++;
	}
	if (ps.lx.giveup || ps.notail)   /* notail: \G or a reference */
		s->giveup = true;
	*aend = ps.lx.pos;
	return it;
}

static void st_alt(struct strip *s, size_t g);

/* The concatenation p[i..end), without its leading optional items. */
static void st_seq(struct strip *s, size_t i, size_t end)
{
	while (i < end && !s->giveup) {
		size_t aend = i, gi = 0;
		enum item it = st_atom(s, i, end, &aend, &gi);
		struct lexer lx = { .p = s->p, .len = end, .pos = aend };
		long min = 1, max = 1;
		bool quant = lx_quant(&lx, &min, &max);
		size_t qend = lx.pos;
		long m2, x2;
		if (quant && lx_quant(&lx, &m2, &x2))
			lx.giveup = true;   /* "a?{3}": do not guess */
		bool possessive = quant && s->p[qend - 1] == '+' &&
		                  !(s->p[aend] == '+' && qend == aend + 1);
		if (lx.giveup || s->giveup) {
			s->giveup = true;
			return;
		}
		if (min == 0 && !possessive && it != I_ZERO) {
			s->changed = true;   /* drop it */
			i = qend;
			continue;
		}
		if (it == I_PLAIN && !possessive) {
			const struct sgroup *g = &s->v->g[gi];
			/* The outermost repeat takes the calls: its turns
			 * hold the inner ones. */
			bool calls = s->calls && max != 1;
			s->calls = s->calls && !calls;
			st_copy(s, g->open, g->body);
			st_alt(s, gi);
			st_put(s, ")", 1);
			s->calls = s->calls || calls;
			if (max != 1)
				st_turns(s, g, min, max);
			i = qend;
		}
		st_copy(s, i, end);
		return;
	}
}

/* Group g's branches, each stripped. */
static void st_alt(struct strip *s, size_t g)
{
	size_t from = s->v->g[g].body;
	for (size_t b = 0; b < s->v->nbars && !s->giveup; b++) {
		if (s->v->barg[b] != g)
			continue;
		st_seq(s, from, s->v->bars[b]);
		st_put(s, "|", 1);
		from = s->v->bars[b] + 1;
	}
	st_seq(s, from, s->v->g[g].close);
}

static bool has_named_group(const unsigned char *p, const struct sgroups *v)
{
	for (size_t k = 1; k < v->n; k++) {
		size_t o = v->g[k].open;
		if (v->g[k].ok && v->g[k].body > o + 3 && p[o + 1] == '?' &&
		    (p[o + 2] == '<' || p[o + 2] == '\'' || p[o + 2] == 'P'))
			return true;
	}
	return false;
}

char *litscan_strip_lead(const char *pattern, size_t len,
                         uint32_t pcre2_options, bool calls, size_t *out_len)
{
	if (pattern == NULL || (pcre2_options & (PCRE2_EXTENDED |
	                                         PCRE2_EXTENDED_MORE |
	                                         PCRE2_LITERAL | PCRE2_UTF |
	                                         PCRE2_ALLOW_EMPTY_CLASS)))
		return NULL;
	const unsigned char *p = (const unsigned char *)pattern;
	for (size_t i = 0; i + 1 < len; i++)   /* skips escaped bytes */
		if (p[i] == '\\' && p[++i] == 'G')
			return NULL;   /* depends on where the search starts */
	struct sgroups v = { 0 };
	struct strip s = { .p = p, .len = len, .v = &v, .calls = calls };
	bool ok = lex_groups(p, len, &v);
	if (ok) {
		/* lex_groups() marks quantified groups not ok: kind again */
		for (size_t k = 1; k < v.n; k++) {
			size_t body;
			v.g[k].ok = group_kind(p, len, v.g[k].open, &body) == 1;
		}
		ok = !has_named_group(p, &v);
	}
	if (ok)
		st_alt(&s, 0);
	free(v.g);
	free(v.bars);
	free(v.barg);
	if (!ok || s.giveup || !s.changed || s.out.p == NULL) {
		free(s.out.p);
		return NULL;
	}
	*out_len = s.out.len;
	return s.out.p;
}

/* ---- ASCII projection ----
 *
 * On a text of ASCII bytes only, an item that can only match a byte >=
 * 0x80 never matches: removing it (with its branch, or alone when it is
 * optional) or removing such bytes from a class changes no match. The
 * homoglyph rules spell every letter as an alternation of the ASCII
 * letter and dozens of UTF-8 lookalikes; their projection is an order of
 * magnitude cheaper to run. */

enum alive { A_LIVE, A_DEAD, A_EMPTY };   /* A_EMPTY: always matches "" */

struct aproj {
	struct lexer lx;
	uint32_t opts;
	bool no_amp;         /* '&' is dead too */
	struct strbuf out;   /* rewound by setting out.len */
	bool changed;
};

static void ap_put(struct aproj *a, const void *s, size_t n)
{
	if (a->lx.giveup)
		return;
	strbuf_put(&a->out, s, n);
	a->lx.giveup = a->out.oom;
}

static enum alive ap_alt(struct aproj *a);

/* Whether p[0..n) can name a byte >= 0x80: raw, or \x, \0-\3, \o.
 * Without one, nothing in it is dropped (classes stay as written), so
 * the projection need not ask PCRE2 about it (load time). */
static bool names_high(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80 || (p[i] == '\\' && i + 1 < n &&
		                     strchr("x0123o", p[++i]) != NULL))
			return true;
	return false;
}

/* The bytes a positive class p[from..to) matches: decoded here where
 * the options leave it as PCRE2's built-in tables have it, else asked
 * of PCRE2 itself (escapes, ranges, POSIX names and caseless folding as
 * it sees them). Returns the number of bytes >= 0x80 among them, -1 on
 * failure. */
static int class_bytes(struct aproj *a, size_t from, size_t to,
                       struct litscan_bset *set)
{
	struct lexer lx = { .p = a->lx.p, .len = to, .pos = from };
	int ec, high = 0;
	if (!(a->opts & ~LX_PLAIN_OPTS) &&
	    lx_class(&lx, (a->opts & PCRE2_CASELESS) != 0, set) && lx.pos == to) {
		for (unsigned b = 0x80; b < 0x100; b++)
			high += bs_has(set, b);
		return high;
	}
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile(a->lx.p + from, to - from,
	                              a->opts | PCRE2_ANCHORED, &ec, &eo, NULL);
	pcre2_match_data *md = c ? pcre2_match_data_create(1, NULL) : NULL;
	if (md == NULL) {
		pcre2_code_free(c);
		return -1;
	}
	*set = (struct litscan_bset){ { 0 } };
	for (unsigned b = 0; b < 256; b++) {
		unsigned char s = (unsigned char)b;
		if (pcre2_match(c, &s, 1, 0, 0, md, NULL) >= 0)
			bs_add(set, b);
		high += b >= 0x80 && bs_has(set, b);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(c);
	return high;
}

/* Whether class body p[0..n) is only "\xHH" items and ranges between
 * them, all >= 0x80 (most classes of the homoglyph rules): dead on ASCII
 * without asking PCRE2, which costs 256 matches per class. */
static bool only_high_hex(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i + 4 <= n && p[i] == '\\' && p[i + 1] == 'x' &&
	       hexval(p[i + 2]) >= 8 && hexval(p[i + 3]) >= 0) {
		i += 4;
		if (i + 5 <= n && p[i] == '-')
			i++;   /* a range up from a byte >= 0x80 */
	}
	return n > 0 && i == n;
}

static enum alive ap_class(struct aproj *a)
{
	size_t from = a->lx.pos;
	bool neg = lx_peek(&a->lx, 1) == '^';
	lx_class_end(&a->lx);
	if (a->lx.giveup)
		return A_LIVE;
	if (!neg && only_high_hex(a->lx.p + from + 1, a->lx.pos - from - 2)) {
		a->changed = true;
		return A_DEAD;
	}
	struct litscan_bset set;
	int high = neg || !names_high(a->lx.p + from, a->lx.pos - from) ? 0 :
	           class_bytes(a, from, a->lx.pos, &set);
	if (high < 0)
		a->lx.giveup = true;
	if (high <= 0) {   /* negated: its ASCII bytes stay as they were */
		ap_put(a, a->lx.p + from, a->lx.pos - from);
		return A_LIVE;
	}
	a->changed = true;
	size_t start = a->out.len;
	ap_put(a, "[", 1);
	for (unsigned b = 0; b < 0x80; b++)
		if (bs_has(&set, b)) {
			char e[8];
			snprintf(e, sizeof e, "\\x%02x", b);
			ap_put(a, e, 4);
		}
	if (a->out.len == start + 1) {
		a->out.len = start;
		return A_DEAD;
	}
	ap_put(a, "]", 1);
	return A_LIVE;
}

/* An escape: dead when it stands for one byte >= 0x80. Backreferences,
 * \Q, \p and named characters are left to the full pattern. */
static enum alive ap_escape(struct aproj *a)
{
	size_t from = a->lx.pos;
	int c = lx_peek(&a->lx, 1);
	long v;
	struct litscan_bset s;
	lx_escape(&a->lx, SIZE_MAX, &v, &s);
	if (c < 0 || (c >= '1' && c <= '9') || strchr("QgkpPNo", c) ||
	    (c == 'x' && v > 0xfffff))
		a->lx.giveup = true;
	if (c != 'x' && c != '0')
		v = -1;   /* the bytes other escapes name stay */
	if (v >= 0x80 || (a->no_amp && (v == '&' || (v < 0 && c == '&')))) {
		a->changed = true;
		return A_DEAD;
	}
	ap_put(a, a->lx.p + from, a->lx.pos - from);
	return A_LIVE;
}

/* A group; lookarounds, atomic, capturing and non-capturing ones and
 * "(?<name>" are understood, anything else (options, conditions, calls)
 * gives up. */
static enum alive ap_group(struct aproj *a)
{
	size_t from = a->lx.pos;
	struct lopts o = { 0 };
	bool fancy;
	enum lx_group k = lx_group(&a->lx, &o, &fancy);
	bool neg = k == LXG_NOT_AHEAD || k == LXG_NOT_BEHIND;
	if (k != LXG_CAPTURE && k != LXG_PLAIN && k != LXG_ATOMIC &&
	    k != LXG_AHEAD && k != LXG_BEHIND && !neg &&
	    (k != LXG_NAMED || a->lx.p[from + 2] != '<'))
		a->lx.giveup = true;
	if (a->lx.giveup)
		return A_LIVE;
	ap_put(a, a->lx.p + from, a->lx.pos - from);
	enum alive in = ap_alt(a);
	if (lx_peek(&a->lx, 0) != ')') {
		a->lx.giveup = true;
		return A_LIVE;
	}
	a->lx.pos++;
	ap_put(a, ")", 1);
	if (!neg)
		return in;
	/* negative: of nothing it always holds, of "" it never does */
	return in == A_DEAD ? A_EMPTY : in == A_EMPTY ? A_DEAD : A_LIVE;
}

/* A quantifier: its minimum, -1 when there is none ("{" is then a
 * literal). */
static long ap_quant(struct aproj *a)
{
	struct lexer q = a->lx;
	long min, max;
	if (!lx_quant(&q, &min, &max) || q.giveup)
		return -1;
	ap_put(a, a->lx.p + a->lx.pos, q.pos - a->lx.pos);
	a->lx.pos = q.pos;
	return min;
}

static enum alive ap_seq(struct aproj *a)
{
	enum alive st = A_EMPTY;
	while (!a->lx.giveup && a->lx.pos < a->lx.len && lx_peek(&a->lx, 0) != '|' &&
	       lx_peek(&a->lx, 0) != ')') {
		size_t mark = a->out.len;
		int c = lx_peek(&a->lx, 0);
		enum alive it = A_LIVE;
		if (c == '\\')
			it = ap_escape(a);
		else if (c == '[')
			it = ap_class(a);
		else if (c == '(')
			it = ap_group(a);
		else {
			it = c >= 0x80 || (c == '&' && a->no_amp) ? A_DEAD : A_LIVE;
			a->changed |= it == A_DEAD;
			if (it == A_LIVE)
				ap_put(a, a->lx.p + a->lx.pos, 1);
			a->lx.pos++;
		}
		long min = -1, m;
		while ((m = ap_quant(a)) >= 0)
			min = min < 0 ? m : min * m;
		if (it == A_EMPTY || (it == A_DEAD && min == 0)) {
			a->out.len = mark;
			continue;
		}
		if (it == A_DEAD)
			st = A_DEAD;
		else if (st == A_EMPTY)
			st = A_LIVE;
	}
	return st;
}

static enum alive ap_alt(struct aproj *a)
{
	enum alive st = A_DEAD;   /* until a branch is kept */
	for (;;) {
		size_t mark = a->out.len;
		if (st != A_DEAD)
			ap_put(a, "|", 1);
		enum alive br = ap_seq(a);
		if (br == A_DEAD)
			a->out.len = mark;
		else
			st = st == A_DEAD ? br : st == br ? st : A_LIVE;
		if (lx_peek(&a->lx, 0) != '|')
			break;
		a->lx.pos++;
	}
	/* an alternation that kept nothing: "(?:)" matches "", say no */
	return st;
}

char *litscan_ascii(const char *pattern, size_t len, uint32_t pcre2_options,
                    bool no_amp, size_t *out_len)
{
	if (pattern == NULL || (pcre2_options & (PCRE2_EXTENDED |
	                                         PCRE2_EXTENDED_MORE |
	                                         PCRE2_LITERAL | PCRE2_UTF |
	                                         PCRE2_ALLOW_EMPTY_CLASS)))
		return NULL;
	struct aproj a = { .lx = { .p = (const unsigned char *)pattern,
	                           .len = len },
	                   .opts = pcre2_options, .no_amp = no_amp };
	if (!names_high(a.lx.p, len) &&
	    !(no_amp && memchr(pattern, '&', len) != NULL))
		return NULL;
	enum alive st = ap_alt(&a);
	if (a.lx.giveup || a.lx.pos != len || !a.changed) {
		free(a.out.p);
		return NULL;
	}
	if (st == A_DEAD) {
		a.out.len = 0;
		ap_put(&a, "(*FAIL)", 7);
	}
	ap_put(&a, "", 0);   /* NUL-ended after rewinds too */
	if (a.lx.giveup) {
		free(a.out.p);
		return NULL;
	}
	*out_len = a.out.len;
	return a.out.p;
}
bool litscan_pcre2_trap(const pcre2_code *code, const char *pattern,
                        size_t len)
{
	uint32_t ft = 0, fu = 0, lt = 0, lu = 0;
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &ft) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_LASTCODETYPE, &lt) != 0 ||
	    ft != 1 || lt != 1)
		return false;
	pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT, &fu);
	pcre2_pattern_info(code, PCRE2_INFO_LASTCODEUNIT, &lu);
	if (lower((unsigned char)fu) != lower((unsigned char)lu))
		return false;
	for (size_t i = 0; i + 2 < len; i++)   /* a lookahead anywhere */
		if (pattern[i] == '(' && pattern[i + 1] == '?' &&
		    pattern[i + 2] == '=')
			return true;
	return false;
}

/* ======================================================================
 * Required byte classes
 *
 * A family is a conjunction of byte sets: every match contains a byte of
 * each. A byte, class or escape that consumes one character requires its
 * set; a concatenation requires what each of its items does; an item
 * quantified {0,..}, a negative lookaround, a reference or a call
 * requires nothing; an alternation requires, for one set a of each
 * branch, the union of those; a positive lookaround requires what its
 * body does (it matches inside the same subject). Sets are supersets
 * where unsure ('.' is every byte), so only structure can go wrong:
 * whatever is not understood gives up (no requirement at all).
 * ====================================================================== */

#define RB_FAM 4   /* sets kept per family */
#define RB_MAX_LEN 16384   /* longer patterns (homoglyph lists of 50 KB and
                              more) cost more to parse than they save */

struct rfam {
	size_t n;
	unsigned max_cost;       /* costlier sets are left out */
	struct litscan_bset s[RB_FAM];
	unsigned cost[RB_FAM];   /* bs_cost() of each */
};

struct rparse {
	struct lexer lx;
	unsigned max_cost;
	unsigned depth;
};

static bool bs_subset(const struct litscan_bset *a,
                      const struct litscan_bset *b)
{
	for (int i = 0; i < 4; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

/* Bits set in x (without a popcount instruction in the baseline ISA,
 * __builtin_popcountll is a library call). */
static unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555u;
	x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
	return (unsigned)((x * 0x0101010101010101u) >> 56);
}

/* How likely a text holds a byte of s, roughly: lower is rarer. A byte
 * weighs about 16 ln(1 / (1 - p)), p the share of the paragraphs of a
 * sample of mail holding it, rounded to 32, 16, 8, 4, 2 or 1: a text
 * lacks every byte of a set of cost c with a chance of about e^(-c/16),
 * taking the bytes to be independent. Orders sets (which to keep, which
 * to test first) and leaves out those nearly every text has. */
static const uint64_t cost_mask[5][2] = {   /* bytes 0..127 by weight */
	{ 0x0000000100000000u, 0x001df33a00000000u },   /* 32: space acde.. */
	{ 0x7402e00000000400u, 0x02e008c400100000u },   /* 16: LF - . / 1 :
	                                                   < = > T b f g .. */
	{ 0x0005100400000000u, 0x00000000000c023au },   /* 8: " , 0 2 A C .. */
	{ 0x83f8000200000000u, 0x0502000000a1f1c4u },   /* 4: ! 3-9 ? B F .. */
	{ 0x080003e800000200u, 0x0000040087420c01u },   /* 2: tab # % & .. */
};                                                  /* 1: the rest */
static const unsigned cost_weight[5] = { 32, 16, 8, 4, 2 };

/* The cost of the bytes of word i (0..3) of a set in w. */
static unsigned word_cost(uint64_t w, int i)
{
	if (i >= 2)
		return popcount64(w);
	unsigned c = 0;
	for (int n = 0; n < 3 && w != 0; n++) {   /* sparse: bit by bit */
		uint64_t bit = w & -w;
		int k = 0;
		while (k < 5 && !(cost_mask[k][i] & bit))
			k++;
		c += k < 5 ? cost_weight[k] : 1;
		w ^= bit;
	}
	if (w == 0)
		return c;
	c += popcount64(w);
	for (int k = 0; k < 5; k++)   /* the weight beyond the 1 counted */
		c += (cost_weight[k] - 1) * popcount64(w & cost_mask[k][i]);
	return c;
}

static unsigned bs_cost(const struct litscan_bset *s)
{
	unsigned c = 0;
	for (int i = 0; i < 4; i++)
		if (s->w[i] != 0)
			c += word_cost(s->w[i], i);
	return c;
}

/* s (of cost bs_cost(s), or UINT_MAX: not computed yet) into family f
 * as one more requirement: dropped when a set of f already implies it
 * or it costs too much, and drops those it implies; the costliest goes
 * when f is full. */
static void fam_add_cost(struct rfam *f, const struct litscan_bset *s,
                         unsigned cost)
{
	if (f->max_cost == 0)
		return;   /* nobody asks (rb_alt()) */
	if (cost == UINT_MAX)
		cost = bs_cost(s);
	if (cost > f->max_cost)
		return;
	bool drop = false;
	for (size_t i = 0; i < f->n; i++) {
		if (bs_subset(&f->s[i], s))
			return;
		drop |= bs_subset(s, &f->s[i]);
	}
	if (drop) {
		size_t k = 0;
		for (size_t i = 0; i < f->n; i++)
			if (!bs_subset(s, &f->s[i])) {
				f->s[k] = f->s[i];
				f->cost[k++] = f->cost[i];
			}
		f->n = k;
	}
	if (f->n < RB_FAM) {
		f->cost[f->n] = cost;
		f->s[f->n++] = *s;
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < f->n; i++)
		if (f->cost[i] > f->cost[worst])
			worst = i;
	if (cost < f->cost[worst]) {
		f->s[worst] = *s;
		f->cost[worst] = cost;
	}
}

static void fam_add(struct rfam *f, const struct litscan_bset *s)
{
	fam_add_cost(f, s, UINT_MAX);
}

static void fam_join(struct rfam *f, const struct rfam *g)
{
	for (size_t i = 0; i < g->n; i++)
		fam_add_cost(f, &g->s[i], g->cost[i]);
}

/* f becomes the requirements of "f or g": unions of a set of each. */
static void fam_either(struct rfam *f, const struct rfam *g)
{
	struct rfam u;
	u.n = 0;
	u.max_cost = f->max_cost;
	for (size_t i = 0; i < f->n; i++)
		for (size_t j = 0; j < g->n; j++) {
			struct litscan_bset s = f->s[i];
			bs_or(&s, &g->s[j]);
			fam_add(&u, &s);
		}
	*f = u;
}

static void fam_init(struct rfam *f, const struct rparse *ps)
{
	f->n = 0;
	f->max_cost = ps->max_cost;
}

static void rb_alt(struct rparse *ps, bool caseless, struct rfam *out);

/* A group at pos ('('): its requirements, *nop for an option setting
 * or a comment (no item at all). */
static void rb_group(struct rparse *ps, bool *caseless, struct rfam *out,
                     bool *nop)
{
	fam_init(out, ps);
	struct lopts o = { .caseless = *caseless };
	bool fancy;
	enum lx_group k = lx_group(&ps->lx, &o, &fancy);
	*nop = k == LXG_COMMENT || k == LXG_SET;
	if (k == LXG_OTHER || k == LXG_NON_ATOMIC || fancy)
		ps->lx.giveup = true;   /* verbs, conditions, x, ... */
	if (k == LXG_SET)
		*caseless = o.caseless;   /* rest of the enclosing group */
	if (ps->lx.giveup || *nop || k == LXG_CALL)
		return;   /* a call takes text, requires nothing known */
	if (++ps->depth > LS_MAX_GROUP_DEPTH) {
		ps->lx.giveup = true;
		return;
	}
	rb_alt(ps, o.caseless, out);
	ps->depth--;
	if (lx_peek(&ps->lx, 0) != ')') {
		ps->lx.giveup = true;
		return;
	}
	ps->lx.pos++;
	if (k == LXG_NOT_AHEAD || k == LXG_NOT_BEHIND)
		fam_init(out, ps);
}

/* An escape outside a class at pos ('\\'). */
static void rb_escape(struct rparse *ps, bool caseless, struct rfam *out)
{
	int c = lx_peek(&ps->lx, 1);
	long v;
	struct litscan_bset s;
	fam_init(out, ps);
	enum lx_esc k = lx_escape(&ps->lx, 4, &v, &s);
	if (ps->lx.giveup)
		return;
	switch (k) {
	case LXE_BYTE:
		if (v > 0xff)
			break;
		s = (struct litscan_bset){ { 0 } };
		bs_add(&s, (unsigned)v);
		if (caseless)
			bs_fold(&s);
		fam_add(out, &s);
		return;
	case LXE_TYPE:
		fam_add(out, &s);
		return;
	case LXE_ANY:   /* \R is a \v or CR LF; \X \C \N any character */
		if (c == 'R' && lx_type('v', &s))
			fam_add(out, &s);
		if (c != 'c')
			return;
		break;
	case LXE_ZERO:
		return;
	case LXE_REF:   /* \1: takes text, requires nothing known */
		if (c != 'g' && c != 'k')
			return;
		break;
	default:
		break;
	}
	ps->lx.giveup = true;
}

/* A concatenation up to '|', ')' or the end. An option setting in it
 * holds for the rest of its group, later branches too: *caseless. */
static void rb_seq(struct rparse *ps, bool *cip, struct rfam *out)
{
	bool caseless = *cip;
	fam_init(out, ps);
	while (!ps->lx.giveup) {
		int c = lx_peek(&ps->lx, 0);
		if (c < 0 || c == '|' || c == ')') {
			*cip = caseless;
			return;
		}
		struct rfam item;
		fam_init(&item, ps);
		struct litscan_bset s = { { 0 } };
		bool single = false;   /* the item requires s alone */
		if (c == '(') {
			bool nop;
			rb_group(ps, &caseless, &item, &nop);
			if (nop)
				continue;
		} else if (c == '[') {
			lx_class(&ps->lx, caseless, &s);
			single = true;
		} else if (c == '\\') {
			rb_escape(ps, caseless, &item);
		} else if (c == '^' || c == '$' || c == '.') {
			ps->lx.pos++;
		} else if (c == '*' || c == '+' || c == '?' ||
		           (c == '{' && is_digit(lx_peek(&ps->lx, 1)))) {
			ps->lx.giveup = true;   /* a quantifier with nothing before */
			return;
		} else {
			ps->lx.pos++;
			bs_add(&s, (unsigned)c);
			if (caseless)
				bs_fold(&s);
			single = true;
		}
		if (ps->lx.giveup)
			return;
		long min = 1, max = 1;
		lx_quant(&ps->lx, &min, &max);
		if (ps->lx.giveup)
			return;
		if (min >= 1 && single)
			fam_add(out, &s);
		else if (min >= 1)
			fam_join(out, &item);
	}
}

static void rb_alt(struct rparse *ps, bool caseless, struct rfam *out)
{
	rb_seq(ps, &caseless, out);
	unsigned max_cost = ps->max_cost;
	while (!ps->lx.giveup && lx_peek(&ps->lx, 0) == '|') {
		ps->lx.pos++;
		if (out->n == 0)
			ps->max_cost = 0;   /* nothing to unite with: parse only */
		struct rfam b;
		rb_seq(ps, &caseless, &b);
		fam_either(out, &b);
	}
	ps->max_cost = max_cost;
}


size_t litscan_req_bytes(const char *pattern, size_t len,
                         uint32_t pcre2_options, unsigned max_cost,
                         struct litscan_bset *sets, size_t max)
{
	if (pcre2_options & ~LX_PLAIN_OPTS || len > RB_MAX_LEN)
		return 0;
	struct rparse ps = { .lx = { .p = (const unsigned char *)pattern,
	                             .len = len }, .max_cost = max_cost };
	struct rfam f;
	rb_alt(&ps, (pcre2_options & PCRE2_CASELESS) != 0, &f);
	if (ps.lx.giveup || ps.lx.pos != len)
		return 0;
	size_t n = 0;
	for (; n < max && f.n > 0; n++) {   /* the cheapest first */
		size_t best = 0;
		for (size_t i = 1; i < f.n; i++)
			if (f.cost[i] < f.cost[best])
				best = i;
		sets[n] = f.s[best];
		f.s[best] = f.s[f.n - 1];
		f.cost[best] = f.cost[--f.n];
	}
	return n;
}

/* html.c — see html.h. */
#include "html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "htmlstyle.h"
#include "uri.h"
#include "utf8.h"

#define ATTR_MAX 2048

/* ---- entities ---- */

static const struct {
	const char *name;
	unsigned short cp;
} entities[] = {
	{ "nbsp", 160 }, { "iexcl", 161 }, { "cent", 162 }, { "pound", 163 },
	{ "curren", 164 }, { "yen", 165 }, { "brvbar", 166 }, { "sect", 167 },
	{ "uml", 168 }, { "copy", 169 }, { "ordf", 170 }, { "laquo", 171 },
	{ "not", 172 }, { "shy", 173 }, { "reg", 174 }, { "macr", 175 },
	{ "deg", 176 }, { "plusmn", 177 }, { "sup2", 178 }, { "sup3", 179 },
	{ "acute", 180 }, { "micro", 181 }, { "para", 182 }, { "middot", 183 },
	{ "cedil", 184 }, { "sup1", 185 }, { "ordm", 186 }, { "raquo", 187 },
	{ "frac14", 188 }, { "frac12", 189 }, { "frac34", 190 },
	{ "iquest", 191 }, { "Agrave", 192 }, { "Aacute", 193 },
	{ "Acirc", 194 }, { "Atilde", 195 }, { "Auml", 196 }, { "Aring", 197 },
	{ "AElig", 198 }, { "Ccedil", 199 }, { "Egrave", 200 },
	{ "Eacute", 201 }, { "Ecirc", 202 }, { "Euml", 203 }, { "Igrave", 204 },
	{ "Iacute", 205 }, { "Icirc", 206 }, { "Iuml", 207 }, { "ETH", 208 },
	{ "Ntilde", 209 }, { "Ograve", 210 }, { "Oacute", 211 },
	{ "Ocirc", 212 }, { "Otilde", 213 }, { "Ouml", 214 }, { "times", 215 },
	{ "Oslash", 216 }, { "Ugrave", 217 }, { "Uacute", 218 },
	{ "Ucirc", 219 }, { "Uuml", 220 }, { "Yacute", 221 }, { "THORN", 222 },
	{ "szlig", 223 }, { "agrave", 224 }, { "aacute", 225 },
	{ "acirc", 226 }, { "atilde", 227 }, { "auml", 228 }, { "aring", 229 },
	{ "aelig", 230 }, { "ccedil", 231 }, { "egrave", 232 },
	{ "eacute", 233 }, { "ecirc", 234 }, { "euml", 235 }, { "igrave", 236 },
	{ "iacute", 237 }, { "icirc", 238 }, { "iuml", 239 }, { "eth", 240 },
	{ "ntilde", 241 }, { "ograve", 242 }, { "oacute", 243 },
	{ "ocirc", 244 }, { "otilde", 245 }, { "ouml", 246 }, { "divide", 247 },
	{ "oslash", 248 }, { "ugrave", 249 }, { "uacute", 250 },
	{ "ucirc", 251 }, { "uuml", 252 }, { "yacute", 253 }, { "thorn", 254 },
	{ "yuml", 255 }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' },
	{ "quot", '"' }, { "apos", '\'' }, { "OElig", 338 }, { "oelig", 339 },
	{ "Scaron", 352 }, { "scaron", 353 }, { "Yuml", 376 }, { "fnof", 402 },
	{ "circ", 710 }, { "tilde", 732 }, { "ensp", 8194 }, { "emsp", 8195 },
	{ "thinsp", 8201 }, { "zwnj", 8204 }, { "zwj", 8205 }, { "lrm", 8206 },
	{ "rlm", 8207 }, { "ndash", 8211 }, { "mdash", 8212 },
	{ "lsquo", 8216 }, { "rsquo", 8217 }, { "sbquo", 8218 },
	{ "ldquo", 8220 }, { "rdquo", 8221 }, { "bdquo", 8222 },
	{ "dagger", 8224 }, { "Dagger", 8225 }, { "bull", 8226 },
	{ "hellip", 8230 }, { "permil", 8240 }, { "prime", 8242 },
	{ "lsaquo", 8249 }, { "rsaquo", 8250 }, { "euro", 8364 },
	{ "trade", 8482 }, { "larr", 8592 }, { "rarr", 8594 }, { "uarr", 8593 },
	{ "darr", 8595 }, { "hearts", 9829 }, { "spades", 9824 },
	{ "clubs", 9827 }, { "diams", 9830 }, { "infin", 8734 },
	{ "ne", 8800 }, { "le", 8804 }, { "ge", 8805 }, { "minus", 8722 },
	/* the rest of HTML 4's, which HTML::Parser knows too */
	{ "Alpha", 913 }, { "Beta", 914 }, { "Chi", 935 }, { "Delta", 916 },
	{ "Epsilon", 917 }, { "Eta", 919 }, { "Gamma", 915 }, { "Iota", 921 },
	{ "Kappa", 922 }, { "Lambda", 923 }, { "Mu", 924 }, { "Nu", 925 },
	{ "Omega", 937 }, { "Omicron", 927 }, { "Phi", 934 }, { "Pi", 928 },
	{ "Prime", 8243 }, { "Psi", 936 }, { "Rho", 929 }, { "Sigma", 931 },
	{ "Tau", 932 }, { "Theta", 920 }, { "Upsilon", 933 }, { "Xi", 926 },
	{ "Zeta", 918 }, { "alefsym", 8501 }, { "alpha", 945 },
	{ "and", 8743 }, { "ang", 8736 }, { "asymp", 8776 }, { "beta", 946 },
	{ "cap", 8745 }, { "chi", 967 }, { "cong", 8773 }, { "crarr", 8629 },
	{ "cup", 8746 }, { "dArr", 8659 }, { "delta", 948 },
	{ "empty", 8709 }, { "epsilon", 949 }, { "equiv", 8801 },
	{ "eta", 951 }, { "exist", 8707 }, { "forall", 8704 },
	{ "frasl", 8260 }, { "gamma", 947 }, { "hArr", 8660 },
	{ "harr", 8596 }, { "image", 8465 }, { "int", 8747 }, { "iota", 953 },
	{ "isin", 8712 }, { "kappa", 954 }, { "lArr", 8656 },
	{ "lambda", 955 }, { "lang", 9001 }, { "lceil", 8968 },
	{ "lfloor", 8970 }, { "lowast", 8727 }, { "loz", 9674 },
	{ "mu", 956 }, { "nabla", 8711 }, { "ni", 8715 }, { "notin", 8713 },
	{ "nsub", 8836 }, { "nu", 957 }, { "oline", 8254 }, { "omega", 969 },
	{ "omicron", 959 }, { "oplus", 8853 }, { "or", 8744 },
	{ "otimes", 8855 }, { "part", 8706 }, { "perp", 8869 },
	{ "phi", 966 }, { "pi", 960 }, { "piv", 982 }, { "prod", 8719 },
	{ "prop", 8733 }, { "psi", 968 }, { "rArr", 8658 }, { "radic", 8730 },
	{ "rang", 9002 }, { "rceil", 8969 }, { "real", 8476 },
	{ "rfloor", 8971 }, { "rho", 961 }, { "sdot", 8901 },
	{ "sigma", 963 }, { "sigmaf", 962 }, { "sim", 8764 }, { "sub", 8834 },
	{ "sube", 8838 }, { "sum", 8721 }, { "sup", 8835 }, { "supe", 8839 },
	{ "tau", 964 }, { "there4", 8756 }, { "theta", 952 },
	{ "thetasym", 977 }, { "uArr", 8657 }, { "upsih", 978 },
	{ "upsilon", 965 }, { "weierp", 8472 }, { "xi", 958 },
	{ "zeta", 950 },
};

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Decode the entity at s ('&'); returns bytes consumed (0: none). */
/* The code point of entity name s[0..n), or NULL. */
static const unsigned short *entity_named(const char *s, size_t n)
{
	for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
		const char *e = entities[k].name;
		if (e[0] == s[0] && strlen(e) == n && memcmp(e, s, n) == 0)
			return &entities[k].cp;
	}
	return NULL;
}

/* The character reference at s ('&'): its code point into *cp and its
 * length, or 0; prefix: in text, where a name may end the run early. */
static size_t entity_ref(const char *s, size_t len, unsigned long *cp,
                         bool prefix)
{
	size_t i = 1;
	if (i < len && s[i] == '#') {
		i++;
		int base = 10;
		if (i < len && (s[i] | 0x20) == 'x') {
			base = 16;
			i++;
		}
		unsigned long v = 0;
		size_t digits = 0;
		for (; i < len; i++, digits++) {
			int d;
			unsigned char c = (unsigned char)s[i];
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			if (v < 0x110000)
				v = v * (unsigned long)base + (unsigned long)d;
		}
		if (digits == 0)
			return 0;
		if (i < len && s[i] == ';')
			i++;
		/* &#128;-&#159; stay C1 controls, as HTML::Parser (so
		 * SpamAssassin) decodes them, not windows-1252 as browsers. */
		if (v == 0 || v > 0x10ffff)
			v = 0xfffd;
		*cp = v;
		return i;
	}
	size_t n = 0;
	while (i + n < len && n < 10 && is_alnum((unsigned char)s[i + n]))
		n++;
	bool semi = i + n < len && s[i + n] == ';';
	/* HTML::Parser: a name with its ';' (one above U+00FF needs it);
	 * in text also the longest name without one that starts the run
	 * ("&notin" is ¬in, "&copy2" ©2), not in an attribute value */
	for (size_t m = n; m > 1 && (m == n || prefix); m--) {
		const unsigned short *cp16 = entity_named(s + i, m);
		if (cp16 == NULL || (*cp16 > 0xff && !(m == n && semi)))
			continue;
		*cp = *cp16;
		return i + m + (m == n && semi);
	}
	return 0;
}

/* A reference in text, and in an attribute value. */
static size_t entity(const char *s, size_t len, unsigned long *cp)
{
	return entity_ref(s, len, cp, true);
}

static size_t entity_attr(const char *s, size_t len, unsigned long *cp)
{
	return entity_ref(s, len, cp, false);
}

/* A decoded character reference into out: UTF-8, or with latin1 (see
 * latin1_text()) one byte for U+0080..U+00FF. */
static void put_ref(struct arena_buf *out, unsigned long cp, bool latin1)
{
	if (latin1 && cp >= 0x80 && cp <= 0xff)
		arena_buf_putc(out, (char)cp);
	else
		charset_put_utf8(out, cp);
}

/* Entity-decode s into out (attribute values, the title). In an
 * attribute value (attr) "&nbsp;" is a space: HTML.pm replaces it so in
 * the whole text before parsing ("href=\"http://x.com&nbsp;Go\"" is
 * listed with a space). */
static void decode_entities(const char *s, size_t len,
                            struct arena_buf *out, bool latin1, bool attr)
{
	for (size_t i = 0; i < len;) {
		unsigned long cp;
		size_t n;
		if (attr && len - i >= 6 && memcmp(s + i, "&nbsp;", 6) == 0) {
			arena_buf_putc(out, ' ');
			i += 6;
		} else if (s[i] == '&' &&
		           (n = attr ? entity_attr(s + i, len - i, &cp) :
		                       entity(s + i, len - i, &cp)) > 0) {
			put_ref(out, cp, latin1);
			i += n;
		} else {
			arena_buf_putc(out, s[i++]);
		}
	}
}

void html_decode_entities(const char *s, size_t len, struct arena_buf *out)
{
	decode_entities(s, len, out, false, false);
}

/* ---- the renderer ---- */

enum {
	T_VOID = 1, T_PARA = 2, T_LINE = 4, T_CELL = 8, T_RAW = 16,
	T_A = 32, T_IMG = 64, T_BASE = 128,
	T_BR = 1024,
};

/* Whitespace as SpamAssassin's HTML.pm inserts it, at start and end
 * tags alike: T_LINE one line break (br, div), T_CELL a blank (li, td,
 * th, dt, dd, embed, h1-h6), T_PARA a paragraph break (p, hr,
 * blockquote, pre, listing, plaintext, xmp, title); other elements
 * (table, tr, ul, center, form, ...) none. */
static const struct {
	const char *name;
	unsigned kind;
} tag_kinds[] = {
	{ "a", T_A }, { "p", T_PARA }, { "br", T_VOID | T_LINE | T_BR },
	{ "div", T_LINE }, { "td", T_CELL }, { "tr", 0 },
	{ "img", T_VOID | T_IMG }, { "font", 0 }, { "span", 0 },
	{ "b", 0 }, { "table", 0 }, { "li", T_CELL },
	{ "th", T_CELL }, { "hr", T_VOID | T_PARA }, { "meta", T_VOID },
	{ "input", T_VOID }, { "link", T_VOID }, { "area", T_VOID },
	{ "base", T_VOID | T_BASE }, { "col", T_VOID },
	{ "embed", T_VOID | T_CELL },
	{ "param", T_VOID }, { "source", T_VOID }, { "wbr", T_VOID },
	{ "frame", T_VOID }, { "basefont", T_VOID },
	{ "h1", T_CELL }, { "h2", T_CELL }, { "h3", T_CELL },
	{ "h4", T_CELL }, { "h5", T_CELL }, { "h6", T_CELL },
	{ "blockquote", T_PARA }, { "pre", T_PARA },
	{ "listing", T_PARA }, { "plaintext", T_PARA | T_RAW },
	{ "xmp", T_PARA | T_RAW }, { "textarea", T_RAW },
	{ "ul", 0 }, { "ol", 0 }, { "dl", 0 },
	{ "dt", T_CELL }, { "dd", T_CELL }, { "center", 0 },
	{ "form", 0 }, { "address", 0 }, { "option", 0 },
	{ "title", T_PARA | T_RAW }, { "script", T_RAW }, { "style", T_RAW },
	{ "iframe", T_RAW },
};

static unsigned tag_kind(const char *name)
{
	for (size_t i = 0; i < sizeof tag_kinds / sizeof tag_kinds[0]; i++)
		if (tag_kinds[i].name[0] == name[0] &&
		    strcmp(tag_kinds[i].name, name) == 0)
			return tag_kinds[i].kind;
	return 0;
}

struct attr {
	char name[24];   /* "data-saferedirecturl" fits */
	const char *value; /* entity-decoded, NUL-terminated */
	size_t len;
};

struct tag {
	char name[12];
	unsigned kind; /* T_* */
	bool end, self_closing;
	struct attr attrs[16];
	size_t nattrs;
};

struct rstate {
	struct html_out *o;
	struct arena_buf scratch; /* attribute values of the current tag */
	struct htmlstyle *style; /* SpamAssassin's text style (HTML.pm) */
	/* The last element of the body text, as HTML.pm's display_text
	 * sees it: none, whitespace (a tag's) or text; for text whether it
	 * was invisible and how long it was. */
	enum { LAST_NONE, LAST_WS, LAST_TEXT } last;
	bool last_invisible;
	size_t last_text_len;
	bool in_text;       /* inside one text node (after a stray '<') */
	bool node_invisible; /* that text node is invisible (HTML.pm) */
	bool no_refs;       /* text as written: a CDATA section's */
	size_t ms_open;     /* INCLUDE marked sections open */
	bool latin1;        /* references to U+0080..U+00FF as one byte */
	bool wide;          /* a reference above U+00FF went to the text */
	/* open anchor */
	bool in_a;
	char a_host[256];
	size_t a_text_start;
	/* the anchor text of the last <a> (html_out.anchor): <a> start
	 * tags open less end tags, and whether one was opened */
	unsigned a_depth;
	bool a_open;
	struct arena_buf a_key, a_text;
	/* <base href> */
	char *base;
	size_t base_len;
};

/* Bytes of the no-break space at s (entity or UTF-8), or of a
 * reference to a blank (&#32;, &#10;: HTML.pm collapses blanks after
 * HTML::Parser decoded them), or 0. With latin1 only "&nbsp;" is a
 * no-break space: HTML.pm makes that a space before parsing, any other
 * reference to U+00A0 becomes byte A0, which its blank test (UTF-8 C2
 * A0) does not take. */
static size_t nbsp_len(const struct rstate *r, const char *s, size_t len)
{
	unsigned long cp;
	size_t n;
	if (s[0] == '&' && !r->no_refs && (n = entity(s, len, &cp)) > 0 &&
	    (cp == ' ' || (cp >= '\t' && cp <= '\r')))
		return n;
	if (r->latin1)
		return len >= 6 && memcmp(s, "&nbsp;", 6) == 0 ? 6 : 0;
	if (len >= 2 && (unsigned char)s[0] == 0xc2 &&
	    (unsigned char)s[1] == 0xa0)
		return 2;
	if (s[0] == '&' && !r->no_refs && (n = entity(s, len, &cp)) > 0 &&
	    cp == 0xa0)
		return n;
	return 0;
}

/* The text at s[0..len) that is not a collapsible blank: one entity
 * (decoded) or the run up to the next blank, '&' or no-break space, put
 * to out. Returns the bytes consumed (at least 1). */
static size_t put_text(struct rstate *r, struct arena_buf *out,
                       size_t *count, const char *s, size_t len)
{
	size_t n;
	unsigned long cp;
	if (s[0] == '&' && !r->no_refs && (n = entity(s, len, &cp)) > 0) {
		put_ref(out, cp, r->latin1);
		r->wide |= cp > 0xff;
		(*count)++;
		return n;
	}
	size_t j = 0;
	while (j < len && s[j] != '&' && !is_blank((unsigned char)s[j]) &&
	       !((unsigned char)s[j] == 0xc2 && nbsp_len(r, s + j, len - j)))
		j++;
	if (j == 0)
		j++;
	arena_buf_put(out, s, j);
	*count += j;
	return j;
}

/* One text node into the body text as HTML.pm's display_text writes
 * it: every blank run (no-break spaces included, in <pre> too) one
 * space, none dropped but a leading one after a whitespace element (when
 * visible); entities decoded. */
static void emit_body(struct rstate *r, bool hide, size_t *count,
                      const char *s, size_t len)
{
	struct arena_buf *out = r->o->text;
	size_t start = out->len;
	bool lead = true;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t nb = nbsp_len(r, s + i, len - i);
		if (is_blank(c) || nb > 0) {
			while (i < len) {
				nb = nbsp_len(r, s + i, len - i);
				if (nb == 0 && !is_blank((unsigned char)s[i]))
					break;
				i += nb > 0 ? nb : 1;
			}
			if (!(lead && r->last == LAST_WS && !hide))
				arena_buf_putc(out, ' ');
			lead = false;
			continue;
		}
		lead = false;
		i += put_text(r, out, count, s + i, len - i);
	}
	r->last = LAST_TEXT;
	r->last_invisible = hide;
	r->last_text_len = out->len - start;
}

/* Text goes to the body text whether visible or not, as SpamAssassin's
 * rendered text (HTML.pm get_rendered_text) holds both; invisible text
 * also goes to the invisible text, as written to the body: HTML.pm's
 * invisible text is its invisible elements, and no later whitespace
 * element trims those. */
static void emit_text(struct rstate *r, const char *s, size_t len)
{
	struct arena_buf *t = r->o->text;
	size_t start = t->len;
	if (!r->node_invisible) {
		emit_body(r, false, &r->o->facts.visible_len, s, len);
		return;
	}
	emit_body(r, true, &r->o->facts.invisible_len, s, len);
	if (!t->failed)
		arena_buf_put(r->o->invisible, t->p + start, t->len - start);
}

/* Whether text s[0..len) holds something other than blanks (no-break
 * spaces and references to blanks included): HTML.pm asks
 * html_font_invisible() only about such text, other text is visible. */
static bool text_shows(const struct rstate *r, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned long cp;
		size_t n = nbsp_len(r, s + i, len - i);
		if (n == 0 && s[i] == '&' && !r->no_refs &&
		    (n = entity(s + i, len - i, &cp)) > 0 &&
		    (cp > 0x7f || !is_blank((unsigned char)cp)))
			return true;
		if (n == 0 && !is_blank((unsigned char)s[i]))
			return true;
		i += n > 0 ? n : 1;
	}
	return false;
}

/* Whether code point c is what HTML.pm's obfuscation test calls a word
 * character: not Perl's \s, not ASCII punctuation (curly double quotes
 * included: HTML.pm makes them '"' before parsing). */
static bool obf_word(unsigned long c)
{
	if (c == 0x201c || c == 0x201d)
		return false;
	if (c >= 0x80)
		return c != 0x85 && c != 0xa0 && c != 0x1680 && c != 0x2028 &&
		       c != 0x2029 && c != 0x202f && c != 0x205f && c != 0x3000 &&
		       !(c >= 0x2000 && c <= 0x200a);
	return !is_blank((unsigned char)c) && c != '\v' &&
	       !(c >= 0x21 && c <= 0x2f) && !(c >= 0x3a && c <= 0x40) &&
	       !(c >= 0x5b && c <= 0x60) && !(c >= 0x7b && c <= 0x7e);
}

/* Text s[0..len) onto the anchor text of the last <a>, when one is
 * open: decoded as HTML::Parser's dtext (references decoded but in
 * literal text, blanks as written), "&nbsp;" a space as HTML.pm makes
 * it in the whole source before parsing. */
static void anchor_put(struct rstate *r, const char *s, size_t len)
{
	if (r->a_depth == 0 || !r->a_open)
		return;
	for (size_t i = 0; i < len;) {
		unsigned long cp;
		size_t n;
		if (len - i >= 6 && memcmp(s + i, "&nbsp;", 6) == 0) {
			arena_buf_putc(&r->a_text, ' ');
			i += 6;
		} else if (s[i] == '&' && !r->no_refs &&
		           (n = entity(s + i, len - i, &cp)) > 0) {
			put_ref(&r->a_text, cp, r->latin1);
			i += n;
		} else {
			arena_buf_putc(&r->a_text, s[i++]);
		}
	}
}

/* The last <a>'s anchor text to html_out.anchor; none is open after. */
static void anchor_flush(struct rstate *r)
{
	if (!r->a_open)
		return;
	r->a_open = false;
	if (!r->a_key.failed && !r->a_text.failed)
		r->o->anchor(r->o->ctx, r->a_key.len ? r->a_key.p : "",
		             r->a_key.len, r->a_text.len ? r->a_text.p : "",
		             r->a_text.len);
}

/* An <a> start tag (href: its value, or NULL): the anchor text before
 * goes out, this one's starts empty. */
static void anchor_start(struct rstate *r, const char *href, size_t n)
{
	if (r->o->anchor == NULL)
		return;
	anchor_flush(r);
	arena_buf_init(&r->a_key, r->scratch.a);
	arena_buf_init(&r->a_text, r->scratch.a);
	if (href != NULL)
		arena_buf_put(&r->a_key, href, n);
	r->a_open = true;
	r->a_depth++;
}

/* A text node (as HTML::Parser reports one: the text between two pieces
 * of markup) into the text; HTML.pm counts an obfuscation when it
 * starts with a word character and the text element before it ends
 * with one (V<b></b>iagra). */
static void text_node(struct rstate *r, const char *s, size_t len)
{
	struct arena_buf *t = r->o->text;
	if (!r->in_text && len > 0 && r->last == LAST_TEXT &&
	    r->last_text_len > 0 && t->len > 0) {
		uint32_t first = (unsigned char)s[0], prev;
		unsigned long ent;
		if (s[0] == '&' && !r->no_refs && entity(s, len, &ent) > 0)
			first = (uint32_t)ent;
		else
			(void)utf8_decode((const unsigned char *)s, len, &first);
		size_t k = t->len - 1;   /* the last character's first byte */
		while (k > 0 && t->len - k < 4 &&
		       ((unsigned char)t->p[k] & 0xc0) == 0x80)
			k--;
		if (utf8_decode((const unsigned char *)t->p + k, t->len - k,
		                &prev) == 0)
			prev = (unsigned char)t->p[t->len - 1];
		if (obf_word(first) && obf_word(prev))
			r->o->facts.obfuscation++;
	}
	/* HTML.pm decides per text node */
	if (!r->in_text)
		r->node_invisible = htmlstyle_invisible(r->style) &&
		                    text_shows(r, s, len);
	r->in_text = true;
	emit_text(r, s, len);
	anchor_put(r, s, len);
}

/* The text s[0..len) ended the document: HTML::Parser reports the
 * blanks ending it as a text node of their own ("b \n": "b", " \n"),
 * visible, so they are not in the invisible text (the body is the
 * same). */
static void end_blanks(struct rstate *r, const char *s, size_t len)
{
	struct arena_buf *inv = r->o->invisible;
	if (r->node_invisible && len > 0 && is_blank((unsigned char)s[len - 1]) &&
	    inv->len > 0 && inv->p[inv->len - 1] == ' ')
		inv->len--;
}

/* A whitespace element (w: "\n", " " or "\n\n") as display_text adds
 * it: a blank ending the text element just before (visible) goes. */
static void ws_element(struct rstate *r, const char *w)
{
	struct arena_buf *t = r->o->text;
	if (r->last == LAST_TEXT && !r->last_invisible && r->last_text_len > 0 &&
	    t->len > 0 && t->p[t->len - 1] == ' ')
		t->len--;
	arena_buf_put(t, w, strlen(w));
	r->last = LAST_WS;
}

static const char *attr(const struct tag *t, const char *name, size_t *len)
{
	for (size_t i = 0; i < t->nattrs; i++)
		if (strcmp(t->attrs[i].name, name) == 0) {
			*len = t->attrs[i].len;
			return t->attrs[i].value;
		}
	return NULL;
}

/* Parse the tag at s ('<'); returns bytes consumed, 0 if not a tag. */
static size_t parse_tag(struct rstate *r, const char *s, size_t len,
                        struct tag *t)
{
	size_t i = 1;
	memset(t, 0, offsetof(struct tag, attrs));
	t->nattrs = 0;
	if (i < len && s[i] == '/') {
		t->end = true;
		i++;
	}
	if (i >= len || !is_alpha((unsigned char)s[i]))
		return 0;
	size_t n = 0;
	while (i < len && !is_blank((unsigned char)s[i]) && s[i] != '>' &&
	       s[i] != '/') {
		if (n + 1 < sizeof t->name)
			t->name[n++] = (char)(s[i] | (is_alpha((unsigned char)s[i]) ? 0x20 : 0));
		i++;
	}
	t->name[n] = '\0';
	t->kind = tag_kind(t->name);
	r->scratch.len = 0;
	while (i < len && s[i] != '>') {
		unsigned char c = (unsigned char)s[i];
		if (is_blank(c) || c == '/') {
			if (c == '/')
				t->self_closing = true;
			i++;
			continue;
		}
		t->self_closing = false;
		size_t ns = i;
		while (i < len && !is_blank((unsigned char)s[i]) && s[i] != '=' &&
		       s[i] != '>' && !(s[i] == '/' && i > ns))
			i++;
		size_t nl = i - ns;
		while (i < len && is_blank((unsigned char)s[i]))
			i++;
		const char *v = s + i;
		size_t vl = 0;
		if (i < len && s[i] == '=') {
			i++;
			while (i < len && is_blank((unsigned char)s[i]))
				i++;
			if (i < len && (s[i] == '"' || s[i] == '\'')) {
				char q = s[i++];
				v = s + i;
				const char *qe = memchr(v, q, len - i);
				if (qe == NULL)
					return 0; /* unclosed quote: not a tag */
				vl = (size_t)(qe - v);
				i += vl + 1;
			} else {
				v = s + i;
				while (i < len && !is_blank((unsigned char)s[i]) &&
				       s[i] != '>')
					i++;
				vl = (size_t)(s + i - v);
			}
		} else {
			v = s + ns;   /* no value: its name, as HTML::Parser */
			vl = nl;
		}
		if (t->nattrs < sizeof t->attrs / sizeof t->attrs[0] && nl > 0 &&
		    nl < sizeof t->attrs[0].name) {
			struct attr *a = &t->attrs[t->nattrs++];
			for (size_t k = 0; k < nl; k++)
				a->name[k] = (char)(is_alpha((unsigned char)s[ns + k]) ?
				                    s[ns + k] | 0x20 : s[ns + k]);
			a->name[nl] = '\0';
			size_t start = r->scratch.len;
			decode_entities(v, vl < ATTR_MAX ? vl : ATTR_MAX, &r->scratch,
		                r->latin1, true);
			arena_buf_putc(&r->scratch, '\0');
			a->len = r->scratch.len - start - 1;
			a->value = (const char *)(uintptr_t)start; /* fixed below */
		}
	}
	if (i >= len)
		return 0;
	for (size_t k = 0; k < t->nattrs; k++)
		t->attrs[k].value = r->scratch.failed ? "" :
			r->scratch.p + (uintptr_t)t->attrs[k].value;
	return i + 1;
}

/* Is link v[0..n) one push_uri keeps as it is, without target_uri
 * (data:, mailto:, file:, cid:, tel:; blanks before it)? */
static bool untargeted(const char *v, size_t n)
{
	static const char *const whole[] = { "data:", "mailto:", "file:",
	                                     "cid:", "tel:" };
	size_t b = 0;
	while (b < n && is_blank((unsigned char)v[b]))
		b++;
	for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
		size_t l = strlen(whole[i]);
		if (n - b >= l && strncasecmp(v + b, whole[i], l) == 0)
			return true;
	}
	return false;
}

/* Without <base>, HTML.pm's target_uri rewrites a link with a scheme
 * or a "//" authority too: dot segments of its path removed, "http:"
 * before "//www..." (uri_target()). Reports the rewritten link, and an
 * <a href> as written, the key of its anchor text; false (nothing
 * reported) when the link is relative or target_uri leaves it as it
 * is. */
static bool report_targeted(struct rstate *r, const char *v, size_t n,
                            bool anchor, const char *tag)
{
	size_t b = 0, e = n, k = 0;
	while (b < e && is_blank((unsigned char)v[b]))
		b++;
	while (e > b && is_blank((unsigned char)v[e - 1]))
		e--;
	while (b + k < e && strchr(":/?#", v[b + k]) == NULL)
		k++;
	bool schemed = k > 0 && b + k < e && v[b + k] == ':';
	if (untargeted(v, n) ||
	    !(schemed || (e - b > 1 && v[b] == '/' && v[b + 1] == '/')))
		return false;
	struct arena_buf t;
	arena_buf_init(&t, r->scratch.a);
	if (uri_target(v + b, e - b, &t) != 0 ||
	    (t.len == e - b && memcmp(t.p, v + b, t.len) == 0))
		return false;
	r->o->uri(r->o->ctx, t.p, t.len, anchor ? HTML_ANCHOR : HTML_LINK,
	          tag);
	if (anchor)
		r->o->uri(r->o->ctx, v, n, HTML_ANCHOR_KEY, tag);
	return true;
}

/* The length of link v[0..n) as HTML.pm's target_uri keeps it: its
 * parse ends the fragment at a line feed ("x#a\nb" is "x#a"; the line
 * breaks elsewhere are dropped later). The links push_uri does not
 * target (data:, mailto:, file:, cid:, tel:) keep it all. */
static size_t target_len(const char *v, size_t n)
{
	if (untargeted(v, n))
		return n;
	const char *hash = memchr(v, '#', n);
	const char *lf = hash == NULL ? NULL :
	                 memchr(hash, '\n', n - (size_t)(hash - v));
	return lf == NULL ? n : (size_t)(lf - v);
}

/* Is v[0..n) only blanks and no-break spaces (U+00A0 in UTF-8, or the
 * byte 0xA0 a reference gives in a part SpamAssassin keeps as bytes)?
 * HTML.pm trims a link of those first and drops it when nothing is
 * left, so " " is no link, not the <base> itself. */
static bool blank_link(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] == 0xc2 && i + 1 < n &&
		    (unsigned char)v[i + 1] == 0xa0)
			i++;
		else if (!is_blank((unsigned char)v[i]) &&
		         (unsigned char)v[i] != 0xa0)
			return false;
	}
	return true;
}

/* Report link v[0..n) as resolved (target_len(), against the <base>);
 * an <a href> also as written when that differs, as HTML.pm keys its
 * anchor text by it. */
static void report_uri(struct rstate *r, const char *v, size_t n,
                       bool anchor, const char *tag)
{
	if (blank_link(v, n) || r->o->uri == NULL)
		return;
	struct arena_buf tmp;
	unsigned flags = 0;
	arena_buf_init(&tmp, r->scratch.a);
	enum html_link kind = anchor ? HTML_ANCHOR : HTML_LINK;
	if (r->base == NULL && report_targeted(r, v, n, anchor, tag))
		return;
	size_t tn = target_len(v, n);
	/* Relative links only mean something against a <base>. */
	if (r->base != NULL && uri_norm(v, n, &tmp, &flags) != 0 &&
	    memchr(v, ':', n) == NULL &&
	    uri_resolve(r->base, r->base_len, v, tn, &tmp) == 0) {
		r->o->uri(r->o->ctx, tmp.p, tmp.len, kind, tag);
		if (anchor)
			r->o->uri(r->o->ctx, v, n, HTML_ANCHOR_KEY, tag);
		return;
	}
	r->o->uri(r->o->ctx, v, tn, kind, tag);
	if (anchor && tn < n)   /* only the key of its anchor text */
		r->o->uri(r->o->ctx, v, n, kind, NULL);
}

static void close_anchor(struct rstate *r)
{
	if (!r->in_a)
		return;
	r->in_a = false;
	struct arena_buf *t = r->o->text;
	if (r->a_host[0] == '\0' || t->len <= r->a_text_start)
		return;
	char shown[256];
	size_t n = uri_host(t->p + r->a_text_start, t->len - r->a_text_start,
	                    shown, sizeof shown);
	if (n > 0 && uri_hosts_differ(shown, r->a_host))
		r->o->facts.mismatched_links++;
}

/* htmlstyle_attr_fn over a parsed tag: values decoded, as
 * HTML::Parser hands them to HTML.pm. */
static bool tag_attr(const void *ctx, const char *name, const char **v,
                     size_t *vl)
{
	*v = attr(ctx, name, vl);
	return *v != NULL;
}

/* Is attribute name of tag a link HTML.pm lists (its html_uri)? href
 * of area and link (of a and base: start_tag's own cases), src of img,
 * frame, iframe, embed, script and bgsound, action of form, background
 * of body, table, tr and td, data-saferedirecturl (Gmail's copy of a
 * link) of a, area and link; not <input type=image src>. */
static bool sa_link_attr(const char *tag, const char *name)
{
	static const struct {
		const char *attr, *tags;
	} links[] = {
		{ "href", " area link " },
		{ "src", " img frame iframe embed script bgsound " },
		{ "action", " form " },
		{ "background", " body table tr td " },
		{ "data-saferedirecturl", " a area link " },
	};
	char key[16];
	size_t l = strlen(tag);
	if (l + 3 > sizeof key)
		return false;
	key[0] = ' ';
	memcpy(key + 1, tag, l);
	key[l + 1] = ' ';
	key[l + 2] = '\0';
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (strcmp(name, links[i].attr) == 0)
			return strstr(links[i].tags, key) != NULL;
	return false;
}

/* The whitespace a start or end tag inserts (see tag_kinds): a <br> or
 * <div> adds a line break even after another one, so that two of them
 * end a paragraph as in SpamAssassin. */
static void tag_whitespace(struct rstate *r, unsigned kind)
{
	if (kind & T_PARA)
		ws_element(r, "\n\n");
	else if (kind & T_LINE)
		ws_element(r, "\n");
	else if (kind & T_CELL)
		ws_element(r, " ");
}

/* Does s[0..n) hold word w (any case)? */
static bool has_ci(const char *s, size_t n, const char *w)
{
	size_t l = strlen(w);
	for (size_t i = 0; i + l <= n; i++)
		if (strncasecmp(s + i, w, l) == 0)
			return true;
	return false;
}

/* Where "url" followed by blanks and '=' starts in s[0..n) after a
 * non-word byte (Perl's \burl\s*=, any case): the last one when last,
 * else the first; n when there is none. *after: the byte after the '='
 * and the blanks after it. */
static size_t url_key(const char *s, size_t n, bool last, size_t *after)
{
	size_t found = n;
	for (size_t i = 0; i + 3 < n; i++) {
		if (strncasecmp(s + i, "url", 3) != 0 ||
		    (i > 0 && (is_alnum((unsigned char)s[i - 1]) || s[i - 1] == '_')))
			continue;
		size_t k = i + 3;
		while (k < n && is_blank((unsigned char)s[k]))
			k++;
		if (k >= n || s[k] != '=')
			continue;
		for (k++; k < n && is_blank((unsigned char)s[k]); k++)
			;
		found = i;
		*after = k;
		if (!last)
			break;
	}
	return found;
}

/* <meta http-equiv=refresh content="0; url=http://..."> is a link to
 * HTML.pm: the content after its last "url=" of the first line (the
 * whole content when that line has none), up to a ';' (the blanks
 * before it, and the rest of that line, dropped). */
static void meta_refresh(struct rstate *r, const struct tag *t)
{
	size_t en = 0, n = 0, after = 0;
	const char *eq = attr(t, "http-equiv", &en), *v = attr(t, "content", &n);
	if (eq == NULL || v == NULL || !has_ci(eq, en, "refresh") ||
	    url_key(v, n, false, &after) == n)
		return;
	const char *nl = memchr(v, '\n', n);
	size_t line = nl != NULL ? (size_t)(nl - v) : n;
	if (url_key(v, line, true, &after) == line)
		after = 0;
	const char *u = v + after;
	size_t un = n - after;
	const char *semi = memchr(u, ';', un);
	if (semi != NULL) {
		size_t cut = (size_t)(semi - u);
		while (cut > 0 && is_blank((unsigned char)u[cut - 1]))
			cut--;
		const char *rest = memchr(semi, '\n', un - (size_t)(semi - u));
		if (rest == NULL) {
			un = cut;
		} else {
			char *w = arena_alloc(r->scratch.a, un);
			if (w == NULL)
				return;
			memcpy(w, u, cut);
			memcpy(w + cut, rest, un - (size_t)(rest - u));
			un = cut + un - (size_t)(rest - u);
			u = w;
		}
	}
	report_uri(r, u, un, false, "meta");
}

static void start_tag(struct rstate *r, const struct tag *t)
{
	size_t n;
	const char *v;
	unsigned kind = t->kind;
	r->o->facts.tags++;
	/* every start tag, void and self-closing ones too, as HTML.pm */
	htmlstyle_tag(r->style, t->name, true, tag_attr, t);
	tag_whitespace(r, kind);

	if (kind & T_A) {
		close_anchor(r);
		v = attr(t, "href", &n);
		anchor_start(r, v, v != NULL ? n : 0);
		if (v != NULL) {
			r->o->facts.links++;
			report_uri(r, v, n, true, t->name);
			r->in_a = true;
			r->a_text_start = r->o->text->len;
			if (uri_host(v, n, r->a_host, sizeof r->a_host) == 0)
				r->a_host[0] = '\0';
		}
	} else if (kind & T_IMG) {
		r->o->facts.images++;
		anchor_put(r, "<img>\n", 6);   /* HTML.pm's mark of it */
	} else if ((kind & T_BASE) && (v = attr(t, "href", &n)) != NULL) {
		/* a link too, resolved against the <base> before it */
		report_uri(r, v, n, false, t->name);
		struct arena_buf b;
		unsigned flags = 0;
		arena_buf_init(&b, r->scratch.a);
		if (uri_norm(v, n, &b, &flags) == 0) {
			r->base = arena_buf_finish(&b);
			r->base_len = b.len;
		}
	}
	static const char *const link_attrs[] = { "href", "src", "action",
	                                          "background",
	                                          "data-saferedirecturl", NULL };
	for (const char *const *a = link_attrs; *a != NULL; a++)
		if (!((kind & (T_A | T_BASE)) && strcmp(*a, "href") == 0) &&
		    sa_link_attr(t->name, *a) && (v = attr(t, *a, &n)) != NULL)
			report_uri(r, v, n, false, t->name);
	if (strcmp(t->name, "meta") == 0)
		meta_refresh(r, t);
}

static void end_tag(struct rstate *r, const struct tag *t)
{
	if (t->kind & T_A)
		close_anchor(r);
	if ((t->kind & T_A) && r->a_depth > 0)
		r->a_depth--;
	tag_whitespace(r, t->kind);
	htmlstyle_tag(r->style, t->name, false, NULL, NULL);
}

/* Find "</name" (any case) from s; returns its offset or len. */
static size_t find_end(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + 2 + nl <= len; i++) {
		const char *lt = memchr(s + i, '<', len - i);
		if (lt == NULL)
			break;
		i = (size_t)(lt - s);
		if (i + 2 + nl <= len && lt[1] == '/' &&
		    strncasecmp(lt + 2, name, nl) == 0)
			return i;
	}
	return len;
}

/* script, style, title, iframe, xmp, textarea: raw text up to the
 * matching end tag; plaintext: all the rest (HTML::Parser's literal
 * elements). */
static size_t raw_text(struct rstate *r, const struct tag *t, const char *s,
                       size_t len)
{
	bool plain = strcmp(t->name, "plaintext") == 0;
	size_t e = plain ? len : find_end(s, len, t->name);
	if (strcmp(t->name, "title") == 0) {
		decode_entities(s, e, r->o->title, r->latin1, false);
		/* SpamAssassin shows the title as a paragraph of the text. */
		text_node(r, s, e);
		ws_element(r, "\n\n");
	} else if (plain || strcmp(t->name, "iframe") == 0 ||
	           strcmp(t->name, "xmp") == 0 ||
	           strcmp(t->name, "textarea") == 0) {
		/* HTML::Parser reads their content as literal text (markup
		 * as written), which HTML.pm shows: a link inside is found
		 * only as text. References stay as written too, but in a
		 * textarea, where "&amp;" is "&" (spamassassin -t). */
		r->no_refs = strcmp(t->name, "textarea") != 0;
		text_node(r, s, e);
		r->no_refs = false;
	}
	r->in_text = false;
	if (plain)
		return len;   /* no end tag closes it */
	if (e == len) {
		r->o->facts.malformed = true;
		return len;
	}
	r->o->facts.tag_events++;   /* its end tag */
	if (strcmp(t->name, "title") != 0)   /* the title's is above */
		tag_whitespace(r, t->kind);  /* xmp's paragraph (audit19 M3) */
	const char *gt = memchr(s + e, '>', len - e);
	htmlstyle_tag(r->style, t->name, false, NULL, NULL);
	return gt ? (size_t)(gt - s) + 1 : len;
}

/* The kind a marked section's name gives it; IGNORE outranks CDATA,
 * CDATA RCDATA, RCDATA the others (HTML::Parser). */
static enum html_msect msect_name(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum html_msect kind;
	} names[] = {
		{ "ignore", HTML_MS_IGNORE }, { "cdata", HTML_MS_CDATA },
		{ "rcdata", HTML_MS_RCDATA },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(names[i].name, s, n) == 0)
			return names[i].kind;
	return HTML_MS_INCLUDE;
}

static bool is_name_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':';
}

enum html_msect html_marked_section(const char *s, size_t len, size_t *open)
{
	enum html_msect kind = HTML_MS_INCLUDE;
	size_t i = 3;
	for (;;) {
		while (i < len && is_blank((unsigned char)s[i]))
			i++;
		if (i >= len || !is_alpha((unsigned char)s[i]))
			break;
		size_t n = i;
		while (i < len && is_name_char((unsigned char)s[i]))
			i++;
		enum html_msect k = msect_name(s + n, i - n);
		if (k > kind)
			kind = k;
	}
	if (i >= len || s[i] != '[')
		return HTML_MS_NONE;
	*open = i + 1;
	return kind;
}

/* A marked section opened at s (open: the opener's length): CDATA and
 * RCDATA content is one text node, IGNORE content goes, INCLUDE content
 * is read as HTML up to the "]]>" render() looks for. Returns bytes
 * consumed. */
static size_t marked_section(struct rstate *r, enum html_msect kind,
                             const char *s, size_t len, size_t open)
{
	if (kind == HTML_MS_INCLUDE) {
		r->ms_open++;
		return open;
	}
	const char *e = memmem(s + open, len - open, "]]>", 3);
	size_t n = e ? (size_t)(e - s) - open : len - open;
	if (kind != HTML_MS_IGNORE && n > 0) {
		r->no_refs = kind == HTML_MS_CDATA;
		r->in_text = false;   /* a text node of its own */
		text_node(r, s + open, n);
		r->no_refs = false;
	}
	if (e == NULL)
		r->o->facts.malformed = true;
	return e ? (size_t)(e - s) + 3 : len;
}

/* Comments, marked sections, <!DOCTYPE>, <?xml?>; returns bytes
 * consumed. */
static size_t skip_markup(struct rstate *r, const char *s, size_t len)
{
	size_t open;
	enum html_msect kind;
	if (len >= 3 && memcmp(s, "<![", 3) == 0 &&
	    (kind = html_marked_section(s, len, &open)) != HTML_MS_NONE)
		return marked_section(r, kind, s, len, open);
	if (len >= 4 && memcmp(s, "<!--", 4) == 0) {
		const char *e = html_comment_end(s + 4, s + len);
		if (e == NULL) {
			r->o->facts.malformed = true;
			return len;
		}
		return (size_t)(e - s);
	}
	const char *gt = memchr(s, '>', len);
	if (gt == NULL) {
		r->o->facts.malformed = true;
		return len;
	}
	return (size_t)(gt - s) + 1;
}

const char *html_comment_end(const char *p, const char *end)
{
	const char *q = memmem(p, (size_t)(end - p), "-->", 3);
	if (q != NULL)
		return q + 3;
	q = memchr(p, '>', (size_t)(end - p));
	return q ? q + 1 : NULL;
}

/* Whether an INCLUDE marked section ends ("]]>") before *stop; then
 * *stop is where, and the section is closed. */
static bool ms_close(struct rstate *r, const char *p, const char **stop)
{
	const char *e = memmem(p, (size_t)(*stop - p), "]]>", 3);
	if (e == NULL)
		return false;
	*stop = e;
	r->ms_open--;
	return true;
}

/* Renders in into o; returns whether a reference above U+00FF went to
 * the text. */
static bool render(const char *in, size_t len, struct html_out *o,
                   bool latin1)
{
	struct rstate *r = calloc(1, sizeof *r);
	if (r == NULL)
		return false;
	r->o = o;
	r->latin1 = latin1;
	arena_buf_init(&r->scratch, o->text->a);
	r->style = htmlstyle_new();
	if (r->style == NULL) {
		free(r);
		return false;
	}
	const char *p = in, *end = in + len;
	struct tag t;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *stop = lt ? lt : end;
		if (r->ms_open > 0 && ms_close(r, p, &stop)) {
			if (stop > p)
				text_node(r, p, (size_t)(stop - p));
			p = stop + 3;
			r->in_text = false;
			continue;
		}
		if (stop > p)
			text_node(r, p, (size_t)(stop - p));
		if (lt == NULL) {
			end_blanks(r, p, (size_t)(stop - p));
			break;
		}
		size_t left = (size_t)(end - lt);
		if (left > 1 && (lt[1] == '!' || lt[1] == '?')) {
			p = lt + skip_markup(r, lt, left);
			r->in_text = false;
			continue;
		}
		size_t n = parse_tag(r, lt, left, &t);
		if (n == 0) {
			/* Not a tag ('<' in text) or cut off at the end. */
			if (left > 1 && (is_alpha((unsigned char)lt[1]) || lt[1] == '/') &&
			    memchr(lt, '>', left) == NULL) {
				o->facts.malformed = true;
				break;
			}
			/* HTML::Parser starts a text node at it ("a<b": "a",
			 * "<b"), which the text after it goes on */
			r->in_text = false;
			text_node(r, lt, 1);
			p = lt + 1;
			continue;
		}
		p = lt + n;
		r->in_text = false;
		o->facts.tag_events++;
		if (t.end) {
			end_tag(r, &t);
			continue;
		}
		start_tag(r, &t);
		if (!t.self_closing && (t.kind & T_RAW))
			p += raw_text(r, &t, p, (size_t)(end - p));
	}
	close_anchor(r);
	anchor_flush(r);
	bool wide = r->wide;
	htmlstyle_free(r->style);
	free(r);
	return wide;
}

/* Whether in's text is written with references to U+0080..U+00FF as one
 * byte each, as SpamAssassin writes it: an HTML part of ASCII bytes
 * goes to HTML::Parser as bytes, and its text stays a byte string (so
 * &#146; is byte 92, not C2 92) unless a reference above U+00FF is in
 * some text node (then the whole text is UTF-8, as when the source has
 * any non-ASCII byte). A source with references of both kinds is
 * rendered once more to learn where the wide ones are. */
static bool latin1_text(const char *in, size_t len, const struct html_out *o)
{
	bool high = false, wide = false;
	if (!o->ascii_source)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned long cp;
		if (in[i] == '&' && entity(in + i, len - i, &cp) > 0) {
			high |= cp >= 0x80 && cp <= 0xff;
			wide |= cp > 0xff;
		}
	}
	if (!high || !wide)
		return high;
	struct arena_buf text, invisible, title;
	arena_buf_init(&text, o->text->a);
	arena_buf_init(&invisible, o->text->a);
	arena_buf_init(&title, o->text->a);
	struct html_out probe = { &text, &invisible, &title, NULL, NULL, true,
	                          { 0 }, NULL };
	return !render(in, len, &probe, true);
}

void html_render(const char *in, size_t len, struct html_out *o)
{
	render(in, len, o, latin1_text(in, len, o));
}

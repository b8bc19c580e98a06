/* htmlstyle.c — see htmlstyle.h. */
#include "htmlstyle.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Colours are 0xRRGGBB, or one of these: name_to_rgb's "invalid", an
 * empty "#", and "transparent" until the style resolves it. */
enum { COL_INVALID = -1, COL_EMPTY = -2, COL_TRANSPARENT = -3 };

/* CSS 3 colour keywords (sorted). */
static const struct {
	const char *name;
	long rgb;
} css_colors[] = {
	{ "aliceblue", 0xf0f8ff }, { "antiquewhite", 0xfaebd7 },
	{ "aqua", 0x00ffff }, { "aquamarine", 0x7fffd4 },
	{ "azure", 0xf0ffff }, { "beige", 0xf5f5dc }, { "bisque", 0xffe4c4 },
	{ "black", 0x000000 }, { "blanchedalmond", 0xffebcd },
	{ "blue", 0x0000ff }, { "blueviolet", 0x8a2be2 },
	{ "brown", 0xa52a2a }, { "burlywood", 0xdeb887 },
	{ "cadetblue", 0x5f9ea0 }, { "chartreuse", 0x7fff00 },
	{ "chocolate", 0xd2691e }, { "coral", 0xff7f50 },
	{ "cornflowerblue", 0x6495ed }, { "cornsilk", 0xfff8dc },
	{ "crimson", 0xdc143c }, { "cyan", 0x00ffff },
	{ "darkblue", 0x00008b }, { "darkcyan", 0x008b8b },
	{ "darkgoldenrod", 0xb8860b }, { "darkgray", 0xa9a9a9 },
	{ "darkgreen", 0x006400 }, { "darkgrey", 0xa9a9a9 },
	{ "darkkhaki", 0xbdb76b }, { "darkmagenta", 0x8b008b },
	{ "darkolivegreen", 0x556b2f }, { "darkorange", 0xff8c00 },
	{ "darkorchid", 0x9932cc }, { "darkred", 0x8b0000 },
	{ "darksalmon", 0xe9967a }, { "darkseagreen", 0x8fbc8f },
	{ "darkslateblue", 0x483d8b }, { "darkslategray", 0x2f4f4f },
	{ "darkslategrey", 0x2f4f4f }, { "darkturquoise", 0x00ced1 },
	{ "darkviolet", 0x9400d3 }, { "deeppink", 0xff1493 },
	{ "deepskyblue", 0x00bfff }, { "dimgray", 0x696969 },
	{ "dimgrey", 0x696969 }, { "dodgerblue", 0x1e90ff },
	{ "firebrick", 0xb22222 }, { "floralwhite", 0xfffaf0 },
	{ "forestgreen", 0x228b22 }, { "fuchsia", 0xff00ff },
	{ "gainsboro", 0xdcdcdc }, { "ghostwhite", 0xf8f8ff },
	{ "gold", 0xffd700 }, { "goldenrod", 0xdaa520 }, { "gray", 0x808080 },
	{ "green", 0x008000 }, { "greenyellow", 0xadff2f },
	{ "grey", 0x808080 }, { "honeydew", 0xf0fff0 },
	{ "hotpink", 0xff69b4 }, { "indianred", 0xcd5c5c },
	{ "indigo", 0x4b0082 }, { "ivory", 0xfffff0 }, { "khaki", 0xf0e68c },
	{ "lavender", 0xe6e6fa }, { "lavenderblush", 0xfff0f5 },
	{ "lawngreen", 0x7cfc00 }, { "lemonchiffon", 0xfffacd },
	{ "lightblue", 0xadd8e6 }, { "lightcoral", 0xf08080 },
	{ "lightcyan", 0xe0ffff }, { "lightgoldenrodyellow", 0xfafad2 },
	{ "lightgray", 0xd3d3d3 }, { "lightgreen", 0x90ee90 },
	{ "lightgrey", 0xd3d3d3 }, { "lightpink", 0xffb6c1 },
	{ "lightsalmon", 0xffa07a }, { "lightseagreen", 0x20b2aa },
	{ "lightskyblue", 0x87cefa }, { "lightslategray", 0x778899 },
	{ "lightslategrey", 0x778899 }, { "lightsteelblue", 0xb0c4de },
	{ "lightyellow", 0xffffe0 }, { "lime", 0x00ff00 },
	{ "limegreen", 0x32cd32 }, { "linen", 0xfaf0e6 },
	{ "magenta", 0xff00ff }, { "maroon", 0x800000 },
	{ "mediumaquamarine", 0x66cdaa }, { "mediumblue", 0x0000cd },
	{ "mediumorchid", 0xba55d3 }, { "mediumpurple", 0x9370db },
	{ "mediumseagreen", 0x3cb371 }, { "mediumslateblue", 0x7b68ee },
	{ "mediumspringgreen", 0x00fa9a }, { "mediumturquoise", 0x48d1cc },
	{ "mediumvioletred", 0xc71585 }, { "midnightblue", 0x191970 },
	{ "mintcream", 0xf5fffa }, { "mistyrose", 0xffe4e1 },
	{ "moccasin", 0xffe4b5 }, { "navajowhite", 0xffdead },
	{ "navy", 0x000080 }, { "oldlace", 0xfdf5e6 }, { "olive", 0x808000 },
	{ "olivedrab", 0x6b8e23 }, { "orange", 0xffa500 },
	{ "orangered", 0xff4500 }, { "orchid", 0xda70d6 },
	{ "palegoldenrod", 0xeee8aa }, { "palegreen", 0x98fb98 },
	{ "paleturquoise", 0xafeeee }, { "palevioletred", 0xdb7093 },
	{ "papayawhip", 0xffefd5 }, { "peachpuff", 0xffdab9 },
	{ "peru", 0xcd853f }, { "pink", 0xffc0cb }, { "plum", 0xdda0dd },
	{ "powderblue", 0xb0e0e6 }, { "purple", 0x800080 },
	{ "red", 0xff0000 }, { "rosybrown", 0xbc8f8f },
	{ "royalblue", 0x4169e1 }, { "saddlebrown", 0x8b4513 },
	{ "salmon", 0xfa8072 }, { "sandybrown", 0xf4a460 },
	{ "seagreen", 0x2e8b57 }, { "seashell", 0xfff5ee },
	{ "sienna", 0xa0522d }, { "silver", 0xc0c0c0 },
	{ "skyblue", 0x87ceeb }, { "slateblue", 0x6a5acd },
	{ "slategray", 0x708090 }, { "slategrey", 0x708090 },
	{ "snow", 0xfffafa }, { "springgreen", 0x00ff7f },
	{ "steelblue", 0x4682b4 }, { "tan", 0xd2b48c }, { "teal", 0x008080 },
	{ "thistle", 0xd8bfd8 }, { "tomato", 0xff6347 },
	{ "turquoise", 0x40e0d0 }, { "violet", 0xee82ee },
	{ "wheat", 0xf5deb3 }, { "white", 0xffffff },
	{ "whitesmoke", 0xf5f5f5 }, { "yellow", 0xffff00 },
	{ "yellowgreen", 0x9acd32 },
};

/* "#" + hex digits as HTML.pm's name_to_rgb reads them. */
static long hex_color(const char *s, size_t n)
{
	char h[7];
	size_t l = 0;
	for (size_t i = 0; i < n; i++)
		if (isxdigit((unsigned char)s[i])) {
			if (l == 6)
				break;
			h[l++] = s[i];
		}
	if (l > 3 && l < 6)
		l = 3;
	while (l % 3 != 0)
		h[l++] = '0';
	if (l == 0)
		return COL_EMPTY;
	if (l == 3) {
		h[5] = h[2], h[4] = h[2], h[3] = h[1], h[2] = h[1];
		h[1] = h[0];
	}
	h[6] = '\0';
	return strtol(h, NULL, 16);
}

/* rgb(r, g, b) or rgb(r%, g%, b%) to a colour; COL_INVALID otherwise. */
static long rgb_func(const char *s)
{
	const char *p = strstr(s, "rgb(");
	if (p == NULL)
		return COL_INVALID;
	p += 4;
	long v[3];
	int pct = -1;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return COL_INVALID;
		char *e;
		v[i] = strtol(p, &e, 10);
		int is_pct = *e == '%';
		if (pct >= 0 && is_pct != pct)
			return COL_INVALID;
		pct = is_pct;
		p = e + is_pct;
		if (i < 2) {
			if (*p++ != ',')
				return COL_INVALID;
			while (isspace((unsigned char)*p))
				p++;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != ')')
		return COL_INVALID;
	char buf[32];
	size_t l = 1;
	buf[0] = '#';
	for (int i = 0; i < 3; i++) {
		long x = pct ? (long)(v[i] / 100.0 * 255) : v[i];
		l += (size_t)snprintf(buf + l, sizeof buf - l, "%02lx",
		                      x > 0xfff ? 0xfff : x);
	}
	return hex_color(buf, l);
}

/* HTML.pm's name_to_rgb: a keyword, #hex (any length) or rgb(). */
static long sa_color(const char *s, size_t n)
{
	char buf[64];
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= sizeof buf)
		return COL_INVALID;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	/* the names are sorted and unique: a binary search finds what the
	 * list read in order would */
	size_t lo = 0, hi = sizeof css_colors / sizeof css_colors[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(css_colors[mid].name, buf);
		if (d == 0)
			return css_colors[mid].rgb;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (strstr(buf, "rgb(") != NULL)
		return rgb_func(buf);
	if (strspn(buf, "#0123456789abcdef") != n || buf[0] != '#')
		return COL_INVALID;
	return hex_color(buf, n);
}

/* style="color: rgb(...)": the digits of the value, clamped. */
static long css_rgb(const char *v)
{
	long c[3] = { 0, 0, 0 };
	int i = 0;
	for (const char *p = v; *p != '\0' && i < 3; p++) {
		if (*p == ',')
			i++;
		else if (isdigit((unsigned char)*p)) {
			c[i] = c[i] * 10 + (*p - '0');
			if (c[i] > 255)
				c[i] = 255;
		}
	}
	return c[0] << 16 | c[1] << 8 | c[2];
}

struct lc_style {
	char tag[12];
	long fg, bg;
	long size;               /* font size, 3 the default */
	bool display_none;       /* style "display: none" */
	bool visibility_hidden;  /* style "visibility: hidden" */
};

/* snprintf(dst, 12, "%s", src) without the printf machinery. */
static void copy_tag(char dst[12], const char *src)
{
	size_t l = strnlen(src, 11);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

#define LC_DEPTH 256

/* A start tag's attributes, as the caller lends them. */
struct lc_attrs {
	htmlstyle_attr_fn fn;
	const void *ctx;
};

struct htmlstyle {
	struct lc_style st[LC_DEPTH];
	size_t n;
	long basefont;           /* <basefont size>, 3 the default */
	long max_size;           /* the largest size set by an attribute */
};

/* One "color: v" or "background-color: v" declaration. */
static void css_color_decl(long *dst, const char *v)
{
	char val[64];
	size_t l = strlen(v);
	if (l >= sizeof val)
		l = sizeof val - 1;
	for (size_t i = 0; i < l; i++)
		val[i] = (char)tolower((unsigned char)v[i]);
	val[l] = '\0';
	/* a trailing "!important" is not part of the colour */
	char *bang = strrchr(val, '!');
	if (bang != NULL && strcmp(bang + 1 + strspn(bang + 1, " \t"),
	                           "important") == 0) {
		*bang = '\0';
		l = strlen(val);
		while (l > 0 && isspace((unsigned char)val[l - 1]))
			val[--l] = '\0';
	}
	if (strstr(val, "rgb") != NULL)
		*dst = css_rgb(val);
	else if (strcmp(val, "inherit") == 0)
		return;
	else if (strcmp(val, "transparent") == 0)
		*dst = COL_TRANSPARENT;
	else
		*dst = sa_color(val, l);
}

/* "background: ..." : the first colour among the last layer's words. */
static void css_background(long *dst, const char *v)
{
	const char *layer = v;
	int depth = 0;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (*p == ',' && depth == 0)
			layer = p + 1;
	}
	const char *p = layer;
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		const char *w = p;
		depth = 0;
		while (*p != '\0' && (depth > 0 || !isspace((unsigned char)*p))) {
			depth += *p == '(' ? 1 : *p == ')' && depth > 0 ? -1 : 0;
			p++;
		}
		if (p > w) {
			long c = sa_color(w, (size_t)(p - w));
			if (c != COL_INVALID) {
				*dst = c;
				return;
			}
		}
	}
}

#define BLANKS " \t\r\n\f\v"

/* The value v of a declaration (after its ':') as HTML.pm's patterns
 * take it, "\s*(.+?)\s*$" (colour) or "\s*(\S.*?)\s*$" (others):
 * blanks at both ends dropped; on one line (their "."); blanks alone
 * are a colour value (" ", no colour), not another one. NULL when the
 * pattern does not match. v is ours to cut. */
static const char *decl_value(char *v, bool colour)
{
	size_t lead = strspn(v, BLANKS), l = strlen(v);
	while (l > lead && isspace((unsigned char)v[l - 1]))
		v[--l] = '\0';
	if (l > lead)
		return strchr(v + lead, '\n') == NULL ? v + lead : NULL;
	return colour && v[strspn(v, "\n")] != '\0' ? " " : NULL;
}

/* Any other "name: value" declaration HTML.pm keeps as style_<name>,
 * the name as written: html_font_invisible() reads style_display and
 * style_visibility (their values in any case). */
static void lc_prop(struct lc_style *st, char *d)
{
	size_t kl = strspn(d, "abcdefghijklmnopqrstuvwxyz"
	                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
	size_t colon = kl + strspn(d + kl, BLANKS);
	const char *v;
	if (kl == 0 || d[colon] != ':' ||
	    (v = decl_value(d + colon + 1, false)) == NULL)
		return;
	if (kl == 7 && strncmp(d, "display", 7) == 0)
		st->display_none = strcasecmp(v, "none") == 0;
	else if (kl == 10 && strncmp(d, "visibility", 10) == 0)
		st->visibility_hidden = strcasecmp(v, "hidden") == 0;
}

/* One declaration d (its leading blanks dropped) of style="..." into
 * st, as HTML.pm's patterns read it, in their order. */
static void lc_decl(struct lc_style *st, char *d)
{
	const char *v;
	if (strncasecmp(d, "color:", 6) == 0 &&
	    (v = decl_value(d + 6, true)) != NULL)
		css_color_decl(&st->fg, v);
	else if (strncasecmp(d, "background-color:", 17) == 0 &&
	         (v = decl_value(d + 17, true)) != NULL)
		css_color_decl(&st->bg, v);
	else if (strncmp(d, "background:", 11) == 0 &&
	         (v = decl_value(d + 11, true)) != NULL)
		css_background(&st->bg, v);
	else
		lc_prop(st, d);
}

/* Apply style="..." to st (parent: the style below it). */
static void lc_css(struct lc_style *st, const struct lc_style *parent,
                   const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *e = memchr(p, ';', (size_t)(end - p));
		if (e == NULL)
			e = end;
		char d[256];
		size_t l = (size_t)(e - p) < sizeof d - 1 ? (size_t)(e - p) :
		           sizeof d - 1;
		memcpy(d, p, l);
		d[l] = '\0';
		lc_decl(st, d + strspn(d, BLANKS));
		p = e + 1;
	}
	if (st->bg == COL_TRANSPARENT)
		st->bg = parent->bg;
	if (st->fg == COL_TRANSPARENT)
		st->fg = st->bg;
}

static bool lc_has(const struct htmlstyle *s, const char *tag)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->st[i].tag, tag) == 0)
			return true;
	return false;
}

/* The decimal number at v[0..n) (digits only; it fits a long). */
static long lc_number(const char *v, size_t n)
{
	long x = 0;
	for (size_t i = 0; i < n && isdigit((unsigned char)v[i]) &&
	                   x < 100000000; i++)
		x = x * 10 + (v[i] - '0');
	return x;
}

/* Has the start tag `name` (lower case, th as td) one of the
 * attributes HTML.pm's text style reads for it (%ok_attributes)? */
static bool lc_ok_attr(const char *name, const struct lc_attrs *at)
{
	static const char *const ok[][7] = {
		{ "font", "color", "face", "size" },
		{ "basefont", "color", "face", "size" },
		{ "body", "text", "bgcolor", "link", "alink", "vlink",
		  "background" },
		{ "marquee", "bgcolor", "background" },
		{ "table", "bgcolor", "style" }, { "tr", "bgcolor", "style" },
		{ "td", "bgcolor", "style" }, { "span", "style" },
		{ "p", "style" }, { "div", "style" }, { "a", "style" },
	};
	const char *v;
	size_t vl;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (strcmp(ok[i][0], name) != 0)
			continue;
		for (size_t j = 1; j < 7 && ok[i][j] != NULL; j++)
			if (at->fn(at->ctx, ok[i][j], &v, &vl))
				return true;
		return false;
	}
	return false;
}

/* HTML.pm compares the style's size with the largest after each of
 * those attributes it reads, so an inherited size counts too; <font
 * size> (or <basefont size> relative) sets it: "+N" and "-N" from the
 * base font, "N" as it is. */
static void lc_size(struct htmlstyle *s, struct lc_style *st,
                    const char *name, const struct lc_attrs *at)
{
	if (!lc_ok_attr(name, at))
		return;
	if (st->size > s->max_size)
		s->max_size = st->size;
	const char *v;
	size_t vl;
	if (!at->fn(at->ctx, "size", &v, &vl) ||
	    (strcmp(name, "font") != 0 && strcmp(name, "basefont") != 0))
		return;
	while (vl > 0 && isspace((unsigned char)*v))
		v++, vl--;
	bool sign = vl > 1 && (*v == '+' || *v == '-') &&
	            isdigit((unsigned char)v[1]);
	if (sign)
		st->size = s->basefont + (*v == '-' ? -1 : 1) *
		                         lc_number(v + 1, vl - 1);
	else if (vl > 0 && isdigit((unsigned char)*v))
		st->size = lc_number(v, vl);
	if (st->size > s->max_size)
		s->max_size = st->size;
}

/* HTML.pm's text_style for a start (open) or end tag (at: its
 * attributes). */
static void lc_tag(struct htmlstyle *s, const char *name, bool open,
                   const struct lc_attrs *at)
{
	const char *v;
	size_t vl;
	if (!open) {
		if (strcmp(name, "body") == 0 || !lc_has(s, name))
			return;
		while (s->n > 1 && strcmp(s->st[--s->n].tag, name) != 0)
			;
		return;
	}
	if (strcmp(name, "basefont") == 0 &&
	    at->fn(at->ctx, "size", &v, &vl)) {
		size_t b = 0;
		while (b < vl && isspace((unsigned char)v[b]))
			b++;
		if (b < vl && isdigit((unsigned char)v[b])) {
			s->basefont = lc_number(v + b, vl - b);
			return;
		}
	}
	bool td = strcmp(name, "td") == 0, tr = strcmp(name, "tr") == 0;
	if ((td || tr) && lc_has(s, name))
		while (s->n > 1) {
			const char *t = s->st[s->n - 1].tag;
			if (strcmp(t, "font") == 0 || strcmp(t, "td") == 0 ||
			    (tr && strcmp(t, "tr") == 0))
				s->n--;
			else
				break;
		}
	if (s->n == LC_DEPTH)
		return;
	struct lc_style *st = &s->st[s->n], *parent = &s->st[s->n - 1];
	*st = *parent;
	copy_tag(st->tag, name);
	s->n++;
	if (strcmp(name, "big") == 0 || strcmp(name, "small") == 0) {
		st->size += name[0] == 'b' ? 1 : -1;
		return;
	}
	bool fontish = strcmp(name, "font") == 0 ||
	               strcmp(name, "basefont") == 0;
	lc_size(s, st, name, at);
	if (fontish && at->fn(at->ctx, "color", &v, &vl))
		st->fg = sa_color(v, vl);
	if (strcmp(name, "body") == 0 &&
	    at->fn(at->ctx, "text", &v, &vl))
		st->fg = sa_color(v, vl);
	bool styled = !fontish && strcmp(name, "body") != 0 &&
	              strcmp(name, "marquee") != 0 &&
	              strcmp(name, "big") != 0 && strcmp(name, "small") != 0;
	if (styled && at->fn(at->ctx, "style", &v, &vl))
		lc_css(st, parent, v, vl);
}

/* HTML.pm's html_font_invisible, first branches. */
static bool lc_low(const struct lc_style *st)
{
	if (st->fg == st->bg)
		return true;
	if (st->fg < 0 || st->bg < 0)
		return false;
	double r = (double)((st->fg >> 16 & 255) - (st->bg >> 16 & 255));
	double g = (double)((st->fg >> 8 & 255) - (st->bg >> 8 & 255));
	double b = (double)((st->fg & 255) - (st->bg & 255));
	double d = sqrt(pow(0.2126 * r, 2) + pow(0.7152 * g, 2) +
	                pow(0.0722 * b, 2));
	return d < 12;
}

static const struct lc_style *lc_top(const struct htmlstyle *s)
{
	return &s->st[s->n - 1];
}

unsigned htmlstyle_font(const struct htmlstyle *s)
{
	const struct lc_style *st = lc_top(s);
	if (lc_low(st))
		return HTMLSTYLE_LOW_CONTRAST;   /* checked first, as HTML.pm */
	return st->fg == COL_INVALID || st->bg == COL_INVALID ?
	       HTMLSTYLE_INVALID_COLOR : 0;
}

bool htmlstyle_invisible(const struct htmlstyle *s)
{
	const struct lc_style *st = lc_top(s);
	return htmlstyle_font(s) != 0 || st->size <= 1 || st->display_none ||
	       st->visibility_hidden;
}

long htmlstyle_max_size(const struct htmlstyle *s)
{
	return s->max_size;
}

/* The elements HTML.pm's text style reads (%elements_text_style; th is
 * read as td). */
static bool lc_styled(const char *name)
{
	static const char *const tags[] = {
		"body", "font", "table", "tr", "td", "big", "small",
		"basefont", "marquee", "span", "p", "div", "a",
	};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (tags[i][0] == name[0] && strcmp(tags[i], name) == 0)
			return true;
	return false;
}

void htmlstyle_tag(struct htmlstyle *s, const char *name, bool open,
                   htmlstyle_attr_fn attr, const void *ctx)
{
	const struct lc_attrs at = { attr, ctx };
	if (strcmp(name, "th") == 0)
		name = "td";
	if (lc_styled(name))
		lc_tag(s, name, open, &at);
}

struct htmlstyle *htmlstyle_new(void)
{
	struct htmlstyle *s = malloc(sizeof *s);
	if (s == NULL)
		return NULL;
	s->n = 1;
	s->st[0] = (struct lc_style){ .tag = "default", .fg = 0x000000,
	                              .bg = 0xffffff, .size = 3 };
	s->basefont = s->max_size = 3;
	return s;
}

void htmlstyle_free(struct htmlstyle *s)
{
	free(s);
}


/*
 * sa_html.c — SpamAssassin eval (saeval.h): HTMLEval. The HTML facts
 * of a message (the tags of its text/html parts, in one walk per part,
 * cached), the colour model of font_low_contrast and the HTMLEval
 * functions; the tag walk is lent to FreeMail and HTTPSMismatch
 * (saeval_int.h).
 */
#include "saeval_int.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "msg.h"

/* What the HTML rules ask of one text/html part (html_facts()), found
 * in one walk over it. */
struct html_part_facts {
	size_t chars;             /* html_length(): UTF-8 characters */
	bool img;                 /* an <img> (or </img>) tag */
	bool img_in_a;            /* an <img> start tag inside <a> */
	struct span {             /* its comments, "<!--" to "-->" or bogus */
		const char *p;
		size_t n;
	} *comments, *titles;     /* and its <title> texts (undecoded) */
	size_t ncomments, capcomments, ntitles, captitles;
	/* HTML.pm's counts: tags (start and end), those of HTML elements,
	 * both again for names not met before, end tags with none open */
	size_t tags, elements, tags_seen, elements_seen, closed_extra;
	double image_area;        /* <img width height>, as HTML.pm guesses */
	bool face_bad;            /* <font face> not a list of font names */
	bool form_mailto;         /* <form action="mailto:..."> */
	bool embeds;              /* <object> or <embed> */
	bool iframe_src;          /* <iframe src> not blank */
	struct tag_open {         /* HTML.pm's inside{}: every tag name met */
		const char *name;     /* in the part's text, any case */
		size_t len;
		double open;
	} *open;
	size_t nopen, capopen;
	unsigned font;            /* FONT_* flags, once font_done */
	int max_size;             /* largest font size (3 the default), too */
	bool font_done;
	bool oom;
};

/* ---- HTML (HTMLEval) ---- */

/* html_test's facts of a text/html part beside the font colours; NULL
 * when name is none of them. */
static const bool *part_flag(const struct html_part_facts *f,
                             const char *name)
{
	return strcmp(name, "font_face_bad") == 0 ? &f->face_bad :
	       strcmp(name, "form_action_mailto") == 0 ? &f->form_mailto :
	       strcmp(name, "embeds") == 0 ? &f->embeds : NULL;
}

bool saeval_ok_html_test(const struct saeval_call *c)
{
	static const struct html_part_facts none;
	return c->nargs >= 1 && (strcmp(c->args[0], "html") == 0 ||
	                         strcmp(c->args[0], "font_low_contrast") == 0 ||
	                         strcmp(c->args[0], "font_invalid_color") == 0 ||
	                         part_flag(&none, c->args[0]) != NULL);
}

/* What html_font_invisible() finds for text (font_flags()). */
enum { FONT_LOW_CONTRAST = 1, FONT_INVALID_COLOR = 2 };
static bool html_font_flag(const struct saeval_ctx *x, unsigned want);

static struct saeval_cache *facts_or(const struct saeval_ctx *x,
                                     struct saeval_cache *own);

/* html_test('html'): a text/html part was rendered (HTML_MESSAGE);
 * html_test('font_low_contrast'), html_test('font_invalid_color'): see
 * font_flags(); font_face_bad, form_action_mailto, embeds: html_tests(). */
bool saeval_ev_html_test(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	if (strcmp(c->args[0], "font_low_contrast") == 0)
		return html_font_flag(x, FONT_LOW_CONTRAST);
	if (strcmp(c->args[0], "font_invalid_color") == 0)
		return html_font_flag(x, FONT_INVALID_COLOR);
	if (strcmp(c->args[0], "html") == 0)
		return msg_html(x->m)->parts > 0;
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	bool hit = false;
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++)
		hit = *part_flag(&k->hp[i], c->args[0]);
	saeval_html_facts_free(&own);
	return hit;
}

/* Is s[0..n) at p the tag name `tag` (case-insensitive, then a blank,
 * '/', '>' or the end)? */
bool saeval_tag_at(const char *p, const char *end, const char *tag)
{
	size_t l = strlen(tag);
	if ((size_t)(end - p) < l || strncasecmp(p, tag, l) != 0)
		return false;
	return p + l == end || isspace((unsigned char)p[l]) || p[l] == '/' ||
	       p[l] == '>';
}

static const char *find_ci(const char *p, const char *end, const char *lit)
{
	size_t l = strlen(lit);
	if (l > 0 && !isalpha((unsigned char)lit[0])) {
		/* only where its first byte is (a non-letter has no other
		 * case): memchr skips to those */
		while (p + l <= end) {
			p = memchr(p, lit[0], (size_t)(end - p) - l + 1);
			if (p == NULL)
				return NULL;
			if (strncasecmp(p, lit, l) == 0)
				return p;
			p++;
		}
		return NULL;
	}
	for (; p + l <= end; p++)
		if (strncasecmp(p, lit, l) == 0)
			return p;
	return NULL;
}

/* HTML::Parser reads the content of these elements as text, up to
 * their end tag: the end tag to look for, or NULL. */
static const char *literal_end(const char *name, const char *end)
{
	static const char *const lit[][2] = {
		{ "script", "</script" }, { "style", "</style" },
		{ "xmp", "</xmp" }, { "iframe", "</iframe" },
		{ "title", "</title" }, { "textarea", "</textarea" },
		{ "plaintext", "\x01\x02never" },
	};
	for (size_t i = 0; i < sizeof lit / sizeof lit[0]; i++)
		if (saeval_tag_at(name, end, lit[i][0]))
			return lit[i][1];
	return NULL;
}

/* Calls f(name, end, close, ctx) for every start or end tag of HTML
 * text as HTML::Parser reports them (not in comments, not in the content
 * of script, style, title, ...), and cf(comment, len, ctx) (when not
 * NULL) for every comment ("<!--" to "-->", or a bogus one such as
 * "<!1234>") and, with markup, every declaration or processing
 * instruction and one of these not closed (then the rest of the text),
 * until one returns true;
 * returns whether one did. name points at the tag name, end at the end
 * of the text. */
/* The comment starting after the '<' at p: 1 and *after past its end;
 * 0 when p starts none; -1 when it is not closed (the rest of the text
 * is comment). A comment is "<!--" to html_comment_end(), or "<!" then
 * neither "-" nor a declaration's name: HTML::Parser's bogus comment, up
 * to the next '>' ("<![if !mso]>", "<![endif]>"; walk() has passed
 * marked sections such as "<![CDATA[" already). With markup, also a
 * declaration ("<!DOCTYPE html>") or a processing instruction ("<?" to
 * the next '>'): none of these is text (HTML::Parser hands them to other
 * handlers than text's). */
static int comment_at(const char *p, const char *end, bool markup,
                      const char **after)
{
	const char *q;
	if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
		*after = html_comment_end(p + 3, end);
	} else if ((end - p >= 2 && p[0] == '!' && p[1] != '-' &&
	            (markup || !isalpha((unsigned char)p[1]))) ||
	           (markup && end - p >= 1 && p[0] == '?')) {
		/* a bogus comment, a declaration ("<!DOCTYPE ...>") or a
		 * processing instruction ("<?xml ...>"): no text either */
		q = memchr(p, '>', (size_t)(end - p));
		*after = q ? q + 1 : NULL;
	} else
		return 0;
	return *after ? 1 : -1;
}

/* The '>' ending the tag whose name starts at name (p: where to look
 * from), past quoted attribute values; end when there is none. */
static const char *tag_gt(const char *p, const char *name, const char *end)
{
	char quote = 0;
	while (p < end && (quote || *p != '>')) {
		if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '"' || *p == '\'') &&
		         p > name && p[-1] == '=')
			quote = *p;
		p++;
	}
	return p;
}

/* Past the marked section opening at the '<' before p: an INCLUDE
 * section's content is HTML, read on; the content of the others is
 * text or dropped, never tags or comments (HTML::Parser). NULL when
 * such a section is not closed; p itself when none opens. */
static const char *past_marked_section(const char *p, const char *end)
{
	size_t open, len = (size_t)(end - p) + 1;
	if (len < 3 || memcmp(p - 1, "<![", 3) != 0)
		return p;
	enum html_msect kind = html_marked_section(p - 1, len, &open);
	if (kind == HTML_MS_NONE)
		return p;
	p += open - 1;
	if (kind == HTML_MS_INCLUDE)
		return p;
	const char *e = memmem(p, (size_t)(end - p), "]]>", 3);
	return e ? e + 3 : NULL;
}

static bool walk(const char *s, size_t n, html_tag_fn f,
                 bool (*cf)(const char *, size_t, void *), bool markup,
                 void *ctx)
{
	const char *p = s, *end = s + n, *after;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		if ((after = past_marked_section(p, end)) != p) {
			if (after == NULL)
				return false;
			p = after;
			continue;
		}
		int cm = comment_at(p, end, markup, &after);
		if (cm < 0) {
			/* not closed: the rest is markup, no text */
			if (cf != NULL && markup)
				(void)cf(p - 1, (size_t)(end - (p - 1)), ctx);
			return false;
		}
		if (cm > 0) {
			if (cf != NULL && cf(p - 1, (size_t)(after - (p - 1)), ctx))
				return true;
			p = after;
			continue;
		}
		bool close = p < end && *p == '/';
		const char *name = close ? p + 1 : p;
		if (name >= end || !isalpha((unsigned char)*name))
			continue;
		if (f != NULL && f(name, end, close, ctx))
			return true;
		const char *lit = close ? NULL : literal_end(name, end);
		if (lit != NULL) {
			const char *q = find_ci(name, end, lit);
			if (q == NULL)
				return false;
			p = q;
			continue;
		}
		/* skip the rest of the tag, quoted attribute values included */
		p = tag_gt(p, name, end);
	}
	return false;
}

bool saeval_html_walk_tags(const char *s, size_t n, html_tag_fn f,
                           void *ctx)
{
	return walk(s, n, f, NULL, false, ctx);
}

bool saeval_html_walk(const char *s, size_t n, html_tag_fn f,
                      bool (*cf)(const char *, size_t, void *), void *ctx)
{
	return walk(s, n, f, cf, true, ctx);
}

const char *saeval_tag_gt(const char *name, const char *end)
{
	return tag_gt(name, name, end);
}

static bool tag_is(const char *name, const char *end, bool close, void *ctx)
{
	(void)close;
	return saeval_tag_at(name, end, ctx);
}

/* Does HTML text contain tag `tag` (start or end tag)? */
static bool html_has_tag(const char *s, size_t n, const char *tag)
{
	return saeval_html_walk_tags(s, n, tag_is, (void *)(uintptr_t)tag);
}

/* An <img> start tag inside <a> (HTML.pm appends "<img>" to the anchor
 * text then); inside counts start tags up, end tags down, never below 0. */
static bool img_in_anchor(const char *name, const char *end, bool close,
                          void *ctx)
{
	size_t *inside_a = ctx;
	if (saeval_tag_at(name, end, "a")) {
		if (!close)
			(*inside_a)++;
		else if (*inside_a > 0)
			(*inside_a)--;
		return false;
	}
	return !close && *inside_a > 0 && saeval_tag_at(name, end, "img");
}

/* ---- HTML facts of a message, in one walk per part (cached) ---- */

/* What ends a tag name for saeval_tag_at(). */
static bool tag_delim(char c)
{
	return isspace((unsigned char)c) || c == '/' || c == '>';
}

/* FNV-1a of the lower-case bytes. */
static uint32_t ts_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 16777619u;
	return h;
}

/* Stored (lower-case) name equals s[0..n) ignoring case? */
static bool ts_same(const struct tagset *t, const struct tag_slot *sl,
                    const char *s, size_t n)
{
	if (sl->len != n)
		return false;
	const char *a = t->s + sl->off1 - 1;
	for (size_t i = 0; i < n; i++)
		if (a[i] != (char)tolower((unsigned char)s[i]))
			return false;
	return true;
}

static bool ts_grow(struct tagset *t)
{
	size_t ns = t->nslot ? t->nslot * 2 : 64;
	struct tag_slot *sl = calloc(ns, sizeof *sl);
	if (sl == NULL)
		return false;
	for (size_t i = 0; i < t->nslot; i++) {
		if (t->slot[i].off1 == 0)
			continue;
		size_t j = t->slot[i].hash & (ns - 1);
		while (sl[j].off1 != 0)
			j = (j + 1) & (ns - 1);
		sl[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = sl;
	t->nslot = ns;
	return true;
}

/* Add name s[0..n) (kept lower-case); sets t->oom when out of memory. */
static void ts_add(struct tagset *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if ((t->n + 1) * 2 > t->nslot && !ts_grow(t)) {
		t->oom = true;
		return;
	}
	uint32_t h = ts_hash(s, n);
	size_t j = h & (t->nslot - 1);
	for (; t->slot[j].off1 != 0; j = (j + 1) & (t->nslot - 1))
		if (t->slot[j].hash == h && ts_same(t, &t->slot[j], s, n))
			return;
	if (t->len + n + 1 > t->cap) {
		size_t nc = t->cap ? t->cap : 256;
		while (nc < t->len + n + 1)
			nc *= 2;
		char *ns = realloc(t->s, nc);
		if (ns == NULL) {
			t->oom = true;
			return;
		}
		t->s = ns;
		t->cap = nc;
	}
	for (size_t i = 0; i < n; i++)
		t->s[t->len + i] = (char)tolower((unsigned char)s[i]);
	t->slot[j] = (struct tag_slot){ .off1 = t->len + 1, .len = n,
	                                .hash = h };
	t->len += n;
	t->n++;
}

static bool ts_has(const struct tagset *t, const char *s, size_t n)
{
	if (t->nslot == 0)
		return false;
	uint32_t h = ts_hash(s, n);
	for (size_t j = h & (t->nslot - 1); t->slot[j].off1 != 0;
	     j = (j + 1) & (t->nslot - 1))
		if (t->slot[j].hash == h && ts_same(t, &t->slot[j], s, n))
			return true;
	return false;
}

struct scan_state {
	struct tagset *ts;
	struct html_part_facts *f;
	size_t inside_a;     /* <a> open */
};


/* inside{name} of f: start tags count up, end tags down, not below 0
 * (an end tag with none open counts in closed_extra). Returns whether
 * the name was met before. */
static bool count_open(struct html_part_facts *f, const char *name,
                       size_t len, bool close)
{
	struct tag_open *t = NULL;
	for (size_t i = 0; i < f->nopen && t == NULL; i++)
		if (f->open[i].len == len &&
		    strncasecmp(f->open[i].name, name, len) == 0)
			t = &f->open[i];
	bool seen = t != NULL;
	if (t == NULL) {
		if (!saeval_grow((void **)&f->open, f->nopen, &f->capopen,
		          sizeof *f->open)) {
			f->oom = true;
			return true;
		}
		t = &f->open[f->nopen++];
		*t = (struct tag_open){ name, len, 0 };
	}
	if (!close)
		t->open++;
	else if (t->open > 0)
		t->open--;
	else
		f->closed_extra++;
	return seen;
}

/* HTML.pm's %elements: the HTML 4 elements, strict and loose, and three
 * non-standard ones (sorted, for bsearch). */
static const char *const html_elements[] = {
	"a", "abbr", "acronym", "address", "applet", "area", "b", "base",
	"basefont", "bdo", "big", "blockquote", "body", "br", "button",
	"caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
	"dfn", "dir", "div", "dl", "dt", "em", "fieldset", "font", "form",
	"frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr",
	"html", "i", "iframe", "img", "input", "ins", "isindex", "kbd",
	"label", "legend", "li", "link", "map", "menu", "meta", "nobr",
	"noframes", "noscript", "object", "ol", "optgroup", "option", "p",
	"param", "pre", "q", "s", "samp", "script", "select", "small", "span",
	"strike", "strong", "style", "sub", "sup", "table", "tbody", "td",
	"textarea", "tfoot", "th", "thead", "title", "tr", "tt", "u", "ul",
	"var", "x-sigsep", "x-tab",
};

/* The tag name s[0..n) lower-cased into buf (cut to fit). */
static const char *lower_name(const char *s, size_t n, char *buf,
                              size_t len)
{
	size_t l = n < len - 1 ? n : len - 1;
	for (size_t i = 0; i < l; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[l] = '\0';
	return buf;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, *(const char *const *)b);
}

/* Is the lower-case name an element of HTML.pm's, or a namespaced
 * Office tag it counts as one ("o:p", "st1:place")? */
static bool is_element(const char *name)
{
	if (bsearch(name, html_elements,
	            sizeof html_elements / sizeof html_elements[0],
	            sizeof html_elements[0], cmp_name) != NULL)
		return true;
	const char *c = name[0] == 'o' ? name + 1 :
	                name[0] == 's' && name[1] == 't' &&
	                isdigit((unsigned char)name[2]) ? name + 3 : NULL;
	if (c == NULL || *c != ':' || c[1] == '\0')
		return false;
	for (c++; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return false;
	return true;
}

/* Does v[0..n) hold `lit` (ASCII letters in any case)? */
static bool has_ci(const char *v, size_t n, const char *lit)
{
	return find_ci(v, v + n, lit) != NULL;
}

/* An <img width height> as HTML.pm sizes it: pixels, or a percentage of
 * an 800x600 screen; anything else (or 0) 200. */
static double img_side(const char *v, size_t n, double percent)
{
	size_t d = 0;
	while (d < n && isdigit((unsigned char)v[d]))
		d++;
	bool pct = d > 0 && d + 1 == n && v[d] == '%';
	double x = d > 0 && (d == n || pct) ? strtod(v, NULL) : 0;
	if (pct)
		x *= percent;
	return x > 0 ? x : 200;
}

/* v[0..*n) with its character references decoded, as HTML::Parser hands
 * attribute values and text over ("Verdana,&#13;&#10;sans-serif"): v
 * itself when it has none, else a copy in *a, an arena made here for the
 * caller to free (NULL, and *n 0, when out of memory). */
static const char *refs_decoded(const char *v, size_t *n, struct arena **a)
{
	*a = NULL;
	if (memchr(v, '&', *n) == NULL)
		return v;
	struct arena_buf b;
	*a = arena_new(0);
	if (*a == NULL) {
		*n = 0;
		return NULL;
	}
	arena_buf_init(&b, *a);
	html_decode_entities(v, *n, &b);
	*n = b.failed ? 0 : b.len;
	return arena_buf_finish(&b);
}

/* HTML.pm's html_tests for a start tag of an element (lower-case tag,
 * its attributes a[0..ae)): font faces, image area, forms, embeds,
 * iframes. */
static void html_tests(struct html_part_facts *f, const char *tag,
                       const char *a, const char *ae)
{
	const char *v, *h;
	size_t vl, hl;
	struct arena *dec;
	if (strcmp(tag, "font") == 0 && saeval_tag_attr(a, ae, "face", &v, &vl)) {
		v = refs_decoded(v, &vl, &dec);
		f->face_bad |= v != NULL &&
		               !saeval_re_find(RE_FONT_FACE, v, vl, NULL, 0);
		arena_free(dec);
	} else if (strcmp(tag, "img") == 0 &&
	         saeval_tag_attr(a, ae, "width", &v, &vl) &&
	         saeval_tag_attr(a, ae, "height", &h, &hl)) {
		f->image_area += img_side(v, vl, 8) * img_side(h, hl, 6);
	} else if (strcmp(tag, "form") == 0 &&
	           saeval_tag_attr(a, ae, "action", &v, &vl)) {
		v = refs_decoded(v, &vl, &dec);
		f->form_mailto |= v != NULL && has_ci(v, vl, "mailto:");
		arena_free(dec);
	} else if (strcmp(tag, "object") == 0 || strcmp(tag, "embed") == 0)
		f->embeds = true;
	else if (strcmp(tag, "iframe") == 0 &&
	         saeval_tag_attr(a, ae, "src", &v, &vl)) {
		while (vl > 0 && isspace((unsigned char)*v))
			v++, vl--;
		f->iframe_src |= vl > 0;
	}
}

/* HTML.pm renders these besides its elements (html_tests runs on them). */
static bool is_trick(const char *tag)
{
	static const char *const tricks[] = {
		"bgsound", "embed", "listing", "plaintext", "xmp",
	};
	for (size_t i = 0; i < sizeof tricks / sizeof tricks[0]; i++)
		if (strcmp(tag, tricks[i]) == 0)
			return true;
	return false;
}

/* A <title>'s text: from after its '>' up to "</title" (or the end). */
static void keep_title(struct html_part_facts *f, const char *name,
                       const char *end)
{
	const char *gt = memchr(name, '>', (size_t)(end - name));
	if (gt == NULL)
		return;
	const char *stop = find_ci(gt + 1, end, "</title");
	if (!saeval_grow((void **)&f->titles, f->ntitles, &f->captitles,
	                 sizeof *f->titles))
		f->oom = true;
	else
		f->titles[f->ntitles++] = (struct span){
			gt + 1, (size_t)((stop ? stop : end) - gt - 1) };
}

/* saeval_html_walk_tags() callback of html_scan(): never stops the walk. */
static bool scan_tag(const char *name, const char *end, bool close,
                     void *ctx)
{
	struct scan_state *st = ctx;
	struct html_part_facts *f = st->f;
	size_t tl = 0;
	while (name + tl < end && !tag_delim(name[tl]))
		tl++;
	ts_add(st->ts, name, tl);
	char lname[16];
	lower_name(name, tl, lname, sizeof lname);
	bool seen = count_open(f, name, tl, close);
	bool elem = tl < sizeof lname && is_element(lname);
	f->tags++;
	f->tags_seen += !seen;
	f->elements += elem;
	f->elements_seen += elem && !seen;
	if (!close && (elem || is_trick(lname)))
		html_tests(f, lname, name + tl, tag_gt(name + tl, name, end));
	if (tl == 1 && tolower((unsigned char)name[0]) == 'a') {
		if (!close)
			st->inside_a++;
		else if (st->inside_a > 0)
			st->inside_a--;
	} else if (tl == 3 && strncasecmp(name, "img", 3) == 0) {
		f->img = true;
		f->img_in_a |= !close && st->inside_a > 0;
	} else if (tl == 5 && !close && strncasecmp(name, "title", 5) == 0) {
		keep_title(f, name, end);
	}
	return false;
}

/* walk()'s comment callback of html_scan(): the span kept. */
static bool scan_comment(const char *s, size_t n, void *ctx)
{
	struct html_part_facts *f = ((struct scan_state *)ctx)->f;
	if (!saeval_grow((void **)&f->comments, f->ncomments, &f->capcomments,
	          sizeof *f->comments))
		f->oom = true;
	else
		f->comments[f->ncomments++] = (struct span){ s, n };
	return false;
}

static bool walk(const char *s, size_t n, html_tag_fn f,
                 bool (*cf)(const char *, size_t, void *), bool markup,
                 void *ctx);

/* One walk, to its end, for what every callback would have found: each
 * tag name goes into ts (a saeval_tag_at(tag) callback stops exactly when its
 * tag is among them), <img> for html_has_tag("img"), <img> inside <a>
 * for img_in_anchor(), the tags' balances and counts, the titles and
 * comments, and what html_tests() looks for in start tags. */
static void html_scan(const char *s, size_t n, struct tagset *ts,
                      struct html_part_facts *f)
{
	struct scan_state st = { ts, f, 0 };
	(void)walk(s, n, scan_tag, scan_comment, false, &st);
}

static size_t utf8_chars(const char *s, size_t n);

/* The HTML facts of message m into k, once. */
static void facts_build(struct saeval_cache *k, const struct msg *m)
{
	if (k->html_done)
		return;
	k->html_done = true;
	size_t nh = 0;
	for (size_t i = 0; i < msg_part_count(m); i++)
		nh += saeval_is_html_part(msg_part_at(m, i));
	k->hp = calloc(nh ? nh : 1, sizeof *k->hp);
	if (k->hp == NULL)
		return;
	bool oom = false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (!saeval_is_html_part(p))
			continue;
		struct html_part_facts *f = &k->hp[k->nhp++];
		f->chars = utf8_chars(p->text.ptr, p->text.len);
		html_scan(p->text.ptr, p->text.len, &k->tags, f);
		oom |= f->oom;
	}
	k->html_ok = !k->tags.oom && !oom;
}

void saeval_html_facts_free(struct saeval_cache *k)
{
	for (size_t i = 0; i < k->nhp; i++) {
		free(k->hp[i].comments);
		free(k->hp[i].titles);
		free(k->hp[i].open);
	}
	free(k->hp);
	free(k->tags.s);
	free(k->tags.slot);
}

/* The HTML facts of x's message, worked out once per cache; NULL when
 * there is no cache or no memory (the caller then walks itself). */
static const struct saeval_cache *html_facts(const struct saeval_ctx *x)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return NULL;
	facts_build(k, x->m);
	return k->html_ok ? k : NULL;
}

/* html_facts(), or without a cache the facts worked out into own (the
 * caller releases it with saeval_html_facts_free()); NULL when out of
 * memory. */
static struct saeval_cache *facts_or(const struct saeval_ctx *x,
                                     struct saeval_cache *own)
{
	struct saeval_cache *k = x->cache != NULL ? x->cache : own;
	facts_build(k, x->m);
	return k->html_ok ? k : NULL;
}

/* html_charset_faraway(): never true in SpamAssassin 4.0.1, whatever
 * ok_locales says: HTML.pm keeps a <meta> tag's charset beside its
 * results, and the function looks for it in them (checked with
 * spamassassin and ok_locales en on a gb2312 <meta> page). */
bool saeval_ev_html_charset_faraway(const struct saeval_call *c,
                                    const struct saeval_ctx *x)
{
	(void)c;
	(void)x;
	return false;
}

bool saeval_ev_html_tag_exists(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	const char *tag = c->args[0];
	size_t tl = strlen(tag), d = 0;
	while (d < tl && !tag_delim(tag[d]))
		d++;
	/* a name without blank, '/' or '>' is saeval_tag_at()'s whole name */
	const struct saeval_cache *k = d == tl ? html_facts(x) : NULL;
	if (k != NULL)
		return ts_has(&k->tags, tag, tl);
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (saeval_is_html_part(p) &&
		    html_has_tag(p->text.ptr, p->text.len, tag))
			return true;
	}
	return false;
}

/* Characters in UTF-8 text: SpamAssassin (normalize_charset on) hands
 * HTML::Parser the part decoded to characters. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0, i = 0;
	/* eight at a time: continuation bytes have bit 7 set, bit 6 clear */
	for (; i + 8 <= n; i += 8) {
		uint64_t w = saeval_load8(s + i);
		uint64_t cont = w & ~(w << 1) & HIGH8;
		c += 8 - saeval_high_bits8(cont);
	}
	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

bool saeval_is_html_part(const struct msg_part *p)
{
	/* Node.pm renders a part as HTML when its effective type is
	 * text/html (declared, or by a *.html name) and its text is not
	 * empty: an empty one has no HTML results (no length). */
	return p->rendered_html;
}

/* HTML.pm's "length" of a part: its source before rendering. */
static double html_length(const struct msg_part *p)
{
	return (double)utf8_chars(p->text.ptr, p->text.len);
}

/* html_image_only(min, max): a text/html part with an <img> tag whose
 * length is more than min and at most max. */
bool saeval_ev_html_image_only(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	double lo = c->num[0], hi = c->num[1];
	const struct saeval_cache *k = html_facts(x);
	for (size_t i = 0; k != NULL && i < k->nhp; i++) {
		double l = (double)k->hp[i].chars;
		if (l > lo && l <= hi && k->hp[i].img)
			return true;
	}
	if (k != NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (!saeval_is_html_part(p))
			continue;
		double l = html_length(p);
		if (l > lo && l <= hi &&
		    html_has_tag(p->text.ptr, p->text.len, "img"))
			return true;
	}
	return false;
}

/* html_range's values of HTML.pm that the tag walk counts. */
static const char *const walk_ranges[] = {
	"closed_extra_ratio", "bad_tag_ratio", "non_element_ratio",
};

/* html_range('length', min, max): a text/html part's length is in
 * (min, max]; max "inf": above min. Also obfuscation_ratio, max_size
 * and walk_ranges. */
bool saeval_ok_html_range(const struct saeval_call *c)
{
	bool known = strcmp(c->args[0], "length") == 0 ||
	             strcmp(c->args[0], "obfuscation_ratio") == 0 ||
	             strcmp(c->args[0], "max_size") == 0;
	for (size_t i = 0; i < sizeof walk_ranges / sizeof walk_ranges[0]; i++)
		known |= strcmp(c->args[0], walk_ranges[i]) == 0;
	return c->nargs >= 2 && known;
}

/* Is ok(c, length) true for a text/html part? */
static bool any_html_length(const struct saeval_call *c,
                            const struct saeval_ctx *x,
                            bool (*ok)(const struct saeval_call *, double))
{
	const struct saeval_cache *k = html_facts(x);
	if (k != NULL) {
		for (size_t i = 0; i < k->nhp; i++)
			if (ok(c, (double)k->hp[i].chars))
				return true;
		return false;
	}
	const struct msg *m = x->m;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (saeval_is_html_part(p) && ok(c, html_length(p)))
			return true;
	}
	return false;
}

static bool range_ok(const struct saeval_call *c, double l)
{
	double lo = c->num[1];
	bool inf = c->nargs == 2 || strcmp(c->args[2], "inf") == 0;
	double hi = inf ? 0 : c->num[2];
	return l > lo && (inf || l <= hi);
}

/* html_range('obfuscation_ratio', min, max): in a text/html part where
 * a word was split by markup, the splits over the tags (start and end)
 * are in (min, max], as HTML.pm's obfuscation_ratio. */
static bool obfuscation_range(const struct saeval_call *c, const struct msg *m)
{
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (saeval_is_html_part(p) && p->html_obfuscation > 0 &&
		    p->html_tag_events > 0 &&
		    range_ok(c, (double)p->html_obfuscation /
		                (double)p->html_tag_events))
			return true;
	}
	return false;
}

/* A walk_ranges value of part f, NAN where HTML.pm leaves it undefined
 * (no tag; no element among them). */
static double walk_value(const struct html_part_facts *f, const char *name)
{
	if (f->tags == 0)
		return NAN;
	if (strcmp(name, "closed_extra_ratio") == 0)
		return (double)f->closed_extra / (double)f->tags;
	if (strcmp(name, "bad_tag_ratio") == 0)
		return f->elements == 0 ? NAN :
		       (double)(f->tags - f->elements) / (double)f->tags;
	return f->elements_seen == 0 ? NAN :
	       (double)(f->tags_seen - f->elements_seen) /
	       (double)f->tags_seen;
}

static void style_facts(const struct msg *m, struct saeval_cache *k);

bool saeval_ev_html_range(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	if (strcmp(c->args[0], "obfuscation_ratio") == 0)
		return obfuscation_range(c, x->m);
	if (strcmp(c->args[0], "length") == 0)
		return any_html_length(c, x, range_ok);
	struct saeval_cache own = { 0 };
	struct saeval_cache *k = facts_or(x, &own);
	bool size = strcmp(c->args[0], "max_size") == 0;
	if (k != NULL && size)
		style_facts(x->m, k);
	bool hit = false;
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++) {
		const struct html_part_facts *f = &k->hp[i];
		double v = size ? f->max_size : walk_value(f, c->args[0]);
		hit = !isnan(v) && range_ok(c, v);
	}
	saeval_html_facts_free(&own);
	return hit;
}

/* html_image_ratio(min, max): in a text/html part with images of some
 * area (html_tests()), its rendered text's non-blank characters per
 * pixel are in (min, max]. */
bool saeval_ev_html_image_ratio(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	bool hit = false;
	for (size_t i = 0, j = 0; k != NULL && i < msg_part_count(m) && !hit;
	     i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (!saeval_is_html_part(p) || j >= k->nhp)
			continue;
		double area = k->hp[j++].image_area;   /* parts in order */
		double r = (double)p->html_nonspace / area;
		hit = area > 0 && r > c->num[0] && r <= c->num[1];
	}
	saeval_html_facts_free(&own);
	return hit;
}

/* check_iframe_src(): an <iframe> with a source, in a text/html part. */
bool saeval_ev_iframe_src(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	(void)c;
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	bool hit = false;
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++)
		hit = k->hp[i].iframe_src;
	saeval_html_facts_free(&own);
	return hit;
}

/* html_eval('length', 'OP N'), OP one of < <= > >= == !=: Perl's
 * "$val OP N" on a text/html part's length. Parses the expression into
 * op (1 <, 2 <=, 3 >, 4 >=, 5 ==, 6 !=) and *n; 0 when it does not. */
int saeval_html_eval_op(const char *e, double *n)
{
	static const char *const ops[] = { "<=", ">=", "==", "!=", "<", ">" };
	static const int codes[] = { 2, 4, 5, 6, 1, 3 };
	while (*e == ' ')
		e++;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t l = strlen(ops[i]);
		if (strncmp(e, ops[i], l) != 0)
			continue;
		char *rest;
		*n = strtod(e + l, &rest);
		while (*rest == ' ')
			rest++;
		return rest != e + l && *rest == '\0' ? codes[i] : 0;
	}
	return 0;
}

bool saeval_ok_html_eval(const struct saeval_call *c)
{
	double n;
	return c->nargs >= 2 && strcmp(c->args[0], "length") == 0 &&
	       saeval_html_eval_op(c->args[1], &n) != 0;
}

static bool eval_ok(const struct saeval_call *c, double l)
{
	double n = c->html_n;
	int op = c->html_op;
	return op == 1 ? l < n : op == 2 ? l <= n : op == 3 ? l > n :
	       op == 4 ? l >= n : op == 5 ? l == n : l != n;
}

bool saeval_ev_html_eval(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	return any_html_length(c, x, eval_ok);
}

/* html_tag_balance(TAG, 'OP N'): TAG a name of letters and digits. */
bool saeval_ok_html_tag_balance(const struct saeval_call *c)
{
	double n;
	if (c->nargs < 2 || c->args[0][0] == '\0' ||
	    saeval_html_eval_op(c->args[1], &n) == 0)
		return false;
	for (const char *s = c->args[0]; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

/* html_tag_balance(TAG, 'OP N'): in some text/html part where TAG was
 * met, "inside{TAG} OP N" holds (html_scan()'s balances). */
bool saeval_ev_html_tag_balance(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	size_t tl = strlen(c->args[0]);
	bool hit = false;
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++) {
		const struct html_part_facts *f = &k->hp[i];
		for (size_t j = 0; j < f->nopen && !hit; j++)
			hit = f->open[j].len == tl &&
			      strncasecmp(f->open[j].name, c->args[0], tl) == 0 &&
			      eval_ok(c, f->open[j].open);
	}
	saeval_html_facts_free(&own);
	return hit;
}

/* Length of HTML text s[0..n) as SpamAssassin 4.0.1 measures a title
 * (HTML.pm parses the decoded text): a UTF-8 character or a "&...;"
 * reference counts one. */
static size_t text_length(const char *s, size_t n)
{
	size_t chars = 0;
	for (size_t i = 0; i < n; i++) {
		size_t semi = 0;
		for (size_t k = i + 1; s[i] == '&' && k < n && k < i + 12; k++) {
			if (s[k] == ';') {
				semi = k;
				break;
			}
			if (!isalnum((unsigned char)s[k]) && s[k] != '#')
				break;
		}
		if (semi) {
			chars++;
			i = semi;
			continue;
		}
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	}
	return chars;
}

/* html_title_subject_ratio(R): in some text/html part, a title (in
 * characters, a reference one: text_length) is more than R times as
 * long as the Subject (its UTF-8 bytes with the final line break, as
 * get('Subject') gives octets in SpamAssassin 4.0.1: a 5-character
 * Chinese Subject is 16); no Subject: no. */
bool saeval_ev_html_title_subject(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	struct strbuf b = { 0 };
	bool any = saeval_get_header(x, "Subject", false, &b);
	const char *subj = saeval_buf_str(&b);
	size_t slen = subj != NULL ? b.len + 1 : 0;
	free(b.p);
	if (!any || slen == 0)
		return false;
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	bool hit = false;
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++)
		for (size_t j = 0; j < k->hp[i].ntitles && !hit; j++)
			hit = (double)text_length(k->hp[i].titles[j].p,
			                         k->hp[i].titles[j].n) /
			      (double)slen > c->num[0];
	saeval_html_facts_free(&own);
	return hit;
}

/* html_text_match('anchor', '<img>'): an <img> inside <a> (only this
 * pair: other texts and patterns need the rendered anchor text). */
bool saeval_ok_html_text_match(const struct saeval_call *c)
{
	return c->nargs >= 2 && (strcmp(c->args[0], "comment") == 0 ||
	                         strcmp(c->args[0], "title") == 0 ||
	                         (strcmp(c->args[0], "anchor") == 0 &&
	                          strcmp(c->args[1], "<img>") == 0));
}

/* Does RE match the text s[0..n), its character references decoded
 * first when decode (a title's text, as HTML::Parser hands it over)? */
static bool span_match(const struct saeval_call *c, pcre2_match_data *md,
                       const char *s, size_t n, bool decode)
{
	struct arena *a = NULL;
	if (decode && (s = refs_decoded(s, &n, &a)) == NULL)
		return false;
	bool hit = pcre2_match(c->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) > 0;
	arena_free(a);
	return hit;
}

/* html_text_match('comment' or 'title', RE): a comment or title of a
 * text/html part (html_scan()'s) matches RE. */
static bool text_match(const struct saeval_call *c, const struct saeval_ctx *x)
{
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = facts_or(x, &own);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->re, NULL);
	bool title = strcmp(c->args[0], "title") == 0, hit = false;
	for (size_t i = 0; md != NULL && k != NULL && i < k->nhp && !hit; i++) {
		const struct html_part_facts *f = &k->hp[i];
		const struct span *sp = title ? f->titles : f->comments;
		size_t n = title ? f->ntitles : f->ncomments;
		for (size_t j = 0; j < n && !hit; j++)
			hit = span_match(c, md, sp[j].p, sp[j].n, title);
	}
	pcre2_match_data_free(md);
	saeval_html_facts_free(&own);
	return hit;
}

bool saeval_ev_html_text_match(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	if (c->re != NULL)
		return text_match(c, x);
	const struct saeval_cache *k = html_facts(x);
	for (size_t i = 0; k != NULL && i < k->nhp; i++)
		if (k->hp[i].img_in_a)
			return true;
	if (k != NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		size_t inside_a = 0;
		if (saeval_is_html_part(p) &&
		    saeval_html_walk_tags(p->text.ptr, p->text.len,
		                          img_in_anchor, &inside_a))
			return true;
	}
	return false;
}

/* html_test('font_low_contrast'): text drawn in a colour (almost) equal
 * to its background, as HTML.pm's text-style stack sees it. That model
 * is SpamAssassin's own, so it is kept here rather than in html.c: only
 * body/font/basefont colours (text=, color=) and style="color: ...;
 * background[-color]: ..." on table, tr, td, th, span, p, div, a count
 * (bgcolor= attributes are ignored); defaults black on white. */
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
};

/* snprintf(dst, 12, "%s", src) without the printf machinery. */
static void copy_tag(char dst[12], const char *src)
{
	size_t l = strnlen(src, 11);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

#define LC_DEPTH 256

struct lc_state {
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
		while (l > 0 && isspace((unsigned char)d[l - 1]))
			d[--l] = '\0';
		const char *k = d + strspn(d, " \t\r\n\f");
		if (strncasecmp(k, "color:", 6) == 0)
			css_color_decl(&st->fg, k + 6 + strspn(k + 6, " \t\r\n"));
		else if (strncasecmp(k, "background-color:", 17) == 0)
			css_color_decl(&st->bg, k + 17 + strspn(k + 17, " \t\r\n"));
		else if (strncmp(k, "background:", 11) == 0)
			css_background(&st->bg, k + 11);
		p = e + 1;
	}
	if (st->bg == COL_TRANSPARENT)
		st->bg = parent->bg;
	if (st->fg == COL_TRANSPARENT)
		st->fg = st->bg;
}

static bool lc_has(const struct lc_state *s, const char *tag)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->st[i].tag, tag) == 0)
			return true;
	return false;
}

bool saeval_tag_attr_next(const char **at, const char *end, const char **k,
                          size_t *kl, const char **v, size_t *vl)
{
	const char *p = *at;
	while (p < end && (isspace((unsigned char)*p) || *p == '/'))
		p++;
	*k = p;
	while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '>')
		p++;
	*kl = (size_t)(p - *k);
	if (*kl == 0)
		return false;
	while (p < end && isspace((unsigned char)*p))
		p++;
	*v = p;
	*vl = 0;
	if (p < end && *p == '=') {
		p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && (*p == '"' || *p == '\'')) {
			const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
			*v = p + 1;
			p = q ? q + 1 : end;
			*vl = (size_t)((q ? q : end) - *v);
		} else {
			*v = p;
			while (p < end && !isspace((unsigned char)*p))
				p++;
			*vl = (size_t)(p - *v);
		}
	}
	*at = p;
	return true;
}

/* The value of attribute `name` in a start tag's attribute text. */
bool saeval_tag_attr(const char *p, const char *end, const char *name,
                     const char **v, size_t *vl)
{
	size_t nl = strlen(name), kl;
	const char *k;
	while (saeval_tag_attr_next(&p, end, &k, &kl, v, vl))
		if (kl == nl && strncasecmp(k, name, nl) == 0)
			return true;
	return false;
}

size_t saeval_drop_bom(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 3 <= n && memcmp(s + i, "\xEF\xBB\xBF", 3) == 0)
			i += 2;
		else
			s[o++] = s[i];
	}
	return o;
}

/* Does attribute name k[0..kl) hold "W/name" (W a word byte; any case):
 * HTML.pm's /\w{1,8}\/name/, unanchored? */
static bool slash_alias(const char *k, size_t kl, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 1; i + 1 + nl <= kl; i++)
		if (k[i] == '/' && saeval_is_word(k[i - 1]) &&
		    strncasecmp(k + i + 1, name, nl) == 0)
			return true;
	return false;
}

bool saeval_tag_uri_attr(const char *p, const char *end, const char *name,
                         const char **v, size_t *vl)
{
	const char *k, *av;
	size_t kl, avl;
	bool found = false, alias = false;
	while (saeval_tag_attr_next(&p, end, &k, &kl, &av, &avl)) {
		bool is_alias = slash_alias(k, kl, name);
		bool plain = kl == strlen(name) && strncasecmp(k, name, kl) == 0;
		/* an alias overrides the attribute; the first of each counts */
		if ((is_alias && !alias) || (plain && !found)) {
			*v = av;
			*vl = avl;
			found = true;
			alias |= is_alias;
		}
	}
	return found;
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
static bool lc_ok_attr(const char *name, const char *attrs, const char *aend)
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
			if (saeval_tag_attr(attrs, aend, ok[i][j], &v, &vl))
				return true;
		return false;
	}
	return false;
}

/* HTML.pm compares the style's size with the largest after each of
 * those attributes it reads, so an inherited size counts too; <font
 * size> (or <basefont size> relative) sets it: "+N" and "-N" from the
 * base font, "N" as it is. */
static void lc_size(struct lc_state *s, struct lc_style *st,
                    const char *name, const char *attrs, const char *aend)
{
	if (!lc_ok_attr(name, attrs, aend))
		return;
	if (st->size > s->max_size)
		s->max_size = st->size;
	const char *v;
	size_t vl;
	if (!saeval_tag_attr(attrs, aend, "size", &v, &vl) ||
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

static const char *const lc_tags[] = {
	"body", "font", "table", "tr", "td", "big", "small", "basefont",
	"marquee", "span", "p", "div", "a", NULL,
};

/* HTML.pm's text_style for a start (open) or end tag; attrs: the text
 * after the name, up to '>'. */
static void lc_tag(struct lc_state *s, const char *name, bool open,
                   const char *attrs, const char *aend)
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
	    saeval_tag_attr(attrs, aend, "size", &v, &vl)) {
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
	lc_size(s, st, name, attrs, aend);
	if (fontish && saeval_tag_attr(attrs, aend, "color", &v, &vl))
		st->fg = sa_color(v, vl);
	if (strcmp(name, "body") == 0 &&
	    saeval_tag_attr(attrs, aend, "text", &v, &vl))
		st->fg = sa_color(v, vl);
	bool styled = !fontish && strcmp(name, "body") != 0 &&
	              strcmp(name, "marquee") != 0 &&
	              strcmp(name, "big") != 0 && strcmp(name, "small") != 0;
	if (styled && saeval_tag_attr(attrs, aend, "style", &v, &vl))
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

/* What html_font_invisible() finds for text drawn in style st: low
 * contrast, else a colour that is not one. */
static unsigned font_flags(const struct lc_style *st)
{
	if (lc_low(st))
		return FONT_LOW_CONTRAST;   /* checked first, as HTML.pm does */
	return st->fg == COL_INVALID || st->bg == COL_INVALID ?
	       FONT_INVALID_COLOR : 0;
}

/* Text s[0..n) holds something other than blanks and "&nbsp;". */
static bool lc_text_shows(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];   /* strchr(" \t\n\r\f\v", ch), NUL included */
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f' || ch == '\v' || ch == '\0')
			continue;
		if (n - i >= 6 && memcmp(s + i, "&nbsp;", 6) == 0) {
			i += 5;
			continue;
		}
		return true;
	}
	return false;
}

/* The FONT_* flags of the text of HTML source s[0..n) into f->font,
 * and its largest font size into f->max_size. */
static void part_style(const char *s, size_t n, struct html_part_facts *f)
{
	struct lc_state *st = malloc(sizeof *st);
	f->font = 0;
	f->max_size = 3;
	if (st == NULL)
		return;
	st->n = 1;
	snprintf(st->st[0].tag, sizeof st->st[0].tag, "default");
	st->st[0].fg = 0x000000;
	st->st[0].bg = 0xffffff;
	st->st[0].size = st->basefont = st->max_size = 3;
	const char *p = s, *end = s + n;
	unsigned flags = 0;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *te = lt ? lt : end;
		if (te > p && lc_text_shows(p, (size_t)(te - p)))
			flags |= font_flags(&st->st[st->n - 1]);
		if (lt == NULL)
			break;
		p = lt + 1;
		if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
			const char *q = html_comment_end(p + 3, end);
			p = q ? q : end;
			continue;
		}
		bool close = p < end && *p == '/';
		const char *name = close ? p + 1 : p;
		if (p < end && (*p == '!' || *p == '?')) {
			const char *q = memchr(p, '>', (size_t)(end - p));
			p = q ? q + 1 : end;
			continue;
		}
		if (name >= end || !isalpha((unsigned char)*name)) {
			/* a lone '<' is text */
			if (lc_text_shows(lt, 1))
				flags |= font_flags(&st->st[st->n - 1]);
			continue;
		}
		size_t tl = 0;
		while (name + tl < end && !tag_delim(name[tl]))
			tl++;
		char tag[12];
		lower_name(name, tl, tag, sizeof tag);
		const char *q = name + tl, *gt = tag_gt(q, q, end);
		if (strcmp(tag, "th") == 0)
			copy_tag(tag, "td");
		for (const char *const *t = lc_tags; *t != NULL; t++)
			if ((*t)[0] == tag[0] && strcmp(*t, tag) == 0)
				lc_tag(st, tag, !close, q, gt);
		p = gt < end ? gt + 1 : end;
		/* The literal elements' content is text, markup as written,
		 * as walk() reads it (audit19 M2: a <font> inside a textarea
		 * made HTML_FONT_LOW_CONTRAST); HTML.pm's text of script and
		 * style shows nowhere, that of the others in the font then
		 * open. */
		const char *lit = close ? NULL : literal_end(name, end);
		if (lit != NULL) {
			const char *e = find_ci(p, end, lit);
			e = e ? e : end;
			if (strcmp(tag, "script") != 0 &&
			    strcmp(tag, "style") != 0 &&
			    lc_text_shows(p, (size_t)(e - p)))
				flags |= font_flags(&st->st[st->n - 1]);
			p = e;
		}
	}
	f->font = flags;
	f->max_size = st->max_size;
	free(st);
}

/* part_style() of every text/html part of m into k, once. */
static void style_facts(const struct msg *m, struct saeval_cache *k)
{
	for (size_t i = 0, j = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (!saeval_is_html_part(p) || j >= k->nhp)
			continue;
		struct html_part_facts *f = &k->hp[j++];   /* parts in order */
		if (!f->font_done)
			part_style(p->text.ptr, p->text.len, f);
		f->font_done = true;
	}
}

/* Some text/html part has text with the FONT_* flag want. */
static bool html_font_flag(const struct saeval_ctx *x, unsigned want)
{
	struct saeval_cache own = { 0 };
	struct saeval_cache *k = facts_or(x, &own);
	bool hit = false;
	if (k != NULL)
		style_facts(x->m, k);
	for (size_t i = 0; k != NULL && i < k->nhp && !hit; i++)
		hit = (k->hp[i].font & want) != 0;
	saeval_html_facts_free(&own);
	return hit;
}

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
#include "htmlstyle.h"
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
	unsigned font;            /* HTMLSTYLE_* flags, once font_done */
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

static bool html_font_flag(const struct saeval_ctx *x, unsigned want);

static struct saeval_cache *facts_or(const struct saeval_ctx *x,
                                     struct saeval_cache *own);

/* html_test('html'): a text/html part was rendered (HTML_MESSAGE);
 * html_test('font_low_contrast'), html_test('font_invalid_color'): see
 * part_style(); font_face_bad, form_action_mailto, embeds: html_tests(). */
bool saeval_ev_html_test(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	if (strcmp(c->args[0], "font_low_contrast") == 0)
		return html_font_flag(x, HTMLSTYLE_LOW_CONTRAST);
	if (strcmp(c->args[0], "font_invalid_color") == 0)
		return html_font_flag(x, HTMLSTYLE_INVALID_COLOR);
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

/* A start tag's attribute text (after its name, up to its '>') lent to
 * htmlstyle_tag(): the values as written. */
struct raw_attrs {
	const char *p, *end;
};

static bool raw_attr(const void *ctx, const char *name, const char **v,
                     size_t *vl)
{
	const struct raw_attrs *a = ctx;
	return saeval_tag_attr(a->p, a->end, name, v, vl);
}

/* The HTMLSTYLE_* flags of the text of HTML source s[0..n) into
 * f->font, and its largest font size into f->max_size. */
static void part_style(const char *s, size_t n, struct html_part_facts *f)
{
	struct htmlstyle *st = htmlstyle_new();
	f->font = 0;
	f->max_size = 3;
	if (st == NULL)
		return;
	const char *p = s, *end = s + n;
	unsigned flags = 0;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *te = lt ? lt : end;
		if (te > p && lc_text_shows(p, (size_t)(te - p)))
			flags |= htmlstyle_font(st);
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
				flags |= htmlstyle_font(st);
			continue;
		}
		size_t tl = 0;
		while (name + tl < end && !tag_delim(name[tl]))
			tl++;
		char tag[12];
		lower_name(name, tl, tag, sizeof tag);
		const char *q = name + tl, *gt = tag_gt(q, q, end);
		struct raw_attrs at = { q, gt };
		htmlstyle_tag(st, tag, !close, raw_attr, &at);
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
				flags |= htmlstyle_font(st);
			p = e;
		}
	}
	f->font = flags;
	f->max_size = (int)htmlstyle_max_size(st);
	htmlstyle_free(st);
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

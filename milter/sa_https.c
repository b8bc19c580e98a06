/*
 * sa_https.c — SpamAssassin eval (saeval.h): HTTPSMismatch's
 * check_https_http_mismatch([MIN [, MAX]]), as SpamAssassin 4.0.1's
 * plugin decides it for each text/html part:
 *
 *  - anchors: the <a> tags, keyed by their href as written (entity-
 *    decoded, outer blanks dropped: HTML.pm's canon_uri). Only a key
 *    "http://HOST..." or "https://HOST..." (any case; HOST up to / : ? #)
 *    whose HOST is no IPv4 address and whose trim_domain() is a valid
 *    domain counts; the part's anchor count is the number of such
 *    distinct keys.
 *  - the text of an anchor is what HTML.pm gives it: the text (entities
 *    decoded; not comments, scripts or styles) from its start tag until
 *    the next <a> start tag, read while an <a> is open, and "<img>\n" for
 *    every <img> in it.
 *  - a mismatch: the first "https://HOST" in an anchor's text (any case;
 *    HOST up to a blank or / : ? #) is an IPv4 address, or a valid domain
 *    whose trim_domain() differs from the href's. A text whose first
 *    such HOST is no valid domain is no mismatch.
 *  - a hit: a part with a mismatch and MIN <= anchors < MAX (MIN 1 when
 *    missing, "" or "0"; no MAX when missing or undef).
 *
 * And URIEval's check_https_ip_mismatch() over the same anchors: a part
 * with an anchor keyed "http(s):[/...][USER@]a.b.c.d..." (any case)
 * whose text does not start as "https:[/...][USER@]a.b.c.d" but holds
 * "https:" somewhere (any case).
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "html.h"
#include "msg.h"
#include "uri.h"
#include "utf8.h"

/* The walk over one part: the anchor being read, what the part came to. */
struct mm_walk {
	const struct regdom *rd;
	const char *text_from;   /* the text not read yet starts here */
	bool drop_text;          /* it is a <script>'s or <style>'s content */
	size_t inside_a;         /* HTML.pm's inside{a} */
	bool open;               /* an anchor was started (anchor_last) */
	char href_dom[256];      /* its href's domain, "" when not counted */
	struct strbuf key;       /* its href as keyed */
	struct strbuf text;      /* its text so far */
	struct strbuf keys;      /* the counted keys, NUL-separated */
	size_t anchors;          /* how many */
	size_t enough;           /* keys beyond this many change nothing */
	bool mismatch;
	bool href_ip;            /* the open anchor's key is an IP link */
	bool ip_mismatch;        /* check_https_ip_mismatch's finding */
	bool oom;
};

/* trim_domain() of host h[0..n) into out (cap 256). A name longer than
 * the buffer keeps its tail: the domain is made of its last labels. */
static void trim_host(const struct regdom *rd, const char *h, size_t n,
                      char out[256])
{
	char buf[256];
	if (n >= sizeof buf) {
		h += n - (sizeof buf - 1);
		n = sizeof buf - 1;
	}
	memcpy(buf, h, n);
	buf[n] = '\0';
	saeval_registrar_domain(rd, buf, out, 256);
}

/* Does s[0..n) start with four runs of ASCII digits joined by dots? */
static bool dotted_digits(const char *s, size_t n)
{
	size_t i = 0;
	for (int run = 0; run < 4; run++) {
		if (run > 0 && (i >= n || s[i++] != '.'))
			return false;
		size_t d = i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return false;
	}
	return true;
}

/* The length of the host after "http://" or "https://" at s[0..n): the
 * bytes up to one of stops, or (blank_stops) up to white space as the
 * plugin's \s sees it on decoded text (U+00A0 from &nbsp; too); 0 when
 * none. */
static size_t host_len(const char *s, size_t n, const char *stops,
                       bool blank_stops)
{
	size_t k = 0;
	while (k < n && s[k] != '\0' && strchr(stops, s[k]) == NULL &&
	       !(blank_stops && utf8_space_len(s + k, n - k) > 0))
		k++;
	return k;
}

/* The href's domain as the plugin compares it into dom, "" when the
 * anchor does not count: no http(s) key, an IPv4 host, or one whose
 * trim_domain() uri_to_domain() gives no valid domain. */
static void href_domain(const struct regdom *rd, const char *k, size_t n,
                        char dom[256])
{
	dom[0] = '\0';
	size_t skip = n >= 7 && strncasecmp(k, "http://", 7) == 0 ? 7 :
	              n >= 8 && strncasecmp(k, "https://", 8) == 0 ? 8 : 0;
	size_t hl = skip ? host_len(k + skip, n - skip, "/:?#", false) : 0;
	if (hl == 0 || uri_is_ipv4(k + skip, hl))
		return;
	char t[256];
	trim_host(rd, k + skip, hl, t);
	/* uri_to_domain(t) drops a user@ part; an address there is no
	 * valid domain either */
	const char *at = strrchr(t, '@');
	const char *h = at != NULL ? at + 1 : t;
	if (!uri_sa_domain(t, strlen(t)) || uri_is_ipv4(h, strlen(h)))
		return;
	char d[256];
	trim_host(rd, h, strlen(h), d);
	if (uri_domain_valid(d, strlen(d)))
		memcpy(dom, t, strlen(t) + 1);
}

/* Does s[0..n) start as URIEval's IP links, "http(s):" (any case; only
 * "https:" when https_only), any '/'s, an optional "USER@" (no '/'
 * or '@' in USER), then an address's four dot-separated digit runs
 * (anything may follow)? */
static bool ip_link(const char *s, size_t n, bool https_only)
{
	size_t i = n >= 6 && strncasecmp(s, "https:", 6) == 0 ? 6 :
	           !https_only && n >= 5 && strncasecmp(s, "http:", 5) == 0 ?
	           5 : 0;
	if (i == 0)
		return false;
	while (i < n && s[i] == '/')
		i++;
	size_t u = i;
	while (u < n && s[u] != '@' && s[u] != '/')
		u++;
	/* the address right there, or after a USER@ */
	return dotted_digits(s + i, n - i) ||
	       (u > i && u < n && s[u] == '@' &&
	        dotted_digits(s + u + 1, n - u - 1));
}

/* The first "https://" followed by a host in s[0..n); its host into
 * *h, *hl. */
static bool find_https(const char *s, size_t n, const char **h, size_t *hl)
{
	for (size_t i = 0; i + 8 < n; i++) {
		if (strncasecmp(s + i, "https://", 8) != 0)
			continue;
		*h = s + i + 8;
		*hl = host_len(*h, n - i - 8, "/:?#", true);
		if (*hl > 0)
			return true;
	}
	return false;
}

/* Does the anchor's text show an https host of another domain? */
static bool text_mismatch(const struct mm_walk *w)
{
	const char *h;
	size_t hl;
	if (w->text.p == NULL || !find_https(w->text.p, w->text.len, &h, &hl))
		return false;
	if (uri_is_ipv4(h, hl))
		return true;   /* kept as written: never an href's domain */
	char t[256];
	trim_host(w->rd, h, hl, t);
	return uri_domain_valid(t, strlen(t)) && strcmp(t, w->href_dom) != 0;
}

/* Counts the anchor's key unless counted already (only up to `enough`
 * keys: past that the answer is known). */
static void count_key(struct mm_walk *w)
{
	const char *k = w->key.p != NULL ? w->key.p : "";
	size_t kl = w->key.len;
	for (size_t off = 0; off < w->keys.len;) {
		size_t l = strlen(w->keys.p + off);
		if (l == kl && memcmp(w->keys.p + off, k, kl) == 0)
			return;
		off += l + 1;
	}
	w->anchors++;
	if (w->anchors < w->enough) {
		strbuf_put(&w->keys, k, kl);
		strbuf_put(&w->keys, "", 1);
	}
}

/* Appends s[0..n) to out with its character references decoded (as
 * HTML::Parser hands text and attribute values over); false when out of
 * memory (w->oom set). */
static bool put_decoded(struct mm_walk *w, struct strbuf *out,
                        const char *s, size_t n)
{
	if (memchr(s, '&', n) == NULL) {
		strbuf_put(out, s, n);
		return !out->oom;
	}
	struct arena *a = arena_new(0);
	struct arena_buf b;
	if (a == NULL) {
		w->oom = true;
		return false;
	}
	arena_buf_init(&b, a);
	html_decode_entities(s, n, &b);
	if (!b.failed && b.len > 0)
		strbuf_put(out, b.p, b.len);
	w->oom |= b.failed || out->oom;
	arena_free(a);
	return !w->oom;
}

/* URIEval's check on an anchor keyed by an IP link: its text does not
 * start as an https IP link but has an "https:" (any case) in it. */
static bool text_ip_mismatch(const struct strbuf *t)
{
	if (t->p == NULL || ip_link(t->p, t->len, true))
		return false;
	for (size_t i = 0; i + 6 <= t->len; i++)
		if (strncasecmp(t->p + i, "https:", 6) == 0)
			return true;
	return false;
}

/* The open anchor's text is complete: count it, look for a mismatch. */
static void anchor_done(struct mm_walk *w)
{
	if (w->open && w->href_ip && !w->ip_mismatch)
		w->ip_mismatch = text_ip_mismatch(&w->text);
	if (!w->open || w->href_dom[0] == '\0')
		return;
	count_key(w);
	w->mismatch = w->mismatch || text_mismatch(w);
}

/* An <a> start tag (attributes at[0..ae)): the next anchor. */
static void anchor_start(struct mm_walk *w, const char *at, const char *ae)
{
	anchor_done(w);
	w->open = true;
	strbuf_reset(&w->key);
	strbuf_reset(&w->text);
	const char *v;
	size_t vl;
	if (saeval_tag_uri_attr(at, ae, "href", &v, &vl) &&
	    put_decoded(w, &w->key, v, vl) && w->key.p != NULL) {
		w->key.len = saeval_drop_bom(w->key.p, w->key.len);
		size_t s = 0, e = w->key.len;
		while (s < e && isspace((unsigned char)w->key.p[s]))
			s++;
		while (e > s && isspace((unsigned char)w->key.p[e - 1]))
			e--;
		memmove(w->key.p, w->key.p + s, e - s);
		w->key.len = e - s;
		w->key.p[w->key.len] = '\0';
	}
	const char *k = w->key.p != NULL ? w->key.p : "";
	w->href_ip = ip_link(k, w->key.len, false);
	w->href_dom[0] = '\0';
	if (w->rd != NULL)
		href_domain(w->rd, k, w->key.len, w->href_dom);
}

/* The text from w->text_from up to upto: to the open anchor's text when
 * an <a> is open, decoded as HTML::Parser's dtext. */
static void take_text(struct mm_walk *w, const char *upto)
{
	bool keep = !w->drop_text && w->open && w->inside_a > 0 &&
	            upto > w->text_from;
	w->drop_text = false;
	if (keep)
		(void)put_decoded(w, &w->text, w->text_from,
		                  (size_t)(upto - w->text_from));
}

/* saeval_html_walk() tag callback: the text before the tag, then the
 * tag's part in anchors. */
static bool mm_tag(const char *name, const char *end, bool close, void *ctx)
{
	struct mm_walk *w = ctx;
	take_text(w, name - 1 - close);
	size_t tl = 0;
	while (name + tl < end && !isspace((unsigned char)name[tl]) &&
	       name[tl] != '/' && name[tl] != '>')
		tl++;
	const char *gt = saeval_tag_gt(name + tl, end);
	w->text_from = gt < end ? gt + 1 : end;
	/* the walk skips to their end tags: what lies between is no text */
	w->drop_text = !close && (saeval_tag_at(name, end, "script") ||
	                          saeval_tag_at(name, end, "style"));
	if (saeval_tag_at(name, end, "a")) {
		if (close) {
			w->inside_a -= w->inside_a > 0;
		} else {
			w->inside_a++;
			anchor_start(w, name + tl, gt);
		}
	} else if (!close && w->open && w->inside_a > 0 &&
	           saeval_tag_at(name, end, "img")) {
		strbuf_put(&w->text, "<img>\n", 6);
	}
	return false;
}

/* saeval_html_walk() comment callback: comments, declarations and
 * processing instructions are no text. */
static bool mm_comment(const char *s, size_t n, void *ctx)
{
	struct mm_walk *w = ctx;
	take_text(w, s);
	w->text_from = s + n;
	return false;
}

/* MIN: Perl's `$min ||= 1` (a missing, "" or "0" argument is 1). */
static double min_anchors(const struct saeval_call *c)
{
	if (c->nargs < 1 || c->undef[0] || c->args[0][0] == '\0' ||
	    strcmp(c->args[0], "0") == 0)
		return 1;
	return c->num[0];
}

static bool max_given(const struct saeval_call *c)
{
	return c->nargs >= 2 && !c->undef[1];
}

/* Walks the HTML text s[0..n) with w (set up by the caller); false when
 * out of memory. */
static bool walk_part(struct mm_walk *w, const char *s, size_t n)
{
	w->text_from = s;
	(void)saeval_html_walk(s, n, mm_tag, mm_comment, w);
	take_text(w, s + n);
	anchor_done(w);
	bool oom = w->oom || w->key.oom || w->text.oom || w->keys.oom;
	strbuf_free(&w->key);
	strbuf_free(&w->text);
	strbuf_free(&w->keys);
	return !oom;
}

/* Does the HTML text s[0..n) hit? */
static bool part_hits(const struct saeval_call *c, const char *s, size_t n)
{
	double min = min_anchors(c);
	double lim = max_given(c) && c->num[1] > min ? c->num[1] : min;
	struct mm_walk w = { .rd = c->rd };
	/* keys past max(MIN, MAX) need not be told apart (a part has fewer
	 * anchors than bytes) */
	w.enough = lim < (double)n ? (size_t)(lim > 0 ? lim : 0) + 1 : n + 1;
	bool ok = walk_part(&w, s, n);
	double k = (double)w.anchors;
	return ok && w.mismatch && k >= min &&
	       (!max_given(c) || k < c->num[1]);
}

bool saeval_ev_https_mismatch(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	for (size_t i = 0; i < msg_part_count(x->m); i++) {
		const struct msg_part *p = msg_part_at(x->m, i);
		if (saeval_is_html_part(p) && part_hits(c, p->text.ptr, p->text.len))
			return true;
	}
	return false;
}

/* check_https_ip_mismatch() (URIEval): a text/html part has an anchor
 * whose key is an IP link ("http(s)://[USER@]a.b.c.d...") and whose
 * text, not starting as an https IP link itself, has "https:" in it. */
bool saeval_ev_https_ip_mismatch(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	for (size_t i = 0; i < msg_part_count(x->m); i++) {
		const struct msg_part *p = msg_part_at(x->m, i);
		struct mm_walk w = { .rd = NULL };
		if (saeval_is_html_part(p) &&
		    walk_part(&w, p->text.ptr, p->text.len) && w.ip_mismatch)
			return true;
	}
	return false;
}

/*
 * sa_urieval.c — SpamAssassin eval (saeval.h): URIEval's
 * check_uri_truncated() (URI_TRUNCATED). SpamAssassin 4.0.1 cuts a URI
 * longer than 8192 characters (MAX_URI_LENGTH) and notes it; what it
 * cuts in practice are the URIs HTML.pm reads from the attributes of a
 * text/html part (canon_uri: the value with its references decoded and
 * outer white space (Perl's \s) dropped; a URI in plain text or in
 * HTML text never hits, as `spamassassin -t` shows). The attributes are
 * html_uri()'s: background of body, table, tr, td; href (or a W/href)
 * and data-saferedirecturl of a, area, link; src (or a W/src) of img,
 * frame, iframe, embed, script, bgsound; action of form; href of base;
 * the url= of a meta refresh's content. check_https_ip_mismatch(), the
 * other URIEval function the stock rules use, is in sa_https.c.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "html.h"
#include "msg.h"
#include "utf8.h"

/* Constants.pm's MAX_URI_LENGTH, in characters. */
#define URI_MAX_CHARS 8192

/* Length of the Perl white space character s[0..n) ends with, 0 when
 * it ends with none. */
static size_t space_before(const char *s, size_t n)
{
	size_t k = n;
	while (k > 0 && n - k < 4 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k == 0)
		return 0;
	k--;   /* the last character's first byte */
	return utf8_space_len(s + k, n - k) == n - k ? n - k : 0;
}

/* The characters (UTF-8 sequences) of s[0..n) without the white space
 * at either end, as canon_uri trims ([\s\xA0] on decoded text: Perl's
 * \s, U+3000, U+2003, U+0085 ... too, utf8_space_len()). */
static size_t trimmed_chars(const char *s, size_t n)
{
	size_t a = 0, e = n, k;
	while (a < e && (k = utf8_space_len(s + a, e - a)) > 0)
		a += k;
	while (e > a && (k = space_before(s + a, e - a)) > 0)
		e -= k;
	size_t chars = 0;
	for (size_t i = a; i < e; i++)
		chars += ((unsigned char)s[i] & 0xC0) != 0x80;
	return chars;
}

/* Is the attribute value v[0..vl) (as written) a URI canon_uri cuts?
 * References only shorten it, so one no longer than the limit in bytes
 * is not decoded. bom: an href, whose byte-order marks HTML.pm drops. */
static bool too_long(const char *v, size_t vl, bool bom)
{
	if (vl <= URI_MAX_CHARS)
		return false;
	struct arena *a = arena_new(0);
	if (a == NULL)
		return false;
	struct arena_buf b;
	arena_buf_init(&b, a);
	html_decode_entities(v, vl, &b);
	bool hit = false;
	if (!b.failed && b.len > URI_MAX_CHARS) {
		size_t n = bom ? saeval_drop_bom(b.p, b.len) : b.len;
		hit = trimmed_chars(b.p, n) > URI_MAX_CHARS;
	}
	arena_free(a);
	return hit;
}

/* The URI of a meta refresh: content's text after its last "url =",
 * up to a ';' (blanks before it dropped); false when it names none. */
static bool refresh_url(const char *v, size_t vl, const char **u,
                        size_t *ul)
{
	const char *at = NULL;
	for (size_t i = 0; i + 3 <= vl; i++) {
		if (strncasecmp(v + i, "url", 3) != 0 ||
		    (i > 0 && saeval_is_word(v[i - 1])))
			continue;
		size_t j = i + 3;
		while (j < vl && isspace((unsigned char)v[j]))
			j++;
		if (j < vl && v[j] == '=') {
			j++;
			while (j < vl && isspace((unsigned char)v[j]))
				j++;
			at = v + j;
		}
	}
	if (at == NULL)
		return false;
	const char *semi = memchr(at, ';', (size_t)(v + vl - at));
	const char *e = semi != NULL ? semi : v + vl;
	if (semi != NULL)
		while (e > at && isspace((unsigned char)e[-1]))
			e--;
	*u = at;
	*ul = (size_t)(e - at);
	return true;
}

/* Is an attribute `name` (a URI attribute: W/name too when alias) of the
 * attributes at[0..ae) too long? */
static bool attr_too_long(const char *at, const char *ae, const char *name,
                          bool alias)
{
	const char *v;
	size_t vl;
	bool found = alias ? saeval_tag_uri_attr(at, ae, name, &v, &vl)
	                   : saeval_tag_attr(at, ae, name, &v, &vl);
	return found && too_long(v, vl, alias && strcmp(name, "href") == 0);
}

/* A meta refresh's URL too long? */
static bool meta_too_long(const char *at, const char *ae)
{
	const char *he, *ct, *u;
	size_t hel, ctl, ul;
	if (!saeval_tag_attr(at, ae, "http-equiv", &he, &hel) ||
	    !saeval_tag_attr(at, ae, "content", &ct, &ctl))
		return false;
	bool refresh = false;
	for (size_t i = 0; i + 7 <= hel && !refresh; i++)
		refresh = strncasecmp(he + i, "refresh", 7) == 0;
	return refresh && refresh_url(ct, ctl, &u, &ul) && too_long(u, ul, false);
}

static bool tag_in(const char *name, const char *end, const char *const *tags)
{
	for (; *tags != NULL; tags++)
		if (saeval_tag_at(name, end, *tags))
			return true;
	return false;
}

/* saeval_html_walk_tags() callback: does this start tag carry a URI
 * canon_uri cuts? Stops the walk when it does. */
static bool uri_cut(const char *name, const char *end, bool close, void *ctx)
{
	static const char *const bg[] = { "body", "table", "tr", "td", NULL };
	static const char *const link[] = { "a", "area", "link", NULL };
	static const char *const src[] = { "img", "frame", "iframe", "embed",
	                                   "script", "bgsound", NULL };
	(void)ctx;
	if (close)
		return false;
	size_t tl = 0;
	while (name + tl < end && isalnum((unsigned char)name[tl]))
		tl++;
	const char *at = name + tl, *ae = saeval_tag_gt(at, end);
	if (tag_in(name, end, bg))
		return attr_too_long(at, ae, "background", false);
	if (tag_in(name, end, link))
		return attr_too_long(at, ae, "href", true) ||
		       attr_too_long(at, ae, "data-saferedirecturl", false);
	if (tag_in(name, end, src))
		return attr_too_long(at, ae, "src", true);
	if (saeval_tag_at(name, end, "form"))
		return attr_too_long(at, ae, "action", false);
	if (saeval_tag_at(name, end, "base"))
		return attr_too_long(at, ae, "href", false);
	return saeval_tag_at(name, end, "meta") && meta_too_long(at, ae);
}

bool saeval_ev_uri_truncated(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	(void)c;
	for (size_t i = 0; i < msg_part_count(x->m); i++) {
		const struct msg_part *p = msg_part_at(x->m, i);
		if (saeval_is_html_part(p) && p->text.len > URI_MAX_CHARS &&
		    saeval_html_walk_tags(p->text.ptr, p->text.len, uri_cut,
		                          NULL))
			return true;
	}
	return false;
}

/*
 * sa_freemail.c — SpamAssassin eval (saeval.h): FreeMail. The
 * freemail_domains lists and settings from the rule files (shared by
 * the calls with equal ones), the addresses of the body as FreeMail.pm's
 * _parse_body finds them, and the FreeMail functions.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "html.h"
#include "msg.h"
#include "ruleset.h"
#include "strbuf.h"
#include "uri.h"

/* ---- FreeMail (freemail_domains from the rule files) ---- */

struct freemail {
	char **dom, **wild, **wl;   /* lower-case; dom and wl sorted */
	size_t ndom, nwild, nwl;
	size_t capdom, capwild, capwl;
	/* FreeMail.pm's numeric settings (fm_setting): the body address
	 * counts that make it give up, whether it does, and whether
	 * check_freemail_replyto skips bulk-looking envelope senders */
	double max_body_emails, max_body_freemails;
	double skip_when_over_max, skip_bulk_envfrom;
	size_t refs;                /* calls sharing it (fm_intern) */
	struct freemail *next;      /* in fm_live */
};

static void fm_free(struct freemail *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->ndom; i++)
		free(f->dom[i]);
	for (size_t i = 0; i < f->nwild; i++)
		free(f->wild[i]);
	for (size_t i = 0; i < f->nwl; i++)
		free(f->wl[i]);
	free(f->dom);
	free(f->wild);
	free(f->wl);
	free(f);
}

/* The lists in use: calls whose lists are equal share one, so that the
 * per-message cache can remember fm_is() answers across calls. */
static pthread_mutex_t fm_mu = PTHREAD_MUTEX_INITIALIZER;
static struct freemail *fm_live;

static bool fm_strs_equal(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool fm_equal(const struct freemail *a, const struct freemail *b)
{
	return a->ndom == b->ndom && a->nwild == b->nwild && a->nwl == b->nwl &&
	       a->max_body_emails == b->max_body_emails &&
	       a->max_body_freemails == b->max_body_freemails &&
	       a->skip_when_over_max == b->skip_when_over_max &&
	       a->skip_bulk_envfrom == b->skip_bulk_envfrom &&
	       fm_strs_equal(a->dom, b->dom, a->ndom) &&
	       fm_strs_equal(a->wild, b->wild, a->nwild) &&
	       fm_strs_equal(a->wl, b->wl, a->nwl);
}

/* f, or (f freed) a live list equal to it; the result is released with
 * saeval_fm_release(). */
static struct freemail *fm_intern(struct freemail *f)
{
	pthread_mutex_lock(&fm_mu);
	struct freemail *g = fm_live;
	while (g != NULL && !fm_equal(g, f))
		g = g->next;
	if (g != NULL) {
		g->refs++;
		fm_free(f);
	} else {
		g = f;
		g->refs = 1;
		g->next = fm_live;
		fm_live = g;
	}
	pthread_mutex_unlock(&fm_mu);
	return g;
}

void saeval_fm_release(struct freemail *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&fm_mu);
	bool last = --f->refs == 0;
	if (last) {
		struct freemail **pp = &fm_live;
		while (*pp != f)
			pp = &(*pp)->next;
		*pp = f->next;
	}
	pthread_mutex_unlock(&fm_mu);
	if (last)
		fm_free(f);
}

/* One freemail_domains/welcomelist value, split at blanks, as
 * FreeMail.pm's parse_config: a domain with a character outside
 * [a-zA-Z0-9.*?-] is refused; one with * or ? is a wildcard. */
static int fm_add(struct freemail *f, bool domains, const char *v)
{
	while (*v) {
		while (*v && isspace((unsigned char)*v))
			v++;
		size_t n = 0;
		while (v[n] && !isspace((unsigned char)v[n]))
			n++;
		if (n == 0)
			break;
		bool ok = true, wild = false;
		for (size_t i = 0; i < n && domains; i++) {
			unsigned char ch = (unsigned char)v[i];
			wild |= ch == '*' || ch == '?';
			ok &= isalnum(ch) || ch == '.' || ch == '*' ||
			      ch == '?' || ch == '-';
		}
		int rc = 0;
		if (!domains)
			rc = saeval_push_lower(&f->wl, &f->nwl, &f->capwl, v, n);
		else if (ok && wild)
			rc = saeval_push_lower(&f->wild, &f->nwild, &f->capwild, v, n);
		else if (ok)
			rc = saeval_push_lower(&f->dom, &f->ndom, &f->capdom, v, n);
		if (rc != 0)
			return -1;
		v += n;
	}
	return 0;
}

/* Is k one of FreeMail's numeric settings? Then v is set into f when
 * valid: SpamAssassin takes a value of the form [+-]digits[.digits] and
 * refuses (keeps what it had) anything else. */
static bool fm_setting(struct freemail *f, const char *k, const char *v)
{
	static const char *const names[] = {
		"freemail_max_body_emails", "freemail_max_body_freemails",
		"freemail_skip_when_over_max", "freemail_skip_bulk_envfrom",
	};
	double *const dst[] = {
		&f->max_body_emails, &f->max_body_freemails,
		&f->skip_when_over_max, &f->skip_bulk_envfrom,
	};
	size_t i = 0;
	while (i < sizeof names / sizeof names[0] && strcmp(k, names[i]) != 0)
		i++;
	if (i == sizeof names / sizeof names[0])
		return false;
	const char *p = v + (*v == '+' || *v == '-');
	size_t d = strspn(p, "0123456789");
	if (d > 0 && p[d] == '.')
		d += 1 + strspn(p + d + 1, "0123456789");
	if (d > 0 && p[d] == '\0')
		*dst[i] = strtod(v, NULL);
	return true;
}

int saeval_fm_build(const struct ruleset *rs, struct freemail **out)
{
	struct freemail *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	/* FreeMail.pm's defaults */
	f->max_body_emails = 5;
	f->max_body_freemails = 3;
	f->skip_when_over_max = 1;
	f->skip_bulk_envfrom = 1;
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *k, *v;
		if (!ruleset_setting_at(rs, i, &k, &v))
			break;
		if (fm_setting(f, k, v))
			continue;
		bool dom = strcmp(k, "freemail_domains") == 0;
		if (!dom && strcmp(k, "freemail_welcomelist") != 0 &&
		    strcmp(k, "freemail_whitelist") != 0)
			continue;
		if (fm_add(f, dom, v) != 0) {
			fm_free(f);
			return -1;
		}
	}
	if (f->ndom)
		qsort(f->dom, f->ndom, sizeof *f->dom, saeval_cmp_str);
	if (f->nwl)
		qsort(f->wl, f->nwl, sizeof *f->wl, saeval_cmp_str);
	*out = fm_intern(f);
	return 0;
}


/* FreeMail.pm's wildcards: '*' stands for [^.]*, '?' for one character;
 * the whole domain must match. */
static bool glob_domain(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (glob_domain(p + 1, t))
					return true;
				if (*t == '\0' || *t == '.')
					return false;
			}
		}
		if (*s == '\0' || (*p != '?' && *p != *s))
			return false;
	}
	return *s == '\0';
}

/* FreeMail.pm's _is_freemail for a lower-case address. */
static bool fm_is(const struct freemail *f, const char *email)
{
	if (f == NULL || email[0] == '\0')
		return false;
	if (saeval_in_sorted(f->wl, f->nwl, email))
		return false;
	const char *at = strrchr(email, '@');
	const char *dom = at ? at + 1 : email;
	if (saeval_in_sorted(f->wl, f->nwl, dom) ||
	    saeval_re_str(RE_FM_WELCOME, email))
		return false;
	if (saeval_in_sorted(f->dom, f->ndom, dom))
		return true;
	for (size_t i = 0; at != NULL && i < f->nwild; i++)
		if (glob_domain(f->wild[i], dom))
			return true;
	return false;
}

/* fm_is(c->fm, email), remembered in x's cache for the message's other
 * calls (those with the same lists: fm_intern). */
static bool fm_is_x(const struct saeval_call *c, const struct saeval_ctx *x,
                    const char *email)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL || c->fm == NULL)
		return fm_is(c->fm, email);
	size_t n = strlen(email);
	for (size_t i = 0; i < k->nfm; i++) {
		const struct fm_memo *e = &k->fm[i];
		if (e->fm == c->fm && e->len == n &&
		    memcmp(k->fm_addr.p + e->off, email, n) == 0)
			return e->yes;
	}
	bool yes = fm_is(c->fm, email);
	if (k->nfm < sizeof k->fm / sizeof k->fm[0]) {
		size_t off = k->fm_addr.len;
		strbuf_put(&k->fm_addr, email, n);
		if (!k->fm_addr.oom)
			k->fm[k->nfm++] = (struct fm_memo){ .fm = c->fm, .off = off,
			                                    .len = n, .yes = yes };
	}
	return yes;
}

static void lower_buf(struct strbuf *b)
{
	for (size_t i = 0; i < b->len; i++)
		b->p[i] = (char)tolower((unsigned char)b->p[i]);
}

/* ---- FreeMail: the addresses of the body (FreeMail.pm's _parse_body) ----
 *
 * SpamAssassin collects, lower-cased and each once: first the address
 * of every mailto: link of an <a href> that its text parser did not
 * also find (get_uri_detail_list: type "a" without "parsed"), at most
 * 20; then the addresses of the rendered body (the Subject first, as
 * body rules see it) once URLs holding an address and addresses in <>
 * or before a "wrote:"-like word are blanked out, up to 40 in all. The
 * message's URI list (msg.h) does not say where a URI came from, so the
 * links are read again here: the <a> tags of the text/html parts, their
 * href entity-decoded and trimmed as HTML.pm does, and "found by the
 * text parser" is uri_scan_text() over the same body text. */

#define FM_MAX_MAILTO 20
#define FM_MAX_BODY 40

/* Whether list a holds s[0..n) (nocase: in any ASCII case). */
static bool fm_addrs_has(const struct fm_addrs *a, const char *s, size_t n,
                         bool nocase)
{
	if (a->b.oom)
		return false;
	const char *e = a->b.p;
	for (size_t i = 0; i < a->n; i++) {
		size_t l = strlen(e);
		if (l == n && (nocase ? strncasecmp(e, s, n) : memcmp(e, s, n)) == 0)
			return true;
		e += l + 1;
	}
	return false;
}

static void fm_addrs_add(struct fm_addrs *a, const char *s, size_t n)
{
	if (fm_addrs_has(a, s, n, true))
		return;
	size_t at = a->b.len;
	strbuf_put(&a->b, s, n);
	strbuf_put(&a->b, "", 1);
	if (a->b.oom)
		return;
	for (size_t i = at; i < at + n; i++)
		a->b.p[i] = (char)tolower((unsigned char)a->b.p[i]);
	a->n++;
}

/* Match data and the context with fm_callout, for one body parse;
 * last_start bounds the start of a match (fm_find). */
struct fm_match {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	size_t last_start;
};

/* The callouts of the body patterns. 1, in FM_EMAIL just after the last
 * label: 0 (go on) when it is a top-level domain, else 1 (fail here,
 * backtrack). 2, at the start of a pattern: no match at all once the
 * attempt starts past last_start. */
static int fm_callout(pcre2_callout_block *cb, void *data)
{
	const struct fm_match *fx = data;
	if (cb->callout_number == 2)
		return cb->start_match > fx->last_start ? PCRE2_ERROR_NOMATCH : 0;
	size_t end = cb->current_position, b = end;
	while (b > 0 && cb->subject[b - 1] != '.')
		b--;
	return uri_is_tld((const char *)cb->subject + b, end - b) ? 0 : 1;
}

static bool fm_match_init(struct fm_match *fx)
{
	fx->md = saeval_re_ok() ? pcre2_match_data_create(4, NULL) : NULL;
	fx->mc = saeval_re_ok() ? pcre2_match_context_create(NULL) : NULL;
	if (fx->mc != NULL)
		pcre2_set_callout(fx->mc, fm_callout, fx);
	return fx->md != NULL && fx->mc != NULL;
}

static void fm_match_free(struct fm_match *fx)
{
	pcre2_match_data_free(fx->md);
	pcre2_match_context_free(fx->mc);
}

/* Regex id on s[0..len) from offset start, no later start than
 * last_start: the match and group 1 in ov[0..4). */
static bool fm_match_at(struct fm_match *fx, enum re_id id, const char *s,
                        size_t len, size_t start, size_t last_start,
                        uint32_t opts, size_t ov[4])
{
	fx->last_start = last_start;
	int rc = pcre2_match(saeval_re_code(id), (PCRE2_SPTR)s, len, start,
	                     opts, fx->md, fx->mc);
	if (rc < 2)
		return false;
	PCRE2_SIZE *v = pcre2_get_ovector_pointer(fx->md);
	memcpy(ov, v, 4 * sizeof *ov);
	return true;
}

/* The first match from offset from of RE_FM_EMAIL or RE_FM_STRIP_QUOTED,
 * as a search from each offset in turn would find it: the address must
 * have its '@' within 64 characters of its start (65 with the '<'), and
 * it is the first '@' after the start, so only the starts up to 65
 * before each '@' are tried, each '@' in turn (callout 2 stops the
 * search at the '@'), not the whole text at every offset. */
static bool fm_find(struct fm_match *fx, enum re_id id, const char *s,
                    size_t len, size_t from, size_t ov[4])
{
	while (from < len) {
		const char *at = memchr(s + from, '@', len - from);
		if (at == NULL)
			return false;
		size_t a = (size_t)(at - s);
		size_t lo = a - from > 65 ? a - 65 : from;
		if (fm_match_at(fx, id, s, len, lo, a, 0, ov))
			return true;
		from = a + 1;
	}
	return false;
}

/* What the <a href> walk needs. */
struct fm_links {
	const struct msg *m;
	struct fm_match *fx;
	struct fm_addrs *out;
	struct arena *ar;         /* for entity decoding, made on demand */
	struct fm_addrs parsed;   /* mailto: URIs of the body text */
	bool parsed_done;
};

static void fm_parsed_uri(void *ctx, const char *raw, size_t len,
                          enum uri_text_kind kind)
{
	struct fm_links *l = ctx;
	if (kind != URI_TEXT_UNLISTED && len > 7 &&
	    strncasecmp(raw, "mailto:", 7) == 0) {
		strbuf_put(&l->parsed.b, raw, len);
		strbuf_put(&l->parsed.b, "", 1);
		l->parsed.n += !l->parsed.b.oom;
	}
}

/* Did SpamAssassin's text parser find URI key too ("parsed")? */
static bool fm_text_has_uri(struct fm_links *l, const char *key, size_t n)
{
	if (!l->parsed_done) {
		l->parsed_done = true;
		for (size_t i = 0; i < msg_body_count(l->m); i++) {
			struct msg_text t = msg_body_at(l->m, i);
			uri_scan_text(t.ptr, t.len, fm_parsed_uri, l);
		}
	}
	return fm_addrs_has(&l->parsed, key, n, false);
}

/* One href value as HTML.pm keeps it (entities decoded, U+FEFF removed,
 * blanks and 0xA0 bytes trimmed), checked for a mailto: address. */
static void fm_href(struct fm_links *l, const char *v, size_t vl)
{
	/* only mailto: links matter: skip the rest before decoding (unless
	 * a reference or a U+FEFF may hide the scheme) */
	while (vl > 0 && (isspace((unsigned char)*v) || *v == '\xa0')) {
		v++;
		vl--;
	}
	if (vl < 8 || (strncasecmp(v, "mailto:", 7) != 0 &&
	               memchr(v, '&', vl) == NULL &&
	               memchr(v, '\xef', vl) == NULL))
		return;
	if (l->ar == NULL && (l->ar = arena_new(1u << 20)) == NULL)
		return;
	struct arena_buf d;
	arena_buf_init(&d, l->ar);
	html_decode_entities(v, vl < 8192 ? vl : 8192, &d);
	if (d.failed || d.len == 0)
		return;
	size_t o = 0;
	for (size_t i = 0; i < d.len; i++) {
		if (i + 2 < d.len && memcmp(d.p + i, "\xef\xbb\xbf", 3) == 0)
			i += 2;
		else
			d.p[o++] = d.p[i];
	}
	const char *k = d.p;
	while (o > 0 && (isspace((unsigned char)*k) || *k == '\xa0')) {
		k++;
		o--;
	}
	while (o > 0 && (isspace((unsigned char)k[o - 1]) || k[o - 1] == '\xa0'))
		o--;
	size_t ov[4];
	if (o > 7 && strncasecmp(k, "mailto", 6) == 0 && k[6] == ':' &&
	    fm_match_at(l->fx, RE_FM_EMAIL, k, o, 7, 7, PCRE2_ANCHORED, ov) &&
	    !fm_text_has_uri(l, k, o))
		fm_addrs_add(l->out, k + ov[2], ov[3] - ov[2]);
}

/* saeval_html_walk_tags() callback: the href of each <a> start tag; stops the
 * walk at FM_MAX_MAILTO addresses. */
static bool fm_anchor(const char *name, const char *end, bool close,
                      void *ctx)
{
	struct fm_links *l = ctx;
	if (close || !saeval_tag_at(name, end, "a"))
		return false;
	const char *q = name + 1, *gt = q;
	char quote = 0;
	while (gt < end && (quote || *gt != '>')) {
		if (quote && *gt == quote)
			quote = 0;
		else if (!quote && (*gt == '"' || *gt == '\'') && gt[-1] == '=')
			quote = *gt;
		gt++;
	}
	const char *v;
	size_t vl;
	if (saeval_tag_attr(q, gt, "href", &v, &vl))
		fm_href(l, v, vl);
	return l->out->n >= FM_MAX_MAILTO;
}

static void fm_mailto_links(const struct msg *m, struct fm_match *fx,
                            struct fm_addrs *out)
{
	struct fm_links l = { .m = m, .fx = fx, .out = out };
	for (size_t i = 0; i < msg_part_count(m) && out->n < FM_MAX_MAILTO; i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (saeval_is_html_part(p))
			(void)saeval_html_walk_tags(p->text.ptr, p->text.len,
			                            fm_anchor, &l);
	}
	arena_free(l.ar);
	free(l.parsed.b.p);
}

/* Paragraph t as FreeMail.pm's two substitutions leave it: URLs holding
 * an address (one pass of PCRE2's), then quoted addresses (fm_find's),
 * each match blanked. The text goes to b, its length is returned; a is
 * scratch; both t.len + 1 bytes. */
static size_t fm_strip(struct fm_match *fx, struct msg_text t, char *a,
                       char *b)
{
	size_t n = t.len, o = 0, at = 0, ov[4];
	PCRE2_SIZE olen = n + 1;
	if (pcre2_substitute(saeval_re_code(RE_FM_STRIP_URL),
	                     (PCRE2_SPTR)t.ptr, n, 0, PCRE2_SUBSTITUTE_GLOBAL,
	                     fx->md, fx->mc, (PCRE2_SPTR)" ", 1,
	                     (PCRE2_UCHAR *)a, &olen) >= 0)
		n = olen;
	else
		memcpy(a, t.ptr, n);
	while (fm_find(fx, RE_FM_STRIP_QUOTED, a, n, at, ov)) {
		memcpy(b + o, a + at, ov[0] - at);
		o += ov[0] - at;
		b[o++] = ' ';
		at = ov[1];
	}
	memcpy(b + o, a + at, n - at);
	return o + n - at;
}

/* Paragraph i became b[0..n): kept in r->text, where off[i] - 1 says. */
static bool fm_keep_edit(struct fm_body *r, size_t *off, size_t i,
                         size_t count, const char *b, size_t n)
{
	if (r->body == NULL) {
		r->body = calloc(count, sizeof *r->body);
		if (r->body == NULL)
			return false;
		r->nbody = count;
	}
	off[i] = r->text.len + 1;
	r->body[i].len = n;
	strbuf_put(&r->text, b, n);
	return !r->text.oom;
}

/* r->body once the edits are in r->text: edited paragraphs point there,
 * the others at the message's. Out of memory: no edits at all. */
static void fm_point_edits(struct fm_body *r, const struct msg *m,
                           const size_t *off, bool ok)
{
	if (!ok || r->text.oom) {
		free(r->body);
		r->body = NULL;
		r->nbody = 0;
		return;
	}
	for (size_t i = 0; i < r->nbody; i++)
		r->body[i] = off[i] != 0
		             ? (struct msg_text){ r->text.p + off[i] - 1,
		                                  r->body[i].len }
		             : msg_body_at(m, i);
}

/* The addresses of the body text, after the mailto: ones in out; the
 * paragraphs the parse blanks something in (in SpamAssassin, up to the
 * one where the 40th address is found) go to r (fm_point_edits()). */
static void fm_text_addrs(const struct msg *m, struct fm_match *fx,
                          struct fm_addrs *out, struct fm_body *r)
{
	size_t count = msg_body_count(m);
	size_t *off = calloc(count ? count : 1, sizeof *off);
	bool ok = off != NULL;
	for (size_t i = 0; ok && i < count && out->n < FM_MAX_BODY; i++) {
		struct msg_text t = msg_body_at(m, i);
		bool at = t.len > 0 && memchr(t.ptr, '@', t.len) != NULL;
		if (!at && (t.len < 3 || memmem(t.ptr, t.len, "%40", 3) == NULL))
			continue;   /* nothing to find, nothing to blank */
		char *a = malloc(t.len + 1), *b = malloc(t.len + 1);
		ok = a != NULL && b != NULL;
		size_t n = ok ? fm_strip(fx, t, a, b) : 0, from = 0, ov[4];
		if (ok && (n != t.len || memcmp(b, t.ptr, n) != 0))
			ok = fm_keep_edit(r, off, i, count, b, n);
		while (ok && at && out->n < FM_MAX_BODY &&
		       fm_find(fx, RE_FM_EMAIL, b, n, from, ov)) {
			fm_addrs_add(out, b + ov[2], ov[3] - ov[2]);
			from = ov[1];
		}
		free(a);
		free(b);
	}
	fm_point_edits(r, m, off, ok);
	free(off);
}

void saeval_fm_body_free(struct fm_body *b)
{
	free(b->fms.b.p);
	free(b->body);
	free(b->text.p);
}

static void fm_body_work(const struct saeval_call *c,
                         const struct saeval_ctx *x, struct fm_body *r)
{
	struct fm_addrs all = { 0 };
	struct fm_match fx;
	r->fm = c->fm;
	if (!fm_match_init(&fx)) {
		fm_match_free(&fx);
		r->skip = true;   /* cannot tell: as if no hit */
		return;
	}
	fm_mailto_links(x->m, &fx, &all);
	fm_text_addrs(x->m, &fx, &all, r);
	fm_match_free(&fx);
	const struct freemail *f = c->fm;
	bool skip_over = f->skip_when_over_max != 0;
	double count_all = 0, count_fm = 0;
	const char *e = all.b.p;
	for (size_t i = 0; i < all.n && !all.b.oom; i++, e += strlen(e) + 1) {
		if (++count_all == f->max_body_emails && skip_over) {
			r->skip = true;
			break;
		}
		if (!fm_is_x(c, x, e))
			continue;
		if (++count_fm == f->max_body_freemails && skip_over) {
			r->skip = true;
			break;
		}
		fm_addrs_add(&r->fms, e, strlen(e));
	}
	if (all.b.oom || r->fms.b.oom)
		r->skip = true;
	free(all.b.p);
}

/* The body's answer for c: from the cache, or worked out into own
 * (which the caller frees). */
static const struct fm_body *fm_body(const struct saeval_call *c,
                                     const struct saeval_ctx *x,
                                     struct fm_body *own)
{
	struct saeval_cache *k = x->cache;
	if (k != NULL && k->fmb.fm == c->fm)
		return &k->fmb;
	struct fm_body *r = own;
	if (k != NULL && k->fmb.fm == NULL)
		r = &k->fmb;
	fm_body_work(c, x, r);
	return r;
}

/* Does a FreeMail rule's own regex match address e? */
static bool fm_re_match(const pcre2_code *re, const char *e)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (md == NULL)
		return false;
	int rc = pcre2_match(re, (PCRE2_SPTR)e, strlen(e), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc > 0;
}

/* Does a freemail address of the NUL-separated list (matching c->re
 * when given) exist? */
static bool fm_any(const struct saeval_call *c, const struct saeval_ctx *x,
                   struct strbuf *list, size_t count)
{
	if (list->oom || count == 0)
		return false;
	lower_buf(list);
	const char *e = list->p;
	for (size_t i = 0; i < count; i++, e += strlen(e) + 1) {
		if (!fm_is_x(c, x, e))
			continue;
		if (c->re == NULL || fm_re_match(c->re, e))
			return true;
	}
	return false;
}

static void push_env(const struct saeval_ctx *x, struct strbuf *list,
                     size_t *count)
{
	struct strbuf e = { 0 };
	if (saeval_envelope_from(x, &e) && e.len > 0 && !e.oom) {
		strbuf_put(list, e.p, e.len);
		strbuf_put(list, "", 1);
		(*count)++;
	}
	free(e.p);
}

/* Perl's tr/././s on list->p[from..len): runs of dots made one. */
static void squeeze_dots(struct strbuf *list, size_t from)
{
	size_t o = from;
	for (size_t i = from; i < list->len; i++)
		if (list->p[i] != '.' || o == from || list->p[o - 1] != '.')
			list->p[o++] = list->p[i];
	list->len = o;
}

void saeval_all_from_addrs(const struct saeval_ctx *x, struct strbuf *list,
                           size_t *count)
{
	size_t before = *count, from = list->len;
	saeval_push_first_addrs(x, "Resent-From", list, count);
	if (*count > before)
		return;
	saeval_push_addrs(x, "From", list, count);
	saeval_push_addrs(x, "Envelope-Sender", list, count);
	saeval_push_addrs(x, "Resent-Sender", list, count);
	saeval_push_addrs(x, "X-Envelope-From", list, count);
	push_env(x, list, count);
	if (!list->oom)
		squeeze_dots(list, from);
}

/* The "for ADDR;" of the first three Received lines whose ADDR's domain
 * is a valid host name (all_to_addrs' @rcvdaddrs). */
static void push_rcvd_for(const struct saeval_ctx *x, struct strbuf *list,
                          size_t *count)
{
	size_t pos = 0, ov[6];
	struct strbuf v = { 0 };
	for (int k = 0; k < 3; k++) {
		const struct msg_header *h = saeval_hdr_next(x, "Received", &pos);
		if (h == NULL)
			break;
		/* unfolded as SpamAssassin does: a fold is one space */
		v.len = 0;
		msg_header_sa_value(&v, h, false, true);
		if (v.oom || !saeval_re_find(RE_RCVD_FOR, v.p, v.len, ov, 6) ||
		    !uri_fqdn_valid(v.p + ov[4], ov[5] - ov[4]))
			continue;
		strbuf_put(list, v.p + ov[2], ov[3] - ov[2]);
		strbuf_put(list, "", 1);
		(*count)++;
	}
	free(v.p);
}

void saeval_all_to_addrs(const struct saeval_ctx *x, struct strbuf *list,
                         size_t *count)
{
	static const char *const hdrs[] = {
		"To", "Apparently-To", "Delivered-To", "Envelope-Recipients",
		"Apparently-Resent-To", "X-Envelope-To", "Envelope-To",
		"X-Delivered-To", "X-Original-To", "X-Rcpt-To", "X-Real-To", "Cc",
	};
	size_t before = *count;
	saeval_push_first_addrs(x, "Resent-To", list, count);
	saeval_push_first_addrs(x, "Resent-Cc", list, count);
	if (*count > before)
		return;
	push_rcvd_for(x, list, count);
	for (size_t i = 0; i < sizeof hdrs / sizeof *hdrs; i++)
		saeval_push_addrs(x, hdrs[i], list, count);
}

bool saeval_ev_freemail_from(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	saeval_all_from_addrs(x, &list, &count);
	bool hit = fm_any(c, x, &list, count);
	free(list.p);
	return hit;
}

bool saeval_ev_freemail_header(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	if (strcasecmp(c->args[0], "EnvelopeFrom") == 0)
		push_env(x, &list, &count);
	else
		saeval_push_addrs(x, c->args[0], &list, &count);
	bool hit = fm_any(c, x, &list, count);
	free(list.p);
	return hit;
}

/* Is any address of the NUL-separated list freemail? */
static bool fm_any_of(const struct saeval_call *c, const struct saeval_ctx *x,
                      const char *list, size_t n)
{
	for (size_t i = 0; i < n; i++, list += strlen(list) + 1)
		if (fm_is_x(c, x, list))
			return true;
	return false;
}

static bool in_list(const char *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++, list += strlen(list) + 1)
		if (strcmp(list, s) == 0)
			return true;
	return false;
}

/* Does a freemail address of the body differ from one of the n
 * addresses of list? */
static bool fm_body_differs(const struct saeval_call *c,
                            const struct saeval_ctx *x, const char *list,
                            size_t n)
{
	struct fm_body own = { 0 };
	const struct fm_body *b = fm_body(c, x, &own);
	bool hit = false;
	const char *e = b->fms.b.p;
	for (size_t i = 0; !b->skip && !hit && i < b->fms.n;
	     i++, e += strlen(e) + 1) {
		const char *r = list;
		for (size_t j = 0; !hit && j < n; j++, r += strlen(r) + 1)
			hit = strcmp(e, r) != 0;
	}
	saeval_fm_body_free(&own);
	return hit;
}

/* check_freemail_replyto's reading of the headers (struct fm_heads) for
 * c's lists into h. False when out of memory (h freed). */
static bool fm_heads_work(const struct saeval_call *c,
                          const struct saeval_ctx *x, struct fm_heads *h)
{
	*h = (struct fm_heads){ .fm = c->fm };
	saeval_push_addrs(x, "From", &h->from, &h->nf);
	saeval_push_addrs(x, "Reply-To", &h->rt, &h->nr);
	if (h->from.oom || h->rt.oom) {
		saeval_fm_heads_free(h);
		return false;
	}
	lower_buf(&h->from);
	lower_buf(&h->rt);
	h->ffm = fm_any_of(c, x, h->from.p, h->nf);
	h->rfm = fm_any_of(c, x, h->rt.p, h->nr);
	const char *f = h->from.p;
	for (size_t i = 0; i < h->nf; i++, f += strlen(f) + 1)
		h->from_in_rt |= in_list(h->rt.p, h->nr, f);
	h->done = true;
	return true;
}

void saeval_fm_heads_free(struct fm_heads *h)
{
	free(h->from.p);
	free(h->rt.p);
	*h = (struct fm_heads){ 0 };
}

/* The headers' facts for c: the cache's when worked out for c's lists
 * (the body edit and both calls of a message read them), else into own,
 * which the caller frees. NULL when out of memory. */
static const struct fm_heads *fm_heads(const struct saeval_call *c,
                                       const struct saeval_ctx *x,
                                       struct fm_heads *own)
{
	struct saeval_cache *k = x->cache;
	if (k != NULL && k->fmh.done && k->fmh.fm == c->fm)
		return &k->fmh;
	struct fm_heads *h = k != NULL && !k->fmh.done ? &k->fmh : own;
	return fm_heads_work(c, x, h) ? h : NULL;
}

/* Different freemail addresses in From and Reply-To: a hit without
 * reading the body. */
static bool fm_heads_differ(const struct fm_heads *h)
{
	return h->ffm && h->rfm && !h->from_in_rt;
}

/* When the headers alone do not decide, does check_freemail_replyto
 * ('reply' or 'replyto') read the body, and against which addresses
 * (*list, *n) does it compare the body's? Reply-To ('replyto', the
 * default) must be freemail; for 'reply', From must be, and Reply-To
 * too when there is one. */
static bool fm_body_list(bool reply, const struct fm_heads *h,
                         const char **list, size_t *n)
{
	bool to_rt = h->rfm;
	if (reply ? !h->ffm || (h->nr > 0 && !h->rfm) : !h->rfm)
		return false;
	*list = to_rt ? h->rt.p : h->from.p;
	*n = to_rt ? h->nr : h->nf;
	return true;
}

/* A bulk-looking EnvelopeFrom (freemail_skip_bulk_envfrom) makes
 * check_freemail_replyto false before anything else. */
static bool fm_bulk_env(const struct saeval_call *c,
                        const struct saeval_ctx *x)
{
	if (c->fm->skip_bulk_envfrom == 0)
		return false;
	struct strbuf env = { 0 };
	bool bulk = saeval_envelope_from(x, &env) &&
	            saeval_buf_str(&env) != NULL &&
	            saeval_re_str(RE_FM_BULK_ENV, env.p);
	free(env.p);
	return bulk;
}

static bool fm_reply_arg(const struct saeval_call *c)
{
	return c->nargs >= 1 && strcmp(c->args[0], "reply") == 0;
}

/* check_freemail_replyto: From and Reply-To are different freemail
 * addresses; or, when that is not so, a freemail address of the body
 * differs from Reply-To's or From's (fm_body_list()). The bulk check is
 * made last, only for a hit, since nothing else depends on it. */
bool saeval_ev_freemail_replyto(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	struct fm_heads own = { 0 };
	const struct fm_heads *h = fm_heads(c, x, &own);
	const char *list;
	size_t n;
	bool hit = h != NULL &&
	           (fm_heads_differ(h) ||
	            (fm_body_list(fm_reply_arg(c), h, &list, &n) &&
	             fm_body_differs(c, x, list, n)));
	saeval_fm_heads_free(&own);
	return hit && !fm_bulk_env(c, x);
}

/* SpamAssassin is "freemail_available" with some freemail_domains. */
static bool fm_available(const struct freemail *f)
{
	return f != NULL && f->ndom + f->nwild > 0;
}

/* Does call c (check_freemail_body's when body) read the body of this
 * message, as FreeMail.pm's _parse_body? */
static bool fm_reaches_body(const struct saeval_call *c,
                            const struct saeval_ctx *x, bool body)
{
	if (!fm_available(c->fm))
		return false;
	if (body)
		return true;
	struct fm_heads own = { 0 };
	const struct fm_heads *h = fm_heads(c, x, &own);
	const char *list;
	size_t n;
	bool yes = h != NULL && !fm_heads_differ(h) &&
	           fm_body_list(fm_reply_arg(c), h, &list, &n);
	saeval_fm_heads_free(&own);
	return yes && !fm_bulk_env(c, x);
}

void saeval_fm_edit_body(const struct saeval_call *c, struct saeval_ctx *x,
                         bool body)
{
	struct saeval_cache *k = x->cache;
	if (x->body != NULL || k == NULL || (k->fmb.fm != NULL &&
	    k->fmb.fm != c->fm) || !fm_reaches_body(c, x, body))
		return;
	struct fm_body own = { 0 };
	const struct fm_body *b = fm_body(c, x, &own);
	if (b->body != NULL && b != &own) {
		x->body = b->body;
		x->nbody = b->nbody;
	}
	saeval_fm_body_free(&own);
}

/* check_freemail_body: the body has a freemail address (matching the
 * optional regex), unless it has too many addresses (fm_body). */
bool saeval_ev_freemail_body(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct fm_body own = { 0 };
	const struct fm_body *b = fm_body(c, x, &own);
	bool hit = false;
	const char *e = b->fms.b.p;
	for (size_t i = 0; !b->skip && !hit && i < b->fms.n;
	     i++, e += strlen(e) + 1)
		hit = c->re == NULL || fm_re_match(c->re, e);
	saeval_fm_body_free(&own);
	return hit;
}

bool saeval_ok_freemail_header(const struct saeval_call *c)
{
	if (c->nargs < 1 || c->args[0][0] == '\0')
		return false;
	/* "Reply-To:addr": SpamAssassin asks for "Reply-To:addr:addr",
	 * which its header getter reads as Reply-To:addr */
	const char *colon = strchr(c->args[0], ':');
	return colon == NULL || strcmp(colon, ":addr") == 0;
}

bool saeval_ok_freemail_replyto(const struct saeval_call *c)
{
	return c->nargs == 0 || (c->nargs >= 1 &&
	       (strcmp(c->args[0], "replyto") == 0 ||
	        strcmp(c->args[0], "reply") == 0));
}

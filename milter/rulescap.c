/*
 * rulescap.c — SpamAssassin 4's capture rules and capture templates,
 * part of the rules module (rules_int.h).
 *
 * A capture rule has a named group whose name SpamAssassin takes as a
 * tag ("(?<GB_TO_ADDR>.*)"): each match sets the tag to the group's
 * non-empty values. A template rule has "%{NAME}" in its pattern: on a
 * message it runs with the tag's values put there, quoted, as
 * "(?:v1|v2)", and does not run at all when the tag has no value
 * (Check.pm's capture_rules_replace). Its pattern is thus compiled per
 * message, which is why a template rule is compiled only when a text
 * could match: when every match must hold a value (found at load from
 * the pattern's required literals, a marker standing for the
 * template), only texts holding one are candidates.
 *
 * Load (rules_cap_setup): the capture rules' patterns compiled once
 * more, for their name tables (the engine's own codes are rewritten,
 * projected and split for speed); the template rules' names. Run: see
 * rules_cap_collect(), rules_cap_pattern(), rules_cap_candidate().
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdlib.h>
#include <string.h>

#include "litscan.h"
#include "ruleset.h"
#include "rules_int.h"

/* Stands for a template in the probe pattern whose literals tell
 * whether every match holds a value: lower-case letters, so that
 * extraction keeps it whole under any option. */
static const char marker[] = "qzjvigiltmplqzj";

struct rcap_tmpl {
	uint32_t *occ;    /* capnames index of each template, in order */
	size_t nocc;
	bool need;        /* every match holds a value of one of them */
};

/* SpamAssassin's tag names: upper-case first, "_" between parts
 * (PerMsgStatus.pm's set_captures). */
static bool tag_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(s[0] >= 'A' && s[0] <= 'Z') || s[n - 1] == '_')
		return false;
	for (size_t i = 1; i < n; i++) {
		bool up = s[i] >= 'A' && s[i] <= 'Z';
		bool dig = s[i] >= '0' && s[i] <= '9';
		if (!up && !dig && !(s[i] == '_' && s[i - 1] != '_'))
			return false;
	}
	return true;
}

/* The index of name[0..n) in r->capnames; added when add is set.
 * UINT32_MAX when absent (or out of memory: *oom). */
static uint32_t capname(struct rules *r, const char *name, size_t n,
                        bool add, bool *oom)
{
	for (size_t k = 0; k < r->ncapnames; k++)
		if (strlen(r->capnames[k]) == n &&
		    memcmp(r->capnames[k], name, n) == 0)
			return (uint32_t)k;
	if (!add)
		return UINT32_MAX;
	char **v = realloc(r->capnames, (r->ncapnames + 1) * sizeof *v);
	char *s = v ? strndup(name, n) : NULL;
	if (v != NULL)
		r->capnames = v;
	if (s == NULL) {
		*oom = true;
		return UINT32_MAX;
	}
	r->capnames[r->ncapnames] = s;
	return (uint32_t)r->ncapnames++;
}

/* Rule i as a capture rule, when its pattern has a group named as a
 * tag: appended to r->caps. -1 out of memory. */
static int add_capture(struct rules *r, size_t i)
{
	const struct rs_rule *rs = r->cr[i].rs;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)rs->pattern,
	                                 rs->pattern_len, rs->pcre2_options,
	                                 &ec, &eo, NULL);
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table = NULL;
	if (code == NULL ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table) != 0 ||
	    count == 0) {
		pcre2_code_free(code);
		return 0;
	}
	struct rcap c = { .rule = (uint32_t)i, .code = code };
	c.grp = calloc(count, sizeof *c.grp);
	c.name = calloc(count, sizeof *c.name);
	bool oom = c.grp == NULL || c.name == NULL;
	for (uint32_t k = 0; k < count && !oom; k++) {
		const char *e = (const char *)table + (size_t)k * size;
		const char *nm = e + 2;
		size_t n = strnlen(nm, size - 2);
		if (!tag_name_ok(nm, n))
			continue;
		c.grp[c.n] = (uint32_t)((unsigned char)e[0] << 8 |
		                        (unsigned char)e[1]);
		c.name[c.n] = capname(r, nm, n, true, &oom);
		c.n++;
	}
	struct rcap *v = NULL;
	if (oom || c.n == 0 ||
	    (v = realloc(r->caps, (r->ncaps + 1) * sizeof *v)) == NULL) {
		pcre2_code_free(code);
		free(c.grp);
		free(c.name);
		return oom || c.n > 0 ? -1 : 0;   /* no tag name: no capture rule */
	}
	r->caps = v;
	r->caps[r->ncaps++] = c;
	return 0;
}

/* The probe: the pattern with a marker for each template. Does every
 * match hold a marker, by the pattern's required literal sets? */
static bool templates_required(const struct rs_rule *rs)
{
	size_t cap = rs->pattern_len * sizeof marker + 1;
	char *probe = malloc(cap);
	if (probe == NULL)
		return false;
	size_t n = 0, at = 0, start, nlen, end;
	const char *nm;
	while ((end = ruleset_next_template(rs->pattern, rs->pattern_len, at,
	                                    &start, &nm, &nlen)) != 0) {
		memcpy(probe + n, rs->pattern + at, start - at);
		n += start - at;
		memcpy(probe + n, marker, sizeof marker - 1);
		n += sizeof marker - 1;
		at = end;
	}
	memcpy(probe + n, rs->pattern + at, rs->pattern_len - at);
	n += rs->pattern_len - at;
	char lits[LITSCAN_MAX_LITS][64];
	size_t counts[RULES_MAX_CONJ];
	size_t sets = litscan_extract_conj(probe, n, rs->pcre2_options, lits,
	                                   LITSCAN_MAX_LITS, counts,
	                                   RULES_MAX_CONJ);
	free(probe);
	bool req = false;
	for (size_t s = 0, first = 0; s < sets && !req; first += counts[s++]) {
		req = counts[s] > 0;
		for (size_t k = first; k < first + counts[s] && req; k++)
			req = strstr(lits[k], marker) != NULL;
	}
	return req;
}

/* Rule i as a template rule: its names, each one some capture rule
 * sets, else it never hits (RULES_UNSUPPORTED). -1 out of memory. */
static int add_template(struct rules *r, size_t i)
{
	struct crule *c = &r->cr[i];
	const struct rs_rule *rs = c->rs;
	struct rcap_tmpl *t = calloc(1, sizeof *t);
	if (t == NULL)
		return -1;
	c->tmpl = t;
	size_t at = 0, start, nlen;
	const char *nm;
	bool oom = false;
	while ((at = ruleset_next_template(rs->pattern, rs->pattern_len, at,
	                                   &start, &nm, &nlen)) != 0) {
		uint32_t id = capname(r, nm, nlen, false, &oom);
		if (id == UINT32_MAX) {
			c->state = RULES_UNSUPPORTED;
			return rules_add_diag(r, RULES_DIAG_UNSUPPORTED, rs,
			                      "%s: capture template %%{%.*s}: no "
			                      "rule captures %.*s: never hits",
			                      rs->name, (int)nlen, nm, (int)nlen, nm);
		}
		uint32_t *v = realloc(t->occ, (t->nocc + 1) * sizeof *v);
		if (v == NULL)
			return -1;
		t->occ = v;
		t->occ[t->nocc++] = id;
	}
	if (c->tgt == T_MIMEHEADER) {
		c->state = RULES_UNSUPPORTED;
		return rules_add_diag(r, RULES_DIAG_UNSUPPORTED, rs,
		                      "%s: capture templates in mimeheader rules "
		                      "are not implemented: never hits", rs->name);
	}
	t->need = templates_required(rs);
	size_t *v = realloc(r->tmpls, (r->ntmpls + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	r->tmpls = v;
	r->tmpls[r->ntmpls++] = i;
	return 0;
}

static bool runs(const struct crule *c)
{
	return c->tgt != T_COUNT &&
	       (c->state == RULES_ACTIVE || c->state == RULES_APPROX);
}

int rules_cap_setup(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct crule *c = &r->cr[i];
		if (runs(c) && c->rs->captures && !c->rs->capture_template &&
		    c->tgt != T_MIMEHEADER && !c->rs->exists && !c->rs->negate &&
		    add_capture(r, i) != 0)
			return -1;
	}
	for (size_t i = 0; i < r->n; i++)
		if (runs(&r->cr[i]) && r->cr[i].rs->capture_template &&
		    add_template(r, i) != 0)
			return -1;
	return 0;
}

void rules_cap_free(struct rules *r)
{
	for (size_t k = 0; k < r->ncaps; k++) {
		pcre2_code_free(r->caps[k].code);
		free(r->caps[k].grp);
		free(r->caps[k].name);
	}
	free(r->caps);
	for (size_t k = 0; k < r->ncapnames; k++)
		free(r->capnames[k]);
	free(r->capnames);
	for (size_t i = 0; r->cr != NULL && i < r->n; i++) {
		if (r->cr[i].tmpl != NULL)
			free(r->cr[i].tmpl->occ);
		free(r->cr[i].tmpl);
	}
	free(r->tmpls);
}

/* ---- per message ---- */

static bool have_value(const struct rcap_vals *v, uint32_t name,
                       const char *s, size_t n)
{
	for (size_t k = 0; k < v->n; k++)
		if (v->v[k].name == name && v->v[k].len == n &&
		    memcmp(v->b.p + v->v[k].off, s, n) == 0)
			return true;
	return false;
}

static void add_value(struct rcap_vals *v, uint32_t name, const char *s,
                      size_t n)
{
	if (n == 0 || have_value(v, name, s, n))
		return;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->v, cap * sizeof *v->v);
		if (p == NULL) {
			v->b.oom = true;
			return;
		}
		v->v = p;
		v->cap = cap;
	}
	size_t off = v->b.len;
	strbuf_put(&v->b, s, n);
	if (!v->b.oom)   /* (else the value is not there to point at) */
		v->v[v->n++] = (struct rcap_val){ name, off, n };
}

unsigned rules_cap_collect(const struct rules *r, size_t k, const char *text,
                           size_t len, unsigned max, pcre2_match_context *mc,
                           struct rcap_vals *v)
{
	const struct rcap *c = &r->caps[k];
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->code,
	                                                            NULL);
	if (md == NULL) {
		v->b.oom = true;
		return 0;
	}
	PCRE2_SIZE at = 0;
	unsigned hits = 0;
	for (; hits < max && at <= len; hits++) {
		if (pcre2_match(c->code, (PCRE2_SPTR)text, len, at, 0, md,
		                mc) <= 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		for (size_t g = 0; g < c->n; g++) {
			PCRE2_SIZE s = ov[2 * c->grp[g]], e = ov[2 * c->grp[g] + 1];
			if (s != PCRE2_UNSET && e > s)
				add_value(v, c->name[g], text + s, e - s);
		}
		at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
	return hits;
}

/* Appends s[0..n) quoted as Perl's quotemeta does for bytes: every
 * ASCII byte but letters, digits and '_' behind a backslash, which
 * PCRE2 takes as that byte whatever the options. */
static void put_quoted(struct strbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		            (ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
		if (!word)
			strbuf_put(b, "\\", 1);
		strbuf_put(b, s + i, 1);
	}
}

char *rules_cap_pattern(const struct rules *r, size_t i,
                        const struct rcap_vals *v, size_t *out_len)
{
	const struct rs_rule *rs = r->cr[i].rs;
	struct strbuf b = { 0 };
	const uint32_t *occ = r->cr[i].tmpl->occ;
	size_t at = 0, start, nlen, end;
	const char *nm;
	for (size_t o = 0; (end = ruleset_next_template(rs->pattern,
	                        rs->pattern_len, at, &start, &nm, &nlen)) != 0;
	     o++) {
		uint32_t id = occ[o];
		strbuf_put(&b, rs->pattern + at, start - at);
		strbuf_put(&b, "(?:", 3);
		size_t put = 0;
		for (size_t k = 0; k < v->n; k++) {
			if (v->v[k].name != id)
				continue;
			if (put++ > 0)
				strbuf_put(&b, "|", 1);
			put_quoted(&b, v->b.p + v->v[k].off, v->v[k].len);
		}
		if (put == 0) {   /* the tag is not set: the rule does not run */
			strbuf_free(&b);
			return NULL;
		}
		strbuf_put(&b, ")", 1);
		at = end;
	}
	strbuf_put(&b, rs->pattern + at, rs->pattern_len - at);
	if (b.oom) {
		strbuf_free(&b);
		return NULL;
	}
	*out_len = b.len;
	return b.p;
}

static unsigned char fold(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

/* Whether s[0..n) holds w[0..m), ASCII letters in any case. */
static bool holds_caseless(const char *s, size_t n, const char *w, size_t m)
{
	for (size_t i = 0; m > 0 && i + m <= n; i++) {
		size_t k = 0;
		while (k < m && fold((unsigned char)s[i + k]) ==
		                fold((unsigned char)w[k]))
			k++;
		if (k == m)
			return true;
	}
	return false;
}

bool rules_cap_candidate(const struct rules *r, size_t i,
                         const struct rcap_vals *v, const char *text,
                         size_t len)
{
	const struct rcap_tmpl *t = r->cr[i].tmpl;
	if (!t->need)
		return true;
	for (size_t k = 0; k < v->n; k++) {
		for (size_t j = 0; j < t->nocc; j++)
			if (v->v[k].name == t->occ[j] &&
			    holds_caseless(text, len, v->b.p + v->v[k].off,
			                   v->v[k].len))
				return true;
	}
	return false;
}

void rules_cap_vals_free(struct rcap_vals *v)
{
	strbuf_free(&v->b);
	free(v->v);
}

/*
 * rulesud.c — SpamAssassin's uri_detail rules (Plugin::URIDetail, which
 * SpamAssassin 4.0.1 loads by default): part of the rules module
 * (rules_int.h).
 *
 * "uri_detail NAME KEY =~ /re/ KEY !~ /re/ ..." (ruleset.h: the
 * conditions, at most one per key) hits when one URI of the message's
 * URI details (msg.h msg_uri_detail_at()) meets every condition. A key
 * whose value is a list (type, cleaned, text, domain, host) holds when
 * some value matches (for !~: some value does not); a URI without a
 * value of the key (no anchor text, no host) meets neither operator.
 * The domains are the registrar domains of the hosts (the rule set's
 * util_rb_2tld/3tld lists), an address host its own, computed once per
 * message on first use. The patterns come from the rule files as the
 * parser rewrote them for PCRE2 (perlre.h), like every regex rule's.
 * A match that reaches a PCRE2 limit meets neither operator.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "ruleset.h"
#include "rules_int.h"
#include "saeval.h"
#include "uri.h"

struct rud {
	struct {
		enum rs_ud_key key;
		bool negate;
		pcre2_code *re;
		bool jit;
	} c[RS_UD_NKEYS];
	size_t n;
};

/* The domains of each URI detail of one message, built on first use:
 * detail i's are dom[at[i] .. at[i + 1]), strings in b (NUL-ended). */
struct rud_msg {
	struct strbuf b;
	size_t *off;        /* into b */
	size_t *at;
	size_t n, cap;
	bool done, oom;
};

void rules_ud_free(struct rud *u)
{
	if (u == NULL)
		return;
	for (size_t k = 0; k < u->n; k++)
		pcre2_code_free(u->c[k].re);
	free(u);
}

int rules_ud_compile(struct rules *r, size_t i)
{
	struct crule *c = &r->cr[i];
	const struct rs_ud_cond *ud = c->rs->ud;
	struct rud *u = calloc(1, sizeof *u);
	if (u == NULL)
		return -1;
	c->ud = u;
	for (int k = 0; ud != NULL && k < RS_UD_NKEYS; k++) {
		if (!ud[k].set)
			continue;
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)ud[k].pattern,
		                               ud[k].pattern_len,
		                               ud[k].pcre2_options, &ec, &eo, NULL);
		if (re == NULL) {   /* the parser checked: a limit, memory */
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(ec, msg, sizeof msg);
			c->state = RULES_FAILED;
			return rules_add_diag(r, RULES_DIAG_COMPILE, c->rs,
			                      "rule %s: PCRE2 error at offset %zu: "
			                      "%s", c->rs->name, (size_t)eo,
			                      (const char *)msg);
		}
		/* few patterns, run on every message with URIs */
		bool jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
		u->c[u->n].key = (enum rs_ud_key)k;
		u->c[u->n].negate = ud[k].negate;
		u->c[u->n].re = re;
		u->c[u->n].jit = jit;
		u->n++;
	}
	return 0;
}

/* The registrar domain of each host of each detail, each once per
 * detail (an address its own). */
static void build_domains(struct rud_msg *dm, const struct rules *r,
                          const struct msg *m)
{
	size_t nd = msg_uri_detail_count(m);
	dm->done = true;
	dm->at = calloc(nd + 1, sizeof *dm->at);
	if (dm->at == NULL) {
		dm->oom = true;
		return;
	}
	for (size_t i = 0; i < nd && !dm->oom; i++) {
		const struct msg_uri_detail *d = msg_uri_detail_at(m, i);
		dm->at[i] = dm->n;
		for (size_t h = 0; h < d->nhosts; h++) {
			char dom[256];
			if (uri_is_ipv4(d->hosts[h].ptr, d->hosts[h].len))
				snprintf(dom, sizeof dom, "%s", d->hosts[h].ptr);
			else
				saeval_registrar_domain(r->rd, d->hosts[h].ptr,
				                        dom, sizeof dom);
			bool dup = false;
			for (size_t k = dm->at[i]; k < dm->n && !dup; k++)
				dup = strcmp(dm->b.p + dm->off[k], dom) == 0;
			if (dup || dom[0] == '\0')
				continue;
			if (dm->n == dm->cap) {
				size_t cap = dm->cap ? dm->cap * 2 : 16;
				size_t *o = realloc(dm->off, cap * sizeof *o);
				if (o == NULL) {
					dm->oom = true;
					break;
				}
				dm->off = o;
				dm->cap = cap;
			}
			dm->off[dm->n++] = dm->b.len;
			strbuf_put(&dm->b, dom, strlen(dom) + 1);
		}
	}
	dm->at[nd] = dm->n;
	dm->oom |= dm->b.oom;
}

void rules_ud_msg_free(struct rud_msg *dm)
{
	if (dm == NULL)
		return;
	free(dm->b.p);
	free(dm->off);
	free(dm->at);
	free(dm);
}

/* What matching runs with: the match data and context of the thread,
 * the first limit a match reached. */
struct udrun {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	int limit;
};

/* Whether text meets condition k of u (=~ matches, !~ does not); a
 * match that reaches a limit meets neither. */
static bool meets(const struct rud *u, size_t k, const char *text,
                  size_t len, struct udrun *x)
{
	int rc = u->c[k].jit ?
	         pcre2_jit_match(u->c[k].re, (PCRE2_SPTR)text, len, 0, 0,
	                         x->md, x->mc) :
	         pcre2_match(u->c[k].re, (PCRE2_SPTR)text, len, 0, 0, x->md,
	                     x->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return u->c[k].negate;
	if (rc < 0 && rc != PCRE2_ERROR_PARTIAL) {
		if (x->limit == 0)
			x->limit = rc;
		return false;
	}
	return !u->c[k].negate;
}

/* Whether some value of t[0..n) meets condition k. */
static bool some_meets(const struct rud *u, size_t k,
                       const struct msg_text *t, size_t n, struct udrun *x)
{
	for (size_t j = 0; j < n; j++)
		if (meets(u, k, t[j].ptr, t[j].len, x))
			return true;
	return false;
}

/* Whether detail i (d) meets condition k. */
static bool cond_holds(const struct rules *r, const struct rud *u, size_t k,
                       const struct msg *m, size_t i,
                       const struct msg_uri_detail *d, struct rud_msg *dm,
                       struct udrun *x)
{
	switch (u->c[k].key) {
	case RS_UD_RAW:
		return meets(u, k, d->raw.ptr, d->raw.len, x);
	case RS_UD_TYPE:
		for (unsigned t = 0; t < MSG_URI_NTYPES; t++) {
			const char *name = msg_uri_type_name((enum msg_uri_type)t);
			if ((d->types >> t & 1) &&
			    meets(u, k, name, strlen(name), x))
				return true;
		}
		return false;
	case RS_UD_CLEANED:
		return some_meets(u, k, d->cleaned, d->ncleaned, x);
	case RS_UD_TEXT:
		return some_meets(u, k, d->anchors, d->nanchors, x);
	case RS_UD_HOST:
		return some_meets(u, k, d->hosts, d->nhosts, x);
	case RS_UD_DOMAIN:
		if (!dm->done)
			build_domains(dm, r, m);
		if (dm->oom)   /* dm->at may be NULL */
			return false;
		for (size_t j = dm->at[i]; j < dm->at[i + 1]; j++) {
			const char *s = dm->b.p + dm->off[j];
			if (meets(u, k, s, strlen(s), x))
				return true;
		}
		return false;
	case RS_UD_NKEYS:
		break;
	}
	return false;
}

bool rules_ud_match(const struct rules *r, size_t i, const struct msg *m,
                    struct rud_msg **dmp, pcre2_match_data *md,
                    pcre2_match_context *mc, struct msg_text *hit,
                    int *limit)
{
	const struct rud *u = r->cr[i].ud;
	struct udrun x = { md, mc, 0 };
	size_t nd = msg_uri_detail_count(m);
	if (nd > 0 && *dmp == NULL && (*dmp = calloc(1, sizeof **dmp)) == NULL)
		return false;
	bool found = false;
	for (size_t d = 0; d < nd && !found; d++) {
		const struct msg_uri_detail *ud = msg_uri_detail_at(m, d);
		size_t k = 0;
		while (k < u->n && cond_holds(r, u, k, m, d, ud, *dmp, &x))
			k++;
		if (k == u->n) {
			*hit = ud->raw;
			found = true;
		}
	}
	*limit = x.limit;
	return found;
}

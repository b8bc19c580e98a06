/*
 * sa_regdom.c — SpamAssassin eval (saeval.h): the registrar domain of a
 * host name as RegistryBoundaries.pm's split_domain() cuts it, with the
 * util_rb_2tld / util_rb_3tld lists of the rule files (clear_util_rb
 * empties them), and WLBLEval's check_mailfrom_matches_rcvd(), which
 * compares the envelope sender's registrar domain with the relay's, and
 * HeaderEval's check_ratware_envelope_from().
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "relays.h"
#include "ruleset.h"
#include "uri.h"

/* The lists: lower-case names, sorted for bsearch. */
struct regdom {
	char **two, **three;
	size_t n2, n3, cap2, cap3;
};

void saeval_regdom_free(struct regdom *rd)
{
	if (rd == NULL)
		return;
	for (size_t i = 0; i < rd->n2; i++)
		free(rd->two[i]);
	for (size_t i = 0; i < rd->n3; i++)
		free(rd->three[i]);
	free(rd->two);
	free(rd->three);
	free(rd);
}

static void clear_names(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

int saeval_regdom_build(const struct ruleset *rs, struct regdom **out)
{
	struct regdom *rd = calloc(1, sizeof *rd);
	if (rd == NULL)
		return -1;
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *k, *v;
		if (!ruleset_setting_at(rs, i, &k, &v))
			break;
		if (strcmp(k, "clear_util_rb") == 0) {
			clear_names(rd->two, &rd->n2);
			clear_names(rd->three, &rd->n3);
			continue;
		}
		bool two = strcmp(k, "util_rb_2tld") == 0;
		if (!two && strcmp(k, "util_rb_3tld") != 0)
			continue;
		for (const char *p = v; *p != '\0';) {
			p += strspn(p, " \t");
			size_t n = strcspn(p, " \t");
			if (n > 0 && (two ? saeval_push_lower(&rd->two, &rd->n2, &rd->cap2, p, n)
			                  : saeval_push_lower(&rd->three, &rd->n3, &rd->cap3,
			                              p, n)) != 0) {
				saeval_regdom_free(rd);
				return -1;
			}
			p += n;
		}
	}
	if (rd->n2 > 1)
		qsort(rd->two, rd->n2, sizeof *rd->two, saeval_cmp_str);
	if (rd->n3 > 1)
		qsort(rd->three, rd->n3, sizeof *rd->three, saeval_cmp_str);
	*out = rd;
	return 0;
}

static bool us_state(const char *s, size_t n)
{
	static const char states[] =
	    "ak al ar az ca co ct dc de fl ga gu hi ia id il in ks ky la ma md "
	    "me mi mn mo ms mt nc nd ne nh nj nm nv ny oh ok or pa pr ri sc sd "
	    "tn tx ut va vi vt wa wi wv wy";
	for (const char *p = states; n == 2 && *p != '\0'; p += 3)
		if (p[0] == s[0] && p[1] == s[1])
			return true;
	return false;
}

/* The length of label i of a name (lab[] holds the labels' starts, NULL
 * after the last; end is the name's end). */
static size_t label_len(const char *const *lab, size_t i, const char *end)
{
	const char *e = lab[i + 1] != NULL ? lab[i + 1] - 1 : end;
	return (size_t)(e - lab[i]);
}

void saeval_registrar_domain(const struct regdom *rd, const char *h,
                             char *out, size_t cap)
{
	char d[256];
	size_t n = 0;
	for (const char *p = h; *p != '\0' && n + 1 < sizeof d; p++) {
		if (*p == '.' && (n == 0 || d[n - 1] == '.'))
			continue;
		d[n++] = (char)tolower((unsigned char)*p);
	}
	while (n > 0 && d[n - 1] == '.')
		n--;
	d[n] = '\0';
	const char *lab[130];
	size_t nl = 0;
	for (char *p = d; nl < 128 && *p != '\0'; nl++) {
		lab[nl] = p;
		char *dot = strchr(p, '.');
		if (dot == NULL) {
			nl++;
			break;
		}
		p = dot + 1;
	}
	lab[nl] = NULL;
	const char *end = d + n;
	/* drop leading labels while the rest is longer than a registrar
	 * domain: at 2, 3 or 4 labels the lists and the .us rules say when
	 * to stop */
	size_t first = 0;
	while (nl - first > 1) {
		size_t left = nl - first;
		const char *rest = lab[first];
		if (left == 2 && saeval_in_sorted(rd->two, rd->n2, rest))
			break;
		if (left == 3) {
			if (strcmp(lab[first + 2], "us") == 0 ?
			    us_state(lab[first + 1], label_len(lab, first + 1, end)) :
			    saeval_in_sorted(rd->three, rd->n3, rest))
				break;
		}
		if (left == 4 && strcmp(lab[first + 3], "us") == 0 &&
		    (strncmp(lab[first], "pvt.k12.", 8) == 0 ||
		     strncmp(lab[first], "ci.", 3) == 0 ||
		     strncmp(lab[first], "co.", 3) == 0) &&
		    us_state(lab[first + 2], label_len(lab, first + 2, end)))
			break;
		first++;
	}
	if (first > 0)
		first--;   /* the registrar's own label goes with the TLD part */
	const char *r = nl > 0 ? lab[first] : d;
	size_t rl = (size_t)(end - r);
	if (rl + 1 > cap)
		rl = 0;
	memcpy(out, r, rl);
	out[rl] = '\0';
}

/* check_mailfrom_matches_rcvd(): the EnvelopeFrom address's registrar
 * domain equals that of the first untrusted relay's rDNS name (or, with
 * no untrusted relay, of any trusted relay's). */
bool saeval_ev_mailfrom_matches_rcvd(const struct saeval_call *c,
                                     const struct saeval_ctx *x)
{
	struct strbuf env = { 0 };
	bool match = false;
	const char *e = saeval_envelope_from(x, &env) ?
	                saeval_buf_str(&env) : NULL;
	const char *at = e != NULL ? strrchr(e, '@') : NULL;
	/* "@" then a name with a dot inside */
	const char *dot = at != NULL ? strchr(at + 1, '.') : NULL;
	if (c->rd == NULL || dot == NULL || dot == at + 1 || dot[1] == '\0') {
		free(env.p);
		return false;
	}
	char ad[256], rl[256];
	saeval_registrar_domain(c->rd, at + 1, ad, sizeof ad);
	struct relays *own;
	const struct relays *r = saeval_get_relays(x, &own);
	size_t nu = r ? relays_num(r, RELAYS_UNTRUSTED) : 0;
	size_t nt = r ? relays_num(r, RELAYS_TRUSTED) : 0;
	enum relays_kind k = nu > 0 ? RELAYS_UNTRUSTED : RELAYS_TRUSTED;
	size_t n = nu > 0 ? 1 : nt;
	for (size_t i = 0; i < n && !match && ad[0] != '\0'; i++) {
		const struct relays_relay *h = relays_at(r, k, i);
		if (h == NULL || h->rdns == NULL || h->rdns[0] == '\0')
			continue;
		saeval_registrar_domain(c->rd, h->rdns, rl, sizeof rl);
		match = strcmp(ad, rl) == 0;
	}
	relays_free(own);
	free(env.p);
	return match;
}

/* Perl's /\bDOM.USER@/i in e: the domain at a word boundary, any one
 * character but a line break, the user, '@'. */
static bool dom_user_at(const char *e, const char *dom, const char *user,
                        size_t ul)
{
	size_t el = strlen(e), dl = strlen(dom);
	for (size_t i = 0; dl > 0 && i + dl + 1 + ul < el; i++) {
		if (strncasecmp(e + i, dom, dl) != 0 ||
		    !saeval_word_boundary(e, el, i) || e[i + dl] == '\n' ||
		    strncasecmp(e + i + dl + 1, user, ul) != 0 ||
		    e[i + dl + 1 + ul] != '@')
			continue;
		return true;
	}
	return false;
}

/* check_ratware_envelope_from(): the envelope sender (EnvelopeFrom,
 * saeval_envelope_from()) is made of the To address: DOMAIN?USER@...,
 * DOMAIN the registrar domain of To's; not an SRS address. */
bool saeval_ev_ratware_envelope_from(const struct saeval_call *c,
                                     const struct saeval_ctx *x)
{
	struct strbuf to = { 0 }, env = { 0 };
	saeval_get_first_addr(x, "To", &to);
	const char *t = saeval_buf_str(&to);
	const char *e = saeval_envelope_from(x, &env) ?
	                saeval_buf_str(&env) : NULL;
	bool hit = false;
	if (c->rd != NULL && t != NULL && e != NULL && *e != '\0' &&
	    !(strncasecmp(e, "srs", 3) == 0 && isdigit((unsigned char)e[3]) &&
	      e[4] != '\0' && strchr("=+-", e[4]) != NULL)) {
		const char *at = strchr(t, '@');
		char dom[256];
		if (at != NULL && at > t && at[1] != '\0') {
			saeval_registrar_domain(c->rd, at + 1, dom, sizeof dom);
			hit = uri_domain_valid(dom, strlen(dom)) &&
			      dom_user_at(e, dom, t, (size_t)(at - t));
		}
	}
	free(to.p);
	free(env.p);
	return hit;
}

/*
 * sa_relay.c — SpamAssassin eval (saeval.h): relays. HeaderEval's
 * checks for forged relays in the Received text (fake AOL, forged
 * Yahoo, Hotmail, Eudoramail, Juno and Gmail Received headers), and the
 * RelayEval functions on the parsed relays (relays.h).
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relays.h"
#include "strbuf.h"

/* ---- forged relays in Received (no relay parsing needed) ---- */

/* Whitespace runs of b made one space, in place (Perl's s/\s+/ /g). */
static const char *collapse_blanks(struct strbuf *b)
{
	char *s = (char *)saeval_buf_str(b);
	if (s == NULL)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < b->len;) {
		if (isspace((unsigned char)s[i])) {
			s[j++] = ' ';
			while (i < b->len && isspace((unsigned char)s[i]))
				i++;
		} else {
			s[j++] = s[i++];
		}
	}
	b->len = j;
	return saeval_buf_str(b);
}

/* $pms->get(name) with whitespace runs made one space, into b (empty
 * before); NULL when out of memory. */
static const char *received_flat(const struct saeval_ctx *x, const char *name,
                                 struct strbuf *b)
{
	saeval_get_header(x, name, false, b);
	return collapse_blanks(b);
}

/* $pms->get('Received'), worked out once per cache: the text (NULL when
 * out of memory) and, in *any, whether there was one. Without a cache
 * it is built in own, which the caller frees. */
static const char *rcvd_joined(const struct saeval_ctx *x, struct strbuf *own,
                               bool *any)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL) {
		bool a = saeval_get_header(x, "Received", false, own);
		if (any != NULL)
			*any = a;
		return saeval_buf_str(own);
	}
	if (!k->rcvd_done) {
		k->rcvd_any = saeval_get_header(x, "Received", false, &k->rcvd);
		k->rcvd_s = saeval_buf_str(&k->rcvd);
		k->rcvd_done = true;
	}
	if (any != NULL)
		*any = k->rcvd_any;
	return k->rcvd_s;
}

/* received_flat(x, "Received", own), worked out once per cache. */
static const char *rcvd_flat(const struct saeval_ctx *x, struct strbuf *own)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return received_flat(x, "Received", own);
	if (!k->flat_done) {
		const char *r = rcvd_joined(x, NULL, NULL);
		if (r != NULL) {
			strbuf_put(&k->flat, r, k->rcvd.len);
			k->flat_s = collapse_blanks(&k->flat);
		}
		k->flat_done = true;
	}
	return k->flat_s;
}

bool saeval_ev_fake_aol_relay(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf b = { 0 };
	const char *r = rcvd_flat(x, &b);
	size_t rn = r != NULL ? strlen(r) : 0;
	bool hit = r != NULL && saeval_re_find(RE_AOL_RLY, r, rn, NULL, 0) &&
	           !saeval_re_find(RE_AOL_OK1, r, rn, NULL, 0) &&
	           !saeval_re_find(RE_AOL_OK2, r, rn, NULL, 0);
	free(b.p);
	return hit;
}

/* SpamAssassin's gated_through_received_hdr_remover(): 1 or 0 (a
 * saeval_cached_fact()). */
static double gated_check(const struct saeval_ctx *x)
{
	struct strbuf a = { 0 }, d = { 0 }, own = { 0 };
	bool yes = false, any;
	const char *r = rcvd_joined(x, &own, &any);
	if (saeval_get_header(x, "Mailing-List", false, &a) &&
	    saeval_re_str(RE_EZMLM_LIST, saeval_buf_str(&a))) {
		saeval_get_header(x, "Delivered-To", false, &d);
		if (saeval_re_str(RE_EZMLM_DLTO, saeval_buf_str(&d)) &&
		    saeval_re_str(RE_EZMLM_RCVD, r))
			yes = true;
	}
	if (!yes && !any)
		yes = true;
	if (!yes && saeval_re_str(RE_MSN, r))
		yes = true;
	free(a.p);
	free(d.p);
	free(own.p);
	return yes;
}

static bool gated_rcvd_remover(const struct saeval_ctx *x)
{
	return saeval_cached_fact(x, FACT_GATED, gated_check) != 0;
}

bool saeval_ev_gated_rcvd_remover(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	return gated_rcvd_remover(x);
}

bool saeval_ev_forged_yahoo_rcvd(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf from = { 0 }, t = { 0 }, b = { 0 };
	bool hit = false;
	saeval_get_first_addr(x, "From", &from);
	const char *f = saeval_buf_str(&from);
	if (!saeval_re_str(RE_YAHOO_FROM, f))
		goto out;
	const char *name = "Received";
	if (saeval_get_header(x, "Resent-From", false, &t) && t.len &&
	    (t.len = 0, saeval_get_header(x, "Resent-To", false, &t)) &&
	    t.len &&
	    (t.len = 0, saeval_get_header(x, "X-Received", false, &t)) &&
	    t.len)
		name = "X-Received";
	const char *r = name[0] == 'R' ? rcvd_flat(x, &b) :
	                received_flat(x, name, &b);
	if (r == NULL || gated_rcvd_remover(x))
		goto out;
	/* SpamAssassin also accepts a yahoo.com rDNS in the trusted relays
	 * (X-Spam-Relays-*), which vigil does not build. */
	if (saeval_re_str(RE_Y1, r) || saeval_re_str(RE_Y2, r) ||
	    saeval_re_str(RE_Y3, r) || saeval_re_str(RE_Y4, r) ||
	    (saeval_re_str(RE_Y5, r) && saeval_re_str(RE_Y6, f)) ||
	    saeval_re_str(RE_Y7, r))
		goto out;
	hit = true;
out:
	free(from.p);
	free(t.p);
	free(b.p);
	return hit;
}

/* ---- forged relays in Received: Hotmail, Eudoramail, Juno, Gmail ---- */

/* The first From address ends with @DOMAIN (case-insensitive, with a
 * word boundary before DOMAIN). */
static bool from_is(const struct saeval_ctx *x, const char *domain, struct strbuf *f)
{
	saeval_get_first_addr(x, "From", f);
	const char *s = saeval_buf_str(f);
	size_t n = s ? strlen(s) : 0, l = strlen(domain);
	if (n < l || strcasecmp(s + n - l, domain) != 0)
		return false;
	return n == l || !(isalnum((unsigned char)s[n - l - 1]) ||
	                   s[n - l - 1] == '_');
}

static bool hdr_matches(const struct saeval_ctx *x, const char *name, enum re_id id,
                        bool *present)
{
	struct strbuf b = { 0 };
	bool any = saeval_get_header(x, name, false, &b);
	if (present != NULL)
		*present = any;
	bool yes = saeval_re_str(id, saeval_buf_str(&b));
	free(b.p);
	return yes;
}

/* SpamAssassin's _check_for_forged_hotmail_received_headers(): 1 for
 * forged hotmail Received, 2 for a hotmail From without hotmail
 * Received, 0 for neither (a saeval_cached_fact()). */
static double hotmail_check(const struct saeval_ctx *x)
{
	struct strbuf b = { 0 }, f = { 0 };
	double res = 0;
	const char *r = rcvd_flat(x, &b);
	size_t rn = r != NULL ? strlen(r) : 0;
#define RRE(id) saeval_re_find(id, r, rn, NULL, 0)
	if (r == NULL || RRE(RE_HM_PICKUP))
		goto out;
	if (hdr_matches(x, "To", RE_HM_MSN_TO, NULL) && RRE(RE_HM_MSN_RCVD))
		goto out;   /* MSN groups (Message-Id checks left out) */
	bool ip = hdr_matches(x, "X-Originating-Ip", RE_IPADDR, NULL);
	bool orig = hdr_matches(x, "X-OriginatorOrg", RE_HM_ORIG, NULL);
	if (gated_rcvd_remover(x))
		goto out;
	if ((ip && (RRE(RE_HM_OK1) || RRE(RE_HM_OK4) || RRE(RE_HM_OK5) ||
	            RRE(RE_HM_OK6))) ||
	    (orig && (RRE(RE_HM_OK2) || RRE(RE_HM_OK3))))
		goto out;
#undef RRE
	if (saeval_re_str(RE_HM_HELO, r))
		res = 1;
	else if (from_is(x, "hotmail.com", &f))
		res = 2;
out:
	free(b.p);
	free(f.p);
	return res;
}

bool saeval_ev_forged_hotmail(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	return saeval_cached_fact(x, FACT_HOTMAIL, hotmail_check) == 1;
}

bool saeval_ev_no_hotmail(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	(void)c;
	return saeval_cached_fact(x, FACT_HOTMAIL, hotmail_check) == 2;
}

bool saeval_ev_forged_eudoramail(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, b = { 0 };
	bool hit = false;
	if (!from_is(x, "eudoramail.com", &f))
		goto out;
	const char *r = rcvd_flat(x, &b);
	bool ip = hdr_matches(x, "X-Sender-Ip", RE_IPADDR, NULL);
	if (gated_rcvd_remover(x) || (ip && saeval_re_str(RE_EUDORA, r)))
		goto out;
	hit = true;
out:
	free(f.p);
	free(b.p);
	return hit;
}

bool saeval_ev_forged_juno(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, xo = { 0 }, xm = { 0 }, r = { 0 };
	bool hit = false;
	if (!from_is(x, "juno.com", &f) || gated_rcvd_remover(x))
		goto out;
	saeval_get_header(x, "X-Originating-IP", false, &xo);
	saeval_get_header(x, "X-Mailer", false, &xm);
	const char *rs = rcvd_joined(x, &r, NULL), *ms = saeval_buf_str(&xm),
	           *os = saeval_buf_str(&xo);
	if (rs == NULL || ms == NULL || os == NULL)
		goto out;
	if (xo.len) {
		hit = (!saeval_re_str(RE_JUNO1, rs) &&
		       !saeval_re_str(RE_JUNO2, rs)) ||
		      strstr(ms, "Juno ") == NULL;
	} else {
		if (saeval_re_str(RE_JUNO3, rs))
			hit = !saeval_re_str(RE_JUNO3X, ms);
		else if (saeval_re_str(RE_JUNO4, rs))
			hit = !saeval_re_str(RE_JUNO4X, ms);
		else
			hit = true;
		hit = hit || !saeval_re_str(RE_IPADDR, os);
	}
out:
	free(f.p);
	free(xo.p);
	free(xm.p);
	free(r.p);
	return hit;
}

bool saeval_ev_forged_gmail(const struct saeval_call *c,
                            const struct saeval_ctx *x)
{
	(void)c;
	struct strbuf f = { 0 }, a = { 0 }, b = { 0 }, xr = { 0 }, r = { 0 };
	bool hit = false;
	if (!from_is(x, "gmail.com", &f))
		goto out;
	saeval_get_header(x, "X-Gm-Message-State", false, &a);
	saeval_get_header(x, "X-Google-Smtp-Source", false, &b);
	saeval_get_header(x, "X-Received", false, &xr);
	if (saeval_re_str(RE_GM1, saeval_buf_str(&xr)) ||
	    saeval_re_str(RE_GM2, saeval_buf_str(&xr)) ||
	    saeval_re_str(RE_GM3, rcvd_joined(x, &r, NULL)))
		goto out;
	hit = !(a.len >= 60 && b.len >= 60);
out:
	free(f.p);
	free(a.p);
	free(b.p);
	free(xr.p);
	free(r.p);
	return hit;
}

/* ---- RelayEval: relay counts (relays.h) ---- */

/* Relay counts of the message: false when they cannot be had. */
static bool relay_counts(const struct saeval_ctx *x, size_t *trusted,
                         size_t *untrusted, size_t *unparseable)
{
	struct relays *own;
	const struct relays *r = saeval_get_relays(x, &own);
	if (r == NULL)
		return false;
	*trusted = relays_num(r, RELAYS_TRUSTED);
	*untrusted = relays_num(r, RELAYS_UNTRUSTED);
	*unparseable = relays_unparseable(r);
	relays_free(own);
	return true;
}

/* fn over the message's relays; false when they cannot be had. */
static bool over_relays(const struct saeval_ctx *x,
                        bool (*fn)(const struct relays *r))
{
	struct relays *own;
	const struct relays *r = saeval_get_relays(x, &own);
	bool hit = r != NULL && fn(r);
	relays_free(own);
	return hit;
}

bool saeval_ev_all_trusted(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && t > 0 && u == 0 && p == 0;
}

bool saeval_ev_no_relays(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && t == 0 && u == 0 && p == 0;
}

bool saeval_ev_relays_unparseable(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	size_t t, u, p;
	return relay_counts(x, &t, &u, &p) && p > 0;
}

/* ---- RelayEval: per-relay fields (relays_at) ---- */

/* One decimal octet as SpamAssassin's IPV4_ADDRESS spells it
 * (1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d: no leading zeros). */
static size_t v4_octet(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return 0;
	if (n == 3 && strncmp(s, "255", 3) > 0)
		return 0;
	return n;
}

/* SpamAssassin's IS_IPV4_ADDRESS: the whole string a dotted quad. */
static bool is_v4(const char *s)
{
	for (int i = 0; i < 4; i++) {
		size_t n = v4_octet(s);
		if (n == 0)
			return false;
		s += n;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

/* helo_ip_mismatch: an untrusted relay HELO'd with a public IPv4 address
 * that is not its own and not in its /24. */
static bool helo_ip_mismatch(const struct relays *r)
{
	bool hit = false;
	size_t n = relays_num(r, RELAYS_UNTRUSTED);
	for (size_t i = 0; i < n && !hit; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		if (!is_v4(y->helo) || relays_ip_private(y->helo))
			continue;
		if (!is_v4(y->ip) || relays_ip_private(y->ip) ||
		    strcmp(y->helo, y->ip) == 0)
			continue;
		/* the /24 prefix "a.b.c." of the HELO */
		const char *d = y->helo;
		for (int k = 0; k < 3; k++)
			d = strchr(d, '.') + 1;
		size_t pre = (size_t)(d - y->helo);
		hit = strncmp(y->ip, y->helo, pre) != 0;
	}
	return hit;
}

bool saeval_ev_helo_ip_mismatch(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	(void)c;
	return over_relays(x, helo_ip_mismatch);
}

/* check_for_no_rdns_dotcom_helo: SpamAssassin resets its flag for every
 * public untrusted relay, so only the oldest one counts: it HELO'd as a
 * big dotcom (aol.com, hotmail.com, ...) and its MTA found no rDNS. */
static bool no_rdns_dotcom_helo(const struct relays *r)
{
	const struct relays_relay *last = NULL;
	size_t n = relays_num(r, RELAYS_UNTRUSTED);
	for (size_t i = 0; i < n; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		if (!y->ip_private)
			last = y;
	}
	return last != NULL && last->no_rdns &&
	       saeval_re_find(RE_DOTCOM_HELO, last->helo, strlen(last->helo),
	                      NULL, 0);
}

bool saeval_ev_no_rdns_dotcom_helo(const struct saeval_call *c,
                                   const struct saeval_ctx *x)
{
	(void)c;
	return over_relays(x, no_rdns_dotcom_helo);
}

/* ---- check_for_forged_received_trail ---- */

/* RelayEval's hostname_to_domain() of the lower-cased name h: an
 * address as it is; else the last two labels when the last has three
 * characters or holds "ie", "fr" or "de", else the last three. */
static void host_domain(const char *h, char *out, size_t cap)
{
	size_t n = 0;
	bool letter = false;
	for (; h[n] != '\0' && n + 1 < cap; n++) {
		out[n] = (char)tolower((unsigned char)h[n]);
		letter |= isalpha((unsigned char)h[n]) != 0;
	}
	out[n] = '\0';
	if (!letter)
		return;
	while (n > 0 && out[n - 1] == '.')   /* split() drops empty ends */
		out[--n] = '\0';
	const char *dots[3] = { NULL, NULL, NULL };   /* the last three */
	size_t nd = 0;
	for (size_t i = n; i-- > 0;)
		if (out[i] == '.' && nd < 3)
			dots[nd++] = out + i;
	if (nd == 0)
		return;
	const char *last = dots[0] + 1;
	bool wide = strlen(last) >= 3 || strstr(last, "ie") != NULL ||
	            strstr(last, "fr") != NULL || strstr(last, "de") != NULL;
	if (!wide && nd < 2)
		return;                 /* two labels: the name itself */
	const char *cut = wide ? dots[1] : dots[2];   /* NULL: all of it */
	if (cut != NULL)
		memmove(out, cut + 1, strlen(cut + 1) + 1);
}

/* /^\w+(?:[\w.-]+\.)+\w+$/: word, dash and dot characters, a word one
 * first, and a last dot at offset 2 or later with word ones after it. */
static bool domain_shape(const char *s)
{
	const char *dot = strrchr(s, '.');
	if (dot == NULL || dot - s < 2 || dot[1] == '\0' ||
	    !saeval_is_word(s[0]))
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!saeval_is_word(*p) && *p != '.' && *p != '-')
			return false;
	for (const char *p = dot + 1; *p != '\0'; p++)
		if (!saeval_is_word(*p))
			return false;
	return true;
}

/* check_for_forged_received_trail(): more than one untrusted relay was
 * received by a host of another domain than the one the next older
 * relay's rDNS names (msn.com for hotmail.com excepted); a hop from
 * localhost 127.0.0.1 breaks the trail. */
static bool forged_rcvd_trail(const struct relays *r)
{
	size_t n = relays_num(r, RELAYS_UNTRUSTED), mismatch = 0;
	char prev[256] = "", by[256], from[256];
	bool have_prev = false;
	for (size_t i = 0; i < n; i++) {
		const struct relays_relay *y = relays_at(r, RELAYS_UNTRUSTED, i);
		host_domain(y->by, by, sizeof by);
		host_domain(y->rdns, from, sizeof from);
		bool ok = domain_shape(by);
		if (ok && have_prev && domain_shape(prev) &&
		    strcmp(by, prev) != 0 &&
		    !(strcmp(by, "msn.com") == 0 && strcmp(prev, "hotmail.com") == 0))
			mismatch++;
		/* this relay's rDNS domain is the next one's "previous",
		 * unless it is localhost on 127.0.0.1 (checked only for a
		 * relay whose by name passed) */
		have_prev = !(ok && strcmp(y->ip, "127.0.0.1") == 0 &&
		              (strcmp(from, "localhost") == 0 ||
		               strcmp(from, "localhost.localdomain") == 0));
		memcpy(prev, from, sizeof prev);
	}
	return mismatch > 1;
}

bool saeval_ev_forged_rcvd_trail(const struct saeval_call *c,
                                 const struct saeval_ctx *x)
{
	(void)c;
	return over_relays(x, forged_rcvd_trail);
}

/*
 * sa_wlbl.c — SpamAssassin eval (saeval.h): WLBLEval's sender and
 * recipient lists, the lines of a site's local.cf:
 *   welcomelist_from / whitelist_from, unwelcomelist_from / unwhitelist_from
 *   blocklist_from / blacklist_from, unblocklist_from / unblacklist_from
 *   welcomelist_to / whitelist_to, blocklist_to / blacklist_to,
 *   more_spam_to, all_spam_to
 *   welcomelist_from_rcvd / whitelist_from_rcvd ADDR DOMAIN,
 *   def_welcomelist_from_rcvd / def_whitelist_from_rcvd ADDR DOMAIN,
 *   unwelcomelist_from_rcvd / unwhitelist_from_rcvd ADDR...
 *   welcomelist_allows_relays / whitelist_allows_relays
 * and the evals of 60_welcomelist.cf reading them (USER_IN_WELCOMELIST,
 * USER_IN_BLOCKLIST, USER_IN_DEF_WELCOMELIST, USER_IN_WELCOMELIST_TO,
 * USER_IN_BLOCKLIST_TO, USER_IN_MORE_SPAM_TO, USER_IN_ALL_SPAM_TO) and
 * check_forged_in_(default_)welcomelist.
 *
 * Contract, as SpamAssassin 4.0.1 (Conf/Parser.pm add_to_addrlist,
 * add_to_addrlist_rcvd, remove_from_addrlist(_rcvd); WLBLEval.pm):
 * - an entry is its address pattern lower-cased; it matches an address
 *   (any case) equal to it, or matching it as a glob anchored at both
 *   ends ('*' any run, '?' one byte; '\\' and '(' stand for '_', as
 *   SpamAssassin's "paranoia" rewrite makes them). A line lists one or
 *   more patterns; adding one already there changes nothing.
 * - an un- line removes the entries whose text equals (lower-cased) a
 *   word of it, wherever they came from; unwelcomelist_from_rcvd removes
 *   from both _rcvd lists. Lines apply in file order.
 * - a _rcvd line is exactly "ADDR DOMAIN" (else ignored, as SpamAssassin
 *   refuses it); the same ADDR again adds DOMAIN to its entry. A sender
 *   matching an entry is listed when a relay matches one of its domains:
 *   the last untrusted relay, or every trusted one when none is
 *   untrusted; "[IP]" an equal dotted quad, "[a.b.]" a classful prefix,
 *   "[IP/len]" or "[IP]/len" or IPv6 a network containing the relay's
 *   address; any other DOMAIN the relay's rDNS equal to it or ending in
 *   ".DOMAIN". A sender matching an entry but no relay is a forgery (-1)
 *   unless welcomelist_allows_relays lists it.
 * - senders are all_from_addrs (saeval_all_from_addrs), recipients
 *   all_to_addrs (saeval_all_to_addrs).
 * The lists are built once per compiled call and only read afterwards;
 * an eval whose lists are empty returns false before reading the
 * message.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netset.h"
#include "relays.h"
#include "ruleset.h"
#include "strbuf.h"

/* One entry: the pattern as written (lower-cased; what un- lines name),
 * the glob it matches as, and the _rcvd lists' domains. */
struct wlbl_entry {
	char *key, *glob;
	char **dom;
	size_t ndom, capdom;
};

struct wlbl_list {
	struct wlbl_entry *e;
	size_t n, cap;
};

enum wlbl_id {
	WL_FROM, BL_FROM, WL_TO, BL_TO, MORE_SPAM_TO, ALL_SPAM_TO,
	WL_RELAYS, WL_RCVD, DEF_RCVD, WL_COUNT
};

struct saeval_wlbl {
	struct wlbl_list l[WL_COUNT];
	size_t ask;     /* the function's asks[] entry */
};

enum wlbl_op { OP_ADD, OP_DEL, OP_ADD_RCVD, OP_DEL_RCVD };

/* The directives: the list each acts on, and how. */
static const struct {
	const char *key;
	enum wlbl_id id;
	enum wlbl_op op;
} directives[] = {
	{ "welcomelist_from", WL_FROM, OP_ADD },
	{ "whitelist_from", WL_FROM, OP_ADD },
	{ "unwelcomelist_from", WL_FROM, OP_DEL },
	{ "unwhitelist_from", WL_FROM, OP_DEL },
	{ "blocklist_from", BL_FROM, OP_ADD },
	{ "blacklist_from", BL_FROM, OP_ADD },
	{ "unblocklist_from", BL_FROM, OP_DEL },
	{ "unblacklist_from", BL_FROM, OP_DEL },
	{ "welcomelist_to", WL_TO, OP_ADD },
	{ "whitelist_to", WL_TO, OP_ADD },
	{ "blocklist_to", BL_TO, OP_ADD },
	{ "blacklist_to", BL_TO, OP_ADD },
	{ "more_spam_to", MORE_SPAM_TO, OP_ADD },
	{ "all_spam_to", ALL_SPAM_TO, OP_ADD },
	{ "welcomelist_allows_relays", WL_RELAYS, OP_ADD },
	{ "whitelist_allows_relays", WL_RELAYS, OP_ADD },
	{ "welcomelist_from_rcvd", WL_RCVD, OP_ADD_RCVD },
	{ "whitelist_from_rcvd", WL_RCVD, OP_ADD_RCVD },
	{ "def_welcomelist_from_rcvd", DEF_RCVD, OP_ADD_RCVD },
	{ "def_whitelist_from_rcvd", DEF_RCVD, OP_ADD_RCVD },
	{ "unwelcomelist_from_rcvd", WL_RCVD, OP_DEL_RCVD },
	{ "unwhitelist_from_rcvd", WL_RCVD, OP_DEL_RCVD },
};

/* What each function asks (WLBLEval.pm): is a sender or recipient in a
 * plain list; is a sender (default-)welcomelisted, or forged. */
enum wlbl_ask {
	ASK_FROM, ASK_TO, ASK_WL, ASK_DEF, ASK_FORGED, ASK_FORGED_DEF
};

static const struct {
	const char *name;      /* without "check_"; the old name follows */
	enum wlbl_ask ask;
	enum wlbl_id id;       /* ASK_FROM, ASK_TO: the list */
} asks[] = {
	{ "from_in_blocklist", ASK_FROM, BL_FROM },
	{ "from_in_blacklist", ASK_FROM, BL_FROM },
	{ "to_in_blocklist", ASK_TO, BL_TO },
	{ "to_in_blacklist", ASK_TO, BL_TO },
	{ "to_in_welcomelist", ASK_TO, WL_TO },
	{ "to_in_whitelist", ASK_TO, WL_TO },
	{ "to_in_more_spam", ASK_TO, MORE_SPAM_TO },
	{ "to_in_all_spam", ASK_TO, ALL_SPAM_TO },
	{ "from_in_welcomelist", ASK_WL, WL_FROM },
	{ "from_in_whitelist", ASK_WL, WL_FROM },
	{ "from_in_default_welcomelist", ASK_DEF, DEF_RCVD },
	{ "from_in_default_whitelist", ASK_DEF, DEF_RCVD },
	{ "forged_in_welcomelist", ASK_FORGED, WL_RCVD },
	{ "forged_in_whitelist", ASK_FORGED, WL_RCVD },
	{ "forged_in_default_welcomelist", ASK_FORGED_DEF, DEF_RCVD },
	{ "forged_in_default_whitelist", ASK_FORGED_DEF, DEF_RCVD },
};

#define NASKS (sizeof asks / sizeof *asks)

/* fname's asks[] entry; NASKS when it has none. */
static size_t ask_of(const char *fname)
{
	size_t i = 0;
	if (strncmp(fname, "check_", 6) != 0)
		return NASKS;
	while (i < NASKS && strcmp(fname + 6, asks[i].name) != 0)
		i++;
	return i;
}

/* ---- building the lists ---- */

static struct wlbl_entry *find_entry(struct wlbl_list *l, const char *key,
                                     size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->e[i].key) == n && memcmp(l->e[i].key, key, n) == 0)
			return &l->e[i];
	return NULL;
}

static void entry_free(struct wlbl_entry *e)
{
	free(e->key);
	free(e->glob);
	for (size_t i = 0; i < e->ndom; i++)
		free(e->dom[i]);
	free(e->dom);
}

/* The entry named w[0..n) (lower case), added when missing; NULL when
 * out of memory. */
static struct wlbl_entry *get_entry(struct wlbl_list *l, const char *w,
                                    size_t n)
{
	struct wlbl_entry *e = find_entry(l, w, n);
	if (e != NULL)
		return e;
	if (!saeval_grow((void **)&l->e, l->n, &l->cap, sizeof *l->e))
		return NULL;
	e = &l->e[l->n];
	*e = (struct wlbl_entry){ .key = saeval_lower_dup(w, n),
	                          .glob = saeval_lower_dup(w, n) };
	if (e->key == NULL || e->glob == NULL) {
		entry_free(e);
		return NULL;
	}
	/* SpamAssassin turns these into '_' before making its regex */
	for (char *p = e->glob; *p != '\0'; p++)
		if (*p == '\\' || *p == '(')
			*p = '_';
	l->n++;
	return e;
}

static void del_entry(struct wlbl_list *l, const char *w, size_t n)
{
	char low[512];
	if (n >= sizeof low)
		return;   /* longer than any entry can usefully be */
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)w[i]);
	struct wlbl_entry *e = find_entry(l, low, n);
	if (e == NULL)
		return;
	entry_free(e);
	*e = l->e[--l->n];
}

/* The next whitespace-separated word of *p: its start, length in *n
 * (0: none left), *p moved past it. */
static const char *next_word(const char **p, size_t *n)
{
	const char *s = *p;
	while (isspace((unsigned char)*s))
		s++;
	size_t k = 0;
	while (s[k] != '\0' && !isspace((unsigned char)s[k]))
		k++;
	*p = s + k;
	*n = k;
	return s;
}

/* "ADDR DOMAIN": DOMAIN (lower case) joins ADDR's entry. Other values
 * are refused by SpamAssassin and ignored here. */
static int add_rcvd(struct wlbl_list *l, const char *v)
{
	size_t an, dn, rest;
	const char *p = v;
	const char *a = next_word(&p, &an);
	const char *d = next_word(&p, &dn);
	next_word(&p, &rest);
	if (an == 0 || dn == 0 || rest != 0)
		return 0;
	struct wlbl_entry *e = get_entry(l, a, an);
	if (e == NULL ||
	    saeval_push_lower(&e->dom, &e->ndom, &e->capdom, d, dn) != 0)
		return -1;
	return 0;
}

static int apply(struct saeval_wlbl *w, size_t k, const char *v)
{
	struct wlbl_list *l = &w->l[directives[k].id];
	if (directives[k].op == OP_ADD_RCVD)
		return add_rcvd(l, v);
	const char *p = v, *s;
	size_t n;
	while (s = next_word(&p, &n), n > 0) {
		if (directives[k].op == OP_ADD && get_entry(l, s, n) == NULL)
			return -1;
		if (directives[k].op != OP_ADD)
			del_entry(l, s, n);
		if (directives[k].op == OP_DEL_RCVD)
			del_entry(&w->l[DEF_RCVD], s, n);
	}
	return 0;
}

void saeval_wlbl_free(struct saeval_wlbl *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < WL_COUNT; i++) {
		for (size_t j = 0; j < w->l[i].n; j++)
			entry_free(&w->l[i].e[j]);
		free(w->l[i].e);
	}
	free(w);
}

int saeval_wlbl_build(const struct ruleset *rs, const char *fname,
                      struct saeval_wlbl **out)
{
	if (ask_of(fname) == NASKS)
		return 1;
	struct saeval_wlbl *w = calloc(1, sizeof *w);
	if (w == NULL)
		return -1;
	w->ask = ask_of(fname);
	const char *key, *val;
	for (size_t i = 0; ruleset_setting_at(rs, i, &key, &val); i++) {
		for (size_t k = 0; k < sizeof directives / sizeof *directives;
		     k++) {
			if (strcmp(key, directives[k].key) == 0 &&
			    apply(w, k, val) != 0) {
				saeval_wlbl_free(w);
				return -1;
			}
		}
	}
	*out = w;
	return 0;
}

/* ---- matching ---- */

/* Does the lower-case address a match entry e (its text, or its glob)? */
static bool entry_match(const struct wlbl_entry *e, const char *a)
{
	return strcmp(e->key, a) == 0 ||
	       saeval_glob_match(e->glob, a, strlen(a));
}

static bool list_match(const struct wlbl_list *l, const char *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (entry_match(&l->e[i], a))
			return true;
	return false;
}

/* Does the relay's address ip match "[...]" domain d (brackets and an
 * optional "/len" after them included)? */
static bool ip_match(const char *d, const char *ip)
{
	const char *close = strrchr(d, ']');
	char wl[NETSET_ITEM_MAX];
	size_t n = close != NULL ? (size_t)(close - d - 1) : 0;
	if (close == NULL || ip[0] == '\0' ||
	    n + strlen(close + 1) >= sizeof wl)
		return false;
	memcpy(wl, d + 1, n);
	strcpy(wl + n, close + 1);
	size_t len = strlen(wl);
	size_t digits = strspn(wl, "0123456789."), dots = 0;
	for (size_t i = 0; i < len; i++)
		dots += wl[i] == '.';
	if (digits == len && dots == 3 && wl[0] != '.' &&
	    wl[len - 1] != '.' && strstr(wl, "..") == NULL)
		return strcmp(wl, ip) == 0;
	if (digits == len) {
		/* a classful prefix: "10.1" and "10.1." both mean "10.1." */
		while (len > 0 && wl[len - 1] == '.')
			len--;
		return strncmp(ip, wl, len) == 0 && ip[len] == '.';
	}
	struct netset_net net;
	char err[80];
	struct netset *s = netset_new(false);
	bool hit = s != NULL &&
	           netset_parse(wl, strlen(wl), &net, err, sizeof err) == 0 &&
	           netset_add(s, &net, NULL) == 1 && netset_contains(s, ip);
	netset_free(s);
	return hit;
}

/* SpamAssassin's /(?:^|\.)\QDOMAIN\E$/i on the relay's rDNS. */
static bool rdns_match(const char *d, const char *rdns)
{
	size_t dl = strlen(d), rl = strlen(rdns);
	if (dl > rl || strcasecmp(rdns + rl - dl, d) != 0)
		return false;
	return dl == rl || rdns[rl - dl - 1] == '.';
}

/* Is d SpamAssassin's /^\[(.*)\](\/\d{1,3})?\z/s, an address entry? */
static bool is_bracketed(const char *d)
{
	const char *close = strrchr(d, ']');
	if (d[0] != '[' || close == NULL)
		return false;
	size_t tail = strlen(close + 1);
	return tail == 0 || (close[1] == '/' && tail >= 2 && tail <= 4 &&
	                     strspn(close + 2, "0123456789") == tail - 1);
}

static bool relay_match(const char *d, const struct relays_relay *r)
{
	return is_bracketed(d) ? ip_match(d, r->ip) : rdns_match(d, r->rdns);
}

/* The relays the _rcvd lists look at: the last untrusted one, or every
 * trusted one when none is untrusted. Into *kind and *n. */
static void rcvd_relays(const struct relays *r, enum relays_kind *kind,
                        size_t *n)
{
	*kind = RELAYS_UNTRUSTED;
	*n = relays_num(r, RELAYS_UNTRUSTED) > 0 ? 1 : 0;
	if (*n == 0) {
		*kind = RELAYS_TRUSTED;
		*n = relays_num(r, RELAYS_TRUSTED);
	}
}

/* Does entry e's domain list name one of the relays? */
static bool entry_relayed(const struct wlbl_entry *e, const struct relays *r)
{
	enum relays_kind kind;
	size_t n;
	rcvd_relays(r, &kind, &n);
	for (size_t d = 0; d < e->ndom; d++)
		for (size_t i = 0; i < n; i++)
			if (relay_match(e->dom[d], relays_at(r, kind, i)))
				return true;
	return false;
}

/* _check_welcomelist_rcvd: 1 listed and relayed as listed, -1 listed
 * but relayed otherwise (forged), 0 not listed (or no relays). */
static int rcvd_check(const struct saeval_wlbl *w, enum wlbl_id id,
                      const struct relays *r, const char *a)
{
	const struct wlbl_list *l = &w->l[id];
	if (r == NULL || relays_num(r, RELAYS_UNTRUSTED) +
	                 relays_num(r, RELAYS_TRUSTED) == 0)
		return 0;
	int found = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!entry_match(&l->e[i], a))
			continue;
		if (entry_relayed(&l->e[i], r))
			return 1;
		found = -1;
	}
	if (found < 0 && list_match(&w->l[WL_RELAYS], a))
		found = 0;
	return found;
}

/* ---- the message's addresses ---- */

typedef void addrs_fn(const struct saeval_ctx *x, struct strbuf *list,
                      size_t *count);

/* The addresses fn gives, lower-cased in place; count into *n. */
static void lower_addrs(const struct saeval_ctx *x, addrs_fn *fn,
                        struct strbuf *b, size_t *n)
{
	*n = 0;
	fn(x, b, n);
	if (b->oom)
		*n = 0;
	for (size_t i = 0; i < b->len; i++)
		b->p[i] = (char)tolower((unsigned char)b->p[i]);
}

/* Is an address fn gives in list id? */
static bool addrs_listed(const struct saeval_call *c,
                         const struct saeval_ctx *x, addrs_fn *fn,
                         enum wlbl_id id)
{
	const struct wlbl_list *l = &c->wl->l[id];
	if (l->n == 0)
		return false;
	struct strbuf b = { 0 };
	size_t n;
	lower_addrs(x, fn, &b, &n);
	bool hit = false;
	const char *a = b.p;
	for (size_t i = 0; i < n && !hit; i++, a += strlen(a) + 1)
		hit = list_match(l, a);
	free(b.p);
	return hit;
}

/* _check_from_in_welcomelist (welcome: welcomelist_from, then
 * welcomelist_from_rcvd) or _check_from_in_default_welcomelist
 * (def_welcomelist_from_rcvd only): 1 listed, -1 forged, 0 neither. */
static int from_state(const struct saeval_call *c, const struct saeval_ctx *x,
                      bool welcome)
{
	const struct saeval_wlbl *w = c->wl;
	enum wlbl_id rid = welcome ? WL_RCVD : DEF_RCVD;
	if (w->l[rid].n == 0 && (!welcome || w->l[WL_FROM].n == 0))
		return 0;
	struct strbuf b = { 0 };
	size_t n;
	lower_addrs(x, saeval_all_from_addrs, &b, &n);
	struct relays *own = NULL;
	const struct relays *r = w->l[rid].n > 0 ? saeval_get_relays(x, &own)
	                                         : NULL;
	int state = 0;
	const char *a = b.p;
	for (size_t i = 0; i < n && state < 1; i++, a += strlen(a) + 1) {
		int wh = welcome && list_match(&w->l[WL_FROM], a) ? 1
		         : rcvd_check(w, rid, r, a);
		if (wh != 0)
			state = wh;
	}
	relays_free(own);
	free(b.p);
	return state;
}

/* ---- the eval function ---- */

bool saeval_ev_wlbl(const struct saeval_call *c, const struct saeval_ctx *x)
{
	const struct saeval_wlbl *w = c->wl;
	switch (asks[w->ask].ask) {
	case ASK_FROM:
		return addrs_listed(c, x, saeval_all_from_addrs, asks[w->ask].id);
	case ASK_TO:
		return addrs_listed(c, x, saeval_all_to_addrs, asks[w->ask].id);
	case ASK_WL:
		return from_state(c, x, true) > 0;
	case ASK_DEF:
		return from_state(c, x, false) > 0;
	case ASK_FORGED:
		/* forged in one list, absent from the other */
		return from_state(c, x, true) < 0 && from_state(c, x, false) == 0;
	case ASK_FORGED_DEF:
		return from_state(c, x, false) < 0 && from_state(c, x, true) == 0;
	}
	return false;
}

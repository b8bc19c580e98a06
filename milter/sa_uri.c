/*
 * sa_uri.c — SpamAssassin eval (saeval.h): WLBLEval's URI host lists.
 * enlist_uri_host (LIST) [!]host ..., delist_uri_host [(LIST)] host ...
 * and the blocklist_uri_host / welcomelist_uri_host shorthands (lists
 * BLOCK and WELCOME), read from the rule files in order as Conf.pm
 * reads them; check_uri_host_listed(LIST) and check_uri_host_in_
 * blocklist() / _welcomelist() look the hosts of the message's URIs up.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "ruleset.h"
#include "uri.h"

/* One list's hosts, lower-case (looked up one by one: a list holds tens
 * of names); verdict false for a "!host". */
struct urilist {
	struct uhost {
		char *host;
		bool verdict;
	} *h;
	size_t n, cap;
};

void saeval_urilist_free(struct urilist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->h[i].host);
	free(l->h);
	free(l);
}

static struct uhost *uh_find(struct urilist *l, const char *h, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->h[i].host) == n && memcmp(l->h[i].host, h, n) == 0)
			return &l->h[i];
	return NULL;
}

/* Enlist (verdict, or delist when del) the host h[0..n) ("!" dropped),
 * lower-cased as Conf.pm takes the whole line. 0, or -1 when out of
 * memory. */
static int uh_set(struct urilist *l, const char *h, size_t n, bool del)
{
	bool verdict = true;
	if (n > 0 && h[0] == '!') {
		h++;
		n--;
		verdict = false;
	}
	char *s = saeval_lower_dup(h, n);
	if (s == NULL)
		return -1;
	struct uhost *e = uh_find(l, s, n);
	if (e != NULL && del) {
		free(e->host);
		*e = l->h[--l->n];
	} else if (e != NULL)
		e->verdict = verdict;
	if (e != NULL || del) {
		free(s);
		return 0;
	}
	if (!saeval_grow((void **)&l->h, l->n, &l->cap, sizeof *l->h)) {
		free(s);
		return -1;
	}
	l->h[l->n++] = (struct uhost){ s, verdict };
	return 0;
}

/* The list a directive or function name implies: BLOCK for the
 * block/black forms, WELCOME for the welcome/white ones, else NULL. */
static const char *implied_list(const char *name)
{
	if (strstr(name, "block") != NULL || strstr(name, "black") != NULL)
		return "BLOCK";
	if (strstr(name, "welcome") != NULL || strstr(name, "white") != NULL)
		return "WELCOME";
	return NULL;
}

/* The list a setting line names: its "(LIST)" into *list (NULL for a
 * delist_uri_host without one), the hosts after it into *hosts; false
 * when the line does not say which list and must. */
static bool setting_list(const char *k, const char *v, const char **list,
                         size_t *list_len, const char **hosts, bool *del)
{
	*del = strcmp(k, "delist_uri_host") == 0;
	*list = implied_list(k);
	*list_len = *list ? strlen(*list) : 0;
	*hosts = v;
	if (*list != NULL)
		return true;
	const char *close = v[0] == '(' ? strchr(v, ')') : NULL;
	if (close == NULL)
		return *del;   /* delist: from every list */
	*list = v + 1;
	*list_len = (size_t)(close - v - 1);
	*hosts = close + 1;
	return *list_len > 0;
}

int saeval_urilist_build(const struct ruleset *rs, const char *name,
                         struct urilist **out)
{
	struct urilist *l = calloc(1, sizeof *l);
	if (l == NULL)
		return -1;
	size_t nl = strlen(name);
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *k, *v, *list, *hosts;
		size_t ll;
		bool del;
		if (!ruleset_setting_at(rs, i, &k, &v))
			break;
		if (strstr(k, "_uri_host") == NULL ||
		    !setting_list(k, v, &list, &ll, &hosts, &del) ||
		    (list != NULL && (ll != nl || memcmp(list, name, nl) != 0)))
			continue;
		for (const char *h = hosts; *h != '\0';) {
			h += strspn(h, " \t");
			size_t n = strcspn(h, " \t");
			if (n > 0 && uh_set(l, h, n, del) != 0) {
				saeval_urilist_free(l);
				return -1;
			}
			h += n;
		}
	}
	*out = l;
	return 0;
}

/* Whether host h (lower-case) is on list l: the most specific of h and
 * its parent domains that is listed decides (a "!" entry: no); an
 * address is looked up as it is. */
static bool host_listed(struct urilist *l, const char *h)
{
	size_t n = strlen(h);
	if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
		struct uhost *e = uh_find(l, h + 1, n - 2);
		return e != NULL && e->verdict;
	}
	for (const char *k = h; k != NULL;) {
		struct uhost *e = uh_find(l, k, strlen(k));
		if (e != NULL)
			return e->verdict;
		k = strchr(k, '.');
		if (k != NULL)
			k++;
	}
	return false;
}

/* The hosts of m's URIs (mailto: aside) that SpamAssassin's
 * uri_to_domain() gives a domain (uri_sa_domain()), into
 * k->uhosts (NUL-separated), once per cache. */
static void uri_hosts(struct saeval_cache *k, const struct msg *m)
{
	if (k->uhosts_done)
		return;
	k->uhosts_done = true;
	for (size_t i = 0; i < msg_uri_count(m); i++) {
		struct msg_text u = msg_uri_at(m, i);
		char host[256];
		if ((u.len >= 7 && strncasecmp(u.ptr, "mailto:", 7) == 0) ||
		    !uri_sa_domain(u.ptr, u.len) ||
		    uri_host(u.ptr, u.len, host, sizeof host) == 0)
			continue;
		strbuf_put(&k->uhosts, host, strlen(host) + 1);
		k->nuhosts++;
	}
}

/* check_uri_host_listed(LIST): the host of a URI of the message (mailto:
 * aside) is on LIST. */
bool saeval_ev_uri_host_listed(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	if (c->ul == NULL || c->ul->n == 0)
		return false;
	struct saeval_cache own = { 0 };
	struct saeval_cache *k = x->cache != NULL ? x->cache : &own;
	uri_hosts(k, x->m);
	bool hit = false;
	const char *h = k->uhosts.p;
	for (size_t i = 0; !k->uhosts.oom && i < k->nuhosts && !hit; i++) {
		hit = host_listed(c->ul, h);
		h += strlen(h) + 1;
	}
	free(own.uhosts.p);
	return hit;
}

/* The list a call looks in: BLOCK or WELCOME as the blocklist and
 * welcomelist forms' names say (they ignore arguments, as
 * WLBLEval.pm's do), else check_uri_host_listed's argument (none: the
 * list "", which no line fills, as WLBLEval.pm looks up undef). */
const char *saeval_urilist_name(const struct saeval_call *c,
                                const char *fname)
{
	const char *l = implied_list(fname);
	if (l != NULL)
		return l;
	return c->nargs >= 1 ? c->args[0] : "";
}

/*
 * sa_addrlist.c — SpamAssassin eval (saeval.h): WLBLEval's address
 * lists. `enlist_addrlist (LIST) pattern ...` lines of the rule files
 * name senders (*@*.top: the SUSP_NTLD list; *@*.gov; banks; PayPal);
 * check_from_in_list(LIST) and check_replyto_in_list(LIST) ask whether
 * the message's senders or its Reply-To are listed. The metas reading
 * them (FROM_SUSPICIOUS_NTLD, FROM_BANK_NOAUTH, FROM_GOV_SPOOF, ...)
 * score 1.0 each with the stock rules.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "strbuf.h"

/* One list's patterns, lower case ('*' and '?' wildcards). */
struct addrlist {
	char **pat;
	size_t n, cap;
};

void saeval_addrlist_free(struct addrlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->pat[i]);
	free(l->pat);
	free(l);
}

/* The patterns of "(name) pattern ..." values naming list name. */
static int add_line(struct addrlist *l, const char *name, const char *v)
{
	size_t nl = strlen(name);
	if (v[0] != '(' || strncmp(v + 1, name, nl) != 0 || v[nl + 1] != ')' ||
	    !isspace((unsigned char)v[nl + 2]))
		return 0;
	for (const char *p = v + nl + 2; *p != '\0';) {
		while (isspace((unsigned char)*p))
			p++;
		size_t len = 0;
		while (p[len] != '\0' && !isspace((unsigned char)p[len]))
			len++;
		if (len > 0 &&
		    saeval_push_lower(&l->pat, &l->n, &l->cap, p, len) != 0)
			return -1;
		p += len;
	}
	return 0;
}

int saeval_addrlist_build(const struct ruleset *rs, const char *name,
                          struct addrlist **out)
{
	struct addrlist *l = calloc(1, sizeof *l);
	if (l == NULL)
		return -1;
	for (size_t i = 0; i < ruleset_setting_count(rs); i++) {
		const char *key, *val;
		if (ruleset_setting_at(rs, i, &key, &val) &&
		    strcmp(key, "enlist_addrlist") == 0 &&
		    add_line(l, name, val) != 0) {
			saeval_addrlist_free(l);
			return -1;
		}
	}
	*out = l;
	return 0;
}

/* Is the address a[0..n) (any case) listed? */
static bool listed(const struct addrlist *l, const char *a, size_t n)
{
	char low[320];
	if (n >= sizeof low)
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)a[i]);
	for (size_t k = 0; k < l->n; k++)
		if (saeval_glob_match(l->pat[k], low, n))
			return true;
	return false;
}

/* check_from_in_list(LIST): a sender of all_from_addrs is listed. */
bool saeval_ev_from_in_list(const struct saeval_call *c,
                            const struct saeval_ctx *x)
{
	struct strbuf list = { 0 };
	size_t count = 0;
	saeval_all_from_addrs(x, &list, &count);
	bool hit = false;
	const char *a = list.p;
	for (size_t i = 0; !list.oom && i < count && !hit;
	     i++, a += strlen(a) + 1)
		hit = listed(c->al, a, strlen(a));
	free(list.p);
	return hit;
}

/* check_replyto_in_list(LIST): Reply-To's first address is listed. */
bool saeval_ev_replyto_in_list(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	struct strbuf b = { 0 };
	saeval_get_first_addr(x, "Reply-To", &b);
	bool hit = !b.oom && b.len > 0 && listed(c->al, b.p, b.len);
	free(b.p);
	return hit;
}

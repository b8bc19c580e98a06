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

/* saeval_globs_build() line: the patterns of an enlist_addrlist line
 * "(name) pattern ..." naming list name (ctx). */
static int add_line(struct saeval_globs *l, const char *key, const char *v,
                    const void *ctx)
{
	const char *name = ctx;
	size_t nl = strlen(name);
	if (strcmp(key, "enlist_addrlist") != 0 || v[0] != '(' ||
	    strncmp(v + 1, name, nl) != 0 || v[nl + 1] != ')' ||
	    !isspace((unsigned char)v[nl + 2]))
		return 0;
	return saeval_globs_add(l, v + nl + 2);
}

int saeval_addrlist_build(const struct ruleset *rs, const char *name,
                          struct saeval_globs **out)
{
	return saeval_globs_build(rs, add_line, name, out);
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
		hit = saeval_globs_match(c->al, a, strlen(a));
	free(list.p);
	return hit;
}

/* check_replyto_in_list(LIST): Reply-To's first address is listed. */
bool saeval_ev_replyto_in_list(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	struct strbuf b = { 0 };
	saeval_get_first_addr(x, "Reply-To", &b);
	bool hit = !b.oom && b.len > 0 && saeval_globs_match(c->al, b.p, b.len);
	free(b.p);
	return hit;
}

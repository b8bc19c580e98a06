/*
 * sa_subject.c — SpamAssassin eval (saeval.h): WelcomeListSubject, the
 * plugin Debian's v310.pre loads. `welcomelist_subject TEXT` and
 * `blocklist_subject TEXT` lines (and the old names whitelist_subject,
 * blacklist_subject) each name one pattern: the whole value, blanks
 * inside kept, in lower case; '*' any run, '?' any one byte, nothing
 * else special. check_subject_in_welcomelist() (SUBJECT_IN_WELCOMELIST)
 * and check_subject_in_blocklist() (SUBJECT_IN_BLOCKLIST), and their
 * old names, ask whether a pattern occurs anywhere in the Subject as
 * get('Subject') gives it (decoded, unfolded, several joined by "\n"),
 * in lower case (ASCII letters only, as Perl's lc on bytes). The
 * plugin's pattern is a regex in which '?' and '*' do not match a line
 * end, so a match lies within one line of that text.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"
#include "strbuf.h"

/* Is key a line of the list (block: the block-list) a function reads? */
static bool list_key(const char *key, bool block)
{
	return block ? strcmp(key, "blocklist_subject") == 0 ||
	               strcmp(key, "blacklist_subject") == 0
	             : strcmp(key, "welcomelist_subject") == 0 ||
	               strcmp(key, "whitelist_subject") == 0;
}

/* saeval_globs_build() line: "*v*" onto g, lower case (a match anywhere
 * is a whole match of it), for a line of the list (ctx: a bool, the
 * block-list). */
static int add_pattern(struct saeval_globs *g, const char *key,
                       const char *v, const void *ctx)
{
	if (!list_key(key, *(const bool *)ctx))
		return 0;
	size_t n = strlen(v);
	char *p = malloc(n + 3);
	if (p == NULL)
		return -1;
	p[0] = '*';
	memcpy(p + 1, v, n);
	memcpy(p + 1 + n, "*", 2);
	int rc = saeval_push_lower(&g->pat, &g->n, &g->cap, p, n + 2);
	free(p);
	return rc;
}

int saeval_subject_list_build(const struct ruleset *rs, const char *fn_name,
                              struct saeval_globs **out)
{
	bool block = strstr(fn_name, "_in_bl") != NULL;
	return saeval_globs_build(rs, add_pattern, &block, out);
}

/* Does a pattern of g match within one line of the lower-case s[0..n)? */
static bool lines_match(const struct saeval_globs *g, const char *s,
                        size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t l = nl != NULL ? (size_t)(nl - s) : n;
		for (size_t k = 0; k < g->n; k++)
			if (saeval_glob_match(g->pat[k], s, l))
				return true;
		if (nl == NULL)
			break;
		s += l + 1;
		n -= l + 1;
	}
	return false;
}

/* check_subject_in_welcomelist() and the others: a pattern of the
 * call's list occurs in the Subject. An empty Subject never matches. */
bool saeval_ev_subject_in_list(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	if (c->al == NULL || c->al->n == 0)
		return false;
	struct strbuf b = { 0 };
	saeval_get_header(x, "Subject", false, &b);
	bool hit = false;
	if (!b.oom && b.len > 0) {
		for (size_t i = 0; i < b.len; i++)
			b.p[i] = (char)tolower((unsigned char)b.p[i]);
		hit = lines_match(c->al, b.p, b.len);
	}
	free(b.p);
	return hit;
}

/*
 * sa_vbounce.c — SpamAssassin eval (saeval.h): VBounce. A bounce that
 * quotes a Received header naming one of the relays listed with
 * welcomelist_bounce_relays (or whitelist_bounce_relays) answers mail
 * that was really sent from here; the plugin's rules use that to tell
 * such bounces from backscatter. With the functions implemented the
 * plugin's ifplugin block loads, so its bounce, out-of-office and
 * virus-notice rules run (ANY_BOUNCE_MESSAGE and the metas that spare
 * bounces).
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "ruleset.h"

/* saeval_globs_build() line: the relays a *_bounce_relays line names. */
static int relays_line(struct saeval_globs *g, const char *key,
                       const char *val, const void *ctx)
{
	(void)ctx;
	if (strcmp(key, "welcomelist_bounce_relays") != 0 &&
	    strcmp(key, "whitelist_bounce_relays") != 0)
		return 0;
	return saeval_globs_add(g, val);
}

int saeval_bounce_build(const struct ruleset *rs, struct saeval_globs **out)
{
	return saeval_globs_build(rs, relays_line, NULL, out);
}

/* Perl's while (/SEP(\S+\.\S+)SEP/g) over s[0..n), SEP a space (only)
 * or any blank: is a listed relay among the names? The name is a whole
 * run of non-blanks with a dot inside (not first, not last); a match
 * takes its closing separator with it, which then opens no other. */
static bool names_listed(const struct saeval_globs *b, const char *s,
                         size_t n, bool any_blank)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (any_blank ? !isspace((unsigned char)s[i]) : s[i] != ' ')
			continue;
		size_t e = i + 1;
		while (e < n && !isspace((unsigned char)s[e]))
			e++;
		size_t len = e - i - 1;
		bool sep = e < n && (any_blank || s[e] == ' ');
		if (!sep || len < 3 ||
		    memchr(s + i + 2, '.', len - 2) == NULL)
			continue;
		if (saeval_globs_match(b, s + i + 1, len))
			return true;
		i = e;   /* the separator is taken */
	}
	return false;
}

/* A line (or a body paragraph) starting with [> ]*Received: (any case). */
static bool received_line(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == '>' || s[i] == ' '))
		i++;
	return n - i >= 9 && strncasecmp(s + i, "received:", 9) == 0;
}

/* The raw body's quoted headers: from the first Received: line on, each
 * header with its continuation lines (joined without their line
 * breaks, as VBounce.pm joins them); a Received: one naming a relay. */
static bool raw_received(const struct saeval_globs *b, struct msg_text body)
{
	struct strbuf hdr = { 0 };
	bool found = false, hit = false;
	for (const char *p = body.ptr, *end = body.ptr + body.len;
	     p < end && !hit && !hdr.oom;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		found |= received_line(p, n);
		if (found) {
			if (n == 0 || !isspace((unsigned char)*p))
				hdr.len = 0;
			strbuf_put(&hdr, p, n);
			hit = received_line(hdr.p, hdr.len) &&
			      names_listed(b, hdr.p, hdr.len, true);
		}
		p = nl ? nl + 1 : end;
	}
	free(hdr.p);
	return hit;
}

/* have_any_bounce_relays(): welcomelist_bounce_relays lists any. */
bool saeval_ev_have_bounce_relays(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)x;
	return c->br != NULL && c->br->n > 0;
}

/* check_welcomelist_bounce_relays(): a Received header quoted in the
 * body text (a paragraph starting with it) or in the raw body names a
 * listed relay. */
bool saeval_ev_bounce_relays(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	if (c->br == NULL || c->br->n == 0)
		return false;
	for (size_t i = 0; i < saeval_body_count(x); i++) {
		struct msg_text t = saeval_body_at(x, i);
		if (received_line(t.ptr, t.len) &&
		    names_listed(c->br, t.ptr, t.len, false))
			return true;
	}
	/* only a raw body with "Received:" in it (VBounce.pm's triage) */
	struct msg_text raw = msg_raw_body(m);
	const char *q = raw.ptr, *end = raw.ptr + raw.len;
	while (q != NULL && q < end) {
		q = memchr(q, ':', (size_t)(end - q));
		if (q == NULL)
			break;
		if (q - raw.ptr >= 8 && strncasecmp(q - 8, "received", 8) == 0)
			return raw_received(c->br, raw);
		q++;
	}
	return false;
}

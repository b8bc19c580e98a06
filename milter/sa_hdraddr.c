/*
 * sa_hdraddr.c — the address lists of SpamAssassin's get(): what a
 * header rule on `From:addr`, `Reply-To:name` or `From:name:raw` reads
 * (saeval.h, saeval_header_addrs()).
 *
 * SpamAssassin 4.0.1 parses them with its own lenient parser (its
 * Email::Address::XS path is not taken when that Perl module is absent,
 * as in Debian's default installation), not as RFC 5322 reads them
 * (addr.h, which the stages use): a display name holding an address
 * ("a@b.example <c@d.example>") is a name, not an address; a group's
 * name is dropped up to its last ':'; an address keeps the case of its
 * domain and its quotes; "a@b@c" is cut at its second '@'; a name is
 * decoded (RFC 2047), its blanks collapsed and single quotes around it
 * removed. The steps follow Util.pm's _parse_header_addresses one by
 * one, with its expressions (saeval.c, RE_HA_*), since rules test the
 * text byte for byte.
 */
#include "saeval_int.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "msg.h"
#include "charset.h"
#include "rfc2047.h"
#include "saeval.h"
#include "strbuf.h"
#include "uri.h"

#define HA_GROUPS 12 /* ovector entries: groups 0-5 */

static bool ha_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool has_nonspace(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ha_space((unsigned char)s[i]))
			return true;
	return false;
}

/* w with its trailing blanks cut and every "\\" pair removed, in place
 * (the parser's first steps). */
static void prepare(struct strbuf *w)
{
	size_t n = w->len, out = 0;
	while (n > 0 && ha_space((unsigned char)w->p[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++) {
		if (w->p[i] == '\\' && i + 1 < n && w->p[i + 1] == '\\') {
			i++;
			continue;
		}
		w->p[out++] = w->p[i];
	}
	w->len = out;
}

/* s[0..n) without its (unnested) comments, appended to out. */
static void drop_comments(struct strbuf *out, const char *s, size_t n)
{
	size_t pos = 0, ov[2];
	while (pos < n &&
	       saeval_re_find(RE_HA_COMMENT, s + pos, n - pos, ov, 2)) {
		strbuf_put(out, s + pos, ov[0]);
		pos += ov[1] > 0 ? ov[1] : 1;
	}
	if (pos < n)
		strbuf_put(out, s + pos, n - pos);
}

/* A quoted string's inside: a backslash not followed by another one is
 * dropped. */
static void unescape(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\\' || (i + 1 < n && s[i + 1] == '\\'))
			strbuf_put(out, s + i, 1);
}

/* The phrase with its quoted strings unescaped and comments dropped
 * from the rest; false when nothing in it is either (a lone '"'). */
static bool clean_phrase(struct strbuf *out, const char *s, size_t n)
{
	size_t pos = 0, ov[6];
	bool any = false;
	while (pos < n &&
	       saeval_re_find(RE_HA_PHRASE, s + pos, n - pos, ov, 6)) {
		if (ov[2] != PCRE2_UNSET)
			unescape(out, s + pos + ov[2], ov[3] - ov[2]);
		else
			drop_comments(out, s + pos + ov[4], ov[5] - ov[4]);
		any = true;
		pos += ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return any;
}

/* _valid_parsed_address(): no '""@' start, not exactly one '"'. */
static bool valid_address(const char *s, size_t n)
{
	if (n >= 3 && memcmp(s, "\"\"@", 3) == 0)
		return false;
	size_t quotes = 0;
	for (size_t i = 0; i < n; i++)
		quotes += s[i] == '"';
	return quotes != 1;
}

static bool whole_address(const char *s, size_t n)
{
	return saeval_re_find(RE_HA_MAIL_ALL, s, n, NULL, 0);
}

/* A phrase alone that is an address with a valid host is taken as the
 * address. */
static bool phrase_is_address(const char *p, size_t n)
{
	if (!whole_address(p, n) || !valid_address(p, n))
		return false;
	const char *at = memchr(p, '@', n);
	if (at == NULL)
		return false;
	const char *host = at + 1, *end = p + n;
	const char *at2 = memchr(host, '@', (size_t)(end - host));
	return uri_fqdn_valid(host, (size_t)((at2 ? at2 : end) - host));
}

/* The address cut at a second '@'. */
static size_t cut_second_at(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);
	const char *at2 = at ? memchr(at + 1, '@', n - (size_t)(at + 1 - a))
	                     : NULL;
	return at2 ? (size_t)(at2 - a) : n;
}

/* A decoded name as get() gives it: blanks collapsed and trimmed, and
 * single quotes around it removed, unless it is all blank. */
static void put_collapsed(struct strbuf *b, const char *p, size_t len)
{
	if (!has_nonspace(p, len)) {
		strbuf_put(b, p, len);
		return;
	}
	size_t start = b->len;
	bool blank = true; /* leading blanks are dropped */
	for (size_t i = 0; i < len; i++) {
		if (ha_space((unsigned char)p[i])) {
			if (!blank)
				strbuf_put(b, " ", 1);
			blank = true;
		} else {
			strbuf_put(b, p + i, 1);
			blank = false;
		}
	}
	if (b->oom)
		return;
	if (b->p[b->len - 1] == ' ')
		b->len--;
	if (b->len - start >= 2 && b->p[start] == '\'' &&
	    b->p[b->len - 1] == '\'') {
		memmove(b->p + start, b->p + start + 1, b->len - start - 2);
		b->len -= 2;
	}
}

/* One name, RFC 2047 decoded as header values are (msg.h). */
static void put_name(struct strbuf *b, const char *s, size_t n)
{
	struct arena *a = arena_new(0);
	if (a == NULL) {
		b->oom = true;
		return;
	}
	struct charset_conv cv;
	charset_conv_init(&cv);
	struct arena_buf d;
	arena_buf_init(&d, a);
	if (n > 0)
		rfc2047_decode(&cv, s, n, &d);
	charset_conv_close(&cv);
	if (d.failed)
		b->oom = true;
	else
		put_collapsed(b, d.len ? d.p : "", d.len);
	arena_free(a);
}

/* One entry: emits its address or its name. */
static void emit(struct strbuf *b, enum saeval_addr_part part,
                 const char *addr, size_t alen, bool has_addr,
                 const char *name, size_t nlen, bool has_name)
{
	if (part == SAEVAL_ADDR) {
		if (!has_addr)
			return;
		strbuf_put(b, addr, cut_second_at(addr, alen));
	} else {
		if (!has_name)
			return;
		if (part == SAEVAL_NAME_RAW)
			strbuf_put(b, name, nlen);
		else
			put_name(b, name, nlen);
	}
	strbuf_put(b, "\n", 1);
}

/* The entry matched at s with groups ov (RE_HA_ENTRY). */
static void entry(struct strbuf *b, enum saeval_addr_part part,
                  const char *s, const size_t *ov)
{
	struct strbuf addr = { 0 }, name = { 0 };
	bool has_addr = false, has_name = false;
	if (ov[4] != PCRE2_UNSET) {
		/* <address>: comments dropped, then it must be one */
		drop_comments(&addr, s + ov[4], ov[5] - ov[4]);
		has_addr = addr.len > 0 ? whole_address(addr.p, addr.len) : false;
	} else if (ov[6] != PCRE2_UNSET) {
		strbuf_put(&addr, s + ov[6], ov[7] - ov[6]);
		has_addr = true;
	}
	if (has_addr && !valid_address(addr.p, addr.len))
		has_addr = false;
	size_t pi = ov[2] != PCRE2_UNSET ? 2 : ov[8] != PCRE2_UNSET ? 8 : 0;
	if (pi != 0 && clean_phrase(&name, s + ov[pi], ov[pi + 1] - ov[pi])) {
		const char *np = name.len ? name.p : "";
		if (!has_addr && phrase_is_address(np, name.len)) {
			addr.len = 0;
			strbuf_put(&addr, np, name.len);
			has_addr = true;
		} else {
			has_name = name.len > 0 &&
			           !(has_addr && addr.len == name.len &&
			             memcmp(addr.p, np, name.len) == 0);
		}
	}
	if (!has_name && ov[10] != PCRE2_UNSET) {
		name.len = 0;
		strbuf_put(&name, s + ov[10], ov[11] - ov[10]);
		has_name = true;
	}
	if (addr.oom || name.oom)
		b->oom = true;
	else
		emit(b, part, addr.len ? addr.p : "", addr.len, has_addr,
		     name.len ? name.p : "", name.len, has_name);
	free(addr.p);
	free(name.p);
}

void saeval_header_addrs(struct strbuf *b, const struct msg_header *h,
                         bool raw, enum saeval_addr_part part)
{
	saeval_re_init();
	struct strbuf w = { 0 };
	msg_header_sa_value(&w, h, raw, false);
	if (!w.oom)
		prepare(&w);
	if (w.oom) {
		b->oom = true;
		free(w.p);
		return;
	}
	const char *s = w.len ? w.p : "";
	size_t n = w.len, pos = 0, ov[HA_GROUPS];
	if (saeval_re_find(RE_HA_GROUP, s, n, ov, 2))
		pos = ov[1];
	if (!has_nonspace(s + pos, n - pos)) {
		free(w.p);
		return;
	}
	while (pos < n &&
	       saeval_re_find(RE_HA_ENTRY, s + pos, n - pos, ov, HA_GROUPS) &&
	       ov[1] > 0) {
		entry(b, part, s + pos, ov);
		pos += ov[1];
	}
	/* what could not be parsed: its <address>es, if any */
	while (pos < n && memchr(s + pos, '@', n - pos) != NULL &&
	       saeval_re_find(RE_HA_ANGLE, s + pos, n - pos, ov, 4)) {
		const char *a = s + pos + ov[2];
		size_t alen = ov[3] - ov[2];
		if (valid_address(a, alen))
			emit(b, part, a, alen, true, "", 0, false);
		pos += ov[1];
	}
	free(w.p);
}

/*
 * hdrmod.c — SpamAssassin 4's :host, :domain, :ip and :revip header
 * modifiers; contract in hdrmod.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "hdrmod.h"

#include <arpa/inet.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ruleset.h"
#include "saeval.h"
#include "strbuf.h"
#include "uri.h"

#define HOST_BITS (RS_HDR_HOST | RS_HDR_DOMAIN)
#define IP_BITS (RS_HDR_IP | RS_HDR_REVIP)
/* \S{1,251} before the host's last dot */
#define HOST_MAX_BEFORE_DOT 251
/* no TLD is longer than a DNS label: longer runs are not read to their
 * end (a long header stays linear per position) */
#define TLD_MAX 63

bool hdrmod_wanted(unsigned mods)
{
	return (mods & (HOST_BITS | IP_BITS)) != 0;
}

/* Perl's \s on bytes */
static bool blank(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool alnum_dash(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static bool dot_us_dash(unsigned char c)
{
	return c == '.' || c == '_' || c == '-';
}

/* The host pattern anchored at p (SpamAssassin's
 * (?<![._-])(\S{1,251}\.TLD)(?![._-]) with its TLD guards): the end of
 * the match, or 0. The greedy \S{1,251} makes the last fitting dot win. */
static size_t host_at(const char *s, size_t n, size_t p)
{
	if (p > 0 && dot_us_dash((unsigned char)s[p - 1]))
		return 0;
	/* the dot is within 251 non-blanks of p */
	size_t run = p;
	while (run < n && run <= p + HOST_MAX_BEFORE_DOT &&
	       !blank((unsigned char)s[run]))
		run++;
	for (size_t d = run > p ? run - 1 : p; d > p; d--) {
		if (s[d] != '.')
			continue;
		size_t e = d + 1;
		while (e < n && e - d - 1 <= TLD_MAX &&
		       alnum_dash((unsigned char)s[e]))
			e++;
		if (e == d + 1 || e - d - 1 > TLD_MAX ||
		    (e < n && dot_us_dash((unsigned char)s[e])))
			continue;
		if (uri_is_tld(s + d + 1, e - d - 1))
			return e;
	}
	return 0;
}

/* Each '@' of the line s[0, n), from the last: the host right after the
 * first one the pattern matches there (its start in *h), or 0. */
static size_t host_after_at(const char *s, size_t n, size_t *h)
{
	for (size_t a = n; a-- > 0;) {
		if (s[a] != '@')
			continue;
		size_t e = host_at(s, n, a + 1);
		if (e != 0) {
			*h = a + 1;
			return e - *h;
		}
	}
	return 0;
}

/* The host of a value that is not an address: the '@' form line by line
 * first, then the first valid match anywhere. Its length, start in *h. */
static size_t find_host(const char *v, size_t n, size_t *h)
{
	for (size_t ls = 0; ls < n;) {
		const char *nl = memchr(v + ls, '\n', n - ls);
		size_t le = nl != NULL ? (size_t)(nl - v) : n;
		size_t hl = host_after_at(v + ls, le - ls, h);
		if (hl != 0) {
			*h += ls;
			/* the regex matched: its host or none from that form */
			if (uri_fqdn_valid(v + *h, hl))
				return hl;
			break;
		}
		ls = le + 1;
	}
	for (size_t p = 0; p < n;) {
		size_t e = host_at(v, n, p);
		if (e == 0) {
			p++;
			continue;
		}
		if (uri_fqdn_valid(v + p, e - p)) {
			*h = p;
			return e - p;
		}
		p = e;   /* //g goes on after the match */
	}
	return 0;
}

/* :addr's liberal host: after the last '@' followed by a non-blank. */
static size_t addr_host(const char *v, size_t n, size_t *h)
{
	for (size_t a = n; a-- > 0;) {
		if (v[a] != '@' || a + 1 >= n || blank((unsigned char)v[a + 1]))
			continue;
		size_t e = a + 1;
		while (e < n && !blank((unsigned char)v[e]))
			e++;
		*h = a + 1;
		return e - *h;
	}
	return 0;
}

static void put_host(struct strbuf *b, const char *v, size_t n,
                     unsigned mods, const struct regdom *rd)
{
	size_t h = 0;
	size_t hl = (mods & RS_HDR_ADDR) ? addr_host(v, n, &h) :
	                                   find_host(v, n, &h);
	if (hl == 0 || (hl == 1 && v[h] == '0'))
		return;
	if (!(mods & RS_HDR_DOMAIN)) {
		strbuf_put(b, v + h, hl);
		strbuf_put(b, "\n", 1);
		return;
	}
	/* the registrar domain is at the end: a longer host keeps its last
	 * 255 bytes (only a label of hundreds of bytes there differs) */
	char name[256], dom[256];
	size_t cl = hl < sizeof name ? hl : sizeof name - 1;
	memcpy(name, v + h + (hl - cl), cl);
	name[cl] = '\0';
	saeval_registrar_domain(rd, name, dom, sizeof dom);
	strbuf_put(b, dom, strlen(dom));
	strbuf_put(b, "\n", 1);
}

/* SpamAssassin's (?<!\.)\b(IP_ADDRESS)\b(?!\.), IP_ADDRESS as in its
 * Constants.pm: IPv4 (not after "::"), or IPv6 with an optional
 * "IPv6:" prefix, written with the same alternatives in the same order
 * (the first that matches wins, as in Perl). */
#define O4 "(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
#define V4 O4 "\\." O4 "\\." O4 "\\." O4
#define H16 "[a-f0-9]{1,4}"
#define V6MAP "(?:(?:" H16 ":){6}|::(?:" H16 ":){0,5}|(?:" H16 ":){1,5}:|" \
	H16 "::(?:" H16 ":){1,4}|(?:" H16 ":){2}:(?:" H16 ":){1,3}|" \
	"(?:" H16 ":){3}:(?:" H16 ":){1,2}|(?:" H16 ":){4}:" H16 ":)" V4
#define V6 "(?:" H16 ":){7}" H16 "|:(?::" H16 "){1,7}|(?:" H16 ":){1,7}:|" \
	H16 ":(?::" H16 "){1,6}|(?:" H16 ":){2}(?::" H16 "){1,5}|" \
	"(?:" H16 ":){3}(?::" H16 "){1,4}|(?:" H16 ":){4}(?::" H16 "){1,3}|" \
	"(?:" H16 ":){5}(?::" H16 "){1,2}|(?:" H16 ":){6}:" H16 "|::"
#define IP_RE "(?<!\\.)\\b((?:\\b(?<!:)" V4 "\\b|(?:IPv6:|(?<![a-f0-9:]))" \
	"(?:" V6MAP "|" V6 ")(?![a-f0-9:])))\\b(?!\\.)"

static pcre2_code *ip_code;
static pthread_once_t ip_once = PTHREAD_ONCE_INIT;

static void ip_compile(void)
{
	int err;
	PCRE2_SIZE off;
	ip_code = pcre2_compile((PCRE2_SPTR)IP_RE, PCRE2_ZERO_TERMINATED,
	                        PCRE2_CASELESS, &err, &off, NULL);
}

/* The first address of v[0, n): its length, start in *ip; 0 for none
 * (or out of memory: *oom). */
static size_t find_ip(const char *v, size_t n, size_t *ip, bool *oom)
{
	pthread_once(&ip_once, ip_compile);
	if (ip_code == NULL) {
		*oom = true;
		return 0;
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(ip_code,
	                                                            NULL);
	if (md == NULL) {
		*oom = true;
		return 0;
	}
	size_t len = 0;
	if (pcre2_match(ip_code, (PCRE2_SPTR)v, n, 0, 0, md, NULL) > 1) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		*ip = ov[2];
		len = ov[3] - ov[2];
	}
	pcre2_match_data_free(md);
	return len;
}

static void put_hex_reversed(struct strbuf *b, const unsigned char *a)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 16; i-- > 0;) {
		char t[4] = { hex[a[i] & 15], '.', hex[a[i] >> 4], '.' };
		strbuf_put(b, t, i > 0 ? 4 : 3);
	}
}

/* reverse_ip_address(): false when the address does not reverse. */
static bool put_revip(struct strbuf *b, const char *ip, size_t n)
{
	char t[64];
	if (n >= sizeof t)
		return false;
	memcpy(t, ip, n);
	t[n] = '\0';
	unsigned char a[16];
	if (memchr(t, ':', n) == NULL) {
		/* the pattern matched a dotted quad: four numbers */
		if (inet_pton(AF_INET, t, a) != 1)
			return false;
		char r[16];
		int rl = snprintf(r, sizeof r, "%u.%u.%u.%u", a[3], a[2], a[1],
		                  a[0]);
		strbuf_put(b, r, (size_t)rl);
		return true;
	}
	if (strspn(t, "0123456789abcdefABCDEF:.") != n ||
	    inet_pton(AF_INET6, t, a) != 1)
		return false;
	put_hex_reversed(b, a);
	return true;
}

static void put_ip(struct strbuf *b, const char *v, size_t n, unsigned mods)
{
	size_t at = 0;
	bool oom = false;
	size_t len = find_ip(v, n, &at, &oom);
	if (oom)
		b->oom = true;
	if (len == 0)
		return;
	if (!(mods & RS_HDR_REVIP))
		strbuf_put(b, v + at, len);
	else if (!put_revip(b, v + at, len))
		return;
	strbuf_put(b, "\n", 1);
}

void hdrmod_put(struct strbuf *b, const char *v, size_t n, unsigned mods,
                const struct regdom *rd)
{
	if (mods & HOST_BITS)
		put_host(b, v, n, mods, rd);
	else if (mods & IP_BITS)
		put_ip(b, v, n, mods);
}

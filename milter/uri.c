/* uri.c — see uri.h. */
#include "uri.h"

#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cte.h"

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ---- scanning plain text ---- */

/* Bytes that may appear inside a URL in running text. */
static bool url_char(unsigned char c)
{
	if (c >= 0x80)
		return true; /* IRIs */
	if (c <= ' ' || c == 0x7f)
		return false;
	return strchr("<>\"'`{}|^", c) == NULL;
}

/* End of the URL starting at s: stop at a disallowed byte, then drop
 * sentence punctuation that most likely closes the sentence. */
static size_t url_extent(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && url_char((unsigned char)s[n]))
		n++;
	while (n > 0) {
		char c = s[n - 1];
		if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
		    c == '?' || c == '*' || c == '=' || c == '-') {
			n--;
		} else if (c == ')' || c == ']') {
			char open = c == ')' ? '(' : '[';
			if (memchr(s, open, n) != NULL)
				break;
			n--;
		} else {
			break;
		}
	}
	return n;
}

static bool scheme_char(unsigned char c)
{
	return is_alpha(c) || c == '*' || c == '+' || c == '-' || c == '.';
}

/* "://", ";//", ":\\", ":/" after a scheme. */
static size_t sep_len(const char *p, size_t left)
{
	if (left >= 3 && (p[0] == ':' || p[0] == ';') &&
	    ((p[1] == '/' && p[2] == '/') || (p[1] == '\\' && p[2] == '\\')))
		return 3;
	return 0;
}

static bool local_char(unsigned char c)
{
	return is_alnum(c) || strchr(".!#$%&*+-/=?^_`{|}~", c) != NULL;
}

static bool domain_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c >= 0x80;
}

/* An e-mail address around the '@' at s[at]: [*start, *end). */
static bool email_at(const char *s, size_t len, size_t at, size_t *start,
                     size_t *end)
{
	size_t b = at;
	while (b > 0 && local_char((unsigned char)s[b - 1]) && at - b < 64)
		b--;
	while (b < at && s[b] == '.')
		b++;
	size_t e = at + 1;
	while (e < len && domain_char((unsigned char)s[e]))
		e++;
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (b == at || e == at + 1)
		return false;
	const char *dot = memchr(s + at + 1, '.', e - at - 1);
	if (dot == NULL || dot == s + at + 1)
		return false;
	*start = b;
	*end = e;
	return true;
}

/* Bytes at which a URI may be recognised: ':' and ';' (scheme
 * separators), '@' (addresses), '.' (the dot of "www." / "ftp."). */
static const unsigned char trigger[256] = {
	[':'] = 1, [';'] = 1, ['@'] = 1, ['.'] = 1,
};

static bool www_or_ftp(const char *s)
{
	char a = (char)(s[0] | 0x20), b = (char)(s[1] | 0x20),
	     c = (char)(s[2] | 0x20);
	return (a == 'w' && b == 'w' && c == 'w') ||
	       (a == 'f' && b == 't' && c == 'p');
}

void uri_scan_text(const char *s, size_t len, uri_found_fn fn, void *ctx)
{
	size_t done = 0; /* bytes already inside a reported URI */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!trigger[c] || i < done)
			continue;
		if (c == '.') {
			/* www. / ftp. at a word start */
			if (i < 3 || i < done + 3 || i + 1 >= len ||
			    !is_alnum((unsigned char)s[i + 1]) ||
			    !www_or_ftp(s + i - 3))
				continue;
			size_t b = i - 3;
			if (b > 0 && (is_alnum((unsigned char)s[b - 1]) ||
			              strchr("./@-_:", s[b - 1]) != NULL))
				continue;
			size_t n = url_extent(s + b, len - b);
			if (n > 4) {
				fn(ctx, s + b, n);
				done = b + n;
			}
		} else if (c == '@') {
			size_t b, e;
			if (email_at(s, len, i, &b, &e) && b >= done) {
				char buf[600];
				int k = snprintf(buf, sizeof buf, "mailto:%.*s",
				                 (int)(e - b), s + b);
				if (k > 0 && (size_t)k < sizeof buf)
					fn(ctx, buf, (size_t)k);
				done = e;
			}
		} else if (sep_len(s + i, len - i)) {
			size_t b = i;
			while (b > done && i - b < 12 &&
			       scheme_char((unsigned char)s[b - 1]))
				b--;
			while (b < i && !is_alpha((unsigned char)s[b]))
				b++;
			if (b == i)
				continue;
			size_t n = url_extent(s + b, len - b);
			if (n > i - b + 3) {
				fn(ctx, s + b, n);
				done = b + n;
			}
		}
	}
}

/* ---- normalisation ---- */

struct parts {
	char scheme[16];
	char host[512];
	size_t host_len;
	const char *userinfo;
	size_t userinfo_len;
	const char *port;
	size_t port_len;
	const char *rest; /* path, query, fragment */
	size_t rest_len;
};

/* Map scheme spellings used to dodge filters to the real one. */
static bool clean_scheme(const char *s, size_t n, char *out, size_t cap,
                         unsigned *flags)
{
	if (n == 0 || n >= cap)
		return false;
	char t[16];
	for (size_t i = 0; i < n; i++)
		t[i] = (char)lower((unsigned char)s[i]);
	t[n] = '\0';
	memcpy(out, t, n + 1);
	for (size_t i = 0; i < n; i++)
		if (t[i] == 'x' || t[i] == '*')
			t[i] = 't';
	if (strcmp(out, t) != 0 &&
	    (strcmp(t, "http") == 0 || strcmp(t, "https") == 0)) {
		memcpy(out, t, n + 1);
		*flags |= URI_OBFUSCATED;
	}
	if (strcmp(out, "ttp") == 0 || strcmp(out, "htp") == 0) {
		memcpy(out, "http", 5);
		*flags |= URI_OBFUSCATED;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_alnum((unsigned char)out[i]) && out[i] != '+' &&
		    out[i] != '-' && out[i] != '.')
			return false;
	return is_alpha((unsigned char)out[0]);
}

/* Host bytes: percent escapes and "[.]"-style dots decoded. */
static bool clean_host(const char *h, size_t n, struct parts *u,
                       unsigned *flags)
{
	static const char *const dots[] = { "[.]", "(.)", "{.}", "[dot]",
	                                    "(dot)", "\xe3\x80\x82",
	                                    "\xef\xbc\x8e", "\xef\xbd\xa1" };
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (o + 4 >= sizeof u->host)
			return false;
		unsigned char c = (unsigned char)h[i];
		bool dot = false;
		/* Only these bytes can start a dot spelling. */
		if (c == '[' || c == '(' || c == '{' || c == 0xe3 || c == 0xef)
			for (size_t k = 0; k < sizeof dots / sizeof dots[0]; k++) {
				size_t dl = strlen(dots[k]);
				if (n - i >= dl &&
				    strncasecmp(h + i, dots[k], dl) == 0) {
					i += dl - 1;
					dot = true;
					if (k < 5)
						*flags |= URI_OBFUSCATED;
					break;
				}
			}
		if (dot) {
			u->host[o++] = '.';
			continue;
		}
		int hi, lo;
		if (c == '%' && i + 2 < n && (hi = cte_hex_digit((unsigned char)h[i + 1])) >= 0 &&
		    (lo = cte_hex_digit((unsigned char)h[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			*flags |= URI_OBFUSCATED;
		}
		u->host[o++] = (char)lower(c);
	}
	while (o > 0 && u->host[o - 1] == '.')
		o--;
	u->host[o] = '\0';
	u->host_len = o;
	return o > 0;
}

/* One IPv4 part: decimal, 0x hex or 0-octal, as inet_aton reads them. */
static bool ip_part(const char *s, size_t n, uint64_t *v)
{
	int base = 10;
	if (n > 2 && s[0] == '0' && lower((unsigned char)s[1]) == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n > 1 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	if (n == 0 || n > 12)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = cte_hex_digit((unsigned char)s[i]);
		if (d < 0 || d >= base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = x;
	return true;
}

/* Rewrite numeric IPv4 host spellings as a dotted quad. */
static void numeric_host(struct parts *u, unsigned *flags)
{
	uint64_t v[4];
	size_t n = 0;
	const char *p = u->host, *end = u->host + u->host_len;
	while (p <= end && n < 5) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *e = dot ? dot : end;
		if (n == 4 || !ip_part(p, (size_t)(e - p), &v[n]))
			return;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	uint64_t addr = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (v[i] > 255)
			return;
		addr = addr << 8 | v[i];
	}
	unsigned last_bits = (unsigned)(8 * (5 - n));
	if (last_bits < 32 && v[n - 1] >> last_bits)
		return;
	addr = addr << last_bits | v[n - 1];
	if (addr > 0xffffffffu)
		return;
	char quad[16];
	int k = snprintf(quad, sizeof quad, "%u.%u.%u.%u",
	                 (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 255),
	                 (unsigned)(addr >> 8 & 255), (unsigned)(addr & 255));
	if ((size_t)k != u->host_len || memcmp(quad, u->host, (size_t)k) != 0)
		*flags |= URI_OBFUSCATED;
	memcpy(u->host, quad, (size_t)k + 1);
	u->host_len = (size_t)k;
}

static void idna_host(struct parts *u)
{
	bool ascii = true;
	for (size_t i = 0; i < u->host_len; i++)
		if ((unsigned char)u->host[i] >= 0x80)
			ascii = false;
	if (ascii)
		return;
	char *out = NULL;
	int rc = idn2_to_ascii_8z(u->host, &out,
	                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_to_ascii_8z(u->host, &out,
		                      IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc == IDN2_OK && out != NULL && strlen(out) < sizeof u->host) {
		u->host_len = strlen(out);
		memcpy(u->host, out, u->host_len + 1);
	}
	idn2_free(out);
}

static bool default_port(const char *scheme, const char *port, size_t n)
{
	while (n > 1 && port[0] == '0') {
		port++;
		n--;
	}
	return (n == 2 && memcmp(port, "80", 2) == 0 &&
	        strcmp(scheme, "http") == 0) ||
	       (n == 3 && memcmp(port, "443", 3) == 0 &&
	        strcmp(scheme, "https") == 0) ||
	       (n == 2 && memcmp(port, "21", 2) == 0 &&
	        strcmp(scheme, "ftp") == 0);
}

/* Split "[scheme sep] authority rest" into u. */
static int split(const char *s, size_t n, struct parts *u, unsigned *flags)
{
	memset(u, 0, sizeof *u);
	size_t i = 0;
	while (i < n && i < 12 && scheme_char((unsigned char)s[i]))
		i++;
	const char *auth;
	if (i < n && sep_len(s + i, n - i)) {
		if (!clean_scheme(s, i, u->scheme, sizeof u->scheme, flags))
			return -1;
		if (s[i] == ';' || s[i + 1] == '\\')
			*flags |= URI_OBFUSCATED;
		auth = s + i + 3;
	} else if (n > 4 && (strncasecmp(s, "www.", 4) == 0 ||
	                     strncasecmp(s, "ftp.", 4) == 0)) {
		strcpy(u->scheme, lower((unsigned char)s[0]) == 'w' ? "http" :
		       "ftp");
		auth = s;
	} else {
		return -1;
	}
	const char *end = s + n, *a = auth;
	while (a < end && *a != '/' && *a != '?' && *a != '#' && *a != '\\')
		a++;
	u->rest = a;
	u->rest_len = (size_t)(end - a);
	const char *host = auth;
	const char *at = NULL;
	for (const char *q = auth; q < a; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		u->userinfo = auth;
		u->userinfo_len = (size_t)(at - auth);
		host = at + 1;
		*flags |= URI_OBFUSCATED; /* user@ hides the real host */
	}
	const char *hend = a;
	if (host < a && *host == '[') {
		const char *rb = memchr(host, ']', (size_t)(a - host));
		if (rb != NULL && (rb + 1 == a || rb[1] == ':')) {
			hend = rb + 1;
			if (hend < a) {
				u->port = hend + 1;
				u->port_len = (size_t)(a - hend - 1);
			}
			if ((size_t)(hend - host) >= sizeof u->host)
				return -1;
			for (size_t k = 0; k < (size_t)(hend - host); k++)
				u->host[k] = (char)lower((unsigned char)host[k]);
			u->host_len = (size_t)(hend - host);
			u->host[u->host_len] = '\0';
			return 0;
		}
	}
	for (const char *q = a; q > host; q--)
		if (q[-1] == ':') {
			bool digits = true;
			for (const char *d = q; d < a; d++)
				if (!is_digit((unsigned char)*d))
					digits = false;
			if (digits) {
				hend = q - 1;
				u->port = q;
				u->port_len = (size_t)(a - q);
			}
			break;
		} else if (q[-1] == ']' || q[-1] == ')') {
			break;
		}
	if (!clean_host(host, (size_t)(hend - host), u, flags))
		return -1;
	numeric_host(u, flags);
	idna_host(u);
	return 0;
}

static int norm_mailto(const char *s, size_t n, struct arena_buf *out)
{
	const char *at = memchr(s, '@', n);
	if (at == NULL)
		return -1;
	arena_buf_put(out, "mailto:", 7);
	arena_buf_put(out, s + 7, (size_t)(at - s) - 7 + 1);
	for (const char *p = at + 1; p < s + n; p++)
		arena_buf_putc(out, (char)lower((unsigned char)*p));
	return 0;
}

int uri_norm(const char *raw, size_t len, struct arena_buf *out,
             unsigned *flags)
{
	/* Trim, and drop line breaks and tabs that wrapping put inside. */
	char tmp[2048];
	size_t n = 0;
	while (len > 0 && (unsigned char)raw[len - 1] <= ' ')
		len--;
	size_t i = 0;
	while (i < len && (unsigned char)raw[i] <= ' ')
		i++;
	for (; i < len && n < sizeof tmp; i++)
		if (raw[i] != '\r' && raw[i] != '\n' && raw[i] != '\t')
			tmp[n++] = raw[i];
	if (n == 0 || n == sizeof tmp)
		return -1;
	if (n > 7 && strncasecmp(tmp, "mailto:", 7) == 0)
		return norm_mailto(tmp, n, out);
	struct parts u;
	if (split(tmp, n, &u, flags) != 0)
		return -1;
	size_t mark = out->len;
	arena_buf_put(out, u.scheme, strlen(u.scheme));
	arena_buf_put(out, "://", 3);
	if (u.userinfo != NULL) {
		arena_buf_put(out, u.userinfo, u.userinfo_len);
		arena_buf_putc(out, '@');
	}
	arena_buf_put(out, u.host, u.host_len);
	if (u.port != NULL && u.port_len > 0 &&
	    !default_port(u.scheme, u.port, u.port_len)) {
		arena_buf_putc(out, ':');
		arena_buf_put(out, u.port, u.port_len);
	}
	/* As SpamAssassin (Util.pm, uri_list_canonicalize): a '/' goes in
	 * before a query or fragment right after the host, an empty path
	 * stays empty. */
	if (u.rest_len > 0 && u.rest[0] != '/')
		arena_buf_putc(out, '/');
	arena_buf_put(out, u.rest, u.rest_len);
	if (out->failed) {
		out->len = mark;
		return -1;
	}
	return 0;
}

int uri_resolve(const char *base, size_t base_len, const char *ref,
                size_t ref_len, struct arena_buf *out)
{
	const char *sep = memmem(base, base_len, "://", 3);
	if (sep == NULL || ref_len == 0)
		return -1;
	const char *hs = sep + 3;
	const char *he = memchr(hs, '/', base_len - (size_t)(hs - base));
	if (he == NULL)
		he = base + base_len;
	if (ref_len > 1 && ref[0] == '/' && ref[1] == '/') {
		arena_buf_put(out, base, (size_t)(sep - base) + 1);
		arena_buf_put(out, ref, ref_len);
	} else if (ref[0] == '/') {
		arena_buf_put(out, base, (size_t)(he - base));
		arena_buf_put(out, ref, ref_len);
	} else {
		/* Relative path: replace what follows the last '/'. */
		const char *q = memchr(base, '?', base_len);
		size_t keep = q ? (size_t)(q - base) : base_len;
		while (keep > (size_t)(he - base) && base[keep - 1] != '/')
			keep--;
		arena_buf_put(out, base, keep);
		if (keep == (size_t)(he - base))
			arena_buf_putc(out, '/');
		arena_buf_put(out, ref, ref_len);
	}
	return out->failed ? -1 : 0;
}

/* Is s a bare host name: labels of [a-z0-9-], alphabetic TLD? */
static bool looks_like_host(const char *s, size_t n)
{
	size_t labels = 0, lab = 0, tld_alpha = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0)
				return false;
			labels++;
			lab = 0;
			tld_alpha = 1;
		} else if (is_alnum(c) || c == '-') {
			lab++;
			if (!is_alpha(c))
				tld_alpha = 0;
		} else {
			return false;
		}
	}
	return labels >= 1 && lab >= 2 && lab <= 18 && tld_alpha;
}

size_t uri_host(const char *s, size_t len, char *buf, size_t cap)
{
	while (len > 0 && (unsigned char)s[len - 1] <= ' ')
		len--;
	while (len > 0 && (unsigned char)*s <= ' ') {
		s++;
		len--;
	}
	if (len == 0 || cap == 0)
		return 0;
	struct parts u;
	unsigned flags = 0;
	if (split(s, len, &u, &flags) != 0) {
		if (!looks_like_host(s, len) || len >= cap)
			return 0;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)lower((unsigned char)s[i]);
		buf[len] = '\0';
		return len;
	}
	if (u.host_len == 0 || u.host_len >= cap)
		return 0;
	memcpy(buf, u.host, u.host_len + 1);
	return u.host_len;
}

static const char *strip_www(const char *h)
{
	return strncmp(h, "www.", 4) == 0 ? h + 4 : h;
}

/* a equals b or ends with "." + b */
static bool within(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la == lb)
		return strcmp(a, b) == 0;
	return la > lb && a[la - lb - 1] == '.' && strcmp(a + la - lb, b) == 0;
}

bool uri_hosts_differ(const char *text_host, const char *href_host)
{
	const char *t = strip_www(text_host), *h = strip_www(href_host);
	return !within(t, h) && !within(h, t);
}

/* uriform.c — see uriform.h. */
#include "uriform.h"

#include <ctype.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cte.h"

/* SpamAssassin's url_encode (Util.pm) of s into out (at least 3n+1
 * bytes): %XX of a printable character other than a blank is decoded,
 * control, blank, 8-bit, '"', '<', '>' and a lone '%' are %-encoded. */
size_t uriform_url_decode(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int h, l;
		if (ch == '%' && i + 2 < n &&
		    (h = cte_hex_digit((unsigned char)s[i + 1])) >= 0 &&
		    (l = cte_hex_digit((unsigned char)s[i + 2])) >= 0) {
			int v = h << 4 | l;
			if (v > 0x20 && v < 0x7f) {
				out[o++] = (char)v;
			} else {
				memcpy(out + o, s + i, 3);
				o += 3;
			}
			i += 2;
		} else if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '%' ||
		           ch == '<' || ch == '>') {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	return o;
}

/* A host uri_list_canonicalize reads as an IPv4 address (four dotted
 * decimal or 0x parts, or one number): the form it writes for it has no
 * user@, as its other rewritten forms. The port, if any, ends it. */
bool uriform_numeric_host(const char *h, size_t n)
{
	const char *colon = memchr(h, ':', n);
	if (colon != NULL)
		n = (size_t)(colon - h);
	size_t parts = 0;
	for (size_t i = 0; i < n; parts++) {
		bool hex = n - i > 2 && h[i] == '0' && (h[i + 1] | 0x20) == 'x';
		size_t j = hex ? i + 2 : i;
		while (j < n && (hex ? isxdigit((unsigned char)h[j])
		                     : isdigit((unsigned char)h[j])))
			j++;
		if (j == (hex ? i + 2 : i) || (j < n && h[j] != '.') ||
		    j + 1 == n)
			return false;
		i = j + 1;
	}
	return parts == 4 || parts == 1;
}

/* One part of a four-part numeric host as uri_list_canonicalize
 * rewrites it: 0x hex in decimal; leading zeros before octal digits
 * read as octal when those are 1-3 digits from 1-3 or 1-2 from 4-7;
 * then leading zeros dropped (so "0" is empty: "127.0.0.1" has the
 * form "127...1"). Into out (24 bytes); its length, -1 when a hex part
 * is too long to convert. */
static int ip_part(const char *s, size_t n, char *out)
{
	char t[24];
	if (n > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		uint64_t v = 0;
		if (n - 2 > 16)
			return -1;
		for (size_t i = 2; i < n; i++)
			v = v << 4 | (uint64_t)cte_hex_digit((unsigned char)s[i]);
		n = (size_t)snprintf(t, sizeof t, "%" PRIu64, v);
		s = t;
	}
	size_t z = 0;
	while (z < n && s[z] == '0')
		z++;
	size_t d = n - z;
	bool octal = z > 0 && d > 0 &&
	             ((s[z] >= '1' && s[z] <= '3' && d <= 3) ||
	              (s[z] >= '4' && s[z] <= '7' && d <= 2));
	for (size_t i = z; octal && i < n; i++)
		octal = s[i] >= '0' && s[i] <= '7';
	if (!octal) {
		if (d >= 24)
			return -1;
		memcpy(out, s + z, d);
		return (int)d;
	}
	unsigned v = 0;
	for (size_t i = z; i < n; i++)
		v = v * 8 + (unsigned)(s[i] - '0');
	return snprintf(out, 24, "%u", v);
}

/* Is h[0..n) a four-part numeric host as uri_list_canonicalize reads
 * one (each part 0x hex or decimal)? Its parts' ends into dots. */
static bool ip4_parts(const char *h, size_t n, size_t dots[4])
{
	size_t i = 0;
	for (int k = 0; k < 4; k++) {
		size_t j = i;
		bool hex = n - i > 2 && h[i] == '0' && (h[i + 1] | 0x20) == 'x';
		j += hex ? 2 : 0;
		while (j < n && (hex ? isxdigit((unsigned char)h[j])
		                     : isdigit((unsigned char)h[j])))
			j++;
		if (j == i + (hex ? 2 : 0) || (k < 3 ? j >= n || h[j] != '.' :
		                                       j != n))
			return false;
		dots[k] = j;
		i = j + 1;
	}
	return true;
}

/* uri_list_canonicalize's dotted form of numeric host h[0..n) into out
 * (URIFORM_IP_MAX bytes): four parts rewritten (ip_part()); one 0x number (its
 * last 8 hex digits) or one decimal number (the first 4 bytes of its
 * hex form, at least 8 digits) as a dotted quad. Its length, 0 when the
 * host is not numeric. */
size_t uriform_ip_form(const char *h, size_t n, char *out)
{
	size_t dots[4], o = 0;
	if (ip4_parts(h, n, dots)) {
		for (size_t k = 0, i = 0; k < 4; i = dots[k++] + 1) {
			int l = ip_part(h + i, dots[k] - i, out + o);
			if (l < 0)
				return 0;
			o += (size_t)l;
			if (k < 3)
				out[o++] = '.';
		}
		return o;
	}
	bool hex = n > 2 && h[0] == '0' && (h[1] | 0x20) == 'x';
	size_t i = hex ? 2 : 0;
	for (size_t k = i; k < n; k++)
		if (!(hex ? isxdigit((unsigned char)h[k]) : isdigit((unsigned char)h[k])))
			return 0;
	if (i == n)
		return 0;
	uint64_t v = 0;
	char x[24];
	if (hex) {
		for (size_t k = n - i > 8 ? n - 8 : i; k < n; k++)
			v = v << 4 | (uint64_t)cte_hex_digit((unsigned char)h[k]);
	} else {
		for (size_t k = 0; k < n; k++) {
			unsigned dg = (unsigned)(h[k] - '0');
			v = v > (UINT64_MAX - dg) / 10 ? UINT64_MAX : v * 10 + dg;
		}
	}
	snprintf(x, sizeof x, "%08" PRIx64, v);
	unsigned b[4];
	for (int k = 0; k < 4; k++)
		b[k] = (unsigned)(cte_hex_digit((unsigned char)x[2 * k]) << 4 |
		                  cte_hex_digit((unsigned char)x[2 * k + 1]));
	return (size_t)snprintf(out, URIFORM_IP_MAX, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

bool uriform_has_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '%' && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2]))
			return true;
	return false;
}

/* The character references uri_list_canonicalize decodes, one pass
 * each, in its order: each matcher gets s[0..n) starting at "&#" and
 * returns the length of the reference it decodes (0: none) with the
 * byte in *ch. Decimal: leading zeros, then 33 to 126, then ';'. */
static size_t ref_dec(const char *s, size_t n, char *ch)
{
	size_t j = 2, v = 0;
	while (j < n && s[j] == '0')
		j++;
	size_t ds = j;
	while (j < n && j - ds < 4 && isdigit((unsigned char)s[j]))
		v = v * 10 + (size_t)(s[j++] - '0');
	if (j >= n || s[j] != ';' || j - ds < 2 || v < 33 || v > 126)
		return 0;
	*ch = (char)v;
	return j + 1;
}

/* "&#x" (lower-case x), leading zeros, two hex digits, ';': 0x21-0x29,
 * 0x30-0x7e (its pattern leaves out 0x2a-0x2f and 0x7f). */
static size_t ref_hex(const char *s, size_t n, char *ch)
{
	size_t j = 3;
	if (n < 3 || s[2] != 'x')
		return 0;
	while (j < n && s[j] == '0')
		j++;
	if (n - j < 3 || s[j + 2] != ';' || !isxdigit((unsigned char)s[j]) ||
	    !isxdigit((unsigned char)s[j + 1]))
		return 0;
	int v = cte_hex_digit((unsigned char)s[j]) << 4 |
	        cte_hex_digit((unsigned char)s[j + 1]);
	if (v < 0x21 || v > 0x7e || (v > 0x29 && v < 0x30))
		return 0;
	*ch = (char)v;
	return j + 3;
}

/* The references to the Unicode full stops, any case: '.'. */
static size_t ref_dot(const char *s, size_t n, char *ch)
{
	static const char *const dots[] = { "x2e;", "12290;", "x3002;",
		"65294;", "xff0e;", "65377;", "xff61;" };
	for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
		size_t l = strlen(dots[i]);
		if (n - 2 >= l && strncasecmp(s + 2, dots[i], l) == 0) {
			*ch = '.';
			return l + 2;
		}
	}
	return 0;
}

/* One pass of matcher ref over d[0..n), in place (a reference is longer
 * than its byte); the new length. */
static size_t ref_pass(char *d, size_t n,
                       size_t (*ref)(const char *, size_t, char *))
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char ch;
		size_t l = n - i >= 4 && d[i] == '&' && d[i + 1] == '#' ?
		           ref(d + i, n - i, &ch) : 0;
		if (l > 0) {
			d[o++] = ch;
			i += l;
		} else {
			d[o++] = d[i++];
		}
	}
	return o;
}

/* uri_list_canonicalize's rewrites, in its order: the scheme's "//"
 * and '\' as '/' into t, then the %-decoding into d, then the '/' after
 * the host and the character references, in place. */
size_t uriform_nuri(const char *u, size_t n, char *t, char *d)
{
	size_t k = 0, tn = 0;
	size_t sch = n > 5 && strncasecmp(u, "http:", 5) == 0 ? 5 :
	             n > 6 && strncasecmp(u, "https:", 6) == 0 ? 6 : 0;
	if (sch > 0) {
		memcpy(t, u, sch);
		memcpy(t + sch, "//", 2);
		tn = sch + 2;
		for (k = sch; k < n && k < sch + 2 && (u[k] == '/' || u[k] == '\\'); k++)
			;
	}
	for (; k < n; k++)
		t[tn++] = u[k] == '\\' ? '/' : u[k];
	size_t dn = tn;
	if (uriform_has_escape(t, tn))
		dn = uriform_url_decode(t, tn, d);
	else
		memcpy(d, t, tn);
	size_t p = dn > 7 && strncasecmp(d, "http://", 7) == 0 ? 7 :
	           dn > 8 && strncasecmp(d, "https://", 8) == 0 ? 8 : 0;
	size_t h = p;
	while (p > 0 && h < dn && !strchr("/?#", d[h]))
		h++;
	if (h > p && h < dn && d[h] != '/') {
		memmove(d + h + 1, d + h, dn - h);
		d[h] = '/';
		dn++;
	}
	dn = ref_pass(d, dn, ref_dec);
	dn = ref_pass(d, dn, ref_hex);
	return ref_pass(d, dn, ref_dot);
}
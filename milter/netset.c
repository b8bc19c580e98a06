/*
 * netset.c — SpamAssassin's NetSet (see netset.h).
 */
#include "netset.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct netset {
	struct netset_net *e;
	size_t n, cap;
};

struct netset *netset_new(bool loopback)
{
	struct netset *s = calloc(1, sizeof *s);
	if (s == NULL || !loopback)
		return s;
	struct netset_net lo4 = { .plen = 96 + 8, .v4 = true };
	lo4.addr[10] = lo4.addr[11] = 0xff;
	lo4.addr[12] = 127;
	struct netset_net lo6 = { .plen = 128 };
	lo6.addr[15] = 1;
	if (netset_add(s, &lo4, NULL) < 0 || netset_add(s, &lo6, NULL) < 0) {
		netset_free(s);
		return NULL;
	}
	return s;
}

void netset_free(struct netset *s)
{
	if (s == NULL)
		return;
	free(s->e);
	free(s);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits s[0..n) into *v (at most 9 digits, so no overflow). */
static bool decimal(const char *s, size_t n, unsigned long *v)
{
	if (n == 0 || n > 9)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return true;
}

static void mask_host_bits(struct netset_net *n)
{
	for (unsigned b = n->plen; b < 128; b++)
		n->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
}

/* An IPv4 dotted mask (contiguous) as a prefix length, or -1. */
static int dotted_mask(const char *m, size_t n)
{
	char t[16];
	uint8_t a[4];
	if (n >= sizeof t)
		return -1;
	memcpy(t, m, n);
	t[n] = '\0';
	if (inet_pton(AF_INET, t, a) != 1)
		return -1;
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	             (uint32_t)a[2] << 8 | a[3];
	int len = 0;
	while (len < 32 && (v & (0x80000000u >> len)))
		len++;
	if (len < 32 && (v << len) != 0)
		return -1;
	return len;
}

#define SAY(...) (snprintf(err, errlen, __VA_ARGS__), -1)

int netset_parse(const char *item, size_t n, struct netset_net *out,
                 char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (n > NETSET_ITEM_MAX)
		return SAY("item longer than %d bytes", NETSET_ITEM_MAX);
	const char *p = item, *e = item + n;
	if (p < e && *p == '!') {
		out->exclude = true;
		p++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
	}
	/* the mask: everything after the first '/' */
	const char *slash = memchr(p, '/', (size_t)(e - p));
	const char *m = NULL, *ce = e;
	if (slash != NULL) {
		m = slash + 1;
		ce = slash;
	}
	if (ce - p >= 2 && *p == '[' && ce[-1] == ']' &&
	    memchr(p + 1, ']', (size_t)(ce - p - 2)) == NULL) {
		p++;
		ce--;
	}
	/* an IPv6 %scope is ignored */
	for (const char *q = ce; q > p; q--) {
		if (q[-1] == '%') {
			ce = q - 1;
			break;
		}
		char c = q[-1];
		if (!(is_digit(c) || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		      c == '~' || c == '-'))
			break;
	}
	if (memchr(item, '-', n) != NULL)
		return SAY("expected an address or CIDR network, not a range "
		           "(write a-b ranges as CIDR networks)");
	size_t cn = (size_t)(ce - p);
	unsigned maxlen;
	unsigned long plen;
	if (cn > 0 && is_digit(*p)) {
		size_t d = 0;
		while (d < cn && is_digit(p[d]))
			d++;
		if (d == cn || p[d] == '.') {
			/* IPv4: a.b.c.d, or a[.], a.b[.], a.b.c[.] */
			unsigned long oct[4] = { 0, 0, 0, 0 };
			int k = 0;
			size_t i = 0;
			bool dot = false;
			while (i < cn) {
				size_t j = i;
				while (j < cn && is_digit(p[j]))
					j++;
				if (k == 4 || !decimal(p + i, j - i, &oct[k]))
					return SAY("expected an IPv4 address "
					           "(a.b.c.d, or a. a.b. a.b.c. for "
					           "/8 /16 /24)");
				if (oct[k] > 255)
					return SAY("IPv4 octet %lu out of range "
					           "(0-255)", oct[k]);
				k++;
				dot = false;
				if (j < cn) {
					if (p[j] != '.')
						return SAY("expected an IPv4 address "
						           "(a.b.c.d, or a. a.b. a.b.c. "
						           "for /8 /16 /24)");
					dot = true;
					j++;
				}
				i = j;
			}
			if (k == 4 && dot)
				return SAY("expected an IPv4 address (a.b.c.d, "
				           "or a. a.b. a.b.c. for /8 /16 /24)");
			out->v4 = true;
			out->addr[10] = out->addr[11] = 0xff;
			for (int b = 0; b < 4; b++)
				out->addr[12 + b] = (uint8_t)oct[b];
			plen = (unsigned long)k * 8;
			maxlen = 32;
			goto mask;
		}
	}
	{
		char t[NETSET_ITEM_MAX + 1];
		memcpy(t, p, cn);
		t[cn] = '\0';
		if (cn == 0 || inet_pton(AF_INET6, t, out->addr) != 1)
			return SAY("expected an IPv4 or IPv6 address or network "
			           "(e.g. 192.168.0.0/16, 10., 2001:db8::/32)");
		plen = 128;
		maxlen = 128;
	}
mask:
	if (m != NULL) {
		size_t mn = (size_t)(e - m);
		int dm;
		if (decimal(m, mn, &plen)) {
			if (plen > maxlen)
				return SAY("prefix length /%lu out of range "
				           "(0-%u for %s)", plen, maxlen,
				           out->v4 ? "IPv4" : "IPv6");
		} else if (out->v4 && (dm = dotted_mask(m, mn)) >= 0) {
			plen = (unsigned long)dm;
		} else
			return SAY("expected a prefix length after '/' (0-%u%s)",
			           maxlen, out->v4 ? ", or a contiguous dotted "
			           "mask" : "");
	}
	out->plen = (uint8_t)(out->v4 ? plen + 96 : plen);
	mask_host_bits(out);
	return 0;
}

/* Does network a contain address x (16 bytes)? */
static bool net_has(const struct netset_net *a, const uint8_t *x)
{
	unsigned full = a->plen / 8, rest = a->plen % 8;
	if (memcmp(a->addr, x, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a->addr[full] & mask) == (x[full] & mask);
}

/* Does network a contain all of network b? */
static bool net_covers(const struct netset_net *a, const struct netset_net *b)
{
	return a->plen <= b->plen && net_has(a, b->addr);
}

int netset_add(struct netset *s, const struct netset_net *net,
               size_t *cover)
{
	for (size_t i = 0; i < s->n; i++)
		if (net_covers(&s->e[i], net)) {
			if (cover != NULL)
				*cover = i;
			return 0;
		}
	if (s->n == s->cap) {
		if (s->cap >= NETSET_MAX)
			return -1;
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct netset_net *e = realloc(s->e, cap * sizeof *e);
		if (e == NULL)
			return -1;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = *net;
	return 1;
}

size_t netset_count(const struct netset *s)
{
	return s->n;
}

const struct netset_net *netset_at(const struct netset *s, size_t i)
{
	return i < s->n ? &s->e[i] : NULL;
}

void netset_remove(struct netset *s, size_t i)
{
	if (i >= s->n)
		return;
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
	s->n--;
}

bool netset_contains_addr(const struct netset *s, const uint8_t addr[16])
{
	for (size_t i = 0; i < s->n; i++)
		if (net_has(&s->e[i], addr))
			return !s->e[i].exclude;
	return false;
}

bool netset_contains(const struct netset *s, const char *ip)
{
	uint8_t a[16] = { 0 };
	size_t n = strnlen(ip, 64);
	if (n == 64)
		return false;
	if (inet_pton(AF_INET, ip, a + 12) == 1)
		a[10] = a[11] = 0xff;
	else if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	return netset_contains_addr(s, a);
}

bool netset_contains_net(const struct netset *s,
                         const struct netset_net *n)
{
	for (size_t i = 0; i < s->n; i++)
		if (net_covers(&s->e[i], n))
			return !s->e[i].exclude;
	return false;
}

const char *netset_format(const struct netset_net *n, char *buf,
                          size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (n->v4)
		inet_ntop(AF_INET, n->addr + 12, a, sizeof a);
	else
		inet_ntop(AF_INET6, n->addr, a, sizeof a);
	snprintf(buf, len, "%s%s/%u", n->exclude ? "!" : "", a,
	         n->v4 ? n->plen - 96u : n->plen);
	return buf;
}

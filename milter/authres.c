/* authres.c — see authres.h */
#include "authres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "scan.h"

void authres_init(struct authres *ar)
{
	memset(ar, 0, sizeof *ar);
	ar->ok = true;
}

void authres_free(struct authres *ar)
{
	free(ar->buf);
	memset(ar, 0, sizeof *ar);
}

static bool reserve(struct authres *ar, size_t more)
{
	if (!ar->ok)
		return false;
	if (ar->len + more + 1 <= ar->cap)
		return true;
	size_t cap = ar->cap ? ar->cap : 64;
	while (cap < ar->len + more + 1)
		cap *= 2;
	char *nb = realloc(ar->buf, cap);
	if (nb == NULL) {
		ar->ok = false;
		return false;
	}
	ar->buf = nb;
	ar->cap = cap;
	return true;
}

static void put(struct authres *ar, const char *s, size_t n)
{
	if (!reserve(ar, n))
		return;
	memcpy(ar->buf + ar->len, s, n);
	ar->len += n;
	ar->buf[ar->len] = '\0';
}

static void puts_(struct authres *ar, const char *s)
{
	put(ar, s, strlen(s));
}

const char *authres_str(const struct authres *ar)
{
	return ar->ok && ar->buf ? ar->buf : "";
}

/* RFC 5322 atext plus '.' and '@': a dot-atom or addr-spec made of these
 * is accepted bare by RFC 8601's pvalue. */
static bool bare_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.@", c) != NULL;
}

void authres_value(struct authres *ar, const char *value)
{
	bool bare = *value != '\0';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (!bare_char(*p))
			bare = false;
	if (bare) {
		puts_(ar, value);
		return;
	}
	put(ar, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p < ' ' || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			put(ar, "\\", 1);
		put(ar, (const char *)p, 1);
	}
	put(ar, "\"", 1);
}

void authres_method(struct authres *ar, const char *method,
                    const char *result)
{
	if (ar->len > 0)
		put(ar, " ", 1);
	puts_(ar, method);
	put(ar, "=", 1);
	puts_(ar, result);
}

void authres_comment(struct authres *ar, const char *comment)
{
	put(ar, " (", 2);
	for (const unsigned char *p = (const unsigned char *)comment; *p; p++) {
		if (*p < ' ' || *p == 0x7f)
			continue;
		if (*p == '(' || *p == ')' || *p == '\\')
			put(ar, "\\", 1);
		put(ar, (const char *)p, 1);
	}
	put(ar, ")", 1);
}

void authres_prop(struct authres *ar, const char *ptype, const char *property,
                  const char *value)
{
	put(ar, " ", 1);
	puts_(ar, ptype);
	put(ar, ".", 1);
	puts_(ar, property);
	put(ar, "=", 1);
	authres_value(ar, value);
}

static bool seen(char (*out)[AUTHRES_DOMAIN_MAX], size_t n, const char *d)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i], d) == 0)
			return true;
	return false;
}

size_t authres_from_domains(struct scan *scan,
                            char (*out)[AUTHRES_DOMAIN_MAX], size_t max,
                            size_t *headers, size_t *addresses)
{
	const struct msg *m = scan_msg(scan);
	size_t n = 0;
	*headers = 0;
	*addresses = 0;
	if (m == NULL)
		return 0;
	const struct msg_header *h;
	while ((h = msg_header_get(m, "From", *headers)) != NULL) {
		size_t count;
		const struct msg_addr *a = msg_header_addrs(m, h, &count);
		(*headers)++;
		*addresses += count;
		for (size_t i = 0; a != NULL && i < count; i++) {
			const struct msg_text *d = &a[i].domain;
			if (d->len == 0 || d->len >= AUTHRES_DOMAIN_MAX ||
			    memchr(d->ptr, '\0', d->len) != NULL)
				continue;
			char dom[AUTHRES_DOMAIN_MAX];
			memcpy(dom, d->ptr, d->len);
			dom[d->len] = '\0';
			if (n < max && !seen(out, n, dom))
				snprintf(out[n++], AUTHRES_DOMAIN_MAX, "%s", dom);
		}
	}
	return n;
}

/* mime.c — see mime.h. */
#include "mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cte.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip blanks and (nested) comments. */
static const char *skip_cfws(const char *p, const char *end)
{
	while (p < end) {
		if (is_wsp(*p)) {
			p++;
		} else if (*p == '(') {
			int depth = 0;
			while (p < end) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0) {
					p++;
					break;
				}
				p++;
			}
		} else {
			break;
		}
	}
	return p;
}

static char *lower_dup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_strndup(a, s, n);
	if (d != NULL)
		for (size_t i = 0; i < n; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				d[i] = (char)(d[i] + 32);
	return d;
}

/* Read a token or a quoted string at p; returns the unquoted copy. */
static const char *read_value(struct arena *a, const char **pp,
                              const char *end, size_t *len, bool *bad)
{
	const char *p = *pp;
	if (p < end && *p == '"') {
		struct arena_buf b;
		arena_buf_init(&b, a);
		p++;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (*p != '\r' && *p != '\n')
				arena_buf_putc(&b, *p);
			p++;
		}
		if (p < end)
			p++;
		else
			*bad = true;
		*pp = p;
		*len = b.len;
		return b.failed ? NULL : arena_buf_finish(&b);
	}
	/* Unquoted values with blanks ("name=my file.txt") happen: take
	 * everything up to the next ';' minus trailing blanks. */
	const char *s = p;
	while (p < end && *p != ';' && *p != '(' && *p != '"')
		p++;
	while (p > s && is_wsp(p[-1]))
		p--;
	*pp = p;
	*len = (size_t)(p - s);
	return arena_strndup(a, s, *len);
}

int mime_parse_field(struct arena *a, const char *value, size_t len,
                     struct mime_field *f)
{
	const char *p = value, *end = value + len;
	memset(f, 0, sizeof *f);
	p = skip_cfws(p, end);
	const char *t = p;
	while (p < end && *p != ';' && !is_wsp(*p) && *p != '(')
		p++;
	f->token = lower_dup(a, t, (size_t)(p - t));
	f->token_len = (size_t)(p - t);
	if (f->token == NULL)
		return -1;
	if (f->token_len == 0)
		f->malformed = true;
	struct arena_buf pv;
	arena_buf_init(&pv, a);
	while (p < end) {
		p = skip_cfws(p, end);
		if (p >= end)
			break;
		if (*p != ';') {
			f->malformed = true; /* junk after the token */
			while (p < end && *p != ';')
				p++;
			continue;
		}
		p = skip_cfws(p + 1, end);
		if (p >= end)
			break;
		const char *n = p;
		while (p < end && *p != '=' && *p != ';' && !is_wsp(*p))
			p++;
		size_t nlen = (size_t)(p - n);
		p = skip_cfws(p, end);
		if (nlen == 0 || p >= end || *p != '=') {
			f->malformed = true;
			continue;
		}
		p = skip_cfws(p + 1, end);
		struct mime_param mp;
		bool bad = false;
		mp.name = lower_dup(a, n, nlen);
		mp.name_len = nlen;
		mp.value = read_value(a, &p, end, &mp.value_len, &bad);
		if (mp.name == NULL || mp.value == NULL)
			return -1;
		f->malformed |= bad;
		for (size_t i = 0; i < pv.len / sizeof mp; i++) {
			const struct mime_param *o =
				(const struct mime_param *)pv.p + i;
			if (o->name_len == nlen && memcmp(o->name, mp.name,
			                                  nlen) == 0)
				f->dup_param = true;
		}
		arena_buf_put(&pv, &mp, sizeof mp);
	}
	if (pv.failed)
		return -1;
	f->params = (struct mime_param *)pv.p;
	f->nparams = pv.len / sizeof(struct mime_param);
	return 0;
}

static const struct mime_param *find(const struct mime_field *f,
                                     const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < f->nparams; i++)
		if (f->params[i].name_len == n &&
		    memcmp(f->params[i].name, name, n) == 0)
			return &f->params[i];
	return NULL;
}

/* Append the %XX-decoded v to out. */
static void pct_decode(struct arena_buf *out, const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int h, l;
		if (v[i] == '%' && i + 2 < len && (h = cte_hex_digit((unsigned char)v[i + 1])) >= 0 &&
		    (l = cte_hex_digit((unsigned char)v[i + 2])) >= 0) {
			arena_buf_putc(out, (char)(h << 4 | l));
			i += 2;
		} else {
			arena_buf_putc(out, v[i]);
		}
	}
}

/* Decode the RFC 2231 extended value charset'lang'%XX into out (UTF-8);
 * first tells whether the charset prefix is present. */
static void ext_value(struct arena_buf *raw, const char *v, size_t len,
                      bool first, const char **cs, size_t *cs_len)
{
	if (first) {
		const char *q1 = memchr(v, '\'', len);
		const char *q2 = q1 ? memchr(q1 + 1, '\'',
		                             len - (size_t)(q1 + 1 - v)) : NULL;
		if (q2 != NULL) {
			*cs = v;
			*cs_len = (size_t)(q1 - v);
			len -= (size_t)(q2 + 1 - v);
			v = q2 + 1;
		}
	}
	pct_decode(raw, v, len);
}

const char *mime_param(struct arena *a, struct charset_conv *cv,
                       const struct mime_field *f, const char *name,
                       size_t *len)
{
	const struct mime_param *p = find(f, name);
	if (p != NULL) {
		*len = p->value_len;
		return p->value;
	}
	char key[64];
	struct arena_buf raw;
	arena_buf_init(&raw, a);
	const char *cs = NULL;
	size_t cs_len = 0;
	bool any = false;
	snprintf(key, sizeof key, "%s*", name);
	if ((p = find(f, key)) != NULL) {
		ext_value(&raw, p->value, p->value_len, true, &cs, &cs_len);
		any = true;
	} else {
		/* Continuations name*0, name*1*, ... in order; bounded. */
		for (unsigned i = 0; i < 100; i++) {
			snprintf(key, sizeof key, "%s*%u", name, i);
			if ((p = find(f, key)) != NULL) {
				arena_buf_put(&raw, p->value, p->value_len);
			} else {
				snprintf(key, sizeof key, "%s*%u*", name, i);
				if ((p = find(f, key)) == NULL)
					break;
				ext_value(&raw, p->value, p->value_len, i == 0,
				          &cs, &cs_len);
			}
			any = true;
		}
	}
	if (!any || raw.failed)
		return NULL;
	struct arena_buf out;
	arena_buf_init(&out, a);
	charset_to_utf8(cv, cs, cs_len, raw.p ? raw.p : "", raw.len, &out);
	if (out.failed)
		return NULL;
	*len = out.len;
	return arena_buf_finish(&out);
}

/* Does the text after a boundary make the line a delimiter? "--" for
 * the close delimiter, then nothing but blanks (RFC 2046's transport
 * padding; SpamAssassin's /^--\Q$boundary\E(--)?\s*$/): a line with
 * more after "--boundary--" is text of the part. */
static bool delim_tail(const char *q, const char *end, bool *close)
{
	*close = q + 1 < end && q[0] == '-' && q[1] == '-';
	if (*close)
		q += 2;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\f' ||
	                   *q == '\v' || *q == '\r'))
		q++;
	return q == end || *q == '\n';
}

bool mime_next_boundary(const char *from, const char *p, const char *end,
                        const char *needle, size_t needle_len,
                        struct mime_delim *d)
{
	/* A delimiter right at p, when p starts a line. */
	if ((p == from || p[-1] == '\n') &&
	    (size_t)(end - p) >= needle_len - 1 &&
	    memcmp(p, needle + 1, needle_len - 1) == 0) {
		const char *q = p + needle_len - 1;
		if (delim_tail(q, end, &d->close)) {
			d->line = p;
			d->body_end = p;
			goto found;
		}
	}
	const char *s = p;
	while (s < end) {
		const char *hit = memmem(s, (size_t)(end - s), needle,
		                         needle_len);
		if (hit == NULL)
			return false;
		const char *q = hit + needle_len;
		if (delim_tail(q, end, &d->close)) {
			d->line = hit + 1;
			d->body_end = hit > p && hit[-1] == '\r' ? hit - 1 : hit;
			goto found;
		}
		s = hit + 1;
	}
	return false;
found:;
	const char *nl = memchr(d->line, '\n', (size_t)(end - d->line));
	d->after = nl ? nl + 1 : end;
	return true;
}

bool mime_boundary_valid(const char *b, size_t len)
{
	static const char extra[] = "'()+_,-./:=? ";
	if (len == 0 || len > 70 || b[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = b[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') ||
		          (c != '\0' && strchr(extra, c) != NULL);
		if (!ok)
			return false;
	}
	return true;
}

/* p past Perl's \s on bytes: isspace() in the C locale vigil runs in
 * (space, tab, LF, VT, FF, CR). */
static const char *skip_blanks(const char *p, const char *e)
{
	while (p < e && isspace((unsigned char)*p))
		p++;
	return p;
}

static bool sa_type_drops(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' ||
	       c == ',' || (c >= ':' && c <= '?') || c == '@' ||
	       (c >= '[' && c <= ']');
}

/* Util.pm's exceptions to the text/plain fold. */
static bool sa_text_kept(const char *t, size_t n)
{
	static const char *const kept[] = { "text/x-vcard", "text/calendar",
	                                    "text/html" };
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (n == strlen(kept[i]) && memcmp(t, kept[i], n) == 0)
			return true;
	return false;
}

static bool is_word_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

const char *mime_sa_type(struct arena *a, const char *value, size_t len,
                         size_t *n)
{
	const char *start = skip_blanks(value, value + len);
	len -= (size_t)(start - value);
	value = start;
	const char *semi = memchr(value, ';', len);
	if (semi != NULL)
		len = (size_t)(semi - value);
	/* ^([^/]+(?:/[^/\s]*)?): nothing to cut when it starts with '/' */
	size_t k = 0;
	while (k < len && value[k] != '/')
		k++;
	if (k > 0 && k < len) {
		k++;
		while (k < len && value[k] != '/' &&
		       !isspace((unsigned char)value[k]))
			k++;
		len = k;
	}
	char *t = arena_alloc(a, len + sizeof "text/plain");
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		t[i] = (char)tolower((unsigned char)value[i]);
	if (len == 0 || (len >= 4 && memcmp(t, "text", 4) == 0 &&
	                 (len == 4 || !is_word_byte(t[4])) &&
	                 !sa_text_kept(t, len))) {
		len = strlen("text/plain");
		memcpy(t, "text/plain", len);
	}
	size_t o = 0;
	for (size_t i = 0; i < len; i++)
		if (!sa_type_drops((unsigned char)t[i]))
			t[o++] = t[i];
	t[o] = '\0';
	*n = o;
	return t;
}

/* The first case-blind word (lower-case) at or after *at in v[len]. */
static const char *find_word(const char *v, size_t len, const char *word,
                             size_t *at)
{
	size_t wl = strlen(word);
	for (size_t i = *at; i + wl <= len; i++)
		if (strncasecmp(v + i, word, wl) == 0) {
			*at = i + 1;
			return v + i;
		}
	return NULL;
}

/* Util.pm's \s*=\s*["']?(.*?)["']?(?:;|$) from p (just past the
 * parameter's name) to e: the value in *v, *n, up to the first ';' (or
 * the end, or a final LF, as '$' matches before one), one quote on each
 * side dropped. false when no '=' follows or a LF (which '.' does not
 * match) comes first. */
/* Past \s*=\s* at p, or NULL when no '=' follows. */
static const char *past_equals(const char *p, const char *e)
{
	p = skip_blanks(p, e);
	return p < e && *p == '=' ? skip_blanks(p + 1, e) : NULL;
}

static bool sa_param_value(const char *p, const char *e, const char **v,
                           size_t *n)
{
	if ((p = past_equals(p, e)) == NULL)
		return false;
	if (p < e && (*p == '"' || *p == '\''))
		p++;
	const char *q = p;
	while (q < e && *q != ';' && *q != '\n')
		q++;
	if (q < e && *q == '\n' && q + 1 != e)
		return false;
	if (q > p && (q[-1] == '"' || q[-1] == '\''))
		q--;
	*v = p;
	*n = (size_t)(q - p);
	return true;
}

bool mime_sa_disp_name(const char *value, size_t len, const char **name,
                       size_t *n)
{
	const char *e = value + len, *p;
	size_t at = 0;
	while ((p = find_word(value, len, "name", &at)) != NULL) {
		p += 4;
		if (p >= e || *p != '=')
			continue;
		p = skip_blanks(p + 1, e);
		if (p < e && *p == '"')
			p++;
		const char *q = p;
		while (q < e && *q != '"' && *q != ';')
			q++;
		if (q > p) {
			*name = p;
			*n = (size_t)(q - p);
			return true;
		}
	}
	return false;
}

/* Util.pm's boundary value \s*=\s*("[^"]+|[^\s";]+(?=[\s;]|$)) from p
 * to e, its double quote dropped (tr/"//d: the quoted form holds only
 * the opening one): a quoted value runs to the next '"' or the end,
 * whatever it holds; a bare one must end at a blank, ';' or the end. */
static bool sa_boundary_value(const char *p, const char *e, const char **v,
                              size_t *n)
{
	if ((p = past_equals(p, e)) == NULL)
		return false;
	const char *q = p;
	if (p < e && *p == '"') {
		p++;
		q = memchr(p, '"', (size_t)(e - p));
		if (q == NULL)
			q = e;
	} else {
		while (q < e && !isspace((unsigned char)*q) && *q != '"' &&
		       *q != ';')
			q++;
		if (q < e && *q == '"')
			return false;
	}
	if (q == p)
		return false;
	*v = p;
	*n = (size_t)(q - p);
	return true;
}

typedef bool sa_value_reader(const char *p, const char *e, const char **v,
                             size_t *n);

/* Util.pm's /\b(?:PREFIX)?WORD\s*=.../i (prefix "" or, for a name,
 * "file"): the first occurrence whose value read() reads. */
static bool sa_param(const char *value, size_t len, const char *prefix,
                     const char *word, sa_value_reader *read,
                     const char **v, size_t *n)
{
	size_t pl = strlen(prefix), wl = strlen(word), at = 0;
	const char *p;
	while ((p = find_word(value, len, word, &at)) != NULL) {
		const char *b = p;
		if (pl && (size_t)(b - value) >= pl &&
		    strncasecmp(b - pl, prefix, pl) == 0)
			b -= pl;
		if ((b == value || !is_word_byte(b[-1])) &&
		    read(p + wl, value + len, v, n))
			return true;
	}
	return false;
}

bool mime_sa_type_name(const char *value, size_t len, const char **name,
                       size_t *n)
{
	return sa_param(value, len, "file", "name", sa_param_value, name, n);
}

bool mime_sa_charset(const char *value, size_t len, const char **cs,
                     size_t *n)
{
	return sa_param(value, len, "", "charset", sa_param_value, cs, n);
}

bool mime_sa_boundary(const char *value, size_t len, const char **b,
                      size_t *n)
{
	return sa_param(value, len, "", "boundary", sa_boundary_value, b, n);
}

bool mime_sa_name_parts(const char *value, size_t len)
{
	const char *p;
	size_t at = 0;
	while ((p = find_word(value, len, "name", &at)) != NULL)
		if ((size_t)(value + len - p) >= 6 && p[4] == '*' && p[5] == '0')
			return true;
	return false;
}

/* rfc2047.c — see rfc2047.h. */
#include "rfc2047.h"

#include <string.h>

#include "cte.h"

struct word {
	const char *charset;
	size_t charset_len;
	char enc;             /* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	const char *end;      /* just after "?=" */
	bool spaces;          /* blanks inside the text (lenient parse) */
};

bool rfc2047_maybe(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	while (p < end && (p = memchr(p, '=', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && p[1] == '?')
			return true;
		p++;
	}
	return false;
}

/* Parse an encoded word starting at p ("=?"); false if it is none. */
static bool parse_word(const char *p, const char *end, struct word *w)
{
	const char *q = p + 2;
	const char *cs = q;
	while (q < end && *q != '?' && *q != ' ' && *q != '\t' &&
	       *q != '\r' && *q != '\n')
		q++;
	if (q >= end || *q != '?' || q == cs || end - q < 4)
		return false;
	w->charset = cs;
	w->charset_len = (size_t)(q - cs);
	char e = (char)(q[1] & ~0x20);
	if ((e != 'B' && e != 'Q') || q[2] != '?')
		return false;
	w->enc = e;
	w->text = q + 3;
	w->spaces = false;
	/* The word ends at the first "?=" on the same line; some senders
	 * put blanks inside, which mail readers accept. A '?' before it
	 * makes it no encoded word: SpamAssassin's decoder takes none in
	 * the text ([^?]*) and leaves "=?utf-8?Q?a?b?=" as written. */
	for (const char *t = w->text; t + 1 < end; t++) {
		if (*t == '\r' || *t == '\n')
			return false;
		if (*t == ' ' || *t == '\t')
			w->spaces = true;
		if (t[0] == '?') {
			if (t[1] != '=')
				return false;
			w->text_len = (size_t)(t - w->text);
			w->end = t + 2;
			return true;
		}
	}
	return false;
}

/* Pending decoded bytes of adjacent words with one charset. */
struct pending {
	struct arena_buf bytes;
	const char *charset;
	size_t charset_len;
};

static unsigned flush(struct charset_conv *cv, struct pending *pd,
                      struct arena_buf *out)
{
	unsigned flags = 0;
	if (pd->bytes.len > 0) {
		unsigned f = charset_word_to_utf8(cv, pd->charset,
		                                  pd->charset_len, pd->bytes.p,
		                                  pd->bytes.len, out);
		if (f & CHARSET_UNKNOWN)
			flags |= RFC2047_UNKNOWN_CHARSET;
		if (f & CHARSET_BAD_DATA)
			flags |= RFC2047_BAD_DATA;
	}
	pd->bytes.len = 0;
	pd->charset = NULL;
	return flags;
}

static unsigned decode_word(const struct word *w, struct pending *pd)
{
	if (arena_buf_reserve(&pd->bytes, w->text_len) != 0)
		return 0;
	size_t n;
	unsigned f = w->enc == 'B'
		? cte_base64_decode(w->text, w->text_len,
		                    pd->bytes.p + pd->bytes.len, &n)
		: cte_q_decode(w->text, w->text_len,
		               pd->bytes.p + pd->bytes.len, &n);
	pd->bytes.len += n;
	return f ? RFC2047_BAD_DATA : 0;
}

static bool same_charset(const struct pending *pd, const struct word *w)
{
	return pd->charset != NULL && pd->charset_len == w->charset_len &&
	       strncasecmp(pd->charset, w->charset, w->charset_len) == 0;
}

unsigned rfc2047_decode(struct charset_conv *cv, const char *in, size_t len,
                        struct arena_buf *out)
{
	const char *p = in, *end = in + len;
	struct pending pd;
	arena_buf_init(&pd.bytes, out->a);
	pd.charset = NULL;
	unsigned flags = 0;
	const char *text = p; /* start of plain text not yet copied */
	/* Raw 8-bit text is UTF-8 when the whole value is, else
	 * windows-1252 (SpamAssassin's _decode_header). */
	const char *raw_cs = charset_utf8_strict(in, len) ? "utf-8" : "windows-1252";

	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		struct word w;
		if (eq == NULL)
			break;
		if (eq + 1 >= end || eq[1] != '?' || !parse_word(eq, end, &w)) {
			if (eq + 1 < end && eq[1] == '?')
				flags |= RFC2047_MALFORMED;
			p = eq + 1;
			continue;
		}
		/* Blanks between two encoded words vanish; other text
		 * between them is copied. */
		bool only_blanks = pd.charset != NULL;
		for (const char *t = text; t < eq && only_blanks; t++)
			if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n')
				only_blanks = false;
		if (!only_blanks || !same_charset(&pd, &w)) {
			flags |= flush(cv, &pd, out);
			if (!only_blanks)
				charset_word_to_utf8(cv, raw_cs, strlen(raw_cs),
				                     text, (size_t)(eq - text),
				                     out);
		}
		if (w.spaces)
			flags |= RFC2047_MALFORMED;
		pd.charset = w.charset;
		pd.charset_len = w.charset_len;
		flags |= decode_word(&w, &pd);
		p = text = w.end;
	}
	flags |= flush(cv, &pd, out);
	charset_word_to_utf8(cv, raw_cs, strlen(raw_cs), text,
	                     (size_t)(end - text), out);
	return flags;
}

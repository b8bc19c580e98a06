/* addr.c — see addr.h. */
#include "addr.h"

#include <string.h>

#include "rfc2047.h"

struct lexer {
	const char *p, *end;
	struct arena *a;
	bool ok;
	const char *comment; /* last comment seen (without parens) */
	size_t comment_len;
};

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '@' ||
	       c == ',' || c == ';' || c == ':' || c == '\\' || c == '"' ||
	       c == '[' || c == ']';
}

static void skip_cfws(struct lexer *lx)
{
	while (lx->p < lx->end) {
		if (is_wsp(*lx->p)) {
			lx->p++;
			continue;
		}
		if (*lx->p != '(')
			return;
		int depth = 0;
		const char *start = lx->p + 1;
		while (lx->p < lx->end) {
			char c = *lx->p;
			if (c == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
			lx->p++;
		}
		if (lx->p >= lx->end) {
			lx->ok = false; /* unclosed comment */
			lx->comment = start;
			lx->comment_len = (size_t)(lx->end - start);
			return;
		}
		lx->comment = start;
		lx->comment_len = (size_t)(lx->p - start);
		lx->p++;
	}
}

/* Append a quoted string's content (escapes resolved). */
static void quoted(struct lexer *lx, struct arena_buf *b)
{
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		if (*lx->p != '\r' && *lx->p != '\n')
			arena_buf_putc(b, *lx->p);
		lx->p++;
	}
	if (lx->p < lx->end)
		lx->p++;
	else
		lx->ok = false;
}

/* An atom (dots allowed, as obsolete phrases and local parts use). */
static void atom(struct lexer *lx, struct arena_buf *b)
{
	while (lx->p < lx->end && !is_wsp(*lx->p) && !is_special(*lx->p)) {
		arena_buf_putc(b, *lx->p);
		lx->p++;
	}
}

static struct msg_text text_of(struct arena *a, const char *s, size_t n)
{
	char *d = arena_strndup(a, s ? s : "", s ? n : 0);
	return (struct msg_text){ d ? d : "", d ? n : 0 };
}

static struct msg_text lower_text(struct arena *a, const char *s, size_t n)
{
	struct msg_text t = text_of(a, s, n);
	char *d = (char *)t.ptr;
	for (size_t i = 0; i < t.len; i++)
		if (d[i] >= 'A' && d[i] <= 'Z')
			d[i] = (char)(d[i] + 32);
	return t;
}

static struct msg_text decoded(struct arena *a, struct charset_conv *cv,
                               const char *s, size_t n)
{
	if (n == 0)
		return text_of(a, "", 0);
	struct arena_buf b;
	arena_buf_init(&b, a);
	rfc2047_decode(cv, s, n, &b);
	return (struct msg_text){ arena_buf_finish(&b), b.failed ? 0 : b.len };
}

/* Domain after '@': dot-atom or [literal], lower-cased. */
static struct msg_text domain(struct lexer *lx)
{
	struct arena_buf b;
	arena_buf_init(&b, lx->a);
	skip_cfws(lx);
	if (lx->p < lx->end && *lx->p == '[') {
		const char *e = memchr(lx->p, ']', (size_t)(lx->end - lx->p));
		const char *stop = e ? e + 1 : lx->end;
		arena_buf_put(&b, lx->p, (size_t)(stop - lx->p));
		lx->p = stop;
		if (e == NULL)
			lx->ok = false;
	} else {
		for (;;) {
			atom(lx, &b);
			skip_cfws(lx);
			if (lx->p < lx->end && *lx->p == '.') {
				arena_buf_putc(&b, '.');
				lx->p++;
				continue;
			}
			break;
		}
	}
	if (b.len == 0)
		lx->ok = false;
	return lower_text(lx->a, b.p, b.len);
}

struct mbox_state {
	struct arena_buf phrase; /* display words joined by one space */
	struct arena_buf local;  /* words as local part (no spaces) */
	bool any;
};

static void add_word(struct mbox_state *st, const char *w, size_t n)
{
	if (st->phrase.len > 0)
		arena_buf_putc(&st->phrase, ' ');
	arena_buf_put(&st->phrase, w, n);
	arena_buf_put(&st->local, w, n);
	st->any = true;
}

/* <[@route,@route:]local@domain> */
static void angle(struct lexer *lx, struct msg_addr *ad)
{
	lx->p++;
	skip_cfws(lx);
	if (lx->p < lx->end && *lx->p == '@') {
		const char *colon = memchr(lx->p, ':', (size_t)(lx->end - lx->p));
		const char *gt = memchr(lx->p, '>', (size_t)(lx->end - lx->p));
		if (colon != NULL && (gt == NULL || colon < gt))
			lx->p = colon + 1;
	}
	struct arena_buf lp;
	arena_buf_init(&lp, lx->a);
	for (;;) {
		skip_cfws(lx);
		if (lx->p >= lx->end)
			break;
		char c = *lx->p;
		if (c == '"')
			quoted(lx, &lp);
		else if (c == '.') {
			arena_buf_putc(&lp, '.');
			lx->p++;
		} else if (!is_special(c))
			atom(lx, &lp);
		else
			break;
	}
	ad->local = text_of(lx->a, lp.p, lp.len);
	if (lx->p < lx->end && *lx->p == '@') {
		lx->p++;
		ad->domain = domain(lx);
	} else if (ad->local.len > 0) {
		lx->ok = false; /* no domain */
	}
	skip_cfws(lx);
	if (lx->p < lx->end && *lx->p == '>')
		lx->p++;
	else
		lx->ok = false;
}

/* One mailbox, or a group start; returns false at a group start. */
static bool mailbox(struct lexer *lx, struct charset_conv *cv,
                    struct msg_addr *ad, bool *have)
{
	struct mbox_state st;
	arena_buf_init(&st.phrase, lx->a);
	arena_buf_init(&st.local, lx->a);
	st.any = false;
	*have = false;
	lx->comment = NULL;
	for (;;) {
		skip_cfws(lx);
		if (lx->p >= lx->end)
			break;
		char c = *lx->p;
		if (c == '"') {
			struct arena_buf q;
			arena_buf_init(&q, lx->a);
			quoted(lx, &q);
			add_word(&st, q.p ? q.p : "", q.len);
		} else if (c == '<') {
			ad->display = decoded(lx->a, cv, st.phrase.p, st.phrase.len);
			ad->display_raw = text_of(lx->a, st.phrase.p,
			                          st.phrase.len);
			angle(lx, ad);
			*have = true;
			break;
		} else if (c == ':') {
			lx->p++;
			ad->group = decoded(lx->a, cv, st.phrase.p, st.phrase.len);
			return false;
		} else if (c == '@' && st.any) {
			lx->p++;
			ad->local = text_of(lx->a, st.local.p, st.local.len);
			ad->domain = domain(lx);
			skip_cfws(lx);
			if (lx->comment != NULL) {
				ad->display = decoded(lx->a, cv, lx->comment,
				                      lx->comment_len);
				ad->display_raw = text_of(lx->a, lx->comment,
				                          lx->comment_len);
			}
			*have = true;
			break;
		} else if (c == ',' || c == ';') {
			if (st.any) {
				/* A bare word: a local part without domain. */
				ad->local = text_of(lx->a, st.local.p, st.local.len);
				lx->ok = false;
				*have = true;
			}
			break;
		} else if (c == '.') {
			arena_buf_putc(&st.local, '.');
			arena_buf_putc(&st.phrase, '.');
			lx->p++;
		} else if (is_special(c)) {
			lx->ok = false; /* stray '>', ')', '@', ... */
			lx->p++;
		} else {
			struct arena_buf tmp;
			arena_buf_init(&tmp, lx->a);
			atom(lx, &tmp);
			/* Dots were appended above; join words of a local
			 * part without the phrase's blanks. */
			if (st.phrase.len > 0 &&
			    st.phrase.p[st.phrase.len - 1] == '.') {
				arena_buf_put(&st.phrase, tmp.p, tmp.len);
				arena_buf_put(&st.local, tmp.p, tmp.len);
				st.any = true;
			} else {
				add_word(&st, tmp.p ? tmp.p : "", tmp.len);
			}
		}
	}
	if (!*have && st.any) {
		ad->local = text_of(lx->a, st.local.p, st.local.len);
		lx->ok = false;
		*have = true;
	}
	return true;
}

bool addr_parse(struct arena *a, struct charset_conv *cv, const char *value,
                size_t len, size_t max, struct msg_addr **out, size_t *count,
                bool *cut)
{
	size_t n = 0;
	*cut = false;
	struct lexer lx = { value, value + len, a, true, NULL, 0 };
	struct arena_buf list;
	arena_buf_init(&list, a);
	struct msg_text group = { "", 0 };
	for (unsigned guard = 0; lx.p < lx.end && guard < 10000; guard++) {
		skip_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ',') {
			lx.p++;
			continue;
		}
		if (*lx.p == ';') {
			group = (struct msg_text){ "", 0 };
			lx.p++;
			continue;
		}
		struct msg_addr ad;
		struct msg_text none = { "", 0 };
		ad.display = ad.display_raw = ad.local = ad.domain = ad.group =
			none;
		bool have;
		const char *before = lx.p;
		if (!mailbox(&lx, cv, &ad, &have)) {
			group = ad.group;
			continue;
		}
		if (have && n == max) {
			*cut = true;
			break;
		}
		if (have) {
			ad.group = group;
			arena_buf_put(&list, &ad, sizeof ad);
			n++;
		}
		if (lx.p == before)
			lx.p++; /* always make progress */
	}
	*count = list.failed ? 0 : list.len / sizeof(struct msg_addr);
	*out = *count ? (struct msg_addr *)list.p : NULL;
	return lx.ok;
}

/*
 * sa_mime.c — SpamAssassin eval (saeval.h): MIMEEval. The MIME
 * structure facts of a message (what SpamAssassin's _check_attachments()
 * and _check_mime_header() find, cached) and the MIMEEval functions,
 * check_for_uppercase included.
 */
#include "saeval_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "strbuf.h"

/* ---- MIME structure (MIMEEval) ---- */

/* The last Content-Transfer-Encoding and Content-Disposition headers
 * of part i (NULL if absent), as get_header() in scalar context gives
 * them to MIMEEval, in one pass over its headers. */
static void part_cte_cd(const struct msg *m, size_t i,
                        const struct msg_header **cte,
                        const struct msg_header **cd)
{
	*cte = *cd = NULL;
	size_t n = msg_part_header_count(m, i);
	for (size_t k = 0; k < n; k++) {
		const struct msg_header *h = msg_part_header_at(m, i, k);
		if (h == NULL || tolower((unsigned char)h->name.ptr[0]) != 'c')
			continue;
		if (strcasecmp(h->name.ptr, "Content-Transfer-Encoding") == 0)
			*cte = h;
		else if (strcasecmp(h->name.ptr, "Content-Disposition") == 0)
			*cd = h;
	}
}

/* Header h's value lower-cased into b ("" if h is NULL). */
static void header_lc(const struct msg_header *h, struct strbuf *b)
{
	b->len = 0;
	if (h != NULL) {
		/* copied, then lower-cased in place: one append, not one a byte */
		strbuf_put(b, h->value.ptr, h->value.len);
		if (!b->oom)
			for (size_t k = 0; k < b->len; k++)
				b->p[k] = (char)tolower((unsigned char)b->p[k]);
	}
	saeval_buf_str(b);
}

/* Which parts have a child (a later part naming them as parent): leaves
 * are the others. One pass instead of one per part. NULL: no memory. */
static bool *parts_with_child(const struct msg *m)
{
	size_t n = msg_part_count(m);
	bool *has = calloc(n ? n : 1, sizeof *has);
	if (has == NULL)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		size_t parent = msg_part_at(m, k)->parent;
		if (parent < k)
			has[parent] = true;
	}
	return has;
}

/* Quoted-printable lines: long ones, and characters encoded that need
 * not be (=09, =20.., letters, digits), less trailing =20/=09 runs. */
static void qp_lines(struct msg_text b, struct mime_facts *f)
{
	const char *q = b.ptr, *end = b.ptr + b.len;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - q);
		if (len && le[-1] == '\r' && nl)
			len--;             /* read as SpamAssassin reads a file */
		const char *line = q;
		q = nl ? nl + 1 : end;
		if (len >= 6 && memcmp(line, "SPAM: ", 6) == 0)
			continue;
		size_t full = len + (nl != NULL);
		if (full > 79)
			f->qp_long_line = true;
		f->qp_bytes += full;
		size_t excess = 0;
		for (size_t k = 0; k + 2 < len; k++) {
			if (line[k] != '=')
				continue;
			char h = line[k + 1], l = line[k + 2];
			bool hexl = (l >= '0' && l <= '9') || (l >= 'A' && l <= 'F');
			if ((h == '0' && l == '9') ||
			    (h == '3' && hexl && l != 'D') ||
			    ((h == '2' || h == '4' || h == '5' || h == '6') && hexl) ||
			    (h == '7' && hexl && l != 'F')) {
				excess++;
				k += 2;
			}
		}
		if (excess) {
			/* less a run of =09/=20 at the end (blanks may follow) */
			size_t e = len;
			while (e && isspace((unsigned char)line[e - 1]))
				e--;
			size_t run = 0;
			while (e >= 3 && line[e - 3] == '=' &&
			       ((line[e - 2] == '0' && line[e - 1] == '9') ||
			        (line[e - 2] == '2' && line[e - 1] == '0'))) {
				run++;
				e -= 3;
			}
			excess -= run < excess ? run : excess;
		}
		f->qp_excess += excess;
	}
}

/* Has word w a zero byte? (The classic test: exact for "any".) */
static bool zero_byte(uint64_t w)
{
	return ((w - ONES8) & ~w & HIGH8) != 0;
}

/* NUL, CR (other than in CRLF) or 8-bit bytes in raw part text. */
static bool ascii_illegal(struct msg_text b)
{
	for (size_t i = 0; i < b.len;) {
		/* skip eight bytes at once when none is NUL, CR or 8-bit */
		if (i + 8 <= b.len) {
			uint64_t w = saeval_load8(b.ptr + i);
			if (!(w & HIGH8) && !zero_byte(w) &&
			    !zero_byte(w ^ (ONES8 * '\r'))) {
				i += 8;
				continue;
			}
		}
		unsigned char c = (unsigned char)b.ptr[i];
		if (c == 0 || c >= 0x80 ||
		    (c == '\r' && !(i + 1 < b.len && b.ptr[i + 1] == '\n')))
			return true;
		i++;
	}
	return false;
}

/* The "&#xHHHH;" escapes (upper-case hex, as MIMEEval.pm counts them) of
 * raw part text: added to *escapes, the other bytes to *bytes. */
static void unicode_escapes(struct msg_text b, size_t *bytes,
                            size_t *escapes)
{
	size_t n = 0;
	for (const char *q = b.ptr, *end = b.ptr + b.len;
	     (q = memchr(q, '&', (size_t)(end - q))) != NULL; q++) {
		bool esc = end - q >= 8 && q[1] == '#' && q[2] == 'x' && q[7] == ';';
		for (int k = 3; esc && k < 7; k++)
			esc = isdigit((unsigned char)q[k]) || (q[k] >= 'A' && q[k] <= 'F');
		if (esc) {
			n++;
			q += 7;
		}
	}
	*escapes += n;
	*bytes += b.len - 8 * n;
}

/* Longest line, its LF counted, CRLF as LF. */
static void longest_line(struct msg_text b, size_t *max)
{
	const char *q = b.ptr, *end = b.ptr + b.len;
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t len = (size_t)((nl ? nl : end) - q);
		if (nl && len && nl[-1] == '\r')
			len--;
		len += nl != NULL;
		if (len > *max)
			*max = len;
		q = nl ? nl + 1 : end;
	}
}

/* ImageInfo's image types: 0 gif, 1 png, 2 jpeg (or jpg), -1 other. */
static int image_kind(const char *type)
{
	if (strncmp(type, "image/", 6) != 0)
		return -1;
	type += 6;
	return strcmp(type, "gif") == 0 ? 0 : strcmp(type, "png") == 0 ? 1 :
	       strcmp(type, "jpeg") == 0 || strcmp(type, "jpg") == 0 ? 2 : -1;
}

/* Has text other than blanks and dots (SpamAssassin's epilogue test)? */
static bool has_epilogue(struct msg_text t)
{
	for (size_t i = 0; i < t.len; i++)
		if (!isspace((unsigned char)t.ptr[i]) && t.ptr[i] != '.')
			return true;
	return false;
}

/* Does part text start with a header field name and its colon
 * (Message.pm's /^[\041-\071\073-\176]+:/)? */
static bool starts_with_field(struct msg_text t)
{
	size_t i = 0;
	while (i < t.len && t.ptr[i] >= 041 && t.ptr[i] <= 0176 &&
	       t.ptr[i] != ':')
		i++;
	return i > 0 && i < t.len && t.ptr[i] == ':';
}

/* MIMEEval's multipart ratio, leaf by leaf: once a multipart/alternative
 * was met (parts in tree order), the raw bytes of text/plain and
 * text/html leaves that are no attachment; the last of each kind
 * decide. */
struct mpart_sizes {
	bool alternative;
	double text, html;
	bool have_text, have_html;
};

static void mpart_leaf(struct mpart_sizes *s, const char *type,
                       const char *cd, struct msg_text body)
{
	if (strstr(cd, "attachment") != NULL)
		return;
	bool plain = strcmp(type, "text/plain") == 0;
	bool html = strcmp(type, "text/html") == 0;
	double bytes = s->alternative && (plain || html) ? (double)body.len : 0;
	if (plain) {
		s->text = bytes;
		s->have_text = true;
	} else if (html) {
		s->html = bytes;
		s->have_html = true;
	}
}

static unsigned long be16(const unsigned char *p)
{
	return (unsigned long)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	       (unsigned long)p[2] << 8 | p[3];
}

/* A GIF's logical screen size. */
static void gif_size(const unsigned char *d, size_t n, unsigned long *w,
                     unsigned long *h)
{
	if (n >= 10 && (memcmp(d, "GIF87a", 6) == 0 ||
	                memcmp(d, "GIF89a", 6) == 0)) {
		*w = d[6] | (unsigned long)d[7] << 8;
		*h = d[8] | (unsigned long)d[9] << 8;
	}
}

/* A PNG's IHDR size, looked for as ImageInfo.pm does: chunk headers read
 * eight bytes apart from the signature on (a chunk's data is not
 * skipped, so only an IHDR first is found, as it must be), up to IEND. */
static void png_size(const unsigned char *d, size_t n, unsigned long *w,
                     unsigned long *h)
{
	if (n < 8 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0)
		return;
	for (size_t pos = 8; pos + 8 <= n; pos += 8) {
		if (memcmp(d + pos + 4, "IEND", 4) == 0)
			return;
		if (memcmp(d + pos + 4, "IHDR", 4) == 0 && be32(d + pos) == 13) {
			if (pos + 16 <= n) {
				*w = be32(d + pos + 8);
				*h = be32(d + pos + 12);
			}
			return;
		}
	}
}

/* A JPEG's size from its first start-of-frame segment, the segments
 * before it skipped by their lengths (up to the scan or the end). */
static void jpeg_size(const unsigned char *d, size_t n, unsigned long *w,
                      unsigned long *h)
{
	if (n < 2 || d[0] != 0xFF || d[1] != 0xD8)
		return;
	for (size_t pos = 2; pos + 4 <= n;) {
		unsigned mark = d[pos + 1];
		size_t len = be16(d + pos + 2);
		if (d[pos] != 0xFF || mark == 0xDA || mark == 0xD9 || len < 2)
			return;
		pos += 4;
		size_t blen = len - 2 < n - pos ? len - 2 : n - pos;
		bool sof = (mark >= 0xC0 && mark <= 0xC3) ||
		           (mark >= 0xC5 && mark <= 0xC7) ||
		           (mark >= 0xC9 && mark <= 0xCB) ||
		           (mark >= 0xCD && mark <= 0xCF);
		if (sof) {
			if (blen >= 5) {
				*h = be16(d + pos + 1);
				*w = be16(d + pos + 3);
			}
			return;
		}
		pos += blen;
	}
}

/* ImageInfo's facts of one image part of kind (0 gif, 1 png, 2 jpeg):
 * its area added, its size kept. */
static void image_facts(struct mime_facts *f, int kind, struct msg_text d)
{
	static void (*const size[3])(const unsigned char *, size_t,
	                             unsigned long *, unsigned long *) = {
		gif_size, png_size, jpeg_size,
	};
	unsigned long w = 0, h = 0;
	size[kind]((const unsigned char *)d.ptr, d.len, &w, &h);
	if (w == 0 || h == 0)
		return;
	f->pixels[kind] += (double)w * (double)h;
	if (f->ndims < sizeof f->dims / sizeof f->dims[0])
		f->dims[f->ndims++] = (struct image_dim){ kind, h, w };
}

/* The type _check_attachments() reads for part i: its own Content-Type
 * header parsed again, text/plain without one. That differs from the
 * part's type only for a part of a multipart/digest without a
 * Content-Type, which is message/rfc822 to the parser (RFC 2046) but
 * text/plain to MIMEEval. */
static const char *eval_type(const struct msg *m, size_t i)
{
	const struct msg_part *p = msg_part_at(m, i);
	const struct msg_part *pp = p->parent < i ?
	                            msg_part_at(m, p->parent) : NULL;
	if (pp != NULL && strcmp(pp->type.ptr, "multipart/digest") == 0 &&
	    msg_part_header_get(m, i, "Content-Type", 0) == NULL)
		return "text/plain";
	return p->type.ptr;
}

static bool mime_facts(const struct msg *m, struct mime_facts *f)
{
	memset(f, 0, sizeof *f);
	struct strbuf cte = { 0 }, cd = { 0 };
	struct mpart_sizes mp = { 0 };
	bool *has_child = parts_with_child(m);
	if (has_child == NULL)
		return false;
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		const struct msg_header *hcte, *hcd;
		part_cte_cd(m, i, &hcte, &hcd);
		header_lc(hcte, &cte);
		header_lc(hcd, &cd);
		if (cte.oom || cd.oom)
			break;
		const char *type = eval_type(m, i), *cs = p->charset.ptr;
		bool text = strncmp(type, "text", 4) == 0;
		bool multi = strncmp(type, "multipart/", 10) == 0;
		if (strcmp(type, "multipart/alternative") == 0)
			mp.alternative = true;
		if (multi && has_child[i] && has_epilogue(p->epilogue))
			f->epilogue = true;
		/* (an empty part: the delimiter line is followed by another;
		 * a part starting where its multipart's body does follows no
		 * delimiter: the text before a lone close one) */
		const struct msg_part *pp = p->parent < i ?
		                            msg_part_at(m, p->parent) : NULL;
		if (pp != NULL && strncmp(pp->type.ptr, "multipart/", 10) == 0 &&
		    p->raw.ptr != pp->body.ptr && !starts_with_field(p->raw))
			f->missing_headers = true;
		if (strcmp(type, "text/html") == 0)
			f->html++;
		else if (strncasecmp(type, "text", 4) == 0)
			f->text++;
		bool b64 = strstr(cte.p, "base64") != NULL;
		if (b64)
			f->base64++;
		else if (strstr(cte.p, "quoted-printable") != NULL)
			f->qp++;
		if (strstr(cd.p, "attachment") != NULL)
			f->attachment++;
		if (text && b64 &&
		    (cs[0] == '\0' || saeval_re_str(RE_ASCII_CHARSET, cs)) &&
		    strncmp(cd.p, "attachment", 10) != 0 &&
		    strncmp(cd.p, "inline", 6) != 0)
			f->base64_text = true;
		if (saeval_re_str(RE_BAD_ISO1, cs) &&
		    !saeval_re_str(RE_BAD_ISO2, cs))
			f->bad_iso = true;
		if (has_child[i])
			continue;
		mpart_leaf(&mp, type, cd.p, p->body);
		if (strcmp(cte.p, "quoted-printable") == 0)
			qp_lines(p->body, f);
		/* (charset="" is declared: not checked) */
		if (strcmp(type, "text/plain") == 0 &&
		    (!p->charset_given || strcmp(cs, "us-ascii") == 0) &&
		    ascii_illegal(p->body))
			f->ascii_illegal = true;
		if (strcmp(type, "text/plain") == 0 &&
		    (cte.p[0] == '\0' || strcmp(cte.p, "7bit") == 0 ||
		     strcmp(cte.p, "8bit") == 0))
			unicode_escapes(p->body, &f->plain_bytes,
			                &f->unicode_escapes);
		int img = image_kind(type);
		if (img >= 0 && strcmp(cte.p, "base64") == 0) {
			f->images[img]++;
			image_facts(f, img, p->decoded);
		}
		if (strcmp(cte.p, "base64") == 0 &&
		    strcmp(type, "application/ics") != 0)
			longest_line(p->body, &f->b64_line);
	}
	f->mpart_ratio = mp.alternative && mp.have_text && mp.have_html &&
	                 mp.html > 0 ? mp.text / mp.html : 1.0;
	/* SpamAssassin then counts only needless encodings */
	if (f->qp_bytes)
		f->qp = f->qp_excess;
	bool ok = !cte.oom && !cd.oom;
	free(has_child);
	free(cte.p);
	free(cd.p);
	return ok;
}

static bool top_is_html(const struct saeval_ctx *x)
{
	const struct msg_header *h = saeval_hdr_first(x, "Content-Type");
	return h != NULL && strncasecmp(h->decoded.ptr, "text/html", 9) == 0;
}

/* mime_facts() of x's message, worked out once per cache. */
static bool get_mime(const struct saeval_ctx *x, struct mime_facts *f)
{
	struct saeval_cache *k = x->cache;
	if (k == NULL)
		return mime_facts(x->m, f);
	if (!k->mime_done) {
		k->mime_ok = mime_facts(x->m, &k->mime);
		k->mime_done = true;
	}
	*f = k->mime;
	return k->mime_ok;
}

bool saeval_ev_mime_html(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return top_is_html(x) || (get_mime(x, &f) && f.html > 0);
}

bool saeval_ev_mime_html_only(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return top_is_html(x) ||
	       (get_mime(x, &f) && f.html > 0 && f.text == 0);
}

static const char *const mime_tests[] = {
	"mime_base64_count", "mime_qp_count", "mime_attachment",
	"mime_base64_encoded_text", "mime_bad_iso_charset", "mime_qp_long_line",
	"mimepart_limit_exceeded", "mime_faraway_charset",
};

bool saeval_ok_mime(const struct saeval_call *c)
{
	for (size_t i = 0; i < sizeof mime_tests / sizeof mime_tests[0]; i++)
		if (c->nargs >= 1 && strcmp(c->args[0], mime_tests[i]) == 0)
			return true;
	return false;
}

/* mime_faraway_charset: a part's charset (as parse_content_type() reads
 * it, with a letter) the site's locales do not accept (_check_mime_header,
 * every part, multiparts too). */
static bool mime_faraway(const struct saeval_call *c, const struct msg *m)
{
	for (size_t i = 0; c->loc != NULL && i < msg_part_count(m); i++) {
		struct msg_text cs = msg_part_at(m, i)->charset;
		bool letter = false;
		for (size_t k = 0; k < cs.len; k++)
			letter |= isalpha((unsigned char)cs.ptr[k]) != 0;
		if (letter && !saeval_charset_ok(c->loc, cs.ptr, cs.len))
			return true;
	}
	return false;
}

/* get_charset_from_ct_line(): the first charset="..." of s, else the
 * first charset='...', else the first charset=WORD (any case). */
static bool ct_line_charset(const char *s, size_t n, const char **cs,
                            size_t *csn)
{
	static const char quotes[] = { '"', '\'', '\0' };
	for (size_t q = 0; q < sizeof quotes; q++) {
		for (size_t i = 0; i + 8 < n; i++) {
			if (strncasecmp(s + i, "charset=", 8) != 0)
				continue;
			size_t a = i + 8 + (quotes[q] != '\0'), b = a;
			if (quotes[q] != '\0' && s[i + 8] != quotes[q])
				continue;
			while (b < n && (quotes[q] != '\0' ? s[b] != quotes[q] :
			                 !isspace((unsigned char)s[b])))
				b++;
			if (b > a && (quotes[q] == '\0' || b < n)) {
				*cs = s + a;
				*csn = b - a;
				return true;
			}
		}
	}
	return false;
}

/* The charset of the message's Content-Type, as MIMEEval.pm's
 * get_charset_from_ct_line($pms->get('Content-Type')) finds it (every
 * top-level field, decoded and joined), into b (the caller frees b->p);
 * false when there is none. */
static bool top_ct_charset(const struct saeval_ctx *x, struct strbuf *b,
                           const char **cs, size_t *csn)
{
	return saeval_get_header(x, "Content-Type", false, b) && !b->oom &&
	       ct_line_charset(b->p, b->len, cs, csn);
}

/* check_for_faraway_charset(): the top Content-Type's charset is one
 * the site's locales do not accept, and the body text (its paragraphs
 * joined by "\n") holds at least as many bytes over 0x7F as others, and
 * more than 3 (MIMEEval.pm, are_more_high_bits_set()). */
bool saeval_ev_faraway_charset(const struct saeval_call *c,
                               const struct saeval_ctx *x)
{
	if (c->loc == NULL)
		return false;
	struct strbuf b = { 0 };
	const char *cs;
	size_t csn;
	bool far = top_ct_charset(x, &b, &cs, &csn) &&
	           !saeval_charset_ok(c->loc, cs, csn);
	free(b.p);
	if (!far)
		return false;
	size_t hi = 0, all = 0;
	for (size_t i = 0; i < saeval_body_count(x); i++) {
		struct msg_text t = saeval_body_at(x, i);
		all += t.len + (i > 0);
		for (size_t k = 0; k < t.len; k++)
			hi += (unsigned char)t.ptr[k] >= 0x80;
	}
	return all - hi <= hi && hi > 3;
}

bool saeval_ev_mime(const struct saeval_call *c, const struct saeval_ctx *x)
{
	const char *t = c->args[0];
	/* SpamAssassin 4.0.1 notes the 1000-part limit on the message and
	 * looks for it in the scan's state, where it never is: no hit */
	if (strcmp(t, "mimepart_limit_exceeded") == 0)
		return false;
	if (strcmp(t, "mime_faraway_charset") == 0)
		return mime_faraway(c, x->m);
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	if (strcmp(t, "mime_base64_count") == 0)
		return f.base64 > 0;
	if (strcmp(t, "mime_qp_count") == 0)
		return f.qp > 0;
	if (strcmp(t, "mime_attachment") == 0)
		return f.attachment > 0;
	if (strcmp(t, "mime_base64_encoded_text") == 0)
		return f.base64_text;
	if (strcmp(t, "mime_qp_long_line") == 0)
		return f.qp_long_line;
	return f.bad_iso;
}

/* check_mime_multipart_ratio(min, max): mpart_sizes' ratio (1 without
 * a multipart/alternative) in [min, max). */
bool saeval_ev_mime_multipart_ratio(const struct saeval_call *c,
                                    const struct saeval_ctx *x)
{
	struct mime_facts f;
	return get_mime(x, &f) && f.mpart_ratio >= c->num[0] &&
	       f.mpart_ratio < c->num[1];
}

/* check_ma_non_text(): a multipart/alternative has a child that is a
 * leaf of another type than text/... and application/rtf (MIMEEval.pm:
 * the direct leaves, a nested multipart is not looked into). */
bool saeval_ev_ma_non_text(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	(void)c;
	const struct msg *m = x->m;
	bool *has_child = parts_with_child(m);
	bool hit = false;
	for (size_t i = 1; has_child != NULL && !hit &&
	     i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		const char *t = p->type.ptr;
		hit = p->parent < i && !has_child[i] &&
		      strcasecmp(msg_part_at(m, p->parent)->type.ptr,
		                 "multipart/alternative") == 0 &&
		      strcasecmp(t, "application/rtf") != 0 &&
		      strncasecmp(t, "text/", 5) != 0;
	}
	free(has_child);
	return hit;
}

/* check_msg_parse_flags(FLAG): what Message.pm noted parsing the
 * message: the MIME ones, truncated_header (a field of the message's
 * header cut, MSG_F_LONG_HEADER; SpamAssassin also sets it when ALL is
 * cut at 64 KiB, depending on which rule asked first: not followed) and
 * missing_head_body_separator (the message's header section not ended
 * by a blank line). */
bool saeval_ok_parse_flags(const struct saeval_call *c)
{
	return c->nargs >= 1 &&
	       (strcmp(c->args[0], "mime_epilogue_exists") == 0 ||
	        strcmp(c->args[0], "missing_mime_headers") == 0 ||
	        strcmp(c->args[0], "missing_mime_head_body_separator") == 0 ||
	        strcmp(c->args[0], "truncated_header") == 0 ||
	        strcmp(c->args[0], "missing_head_body_separator") == 0);
}

bool saeval_ev_parse_flags(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	uint64_t top = msg_part_count(x->m) ? msg_part_at(x->m, 0)->flags : 0;
	if (strcmp(c->args[0], "missing_mime_head_body_separator") == 0)
		return (msg_flags(x->m) & MSG_F_NO_PART_BODY_SEP) != 0;
	if (strcmp(c->args[0], "truncated_header") == 0)
		return (top & MSG_F_LONG_HEADER) != 0;
	if (strcmp(c->args[0], "missing_head_body_separator") == 0)
		return (top & MSG_F_NO_BODY_SEP) != 0;
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	return strcmp(c->args[0], "mime_epilogue_exists") == 0 ?
	       f.epilogue : f.missing_headers;
}

/* PCRE2's \s (no UCP, default tables): HT, LF, VT, FF, CR, space. */
static bool re_space(unsigned char c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

/* A part's charset with a letter joins mime_html_charsets, which
 * body_charset_is_likely_to_fp() splits on blanks (a charset may have
 * some: "gb2312 (chinese)"): whether one of its words is such a
 * charset. */
static bool caps_charset_words(const struct msg_text *cs)
{
	bool letter = false;
	for (size_t k = 0; k < cs->len; k++)
		letter |= isalpha((unsigned char)cs->ptr[k]) != 0;
	for (size_t k = 0; letter && k < cs->len;) {
		size_t w = k;
		while (w < cs->len && !re_space((unsigned char)cs->ptr[w]))
			w++;
		if (w > k && saeval_re_find(RE_CAPS_CHARSET_ALL, cs->ptr + k,
		                            w - k, NULL, 0))
			return true;
		k = w + 1;
	}
	return false;
}

/* SpamAssassin's body_charset_is_likely_to_fp(): the top Content-Type's
 * charset or any part's is one where capitals say nothing. */
static bool charset_fp_as_caps(const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	struct strbuf b = { 0 };
	const char *cs;
	size_t csn;
	bool fp = top_ct_charset(x, &b, &cs, &csn) &&
	          saeval_re_find(RE_CAPS_CHARSET_ALL, cs, csn, NULL, 0);
	free(b.p);
	if (fp)
		return true;
	for (size_t i = 0; i < msg_part_count(m); i++)
		if (caps_charset_words(&msg_part_at(m, i)->charset))
			return true;
	return false;
}

/* Percentage of capitals among letters and digits of the body lines
 * with an inner blank (SpamAssassin's check_for_uppercase). */
/* SpamAssassin's /\S\s+\S/ without a regex call: a blank run with
 * something else on both sides. */
static bool uc_words(const char *s, size_t n)
{
	bool text = false, blank_after_text = false;
	for (size_t i = 0; i < n; i++) {
		if (re_space((unsigned char)s[i])) {
			blank_after_text = text;
		} else {
			if (blank_after_text)
				return true;
			text = true;
		}
	}
	return false;
}

/* SpamAssassin's /^(?:[A-Za-z0-9+\/=]{60,76} ){2}/: twice a run of 60
 * to 76 such characters and a space (a longer run cannot give back
 * characters: the space does not match them). */
static bool b64_char(unsigned char c)
{
	return (unsigned char)(c - 'a') <= 'z' - 'a' ||
	       (unsigned char)(c - 'A') <= 'Z' - 'A' ||
	       (unsigned char)(c - '0') <= 9 || c == '+' || c == '/' || c == '=';
}

static bool uc_base64(const char *s, size_t n)
{
	size_t i = 0;
	for (int k = 0; k < 2; k++) {
		size_t run = 0;
		while (i + run < n && b64_char((unsigned char)s[i + run]))
			run++;
		if (run < 60 || run > 76 || i + run >= n || s[i + run] != ' ')
			return false;
		i += run + 1;
	}
	return true;
}

/* memmem(s, n, "\x1b$B", 3): ESC is rare, memchr finds the candidates. */
static const char *find_esc_dollar_b(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while ((p = memchr(p, '\x1b', (size_t)(end - p))) != NULL) {
		if (end - p >= 3 && p[1] == '$' && p[2] == 'B')
			return p;
		p++;
	}
	return NULL;
}

/* Letters and digits of s[0..n): a-z and 0-9 as lower, A-Z as upper. */
static void count_case(const char *s, size_t n, size_t *lower, size_t *upper)
{
	size_t lo = 0, up = 0, k = 0;
	for (; k + 8 <= n; k += 8) {   /* eight bytes at a time */
		uint64_t w = saeval_load8(s + k);
		uint64_t ascii = ~w & HIGH8, v = w & ~HIGH8;
		lo += saeval_high_bits8((saeval_in_range8(v, 'a', 'z') |
		                         saeval_in_range8(v, '0', '9')) &
		                        ascii);
		up += saeval_high_bits8(saeval_in_range8(v, 'A', 'Z') & ascii);
	}
	for (; k < n; k++) {
		unsigned char ch = (unsigned char)s[k];
		lo += (unsigned char)(ch - 'a') <= 'z' - 'a' ||
		      (unsigned char)(ch - '0') <= 9;
		up += (unsigned char)(ch - 'A') <= 'Z' - 'A';
	}
	*lower += lo;
	*upper += up;
}

static double uppercase_pct(const struct saeval_ctx *x)
{
	if (charset_fp_as_caps(x))
		return 0;
	size_t len = 0, lower = 0, upper = 0;
	for (size_t i = 0; i < saeval_body_count(x); i++) {
		struct msg_text t = saeval_body_at(x, i);
		if (!uc_words(t.ptr, t.len) || uc_base64(t.ptr, t.len))
			continue;
		/* shift-JIS escapes: ESC $ B ... ESC ( B left out */
		const char *s = t.ptr, *end = t.ptr + t.len;
		const char *a = find_esc_dollar_b(s, t.len), *b = NULL;
		for (const char *q = a; q != NULL && q + 3 <= end; q++)
			if (q[0] == '\x1b' && q[1] == '(' && q[2] == 'B' && q >= a + 3)
				b = q;
		size_t skip_from = a && b ? (size_t)(a - s) : t.len;
		size_t skip_to = a && b ? (size_t)(b + 3 - s) : t.len;
		len += t.len - (skip_to - skip_from);
		count_case(s, skip_from, &lower, &upper);
		count_case(s + skip_to, t.len - skip_to, &lower, &upper);
	}
	if (len < 200 || upper + lower == 0)
		return 0;
	return (double)upper / (double)(upper + lower) * 100;
}

bool saeval_ev_uppercase(const struct saeval_call *c,
                         const struct saeval_ctx *x)
{
	double u = saeval_cached_fact(x, FACT_UPPER, uppercase_pct);
	return u > c->num[0] && u <= c->num[1];
}

bool saeval_ev_ascii_text_illegal(const struct saeval_call *c,
                                  const struct saeval_ctx *x)
{
	(void)c;
	struct mime_facts f;
	return get_mime(x, &f) && f.ascii_illegal;
}

/* check_abundant_unicode_ratio(R): "&#xHHHH;" escapes over the other
 * bytes of the unencoded text/plain parts at least R (R as MIMEEval.pm
 * takes it: digits, '.', digits). */
bool saeval_ok_unicode_ratio(const struct saeval_call *c)
{
	if (c->nargs < 1)
		return false;
	const char *s = c->args[0];
	size_t i = strspn(s, "0123456789"), j;
	if (i > 3 || s[i] != '.')
		return false;
	j = strspn(s + i + 1, "0123456789");
	return j >= 1 && j <= 3 && s[i + 1 + j] == '\0';
}

bool saeval_ev_unicode_ratio(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct mime_facts f;
	if (!get_mime(x, &f) || f.plain_bytes == 0)
		return false;
	return (double)f.unicode_escapes / (double)f.plain_bytes >= c->num[0];
}

bool saeval_ok_base64_length(const struct saeval_call *c)
{
	return c->nargs >= 1;
}

bool saeval_ev_base64_length(const struct saeval_call *c,
                             const struct saeval_ctx *x)
{
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	double l = (double)f.b64_line;
	if (c->nargs >= 2 && l > c->num[1])
		return false;
	return l >= c->num[0];
}

/* ---- multipart/alternative difference (BodyEval) ---- */

/* A word of a rendered text: a slice, and which part kind it came from. */
struct ma_word {
	const char *p;
	size_t len;
	bool html;
};

/* The length of the whitespace at s (Perl's \s on characters, UTF-8),
 * 0 if none. */
static size_t ma_space(const unsigned char *s, const unsigned char *end)
{
	if (strchr(" \t\n\v\f\r", *s) != NULL && *s != '\0')
		return 1;
	size_t n = (size_t)(end - s);
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n >= 3 && ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
	               (s[0] == 0xe2 && s[1] == 0x80 &&
	                (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 ||
	                 s[2] == 0xaf)) ||
	               (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	               (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)))
		return 3;
	return 0;
}

/* Split t at whitespace; keep the words with a word character (ASCII
 * [0-9A-Za-z_], or any character beyond ASCII: Perl's Unicode \w, but
 * for some punctuation). false when out of memory. */
static bool ma_words(struct msg_text t, bool html, struct ma_word **w,
                     size_t *n, size_t *cap)
{
	const unsigned char *s = (const unsigned char *)t.ptr, *end = s + t.len;
	while (s < end) {
		size_t sp;
		while (s < end && (sp = ma_space(s, end)) > 0)
			s += sp;
		const unsigned char *start = s;
		bool word = false;
		while (s < end && ma_space(s, end) == 0) {
			word |= *s >= 0x80 || isalnum(*s) || *s == '_';
			s++;
		}
		if (!word)
			continue;
		if (!saeval_grow((void **)w, *n, cap, sizeof **w))
			return false;
		(*w)[(*n)++] = (struct ma_word){ (const char *)start,
		                                 (size_t)(s - start), html };
	}
	return true;
}

static int ma_cmp(const void *a, const void *b)
{
	const struct ma_word *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Exchange's meeting requests (multipart/alternative of text/html and
 * text/calendar, nothing else) are left alone, as in BodyEval.pm. */
static bool ma_meeting_request(const struct msg *m)
{
	size_t n = msg_part_count(m);
	if (n != 3 || strcmp(msg_part_at(m, 0)->type.ptr,
	                     "multipart/alternative") != 0)
		return false;
	const struct msg_part *a = msg_part_at(m, 1), *b = msg_part_at(m, 2);
	return a->depth == 1 && b->depth == 1 &&
	       strcmp(a->type.ptr, "text/html") == 0 &&
	       strcmp(b->type.ptr, "text/calendar") == 0;
}

/* One multipart/alternative part ma: its text/... descendants' words,
 * HTML against plain text (BodyEval.pm's _multipart_alternative_
 * difference). Sets the counts and raises k->madiff. */
static bool ma_part(const struct msg *m, size_t ma, struct saeval_cache *k,
                    struct ma_word **w, size_t *cap)
{
	size_t n = 0, html_words = 0;
	bool img_mark = false;
	unsigned depth = msg_part_at(m, ma)->depth;
	for (size_t i = ma + 1; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		if (p->depth <= depth)
			break;   /* past ma's descendants (parts in tree order) */
		bool plain = strcmp(p->type.ptr, "text/plain") == 0;
		if (strncmp(p->type.ptr, "text/", 5) != 0 ||
		    (!plain && !p->rendered_html))
			continue;   /* not rendered (text/calendar, ...) */
		size_t before = n;
		if (!ma_words(p->rendered, p->rendered_html, w, &n, cap))
			return false;
		if (!p->rendered_html)
			continue;
		html_words += n - before;
		/* no HTML word so far: an image stands for one */
		if (html_words == 0 && p->html_images > 0)
			img_mark = true;
	}
	if (n > 1)
		qsort(*w, n, sizeof **w, ma_cmp);
	size_t orig = img_mark, left = img_mark, texts = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i, h = 0, t = 0;
		for (; j < n && ma_cmp(&(*w)[i], &(*w)[j]) == 0; j++) {
			if ((*w)[j].html)
				h++;
			else
				t++;
		}
		orig += h > 0;
		left += h > t;
		texts += t > 0;
		i = j;
	}
	if (orig == 0)
		return true;
	k->madiff_html = (double)orig;
	k->madiff_text = (double)texts;
	double diff = (double)left / (double)orig * 100;
	if (diff > k->madiff)
		k->madiff = diff;
	return true;
}

/* The largest difference over the message's multipart/alternative parts
 * and the last one's word counts, once per message. */
static const struct saeval_cache *mpart_alt(const struct saeval_ctx *x,
                                            struct saeval_cache *own)
{
	struct saeval_cache *k = x->cache ? x->cache : own;
	if (k->madiff_done)
		return k;
	k->madiff_done = true;
	k->madiff = k->madiff_html = k->madiff_text = 0;
	const struct msg *m = x->m;
	if (ma_meeting_request(m))
		return k;
	struct ma_word *w = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < msg_part_count(m); i++)
		if (strcmp(msg_part_at(m, i)->type.ptr,
		           "multipart/alternative") == 0 &&
		    !ma_part(m, i, k, &w, &cap))
			break;
	free(w);
	return k;
}

/* multipart_alternative_difference(min, max): the difference is above
 * min (or min is 0) and at most max (or max is "undef"). */
bool saeval_ev_mpart_alt_diff(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = mpart_alt(x, &own);
	return (c->num[0] == 0 || k->madiff > c->num[0]) &&
	       (c->undef[1] || k->madiff <= c->num[1]);
}

/* multipart_alternative_difference_count(ratio, minhtml): more than
 * minhtml HTML words, and text words / HTML words above ratio. */
bool saeval_ev_mpart_alt_diff_count(const struct saeval_call *c,
                                    const struct saeval_ctx *x)
{
	struct saeval_cache own = { 0 };
	const struct saeval_cache *k = mpart_alt(x, &own);
	return k->madiff_html > c->num[1] &&
	       k->madiff_text / k->madiff_html > c->num[0];
}

/* ---- ImageInfo: image_count ---- */

/* image_count(TYPE, MIN[, MAX]): TYPE one of gif, png, jpeg (the order
 * of mime_facts' images[]), all. */
static const char *const image_types[] = { "gif", "png", "jpeg" };

static bool image_type_ok(const char *t)
{
	for (size_t i = 0; i < 3; i++)
		if (strcmp(t, image_types[i]) == 0)
			return true;
	return strcmp(t, "all") == 0;
}

/* image_count and pixel_coverage: (TYPE, MIN[, MAX]); also
 * image_to_text_ratio's (TYPE, MIN, MAX). */
bool saeval_ok_image_count(const struct saeval_call *c)
{
	return c->nargs >= 2 && image_type_ok(c->args[0]);
}

/* image_count(TYPE, MIN[, MAX]): the base64-encoded image/gif, image/png
 * and image/jpeg (or jpg) leaf parts of TYPE ("all": of any of them),
 * as ImageInfo.pm counts them (mime_facts()). */
bool saeval_ev_image_count(const struct saeval_call *c,
                           const struct saeval_ctx *x)
{
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	size_t n = 0;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(c->args[0], "all") == 0 ||
		    strcmp(c->args[0], image_types[i]) == 0)
			n += f.images[i];
	return (double)n >= c->num[1] && (c->nargs < 3 || (double)n <= c->num[2]);
}

/* ---- ImageInfo: sizes ---- */

/* Does TYPE (args[0]) take in image kind k (0 gif, 1 png, 2 jpeg)? */
static bool type_is(const struct saeval_call *c, int k)
{
	return strcmp(c->args[0], "all") == 0 ||
	       strcmp(c->args[0], image_types[k]) == 0;
}

/* The area of TYPE's images (mime_facts()); false when unknown. */
static bool pixels_of(const struct saeval_call *c, const struct saeval_ctx *x,
                      struct mime_facts *f, double *pc)
{
	if (!get_mime(x, f))
		return false;
	*pc = 0;
	for (int k = 0; k < 3; k++)
		if (type_is(c, k))
			*pc += f->pixels[k];
	return true;
}

/* pixel_coverage(TYPE, MIN[, MAX]): the images of TYPE cover MIN to MAX
 * pixels (their widths times heights, read from the GIF, PNG and JPEG
 * headers as ImageInfo.pm reads them). */
bool saeval_ev_pixel_coverage(const struct saeval_call *c,
                              const struct saeval_ctx *x)
{
	struct mime_facts f;
	double pc;
	return pixels_of(c, x, &f, &pc) && pc >= c->num[1] &&
	       (c->nargs < 3 || pc <= c->num[2]);
}

/* The length of the text the rule hands over: the rendered body (the
 * Subject its first line) or, for a rawbody rule, the raw body pieces. */
static double text_length(const struct saeval_call *c,
                          const struct saeval_ctx *x)
{
	const struct msg *m = x->m;
	double n = 0;
	size_t count = c->rawbody ? msg_rawbody_count(m)
	                          : saeval_body_count(x);
	for (size_t i = 0; i < count; i++)
		n += (double)(c->rawbody ? msg_rawbody_at(m, i).len :
		                           saeval_body_at(x, i).len);
	return n;
}

/* image_to_text_ratio(TYPE, MIN, MAX): characters of text per pixel of
 * TYPE's images in [MIN, MAX). */
bool saeval_ev_image_text_ratio(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	struct mime_facts f;
	double pc, len = text_length(c, x);
	if (c->nargs < 3 || !pixels_of(c, x, &f, &pc) || pc <= 0 || len <= 0)
		return false;
	double r = len / pc;
	return r >= c->num[1] && r < c->num[2];
}

/* image_size_exact(TYPE, H, W); image_size_range(TYPE, MINH, MINW[,
 * MAXH[, MAXW]]): an image of TYPE of that height and width (among the
 * first 16 images read). */
static bool image_size(const struct saeval_call *c, const struct saeval_ctx *x,
                       bool exact)
{
	struct mime_facts f;
	if (!get_mime(x, &f))
		return false;
	for (size_t i = 0; i < f.ndims; i++) {
		const struct image_dim *d = &f.dims[i];
		if (!type_is(c, d->type))
			continue;
		double h = (double)d->h, w = (double)d->w;
		if (exact ? h == c->num[1] && w == c->num[2] :
		    h >= c->num[1] && w >= c->num[2] &&
		    (c->nargs < 4 || h <= c->num[3]) &&
		    (c->nargs < 5 || w <= c->num[4]))
			return true;
	}
	return false;
}

bool saeval_ev_image_size_exact(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	return image_size(c, x, true);
}

bool saeval_ev_image_size_range(const struct saeval_call *c,
                                const struct saeval_ctx *x)
{
	return image_size(c, x, false);
}

bool saeval_ok_image_size_exact(const struct saeval_call *c)
{
	return c->nargs >= 3 && image_type_ok(c->args[0]);
}

bool saeval_ok_image_size_range(const struct saeval_call *c)
{
	return c->nargs >= 3 && image_type_ok(c->args[0]);
}

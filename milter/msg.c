/* msg.c — see msg.h. The parse builds every view in one pass over the
 * MIME tree; all memory comes from one arena (see docs/msg.md). */
#include "msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "arena.h"
#include "charset.h"
#include "cte.h"
#include "html.h"
#include "mime.h"
#include "rfc2047.h"
#include "sniff.h"
#include "strbuf.h"
#include "uri.h"
#include "uriform.h"
#include "uriredir.h"
#include "utf8.h"

#define DEFAULT_MAX_SIZE ((size_t)32 * 1024 * 1024)
#define DEPTH_CAP 200     /* recursion guard whatever the limits say */
#define CHUNK_MAX 2048    /* longest body/rawbody element, as in SA */
#define URI_MAX 10000     /* URIs kept per message */
#define LONG_LINE 998     /* RFC 5322 line length limit */
/* Addresses parsed per header field and per message (see keep_addrs).
 * With the field limit they bound what headers cost besides their bytes,
 * which HEADER_ALLOWANCE in the default memory budget covers. */
#define MAX_ADDRS_PER_FIELD 1000
#define MAX_ADDRS 5000
#define HEADER_ALLOWANCE ((size_t)4 << 20)
/* What a MIME part may cost besides its bytes (its structures, header
 * index, body and HTML state; an empty part about 1 KiB): in the default
 * budget for every part the limits allow, so that a small message of
 * thousands of tiny parts reaches the part limit, not the budget. */
#define PART_ALLOWANCE ((size_t)2048)
/* And what a part's header field costs besides its bytes (its entry,
 * address slot, unfolded copies; the entry array's growth). */
#define PART_FIELD_ALLOWANCE ((size_t)256)

struct span {
	size_t off, len;
};

/* Strings, each once, in the order first added: their bytes (each
 * NUL-ended) in data, their spans in v, and an open-addressing index
 * over them (index + 1; 0 empty). */
struct spanset {
	struct arena_buf data, v;
	size_t *hash;
	size_t cap;
};

/* A form or an anchor text (bytes in ud_data) of URI detail raw. */
struct ud_rec {
	size_t raw, off, len;
};

struct phdr {
	size_t first, count;
};

struct addr_slot {
	struct msg_addr *v;
	size_t n;
};

struct msg {
	struct arena *arena;
	struct msg_text full, raw_header, raw_body;
	struct msg_header *hdrs;
	struct addr_slot *addrs; /* parallel to hdrs */
	size_t nhdrs;
	struct msg_part *parts;
	struct phdr *phdr; /* parallel to parts */
	size_t nparts;
	struct msg_text *body, *rawbody, *uris;
	size_t nbody, nrawbody, nuris;
	struct msg_uri_detail *ud;
	size_t nud;
	struct msg_html html;
	uint64_t flags;
	size_t hdr_dropped;
};

/* Growing vectors hold offsets, turned into pointers once at the end. */
struct pctx {
	struct msg *m;
	struct arena *a;
	struct charset_conv cv;
	struct msg_limits lim;
	const struct uriredir *redir; /* redirector_pattern; NULL: none */
	struct arena_buf hdrs;     /* struct msg_header */
	struct arena_buf addrs;    /* struct addr_slot */
	struct arena_buf parts;    /* struct msg_part */
	struct arena_buf phdr;     /* struct phdr */
	struct arena_buf rendered; /* text for the body view */
	size_t text_start;         /* rendered: where the parts' text
	                              starts (after "Subject\n") */
	struct arena_buf raw_data, raw_v;   /* rawbody lines */
	struct spanset uris;       /* the URI list */
	struct arena_buf stage_data, stage_v; /* one text URI's forms while
	                                         staging (uri_found()) */
	bool staging;
	/* URI details (msg_uri_detail), when the parse wants them */
	bool ud_on;
	struct spanset ud_raws;    /* their raw URIs */
	struct arena_buf ud_types; /* uint32_t per raw: MSG_URI_* bits */
	struct arena_buf ud_data;  /* the bytes of ud_forms, ud_anchors */
	struct arena_buf ud_forms, ud_anchors; /* struct ud_rec */
	size_t ud_cur;             /* the raw whose forms uri_add() records
	                              (ud_begin()), SIZE_MAX: none */
	uint32_t ud_type;          /* the type of the HTML link at hand */
	struct msg_text ud_lf, ud_unlf; /* that link as found with line
	                              breaks, trimmed, and without them:
	                              SpamAssassin keys it with them */
	struct arena_buf invisible, title;
	const char *bounds[DEPTH_CAP]; /* boundaries of enclosing parts */
	size_t bound_len[DEPTH_CAP];
	unsigned nbounds;
	uint64_t flags;
	size_t hdr_dropped;        /* fields not kept (max_headers) */
	size_t part_fields;        /* fields kept in blocks but the top's */
	size_t naddrs;             /* addresses parsed, counted ones */
	unsigned first_seen;       /* top-level From, Sender, Reply-To,
	                              Return-Path already seen (bits) */
};

static const struct msg_text empty = { "", 0 };

static struct msg_part *part(struct pctx *c, size_t i)
{
	return (struct msg_part *)c->parts.p + i;
}

static void flag(struct pctx *c, size_t pi, uint64_t f)
{
	c->flags |= f;
	if (pi != SIZE_MAX && pi < c->parts.len / sizeof(struct msg_part))
		part(c, pi)->flags |= f;
}

static struct msg_text dup_text(struct pctx *c, const char *s, size_t n)
{
	char *d = arena_strndup(c->a, s, n);
	if (d == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return empty;
	}
	return (struct msg_text){ d, n };
}

static bool has_8bit(const char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ULL)
			return true;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] & 0x80)
			return true;
	return false;
}

/* ---- headers ---- */

#define NAME(s) { s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} addr_headers[] = {
	NAME("from"), NAME("sender"), NAME("reply-to"), NAME("to"),
	NAME("cc"), NAME("bcc"), NAME("return-path"), NAME("delivered-to"),
	NAME("errors-to"), NAME("disposition-notification-to"),
	NAME("resent-from"), NAME("resent-sender"), NAME("resent-to"),
	NAME("resent-cc"), NAME("resent-bcc"), NAME("resent-reply-to"),
};
#undef NAME

static bool is_addr_header(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof addr_headers / sizeof addr_headers[0]; i++)
		if (addr_headers[i].len == n &&
		    strncasecmp(addr_headers[i].name, name, n) == 0)
			return true;
	return false;
}

/* Unfold (drop the line breaks of folding) and trim. raw is the
 * NUL-terminated copy: an unfolded value without trailing blanks is
 * shared with it instead of copied. */
static struct msg_text unfold(struct pctx *c, const char *raw, size_t n)
{
	if (n > 0 && memchr(raw, '\n', n) == NULL && raw[n - 1] != ' ' &&
	    raw[n - 1] != '\t' && raw[n - 1] != '\r') {
		size_t s = 0;
		while (s < n && (raw[s] == ' ' || raw[s] == '\t'))
			s++;
		return (struct msg_text){ raw + s, n - s };
	}
	char *d = arena_alloc(c->a, n + 1);
	if (d == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return empty;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = raw[i];
		if (ch == '\n' || (ch == '\r' && i + 1 < n && raw[i + 1] == '\n'))
			continue;
		d[o++] = ch;
	}
	size_t s = 0;
	while (s < o && (d[s] == ' ' || d[s] == '\t'))
		s++;
	while (o > s && (d[o - 1] == ' ' || d[o - 1] == '\t' || d[o - 1] == '\r'))
		o--;
	d[o] = '\0';
	return (struct msg_text){ d + s, o - s };
}

/* How many addresses the field called name may have parsed: up to
 * MAX_ADDRS_PER_FIELD, and MAX_ADDRS per message in all; the message's
 * first From, Sender, Reply-To and Return-Path do not count against the
 * latter, so that address lists before them cannot leave them unparsed. */
static size_t addr_quota(struct pctx *c, size_t pi, const char *name,
                         size_t n, bool *counted)
{
	static const char *const first[] = {
		"from", "sender", "reply-to", "return-path"
	};
	*counted = true;
	for (unsigned i = 0; pi == 0 && i < 4; i++)
		if (strlen(first[i]) == n && strncasecmp(first[i], name, n) == 0 &&
		    !(c->first_seen & (1u << i))) {
			c->first_seen |= 1u << i;
			*counted = false;
			return MAX_ADDRS_PER_FIELD;
		}
	size_t left = c->naddrs < MAX_ADDRS ? MAX_ADDRS - c->naddrs : 0;
	return left < MAX_ADDRS_PER_FIELD ? left : MAX_ADDRS_PER_FIELD;
}

static void add_addrs(struct pctx *c, size_t pi, const char *name,
                      size_t nlen, struct msg_text value,
                      struct addr_slot *as)
{
	bool counted, cut = false;
	size_t quota = addr_quota(c, pi, name, nlen, &counted);
	if (quota == 0) {
		flag(c, pi, MSG_F_HEADER_LIMIT);
		return;
	}
	if (!addr_parse(c->a, &c->cv, value.ptr, value.len, quota, &as->v,
	                &as->n, &cut))
		flag(c, pi, MSG_F_BAD_ADDRESS);
	if (cut)
		flag(c, pi, MSG_F_HEADER_LIMIT);
	if (counted)
		c->naddrs += as->n;
}

/* How much of a value raw[0, rlen) (no final line end) SpamAssassin
 * keeps: MSG_HEADER_VALUE_MAX bytes with each line break as one "\n"
 * and the final "\n" counted. *cut when it keeps less than all. */
static size_t sa_value_len(const char *raw, size_t rlen, bool *cut)
{
	*cut = false;
	if (rlen < MSG_HEADER_VALUE_MAX)   /* each CR LF counts 1 at least */
		return rlen;
	size_t i = 0, kept = 0;
	for (; i < rlen && kept < MSG_HEADER_VALUE_MAX; kept++)
		i += raw[i] == '\r' && i + 1 < rlen && raw[i + 1] == '\n' ? 2 : 1;
	/* kept + 1 for the final "\n" */
	*cut = i < rlen || kept == MSG_HEADER_VALUE_MAX;
	return i;
}

/* A field of part pi's header section; message: a message's (the top
 * or an inner message/rfc822), whose fields SpamAssassin cuts (not a
 * MIME part's). */
static void add_header(struct pctx *c, size_t pi, bool message,
                       const char *name, size_t nlen, const char *raw,
                       size_t rlen)
{
	bool cut = false;
	size_t full = rlen;
	if (message) {
		rlen = sa_value_len(raw, rlen, &cut);
		if (cut || nlen > MSG_HEADER_NAME_MAX)
			flag(c, pi, MSG_F_LONG_HEADER);
		if (nlen > MSG_HEADER_NAME_MAX)
			nlen = MSG_HEADER_NAME_MAX;
	}
	struct msg_header h;
	h.cut = cut;
	h.name = dup_text(c, name, nlen);
	h.raw = dup_text(c, raw, rlen);
	h.pristine = rlen < full ? dup_text(c, raw, full) : h.raw;
	h.value = unfold(c, h.raw.ptr, h.raw.len);
	h.decoded = h.value;
	if (has_8bit(h.raw.ptr, h.raw.len))
		flag(c, pi, MSG_F_8BIT_HEADER);
	if (h.value.len > 0 && (rfc2047_maybe(h.value.ptr, h.value.len) ||
	                        has_8bit(h.value.ptr, h.value.len))) {
		struct arena_buf b;
		arena_buf_init(&b, c->a);
		unsigned f = rfc2047_decode(&c->cv, h.value.ptr, h.value.len, &b);
		if (f & RFC2047_MALFORMED)
			flag(c, pi, MSG_F_BAD_RFC2047);
		if (f & RFC2047_UNKNOWN_CHARSET)
			flag(c, pi, MSG_F_UNKNOWN_CHARSET);
		if (f & RFC2047_BAD_DATA)
			flag(c, pi, MSG_F_BAD_RFC2047);
		if (!b.failed)
			h.decoded = (struct msg_text){ arena_buf_finish(&b), b.len };
	}
	struct addr_slot as = { NULL, 0 };
	if (is_addr_header(name, nlen))
		add_addrs(c, pi, name, nlen, h.value, &as);
	arena_buf_put(&c->hdrs, &h, sizeof h);
	arena_buf_put(&c->addrs, &as, sizeof as);
}

/* Headers still kept past max_headers (MSG_KEPT_BEYOND_LIMIT of each):
 * those rules and stages need most, so that junk fields cannot hide the
 * ones that identify the message or give its structure. */
static const char *const vital_headers[] = {
	"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date",
	"message-id", "in-reply-to", "references", "return-path",
	"mime-version", "content-type", "content-transfer-encoding",
	"content-disposition",
};
#define NVITAL (sizeof vital_headers / sizeof vital_headers[0])
_Static_assert(NVITAL == MSG_VITAL_HEADERS, "msg.h's MSG_VITAL_HEADERS");

size_t msg_vital_index(const char *name, size_t n)
{
	for (size_t i = 0; i < NVITAL; i++)
		if (strlen(vital_headers[i]) == n &&
		    strncasecmp(vital_headers[i], name, n) == 0)
			return i;
	return SIZE_MAX;
}

/* Is the field called name the next one to keep? kept: fields kept in
 * this block so far; extra: the vital ones kept beyond max_headers or,
 * in a block but the top's, MSG_MAX_PART_FIELDS. */
static bool keep_header(struct pctx *c, size_t pi, const char *name,
                        size_t n, size_t kept, unsigned extra[NVITAL])
{
	if (kept < c->lim.max_headers &&
	    (pi == 0 || c->part_fields < MSG_MAX_PART_FIELDS)) {
		c->part_fields += pi != 0;
		return true;
	}
	size_t v = msg_vital_index(name, n);
	if (v != SIZE_MAX && extra[v] < MSG_KEPT_BEYOND_LIMIT) {
		extra[v]++;
		return true;
	}
	c->hdr_dropped++;
	flag(c, pi, MSG_F_HEADER_LIMIT);
	return false;
}

/* Whether part pi is a message (the message, or one a message/rfc822
 * part holds), not a MIME part: its header section
 * is read as SpamAssassin's Message.pm reads a message's (an inner one
 * too), a part's as its _parse_multipart() does. */
static bool is_message(struct pctx *c, size_t pi)
{
	if (pi == 0)
		return true;
	const char *t = part(c, part(c, pi)->parent)->type.ptr;
	return strcmp(t, "message/rfc822") == 0 ||
	       strcmp(t, "message/global") == 0;
}

/* Parse the header block at [p, end) of part pi; returns the body start. */
static const char *parse_headers(struct pctx *c, size_t pi, const char *p,
                                 const char *end)
{
	struct phdr *ph = (struct phdr *)c->phdr.p + pi;
	ph->first = c->hdrs.len / sizeof(struct msg_header);
	size_t kept = 0;
	unsigned extra[NVITAL] = { 0 }, bad = 0;
	bool message = is_message(c, pi);
	if (pi == 0 && end - p > 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end; /* mbox separator line */
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *le = nl ? nl : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			p = next;
			goto done;
		}
		if (*p == ' ' || *p == '\t') {
			flag(c, pi, MSG_F_BAD_HEADER); /* orphan continuation */
			p = next;
			continue;
		}
		if (message && msg_boundary_line(p, (size_t)(le - p)))
			break;   /* the body starts at this line */
		const char *colon = memchr(p, ':', (size_t)(le - p));
		const char *ne = colon;
		while (ne != NULL && ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (!msg_field_line(p, (size_t)(le - p))) {
			/* Not a header. In a MIME part the body starts here; in
			 * a message SpamAssassin passes over three such lines
			 * (keeping one with a colon as a header named by what
			 * comes before it) and starts the body at the fourth. */
			flag(c, pi, MSG_F_BAD_HEADER);
			if (!message) {
				flag(c, pi, MSG_F_NO_PART_BODY_SEP);
				goto done;
			}
			if (++bad > MSG_BAD_HEADER_LINES)
				break;
			if (colon == NULL || ne == p) {
				p = next;
				continue;
			}
		}
		const char *fe = le;
		while (next < end && (*next == ' ' || *next == '\t')) {
			const char *nl2 = memchr(next, '\n', (size_t)(end - next));
			fe = nl2 ? nl2 : end;
			if (fe > next && fe[-1] == '\r')
				fe--;
			next = nl2 ? nl2 + 1 : end;
		}
		if (keep_header(c, pi, p, (size_t)(ne - p), kept, extra)) {
			add_header(c, pi, message, p, (size_t)(ne - p),
			           colon + 1, (size_t)(fe - colon - 1));
			kept++;
		}
		p = next;
	}
	flag(c, pi, MSG_F_NO_BODY_SEP);
done:
	ph = (struct phdr *)c->phdr.p + pi;
	ph->count = c->hdrs.len / sizeof(struct msg_header) - ph->first;
	return p;
}

/* Part pi's header name (lower-case), and in *count how many it has:
 * the last one, as SpamAssassin's header() reads Content-Type,
 * Content-Transfer-Encoding, Content-Disposition and the Subject in
 * scalar context (a repeated one is a filter-evasion trick: the MIME
 * structure must be the one its rules were written against). */
static const struct msg_header *phdr_get(struct pctx *c, size_t pi,
                                         const char *name, size_t *count)
{
	const struct phdr *ph = (const struct phdr *)c->phdr.p + pi;
	const struct msg_header *hs = (const struct msg_header *)c->hdrs.p;
	const struct msg_header *found = NULL;
	*count = 0;
	char first = name[0];
	for (size_t i = ph->first; i < ph->first + ph->count; i++)
		if ((hs[i].name.ptr[0] | 0x20) == first &&
		    strcasecmp(hs[i].name.ptr, name) == 0) {
			found = &hs[i];
			(*count)++;
		}
	return found;
}

/* ---- views ---- */

/* Offset of the first c in s[from, n), or SIZE_MAX. */
static size_t find_from(const char *s, size_t n, size_t from, char c)
{
	if (from >= n)
		return SIZE_MAX;
	const char *p = memchr(s + from, c, n - from);
	return p ? (size_t)(p - s) : SIZE_MAX;
}

static void add_raw_piece(struct pctx *c, const char *s, size_t k)
{
	struct span sp = { c->raw_data.len, k };
	arena_buf_put(&c->raw_data, s, k);
	arena_buf_putc(&c->raw_data, '\0');
	arena_buf_put(&c->raw_v, &sp, sizeof sp);
}

size_t msg_sa_piece_len(const char *s, size_t n, size_t ofs)
{
	static const char cut[] = { '\n', '>', ' ' };
	if (n - ofs <= 2 * CHUNK_MAX)
		return n - ofs;   /* the rest (the whole text up to 2 pieces) */
	for (size_t k = 0; k < sizeof cut; k++) {
		size_t j = find_from(s, n, ofs + CHUNK_MAX, cut[k]);
		if (j != SIZE_MAX && j - ofs + 1 <= 2 * CHUNK_MAX)
			return j - ofs + 1;
	}
	return CHUNK_MAX + 1;
}

/* Append one text part to the rawbody view in SpamAssassin 4's pieces
 * (msg_sa_piece_len()): a part of at most CHUNK_MAX bytes is one piece,
 * even "" (SpamAssassin keeps it). So "^" without /m matches at the
 * start of a part (or of a piece), not of every line, and patterns see
 * across line breaks, as in SpamAssassin. */
static void add_raw_part(struct pctx *c, const char *s, size_t n)
{
	if (n <= CHUNK_MAX) {
		add_raw_piece(c, s, n);
		return;
	}
	for (size_t ofs = 0, len; ofs < n; ofs += len) {
		len = msg_sa_piece_len(s, n, ofs);
		add_raw_piece(c, s + ofs, len);
	}
}

static size_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (size_t)h;
}

static bool set_grow(struct arena *a, struct spanset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	size_t *t = arena_alloc(a, cap * sizeof *t);
	if (t == NULL)
		return false;
	memset(t, 0, cap * sizeof *t);
	const struct span *v = (const struct span *)set->v.p;
	for (size_t i = 0; i < set->cap; i++) {
		size_t e = set->hash[i];
		if (e == 0)
			continue;
		size_t h = hash_str(set->data.p + v[e - 1].off, v[e - 1].len);
		while (t[h & (cap - 1)] != 0)
			h++;
		t[h & (cap - 1)] = e;
	}
	set->hash = t;
	set->cap = cap;
	return true;
}

/* The index of s[0..n) in set, or SIZE_MAX; *slot: where it goes. */
static size_t set_find(const struct spanset *set, const char *s, size_t n,
                       size_t *slot)
{
	const struct span *v = (const struct span *)set->v.p;
	size_t h = hash_str(s, n);
	*slot = 0;
	if (set->cap == 0)
		return SIZE_MAX;
	for (;; h++) {
		size_t e = set->hash[h & (set->cap - 1)];
		*slot = h & (set->cap - 1);
		if (e == 0)
			return SIZE_MAX;
		if (v[e - 1].len == n &&
		    memcmp(set->data.p + v[e - 1].off, s, n) == 0)
			return e - 1;
	}
}

/* The index of s[0..n) in set, which it joins (*added) when absent and
 * the set holds fewer than max; SIZE_MAX when it is not in (full, out
 * of memory). */
static size_t set_put(struct arena *a, struct spanset *set, const char *s,
                      size_t n, size_t max, bool *added)
{
	size_t count = set->v.len / sizeof(struct span), slot;
	*added = false;
	if (set->data.failed || set->v.failed ||
	    ((count + 1) * 2 > set->cap && !set_grow(a, set)))
		return SIZE_MAX;
	size_t i = set_find(set, s, n, &slot);
	if (i != SIZE_MAX || count >= max)
		return i;
	struct span sp = { set->data.len, n };
	arena_buf_put(&set->data, s, n);
	arena_buf_putc(&set->data, '\0');
	arena_buf_put(&set->v, &sp, sizeof sp);
	if (set->v.failed || set->data.failed)
		return SIZE_MAX;
	set->hash[slot] = count + 1;
	*added = true;
	return count;
}

/* A form of the URI detail raw ud_cur (uri_add()), or an anchor text
 * of raw i into recs; dropped past cap records. */
static void ud_put(struct pctx *c, struct arena_buf *recs, size_t i,
                   const char *s, size_t n, size_t cap)
{
	if (recs->len / sizeof(struct ud_rec) >= cap)
		return;
	struct ud_rec r = { i, c->ud_data.len, n };
	arena_buf_put(&c->ud_data, s, n);
	arena_buf_putc(&c->ud_data, '\0');
	if (!c->ud_data.failed)
		arena_buf_put(recs, &r, sizeof r);
}

#define UD_FORMS_MAX (16 * URI_MAX)   /* forms recorded per message */

/* The URI detail of raw[0..n), with the types (MSG_URI_* bits) of this
 * sighting: uri_add() records the forms that follow as its own the
 * first time it is seen (the same raw always has the same forms). */
static void ud_begin(struct pctx *c, const char *raw, size_t n,
                     uint32_t types)
{
	bool added;
	c->ud_cur = SIZE_MAX;
	if (!c->ud_on || c->staging)
		return;
	if (c->ud_lf.ptr != NULL && n == c->ud_unlf.len &&
	    memcmp(raw, c->ud_unlf.ptr, n) == 0) {
		raw = c->ud_lf.ptr;
		n = c->ud_lf.len;
	}
	size_t i = set_put(c->a, &c->ud_raws, raw, n, URI_MAX, &added);
	uint32_t none = 0;
	if (added)
		arena_buf_put(&c->ud_types, &none, sizeof none);
	if (i == SIZE_MAX || c->ud_types.failed)
		return;
	((uint32_t *)c->ud_types.p)[i] |= types;
	if (added)
		c->ud_cur = i;
}

static const char *const uri_type_names[MSG_URI_NTYPES] = {
	"parsed", "schemeless", "unlinked", "a", "area", "link", "img",
	"frame", "iframe", "embed", "script", "bgsound", "form", "base",
	"meta", "body", "table", "tr", "td",
};

const char *msg_uri_type_name(enum msg_uri_type t)
{
	return (unsigned)t < MSG_URI_NTYPES ? uri_type_names[t] : NULL;
}

/* The type of a link of HTML element tag (html.h); "parsed" for an
 * anchor text's key (NULL) and for one HTML.pm has no link of (none
 * reaches here). */
static enum msg_uri_type uri_tag_type(const char *tag)
{
	for (unsigned t = MSG_URI_A; tag != NULL && t < MSG_URI_NTYPES; t++)
		if (strcmp(tag, uri_type_names[t]) == 0)
			return (enum msg_uri_type)t;
	return MSG_URI_PARSED;
}

/* Add s to the URI list unless it is there already (and to the forms
 * of the URI detail at hand). */
static void uri_add(struct pctx *c, const char *s, size_t n)
{
	if (c->staging) {
		struct span sp = { c->stage_data.len, n };
		arena_buf_put(&c->stage_data, s, n);
		arena_buf_put(&c->stage_v, &sp, sizeof sp);
		return;
	}
	if (c->ud_cur != SIZE_MAX)
		ud_put(c, &c->ud_forms, c->ud_cur, s, n, UD_FORMS_MAX);
	bool added;
	if (n > 0)
		set_put(c->a, &c->uris, s, n, URI_MAX, &added);
}

static bool uri_found_at(struct pctx *c, const char *raw, size_t n,
                         int depth, bool html);

/* "mailto:" and s[0..n). */
static void uri_mailto_add(struct pctx *c, const char *s, size_t n)
{
	char *v = arena_alloc(c->a, n + 7);
	if (v == NULL)
		return;
	memcpy(v, "mailto:", 7);
	memcpy(v + 7, s, n);
	uri_add(c, v, n + 7);
}

/* uri_list_canonicalize's forms of a mailto: URI u, or of an address
 * without a scheme: the address without the query ("?subject=..."), or
 * cut at a '&' before any '?'; after %20s, up to a '%'; the address in
 * the last <> before a query. */
static void uri_mailto_forms(struct pctx *c, const char *u, size_t n)
{
	const char *at = memchr(u, '@', n), *end = u + n;
	size_t pre = n > 7 && strncasecmp(u, "mailto:", 7) == 0 ? 7 : 0;
	if (at == NULL)
		return;
	const char *q = memchr(at, '?', (size_t)(end - at));
	const char *amp = memchr(at, '&', (size_t)((q ? q : end) - at));
	if (q != NULL && q > at + 1)
		uri_add(c, u, (size_t)(q - u));
	if (amp != NULL && amp > at + 1)
		uri_add(c, u, (size_t)(amp - u));
	const char *a = u + pre;
	if (memmem(u, n, "%20", 3) != NULL) {
		while (end - a >= 3 && memcmp(a, "%20", 3) == 0)
			a += 3;
		const char *k = at + 1;
		while (k < end && !strchr("?&%", *k))
			k++;
		if (a < at && k > at + 1)
			uri_mailto_add(c, a, (size_t)(k - a));
	}
	const char *stop = u;
	while (stop < end && *stop != '?' && *stop != '&')
		stop++;
	const char *lt = memrchr(u, '<', (size_t)(stop - u));
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		const char *a2 = memchr(lt, '@', (size_t)((gt ? gt : end) - lt));
		if (gt != NULL && a2 != NULL && a2 > lt + 1 && gt > a2 + 1)
			uri_mailto_add(c, lt + 1, (size_t)(gt - lt - 1));
	}
}

/* SpamAssassin's form of http(s) URI d[0..dn) (host from hs, after the
 * scheme's p bytes and any user@) whose host ends in other than a letter
 * or digit ("www.example.edu.<ideographs>"): those stripped, all of a
 * host of punctuation too ("http:/!/x" gives "http:///x"). */
static void uri_trailing_form(struct pctx *c, const char *d, size_t dn,
                              size_t p, size_t hs)
{
	size_t he = hs;
	while (he < dn && !strchr(":/?#", d[he]))
		he++;
	size_t k = he;
	while (k > hs && !isalnum((unsigned char)d[k - 1]))
		k--;
	if (k == he)
		return;
	char *v = arena_alloc(c->a, dn);
	if (v == NULL)
		return;
	memcpy(v, d, p);
	memcpy(v + p, d + hs, k - hs);
	memcpy(v + p + (k - hs), d + he, dn - he);
	uri_add(c, v, p + (k - hs) + dn - he);
}

/* SpamAssassin's form (after Firefox's) of an http URI d[0..dn) whose
 * host (from p, no user@) is one label, "www." or not, on port 80:
 * "http://foo/x" is also "http://www.foo.com/x" ("http://foo#f"
 * "http://www.foo.com/#f"), unless the host is a valid domain
 * ("www.info") or a number (a numeric host's form instead). */
static void uri_www_form(struct pctx *c, const char *d, size_t dn, size_t p)
{
	size_t he = p;
	while (he < dn && !strchr("/?#:", d[he]))
		he++;
	size_t pe = he + (he < dn && d[he] == ':');
	while (pe < dn && isdigit((unsigned char)d[pe]))
		pe++;
	bool port80 = pe == he || pe == he + 1 ||
	              (pe - he == 3 && memcmp(d + he, ":80", 3) == 0);
	char host[256];
	size_t hn = he - p;
	if (strncmp(d, "http://", 7) != 0 || !port80 || hn == 0 ||
	    hn >= sizeof host)
		return;
	for (size_t i = 0; i < hn; i++)
		host[i] = (char)tolower((unsigned char)d[p + i]);
	host[hn] = '\0';
	const char *label = strncmp(host, "www.", 4) == 0 ? host + 4 : host;
	if (*label == '\0' || strchr(label, '.') != NULL ||
	    strcmp(host, "localhost") == 0 || uri_domain_valid(host, hn) ||
	    uriform_numeric_host(host, hn))
		return;
	struct arena_buf v;
	arena_buf_init(&v, c->a);
	arena_buf_put(&v, "http://www.", 11);
	arena_buf_put(&v, label, strlen(label));
	arena_buf_put(&v, ".com", 4);
	if (he < dn && (d[he] == '?' || d[he] == '#'))
		arena_buf_putc(&v, '/');
	arena_buf_put(&v, d + he, dn - he);
	if (!v.failed)
		uri_add(c, v.p, v.len);
}

/* proto d[0..p), host h[0..hn), rest r[0..rn) as one URI. */
static void uri_add3(struct pctx *c, const char *d, size_t p, const char *h,
                     size_t hn, const char *r, size_t rn)
{
	struct arena_buf v;
	arena_buf_init(&v, c->a);
	arena_buf_put(&v, d, p);
	arena_buf_put(&v, h, hn);
	arena_buf_put(&v, r, rn);
	if (!v.failed)
		uri_add(c, v.p, v.len);
}

/* uri_list_canonicalize's form of http(s) URI d[0..dn) whose host
 * d[h..he) has control bytes or blanks ("&nbsp;" in an href is a
 * space): the host without them, as browsers drop them. */
static void uri_blankless_form(struct pctx *c, const char *d, size_t dn,
                               size_t p, size_t h, size_t he)
{
	struct arena_buf v;
	bool blank = false;
	arena_buf_init(&v, c->a);
	arena_buf_put(&v, d, p);
	for (size_t i = h; i < he; i++) {
		if ((unsigned char)d[i] <= ' ')
			blank = true;
		else
			arena_buf_putc(&v, d[i]);
	}
	arena_buf_put(&v, d + he, dn - he);
	if (blank && !v.failed)
		uri_add(c, v.p, v.len);
}

/* uri_list_canonicalize's forms of http(s) URI d[0..dn) (scheme and
 * "//" in its p bytes) from its host, read as it reads it: after a
 * first "user@", up to ':', '/', '?' or '#'. Without a default port
 * (":80" after "http://" in lower case, ":443" after any other spelling,
 * as its test is) and without the user; with a numeric host rewritten
 * (uriform_ip_form()), after a second user@ and trailing punctuation
 * are cut, the port kept. */
static void uri_host_forms(struct pctx *c, const char *d, size_t dn, size_t p)
{
	size_t h = p, he;
	while (h < dn && !strchr("@/?#", d[h]))
		h++;
	h = h < dn && d[h] == '@' ? h + 1 : p;
	for (he = h; he < dn && !strchr(":/?#", d[he]); he++)
		;
	if (he == h)
		return;
	uri_blankless_form(c, d, dn, p, h, he);
	size_t pe = he + 1;
	while (pe < dn && d[he] == ':' && isdigit((unsigned char)d[pe]))
		pe++;
	const char *def = memcmp(d, "http://", 7) == 0 ? ":80" : ":443";
	size_t dl = strlen(def);
	if (pe > he + 1 && dn - he >= dl && memcmp(d + he, def, dl) == 0 &&
	    (he + dl == dn || !(isalnum((unsigned char)d[he + dl]) ||
	                        d[he + dl] == '_')))
		uri_add3(c, d, p, d + h, he - h, d + he + dl, dn - he - dl);
	size_t s = h, e = he;
	const char *at = memchr(d + h, '@', he - h);
	if (at != NULL && at > d + h)
		s = (size_t)(at + 1 - d);
	while (e > s && !isalnum((unsigned char)d[e - 1]))
		e--;
	char ip[URIFORM_IP_MAX];
	size_t in = uriform_ip_form(d + s, e - s, ip);
	if (in > 0)
		uri_add3(c, d, p, ip, in, d + he, dn - he);
}

static bool uri_redirect(struct pctx *c, const char *d, size_t dn, size_t p,
                         int depth);
static void uri_embedded(struct pctx *c, const char *d, size_t dn, size_t e,
                         int depth);
static void uri_unschemed(struct pctx *c, const char *x, size_t n,
                          int depth);

/* The forms SpamAssassin's uri_list_canonicalize adds for an http(s)
 * URI u that vigil's normal form does not cover: %-decoded, without
 * "user@" before a second '@', with the host's
 * trailing punctuation cut, and the URL embedded after the host
 * (?u=http://...), itself a URI. */
static void uri_sa_forms(struct pctx *c, const char *u, size_t n, int depth)
{
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
		uri_mailto_forms(c, u, n);
		return;
	}
	char *d = arena_alloc(c->a, 3 * n + 8), *t = arena_alloc(c->a, n + 2);
	if (d == NULL || t == NULL)
		return;
	size_t dn = uriform_nuri(u, n, t, d);
	if (dn != n || memcmp(d, u, n) != 0)
		uri_add(c, d, dn);
	size_t p = 0;
	if (dn > 7 && strncasecmp(d, "http://", 7) == 0)
		p = 7;
	else if (dn > 8 && strncasecmp(d, "https://", 8) == 0)
		p = 8;
	if (p == 0)
		return;
	size_t e = p;
	while (e < dn && d[e] != '/' && d[e] != '?' && d[e] != '#')
		e++;
	const char *at = memchr(d + p, '@', e - p);
	size_t hs = at != NULL ? (size_t)(at + 1 - d) : p;
	const char *at2 = memchr(d + hs, '@', e - hs);
	if (at2 != NULL)
		hs = (size_t)(at2 + 1 - d);
	if (hs >= e || d[hs] == ':')
		return;   /* no host: its forms' pattern does not match */
	/* A numeric host after user@ gets no user-less copy of its own:
	 * its one form is the rewrite uri_host_forms() adds ("192..2.1"
	 * for a 0 octet), as in uri_list_canonicalize (audit17 L1). */
	if (at != NULL && at2 != NULL) {
		char *v = arena_alloc(c->a, dn);
		if (v != NULL) {
			memcpy(v, d, p);
			memcpy(v + p, d + hs, dn - hs);
			uri_add(c, v, p + dn - hs);
		}
	}
	uri_host_forms(c, d, dn, p);
	uri_trailing_form(c, d, dn, p, hs);
	if (at == NULL)
		uri_www_form(c, d, dn, p);
	if (depth < 3 && !uri_redirect(c, d, dn, p, depth))
		uri_embedded(c, d, dn, e, depth);
}

/* uri_list_canonicalize's fallback for a URI d[0..dn) no redirector
 * pattern matched: the first http(s) URL in the rest (from e), up to
 * '&' or '#', itself a URI. */
static void uri_embedded(struct pctx *c, const char *d, size_t dn, size_t e,
                         int depth)
{
	for (size_t i = e; i + 5 < dn; i++) {
		if ((d[i] | 0x20) != 'h' || strncasecmp(d + i, "http", 4) != 0)
			continue;
		size_t j = i + 4;
		if (j < dn && (d[j] | 0x20) == 's')
			j++;
		if (j >= dn || d[j] != ':')
			continue;
		size_t k = j + 1;
		while (k < dn && d[k] != '&' && d[k] != '#')
			k++;
		if (k > j + 1 && memchr(d + i, '.', k - i) != NULL)
			uri_found_at(c, d + i, k - i, depth + 1, false);
		break;
	}
}

/* *r without the blanks around it as Perl's \s: other control bytes
 * stay (SpamAssassin's text match keeps them, canon_uri and
 * uri_list_canonicalize do not trim them; header() trims a field so). */
static void trim_space(const char **r, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)(*r)[*n - 1]))
		(*n)--;
	while (*n > 0 && isspace((unsigned char)**r)) {
		(*r)++;
		(*n)--;
	}
}

/* Does r[0..n) start with a scheme as uri_list_canonicalize tells one
 * (/^[-_a-z0-9]+:/i)? */
static bool uri_schemed(const char *r, size_t n)
{
	size_t k = 0;
	while (k < n && (isalnum((unsigned char)r[k]) || r[k] == '-' ||
	                 r[k] == '_'))
		k++;
	return k > 0 && k < n && r[k] == ':';
}

/* A URL a redirector pattern captured, r[0..n): SpamAssassin appends it
 * to the list it is canonicalising, so it is listed as captured (without
 * the blanks around it) and gets the forms of any listed URI. */
static void uri_redirected(struct pctx *c, const char *r, size_t n,
                           int depth)
{
	trim_space(&r, &n);
	uri_add(c, r, n);
	if (uri_schemed(r, n))
		uri_sa_forms(c, r, n, depth);
	else
		uri_unschemed(c, r, n, depth);
}

/* The redirector patterns (c->redir) on http(s) URI d[0..dn), scheme
 * d[0..p). They see what uri_list_canonicalize gives them: the scheme,
 * the host (after a first "user@", up to '/', '?', '#' or ':') in lower
 * case without its control bytes and blanks, then the rest. The first
 * capture is listed (uri_redirected()); false when none matched. */
static bool uri_redirect(struct pctx *c, const char *d, size_t dn, size_t p,
                         int depth)
{
	if (uriredir_count(c->redir) == 0)
		return false;
	size_t e = p;
	while (e < dn && d[e] != '/' && d[e] != '?' && d[e] != '#')
		e++;
	const char *at = memchr(d + p, '@', e - p);
	size_t h = at != NULL ? (size_t)(at + 1 - d) : p, he = h;
	while (he < e && d[he] != ':')
		he++;
	char *u = he > h ? arena_alloc(c->a, dn + 1) : NULL;
	if (u == NULL)
		return false;   /* no host: its pattern does not match */
	memcpy(u, d, p);
	size_t o = p, off, len;
	for (size_t i = h; i < he; i++)
		if ((unsigned char)d[i] > 0x20)
			u[o++] = (char)tolower((unsigned char)d[i]);
	memcpy(u + o, d + he, dn - he);
	o += dn - he;
	if (!uriredir_match(c->redir, u, o, &off, &len))
		return false;
	uri_redirected(c, u + off, len, depth + 1);
	return true;
}

/* *raw without the blanks (no-break spaces too) around it, as HTML.pm's
 * canon_uri trims a link. */
static void uri_trim(const char **raw, size_t *n)
{
	const char *r = *raw;
	size_t k = *n;
	while (k > 0 && (isspace((unsigned char)r[k - 1]) ||
	                 (k >= 2 && (unsigned char)r[k - 2] == 0xc2 &&
	                  (unsigned char)r[k - 1] == 0xa0)))
		k -= isspace((unsigned char)r[k - 1]) ? 1 : 2;
	while (k > 0 && isspace((unsigned char)*r)) {
		r++;
		k--;
	}
	*raw = r;
	*n = k;
}

/* SpamAssassin keeps the URIs of these schemes as they are written
 * (HTML.pm's push_uri: no host, no base): cid: images, data:, tel:,
 * file:. Trimmed (uri_trim()); with the forms uri_list_canonicalize
 * makes of any URI (%-escapes and character references decoded). An attribute value reaches here cut at
 * 2048 bytes (html.c; SpamAssassin cuts at 8192), which rules anchored
 * at the scheme do not notice. */
static void uri_opaque(struct pctx *c, const char *raw, size_t n, bool top)
{
	static const char *const schemes[] = { "cid:", "data:", "tel:", "file:" };
	uri_trim(&raw, &n);
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t l = strlen(schemes[i]);
		if (n > l && strncasecmp(raw, schemes[i], l) == 0) {
			if (top)
				ud_begin(c, raw, n, c->ud_type);
			uri_add(c, raw, n);
			uri_sa_forms(c, raw, n, 0);
			return;
		}
	}
}

/* Has x[0..n) a scheme once its %-escapes are decoded
 * ("http%3A%2F%2Fhost%2F")? uri_list_canonicalize decodes before it
 * puts "http://" in front of a URI without one, so such a URI gets the
 * forms of the URL it decodes to, not "http://http://...". */
static bool uri_decodes_schemed(struct pctx *c, const char *x, size_t n)
{
	if (!uriform_has_escape(x, n))
		return false;
	char *d = arena_alloc(c->a, 3 * n + 1);
	return d != NULL && uri_schemed(d, uriform_url_decode(x, n, d));
}

/* The forms SpamAssassin's uri_list_canonicalize makes of an unschemed
 * URI x other than "/path", "#frag", "?query" and "&...": "http://"
 * before it ("ftp://" before "ftp."), a "/" before a "?" or "#" right
 * after the host; the host cut of its trailing punctuation; for a
 * one-label host, "http://www.HOST.com" as Firefox guesses; and what
 * uri_sa_forms() adds (%-decoded, the URL it carries). */
static void uri_unschemed(struct pctx *c, const char *x, size_t n,
                          int depth)
{
	if (n <= 1 || strchr("#?&", x[0]) != NULL ||
	    (x[0] == '/' && x[1] != '/'))
		return;
	const char *at0 = memchr(x, '@', n);
	if (at0 != NULL && memchr(x, ':', (size_t)(at0 - x)) == NULL) {
		/* "someone@example.com" is an address to SpamAssassin
		 * (/^[^:]*\@/): its mailto forms, no http:// ones. */
		uri_mailto_forms(c, x, n);
		return;
	}
	if (uri_decodes_schemed(c, x, n)) {
		uri_sa_forms(c, x, n, depth);
		return;
	}
	bool ftp = n > 4 && strncmp(x, "ftp.", 4) == 0;
	char *u = arena_alloc(c->a, n + 24);
	if (u == NULL)
		return;
	const char *pre = ftp ? "ftp://" : "http://";
	size_t p = strlen(pre);
	memcpy(u, pre, p);
	size_t h = p, he = p;   /* the host, after any "user@" */
	for (size_t i = 0; i < n; i++)   /* its backslashes are '/' */
		if (x[i] != '\n' && x[i] != '\r')
			u[p++] = x[i] == '\\' ? '/' : x[i];
	if (uriform_has_escape(u + h, p - h)) {   /* re-encoded first */
		char *e = arena_alloc(c->a, 3 * (p - h) + 24);
		if (e == NULL)
			return;
		memcpy(e, u, h);
		p = h + uriform_url_decode(u + h, p - h, e + h);
		u = e;
	}
	while (he < p && u[he] != '/' && u[he] != '?' && u[he] != '#')
		he++;
	if (!ftp && he < p && u[he] != '/') {   /* "host?q" -> "host/?q" */
		memmove(u + he + 1, u + he, p - he);
		u[he] = '/';
		p++;
	}
	uri_add(c, u, p);
	uri_sa_forms(c, u, p, depth);
	const char *at = memchr(u + h, '@', he - h);
	if (ftp || at != NULL)
		return;
	size_t hl = he - h, ce = he;
	if (memchr(u + h, ':', hl) != NULL)
		return;   /* a port: no guess */
	while (ce > h && !isalnum((unsigned char)u[ce - 1]))
		ce--;
	char *v = arena_alloc(c->a, p + 16);
	if (v == NULL)
		return;
	if (ce < he && ce > h) {   /* "http://host.../x" -> "http://host/x" */
		memcpy(v, u, ce);
		memcpy(v + ce, u + he, p - he);
		uri_add(c, v, ce + p - he);
	} else if (ce == h) {       /* nothing left: "http:///x" */
		memcpy(v, u, h);
		memcpy(v + h, u + he, p - he);
		uri_add(c, v, h + p - he);
	}
	size_t s = h;
	if (hl > 4 && strncasecmp(u + h, "www.", 4) == 0)
		s += 4;
	/* a numeric host ("304704", "0x1f") gets its dotted form instead */
	if (memchr(u + s, '.', he - s) != NULL || he == s ||
	    (he - h == 9 && strncasecmp(u + h, "localhost", 9) == 0) ||
	    uriform_numeric_host(u + h, ce - h))
		return;
	size_t o = sizeof "http://www." - 1;
	memcpy(v, "http://www.", o);
	for (size_t i = s; i < he; i++)
		v[o++] = (char)tolower((unsigned char)u[i]);
	memcpy(v + o, ".com", 4);
	o += 4;
	memcpy(v + o, u + he, p - he);
	uri_add(c, v, o + p - he);
}

/* A link of an HTML part that names no host (no scheme, no <base>):
 * SpamAssassin lists it as resolved (uri_target()), an <a href> also as
 * written (HTML.pm keys its anchor text so), and the forms
 * uri_unschemed() makes of those. A link with another scheme than those
 * uri_norm() takes ("javascript:...", "http:www.foo.com") is listed as
 * written, with the forms uri_list_canonicalize makes of it (decoded;
 * "http://www.foo.com"). */
static void uri_relative(struct pctx *c, const char *raw, size_t n,
                         bool anchor)
{
	uri_trim(&raw, &n);
	size_t k = 0;
	while (k < n && (isalnum((unsigned char)raw[k]) || raw[k] == '+' ||
	                 raw[k] == '-' || raw[k] == '.'))
		k++;
	if (n == 0 || (k > 0 && k < n && raw[k] == ':')) {
		if (n > 0) {
			ud_begin(c, raw, n, c->ud_type);
			uri_add(c, raw, n);
			uri_sa_forms(c, raw, n, 0);
		}
		return;
	}
	/* as HTML.pm's target_uri resolves it against no base */
	struct arena_buf tb;
	arena_buf_init(&tb, c->a);
	if (uri_target(raw, n, &tb) != 0)
		return;
	const char *t = tb.p;
	size_t tn = tb.len;
	bool same = tn == n && memcmp(t, raw, n) == 0;
	if (anchor || same) {
		/* as written, an anchor text's key (its type then "parsed"
		 * but when it is the link itself) */
		ud_begin(c, raw, n, same ? c->ud_type : 1u << MSG_URI_PARSED);
		uri_add(c, raw, n);
		uri_unschemed(c, raw, n, 0);
	}
	if (tn > 0 && !same) {
		ud_begin(c, t, tn, c->ud_type);
		uri_add(c, t, tn);
		uri_unschemed(c, t, tn, 0);
	}
}

/* Add raw (without line breaks, as SpamAssassin lists it) and the forms
 * SpamAssassin's uri_list_canonicalize makes of it (uri_sa_forms()).
 * vigil's normal form (uri_norm(): lower case, de-obfuscated, IDNA) is
 * not listed, as SpamAssassin has no such form; uri_norm() only judges
 * whether raw names a host and hides it (MSG_F_URI_OBFUSCATED).
 * html: raw is a link of an HTML part, which SpamAssassin also lists as
 * found when it has no scheme. False when raw names no host (uri_norm()
 * refuses it). */
static bool uri_found_at(struct pctx *c, const char *raw, size_t n,
                         int depth, bool html)
{
	char buf[2048];
	struct arena_buf tmp;
	unsigned f = 0;
	arena_buf_init(&tmp, c->a);
	if (arena_buf_reserve(&tmp, n + 64) != 0)
		return true;   /* out of memory: nothing more to try */
	if (uri_norm(raw, n, &tmp, &f) != 0) {
		uri_opaque(c, raw, n, html && depth == 0);
		return false;
	}
	if (f & URI_OBFUSCATED)
		c->flags |= MSG_F_URI_OBFUSCATED;
	trim_space(&raw, &n);
	/* A raw form without a scheme ("www.Example.com/x") is kept with
	 * the one SpamAssassin gives it (http://, ftp:// for ftp. hosts),
	 * as in its list: rules anchored at "^\w+://" see it. An HTML link
	 * is listed as found too (PerMsgStatus.pm: "HTML uris are as
	 * found"): __UPPERCASE_URI reads it. */
	size_t o = 0, pre_len = 0;
	if (!uri_schemed(raw, n)) {
		const char *pre = n > 4 && strncasecmp(raw, "ftp.", 4) == 0 ?
		                  "ftp://" : "http://";
		o = pre_len = strlen(pre);
		memcpy(buf, pre, o);
	}
	for (size_t i = 0; i < n && o < sizeof buf; i++)
		if (raw[i] != '\n' && raw[i] != '\r')
			buf[o++] = raw[i];
	if (o >= sizeof buf)
		return true;
	if (html && depth == 0)   /* listed as found */
		ud_begin(c, buf + pre_len, o - pre_len, c->ud_type);
	if (html && pre_len > 0)
		uri_add(c, buf + pre_len, o - pre_len);
	uri_add(c, buf, o);
	uri_sa_forms(c, buf, o, depth);
	return true;
}

/* A link spelling of the body text that SpamAssassin does not list
 * (hxxp://, http;//...): only whether it hides a link. */
static void uri_note_hidden(struct pctx *c, const char *raw, size_t n)
{
	struct arena_buf tmp;
	unsigned f = 0;
	arena_buf_init(&tmp, c->a);
	if (uri_norm(raw, n, &tmp, &f) == 0 && (f & URI_OBFUSCATED))
		c->flags |= MSG_F_URI_OBFUSCATED;
}

/* Does the text address m[0..n) ("mailto:...") keep its place? Its
 * domain, after the first '@' up to '?', '&' or '>', trailing "%20"s
 * off, must be a name that is_domain_valid takes, as PerMsgStatus.pm
 * asks of every address of the text: "z@192.168.5.5" is dropped. */
static bool uri_text_mailto_valid(const char *m, size_t n)
{
	const char *at = memchr(m, '@', n);
	if (at == NULL)
		return false;
	size_t h = (size_t)(at + 1 - m), e = h;
	while (e < n && m[e] != '?' && m[e] != '&' && m[e] != '>')
		e++;
	while (e >= h + 3 && memcmp(m + e - 3, "%20", 3) == 0)
		e -= 3;
	return uri_domain_valid(m + h, e - h);
}

/* A URI of the body text. SpamAssassin lists one only when a form of it
 * has a domain (add_uri_detail_list with valid_domain: "http://x.e-mail"
 * is dropped, forms and all), so its forms are staged first. */
static void uri_found(void *ctx, const char *raw, size_t n,
                      enum uri_text_kind kind)
{
	struct pctx *c = ctx;
	if (kind == URI_TEXT_UNLISTED) {
		uri_note_hidden(c, raw, n);
		return;
	}
	/* SpamAssassin lists an address of the text re-encoded when it has
	 * a %-escape (its url_encode: "%41" is "A", "%20" stays, a lone
	 * '%' is "%25") */
	if (n > 7 && strncasecmp(raw, "mailto:", 7) == 0 &&
	    uriform_has_escape(raw, n)) {
		char *e = arena_alloc(c->a, 3 * n + 1);
		if (e == NULL)
			return;
		n = uriform_url_decode(raw, n, e);
		raw = e;
	}
	if (n > 7 && strncasecmp(raw, "mailto:", 7) == 0 &&
	    !uri_text_mailto_valid(raw, n))
		return;
	c->stage_data.len = c->stage_v.len = 0;
	c->staging = true;
	uri_found_at(c, raw, n, 0, false);
	c->staging = false;
	if (c->stage_data.failed || c->stage_v.failed)
		return;
	const struct span *v = (const struct span *)c->stage_v.p;
	size_t count = c->stage_v.len / sizeof *v, i = 0;
	while (i < count &&
	       !uri_sa_domain(c->stage_data.p + v[i].off, v[i].len))
		i++;
	if (i == count)
		return;   /* no form with a domain */
	/* the first form is the raw URI, the scheme it gets in front */
	uint32_t types = 1u << MSG_URI_PARSED;
	if (kind == URI_TEXT_SCHEMELESS || kind == URI_TEXT_UNLINKED)
		types |= 1u << MSG_URI_SCHEMELESS;
	if (kind == URI_TEXT_UNLINKED)
		types |= 1u << MSG_URI_UNLINKED;
	ud_begin(c, c->stage_data.p + v[0].off, v[0].len, types);
	for (size_t k = 0; k < count; k++)
		uri_add(c, c->stage_data.p + v[k].off, v[k].len);
	c->ud_cur = SIZE_MAX;
}

/* raw[0..*n) without its line breaks (CR, LF), which SpamAssassin
 * drops from a link of an HTML part wherever they are
 * ("javascript:\n f()" is "javascript: f()"). In the arena when there
 * are some; NULL when out of memory. */
static const char *uri_unbroken(struct pctx *c, const char *raw, size_t *n)
{
	if (memchr(raw, '\n', *n) == NULL && memchr(raw, '\r', *n) == NULL)
		return raw;
	char *v = arena_alloc(c->a, *n + 1);
	if (v == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < *n; i++)
		if (raw[i] != '\n' && raw[i] != '\r')
			v[o++] = raw[i];
	*n = o;
	return v;
}

/* A link of an HTML part: also when it names no host, as HTML.pm lists
 * every link (uri_relative()). */
static void uri_found_html(void *ctx, const char *raw, size_t n,
                           enum html_link kind, const char *tag)
{
	struct pctx *c = ctx;
	const char *lf = raw;
	size_t lfn = n;
	if ((raw = uri_unbroken(c, raw, &n)) == NULL)
		return;
	c->ud_type = 1u << uri_tag_type(tag);
	if (raw != lf) {   /* its URI detail keeps the line breaks */
		uri_trim(&lf, &lfn);
		c->ud_lf = (struct msg_text){ lf, lfn };
		c->ud_unlf = (struct msg_text){ raw, n };
		uri_trim(&c->ud_unlf.ptr, &c->ud_unlf.len);
	}
	if (kind == HTML_ANCHOR_KEY) {
		/* as uri_list_canonicalize takes the href as written */
		uri_trim(&raw, &n);
		ud_begin(c, raw, n, 1u << MSG_URI_PARSED);
		uri_add(c, raw, n);
		if (uri_schemed(raw, n))   /* "http://x/a/../b" (html.h) */
			uri_sa_forms(c, raw, n, 0);
		else
			uri_unschemed(c, raw, n, 0);
	} else if (!uri_found_at(c, raw, n, 0, true)) {
		uri_relative(c, raw, n, kind == HTML_ANCHOR);
	}
	c->ud_cur = SIZE_MAX;
	c->ud_lf.ptr = NULL;
}

/* The anchor text of an <a> (html.h) to the URI detail its href keys,
 * as uri_found_html() keys it (trimmed, line breaks kept). A key no
 * link listed (an <a> without href: "") is listed as SpamAssassin lists
 * it, "parsed" with itself as its one form. */
static void uri_anchor_text(void *ctx, const char *key, size_t kn,
                            const char *text, size_t tn)
{
	struct pctx *c = ctx;
	size_t slot;
	if (!c->ud_on)
		return;
	uri_trim(&key, &kn);
	size_t i = set_find(&c->ud_raws, key, kn, &slot);
	if (i == SIZE_MAX) {
		ud_begin(c, key, kn, 1u << MSG_URI_PARSED);
		if ((i = c->ud_cur) != SIZE_MAX)
			ud_put(c, &c->ud_forms, i, key, kn, UD_FORMS_MAX);
		c->ud_cur = SIZE_MAX;
	}
	if (i != SIZE_MAX)
		ud_put(c, &c->ud_anchors, i, text, tn, URI_MAX);
}

/* ---- parts ---- */

static enum msg_cte parse_cte(struct pctx *c, size_t pi)
{
	size_t n;
	const struct msg_header *h = phdr_get(c, pi, "content-transfer-encoding",
	                                      &n);
	if (h == NULL)
		return MSG_CTE_7BIT;
	if (n > 1)
		flag(c, pi, MSG_F_DUP_MIME_HEADER);
	static const struct {
		const char *name;
		enum msg_cte cte;
	} names[] = {
		{ "7bit", MSG_CTE_7BIT }, { "8bit", MSG_CTE_8BIT },
		{ "binary", MSG_CTE_BINARY }, { "base64", MSG_CTE_BASE64 },
		{ "quoted-printable", MSG_CTE_QP },
		{ "7-bit", MSG_CTE_7BIT }, { "8-bit", MSG_CTE_8BIT },
	};
	/* The last field, decoded and trimmed, compared whole and
	 * case-insensitively as Node.pm's decode() compares it: a quoted
	 * "base64" or "base64;" is not base64 there, so not here. */
	const char *v = h->decoded.ptr;
	size_t len = h->decoded.len;
	trim_space(&v, &len);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == len &&
		    strncasecmp(names[i].name, v, len) == 0)
			return names[i].cte;
	flag(c, pi, MSG_F_UNKNOWN_CTE);
	return MSG_CTE_UNKNOWN;
}

/* Transfer-decode [s, e) of part pi. */
/* d[n] with each CR LF made LF, in place; the new length. */
static size_t crlf_to_lf(char *d, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != '\r' || i + 1 == n || d[i + 1] != '\n')
			d[o++] = d[i];
	return o;
}

/* Whether what part p decodes to has its CR LF made LF by decode_body()
 * (quoted-printable; base64 of a text or message part), once, as
 * Node.pm's decode() does. */
static bool decode_folds(const struct msg_part *p)
{
	return p->cte == MSG_CTE_QP ||
	       (p->cte == MSG_CTE_BASE64 &&
	        (strncmp(p->type.ptr, "text/", 5) == 0 ||
	         strncmp(p->type.ptr, "message/", 8) == 0));
}

static struct msg_text decode_body(struct pctx *c, size_t pi,
                                   enum msg_cte cte, const char *s,
                                   const char *e)
{
	size_t n = (size_t)(e - s), out_len;
	if (cte != MSG_CTE_BASE64 && cte != MSG_CTE_QP)
		return (struct msg_text){ s, n };
	char *d = arena_alloc(c->a, n + 1);
	if (d == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return empty;
	}
	unsigned f;
	if (cte == MSG_CTE_BASE64) {
		f = cte_base64_decode(s, n, d, &out_len);
		if (f)
			flag(c, pi, MSG_F_BAD_BASE64);
	} else {
		/* the wire form's CR LF line ends as the stored message's LF
		 * first, so that a decoded "=0D" + line end folds as in
		 * SpamAssassin, which reads the stored file (audit21 M2) */
		if (memmem(s, n, "\r\n", 2) != NULL) {
			char *lf = arena_alloc(c->a, n + 1);
			if (lf == NULL) {
				c->flags |= MSG_F_TRUNCATED;
				return empty;
			}
			memcpy(lf, s, n);
			n = crlf_to_lf(lf, n);
			s = lf;
		}
		f = cte_qp_decode(s, n, d, &out_len);
		if (f)
			flag(c, pi, MSG_F_BAD_QP);
	}
	/* Node.pm's decode() turns CR LF into LF in what quoted-printable
	 * and, for text and message parts, base64 decode to, before any
	 * charset is applied: a UTF-16 text's line breaks are then its own
	 * bytes, not shifted by the CR of the wire form (audit19 M1). */
	if (decode_folds(part(c, pi)))
		out_len = crlf_to_lf(d, out_len);
	d[out_len] = '\0';
	return (struct msg_text){ d, out_len };
}

static void parse_entity(struct pctx *c, const char *s, const char *e,
                         unsigned depth, size_t parent, const char *deftype);
static void parse_headless(struct pctx *c, const char *s, const char *e,
                           unsigned depth, size_t parent,
                           const char *deftype);
static void entity_body(struct pctx *c, size_t pi, const char *body,
                        const char *e, unsigned depth, const char *deftype);
static bool blank_line(const char *s, const char *e);
static const char *line_end(const char *s, const char *e);

/* SpamAssassin 4 scans at most body_part_scan_size (50000) bytes of
 * each part's rendered text and rawbody_part_scan_size (500000) of its
 * decoded text (Message.pm): the length n of s cut there, after the
 * first of seps (in order of preference) found within SCAN_CUT_LOOK
 * bytes past the limit, else at the limit. */
#define BODY_PART_SCAN 50000
#define RAWBODY_PART_SCAN 500000
#define SCAN_CUT_LOOK 1024
static size_t scan_size_cut(const char *s, size_t n, size_t limit,
                            const char *seps)
{
	if (n <= limit)
		return n;
	for (; *seps != '\0'; seps++) {
		const char *q = memchr(s + limit, *seps, n - limit);
		if (q != NULL && (size_t)(q - s) - limit <= SCAN_CUT_LOOK)
			return (size_t)(q - s) + 1;
	}
	return limit;
}

/* The next U+201C or U+201D (UTF-8 E2 80 9C/9D) in [s, e), or NULL. */
static const char *next_curly_quote(const char *s, const char *e)
{
	while ((s = memchr(s, '\xe2', (size_t)(e - s))) != NULL) {
		if (e - s >= 3 && s[1] == '\x80' && (s[2] == '\x9c' || s[2] == '\x9d'))
			return s;
		s++;
	}
	return NULL;
}

/* SpamAssassin's HTML.pm turns U+201C and U+201D into '"' before it
 * parses (they break attribute parsing): t, or a copy so changed. */
static struct msg_text straight_quotes(struct pctx *c, struct msg_text t)
{
	const char *s = t.ptr, *e = t.ptr + t.len;
	const char *q = next_curly_quote(s, e);
	char *d = q != NULL ? arena_alloc(c->a, t.len + 1) : NULL;
	if (d == NULL)
		return t;
	size_t o = 0;
	for (; q != NULL; s = q + 3, q = next_curly_quote(s, e)) {
		memcpy(d + o, s, (size_t)(q - s));
		o += (size_t)(q - s);
		d[o++] = '"';
	}
	memcpy(d + o, s, (size_t)(e - s));
	o += (size_t)(e - s);
	d[o] = '\0';
	return (struct msg_text){ d, o };
}

/* Add part pi to the rawbody view (raw) and to the body text (body;
 * rendered as HTML when html). */
static void render_text(struct pctx *c, size_t pi, bool raw_view,
                        bool body, bool html)
{
	struct msg_part *p = part(c, pi);
	struct msg_text t = p->text;
	/* rawbody: the transfer-decoded bytes in the part's own charset,
	 * CRLF as LF (SpamAssassin's Node::decode), not converted. */
	struct msg_text d = p->decoded;
	/* Only as much as the view keeps: RAWBODY_PART_SCAN bytes and the
	 * SCAN_CUT_LOOK after them where scan_size_cut() looks for a
	 * line end (a large part is not copied whole for them). */
	size_t want = RAWBODY_PART_SCAN + SCAN_CUT_LOOK + 1;
	if (want > d.len)
		want = d.len;
	char *raw = raw_view ? arena_alloc(c->a, want + 1) : NULL;
	if (!raw_view) {
		/* not in the rawbody view */
	} else if (raw != NULL) {
		/* the wire form's CR LF as LF; a decoded text's were folded
		 * once already (a CR CR LF keeps one CR, audit21 M2), and
		 * base64 data of a part not declared text or message keeps
		 * its own, as Node.pm's decode() keeps them (an octet-stream
		 * named *.html, which SpamAssassin reads as HTML; audit23 L5) */
		bool folded = decode_folds(part(c, pi)) ||
		              part(c, pi)->cte == MSG_CTE_BASE64;
		size_t n = 0;
		for (size_t i = 0; i < d.len && n < want; i++)
			if (folded || !(d.ptr[i] == '\r' && i + 1 < d.len &&
			                d.ptr[i + 1] == '\n'))
				raw[n++] = d.ptr[i];
		raw[n] = '\0';
		add_raw_part(c, raw, scan_size_cut(raw, n, RAWBODY_PART_SCAN,
		                                   "\n> "));
	} else {
		c->raw_data.failed = 1;
	}
	if (!body || t.len == 0)
		return;   /* SpamAssassin renders nothing of an empty part */
	if (!html) {
		part(c, pi)->rendered = t;
		size_t k = scan_size_cut(t.ptr, t.len, BODY_PART_SCAN, "\n ");
		arena_buf_put(&c->rendered, t.ptr, k);
		return;
	}
	/* Rendered on its own, so that the part starts afresh (no line
	 * breaks at its start, whatever came before), then appended. */
	bool ascii = charset_is_ascii(t.ptr, t.len);
	t = straight_quotes(c, t);
	struct arena_buf part_text;
	arena_buf_init(&part_text, c->a);
	struct html_out o = { &part_text, &c->invisible, &c->title,
	                      uri_found_html, c, ascii, { 0 },
	                      c->ud_on ? uri_anchor_text : NULL };
	html_render(t.ptr, t.len, &o);
	if (part_text.failed)
		c->rendered.failed = 1;
	else if (part_text.len > 0)
		arena_buf_put(&c->rendered, part_text.p,
		              scan_size_cut(part_text.p, part_text.len,
		                            BODY_PART_SCAN, "\n "));
	size_t rlen = part_text.len;
	const char *r = part_text.failed ? NULL : arena_buf_finish(&part_text);
	p = part(c, pi);
	p->rendered = (struct msg_text){ r ? r : "", r ? rlen : 0 };
	p->rendered_html = true;
	p->html_images = o.facts.images;
	p->html_tag_events = o.facts.tag_events;
	p->html_obfuscation = o.facts.obfuscation;
	p->html_nonspace = o.facts.visible_len + o.facts.invisible_len;
	struct msg_html *h = &c->m->html;
	h->parts++;
	h->visible_len += o.facts.visible_len;
	h->invisible_len += o.facts.invisible_len;
	h->images += o.facts.images;
	h->links += o.facts.links;
	h->mismatched_links += o.facts.mismatched_links;
	h->tags += o.facts.tags;
	if (o.facts.malformed)
		flag(c, pi, MSG_F_HTML_MALFORMED);
	if (o.facts.invisible_len > 0)
		flag(c, pi, MSG_F_HTML_INVISIBLE);
	if (o.facts.mismatched_links > 0)
		flag(c, pi, MSG_F_HTML_MISMATCH_LINK);
}

/* SpamAssassin's effective type (Node.pm): a part named *.htm, *.html,
 * *.shtm or *.shtml is text/html whatever its declared type. */
static bool html_by_name(const struct msg_text *name)
{
	static const char *const ext[] = { ".htm", ".html", ".shtm", ".shtml" };
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t n = strlen(ext[i]);
		if (name->len >= n &&
		    strncasecmp(name->ptr + name->len - n, ext[i], n) == 0)
			return true;
	}
	return false;
}

/* t with its RFC 2047 encoded words decoded (t itself when it has none
 * or out of memory). */
static struct msg_text decoded_words(struct pctx *c, struct msg_text t)
{
	if (!rfc2047_maybe(t.ptr, t.len))
		return t;
	struct arena_buf b;
	arena_buf_init(&b, c->a);
	rfc2047_decode(&c->cv, t.ptr, t.len, &b);
	return b.failed ? t : (struct msg_text){ arena_buf_finish(&b), b.len };
}

/* Whether part pi is HTML by its name as SpamAssassin names it
 * (Message.pm: Content-Disposition's first name=, no RFC 2231, else
 * Content-Type's name; encoded words decoded, as its header() does), not
 * by the RFC 2231 filename (audit17 L2). */
static bool sa_html_by_name(struct pctx *c, size_t pi)
{
	size_t n, len = 0;
	const char *v = NULL;
	const struct msg_header *h = phdr_get(c, pi, "content-disposition", &n);
	if (h == NULL || !mime_sa_disp_name(h->value.ptr, h->value.len, &v,
	                                    &len)) {
		h = phdr_get(c, pi, "content-type", &n);
		if (h == NULL)
			return false;
		if (!mime_sa_type_name(h->value.ptr, h->value.len, &v, &len)) {
			/* Util.pm joins name*0, name*1 ... when there is no
			 * name; the part's filename has them joined */
			if (!mime_sa_name_parts(h->value.ptr, h->value.len))
				return false;
			return html_by_name(&part(c, pi)->filename);
		}
	}
	struct msg_text name = decoded_words(c, (struct msg_text){ v, len });
	return html_by_name(&name);
}

static bool in_multipart(struct pctx *c, size_t pi)
{
	for (size_t q = part(c, pi)->parent; q != SIZE_MAX; q = part(c, q)->parent)
		if (strncmp(part(c, q)->type.ptr, "multipart/", 10) == 0)
			return true;
	return false;
}

/* SpamAssassin splits each body line of a multipart's part that is longer
 * than MAX_BODY_LINE_LENGTH (2048) bytes, its line end counted, into
 * pieces of 2048 bytes each followed by "\n" (Message.pm,
 * _parse_multipart), before any decoding: identity and quoted-printable
 * text gets line breaks there. The part's last line is counted with the
 * line end that goes to the boundary (SpamAssassin cuts it off after the
 * split). [*s, *e) is replaced by a split copy when a line is that
 * long. */
#define SA_MAX_BODY_LINE 2048
static void split_long_lines(struct pctx *c, const char **s, const char **e)
{
	size_t n = (size_t)(*e - *s), extra = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(*s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - *s) + 1 - i : n - i;
		size_t counted = len + (nl == NULL);
		if (counted > SA_MAX_BODY_LINE)
			extra += (counted - 1) / SA_MAX_BODY_LINE;
		i += len;
	}
	if (extra == 0)
		return;
	char *d = arena_alloc(c->a, n + extra + 1);
	if (d == NULL)
		return;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(*s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - *s) + 1 - i : n - i;
		for (size_t counted = len + (nl == NULL);
		     counted > SA_MAX_BODY_LINE; counted -= SA_MAX_BODY_LINE) {
			memcpy(d + o, *s + i, SA_MAX_BODY_LINE);
			o += SA_MAX_BODY_LINE;
			d[o++] = '\n';
			i += SA_MAX_BODY_LINE;
			len -= SA_MAX_BODY_LINE;
		}
		memcpy(d + o, *s + i, len);
		o += len;
		i += len;
	}
	d[o] = '\0';
	*s = d;
	*e = d + o;
}

static void leaf(struct pctx *c, size_t pi, const char *body, const char *e)
{
	/* SpamAssassin puts a line break between the body text of two
	 * leaf parts, even parts that add no text (an image). */
	if (c->rendered.len > c->text_start)
		arena_buf_putc(&c->rendered, '\n');
	struct msg_part *p = part(c, pi);
	if (p->cte != MSG_CTE_BASE64 && in_multipart(c, pi))
		split_long_lines(c, &body, &e);
	p = part(c, pi);
	p->decoded = decode_body(c, pi, p->cte, body, e);
	const char *det = sniff_type(p->decoded.ptr, p->decoded.len);
	p = part(c, pi);
	if (det != NULL) {
		p->detected = (struct msg_text){ det, strlen(det) };
		if (sniff_mismatch(p->type.ptr, det))
			flag(c, pi, MSG_F_TYPE_MISMATCH);
	}
	bool html = sa_html_by_name(c, pi);
	p = part(c, pi);
	const char *t = html ? "text/html" : p->type.ptr;
	p->is_text = strncmp(t, "text/", 5) == 0 ||
	             (strncmp(t, "message/", 8) == 0 && det == NULL);
	if (!p->is_text)
		return;
	if (p->cte == MSG_CTE_7BIT && has_8bit(body, (size_t)(e - body)))
		flag(c, pi, MSG_F_8BIT_BODY);
	struct arena_buf out;
	arena_buf_init(&out, c->a);
	unsigned f = charset_to_utf8(&c->cv, p->charset.ptr, p->charset.len,
	                             p->decoded.ptr, p->decoded.len, &out);
	if (f & CHARSET_UNKNOWN)
		flag(c, pi, MSG_F_UNKNOWN_CHARSET);
	if (f & CHARSET_BAD_DATA)
		flag(c, pi, MSG_F_BAD_CHARSET_DATA);
	if (out.failed) {
		c->flags |= MSG_F_TRUNCATED;
		return;
	}
	p = part(c, pi);
	p->text = (struct msg_text){ arena_buf_finish(&out), out.len };
	/* rawbody: text and message types but text/calendar (Message.pm);
	 * body: text/plain and text/html, the types Node.pm's rendered()
	 * knows (text/x-vcard and text/calendar are left out). */
	html = strcmp(t, "text/html") == 0;
	bool cal = strcmp(t, "text/calendar") == 0;
	render_text(c, pi, !cal, html || strcmp(t, "text/plain") == 0, html);
}

/* Whether line [s, e) is a delimiter of the boundary in needle. */
static bool delimiter_line(const char *s, const char *e, const char *needle,
                           size_t nl)
{
	struct mime_delim d;
	return mime_next_boundary(s, s, e, needle, nl, &d) && d.line == s;
}

/* Whether the part starting at s (up to e) takes the delimiters of
 * needle's boundary b up to its own close, as Message.pm decides it (its
 * bug 7358: one level of a reused boundary): when its header section
 * ends at a line that is neither a field nor a delimiter, its last field
 * is a Content-Type (of any type) whose boundary, as SpamAssassin reads
 * it, is b. A peek: the part is parsed later. */
static bool declares_boundary(struct pctx *c, const char *s, const char *e,
                              const char *needle, size_t nl)
{
	const char *last = NULL, *last_end = NULL, *p = s;
	for (;;) {
		if (p >= e)
			return false;
		const char *next = line_end(p, e);
		if (delimiter_line(p, next, needle, nl))
			return false;
		if (last != NULL && (*p == ' ' || *p == '\t'))
			last_end = next;
		else if (msg_field_line(p, (size_t)(next - p)))
			last = p, last_end = next;
		else
			break;
		p = next;
	}
	if (last == NULL || last_end - last < 13 ||
	    strncasecmp(last, "content-type:", 13) != 0 ||
	    memmem(last, (size_t)(last_end - last), needle + 3, nl - 3) == NULL)
		return false;
	struct msg_text u = unfold(c, last + 13, (size_t)(last_end - last - 13));
	const char *v;
	size_t vl;
	return mime_sa_boundary(u.ptr, u.len, &v, &vl) && vl == nl - 3 &&
	       memcmp(v, needle + 3, vl) == 0;
}

/* The text [s, e) of multipart pi before a close delimiter that no
 * opening one precedes: a part to SpamAssassin (Message.pm keeps
 * everything when it finds no opening delimiter, and its parts end at
 * the close), not a preamble. A message's body that starts with a line
 * holding more than blanks, other than "--boundary...", gets an empty
 * line in front (its bug 6845), so that part has no header section; a
 * nested multipart's is read as any part's. */
static void close_only_part(struct pctx *c, size_t pi, const char *s,
                            const char *e, unsigned depth,
                            const char *deftype)
{
	const struct msg_part *p = part(c, pi);
	const char *le = line_end(s, e);
	size_t bl = p->boundary.len;
	bool delim = (size_t)(le - s) >= bl + 2 && s[0] == '-' &&
	             s[1] == '-' && memcmp(s + 2, p->boundary.ptr, bl) == 0;
	if (is_message(c, pi) && !blank_line(s, le) && !delim)
		parse_headless(c, s, e, depth + 1, pi, deftype);
	else
		parse_entity(c, s, e, depth + 1, pi, deftype);
}

static void multipart(struct pctx *c, size_t pi, const char *body,
                      const char *e, unsigned depth)
{
	struct msg_part *p = part(c, pi);
	const char *b = p->boundary.ptr;
	size_t bl = p->boundary.len;
	bool digest = strcmp(p->type.ptr, "multipart/digest") == 0;
	for (unsigned i = 0; i < c->nbounds; i++)
		if (c->bound_len[i] == bl && memcmp(c->bounds[i], b, bl) == 0)
			flag(c, pi, MSG_F_DUP_BOUNDARY);
	char *needle = arena_alloc(c->a, bl + 3);
	if (needle == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return;
	}
	needle[0] = '\n';
	needle[1] = needle[2] = '-';
	memcpy(needle + 3, b, bl);
	const char *deftype = digest ? "message/rfc822" : "text/plain";
	struct mime_delim d;
	if (!mime_next_boundary(body, body, e, needle, bl + 3, &d)) {
		flag(c, pi, MSG_F_BOUNDARY_MISSING);
		if (!is_message(c, pi)) {
			/* Message.pm keeps a part's whole body as one part,
			 * starting with its header section (none when the body
			 * has no line; its last line is body before it is read
			 * as a field, so a body of one line has none either:
			 * audit21 L5). */
			if (line_end(body, e) >= e && body < e)
				parse_headless(c, body, e, depth + 1, pi, deftype);
			else if (body < e)
				parse_entity(c, body, e, depth + 1, pi, deftype);
			return;
		}
		/* A message's gets an empty line in front (bug 6845): one
		 * part of text, as a mail reader shows it. */
		p->type = (struct msg_text){ "text/plain", 10 };
		leaf(c, pi, body, e);
		return;
	}
	if (!d.close)
		p->preamble = (struct msg_text){ body,
		                                 (size_t)(d.body_end - body) };
	if (c->nbounds < DEPTH_CAP) {
		c->bounds[c->nbounds] = b;
		c->bound_len[c->nbounds++] = bl;
	}
	if (d.close)
		close_only_part(c, pi, body, d.body_end, depth, deftype);
	for (unsigned nparts = 0; !d.close; nparts++) {
		if (nparts == MSG_MULTIPART_MAX_PARTS) {
			/* SpamAssassin's parser stops there (Message.pm) */
			flag(c, pi, MSG_F_PART_LIMIT | MSG_F_TRUNCATED);
			goto out;
		}
		const char *start = d.after;
		struct mime_delim nd;
		/* A part that is a multipart with the same boundary takes the
		 * delimiters up to its own close (SpamAssassin, bug 7358: one
		 * level of a reused boundary). */
		const char *from = start;
		if (declares_boundary(c, start, e, needle, bl + 3)) {
			struct mime_delim cd = { .close = false };
			while (!cd.close &&
			       mime_next_boundary(body, from, e, needle, bl + 3, &cd))
				from = cd.after;
		}
		if (!mime_next_boundary(body, from, e, needle, bl + 3, &nd)) {
			flag(c, pi, MSG_F_NO_CLOSE_BOUNDARY);
			parse_entity(c, start, e, depth + 1, pi, deftype);
			goto out;
		}
		parse_entity(c, start, nd.body_end < start ? start : nd.body_end,
		             depth + 1, pi, deftype);
		d = nd;
	}
	p = part(c, pi);
	p->epilogue = (struct msg_text){ d.after, (size_t)(e - d.after) };
out:
	c->nbounds--;
}

/* The charset of part pi as SpamAssassin's parse_content_type() takes
 * it from Content-Type h (its header(), encoded words decoded), not as
 * RFC 2045/2231 define it (audit17 L3): what decodes the text and what
 * the MIME evals test must be what SpamAssassin's do. */
static void sa_charset(struct pctx *c, size_t pi, const struct msg_header *h)
{
	const char *v;
	size_t vl;
	if (!mime_sa_charset(h->decoded.ptr, h->decoded.len, &v, &vl))
		return;
	char *lc = arena_strndup(c->a, v, vl);
	if (lc == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return;
	}
	for (size_t i = 0; i < vl; i++)
		lc[i] = (char)tolower((unsigned char)lc[i]);
	struct msg_part *p = part(c, pi);
	p->charset = (struct msg_text){ lc, vl };
	p->charset_given = true;
}

/* Content-Type and Content-Disposition of part pi. */
static void mime_info(struct pctx *c, size_t pi, const char *deftype)
{
	struct msg_part *p = part(c, pi);
	size_t n;
	p->type = (struct msg_text){ deftype, strlen(deftype) };
	const struct msg_header *h = phdr_get(c, pi, "content-type", &n);
	if (n > 1)
		flag(c, pi, MSG_F_DUP_MIME_HEADER);
	struct mime_field f;
	if (h != NULL && mime_parse_field(c->a, h->value.ptr, h->value.len,
	                                  &f) == 0) {
		if (f.malformed || memchr(f.token, '/', f.token_len) == NULL)
			flag(c, pi, MSG_F_BAD_CONTENT_TYPE);
		if (f.dup_param)
			flag(c, pi, MSG_F_DUP_MIME_HEADER);
		/* The type as SpamAssassin folds it, not the RFC 2045 token
		 * (a quoted "text/html" is HTML, text/enriched is plain). */
		size_t tl;
		const char *t = mime_sa_type(c->a, h->value.ptr, h->value.len,
		                             &tl);
		p = part(c, pi);
		if (t != NULL)
			p->type = (struct msg_text){ t, tl };
		else
			c->flags |= MSG_F_TRUNCATED;
		const char *v;
		size_t vl;
		sa_charset(c, pi, h);
		p = part(c, pi);
		if (mime_sa_boundary(h->decoded.ptr, h->decoded.len, &v, &vl))
			p->boundary = dup_text(c, v, vl);
		if ((v = mime_param(c->a, &c->cv, &f, "name", &vl)) != NULL)
			p->filename = (struct msg_text){ v, vl };
	}
	h = phdr_get(c, pi, "content-disposition", &n);
	if (h != NULL && mime_parse_field(c->a, h->value.ptr, h->value.len,
	                                  &f) == 0) {
		const char *v;
		size_t vl;
		p = part(c, pi);
		p->attachment = strcmp(f.token, "attachment") == 0;
		if ((v = mime_param(c->a, &c->cv, &f, "filename", &vl)) != NULL)
			p->filename = (struct msg_text){ v, vl };
	}
	struct msg_text name = decoded_words(c, part(c, pi)->filename);
	part(c, pi)->filename = name;
}

static size_t new_part(struct pctx *c, size_t parent, unsigned depth,
                       const char *s, const char *e)
{
	struct msg_part p = {   /* the fields not named: 0, false */
		.parent = parent, .depth = depth, .type = empty,
		.charset = empty, .boundary = empty, .filename = empty,
		.detected = empty, .body = empty, .decoded = empty,
		.text = empty, .rendered = empty, .preamble = empty,
		.epilogue = empty,
		.raw = { s, (size_t)(e - s) }, .cte = MSG_CTE_7BIT,
	};
	struct phdr ph = { 0, 0 };
	arena_buf_put(&c->parts, &p, sizeof p);
	arena_buf_put(&c->phdr, &ph, sizeof ph);
	if (c->parts.failed || c->phdr.failed)
		return SIZE_MAX;
	return c->parts.len / sizeof p - 1;
}

static void sa_unfold(const struct msg_text *raw,
                      void (*put)(void *, const char *, size_t), void *out);

static void put_arena(void *b, const char *s, size_t n)
{
	arena_buf_put(b, s, n);
}

/* The body view starts with the decoded Subject and "\n" (just "\n"
 * without one), its own element, blanks not collapsed (Message.pm). */
static void subject_first(struct pctx *c)
{
	size_t n;
	const struct msg_header *h = phdr_get(c, 0, "subject", &n);
	if (h != NULL && memchr(h->raw.ptr, '\n', h->raw.len) != NULL &&
	    h->decoded.ptr == h->value.ptr) {
		sa_unfold(&h->raw, put_arena, &c->rendered);
	} else if (h != NULL) {
		arena_buf_put(&c->rendered, h->decoded.ptr, h->decoded.len);
	}
	arena_buf_putc(&c->rendered, '\n');
	c->text_start = c->rendered.len;
}

/* Whether the line [s, e) holds only Perl's \s bytes (so is blank to
 * SpamAssassin's /^\s*$/). */
static bool blank_line(const char *s, const char *e)
{
	for (; s < e; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' &&
		    *s != '\f' && *s != '\v')
			return false;
	return true;
}

/* The end of the line starting at s (after its LF, or e). */
static const char *line_end(const char *s, const char *e)
{
	const char *nl = memchr(s, '\n', (size_t)(e - s));
	return nl ? nl + 1 : e;
}

#define BLANK_RUN_MAX 20

/* The blank lines of a run starting at p that SpamAssassin keeps at its
 * head: the first, of a run that starts the body (s) the first two (its
 * loop counts such a run one short). */
static size_t run_head(const char *p, const char *s)
{
	return p == s ? 2 : 1;
}

/* Whether the body [s, e) has a run of blank lines squash_blank_runs()
 * cuts. */
static bool long_blank_run(const char *s, const char *e)
{
	size_t n = 0;
	const char *start = s;
	for (const char *p = s, *next; p < e; p = next) {
		next = line_end(p, e);
		if (!blank_line(p, next)) {
			n = 0;
			continue;
		}
		if (n++ == 0)
			start = p;
		if (n > BLANK_RUN_MAX + run_head(start, s) - 1)
			return true;
	}
	return false;
}

/* Appends to out the body [s, e) as SpamAssassin's Message.pm parses it
 * when long_blank_run(): of a run of more than 20 blank lines the head
 * (run_head()) and the last 19 are kept. */
static void squash_blank_runs(const char *s, const char *e,
                              struct arena_buf *out)
{
	for (const char *p = s; p < e;) {
		const char *q = p, *next;
		size_t n = 0;
		while (q < e && blank_line(q, next = line_end(q, e))) {
			q = next;
			n++;
		}
		size_t head = run_head(p, s);
		if (n > BLANK_RUN_MAX + head - 1) {
			const char *keep_to = p, *skip_to = p;
			for (size_t i = 0; i < head; i++)
				keep_to = line_end(keep_to, e);
			for (size_t i = 0; i < n - (BLANK_RUN_MAX - 1); i++)
				skip_to = line_end(skip_to, e);
			arena_buf_put(out, p, (size_t)(keep_to - p));
			p = skip_to;
		}
		arena_buf_put(out, p, (size_t)(q - p));
		p = q;
		if (p < e) {
			q = line_end(p, e);
			arena_buf_put(out, p, (size_t)(q - p));
			p = q;
		}
	}
}

/* A new part of parent for [s, e), or SIZE_MAX when none can be made
 * (the part limit, or no memory: flagged). */
static size_t add_part(struct pctx *c, const char *s, const char *e,
                       unsigned depth, size_t parent)
{
	if (c->parts.len / sizeof(struct msg_part) >= c->lim.max_parts) {
		flag(c, parent, MSG_F_PART_LIMIT | MSG_F_TRUNCATED);
		return SIZE_MAX;
	}
	size_t pi = new_part(c, parent, depth, s, e);
	if (pi == SIZE_MAX)
		c->flags |= MSG_F_TRUNCATED;
	return pi;
}

/* A part of parent without a header section: [s, e) is its body. */
static void parse_headless(struct pctx *c, const char *s, const char *e,
                           unsigned depth, size_t parent, const char *deftype)
{
	size_t pi = add_part(c, s, e, depth, parent);
	if (pi != SIZE_MAX)
		entity_body(c, pi, s, e, depth, deftype);
}

static void parse_entity(struct pctx *c, const char *s, const char *e,
                         unsigned depth, size_t parent, const char *deftype)
{
	size_t pi = add_part(c, s, e, depth, parent);
	if (pi == SIZE_MAX)
		return;
	const char *body = parse_headers(c, pi, s, e);
	if (pi == 0) {
		c->m->raw_header = (struct msg_text){ s, (size_t)(body - s) };
		c->m->raw_body = (struct msg_text){ body, (size_t)(e - body) };
		subject_first(c);
	}
	/* An inner message's body too, as Message.pm parses it with a
	 * Message of its own: this matters when it was encoded (base64,
	 * quoted-printable), since the message's cut saw the encoded text. */
	if (is_message(c, pi) && long_blank_run(body, e)) {
		struct arena_buf sq;
		arena_buf_init(&sq, c->a);
		squash_blank_runs(body, e, &sq);
		if (!sq.failed) {
			body = sq.p;
			e = sq.p + sq.len;
		}
	}
	entity_body(c, pi, body, e, depth, deftype);
}

/* A part of a multipart without a boundary of its own (or with "0",
 * false to Perl) takes its parent's, as Message.pm's $p_boundary ||=
 * $boundary gives it: a multipart part without one is parsed with the
 * delimiters of the one around it. */
static void inherit_boundary(struct pctx *c, size_t pi)
{
	struct msg_part *p = part(c, pi);
	if (pi == 0 || is_message(c, pi) ||
	    (p->boundary.len > 0 &&
	     !(p->boundary.len == 1 && p->boundary.ptr[0] == '0')))
		return;
	const struct msg_part *parent = part(c, p->parent);
	if (strncmp(parent->type.ptr, "multipart/", 10) == 0)
		p->boundary = parent->boundary;
}

/* Part pi, whose header section is parsed, from its body [body, e). */
static void entity_body(struct pctx *c, size_t pi, const char *body,
                        const char *e, unsigned depth, const char *deftype)
{
	struct msg_part *p = part(c, pi);
	p->body = (struct msg_text){ body, (size_t)(e - body) };
	mime_info(c, pi, deftype);
	inherit_boundary(c, pi);
	p = part(c, pi);
	p->cte = parse_cte(c, pi);
	p = part(c, pi);
	bool encoded = p->cte == MSG_CTE_BASE64 || p->cte == MSG_CTE_QP;
	bool is_multi = strncmp(p->type.ptr, "multipart/", 10) == 0;
	bool is_rfc822 = strcmp(p->type.ptr, "message/rfc822") == 0 ||
	                 strcmp(p->type.ptr, "message/global") == 0;
	if (pi == 0 && (is_multi || encoded)) {
		size_t n;
		if (phdr_get(c, 0, "mime-version", &n) == NULL)
			flag(c, 0, MSG_F_NO_MIME_VERSION);
	}
	if ((is_multi || is_rfc822) && depth >= c->lim.max_depth) {
		flag(c, pi, MSG_F_DEPTH_LIMIT | MSG_F_TRUNCATED);
		p->decoded = (struct msg_text){ body, (size_t)(e - body) };
		return;
	}
	if (is_multi) {
		if (encoded)
			flag(c, pi, MSG_F_ENCODED_MULTIPART);
		if (p->boundary.len == 0) {
			flag(c, pi, MSG_F_NO_BOUNDARY);
			p->type = (struct msg_text){ "text/plain", 10 };
			leaf(c, pi, body, e);
			return;
		}
		if (!mime_boundary_valid(p->boundary.ptr, p->boundary.len))
			flag(c, pi, MSG_F_BAD_BOUNDARY);
		multipart(c, pi, body, e, depth);
		return;
	}
	if (is_rfc822) {
		if (encoded)
			flag(c, pi, MSG_F_ENCODED_MULTIPART);
		p->decoded = decode_body(c, pi, p->cte, body, e);
		struct msg_text d = part(c, pi)->decoded;
		parse_entity(c, d.ptr, d.ptr + d.len, depth + 1, pi, "text/plain");
		return;
	}
	leaf(c, pi, body, e);
}

/* ---- body paragraphs (SpamAssassin's whitespace rules) ---- */

/* SpamAssassin's blanks: Perl's \s on its Unicode text (the body is
 * decoded, normalize_charset): space, tab, LF, CR, VT, FF (1 in ws_tab)
 * and, in UTF-8, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, whose lead bytes are 2 in ws_tab. */
static const unsigned char ws_tab[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1,
	[0xc2] = 2, [0xe1] = 2, [0xe2] = 2, [0xe3] = 2,
	['\0'] = 3, /* not a blank: see build_body() */
};

/* Bytes of the blank at s[i] (s holds n bytes), or 0. */
static size_t ws_len(const char *s, size_t i, size_t n)
{
	const unsigned char *u = (const unsigned char *)s + i;
	switch (ws_tab[u[0]]) {
	case 0: case 3: return 0;
	case 1: return 1;
	default: break;
	}
	if (u[0] == 0xc2)
		return i + 1 < n && (u[1] == 0x85 || u[1] == 0xa0) ? 2 : 0;
	if (i + 2 >= n)
		return 0;
	unsigned cp = (unsigned)(u[0] & 0x0f) << 12 |
	              (unsigned)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	if ((u[1] & 0xc0) != 0x80 || (u[2] & 0xc0) != 0x80)
		return 0;
	return utf8_is_perl_space(cp) ? 3 : 0;
}

static void emit_piece(struct arena_buf *data, struct arena_buf *v,
                       const char *s, size_t k)
{
	struct span sp = { data->len, k };
	arena_buf_put(data, s, k);
	arena_buf_putc(data, '\0');
	arena_buf_put(v, &sp, sizeof sp);
}

/* Emit one paragraph (longer than CHUNK_MAX bytes) in SpamAssassin's
 * pieces (Message.pm, split_into_array_of_short_lines): while it is
 * longer than CHUNK_MAX bytes, cut after its last space at or before
 * offset CHUNK_MAX (so a piece may hold CHUNK_MAX + 1 bytes), else after
 * CHUNK_MAX bytes; what is left is a piece too, even when empty. */
static void emit_paragraph(struct arena_buf *data, struct arena_buf *v,
                           const char *s, size_t n)
{
	while (n > CHUNK_MAX) {
		size_t b = CHUNK_MAX + 1;
		while (b > 0 && s[b - 1] != ' ')
			b--;
		size_t k = b > 0 ? b : CHUNK_MAX;
		emit_piece(data, v, s, k);
		s += k;
		n -= k;
	}
	emit_piece(data, v, s, n);
}

/* End the paragraph that starts at data offset start: record it, or
 * re-emit it in pieces when it is too long. */
static void end_paragraph(struct arena_buf *data, struct arena_buf *v,
                          size_t start)
{
	size_t n = data->len - start;
	if (n == 0 || data->failed)
		return;
	if (n <= CHUNK_MAX) {
		struct span sp = { start, n };
		arena_buf_putc(data, '\0');
		arena_buf_put(v, &sp, sizeof sp);
		return;
	}
	char *copy = arena_strndup(data->a, data->p + start, n);
	if (copy == NULL) {
		data->failed = 1;
		return;
	}
	data->len = start;
	emit_paragraph(data, v, copy, n);
}

/* End the paragraph at para with its line break; returns where the next
 * one starts. */
static size_t break_paragraph(struct arena_buf *data, struct arena_buf *v,
                              size_t para)
{
	arena_buf_putc(data, '\n');
	end_paragraph(data, v, para);
	return data->len;
}

/* Collapse the rendered text the way SpamAssassin does: a blank run
 * holding two or more line breaks ends a paragraph (a blank before or
 * after the breaks survives as one space), any other blank run becomes
 * one space. Stretches whose blanks are single spaces are copied whole.
 * SpamAssassin marks paragraph ends with NUL before collapsing and turns
 * every NUL into a line break after, so a NUL of the text ends a
 * paragraph too (the blanks around it collapse on their own). */
static void build_body(struct pctx *c, struct arena_buf *data,
                       struct arena_buf *v)
{
	if (c->rendered.len == 0 ||
	    arena_buf_reserve(data, c->rendered.len + c->rendered.len / 8 + 16) != 0)
		return;
	/* The Subject line as it is, then the parts' text collapsed. */
	arena_buf_put(data, c->rendered.p, c->text_start);
	end_paragraph(data, v, 0);
	const char *s = c->rendered.p + c->text_start;
	size_t n = c->rendered.len - c->text_start;
	size_t para = data->len, seg = 0;
	for (size_t i = 0; i < n;) {
		while (i < n && !ws_tab[(unsigned char)s[i]])
			i++;
		if (i >= n)
			break;
		if (s[i] == '\0') {
			arena_buf_put(data, s + seg, i - seg);
			para = break_paragraph(data, v, para);
			i = seg = i + 1;
			continue;
		}
		size_t w = ws_len(s, i, n);
		if (w == 0 ||
		    (s[i] == ' ' && (i + 1 >= n || ws_len(s, i + 1, n) == 0))) {
			i += w ? w : 1;
			continue;
		}
		arena_buf_put(data, s + seg, i - seg);
		size_t j = i, nls = 0, first = SIZE_MAX, last = 0;
		for (; j < n && (w = ws_len(s, j, n)) > 0; j += w)
			if (s[j] == '\n' || s[j] == '\f') {
				nls++;
				if (first == SIZE_MAX)
					first = j;
				last = j;
			}
		if (nls < 2) {
			arena_buf_putc(data, ' ');
		} else {
			if (first > i)
				arena_buf_putc(data, ' ');
			para = break_paragraph(data, v, para);
			if (last + 1 < j)
				arena_buf_putc(data, ' ');
		}
		i = seg = j;
	}
	arena_buf_put(data, s + seg, n - seg);
	end_paragraph(data, v, para);
}

/* ---- assembly ---- */

static struct msg_text *spans_to_texts(struct pctx *c, struct arena_buf *data,
                                       struct arena_buf *v, size_t *count)
{
	size_t n = v->len / sizeof(struct span);
	*count = 0;
	if (data->failed || v->failed) {
		c->flags |= MSG_F_TRUNCATED;
		return NULL;
	}
	if (n == 0)
		return NULL;
	struct msg_text *t = arena_alloc(c->a, n * sizeof *t);
	if (t == NULL) {
		c->flags |= MSG_F_TRUNCATED;
		return NULL;
	}
	const struct span *sp = (const struct span *)v->p;
	for (size_t i = 0; i < n; i++)
		t[i] = (struct msg_text){ data->p + sp[i].off, sp[i].len };
	*count = n;
	return t;
}

static void scan_lines(struct pctx *c, const char *s, size_t n)
{
	if (memchr(s, '\0', n) != NULL)
		c->flags |= MSG_F_NUL;
	size_t crlf = 0, lf = 0;
	const char *p = s, *end = s + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > LONG_LINE + (size_t)(le > p && le[-1] == '\r'))
			c->flags |= MSG_F_LONG_LINE;
		if (nl == NULL)
			break;
		if (nl > s && nl[-1] == '\r')
			crlf++;
		else
			lf++;
		p = nl + 1;
	}
	if (crlf && lf)
		c->flags |= MSG_F_MIXED_EOL;
}

/* The records of recs (struct ud_rec) of raw i, in order, from the
 * counting sort ud_finish() made: order[at[i] .. at[i + 1]); once: each
 * text once (forms; a raw's anchor texts may be thousands, and
 * whether one repeats tells a rule nothing). */
static struct msg_text *ud_texts(struct pctx *c, const struct arena_buf *recs,
                                 const size_t *order, const size_t *at,
                                 size_t i, bool once, size_t *n)
{
	const struct ud_rec *r = (const struct ud_rec *)recs->p;
	*n = 0;
	struct msg_text *t = at[i + 1] > at[i] ?
	                     arena_alloc(c->a, (at[i + 1] - at[i]) * sizeof *t) :
	                     NULL;
	for (size_t k = at[i]; t != NULL && k < at[i + 1]; k++) {
		const struct ud_rec *x = &r[order[k]];
		bool dup = false;
		for (size_t j = 0; once && j < *n && !dup; j++)
			dup = t[j].len == x->len &&
			      memcmp(t[j].ptr, c->ud_data.p + x->off, x->len) == 0;
		if (!dup)
			t[(*n)++] = (struct msg_text){ c->ud_data.p + x->off,
			                               x->len };
	}
	return t;
}

/* recs (struct ud_rec) by raw, stable: *order and *at (nraw + 1
 * offsets) in the arena; false when out of memory. */
static bool ud_sort(struct pctx *c, const struct arena_buf *recs, size_t nraw,
                    size_t **order, size_t **at)
{
	const struct ud_rec *r = (const struct ud_rec *)recs->p;
	size_t n = recs->len / sizeof *r;
	*order = arena_alloc(c->a, (n ? n : 1) * sizeof **order);
	*at = arena_alloc(c->a, (nraw + 2) * sizeof **at);
	if (*order == NULL || *at == NULL)
		return false;
	memset(*at, 0, (nraw + 2) * sizeof **at);
	for (size_t k = 0; k < n; k++)
		if (r[k].raw < nraw)
			(*at)[r[k].raw + 2]++;
	for (size_t i = 0; i < nraw; i++)
		(*at)[i + 2] += (*at)[i + 1];
	for (size_t k = 0; k < n; k++)
		if (r[k].raw < nraw)
			(*order)[(*at)[r[k].raw + 1]++] = k;
	return true;
}

/* The hosts uri_to_domain() finds in d's cleaned forms, lower case,
 * each once. */
static void ud_hosts(struct pctx *c, struct msg_uri_detail *d)
{
	struct msg_text *h = d->ncleaned ?
	                     arena_alloc(c->a, d->ncleaned * sizeof *h) : NULL;
	d->hosts = h;
	for (size_t k = 0; h != NULL && k < d->ncleaned; k++) {
		const char *hp;
		size_t hn;
		if (!uri_sa_host(d->cleaned[k].ptr, d->cleaned[k].len, &hp, &hn))
			continue;
		char *l = arena_strndup(c->a, hp, hn);
		if (l == NULL)
			break;
		for (size_t j = 0; j < hn; j++)
			l[j] = (char)tolower((unsigned char)l[j]);
		bool dup = false;
		for (size_t j = 0; j < d->nhosts && !dup; j++)
			dup = h[j].len == hn && memcmp(h[j].ptr, l, hn) == 0;
		if (!dup)
			h[d->nhosts++] = (struct msg_text){ l, hn };
	}
}

/* The URI details from what the parse recorded (ud_begin(), uri_add(),
 * uri_anchor_text()). */
static void ud_finish(struct pctx *c)
{
	struct msg *m = c->m;
	size_t n = c->ud_raws.v.len / sizeof(struct span), *fo, *fa, *ao, *aa;
	if (c->ud_types.len / sizeof(uint32_t) < n)
		n = c->ud_types.len / sizeof(uint32_t);
	if (n == 0 || c->ud_raws.data.failed || c->ud_data.failed ||
	    c->ud_forms.failed || c->ud_anchors.failed ||
	    !ud_sort(c, &c->ud_forms, n, &fo, &fa) ||
	    !ud_sort(c, &c->ud_anchors, n, &ao, &aa) ||
	    (m->ud = arena_alloc(c->a, n * sizeof *m->ud)) == NULL)
		return;
	const struct span *raw = (const struct span *)c->ud_raws.v.p;
	const uint32_t *types = (const uint32_t *)c->ud_types.p;
	for (size_t i = 0; i < n; i++) {
		struct msg_uri_detail *d = &m->ud[i];
		*d = (struct msg_uri_detail){
			.raw = { c->ud_raws.data.p + raw[i].off, raw[i].len },
			.types = types[i] };
		d->cleaned = ud_texts(c, &c->ud_forms, fo, fa, i, true,
		                      &d->ncleaned);
		d->anchors = ud_texts(c, &c->ud_anchors, ao, aa, i, false,
		                      &d->nanchors);
		ud_hosts(c, d);
	}
	m->nud = n;
}

static void finish(struct pctx *c)
{
	struct msg *m = c->m;
	struct arena_buf data, v;
	arena_hold(c->a, 0);   /* the views' share (parse()) */
	if (c->hdrs.failed || c->addrs.failed || c->parts.failed || c->phdr.failed)
		c->flags |= MSG_F_TRUNCATED;
	m->hdrs = (struct msg_header *)c->hdrs.p;
	m->addrs = (struct addr_slot *)c->addrs.p;
	m->nhdrs = c->hdrs.len / sizeof(struct msg_header);
	if (c->addrs.len / sizeof(struct addr_slot) < m->nhdrs)
		m->nhdrs = c->addrs.len / sizeof(struct addr_slot);
	m->parts = (struct msg_part *)c->parts.p;
	m->phdr = (struct phdr *)c->phdr.p;
	m->nparts = c->phdr.len / sizeof(struct phdr);
	if (c->parts.len / sizeof(struct msg_part) < m->nparts)
		m->nparts = c->parts.len / sizeof(struct msg_part);

	arena_buf_init(&data, c->a);
	arena_buf_init(&v, c->a);
	build_body(c, &data, &v);
	m->body = spans_to_texts(c, &data, &v, &m->nbody);
	m->rawbody = spans_to_texts(c, &c->raw_data, &c->raw_v, &m->nrawbody);

	if (c->rendered.len > 0)
		uri_scan_text(c->rendered.p, c->rendered.len, uri_found, c);
	m->uris = spans_to_texts(c, &c->uris.data, &c->uris.v, &m->nuris);
	if (c->ud_on)
		ud_finish(c);

	m->html.invisible = (struct msg_text){ arena_buf_finish(&c->invisible),
	                                       c->invisible.failed ? 0 :
	                                       c->invisible.len };
	m->html.title = (struct msg_text){ arena_buf_finish(&c->title),
	                                   c->title.failed ? 0 : c->title.len };
	if (c->rendered.failed || c->invisible.failed || c->title.failed)
		c->flags |= MSG_F_TRUNCATED;
	m->flags = c->flags;
	m->hdr_dropped = c->hdr_dropped;
}

static void init_limits(struct msg_limits *l, const struct msg_limits *in,
                        size_t len)
{
	l->max_size = in && in->max_size ? in->max_size : DEFAULT_MAX_SIZE;
	l->max_depth = in && in->max_depth ? in->max_depth : MSG_DEFAULT_MAX_DEPTH;
	if (l->max_depth > DEPTH_CAP)
		l->max_depth = DEPTH_CAP;
	l->max_parts = in && in->max_parts ? in->max_parts : MSG_DEFAULT_MAX_PARTS;
	l->max_headers = in && in->max_headers ? in->max_headers
	                                       : MSG_DEFAULT_MAX_HEADERS;
	size_t parsed = len < l->max_size ? len : l->max_size;
	l->max_memory = in && in->max_memory ? in->max_memory :
	                parsed * 8 + ((size_t)1 << 20) + HEADER_ALLOWANCE +
	                (size_t)l->max_parts * PART_ALLOWANCE +
	                MSG_MAX_PART_FIELDS * PART_FIELD_ALLOWANCE;
}

/* msg_parse() and msg_parse_borrowed(): raw copied into the message's
 * arena unless borrow. */
static struct msg *parse(const char *raw, size_t len,
                         const struct msg_limits *lim, bool borrow,
                         const struct uriredir *rd)
{
	struct pctx c;
	memset(&c, 0, sizeof c);
	c.redir = rd;
	c.ud_on = uriredir_details(rd);
	c.ud_cur = SIZE_MAX;
	init_limits(&c.lim, lim, len);
	uint64_t flags = 0;
	if (len > c.lim.max_size) {
		len = c.lim.max_size;
		flags |= MSG_F_TRUNCATED;
		borrow = false;     /* raw[len] is then no NUL */
	}
	if (raw == NULL)
		borrow = false;
	struct arena *a = arena_new(c.lim.max_memory + (borrow ? 0 : len) +
	                            4096);
	if (a == NULL)
		return NULL;
	struct msg *m = arena_alloc(a, sizeof *m);
	const char *copy = borrow ? raw : arena_strndup(a, raw ? raw : "",
	                                                raw ? len : 0);
	if (m == NULL || copy == NULL) {
		arena_free(a);
		return NULL;
	}
	/* However the parse spends the budget (a sender's junk after the
	 * text), the body view of the text parsed so far gets built. */
	size_t views = len + ((size_t)1 << 20);
	arena_hold(a, views < c.lim.max_memory / 4 ? views
	                                           : c.lim.max_memory / 4);
	memset(m, 0, sizeof *m);
	m->arena = a;
	m->full = (struct msg_text){ copy, len };
	m->raw_header = m->raw_body = empty;
	m->html.invisible = m->html.title = empty;
	c.m = m;
	c.a = a;
	c.flags = flags;
	charset_conv_init(&c.cv);
	struct arena_buf *bufs[] = { &c.hdrs, &c.addrs, &c.parts, &c.phdr,
	                             &c.rendered, &c.raw_data, &c.raw_v,
	                             &c.uris.data, &c.uris.v, &c.stage_data,
	                             &c.stage_v, &c.invisible, &c.title,
	                             &c.ud_raws.data, &c.ud_raws.v,
	                             &c.ud_types, &c.ud_data, &c.ud_forms,
	                             &c.ud_anchors };
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		arena_buf_init(bufs[i], a);
	scan_lines(&c, copy, len);
	parse_entity(&c, copy, copy + len, 0, SIZE_MAX, "text/plain");
	finish(&c);
	charset_conv_close(&c.cv);
	return m;
}

struct msg *msg_parse(const char *raw, size_t len,
                      const struct msg_limits *lim)
{
	return parse(raw, len, lim, false, NULL);
}

struct msg *msg_parse_borrowed(const char *raw, size_t len,
                               const struct msg_limits *lim)
{
	return parse(raw, len, lim, true, NULL);
}

struct msg *msg_parse_redirected(const char *raw, size_t len,
                                 const struct msg_limits *lim,
                                 const struct uriredir *rd)
{
	return parse(raw, len, lim, true, rd);
}

void msg_free(struct msg *m)
{
	if (m != NULL)
		arena_free(m->arena);
}

/* ---- accessors ---- */

static const struct msg_text *text_at(const struct msg_text *v, size_t n,
                                      size_t i)
{
	return i < n ? &v[i] : &empty;
}

size_t msg_header_count(const struct msg *m)
{
	return msg_part_header_count(m, 0);
}

size_t msg_header_dropped(const struct msg *m)
{
	return m->hdr_dropped;
}

const struct msg_header *msg_header_at(const struct msg *m, size_t i)
{
	return msg_part_header_at(m, 0, i);
}

const struct msg_header *msg_header_get(const struct msg *m,
                                        const char *name, size_t n)
{
	return msg_part_header_get(m, 0, name, n);
}

struct msg_text msg_raw_header(const struct msg *m)
{
	return m->raw_header;
}

struct msg_text msg_raw_body(const struct msg *m)
{
	return m->raw_body;
}

const struct msg_addr *msg_header_addrs(const struct msg *m,
                                        const struct msg_header *h,
                                        size_t *count)
{
	*count = 0;
	if (h < m->hdrs || h >= m->hdrs + m->nhdrs)
		return NULL;
	const struct addr_slot *s = &m->addrs[h - m->hdrs];
	*count = s->n;
	return s->v;
}

/* Perl's \s on bytes (ws_tab's ASCII blanks). */
static bool sa_space(unsigned char c)
{
	return ws_tab[c] == 1;
}

/* A folded value without encoded words as SpamAssassin unfolds it
 * (Node.pm): each line break and the blanks after it become one space,
 * other blanks kept as they are, then trimmed; given to put() piece by
 * piece. */
static void sa_unfold(const struct msg_text *raw,
                      void (*put)(void *, const char *, size_t), void *out)
{
	const char *s = raw->ptr;
	size_t n = raw->len, i = 0;
	while (i < n && sa_space((unsigned char)s[i]))
		i++;
	while (n > i && sa_space((unsigned char)s[n - 1]))
		n--;
	size_t start = i;
	while (i < n) {
		size_t nl = s[i] == '\n' ? 1 :
		            (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 0;
		if (nl == 0) {
			i++;
			continue;
		}
		put(out, s + start, i - start);
		i += nl;
		if (i < n && (s[i] == ' ' || s[i] == '\t')) {
			put(out, " ", 1);
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
		}
		start = i;
	}
	put(out, s + start, n - start);
}

static void put_strbuf(void *b, const char *s, size_t n)
{
	strbuf_put(b, s, n);
}

/* One header value as SpamAssassin's get_header() returns it: decoded
 * (unless nodec: a name it never decodes) and unfolded, or (raw) as
 * received, folding kept; with a final "\n". */
void msg_header_sa_value(struct strbuf *b, const struct msg_header *h,
                         bool raw, bool nodec)
{
	if (!raw) {
		const struct msg_text *v = nodec ? &h->value : &h->decoded;
		if (memchr(h->raw.ptr, '\n', h->raw.len) != NULL &&
		    v->len == h->value.len &&
		    memcmp(v->ptr, h->value.ptr, v->len) == 0) {
			sa_unfold(&h->raw, put_strbuf, b);
			strbuf_put(b, "\n", 1);
			return;
		}
		strbuf_put(b, v->ptr, v->len);
		strbuf_put(b, "\n", 1);
		return;
	}
	/* raw: as received, its folding kept (line breaks as "\n") */
	const char *s = h->raw.ptr;
	size_t n = h->raw.len, start = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n') {
			strbuf_put(b, s + start, i - start);
			start = i + 1;
		}
	}
	strbuf_put(b, s + start, n - start);
	if (!h->cut)
		strbuf_put(b, "\n", 1);
}

bool msg_header_below_received(const struct msg *m, const char *name)
{
	bool rcvd = false;
	size_t nl = strlen(name);
	for (size_t i = 0; i < msg_header_count(m); i++) {
		const struct msg_text *t = &msg_header_at(m, i)->name;
		if (rcvd && t->len == nl && strncasecmp(t->ptr, name, nl) == 0)
			return true;
		if (t->len == 8 && strncasecmp(t->ptr, "Received", 8) == 0)
			rcvd = true;
	}
	return false;
}

size_t msg_body_count(const struct msg *m)
{
	return m->nbody;
}

struct msg_text msg_body_at(const struct msg *m, size_t i)
{
	return *text_at(m->body, m->nbody, i);
}

size_t msg_rawbody_count(const struct msg *m)
{
	return m->nrawbody;
}

struct msg_text msg_rawbody_at(const struct msg *m, size_t i)
{
	return *text_at(m->rawbody, m->nrawbody, i);
}

struct msg_text msg_full(const struct msg *m)
{
	return m->full;
}

size_t msg_uri_count(const struct msg *m)
{
	return m->nuris;
}

struct msg_text msg_uri_at(const struct msg *m, size_t i)
{
	return *text_at(m->uris, m->nuris, i);
}

size_t msg_uri_detail_count(const struct msg *m)
{
	return m->nud;
}

const struct msg_uri_detail *msg_uri_detail_at(const struct msg *m, size_t i)
{
	return i < m->nud ? &m->ud[i] : NULL;
}

size_t msg_part_count(const struct msg *m)
{
	return m->nparts;
}

const struct msg_part *msg_part_at(const struct msg *m, size_t i)
{
	return i < m->nparts ? &m->parts[i] : NULL;
}

size_t msg_part_header_count(const struct msg *m, size_t i)
{
	if (i >= m->nparts || m->phdr[i].first >= m->nhdrs)
		return 0;
	/* With the budget spent, the header array may have stopped short
	 * of what a part's header section counted. */
	size_t left = m->nhdrs - m->phdr[i].first;
	return m->phdr[i].count < left ? m->phdr[i].count : left;
}

const struct msg_header *msg_part_header_at(const struct msg *m, size_t i,
                                            size_t k)
{
	if (k >= msg_part_header_count(m, i))
		return NULL;
	return &m->hdrs[m->phdr[i].first + k];
}

const struct msg_header *msg_part_header_get(const struct msg *m, size_t i,
                                             const char *name, size_t n)
{
	size_t count = msg_part_header_count(m, i);
	for (size_t k = 0; k < count; k++) {
		const struct msg_header *h = msg_part_header_at(m, i, k);
		if (h != NULL && strcasecmp(h->name.ptr, name) == 0 && n-- == 0)
			return h;
	}
	return NULL;
}

const struct msg_html *msg_html(const struct msg *m)
{
	return &m->html;
}

uint64_t msg_flags(const struct msg *m)
{
	return m->flags;
}

const char *msg_flag_name(uint64_t f)
{
	static const char *const names[] = {
		"truncated", "depth_limit", "part_limit", "no_body_sep",
		"bad_header", "8bit_header", "nul", "mixed_eol", "long_line",
		"bad_rfc2047", "unknown_charset", "bad_charset_data",
		"bad_base64", "bad_qp", "unknown_cte", "bad_content_type",
		"dup_mime_header", "no_boundary", "boundary_missing",
		"no_close_boundary", "dup_boundary", "bad_boundary",
		"encoded_multipart", "type_mismatch", "bad_address",
		"html_malformed", "html_invisible", "html_mismatch_link",
		"uri_obfuscated", "8bit_body", "no_mime_version",
		"header_limit", "no_part_body_sep", "long_header",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (f == (uint64_t)1 << i)
			return names[i];
	return NULL;
}

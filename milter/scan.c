/* scan.c — see scan.h */
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "monotime.h"
#include "relays.h"
#include "stage.h"
#include "trustpath.h"

struct hdr {
	char *name;
	size_t name_len;
	char *value;
	size_t value_len;
};

struct kv {
	char *key;
	char *value;
};

struct scan {
	struct scan_env env;
	const struct uriredir *redir;	/* for msg_parse_redirected() */
	char **rcpts;
	size_t rcpt_cap;

	struct hdr *hdrs;
	size_t hdr_count, hdr_cap;
	size_t hdr_dropped;	/* fields past SCAN_MAX_HEADERS not stored */
	unsigned vital_extra[MSG_VITAL_HEADERS];   /* stored past it */
	/* Every field past the first SCAN_MAX_HEADERS as received (name,
	 * colon, value, CRLF), in order, up to max_body bytes of header
	 * section: written after those in front of the body, so that the
	 * header section (full rules) is whole while the fields stored
	 * stay few. The vital ones stored past the bound are in it too. */
	char *tail;
	size_t tail_len, tail_cap;
	size_t cut;		/* fields past that room: counted only */
	size_t cut_bytes;	/* their bytes */
	size_t fields;		/* every field added */
	bool from_raw;		/* scan_set_raw() adds them: no tail, the
				   section as read is kept past the bound */

	/* One buffer holds the message: the header section as scan_raw()
	 * writes it in buf[0..body_off) once head_ok, the body after it
	 * (so the body is not also copied into a raw message). */
	char *buf;
	size_t buf_cap;
	size_t body_off;	/* where the body starts in buf */
	bool head_ok;		/* buf[0..body_off) is the current head */
	size_t body_len;
	size_t body_seen;	/* bytes received, stored or not */
	size_t max_body;
	size_t header_bytes;	/* every field's, written or cut */
	size_t raw_head_len;	/* scan_set_raw(): its header section */
	char *raw_head;		/* that section with CRLFs, kept when it held
				   lines no header field shows */
	size_t raw_head_bytes;
	char *hop;		/* scan_set_client_hop(): "Received:" field
				   with CRLF, written first; or NULL */
	size_t hop_bytes;

	struct msg *msg;	/* borrows buf */
	/* scan_relays(): the relays of msg, one entry per trust path
	 * asked for (in practice one: the envelope guess and the rules
	 * share theirs) */
	struct scan_relays {
		const struct trustpath *trust;
		struct relays *relays;
	} *relays;
	size_t relays_count, relays_cap;

	uint64_t deadline_ms;	/* CLOCK_MONOTONIC ms; 0 = none */

	struct scan_hit_info *hits;
	size_t hit_count, hit_cap;
	double score;
	struct kv *results;
	size_t result_count, result_cap;
	struct kv *out_hdrs;	/* key = name */
	size_t out_count, out_cap;
	char **auth;
	size_t auth_count, auth_cap;
	char **limits;		/* scan_note_limit()'s rule names */
	size_t limit_count, limit_cap;
	char *log_name;		/* scan_set_log_name() */

	struct stage_ctx {
		const struct stage_ops *st;
		void *ctx;
	} *ctxs;
	size_t ctx_count, ctx_cap;
};

/* Grow *arr (of elem-size items) so that one more fits. */
static int grow(void *arrp, size_t *cap, size_t count, size_t elem)
{
	void **arr = arrp;
	if (count < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static char *dup0(const char *s)
{
	return dupn(s ? s : "", s ? strlen(s) : 0);
}

/* A copy of str appended to the list *v (*n strings, room for *cap). */
static int push_copy(char ***v, size_t *n, size_t *cap, const char *str)
{
	if (grow(v, cap, *n, sizeof **v))
		return -1;
	char *p = dup0(str);
	if (p == NULL)
		return -1;
	(*v)[(*n)++] = p;
	return 0;
}

struct scan *scan_new(void)
{
	struct scan *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->max_body = (size_t)32 << 20;
	static const char *const empty = "";
	s->env.queue_id = s->env.client_addr = s->env.client_host = empty;
	s->env.helo = s->env.mail_from = s->env.auth_authen = empty;
	s->env.hostname = empty;
	return s;
}

static void free_env_str(const char *p)
{
	if (p != NULL && *p != '\0')
		free((char *)p);
}

static void free_env(struct scan *s)
{
	free_env_str(s->env.queue_id);
	free_env_str(s->env.client_addr);
	free_env_str(s->env.client_host);
	free_env_str(s->env.helo);
	free_env_str(s->env.mail_from);
	free_env_str(s->env.auth_authen);
	free_env_str(s->env.hostname);
}

static void free_kvs(struct kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void drop_cached(struct scan *s);

void scan_free(struct scan *s)
{
	if (s == NULL)
		return;
	free_env(s);
	for (size_t i = 0; i < s->env.rcpt_count; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	for (size_t i = 0; i < s->hdr_count; i++) {
		free(s->hdrs[i].name);
		free(s->hdrs[i].value);
	}
	free(s->hdrs);
	drop_cached(s);
	free(s->relays);
	free(s->buf);
	free(s->raw_head);
	free(s->tail);
	free(s->hop);
	for (size_t i = 0; i < s->hit_count; i++) {
		free((char *)s->hits[i].name);
		free((char *)s->hits[i].desc);
	}
	free(s->hits);
	free_kvs(s->results, s->result_count);
	free_kvs(s->out_hdrs, s->out_count);
	for (size_t i = 0; i < s->auth_count; i++)
		free(s->auth[i]);
	free(s->auth);
	for (size_t i = 0; i < s->limit_count; i++)
		free(s->limits[i]);
	free(s->limits);
	free(s->log_name);
	for (size_t i = 0; i < s->ctx_count; i++)
		if (s->ctxs[i].st->ctx_free)
			s->ctxs[i].st->ctx_free(s->ctxs[i].ctx);
	free(s->ctxs);
	free(s);
}

/* Set an env string: "" is kept as the shared empty literal. */
static int set_str(const char **field, const char *v)
{
	/* Copy first: v may be the field's current value. */
	char *p = v && *v ? dup0(v) : NULL;
	if (v && *v && p == NULL)
		return -1;
	free_env_str(*field);
	*field = p ? p : "";
	return 0;
}

int scan_set_env(struct scan *s, const char *queue_id,
                 const char *client_addr, const char *client_host,
                 uint16_t client_port, const char *helo,
                 const char *mail_from)
{
	int rc = 0;
	rc |= set_str(&s->env.queue_id, queue_id);
	rc |= set_str(&s->env.client_addr, client_addr);
	rc |= set_str(&s->env.client_host, client_host);
	rc |= set_str(&s->env.helo, helo);
	rc |= set_str(&s->env.mail_from, mail_from);
	s->env.mail_from_guessed = s->env.client_guessed = false;
	s->env.client_port = client_port;
	return rc ? -1 : 0;
}

void scan_set_mail_from_guessed(struct scan *s, bool guessed)
{
	s->env.mail_from_guessed = guessed;
}

void scan_set_client_guessed(struct scan *s, bool guessed)
{
	s->env.client_guessed = guessed;
}

void scan_set_received_at(struct scan *s, int64_t when)
{
	s->env.received_at = when;
}

int scan_set_macro_env(struct scan *s, const char *auth_authen,
                       const char *hostname)
{
	int rc = set_str(&s->env.auth_authen, auth_authen);
	rc |= set_str(&s->env.hostname, hostname);
	return rc ? -1 : 0;
}

int scan_add_rcpt(struct scan *s, const char *rcpt)
{
	if (grow(&s->rcpts, &s->rcpt_cap, s->env.rcpt_count, sizeof *s->rcpts))
		return -1;
	char *p = dup0(rcpt);
	if (p == NULL)
		return -1;
	s->rcpts[s->env.rcpt_count++] = p;
	s->env.rcpts = (const char *const *)s->rcpts;
	return 0;
}

/* The parsed message is of the bytes it was parsed from: dropped when
 * they change (before buf moves: it borrows buf). */
static void drop_cached(struct scan *s)
{
	for (size_t i = 0; i < s->relays_count; i++)
		relays_free(s->relays[i].relays);
	s->relays_count = 0;
	if (s->msg) {
		msg_free(s->msg);
		s->msg = NULL;
	}
}

/* Bytes of the header section scan_raw() writes in front of the body. */
static size_t head_size(const struct scan *s)
{
	return s->hop_bytes + (s->raw_head != NULL ? s->raw_head_bytes :
	                       s->header_bytes - s->cut_bytes + 2);
}

/* Room in buf for n more body bytes and a NUL after them. The first
 * allocation leaves room for the header section in front, so that
 * scan_raw() need not move the body. */
static int reserve_body(struct scan *s, size_t n)
{
	if (s->buf == NULL) {
		s->body_off = head_size(s);
		s->head_ok = false;
	}
	size_t need = s->body_off + s->body_len + n + 1;
	if (need <= s->buf_cap)
		return 0;
	size_t cap = s->buf_cap ? s->buf_cap : 16384;
	while (cap < need)
		cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
	drop_cached(s);
	char *p = realloc(s->buf, cap);
	if (p == NULL)
		return -1;
	s->buf = p;
	s->buf_cap = cap;
	return 0;
}

/* After the header section changed: the body moved to where the new
 * one ends (a header added after body bytes; scan_set_raw() on a scan
 * that had a body), so that scan_raw() never moves it and a stage's
 * scan_body() stays valid. */
static int move_body(struct scan *s)
{
	s->head_ok = false;
	drop_cached(s);
	size_t need = head_size(s);
	if (s->buf == NULL || s->body_off == need)
		return 0;
	if (need > s->body_off && reserve_body(s, need - s->body_off) != 0)
		return -1;
	memmove(s->buf + need, s->buf + s->body_off, s->body_len);
	s->body_off = need;
	return 0;
}

/* The first SCAN_MAX_HEADERS fields are stored, then only those the
 * message model keeps past its own bound (msg_vital_index(), at most
 * MSG_KEPT_BEYOND_LIMIT of each): so the model is what it would be of
 * all fields (it keeps no more), and junk fields cannot hide From or
 * Subject, while a header section without end costs no allocation and
 * no index entry for each further field. */
_Static_assert(SCAN_MAX_HEADERS >= MSG_DEFAULT_MAX_HEADERS,
               "the message model's bound is reached first");
static bool keep_field(struct scan *s, const char *name, size_t n)
{
	if (s->hdr_count < SCAN_MAX_HEADERS)
		return true;
	size_t v = msg_vital_index(name, n);
	if (v == SIZE_MAX || s->vital_extra[v] >= MSG_KEPT_BEYOND_LIMIT)
		return false;
	s->vital_extra[v]++;
	return true;
}

/* A field past the first SCAN_MAX_HEADERS (bytes long as written)
 * appended to the tail, or cut when the header section would pass
 * max_body (as the body is capped). 0, or -1 out of memory. */
static int put_tail(struct scan *s, const char *name, size_t name_len,
                    const char *value, size_t value_len, size_t bytes)
{
	if (s->from_raw)
		return 0;
	size_t written = s->header_bytes - s->cut_bytes;
	if (written > s->max_body || bytes > s->max_body - written) {
		s->cut++;
		s->cut_bytes += bytes;
		return 0;
	}
	if (s->tail_cap - s->tail_len < bytes) {
		size_t cap = s->tail_cap ? s->tail_cap : 65536;
		while (cap - s->tail_len < bytes)
			cap *= 2;
		char *p = realloc(s->tail, cap);
		if (p == NULL)
			return -1;
		s->tail = p;
		s->tail_cap = cap;
	}
	char *p = s->tail + s->tail_len;
	memcpy(p, name, name_len);
	p[name_len] = ':';
	memcpy(p + name_len + 1, value, value_len);
	memcpy(p + name_len + 1 + value_len, "\r\n", 2);
	s->tail_len += bytes;
	return 0;
}

int scan_add_header(struct scan *s, const char *name, size_t name_len,
                    const char *value, size_t value_len)
{
	size_t bytes = name_len + 1 + value_len + 2;
	if (s->hdr_count >= SCAN_MAX_HEADERS &&
	    put_tail(s, name, name_len, value, value_len, bytes) != 0)
		return -1;
	s->header_bytes += bytes;
	s->fields++;
	if (!keep_field(s, name, name_len)) {
		s->hdr_dropped++;
		return move_body(s) == 0 ? 1 : -1;
	}
	if (grow(&s->hdrs, &s->hdr_cap, s->hdr_count, sizeof *s->hdrs))
		return -1;
	struct hdr h = { dupn(name, name_len), name_len,
	                 dupn(value, value_len), value_len };
	if (h.name == NULL || h.value == NULL) {
		free(h.name);
		free(h.value);
		return -1;
	}
	s->hdrs[s->hdr_count++] = h;
	return move_body(s);
}

void scan_set_max_body(struct scan *s, size_t max_body)
{
	s->max_body = max_body;
}

int scan_add_body(struct scan *s, const void *data, size_t len)
{
	s->body_seen += len;
	size_t room = s->body_len < s->max_body ? s->max_body - s->body_len : 0;
	if (len > room)
		len = room;
	if (len == 0)
		return 0;
	if (reserve_body(s, len) != 0)
		return -1;
	drop_cached(s);
	memcpy(s->buf + s->body_off + s->body_len, data, len);
	s->body_len += len;
	return 0;
}

void scan_count_unread(struct scan *s, uint64_t len)
{
	size_t room = SIZE_MAX - s->body_seen;
	s->body_seen += len < room ? (size_t)len : room;
}

/* src[0..n) with CRLF line ends, appended to *dst (malloc'd, *len);
 * cr_line: a line holding only a CR keeps it as its text (an LF-mode
 * file's, see crlf_file()). */
static int put_crlf(char **dst, size_t *len, const char *src, size_t n,
                    bool cr_line)
{
	char *p = realloc(*dst, *len + 2 * n + 1);
	if (p == NULL)
		return -1;
	size_t k = *len;
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\n' && (i == 0 || src[i - 1] != '\r' ||
		                       (cr_line && (i == 1 || src[i - 2] == '\n'))))
			p[k++] = '\r';
		p[k++] = src[i];
	}
	*dst = p;
	*len = k;
	return 0;
}

/* Whether a file's message has CRLF line ends, as SpamAssassin decides
 * it: its first or its last line ends so. Otherwise a CR before an LF
 * is part of its line, as it is when an SMTP client sends the file and
 * puts CRLF for each LF: MIMEEval's check_for_ascii_text_illegal (and
 * vigild behind such a client) then sees a CR in the text. */
static bool crlf_file(const char *raw, size_t len)
{
	const char *nl = memchr(raw, '\n', len);
	if (nl == NULL)
		return false;
	if (nl > raw && nl[-1] == '\r')
		return true;
	/* a last line without a line end has no CRLF */
	return raw[len - 1] == '\n' && raw[len - 2] == '\r';
}

/* The length of src with each LF that needs one given a CR: all of
 * them (keep_cr), or those without one. */
static size_t crlf_len(const char *src, size_t n, bool keep_cr)
{
	size_t k = n;
	for (const char *p = src, *e = src + n;
	     (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		if (keep_cr || p == src || p[-1] != '\r')
			k++;
	return k;
}

static int add_body_crlf(struct scan *s, const char *src, size_t n,
                         bool keep_cr)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] != '\n' ||
		    (!keep_cr && i > 0 && src[i - 1] == '\r'))
			continue;
		if (scan_add_body(s, src + start, i - start) ||
		    scan_add_body(s, "\r\n", 2))
			return -1;
		start = i + 1;
	}
	return scan_add_body(s, src + start, n - start);
}

/* Header field p[0..n) (name, colon, value with its CRLF/LF folding)
 * added as a milter sees it: folding as CRLF + WSP. A line without a
 * colon adds nothing; one with a colon is kept, whatever its name (as
 * SpamAssassin does). */
static int add_raw_field(struct scan *s, const char *p, size_t line_len,
                         size_t n)
{
	const char *colon = memchr(p, ':', line_len);
	if (colon == NULL)
		return 0;
	size_t nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--;
	const char *v = colon + 1;
	size_t vlen = (size_t)(p + n - v);
	char *val = malloc(vlen * 2 + 1);
	if (val == NULL)
		return -1;
	size_t k = 0;
	for (size_t j = 0; j < vlen; j++) {
		if (v[j] == '\n' && (j == 0 || v[j - 1] != '\r'))
			val[k++] = '\r';
		val[k++] = v[j];
	}
	int rc = scan_add_header(s, p, nlen, val, k);
	free(val);
	return rc < 0 ? -1 : 0;
}

/* Header section of a raw message: split into name/value pairs, values
 * keeping their leading space and CRLF folding, as a milter sees them.
 * Where it ends is where msg.c's parse_headers() ends it: an empty line;
 * a line starting with "--" (msg_boundary_line()); the fourth line that
 * is no field (msg_field_line(), MSG_BAD_HEADER_LINES). *as_read: the
 * fields do not give the section back (lines passed over, or no empty
 * line ends it), so the message as read must be kept. */
static int parse_raw_headers(struct scan *s, const char *p, size_t len,
                             bool keep_cr, size_t *body_off, bool *as_read)
{
	size_t i = 0;
	unsigned bad = 0;
	*as_read = false;
	while (i < len) {
		size_t eol = i;
		while (eol < len && p[eol] != '\n')
			eol++;
		size_t line_end = eol > i && p[eol - 1] == '\r' ? eol - 1 : eol;
		/* in an LF-mode file a line of a CR is no empty line: a line
		 * that is no field (SpamAssassin's Message.pm) */
		bool cr_line = keep_cr && eol == i + 1;
		if (line_end == i && !cr_line) {  /* empty line: end of headers */
			*body_off = eol < len ? eol + 1 : len;
			*as_read = *as_read || bad > 0;
			return 0;
		}
		/* a continuation of nothing (only the first line can be one:
		 * a field takes those after it) is passed over, not counted */
		bool orphan = p[i] == ' ' || p[i] == '\t';
		if (orphan ||
		    msg_boundary_line(p + i, line_end - i) ||
		    (!msg_field_line(p + i, line_end - i) &&
		     ++bad > MSG_BAD_HEADER_LINES)) {
			*as_read = true;
			if (!orphan) {
				*body_off = i;   /* the body starts at this line */
				return 0;
			}
		}
		/* Extend over continuation lines. */
		size_t end = eol;
		while (end + 1 < len && (p[end + 1] == ' ' || p[end + 1] == '\t')) {
			end++;
			while (end < len && p[end] != '\n')
				end++;
		}
		/* end is the LF ending the header's last line, or len. */
		size_t vend = end > i && p[end - 1] == '\r' ? end - 1 : end;
		if (!orphan && add_raw_field(s, p + i, line_end - i, vend - i))
			return -1;
		i = end < len ? end + 1 : len;
	}
	*body_off = len;
	*as_read = *as_read || bad > 0;
	return 0;
}

int scan_set_raw(struct scan *s, const char *raw, size_t len)
{
	size_t body_off = len;
	bool as_read;
	bool keep_cr = !crlf_file(raw, len);
	s->from_raw = true;
	int rc = parse_raw_headers(s, raw, len, keep_cr, &body_off, &as_read);
	s->from_raw = false;
	if (rc != 0)
		return -1;
	s->raw_head_len = body_off;
	/* Lines of the header section that are no field are not headers to
	 * the stages, but the message as read keeps them (SpamAssassin's
	 * full rules see them, its parser passes over them), and its header
	 * section without the empty line it did not have. So are the
	 * fields past SCAN_MAX_HEADERS, most of them not stored: one copy
	 * of the section (a tail of them would be a second). */
	as_read = as_read || s->fields > SCAN_MAX_HEADERS;
	if (as_read && (put_crlf(&s->raw_head, &s->raw_head_bytes, raw,
	                         body_off, keep_cr) != 0 || move_body(s) != 0))
		return -1;

	/* the body's room at once: a large message is not copied again
	 * as its buffer doubles */
	size_t n = crlf_len(raw + body_off, len - body_off, keep_cr);
	size_t room = s->body_len < s->max_body ? s->max_body - s->body_len : 0;
	if (reserve_body(s, n < room ? n : room) != 0)
		return -1;
	return add_body_crlf(s, raw + body_off, len - body_off, keep_cr);
}

int scan_set_client_hop(struct scan *s, const char *value, size_t len)
{
	static const char name[] = "Received:";   /* scan_client_hop() */
	size_t n = sizeof name - 1 + len + 2;
	char *hop = malloc(n);
	if (hop == NULL)
		return -1;
	memcpy(hop, name, sizeof name - 1);
	memcpy(hop + sizeof name - 1, value, len);
	memcpy(hop + n - 2, "\r\n", 2);
	free(s->hop);
	s->hop = hop;
	s->hop_bytes = n;
	return move_body(s);
}

const char *scan_client_hop(const struct scan *s, size_t *len)
{
	size_t name = sizeof "Received:" - 1;
	*len = s->hop ? s->hop_bytes - name - 2 : 0;
	return s->hop ? s->hop + name : NULL;
}

void scan_set_deadline_ms(struct scan *s, uint64_t ms)
{
	s->deadline_ms = ms ? monotime_ms() + ms : 0;
}

const struct scan_env *scan_env(const struct scan *s)
{
	return &s->env;
}

size_t scan_header_count(const struct scan *s)
{
	return s->hdr_count;
}

void scan_header_at(const struct scan *s, size_t i, const char **name,
                    size_t *name_len, const char **value, size_t *value_len)
{
	*name = s->hdrs[i].name;
	*name_len = s->hdrs[i].name_len;
	*value = s->hdrs[i].value;
	*value_len = s->hdrs[i].value_len;
}

size_t scan_raw_head_len(const struct scan *s)
{
	return s->raw_head_len;
}

const char *scan_body(const struct scan *s, size_t *len)
{
	*len = s->body_len;
	return s->buf ? s->buf + s->body_off : "";
}

/* The header section in front of the body: the lines as read when
 * scan_set_raw() kept them, else the fields as received and CRLF. */
static void write_head(struct scan *s)
{
	char *p = s->buf;
	if (s->hop != NULL) {
		memcpy(p, s->hop, s->hop_bytes);
		p += s->hop_bytes;
	}
	if (s->raw_head != NULL) {
		memcpy(p, s->raw_head, s->raw_head_bytes);
		return;
	}
	size_t k = 0, n = s->hdr_count;
	for (size_t i = 0; i < n && i < SCAN_MAX_HEADERS; i++) {
		memcpy(p + k, s->hdrs[i].name, s->hdrs[i].name_len);
		k += s->hdrs[i].name_len;
		p[k++] = ':';
		memcpy(p + k, s->hdrs[i].value, s->hdrs[i].value_len);
		k += s->hdrs[i].value_len;
		p[k++] = '\r';
		p[k++] = '\n';
	}
	if (s->tail_len > 0)   /* the fields past them, the vital ones too */
		memcpy(p + k, s->tail, s->tail_len);
	k += s->tail_len;
	p[k++] = '\r';
	p[k] = '\n';
}

const char *scan_raw(struct scan *s, size_t *len)
{
	if (reserve_body(s, 0) != 0)
		return NULL;
	if (!s->head_ok) {
		write_head(s);
		s->head_ok = true;
	}
	*len = s->body_off + s->body_len;
	s->buf[*len] = '\0';   /* reserve_body() keeps room for it */
	return s->buf;
}

size_t scan_size(const struct scan *s)
{
	return s->header_bytes + 2 + s->body_seen;
}

size_t scan_headers_dropped(const struct scan *s)
{
	return s->hdr_dropped;
}

size_t scan_headers_cut(const struct scan *s)
{
	return s->cut;
}

bool scan_truncated(const struct scan *s)
{
	return s->body_seen > s->body_len;
}

const struct msg *scan_msg(struct scan *s)
{
	if (s->msg == NULL) {
		size_t len;
		const char *raw = scan_raw(s, &len);
		/* s->buf lives and stays as long as s->msg (drop_cached,
		 * scan_free) */
		if (raw != NULL)
			s->msg = msg_parse_redirected(raw, len, NULL, s->redir);
	}
	return s->msg;
}

void scan_set_uri_redirectors(struct scan *s, const struct uriredir *rd)
{
	if (rd != s->redir)
		drop_cached(s);
	s->redir = rd;
}

const struct relays *scan_relays(struct scan *s, const struct trustpath *t)
{
	if (!trustpath_active(t))
		t = NULL;   /* inference, whatever t holds */
	for (size_t i = 0; i < s->relays_count; i++)
		if (s->relays[i].trust == t)
			return s->relays[i].relays;
	const struct msg *m = scan_msg(s);
	struct relays *r;
	if (m == NULL ||
	    grow(&s->relays, &s->relays_cap, s->relays_count, sizeof *s->relays) ||
	    relays_build_trust(m, t, &r) != 0)
		return NULL;
	s->relays[s->relays_count++] = (struct scan_relays){ t, r };
	return r;
}

uint64_t scan_deadline_left_ms(const struct scan *s)
{
	if (s->deadline_ms == 0)
		return UINT64_MAX;
	uint64_t now = monotime_ms();
	return now >= s->deadline_ms ? 0 : s->deadline_ms - now;
}

int scan_hit(struct scan *s, const char *name, double score,
             const char *desc)
{
	if (grow(&s->hits, &s->hit_cap, s->hit_count, sizeof *s->hits))
		return -1;
	struct scan_hit_info h = { dup0(name), score, desc ? dup0(desc) : NULL,
	                           false, 1 };
	if (h.name == NULL || (desc && h.desc == NULL)) {
		free((char *)h.name);
		free((char *)h.desc);
		return -1;
	}
	s->hits[s->hit_count++] = h;
	s->score += score;
	return 0;
}

int scan_hit_provisional(struct scan *s, const char *name, double score,
                         const char *desc)
{
	if (scan_hit(s, name, score, desc) != 0)
		return -1;
	s->hits[s->hit_count - 1].provisional = true;
	return 0;
}

int scan_hit_score(struct scan *s, const char *name, struct scan_score sc,
                   const char *desc)
{
	return (sc.builtin ? scan_hit_provisional : scan_hit)(s, name, sc.v,
	                                                     desc);
}

void scan_hit_set_count(struct scan *s, size_t i, unsigned count)
{
	if (i < s->hit_count && count > 0)
		s->hits[i].count = count;
}

void scan_hit_rescore(struct scan *s, size_t i, double score)
{
	if (i >= s->hit_count)
		return;
	s->score += score - s->hits[i].score;
	s->hits[i].score = score;
	s->hits[i].provisional = false;
}

void scan_hit_drop(struct scan *s, size_t i)
{
	if (i >= s->hit_count)
		return;
	s->score -= s->hits[i].score;
	free((char *)s->hits[i].name);
	free((char *)s->hits[i].desc);
	memmove(&s->hits[i], &s->hits[i + 1],
	        (s->hit_count - i - 1) * sizeof *s->hits);
	s->hit_count--;
}

static int kv_push(struct kv **arr, size_t *count, size_t *cap,
                   const char *k, const char *v)
{
	if (grow(arr, cap, *count, sizeof **arr))
		return -1;
	struct kv e = { dup0(k), dup0(v) };
	if (e.key == NULL || e.value == NULL) {
		free(e.key);
		free(e.value);
		return -1;
	}
	(*arr)[(*count)++] = e;
	return 0;
}

int scan_result(struct scan *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->result_count; i++) {
		if (strcmp(s->results[i].key, key) == 0) {
			char *v = dup0(value);
			if (v == NULL)
				return -1;
			free(s->results[i].value);
			s->results[i].value = v;
			return 0;
		}
	}
	return kv_push(&s->results, &s->result_count, &s->result_cap, key, value);
}

int scan_add_out_header(struct scan *s, const char *name, const char *value)
{
	return kv_push(&s->out_hdrs, &s->out_count, &s->out_cap, name, value);
}

int scan_add_auth_result(struct scan *s, const char *resinfo)
{
	return push_copy(&s->auth, &s->auth_count, &s->auth_cap, resinfo);
}

size_t scan_hit_count(const struct scan *s)
{
	return s->hit_count;
}

const struct scan_hit_info *scan_hit_at(const struct scan *s, size_t i)
{
	return &s->hits[i];
}

double scan_score(const struct scan *s)
{
	/* printed and read back as SpamAssassin does ("%0.3f", then a
	 * number again): the same decimal rounding of the binary value */
	char text[64];
	if (!isfinite(s->score) ||
	    snprintf(text, sizeof text, "%.3f", s->score) >= (int)sizeof text)
		return s->score;
	return strtod(text, NULL);
}

size_t scan_result_count(const struct scan *s)
{
	return s->result_count;
}

void scan_result_at(const struct scan *s, size_t i, const char **key,
                    const char **value)
{
	*key = s->results[i].key;
	*value = s->results[i].value;
}

const char *scan_result_get(const struct scan *s, const char *key)
{
	for (size_t i = 0; i < s->result_count; i++)
		if (strcmp(s->results[i].key, key) == 0)
			return s->results[i].value;
	return NULL;
}

size_t scan_out_header_count(const struct scan *s)
{
	return s->out_count;
}

void scan_out_header_at(const struct scan *s, size_t i, const char **name,
                        const char **value)
{
	*name = s->out_hdrs[i].key;
	*value = s->out_hdrs[i].value;
}

size_t scan_auth_result_count(const struct scan *s)
{
	return s->auth_count;
}

const char *scan_auth_result_at(const struct scan *s, size_t i)
{
	return s->auth[i];
}

int scan_note_limit(struct scan *s, const char *rule)
{
	for (size_t i = 0; i < s->limit_count; i++)
		if (strcmp(s->limits[i], rule) == 0)
			return 0;
	return push_copy(&s->limits, &s->limit_count, &s->limit_cap, rule);
}

size_t scan_limit_count(const struct scan *s)
{
	return s->limit_count;
}

const char *scan_limit_at(const struct scan *s, size_t i)
{
	return s->limits[i];
}

int scan_set_log_name(struct scan *s, const char *name)
{
	char *p = dup0(name);
	if (p == NULL)
		return -1;
	free(s->log_name);
	s->log_name = p;
	return 0;
}

const char *scan_log_name(const struct scan *s)
{
	return s->log_name;
}

void *scan_stage_ctx(const struct scan *s, const struct stage_ops *st)
{
	for (size_t i = 0; i < s->ctx_count; i++)
		if (s->ctxs[i].st == st)
			return s->ctxs[i].ctx;
	return NULL;
}

int scan_set_stage_ctx(struct scan *s, const struct stage_ops *st, void *ctx)
{
	for (size_t i = 0; i < s->ctx_count; i++) {
		if (s->ctxs[i].st == st) {
			if (st->ctx_free && s->ctxs[i].ctx != ctx)
				st->ctx_free(s->ctxs[i].ctx);
			s->ctxs[i].ctx = ctx;
			return 0;
		}
	}
	if (grow(&s->ctxs, &s->ctx_cap, s->ctx_count, sizeof *s->ctxs)) {
		if (st->ctx_free)
			st->ctx_free(ctx);
		return -1;
	}
	s->ctxs[s->ctx_count].st = st;
	s->ctxs[s->ctx_count].ctx = ctx;
	s->ctx_count++;
	return 0;
}

int scan_merge(struct scan *dst, const struct scan *src)
{
	int rc = 0;
	for (size_t i = 0; i < src->hit_count; i++) {
		rc |= (src->hits[i].provisional ? scan_hit_provisional : scan_hit)(
		        dst, src->hits[i].name, src->hits[i].score,
		        src->hits[i].desc);
		if (rc == 0)
			scan_hit_set_count(dst, dst->hit_count - 1,
			                   src->hits[i].count);
	}
	for (size_t i = 0; i < src->result_count; i++)
		rc |= scan_result(dst, src->results[i].key, src->results[i].value);
	for (size_t i = 0; i < src->auth_count; i++)
		rc |= scan_add_auth_result(dst, src->auth[i]);
	for (size_t i = 0; i < src->out_count; i++)
		rc |= scan_add_out_header(dst, src->out_hdrs[i].key,
		                          src->out_hdrs[i].value);
	return rc ? -1 : 0;
}

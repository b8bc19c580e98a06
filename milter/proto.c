/* proto.c — see proto.h */
#include "proto.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- splitting ---- */

static uint32_t get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

enum proto_status proto_split(const unsigned char *buf, size_t len,
                              size_t max_packet, struct proto_pkt *pkt,
                              size_t *used)
{
	if (len < MILTER_LEN_BYTES)
		return PROTO_NEED_MORE;
	uint32_t n = get_u32(buf);
	if (n == 0)
		return PROTO_MALFORMED;
	if (n > max_packet)
		return PROTO_TOO_BIG;
	if (len - MILTER_LEN_BYTES < n)
		return PROTO_NEED_MORE;
	pkt->cmd = (char)buf[MILTER_LEN_BYTES];
	pkt->data = buf + MILTER_LEN_BYTES + 1;
	pkt->len = n - 1;
	*used = MILTER_LEN_BYTES + (size_t)n;
	return PROTO_OK;
}

/* ---- string sequences ---- */

/* Every string from pos on is NUL-terminated within len. */
static bool strs_valid(const unsigned char *data, size_t len, size_t pos)
{
	return pos == len || (pos < len && data[len - 1] == '\0');
}

static void strs_init(struct proto_strs *it, const unsigned char *data,
                      size_t len, size_t pos)
{
	it->data = data;
	it->len = len;
	it->pos = pos;
}

int proto_strs_next(struct proto_strs *it, struct proto_str *out)
{
	if (it->pos >= it->len)
		return 0;
	const unsigned char *start = it->data + it->pos;
	const unsigned char *nul = memchr(start, '\0', it->len - it->pos);
	if (nul == NULL)
		return 0;
	out->ptr = (const char *)start;
	out->len = (size_t)(nul - start);
	it->pos += out->len + 1;
	return 1;
}

/* One NUL-terminated string at data[pos]; *next after it. */
static int take_str(const unsigned char *data, size_t len, size_t pos,
                    struct proto_str *out, size_t *next)
{
	if (pos >= len)
		return -1;
	const unsigned char *nul = memchr(data + pos, '\0', len - pos);
	if (nul == NULL)
		return -1;
	out->ptr = (const char *)data + pos;
	out->len = (size_t)(nul - (data + pos));
	*next = pos + out->len + 1;
	return 0;
}

/* ---- filter side: decoding commands ---- */

enum proto_status proto_dec_optneg(const struct proto_pkt *pkt,
                                   struct proto_optneg *out)
{
	/* The MTA's OPTNEG is exactly three 32-bit words; a longer packet
	 * (future extensions) is tolerated, a shorter one is not. */
	if (pkt->cmd != SMFIC_OPTNEG || pkt->len < MILTER_OPTLEN)
		return PROTO_MALFORMED;
	out->version = get_u32(pkt->data);
	out->actions = get_u32(pkt->data + 4);
	out->protocol = get_u32(pkt->data + 8);
	return PROTO_OK;
}

enum proto_status proto_dec_macro(const struct proto_pkt *pkt, char *stage,
                                  struct proto_strs *pairs)
{
	if (pkt->cmd != SMFIC_MACRO || pkt->len < 1 ||
	    !strs_valid(pkt->data, pkt->len, 1))
		return PROTO_MALFORMED;
	*stage = (char)pkt->data[0];
	/* count the strings: pairs must be complete */
	size_t count = 0;
	for (size_t i = 1; i < pkt->len; i++)
		if (pkt->data[i] == '\0')
			count++;
	if (count % 2 != 0)
		return PROTO_MALFORMED;
	strs_init(pairs, pkt->data, pkt->len, 1);
	return PROTO_OK;
}

enum proto_status proto_dec_connect(const struct proto_pkt *pkt,
                                    struct proto_connect *out)
{
	size_t pos;
	if (pkt->cmd != SMFIC_CONNECT ||
	    take_str(pkt->data, pkt->len, 0, &out->host, &pos) != 0 ||
	    pos >= pkt->len)
		return PROTO_MALFORMED;
	out->family = (char)pkt->data[pos++];
	out->port = 0;
	out->addr.ptr = "";
	out->addr.len = 0;
	switch (out->family) {
	case SMFIA_UNKNOWN:
		/* Nothing follows (some MTAs still send a port and NUL). */
		return PROTO_OK;
	case SMFIA_UNIX:
	case SMFIA_INET:
	case SMFIA_INET6:
		if (pkt->len - pos < 2)
			return PROTO_MALFORMED;
		out->port = (uint16_t)((pkt->data[pos] << 8) | pkt->data[pos + 1]);
		pos += 2;
		if (take_str(pkt->data, pkt->len, pos, &out->addr, &pos) != 0)
			return PROTO_MALFORMED;
		return PROTO_OK;
	default:
		return PROTO_MALFORMED;
	}
}

enum proto_status proto_dec_helo(const struct proto_pkt *pkt,
                                 struct proto_str *helo)
{
	size_t next;
	if (pkt->cmd != SMFIC_HELO ||
	    take_str(pkt->data, pkt->len, 0, helo, &next) != 0)
		return PROTO_MALFORMED;
	return PROTO_OK;
}

enum proto_status proto_dec_envelope(const struct proto_pkt *pkt,
                                     struct proto_strs *args)
{
	if ((pkt->cmd != SMFIC_MAIL && pkt->cmd != SMFIC_RCPT) || pkt->len == 0 ||
	    !strs_valid(pkt->data, pkt->len, 0))
		return PROTO_MALFORMED;
	strs_init(args, pkt->data, pkt->len, 0);
	return PROTO_OK;
}

enum proto_status proto_dec_header(const struct proto_pkt *pkt,
                                   struct proto_str *name,
                                   struct proto_str *value)
{
	size_t pos;
	if (pkt->cmd != SMFIC_HEADER ||
	    take_str(pkt->data, pkt->len, 0, name, &pos) != 0 || name->len == 0 ||
	    take_str(pkt->data, pkt->len, pos, value, &pos) != 0)
		return PROTO_MALFORMED;
	return PROTO_OK;
}

enum proto_status proto_dec_unknown(const struct proto_pkt *pkt,
                                    struct proto_str *line)
{
	size_t next;
	if (pkt->cmd != SMFIC_UNKNOWN ||
	    take_str(pkt->data, pkt->len, 0, line, &next) != 0)
		return PROTO_MALFORMED;
	return PROTO_OK;
}

/* ---- negotiation ---- */

/* Protocol flags each version defines (as Postfix's milter8 and Sendmail's
 * milter.c use them): v2 the SMFIP_NO* steps up to NOEOH, v3 adds UNKNOWN
 * (so NOUNKNOWN) and no-reply-for-headers, v4 adds DATA (NODATA), v6
 * (Sendmail 8.14) everything else. */
static uint32_t version_protocol_mask(uint32_t version)
{
	uint32_t mask = SMFI_V2_PROT;
	if (version >= 3)
		mask |= SMFIP_NR_HDR | SMFIP_NOUNKNOWN;
	if (version >= 4)
		mask |= SMFIP_NODATA;
	if (version >= 6)
		mask |= SMFI_CURR_PROT;
	return mask;
}

/* Actions: CHGFROM, ADDRCPT_PAR and SETSYMLIST came with version 6. */
static uint32_t version_action_mask(uint32_t version)
{
	return version >= 6 ? SMFI_CURR_ACTS : SMFI_V2_ACTS;
}

int proto_negotiate(const struct proto_optneg *offer, uint32_t want_actions,
                    uint32_t want_protocol, struct proto_optneg *reply)
{
	if (offer->version < 2)
		return -1;
	reply->version = offer->version < PROTO_VERSION ? offer->version
	                                                : PROTO_VERSION;
	reply->actions = want_actions & offer->actions &
	                 version_action_mask(reply->version);
	reply->protocol = want_protocol & offer->protocol &
	                  version_protocol_mask(reply->version);
	return 0;
}

/* ---- encoding ---- */

/* One packet: cmd and the concatenation of parts. */
struct part {
	const void *p;
	size_t n;
};

static int put_packet(struct evbuffer *out, char cmd, const struct part *parts,
                      size_t nparts)
{
	size_t total = 1;
	for (size_t i = 0; i < nparts; i++)
		total += parts[i].n;
	if (total > UINT32_MAX)
		return -1;
	/* Reserve everything first, so that the adds cannot fail half-way
	 * and leave a partial packet in the buffer. */
	if (evbuffer_expand(out, MILTER_LEN_BYTES + total) != 0)
		return -1;
	unsigned char hdr[MILTER_LEN_BYTES + 1];
	put_u32(hdr, (uint32_t)total);
	hdr[MILTER_LEN_BYTES] = (unsigned char)cmd;
	int rc = evbuffer_add(out, hdr, sizeof hdr);
	for (size_t i = 0; rc == 0 && i < nparts; i++)
		if (parts[i].n)
			rc = evbuffer_add(out, parts[i].p, parts[i].n);
	return rc == 0 ? 0 : -1;
}

/* A string with its NUL. */
static struct part zstr(const char *s)
{
	struct part p = { s, strlen(s) + 1 };
	return p;
}

int proto_enc_simple(struct evbuffer *out, char reply)
{
	return put_packet(out, reply, NULL, 0);
}

int proto_enc_optneg(struct evbuffer *out, const struct proto_optneg *reply,
                     const char *const macros[SMFIM_LAST + 1])
{
	unsigned char words[MILTER_OPTLEN];
	put_u32(words, reply->version);
	put_u32(words + 4, reply->actions);
	put_u32(words + 8, reply->protocol);
	struct part parts[1 + 2 * (SMFIM_LAST + 1)];
	unsigned char stages[SMFIM_LAST + 1][4];
	size_t n = 0;
	parts[n++] = (struct part){ words, sizeof words };
	if (reply->version >= 6 && macros != NULL) {
		for (int i = SMFIM_FIRST; i <= SMFIM_LAST; i++) {
			if (macros[i] == NULL || macros[i][0] == '\0')
				continue;
			put_u32(stages[i], (uint32_t)i);
			parts[n++] = (struct part){ stages[i], 4 };
			parts[n++] = zstr(macros[i]);
		}
	}
	return put_packet(out, SMFIC_OPTNEG, parts, n);
}

static bool valid_header_name(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == ':')
			return false;
	return true;
}

/* Header values: "\r\n" and lone "\r" become "\n"; a line break must be
 * followed by SP or TAB (folding), else a TAB is inserted so the value
 * cannot start a new header. */
static char *clean_value(const char *v)
{
	size_t n = strlen(v);
	char *out = malloc(2 * n + 1);
	if (out == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c == '\r') {
			if (v[i + 1] == '\n')
				continue;
			c = '\n';
		}
		out[k++] = c;
		if (c == '\n' && v[i + 1] != ' ' && v[i + 1] != '\t')
			out[k++] = '\t';
	}
	/* no trailing line break */
	while (k > 0 && (out[k - 1] == '\n' || out[k - 1] == '\t'))
		k--;
	out[k] = '\0';
	return out;
}

static int put_header(struct evbuffer *out, char cmd, const uint32_t *index,
                      const char *name, const char *value)
{
	if (!valid_header_name(name))
		return -1;
	char *v = clean_value(value ? value : "");
	if (v == NULL)
		return -1;
	unsigned char idx[4];
	struct part parts[3];
	size_t n = 0;
	if (index != NULL) {
		put_u32(idx, *index);
		parts[n++] = (struct part){ idx, 4 };
	}
	parts[n++] = zstr(name);
	parts[n++] = zstr(v);
	int rc = put_packet(out, cmd, parts, n);
	free(v);
	return rc;
}

int proto_enc_addheader(struct evbuffer *out, const char *name,
                        const char *value)
{
	return put_header(out, SMFIR_ADDHEADER, NULL, name, value);
}

int proto_enc_insheader(struct evbuffer *out, uint32_t index,
                        const char *name, const char *value)
{
	return put_header(out, SMFIR_INSHEADER, &index, name, value);
}

int proto_enc_chgheader(struct evbuffer *out, uint32_t index,
                        const char *name, const char *value)
{
	return put_header(out, SMFIR_CHGHEADER, &index, name, value);
}

static int put_text(struct evbuffer *out, char cmd, const char *text)
{
	if (text == NULL)
		return -1;
	struct part p = zstr(text);
	return put_packet(out, cmd, &p, 1);
}

int proto_enc_quarantine(struct evbuffer *out, const char *reason)
{
	return put_text(out, SMFIR_QUARANTINE, reason && *reason ? reason :
	                "quarantined");
}

int proto_enc_delrcpt(struct evbuffer *out, const char *rcpt)
{
	return put_text(out, SMFIR_DELRCPT, rcpt);
}

int proto_enc_addrcpt(struct evbuffer *out, const char *rcpt)
{
	return put_text(out, SMFIR_ADDRCPT, rcpt);
}

#define REPLY_MAX_LINES 32
#define REPLY_MAX_LINE 980

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "X.Y.Z": class digit, then 1-3 digits, then 1-3 digits. */
static bool valid_xcode(const char *x, char cls)
{
	if (x[0] != cls || x[1] != '.')
		return false;
	const char *p = x + 2;
	for (int part = 0; part < 2; part++) {
		int d = 0;
		while (is_digit(*p) && d < 4) {
			p++;
			d++;
		}
		if (d == 0 || d > 3)
			return false;
		if (part == 0 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

/* Append one cleaned line: control characters dropped, '%' doubled
 * (the MTA runs the text through a printf-like expansion). */
static size_t clean_line(char *dst, const char *src, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < ' ' || c == 0x7f)
			continue;
		dst[k++] = (char)c;
		if (c == '%')
			dst[k++] = '%';
	}
	return k;
}

int proto_enc_replycode(struct evbuffer *out, const char *code,
                        const char *xcode, const char *text)
{
	if (code == NULL || strlen(code) != 3 || (code[0] != '4' && code[0] != '5') ||
	    !is_digit(code[1]) || !is_digit(code[2]))
		return -1;
	if (xcode != NULL && !valid_xcode(xcode, code[0]))
		return -1;
	if (text == NULL)
		text = "";
	size_t tlen = strlen(text);
	/* Worst case: every byte doubled, plus a prefix per line. */
	size_t cap = 2 * tlen + REPLY_MAX_LINES * 32 + 1;
	char *buf = malloc(cap);
	if (buf == NULL)
		return -1;
	size_t k = 0, lines = 0;
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (++lines > REPLY_MAX_LINES) {
			free(buf);
			return -1;
		}
		bool last = nl == NULL || nl[1] == '\0';
		k += (size_t)snprintf(buf + k, cap - k, "%s%c%s%s", code,
		                      last ? ' ' : '-', xcode ? xcode : "",
		                      xcode ? " " : "");
		size_t start = k;
		k += clean_line(buf + k, p, n);
		if (k - start > REPLY_MAX_LINE) {
			free(buf);
			return -1;
		}
		if (last)
			break;
		buf[k++] = '\r';
		buf[k++] = '\n';
		p = nl + 1;
	}
	buf[k] = '\0';
	int rc = put_text(out, SMFIR_REPLYCODE, buf);
	free(buf);
	return rc;
}

/* ---- MTA side: commands ---- */

int proto_enc_cmd_optneg(struct evbuffer *out, const struct proto_optneg *o)
{
	unsigned char words[MILTER_OPTLEN];
	put_u32(words, o->version);
	put_u32(words + 4, o->actions);
	put_u32(words + 8, o->protocol);
	struct part p = { words, sizeof words };
	return put_packet(out, SMFIC_OPTNEG, &p, 1);
}

int proto_enc_cmd_macro(struct evbuffer *out, char stage, size_t n,
                        const char *const *names, const char *const *values)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0' || values[i] == NULL)
			return -1;
	struct part *parts = calloc(1 + 2 * n, sizeof *parts);
	if (parts == NULL)
		return -1;
	parts[0] = (struct part){ &stage, 1 };
	for (size_t i = 0; i < n; i++) {
		parts[1 + 2 * i] = zstr(names[i]);
		parts[2 + 2 * i] = zstr(values[i]);
	}
	int rc = put_packet(out, SMFIC_MACRO, parts, 1 + 2 * n);
	free(parts);
	return rc;
}

int proto_enc_cmd_connect(struct evbuffer *out, const char *host, char family,
                          uint16_t port, const char *addr)
{
	if (host == NULL)
		return -1;
	unsigned char portbuf[2] = { (unsigned char)(port >> 8),
	                             (unsigned char)port };
	struct part parts[4] = { zstr(host), { &family, 1 } };
	size_t n = 2;
	if (family != SMFIA_UNKNOWN) {
		parts[n++] = (struct part){ portbuf, 2 };
		parts[n++] = zstr(addr ? addr : "");
	}
	return put_packet(out, SMFIC_CONNECT, parts, n);
}

int proto_enc_cmd_helo(struct evbuffer *out, const char *helo)
{
	return put_text(out, SMFIC_HELO, helo);
}

int proto_enc_cmd_envelope(struct evbuffer *out, char cmd, size_t n,
                           const char *const *args)
{
	if ((cmd != SMFIC_MAIL && cmd != SMFIC_RCPT) || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (args[i] == NULL)
			return -1;
	struct part *parts = calloc(n, sizeof *parts);
	if (parts == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		parts[i] = zstr(args[i]);
	int rc = put_packet(out, cmd, parts, n);
	free(parts);
	return rc;
}

int proto_enc_cmd_header(struct evbuffer *out, const char *name,
                         const char *value)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	struct part parts[2] = { zstr(name), zstr(value ? value : "") };
	return put_packet(out, SMFIC_HEADER, parts, 2);
}

int proto_enc_cmd_body(struct evbuffer *out, char cmd, const void *data,
                       size_t len)
{
	if ((cmd != SMFIC_BODY && cmd != SMFIC_BODYEOB) ||
	    (cmd == SMFIC_BODY && len > PROTO_BODY_CHUNK) ||
	    (data == NULL && len > 0))
		return -1;
	struct part p = { data, len };
	return put_packet(out, cmd, &p, 1);
}

int proto_enc_cmd_simple(struct evbuffer *out, char cmd)
{
	return put_packet(out, cmd, NULL, 0);
}

int proto_enc_cmd_unknown(struct evbuffer *out, const char *line)
{
	return put_text(out, SMFIC_UNKNOWN, line);
}

/* ---- MTA side: replies ---- */

/* The strings of an envelope change, nothing after them: libmilter
 * writes the address, and for ADDRCPT_PAR and CHGFROM the ESMTP
 * arguments when there are any (smfi_addrcpt_par(), smfi_chgfrom()). */
static enum proto_status dec_envelope_change(const unsigned char *d,
                                             size_t len,
                                             struct proto_reply *r)
{
	size_t pos = 0;
	if (take_str(d, len, 0, &r->text, &pos) != 0)
		return PROTO_MALFORMED;
	bool par = r->cmd == SMFIR_ADDRCPT_PAR || r->cmd == SMFIR_CHGFROM;
	if (par && pos < len && take_str(d, len, pos, &r->args, &pos) != 0)
		return PROTO_MALFORMED;
	return pos == len ? PROTO_OK : PROTO_MALFORMED;
}

enum proto_status proto_dec_reply(const struct proto_pkt *pkt,
                                  struct proto_reply *r)
{
	memset(r, 0, sizeof *r);
	r->cmd = pkt->cmd;
	const unsigned char *d = pkt->data;
	size_t len = pkt->len, pos = 0;
	switch (pkt->cmd) {
	case SMFIC_OPTNEG:
		if (len < MILTER_OPTLEN)
			return PROTO_MALFORMED;
		r->neg.version = get_u32(d);
		r->neg.actions = get_u32(d + 4);
		r->neg.protocol = get_u32(d + 8);
		strs_init(&r->macros, d, len, MILTER_OPTLEN);
		return PROTO_OK;
	case SMFIR_REPLYCODE:
	case SMFIR_QUARANTINE:
		return take_str(d, len, 0, &r->text, &pos) == 0 ? PROTO_OK
		                                                 : PROTO_MALFORMED;
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
	case SMFIR_CHGFROM:
	case SMFIR_ADDRCPT_PAR:
		return dec_envelope_change(d, len, r);
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if (len < 4)
			return PROTO_MALFORMED;
		r->index = get_u32(d);
		pos = 4;
		/* fall through */
	case SMFIR_ADDHEADER:
		/* libmilter and the MTAs refuse a header they could not
		 * write: no name, or one with a colon, blank or control */
		if (take_str(d, len, pos, &r->name, &pos) != 0 ||
		    !valid_header_name(r->name.ptr) ||
		    take_str(d, len, pos, &r->value, &pos) != 0)
			return PROTO_MALFORMED;
		return PROTO_OK;
	case SMFIR_REPLBODY:
		r->body = d;
		r->body_len = len;
		return PROTO_OK;
	case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_DISCARD:
	case SMFIR_REJECT: case SMFIR_TEMPFAIL: case SMFIR_PROGRESS:
	case SMFIR_SKIP: case SMFIR_CONN_FAIL: case SMFIR_SHUTDOWN:
		/* no data: Postfix refuses one "followed by data bytes" */
		return len == 0 ? PROTO_OK : PROTO_MALFORMED;
	default:
		return PROTO_MALFORMED;
	}
}

int proto_optneg_macros_next(struct proto_reply *r, uint32_t *stage,
                             struct proto_str *list)
{
	struct proto_strs *it = &r->macros;
	if (it->pos + 4 > it->len)
		return 0;
	uint32_t st = get_u32(it->data + it->pos);
	size_t next;
	if (take_str(it->data, it->len, it->pos + 4, list, &next) != 0)
		return 0;
	*stage = st;
	it->pos = next;
	return 1;
}

const char *proto_cmd_name(char cmd)
{
	switch (cmd) {
	case SMFIC_ABORT: return "ABORT";
	case SMFIC_BODY: return "BODY";
	case SMFIC_CONNECT: return "CONNECT";
	case SMFIC_MACRO: return "MACRO";
	case SMFIC_BODYEOB: return "EOB";
	case SMFIC_HELO: return "HELO";
	case SMFIC_QUIT_NC: return "QUIT_NC";
	case SMFIC_HEADER: return "HEADER";
	case SMFIC_MAIL: return "MAIL";
	case SMFIC_EOH: return "EOH";
	case SMFIC_OPTNEG: return "OPTNEG";
	case SMFIC_QUIT: return "QUIT";
	case SMFIC_RCPT: return "RCPT";
	case SMFIC_DATA: return "DATA";
	case SMFIC_UNKNOWN: return "UNKNOWN";
	default: return "?";
	}
}

const char *proto_reply_name(char reply)
{
	switch (reply) {
	case SMFIR_ADDRCPT: return "ADDRCPT";
	case SMFIR_DELRCPT: return "DELRCPT";
	case SMFIR_ADDRCPT_PAR: return "ADDRCPT_PAR";
	case SMFIR_SHUTDOWN: return "SHUTDOWN";
	case SMFIR_ACCEPT: return "ACCEPT";
	case SMFIR_REPLBODY: return "REPLBODY";
	case SMFIR_CONTINUE: return "CONTINUE";
	case SMFIR_DISCARD: return "DISCARD";
	case SMFIR_CHGFROM: return "CHGFROM";
	case SMFIR_CONN_FAIL: return "CONN_FAIL";
	case SMFIR_ADDHEADER: return "ADDHEADER";
	case SMFIR_INSHEADER: return "INSHEADER";
	case SMFIR_SETSYMLIST: return "SETSYMLIST";
	case SMFIR_CHGHEADER: return "CHGHEADER";
	case SMFIR_PROGRESS: return "PROGRESS";
	case SMFIR_QUARANTINE: return "QUARANTINE";
	case SMFIR_REJECT: return "REJECT";
	case SMFIR_SKIP: return "SKIP";
	case SMFIR_TEMPFAIL: return "TEMPFAIL";
	case SMFIR_REPLYCODE: return "REPLYCODE";
	case SMFIC_OPTNEG: return "OPTNEG";
	default: return "an unknown reply";
	}
}

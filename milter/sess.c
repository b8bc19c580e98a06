/* sess.c — see sess.h */
#include "sess.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pipeline.h"
#include "scan.h"
#include "verdict.h"
#include "vlog.h"

/* What vigild asks of the MTA (reduced to what it offers). */
#define WANT_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
                      SMFIF_DELRCPT | SMFIF_SETSYMLIST)
/* No replies for steps no stage answers; no DATA and unknown commands;
 * header values byte-exact (DKIM needs the leading space). */
#define WANT_PROTOCOL (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
                       SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | \
                       SMFIP_NR_EOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | \
                       SMFIP_NODATA | SMFIP_HDR_LEADSPC)

/* Macros asked for per stage (Postfix honours the list; Sendmail uses its
 * own .cf lists, which include these by default). */
static const char *const want_macros[SMFIM_LAST + 1] = {
	[SMFIM_CONNECT] = "j {daemon_name} {client_addr} {client_name}",
	[SMFIM_HELO] = NULL,
	[SMFIM_ENVFROM] = "i {auth_type} {auth_authen} {mail_addr} "
	                  PROTO_MACRO_ENVFROM_GUESSED " "
	                  PROTO_MACRO_CLIENT_GUESSED,
	[SMFIM_ENVRCPT] = "i {rcpt_addr}",
	[SMFIM_DATA] = "i",
	[SMFIM_EOM] = "i",
	[SMFIM_EOH] = "i",
};

#define MACRO_SLOTS 8	/* SMFIM_* stages + one for anything else */

enum state {
	ST_IDLE,     /* no message */
	ST_MESSAGE,  /* between MAIL and EOB */
	ST_WAITING   /* EOB received, verdict pending */
};

struct macros {
	char *data;  /* name\0value\0... as received */
	size_t len;
};

struct sess {
	char *peer;
	bool negotiated;
	struct proto_optneg neg;
	struct macros macros[MACRO_SLOTS];

	char *client_addr, *client_host, *helo;
	uint16_t client_port;

	enum state state;
	uint64_t msg_id;
	struct scan *scan;
	struct conf *conf;   /* reference for the current message */
	char *mail_from;
	char **rcpts_raw;    /* recipients as the MTA sent them (with <>) */
	size_t rcpt_count;
	size_t body_seen;
	bool skipped;
	bool mail_wait;      /* MAIL's reply waits for sess_mail_reply() */
};

struct sess *sess_new(const char *peer)
{
	struct sess *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->peer = strdup(peer ? peer : "?");
	if (s->peer == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static void message_reset(struct sess *s)
{
	scan_free(s->scan);
	s->scan = NULL;
	conf_unref(s->conf);
	s->conf = NULL;
	free(s->mail_from);
	s->mail_from = NULL;
	for (size_t i = 0; i < s->rcpt_count; i++)
		free(s->rcpts_raw[i]);
	free(s->rcpts_raw);
	s->rcpts_raw = NULL;
	s->rcpt_count = 0;
	s->body_seen = 0;
	s->skipped = false;
	s->mail_wait = false;
	if (s->state != ST_IDLE)
		s->msg_id++;
	s->state = ST_IDLE;
}

/* Message-scoped macros go when the message is over (its verdict sent,
 * or ABORT); not at MAIL, whose macros arrive just before it. */
static void forget_message_macros(struct sess *s)
{
	for (int i = SMFIM_ENVFROM; i < MACRO_SLOTS; i++) {
		free(s->macros[i].data);
		s->macros[i].data = NULL;
		s->macros[i].len = 0;
	}
}

/* Back to the state right after negotiation (QUIT_NC: a new SMTP
 * session follows on this connection). */
static void connection_reset(struct sess *s)
{
	message_reset(s);
	for (int i = 0; i < MACRO_SLOTS; i++) {
		free(s->macros[i].data);
		s->macros[i].data = NULL;
		s->macros[i].len = 0;
	}
	free(s->client_addr);
	free(s->client_host);
	free(s->helo);
	s->client_addr = s->client_host = s->helo = NULL;
	s->client_port = 0;
}

void sess_free(struct sess *s)
{
	if (s == NULL)
		return;
	connection_reset(s);
	free(s->peer);
	free(s);
}

/* ---- macros ---- */

static int macro_slot(char stage)
{
	switch (stage) {
	case SMFIC_CONNECT: return SMFIM_CONNECT;
	case SMFIC_HELO: return SMFIM_HELO;
	case SMFIC_MAIL: return SMFIM_ENVFROM;
	case SMFIC_RCPT: return SMFIM_ENVRCPT;
	case SMFIC_DATA: return SMFIM_DATA;
	case SMFIC_BODYEOB: return SMFIM_EOM;
	case SMFIC_EOH: return SMFIM_EOH;
	default: return MACRO_SLOTS - 1;
	}
}

/* Compare macro names ignoring braces: "{i}" == "i". */
static bool macro_name_eq(const char *a, size_t alen, const char *b)
{
	if (alen >= 2 && a[0] == '{' && a[alen - 1] == '}') {
		a++;
		alen -= 2;
	}
	size_t blen = strlen(b);
	if (blen >= 2 && b[0] == '{' && b[blen - 1] == '}') {
		b++;
		blen -= 2;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* The latest value of a macro: later stages first. */
static const char *macro_get(const struct sess *s, const char *name)
{
	static const int order[] = { MACRO_SLOTS - 1, SMFIM_EOM, SMFIM_EOH,
		SMFIM_DATA, SMFIM_ENVRCPT, SMFIM_ENVFROM, SMFIM_HELO,
		SMFIM_CONNECT };
	for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
		const struct macros *m = &s->macros[order[k]];
		size_t pos = 0;
		while (pos < m->len) {
			const char *n = m->data + pos;
			size_t nl = strlen(n);
			const char *v = n + nl + 1;
			if (v >= m->data + m->len)
				break;
			size_t vl = strlen(v);
			if (macro_name_eq(n, nl, name))
				return v;
			pos += nl + 1 + vl + 1;
		}
	}
	return NULL;
}

static int on_macro(struct sess *s, const struct proto_pkt *pkt)
{
	char stage;
	struct proto_strs pairs;
	if (proto_dec_macro(pkt, &stage, &pairs) != PROTO_OK)
		return -1;
	/* Copy the pairs as name\0value\0...; the packet is never larger. */
	char *copy = malloc(pkt->len + 1);
	if (copy == NULL)
		return -1;
	size_t len = 0;
	struct proto_str str;
	while (proto_strs_next(&pairs, &str)) {
		memcpy(copy + len, str.ptr, str.len);
		len += str.len;
		copy[len++] = '\0';
	}
	struct macros *m = &s->macros[macro_slot(stage)];
	free(m->data);
	m->data = copy;
	m->len = len;
	return 0;
}

/* ---- replies ---- */

static bool offered(const struct sess *s, uint32_t pflag)
{
	return (s->neg.protocol & pflag) != 0;
}

static void reply_continue(struct sess *s, uint32_t nr_flag,
                           struct evbuffer *out)
{
	if (!offered(s, nr_flag))
		proto_enc_simple(out, SMFIR_CONTINUE);
}

static int on_optneg(struct sess *s, struct conf *current,
                     const struct proto_pkt *pkt, struct evbuffer *out)
{
	struct proto_optneg offer;
	if (proto_dec_optneg(pkt, &offer) != PROTO_OK)
		return -1;
	uint32_t want = WANT_PROTOCOL;
	/* With SKIP, body chunks get replies so that the rest of a message
	 * too large to scan can be skipped; without it, none are needed. */
	if (offer.protocol & SMFIP_SKIP)
		want |= SMFIP_SKIP;
	else
		want |= SMFIP_NR_BODY;
	/* A stage that may reject at MAIL FROM needs that reply. */
	if (pipeline_envelope_rejects(current->pipeline))
		want &= ~(uint32_t)SMFIP_NR_MAIL;
	if (proto_negotiate(&offer, WANT_ACTIONS, want, &s->neg) != 0) {
		vlog(LOG_WARNING, "peer=%s: MTA offers milter protocol version "
		     "%u, at least 2 is needed", s->peer, offer.version);
		return -1;
	}
	s->negotiated = true;
	const char *const *macros = (s->neg.actions & SMFIF_SETSYMLIST) ?
	                            want_macros : NULL;
	static const char *const none[SMFIM_LAST + 1];
	return proto_enc_optneg(out, &s->neg, macros ? macros : none);
}

/* ---- envelope ---- */

static char *strip_brackets(const char *a, size_t len)
{
	while (len > 0 && (*a == ' ' || *a == '<')) {
		a++;
		len--;
	}
	while (len > 0 && (a[len - 1] == '>' || a[len - 1] == ' '))
		len--;
	return strndup(a, len);
}

static void set_str(char **field, const char *v, size_t len)
{
	free(*field);
	*field = strndup(v, len);
}

static int on_connect(struct sess *s, const struct proto_pkt *pkt)
{
	struct proto_connect c;
	if (proto_dec_connect(pkt, &c) != PROTO_OK)
		return -1;
	/* A new SMTP session: forget the old one, but keep the CONNECT
	 * macros, which the MTA sent just before this packet. */
	struct macros keep = s->macros[SMFIM_CONNECT];
	s->macros[SMFIM_CONNECT].data = NULL;
	s->macros[SMFIM_CONNECT].len = 0;
	connection_reset(s);
	s->macros[SMFIM_CONNECT] = keep;
	set_str(&s->client_host, c.host.ptr, c.host.len);
	if (c.family == SMFIA_INET || c.family == SMFIA_INET6)
		set_str(&s->client_addr, c.addr.ptr, c.addr.len);
	else
		set_str(&s->client_addr, "", 0);
	s->client_port = c.port;
	return s->client_host && s->client_addr ? 0 : -1;
}

/* Start a message if none is open (MAIL, or lenient: first RCPT, header
 * or body when the MTA skipped MAIL). */
static int message_open(struct sess *s, struct conf *current)
{
	if (s->state == ST_MESSAGE)
		return 0;
	message_reset(s);
	s->scan = scan_new();
	if (s->scan == NULL)
		return -1;
	s->conf = conf_ref(current);
	scan_set_max_body(s->scan, s->conf->max_message_size);
	s->state = ST_MESSAGE;
	s->msg_id++;
	return 0;
}

/* MAIL or RCPT: the address (first argument) of an open message. */
static int envelope_open(struct sess *s, struct conf *current,
                         const struct proto_pkt *pkt, struct proto_str *addr)
{
	struct proto_strs args;
	if (proto_dec_envelope(pkt, &args) != PROTO_OK ||
	    !proto_strs_next(&args, addr))
		return -1;
	return message_open(s, current);
}

static int on_mail(struct sess *s, struct conf *current,
                   const struct proto_pkt *pkt)
{
	struct proto_str addr;
	if (s->state != ST_IDLE)
		message_reset(s);	/* a new MAIL without ABORT: start over */
	if (envelope_open(s, current, pkt, &addr) != 0)
		return -1;
	s->mail_from = strip_brackets(addr.ptr, addr.len);
	return s->mail_from ? 0 : -1;
}

static int on_rcpt(struct sess *s, struct conf *current,
                   const struct proto_pkt *pkt)
{
	struct proto_str addr;
	if (envelope_open(s, current, pkt, &addr) != 0)
		return -1;
	char **r = realloc(s->rcpts_raw, (s->rcpt_count + 1) * sizeof *r);
	if (r == NULL)
		return -1;
	s->rcpts_raw = r;
	r[s->rcpt_count] = strndup(addr.ptr, addr.len);
	if (r[s->rcpt_count] == NULL)
		return -1;
	char *bare = strip_brackets(addr.ptr, addr.len);
	int rc = bare ? scan_add_rcpt(s->scan, bare) : -1;
	free(bare);
	s->rcpt_count++;
	return rc;
}

/* One field into the scan, and to the stages that read headers as they
 * come (DKIM) only when the scan stored it (scan_add_header(): past its
 * bound most are counted only), so that both see the same fields. */
static int store_header(struct sess *s, const char *name, size_t name_len,
                        const char *value, size_t value_len)
{
	int rc = scan_add_header(s->scan, name, name_len, value, value_len);
	if (rc == 0)
		pipeline_header(s->conf->pipeline, s->scan, name, name_len,
		                value, value_len);
	return rc < 0 ? -1 : 0;
}

static int on_header(struct sess *s, struct conf *current,
                     const struct proto_pkt *pkt)
{
	struct proto_str name, value;
	if (proto_dec_header(pkt, &name, &value) != PROTO_OK)
		return -1;
	if (message_open(s, current) != 0)
		return -1;
	/* Without SMFIP_HDR_LEADSPC the MTA strips the space after the
	 * colon; put one back so the raw view looks as on the wire. */
	if (!offered(s, SMFIP_HDR_LEADSPC) && value.len > 0 &&
	    value.ptr[0] != ' ' && value.ptr[0] != '\t') {
		char *v = malloc(value.len + 1);
		if (v == NULL)
			return -1;
		v[0] = ' ';
		memcpy(v + 1, value.ptr, value.len);
		int rc = store_header(s, name.ptr, name.len, v, value.len + 1);
		free(v);
		return rc;
	}
	return store_header(s, name.ptr, name.len, value.ptr, value.len);
}

static int on_body(struct sess *s, struct conf *current,
                   const struct proto_pkt *pkt)
{
	if (message_open(s, current) != 0)
		return -1;
	s->body_seen += pkt->len;
	if (scan_add_body(s->scan, pkt->data, pkt->len) != 0)
		return -1;
	if (pkt->len > 0)
		pipeline_body(s->conf->pipeline, s->scan, pkt->data, pkt->len);
	return 0;
}

/* Whether the client said the MAIL FROM, or the client address and HELO,
 * are a guess (vigil scan --milter replaying a file without an envelope;
 * proto.h). */
static bool said_guessed(const struct sess *s, const char *macro)
{
	const char *v = macro_get(s, macro);
	return v != NULL && strcmp(v, "1") == 0;
}

/* Envelope and macros into the scan, at end of message. */
static int scan_finish_env(struct sess *s)
{
	const char *qid = macro_get(s, "i");
	int rc = scan_set_env(s->scan, qid ? qid : "", s->client_addr,
	                      s->client_host, s->client_port, s->helo,
	                      s->mail_from);
	rc |= scan_set_macro_env(s->scan, macro_get(s, "auth_authen"),
	                         macro_get(s, "j"));
	scan_set_mail_from_guessed(s->scan,
	                           said_guessed(s, PROTO_MACRO_ENVFROM_GUESSED));
	scan_set_client_guessed(s->scan,
	                        said_guessed(s, PROTO_MACRO_CLIENT_GUESSED));
	scan_set_received_at(s->scan, (int64_t)time(NULL));
	return rc;
}

static enum sess_status fail(struct sess *s, const struct proto_pkt *pkt)
{
	vlog(LOG_WARNING, "peer=%s: malformed or unexpected %s packet "
	     "(%zu bytes); closing the connection", s->peer,
	     proto_cmd_name(pkt->cmd), pkt->len);
	return SESS_CLOSE;
}

static enum sess_status oom(struct sess *s)
{
	vlog(LOG_ERR, "peer=%s: out of memory; closing the connection", s->peer);
	return SESS_CLOSE;
}

enum sess_status sess_input(struct sess *s, struct conf *current,
                            const struct proto_pkt *pkt,
                            struct evbuffer *out)
{
	if (!s->negotiated && pkt->cmd != SMFIC_OPTNEG) {
		vlog(LOG_WARNING, "peer=%s: %s before option negotiation; closing",
		     s->peer, proto_cmd_name(pkt->cmd));
		return SESS_CLOSE;
	}
	if (s->state == ST_WAITING && pkt->cmd != SMFIC_ABORT &&
	    pkt->cmd != SMFIC_QUIT && pkt->cmd != SMFIC_QUIT_NC &&
	    pkt->cmd != SMFIC_MACRO) {
		vlog(LOG_WARNING, "peer=%s: %s while a verdict is pending; closing",
		     s->peer, proto_cmd_name(pkt->cmd));
		return SESS_CLOSE;
	}
	switch (pkt->cmd) {
	case SMFIC_OPTNEG:
		if (s->negotiated) {
			/* A second negotiation restarts the connection state. */
			connection_reset(s);
		}
		return on_optneg(s, current, pkt, out) == 0 ? SESS_OK : fail(s, pkt);
	case SMFIC_MACRO:
		return on_macro(s, pkt) == 0 ? SESS_OK : fail(s, pkt);
	case SMFIC_CONNECT:
		if (on_connect(s, pkt) != 0)
			return fail(s, pkt);
		reply_continue(s, SMFIP_NR_CONN, out);
		return SESS_OK;
	case SMFIC_HELO: {
		struct proto_str helo;
		if (proto_dec_helo(pkt, &helo) != PROTO_OK)
			return fail(s, pkt);
		set_str(&s->helo, helo.ptr, helo.len);
		if (s->helo == NULL)
			return oom(s);
		reply_continue(s, SMFIP_NR_HELO, out);
		return SESS_OK;
	}
	case SMFIC_MAIL:
		if (on_mail(s, current, pkt) != 0)
			return fail(s, pkt);
		if (!pipeline_has_envelope(s->conf->pipeline)) {
			reply_continue(s, SMFIP_NR_MAIL, out);
			return SESS_OK;
		}
		if (!offered(s, SMFIP_NR_MAIL) &&
		    pipeline_envelope_rejects(s->conf->pipeline)) {
			s->mail_wait = true;
			return SESS_ENVELOPE_WAIT;
		}
		reply_continue(s, SMFIP_NR_MAIL, out);
		return SESS_ENVELOPE;
	case SMFIC_RCPT:
		if (on_rcpt(s, current, pkt) != 0)
			return fail(s, pkt);
		reply_continue(s, SMFIP_NR_RCPT, out);
		return SESS_OK;
	case SMFIC_DATA:
		reply_continue(s, SMFIP_NR_DATA, out);
		return SESS_OK;
	case SMFIC_UNKNOWN: {
		struct proto_str line;
		if (proto_dec_unknown(pkt, &line) != PROTO_OK)
			return fail(s, pkt);
		reply_continue(s, SMFIP_NR_UNKN, out);
		return SESS_OK;
	}
	case SMFIC_HEADER:
		if (on_header(s, current, pkt) != 0)
			return fail(s, pkt);
		reply_continue(s, SMFIP_NR_HDR, out);
		return SESS_OK;
	case SMFIC_EOH:
		if (message_open(s, current) != 0)
			return oom(s);
		pipeline_eoh(s->conf->pipeline, s->scan);
		reply_continue(s, SMFIP_NR_EOH, out);
		return SESS_OK;
	case SMFIC_BODY:
		if (on_body(s, current, pkt) != 0)
			return oom(s);
		if (offered(s, SMFIP_NR_BODY))
			return SESS_OK;
		/* Past the size we scan, the rest is of no use: skip it. */
		if (offered(s, SMFIP_SKIP) && !s->skipped &&
		    s->body_seen > s->conf->max_message_size) {
			s->skipped = true;
			proto_enc_simple(out, SMFIR_SKIP);
		} else {
			proto_enc_simple(out, SMFIR_CONTINUE);
		}
		return SESS_OK;
	case SMFIC_BODYEOB:
		if (on_body(s, current, pkt) != 0 || scan_finish_env(s) != 0)
			return oom(s);
		s->state = ST_WAITING;
		return SESS_EOM;
	case SMFIC_ABORT:
		message_reset(s);
		forget_message_macros(s);
		return SESS_OK;
	case SMFIC_QUIT_NC:
		connection_reset(s);
		return SESS_OK;
	case SMFIC_QUIT:
		return SESS_CLOSE;
	default:
		vlog(LOG_WARNING, "peer=%s: unknown milter command 0x%02x; closing",
		     s->peer, (unsigned char)pkt->cmd);
		return SESS_CLOSE;
	}
}

void sess_mail_reply(struct sess *s, const char *reject,
                     struct evbuffer *out)
{
	if (!s->mail_wait)
		return;	/* aborted meanwhile: the MTA expects no reply */
	s->mail_wait = false;
	if (reject == NULL || reject[0] != '5' || strlen(reject) < 4) {
		proto_enc_simple(out, SMFIR_CONTINUE);
		return;
	}
	/* "550 5.7.23 text" */
	char code[4] = { reject[0], reject[1], reject[2], '\0' };
	const char *p = reject + 3;
	while (*p == ' ')
		p++;
	char xcode[16] = "";
	size_t xl = strcspn(p, " ");
	if (xl > 0 && xl < sizeof xcode && p[1] == '.') {
		memcpy(xcode, p, xl);
		p += xl;
		while (*p == ' ')
			p++;
	}
	if (proto_enc_replycode(out, code, xcode[0] ? xcode : NULL, p) != 0)
		proto_enc_simple(out, SMFIR_REJECT);
	message_reset(s);
	forget_message_macros(s);
}

struct scan *sess_envelope_scan(struct sess *s)
{
	struct scan *early = scan_new();
	if (early == NULL)
		return NULL;
	if (scan_set_env(early, "", s->client_addr, s->client_host,
	                 s->client_port, s->helo, s->mail_from) != 0 ||
	    scan_set_macro_env(early, macro_get(s, "auth_authen"),
	                       macro_get(s, "j")) != 0) {
		scan_free(early);
		return NULL;
	}
	scan_set_mail_from_guessed(early,
	                           said_guessed(s, PROTO_MACRO_ENVFROM_GUESSED));
	return early;
}

struct scan *sess_take_scan(struct sess *s, struct conf **conf)
{
	struct scan *scan = s->scan;
	s->scan = NULL;
	*conf = s->conf ? conf_ref(s->conf) : NULL;
	return scan;
}

/* ---- end of message ---- */

/* Headers we write ourselves: copies arriving with the message are
 * forgeries or leftovers and are removed. */
static bool is_own_header(const char *name, size_t len, const char *value,
                          size_t vlen, const char *authserv_id)
{
	static const char *const own[] = {
		"X-Spam-Flag", "X-Spam-Status", "X-Spam-Score", "X-Spam-Scan" };
	for (size_t i = 0; i < sizeof own / sizeof *own; i++)
		if (strlen(own[i]) == len && strncasecmp(name, own[i], len) == 0)
			return true;
	if (len != 22 || strncasecmp(name, "Authentication-Results", 22) != 0)
		return false;
	/* RFC 8601 section 5: remove those claiming our authserv-id. */
	while (vlen > 0 && (*value == ' ' || *value == '\t' || *value == '\r' ||
	                    *value == '\n')) {
		value++;
		vlen--;
	}
	size_t idl = strlen(authserv_id);
	return idl > 0 && vlen >= idl && strncasecmp(value, authserv_id, idl) == 0 &&
	       (vlen == idl || value[idl] == ';' || value[idl] == ' ' ||
	        value[idl] == '\t' || value[idl] == '\r' || value[idl] == '\n');
}

/* SMFIR_CHGHEADER deletions, last occurrence first so that the indices
 * of the earlier ones stay valid. */
static void remove_own_headers(const struct scan *scan,
                               const char *authserv_id, struct evbuffer *out)
{
	size_t n = scan_header_count(scan);
	for (size_t i = n; i-- > 0;) {
		const char *name, *value;
		size_t nl, vl;
		scan_header_at(scan, i, &name, &nl, &value, &vl);
		if (!is_own_header(name, nl, value, vl, authserv_id))
			continue;
		uint32_t occurrence = 1;
		for (size_t j = 0; j < i; j++) {
			const char *n2, *v2;
			size_t nl2, vl2;
			scan_header_at(scan, j, &n2, &nl2, &v2, &vl2);
			if (nl2 == nl && strncasecmp(n2, name, nl) == 0)
				occurrence++;
		}
		char *nm = strndup(name, nl);
		if (nm != NULL)
			proto_enc_chgheader(out, occurrence, nm, NULL);
		free(nm);
	}
}

/* One header of the verdict. With SMFIP_HDR_LEADSPC the MTA writes the
 * value exactly as given (Postfix: "Name:value"), so the space after the
 * colon is ours to send. Authentication-Results goes on top (RFC 8601
 * section 5) where the MTA can insert. */
static void add_header(const struct sess *s, const struct verdict_header *h,
                       struct evbuffer *out)
{
	const char *value = h->value;
	char *spaced = NULL;
	if (offered(s, SMFIP_HDR_LEADSPC) && value[0] != ' ' &&
	    value[0] != '\t' && asprintf(&spaced, " %s", value) >= 0)
		value = spaced;
	if (strcasecmp(h->name, "Authentication-Results") == 0 &&
	    s->neg.version >= 6)
		proto_enc_insheader(out, 0, h->name, value);
	else
		proto_enc_addheader(out, h->name, value);
	free(spaced);
}

static void final_reply(const struct verdict *v, struct evbuffer *out)
{
	switch (v->action) {
	case CONF_ACT_REJECT:
	case CONF_ACT_TEMPFAIL:
		if (v->text == NULL || proto_enc_replycode(out, v->code,
		    v->xcode[0] ? v->xcode : NULL, v->text) != 0)
			proto_enc_simple(out, v->action == CONF_ACT_REJECT ?
			                 SMFIR_REJECT : SMFIR_TEMPFAIL);
		return;
	case CONF_ACT_DISCARD:
		proto_enc_simple(out, SMFIR_DISCARD);
		return;
	default:
		proto_enc_simple(out, SMFIR_CONTINUE);
		return;
	}
}

bool sess_eom_reply(struct sess *s, uint64_t msg_id, const struct scan *scan,
                    const struct verdict *v, const char *authserv_id,
                    struct evbuffer *out)
{
	if (msg_id != s->msg_id || s->state != ST_WAITING)
		return false;
	bool delivers = v->action != CONF_ACT_REJECT &&
	                v->action != CONF_ACT_TEMPFAIL &&
	                v->action != CONF_ACT_DISCARD;
	if (delivers && scan != NULL && (s->neg.actions & SMFIF_CHGHDRS))
		remove_own_headers(scan, authserv_id, out);
	if (delivers && (s->neg.actions & SMFIF_DELRCPT) && v->drop_rcpt) {
		for (size_t i = 0; i < s->rcpt_count; i++)
			if (v->drop_rcpt[i])
				proto_enc_delrcpt(out, s->rcpts_raw[i]);
	}
	if (delivers && (s->neg.actions & SMFIF_ADDHDRS)) {
		for (size_t i = 0; i < v->header_count; i++)
			add_header(s, &v->headers[i], out);
	}
	if (v->action == CONF_ACT_QUARANTINE &&
	    (s->neg.actions & SMFIF_QUARANTINE))
		proto_enc_quarantine(out, v->quarantine_reason);
	final_reply(v, out);
	message_reset(s);
	forget_message_macros(s);
	return true;
}

uint64_t sess_msg_id(const struct sess *s)
{
	return s->msg_id;
}

bool sess_in_message(const struct sess *s)
{
	return s->state != ST_IDLE;
}

bool sess_waiting(const struct sess *s)
{
	return s->state == ST_WAITING;
}

bool sess_can_delrcpt(const struct sess *s)
{
	return (s->neg.actions & SMFIF_DELRCPT) != 0;
}

bool sess_can_quarantine(const struct sess *s)
{
	return (s->neg.actions & SMFIF_QUARANTINE) != 0;
}

bool sess_can_progress(const struct sess *s)
{
	return s->neg.version >= 6;
}

const char *sess_peer(const struct sess *s)
{
	return s->peer;
}

const char *sess_queue_id(const struct sess *s)
{
	const char *q = macro_get(s, "i");
	return q ? q : "";
}

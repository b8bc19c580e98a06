/* dkimver.c — see dkimver.h */
#include "dkimver.h"

#include <opendkim/dkim.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "scan.h"

struct dkimver {
	DKIM_LIB *lib;
	struct dns *dns;
	unsigned max_sigs;
	bool allow_sha1;
};

/* libopendkim's DNS hooks carry no per-message argument; the message's
 * budget travels in a thread-local pointer while dkim_eom() runs (the only
 * call that looks keys up, thanks to DKIM_LIBFLAGS_DELAYSIGPROC). */
static _Thread_local struct dns_budget *cur_budget;

/* One message being verified; may be fed on one thread (the event loop)
 * and finished on another (a worker). */
struct dkimver_msg {
	DKIM *dkim;
	unsigned max_sigs;
	bool allow_sha1;
	DKIM_STAT status;      /* first failure of a feeding call, or OK */
	bool eoh_done;
	bool signed_msg;       /* dkim_eoh found signatures to check */
	size_t headers;        /* headers fed */
	size_t body_bytes;     /* body bytes given (fed or skipped) */
	char *hbuf;            /* "Name:value" assembly buffer */
	size_t hcap;
};

const char *dkimver_res_name(enum dkimver_res r)
{
	static const char *const names[DKIMVER_RES_COUNT] = {
		"none", "pass", "fail", "neutral", "policy", "temperror",
		"permerror"
	};
	return r < DKIMVER_RES_COUNT ? names[r] : "?";
}

/* ---- DNS hooks over dns.h ---- */

struct key_query {
	int type;
	unsigned char *buf;
	size_t buflen;
	char name[];
};

static int q_start(void *srv, int type, unsigned char *query,
                   unsigned char *buf, size_t buflen, void **qh)
{
	(void)srv;
	size_t n = strlen((const char *)query);
	struct key_query *q = malloc(sizeof *q + n + 1);
	if (q == NULL)
		return DKIM_DNS_ERROR;
	q->type = type;
	q->buf = buf;
	q->buflen = buflen;
	memcpy(q->name, query, n + 1);
	*qh = q;
	return DKIM_DNS_SUCCESS;
}

static int q_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return DKIM_DNS_SUCCESS;
}

/* The query runs here, synchronously, bounded by the message's budget;
 * libopendkim parses the reply packet itself (NXDOMAIN → no key). */
static int q_waitreply(void *srv, void *qh, struct timeval *to,
                       size_t *bytes, int *error, int *dnssec)
{
	(void)to;
	struct key_query *q = qh;
	struct dns_answer *a;
	enum dns_status st = dns_query(srv, cur_budget, q->name, q->type, &a);
	size_t len;
	const unsigned char *pkt = dns_answer_packet(a, &len);
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = dns_answer_secure(a) ? DKIM_DNSSEC_SECURE
		                               : DKIM_DNSSEC_INSECURE;
	if (st == DNS_TEMPFAIL || pkt == NULL) {
		dns_answer_free(a);
		return st == DNS_TEMPFAIL ? DKIM_DNS_EXPIRED : DKIM_DNS_ERROR;
	}
	if (len > q->buflen)
		len = q->buflen;   /* libopendkim sees a truncated reply */
	memcpy(q->buf, pkt, len);
	*bytes = len;
	dns_answer_free(a);
	return DKIM_DNS_SUCCESS;
}

/* The service handle is our resolver: nothing to open or close (the
 * defaults would treat it as a libresolv state). */
static int q_init(void **srv)
{
	(void)srv;
	return 0;
}

static void q_close(void *srv)
{
	(void)srv;
}

/* d= and s= must be domain names (RFC 6376 §3.5: sub-domain and
 * selector syntax; '_' tolerated): anything else is refused without a
 * key lookup. */
static bool name_ok(const unsigned char *name)
{
	if (name == NULL || *name == '\0' || *name == '.')
		return false;
	for (const unsigned char *p = name; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9');
		if (!alnum && *p != '-' && *p != '_' && *p != '.')
			return false;
		if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
			return false;
	}
	return true;
}

static bool names_valid(DKIM_SIGINFO *sig)
{
	/* no d= or s= at all is libopendkim's syntax error, reported as is */
	const unsigned char *d = dkim_sig_getdomain(sig);
	const unsigned char *sel = dkim_sig_getselector(sig);
	return (d == NULL || *d == '\0' || name_ok(d)) &&
	       (sel == NULL || *sel == '\0' || name_ok(sel));
}

/* RFC 8301 §3.1: rsa-sha1 "MUST NOT be used for signing or verifying". */
static bool sha1_refused(DKIM_SIGINFO *sig, bool allow_sha1)
{
	const unsigned char *a = dkim_sig_gettagvalue(sig, false,
	                                              (u_char *)"a");
	return !allow_sha1 && a != NULL &&
	       strcasecmp((const char *)a, "rsa-sha1") == 0;
}

/* Evaluate at most max_sigs signatures (each costs a key lookup), and
 * none that would be refused anyway (key name not a domain name,
 * rsa-sha1). Runs inside dkim_eoh(). */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	const struct dkimver_msg *m = dkim_get_user_context(dkim);
	unsigned max = m ? m->max_sigs : 0;
	bool sha1 = m ? m->allow_sha1 : false;
	for (int i = 0; i < nsigs; i++)
		if ((max > 0 && (unsigned)i >= max) || !names_valid(sigs[i]) ||
		    sha1_refused(sigs[i], sha1))
			dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- library handle ---- */

struct dkimver *dkimver_new(struct dns *dns, unsigned min_key_bits,
                            unsigned max_sigs, char *err, size_t errlen)
{
	struct dkimver *v = calloc(1, sizeof *v);
	if (v == NULL || (v->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errlen, "dkim: cannot initialise libopendkim");
		free(v);
		return NULL;
	}
	v->dns = dns;
	v->max_sigs = max_sigs;
	/* DELAYSIGPROC: keys are looked up in dkim_eom(), not dkim_eoh(), so
	 * the headers can be fed on the event loop, which must not block */
	unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES |
	                     DKIM_LIBFLAGS_DELAYSIGPROC;
	if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	                 sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
	                 &min_key_bits, sizeof min_key_bits) != DKIM_STAT_OK) {
		snprintf(err, errlen, "dkim: libopendkim refused the options");
		dkimver_free(v);
		return NULL;
	}
	dkim_dns_set_init(v->lib, q_init);
	dkim_dns_set_close(v->lib, q_close);
	dkim_dns_set_query_service(v->lib, dns);
	dkim_dns_set_query_start(v->lib, q_start);
	dkim_dns_set_query_cancel(v->lib, q_cancel);
	dkim_dns_set_query_waitreply(v->lib, q_waitreply);
	dkim_set_prescreen(v->lib, prescreen);
	return v;
}

void dkimver_allow_sha1(struct dkimver *v, bool allow)
{
	v->allow_sha1 = allow;
}

void dkimver_free(struct dkimver *v)
{
	if (v == NULL)
		return;
	if (v->lib != NULL)
		dkim_close(v->lib);
	free(v);
}

/* ---- verification ---- */

static enum dkimver_res classify(DKIM_SIGINFO *sig)
{
	unsigned flags = dkim_sig_getflags(sig);
	if (flags & DKIM_SIGFLAG_IGNORE)
		return DKIMVER_NEUTRAL;
	if ((flags & DKIM_SIGFLAG_PASSED) &&
	    dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
		return DKIMVER_PASS;
	switch (dkim_sig_geterror(sig)) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		return DKIMVER_FAIL;   /* processed, but does not verify */
	case DKIM_SIGERROR_TOOLARGE_L:
		return DKIMVER_FAIL;   /* RFC 6376 §3.5: l= beyond the body */
	case DKIM_SIGERROR_KEYFAIL:
		return DKIMVER_TEMPERROR;
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_MBSFAILED:
		return DKIMVER_POLICY;
	case DKIM_SIGERROR_NOKEY:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_KEYDECODE:
		return DKIMVER_PERMERROR;
	default:
		return DKIMVER_NEUTRAL;   /* syntax, expired, future... */
	}
}

static void copy(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

/* A key with the "s" flag (RFC 6376 §3.6.1, t=s) allows only i= in d=
 * itself, not in a subdomain; libopendkim does not check it. */
static bool identity_allowed(DKIM_SIGINFO *sig, const char *identity,
                             const char *domain)
{
	const unsigned char *t = dkim_sig_gettagvalue(sig, true,
	                                              (u_char *)"t");
	if (t == NULL)
		return true;
	bool strict = false;
	for (const unsigned char *p = t; *p; p++) {
		/* flags: colon-separated, whitespace allowed around them */
		if (*p == 's' && (p == t || p[-1] == ':' || p[-1] == ' ' ||
		                  p[-1] == '\t') &&
		    (p[1] == '\0' || p[1] == ':' || p[1] == ' ' || p[1] == '\t'))
			strict = true;
	}
	const char *at = strrchr(identity, '@');
	return !strict || at == NULL || strcasecmp(at + 1, domain) == 0;
}

static void describe(DKIM *dkim, DKIM_SIGINFO *sig, bool allow_sha1,
                     struct dkimver_sig *out)
{
	memset(out, 0, sizeof *out);
	out->result = classify(sig);
	copy(out->domain, sizeof out->domain, dkim_sig_getdomain(sig));
	copy(out->selector, sizeof out->selector, dkim_sig_getselector(sig));
	copy(out->alg, sizeof out->alg, dkim_sig_gettagvalue(sig, false,
	     (u_char *)"a"));
	const unsigned char *b = dkim_sig_gettagvalue(sig, false,
	                                              (u_char *)"b");
	if (b != NULL) {   /* RFC 6008: enough of b= to tell signatures apart */
		size_t k = 0;
		for (const unsigned char *p = b; *p && k < 12; p++)
			if (*p > ' ')
				out->header_b[k++] = (char)*p;
		out->header_b[k] = '\0';
	}
	if (dkim_sig_getidentity(dkim, sig, (u_char *)out->identity,
	                         sizeof out->identity) != DKIM_STAT_OK)
		out->identity[0] = '\0';
	unsigned int bits = 0;
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->key_bits = bits;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;
	out->body_signed = -1;
	if (dkim_sig_getcanonlen(dkim, sig, &msglen, &canonlen, &signlen) ==
	    DKIM_STAT_OK && signlen >= 0) {
		out->body_signed = signlen;
		out->partial_body = msglen > signlen;
	}
	if (!names_valid(sig)) {
		out->result = DKIMVER_PERMERROR;
		snprintf(out->error, sizeof out->error,
		         "d= or s= is not a domain name");
	} else if (sha1_refused(sig, allow_sha1)) {
		out->result = DKIMVER_PERMERROR;
		snprintf(out->error, sizeof out->error,
		         "rsa-sha1 is not accepted (RFC 8301)");
	} else if (dkim_sig_getflags(sig) & DKIM_SIGFLAG_IGNORE) {
		snprintf(out->error, sizeof out->error,
		         "not verified: over the limit of signatures per message");
	} else if (out->result == DKIMVER_PASS &&
	           !identity_allowed(sig, out->identity, out->domain)) {
		out->result = DKIMVER_PERMERROR;
		snprintf(out->error, sizeof out->error,
		         "key has t=s but i= is a subdomain of d=");
	} else if (out->result != DKIMVER_PASS)
		snprintf(out->error, sizeof out->error, "%s",
		         out->result == DKIMVER_FAIL &&
		         dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH
		         ? "body hash mismatch"
		         : dkim_sig_geterrorstr(dkim_sig_geterror(sig)));
}

static int collect(DKIM *dkim, bool allow_sha1, struct dkimver_sig **sigs,
                   size_t *count, char *err, size_t errlen)
{
	DKIM_SIGINFO **list = NULL;
	int n = 0;
	if (dkim_getsiglist(dkim, &list, &n) != DKIM_STAT_OK || n <= 0)
		return 0;
	*sigs = calloc((size_t)n, sizeof **sigs);
	if (*sigs == NULL) {
		snprintf(err, errlen, "dkim: out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		describe(dkim, list[i], allow_sha1, &(*sigs)[i]);
	*count = (size_t)n;
	return 0;
}

struct dkimver_msg *dkimver_msg_new(struct dkimver *v)
{
	struct dkimver_msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	DKIM_STAT st;
	m->dkim = dkim_verify(v->lib, (const u_char *)"vigil", NULL, &st);
	if (m->dkim == NULL ||
	    dkim_set_user_context(m->dkim, m) != DKIM_STAT_OK) {
		dkimver_msg_free(m);
		return NULL;
	}
	m->max_sigs = v->max_sigs;
	m->allow_sha1 = v->allow_sha1;
	m->status = DKIM_STAT_OK;
	return m;
}

void dkimver_msg_free(struct dkimver_msg *m)
{
	if (m == NULL)
		return;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	free(m->hbuf);
	free(m);
}

void dkimver_msg_header(struct dkimver_msg *m, const char *name,
                        size_t name_len, const char *value, size_t value_len)
{
	m->headers++;
	if (m->status != DKIM_STAT_OK || m->eoh_done)
		return;
	size_t need = name_len + 1 + value_len;
	if (need > m->hcap) {
		char *nb = realloc(m->hbuf, need);
		if (nb == NULL) {
			m->status = DKIM_STAT_NORESOURCE;
			return;
		}
		m->hbuf = nb;
		m->hcap = need;
	}
	/* byte-exact: the value keeps its leading space and folding */
	memcpy(m->hbuf, name, name_len);
	m->hbuf[name_len] = ':';
	memcpy(m->hbuf + name_len + 1, value, value_len);
	DKIM_STAT st = dkim_header(m->dkim, (u_char *)m->hbuf, need);
	/* SYNTAX: a malformed signature header, kept as a bad signature
	 * (BADSIGHANDLES) and reported; the other headers still count */
	if (st != DKIM_STAT_SYNTAX)
		m->status = st;
}

void dkimver_msg_eoh(struct dkimver_msg *m)
{
	if (m->eoh_done)
		return;
	m->eoh_done = true;
	if (m->status != DKIM_STAT_OK)
		return;
	DKIM_STAT st = dkim_eoh(m->dkim);
	if (st == DKIM_STAT_OK)
		m->signed_msg = true;
	else if (st != DKIM_STAT_NOSIG)
		m->status = st;
	/* NOSIG: nothing to verify, the body is not needed */
}

void dkimver_msg_body(struct dkimver_msg *m, const void *data, size_t len)
{
	if (!m->eoh_done)
		dkimver_msg_eoh(m);
	m->body_bytes += len;
	if (m->status != DKIM_STAT_OK || !m->signed_msg || len == 0)
		return;
	m->status = dkim_body(m->dkim, (u_char *)(uintptr_t)data, len);
}

bool dkimver_msg_signed(const struct dkimver_msg *m)
{
	return m->signed_msg;
}

size_t dkimver_msg_headers(const struct dkimver_msg *m)
{
	return m->headers;
}

size_t dkimver_msg_body_bytes(const struct dkimver_msg *m)
{
	return m->body_bytes;
}

int dkimver_msg_finish(struct dkimver_msg *m, struct dns_budget *b,
                       struct dkimver_sig **sigs, size_t *count, char *err,
                       size_t errlen)
{
	*sigs = NULL;
	*count = 0;
	if (!m->eoh_done)
		dkimver_msg_eoh(m);
	if (m->status == DKIM_STAT_NORESOURCE) {
		snprintf(err, errlen, "dkim: %s", dkim_getresultstr(m->status));
		return -1;
	}
	if (m->signed_msg) {
		/* the verdict is per signature; eom's status only says whether
		 * one passed. A body that could not be fed fails its hash. */
		cur_budget = b;
		dkim_eom(m->dkim, NULL);
		cur_budget = NULL;
	}
	return collect(m->dkim, m->allow_sha1, sigs, count, err, errlen);
}

int dkimver_verify(struct dkimver *v, struct dns_budget *b,
                   const struct scan *scan, struct dkimver_sig **sigs,
                   size_t *count, char *err, size_t errlen)
{
	*sigs = NULL;
	*count = 0;
	struct dkimver_msg *m = dkimver_msg_new(v);
	if (m == NULL) {
		snprintf(err, errlen, "dkim: cannot create a verifying handle");
		return -1;
	}
	for (size_t i = 0; i < scan_header_count(scan); i++) {
		const char *name, *value;
		size_t nl, vl;
		scan_header_at(scan, i, &name, &nl, &value, &vl);
		dkimver_msg_header(m, name, nl, value, vl);
	}
	dkimver_msg_eoh(m);
	size_t blen;
	const char *body = scan_body(scan, &blen);
	dkimver_msg_body(m, body, blen);
	int rc = dkimver_msg_finish(m, b, sigs, count, err, errlen);
	dkimver_msg_free(m);
	return rc;
}

/* ---- the stage ---- */

static cfg_opt_t dkimver_opts[] = {
	CFG_INT("min_key_bits", 1024, CFGF_NONE),
	CFG_INT("max_signatures", 5, CFGF_NONE),
	CFG_BOOL("allow_sha1", cfg_false, CFGF_NONE),
	CFG_FLOAT("score_signed", 0.1, CFGF_NONE),
	CFG_FLOAT("score_valid", -0.1, CFGF_NONE),
	CFG_FLOAT("score_valid_au", -0.1, CFGF_NONE),
	CFG_FLOAT("score_valid_ef", -0.1, CFGF_NONE),
	CFG_FLOAT("score_invalid", 0.1, CFGF_NONE),
	CFG_END()
};

struct dkimver_state {
	struct dns *dns;
	struct dkimver *v;
	struct scan_score score_signed, score_valid, score_valid_au,
	                  score_valid_ef, score_invalid;
};

static void dkimver_fini(void *state)
{
	struct dkimver_state *st = state;
	if (st == NULL)
		return;
	dkimver_free(st->v);
	dns_put(st->dns);
	free(st);
}

static int dkimver_check(cfg_t *sec, char *err, size_t errlen)
{
	long bits = cfg_getint(sec, "min_key_bits");
	long max = cfg_getint(sec, "max_signatures");
	if (bits < 512 || bits > 16384 || max < 1 || max > 100) {
		snprintf(err, errlen, "dkim: min_key_bits must be 512..16384 and "
		         "max_signatures 1..100");
		return -1;
	}
	return 0;
}

static void *dkimver_init(cfg_t *root, cfg_t *sec, char *err, size_t errlen)
{
	struct dkimver_state *st = calloc(1, sizeof *st);
	if (st == NULL) {
		snprintf(err, errlen, "dkim: out of memory");
		return NULL;
	}
	if (sec == NULL || dkimver_check(sec, err, errlen) != 0 ||
	    (st->dns = dns_get(root, err, errlen)) == NULL ||
	    (st->v = dkimver_new(st->dns,
	                         (unsigned)cfg_getint(sec, "min_key_bits"),
	                         (unsigned)cfg_getint(sec, "max_signatures"),
	                         err, errlen)) == NULL) {
		if (sec == NULL)
			snprintf(err, errlen, "dkim: no configuration section");
		dkimver_fini(st);
		return NULL;
	}
	dkimver_allow_sha1(st->v, cfg_getbool(sec, "allow_sha1"));
	st->score_signed = stage_score(sec, "score_signed");
	st->score_valid = stage_score(sec, "score_valid");
	st->score_valid_au = stage_score(sec, "score_valid_au");
	st->score_valid_ef = stage_score(sec, "score_valid_ef");
	st->score_invalid = stage_score(sec, "score_invalid");
	return st;
}

static void auth_entry(struct scan *scan, const struct dkimver_sig *s)
{
	struct authres ar;
	char comment[256];
	authres_init(&ar);
	authres_method(&ar, "dkim", dkimver_res_name(s->result));
	if (s->result == DKIMVER_PASS && s->partial_body)
		snprintf(comment, sizeof comment, "%u-bit key; l= leaves part of "
		         "the body unsigned", s->key_bits);
	else if (s->result == DKIMVER_PASS)
		snprintf(comment, sizeof comment, "%u-bit key", s->key_bits);
	else
		snprintf(comment, sizeof comment, "%s", s->error);
	if (comment[0] != '\0')
		authres_comment(&ar, comment);
	if (s->domain[0] != '\0')
		authres_prop(&ar, "header", "d", s->domain);
	if (s->identity[0] != '\0')
		authres_prop(&ar, "header", "i", s->identity);
	if (s->selector[0] != '\0')
		authres_prop(&ar, "header", "s", s->selector);
	if (s->alg[0] != '\0')
		authres_prop(&ar, "header", "a", s->alg);
	if (s->header_b[0] != '\0')
		authres_prop(&ar, "header", "b", s->header_b);
	scan_add_auth_result(scan, authres_str(&ar));
	authres_free(&ar);
}

static bool in_list(char (*doms)[AUTHRES_DOMAIN_MAX], size_t n,
                    const char *d)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(doms[i], d) == 0)
			return true;
	return false;
}

static void hits(const struct dkimver_state *st, struct scan *scan,
                 const struct dkimver_sig *sigs, size_t n)
{
	char from[8][AUTHRES_DOMAIN_MAX];
	size_t headers, addrs;
	size_t nfrom = authres_from_domains(scan, from, 8, &headers, &addrs);
	const char *mf = scan_env(scan)->mail_from;
	const char *at = mf ? strrchr(mf, '@') : NULL;
	bool valid = false, au = false, ef = false;
	for (size_t i = 0; i < n; i++) {
		if (sigs[i].result != DKIMVER_PASS)
			continue;
		valid = true;
		if (in_list(from, nfrom, sigs[i].domain))
			au = true;
		if (at != NULL && strcasecmp(at + 1, sigs[i].domain) == 0)
			ef = true;
	}
	scan_hit_score(scan, "DKIM_SIGNED", st->score_signed,
	         "Message has a DKIM or DK signature, not necessarily valid");
	if (valid)
		scan_hit_score(scan, "DKIM_VALID", st->score_valid,
		         "Message has at least one valid DKIM or DK signature");
	else
		scan_hit_score(scan, "DKIM_INVALID", st->score_invalid,
		         "DKIM or DK signature exists, but is not valid");
	if (au)
		scan_hit_score(scan, "DKIM_VALID_AU", st->score_valid_au,
		         "Message has a valid DKIM or DK signature from author's "
		         "domain");
	if (ef)
		scan_hit_score(scan, "DKIM_VALID_EF", st->score_valid_ef,
		         "Message has a valid DKIM or DK signature from envelope-"
		         "from domain");
}

/* The best result of all signatures, for the log line. */
static enum dkimver_res summary(const struct dkimver_sig *sigs, size_t n)
{
	static const int rank[DKIMVER_RES_COUNT] = {
		[DKIMVER_NONE] = 0, [DKIMVER_PERMERROR] = 1,
		[DKIMVER_NEUTRAL] = 2, [DKIMVER_POLICY] = 3, [DKIMVER_FAIL] = 4,
		[DKIMVER_TEMPERROR] = 5, [DKIMVER_PASS] = 6,
	};
	enum dkimver_res best = DKIMVER_NONE;
	for (size_t i = 0; i < n; i++)
		if (rank[sigs[i].result] > rank[best])
			best = sigs[i].result;
	return best;
}

/* ---- incremental feeding (event-loop thread) ---- */

/* The message's verifier, created with the first header; NULL when it
 * cannot be (run() then verifies the whole scan). */
static struct dkimver_msg *feed_ctx(const struct dkimver_state *st,
                                    struct scan *scan)
{
	struct dkimver_msg *m = scan_stage_ctx(scan, &dkimver_stage);
	if (m == NULL && (m = dkimver_msg_new(st->v)) != NULL &&
	    scan_set_stage_ctx(scan, &dkimver_stage, m) != 0)
		m = NULL;   /* freed by scan_set_stage_ctx */
	return m;
}

static void dkimver_header(const void *state, struct scan *scan,
                           const char *name, size_t name_len,
                           const char *value, size_t value_len)
{
	struct dkimver_msg *m = feed_ctx(state, scan);
	if (m != NULL)
		dkimver_msg_header(m, name, name_len, value, value_len);
}

static void dkimver_eoh(const void *state, struct scan *scan)
{
	struct dkimver_msg *m = feed_ctx(state, scan);
	if (m != NULL)
		dkimver_msg_eoh(m);
}

static void dkimver_body(const void *state, struct scan *scan,
                         const void *data, size_t len)
{
	struct dkimver_msg *m = feed_ctx(state, scan);
	/* past max_message_size the body is cut (run() says neutral): no
	 * use hashing more of it */
	if (m != NULL && !scan_truncated(scan))
		dkimver_msg_body(m, data, len);
}

static void dkimver_ctx_free(void *ctx)
{
	dkimver_msg_free(ctx);
}

/* Did the hooks see the whole message the scan holds? If not (a hook
 * could not allocate, or the scan was filled some other way), run()
 * starts over from the scan. */
static bool fed_completely(const struct dkimver_msg *m,
                           const struct scan *scan)
{
	size_t blen;
	scan_body(scan, &blen);
	return dkimver_msg_headers(m) == scan_header_count(scan) &&
	       dkimver_msg_body_bytes(m) == blen;
}

static enum stage_status dkimver_run(const void *state, struct scan *scan)
{
	const struct dkimver_state *st = state;
	if (scan_truncated(scan)) {
		scan_result(scan, "dkim", "neutral");
		scan_add_auth_result(scan, "dkim=neutral (message too large to "
		                     "verify)");
		return STAGE_OK;
	}
	struct dkimver_msg *m = scan_stage_ctx(scan, &dkimver_stage);
	if (m != NULL && !fed_completely(m, scan))
		m = NULL;
	struct dns_budget b;
	struct dkimver_sig *sigs;
	size_t n;
	char err[256];
	dns_budget_begin(st->dns, &b, scan, 0);
	int rc = m != NULL
	         ? dkimver_msg_finish(m, &b, &sigs, &n, err, sizeof err)
	         : dkimver_verify(st->v, &b, scan, &sigs, &n, err, sizeof err);
	dns_budget_end(&b, scan);
	if (rc != 0)
		return STAGE_ERROR;
	if (n == 0) {
		scan_result(scan, "dkim", "none");
		scan_add_auth_result(scan, "dkim=none");
		return STAGE_OK;
	}
	for (size_t i = 0; i < n; i++)
		auth_entry(scan, &sigs[i]);
	hits(st, scan, sigs, n);
	scan_result(scan, "dkim", dkimver_res_name(summary(sigs, n)));
	free(sigs);
	return STAGE_OK;
}

const struct stage_ops dkimver_stage = {
	.name = "dkim",
	.dns = true,
	.conf_opts = dkimver_opts,
	.init = dkimver_init,
	.fini = dkimver_fini,
	.check = dkimver_check,
	.run = dkimver_run,
	.header = dkimver_header,
	.eoh = dkimver_eoh,
	.body = dkimver_body,
	.ctx_free = dkimver_ctx_free,
};

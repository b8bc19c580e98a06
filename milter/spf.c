/* spf.c — see spf.h */
#include <netinet/in.h>
#include <spf2/spf.h>

#include "spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "scan.h"
#include "vlog.h"

#define MAX_VOID_LOOKUPS 2   /* RFC 7208 §4.6.4 */
#define MAX_DNS_MECH 10      /* RFC 7208 §4.6.4 */
#define MAX_MX 10            /* RFC 7208 §4.6.4 */
#define MAX_PTR 10           /* RFC 7208 §4.6.4 */
#define MAX_PTR_NAMES MAX_PTR

struct spf_checker {
	SPF_server_t *server;
	SPF_dns_server_t layer;  /* ours: no destructor, freed with us */
	struct dns *dns;
	unsigned max_void;
};

/* libspf2 calls the DNS layer without a per-request argument; the
 * request's budget and counters travel in a thread-local context (a check
 * runs on one thread from start to end). */
struct lookup_ctx {
	SPF_request_t *req;
	struct dns_budget *budget;
	unsigned voids;
	unsigned queries;
	bool top_fetched;      /* the first record lookup is done */
	bool fetching_top;     /* ...or under way (not a void lookup) */
	bool mx_over_limit;    /* an mx mechanism got more than 10 MX */
	/* Names from PTR answers: their A/AAAA lookups validate a ptr
	 * mechanism or %{p}, and do not count as void lookups (the RFC 7208
	 * test suite's ptr-limit: a spammer's PTR names must not turn the
	 * sender's record into a permerror). */
	char ptr_names[MAX_PTR_NAMES][256];
	unsigned nptr;
};
static _Thread_local struct lookup_ctx *cur;

const char *spf_res_name(enum spf_res r)
{
	static const char *const names[SPF_RES_COUNT] = {
		"none", "neutral", "pass", "fail", "softfail", "temperror",
		"permerror"
	};
	return r < SPF_RES_COUNT ? names[r] : "?";
}

/* ---- the DNS layer over dns.h ---- */

static int herrno_of(enum dns_status st)
{
	switch (st) {
	case DNS_ANSWER: return NETDB_SUCCESS;
	case DNS_NXDOMAIN: return HOST_NOT_FOUND;
	case DNS_NODATA: return NO_DATA;
	case DNS_TEMPFAIL: break;
	}
	return TRY_AGAIN;
}

/* Copy record i of a into rr slot k; false on failure or unusable data. */
static bool fill_one(SPF_dns_rr_t *rr, int k, ns_type type,
                     const struct dns_answer *a, size_t i)
{
	size_t len;
	const unsigned char *rd = dns_answer_rdata(a, i, &len);
	char text[4096];
	int n;

	switch (type) {
	case ns_t_a:
		if (len != 4 || SPF_dns_rr_buf_realloc(rr, k, 4) != SPF_E_SUCCESS)
			return false;
		memcpy(&rr->rr[k]->a, rd, 4);
		return true;
	case ns_t_aaaa:
		if (len != 16 || SPF_dns_rr_buf_realloc(rr, k, 16) != SPF_E_SUCCESS)
			return false;
		memcpy(&rr->rr[k]->aaaa, rd, 16);
		return true;
	case ns_t_txt:
		n = dns_answer_txt(a, i, text, sizeof text);
		break;
	case ns_t_mx:
		n = len >= 2 ? dns_wire_name(rd, len, 2, text, sizeof text) : -1;
		break;
	case ns_t_ptr:
		n = dns_wire_name(rd, len, 0, text, sizeof text);
		break;
	default:
		return false;
	}
	if (n < 0 || SPF_dns_rr_buf_realloc(rr, k, (size_t)n + 1) != SPF_E_SUCCESS)
		return false;
	memcpy(rr->rr[k]->txt, text, (size_t)n + 1);
	return true;
}

/* Equal domain names, a trailing root dot on either side ignored. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la > 0 && a[la - 1] == '.';
	lb -= lb > 0 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool is_ptr_name(const struct lookup_ctx *x, const char *domain)
{
	for (unsigned i = 0; i < x->nptr; i++)
		if (same_name(x->ptr_names[i], domain))
			return true;
	return false;
}

static void note_ptr_names(struct lookup_ctx *x, const SPF_dns_rr_t *rr)
{
	for (int k = 0; k < rr->num_rr && x->nptr < MAX_PTR_NAMES; k++)
		snprintf(x->ptr_names[x->nptr++], sizeof x->ptr_names[0], "%s",
		         rr->rr[k]->ptr);
}

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain,
                                  ns_type type, int should_cache)
{
	(void)should_cache;   /* libunbound caches */
	struct dns_answer *a;
	enum dns_status st = dns_query(srv->hook, cur ? cur->budget : NULL,
	                               domain, (int)type, &a);
	if (cur != NULL) {
		cur->queries++;
		bool validating = (type == ns_t_a || type == ns_t_aaaa) &&
		                  is_ptr_name(cur, domain);
		if (!cur->fetching_top && !validating &&
		    (st == DNS_NXDOMAIN || st == DNS_NODATA))
			cur->voids++;
		if (type == ns_t_mx && dns_answer_count(a) > MAX_MX)
			cur->mx_over_limit = true;
	}
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, domain, type,
	                                       (int)dns_answer_ttl(a),
	                                       herrno_of(st));
	if (rr != NULL && st == DNS_ANSWER) {
		int k = 0;
		/* Only the first 10 PTR names are looked at (RFC 7208
		 * §4.6.4); libspf2 given more counts their validation lookups
		 * as DNS mechanisms and ends in a permerror the RFC forbids. */
		size_t max = type == ns_t_ptr ? MAX_PTR : SIZE_MAX;
		for (size_t i = 0; i < dns_answer_count(a) && (size_t)k < max; i++)
			if (fill_one(rr, k, type, a, i))
				k++;
		rr->num_rr = k;
		if (k == 0)
			rr->herrno = NO_DATA;
		else if (type == ns_t_ptr && cur != NULL)
			note_ptr_names(cur, rr);
	}
	dns_answer_free(a);
	return rr;
}

/* "v=spf1" alone or followed by a space (RFC 7208 §4.5). */
static bool is_spf1(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (txt[6] == '\0' || txt[6] == ' ');
}

static SPF_errcode_t no_record(SPF_response_t *resp, const char *domain,
                               const char *why)
{
	resp->result = SPF_RESULT_NONE;
	resp->reason = SPF_REASON_FAILURE;
	return SPF_response_add_error(resp, SPF_E_NOT_SPF, "%s for '%s'", why,
	                              domain);
}

/* Fetch and compile the record of req->cur_dom: TXT only (the SPF RR type
 * is obsolete, RFC 7208 §3.1), exactly one v=spf1 record. */
static SPF_errcode_t layer_get_spf(SPF_server_t *server, SPF_request_t *req,
                                   SPF_response_t *resp, SPF_record_t **recp)
{
	const char *domain = req->cur_dom;
	*recp = NULL;
	if (cur != NULL) {
		/* the first record lookup is not a mechanism's: no void count */
		cur->fetching_top = !cur->top_fetched;
		cur->top_fetched = true;
	}
	SPF_dns_rr_t *rr = SPF_dns_lookup(server->resolver, domain, ns_t_txt,
	                                  1);
	if (cur != NULL)
		cur->fetching_top = false;
	if (rr == NULL)
		return SPF_response_add_error(resp, SPF_E_NO_MEMORY, "no memory");

	SPF_errcode_t err;
	int found = 0, idx = 0;
	switch (rr->herrno) {
	case NETDB_SUCCESS:
		for (int i = 0; i < rr->num_rr; i++)
			if (is_spf1(rr->rr[i]->txt)) {
				found++;
				idx = i;
			}
		if (found == 0) {
			err = no_record(resp, domain, "No SPF record");
		} else if (found > 1) {
			resp->result = SPF_RESULT_PERMERROR;
			resp->reason = SPF_REASON_FAILURE;
			resp->err = SPF_E_MULTIPLE_RECORDS;
			err = SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
			                             "Multiple SPF records for '%s'",
			                             domain);
		} else {
			err = SPF_record_compile(server, resp, recp, rr->rr[idx]->txt);
			if (err != SPF_E_SUCCESS) {
				resp->result = SPF_RESULT_PERMERROR;
				resp->reason = SPF_REASON_FAILURE;
				resp->err = err;
			}
		}
		break;
	case HOST_NOT_FOUND:
		err = no_record(resp, domain, "Host not found");
		break;
	case NO_DATA:
		err = no_record(resp, domain, "No DNS data");
		break;
	default:
		err = SPF_response_add_error(resp, SPF_E_DNS_ERROR,
		                             "Temporary DNS failure for '%s'",
		                             domain);
		break;
	}
	SPF_dns_rr_free(rr);
	return err;
}

/* libspf2's macro-string compiler takes a space for the end of the
 * string and turns it into '%' (so "See me." expands to "See%me.");
 * writing spaces as the "%_" macro, which it handles, avoids that. */
static char *escape_spaces(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p == ' ' ? 2 : 1;
	char *out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	char *o = out;
	for (const char *p = text; *p; p++) {
		if (*p == ' ') {
			*o++ = '%';
			*o++ = '_';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Expand a compiled macro string for the current request. */
static SPF_errcode_t expand_macro(SPF_server_t *server, SPF_macro_t *mac,
                                  char **bufp, size_t *buflenp)
{
	if (mac == NULL || cur == NULL || cur->req == NULL)
		return SPF_E_NOT_CONFIG;
	SPF_response_t *tmp = SPF_response_new(cur->req);
	if (tmp == NULL)
		return SPF_E_NO_MEMORY;
	/* the data follows the header (libspf2's SPF_macro_data) */
	SPF_data_t *data = (SPF_data_t *)(void *)((char *)mac + sizeof *mac);
	SPF_errcode_t err = SPF_record_expand_data(server, cur->req, tmp, data,
	                                           mac->macro_len, bufp,
	                                           buflenp);
	SPF_response_free(tmp);
	return err;
}

/* exp=: the explanation TXT record (RFC 7208 §6.2): exactly one record,
 * else the default explanation. */
static SPF_errcode_t layer_get_exp(SPF_server_t *server, const char *domain,
                                   char **bufp, size_t *buflenp)
{
	struct dns_answer *a;
	char text[4096];
	SPF_errcode_t err = SPF_E_NOT_SPF;
	enum dns_status st = dns_query(server->resolver->hook,
	                               cur ? cur->budget : NULL, domain,
	                               ns_t_txt, &a);
	if (st == DNS_ANSWER && dns_answer_count(a) == 1 &&
	    dns_answer_txt(a, 0, text, sizeof text) >= 0) {
		char *escaped = escape_spaces(text);
		SPF_macro_t *mac = NULL;
		SPF_response_t *tmp = cur && cur->req ? SPF_response_new(cur->req)
		                                      : NULL;
		if (escaped != NULL && tmp != NULL &&
		    SPF_record_compile_macro(server, tmp, &mac, escaped) ==
		    SPF_E_SUCCESS)
			err = expand_macro(server, mac, bufp, buflenp);
		if (mac != NULL)
			SPF_macro_free(mac);
		if (tmp != NULL)
			SPF_response_free(tmp);
		free(escaped);
	}
	dns_answer_free(a);
	if (err != SPF_E_SUCCESS)
		err = expand_macro(server, server->explanation, bufp, buflenp);
	return err;
}

/* ---- checker ---- */

static void log_spf(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	vlog(LOG_DEBUG, "libspf2: %s", msg);
}

struct spf_checker *spf_checker_new(struct dns *dns, const char *receiver,
                                    char *err, size_t errlen)
{
	struct spf_checker *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "spf: out of memory");
		return NULL;
	}
	SPF_warning_handler = log_spf;
	SPF_info_handler = log_spf;
	SPF_debug_handler = log_spf;
	c->dns = dns;
	c->max_void = MAX_VOID_LOOKUPS;
	c->layer.lookup = layer_lookup;
	c->layer.get_spf = layer_get_spf;
	c->layer.get_exp = layer_get_exp;
	c->layer.name = "vigil";
	c->layer.hook = dns;
	c->server = SPF_server_new_dns(&c->layer, 0);
	if (c->server == NULL) {
		snprintf(err, errlen, "spf: cannot create the libspf2 server");
		free(c);
		return NULL;
	}
	SPF_server_set_max_dns_mech(c->server, MAX_DNS_MECH);
	SPF_server_set_max_dns_mx(c->server, MAX_MX);
	SPF_server_set_max_dns_ptr(c->server, 10);
	if (receiver != NULL && *receiver != '\0')
		SPF_server_set_rec_dom(c->server, receiver);
	SPF_response_t *resp = NULL;
	SPF_server_set_explanation(c->server,
		"%{o}%_does%_not%_designate%_%{i}%_as%_a%_permitted%_sender",
		&resp);
	if (resp != NULL)
		SPF_response_free(resp);
	return c;
}

void spf_checker_free(struct spf_checker *c)
{
	if (c == NULL)
		return;
	SPF_server_free(c->server);
	free(c);
}

static enum spf_res map_result(SPF_result_t r, SPF_errcode_t err)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL: return SPF_RES_NEUTRAL;
	case SPF_RESULT_PASS: return SPF_RES_PASS;
	case SPF_RESULT_FAIL: return SPF_RES_FAIL;
	case SPF_RESULT_SOFTFAIL: return SPF_RES_SOFTFAIL;
	case SPF_RESULT_NONE: return SPF_RES_NONE;
	case SPF_RESULT_TEMPERROR: return SPF_RES_TEMPERROR;
	case SPF_RESULT_PERMERROR: return SPF_RES_PERMERROR;
	case SPF_RESULT_INVALID: break;
	}
	/* No result set: the error says what stopped the evaluation. */
	if (err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY)
		return SPF_RES_TEMPERROR;
	if (err == SPF_E_NOT_SPF)
		return SPF_RES_NONE;
	return SPF_RES_PERMERROR;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int set_identity(SPF_request_t *req, const char *ip, const char *helo,
                        const char *sender, bool helo_identity)
{
	struct in6_addr a6;
	SPF_errcode_t e;
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			/* an IPv4 client seen through an IPv6 socket is checked
			 * as IPv4 (RFC 7208 §5) */
			struct in_addr a4;
			memcpy(&a4, &a6.s6_addr[12], 4);
			e = SPF_request_set_ipv4(req, a4);
		} else {
			e = SPF_request_set_ipv6(req, a6);
		}
	} else {
		e = SPF_request_set_ipv4_str(req, ip);
	}
	if (e != SPF_E_SUCCESS)
		return -1;
	if (*helo != '\0')
		SPF_request_set_helo_dom(req, helo);
	/* HELO identity and null sender: postmaster@helo (RFC 7208 §2.3,
	 * §2.4); libspf2 builds it from a bare domain. */
	const char *from = helo_identity || *sender == '\0' ? helo : sender;
	if (*from == '\0')
		return 1;
	return SPF_request_set_env_from(req, from) == 0 ? 0 : -1;
}

int spf_check(struct spf_checker *c, struct dns_budget *b, const char *ip,
              const char *helo, const char *sender, bool helo_identity,
              struct spf_outcome *out)
{
	memset(out, 0, sizeof *out);
	out->result = SPF_RES_NONE;
	SPF_request_t *req = SPF_request_new(c->server);
	if (req == NULL)
		return -1;
	int rc = set_identity(req, ip, helo ? helo : "", sender ? sender : "",
	                      helo_identity);
	if (rc != 0) {
		SPF_request_free(req);
		return rc < 0 ? -1 : 0;   /* no identity at all: none */
	}
	copy(out->domain, sizeof out->domain, req->env_from_dp);

	struct lookup_ctx ctx = { .req = req, .budget = b };
	SPF_response_t *resp = NULL;
	cur = &ctx;
	SPF_errcode_t err = SPF_request_query_mailfrom(req, &resp);
	cur = NULL;

	out->result = map_result(resp ? SPF_response_result(resp)
	                              : SPF_RESULT_INVALID, err);
	if (ctx.voids > c->max_void && out->result != SPF_RES_TEMPERROR) {
		/* libspf2 predates the void-lookup limit: evaluation would have
		 * stopped at the lookup that crossed it. */
		out->result = SPF_RES_PERMERROR;
		snprintf(out->comment, sizeof out->comment,
		         "%s: more than %u void DNS lookups", out->domain,
		         c->max_void);
	} else if (ctx.mx_over_limit && out->result != SPF_RES_TEMPERROR) {
		/* libspf2 uses the first 10 MX names; RFC 7208 §4.6.4 makes
		 * more a permerror */
		out->result = SPF_RES_PERMERROR;
		snprintf(out->comment, sizeof out->comment,
		         "%s: an mx mechanism has more than %d MX records",
		         out->domain, MAX_MX);
	} else if (resp != NULL) {
		copy(out->comment, sizeof out->comment,
		     SPF_response_get_header_comment(resp));
		int nmsg = SPF_response_messages(resp);
		if (out->comment[0] == '\0' && nmsg > 0)
			copy(out->comment, sizeof out->comment, SPF_error_message(
			     SPF_response_message(resp, nmsg - 1)));
		if (out->result == SPF_RES_FAIL)
			copy(out->explanation, sizeof out->explanation,
			     SPF_response_get_explanation(resp));
	}
	if (resp != NULL)
		copy(out->received_spf, sizeof out->received_spf,
		     SPF_response_get_received_spf_value(resp));
	out->void_lookups = ctx.voids;
	out->dns_queries = ctx.queries;
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return 0;
}

/* ---- the stage ---- */

/* Hit names as SpamAssassin's SPF plugin defines them (the default
 * scores below are its scores too). */
static const struct {
	const char *rule;       /* mail from identity */
	const char *helo_rule;  /* helo identity */
} results[SPF_RES_COUNT] = {
	[SPF_RES_NONE] = { "SPF_NONE", "SPF_HELO_NONE" },
	[SPF_RES_NEUTRAL] = { "SPF_NEUTRAL", "SPF_HELO_NEUTRAL" },
	[SPF_RES_PASS] = { "SPF_PASS", "SPF_HELO_PASS" },
	[SPF_RES_FAIL] = { "SPF_FAIL", "SPF_HELO_FAIL" },
	[SPF_RES_SOFTFAIL] = { "SPF_SOFTFAIL", "SPF_HELO_SOFTFAIL" },
	[SPF_RES_TEMPERROR] = { "T_SPF_TEMPERROR", "T_SPF_HELO_TEMPERROR" },
	[SPF_RES_PERMERROR] = { "T_SPF_PERMERROR", "T_SPF_HELO_PERMERROR" },
};

static cfg_opt_t spf_opts[] = {
	CFG_BOOL("helo", cfg_true, CFGF_NONE),
	CFG_BOOL("received_spf", cfg_false, CFGF_NONE),
	CFG_STR_LIST("reject_fail_domains", "{}", CFGF_NONE),
	CFG_STR("reject_reply", "550 5.7.23 SPF validation failed",
	        CFGF_NONE),
	CFG_FLOAT("score_none", 0.001, CFGF_NONE),
	CFG_FLOAT("score_neutral", 0.652, CFGF_NONE),
	CFG_FLOAT("score_pass", -0.001, CFGF_NONE),
	CFG_FLOAT("score_fail", 0.919, CFGF_NONE),
	CFG_FLOAT("score_softfail", 0.665, CFGF_NONE),
	CFG_FLOAT("score_temperror", 0.01, CFGF_NONE),
	CFG_FLOAT("score_permerror", 0.01, CFGF_NONE),
	CFG_FLOAT("score_helo_none", 0.001, CFGF_NONE),
	CFG_FLOAT("score_helo_neutral", 0.001, CFGF_NONE),
	CFG_FLOAT("score_helo_pass", -0.001, CFGF_NONE),
	CFG_FLOAT("score_helo_fail", 0.001, CFGF_NONE),
	CFG_FLOAT("score_helo_softfail", 0.732, CFGF_NONE),
	CFG_FLOAT("score_helo_temperror", 0.01, CFGF_NONE),
	CFG_FLOAT("score_helo_permerror", 0.01, CFGF_NONE),
	CFG_END()
};

struct spf_state {
	struct dns *dns;
	struct spf_checker *checker;
	bool helo;
	bool received_spf;
	char **reject_domains;
	size_t reject_count;
	char *reject_reply;
	struct scan_score score[SPF_RES_COUNT];
	struct scan_score helo_score[SPF_RES_COUNT];
};

static void spf_fini(void *state)
{
	struct spf_state *st = state;
	if (st == NULL)
		return;
	spf_checker_free(st->checker);
	dns_put(st->dns);
	for (size_t i = 0; i < st->reject_count; i++)
		free(st->reject_domains[i]);
	free(st->reject_domains);
	free(st->reject_reply);
	free(st);
}

/* This host's name for %{r}: the configured authserv-id when there is
 * one (root option "hostname"), else libspf2's gethostname(). */
static const char *receiver_of(cfg_t *root)
{
	if (root == NULL || root->opts == NULL)
		return NULL;
	for (const cfg_opt_t *o = root->opts; o->name != NULL; o++)
		if (o->type == CFGT_STR && strcmp(o->name, "hostname") == 0)
			return cfg_getstr(root, "hostname");
	return NULL;
}

static int load_options(struct spf_state *st, cfg_t *sec, char *err,
                        size_t errlen)
{
	if (sec == NULL) {
		snprintf(err, errlen, "spf: no configuration section");
		return -1;
	}
	st->helo = cfg_getbool(sec, "helo");
	st->received_spf = cfg_getbool(sec, "received_spf");
	st->reject_reply = strdup(cfg_getstr(sec, "reject_reply"));
	unsigned n = cfg_size(sec, "reject_fail_domains");
	st->reject_domains = calloc(n + 1, sizeof *st->reject_domains);
	if (st->reject_reply == NULL || st->reject_domains == NULL)
		goto nomem;
	for (unsigned i = 0; i < n; i++) {
		st->reject_domains[i] = strdup(cfg_getnstr(sec,
		                               "reject_fail_domains", i));
		if (st->reject_domains[i] == NULL)
			goto nomem;
		st->reject_count++;
	}
	if (strncmp(st->reject_reply, "5", 1) != 0) {
		snprintf(err, errlen, "spf: reject_reply must start with a 5xx "
		         "code: \"%s\"", st->reject_reply);
		return -1;
	}
	for (int r = 0; r < SPF_RES_COUNT; r++) {
		char name[64];
		snprintf(name, sizeof name, "score_%s", spf_res_name(r));
		st->score[r] = stage_score(sec, name);
		snprintf(name, sizeof name, "score_helo_%s", spf_res_name(r));
		st->helo_score[r] = stage_score(sec, name);
	}
	return 0;
nomem:
	snprintf(err, errlen, "spf: out of memory");
	return -1;
}

static void *spf_init(cfg_t *root, cfg_t *sec, char *err, size_t errlen)
{
	struct spf_state *st = calloc(1, sizeof *st);
	if (st == NULL) {
		snprintf(err, errlen, "spf: out of memory");
		return NULL;
	}
	if (load_options(st, sec, err, errlen) != 0 ||
	    (st->dns = dns_get(root, err, errlen)) == NULL ||
	    (st->checker = spf_checker_new(st->dns, receiver_of(root), err,
	                                   errlen)) == NULL) {
		spf_fini(st);
		return NULL;
	}
	return st;
}

/* Is domain (or a parent of it) listed? "*" lists every domain. */
static bool listed(const struct spf_state *st, const char *domain)
{
	size_t dl = strlen(domain);
	for (size_t i = 0; i < st->reject_count; i++) {
		const char *d = st->reject_domains[i];
		size_t l = strlen(d);
		if (strcmp(d, "*") == 0)
			return true;
		if (dl == l && strcasecmp(domain, d) == 0)
			return true;
		if (dl > l && domain[dl - l - 1] == '.' &&
		    strcasecmp(domain + dl - l, d) == 0)
			return true;
	}
	return false;
}

static void report(const struct spf_state *st, struct scan *scan,
                   const struct spf_outcome *o, bool helo_check,
                   const char *identity)
{
	const char *rule = helo_check ? results[o->result].helo_rule
	                              : results[o->result].rule;
	struct scan_score score = helo_check ? st->helo_score[o->result]
	                                     : st->score[o->result];
	scan_hit_score(scan, rule, score, o->comment[0] ? o->comment : NULL);
	scan_result(scan, helo_check ? "spf_helo" : "spf",
	            spf_res_name(o->result));

	struct authres ar;
	authres_init(&ar);
	authres_method(&ar, "spf", spf_res_name(o->result));
	if (o->comment[0] != '\0')
		authres_comment(&ar, o->comment);
	authres_prop(&ar, "smtp", helo_check ? "helo" : "mailfrom", identity);
	scan_add_auth_result(scan, authres_str(&ar));
	authres_free(&ar);
}

static void check_and_report(const struct spf_state *st, struct scan *scan,
                             struct dns_budget *b, bool helo_check)
{
	const struct scan_env *env = scan_env(scan);
	struct spf_outcome o;
	if (spf_check(st->checker, b, env->client_addr, env->helo,
	              env->mail_from, helo_check, &o) != 0)
		return;
	if (o.domain[0] == '\0')
		return;   /* neither MAIL FROM nor HELO: nothing to check */
	char identity[600];
	if (helo_check)
		snprintf(identity, sizeof identity, "%s", env->helo);
	else if (*env->mail_from != '\0')
		snprintf(identity, sizeof identity, "%s", env->mail_from);
	else
		snprintf(identity, sizeof identity, "postmaster@%s", env->helo);
	report(st, scan, &o, helo_check, identity);
	if (helo_check)
		return;
	if (st->received_spf && o.received_spf[0] != '\0')
		scan_add_out_header(scan, "Received-SPF", o.received_spf);
	if (o.result == SPF_RES_FAIL && listed(st, o.domain)) {
		char reply[1024];
		if (o.explanation[0] != '\0')
			snprintf(reply, sizeof reply, "%s: %s", st->reject_reply,
			         o.explanation);
		else
			snprintf(reply, sizeof reply, "%s", st->reject_reply);
		/* the explanation comes from the sender's DNS: one printable
		 * line only */
		for (char *p = reply; *p; p++)
			if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
				*p = '?';
		scan_result(scan, "reject", reply);
	}
}

/* Check the MAIL FROM identity and, when enabled, HELO on its own. */
static void check_envelope(const struct spf_state *st, struct scan *scan)
{
	const struct scan_env *env = scan_env(scan);
	if (env->client_addr == NULL || *env->client_addr == '\0')
		return;   /* unix socket or unknown peer: no SPF */
	struct dns_budget b;
	dns_budget_begin(st->dns, &b, scan, 0);
	check_and_report(st, scan, &b, false);
	if (st->helo && env->helo != NULL && *env->helo != '\0')
		check_and_report(st, scan, &b, true);
	dns_budget_end(&b, scan);
}

/* At MAIL FROM, on a worker: everything SPF needs is in the envelope. */
static enum stage_status spf_envelope(const void *state, struct scan *early)
{
	check_envelope(state, early);
	return STAGE_OK;
}

/* At end of message: nothing to do when spf_envelope's results were
 * merged into the scan already ("error" means the early work failed). */
static enum stage_status spf_run(const void *state, struct scan *scan)
{
	const char *early = scan_result_get(scan, "spf");
	if (early == NULL || strcmp(early, "error") == 0)
		check_envelope(state, scan);
	return STAGE_OK;
}

static bool spf_envelope_rejects(const void *state)
{
	const struct spf_state *st = state;
	return st->reject_count > 0;
}

const struct stage_ops spf_stage = {
	.name = "spf",
	.dns = true,
	.conf_opts = spf_opts,
	.init = spf_init,
	.fini = spf_fini,
	.check = NULL,
	.run = spf_run,
	.envelope = spf_envelope,
	.envelope_rejects = spf_envelope_rejects,
};

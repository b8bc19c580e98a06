/* dmarc.c — see dmarc.h */
#include "dmarc.h"

#include <opendmarc/dmarc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "scan.h"

/* Exported by libopendmarc but missing from its header. */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define MAX_FROM_DOMAINS 8
#define MAX_DKIM_DOMAINS 16
#define DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

const char *dmarc_res_name(enum dmarc_res r)
{
	static const char *const names[DMARC_RES_COUNT] = {
		"none", "pass", "fail", "temperror", "permerror"
	};
	return r < DMARC_RES_COUNT ? names[r] : "?";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	return p == DMARC_POL_REJECT ? "reject"
	     : p == DMARC_POL_QUARANTINE ? "quarantine" : "none";
}

/* ---- library (process-wide: libopendmarc keeps the PSL globally) ---- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static OPENDMARC_LIB_T lib;
static int lib_status = -1;

static void lib_init(void)
{
	lib_status = opendmarc_policy_library_init(&lib) == DMARC_PARSE_OKAY
	             ? 0 : -1;
}

int dmarc_library_init(const char *psl_path, char *err, size_t errlen)
{
	const char *path = psl_path && *psl_path ? psl_path : DEFAULT_PSL;
	if (lib.tld_type == 0 && lib_status != 0) {
		lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		snprintf((char *)lib.tld_source_file, sizeof lib.tld_source_file,
		         "%s", path);
	}
	pthread_once(&lib_once, lib_init);
	if (lib_status != 0) {
		snprintf(err, errlen, "dmarc: cannot load the public suffix list "
		         "%s", (const char *)lib.tld_source_file);
		return -1;
	}
	return 0;
}

int dmarc_org_domain(const char *domain, char *buf, size_t size)
{
	char lower[256];
	size_t n = strlen(domain);
	if (n == 0 || n >= sizeof lower || size == 0)
		return -1;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z'
		                  ? domain[i] + 32 : domain[i]);
	/* it leaves buf alone for names under no listed suffix */
	buf[0] = '\0';
	if (opendmarc_get_tld((u_char *)lower, (u_char *)buf, size) != 0 ||
	    buf[0] == '\0')
		snprintf(buf, size, "%s", lower);
	return 0;
}

/* ---- policy record ---- */

enum fetch { FETCH_FOUND, FETCH_NONE, FETCH_TEMPFAIL };

static bool is_dmarc1(const char *txt)
{
	return strncmp(txt, "v=DMARC1", 8) == 0 &&
	       (txt[8] == '\0' || txt[8] == ';' || txt[8] == ' ' ||
	        txt[8] == '\t');
}

/* The one v=DMARC1 record at _dmarc.domain (RFC 7489 §6.6.3). */
static enum fetch fetch_record(struct dns *dns, struct dns_budget *b,
                               const char *domain, char *rec, size_t size)
{
	char name[300];
	struct dns_answer *a;
	snprintf(name, sizeof name, "_dmarc.%s", domain);
	enum dns_status st = dns_query(dns, b, name, 16, &a);
	enum fetch f = st == DNS_TEMPFAIL ? FETCH_TEMPFAIL : FETCH_NONE;
	int found = 0;
	char txt[4096];
	for (size_t i = 0; i < dns_answer_count(a); i++)
		if (dns_answer_txt(a, i, txt, sizeof txt) >= 0 && is_dmarc1(txt)) {
			if (found++ == 0)
				snprintf(rec, size, "%s", txt);
		}
	if (found == 1)
		f = FETCH_FOUND;
	dns_answer_free(a);
	return f;
}

static enum dmarc_policy policy_of(int pol)
{
	return pol == DMARC_POLICY_REJECT ? DMARC_POL_REJECT
	     : pol == DMARC_POLICY_QUARANTINE ? DMARC_POL_QUARANTINE
	     : DMARC_POL_NONE;
}

/* Feed the record and the SPF/DKIM results to libopendmarc and read its
 * verdict. */
static int apply(const struct dmarc_input *in, const char *record,
                 const char *org, struct dmarc_outcome *out)
{
	DMARC_POLICY_T *p = opendmarc_policy_connect_init((u_char *)"0.0.0.0",
	                    DMARC_POLICY_IP_TYPE_IPV4);
	if (p == NULL)
		return -1;
	int rc = 0;
	if (opendmarc_policy_store_from_domain(p, (u_char *)in->from_domain) !=
	    DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(p, (u_char *)record,
	                                 (u_char *)in->from_domain,
	                                 (u_char *)org) != DMARC_PARSE_OKAY) {
		out->result = DMARC_RES_NONE;   /* unusable record: no policy */
		goto done;
	}
	if (in->spf_domain != NULL && *in->spf_domain != '\0')
		opendmarc_policy_store_spf(p, (u_char *)in->spf_domain,
		                           in->spf_pass
		                           ? DMARC_POLICY_SPF_OUTCOME_PASS
		                           : DMARC_POLICY_SPF_OUTCOME_FAIL,
		                           DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
	for (size_t i = 0; i < in->dkim_pass_count; i++)
		opendmarc_policy_store_dkim(p, (u_char *)in->dkim_pass_domains[i],
		                            NULL, DMARC_POLICY_DKIM_OUTCOME_PASS,
		                            NULL);
	int pol = opendmarc_get_policy_to_enforce(p);
	int dkim_al = 0, spf_al = 0, rp = 0;
	opendmarc_policy_fetch_alignment(p, &dkim_al, &spf_al);
	opendmarc_policy_fetch_p(p, &rp);
	out->dkim_aligned = dkim_al == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
	out->spf_aligned = spf_al == DMARC_POLICY_SPF_ALIGNMENT_PASS;
	out->record_p = (char)rp;
	if (pol == DMARC_POLICY_PASS)
		out->result = DMARC_RES_PASS;
	else if (pol == DMARC_POLICY_ABSENT)
		out->result = DMARC_RES_NONE;
	else if (pol == DMARC_POLICY_REJECT || pol == DMARC_POLICY_QUARANTINE ||
	         pol == DMARC_POLICY_NONE) {
		out->result = DMARC_RES_FAIL;
		out->policy = policy_of(pol);
		int pct = 100;
		opendmarc_policy_fetch_pct(p, &pct);
		out->pct = pct;
	} else {
		rc = -1;
	}
done:
	opendmarc_policy_connect_shutdown(p);
	return rc;
}

int dmarc_evaluate(struct dns *dns, struct dns_budget *b,
                   const struct dmarc_input *in, unsigned pct_roll,
                   struct dmarc_outcome *out)
{
	memset(out, 0, sizeof *out);
	out->pct = 100;
	if (in->from_domain == NULL || *in->from_domain == '\0') {
		out->result = DMARC_RES_PERMERROR;
		return 0;
	}
	char org[256], record[4096];
	if (dmarc_org_domain(in->from_domain, org, sizeof org) != 0) {
		out->result = DMARC_RES_PERMERROR;
		return 0;
	}
	snprintf(out->policy_domain, sizeof out->policy_domain, "%s",
	         in->from_domain);
	enum fetch f = fetch_record(dns, b, in->from_domain, record,
	                            sizeof record);
	if (f == FETCH_NONE && strcasecmp(org, in->from_domain) != 0) {
		snprintf(out->policy_domain, sizeof out->policy_domain, "%s", org);
		f = fetch_record(dns, b, org, record, sizeof record);
	}
	if (f == FETCH_TEMPFAIL) {
		out->result = DMARC_RES_TEMPERROR;
		return 0;
	}
	if (f == FETCH_NONE) {
		out->result = DMARC_RES_NONE;
		return 0;
	}
	/* libopendmarc takes an organisational domain as "the record came
	 * from there" (and then applies sp=) */
	bool from_org = strcasecmp(out->policy_domain, in->from_domain) != 0;
	if (apply(in, record, from_org ? org : NULL, out) != 0)
		return -1;
	/* pct= (RFC 7489 §6.6.4): a message not sampled gets the next lower
	 * policy */
	if (out->result == DMARC_RES_FAIL && out->policy != DMARC_POL_NONE &&
	    pct_roll >= (unsigned)out->pct) {
		out->policy = out->policy == DMARC_POL_REJECT
		              ? DMARC_POL_QUARANTINE : DMARC_POL_NONE;
		out->sampled_out = true;
	}
	return 0;
}

/* ---- the stage ---- */

enum action { ACT_ADD_HEADER, ACT_QUARANTINE, ACT_REJECT };

static cfg_opt_t dmarc_opts[] = {
	CFG_STR("public_suffix_list", DEFAULT_PSL, CFGF_NONE),
	CFG_STR("reject_action", "add-header", CFGF_NONE),
	CFG_STR("quarantine_action", "add-header", CFGF_NONE),
	CFG_BOOL("honor_pct", cfg_true, CFGF_NONE),
	CFG_STR("reject_reply", "550 5.7.1 Rejected by the DMARC policy of %s",
	        CFGF_NONE),
	CFG_FLOAT("score_pass", -0.001, CFGF_NONE),
	CFG_FLOAT("score_reject", 0.3, CFGF_NONE),
	CFG_FLOAT("score_quarantine", 0.2, CFGF_NONE),
	CFG_FLOAT("score_none", 0.1, CFGF_NONE),
	CFG_FLOAT("score_missing", 0.0, CFGF_NONE),
	CFG_END()
};

struct dmarc_state {
	struct dns *dns;
	enum action on_reject, on_quarantine;
	bool honor_pct;
	char *reject_reply;
	struct scan_score score_pass, score_reject, score_quarantine,
	                  score_none, score_missing;
};

static int parse_action(const char *s, enum action *a)
{
	if (strcmp(s, "reject") == 0)
		*a = ACT_REJECT;
	else if (strcmp(s, "quarantine") == 0)
		*a = ACT_QUARANTINE;
	else if (strcmp(s, "add-header") == 0)
		*a = ACT_ADD_HEADER;
	else
		return -1;
	return 0;
}

static int dmarc_check(cfg_t *sec, char *err, size_t errlen)
{
	enum action a;
	const char *r = cfg_getstr(sec, "reject_action");
	const char *q = cfg_getstr(sec, "quarantine_action");
	if (parse_action(r, &a) != 0 || parse_action(q, &a) != 0 ||
	    a == ACT_REJECT) {
		snprintf(err, errlen, "dmarc: reject_action must be reject, "
		         "quarantine or add-header; quarantine_action quarantine "
		         "or add-header");
		return -1;
	}
	const char *reply = cfg_getstr(sec, "reject_reply");
	const char *pct = strchr(reply, '%');
	if (reply[0] != '5' || (pct && (pct[1] != 's' || strchr(pct + 1, '%')))) {
		snprintf(err, errlen, "dmarc: reject_reply must start with a 5xx "
		         "code and contain at most one %%s");
		return -1;
	}
	return 0;
}

static void dmarc_fini(void *state)
{
	struct dmarc_state *st = state;
	if (st == NULL)
		return;
	dns_put(st->dns);
	free(st->reject_reply);
	free(st);
}

static void *dmarc_init(cfg_t *root, cfg_t *sec, char *err, size_t errlen)
{
	struct dmarc_state *st = calloc(1, sizeof *st);
	if (st == NULL || sec == NULL) {
		snprintf(err, errlen, "dmarc: %s", st ? "no configuration section"
		                                     : "out of memory");
		free(st);
		return NULL;
	}
	if (dmarc_check(sec, err, errlen) != 0 ||
	    dmarc_library_init(cfg_getstr(sec, "public_suffix_list"), err,
	                       errlen) != 0 ||
	    (st->dns = dns_get(root, err, errlen)) == NULL ||
	    (st->reject_reply = strdup(cfg_getstr(sec, "reject_reply"))) ==
	    NULL) {
		dmarc_fini(st);
		return NULL;
	}
	parse_action(cfg_getstr(sec, "reject_action"), &st->on_reject);
	parse_action(cfg_getstr(sec, "quarantine_action"), &st->on_quarantine);
	st->honor_pct = cfg_getbool(sec, "honor_pct");
	st->score_pass = stage_score(sec, "score_pass");
	st->score_reject = stage_score(sec, "score_reject");
	st->score_quarantine = stage_score(sec, "score_quarantine");
	st->score_none = stage_score(sec, "score_none");
	st->score_missing = stage_score(sec, "score_missing");
	return st;
}

/* d= of every passing DKIM signature, read back from the dkim stage's
 * Authentication-Results entries ("dkim=pass ... header.d=example.org"). */
static size_t dkim_passes(const struct scan *scan,
                          char (*out)[AUTHRES_DOMAIN_MAX], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < scan_auth_result_count(scan) && n < max; i++) {
		const char *e = scan_auth_result_at(scan, i);
		if (strncmp(e, "dkim=pass ", 10) != 0)
			continue;
		const char *d = strstr(e, " header.d=");
		if (d == NULL)
			continue;
		d += 10;
		size_t len = strcspn(d, " ;\"");
		if (len == 0 || len >= AUTHRES_DOMAIN_MAX || d[len] == '"')
			continue;
		memcpy(out[n], d, len);
		out[n++][len] = '\0';
	}
	return n;
}

/* The SPF identity's domain: MAIL FROM's, or HELO for the null sender. */
static const char *spf_domain(const struct scan_env *env)
{
	const char *at = strrchr(env->mail_from, '@');
	if (*env->mail_from != '\0')
		return at ? at + 1 : env->mail_from;
	return env->helo;
}

static void auth_entry(struct scan *scan, const char *from,
                       const struct dmarc_outcome *o)
{
	struct authres ar;
	char comment[96] = "";
	authres_init(&ar);
	authres_method(&ar, "dmarc", dmarc_res_name(o->result));
	if (o->record_p != 0)
		snprintf(comment, sizeof comment, "p=%s dis=%s%s",
		         o->record_p == 'r' ? "reject" : o->record_p == 'q'
		         ? "quarantine" : "none",
		         o->result == DMARC_RES_FAIL ? dmarc_policy_name(o->policy)
		                                     : "none",
		         o->sampled_out ? " pct-sampled" : "");
	if (comment[0] != '\0')
		authres_comment(&ar, comment);
	authres_prop(&ar, "header", "from", from);
	if (o->record_p != 0)
		authres_prop(&ar, "policy", "dmarc", o->record_p == 'r' ? "reject"
		             : o->record_p == 'q' ? "quarantine" : "none");
	scan_add_auth_result(scan, authres_str(&ar));
	authres_free(&ar);
}

/* Worse outcome first: fail (by policy strength), temperror, permerror,
 * none, pass. */
static int severity(const struct dmarc_outcome *o)
{
	switch (o->result) {
	case DMARC_RES_FAIL: return 10 + (int)o->policy;
	case DMARC_RES_TEMPERROR: return 5;
	case DMARC_RES_PERMERROR: return 4;
	case DMARC_RES_NONE: return 2;
	case DMARC_RES_PASS: break;
	case DMARC_RES_COUNT: break;
	}
	return 1;
}

static void add_hit(const struct dmarc_state *st, struct scan *scan,
                    const struct dmarc_outcome *worst)
{
	switch (worst->result) {
	case DMARC_RES_PASS:
		scan_hit_score(scan, "DMARC_PASS", st->score_pass, "DMARC pass policy");
		break;
	case DMARC_RES_NONE:
		scan_hit_score(scan, "DMARC_MISSING", st->score_missing,
		         "Missing DMARC policy");
		break;
	case DMARC_RES_FAIL:
		if (worst->policy == DMARC_POL_REJECT)
			scan_hit_score(scan, "DMARC_REJECT", st->score_reject,
			         "DMARC fail with reject policy");
		else if (worst->policy == DMARC_POL_QUARANTINE)
			scan_hit_score(scan, "DMARC_QUAR", st->score_quarantine,
			         "DMARC fail with quarantine policy");
		else
			scan_hit_score(scan, "DMARC_NONE", st->score_none,
			         "DMARC fail with none policy");
		break;
	default:
		break;
	}
}

/* reject_reply with its one "%s" replaced by the domain (printable ASCII
 * only: the text goes into an SMTP reply). */
static void reply_text(const char *tmpl, const char *domain, char *out,
                       size_t size)
{
	const char *ph = strstr(tmpl, "%s");
	size_t k = 0;
	for (const char *p = tmpl; *p && k + 1 < size; p++) {
		if (p == ph) {
			for (const char *d = domain; *d && k + 1 < size; d++)
				if ((unsigned char)*d > ' ' && (unsigned char)*d < 0x7f)
					out[k++] = *d;
			p++;
			continue;
		}
		out[k++] = *p;
	}
	out[k] = '\0';
}

static void enforce(const struct dmarc_state *st, struct scan *scan,
                    const struct dmarc_outcome *worst, const char *domain)
{
	add_hit(st, scan, worst);
	if (worst->result != DMARC_RES_FAIL)
		return;
	enum action act = worst->policy == DMARC_POL_REJECT ? st->on_reject
	                : worst->policy == DMARC_POL_QUARANTINE
	                ? st->on_quarantine : ACT_ADD_HEADER;
	char text[512];
	if (act == ACT_REJECT) {
		reply_text(st->reject_reply, domain, text, sizeof text);
		scan_result(scan, "reject", text);
	} else if (act == ACT_QUARANTINE) {
		reply_text("DMARC policy of %s", domain, text, sizeof text);
		scan_result(scan, "quarantine", text);
	}
}

static enum stage_status dmarc_run(const void *state, struct scan *scan)
{
	const struct dmarc_state *st = state;
	const struct scan_env *env = scan_env(scan);
	char from[MAX_FROM_DOMAINS][AUTHRES_DOMAIN_MAX];
	char dkim[MAX_DKIM_DOMAINS][AUTHRES_DOMAIN_MAX];
	const char *dkim_ptrs[MAX_DKIM_DOMAINS];
	size_t headers, addrs;
	size_t nfrom = authres_from_domains(scan, from, MAX_FROM_DOMAINS,
	                                    &headers, &addrs);
	if (headers != 1 || nfrom == 0) {
		/* RFC 7489 §6.6.1: no or several From fields, or no domain */
		scan_result(scan, "dmarc", "permerror");
		scan_add_auth_result(scan, headers > 1
			? "dmarc=permerror (more than one From header)"
			: "dmarc=permerror (no From domain)");
		return STAGE_OK;
	}
	size_t ndkim = dkim_passes(scan, dkim, MAX_DKIM_DOMAINS);
	for (size_t i = 0; i < ndkim; i++)
		dkim_ptrs[i] = dkim[i];
	const char *spf = scan_result_get(scan, "spf");
	struct dmarc_input in = {
		.spf_domain = spf_domain(env),
		.spf_pass = spf != NULL && strcmp(spf, "pass") == 0,
		.dkim_pass_domains = dkim_ptrs,
		.dkim_pass_count = ndkim,
	};
	unsigned roll = st->honor_pct ? arc4random_uniform(100) : 0;
	struct dns_budget b;
	struct dmarc_outcome worst = { .result = DMARC_RES_PASS };
	size_t worst_i = 0;
	dns_budget_begin(st->dns, &b, scan, 0);
	/* every distinct From domain is evaluated; the worst outcome counts
	 * (RFC 7489 §6.6.1) */
	for (size_t i = 0; i < nfrom; i++) {
		struct dmarc_outcome o;
		in.from_domain = from[i];
		if (dmarc_evaluate(st->dns, &b, &in, roll, &o) != 0) {
			dns_budget_end(&b, scan);
			return STAGE_ERROR;
		}
		auth_entry(scan, from[i], &o);
		if (i == 0 || severity(&o) > severity(&worst)) {
			worst = o;
			worst_i = i;
		}
	}
	dns_budget_end(&b, scan);
	scan_result(scan, "dmarc", dmarc_res_name(worst.result));
	enforce(st, scan, &worst, worst.policy_domain[0] ? worst.policy_domain
	                                                 : from[worst_i]);
	return STAGE_OK;
}

const struct stage_ops dmarc_stage = {
	.name = "dmarc",
	.dns = true,
	.conf_opts = dmarc_opts,
	.init = dmarc_init,
	.fini = dmarc_fini,
	.check = dmarc_check,
	.run = dmarc_run,
};

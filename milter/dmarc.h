/*
 * dmarc.h — DMARC (RFC 7489) with libopendmarc: policy records fetched
 * through dns.h (not libopendmarc's own resolver), organisational domain
 * from the Public Suffix List (Debian's publicsuffix package), identifier
 * alignment (strict/relaxed) of the SPF and DKIM results with the
 * RFC5322.From domain, p=/sp=/pct=.
 *
 * dmarc_evaluate() is the check; its inputs are the results of the SPF
 * and DKIM stages, which dmarc_stage reads back from the scan (its spf
 * result and the dkim Authentication-Results entries), so it must run
 * after them. The stage adds DMARC_PASS / DMARC_REJECT / DMARC_QUAR /
 * DMARC_NONE / DMARC_MISSING hits (SpamAssassin's names), the dmarc=
 * result, an Authentication-Results entry per From domain, and — when so
 * configured — a reject ("reject" result) or quarantine ("quarantine"
 * result) request.
 */
#ifndef VIGIL_DMARC_H
#define VIGIL_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"
#include "stage.h"

extern const struct stage_ops dmarc_stage;

enum dmarc_res {
	DMARC_RES_NONE = 0,    /* no policy published */
	DMARC_RES_PASS,
	DMARC_RES_FAIL,
	DMARC_RES_TEMPERROR,   /* policy lookup failed temporarily */
	DMARC_RES_PERMERROR,   /* no usable From domain */
	DMARC_RES_COUNT
};

/* The policy requested by the domain owner for a failing message, after
 * pct= sampling. */
enum dmarc_policy {
	DMARC_POL_NONE = 0,
	DMARC_POL_QUARANTINE,
	DMARC_POL_REJECT
};

/* What the SPF and DKIM checks found. */
struct dmarc_input {
	const char *from_domain;     /* RFC5322.From domain */
	const char *spf_domain;      /* MAIL FROM domain (or HELO), or NULL */
	bool spf_pass;
	const char *const *dkim_pass_domains; /* d= of passing signatures */
	size_t dkim_pass_count;
};

struct dmarc_outcome {
	enum dmarc_res result;
	enum dmarc_policy policy;     /* to apply when result is fail */
	char policy_domain[256];      /* where the record was found */
	char record_p;                /* p=: 'n', 'q', 'r' or 0 */
	int pct;                      /* pct= (100 when absent) */
	bool spf_aligned, dkim_aligned;
	bool sampled_out;             /* pct= lowered the policy */
};

/* Load the Public Suffix List once per process (later calls with another
 * path keep the first). */
int dmarc_library_init(const char *psl_path, char *err, size_t errlen);
/* The organisational domain of domain (RFC 7489 §3.2) into buf. */
int dmarc_org_domain(const char *domain, char *buf, size_t size);

/* Evaluate one From domain. pct_roll: 0..99 (random per message; the
 * policy applies when pct_roll < pct). */
int dmarc_evaluate(struct dns *dns, struct dns_budget *b,
                   const struct dmarc_input *in, unsigned pct_roll,
                   struct dmarc_outcome *out);

const char *dmarc_res_name(enum dmarc_res r);
const char *dmarc_policy_name(enum dmarc_policy p);

#endif

/*
 * spf.h — SPF (RFC 7208) with libspf2, resolving through dns.h.
 *
 * spf_checker wraps one libspf2 server whose DNS layer is vigil's resolver
 * (SPF_dns_server_t over dns_query): timeouts and SERVFAIL become
 * temperror, NXDOMAIN/NODATA permanent results. Records are fetched as TXT
 * only (RFC 7208 §3.1, §4.5); the 10 DNS-mechanism and 2 void-lookup
 * limits (§4.6.4) are enforced. A checker is shared by worker threads.
 *
 * spf_stage checks the MAIL FROM identity (the HELO identity when MAIL
 * FROM is empty) and, optionally, the HELO identity as a separate result;
 * it adds SPF_* / SPF_HELO_* hits, spf= / spf_helo= results, the
 * Authentication-Results entries, optionally Received-SPF, and a reject
 * request ("reject" result, 550 5.7.23) for configured domains on fail.
 * The check runs in envelope() as soon as MAIL FROM is known; run() only
 * repeats it when no early result ("spf") reached the scan.
 */
#ifndef VIGIL_SPF_H
#define VIGIL_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"
#include "stage.h"

extern const struct stage_ops spf_stage;

enum spf_res {
	SPF_RES_NONE = 0,
	SPF_RES_NEUTRAL,
	SPF_RES_PASS,
	SPF_RES_FAIL,
	SPF_RES_SOFTFAIL,
	SPF_RES_TEMPERROR,
	SPF_RES_PERMERROR,
	SPF_RES_COUNT
};

struct spf_outcome {
	enum spf_res result;
	char domain[256];        /* the domain checked */
	char explanation[512];   /* fail: the domain's explanation; else "" */
	char comment[512];       /* human-readable reason (libspf2's) */
	char received_spf[1024]; /* Received-SPF header value */
	unsigned void_lookups;
	unsigned dns_queries;
};

struct spf_checker;

/* receiver: this host's name (for %{r} and Received-SPF; NULL: the
 * system host name). The checker keeps a reference to dns. */
struct spf_checker *spf_checker_new(struct dns *dns, const char *receiver,
                                    char *err, size_t errlen);
void spf_checker_free(struct spf_checker *c);

/* Check one identity. ip: textual IPv4/IPv6; helo: the HELO name;
 * sender: MAIL FROM address ("" uses postmaster@helo); helo_identity:
 * check the HELO name itself. Returns 0, or -1 when the input is unusable
 * (bad ip; out->result is then permerror-free NONE). */
int spf_check(struct spf_checker *c, struct dns_budget *b, const char *ip,
              const char *helo, const char *sender, bool helo_identity,
              struct spf_outcome *out);

const char *spf_res_name(enum spf_res r);

#endif

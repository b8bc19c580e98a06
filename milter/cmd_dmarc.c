/* cmd_dmarc.c — vigil dmarc: the DMARC evaluation of one message file
 * (SPF for the given client and MAIL FROM, DKIM, then DMARC per From
 * domain), through vigil's resolver. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "cmd.h"
#include "conf.h"
#include "dkimver.h"
#include "dmarc.h"
#include "dns.h"
#include "envguess.h"
#include "scan.h"
#include "spf.h"

#define MAX_DOMAINS 16

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigil dmarc [-c vigild.conf] [--dns IP[@PORT]] "
	        "--client-ip IP --mail-from ADDR [--helo NAME] FILE\n"
	        "  ADDR as SMTP writes it (<a@example.org>) or bare; <> is the\n"
	        "  null sender (SPF then checks postmaster@HELO).\n"
	        "  Exit 0 when the check ran, 2 on errors.\n");
}

/* A usage error: what (unless already said), and where help is. 2. */
static int usage_error(const char *what)
{
	if (what != NULL)
		fprintf(stderr, "vigil dmarc: %s\n", what);
	fprintf(stderr, "see vigil dmarc --help\n");
	return 2;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *nb = realloc(buf, cap * 2);
		if (nb == NULL)
			free(buf);
		buf = nb;
		cap *= 2;
	}
	if (buf != NULL && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

struct tools {
	struct conf *conf;
	struct dns *dns;
	struct spf_checker *spf;
	struct dkimver *dkim;
	struct scan *scan;
};

static void tools_free(struct tools *t)
{
	spf_checker_free(t->spf);
	dkimver_free(t->dkim);
	scan_free(t->scan);
	dns_put(t->dns);
	conf_unref(t->conf);
}

static int evaluate(struct tools *t, const char *ip, const char *helo,
                    const char *from)
{
	char err[512];
	struct dns_budget b;
	struct spf_outcome so;
	dns_budget_begin(t->dns, &b, NULL, 0);
	if (spf_check(t->spf, &b, ip, helo, from, false, &so) != 0) {
		fprintf(stderr, "vigil dmarc: bad client IP \"%s\"\n", ip);
		return 2;
	}
	printf("spf: %s (%s)\n", spf_res_name(so.result), so.domain);

	struct dkimver_sig *sigs;
	size_t n;
	if (dkimver_verify(t->dkim, &b, t->scan, &sigs, &n, err,
	                   sizeof err) != 0) {
		fprintf(stderr, "vigil dmarc: %s\n", err);
		return 2;
	}
	const char *pass[MAX_DOMAINS];
	size_t npass = 0;
	for (size_t i = 0; i < n; i++) {
		printf("dkim: %s d=%s s=%s\n", dkimver_res_name(sigs[i].result),
		       sigs[i].domain, sigs[i].selector);
		if (sigs[i].result == DKIMVER_PASS && npass < MAX_DOMAINS)
			pass[npass++] = sigs[i].domain;
	}
	if (n == 0)
		printf("dkim: none\n");

	char doms[MAX_DOMAINS][AUTHRES_DOMAIN_MAX];
	size_t headers, addrs;
	size_t nd = authres_from_domains(t->scan, doms, MAX_DOMAINS, &headers,
	                                 &addrs);
	if (headers != 1 || nd == 0)
		printf("dmarc: permerror (%s)\n", headers > 1
		       ? "more than one From header" : "no From domain");
	struct dmarc_input in = {
		.spf_domain = so.domain,
		.spf_pass = so.result == SPF_RES_PASS,
		.dkim_pass_domains = pass,
		.dkim_pass_count = npass,
	};
	for (size_t i = 0; headers == 1 && i < nd; i++) {
		struct dmarc_outcome o;
		in.from_domain = doms[i];
		if (dmarc_evaluate(t->dns, &b, &in, 0, &o) != 0) {
			fprintf(stderr, "vigil dmarc: evaluation failed\n");
			free(sigs);
			return 2;
		}
		printf("dmarc: %s header.from=%s policy-domain=%s p=%c pct=%d "
		       "policy=%s spf-aligned=%s dkim-aligned=%s\n",
		       dmarc_res_name(o.result), doms[i], o.policy_domain,
		       o.record_p ? o.record_p : '-', o.pct,
		       dmarc_policy_name(o.policy), o.spf_aligned ? "yes" : "no",
		       o.dkim_aligned ? "yes" : "no");
	}
	free(sigs);
	return 0;
}

int cmd_dmarc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns", required_argument, NULL, 'd' },
		/* 'e': the envelope flags, envguess_arg() by name, as vigil
		 * scan and explain read them */
		{ "client-ip", required_argument, NULL, 'e' },
		{ "mail-from", required_argument, NULL, 'e' },
		{ "helo", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *server = NULL;
	struct envguess_args env = { 0 };
	const struct envguess_flags *f = &env.flags;
	int ch, li = 0;
	optind = 1;
	opterr = 0;   /* our own messages, each followed by the --help hint */
	while ((ch = getopt_long(argc, argv, ":c:d:h", longopts, &li)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'd': server = optarg; break;
		case 'e': {
			char name[32];
			snprintf(name, sizeof name, "--%s", longopts[li].name);
			if (envguess_arg(&env, "vigil dmarc", name, optarg) < 0)
				return usage_error(NULL);
			break;
		}
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "vigil dmarc: %s needs a value\n",
			        argv[optind - 1]);
			return usage_error(NULL);
		default:
			fprintf(stderr, "vigil dmarc: unknown option %s\n",
			        argv[optind - 1]);
			return usage_error(NULL);
		}
	}
	if (f->client_ip == NULL || f->mail_from == NULL)
		return usage_error("--client-ip and --mail-from are needed");
	if (argc - optind != 1)
		return usage_error(optind == argc ? "no FILE given" : "one FILE only");
	const char *ip = f->client_ip, *from = f->mail_from;
	const char *helo = f->helo ? f->helo : "";
	size_t len;
	char *raw = slurp(argv[optind], &len);
	if (raw == NULL) {
		fprintf(stderr, "vigil dmarc: cannot read %s\n", argv[optind]);
		return 2;
	}
	char err[1024] = "out of memory";
	struct tools t = { 0 };
	int rc = 2;
	if ((t.dns = dns_for_tool(conf_path, server, &t.conf, err,
	                          sizeof err)) == NULL ||
	    dmarc_library_init(NULL, err, sizeof err) != 0 ||
	    (t.spf = spf_checker_new(t.dns, NULL, err, sizeof err)) == NULL ||
	    (t.dkim = dkimver_new(t.dns, 1024, 10, err, sizeof err)) == NULL ||
	    (t.scan = scan_new()) == NULL ||
	    scan_set_raw(t.scan, raw, len) != 0) {
		fprintf(stderr, "vigil dmarc: %s\n", err);
	} else {
		rc = evaluate(&t, ip, helo, from);
	}
	tools_free(&t);
	free(raw);
	return rc;
}

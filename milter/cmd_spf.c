/* cmd_spf.c — vigil spf: one SPF check from the command line, like
 * spfquery, through vigil's resolver and SPF module. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "dns.h"
#include "spf.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigil spf [-c vigild.conf] [--dns IP[@PORT]] "
	        "[--helo-only] IP HELO MAILFROM\n"
	        "  Checks the MAIL FROM identity (HELO's when MAILFROM is \"\")\n"
	        "  and the HELO identity. Exit 0 when the check ran, 2 on "
	        "errors.\n");
}

static void print_outcome(const char *label, const struct spf_outcome *o)
{
	printf("%s: %s\n", label, spf_res_name(o->result));
	printf("%s-domain: %s\n", label, o->domain);
	if (o->comment[0] != '\0')
		printf("%s-comment: %s\n", label, o->comment);
	if (o->explanation[0] != '\0')
		printf("%s-explanation: %s\n", label, o->explanation);
	if (o->received_spf[0] != '\0')
		printf("%s-received-spf: %s\n", label, o->received_spf);
	printf("%s-dns-queries: %u\n", label, o->dns_queries);
}

int cmd_spf(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns", required_argument, NULL, 'd' },
		{ "helo-only", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *server = NULL;
	bool helo_only = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:Hh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'd': server = optarg; break;
		case 'H': helo_only = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 2;
	}
	const char *ip = argv[optind], *helo = argv[optind + 1];
	const char *from = argv[optind + 2];
	char err[1024];
	struct conf *conf;
	struct dns *dns = dns_for_tool(conf_path, server, &conf, err, sizeof err);
	if (dns == NULL) {
		fprintf(stderr, "vigil spf: %s\n", err);
		return 2;
	}
	int rc = 2;
	struct spf_checker *c = spf_checker_new(dns, NULL, err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "vigil spf: %s\n", err);
		goto out;
	}
	struct dns_budget b;
	struct spf_outcome o;
	if (!helo_only) {
		dns_budget_begin(dns, &b, NULL, 0);
		if (spf_check(c, &b, ip, helo, from, false, &o) != 0) {
			fprintf(stderr, "vigil spf: bad IP address \"%s\"\n", ip);
			goto out;
		}
		print_outcome("result", &o);
	}
	if (*helo != '\0') {
		dns_budget_begin(dns, &b, NULL, 0);
		if (spf_check(c, &b, ip, helo, "", true, &o) != 0) {
			fprintf(stderr, "vigil spf: bad IP address \"%s\"\n", ip);
			goto out;
		}
		print_outcome("helo", &o);
	}
	rc = 0;
out:
	spf_checker_free(c);
	dns_put(dns);
	conf_unref(conf);
	return rc;
}

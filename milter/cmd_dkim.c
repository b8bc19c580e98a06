/* cmd_dkim.c — vigil dkim: verify every DKIM signature of one message
 * file, like opendkim-testmsg, through vigil's resolver. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "dkimver.h"
#include "dns.h"
#include "scan.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigil dkim [-c vigild.conf] [--dns IP[@PORT]] "
	        "[--min-key-bits N] [--allow-sha1] FILE\n"
	        "  Prints one line per signature. Exit 0 when the check ran, "
	        "2 on errors.\n");
}

/* Read a whole file ("-": stdin); NULL on error. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		char *nb = realloc(buf, cap * 2);
		if (nb == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

static void print_sig(size_t i, const struct dkimver_sig *s)
{
	printf("signature %zu: %s d=%s s=%s a=%s", i + 1,
	       dkimver_res_name(s->result), s->domain, s->selector, s->alg);
	if (s->key_bits)
		printf(" bits=%u", s->key_bits);
	if (s->body_signed >= 0)
		printf(" l=%zd%s", s->body_signed,
		       s->partial_body ? " (part of the body is unsigned)" : "");
	if (s->error[0] != '\0')
		printf(" (%s)", s->error);
	printf("\n");
}

int cmd_dkim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns", required_argument, NULL, 'd' },
		{ "min-key-bits", required_argument, NULL, 'b' },
		{ "allow-sha1", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *server = NULL;
	unsigned bits = 1024;
	bool sha1 = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:b:sh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'd': server = optarg; break;
		case 'b': bits = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': sha1 = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	size_t len;
	char *raw = read_file(argv[optind], &len);
	if (raw == NULL) {
		fprintf(stderr, "vigil dkim: cannot read %s\n", argv[optind]);
		return 2;
	}
	char err[1024];
	struct conf *conf = NULL;
	struct dkimver *v = NULL;
	struct scan *scan = scan_new();
	struct dns *dns = dns_for_tool(conf_path, server, &conf, err, sizeof err);
	int rc = 2;
	if (dns == NULL || scan == NULL ||
	    (v = dkimver_new(dns, bits, 100, err, sizeof err)) == NULL ||
	    scan_set_raw(scan, raw, len) != 0) {
		fprintf(stderr, "vigil dkim: %s\n", dns && scan ? err
		        : "cannot set up");
		goto out;
	}
	dkimver_allow_sha1(v, sha1);
	struct dns_budget b;
	struct dkimver_sig *sigs;
	size_t n;
	dns_budget_begin(dns, &b, NULL, 0);
	if (dkimver_verify(v, &b, scan, &sigs, &n, err, sizeof err) != 0) {
		fprintf(stderr, "vigil dkim: %s\n", err);
		goto out;
	}
	if (n == 0)
		printf("no signature\n");
	for (size_t i = 0; i < n; i++)
		print_sig(i, &sigs[i]);
	free(sigs);
	rc = 0;
out:
	dkimver_free(v);
	scan_free(scan);
	dns_put(dns);
	conf_unref(conf);
	free(raw);
	return rc;
}

/*
 * relays_dump — vigil's X-Spam-Relays-* strings per message, in the
 * format of bench/relays_compare.pl (which compares them with
 * SpamAssassin's):
 *   SOURCE<TAB>INDEX<TAB>TRUSTED<TAB>UNTRUSTED<TAB>INTERNAL<TAB>EXTERNAL
 *   <TAB>TRUST-BOUNDARY<TAB>INTERNAL-BOUNDARY
 * (the boundaries: SpamAssassin's last_trusted_relay_index + 1 and
 * last_internal_relay_index + 1, relays_boundary()).
 *
 *   relays_dump [--conf FILE]... MBOX-OR-MESSAGE...
 *
 * --conf: SpamAssassin configuration files (read by vigil's rule loader)
 * whose trusted_networks, internal_networks and msa_networks lines decide
 * trust; without, SpamAssassin's inference. Their diagnostics go to
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "msg.h"
#include "relays.h"
#include "ruleset.h"

static void put(const char *s)
{
	for (; *s; s++)
		putchar(*s == '\t' || *s == '\n' ? ' ' : *s);
}

int main(int argc, char **argv)
{
	const char *conf[64];
	size_t nconf = 0;
	int a = 1;
	while (a + 1 < argc && strcmp(argv[a], "--conf") == 0 &&
	       nconf < sizeof conf / sizeof conf[0]) {
		conf[nconf++] = argv[a + 1];
		a += 2;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: relays_dump [--conf FILE]... "
		        "MBOX-OR-MESSAGE...\n");
		return 2;
	}
	struct ruleset *rs = NULL;
	if (nconf > 0) {
		rs = ruleset_load(conf, nconf, NULL);
		if (rs == NULL) {
			fprintf(stderr, "relays_dump: out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
			const struct rs_diag *d = ruleset_diag_at(rs, i);
			fprintf(stderr, "%s:%u: %s\n", d->file ? d->file : "-",
			        d->line, d->message);
		}
	}
	const struct trustpath *trust = ruleset_trustpath(rs);
	struct corpus *c = corpus_open((const char *const *)argv + a,
	                               (size_t)(argc - a), 0);
	if (c == NULL) {
		ruleset_free(rs);
		return 1;
	}
	struct corpus_msg cm;
	int rc = 0;
	while (corpus_next(c, &cm) == 1) {
		if (cm.data == NULL) {
			fprintf(stderr, "%s #%zu: %s\n", cm.source, cm.index,
			        cm.error);
			corpus_msg_clear(&cm);
			continue;
		}
		struct msg *m = msg_parse(cm.data, cm.len, NULL);
		struct relays *r = NULL;
		if (m == NULL || relays_build_trust(m, trust, &r) != 0) {
			fprintf(stderr, "%s #%zu: out of memory\n", cm.source,
			        cm.index);
			rc = 1;
		} else {
			printf("%s\t%zu", cm.source, cm.index);
			for (int k = 0; k < RELAYS_KINDS; k++) {
				putchar('\t');
				put(relays_str(r, (enum relays_kind)k, NULL));
			}
			printf("\t%zu\t%zu", relays_boundary(r, false),
			       relays_boundary(r, true));
			putchar('\n');
		}
		relays_free(r);
		msg_free(m);
		corpus_msg_clear(&cm);
	}
	corpus_close(c);
	ruleset_free(rs);
	return rc;
}

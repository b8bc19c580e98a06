/*
 * relays_dump — vigil's X-Spam-Relays-* strings per message, in the
 * format of bench/relays_compare.pl (which compares them with
 * SpamAssassin's):
 *   SOURCE<TAB>INDEX<TAB>TRUSTED<TAB>UNTRUSTED<TAB>INTERNAL<TAB>EXTERNAL
 *
 *   relays_dump MBOX-OR-MESSAGE...
 */
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"
#include "msg.h"
#include "relays.h"

static void put(const char *s)
{
	for (; *s; s++)
		putchar(*s == '\t' || *s == '\n' ? ' ' : *s);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: relays_dump MBOX-OR-MESSAGE...\n");
		return 2;
	}
	struct corpus *c = corpus_open((const char *const *)argv + 1,
	                               (size_t)argc - 1, 0);
	if (c == NULL)
		return 1;
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
		if (m == NULL || relays_build(m, &r) != 0) {
			fprintf(stderr, "%s #%zu: out of memory\n", cm.source,
			        cm.index);
			rc = 1;
		} else {
			printf("%s\t%zu", cm.source, cm.index);
			for (int k = 0; k < RELAYS_KINDS; k++) {
				putchar('\t');
				put(relays_str(r, (enum relays_kind)k, NULL));
			}
			putchar('\n');
		}
		relays_free(r);
		msg_free(m);
		corpus_msg_clear(&cm);
	}
	corpus_close(c);
	return rc;
}

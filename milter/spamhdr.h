/*
 * spamhdr.h — what the header fields a filter adds say about a message:
 * whether it calls it spam, its score, the rules that hit. For vigil
 * scan --milter's evaluation of any milter. Read as SpamAssassin
 * (spamass-milter, amavis) and vigild write them and as rspamd does:
 *
 *   X-Spam-Flag: YES                      flagged
 *   X-Spam: Yes                           flagged (rspamd)
 *   X-Spam-Status: Yes, score=S required=R tests=A,B,... autolearn=...
 *                                         flagged when Yes; score; rules
 *                                         (also "tests=A=1.2,B=0.5")
 *   X-Spam-Score: S                       score (preferred: not rounded
 *                                         by a format)
 *   X-Spamd-Result: default: True [S / R]; SYM(s)[...]; ...
 *                                         flagged when True; score; rules
 *   X-Rspamd-Action: add header           flagged (also rewrite subject,
 *                                         reject)
 *
 * Field names are compared without case, values may be folded. Other
 * fields are ignored. Values are bounded by their own length.
 */
#ifndef VIGIL_SPAMHDR_H
#define VIGIL_SPAMHDR_H

#include <stdbool.h>
#include <stddef.h>

struct spamhdr {
	bool flagged;        /* a field says spam */
	double score;        /* NAN when no field gives one */
	int score_rank;      /* which field gave it (lower wins) */
	char **rules;        /* rule names, in order, owned */
	double *rule_scores; /* for each rule the score the field gave it
	                        ("tests=A=1.2", rspamd's "SYM(1.2)"), NAN
	                        when none */
	size_t nrules;
};

/* Nothing known yet (score NAN). */
void spamhdr_init(struct spamhdr *h);
/* One field added or changed. 0, or -1 when out of memory. */
int spamhdr_add(struct spamhdr *h, const char *name, const char *value);
void spamhdr_clear(struct spamhdr *h);

#endif

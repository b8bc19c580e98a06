/*
 * evalrep.h — evaluation of a labelled corpus run: confusion matrix,
 * recall, false-positive rate, precision, F1 at the configured threshold,
 * a threshold sweep (ROC), and per-rule hit counts on spam and ham;
 * rendered as text or as one self-contained HTML page (inline SVG).
 *
 * Not thread-safe: the caller feeds results in one thread. Memory does
 * not grow with the number of messages (scores are kept as counts per
 * sweep point), only with the number of rule names.
 */
#ifndef VIGIL_EVALREP_H
#define VIGIL_EVALREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum eval_label { EVAL_UNLABELLED = 0, EVAL_HAM, EVAL_SPAM };

struct eval;

/* Facts that make a run reproducible, shown in both reports: what
 * determines the verdicts is vigil's version, the configuration file's
 * bytes (or the built-in defaults) and the rule files' bytes. */
struct eval_meta {
	const char *version;        /* vigil version */
	const char *config_path;    /* NULL: built-in defaults */
	const char *config_hash;    /* SHA-256 (hex) of the configuration
	                               file; NULL with built-in defaults */
	size_t rule_count;          /* rules loaded (0 if unknown) */
	const char *const *paths;   /* corpus paths, with their labels */
	const char *const *path_labels;
	const size_t *path_counts;  /* messages read per path */
	size_t path_count;
	double seconds;             /* wall time of the run */
	unsigned jobs;
	const char *rules_hash;     /* ruleset_digest() of the rule files
	                               read, NULL when no rules stage ran */
	size_t rule_files;          /* how many files it covers */
};

struct eval *eval_new(double threshold);
void eval_free(struct eval *e);
/* One scanned message. hits: rule names that hit. 0 or -1 (memory). */
int eval_add(struct eval *e, enum eval_label label, double score,
             const char *const *hits, size_t nhits);
/* A message that could not be scanned (counted, reported). */
void eval_add_error(struct eval *e, enum eval_label label);

void eval_report_text(const struct eval *e, const struct eval_meta *m,
                      FILE *out);
/* 0, or -1 with errno set when path cannot be written. */
int eval_report_html(const struct eval *e, const struct eval_meta *m,
                     const char *path);

/* Parse "spam"/"ham" (also "1"/"0"); EVAL_UNLABELLED if neither. */
enum eval_label eval_label_parse(const char *s);

#endif

/*
 * evalrep.h — evaluation of a labelled corpus run: confusion matrix,
 * recall, false-positive rate, precision, F1 at the configured threshold,
 * a threshold sweep (ROC), and per-rule hit counts on spam and ham;
 * rendered as text or as one self-contained HTML page (inline SVG).
 *
 * Three ways of flagging: at a score threshold (eval_new()), by the
 * actions the pipeline took (the in-process scan, eval_new_actions():
 * any action but accept, so a recipient domain's own thresholds and a
 * stage's forced reject count as they did), or by verdicts given (a
 * milter's, eval_new_verdicts(); a message without a score is then left
 * out of the sweep only). The threshold sweep is by score alone.
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
struct envguess_flags;

/* A rule that reached a PCRE2 limit on some messages and counted as not
 * hit there (SpamAssassin, without the limit, may hit). */
struct eval_limit {
	const char *rule;
	size_t messages;            /* how many messages */
	const char *first;          /* the first of them, in input order */
};

/* Facts that make a run reproducible, shown in both reports: what
 * determines the verdicts is vigil's version, the configuration file's
 * bytes (or the built-in defaults) and the rule files' bytes. */
struct eval_meta {
	const char *version;        /* vigil version */
	const char *config_path;    /* NULL: built-in defaults */
	const char *config_hash;    /* SHA-256 (hex) of the configuration
	                               file; NULL with built-in defaults */
	const char *const *includes;        /* files the configuration
	                                       include()s, */
	const char *const *include_hashes;  /* with the SHA-256 (hex) of
	                                       each ("unreadable") */
	size_t include_count;
	size_t rule_count;          /* rules loaded (0 if unknown) */
	size_t rule_errors;         /* lines of the rule files in error */
	size_t rule_unsupported;    /* and not implemented (rules_diag_totals) */
	const char *const *paths;   /* corpus paths, with their labels */
	const char *const *path_labels;
	const size_t *path_counts;  /* messages read per path */
	size_t path_count;
	double seconds;             /* wall time of the run */
	unsigned jobs;
	const char *rules_hash;     /* ruleset_digest() of the rule files
	                               read, NULL when no rules stage ran */
	size_t rule_files;          /* how many files it covers */
	const char *milter;         /* scanned through this milter: then
	                               its verdicts count, and config and
	                               rules are the milter's, unknown */
	const char *const *label_files;       /* --labels FILEs */
	const char *const *label_file_hashes; /* SHA-256 (hex) of each */
	size_t label_file_count;
	/* how the run was started: what else changes results */
	const char *command;        /* the command line, shell-quoted */
	const char *started;        /* UTC start, "2026-11-24T09:30:00Z" */
	const struct envguess_flags *envelope;  /* --client-ip ... given */
	const char *client_note;    /* --milter: what the filter was told of
	                               the clients guessed, or NULL */
	const char *const *domains; /* recipient domains with their own
	                               thresholds (in-process scan) */
	size_t domain_count;
	const char *partial;        /* why the run stopped early ("interrupted
	                               by SIGINT after 10 messages"), or NULL */
	const char *dns_stages;     /* the stages that asked live DNS ("spf,
	                               dmarc"), NULL or "" when none */
	const struct eval_limit *limits;  /* rules that reached a PCRE2
	                               limit (in-process scan) */
	size_t limit_count;
};

/* Flagged: a score of at least threshold (INFINITY: none is). */
struct eval *eval_new(double threshold);
/* Flagged: as eval_add_verdict() says; the milter's verdicts. */
struct eval *eval_new_verdicts(void);
/* Flagged: as eval_add_verdict() says, the actions the pipeline took
 * with threshold the default policy's (reported with it). */
struct eval *eval_new_actions(double threshold);
void eval_free(struct eval *e);
/* One scanned message. hits: rule names that hit. 0 or -1 (memory). */
int eval_add(struct eval *e, enum eval_label label, double score,
             const char *const *hits, size_t nhits);
/* The same with the verdict given; score NAN when there is none. */
int eval_add_verdict(struct eval *e, enum eval_label label, bool flagged,
                     double score, const char *const *hits, size_t nhits);
/* The same with the score each hit counted (hit_scores[i] for hits[i],
 * NAN when unknown; the last one given is shown in the rule table). */
int eval_add_scored(struct eval *e, enum eval_label label, bool flagged,
                    double score, const char *const *hits,
                    const double *hit_scores, size_t nhits);
/* A message that could not be scanned (counted, reported). */
void eval_add_error(struct eval *e, enum eval_label label);
/* A message that was deferred (tempfail: the MTA offers it again later,
 * its fate unknown; also a failed scan's fail action): counted and
 * reported apart, in neither the matrix nor the sweep nor the rule
 * counts. */
void eval_add_deferred(struct eval *e, enum eval_label label);

void eval_report_text(const struct eval *e, const struct eval_meta *m,
                      FILE *out);
/* 0, or -1 with errno set when path cannot be written. The page is
 * written beside path and renamed over it once complete, so a failed
 * write leaves an earlier report whole (path itself when it is no
 * regular file: /dev/stdout, a FIFO). */
int eval_report_html(const struct eval *e, const struct eval_meta *m,
                     const char *path);
/* Whether path can be written as the HTML report (checked before a
 * run, so that hours of scanning are not lost): 0, or -1 with errno
 * set. Nothing is created. */
int eval_report_writable(const char *path);
/* Whether path may be written as the HTML report without destroying
 * what the run reads: not one of inputs (the configuration, labels
 * files, PATHs), not a file under an input directory. 0, or -1 (said
 * on stderr, with what path is). A new file inside an input directory
 * is allowed, with a note that a later run over it reads the report as
 * a message. */
int eval_report_spares(const char *path, const char *const *inputs,
                       size_t n);
/* The text report to out, and the HTML one to html unless NULL. 0, or
 * -1 when html cannot be written (reported on stderr). */
int eval_report(const struct eval *e, const struct eval_meta *m, FILE *out,
                const char *html);

/* Parse "spam"/"ham" (also "1"/"0"); EVAL_UNLABELLED if neither. */
enum eval_label eval_label_parse(const char *s);

#endif

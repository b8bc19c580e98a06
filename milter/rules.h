/*
 * rules.h — the rule engine: a SpamAssassin rule set (ruleset.h) compiled
 * to PCRE2 JIT code, run over one message's text views (msg.h), and the
 * "rules" pipeline stage.
 *
 * rules_compile() turns a loaded ruleset into an immutable struct rules,
 * shared read-only by every worker thread (built at startup and SIGHUP by
 * the stage's init, freed by its fini). Patterns are compiled without
 * PCRE2_UTF: like SpamAssassin 4 (which matches octets), rules see bytes,
 * so invalid UTF-8 can never make a match fail. A pattern PCRE2 refuses
 * is left out with a diagnostic ("file:line: rule NAME: PCRE2 error at
 * offset N: ..."), and counts as not hit.
 *
 * Which rules run follows SpamAssassin: a rule whose score in the
 * configured score set is 0 is disabled (never hits, metas see 0); "__"
 * sub-rules without a score line run (SpamAssassin gives them 1.0);
 * eval: rules never hit here (metas see 0) unless an earlier stage added
 * a scan hit of the same name (SPF_PASS, DKIM_VALID, ...), which is then
 * what metas see. Metas run after every other rule, in dependency order
 * (only those downstream of a rule that is set are evaluated: the others
 * keep the value they have on a message that sets nothing).
 *
 * rules_eval() runs one message: for each target text (headers, MIME
 * headers, body paragraphs, raw body lines, the full message, URIs) a
 * literal prefilter (litscan.h) is run once over the text, and PCRE2 only
 * for the rules whose required literal was seen and for rules without
 * one; results are identical to running every rule (VIGIL_RULES_NO_PREFILTER=1
 * in the environment, or rules_opts.no_prefilter, runs every rule).
 * Every match is bounded by the match limit; a rule that reaches it on a
 * message counts as not hit and is logged once per configuration.
 *
 * Thread safety: a struct rules may be used by any number of threads at
 * once; per-thread PCRE2 match data and JIT stack are created lazily and
 * freed when the thread exits.
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stage.h"

struct ruleset;
struct rs_diag;
struct scan;

extern const struct stage_ops rules_stage;

struct rules_opts {
	unsigned score_set;     /* 0..3 (0: no Bayes, no network) */
	uint32_t match_limit;   /* PCRE2 match limit per match; 0 = default */
	uint32_t depth_limit;   /* PCRE2 depth limit (interpreter only); 0 = default */
	bool no_prefilter;      /* run every regex (tests, verification) */
	bool run_all;           /* ignore scores: every rule runs (vigil rules
	                           test/hits --all) */
	const char *cache_dir;  /* compile cache (rcache.h), read while
	                           compiling only; NULL: none */
};

#define RULES_MATCH_LIMIT_DEFAULT 100000u
#define RULES_DEPTH_LIMIT_DEFAULT 5000u

/* What happens to a rule in this configuration. */
enum rules_state {
	RULES_ACTIVE,      /* compiled and run */
	RULES_DISABLED,    /* score 0 in the score set (or net/learn in set 0) */
	RULES_FAILED,      /* pattern did not compile */
	RULES_UNSUPPORTED, /* eval:, undefined, a capture template no rule
	                      sets: false unless an earlier stage hit it */
	RULES_APPROX       /* runs, but on a text vigil cannot produce yet
	                      (X-Spam-Relays-*, ...): treated as absent */
};

enum rules_diag_kind {
	RULES_DIAG_COMPILE,     /* PCRE2 refused the pattern (error) */
	RULES_DIAG_CYCLE,       /* meta rules depend on each other (error) */
	RULES_DIAG_META,        /* meta expression does not parse (error) */
	RULES_DIAG_UNKNOWN_DEP, /* meta names an unknown rule: 0 */
	RULES_DIAG_EVAL_DEP,    /* meta depends on an eval/unsupported rule */
	RULES_DIAG_APPROX,      /* header rule on a pseudo-header we lack */
	RULES_DIAG_UNSUPPORTED  /* a rule the engine cannot run (capture
	                           template no rule sets): never hits */
};

struct rules_diag {
	enum rules_diag_kind kind;
	const char *file;
	unsigned line;
	const char *rule;
	const char *message;
};

struct rules_stats {
	size_t header, mimeheader, body, rawbody, full, uri, meta, eval;
	size_t uri_detail;
	size_t active, disabled, failed, approx;
	size_t prefiltered;  /* active regex rules with a required literal */
	double compile_ms;
	bool cached;         /* patterns and prefilter data from the
	                        compile cache (rules_opts.cache_dir) */
};

/* NULL on allocation failure only (err says so). The ruleset must
 * outlive the result. */
struct rules *rules_compile(const struct ruleset *rs,
                            const struct rules_opts *opts,
                            char *err, size_t errlen);
void rules_free(struct rules *r);

const struct ruleset *rules_ruleset(const struct rules *r);
void rules_get_stats(const struct rules *r, struct rules_stats *st);
size_t rules_diag_count(const struct rules *r);
const struct rules_diag *rules_diag_at(const struct rules *r, size_t i);
/* State of ruleset_at(rules_ruleset(r), i). */
enum rules_state rules_rule_state(const struct rules *r, size_t i);
/* Rules that count toward the verdict (not "__", score != 0, active). */
size_t rules_scored_count(const struct rules *r);
/* Whether the parser's diagnostic d (every eval: rule is reported
 * unsupported, the parser not knowing saeval.c) is about an eval: rule
 * the engine runs after all. */
bool rules_diag_implemented(const struct rules *r, const struct rs_diag *d);
/* The rule files' problems as `vigil rules check` counts them: lines in
 * error (the parser's and the rules that did not compile, metas refused
 * or in cycles), warnings, and lines not implemented. */
struct rules_diag_totals {
	size_t errors, warnings, unsupported;
};
void rules_diag_totals(const struct rules *r, struct rules_diag_totals *t);

/* The built-in rule paths (the default of option "rules"): the stock
 * SpamAssassin rules, vigil's own, the operator's directory. */
#define RULES_PATH_STOCK "/usr/share/spamassassin"
#define RULES_PATH_OWN PKGDATADIR "/rules"
#define RULES_PATH_LOCAL SYSCONFDIR "/vigil/rules.d"

/* The configuration's rule paths (option "rules" of root, a cfg_t *)
 * into paths[0..max); returns how many. Built-in paths that do not
 * exist are left out (stock SpamAssassin rules or /etc/vigil/rules.d
 * need not be installed, also when "rules +=" adds to them); paths the
 * operator wrote are all kept, so a missing one is an error (the rules
 * stage refuses to start: rules_conf_missing()). */
size_t rules_conf_paths(void *root, const char **paths, size_t max);
/* Log (warning) the load diagnostics that matter to an operator: the
 * rule set's errors, and the rules that failed to compile or form a
 * cycle or a bad meta; as the rules stage does at start. */
void rules_log_diags(const struct ruleset *rs, const struct rules *r);
/* The first of paths[0..n) that cannot be read, or NULL. */
const char *rules_conf_missing(const char *const *paths, size_t n);

/* The compile cache's directory (option "rules_cache" of root), NULL
 * when there is none ("" or "off"). */
const char *rules_conf_cache_dir(void *root);

/* Profiling (benchmarks only: not thread-safe, slows matching).
 * rules_profile(r, true) starts accumulating, per rule i, the time spent
 * matching and the number of match calls; entries n .. n+5 (n =
 * ruleset_count) are the literal prefilter passes of the six targets
 * (header, mimeheader, body, rawbody, full, uri). 0, or -1 (no memory). */
struct rules_prof {
	uint64_t ns, calls;
};
int rules_profile(struct rules *r, bool on);
const struct rules_prof *rules_profile_at(const struct rules *r, size_t i);

/* ---- one message ---- */

/* A hit: every rule that hit, "__" sub-rules included. */
struct rules_hit {
	const char *name;      /* owned by the ruleset */
	double score;          /* per hit, in the score set (0 for "__") */
	unsigned count;        /* hits (tflags multiple), else 1 */
	const char *describe;  /* or NULL */
	char match[204];       /* RULES_EVAL_MATCHES: first matched text,
	                          truncated to 200 bytes ("..." added);
	                          "" for metas and exists:; NUL-terminated,
	                          but the text may hold NULs: */
	size_t match_len;      /* its length ("..." included) */
};

struct rules_result;
struct rules_result *rules_result_new(void);
void rules_result_free(struct rules_result *res);
/* Hits in rule order (the order of the rule set). */
size_t rules_result_count(const struct rules_result *res);
const struct rules_hit *rules_result_at(const struct rules_result *res,
                                        size_t i);

#define RULES_EVAL_MATCHES  0x1u /* record matched text in res */
#define RULES_EVAL_NO_SCAN  0x2u /* do not add scan hits (explaining a
                                    scan the pipeline already ran) */
#define RULES_EVAL_LAZY     0x4u /* only what the score needs: a rule no
                                    score counts (named __*, or score 0)
                                    runs only when a scored meta reads
                                    it, and res lists the scored hits
                                    alone; the score and the scored
                                    hits are the same as without */

/* Run every rule on the scan's message. Adds scan_hit() for each hit
 * whose name does not start with "__" and whose score is not 0 (score
 * times count for tflags multiple), unless RULES_EVAL_NO_SCAN. res (may
 * be NULL) is cleared and receives every hit. 0, or -1 on allocation
 * failure. */
int rules_eval(const struct rules *r, struct scan *scan,
               struct rules_result *res, unsigned flags);

/* The ruleset_load() options vigil uses: the SpamAssassin plugins whose
 * rules vigil implements (Check, MIMEHeader, ReplaceTags; SPF, DKIM and
 * DMARC through earlier stages) count as loaded. */
struct ruleset_opts;
const struct ruleset_opts *rules_ruleset_opts(void);
/* The same for a score set: local_tests_only in sets 0 and 2. */
struct ruleset_opts rules_ruleset_opts_set(unsigned score_set);

/* The stage's compiled rules, for tools holding a pipeline state. */
const struct rules *rules_stage_rules(const void *stage_state);
/* The trust path of the stage's rule files (ruleset_trustpath()), NULL
 * when stage_state is NULL (no rules stage) or they configure none: the
 * envelope guess's (envguess_fill()). */
struct trustpath;
const struct trustpath *rules_stage_trustpath(const void *stage_state);
/* The redirector patterns of the stage's rule files
 * (ruleset_redirectors()), NULL when stage_state is NULL or they have
 * none: for scan_set_uri_redirectors() before the message is parsed. */
struct uriredir;
const struct uriredir *rules_stage_redirectors(const void *stage_state);

#endif

/*
 * vigil rules — check, list and test SpamAssassin-compatible rule files.
 *
 *   vigil rules check [-c CONF] [-s SET] [PATH...]
 *   vigil rules --unsupported [-c CONF] [-s SET] [PATH...]
 *   vigil rules explain [-c CONF] [envelope flags] FILE
 *   vigil rules test [--scored] RULEFILE MESSAGE
 *   vigil rules hits [-c CONF] [-r PATH]... [-s SET] [--all] CORPUS...
 *
 * Rule paths come from the arguments (-r for hits), else from the `rules`
 * option of the configuration (vigild.conf, or the built-in default).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"
#include "corpus.h"
#include "envguess.h"
#include "fileio.h"
#include "monotime.h"
#include "pipeline.h"
#include "report.h"
#include "rules.h"
#include "ruleset.h"
#include "saeval.h"
#include "scan.h"
#include "verdict.h"
#include "vlog.h"

#define MAX_PATHS 256

static void usage(FILE *out)
{
	fprintf(out,
	  "usage: vigil rules check [-c CONF] [-s SET] [PATH...]\n"
	  "       vigil rules --unsupported [-c CONF] [-s SET] [PATH...]\n"
	  "       vigil rules explain [-c CONF] [--client-ip IP]\n"
	  "                           [--client-name NAME] [--client-auth USER]\n"
	  "                           [--helo NAME]\n"
	  "                           [--mail-from ADDR] [--rcpt ADDR]... FILE\n"
	  "       vigil rules test [--scored] RULEFILE MESSAGE\n"
	  "       vigil rules hits [-c CONF | -r PATH...] [-s SET] [--all] CORPUS...\n"
	  "Rule paths (files, or directories of *.cf files) come from the\n"
	  "arguments, else from the `rules` option of the configuration.\n"
	  "check: load, report errors with file:line and counts; exit 1 on errors.\n"
	  "--unsupported: every unsupported directive, eval rule and meta\n"
	  "  depending on one, with file:line and why.\n"
	  "explain: run the configured pipeline on FILE; each rule hit with its\n"
	  "  score and the text it matched.\n"
	  "test: only RULEFILE's rules (every rule runs, whatever its score,\n"
	  "  unless --scored) on MESSAGE; exit 0 when a rule hit, 1 when none.\n"
	  "hits: one JSON object per message: {\"source\", \"index\", \"hits\"}\n"
	  "  with every rule hit (\"__\" sub-rules included), sorted; --all runs\n"
	  "  rules whose score is 0 too.\n");
}

/* A loaded and compiled rule set with its timings. */
struct loaded {
	struct ruleset *rs;
	struct rules *rules;
	double parse_s, compile_s;
	const char *paths[MAX_PATHS];
	size_t npaths;
};

static void loaded_free(struct loaded *l)
{
	rules_free(l->rules);
	ruleset_free(l->rs);
}

static int load_rules(struct loaded *l, const struct rules_opts *o)
{
	double t0 = monotime_s();
	struct ruleset_opts ro = rules_ruleset_opts_set(o->score_set);
	l->rs = ruleset_load(l->paths, l->npaths, &ro);
	double t1 = monotime_s();
	if (l->rs == NULL) {
		fprintf(stderr, "vigil rules: out of memory\n");
		return -1;
	}
	char err[256];
	l->rules = rules_compile(l->rs, o, err, sizeof err);
	l->parse_s = t1 - t0;
	l->compile_s = monotime_s() - t1;
	if (l->rules == NULL) {
		fprintf(stderr, "vigil rules: %s\n", err);
		return -1;
	}
	return 0;
}

/* Rule paths and score set from the configuration, unless paths were
 * given. The configuration stays loaded (its strings are used); its
 * pipeline is not built, since the rules are compiled here (once). */
static struct conf *paths_from_conf(const char *conf_path, struct loaded *l,
                                    struct rules_opts *o, int score_set)
{
	char err[8192];
	struct conf *c = conf_load_settings(conf_path, err, sizeof err);
	if (c == NULL) {
		fprintf(stderr, "%s", err);
		return NULL;
	}
	cfg_t *cfg = conf_cfg(c);
	if (l->npaths == 0) {
		l->npaths = rules_conf_paths(cfg, l->paths, MAX_PATHS);
		const char *missing = rules_conf_missing(l->paths, l->npaths);
		if (missing != NULL) {
			/* as the rules stage refuses to start */
			fprintf(stderr, "%s: rules: cannot read \"%s\": %s\n",
			        c->path, missing, strerror(errno));
			conf_unref(c);
			return NULL;
		}
	}
	o->score_set = score_set >= 0 ? (unsigned)score_set :
	               (unsigned)cfg_getint(cfg, "score_set");
	o->match_limit = (uint32_t)cfg_getint(cfg, "rule_match_limit");
	o->depth_limit = (uint32_t)cfg_getint(cfg, "rule_depth_limit");
	o->cache_dir = rules_conf_cache_dir(cfg);
	return c;
}

static const char *diag_kind_word(enum rs_diag_kind k)
{
	return k == RS_DIAG_ERROR ? "error" :
	       k == RS_DIAG_UNSUPPORTED ? "unsupported" : "warning";
}

static void print_where(const char *file, unsigned line)
{
	if (file != NULL && line > 0)
		printf("%s:%u: ", file, line);
	else if (file != NULL)
		printf("%s: ", file);
}

/* ---- check ---- */

/* The eval: rule a parser diagnostic is about, or NULL. The parser
 * reports every eval: rule as unsupported, not knowing saeval.c. */
static const struct rs_rule *eval_diag_rule(const struct ruleset *rs,
                                            const struct rs_diag *d)
{
	const struct rs_rule *r = d->rule ? ruleset_find(rs, d->rule) : NULL;
	return r != NULL && r->type == RS_EVAL ? r : NULL;
}

static int do_check(struct loaded *l, const struct conf *c)
{
	char note[512];
	const char *file;
	unsigned line;
	bool unused = c != NULL && conf_required_score_unused(
		c, l->rs, note, sizeof note, &file, &line);
	if (unused) {   /* audit21 L4: scan and vigild said it, check not */
		print_where(file, line);
		printf("warning: %s\n", note);
	}
	for (size_t i = 0; i < ruleset_diag_count(l->rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(l->rs, i);
		if (d->kind == RS_DIAG_UNSUPPORTED)
			continue;
		print_where(d->file, d->line);
		printf("%s: %s\n", diag_kind_word(d->kind), d->message);
	}
	for (size_t i = 0; i < rules_diag_count(l->rules); i++) {
		const struct rules_diag *d = rules_diag_at(l->rules, i);
		if (d->kind != RULES_DIAG_COMPILE && d->kind != RULES_DIAG_CYCLE &&
		    d->kind != RULES_DIAG_META)
			continue;
		print_where(d->file, d->line);
		printf("error: %s\n", d->message);
	}
	struct rules_diag_totals t;
	rules_diag_totals(l->rules, &t);
	size_t errors = t.errors, warnings = t.warnings + unused,
	       unsupported = t.unsupported;
	struct rules_stats st;
	rules_get_stats(l->rules, &st);
	printf("%zu file%s, %zu rules loaded in %.3f s (parse %.3f s, "
	       "compile %.3f s%s)\n", ruleset_file_count(l->rs),
	       ruleset_file_count(l->rs) == 1 ? "" : "s", ruleset_count(l->rs),
	       l->parse_s + l->compile_s, l->parse_s, l->compile_s,
	       st.cached ? ", from the compile cache" : "");
	printf("  header %zu, mimeheader %zu, body %zu, rawbody %zu, full %zu, "
	       "uri %zu, meta %zu, eval/unsupported %zu", st.header,
	       st.mimeheader, st.body, st.rawbody, st.full, st.uri, st.meta,
	       st.eval);
	if (st.uri_detail > 0)
		printf(", uri_detail %zu", st.uri_detail);
	printf("\n");
	printf("  active %zu (scored %zu, literal-prefiltered %zu), off with "
	       "score 0: %zu, failed: %zu, approximated: %zu\n", st.active,
	       rules_scored_count(l->rules), st.prefiltered, st.disabled,
	       st.failed, st.approx);
	printf("  %zu error%s, %zu warning%s, %zu unsupported line%s (vigil "
	       "rules --unsupported)\n", errors, errors == 1 ? "" : "s",
	       warnings, warnings == 1 ? "" : "s", unsupported,
	       unsupported == 1 ? "" : "s");
	return errors ? 1 : 0;
}

/* ---- --unsupported ---- */

static int do_unsupported(struct loaded *l, unsigned score_set)
{
	size_t n = 0;
	for (size_t i = 0; i < ruleset_diag_count(l->rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(l->rs, i);
		/* eval: rules are listed from the engine's states below */
		if (d->kind != RS_DIAG_UNSUPPORTED || eval_diag_rule(l->rs, d))
			continue;
		print_where(d->file, d->line);
		printf("%s%s%s\n", d->rule ? d->rule : "", d->rule ? ": " : "",
		       d->message);
		n++;
	}
	for (size_t i = 0; i < ruleset_count(l->rs); i++) {
		const struct rs_rule *r = ruleset_at(l->rs, i);
		if (r->type == RS_EVAL &&
		    rules_rule_state(l->rules, i) == RULES_UNSUPPORTED) {
			print_where(r->file, r->line);
			printf("%s: eval:%s not implemented: never hits (false "
			       "in metas) unless an earlier stage adds a hit of "
			       "that name\n", r->name, r->eval ? r->eval : "");
			n++;
		} else if ((r->tflags & (RS_TF_NET | RS_TF_LEARN)) &&
		           r->score[score_set] == 0) {
			print_where(r->file, r->line);
			printf("%s: tflags %s: score 0 in score set %u, so off (as "
			       "in SpamAssassin)\n", r->name,
			       r->tflags & RS_TF_NET ? "net (network test)" :
			       "learn (Bayes)", score_set);
			n++;
		}
	}
	for (size_t i = 0; i < rules_diag_count(l->rules); i++) {
		const struct rules_diag *d = rules_diag_at(l->rules, i);
		if (d->kind != RULES_DIAG_EVAL_DEP &&
		    d->kind != RULES_DIAG_UNKNOWN_DEP &&
		    d->kind != RULES_DIAG_APPROX &&
		    d->kind != RULES_DIAG_UNSUPPORTED)
			continue;
		print_where(d->file, d->line);
		printf("%s\n", d->message);
		n++;
	}
	/* What is implemented, for tools comparing with SpamAssassin
	 * (bench/sa_compare.py). */
	printf("eval functions implemented (saeval.c):");
	for (size_t i = 0; i < saeval_function_count(); i++)
		printf(" %s", saeval_function_at(i));
	printf("\n");
	printf("plugins read in part (their ifplugin blocks load):");
	for (size_t i = 0; i < saeval_function_count(); i++) {
		const char *p = saeval_function_plugin(i);
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(saeval_function_plugin(k), p) == 0;
		if (!seen)
			printf(" %s", p);
	}
	printf("\n");
	printf("%zu unsupported or approximated item%s\n", n, n == 1 ? "" : "s");
	return 0;
}

/* ---- explain and test ---- */

static void print_hits(const struct rules_result *res)
{
	size_t n = rules_result_count(res);
	if (n == 0)
		printf("  (no rule hit)\n");
	for (size_t i = 0; i < n; i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		printf("  %7.3f  %s", h->score * h->count, h->name);
		if (h->count > 1)
			printf(" (x%u)", h->count);
		if (h->describe)
			printf("  %s", h->describe);
		printf("\n");
		if (h->match_len) {
			printf("           matched: \"");
			for (size_t k = 0; k < h->match_len; k++) {
				unsigned char ch = (unsigned char)h->match[k];
				if (ch == '\n')
					printf("\\n");
				else if (ch == '\r')
					printf("\\r");
				else if (ch == '\t')
					printf("\\t");
				else if (ch < 0x20 || ch == 0x7f)
					printf("\\x%02x", ch);
				else
					putchar(ch);
			}
			printf("\"\n");
		}
	}
}

/* The message of file, its envelope guessed with the trust of r's
 * rule files, as vigil scan guesses it. */
static struct scan *scan_file(const char *file, size_t max,
                              const struct envguess_flags *flags,
                              const struct rules *r)
{
	size_t len;
	char *raw = fileio_read(file, max, &len, NULL);
	if (raw == NULL) {
		fprintf(stderr, "vigil rules: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	struct scan *scan = scan_new();
	if (scan != NULL)
		scan_set_uri_redirectors(scan,
		                         ruleset_redirectors(rules_ruleset(r)));
	if (scan == NULL || scan_set_log_name(scan, file) != 0 ||
	    scan_set_raw(scan, raw, len) != 0 ||
	    envguess_fill(scan, flags,
	                  ruleset_trustpath(rules_ruleset(r))) != 0) {
		fprintf(stderr, "vigil rules: %s: out of memory\n", file);
		scan_free(scan);
		scan = NULL;
	}
	free(raw);
	return scan;
}

static int do_explain(const char *conf_path, const char *file,
                      const struct envguess_flags *flags)
{
	struct conf *c = cmd_load_conf(conf_path);
	if (c == NULL)
		return 2;
	const struct rules *r = rules_stage_rules(
		pipeline_stage_state(c->pipeline, "rules"));
	if (r == NULL) {
		fprintf(stderr, "vigil rules explain: the rules stage is not "
		        "enabled in the configuration\n");
		conf_unref(c);
		return 2;
	}
	struct scan *scan = scan_file(file, c->max_message_size, flags, r);
	struct rules_result *res = rules_result_new();
	int rc = 2;
	if (scan != NULL && res != NULL) {
		scan_set_deadline_ms(scan, (uint64_t)c->message_timeout_s * 1000u);
		const char *failed = NULL;
		pipeline_run(c->pipeline, scan, &failed);
		if (rules_eval(r, scan, res, RULES_EVAL_MATCHES |
		               RULES_EVAL_NO_SCAN) == 0) {
			printf("Message: %s\nRule hits (score each, x count):\n", file);
			print_hits(res);
			printf("Score: %.2f (all stages)\n", scan_score(scan));
			if (failed)
				printf("Stage %s failed: the fail action applies\n", failed);
			rc = 0;
		}
	}
	rules_result_free(res);
	scan_free(scan);
	conf_unref(c);
	return rc;
}

static int do_test(const char *rulefile, const char *msgfile, bool scored)
{
	struct loaded l = { .npaths = 1 };
	l.paths[0] = rulefile;
	struct rules_opts o = { .run_all = !scored };
	if (load_rules(&l, &o) != 0) {
		loaded_free(&l);
		return 2;
	}
	for (size_t i = 0; i < ruleset_diag_count(l.rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(l.rs, i);
		if (rules_diag_implemented(l.rules, d))
			continue;
		print_where(d->file, d->line);
		printf("%s: %s\n", diag_kind_word(d->kind), d->message);
	}
	for (size_t i = 0; i < rules_diag_count(l.rules); i++) {
		const struct rules_diag *d = rules_diag_at(l.rules, i);
		print_where(d->file, d->line);
		printf("%s\n", d->message);
	}
	struct envguess_flags flags = { 0 };
	struct scan *scan = scan_file(msgfile, CORPUS_MAX_MSG_DEFAULT, &flags,
	                               l.rules);
	struct rules_result *res = rules_result_new();
	int rc = 2;
	if (scan != NULL && res != NULL &&
	    rules_eval(l.rules, scan, res, RULES_EVAL_MATCHES) == 0) {
		printf("%s on %s (%zu rules):\n", rulefile, msgfile,
		       ruleset_count(l.rs));
		print_hits(res);
		rc = rules_result_count(res) > 0 ? 0 : 1;
	}
	rules_result_free(res);
	scan_free(scan);
	loaded_free(&l);
	return rc;
}

/* ---- hits ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_hits_json(const struct corpus_msg *m,
                            const struct rules_result *res)
{
	size_t n = res ? rules_result_count(res) : 0;
	const char **names = calloc(n ? n : 1, sizeof *names);
	printf("{\"source\":");
	report_json_string(stdout, m->source, strlen(m->source));
	printf(",\"index\":%zu,\"hits\":[", m->index);
	if (names != NULL) {
		for (size_t i = 0; i < n; i++)
			names[i] = rules_result_at(res, i)->name;
		qsort(names, n, sizeof *names, cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (i)
				putchar(',');
			report_json_string(stdout, names[i], strlen(names[i]));
		}
	}
	printf("]");
	if (m->error != NULL) {
		printf(",\"error\":");
		report_json_string(stdout, m->error, strlen(m->error));
	}
	printf("}\n");
	free(names);
}

static int do_hits(struct loaded *l, char **corpus, size_t ncorpus)
{
	struct corpus *cp = corpus_open((const char *const *)corpus, ncorpus, 0);
	struct rules_result *res = rules_result_new();
	if (cp == NULL || res == NULL) {
		fprintf(stderr, "vigil rules hits: out of memory\n");
		corpus_close(cp);
		rules_result_free(res);
		return 2;
	}
	struct corpus_msg m = { 0 };
	int rc = 0;
	while (corpus_next(cp, &m) == 1) {
		struct scan *scan = NULL;
		bool ok = false;
		if (m.error == NULL) {
			struct envguess_flags flags = { 0 };
			char *name = corpus_msg_name(&m);   /* for a PCRE2 limit */
			scan = scan_new();
			const struct trustpath *t = ruleset_trustpath(l->rs);
			if (scan != NULL)
				scan_set_uri_redirectors(scan,
				                         ruleset_redirectors(l->rs));
			ok = scan != NULL && name != NULL &&
			     scan_set_log_name(scan, name) == 0 &&
			     scan_set_raw(scan, m.data, m.len) == 0 &&
			     envguess_fill(scan, &flags, t) == 0 &&
			     rules_eval(l->rules, scan, res, RULES_EVAL_NO_SCAN) == 0;
			free(name);
		}
		if (!ok && m.error == NULL) {
			m.error = strdup("out of memory");
			rc = 2;
		}
		print_hits_json(&m, ok ? res : NULL);
		scan_free(scan);
		corpus_msg_clear(&m);
	}
	corpus_close(cp);
	rules_result_free(res);
	return rc;
}

/* ---- main ---- */

int cmd_rules(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	bool is_unsup = strcmp(sub, "--unsupported") == 0 ||
	                strcmp(sub, "unsupported") == 0;
	if (!is_unsup && strcmp(sub, "check") && strcmp(sub, "explain") &&
	    strcmp(sub, "test") && strcmp(sub, "hits")) {
		fprintf(stderr, "vigil rules: unknown subcommand \"%s\"\n", sub);
		usage(stderr);
		return 2;
	}
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'r' },
		{ "score-set", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "scored", no_argument, NULL, 'S' },
		/* 'e': the envelope flags, envguess_arg() by name */
		{ "client-ip", required_argument, NULL, 'e' },
		{ "client-name", required_argument, NULL, 'e' },
		{ "client-auth", required_argument, NULL, 'e' },
		{ "helo", required_argument, NULL, 'e' },
		{ "mail-from", required_argument, NULL, 'e' },
		{ "rcpt", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	struct envguess_args env = { 0 };
	struct loaded l = { 0 };
	int score_set = -1;
	bool all = false, scored = false;
	int o, li = 0;
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "c:r:s:h", opts, &li)) != -1) {
		switch (o) {
		case 'c': conf_path = optarg; break;
		case 'r':
			if (l.npaths == MAX_PATHS) {
				fprintf(stderr, "vigil rules: too many rule paths\n");
				return 2;
			}
			l.paths[l.npaths++] = optarg;
			break;
		case 's':
			if (optarg[0] < '0' || optarg[0] > '3' || optarg[1] != '\0') {
				fprintf(stderr, "vigil rules: score set is 0..3\n");
				return 2;
			}
			score_set = optarg[0] - '0';
			break;
		case 'a': all = true; break;
		case 'S': scored = true; break;
		case 'e': {
			char name[32];
			snprintf(name, sizeof name, "--%s", opts[li].name);
			if (envguess_arg(&env, "vigil rules", name, optarg) < 0)
				return 2;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	char **rest = argv + 1 + optind;
	size_t nrest = (size_t)(argc - 1 - optind);

	if (strcmp(sub, "test") == 0) {
		if (nrest != 2) {
			usage(stderr);
			return 2;
		}
		return do_test(rest[0], rest[1], scored);
	}
	if (strcmp(sub, "explain") == 0) {
		if (nrest != 1) {
			usage(stderr);
			return 2;
		}
		return do_explain(conf_path, rest[0], &env.flags);
	}
	bool hits = strcmp(sub, "hits") == 0;
	if (hits && nrest == 0) {
		usage(stderr);
		return 2;
	}
	if (!hits)
		for (size_t i = 0; i < nrest && l.npaths < MAX_PATHS; i++)
			l.paths[l.npaths++] = rest[i];
	struct rules_opts ro = { .run_all = all };
	struct conf *c = NULL;
	if (l.npaths == 0 || conf_path != NULL) {
		c = paths_from_conf(conf_path, &l, &ro, score_set);
		if (c == NULL)
			return 2;
	} else if (score_set >= 0) {
		ro.score_set = (unsigned)score_set;
	}
	int rc = 2;
	if (load_rules(&l, &ro) == 0) {
		if (hits) {
			/* check and --unsupported print them themselves */
			rules_log_diags(l.rs, l.rules);
			rc = do_hits(&l, rest, nrest);
		}
		else if (is_unsup)
			rc = do_unsupported(&l, ro.score_set);
		else
			rc = do_check(&l, c);
	}
	loaded_free(&l);
	if (c != NULL)
		conf_unref(c);
	return rc;
}

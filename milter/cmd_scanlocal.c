/*
 * vigil scan (in-process): the pipeline of vigild, with its configuration,
 * over mbox files, maildirs, directories and files, on N threads. Output
 * per message (text, jsonl, csv), a summary, and with labels an
 * evaluation (evalrep) as text and optionally HTML.
 *
 * Called by cmd_scan() when --milter is not given.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "buildid.h"
#include "cmd.h"
#include "conf.h"
#include "config.h"
#include "corpus.h"
#include "evalrep.h"
#include "interrupt.h"
#include "labels.h"
#include "localscan.h"
#include "monotime.h"
#include "msg.h"
#include "pfor.h"
#include "pipeline.h"
#include "progress.h"
#include "report.h"
#include "rules.h"
#include "ruleset.h"
#include "scan.h"
#include "verdict.h"

#define MAX_JOBS 1024
#define HEAD_ALLOWANCE ((size_t)1 << 20)  /* header bytes on top of the body */



struct run {
	enum report_format format;
	struct labels *labels;
	struct corpus *corpus;
	struct eval *eval;
	size_t messages, errors;
	size_t failed;            /* scans cut short: fail action applied */
	size_t dns_failed;        /* messages with a DNS temperror */
	size_t truncated;         /* past max_message_size: head scanned */
	size_t max_body;          /* the configuration's max_message_size */
	size_t per_action[CONF_ACT_COUNT];
	struct report_lat lat;    /* latencies of messages scanned */
	struct progress *bar;     /* stderr is a terminal; else NULL */
	bool out_tty;             /* stdout on the terminal too */
	double started;
	uint64_t done_bytes;
	struct eval_limit *limits;  /* rules that reached a PCRE2 limit */
	size_t limit_count, limit_cap;
};

/* A message in flight: the corpus's, and its name for log lines. */
struct item {
	struct corpus_msg cm;
	char *name;
};

static void usage(FILE *out)
{
	fprintf(out,
	"usage: vigil scan [-c FILE] [--jobs N] [--format text|jsonl|csv]\n"
	"                  [--label spam|ham] PATH... [--labels FILE]\n"
	"                  [--report FILE.html]\n"
	"                  [--client-ip IP [--client-name NAME] [--client-auth USER]]\n"
	"                  [--helo NAME] [--mail-from ADDR] [--rcpt ADDR]...\n"
	"                  [--] PATH...\n"
	"       vigil scan --milter SOCKET ... (see vigil scan --milter --help)\n"
	"PATH: mbox file, maildir, directory of messages, message file, or -.\n"
	"--label applies to the paths after it; --labels FILE has lines\n"
	"\"PATH LABEL\" (or \"LABEL PATH\", or CSV) labelling the messages of PATH\n"
	"(a file or a directory); without PATH arguments those PATHs are\n"
	"scanned. With labels, an evaluation report ends the run.\n"
	"--jobs N (-j N, or --milter's name --concurrency N): N threads,\n"
	"default all cores.\n");
}

/* ---- output ---- */

static void json_str(FILE *out, const char *s)
{
	report_json_string(out, s ? s : "", s ? strlen(s) : 0);
}

static void csv_str(FILE *out, const char *s)
{
	report_csv_string(out, s ? s : "", s ? strlen(s) : 0);
}

/* A number JSON can hold: non-finite values (never expected) as null. */
static void json_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.3f", v);
	else
		fputs("null", out);
}

static void csv_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.3f", v);
}

/* The Message-ID header's value (unfolded), or NULL: also for an empty
 * or blank one, which identifies nothing either. */
static const struct msg_text *message_id(struct scan *scan)
{
	const struct msg *m = scan ? scan_msg(scan) : NULL;
	const struct msg_header *h = m ? msg_header_get(m, "Message-ID", 0) : NULL;
	for (size_t i = 0; h != NULL && i < h->value.len; i++)
		if (!isspace((unsigned char)h->value.ptr[i]))
			return &h->value;
	return NULL;
}

/* Text output: control and invisible format characters as '?', as in
 * the milter's table. */
static void text_str(FILE *out, const char *s)
{
	report_text_put(out, s ? s : "");
}

static const char *result_or(const struct scan *scan, const char *key)
{
	const char *v = scan ? scan_result_get(scan, key) : NULL;
	return v ? v : "none";
}

/* The recipients the verdict dropped (their own policy refuses the
 * message, the others get it: vigild removes them), in a list format of
 * report.h. */
static void put_dropped(FILE *out, const struct scan *scan,
                        const struct verdict *v,
                        void (*put)(FILE *, const char *const *,
                                    const bool *, size_t))
{
	const struct scan_env *env = scan_env(scan);
	put(out, env->rcpts, v->drop_rcpt, v->drop_rcpt ? env->rcpt_count : 0);
}

/* Every line has every key; a message that could not be scanned has
 * "action":"error", its reason in "error", null score, message_id and
 * auth, no hits, no dropped recipients. */
static void print_jsonl(FILE *out, const struct corpus_msg *cm,
                        struct scan *scan, const struct verdict *v,
                        double ms)
{
	fprintf(out, "{\"source\":");
	json_str(out, cm->source);
	fprintf(out, ",\"index\":%zu", cm->index);
	if (scan == NULL) {
		fprintf(out, ",\"message_id\":null,\"score\":null,\"action\":\"error\","
		       "\"dropped_rcpts\":[],\"hits\":[],\"auth\":null,\"ms\":");
		json_num(out, ms);
		fprintf(out, ",\"error\":");
		json_str(out, cm->error ? cm->error : "scan failed");
		fprintf(out, "}\n");
		return;
	}
	const struct msg_text *mid = message_id(scan);
	fprintf(out, ",\"message_id\":");
	if (mid)
		report_json_string(out, mid->ptr, mid->len);
	else
		fprintf(out, "null");
	fprintf(out, ",\"score\":");
	json_num(out, scan_score(scan));
	fprintf(out, ",\"action\":\"%s\",\"dropped_rcpts\":",
	       conf_action_name(v->action));
	put_dropped(out, scan, v, report_json_strings);
	fprintf(out, ",\"hits\":[");
	for (size_t i = 0; i < scan_hit_count(scan); i++) {
		const struct scan_hit_info *h = scan_hit_at(scan, i);
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, h->name);
		fprintf(out, ",\"score\":");
		json_num(out, h->score);
		fprintf(out, "}");
	}
	fprintf(out, "],\"auth\":{\"spf\":");
	json_str(out, result_or(scan, "spf"));
	fprintf(out, ",\"dkim\":");
	json_str(out, result_or(scan, "dkim"));
	fprintf(out, ",\"dmarc\":");
	json_str(out, result_or(scan, "dmarc"));
	fprintf(out, "},\"ms\":");
	json_num(out, ms);
	fprintf(out, ",\"error\":null%s}\n", v->failed ? ",\"failed\":true" : "");
}

static void print_csv(FILE *out, const struct corpus_msg *cm,
                      struct scan *scan, const struct verdict *v, double ms)
{
	csv_str(out, cm->source);
	fprintf(out, ",%zu,", cm->index);
	if (scan == NULL) {
		fprintf(out, ",,error,,,,,");
		csv_num(out, ms);
		fprintf(out, ",");
		csv_str(out, cm->error ? cm->error : "scan failed");
		fprintf(out, ",\n");
		return;
	}
	const struct msg_text *mid = message_id(scan);
	if (mid)
		report_csv_string(out, mid->ptr, mid->len);
	fprintf(out, ",");
	csv_num(out, scan_score(scan));
	fprintf(out, ",%s,\"", conf_action_name(v->action));
	for (size_t i = 0; i < scan_hit_count(scan); i++)
		fprintf(out, "%s%s", i ? " " : "", scan_hit_at(scan, i)->name);
	fprintf(out, "\",");
	csv_str(out, result_or(scan, "spf"));
	fprintf(out, ",");
	csv_str(out, result_or(scan, "dkim"));
	fprintf(out, ",");
	csv_str(out, result_or(scan, "dmarc"));
	fprintf(out, ",");
	csv_num(out, ms);
	/* the error column says what JSON lines' "failed" says */
	fprintf(out, ",%s,", v->failed ? "scan failed: fail action applied" : "");
	put_dropped(out, scan, v, report_csv_strings);
	fprintf(out, "\n");
}

static void print_text(FILE *out, const struct corpus_msg *cm,
                       struct scan *scan, const struct verdict *v)
{
	text_str(out, cm->source);
	size_t cols = report_text_width(cm->source);
	int pad = cols < 40 ? 40 - (int)cols : 0;
	if (scan == NULL) {
		fprintf(out, "%*s %6zu  ERROR  ", pad, "", cm->index);
		text_str(out, cm->error ? cm->error : "scan failed");
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "%*s %6zu  %-10s %8.2f ", pad, "", cm->index,
	       conf_action_name(v->action), scan_score(scan));
	for (size_t i = 0; i < scan_hit_count(scan); i++)
		fprintf(out, "%s%s", i ? "," : "", scan_hit_at(scan, i)->name);
	if (v->drop_count) {
		const struct scan_env *env = scan_env(scan);
		fputs(" [dropped:", out);
		for (size_t i = 0; i < env->rcpt_count; i++) {
			if (v->drop_rcpt[i]) {
				fputc(' ', out);
				text_str(out, env->rcpts[i]);
			}
		}
		fputc(']', out);
	}
	fprintf(out, "%s\n", v->failed ? " [scan failed: fail action]" : "");
}

/* ---- producer / consumer ---- */

/* Count the message for each rule that reached a PCRE2 limit on it; the
 * first message's name kept (in input order: done() runs in it). */
static void count_limits(struct run *r, const struct scan *scan,
                         const struct item *m)
{
	for (size_t i = 0; i < scan_limit_count(scan); i++) {
		const char *rule = scan_limit_at(scan, i);
		size_t k = 0;
		while (k < r->limit_count && strcmp(r->limits[k].rule, rule) != 0)
			k++;
		if (k == r->limit_count) {
			if (k == r->limit_cap) {
				size_t cap = k ? 2 * k : 8;
				void *p = realloc(r->limits, cap * sizeof *r->limits);
				if (p == NULL)
					return;   /* memory: left uncounted */
				r->limits = p;
				r->limit_cap = cap;
			}
			char *name = strdup(rule), *first = m->name ? strdup(m->name)
			                                            : NULL;
			if (name == NULL) {
				free(first);
				return;
			}
			r->limits[r->limit_count++] =
				(struct eval_limit){ name, 0, first };
		}
		r->limits[k].messages++;
	}
}

/* One line per rule that reached a PCRE2 limit, on stderr. */
static void print_limits(const struct run *r)
{
	for (size_t i = 0; i < r->limit_count; i++) {
		const struct eval_limit *l = &r->limits[i];
		fprintf(stderr, "vigil scan: rule %s reached a PCRE2 limit on %zu "
		        "message%s, counted as not hit (first: %s)\n", l->rule,
		        l->messages, l->messages == 1 ? "" : "s",
		        l->first ? l->first : "?");
	}
}

static int next_msg(void *arg, struct localscan_item *it)
{
	struct run *r = arg;
	/* interrupted, or the output gone (a closed pipe with SIGPIPE
	 * ignored, a full disk): no new message, those in flight end */
	if (interrupt_signal() != 0 || ferror(stdout))
		return 0;
	struct item *m = calloc(1, sizeof *m);
	if (m == NULL || corpus_next(r->corpus, &m->cm) != 1) {
		free(m);
		return 0;
	}
	struct corpus_msg *cm = &m->cm;
	it->tag = m;
	it->raw = cm->data;	/* the runner frees it */
	it->len = cm->len;
	it->size = cm->size;
	cm->data = NULL;
	it->error = cm->error;
	it->name = m->name = corpus_msg_name(cm);   /* NULL: none, no harm */
	return 1;
}

static void notice(void *arg, const char *path, const char *what)
{
	struct run *r = arg;
	progress_clear(r->bar);
	report_corpus_notice(stderr, path, what);
}

/* Did a stage that asks DNS get no answer for the message (a temperror:
 * no DNS, or its timeout or budget reached)? */
static bool dns_failed(const struct scan *scan)
{
	static const char *const stages[] = { "spf", "dkim", "dmarc" };
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		const char *v = scan_result_get(scan, stages[i]);
		if (v != NULL && strcmp(v, "temperror") == 0)
			return true;
	}
	return false;
}

/* A message past max_message_size is scanned as vigild scans it (the
 * body up to that size, VIGIL_TRUNCATED): said on stderr and counted,
 * since its verdict rests on part of it. */
static void note_truncated(struct run *r, const struct corpus_msg *cm)
{
	r->truncated++;
	progress_clear(r->bar);
	report_path_notice(stderr, cm->source, "message %zu at byte %llu: "
	                   "%s%llu bytes, larger than max_message_size (%zu): "
	                   "only its head scanned", cm->index,
	                   (unsigned long long)cm->offset,
	                   cm->size_unknown ? "at least " : "",
	                   (unsigned long long)cm->size, r->max_body);
}

static void done_msg(void *arg, const struct localscan_item *it,
                     struct scan *scan, const struct verdict *v, double ms)
{
	struct run *r = arg;
	struct item *m = it->tag;
	struct corpus_msg *cm = &m->cm;
	if (it->error && cm->error == NULL)
		cm->error = strdup(it->error);
	enum eval_label label = labels_take(r->labels, cm->arg, cm->source);
	r->messages++;
	r->done_bytes += cm->read_bytes;
	if (scan == NULL || v == NULL) {
		r->errors++;
		eval_add_error(r->eval, label);
		progress_clear(r->bar);
		const char *why = cm->error ? cm->error : "scan failed";
		if (cm->whole)
			report_path_notice(stderr, cm->source, "%s", why);
		else
			report_path_notice(stderr, cm->source, "message %zu at byte "
			                   "%llu: %s", cm->index,
			                   (unsigned long long)cm->offset, why);
	} else {
		r->per_action[v->action]++;
		r->failed += v->failed;
		r->dns_failed += dns_failed(scan);
		const char *names[512];
		double scores[512];
		size_t n = scan_hit_count(scan) < 512 ? scan_hit_count(scan) : 512;
		for (size_t i = 0; i < n; i++) {
			names[i] = scan_hit_at(scan, i)->name;
			scores[i] = scan_hit_at(scan, i)->score;
		}
		/* NaN (never expected) below every threshold, as eval_add() */
		double score = isnan(scan_score(scan)) ? -INFINITY : scan_score(scan);
		if (v->action == CONF_ACT_TEMPFAIL) {
			eval_add_deferred(r->eval, label);   /* as --milter must */
		} else {
			eval_add_scored(r->eval, label, v->action != CONF_ACT_ACCEPT,
			                score, names, scores, n);
		}
		report_lat_add(&r->lat, ms);
		count_limits(r, scan, m);
		if (scan_truncated(scan))
			note_truncated(r, cm);
	}
	if (r->out_tty)
		progress_clear(r->bar);   /* the row on a line of its own */
	/* the row reaches stdout whole (report_record_begin()) */
	struct report_record rec;
	FILE *out = report_record_begin(&rec, stdout);
	switch (r->format) {
	case REPORT_JSONL: print_jsonl(out, cm, scan, v, ms); break;
	case REPORT_CSV: print_csv(out, cm, scan, v, ms); break;
	default: print_text(out, cm, scan, v); break;
	}
	report_record_end(&rec);
	cmd_stdout_check();
	corpus_msg_clear(cm);
	free(m->name);
	free(m);
	progress_update(r->bar, r->messages, r->errors, r->done_bytes);
}

/* ---- set-up ---- */

/* partial: why the run stopped early, or NULL. */
static void summary(struct run *r, FILE *out, double seconds,
                    const char *partial)
{
	const char *names[CONF_ACT_COUNT];
	for (int a = 0; a < CONF_ACT_COUNT; a++)
		names[a] = conf_action_name(a);
	char note[384] = "";
	size_t at = 0;
	if (r->failed)
		at = (size_t)snprintf(note, sizeof note, "; %zu scans failed or "
		                      "timed out (fail action applied)", r->failed);
	if (r->dns_failed && at < sizeof note)
		at += (size_t)snprintf(note + at, sizeof note - at, "; %zu with a "
		                       "DNS temperror (spf, dkim or dmarc: no "
		                       "answer in time)", r->dns_failed);
	if (r->truncated && at < sizeof note)
		at += (size_t)snprintf(note + at, sizeof note - at, "; %zu larger "
		                       "than max_message_size (head scanned)",
		                       r->truncated);
	if (partial && at < sizeof note)
		snprintf(note + at, sizeof note - at, "; %s", partial);
	struct report_totals t = { r->messages, r->errors, seconds, names,
	                           r->per_action, CONF_ACT_COUNT, note, &r->lat };
	report_totals_print(out, &t);
}

struct opts {
	const char *conf, *report;
	unsigned jobs;
	struct envguess_args env;
};

static int parse_jobs(const char *val, struct opts *o)
{
	char *end;
	errno = 0;
	unsigned long j = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || j > MAX_JOBS) {
		fprintf(stderr, "vigil scan: --jobs %s: a number from 0 "
		        "(all cores) to %d\n", val, MAX_JOBS);
		return -1;
	}
	if (j > 0)
		o->jobs = (unsigned)j;
	return 0;
}

/* One option with its value. 0, or -1 (reported). */
static int option(const char *a, const char *val, struct run *r,
                  struct opts *o)
{
	int lo;
	if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
		o->conf = val;
	else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0 ||
	         strcmp(a, "--concurrency") == 0)   /* --milter's name */
		return parse_jobs(val, o);
	else if (strcmp(a, "--format") == 0)
		return report_format_parse(val, &r->format);
	else if (strcmp(a, "--report") == 0)
		o->report = val;
	else if ((lo = labels_option(r->labels, a, val)) != 0 ||
	         (lo = envguess_arg(&o->env, "vigil scan", a, val)) != 0)
		return lo < 0 ? -1 : 0;
	else {
		fprintf(stderr, "vigil scan: unknown option %s\n", a);
		return -1;
	}
	return 0;
}

/* Options ("--name value", "--name=value", "-c value") may stand between
 * paths (--label applies to what follows). 0, 1 --help, -1 a usage
 * error (reported). */
static int parse_args(int argc, char **argv, struct run *r, struct opts *o)
{
	bool only_paths = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_paths && strcmp(a, "--") == 0) {
			only_paths = true;
			continue;
		}
		if (!only_paths && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0))
			return 1;
		if (only_paths || a[0] != '-' || strcmp(a, "-") == 0) {
			if (labels_add_path(r->labels, a) != 0)
				return -1;
			continue;
		}
		char name[64];
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		const char *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		snprintf(name, sizeof name, "%.*s",
		         (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		if (val == NULL) {
			fprintf(stderr, "vigil scan: %s needs a value\n", a);
			return -1;
		}
		if (option(name, val, r, o) != 0)
			return -1;
	}
	if (labels_ready(r->labels) != 0)
		return -1;
	if (labels_path_count(r->labels) == 0) {
		fprintf(stderr, "vigil scan: no PATH given\n");
		return -1;
	}
	return 0;
}

static void free_run(struct run *r)
{
	labels_free(r->labels);
	eval_free(r->eval);
	progress_free(r->bar);
	if (r->corpus)
		corpus_close(r->corpus);
	for (size_t i = 0; i < r->limit_count; i++) {
		free((char *)r->limits[i].rule);
		free((char *)r->limits[i].first);
	}
	free(r->limits);
}

/* The per-domain policies' names (NULL when there are none). */
static const char **domain_names(const struct conf *c)
{
	const char **d = c->domain_count ? calloc(c->domain_count, sizeof *d)
	                                 : NULL;
	for (size_t i = 0; d != NULL && i < c->domain_count; i++)
		d[i] = c->domains[i].domain;
	return d;
}

/* The evaluation (text, and HTML with --report). 0, or -1. */
static int evaluation(struct run *r, const struct conf *c,
                      const struct opts *o, struct eval_meta *m, FILE *out)
{
	/* what determines verdicts besides the version: the configuration
	 * file's bytes as they were read (or the built-in defaults) and the
	 * rule files' */
	char rules_hash[65];
	bool defaults = c->path == NULL ||
	                strcmp(c->path, "(built-in defaults)") == 0;
	/* rules loaded by the rules stage, when it runs */
	const struct rules *rules = rules_stage_rules(
		pipeline_stage_state(c->pipeline, "rules"));
	const struct ruleset *rs = rules ? rules_ruleset(rules) : NULL;
	if (rs != NULL)
		ruleset_digest(rs, rules_hash);
	m->config_path = defaults ? NULL : c->path;
	m->config_hash = defaults ? NULL : c->sha256;
	/* what the configuration include()s is configuration too */
	const char **inc_hashes = calloc(c->include_count + 1,
	                                 sizeof *inc_hashes);
	for (size_t i = 0; inc_hashes && i < c->include_count; i++)
		inc_hashes[i] = c->include_sha256[i];
	m->includes = (const char *const *)c->includes;
	m->include_hashes = inc_hashes;
	m->include_count = inc_hashes ? c->include_count : 0;
	m->rule_count = rs ? ruleset_count(rs) : 0;
	if (rules != NULL) {
		struct rules_diag_totals t;
		rules_diag_totals(rules, &t);
		m->rule_errors = t.errors;
		m->rule_unsupported = t.unsupported;
	}
	m->jobs = o->jobs;
	m->rules_hash = rs ? rules_hash : NULL;
	m->rule_files = rs ? ruleset_file_count(rs) : 0;
	const char **domains = domain_names(c);
	m->domains = domains;
	m->domain_count = domains ? c->domain_count : 0;
	m->limits = r->limits;
	m->limit_count = r->limit_count;
	char dns[64];
	m->dns_stages = pipeline_dns_stages(c->pipeline, dns, sizeof dns);
	int rc = labels_meta(r->labels, m);
	if (rc == 0) {
		fprintf(out, "\n");
		rc = eval_report(r->eval, m, out, o->report);
	}
	free(domains);
	free(inc_hashes);
	return rc;
}

/* The summary, and with labels or --report the evaluation. 0, or -1 when
 * the HTML report could not be written. */
static int report(struct run *r, const struct conf *c, const struct opts *o,
                  struct eval_meta *m)
{
	FILE *out = r->format == REPORT_TEXT ? stdout : stderr;
	summary(r, out, m->seconds, m->partial);
	print_limits(r);
	labels_unmatched(r->labels, stderr);
	if (!labels_any(r->labels) && o->report == NULL)
		return 0;
	return evaluation(r, c, o, m, out);
}

/* The score from which a message is flagged: the lowest threshold of an
 * action other than accept (add_header may be off) and tempfail (no
 * verdict, done_msg()). */
static double flag_threshold(const struct conf *c)
{
	double t = INFINITY;
	for (int a = 0; a < CONF_ACT_COUNT; a++)
		if (a != CONF_ACT_ACCEPT && a != CONF_ACT_TEMPFAIL &&
		    c->policy.threshold[a] < t)
			t = c->policy.threshold[a];
	return t;
}

/* Set up r for a run over o's paths with c. 0, or 2 (reported). */
static int setup(struct run *r, const struct conf *c)
{
	/* flagged: the action the pipeline took, whatever threshold (a
	 * recipient domain's own) or stage (an SPF reject) decided it */
	r->eval = eval_new_actions(flag_threshold(c));
	const char *const *names = labels_paths(r->labels);
	size_t npaths = labels_path_count(r->labels);
	/* vigild scans the body up to max_message_size whatever the header
	 * size: read that much more, the rest only counted */
	size_t max = c->max_message_size;
	r->max_body = max;
	max = max < SIZE_MAX - HEAD_ALLOWANCE ? max + HEAD_ALLOWANCE : max;
	r->corpus = corpus_open(names, npaths, max);
	if (r->corpus) {
		corpus_keep_head(r->corpus);
		corpus_stop_when(r->corpus, interrupt_signal,
		                 interrupt_wake_fd());
		corpus_on_notice(r->corpus, notice, r);
	}
	if (r->eval == NULL || r->corpus == NULL) {
		fprintf(stderr, "vigil scan: out of memory\n");
		return 2;
	}
	if (isatty(STDERR_FILENO)) {
		r->bar = progress_new(stderr, corpus_bytes(names, npaths));
		r->out_tty = isatty(STDOUT_FILENO);
	}
	return 0;
}

struct scan_job {
	struct conf *c;
	struct opts *o;
	struct run *r;
	int rc;
};

static void scan_all(void *arg)
{
	struct scan_job *j = arg;
	struct localscan_ops ops = { next_msg, done_msg, j->r };
	j->rc = localscan_run(j->c, j->o->jobs, &j->o->env.flags, &ops);
}

/* Scan, print the summary and the evaluation. The exit status. */
static int run_scan(struct run *r, struct conf *c, struct opts *o,
                    struct eval_meta *m)
{
	report_whole_records(stdout, r->format);
	if (r->format == REPORT_CSV)
		printf("source,index,message_id,score,action,hits,spf,dkim,dmarc,ms,"
		       "error,dropped_rcpts\n");
	cmd_stdout_check();   /* failed: no message is taken (next_msg()) */
	r->started = monotime_s();
	struct scan_job job = { c, o, r, 0 };
	/* a first SIGINT/SIGTERM ends the reading (next_msg), the messages
	 * in flight are finished and everything is reported */
	bool caught = interrupt_install() == 0;
	interrupt_run(scan_all, &job);
	m->seconds = monotime_s() - r->started;
	progress_free(r->bar);
	r->bar = NULL;
	fflush(stdout);
	int sig = caught ? interrupt_signal() : 0;
	char why[160];
	/* a signal, or the output gone (next_msg()): reading stopped */
	if (sig)
		m->partial = interrupt_describe(sig, r->messages, why, sizeof why);
	else
		m->partial = cmd_stdout_stopped(r->messages, why, sizeof why);
	if (m->partial)
		fprintf(stderr, "vigil scan: %s; the figures below cover those "
		        "only\n", m->partial);
	int status = r->errors ? 1 : 0;
	if (job.rc != 0) {
		fprintf(stderr, "vigil scan: cannot start %u threads\n", o->jobs);
		status = 2;
	} else if (report(r, c, o, m) != 0) {
		status = 2;
	}
	if (cmd_stdout_status("scan") != 0)   /* e.g. a full disk */
		status = 2;
	return sig ? interrupt_status(sig) : status;
}

int scanlocal_main(int argc, char **argv)
{
	struct run r = { .labels = labels_new() };
	struct opts o = { 0 };
	o.jobs = pfor_cpus();
	char started[32];
	report_utc_now(started, sizeof started);
	int pa = r.labels ? parse_args(argc, argv, &r, &o) : -1;
	if (pa == 0 && o.report != NULL && eval_report_writable(o.report) != 0) {
		fprintf(stderr, "vigil scan: --report %s: %s\n", o.report,
		        strerror(errno));
		pa = -2;   /* not a usage error: no pointer to --help */
	}
	if (pa != 0) {
		if (pa > 0)
			usage(stdout);
		else if (pa == -1)
			fprintf(stderr, "see vigil scan --help\n");
		free_run(&r);
		return pa > 0 ? 0 : 2;
	}
	struct conf *c = cmd_load_conf(o.conf);
	if (c == NULL) {
		free_run(&r);
		return 2;
	}
	if (cmd_report_spares(o.report, c->path, r.labels) != 0) {
		conf_unref(c);
		free_run(&r);
		return 2;
	}
	char *command = report_command_line("vigil", argc, argv);
	struct eval_meta m = { .version = VIGIL_VERSION, .started = started,
	                       .command = command, .envelope = &o.env.flags };
	int status = setup(&r, c);
	if (status == 0)
		status = run_scan(&r, c, &o, &m);
	free(command);
	conf_unref(c);
	free_run(&r);
	return status;
}

/*
 * vigil scan (in-process): the pipeline of vigild, with its configuration,
 * over mbox files, maildirs, directories and files, on N threads. Output
 * per message (text, jsonl, csv), a summary, and with labels an
 * evaluation (evalrep) as text and optionally HTML.
 *
 * Called by cmd_scan() when --milter is not given.
 */
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "config.h"
#include "corpus.h"
#include "evalrep.h"
#include "localscan.h"
#include "msg.h"
#include "pipeline.h"
#include "report.h"
#include "rules.h"
#include "ruleset.h"
#include "scan.h"
#include "verdict.h"

#define MAX_RCPTS 100

enum format { FMT_TEXT, FMT_JSONL, FMT_CSV };

struct path {
	char *name;
	enum eval_label label;
	size_t count;
};

struct run {
	enum format format;
	struct path *paths;
	size_t path_count;
	struct corpus *corpus;
	size_t cur_path;          /* index of the path being read */
	struct eval *eval;
	size_t messages, errors;
	size_t per_action[CONF_ACT_COUNT];
	double *ms;
	size_t ms_cap;
	bool progress;
	double started, last_progress;
	uint64_t total_bytes, done_bytes;
};

static void usage(FILE *out)
{
	fprintf(out,
	"usage: vigil scan [-c FILE] [--jobs N] [--format text|jsonl|csv]\n"
	"                  [--label spam|ham] PATH... [--labels FILE]\n"
	"                  [--report FILE.html] [--client-ip IP] [--helo NAME]\n"
	"                  [--mail-from ADDR] [--rcpt ADDR]...\n"
	"       vigil scan --milter SOCKET ... (see vigil scan --milter --help)\n"
	"PATH: mbox file, maildir, directory of messages, message file, or -.\n"
	"--label applies to the paths after it; --labels FILE has lines\n"
	"\"PATH LABEL\". With labels, an evaluation report ends the run.\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- output ---- */

static void json_str(FILE *out, const char *s)
{
	report_json_string(out, s ? s : "", s ? strlen(s) : 0);
}

static void csv_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
	}
	fputc('"', out);
}

static const char *message_id(struct scan *scan, char *buf, size_t len)
{
	const struct msg *m = scan ? scan_msg(scan) : NULL;
	const struct msg_header *h = m ? msg_header_get(m, "Message-ID", 0) : NULL;
	if (h == NULL)
		return "";
	snprintf(buf, len, "%.*s", (int)h->value.len, h->value.ptr);
	return buf;
}

static const char *result_or(const struct scan *scan, const char *key)
{
	const char *v = scan ? scan_result_get(scan, key) : NULL;
	return v ? v : "none";
}

static void print_jsonl(const struct corpus_msg *cm, struct scan *scan,
                        const struct verdict *v, double ms)
{
	char mid[512];
	printf("{\"source\":");
	json_str(stdout, cm->source);
	printf(",\"index\":%zu", cm->index);
	if (scan == NULL) {
		printf(",\"error\":");
		json_str(stdout, cm->error ? cm->error : "scan failed");
		printf("}\n");
		return;
	}
	printf(",\"message_id\":");
	json_str(stdout, message_id(scan, mid, sizeof mid));
	printf(",\"score\":%.3f,\"action\":\"%s\",\"hits\":[", scan_score(scan),
	       conf_action_name(v->action));
	for (size_t i = 0; i < scan_hit_count(scan); i++) {
		const struct scan_hit_info *h = scan_hit_at(scan, i);
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, h->name);
		printf(",\"score\":%.3f}", h->score);
	}
	printf("],\"auth\":{\"spf\":");
	json_str(stdout, result_or(scan, "spf"));
	printf(",\"dkim\":");
	json_str(stdout, result_or(scan, "dkim"));
	printf(",\"dmarc\":");
	json_str(stdout, result_or(scan, "dmarc"));
	printf("},\"ms\":%.3f}\n", ms);
}

static void print_csv(const struct corpus_msg *cm, struct scan *scan,
                      const struct verdict *v, double ms)
{
	char mid[512];
	csv_str(stdout, cm->source);
	printf(",%zu,", cm->index);
	if (scan == NULL) {
		printf(",,error,,,,,%.3f,", ms);
		csv_str(stdout, cm->error ? cm->error : "scan failed");
		printf("\n");
		return;
	}
	csv_str(stdout, message_id(scan, mid, sizeof mid));
	printf(",%.3f,%s,\"", scan_score(scan), conf_action_name(v->action));
	for (size_t i = 0; i < scan_hit_count(scan); i++)
		printf("%s%s", i ? " " : "", scan_hit_at(scan, i)->name);
	printf("\",%s,%s,%s,%.3f,\n", result_or(scan, "spf"),
	       result_or(scan, "dkim"), result_or(scan, "dmarc"), ms);
}

static void print_text(const struct corpus_msg *cm, struct scan *scan,
                       const struct verdict *v)
{
	if (scan == NULL) {
		printf("%-40s %6zu  ERROR  %s\n", cm->source, cm->index,
		       cm->error ? cm->error : "scan failed");
		return;
	}
	printf("%-40s %6zu  %-10s %8.2f ", cm->source, cm->index,
	       conf_action_name(v->action), scan_score(scan));
	for (size_t i = 0; i < scan_hit_count(scan); i++)
		printf("%s%s", i ? "," : "", scan_hit_at(scan, i)->name);
	printf("\n");
}

/* ---- progress (a terminal only) ---- */

static void show_progress(struct run *r, bool final)
{
	double t = now_s();
	if (!r->progress || (!final && t - r->last_progress < 0.2))
		return;
	r->last_progress = t;
	double el = t - r->started, rate = el > 0 ? (double)r->messages / el : 0;
	fprintf(stderr, "\r%zu messages, %.0f msg/s", r->messages, rate);
	if (r->total_bytes > 0 && r->done_bytes > 0 && !final) {
		double left = el * ((double)r->total_bytes / (double)r->done_bytes - 1);
		fprintf(stderr, ", ETA %.0f s", left > 0 ? left : 0);
	}
	fprintf(stderr, "   %s", final ? "\n" : "");
}

/* ---- producer / consumer ---- */

static int next_msg(void *arg, struct localscan_item *it)
{
	struct run *r = arg;
	struct corpus_msg *cm = calloc(1, sizeof *cm);
	if (cm == NULL || corpus_next(r->corpus, cm) != 1) {
		free(cm);
		return 0;
	}
	it->tag = cm;
	it->raw = cm->data;	/* the runner frees it */
	it->len = cm->len;
	cm->data = NULL;
	it->error = cm->error;
	return 1;
}

static struct path *path_of(struct run *r, const char *source)
{
	/* sources inside a directory start with the path given */
	for (size_t i = r->path_count; i-- > 0;)
		if (strncmp(source, r->paths[i].name, strlen(r->paths[i].name)) == 0)
			return &r->paths[i];
	return NULL;
}

static void done_msg(void *arg, const struct localscan_item *it,
                     struct scan *scan, const struct verdict *v, double ms)
{
	struct run *r = arg;
	struct corpus_msg *cm = it->tag;
	if (it->error && cm->error == NULL)
		cm->error = strdup(it->error);
	struct path *p = path_of(r, cm->source);
	enum eval_label label = p ? p->label : EVAL_UNLABELLED;
	if (p)
		p->count++;
	r->messages++;
	r->done_bytes = cm->offset + it->len;
	if (scan == NULL || v == NULL) {
		r->errors++;
		eval_add_error(r->eval, label);
		fprintf(stderr, "vigil scan: %s: message %zu at byte %llu: %s\n",
		        cm->source, cm->index, (unsigned long long)cm->offset,
		        cm->error ? cm->error : "scan failed");
	} else {
		r->per_action[v->action]++;
		const char *names[512];
		size_t n = scan_hit_count(scan) < 512 ? scan_hit_count(scan) : 512;
		for (size_t i = 0; i < n; i++)
			names[i] = scan_hit_at(scan, i)->name;
		eval_add(r->eval, label, scan_score(scan), names, n);
		if (r->messages > r->ms_cap) {
			size_t cap = r->ms_cap ? r->ms_cap * 2 : 4096;
			double *p2 = realloc(r->ms, cap * sizeof *p2);
			if (p2 != NULL) {
				r->ms = p2;
				r->ms_cap = cap;
			}
		}
		if (r->messages - r->errors <= r->ms_cap)
			r->ms[r->messages - r->errors - 1] = ms;
	}
	switch (r->format) {
	case FMT_JSONL: print_jsonl(cm, scan, v, ms); break;
	case FMT_CSV: print_csv(cm, scan, v, ms); break;
	default: print_text(cm, scan, v); break;
	}
	corpus_msg_clear(cm);
	free(cm);
	show_progress(r, false);
}

/* ---- set-up ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)ceil(p * (double)n);
	return v[k ? k - 1 : 0];
}

static void summary(struct run *r, FILE *out, double seconds)
{
	size_t ok = r->messages - r->errors;
	if (ok > r->ms_cap)
		ok = r->ms_cap;
	qsort(r->ms, ok, sizeof *r->ms, cmp_double);
	fprintf(out, "%zu messages in %.2f s (%.0f msg/s), %zu errors;", r->messages,
	        seconds, seconds > 0 ? (double)r->messages / seconds : 0, r->errors);
	for (int a = 0; a < CONF_ACT_COUNT; a++)
		if (r->per_action[a])
			fprintf(out, " %s %zu", conf_action_name(a), r->per_action[a]);
	fprintf(out, "\nlatency per message: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
	        percentile(r->ms, ok, 0.5), percentile(r->ms, ok, 0.95),
	        percentile(r->ms, ok, 0.99));
}

static int file_sha256(const char *path, char *hex, size_t hexlen)
{
	size_t len;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[8192], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -1;
	while (rc == 0 && (len = fread(buf, 1, sizeof buf, f)) > 0)
		rc = EVP_DigestUpdate(ctx, buf, len) ? 0 : -1;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		rc = -1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	for (unsigned i = 0; rc == 0 && i < mdlen && 2 * i + 2 < hexlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return rc;
}

static int read_labels(struct run *r, const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "vigil scan: --labels %s: %s\n", file, strerror(errno));
		return -1;
	}
	char line[4096];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		char *path = strtok(p, " \t\r\n"), *lab = strtok(NULL, " \t\r\n");
		enum eval_label l = lab ? eval_label_parse(lab) : EVAL_UNLABELLED;
		if (l == EVAL_UNLABELLED) {
			fprintf(stderr, "%s:%u: expected \"PATH spam|ham\"\n", file, lineno);
			rc = -1;
			continue;
		}
		struct path *np = realloc(r->paths, (r->path_count + 1) * sizeof *np);
		if (np == NULL || (path = strdup(path)) == NULL) {
			rc = -1;
			break;
		}
		r->paths = np;
		r->paths[r->path_count++] = (struct path){ path, l, 0 };
	}
	fclose(f);
	return rc;
}

static int add_path(struct run *r, const char *name, enum eval_label l)
{
	struct path *np = realloc(r->paths, (r->path_count + 1) * sizeof *np);
	if (np == NULL)
		return -1;
	r->paths = np;
	char *n = strdup(name);
	if (n == NULL)
		return -1;
	r->paths[r->path_count++] = (struct path){ n, l, 0 };
	struct stat st;
	if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
		r->total_bytes += (uint64_t)st.st_size;
	return 0;
}

struct opts {
	const char *conf, *report;
	unsigned jobs;
	struct envguess_flags env;
	const char *rcpts[MAX_RCPTS];
};

/* Options may stand between paths (--label applies to what follows). */
static int parse_args(int argc, char **argv, struct run *r, struct opts *o)
{
	enum eval_label label = EVAL_UNLABELLED;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			if (add_path(r, a, label) != 0)
				return -1;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "vigil scan: %s needs a value\n", a);
			return -1;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			o->conf = val;
		else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0)
			o->jobs = (unsigned)strtoul(val, NULL, 10);
		else if (strcmp(a, "--format") == 0) {
			if (strcmp(val, "jsonl") == 0) r->format = FMT_JSONL;
			else if (strcmp(val, "csv") == 0) r->format = FMT_CSV;
			else if (strcmp(val, "text") == 0) r->format = FMT_TEXT;
			else {
				fprintf(stderr, "vigil scan: --format: text, jsonl or csv\n");
				return -1;
			}
		} else if (strcmp(a, "--label") == 0) {
			label = eval_label_parse(val);
			if (label == EVAL_UNLABELLED) {
				fprintf(stderr, "vigil scan: --label: spam or ham\n");
				return -1;
			}
		} else if (strcmp(a, "--labels") == 0) {
			if (read_labels(r, val) != 0)
				return -1;
		} else if (strcmp(a, "--report") == 0)
			o->report = val;
		else if (strcmp(a, "--client-ip") == 0)
			o->env.client_ip = val;
		else if (strcmp(a, "--helo") == 0)
			o->env.helo = val;
		else if (strcmp(a, "--mail-from") == 0)
			o->env.mail_from = val;
		else if (strcmp(a, "--rcpt") == 0 && o->env.rcpt_count < MAX_RCPTS)
			o->rcpts[o->env.rcpt_count++] = val;
		else {
			fprintf(stderr, "vigil scan: unknown option %s\n", a);
			return -1;
		}
		i++;	/* the value */
	}
	if (r->path_count == 0) {
		fprintf(stderr, "vigil scan: no PATH given\n");
		return -1;
	}
	return 0;
}

static struct conf *load_conf(const char *path)
{
	char err[8192];
	struct conf *c = conf_load_tool(path, err, sizeof err);
	if (c == NULL)
		fprintf(stderr, "%s", err);
	return c;
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->path_count; i++)
		free(r->paths[i].name);
	free(r->paths);
	free(r->ms);
	eval_free(r->eval);
	if (r->corpus)
		corpus_close(r->corpus);
}

static void report(struct run *r, const struct conf *c, const struct opts *o,
                   double seconds)
{
	FILE *out = r->format == FMT_TEXT ? stdout : stderr;
	summary(r, out, seconds);
	bool labelled = false;
	for (size_t i = 0; i < r->path_count; i++)
		labelled |= r->paths[i].label != EVAL_UNLABELLED;
	if (!labelled && o->report == NULL)
		return;
	char hash[65] = "-";
	if (c->path && strcmp(c->path, "(built-in defaults)") != 0)
		file_sha256(c->path, hash, sizeof hash);
	const char **names = calloc(r->path_count, sizeof *names);
	const char **labels = calloc(r->path_count, sizeof *labels);
	size_t *counts = calloc(r->path_count, sizeof *counts);
	if (names == NULL || labels == NULL || counts == NULL)
		goto out;
	for (size_t i = 0; i < r->path_count; i++) {
		names[i] = r->paths[i].name;
		labels[i] = r->paths[i].label == EVAL_SPAM ? "spam" :
		            r->paths[i].label == EVAL_HAM ? "ham" : "unlabelled";
		counts[i] = r->paths[i].count;
	}
	/* rules loaded by the rules stage, when it runs */
	const struct rules *rules = rules_stage_rules(
		pipeline_stage_state(c->pipeline, "rules"));
	size_t rule_count = rules ? ruleset_count(rules_ruleset(rules)) : 0;
	struct eval_meta m = { PACKAGE_VERSION, c->path, hash, rule_count,
	                       names, labels,
	                       counts, r->path_count, seconds, o->jobs };
	fprintf(out, "\n");
	eval_report_text(r->eval, &m, out);
	if (o->report && eval_report_html(r->eval, &m, o->report) != 0)
		fprintf(stderr, "vigil scan: --report %s: %s\n", o->report,
		        strerror(errno));
out:
	free(names);
	free(labels);
	free(counts);
}

int scanlocal_main(int argc, char **argv)
{
	struct run r = { 0 };
	struct opts o = { 0 };
	o.env.rcpts = o.rcpts;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	o.jobs = cores > 0 ? (unsigned)cores : 1;
	int pa = parse_args(argc, argv, &r, &o);
	if (pa != 0) {
		if (pa < 0)
			usage(stderr);
		free_run(&r);
		return pa > 0 ? 0 : 2;
	}
	struct conf *c = load_conf(o.conf);
	if (c == NULL) {
		free_run(&r);
		return 2;
	}
	r.eval = eval_new(c->policy.threshold[CONF_ACT_ADD_HEADER]);
	const char **names = calloc(r.path_count, sizeof *names);
	for (size_t i = 0; names && i < r.path_count; i++)
		names[i] = r.paths[i].name;
	r.corpus = names ? corpus_open(names, r.path_count, c->max_message_size)
	                 : NULL;
	free(names);
	if (r.eval == NULL || r.corpus == NULL) {
		fprintf(stderr, "vigil scan: out of memory\n");
		conf_unref(c);
		free_run(&r);
		return 2;
	}
	if (r.format == FMT_CSV)
		printf("source,index,message_id,score,action,hits,spf,dkim,dmarc,ms,"
		       "error\n");
	r.progress = isatty(STDERR_FILENO);
	r.started = now_s();
	struct localscan_ops ops = { next_msg, done_msg, &r };
	int rc = localscan_run(c, o.jobs, &o.env, &ops);
	double seconds = now_s() - r.started;
	show_progress(&r, true);
	fflush(stdout);
	if (rc != 0)
		fprintf(stderr, "vigil scan: cannot start %u threads\n", o.jobs);
	else
		report(&r, c, &o, seconds);
	int status = rc != 0 ? 2 : r.errors ? 1 : 0;
	conf_unref(c);
	free_run(&r);
	return status;
}

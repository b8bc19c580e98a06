/*
 * bench_rules — rule engine throughput, single thread.
 *
 *   bench_rules [-r RULES]... [-n ROUNDS] [--eager] [--verify] [--profile]
 *               [--dump FILE] CORPUS...
 *
 * Loads and compiles the rules (default /usr/share/spamassassin) and
 * reports the time; reads every message of CORPUS (mbox files, maildirs,
 * message files; a directory holding *.mbox files stands for those) into
 * memory and parses it (timed apart), then times rules_eval() alone over
 * all messages, ROUNDS times (default 3), and prints the best round.
 * The rounds are lazy as in the rules stage (RULES_EVAL_LAZY: unscored
 * rules run only when a scored meta reads them); --eager times every
 * rule's run instead.
 * --verify also runs every rule without the literal prefilter and checks
 * that each message gets the same hits, and that a lazy run gets the
 * same scored hits as an eager one (exit 1 if not).
 * --profile runs one more round timing every match call and lists the 30
 * rules that took longest (and the literal prefilter passes; PROF_ALL=1
 * lists all).
 * --dump FILE writes each message's hits (sorted NAME*COUNT) to FILE, one
 * line per message, to compare engine versions.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "corpus.h"
#include "monotime.h"
#include "rules.h"
#include "ruleset.h"
#include "scan.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* This thread's CPU time in seconds. */
static double thread_cpu_s(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A directory with *.mbox files stands for them (sorted). */
static size_t expand(const char *arg, char **out, size_t max)
{
	struct stat st;
	if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
		out[0] = strdup(arg);
		return 1;
	}
	DIR *d = opendir(arg);
	size_t n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL && n < max) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".mbox") == 0) {
			char *p = malloc(strlen(arg) + len + 2);
			if (p == NULL)
				break;
			sprintf(p, "%s/%s", arg, e->d_name);
			out[n++] = p;
		}
	}
	if (d != NULL)
		closedir(d);
	if (n == 0) {
		out[0] = strdup(arg);
		return 1;
	}
	qsort(out, n, sizeof *out, cmp_str);
	return n;
}

static struct rules *compile(struct ruleset *rs, bool no_prefilter)
{
	char err[256];
	struct rules_opts o = { .no_prefilter = no_prefilter };
	struct rules *r = rules_compile(rs, &o, err, sizeof err);
	if (r == NULL)
		fprintf(stderr, "bench_rules: %s\n", err);
	return r;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct rules_hit *x = *(const struct rules_hit *const *)a;
	const struct rules_hit *y = *(const struct rules_hit *const *)b;
	return strcmp(x->name, y->name);
}

/* Hits of one message, sorted by name, as one string NAME*COUNT,... */
/* The hits of res as "NAME*count,..." sorted; scored: only those with
 * a score (what a lazy run reports). */
static char *hit_line(const struct rules_result *res, bool scored)
{
	size_t n = 0, len = 1;
	const struct rules_hit **v = calloc(rules_result_count(res) + 1,
	                                    sizeof *v);
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < rules_result_count(res); i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		if (scored && h->score == 0)
			continue;
		v[n++] = h;
		len += strlen(h->name) + 12;
	}
	qsort(v, n, sizeof *v, cmp_hit);
	char *s = malloc(len);
	if (s != NULL) {
		s[0] = '\0';
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			o += (size_t)sprintf(s + o, "%s%s*%u", i ? "," : "", v[i]->name,
			                     v[i]->count);
	}
	free(v);
	return s;
}

struct prof_row {
	size_t i;
	uint64_t ns, calls;
};

static int cmp_prof(const void *a, const void *b)
{
	const struct prof_row *x = a, *y = b;
	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static const char *const prof_tgt[] = {
	"header", "mimeheader", "body", "rawbody", "full", "uri",
};

/* One profiled round; the 30 costliest rules and prefilter passes. */
static int profile(struct rules *r, const struct ruleset *rs,
                   struct scan **scans, size_t n, unsigned flags)
{
	if (rules_profile(r, true) != 0)
		return -1;
	struct rules_result *res = rules_result_new();
	double a = monotime_s();
	for (size_t i = 0; i < n; i++)
		rules_eval(r, scans[i], res, flags);
	double b = monotime_s();
	rules_result_free(res);
	size_t nr = ruleset_count(rs), rows = nr + 6;
	struct prof_row *v = calloc(rows, sizeof *v);
	if (v == NULL)
		return -1;
	uint64_t total = 0, calls = 0;
	for (size_t i = 0; i < rows; i++) {
		const struct rules_prof *p = rules_profile_at(r, i);
		v[i] = (struct prof_row){ .i = i, .ns = p->ns, .calls = p->calls };
		total += p->ns;
		if (i < nr)
			calls += p->calls;
	}
	/* per target: time, calls, rules that ran */
	double tms[RS_UNDEFINED + 1] = { 0 };
	uint64_t tcalls[RS_UNDEFINED + 1] = { 0 };
	size_t trules[RS_UNDEFINED + 1] = { 0 };
	for (size_t i = 0; i < nr; i++) {
		enum rs_type t = ruleset_at(rs, i)->type;
		if (v[i].calls == 0 || t > RS_UNDEFINED)
			continue;
		tms[t] += v[i].ns / 1e6;
		tcalls[t] += v[i].calls;
		trules[t]++;
	}
	qsort(v, rows, sizeof *v, cmp_prof);
	for (int t = 0; t <= RS_UNDEFINED; t++)
		if (trules[t] > 0)
			printf("  type %d: %zu rules ran, %.1f ms, %llu calls\n", t,
			       trules[t], tms[t], (unsigned long long)tcalls[t]);
	printf("profile: %.3f s wall (timers included), %.3f s in matching and "
	       "prefilter, %llu match calls (%.1f/msg)\n", b - a, total / 1e9,
	       (unsigned long long)calls, n ? (double)calls / n : 0.0);
	printf("  %8s %6s %9s  %-28s %s\n", "ms", "%", "calls", "rule",
	       "pattern");
	size_t show = getenv("PROF_ALL") ? rows : 30;  /* PROF_ALL=1: all */
	for (size_t k = 0; k < show && k < rows && v[k].ns > 0; k++) {
		char name[64];
		const char *pat = "";
		size_t plen = 0;
		if (v[k].i < nr) {
			const struct rs_rule *rule = ruleset_at(rs, v[k].i);
			snprintf(name, sizeof name, "%s", rule->name);
			if (rule->pattern != NULL) {
				pat = rule->pattern;
				plen = rule->pattern_len > 60 ? 60 : rule->pattern_len;
			}
		} else {
			snprintf(name, sizeof name, "(prefilter %s)",
			         prof_tgt[v[k].i - nr]);
		}
		printf("  %8.1f %5.1f%% %9llu  %-28s %.*s%s\n", v[k].ns / 1e6,
		       total ? 100.0 * v[k].ns / total : 0.0,
		       (unsigned long long)v[k].calls, name, (int)plen, pat,
		       plen == 60 ? "..." : "");
	}
	free(v);
	rules_profile(r, false);
	return 0;
}

int main(int argc, char **argv)
{
	const char *rpaths[64];
	size_t nr = 0;
	char *cpaths[256];
	size_t nc = 0;
	int rounds = 3;
	bool verify = false, prof = false;
	unsigned flags = RULES_EVAL_NO_SCAN | RULES_EVAL_LAZY;
	const char *dump = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc && nr < 64)
			rpaths[nr++] = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--verify") == 0)
			verify = true;
		else if (strcmp(argv[i], "--eager") == 0)
			flags &= ~RULES_EVAL_LAZY;
		else if (strcmp(argv[i], "--profile") == 0)
			prof = true;
		else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
			dump = argv[++i];
		else if (nc < 200)
			nc += expand(argv[i], cpaths + nc, 256 - nc);
	}
	if (nr == 0)
		rpaths[nr++] = "/usr/share/spamassassin";
	if (nc == 0 || rounds < 1) {
		fprintf(stderr, "usage: bench_rules [-r RULES]... [-n ROUNDS] "
		        "[--eager] [--verify] [--profile] [--dump FILE] "
		        "CORPUS...\n");
		return 2;
	}

	double t0 = monotime_s();
	struct ruleset *rs = ruleset_load(rpaths, nr, rules_ruleset_opts());
	double t1 = monotime_s();
	struct rules *r = rs ? compile(rs, false) : NULL;
	double t2 = monotime_s();
	if (r == NULL)
		return 2;
	struct rules_stats st;
	rules_get_stats(r, &st);
	printf("rules: %zu from %zu files (%s%s): load+compile %.3f s "
	       "(parse %.3f s, compile %.3f s)\n", ruleset_count(rs),
	       ruleset_file_count(rs), rpaths[0], nr > 1 ? ", ..." : "",
	       t2 - t0, t1 - t0, t2 - t1);
	printf("  active %zu (literal-prefiltered %zu), off %zu, failed %zu, "
	       "eval %zu, meta %zu\n", st.active, st.prefiltered, st.disabled,
	       st.failed, st.eval, st.meta);

	/* read and parse the corpus */
	struct corpus *cp = corpus_open((const char *const *)cpaths, nc, 0);
	if (cp == NULL)
		return 2;
	struct scan **scans = NULL;
	size_t n = 0, cap = 0, bytes = 0;
	struct corpus_msg m = { 0 };
	double p0 = monotime_s();
	while (corpus_next(cp, &m) == 1) {
		if (m.data != NULL) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				scans = realloc(scans, cap * sizeof *scans);
				if (scans == NULL)
					return 2;
			}
			struct scan *s = scan_new();
			if (s == NULL || scan_set_raw(s, m.data, m.len) != 0 ||
			    scan_msg(s) == NULL)
				return 2;
			scans[n++] = s;
			bytes += m.len;
		}
		corpus_msg_clear(&m);
	}
	double p1 = monotime_s();
	corpus_close(cp);
	printf("corpus: %zu messages, %.1f MB; parse %.3f s (%.0f msg/s)\n", n,
	       (double)bytes / 1e6, p1 - p0, n / (p1 - p0));

	double best = 1e30, best_cpu = 1e30;
	size_t hits = 0;
	for (int k = 0; k < rounds; k++) {
		struct rules_result *res = rules_result_new();
		double a = monotime_s(), ca = thread_cpu_s();
		hits = 0;
		for (size_t i = 0; i < n; i++) {
			if (rules_eval(r, scans[i], res, flags) != 0)
				return 2;
			hits += rules_result_count(res);
		}
		double b = monotime_s(), cb = thread_cpu_s();
		if (b - a < best)
			best = b - a;
		if (cb - ca < best_cpu)
			best_cpu = cb - ca;
		rules_result_free(res);
	}
	printf("rules stage: %.3f s for %zu messages: %.0f msg/s, %.1f MB/s, "
	       "%.1f %shits/msg (best of %d, one thread%s)\n", best, n, n / best,
	       (double)bytes / 1e6 / best, n ? (double)hits / n : 0.0,
	       flags & RULES_EVAL_LAZY ? "scored " : "", rounds,
	       flags & RULES_EVAL_LAZY ? ", lazy" : ", eager");
	/* CPU time does not count the time other work on the machine takes
	 * the core away: steadier for comparing builds on a busy machine */
	printf("rules stage CPU: %.3f s (this thread, best of %d)\n", best_cpu,
	       rounds);

	if (prof && profile(r, rs, scans, n, flags) != 0)
		return 2;
	if (dump != NULL) {
		FILE *f = fopen(dump, "w");
		struct rules_result *res = rules_result_new();
		for (size_t i = 0; f != NULL && res != NULL && i < n; i++) {
			rules_eval(r, scans[i], res, RULES_EVAL_NO_SCAN);
			char *line = hit_line(res, false);
			fprintf(f, "%zu %s\n", i, line ? line : "?");
			free(line);
		}
		rules_result_free(res);
		if (f == NULL || fclose(f) != 0) {
			fprintf(stderr, "bench_rules: cannot write %s\n", dump);
			return 2;
		}
	}

	int rc = 0;
	if (verify) {
		struct rules *all = compile(rs, true);
		struct rules_result *ra = rules_result_new(), *rb = rules_result_new(),
		                    *rl = rules_result_new();
		size_t bad = 0, lbad = 0;
		double a = monotime_s();
		for (size_t i = 0; all && i < n; i++) {
			rules_eval(r, scans[i], ra, RULES_EVAL_NO_SCAN);
			rules_eval(all, scans[i], rb, RULES_EVAL_NO_SCAN);
			rules_eval(r, scans[i], rl, RULES_EVAL_NO_SCAN | RULES_EVAL_LAZY);
			char *x = hit_line(ra, false), *y = hit_line(rb, false),
			     *xs = hit_line(ra, true), *l = hit_line(rl, false);
			if (x == NULL || y == NULL || strcmp(x, y) != 0) {
				if (bad < 5)
					printf("MISMATCH message %zu:\n  prefilter: %s\n  "
					       "all rules: %s\n", i, x ? x : "?", y ? y : "?");
				bad++;
			}
			if (xs == NULL || l == NULL || strcmp(xs, l) != 0) {
				if (lbad < 5)
					printf("MISMATCH message %zu:\n  eager: %s\n  "
					       "lazy: %s\n", i, xs ? xs : "?", l ? l : "?");
				lbad++;
			}
			free(x);
			free(y);
			free(xs);
			free(l);
		}
		double b = monotime_s();
		printf("verify: every rule without the prefilter (%.3f s for the "
		       "runs): %zu of %zu messages differ; lazy against eager "
		       "(scored hits): %zu differ\n", b - a, bad, n, lbad);
		rc = bad || lbad ? 1 : 0;
		rules_result_free(ra);
		rules_result_free(rb);
		rules_result_free(rl);
		rules_free(all);
	}
	for (size_t i = 0; i < n; i++)
		scan_free(scans[i]);
	free(scans);
	for (size_t i = 0; i < nc; i++)
		free(cpaths[i]);
	rules_free(r);
	ruleset_free(rs);
	return rc;
}

/* evalrep.c — see evalrep.h */
#include "evalrep.h"

#include "envguess.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rule_count {
	char *name;
	size_t spam, ham;
	double score;               /* per hit, when scored */
	bool scored;
};

/* Sweep points: every integer score from -5 to 30, and the configured
 * threshold. */
#define SWEEP_LO (-5)
#define SWEEP_HI 30

/* The scores of one class, as counts: memory does not grow with the
 * corpus. For an integer t, score >= t exactly when floor(score) >= t,
 * so one bin per integer (those below SWEEP_LO in bin 0, those from
 * SWEEP_HI up in the last) answers every sweep point exactly; the count
 * at the configured threshold is kept as messages come. */
#define NBINS (SWEEP_HI - SWEEP_LO + 2)

struct scores {
	size_t n, at_thr;           /* messages; flagged */
	size_t unscored;            /* without a score: not in bins */
	size_t bins[NBINS];
};

struct eval {
	double threshold;
	bool verdicts;              /* flagged as given, not by threshold */
	bool actions;               /* given: the pipeline's actions */
	struct scores spam, ham;
	size_t unlabelled;
	/* messages without a verdict, by label (enum eval_label) */
	size_t errors[3];           /* could not be scanned */
	size_t deferred[3];         /* tempfail: offered again later */
	struct rule_count *rules;   /* open addressing, power-of-two size */
	size_t rule_cap, rule_used;
};

struct eval *eval_new(double threshold)
{
	struct eval *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->threshold = threshold;
	e->rule_cap = 256;
	e->rules = calloc(e->rule_cap, sizeof *e->rules);
	if (e->rules == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void eval_free(struct eval *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->rule_cap; i++)
		free(e->rules[i].name);
	free(e->rules);
	free(e);
}

struct eval *eval_new_verdicts(void)
{
	struct eval *e = eval_new(NAN);
	if (e != NULL)
		e->verdicts = true;
	return e;
}

struct eval *eval_new_actions(double threshold)
{
	struct eval *e = eval_new(threshold);
	if (e != NULL)
		e->verdicts = e->actions = true;
	return e;
}

enum eval_label eval_label_parse(const char *s)
{
	if (strcasecmp(s, "spam") == 0 || strcmp(s, "1") == 0)
		return EVAL_SPAM;
	if (strcasecmp(s, "ham") == 0 || strcmp(s, "0") == 0)
		return EVAL_HAM;
	return EVAL_UNLABELLED;
}

static void push(struct scores *s, double v, bool flagged)
{
	s->n++;
	s->at_thr += flagged;
	if (isnan(v)) {
		s->unscored++;
		return;
	}
	size_t bin = 0;
	if (v >= SWEEP_HI)
		bin = NBINS - 1;
	else if (v >= SWEEP_LO)
		bin = (size_t)(floor(v) - SWEEP_LO) + 1;
	s->bins[bin]++;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int rules_grow(struct eval *e)
{
	size_t cap = e->rule_cap * 2;
	struct rule_count *r = calloc(cap, sizeof *r);
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < e->rule_cap; i++) {
		if (e->rules[i].name == NULL)
			continue;
		size_t k = hash(e->rules[i].name) & (cap - 1);
		while (r[k].name != NULL)
			k = (k + 1) & (cap - 1);
		r[k] = e->rules[i];
	}
	free(e->rules);
	e->rules = r;
	e->rule_cap = cap;
	return 0;
}

static struct rule_count *rule_slot(struct eval *e, const char *name)
{
	if (2 * (e->rule_used + 1) > e->rule_cap && rules_grow(e) != 0)
		return NULL;
	size_t k = hash(name) & (e->rule_cap - 1);
	while (e->rules[k].name != NULL && strcmp(e->rules[k].name, name) != 0)
		k = (k + 1) & (e->rule_cap - 1);
	if (e->rules[k].name == NULL) {
		e->rules[k].name = strdup(name);
		if (e->rules[k].name == NULL)
			return NULL;
		e->rule_used++;
	}
	return &e->rules[k];
}

/* NaN is below every threshold, as in a comparison (and in the sweep:
 * a score, not a missing one). */
int eval_add(struct eval *e, enum eval_label label, double score,
             const char *const *hits, size_t nhits)
{
	if (isnan(score))
		score = -INFINITY;
	return eval_add_verdict(e, label, score >= e->threshold, score, hits,
	                        nhits);
}

int eval_add_verdict(struct eval *e, enum eval_label label, bool flagged,
                     double score, const char *const *hits, size_t nhits)
{
	return eval_add_scored(e, label, flagged, score, hits, NULL, nhits);
}

int eval_add_scored(struct eval *e, enum eval_label label, bool flagged,
                    double score, const char *const *hits,
                    const double *hit_scores, size_t nhits)
{
	if (label == EVAL_UNLABELLED) {
		e->unlabelled++;
		return 0;
	}
	push(label == EVAL_SPAM ? &e->spam : &e->ham, score, flagged);
	for (size_t i = 0; i < nhits; i++) {
		/* a rule hitting several times in one message counts once */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(hits[i], hits[j]) == 0;
		if (dup)
			continue;
		struct rule_count *r = rule_slot(e, hits[i]);
		if (r == NULL)
			return -1;
		if (label == EVAL_SPAM)
			r->spam++;
		else
			r->ham++;
		if (hit_scores != NULL && !isnan(hit_scores[i])) {
			r->score = hit_scores[i];
			r->scored = true;
		}
	}
	return 0;
}

void eval_add_error(struct eval *e, enum eval_label label)
{
	e->errors[label]++;
}

void eval_add_deferred(struct eval *e, enum eval_label label)
{
	e->deferred[label]++;
}

/* ---- metrics ---- */

/* Messages scoring at least the sweep point t (SWEEP_LO..SWEEP_HI). */
static size_t at_or_above(const struct scores *s, int t)
{
	size_t n = 0;
	for (size_t b = (size_t)(t - SWEEP_LO) + 1; b < NBINS; b++)
		n += s->bins[b];
	return n;
}

struct metrics {
	size_t tp, fn, fp, tn;
	double recall, fpr, precision, f1;
};

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : NAN;
}

/* After the recall (f1 false) or the F1 (true), when spam could not be
 * scanned: the figure with those counted as missed, so that errors
 * cannot make it look better. */
static void with_errors(const struct eval *e, const struct metrics *x,
                        bool f1, FILE *out)
{
	size_t err = e->errors[EVAL_SPAM];
	double v = f1 ? ratio(2 * x->tp, 2 * x->tp + x->fp + x->fn + err)
	              : ratio(x->tp, x->tp + x->fn + err);
	if (err)
		fprintf(out, " (%.2f%% counting the %zu spam not scanned as not "
		        "flagged)", v * 100.0, err);
}

/* tp of nspam spam and fp of nham ham flagged. */
static struct metrics metrics_of(size_t tp, size_t nspam, size_t fp,
                                 size_t nham)
{
	struct metrics m;
	m.tp = tp;
	m.fn = nspam - m.tp;
	m.fp = fp;
	m.tn = nham - m.fp;
	m.recall = ratio(m.tp, m.tp + m.fn);
	m.fpr = ratio(m.fp, m.fp + m.tn);
	m.precision = ratio(m.tp, m.tp + m.fp);
	/* 2TP / (2TP + FP + FN): 0 when nothing right was flagged, undefined
	 * only with no spam and nothing flagged */
	m.f1 = ratio(2 * m.tp, 2 * m.tp + m.fp + m.fn);
	return m;
}

static size_t scored(const struct scores *s)
{
	return s->n - s->unscored;
}

/* At the sweep point t, over the messages with a score. */
static struct metrics metrics_at(const struct eval *e, int t)
{
	return metrics_of(at_or_above(&e->spam, t), scored(&e->spam),
	                  at_or_above(&e->ham, t), scored(&e->ham));
}

/* As flagged: at the configured threshold, or by the verdicts. */
static struct metrics metrics_thr(const struct eval *e)
{
	return metrics_of(e->spam.at_thr, e->spam.n, e->ham.at_thr, e->ham.n);
}

static int cmp_rules(const void *a, const void *b)
{
	const struct rule_count *x = *(const struct rule_count *const *)a;
	const struct rule_count *y = *(const struct rule_count *const *)b;
	size_t tx = x->spam + x->ham, ty = y->spam + y->ham;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Rules sorted by total hits; caller frees the array. */
static struct rule_count **sorted_rules(const struct eval *e, size_t *n)
{
	struct rule_count **v = calloc(e->rule_used ? e->rule_used : 1, sizeof *v);
	if (v == NULL) {
		*n = 0;
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < e->rule_cap; i++)
		if (e->rules[i].name)
			v[k++] = &e->rules[i];
	qsort(v, k, sizeof *v, cmp_rules);
	*n = k;
	return v;
}

static void pct(FILE *out, double v)
{
	if (isnan(v))
		fprintf(out, "%8s", "n/a");
	else
		fprintf(out, "%7.2f%%", v * 100.0);
}

/* A threshold: "off" when no action has one. */
static void threshold(FILE *out, double t)
{
	if (isfinite(t))
		fprintf(out, "%g", t);
	else
		fputs("off", out);
}

/* "config sha256 H" or "built-in defaults"; "rules sha256 H (N files)"
 * or "no rules": the same words in both reports. */
static void meta_hashes(const struct eval_meta *m, char *buf, size_t len)
{
	size_t at = 0;
	if (m->config_path == NULL || m->config_hash == NULL)
		at = (size_t)snprintf(buf, len, "built-in defaults; ");
	else
		at = (size_t)snprintf(buf, len, "config sha256 %s; ",
		                      m->config_hash);
	if (at >= len)
		return;
	if (m->rules_hash == NULL)
		snprintf(buf + at, len - at, "no rules");
	else
		snprintf(buf + at, len - at, "rules sha256 %s (%zu file%s)",
		         m->rules_hash, m->rule_files,
		         m->rule_files == 1 ? "" : "s");
}

/* Paths listed one by one in a report; a labels file of a whole corpus
 * (TREC's index names every message) is summed up past these. */
#define EVAL_PATHS_SHOWN 20

static size_t paths_shown(const struct eval_meta *m)
{
	return m->path_count > EVAL_PATHS_SHOWN ? EVAL_PATHS_SHOWN
	                                         : m->path_count;
}

/* "3 messages (spam)" for path i. */
static const char *path_line(const struct eval_meta *m, size_t i,
                             char *buf, size_t len)
{
	size_t n = m->path_counts[i];
	snprintf(buf, len, "%zu message%s (%s)", n, n == 1 ? "" : "s",
	         m->path_labels && m->path_labels[i] ? m->path_labels[i]
	                                             : "unlabelled");
	return buf;
}

/* "and 75399 more paths: 75399 messages" for the paths not shown. */
static const char *paths_rest(const struct eval_meta *m, char *buf,
                              size_t len)
{
	size_t rest = m->path_count - paths_shown(m), n = 0;
	for (size_t i = paths_shown(m); i < m->path_count; i++)
		n += m->path_counts[i];
	snprintf(buf, len, "and %zu more path%s: %zu message%s", rest,
	         rest == 1 ? "" : "s", n, n == 1 ? "" : "s");
	return buf;
}

typedef void escape_fn(FILE *out, const char *s);

static void text_escape(FILE *out, const char *s)
{
	report_text_escaped(out, s, strlen(s));
}

/* Text made printable already (report_command_line()). */
static void text_plain(FILE *out, const char *s)
{
	fputs(s, out);
}

/* "--NAME VALUE" after *sep when VALUE is given, in <> for an address. */
static void env_flag(FILE *out, escape_fn *esc, const char **sep,
                     const char *name, const char *v, bool address)
{
	if (v == NULL)
		return;
	fprintf(out, "%s--%s ", *sep, name);
	if (address)
		esc(out, "<");
	esc(out, v);
	if (address)
		esc(out, ">");
	*sep = " ";
}

/* "--client-ip IP --helo NAME --mail-from <A> --rcpt <B>" as given, or
 * "from each message". */
static void meta_envelope(const struct eval_meta *m, FILE *out,
                          escape_fn *esc)
{
	const struct envguess_flags *f = m->envelope;
	bool any = f && (f->client_ip || f->client_name || f->client_auth ||
	                 f->helo ||
	                 f->mail_from || f->rcpt_count);
	fputs("envelope: ", out);
	if (!any) {
		fputs("from each message", out);
		return;
	}
	const char *sep = "";
	env_flag(out, esc, &sep, "client-ip", f->client_ip, false);
	env_flag(out, esc, &sep, "client-name", f->client_name, false);
	env_flag(out, esc, &sep, "client-auth", f->client_auth, false);
	env_flag(out, esc, &sep, "helo", f->helo, false);
	env_flag(out, esc, &sep, "mail-from", f->mail_from, true);
	for (size_t i = 0; i < f->rcpt_count; i++)
		env_flag(out, esc, &sep, "rcpt", f->rcpts[i], true);
	if (f->mail_from == NULL || f->client_ip == NULL || f->helo == NULL ||
	    f->rcpt_count == 0)
		fputs("; the rest from each message", out);
}

/* Recipient domains shown by name; past these, a count. */
#define EVAL_DOMAINS_SHOWN 5

static void meta_domains(const struct eval_meta *m, FILE *out,
                         escape_fn *esc)
{
	fprintf(out, "per-domain thresholds for %zu domain%s (", m->domain_count,
	        m->domain_count == 1 ? "" : "s");
	for (size_t i = 0; i < m->domain_count && i < EVAL_DOMAINS_SHOWN; i++) {
		fputs(i ? ", " : "", out);
		esc(out, m->domains[i] ? m->domains[i] : "?");
	}
	if (m->domain_count > EVAL_DOMAINS_SHOWN)
		fprintf(out, ", and %zu more", m->domain_count - EVAL_DOMAINS_SHOWN);
	fputs("): flagged is the action each message got; the sweep is by "
	      "score alone", out);
}

/* Rules shown by name with their PCRE2 limits; past these, a count. */
#define EVAL_LIMITS_SHOWN 10

/* The rules that reached a PCRE2 limit, one line each (lead, tail). */
static void meta_limits(const struct eval_meta *m, FILE *out,
                        escape_fn *esc, const char *lead, const char *tail)
{
	size_t shown = m->limit_count < EVAL_LIMITS_SHOWN ? m->limit_count
	                                                  : EVAL_LIMITS_SHOWN;
	for (size_t i = 0; i < shown; i++) {
		const struct eval_limit *l = &m->limits[i];
		fprintf(out, "%sPCRE2 limit: rule ", lead);
		esc(out, l->rule);
		fprintf(out, " on %zu message%s, counted as not hit (first: ",
		        l->messages, l->messages == 1 ? "" : "s");
		esc(out, l->first ? l->first : "?");
		fprintf(out, ")%s", tail);
	}
	if (m->limit_count > shown)
		fprintf(out, "%sPCRE2 limit: %zu more rules%s", lead,
		        m->limit_count - shown, tail);
}

/* The lines on how the run was started, each after lead and before
 * tail: esc for text from outside; cmd_esc for the command line, which
 * report_command_line() made printable and ready to paste (its
 * backslashes are the shell's, not to be doubled). */
static void meta_run(const struct eval_meta *m, FILE *out, escape_fn *esc,
                     escape_fn *cmd_esc, const char *lead, const char *tail)
{
	for (size_t i = 0; i < m->include_count; i++) {
		fprintf(out, "%sincluded ", lead);
		esc(out, m->includes[i]);
		fprintf(out, " (sha256 %s)%s", m->include_hashes[i], tail);
	}
	if (m->started) {
		fprintf(out, "%sstarted ", lead);
		esc(out, m->started);
		fputs(tail, out);
	}
	if (m->command) {
		fprintf(out, "%scommand: ", lead);
		cmd_esc(out, m->command);
		fputs(tail, out);
	}
	fputs(lead, out);
	meta_envelope(m, out, esc);
	if (m->client_note) {
		fputs("; ", out);
		esc(out, m->client_note);
	}
	fputs(tail, out);
	if (m->domain_count > 0) {
		fputs(lead, out);
		meta_domains(m, out, esc);
		fputs(tail, out);
	}
	if (m->dns_stages && *m->dns_stages) {
		fprintf(out, "%slive DNS: the stages ", lead);
		esc(out, m->dns_stages);
		fputs(" asked DNS while scanning; a later run may differ as the "
		      "records change", out);
		fputs(tail, out);
	}
	meta_limits(m, out, esc, lead, tail);
}

/* "2820 rules" and, when the rule files had lines vigil could not use,
 * how many (a grader's own files: audit20 M1), into buf. */
static const char *rule_summary(const struct eval_meta *m, char *buf,
                                size_t len)
{
	int n = snprintf(buf, len, "%zu rules", m->rule_count);
	if (n > 0 && (size_t)n < len && (m->rule_errors || m->rule_unsupported))
		snprintf(buf + n, len - (size_t)n, " (of the rule files' lines "
		         "%zu in error: vigil rules check; %zu not implemented: "
		         "vigil rules --unsupported)", m->rule_errors,
		         m->rule_unsupported);
	return buf;
}

static void meta_text(const struct eval_meta *m, FILE *out)
{
	if (m == NULL)
		return;
	char hashes[256], line[160];
	meta_hashes(m, hashes, sizeof hashes);
	if (m->partial)
		fprintf(out, "PARTIAL REPORT: %s\n", m->partial);
	const char *what = m->milter ? m->milter : m->config_path;
	fprintf(out, "vigil %s; %s ", m->version ? m->version : "?",
	        m->milter ? "milter" : "configuration");
	if (what != NULL)
		report_text_escaped(out, what, strlen(what));
	else
		fputs("(built-in defaults)", out);
	if (m->milter)
		fprintf(out, "\n  %u connection%s; %.1f s\n", m->jobs,
		        m->jobs == 1 ? "" : "s", m->seconds);
	else
		fprintf(out, "\n  %s\n  %s; %u job%s; %.1f s\n", hashes,
		        rule_summary(m, line, sizeof line), m->jobs,
		        m->jobs == 1 ? "" : "s", m->seconds);
	meta_run(m, out, text_escape, text_plain, "  ", "\n");
	for (size_t i = 0; i < m->label_file_count; i++) {
		fputs("  labels ", out);
		report_text_escaped(out, m->label_files[i],
		                    strlen(m->label_files[i]));
		fprintf(out, " (sha256 %s)\n", m->label_file_hashes[i]);
	}
	size_t shown = paths_shown(m);
	for (size_t i = 0; i < shown; i++) {
		fputs("  ", out);
		report_text_escaped(out, m->paths[i], strlen(m->paths[i]));
		fprintf(out, ": %s\n", path_line(m, i, line, sizeof line));
	}
	if (shown < m->path_count)
		fprintf(out, "  %s\n", paths_rest(m, line, sizeof line));
}

/* What flagged means: "At threshold T" or the verdicts'. */
static void heading(const struct eval *e, FILE *out)
{
	if (e->actions) {
		fputs("By the actions taken (default threshold ", out);
		threshold(out, e->threshold);
		fputs(")", out);
		return;
	}
	if (e->verdicts) {
		fputs("By the milter's verdicts", out);
		return;
	}
	fputs("At threshold ", out);
	threshold(out, e->threshold);
}

/* Messages set apart (errors[], deferred[]), all labels. */
static size_t apart(const size_t by_label[3])
{
	return by_label[EVAL_UNLABELLED] + by_label[EVAL_HAM] +
	       by_label[EVAL_SPAM];
}

/* The sweep's title: scores missing are said, "" when none has one
 * (no labelled message at all included). */
static const char *sweep_title(const struct eval *e, char *buf, size_t len)
{
	size_t with = scored(&e->spam) + scored(&e->ham);
	size_t without = e->spam.unscored + e->ham.unscored;
	if (with == 0)
		return "";
	int n = without == 0
		? snprintf(buf, len, "Threshold sweep")
		: snprintf(buf, len, "Threshold sweep over the %zu messages "
		           "with a score (%zu without one)", with, without);
	size_t err = e->errors[EVAL_SPAM] + e->errors[EVAL_HAM];
	if (err && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; the %zu labelled messages "
		         "not scanned are not in it", err);
	return buf;
}

void eval_report_text(const struct eval *e, const struct eval_meta *m,
                      FILE *out)
{
	meta_text(m, out);
	struct metrics x = metrics_thr(e);
	fputc('\n', out);
	heading(e, out);
	fprintf(out, ": %zu spam, %zu ham", e->spam.n, e->ham.n);
	if (e->unlabelled)
		fprintf(out, ", %zu unlabelled", e->unlabelled);
	fprintf(out, "; scan errors: %zu spam, %zu ham, %zu unlabelled",
	        e->errors[EVAL_SPAM], e->errors[EVAL_HAM],
	        e->errors[EVAL_UNLABELLED]);
	if (apart(e->deferred))
		fprintf(out, "; deferred (tempfail, not counted): %zu spam, %zu "
		        "ham, %zu unlabelled", e->deferred[EVAL_SPAM],
		        e->deferred[EVAL_HAM], e->deferred[EVAL_UNLABELLED]);
	fputc('\n', out);
	fprintf(out, "                 flagged   not flagged\n");
	fprintf(out, "  spam          %8zu      %8zu\n", x.tp, x.fn);
	fprintf(out, "  ham           %8zu      %8zu\n", x.fp, x.tn);
	fprintf(out, "  spam recall     ");
	pct(out, x.recall);
	with_errors(e, &x, false, out);
	fprintf(out, "\n  ham FP rate     ");
	pct(out, x.fpr);
	fprintf(out, "\n  precision       ");
	pct(out, x.precision);
	fprintf(out, "\n  F1              ");
	pct(out, x.f1);
	with_errors(e, &x, true, out);
	char buf[256];
	const char *title = sweep_title(e, buf, sizeof buf);
	if (*title == '\0')
		fprintf(out, "\n\nThreshold sweep: no message had a score\n");
	else
		fprintf(out, "\n\n%s:\n  score   recall  FP rate  precision\n",
		        title);
	for (int t = SWEEP_LO; *title && t <= SWEEP_HI; t++) {
		struct metrics s = metrics_at(e, t);
		fprintf(out, "  %5d ", t);
		pct(out, s.recall);
		pct(out, s.fpr);
		fprintf(out, "  ");
		pct(out, s.precision);
		fprintf(out, "\n");
	}
	size_t n;
	struct rule_count **r = sorted_rules(e, &n);
	/* through a milter the client knows no scores: no such column */
	fprintf(out, "\nRule hits (messages on spam / ham%s):\n", e->verdicts ?
	        "" : ", the score a hit counted: the rule's, times its count "
	        "for tflags multiple");
	if (e->verdicts && e->spam.unscored + e->ham.unscored > 0)
		fprintf(out, "  (over the messages with a score header: the %zu "
		        "without one, refused ones among them, name no rules)\n",
		        e->spam.unscored + e->ham.unscored);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-32s %7zu %7zu", r[i]->name, r[i]->spam, r[i]->ham);
		if (r[i]->scored)
			fprintf(out, "  %8.3f", r[i]->score);
		fputc('\n', out);
	}
	free(r);
}

/* ---- HTML ---- */

/* Valid UTF-8 in HTML text: markup characters as entities, control
 * characters (which HTML cannot hold) as \xHH like the bytes before. */
static void html_put(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else
			putc(c, out);
	}
}

/* Text for HTML as JSON lines and CSV write it (report_utf8_escaped():
 * bytes that are not UTF-8, a file name in Latin-1, as \xHH, a
 * backslash as \\), then HTML-escaped: the page is valid UTF-8 and the
 * bytes recoverable, whatever the paths and Message-IDs. */
static void html_escape(FILE *out, const char *s)
{
	report_utf8_escaped(out, s ? s : "", s ? strlen(s) : 0, html_put);
}

/* Printable text (report_command_line()) with HTML's entities only. */
static void html_plain(FILE *out, const char *s)
{
	html_put(out, s, strlen(s));
}

static void html_pct(FILE *out, double v)
{
	if (isnan(v))
		fputs("n/a", out);
	else
		fprintf(out, "%.2f%%", v * 100.0);
}

/* ROC: FP rate (x) against recall (y), one point per sweep threshold,
 * the configured threshold marked. */
static void html_roc(const struct eval *e, FILE *out)
{
	const int w = 420, h = 320, pad = 40;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%d\" role=\"img\" aria-label=\"ROC curve\">\n",
	        w + 2 * pad, h + 2 * pad);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
	        "fill=\"none\" stroke=\"#888\"/>\n", pad, pad, w, h);
	for (int i = 0; i <= 4; i++) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
		        "text-anchor=\"middle\">%d%%</text>\n", pad + w * i / 4,
		        pad + h + 16, 25 * i);
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
		        "text-anchor=\"end\">%d%%</text>\n", pad - 4,
		        pad + h - h * i / 4 + 4, 25 * i);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">"
	        "ham false-positive rate</text>\n", pad + w / 2, pad + h + 34);
	fprintf(out, "<text x=\"12\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 12 %d)\" "
	        "text-anchor=\"middle\">spam recall</text>\n", pad + h / 2, pad + h / 2);
	/* from (0,0), nothing flagged, to (1,1), everything flagged: the
	 * sweep's points lie between, whatever the scores' range */
	fprintf(out, "<polyline fill=\"none\" stroke=\"#1565c0\" "
	        "stroke-width=\"2\" points=\"%d,%d ", pad, pad + h);
	for (int t = SWEEP_HI; t >= SWEEP_LO; t--) {
		struct metrics s = metrics_at(e, t);
		double x = isnan(s.fpr) ? 0 : s.fpr, y = isnan(s.recall) ? 0 : s.recall;
		fprintf(out, "%.1f,%.1f ", pad + x * w, pad + h - y * h);
	}
	fprintf(out, "%d,%d\"/>\n", pad + w, pad);
	struct metrics c = metrics_thr(e);
	if (!isnan(c.fpr) && !isnan(c.recall) &&
	    (isfinite(e->threshold) || e->verdicts)) {
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#c62828\">"
		        "<title>", pad + c.fpr * w, pad + h - c.recall * h);
		heading(e, out);
		fputs("</title></circle>\n", out);
	}
	fputs("</svg>\n", out);
}

static void html_meta(const struct eval_meta *m, FILE *out)
{
	if (m->partial) {
		fputs("<p class=\"partial\"><strong>Partial report: ", out);
		html_escape(out, m->partial);
		fputs(".</strong></p>\n", out);
	}
	fputs("<p>vigil ", out);
	html_escape(out, m->version);
	if (m->milter != NULL) {
		fputs("; milter <code>", out);
		html_escape(out, m->milter);
		fprintf(out, "</code><br>%u connection%s; %.1f s</p>\n<ul>\n",
		        m->jobs, m->jobs == 1 ? "" : "s", m->seconds);
	} else {
		char hashes[256];
		meta_hashes(m, hashes, sizeof hashes);
		fputs("; configuration <code>", out);
		html_escape(out, m->config_path ? m->config_path
		                                : "(built-in defaults)");
		fputs("</code><br>", out);
		html_escape(out, hashes);
		char rules[200];
		fprintf(out, "<br>%s; %u job%s; %.1f s</p>\n<ul>\n",
		        rule_summary(m, rules, sizeof rules), m->jobs,
		        m->jobs == 1 ? "" : "s", m->seconds);
	}
	meta_run(m, out, html_escape, html_plain, "<li>", "</li>\n");
	char line[160];
	for (size_t i = 0; i < m->label_file_count; i++) {
		fputs("<li>labels <code>", out);
		html_escape(out, m->label_files[i]);
		fprintf(out, "</code> (sha256 %s)</li>\n", m->label_file_hashes[i]);
	}
	size_t shown = paths_shown(m);
	for (size_t i = 0; i < shown; i++) {
		fputs("<li><code>", out);
		html_escape(out, m->paths[i]);
		fputs("</code>: ", out);
		html_escape(out, path_line(m, i, line, sizeof line));
		fputs("</li>\n", out);
	}
	if (shown < m->path_count) {
		fputs("<li>", out);
		html_escape(out, paths_rest(m, line, sizeof line));
		fputs("</li>\n", out);
	}
	fputs("</ul>\n", out);
}

static void html_matrix(const struct eval *e, FILE *out)
{
	struct metrics x = metrics_thr(e);
	fputs("<h2>", out);
	heading(e, out);
	fprintf(out, "</h2>\n<table><tr><th></th><th>flagged"
	        "</th><th>not flagged</th></tr>\n<tr><td>spam (%zu)</td><td>%zu</td>"
	        "<td>%zu</td></tr>\n<tr><td>ham (%zu)</td><td>%zu</td><td>%zu</td>"
	        "</tr></table>\n<p>", e->spam.n, x.tp, x.fn, e->ham.n, x.fp, x.tn);
	fputs("spam recall ", out);
	html_pct(out, x.recall);
	with_errors(e, &x, false, out);
	fputs(" · ham false-positive rate ", out);
	html_pct(out, x.fpr);
	fputs(" · precision ", out);
	html_pct(out, x.precision);
	fputs(" · F1 ", out);
	html_pct(out, x.f1);
	with_errors(e, &x, true, out);
	fprintf(out, " · scan errors %zu", apart(e->errors));
	if (apart(e->deferred))
		fprintf(out, " · deferred (tempfail, not counted) %zu",
		        apart(e->deferred));
	fputs("</p>\n", out);
}

/* ROC and sweep table; a sentence when no message had a score. */
static void html_sweep(const struct eval *e, FILE *out)
{
	char buf[256];
	const char *title = sweep_title(e, buf, sizeof buf);
	if (*title == '\0') {
		fputs("<h2>Threshold sweep</h2>\n<p>No message had a score.</p>\n",
		      out);
		return;
	}
	fputs("<h2>ROC</h2>\n", out);
	/* a curve needs both axes: recall (scored spam) and the FP rate
	 * (scored ham); without one it would only draw the diagonal */
	if (scored(&e->spam) > 0 && scored(&e->ham) > 0)
		html_roc(e, out);
	else
		fprintf(out, "<p>No curve: it needs spam and ham with a score "
		        "(%zu spam, %zu ham here).</p>\n", scored(&e->spam),
		        scored(&e->ham));
	fputs("<h2>", out);
	html_escape(out, title);
	fputs("</h2>\n<table><tr><th>score</th><th>recall</th>"
	      "<th>FP rate</th><th>precision</th></tr>\n", out);
	for (int t = SWEEP_LO; t <= SWEEP_HI; t++) {
		struct metrics s = metrics_at(e, t);
		fprintf(out, "<tr><td>%d</td><td>", t);
		html_pct(out, s.recall);
		fputs("</td><td>", out);
		html_pct(out, s.fpr);
		fputs("</td><td>", out);
		html_pct(out, s.precision);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_rules(const struct eval *e, FILE *out)
{
	fputs("<h2>Rule hits</h2>\n", out);
	if (e->verdicts && e->spam.unscored + e->ham.unscored > 0)
		fprintf(out, "<p>Over the messages with a score header: the %zu "
		        "without one, refused ones among them, name no rules.</p>\n",
		        e->spam.unscored + e->ham.unscored);
	fputs("<table><tr><th>rule</th><th>spam</th><th>ham</th><th>score"
	      "</th></tr>\n", out);
	size_t n;
	struct rule_count **r = sorted_rules(e, &n);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", out);
		html_escape(out, r[i]->name);
		fprintf(out, "</td><td>%zu</td><td>%zu</td><td>", r[i]->spam,
		        r[i]->ham);
		if (r[i]->scored)
			fprintf(out, "%.3f", r[i]->score);
		fputs("</td></tr>\n", out);
	}
	free(r);
	fputs("</table>\n", out);
}

/* Where the page for path is written first: a new file beside the file
 * path names (a symbolic link's target: the link stays a link), with
 * that file's mode, renamed over it once complete, so that a failed
 * write (a full disk) leaves the earlier report as it was instead of a
 * cut page; or path itself when it exists and is no regular file
 * (/dev/stdout, a FIFO), has other hard links, or is a link to nothing
 * yet. *tmp: the temporary name to rename (malloc'ed), or NULL; *dest:
 * what to rename it to (malloc'ed). */
static FILE *open_report(const char *path, char **tmp, char **dest)
{
	struct stat st;
	*tmp = NULL;
	*dest = realpath(path, NULL);
	bool exists = *dest != NULL && stat(*dest, &st) == 0;
	if ((exists && (!S_ISREG(st.st_mode) || st.st_nlink > 1)) ||
	    (*dest == NULL && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)))
		return fopen(path, "w");
	if (*dest == NULL && (*dest = strdup(path)) == NULL)
		return NULL;
	if (asprintf(tmp, "%s.%ld.tmp", *dest, (long)getpid()) < 0) {
		*tmp = NULL;
		errno = ENOMEM;
		return NULL;
	}
	int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0 && exists)
		(void)fchmod(fd, st.st_mode & 07777);   /* as it was: best effort */
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (out == NULL) {
		int saved = errno;
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		/* a writable FILE in a directory that is not (as
		 * eval_report_writable() allowed): written in place */
		if (saved == EACCES && access(path, W_OK) == 0)
			return fopen(path, "w");
		errno = saved;
	}
	return out;
}

/* Ends the write open_report() began: 0, or -1 with errno (the
 * temporary file removed). dest is freed. */
static int close_report(FILE *out, char *tmp, char *dest)
{
	int err = ferror(out);
	int rc = fclose(out) != 0 || err ? -1 : 0;
	if (rc != 0 && errno == 0)
		errno = EIO;
	if (rc == 0 && tmp != NULL && rename(tmp, dest) != 0)
		rc = -1;
	if (rc != 0 && tmp != NULL) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	free(tmp);
	free(dest);
	return rc;
}

int eval_report_html(const struct eval *e, const struct eval_meta *m,
                     const char *path)
{
	char *tmp, *dest;
	FILE *out = open_report(path, &tmp, &dest);
	if (out == NULL) {
		free(dest);
		return -1;
	}
	const char *partial = m && m->partial ? " (partial)" : "";
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	        "charset=\"utf-8\"><title>vigil scan report%s</title><style>"
	        "body{font-family:sans-serif;margin:2em;max-width:60em}"
	        "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
	        "padding:.2em .6em;text-align:right}th{background:#eee}"
	        "td:first-child,th:first-child{text-align:left}"
	        ".partial{color:#b71c1c}"
	        "</style></head><body>\n<h1>vigil scan report%s</h1>\n",
	        partial, partial);
	if (m != NULL)
		html_meta(m, out);
	html_matrix(e, out);
	html_sweep(e, out);
	html_rules(e, out);
	fputs("</body></html>\n", out);
	return close_report(out, tmp, dest);
}

int eval_report_writable(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return -1;
		}
		return access(path, W_OK);
	}
	if (errno != ENOENT)
		return -1;
	/* a new file: its directory must exist and take it */
	char *copy = strdup(path);
	if (copy == NULL)
		return -1;
	int rc = access(dirname(copy), W_OK | X_OK);
	free(copy);
	return rc;
}

/* Where path is or would be, symlinks resolved, or NULL. */
static char *report_location(const char *path)
{
	char *real = realpath(path, NULL);
	if (real != NULL || errno != ENOENT)
		return real;
	char *a = strdup(path), *b = strdup(path), *loc = NULL;
	char *dir = a ? realpath(dirname(a), NULL) : NULL;
	if (dir != NULL && b != NULL &&
	    asprintf(&loc, "%s/%s", dir, basename(b)) < 0)
		loc = NULL;
	free(dir);
	free(a);
	free(b);
	return loc;
}

/* 0 when the report may be written over input; -1 when it is that file
 * or a file under that directory (said). */
static int spares_input(const char *path, const char *loc, bool exists,
                        const struct stat *rs, const char *input)
{
	struct stat is;
	if (stat(input, &is) != 0)
		return 0;
	if (exists && is.st_dev == rs->st_dev && is.st_ino == rs->st_ino) {
		fprintf(stderr, "vigil scan: --report %s is the same file as %s, "
		        "which the run reads; not overwritten\n", path, input);
		return -1;
	}
	char *dir = S_ISDIR(is.st_mode) ? realpath(input, NULL) : NULL;
	size_t n = dir ? strlen(dir) : 0;
	bool inside = dir && loc && strncmp(loc, dir, n) == 0 &&
	              (loc[n] == '/' || (n == 1 && dir[0] == '/'));
	free(dir);
	if (inside && exists) {
		fprintf(stderr, "vigil scan: --report %s is a file under %s, "
		        "which the run reads; not overwritten\n", path, input);
		return -1;
	}
	if (inside)
		fprintf(stderr, "vigil scan: --report %s: written inside %s; a "
		        "later run over %s reads it as a message\n", path, input,
		        input);
	return 0;
}

int eval_report_spares(const char *path, const char *const *inputs,
                       size_t n)
{
	struct stat rs;
	bool exists = stat(path, &rs) == 0;
	char *loc = report_location(path);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (inputs[i] != NULL && strcmp(inputs[i], "-") != 0)
			rc = spares_input(path, loc, exists, &rs, inputs[i]);
	free(loc);
	return rc;
}

int eval_report(const struct eval *e, const struct eval_meta *m, FILE *out,
                const char *html)
{
	eval_report_text(e, m, out);
	if (html == NULL || eval_report_html(e, m, html) == 0)
		return 0;
	fprintf(stderr, "vigil scan: --report %s: %s\n", html, strerror(errno));
	return -1;
}

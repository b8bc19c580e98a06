/* Unit tests: evaluation metrics, sweep, rule counts, HTML report. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "envguess.h"
#include "evalrep.h"

static struct eval *sample(void)
{
	struct eval *e = eval_new(5.0);
	const char *a[] = { "RULE_A", "RULE_B", "RULE_A" };
	const char *b[] = { "RULE_B" };
	/* spam: 10, 6, 2 ; ham: -1, 0, 7 */
	/* RULE_A's score known, RULE_B's not */
	const double sa[] = { 2.5, NAN, 2.5 };
	assert_int_equal(eval_add_scored(e, EVAL_SPAM, true, 10, a, sa, 3), 0);
	assert_int_equal(eval_add(e, EVAL_SPAM, 6, a, 1), 0);
	assert_int_equal(eval_add(e, EVAL_SPAM, 2, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, -1, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, 0, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, 7, b, 1), 0);
	assert_int_equal(eval_add(e, EVAL_UNLABELLED, 3, b, 1), 0);
	eval_add_error(e, EVAL_SPAM);
	return e;
}

static char *text_report(const struct eval *e, const struct eval_meta *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	eval_report_text(e, m, f);
	fclose(f);
	return buf;
}

/* The HTML page of e and m (malloc'ed). */
static char *html_report(const struct eval *e, const struct eval_meta *m)
{
	char path[] = "/tmp/test_evalrep_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(eval_report_html(e, m, path), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

static void metrics(void **state)
{
	(void)state;
	struct eval *e = sample();
	char *r = text_report(e, NULL);
	/* 2 of 3 spam flagged, 1 of 3 ham flagged */
	assert_non_null(strstr(r, "  spam                 2             1\n"));
	assert_non_null(strstr(r, "  ham                  1             2\n"));
	assert_non_null(strstr(r, "spam recall       66.67%"));
	assert_non_null(strstr(r, "ham FP rate       33.33%"));
	assert_non_null(strstr(r, "precision         66.67%"));
	assert_non_null(strstr(r, "1 unlabelled"));
	assert_non_null(strstr(r, "scan errors: 1 spam, 0 ham, 0 unlabelled\n"));
	/* sweep at 8: recall 1/3, FP 0 */
	assert_non_null(strstr(r, "      8   33.33%   0.00%"));
	/* RULE_A counted once per message: 2 spam; RULE_B 1 spam, 1 ham */
	assert_non_null(strstr(r, "RULE_A                                 2       0"
	                          "     2.500\n"));
	assert_non_null(strstr(r, "RULE_B                                 1       1"
	                          "\n"));   /* no score known */
	free(r);
	eval_free(e);
}

static void empty_corpus(void **state)
{
	(void)state;
	struct eval *e = eval_new(5.0);
	char *r = text_report(e, NULL);
	assert_non_null(strstr(r, "spam recall          n/a"));
	free(r);
	eval_free(e);
}

static void html(void **state)
{
	(void)state;
	struct eval *e = sample();
	const char *paths[] = { "spam<1>.mbox", "caf\xe9\x01\xc3\xa9.mbox",
	                        "a\\b&\"c\".mbox" };
	const char *labels[] = { "spam", "ham", "ham" };
	size_t counts[] = { 4, 0, 0 };
	struct eval_meta m = { .version = "0.1", .config_path = "vigild.conf",
	                       .config_hash = "abc", .rule_count = 42,
	                       .paths = paths, .path_labels = labels,
	                       .path_counts = counts, .path_count = 3,
	                       .seconds = 1.5, .jobs = 2, .rules_hash = "def",
	                       .rule_files = 61 };
	char *buf = html_report(e, &m);
	assert_non_null(strstr(buf, "<svg"));
	assert_non_null(strstr(buf, "<polyline"));
	/* the ROC curve from (0,0) to (1,1), whatever the scores' range */
	const char *pts = strstr(buf, "points=\"");
	assert_non_null(pts);
	assert_memory_equal(pts, "points=\"40,360 ", 15);
	const char *end = strchr(pts + 8, '"');
	assert_non_null(end);
	assert_memory_equal(end - 7, " 460,40", 7);
	assert_non_null(strstr(buf, "spam&lt;1&gt;.mbox"));
	assert_null(strstr(buf, "spam<1>"));
	/* a Latin-1 byte and a control character as \xHH, as JSON lines
	 * and CSV write them (a backslash as \\), then HTML-escaped: valid
	 * UTF-8, the bytes recoverable */
	assert_non_null(strstr(buf, "caf\\xe9\\x01\xc3\xa9.mbox"));
	assert_non_null(strstr(buf, "a\\\\b&amp;&quot;c&quot;.mbox"));
	assert_null(strstr(buf, "fffd"));
	assert_non_null(strstr(buf, "42 rules"));
	assert_non_null(strstr(buf, "config sha256 abc; rules sha256 def "
	                            "(61 files)"));
	assert_non_null(strstr(buf, "<td>RULE_A</td><td>2</td><td>0</td>"
	                            "<td>2.500</td>"));
	assert_int_equal(eval_report_html(e, &m, "/nonexistent/dir/x.html"), -1);
	free(buf);
	eval_free(e);
}

/* The reproducibility facts of the text report: configuration and rules
 * digests, or what stands instead of them. */
static void meta_text(void **state)
{
	(void)state;
	struct eval *e = sample();
	const char *paths[] = { "spam.mbox" };
	const char *labs[] = { "spam" };
	size_t counts[] = { 4 };
	struct eval_meta m = { .version = "0.1", .config_path = "vigild.conf",
	                       .config_hash = "abc", .rule_count = 42,
	                       .paths = paths, .path_labels = labs,
	                       .path_counts = counts, .path_count = 1,
	                       .seconds = 1.5, .jobs = 2, .rules_hash = "def",
	                       .rule_files = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	eval_report_text(e, &m, f);
	m.rule_errors = 3;      /* a grader's rule files (audit20 M1) */
	m.rule_unsupported = 7;
	eval_report_text(e, &m, f);
	m.config_path = NULL;
	m.config_hash = NULL;
	m.rules_hash = NULL;
	eval_report_text(e, &m, f);
	fclose(f);
	assert_non_null(strstr(buf, "\n  42 rules (of the rule files' lines 3 "
	                            "in error: vigil rules check; 7 not "
	                            "implemented: vigil rules --unsupported); "
	                            "2 jobs; 1.5 s\n"));
	assert_non_null(strstr(buf, "vigil 0.1; configuration vigild.conf\n"
	                            "  config sha256 abc; rules sha256 def "
	                            "(1 file)\n  42 rules; 2 jobs; 1.5 s\n"
	                            "  envelope: from each message\n"
	                            "  spam.mbox: 4 messages (spam)\n"));
	assert_non_null(strstr(buf, "configuration (built-in defaults)\n"
	                            "  built-in defaults; no rules\n"));
	free(buf);
	eval_free(e);
}

/* A labels file naming every message (TREC's index): the file and its
 * digest are recorded, the first 20 paths listed and the rest summed. */
static void meta_many_paths(void **state)
{
	(void)state;
	struct eval *e = sample();
	enum { N = 25 };
	char names[N][16];
	const char *paths[N], *labs[N];
	size_t counts[N];
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "data/inmail.%zu", i + 1);
		paths[i] = names[i];
		labs[i] = i % 2 ? "spam" : "ham";
		counts[i] = i == N - 1 ? 2 : 1;
	}
	const char *files[] = { "full/index" }, *hashes[] = { "0123ab" };
	struct eval_meta m = { .version = "0.1", .paths = paths,
	                       .path_labels = labs, .path_counts = counts,
	                       .path_count = N, .jobs = 1,
	                       .label_files = files, .label_file_hashes = hashes,
	                       .label_file_count = 1 };
	char *t = text_report(e, &m);
	assert_non_null(strstr(t, "  labels full/index (sha256 0123ab)\n"
	                          "  data/inmail.1: 1 message (ham)\n"
	                          "  data/inmail.2: 1 message (spam)\n"));
	assert_non_null(strstr(t, "  data/inmail.20: 1 message (spam)\n"
	                          "  and 5 more paths: 6 messages\n"));
	assert_null(strstr(t, "inmail.21"));
	free(t);
	char *h = html_report(e, &m);
	assert_non_null(strstr(h, "<li>labels <code>full/index</code> (sha256 "
	                          "0123ab)</li>"));
	assert_non_null(strstr(h, "<li>and 5 more paths: 6 messages</li>"));
	assert_null(strstr(h, "inmail.21"));
	free(h);
	eval_free(e);
}

/* A milter's verdicts: flagged as given, whatever the score; messages
 * without a score stay in the matrix and out of the sweep. */
static void verdicts(void **state)
{
	(void)state;
	struct eval *e = eval_new_verdicts();
	assert_non_null(e);
	const char *a[] = { "SYM_A" };
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, true, 1.0, a, 1), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, true, NAN, NULL, 0), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, false, 9.0, NULL, 0), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_HAM, false, 0.5, a, 1), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_HAM, true, NAN, NULL, 0), 0);
	const char *paths[] = { "s.mbox" };
	const char *labs[] = { "spam" };
	size_t counts[] = { 3 };
	struct eval_meta m = { .version = "0.1", .paths = paths,
	                       .path_labels = labs, .path_counts = counts,
	                       .path_count = 1, .seconds = 2.0, .jobs = 4,
	                       .milter = "unix:/run/x.sock" };
	char *t = text_report(e, &m);
	assert_non_null(strstr(t, "vigil 0.1; milter unix:/run/x.sock\n"
	                          "  4 connections; 2.0 s\n"
	                          "  envelope: from each message\n"
	                          "  s.mbox: 3 messages (spam)\n"));
	assert_null(strstr(t, "sha256"));
	assert_non_null(strstr(t, "By the milter's verdicts: 3 spam, 2 ham"));
	assert_non_null(strstr(t, "  spam                 2             1\n"
	                          "  ham                  1             1\n"));
	/* the sweep over the 3 with a score: from 1, spam 1.0 and 9.0 */
	assert_non_null(strstr(t, "Threshold sweep over the 3 messages with "
	                          "a score (2 without one):"));
	assert_non_null(strstr(t, "      1  100.00%   0.00%   100.00%\n"));
	assert_non_null(strstr(t, "      2   50.00%   0.00%   100.00%\n"));
	assert_non_null(strstr(t, "  (over the messages with a score header: "
	                          "the 2 without one, refused ones among them, "
	                          "name no rules)\n"
	                          "  SYM_A                                  1"
	                          "       1\n"));
	free(t);
	eval_free(e);

	/* no score at all: the sweep says so */
	e = eval_new_verdicts();
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, true, NAN, NULL, 0), 0);
	t = text_report(e, NULL);
	assert_non_null(strstr(t, "Threshold sweep: no message had a score\n"));
	assert_null(strstr(t, "  score   recall"));
	free(t);
	char *buf = html_report(e, NULL);
	assert_non_null(strstr(buf, "<h2>By the milter's verdicts</h2>"));
	assert_non_null(strstr(buf, "No message had a score."));
	assert_null(strstr(buf, "<svg"));
	free(buf);
	eval_free(e);
}

/* The in-process scan: flagged is the action taken (a domain's own
 * threshold, a stage's reject), not the score against the default
 * threshold; the report says which thresholds were in effect, how the
 * run was started, and that it was cut short. */
static void actions(void **state)
{
	(void)state;
	struct eval *e = eval_new_actions(5.0);
	assert_non_null(e);
	/* ham at 1.5, tagged by example.org's add_header = 1 */
	assert_int_equal(eval_add_verdict(e, EVAL_HAM, true, 1.5, NULL, 0), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, true, 1.5, NULL, 0), 0);
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, false, 0.5, NULL, 0), 0);
	/* tempfails: apart, in neither matrix nor sweep */
	eval_add_deferred(e, EVAL_SPAM);
	eval_add_deferred(e, EVAL_HAM);
	eval_add_deferred(e, EVAL_HAM);
	const char *domains[] = { "example.org", "b.example" };
	const char *rcpts[] = { "u@example.org" };
	struct envguess_flags env = { .client_ip = "192.0.2.1",
	                              .mail_from = "", .rcpts = rcpts,
	                              .rcpt_count = 1 };
	struct eval_meta m = { .version = "0.1", .jobs = 1, .domains = domains,
	                       .domain_count = 2, .envelope = &env,
	                       .command = "vigil scan --label ham 'a b'",
	                       .started = "2026-11-24T09:30:00Z",
	                       .dns_stages = "spf, dmarc",
	                       .partial = "interrupted by SIGINT after 3 "
	                                  "messages" };
	char *t = text_report(e, &m);
	assert_non_null(strstr(t, "PARTIAL REPORT: interrupted by SIGINT after "
	                          "3 messages\nvigil 0.1;"));
	assert_non_null(strstr(t, "  started 2026-11-24T09:30:00Z\n"
	                          "  command: vigil scan --label ham 'a b'\n"
	                          "  envelope: --client-ip 192.0.2.1 "
	                          "--mail-from <> --rcpt <u@example.org>; the "
	                          "rest from each message\n"
	                          "  per-domain thresholds for 2 domains "
	                          "(example.org, b.example): flagged is the "
	                          "action each message got; the sweep is by "
	                          "score alone\n"
	                          "  live DNS: the stages spf, dmarc asked DNS "
	                          "while scanning; a later run may differ as "
	                          "the records change\n"));
	assert_non_null(strstr(t, "By the actions taken (default threshold 5): "
	                          "2 spam, 1 ham; scan errors: 0 spam, 0 ham, "
	                          "0 unlabelled; deferred (tempfail, not "
	                          "counted): 1 spam, 2 ham, 0 unlabelled\n"));
	assert_non_null(strstr(t, "  spam                 1             1\n"
	                          "  ham                  1             0\n"));
	assert_non_null(strstr(t, "ham FP rate      100.00%"));
	/* the sweep stays by score: at 1, both 1.5s */
	assert_non_null(strstr(t, "      1   50.00% 100.00%"));
	free(t);
	char *buf = html_report(e, &m);
	assert_non_null(strstr(buf, "<title>vigil scan report (partial)</title>"));
	assert_non_null(strstr(buf, "Partial report: interrupted by SIGINT "
	                            "after 3 messages."));
	assert_non_null(strstr(buf, "<li>command: vigil scan --label ham 'a b'"
	                            "</li>"));
	assert_non_null(strstr(buf, "<li>envelope: --client-ip 192.0.2.1 "
	                            "--mail-from &lt;&gt;"));
	assert_non_null(strstr(buf, "<li>started 2026-11-24T09:30:00Z</li>"));
	assert_non_null(strstr(buf, "per-domain thresholds for 2 domains"));
	assert_non_null(strstr(buf, " · scan errors 0 · deferred (tempfail, not "
	                            "counted) 3</p>"));
	free(buf);
	eval_free(e);
}

/* F1 is 2TP / (2TP + FP + FN): 0 when spam was missed and nothing right
 * flagged, n/a only when there is no spam and nothing flagged. */
/* audit25 L1, L3, L6: no ROC is drawn from one label's scores or from
 * none; through a milter the rule table promises no score column; one
 * job is "1 job". */
static void roc_and_wording(void **state)
{
	(void)state;
	/* ham only: recall has no messages, so no curve */
	struct eval *e = eval_new(5.0);
	assert_int_equal(eval_add(e, EVAL_HAM, 1, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, 7, NULL, 0), 0);
	struct eval_meta m = { .version = "0.1", .config_path = "c.conf",
	                       .seconds = 1.0, .jobs = 1 };
	char *h = html_report(e, &m);
	assert_null(strstr(h, "<polyline"));
	assert_non_null(strstr(h, "No curve: it needs spam and ham with a "
	                          "score (0 spam, 2 ham here)."));
	assert_non_null(strstr(h, "; 1 job; 1.0 s"));
	free(h);
	char *t = text_report(e, &m);
	assert_non_null(strstr(t, "; 1 job; 1.0 s\n"));
	assert_non_null(strstr(t, "the score a hit counted"));
	free(t);
	eval_free(e);
	/* no labelled message at all */
	e = eval_new(5.0);
	t = text_report(e, NULL);
	assert_non_null(strstr(t, "Threshold sweep: no message had a score\n"));
	free(t);
	h = html_report(e, NULL);
	assert_null(strstr(h, "<svg"));
	free(h);
	eval_free(e);
	/* both labels scored: the curve is drawn */
	e = sample();
	h = html_report(e, NULL);
	assert_non_null(strstr(h, "<polyline"));
	free(h);
	eval_free(e);
	/* through a milter */
	e = eval_new_verdicts();
	assert_int_equal(eval_add_verdict(e, EVAL_SPAM, true, 9, NULL, 0), 0);
	t = text_report(e, NULL);
	assert_non_null(strstr(t, "Rule hits (messages on spam / ham):\n"));
	free(t);
	eval_free(e);
}

static void f1_zero(void **state)
{
	(void)state;
	struct eval *e = eval_new(5.0);
	assert_int_equal(eval_add(e, EVAL_SPAM, 1, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_SPAM, 2, NULL, 0), 0);
	char *r = text_report(e, NULL);
	assert_non_null(strstr(r, "  precision            n/a\n"));
	assert_non_null(strstr(r, "  F1                 0.00%"));
	free(r);
	eval_free(e);
	e = eval_new(5.0);
	assert_int_equal(eval_add(e, EVAL_HAM, 1, NULL, 0), 0);
	r = text_report(e, NULL);
	assert_non_null(strstr(r, "  F1                   n/a"));
	free(r);
	eval_free(e);
}

/* --report checked before a run: nothing created. */
static void writable(void **state)
{
	(void)state;
	assert_int_equal(eval_report_writable("/tmp/vigil-test-new.html"), 0);
	assert_int_equal(access("/tmp/vigil-test-new.html", F_OK), -1);
	assert_int_equal(eval_report_writable("/nonexistent/dir/r.html"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(eval_report_writable("/tmp"), -1);
	assert_int_equal(errno, EISDIR);
}

static void labels(void **state)
{
	(void)state;
	assert_int_equal(eval_label_parse("spam"), EVAL_SPAM);
	assert_int_equal(eval_label_parse("HAM"), EVAL_HAM);
	assert_int_equal(eval_label_parse("1"), EVAL_SPAM);
	assert_int_equal(eval_label_parse("junk"), EVAL_UNLABELLED);
}

/* Many distinct rules: the table grows. */
static void many_rules(void **state)
{
	(void)state;
	struct eval *e = eval_new(5.0);
	char names[1000][16];
	const char *p[1];
	for (int i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof names[i], "R%d", i);
		p[0] = names[i];
		assert_int_equal(eval_add(e, EVAL_HAM, 0, p, 1), 0);
	}
	char *r = text_report(e, NULL);
	assert_non_null(strstr(r, "R999 "));
	free(r);
	eval_free(e);
}

/* Scores kept as counts: exact at a fractional threshold and at the sweep
 * points, whatever the score's range; NaN is never flagged; a threshold
 * that is off prints as such, not "inf". */
static void bins(void **state)
{
	(void)state;
	struct eval *e = eval_new(4.5);
	const double spam[] = { 4.5, 4.49, 30.5, 1e9, -10, -5, NAN };
	for (size_t i = 0; i < sizeof spam / sizeof *spam; i++)
		assert_int_equal(eval_add(e, EVAL_SPAM, spam[i], NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, 5.0, NULL, 0), 0);
	assert_int_equal(eval_add(e, EVAL_HAM, -0.5, NULL, 0), 0);
	char *r = text_report(e, NULL);
	assert_non_null(strstr(r, "At threshold 4.5: 7 spam, 2 ham"));
	assert_non_null(strstr(r, "  spam                 3             4\n"));
	assert_non_null(strstr(r, "  ham                  1             1\n"));
	/* -5: all but -10 and NaN; 4: 4.5 4.49 30.5 1e9; 30: 30.5 1e9 */
	assert_non_null(strstr(r, "     -5   71.43% 100.00%"));
	assert_non_null(strstr(r, "      0   57.14%  50.00%"));
	assert_non_null(strstr(r, "      4   57.14%  50.00%"));
	assert_non_null(strstr(r, "      5   28.57%  50.00%"));
	assert_non_null(strstr(r, "     30   28.57%   0.00%"));
	assert_null(strstr(r, "nan"));
	free(r);
	eval_free(e);
	e = eval_new(INFINITY);
	assert_int_equal(eval_add(e, EVAL_SPAM, 100, NULL, 0), 0);
	r = text_report(e, NULL);
	assert_non_null(strstr(r, "At threshold off:"));
	assert_null(strstr(r, "inf"));
	free(r);
	eval_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metrics),
		cmocka_unit_test(empty_corpus),
		cmocka_unit_test(meta_text),
		cmocka_unit_test(meta_many_paths),
		cmocka_unit_test(html),
		cmocka_unit_test(labels),
		cmocka_unit_test(verdicts),
		cmocka_unit_test(actions),
		cmocka_unit_test(roc_and_wording),
		cmocka_unit_test(f1_zero),
		cmocka_unit_test(writable),
		cmocka_unit_test(many_rules),
		cmocka_unit_test(bins),
	};
	return cmocka_run_group_tests_name("evalrep", tests, NULL, NULL);
}

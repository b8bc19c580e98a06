/*
 * cmd_scan.c — vigil scan --milter SOCKET: replay mail corpora through a
 * running milter as an MTA would (mclient), N connections in parallel,
 * results printed in input order (report). Without --milter, the
 * in-process scanner (cmd_scanlocal.c) runs instead.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildid.h"
#include "cmd.h"
#include "config.h"
#include "corpus.h"
#include "envguess.h"
#include "evalrep.h"
#include "interrupt.h"
#include "labels.h"
#include "mclient.h"
#include "monotime.h"
#include "msg.h"
#include "report.h"
#include "scan.h"
#include "spamhdr.h"

#define MAX_CONCURRENCY 1024

struct options {
	const char *milter;
	const char *report;       /* --report FILE.html */
	struct labels *labels;
	unsigned concurrency;
	unsigned timeout_s;
	unsigned message_timeout_s;   /* 0: 10 x timeout_s */
	enum report_format format;
	struct envguess_args env;
};

/* A client guessed from the message's Received line, as the filter was
 * told of it (mclient.c): with the rDNS name the line records; "[IP]",
 * which says no reverse DNS; "localhost" when no line names one. */
enum client_sent { CLIENT_GIVEN, CLIENT_NAMED, CLIENT_UNNAMED, CLIENT_NONE,
                   CLIENT_KINDS };

/* One message between reading and printing. */
struct slot {
	bool ready;
	struct corpus_msg msg;
	struct mclient_result res;
	struct spamhdr verdict;   /* what the headers added say */
	bool flagged;             /* spam by the milter's verdict */
	char error[256];
	bool failed;
	bool filter_failed;       /* the exchange with the filter failed */
	bool cut;                 /* a signal ended it: not scanned */
	enum client_sent client;  /* what the filter was told of a guessed
	                             client */
	char *message_id;         /* its Message-ID (malloc'ed), or NULL */
	size_t message_id_len;
	double ms;
};

/* This many messages in a row that could not be played to the filter
 * (it is down, or answers none in time) end the run: a dead milter
 * would otherwise turn the rest of the corpus into errors. */
#define FILTER_FAILURES_MAX 10

struct run {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct corpus *corpus;
	bool eof;
	size_t next_seq, out_seq, window;
	struct slot *ring;
	struct report *report;
	struct eval *eval;        /* NULL: no evaluation wanted */
	bool eval_failed;         /* out of memory on the way */
	const struct options *opt;
	unsigned filter_failures; /* in a row, in input order */
	size_t cut;               /* messages a signal cut short */
	size_t clients[CLIENT_KINDS];   /* messages played, by client_sent */
	char gave_up[384];        /* why the run stopped taking messages:
	                             the last filter failure's error */
};

struct worker {
	pthread_t thread;
	struct run *run;
	struct mclient *mc;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vigil scan --milter SOCKET [options] MBOX|MAILDIR|DIR|FILE...\n"
	        "\n"
	        "Plays each message to the milter at SOCKET as an MTA would and\n"
	        "prints what it decided. SOCKET: unix:/path (or relative to the\n"
	        "current directory), inet:PORT@HOST, inet:HOST:PORT,\n"
	        "inet6:PORT@HOST. '-' reads standard input.\n"
	        "\n"
	        "  --milter SOCKET     the milter to drive\n"
	        "  --concurrency N     N connections in parallel (default 1; also\n"
	        "                      --jobs N, -j N)\n"
	        "  --format FORMAT     text (a table, default), jsonl or csv\n"
	        "  --mail-from ADDR    MAIL FROM (default: Return-Path, the client\n"
	        "                      hop's envelope-from, X-Envelope-From,\n"
	        "                      Envelope-Sender, else From)\n"
	        "  --rcpt ADDR         RCPT TO, repeatable (default: To and Cc)\n"
	        "  --client-ip IP      client address (default: last external\n"
	        "                      Received header)\n"
	        "  --client-name NAME  the client's rDNS name (default: none)\n"
	        "  --client-auth USER  the client logged in as USER (SMTP AUTH;\n"
	        "                      sent as {auth_authen}; default: none)\n"
	        "  --helo NAME         HELO name (default: from that header)\n"
	        "  --timeout SEC       wait for the milter at most SEC (default 30)\n"
	        "  --message-timeout SEC  a whole message at most SEC, however often\n"
	        "                      the milter says PROGRESS (default 10 x --timeout)\n"
	        "  --label spam|ham    label the paths that follow (evaluation)\n"
	        "  --labels FILE       lines \"PATH LABEL\", \"LABEL PATH\" or CSV\n"
	        "  --report FILE.html  the evaluation as an HTML page too\n"
	        "  --help              this text\n"
	        "\n"
	        "With labels, an evaluation of the milter's verdicts (flagged:\n"
	        "refused, discarded, quarantined, every recipient removed, or spam\n"
	        "by X-Spam-Flag, X-Spam-Status, X-Spam or X-Spamd-Result; score\n"
	        "from X-Spam-Score, X-Spam-Status or X-Spamd-Result) after the\n"
	        "summary.\n"
	        "\n"
	        "Summary on stderr. Exit status: 0 every message processed, 1 some\n"
	        "failed (unreadable, truncated, protocol error), 2 usage error or\n"
	        "milter unreachable.\n");
}

static bool parse_uint(const char *s, unsigned min, unsigned max,
                       unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* One option with its value. 0, or -1 (reported). */
static int option(struct options *o, const char *name, const char *val)
{
	int taken = labels_option(o->labels, name, val);
	if (taken == 0)
		taken = envguess_arg(&o->env, "vigil scan", name, val);
	if (taken != 0)
		return taken > 0 ? 0 : -1;
	if (strcmp(name, "--milter") == 0)
		o->milter = val;
	else if (strcmp(name, "--report") == 0)
		o->report = val;
	else if (strcmp(name, "--concurrency") == 0 ||
	         strcmp(name, "--jobs") == 0 || strcmp(name, "-j") == 0) {
		if (!parse_uint(val, 1, MAX_CONCURRENCY, &o->concurrency)) {
			fprintf(stderr, "vigil scan: --concurrency: 1 to %d\n",
			        MAX_CONCURRENCY);
			return -1;
		}
	} else if (strcmp(name, "--timeout") == 0) {
		if (!parse_uint(val, 1, 3600, &o->timeout_s)) {
			fprintf(stderr, "vigil scan: --timeout: 1 to 3600 seconds\n");
			return -1;
		}
	} else if (strcmp(name, "--message-timeout") == 0) {
		if (!parse_uint(val, 1, 36000, &o->message_timeout_s)) {
			fprintf(stderr, "vigil scan: --message-timeout: 1 to 36000 "
			        "seconds\n");
			return -1;
		}
	} else if (strcmp(name, "--format") == 0) {
		if (report_format_parse(val, &o->format) != 0)
			return -1;
	} else {
		fprintf(stderr, "vigil scan: unknown option %s\n", name);
		return -1;
	}
	return 0;
}

/* Options ("--name value" or "--name=value") may stand between the
 * paths: --label applies to the paths after it. 0 ok, 1 --help, -1
 * usage error (reported). */
static int parse_options(int argc, char **argv, struct options *o)
{
	bool only_paths = false;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_paths || a[0] != '-' || strcmp(a, "-") == 0) {
			if (labels_add_path(o->labels, a) != 0)
				return -1;
		} else if (strcmp(a, "--") == 0) {
			only_paths = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			return 1;
		} else {
			char name[64];
			const char *eq = strchr(a, '='), *val;
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			if (n >= sizeof name)
				n = sizeof name - 1;
			memcpy(name, a, n);
			name[n] = '\0';
			if (eq != NULL)
				val = eq + 1;
			else if ((val = i + 1 < argc ? argv[++i] : NULL) == NULL) {
				fprintf(stderr, "vigil scan: %s needs a value\n", a);
				return -1;
			}
			if (option(o, name, val) != 0)
				return -1;
		}
	}
	return labels_ready(o->labels) == 0 ? 0 : -1;
}

/* ---- one message ---- */

/* s's Message-ID from m: the field's value (unfolded), none when it is
 * missing or blank (it identifies nothing). 0, or -1 (memory). */
static int take_message_id(struct slot *s, const struct msg *m)
{
	const struct msg_header *h = msg_header_get(m, "Message-ID", 0);
	const struct msg_text *v = h ? &h->value : NULL;
	size_t i = 0;
	while (v != NULL && i < v->len && isspace((unsigned char)v->ptr[i]))
		i++;
	if (v == NULL || i == v->len)
		return 0;
	if ((s->message_id = malloc(v->len + 1)) == NULL)
		return -1;
	memcpy(s->message_id, v->ptr, v->len);
	s->message_id[v->len] = '\0';
	s->message_id_len = v->len;
	return 0;
}

/* The envelope and the Message-ID from the message's headers
 * (scan_set_raw() done): only they are parsed (the milter parses the
 * rest), not the MIME tree. 0 or -1. */
static int guess_envelope(struct scan *scan, struct slot *s,
                          const struct envguess_flags *env)
{
	struct msg *head = msg_parse(s->msg.data, scan_raw_head_len(scan), NULL);
	int rc = head ? envguess_fill_from(scan, head, env) : -1;
	if (rc == 0)
		rc = take_message_id(s, head);
	msg_free(head);
	return rc;
}

/* The milter's verdict: flagged when refused, quarantined, taken from
 * every recipient it had (DELRCPT of each: redirected or dropped) or
 * called spam by a header it added or changed (spamhdr.h, which also
 * gives the score and rules). 0, or -1 (memory). */
static int read_verdict(struct slot *s)
{
	const struct mclient_result *r = &s->res;
	int rc = 0;
	spamhdr_init(&s->verdict);
	for (size_t i = 0; i < r->added_n && rc == 0; i++)
		rc = spamhdr_add(&s->verdict, r->added[i].name, r->added[i].value);
	for (size_t i = 0; i < r->changed_n && rc == 0; i++)
		rc = spamhdr_add(&s->verdict, r->changed[i].name,
		                 r->changed[i].value);
	s->flagged = s->verdict.flagged || r->action == MCLIENT_REJECT ||
	             r->action == MCLIENT_DISCARD ||
	             r->action == MCLIENT_QUARANTINE || r->quarantine != NULL ||
	             r->rcpts_all_removed;
	return rc;
}

/* A message a signal cut short, in the words of the corpus's own
 * ("reading interrupted ...: not scanned"). */
static void say_cut(struct slot *s)
{
	char why[128];
	snprintf(why, sizeof why, "%.127s", s->error);
	snprintf(s->error, sizeof s->error, "interrupted (%s): not scanned", why);
}

static enum client_sent client_sent(const struct scan_env *env)
{
	if (!env->client_guessed)
		return CLIENT_GIVEN;
	if (env->client_addr[0] == '\0')
		return CLIENT_NONE;
	return env->client_host[0] ? CLIENT_NAMED : CLIENT_UNNAMED;
}

static void process(struct mclient *mc, const struct options *o,
                    struct slot *s)
{
	if (s->msg.error != NULL) {
		snprintf(s->error, sizeof s->error, "%s", s->msg.error);
		s->failed = true;
		return;
	}
	struct scan *scan = scan_new();
	if (scan == NULL) {
		snprintf(s->error, sizeof s->error, "out of memory");
		s->failed = true;
		return;
	}
	/* Room for the whole body as sent: scan_set_raw() writes each LF
	 * as CRLF, so up to twice the bytes read. */
	scan_set_max_body(scan, 2 * s->msg.len + 1);
	if (scan_set_raw(scan, s->msg.data, s->msg.len) != 0 ||
	    guess_envelope(scan, s, &o->env.flags) != 0) {
		snprintf(s->error, sizeof s->error, "cannot parse the message");
		s->failed = true;
	} else {
		double t0 = monotime_s();
		s->client = client_sent(scan_env(scan));
		int rc = mclient_scan(mc, scan, &s->res, s->error, sizeof s->error);
		s->ms = (monotime_s() - t0) * 1e3;
		s->failed = rc != 0;
		s->cut = rc == MCLIENT_STOPPED;
		s->filter_failed = rc != 0 && !s->cut;
		if (s->cut)
			say_cut(s);
	}
	scan_free(scan);
	free(s->msg.data);   /* only the position is needed from here on */
	s->msg.data = NULL;
	if (!s->failed && read_verdict(s) != 0) {
		snprintf(s->error, sizeof s->error, "out of memory");
		s->failed = true;
	}
}

/* The message for the evaluation. 0, or -1 (memory). */
static int evaluate(struct run *run, const struct slot *s)
{
	enum eval_label label = labels_take(run->opt->labels, s->msg.arg,
	                                    s->msg.source);
	if (s->failed) {
		eval_add_error(run->eval, label);
		return 0;
	}
	/* a filter's tempfail may be its score's or its own failure's */
	if (s->res.action == MCLIENT_TEMPFAIL) {
		eval_add_deferred(run->eval, label);
		return 0;
	}
	return eval_add_verdict(run->eval, label, s->flagged, s->verdict.score,
	                        (const char *const *)s->verdict.rules,
	                        s->verdict.nrules);
}

static void emit(struct report *rep, struct slot *s)
{
	const struct mclient_result *r = &s->res;
	size_t nh = r->added_n + r->changed_n;
	struct report_header *h = calloc(nh ? nh : 1, sizeof *h);
	struct report_entry e = {
		.source = s->msg.source ? s->msg.source : "?",
		.index = s->msg.index,
		.offset = s->msg.offset,
		.ms = s->ms,
		.size = s->msg.read_bytes,
		.message_id = s->message_id,
		.message_id_len = s->message_id_len,
	};
	if (s->failed || h == NULL) {
		e.error = s->failed ? s->error : "out of memory";
	} else {
		for (size_t i = 0; i < r->added_n; i++)
			h[i] = (struct report_header){ r->added[i].name,
			                               r->added[i].value };
		for (size_t i = 0; i < r->changed_n; i++)
			h[r->added_n + i] = (struct report_header){
				r->changed[i].name, r->changed[i].value };
		e.action = mclient_action_name(r->action);
		e.flagged = s->flagged;
		e.scored = !isnan(s->verdict.score);
		e.score = s->verdict.score;
		e.code = r->code;
		e.text = r->text;
		e.added = h;
		e.added_n = r->added_n;
		e.changed = h + r->added_n;
		e.changed_n = r->changed_n;
		e.quarantine = r->quarantine;
		e.rcpts_removed = (const char *const *)r->rcpt_removed;
		e.rcpts_removed_n = r->rcpt_removed_n;
		e.rcpts_added = (const char *const *)r->rcpt_added;
		e.rcpts_added_args = (const char *const *)r->rcpt_added_args;
		e.rcpts_added_n = r->rcpt_added_n;
		e.mail_from_changed = r->new_from;
		e.mail_from_args = r->new_from_args;
		e.body_replaced = r->body_replaced;
		e.hits = (const char *const *)s->verdict.rules;
		e.hit_scores = s->verdict.rule_scores;
		e.hits_n = s->verdict.nrules;
	}
	report_add(rep, &e);
	free(h);
}

/* ---- the threads ---- */

/* Messages the filter failed in a row (those not read count for
 * nothing): FILTER_FAILURES_MAX of them stop the reading. Under the
 * run's lock. */
static void count_filter_failure(struct run *run, const struct slot *s)
{
	if (!s->failed)
		run->filter_failures = 0;
	else if (s->filter_failed &&
	         ++run->filter_failures == FILTER_FAILURES_MAX) {
		snprintf(run->gave_up, sizeof run->gave_up, "%s", s->error);
		run->eof = true;
	}
}

/* "stopped after N messages: ...", N the messages printed: those in
 * flight when the run gave up are finished and printed too. */
static const char *describe_gave_up(const struct run *run, char *buf,
                                    size_t len)
{
	snprintf(buf, len, "stopped after %zu messages: the last %d could not "
	         "be played to the filter (%s)", run->out_seq,
	         FILTER_FAILURES_MAX, run->gave_up);
	return buf;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	pthread_mutex_lock(&run->lock);
	for (;;) {
		while (!run->eof && run->next_seq - run->out_seq >= run->window)
			pthread_cond_wait(&run->cond, &run->lock);
		if (run->eof)
			break;
		struct slot *s = &run->ring[run->next_seq % run->window];
		*s = (struct slot){ 0 };
		/* interrupted, or the output gone (a closed pipe with
		 * SIGPIPE ignored, a full disk): no new message; those in
		 * flight are finished */
		if (interrupt_signal() != 0 || ferror(stdout) ||
		    corpus_next(run->corpus, &s->msg) != 1) {
			run->eof = true;
			pthread_cond_broadcast(&run->cond);
			break;
		}
		run->next_seq++;
		pthread_mutex_unlock(&run->lock);

		process(w->mc, run->opt, s);

		pthread_mutex_lock(&run->lock);
		s->ready = true;
		/* Print in input order whatever is complete. */
		for (;;) {
			struct slot *first = &run->ring[run->out_seq % run->window];
			if (run->out_seq == run->next_seq || !first->ready)
				break;
			if (run->eval != NULL && evaluate(run, first) != 0)
				run->eval_failed = true;
			count_filter_failure(run, first);
			run->cut += first->cut;
			run->clients[first->client]++;
			emit(run->report, first);
			cmd_stdout_check();
			corpus_msg_clear(&first->msg);
			mclient_result_clear(&first->res);
			spamhdr_clear(&first->verdict);
			free(first->message_id);
			first->ready = false;
			run->out_seq++;
		}
		pthread_cond_broadcast(&run->cond);
	}
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* N clients, each connected once to show early that the milter answers.
 * 0, or -1 (reported). */
static int open_clients(const struct options *o, struct worker *w,
                        atomic_bool *gone)
{
	struct mclient_opts mo = {
		.socket = o->milter, .timeout_ms = o->timeout_s * 1000u,
		.message_timeout_ms = o->message_timeout_s * 1000u,
		.gone = gone };
	char err[256];
	for (unsigned i = 0; i < o->concurrency; i++) {
		w[i].mc = mclient_new(&mo, err, sizeof err);
		if (w[i].mc == NULL) {
			fprintf(stderr, "vigil scan: --milter %s: %s\n", o->milter, err);
			return -1;
		}
		if (mclient_open(w[i].mc, err, sizeof err) != 0) {
			fprintf(stderr, "vigil scan: milter %s: %s\n", o->milter, err);
			return -1;
		}
	}
	return 0;
}

/* "clients guessed from Received: 280 sent with the line's rDNS name,
 * 20 as [IP] (...)": what the filter was told, since a filter scores a
 * client without reverse DNS (SpamAssassin's RDNS_NONE); "" when every
 * client was given. */
static const char *describe_clients(const struct run *run, char *buf,
                                    size_t len)
{
	static const char *const how[CLIENT_KINDS] = {
		[CLIENT_NAMED] = "sent with the line's rDNS name",
		[CLIENT_UNNAMED] = "as [IP] (the line records no name: no "
		                   "reverse DNS to the filter)",
		[CLIENT_NONE] = "as localhost (no Received line names a public "
		                "address)" };
	size_t n = 0;
	buf[0] = '\0';
	for (int k = CLIENT_NAMED; k < CLIENT_KINDS && n < len; k++) {
		if (run->clients[k] == 0)
			continue;
		int w = snprintf(buf + n, len - n, "%s%zu %s",
		                 n ? ", " : "clients guessed from Received: ",
		                 run->clients[k], how[k]);
		n += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

/* With labels or --report: the evaluation of the milter's verdicts,
 * after the summary (on stderr). 0, or -1. */
static int evaluation(struct run *run, struct eval_meta *m)
{
	const struct options *o = run->opt;
	labels_unmatched(o->labels, stderr);
	if (run->eval == NULL)
		return 0;
	if (run->eval_failed) {
		fprintf(stderr, "vigil scan: out of memory: no evaluation\n");
		return -1;
	}
	m->jobs = o->concurrency;
	m->milter = o->milter;
	char clients[512];
	if (describe_clients(run, clients, sizeof clients)[0] != '\0')
		m->client_note = clients;
	if (labels_meta(o->labels, m) != 0)
		return -1;
	fputc('\n', stderr);
	int rc = eval_report(run->eval, m, stderr, o->report);
	m->client_note = NULL;   /* clients[] ends here */
	return rc;
}

/* The threads over the corpus (interrupt_run()). */
static void work_all(void *arg)
{
	struct worker *w = arg;
	const struct options *o = w[0].run->opt;
	unsigned started = 0;
	for (; started < o->concurrency; started++)
		if (pthread_create(&w[started].thread, NULL, work, &w[started]) != 0)
			break;
	if (started == 0)
		work(&w[0]);   /* no thread could start: do it here */
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
}

/* "interrupted by SIGINT after 5 messages, 2 of them cut short (not
 * scanned)": the messages printed, and how many of those the signal
 * ended while they waited for the filter. */
static const char *describe_stop(int sig, const struct run *run, char *buf,
                                 size_t len)
{
	interrupt_describe(sig, run->out_seq, buf, len);
	size_t n = strlen(buf);
	if (run->cut > 0 && n < len)
		snprintf(buf + n, len - n, ", %zu of them cut short (not scanned)",
		         run->cut);
	return buf;
}

static int run_all(const struct options *o, struct worker *w,
                   struct eval_meta *m)
{
	const char *const *paths = labels_paths(o->labels);
	size_t npaths = labels_path_count(o->labels);
	struct run run = { .opt = o, .window = o->concurrency * 4u };
	if (run.window < 16)
		run.window = 16;
	run.ring = calloc(run.window, sizeof *run.ring);
	run.corpus = corpus_open(paths, npaths, 0);
	bool tty = isatty(2) == 1;
	run.report = report_new(o->format, stdout, stderr, tty,
	                        tty ? corpus_bytes(paths, npaths) : 0);
	if (run.corpus != NULL && run.report != NULL) {
		corpus_stop_when(run.corpus, interrupt_signal,
		                 interrupt_wake_fd());
		for (unsigned i = 0; i < o->concurrency; i++)
			mclient_stop_when(w[i].mc, interrupt_signal,
			                  interrupt_wake_fd());
		corpus_on_notice(run.corpus, report_notice, run.report);
	}
	bool evaluate = labels_any(o->labels) || o->report != NULL;
	if (evaluate)
		run.eval = eval_new_verdicts();
	if (run.ring == NULL || run.corpus == NULL || run.report == NULL ||
	    (evaluate && run.eval == NULL)) {
		fprintf(stderr, "vigil scan: out of memory\n");
		free(run.ring);
		corpus_close(run.corpus);
		report_free(run.report);
		eval_free(run.eval);
		return 2;
	}
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.cond, NULL);
	double t0 = monotime_s();
	for (unsigned i = 0; i < o->concurrency; i++)
		w[i].run = &run;
	/* a first SIGINT/SIGTERM ends the reading (work()), the messages in
	 * flight are finished and everything is reported */
	bool caught = interrupt_install() == 0;
	interrupt_run(work_all, w);
	fflush(stdout);
	m->seconds = monotime_s() - t0;
	int sig = caught ? interrupt_signal() : 0;
	char why[512];
	if (sig)
		m->partial = describe_stop(sig, &run, why, sizeof why);
	else if (run.gave_up[0] != '\0')
		m->partial = describe_gave_up(&run, why, sizeof why);
	else   /* the output gone (work()): reading stopped */
		m->partial = cmd_stdout_stopped(run.out_seq, why, sizeof why);
	report_summary(run.report, m->seconds, m->partial);
	int rc = report_failed(run.report) ? 1 : 0;
	if (evaluation(&run, m) != 0 || cmd_stdout_status("scan") != 0 ||
	    run.gave_up[0] != '\0')
		rc = 2;
	if (sig)
		rc = interrupt_status(sig);
	report_free(run.report);
	eval_free(run.eval);
	corpus_close(run.corpus);
	free(run.ring);
	pthread_cond_destroy(&run.cond);
	pthread_mutex_destroy(&run.lock);
	return rc;
}

/* --milter given (vigil.c's dispatch); usage errors exit 2. */
static int scan_milter(struct options *o, struct eval_meta *m)
{
	if (labels_path_count(o->labels) == 0) {
		fprintf(stderr, "vigil scan: no mailbox, maildir or file given\n"
		        "see vigil scan --milter --help\n");
		return 2;
	}
	if (o->report != NULL && eval_report_writable(o->report) != 0) {
		fprintf(stderr, "vigil scan: --report %s: %s\n", o->report,
		        strerror(errno));
		return 2;
	}
	if (cmd_report_spares(o->report, NULL, o->labels) != 0)
		return 2;
	struct worker *w = calloc(o->concurrency, sizeof *w);
	if (w == NULL) {
		fprintf(stderr, "vigil scan: out of memory\n");
		return 2;
	}
	int rc = 2;
	/* one filter for all: once it was gone for a whole --timeout, no
	 * worker waits for it again (mclient_opts' gone) */
	atomic_bool gone;
	atomic_init(&gone, false);
	if (open_clients(o, w, &gone) == 0)
		rc = run_all(o, w, m);
	for (unsigned i = 0; i < o->concurrency; i++)
		mclient_free(w[i].mc);
	free(w);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct options o = { .concurrency = 1, .timeout_s = 30,
	                     .format = REPORT_TEXT, .labels = labels_new() };
	char started[32];
	report_utc_now(started, sizeof started);
	int p = o.labels ? parse_options(argc, argv, &o) : -1;
	int rc;
	if (p > 0) {
		usage(stdout);
		rc = 0;
	} else if (p < 0) {
		fprintf(stderr, "see vigil scan --milter --help\n");
		rc = 2;
	} else if (o.milter == NULL) {
		rc = scanlocal_main(argc, argv);   /* in-process */
	} else {
		char *command = report_command_line("vigil", argc, argv);
		struct eval_meta m = { .version = VIGIL_VERSION,
		                       .started = started, .command = command,
		                       .envelope = &o.env.flags };
		rc = scan_milter(&o, &m);
		free(command);
	}
	labels_free(o.labels);
	return rc;
}

/*
 * vigil explain — why a message gets its verdict: the envelope used, the
 * stages run and their results, every hit with its score, description
 * and the text it matched, the score, the action and SMTP reply, and the
 * headers vigild would add. The message is read as vigil scan reads it
 * (corpus: a message file, or message N of an mbox) and prepared the same
 * way (localscan_prepare), so both give the same verdict. Everything
 * taken from the message is printed escaped (report_text_escaped).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "config.h"
#include "corpus.h"
#include "envguess.h"
#include "localscan.h"
#include "monotime.h"
#include "msg.h"
#include "pipeline.h"
#include "report.h"
#include "rules.h"
#include "ruleset.h"
#include "scan.h"
#include "verdict.h"

#define HEAD_ALLOWANCE ((size_t)1 << 20)  /* as vigil scan: header bytes */

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigil explain [-c FILE] [--index N] [--client-ip IP]\n"
	        "                     [--client-name NAME] [--client-auth USER]\n"
	        "                     [--helo NAME]\n"
	        "                     [--mail-from ADDR] [--rcpt ADDR]...\n"
	        "                     FILE|-\n"
	        "Scans one message with vigild's pipeline and configuration and\n"
	        "shows why it gets its verdict. FILE is a message, or an mbox:\n"
	        "then message N (from 0, as \"index\" in vigil scan; default 0).\n"
	        "Envelope values not given are taken from the message\n"
	        "(Return-Path, From, To/Cc, Received).\n");
}

/* A usage error: what (unless already said), and where help is. 2. */
static int usage_error(const char *what)
{
	if (what != NULL)
		fprintf(stderr, "vigil explain: %s\n", what);
	fprintf(stderr, "see vigil explain --help\n");
	return 2;
}

/* Text that may come from the message, escaped. */
static void show(const char *s)
{
	report_text_escaped(stdout, s ? s : "", s ? strlen(s) : 0);
}

/* A rule's hit in the rules stage's result ("__" sub-rules included),
 * or NULL. */
static const struct rules_hit *find_hit(const struct rules_result *res,
                                        const char *name, size_t len)
{
	for (size_t i = 0; res != NULL && i < rules_result_count(res); i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		if (strncmp(h->name, name, len) == 0 && h->name[len] == '\0')
			return h;
	}
	return NULL;
}

/* ' matched: "TEXT" in WHERE' for a rule that matched text; WHERE the
 * text the rule reads (a header by its name: pseudo-headers such as
 * X-Spam-Relays-Untrusted are SpamAssassin's, built from Received). */
static void print_matched(const struct ruleset *rs, const struct rules_hit *h)
{
	static const char *const where[] = {
		[RS_MIMEHEADER] = "a MIME part's header", [RS_BODY] = "the body",
		[RS_RAWBODY] = "the raw body", [RS_FULL] = "the whole message",
		[RS_URI] = "a URI", [RS_URI_DETAIL] = "a URI's details",
	};
	printf(" matched: \"");
	report_text_escaped(stdout, h->match, h->match_len);
	printf("\"");
	const struct rs_rule *r = rs ? ruleset_find(rs, h->name) : NULL;
	if (r && r->type == RS_HEADER && r->header) {
		printf(" in ");
		show(r->header);
	} else if (r && r->type < sizeof where / sizeof where[0] &&
	           where[r->type]) {
		printf(" in %s", where[r->type]);
	}
}

/* How far a meta hit's rules are followed: levels, and lines a hit. */
#define META_DEPTH 4
#define META_LINES 24

struct meta_walk {
	const struct ruleset *rs;
	const struct rules_result *res;
	int lines;               /* printed for this hit so far */
	size_t hidden;           /* hits past META_LINES */
};

/* Whether expr[0..at) already names the identifier at expr + at. */
static bool named_before(const char *expr, size_t at, size_t len)
{
	for (size_t i = 0; i + len <= at; i++) {
		bool starts = i == 0 || !(isalnum((unsigned char)expr[i - 1]) ||
		                          expr[i - 1] == '_');
		bool ends = !(isalnum((unsigned char)expr[i + len]) ||
		              expr[i + len] == '_');
		if (starts && ends && memcmp(expr + i, expr + at, len) == 0)
			return true;
	}
	return false;
}

/* Under a meta rule that hit: each rule its expression reads that hit,
 * with the text it matched, and so on down for metas among them: which
 * texts made the meta true. A rule read only negated is not listed (it
 * did not hit). */
static void print_meta_reads(struct meta_walk *w, const char *name,
                             int depth)
{
	const struct rs_rule *rule = ruleset_find(w->rs, name);
	if (rule == NULL || rule->type != RS_META || rule->meta == NULL ||
	    depth > META_DEPTH)
		return;
	const char *e = rule->meta;
	for (size_t i = 0; e[i];) {
		if (!(isalpha((unsigned char)e[i]) || e[i] == '_')) {
			i++;
			continue;
		}
		size_t n = 1;
		while (isalnum((unsigned char)e[i + n]) || e[i + n] == '_')
			n++;
		const struct rules_hit *h = named_before(e, i, n) ? NULL
		                            : find_hit(w->res, e + i, n);
		i += n;
		if (h == NULL)
			continue;
		if (w->lines >= META_LINES) {
			w->hidden++;
			continue;
		}
		w->lines++;
		printf("%*s<- %s", 12 + 2 * (depth - 1), "", h->name);
		if (h->match_len)
			print_matched(w->rs, h);
		printf("\n");
		print_meta_reads(w, h->name, depth + 1);
	}
}

static void print_meta(const struct ruleset *rs,
                       const struct rules_result *res, const char *name)
{
	struct meta_walk w = { rs, res, 0, 0 };
	if (rs == NULL || res == NULL)
		return;
	print_meta_reads(&w, name, 1);
	if (w.hidden)
		printf("            <- and %zu more\n", w.hidden);
}

/* A header value vigild adds: its folding shown as line breaks. */
static void show_folded(const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\r\n");
		report_text_escaped(stdout, s, n);
		s += n;
		s += strspn(s, "\r\n");
		if (*s)
			printf("\n    ");
		s += strspn(s, " \t");
	}
}

/* Which hits each stage added, by name (a test is counted once): the
 * hits there after it ran that no earlier stage had added. Names, not
 * index spans: a later stage may take an earlier one's hit back (the
 * rules stage a built-in hit the rule files do not confirm; audit21
 * M1: the spans shifted and the rules stage's hits read as sanity's). */
struct stage_span {
	const char *name;
	char **hits;     /* copies, nhits of them */
	size_t nhits;
};
struct stage_hits {
	size_t n, cap;
	struct stage_span *st;
};

static bool recorded(const struct stage_hits *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < t->st[i].nhits; k++)
			if (strcmp(t->st[i].hits[k], name) == 0)
				return true;
	return false;
}

static void stage_done(void *arg, const char *name, const struct scan *scan)
{
	struct stage_hits *t = arg;
	if (t->n >= t->cap)
		return;
	struct stage_span sp = { name, NULL, 0 };
	size_t n = scan_hit_count(scan);
	sp.hits = calloc(n ? n : 1, sizeof *sp.hits);
	for (size_t k = 0; sp.hits != NULL && k < n; k++) {
		const char *h = scan_hit_at(scan, k)->name;
		if (!recorded(t, h) && (sp.hits[sp.nhits] = strdup(h)) != NULL)
			sp.nhits++;
	}
	t->st[t->n++] = sp;
}

static void stage_hits_free(struct stage_hits *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->st[i].nhits; k++)
			free(t->st[i].hits[k]);
		free(t->st[i].hits);
	}
	free(t->st);
}

static bool still_hit(const struct scan *scan, const char *name)
{
	for (size_t k = 0; k < scan_hit_count(scan); k++)
		if (strcmp(scan_hit_at(scan, k)->name, name) == 0)
			return true;
	return false;
}

/* A stage's hits under its name: the tests' names (their scores are
 * under Hits), for the rules stage their number; hits taken back by a
 * later stage are left out. */
static void print_stage_hits(const struct stage_hits *t,
                             const struct scan *scan)
{
	for (size_t i = 0; i < t->n; i++) {
		size_t live = 0;
		for (size_t k = 0; k < t->st[i].nhits; k++)
			live += still_hit(scan, t->st[i].hits[k]);
		if (live == 0)
			continue;
		printf("  %-12s ", t->st[i].name);
		if (strcmp(t->st[i].name, "rules") == 0) {
			printf("%zu rule%s hit (under Hits)\n", live,
			       live == 1 ? "" : "s");
			continue;
		}
		printf("tests hit:");
		for (size_t k = 0; k < t->st[i].nhits; k++)
			if (still_hit(scan, t->st[i].hits[k]))
				printf(" %s", t->st[i].hits[k]);
		printf("\n");
	}
}

static void print_stages(const struct conf *c, struct scan *scan,
                         const char *failed, const struct stage_hits *t)
{
	printf("\nStages:");
	for (size_t i = 0; i < pipeline_stage_count(); i++) {
		const char *name = pipeline_stage(i)->name;
		if (pipeline_stage_state(c->pipeline, name) != NULL)
			printf(" %s%s", name, failed && strcmp(failed, name) == 0 ?
			       " (failed)" : "");
	}
	if (failed && !pipeline_has_stage(failed))
		printf(" (%s)", failed);   /* the scan as a whole */
	printf("\n\nStage results:\n");
	if (scan_result_count(scan) == 0 && scan_auth_result_count(scan) == 0 &&
	    scan_hit_count(scan) == 0)
		printf("  (none)\n");
	print_stage_hits(t, scan);
	for (size_t i = 0; i < scan_result_count(scan); i++) {
		const char *k, *val;
		scan_result_at(scan, i, &k, &val);
		printf("  %-12s ", k);
		show(val);
		printf("\n");
	}
	for (size_t i = 0; i < scan_auth_result_count(scan); i++) {
		printf("  %-12s ", i ? "" : "auth:");
		show(scan_auth_result_at(scan, i));
		printf("\n");
	}
}

/* What was explained: the file, which message of an mbox (and that
 * --index picks another when it was not given), its size as read from
 * the file (not with the CRLF line ends it is scanned with). */
static void print_message(const char *file, const struct corpus_msg *cm,
                          bool index_given, const struct scan *scan)
{
	printf("Message: ");
	show(file);
	if (cm->mbox)
		printf(", mbox message %zu at byte %llu", cm->index,
		       (unsigned long long)cm->offset);
	printf(" (%s%llu bytes", cm->size_unknown ? "at least " : "",
	       (unsigned long long)cm->size);
	if (cm->mbox && !index_given)
		printf("; --index N explains message N");
	if (scan_truncated(scan))
		printf("; past max_message_size: only the head scanned, as vigild");
	printf(")\n");
}

/* The message model's limits that hid part of the message from the
 * stages (scan_msg() parses with the defaults): said, since hits on what
 * was hidden cannot be. */
static void print_parse_limits(struct scan *scan)
{
	const struct msg *m = scan_msg(scan);
	uint64_t f = m ? msg_flags(m) : 0;
	if (f & MSG_F_DEPTH_LIMIT)
		printf("Limit: MIME parts nested deeper than %u levels; what is "
		       "inside them was not parsed, its text not scanned\n",
		       MSG_DEFAULT_MAX_DEPTH);
	if (f & MSG_F_PART_LIMIT)
		printf("Limit: more than %u parts in a multipart, or %u MIME "
		       "parts in all; the parts after them were not parsed, "
		       "their text not scanned\n", MSG_MULTIPART_MAX_PARTS,
		       MSG_DEFAULT_MAX_PARTS);
	if (f & MSG_F_HEADER_LIMIT)
		printf("Limit: more than %u fields in a header section; %zu of "
		       "them not kept (header rules did not see them)\n",
		       MSG_DEFAULT_MAX_HEADERS,
		       msg_header_dropped(m) + scan_headers_cut(scan));
	if (scan_headers_cut(scan) > 0)
		printf("Limit: a header section over max_message_size; its "
		       "last %zu fields left out of the message's text (full "
		       "rules did not see them either)\n",
		       scan_headers_cut(scan));
	if (f & MSG_F_LONG_HEADER)
		printf("Limit: a header field longer than %u bytes (or with a "
		       "name over %u) cut there, as SpamAssassin cuts it; the "
		       "rules saw its start\n", MSG_HEADER_VALUE_MAX,
		       MSG_HEADER_NAME_MAX);
	if ((f & MSG_F_TRUNCATED) &&
	    !(f & (MSG_F_DEPTH_LIMIT | MSG_F_PART_LIMIT)) && !scan_truncated(scan))
		printf("Limit: the message model's size or memory budget; the "
		       "rest of the message was not parsed, not scanned\n");
}

/* A threshold as the Score line prints it. */
static void print_threshold(double t)
{
	if (isfinite(t))
		printf("%.1f", t);
	else
		printf("off");
}

/* With per-domain policies, each recipient's own: the action it gives
 * by the score (verdict_decide() combined them into the one above),
 * and whether the recipient is dropped (vigild has the MTA remove it). */
static void print_recipients(const struct conf *c, const struct scan *scan,
                             const struct verdict *v)
{
	const struct scan_env *env = scan_env(scan);
	if (c->domain_count == 0 || v->rcpt_action == NULL)
		return;
	printf("Recipients, each by its own policy:\n");
	for (size_t i = 0; i < env->rcpt_count; i++) {
		const struct conf_policy *p = conf_policy_for(c, env->rcpts[i]);
		printf("  <");
		show(env->rcpts[i]);
		printf(">: %s by ", conf_action_name(v->rcpt_action[i]));
		if (p->domain != NULL)
			printf("domain \"%s\"", p->domain);
		else
			printf("the default policy");
		printf(" (spam from ");
		print_threshold(p->threshold[CONF_ACT_ADD_HEADER]);
		printf(")%s\n",
		       v->drop_rcpt[i] ? "; dropped (vigild removes it)" : "");
	}
}

static void print_action(const struct scan *scan, const struct verdict *v)
{
	/* three decimals, as the thresholds compare it (a total of 4.9996
	 * is 5.000, spam); -0.0004 is 0 */
	double score = scan_score(scan);
	printf("\nScore: %.3f (spam from ", fabs(score) < 0.0005 ? 0.0 : score);
	print_threshold(v->required);
	printf(")\nAction: %s", conf_action_name(v->action));
	if (v->text)
		printf(" (%s %s%s%s)", v->code, v->xcode, v->xcode[0] ? " " : "",
		       v->text);
	if (v->quarantine_reason)
		printf(" (%s)", v->quarantine_reason);
	if (v->failed)
		printf(" [scan failed: fail action]");
	if (v->drop_count)
		printf("; %zu of %zu recipients dropped", v->drop_count,
		       scan_env(scan)->rcpt_count);
	printf("\n");
}

/* The receiving MTA's line for the client, when the rules had it
 * modelled (clienthop.h): the client was given and the message does not
 * record it. Its folding shown as one line. */
static void print_client_hop(const struct scan *scan)
{
	size_t len;
	const char *v = scan_client_hop(scan, &len);
	if (v == NULL)
		return;
	printf("Client hop (modelled, the newest Received for the rules):\n"
	       "  Received:");
	for (size_t i = 0; i < len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			putchar(v[i] == '\t' ? ' ' : v[i]);
	putchar('\n');
}

static void print_report(const char *file, const struct corpus_msg *cm,
                         bool index_given, const struct conf *c,
                         struct scan *scan, const char *failed,
                         const struct stage_hits *t, const struct verdict *v,
                         const struct rules_result *res,
                         const struct ruleset *rs)
{
	const struct scan_env *env = scan_env(scan);
	print_message(file, cm, index_given, scan);
	print_parse_limits(scan);
	printf("Envelope: client=");
	show(env->client_addr[0] ? env->client_addr : "(unknown)");
	printf(" helo=");
	show(env->helo[0] ? env->helo : "(none)");
	printf(" from=<");
	show(env->mail_from);
	printf("> rcpts=");
	for (size_t i = 0; i < env->rcpt_count; i++) {
		printf("%s<", i ? "," : "");
		show(env->rcpts[i]);
		printf(">");
	}
	printf("%s\n", env->rcpt_count ? "" : "(none)");
	print_client_hop(scan);
	print_stages(c, scan, failed, t);
	printf("\nHits:\n");
	if (scan_hit_count(scan) == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < scan_hit_count(scan); i++) {
		const struct scan_hit_info *h = scan_hit_at(scan, i);
		const struct rules_hit *rh = find_hit(res, h->name,
		                                      strlen(h->name));
		/* tflags multiple: the count, as vigil rules test shows it
		 * (audit20 L4: 1.500 for a rule of score 0.5 puzzled) */
		char name[160];
		if (rh && rh->count > 1)
			snprintf(name, sizeof name, "%s (x%u)", h->name, rh->count);
		else
			snprintf(name, sizeof name, "%s", h->name);
		printf("  %8.3f  %-28s ", h->score, name);
		show(h->desc);
		printf("\n");
		if (rh && rh->match_len) {
			printf("           ");
			print_matched(rs, rh);
			printf("\n");
		}
		print_meta(rs, res, h->name);
	}
	print_action(scan, v);
	print_recipients(c, scan, v);
	if (v->header_count) {
		printf("\nHeaders added:\n");
		for (size_t i = 0; i < v->header_count; i++) {
			printf("  %s: ", v->headers[i].name);
			show_folded(v->headers[i].value);
			printf("\n");
		}
	}
}

/* Message `index` of file, read as vigil scan reads it. 0; 1 when it
 * cannot be used as a message (the reason printed); 2 when there is no
 * such message or the file cannot be read. */
static int read_message(const char *file, size_t index, size_t max,
                        struct corpus_msg *cm)
{
	struct stat st;
	if (strcmp(file, "-") != 0 && stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vigil explain: %s: a directory (give a file)\n", file);
		return 2;
	}
	struct corpus *c = corpus_open(&file, 1, max);
	if (c == NULL)
		return 2;
	corpus_keep_head(c);
	int rc = 2;
	size_t n = 0;
	char *why0 = NULL;   /* why the first message cannot be used */
	while (corpus_next(c, cm) == 1) {
		if (cm->whole || n++ == index) {   /* whole: cannot open it */
			rc = 0;
			break;
		}
		if (n == 1 && cm->error != NULL)
			why0 = strdup(cm->error);
		corpus_msg_clear(cm);
	}
	corpus_close(c);
	if (rc != 0) {
		/* one message that cannot be used (gzip data on standard
		 * input, binary data): that is why, not the index */
		if (n == 1 && why0 != NULL)
			fprintf(stderr, "vigil explain: %s: no message %zu: the file "
			        "is one message, which cannot be used: %s\n", file,
			        index, why0);
		else
			fprintf(stderr, "vigil explain: %s: no message %zu (%zu in "
			        "the file)\n", file, index, n);
		free(why0);
		return 2;
	}
	free(why0);
	if (cm->error != NULL) {
		if (cm->whole)
			fprintf(stderr, "vigil explain: %s: %s\n", cm->source,
			        cm->error);
		else
			fprintf(stderr, "vigil explain: %s: message %zu at byte %llu: %s\n",
			        file, index, (unsigned long long)cm->offset, cm->error);
		/* a path that cannot be opened is an I/O error, as for a flag */
		rc = strncmp(cm->error, "cannot ", 7) == 0 ? 2 : 1;
		corpus_msg_clear(cm);
	}
	return rc;
}

/* What a log line (a rule's PCRE2 limit) names the message by, as vigil
 * scan does (corpus_msg_name()). 0, or -1. */
static int set_log_name(struct scan *scan, const struct corpus_msg *cm)
{
	char *s = corpus_msg_name(cm);
	int rc = s ? scan_set_log_name(scan, s) : -1;
	free(s);
	return rc;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		/* 'e': the envelope flags, envguess_arg() by name */
		{ "client-ip", required_argument, NULL, 'e' },
		{ "client-name", required_argument, NULL, 'e' },
		{ "client-auth", required_argument, NULL, 'e' },
		{ "helo", required_argument, NULL, 'e' },
		{ "mail-from", required_argument, NULL, 'e' },
		{ "rcpt", required_argument, NULL, 'e' },
		{ "index", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	struct envguess_args env = { 0 };
	const struct envguess_flags *flags = &env.flags;
	size_t index = 0;
	bool index_given = false;
	char *end;
	int o, li = 0;
	optind = 1;
	opterr = 0;   /* our own messages, each followed by the --help hint */
	while ((o = getopt_long(argc, argv, ":c:hn:", opts, &li)) != -1) {
		switch (o) {
		case 'c': conf_path = optarg; break;
		case 'e': {
			char name[32];
			snprintf(name, sizeof name, "--%s", opts[li].name);
			if (envguess_arg(&env, "vigil explain", name, optarg) < 0)
				return usage_error(NULL);
			break;
		}
		case 'n':
			errno = 0;
			index = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "vigil explain: --index %s: a number\n",
				        optarg);
				return usage_error(NULL);
			}
			index_given = true;
			break;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "vigil explain: %s needs a value\n",
			        argv[optind - 1]);
			return usage_error(NULL);
		default:
			fprintf(stderr, "vigil explain: unknown option %s\n",
			        argv[optind - 1]);
			return usage_error(NULL);
		}
	}
	if (optind + 1 != argc)
		return usage_error(optind == argc ? "no FILE given"
		                                  : "one FILE only");
	const char *file = argv[optind];
	struct conf *c = cmd_load_conf(conf_path);
	if (c == NULL)
		return 2;
	size_t max = c->max_message_size;
	max = max < SIZE_MAX - HEAD_ALLOWANCE ? max + HEAD_ALLOWANCE : max;
	struct corpus_msg cm;
	int rc = read_message(file, index, max, &cm);
	if (rc != 0) {
		conf_unref(c);
		return rc;
	}
	struct scan *scan = scan_new();
	rc = 2;
	if (scan != NULL && set_log_name(scan, &cm) == 0 &&
	    localscan_prepare(scan, c, flags, &cm.data, cm.len, cm.size) == 0) {
		const char *failed = NULL;
		struct stage_hits t = { .cap = pipeline_stage_count() };
		t.st = calloc(t.cap, sizeof *t.st);
		if (t.st == NULL)
			t.cap = 0;
		double t0 = monotime_s();
		pipeline_run_traced(c->pipeline, scan, &failed, stage_done, &t);
		if (failed == NULL)
			failed = localscan_overran(c, (monotime_s() - t0) * 1e3);
		/* the rules stage again, for the text each rule matched */
		const struct rules *rules = rules_stage_rules(
			pipeline_stage_state(c->pipeline, "rules"));
		struct rules_result *res = rules ? rules_result_new() : NULL;
		if (res != NULL && rules_eval(rules, scan, res, RULES_EVAL_MATCHES |
		                              RULES_EVAL_NO_SCAN) != 0) {
			rules_result_free(res);
			res = NULL;
		}
		struct verdict v;
		if (verdict_decide(c, scan, failed, true, &v) == 0) {
			print_report(file, &cm, index_given, c, scan, failed, &t,
			             &v, res, rules ? rules_ruleset(rules) : NULL);
			rc = 0;
		}
		verdict_free(&v);
		rules_result_free(res);
		stage_hits_free(&t);
	}
	if (rc != 0)
		fprintf(stderr, "vigil explain: %s: out of memory\n", file);
	if (rc == 0)
		rc = cmd_stdout_status("explain");
	scan_free(scan);
	corpus_msg_clear(&cm);
	conf_unref(c);
	return rc;
}

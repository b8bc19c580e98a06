/*
 * vigil explain — why a message gets its verdict: the envelope used, each
 * stage's result, every hit with its score and description, the score,
 * the action and SMTP reply, and the headers vigild would add.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "config.h"
#include "envguess.h"
#include "fileio.h"
#include "pipeline.h"
#include "rules.h"
#include "scan.h"
#include "verdict.h"

#define MAX_RCPTS 100

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vigil explain [-c FILE] [--client-ip IP] [--helo NAME]\n"
	        "                     [--mail-from ADDR] [--rcpt ADDR]... FILE|-\n"
	        "Scans one message with vigild's pipeline and configuration and\n"
	        "shows why it gets its verdict. Envelope values not given are\n"
	        "taken from the message (Return-Path, From, To/Cc, Received).\n");
}

static struct conf *load_conf(const char *path)
{
	char err[8192];
	struct conf *c = conf_load_tool(path, err, sizeof err);
	if (c == NULL)
		fprintf(stderr, "%s", err);
	return c;
}

/* The text a rule of the rules stage matched, or NULL. */
static const char *matched(const struct rules_result *res, const char *name)
{
	for (size_t i = 0; res != NULL && i < rules_result_count(res); i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		if (strcmp(h->name, name) == 0)
			return h->match[0] ? h->match : NULL;
	}
	return NULL;
}

static void print_report(const char *file, struct scan *scan,
                         const struct verdict *v,
                         const struct rules_result *res)
{
	const struct scan_env *env = scan_env(scan);
	printf("Message: %s (%zu bytes)\n", file, scan_size(scan));
	printf("Envelope: client=%s helo=%s from=<%s> rcpts=", 
	       env->client_addr[0] ? env->client_addr : "(unknown)",
	       env->helo[0] ? env->helo : "(none)", env->mail_from);
	for (size_t i = 0; i < env->rcpt_count; i++)
		printf("%s<%s>", i ? "," : "", env->rcpts[i]);
	printf("%s\n\nStage results:\n", env->rcpt_count ? "" : "(none)");
	if (scan_result_count(scan) == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < scan_result_count(scan); i++) {
		const char *k, *val;
		scan_result_at(scan, i, &k, &val);
		printf("  %-12s %s\n", k, val);
	}
	printf("\nHits:\n");
	if (scan_hit_count(scan) == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < scan_hit_count(scan); i++) {
		const struct scan_hit_info *h = scan_hit_at(scan, i);
		printf("  %8.3f  %-28s %s\n", h->score, h->name, h->desc ? h->desc : "");
		const char *m = matched(res, h->name);
		if (m != NULL) {
			printf("            matched: \"");
			for (; *m; m++)
				printf((unsigned char)*m < 0x20 ? "\\x%02x" : "%c",
				       (unsigned char)*m);
			printf("\"\n");
		}
	}
	printf("\nScore: %.2f (spam from %.1f)\n", scan_score(scan), v->required);
	printf("Action: %s", conf_action_name(v->action));
	if (v->text)
		printf(" (%s %s%s%s)", v->code, v->xcode, v->xcode[0] ? " " : "",
		       v->text);
	if (v->quarantine_reason)
		printf(" (%s)", v->quarantine_reason);
	if (v->failed)
		printf(" [scan failed: fail action]");
	printf("\n");
	if (v->header_count) {
		printf("\nHeaders added:\n");
		for (size_t i = 0; i < v->header_count; i++)
			printf("  %s: %s\n", v->headers[i].name, v->headers[i].value);
	}
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	const char *rcpts[MAX_RCPTS];
	struct envguess_flags flags = { .rcpts = rcpts };
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': conf_path = optarg; break;
		case 'i': flags.client_ip = optarg; break;
		case 'H': flags.helo = optarg; break;
		case 'f': flags.mail_from = optarg; break;
		case 'r':
			if (flags.rcpt_count == MAX_RCPTS) {
				fprintf(stderr, "vigil explain: at most %d --rcpt\n", MAX_RCPTS);
				return 2;
			}
			rcpts[flags.rcpt_count++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	const char *file = argv[optind];
	struct conf *c = load_conf(conf_path);
	if (c == NULL)
		return 2;
	size_t len;
	char *raw = fileio_read(file, c->max_message_size, &len, NULL);
	if (raw == NULL) {
		fprintf(stderr, "vigil explain: %s: %s\n", file, strerror(errno));
		conf_unref(c);
		return 2;
	}
	struct scan *scan = scan_new();
	int rc = 2;
	if (scan != NULL && scan_set_raw(scan, raw, len) == 0 &&
	    envguess_fill(scan, &flags) == 0) {
		scan_set_deadline_ms(scan, (uint64_t)c->message_timeout_s * 1000u);
		const char *failed = NULL;
		pipeline_run(c->pipeline, scan, &failed);
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
			print_report(file, scan, &v, res);
			rc = 0;
		}
		verdict_free(&v);
		rules_result_free(res);
	}
	if (rc != 0)
		fprintf(stderr, "vigil explain: %s: out of memory\n", file);
	scan_free(scan);
	free(raw);
	conf_unref(c);
	return rc;
}

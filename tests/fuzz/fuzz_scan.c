/*
 * fuzz_scan.c — libFuzzer harness for the rules stage as vigil scan runs
 * it: any bytes are a message, parsed and run through SpamAssassin's
 * stock rules (score set 0), every eval function included. The oracle
 * besides the sanitizers: a lazy run (what vigild and vigil scan do)
 * must give the same scored hits as an eager one, and every hit must
 * name a rule.
 *
 * The rules come from $VIGIL_FUZZ_RULES (default
 * /usr/share/spamassassin); they are loaded once, in
 * LLVMFuzzerInitialize.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "ruleset.h"
#include "scan.h"

static struct ruleset *fuzz_rs;
static struct rules *fuzz_rules;
static struct rules_result *fuzz_eager, *fuzz_lazy;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VIGIL_FUZZ_RULES");
	const char *paths[1] = { dir ? dir : "/usr/share/spamassassin" };
	char err[256];
	fuzz_rs = ruleset_load(paths, 1, rules_ruleset_opts());
	struct rules_opts o = { .score_set = 0 };
	fuzz_rules = fuzz_rs ? rules_compile(fuzz_rs, &o, err, sizeof err) : NULL;
	fuzz_eager = rules_result_new();
	fuzz_lazy = rules_result_new();
	if (fuzz_rules == NULL || fuzz_eager == NULL || fuzz_lazy == NULL) {
		fprintf(stderr, "fuzz_scan: cannot load the rules from %s\n",
		        paths[0]);
		abort();
	}
	return 0;
}

/* The scored hits of res, as "NAME*COUNT " in rule order. */
static void scored(const struct rules_result *res, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < rules_result_count(res); i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		if (h->name == NULL || h->name[0] == '\0')
			abort();
		if (strncmp(h->name, "__", 2) == 0 || h->score == 0)
			continue;
		int n = snprintf(out + used, cap - used, "%s*%u ", h->name,
		                 h->count);
		if (n < 0 || (size_t)n >= cap - used)
			abort();
		used += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[65536], b[65536];
	struct scan *s = scan_new();
	if (s == NULL)
		return 0;
	if (scan_set_raw(s, (const char *)data, size) == 0 &&
	    rules_eval(fuzz_rules, s, fuzz_eager,
	               RULES_EVAL_MATCHES | RULES_EVAL_NO_SCAN) == 0 &&
	    rules_eval(fuzz_rules, s, fuzz_lazy,
	               RULES_EVAL_NO_SCAN | RULES_EVAL_LAZY) == 0) {
		scored(fuzz_eager, a, sizeof a);
		scored(fuzz_lazy, b, sizeof b);
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "eager: %s\nlazy:  %s\n", a, b);
			abort();
		}
	}
	scan_free(s);
	return 0;
}

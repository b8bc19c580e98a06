/* Unit tests: what a filter's header fields say (spamhdr): SpamAssassin
 * and vigild's X-Spam-*, rspamd's X-Spam and X-Spamd-Result. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spamhdr.h"

/* The rules found, joined with ','. */
static void assert_rules(const struct spamhdr *h, const char *want)
{
	char got[1024] = "";
	for (size_t i = 0; i < h->nrules; i++) {
		if (i)
			strcat(got, ",");
		strcat(got, h->rules[i]);
	}
	assert_string_equal(got, want);
}

/* The rules' scores, "%g" each or "-" for none, joined with ','. */
static void assert_rule_scores(const struct spamhdr *h, const char *want)
{
	char got[1024] = "";
	for (size_t i = 0; i < h->nrules; i++) {
		size_t n = strlen(got);
		if (isnan(h->rule_scores[i]))
			snprintf(got + n, sizeof got - n, "%s-", i ? "," : "");
		else
			snprintf(got + n, sizeof got - n, "%s%g", i ? "," : "",
			         h->rule_scores[i]);
	}
	assert_string_equal(got, want);
}

static void spamassassin_status(void **state)
{
	(void)state;
	struct spamhdr h;
	spamhdr_init(&h);
	assert_true(isnan(h.score));
	/* folded as SpamAssassin and vigild fold it, CRLF or LF */
	assert_int_equal(spamhdr_add(&h, "X-Spam-Status",
		"Yes, score=6.0 required=5.0 tests=EMPTY_MESSAGE,MISSING_DATE,\r\n"
		"\tMISSING_FROM autolearn=disabled version=3.4.6"), 0);
	assert_true(h.flagged);
	assert_true(h.score == 6.0);
	assert_rules(&h, "EMPTY_MESSAGE,MISSING_DATE,MISSING_FROM");
	assert_rule_scores(&h, "-,-,-");   /* names only: no score */
	spamhdr_clear(&h);

	spamhdr_add(&h, "x-spam-status", "No, score=-0.1 required=5.0 tests=none "
	            "autolearn=ham");
	assert_false(h.flagged);
	assert_true(h.score == -0.1);
	assert_int_equal(h.nrules, 0);
	spamhdr_clear(&h);

	/* scores shown per test (_TESTSSCORES_), old "hits=", tests= folded
	 * right after the '=' */
	spamhdr_add(&h, "X-Spam-Status", "Yes, hits=7.5 required=5.0 tests=\n"
	            "\tBAYES_99=3.5,URIBL_BLACK=4.0 version=3.4.6");
	assert_true(h.flagged);
	assert_true(h.score == 7.5);
	assert_rules(&h, "BAYES_99,URIBL_BLACK");
	assert_rule_scores(&h, "3.5,4");
	spamhdr_clear(&h);
}

static void score_fields(void **state)
{
	(void)state;
	struct spamhdr h;
	spamhdr_init(&h);
	/* X-Spam-Score wins over X-Spam-Status's rounded score, in any order */
	spamhdr_add(&h, "X-Spam-Status", "No, score=4.3 required=5.0 tests=A");
	spamhdr_add(&h, "X-Spam-Score", " 4.25 (++++)");
	assert_true(h.score == 4.25);
	assert_false(h.flagged);
	spamhdr_add(&h, "X-Spam-Status", "No, score=1.0 tests=B");
	assert_true(h.score == 4.25);
	spamhdr_clear(&h);

	spamhdr_add(&h, "X-Spam-Flag", "YES");
	assert_true(h.flagged);
	assert_true(isnan(h.score));
	spamhdr_clear(&h);
	spamhdr_add(&h, "X-Spam-Flag", "NO");
	spamhdr_add(&h, "X-Spam", "No");
	spamhdr_add(&h, "X-Spam-Flagged", "YES");   /* not one of ours */
	assert_false(h.flagged);
	spamhdr_add(&h, "X-Spam", "Yes");
	assert_true(h.flagged);
	spamhdr_clear(&h);
}

/* Numbers are plain decimals: no inf, nan, hex, exponent, or junk. */
static void bad_numbers(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"inf", "nan", "-inf", "0x10", "1e5", "1.2.3", "", "-", ".", "5a",
		"99999999999999999999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct spamhdr h;
		spamhdr_init(&h);
		spamhdr_add(&h, "X-Spam-Score", bad[i]);
		char status[128];
		snprintf(status, sizeof status, "Yes, score=%s tests=A", bad[i]);
		spamhdr_add(&h, "X-Spam-Status", status);
		assert_true(isnan(h.score));
		spamhdr_clear(&h);
	}
}

static void rspamd_result(void **state)
{
	(void)state;
	struct spamhdr h;
	spamhdr_init(&h);
	spamhdr_add(&h, "X-Spamd-Result",
		"default: True [12.50 / 15.00];\r\n"
		"\tSYM_A(5.00)[x;y];\r\n"
		"\tR_SPF_ALLOW(-0.20)[+ip4:192.0.2.0/24];\r\n"
		"\tSYM_B(7.70)[]");
	assert_true(h.flagged);
	assert_true(h.score == 12.5);
	/* a ';' inside [...] does not start a symbol */
	assert_rules(&h, "SYM_A,R_SPF_ALLOW,SYM_B");
	assert_rule_scores(&h, "5,-0.2,7.7");
	spamhdr_clear(&h);

	spamhdr_add(&h, "X-Spamd-Result", "default: False [-1.10 / 15.00]; "
	            "MIME_GOOD(-0.10)[text/plain]");
	assert_false(h.flagged);
	assert_true(h.score == -1.1);
	assert_rules(&h, "MIME_GOOD");
	assert_rule_scores(&h, "-0.1");
	spamhdr_clear(&h);

	/* rspamd's milter says "add header" as an action field, and
	 * X-Spam: Yes (a CHGHEADER), with "default: False" in the result */
	static const char *const spam_actions[] = { "add header",
		"rewrite subject", "reject" };
	for (size_t i = 0; i < 3; i++) {
		spamhdr_add(&h, "X-Rspamd-Action", spam_actions[i]);
		assert_true(h.flagged);
		spamhdr_clear(&h);
	}
	static const char *const other[] = { "no action", "greylist",
		"soft reject", "rejected", "" };
	for (size_t i = 0; i < 5; i++) {
		spamhdr_add(&h, "X-Rspamd-Action", other[i]);
		assert_false(h.flagged);
		spamhdr_clear(&h);
	}
}

/* Junk is ignored, never read past its end, and rules are bounded. */
static void junk(void **state)
{
	(void)state;
	static const char *const values[] = {
		"", ";", "[[[[;", "default:", "default: True [", "tests=",
		"Yes, score=", "Yes, tests=,,,;;;", "((((", "]]]];A(",
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct spamhdr h;
		spamhdr_init(&h);
		assert_int_equal(spamhdr_add(&h, "X-Spam-Status", values[i]), 0);
		assert_int_equal(spamhdr_add(&h, "X-Spamd-Result", values[i]), 0);
		assert_int_equal(spamhdr_add(&h, "X-Spam-Score", values[i]), 0);
		assert_true(isnan(h.score));
		spamhdr_clear(&h);
	}
	struct spamhdr h;
	spamhdr_init(&h);
	assert_int_equal(spamhdr_add(&h, NULL, "x"), 0);
	assert_int_equal(spamhdr_add(&h, "X-Spam-Status", NULL), 0);
	/* a rule name with a byte no rule has is left out */
	spamhdr_add(&h, "X-Spam-Status", "Yes, tests=A\x01" "B,C<script>,D");
	assert_rules(&h, "D");
	spamhdr_clear(&h);

	size_t n = 20000;
	char *big = malloc(n * 3 + 16);
	assert_non_null(big);
	char *at = big + sprintf(big, "Yes, tests=AB");
	for (size_t i = 1; i < n; i++)
		at += sprintf(at, ",AB");
	spamhdr_add(&h, "X-Spam-Status", big);
	assert_true(h.nrules > 0 && h.nrules < n);
	spamhdr_clear(&h);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spamassassin_status),
		cmocka_unit_test(score_fields),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(rspamd_result),
		cmocka_unit_test(junk),
	};
	return cmocka_run_group_tests_name("spamhdr", tests, NULL, NULL);
}

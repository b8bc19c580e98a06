/* Unit tests: meta expressions (Perl precedence and value semantics,
 * counts, unknown names, syntax errors, limits), the dependency order,
 * and every meta line of the stock SpamAssassin rules. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "rulesmeta.h"

/* Names A..Z map to indexes 0..25; anything else is unknown. */
static int resolve_letters(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	if (len == 1 && name[0] >= 'A' && name[0] <= 'Z')
		return name[0] - 'A';
	return -1;
}

static double vals[26];

static double ev(const char *expr)
{
	char err[200];
	struct rmeta *m = rmeta_compile(expr, strlen(expr), resolve_letters,
	                                NULL, err, sizeof err);
	if (m == NULL)
		fail_msg("'%s': %s", expr, err);
	double v = rmeta_eval(m, vals);
	rmeta_free(m);
	return v;
}

/* rmeta_eval_fetch(): the operands fetched, as letters in order. */
static char fetched[64];

static double fetch_letter(void *ctx, int index)
{
	(void)ctx;
	size_t n = strlen(fetched);
	if (n + 1 < sizeof fetched) {
		fetched[n] = (char)('A' + index);
		fetched[n + 1] = '\0';
	}
	return vals[index];
}

/* The value through fetch; *order gets the letters fetched. */
static double ev_fetch(const char *expr, const char **order)
{
	char err[200];
	struct rmeta *m = rmeta_compile(expr, strlen(expr), resolve_letters,
	                                NULL, err, sizeof err);
	if (m == NULL)
		fail_msg("'%s': %s", expr, err);
	fetched[0] = '\0';
	double v = rmeta_eval_fetch(m, fetch_letter, NULL);
	double w = rmeta_eval(m, vals);
	if (v != w)
		fail_msg("'%s': fetched %g, values %g", expr, v, w);
	rmeta_free(m);
	*order = fetched;
	return v;
}

static void set(double a, double b, double c, double d)
{
	memset(vals, 0, sizeof vals);
	vals[0] = a;
	vals[1] = b;
	vals[2] = c;
	vals[3] = d;
}

#define EQ(expr, want) assert_true(ev(expr) == (double)(want))

static void t_precedence(void **state)
{
	(void)state;
	set(0, 0, 0, 0);
	EQ("1 + 2 * 3", 7);
	EQ("(1 + 2) * 3", 9);
	EQ("10 - 4 - 3", 3);          /* left associative */
	EQ("12 / 3 / 2", 2);
	EQ("!0 + 1", 2);              /* ! binds tighter than + */
	EQ("!(0 + 1)", 0);
	EQ("-(2) * 3", -6);
	EQ("- - 2", 2);
	EQ("+ 3", 3);
	EQ("1 + 2 > 2", 1);           /* + tighter than > */
	EQ("2 > 1 == 1", 1);          /* > tighter than == */
	EQ("1 == 1 && 0", 0);         /* == tighter than && */
	EQ("1 || 0 && 0", 1);         /* && tighter than || */
	EQ("0 && 1 || 2", 2);
	EQ("!1 == 0", 1);             /* (!1) == 0 */
	EQ("3 >= 3", 1);
	EQ("3 <= 2", 0);
	EQ("3 != 2", 1);
	EQ("3 < 2", 0);
	EQ("1.5 * 2", 3);
	EQ("0.5 + 0.5", 1);
	EQ("010", 8);                 /* Perl: octal */
	EQ("0", 0);
	EQ("A # a comment", 0);
	/* `? :` loosest and right-associative, `^` between && and == (Perl's
	 * order, as SpamAssassin 4.0.1 runs them) */
	EQ("1 || 0 ? 2 : 3", 2);      /* (1 || 0) ? 2 : 3 */
	EQ("0 ? 1 : 0 ? 2 : 3", 3);   /* 0 ? 1 : (0 ? 2 : 3) */
	EQ("1 ? 0 ? 4 : 5 : 6", 5);   /* then side nested */
	EQ("1 + 1 ? 7 : 8", 7);
	EQ("0 ? 1 : 2 + 3", 5);       /* else side a whole expression */
	EQ("(0 ? 1 : 2) + 3", 5);
	EQ("1 ^ 1 == 0", 1);          /* 1 ^ (1 == 0) ... */
	EQ("3 ^ 1 == 1", 2);          /* ... 3 ^ 1 */
	EQ("1 + 2 ^ 1", 2);           /* (1 + 2) ^ 1 */
	EQ("1 ^ 1 && 5", 0);          /* (1 ^ 1) && 5 */
	EQ("1 ^ 0 || 0 ^ 0", 1);
	EQ("6 ^ 3 ^ 1", 4);           /* left associative */
}

static void t_perl_values(void **state)
{
	(void)state;
	set(2, 0, 5, 0);                 /* A=2, B=0, C=5 */
	EQ("A && C", 5);                 /* right value when left true */
	EQ("C && A", 2);
	EQ("A && B", 0);
	EQ("B && A", 0);
	EQ("A || C", 2);                 /* left value when true */
	EQ("B || C", 5);
	EQ("B || D", 0);
	EQ("(A || B) + (B || C)", 7);
	EQ("(A && C) * 2", 10);
	EQ("!A", 0);
	EQ("!B", 1);
	EQ("!!C", 1);
	EQ("-A", -2);
	EQ("A / B", 0);                  /* division by zero -> 0 */
	EQ("C / 0 + 1", 1);
	EQ("C / A", 2.5);
	/* short-circuit keeps the stack right in nested contexts */
	EQ("1 + (B && C) + (A || C) * 10", 21);
	EQ("(B || B || C) && (A && A && B || 7)", 7);
	set(-1, 0, 0, 0);
	EQ("A && 3", 3);                 /* -1 is true in Perl */
	/* every operand 0: the value known at compile time */
	set(0, 0, 0, 0);
	EQ("!A", 1);
	EQ("!A && !B", 1);
	EQ("A == B", 1);
	EQ("1 - A * 2", 1);
	EQ("(A || 2) * 3", 6);
	EQ("A + B > 0", 0);
	EQ("-A", 0);
	EQ("7", 7);
	set(0, 0, 0, 4);                 /* and not once one is not */
	EQ("!D", 0);
	EQ("(D || 2) * 3", 12);
	EQ("1 - D * 2", -7);
	/* `^` reads its operands as unsigned integers, as Perl does */
	EQ("2.7 ^ 0", 2);
	EQ("-(1) ^ 0", 18446744073709551615.0);
	EQ("D ^ 4", 0);
	set(2, 0, 5, 0);
	EQ("A ? C : B", 5);              /* the side taken's value */
	EQ("B ? C : A", 2);
	EQ("(A ? B : C) || 9", 9);
	EQ("A ? (B || C) : 0", 5);
}

/* Only the operands the evaluation gets to are fetched. */
static void t_fetch(void **state)
{
	(void)state;
	const char *order;
	set(2, 0, 5, 0);
	assert_true(ev_fetch("B && C", &order) == 0);
	assert_string_equal(order, "B");
	assert_true(ev_fetch("A || C", &order) == 2);
	assert_string_equal(order, "A");
	assert_true(ev_fetch("A && C", &order) == 5);
	assert_string_equal(order, "AC");
	assert_true(ev_fetch("(B && C) || (A && D) || C", &order) == 5);
	assert_string_equal(order, "BADC");
	assert_true(ev_fetch("A + B + C > 1", &order) == 1);
	assert_string_equal(order, "ABC");
	assert_true(ev_fetch("!A && C", &order) == 0);
	assert_string_equal(order, "A");
	assert_true(ev_fetch("A ? C : D", &order) == 5);   /* one side */
	assert_string_equal(order, "AC");
	assert_true(ev_fetch("B ? C : D && C", &order) == 0);
	assert_string_equal(order, "BD");
	assert_true(ev_fetch("(B ? C : A) ^ A", &order) == 0);
	assert_string_equal(order, "BAA");
}

/* rmeta_eval_bounds(): letters whose bit is set in known_mask are known,
 * the others 0 to 2. */
static unsigned known_mask;

static void peek_letter(void *ctx, int index, double *lo, double *hi)
{
	(void)ctx;
	if (known_mask >> index & 1) {
		*lo = *hi = vals[index];
	} else {     /* the test's values */
		*lo = 0;
		*hi = 2;
	}
}

/* rmeta_eval_bounds() of expr; true when they decide it (lo == hi). */
static bool bounds_of(const char *expr, double *lo, double *hi)
{
	struct rmeta *m = rmeta_compile(expr, strlen(expr), resolve_letters,
	                                NULL, NULL, 0);
	assert_non_null(m);
	rmeta_eval_bounds(m, peek_letter, NULL, lo, hi);
	rmeta_free(m);
	return *lo == *hi;
}

/* Whatever the unknown operands hold, the value lies in the bounds: every
 * expression, every set of known letters A-D, every value 0, 1, 2 of
 * each (the unknown ones included). */
static void t_known(void **state)
{
	(void)state;
	double lo, hi;
	static const char *const exprs[] = {
		"A && B", "A || B", "B && A", "!A && B", "A && B && C",
		"(A && B) || C", "(A || B) && C", "A + B > 1", "A * B",
		"!(A && B)", "(A && B) + C", "A && (B || C) && D",
		"(A > 1) && !B && !C", "A / B && C", "-(A && B) || !D",
		"(A && (B && C)) || (D && A)", "A && 0", "0 && A",
		"A + B + C > 3", "A + B + C + D > 7", "(A + B > 4) || C",
		"A - B < 3", "A * B >= 0", "-A <= 0", "A == B", "A != 5",
		"(A || B) + 1", "A / 2 > 1", "!(A + B) && C",
		"A ? B : C", "A ? B : C ? D : 1", "A ? (B && C) : !D",
		"(A ? B : C) + D > 2", "A && B ? C || D : 0", "A ^ B",
		"A ^ B ^ C", "(A ^ B) > 1 || C", "A ? B ^ C : D ^ 1",
		"A ? B ? 1 : 2 : C", "!A ? 0 : B + C",
	};
	unsigned decided = 0;
	for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
		char err[200];
		struct rmeta *m = rmeta_compile(exprs[e], strlen(exprs[e]),
		                                resolve_letters, NULL, err,
		                                sizeof err);
		assert_non_null(m);
		for (known_mask = 0; known_mask < 16; known_mask++) {
			for (unsigned a = 0; a < 81; a++) {
				set(a % 3, a / 3 % 3, a / 9 % 3, a / 27 % 3);
				double w = rmeta_eval(m, vals);
				rmeta_eval_bounds(m, peek_letter, NULL, &lo, &hi);
				decided += lo == hi;
				if (!(lo <= w && w <= hi))
					fail_msg("'%s', known %x, A-D %u %u %u %u: %g not in "
					         "%g .. %g", exprs[e], known_mask, a % 3,
					         a / 3 % 3, a / 9 % 3, a / 27 % 3, w, lo, hi);
			}
		}
		rmeta_free(m);
	}
	assert_true(decided > 1000);
	/* decided without the unknown */
	set(0, 0, 0, 0);
	known_mask = 0x2;   /* B = 0 known */
	assert_true(bounds_of("A && B", &lo, &hi) && lo == 0);
	vals[1] = 1;        /* B = 1: A decides */
	assert_false(bounds_of("A && B", &lo, &hi));
	/* A, B, C at most 2 each cannot exceed 6 */
	known_mask = 0;
	assert_true(bounds_of("A + B + C > 6", &lo, &hi) && lo == 0);
	assert_false(bounds_of("A + B + C > 5", &lo, &hi));
	assert_true(lo == 0 && hi == 1);
	/* the operand worth learning next: the first unknown one reached */
	known_mask = 0x1;   /* A = 1 known */
	set(1, 0, 0, 0);
	struct rmeta *m2 = rmeta_compile("(A || B) && (D || C)", 20,
	                                 resolve_letters, NULL, NULL, 0);
	assert_non_null(m2);
	assert_int_equal(rmeta_eval_bounds(m2, peek_letter, NULL, &lo, &hi), 3);
	known_mask = 0xf;
	assert_int_equal(rmeta_eval_bounds(m2, peek_letter, NULL, &lo, &hi), -1);
	assert_true(lo == 0 && hi == 0);
	assert_false(rmeta_counts(m2));
	rmeta_free(m2);
	m2 = rmeta_compile("A + B > 1", 9, resolve_letters, NULL, NULL, 0);
	assert_non_null(m2);
	assert_true(rmeta_counts(m2));
	rmeta_free(m2);
}

static void t_counts(void **state)
{
	(void)state;
	set(1, 0, 0, 0);
	EQ("A + B + C > 1", 0);
	set(1, 1, 0, 0);
	EQ("A + B + C > 1", 1);
	set(3, 0, 0, 0);                 /* tflags multiple: A hit 3 times */
	EQ("A + B + C > 1", 1);
	EQ("A > 2", 1);
	EQ("(A + B) * 2 - 1", 5);
	set(1, 1, 1, 0);
	EQ("A + B + C + D >= 3 && !D", 1);
	EQ("(A + B + C) / 2", 1.5);
}

/* SpamAssassin's check: the rule names 0, the expression run as Perl
 * with its short cuts; a division by 0 refuses the meta (audit20 L3). */
static bool zero_div(const char *expr)
{
	char err[200];
	struct rmeta *m = rmeta_compile(expr, strlen(expr), resolve_letters,
	                                NULL, err, sizeof err);
	if (m == NULL)
		fail_msg("'%s': %s", expr, err);
	bool z = rmeta_zero_division(m);
	rmeta_free(m);
	return z;
}

static void t_zero_division(void **state)
{
	(void)state;
	assert_true(zero_div("(A / B) > 0"));
	assert_true(zero_div("A + 1 / (B - C)"));
	assert_false(zero_div("(A + B + C) / 2"));
	assert_false(zero_div("A / (B + 1)"));
	assert_false(zero_div("A && (B / C)"));   /* never reached */
}

static void t_deps_unknown(void **state)
{
	(void)state;
	char err[200];
	const char *e = "B && !FOO_1 || A + B > __BAR || FOO_1 || C";
	struct rmeta *m = rmeta_compile(e, strlen(e), resolve_letters, NULL,
	                                err, sizeof err);
	assert_non_null(m);
	assert_int_equal(rmeta_dep_count(m), 3);
	assert_int_equal(rmeta_dep_at(m, 0), 1);
	assert_int_equal(rmeta_dep_at(m, 1), 0);
	assert_int_equal(rmeta_dep_at(m, 2), 2);
	assert_int_equal(rmeta_dep_at(m, 3), -1);
	assert_int_equal(rmeta_unknown_count(m), 2);
	assert_string_equal(rmeta_unknown_at(m, 0), "FOO_1");
	assert_string_equal(rmeta_unknown_at(m, 1), "__BAR");
	assert_null(rmeta_unknown_at(m, 2));
	/* unknown names count as 0 */
	set(0, 1, 0, 0);
	assert_true(rmeta_eval(m, vals) == 1.0);   /* B && !0 = 1 */
	set(0, 0, 0, 0);
	assert_true(rmeta_eval(m, vals) == 0.0);
	rmeta_free(m);

	/* No resolver: every name unknown, still compiles. */
	m = rmeta_compile("X && Y", 6, NULL, NULL, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(rmeta_dep_count(m), 0);
	assert_int_equal(rmeta_unknown_count(m), 2);
	assert_true(rmeta_eval(m, NULL) == 0.0);
	rmeta_free(m);
	rmeta_free(NULL);
}

struct bad { const char *expr; const char *msg; };

static void t_syntax_errors(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{ "", "empty expression" },
		{ "   # only a comment", "empty expression" },
		{ "A &&", "expected a rule name, a number, '(', '!' or '-' at column 5 (end of expression)" },
		{ "(A && B", "expected ')' at column 8 (to close '(' at column 1)" },
		{ "(A B)", "expected ')' or an operator at column 4, found 'B'" },
		{ "A)", "expected an operator at column 2, found ')'" },
		{ "A B", "expected an operator at column 3, found 'B'" },
		{ "A & B", "expected an operator at column 3, found '&'" },
		{ "A | B", "expected an operator at column 3, found '|'" },
		{ "A = B", "expected an operator at column 3, found '='" },
		{ "A =~ B", "expected an operator at column 3, found '=~'" },
		{ "A !~ B", "expected an operator at column 3, found '!~'" },
		{ "A ** 2", "expected an operator at column 3, found '*'" },
		{ "A % 2", "expected an operator at column 3, found '%'" },
		{ "A << 2", "expected an operator at column 3, found '<<'" },
		{ "A <=> 2", "expected an operator at column 3, found '<=>'" },
		{ "()", "expected a rule name, a number, '(', '!' or '-' at column 2, found ')'" },
		{ "* A", "expected a rule name, a number, '(', '!' or '-' at column 1, found '*'" },
		{ "A && || B", "expected a rule name, a number, '(', '!' or '-' at column 6, found '||'" },
		{ "1A", "invalid token '1A' at column 1: SpamAssassin refuses the rule" },
		{ "$A", "expected a rule name, a number, '(', '!' or '-' at column 1, found '$'" },
		{ "A && \xc3\xa9", "expected a rule name, a number, '(', '!' or '-' at column 6, found byte 0xc3" },
		{ "08", "illegal octal digit '8' at column 1" },
		{ "A < B < C", "chained comparison at column 7: use parentheses" },
		{ "A == B != C", "chained comparison at column 8: use parentheses" },
		{ "A, B", "expected an operator at column 2, found ','" },
		{ "A ? B", "expected ':' at column 6 (for '?' at column 3)" },
		{ "A ? B C", "expected ':' or an operator at column 7, found 'C'" },
		/* SpamAssassin reads B:C as one name, so `A?B:C` has no ':' */
		{ "A?B:C", "expected ':' at column 6 (for '?' at column 2)" },
		{ "A : B", "expected an operator at column 3, found ':'" },
		{ "? A : B", "expected a rule name, a number, '(', '!' or '-' at column 1, found '?'" },
		{ "A ^^ B", "expected a rule name, a number, '(', '!' or '-' at column 4, found '^'" },
		/* tokens SpamAssassin's lexer refuses (audit21 L1, audit22 L3) */
		{ "A > -1", "invalid token '-1' at column 5: SpamAssassin refuses the rule" },
		{ "A * -1", "invalid token '-1' at column 5: SpamAssassin refuses the rule" },
		{ "1-2 && A", "invalid token '1-2' at column 1: SpamAssassin refuses the rule" },
		{ "A || .5", "invalid token '.5' at column 6: SpamAssassin refuses the rule" },
		{ "1e3", "invalid token '1e3' at column 1: SpamAssassin refuses the rule" },
		{ "A || 2.5e1 > 2", "invalid token '2.5e1' at column 6: SpamAssassin refuses the rule" },
		{ "1_000", "invalid token '1_000' at column 1: SpamAssassin refuses the rule" },
		{ "A || 1.", "invalid token '1.' at column 6: SpamAssassin refuses the rule" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char err[200];
		struct rmeta *m = rmeta_compile(bad[i].expr, strlen(bad[i].expr),
		                                resolve_letters, NULL, err,
		                                sizeof err);
		if (m != NULL)
			fail_msg("'%s' compiled", bad[i].expr);
		if (strcmp(err, bad[i].msg) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].expr,
			         err, bad[i].msg);
	}
	/* An embedded NUL is a bad byte, not the end. */
	char err[200];
	assert_null(rmeta_compile("A\0B", 3, resolve_letters, NULL, err, sizeof err));
	assert_string_equal(err, "expected an operator at column 2, found byte 0x00");
	/* A tiny error buffer is respected. */
	char small[8];
	assert_null(rmeta_compile("(", 1, resolve_letters, NULL, small, sizeof small));
	assert_int_equal(strlen(small), 7);
	assert_null(rmeta_compile("(", 1, resolve_letters, NULL, NULL, 0));
	/* Comparisons at different levels need no parentheses. */
	EQ("1 < 2 == 2 > 1", 1);
	EQ("(1 < 2) < 3", 1);
}

static char *repeat(const char *pre, size_t n, const char *mid, const char *post)
{
	size_t lp = strlen(pre), lq = strlen(post), lm = strlen(mid);
	char *s = malloc(n * (lp + lq) + lm + 1);
	assert_non_null(s);
	char *p = s;
	for (size_t i = 0; i < n; i++, p += lp)
		memcpy(p, pre, lp);
	memcpy(p, mid, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += lq)
		memcpy(p, post, lq);
	*p = '\0';
	return s;
}

static void t_limits(void **state)
{
	(void)state;
	char err[200];
	set(1, 0, 0, 0);
	/* 150 nested parentheses are fine ... */
	char *s = repeat("(", 150, "A", ")");
	struct rmeta *m = rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err);
	assert_non_null(m);
	assert_true(rmeta_eval(m, vals) == 1.0);
	rmeta_free(m);
	free(s);
	/* ... 30,000 are refused, without deep recursion. */
	s = repeat("(", 30000, "A", ")");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nesting deeper than 200 at column 201"));
	free(s);
	s = repeat("!", 60000, "A", "");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nesting deeper than 200"));
	free(s);
	/* `? :` chains nest too: 150 are fine, 5,000 refused */
	s = repeat("B ? 1 : ", 150, "A", "");
	m = rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err);
	assert_non_null(m);
	assert_true(rmeta_eval(m, vals) == 1.0);
	rmeta_free(m);
	free(s);
	s = repeat("B ? 1 : ", 5000, "A", "");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nesting deeper than 200"));
	free(s);
	s = repeat("A ? ", 5000, "A", " : 0");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nesting deeper than 200"));
	free(s);
	/* Right-nested operands need stack: 150 levels of "A+(" are fine. */
	s = repeat("A+(", 150, "A", ")");
	m = rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err);
	assert_non_null(m);
	assert_true(rmeta_eval(m, vals) == 151.0);
	rmeta_free(m);
	free(s);
	/* Two pending operands per level: 190 levels exceed the stack. */
	s = repeat("A+A*(", 190, "A", ")");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "expression too complex"));
	free(s);
	/* Long flat expressions are fine: stack stays small. */
	s = repeat("A+", 20000, "A", "");
	m = rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err);
	assert_non_null(m);
	assert_true(rmeta_eval(m, vals) == 20001.0);
	rmeta_free(m);
	free(s);
	/* Length limit. */
	s = repeat(" ", RMETA_MAX_LEN, "A", "");
	assert_null(rmeta_compile(s, strlen(s), resolve_letters, NULL, err, sizeof err));
	assert_non_null(strstr(err, "longer than"));
	free(s);
}

/* ---- rmeta_order ---- */

struct graph {
	size_t n;
	size_t ndeps[16];
	size_t deps[16][4];
};

static size_t g_count(void *ctx, size_t node)
{
	return ((struct graph *)ctx)->ndeps[node];
}

static size_t g_at(void *ctx, size_t node, size_t i)
{
	return ((struct graph *)ctx)->deps[node][i];
}

static void check_order(const struct graph *g, const size_t *order)
{
	size_t rank[16];
	int seen[16] = { 0 };
	for (size_t i = 0; i < g->n; i++) {
		assert_true(order[i] < g->n);
		assert_false(seen[order[i]]);
		seen[order[i]] = 1;
		rank[order[i]] = i;
	}
	for (size_t v = 0; v < g->n; v++)
		for (size_t i = 0; i < g->ndeps[v]; i++)
			if (g->deps[v][i] < g->n)
				assert_true(rank[g->deps[v][i]] < rank[v]);
}

static void t_order(void **state)
{
	(void)state;
	size_t order[16], cyc = 99;
	/* Diamond plus chain plus an out-of-range dependency. */
	struct graph g = { .n = 6 };
	g.ndeps[0] = 2; g.deps[0][0] = 1; g.deps[0][1] = 2;
	g.ndeps[1] = 1; g.deps[1][0] = 3;
	g.ndeps[2] = 1; g.deps[2][0] = 3;
	g.ndeps[3] = 1; g.deps[3][0] = 100;   /* ignored */
	g.ndeps[4] = 1; g.deps[4][0] = 0;
	g.ndeps[5] = 0;
	assert_int_equal(rmeta_order(g.n, g_count, g_at, &g, order, &cyc), 0);
	check_order(&g, order);

	/* Cycle 1 -> 2 -> 3 -> 1, reached from 0; 4 is fine. */
	struct graph c = { .n = 5 };
	c.ndeps[0] = 1; c.deps[0][0] = 1;
	c.ndeps[1] = 1; c.deps[1][0] = 2;
	c.ndeps[2] = 1; c.deps[2][0] = 3;
	c.ndeps[3] = 1; c.deps[3][0] = 1;
	assert_int_equal(rmeta_order(c.n, g_count, g_at, &c, order, &cyc), -1);
	assert_true(cyc >= 1 && cyc <= 3);

	/* Self-dependency. */
	struct graph s = { .n = 3 };
	s.ndeps[2] = 1; s.deps[2][0] = 2;
	assert_int_equal(rmeta_order(s.n, g_count, g_at, &s, order, &cyc), -1);
	assert_int_equal(cyc, 2);

	assert_int_equal(rmeta_order(0, g_count, g_at, &s, order, &cyc), 0);
}

/* A chain of 200,000 nodes: no recursion limit. */
static size_t chain_count(void *ctx, size_t node) { (void)ctx; return node > 0; }
static size_t chain_at(void *ctx, size_t node, size_t i) { (void)ctx; (void)i; return node - 1; }
static size_t rchain_count(void *ctx, size_t node) { return node + 1 < *(size_t *)ctx; }
static size_t rchain_at(void *ctx, size_t node, size_t i) { (void)ctx; (void)i; return node + 1; }

static void t_order_long(void **state)
{
	(void)state;
	size_t n = 200000, cyc;
	size_t *order = malloc(n * sizeof *order);
	assert_non_null(order);
	assert_int_equal(rmeta_order(n, chain_count, chain_at, NULL, order, &cyc), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(order[i], i);
	assert_int_equal(rmeta_order(n, rchain_count, rchain_at, &n, order, &cyc), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(order[i], n - 1 - i);
	free(order);
}

/* ---- stock SpamAssassin metas ---- */

static int resolve_any(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return (int)(h % 4096);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void t_stock_metas(void **state)
{
	(void)state;
	const char *dir = getenv("VIGIL_SA_RULES");
	if (dir == NULL)
		dir = "/usr/share/spamassassin";
	DIR *d = opendir(dir);
	if (d == NULL) {
		printf("# %s not present: stock meta test skipped\n", dir);
		skip();
	}
	char *names[512];
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && nn < 512) {
		size_t l = strlen(de->d_name);
		if (l > 3 && strcmp(de->d_name + l - 3, ".cf") == 0)
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof names[0], cmpstr);
	static double zeros[4096];
	size_t total = 0, bad = 0, with_unknown = 0;
	for (size_t f = 0; f < nn; f++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, names[f]);
		FILE *fp = fopen(path, "r");
		free(names[f]);
		if (fp == NULL)
			continue;
		char line[8192];
		unsigned lineno = 0;
		while (fgets(line, sizeof line, fp) != NULL) {
			lineno++;
			/* SpamAssassin drops comments: '#' not after '\'. */
			for (char *p = line; *p; p++)
				if (*p == '#' && (p == line || p[-1] != '\\')) {
					*p = '\0';
					break;
				}
			char *p = line + strspn(line, " \t");
			if (strncmp(p, "meta", 4) != 0 || (p[4] != ' ' && p[4] != '\t'))
				continue;
			p += 4;
			p += strspn(p, " \t");
			p += strcspn(p, " \t\r\n");    /* the rule name */
			size_t l = strlen(p);
			while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
				p[--l] = '\0';
			total++;
			char err[200];
			struct rmeta *m = rmeta_compile(p, l, resolve_any, NULL,
			                                err, sizeof err);
			if (m == NULL) {
				bad++;
				printf("# %s:%u: %s: %s\n", path, lineno, err, p);
				continue;
			}
			if (rmeta_unknown_count(m) > 0)
				with_unknown++;
			(void)rmeta_eval(m, zeros);
			rmeta_free(m);
		}
		fclose(fp);
	}
	printf("# stock metas: %zu compiled, %zu errors\n", total - bad, bad);
	assert_int_equal(with_unknown, 0);
	assert_int_equal(bad, 0);
	assert_true(total > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_precedence),
		cmocka_unit_test(t_perl_values),
		cmocka_unit_test(t_counts),
		cmocka_unit_test(t_zero_division),
		cmocka_unit_test(t_fetch),
		cmocka_unit_test(t_known),
		cmocka_unit_test(t_deps_unknown),
		cmocka_unit_test(t_syntax_errors),
		cmocka_unit_test(t_limits),
		cmocka_unit_test(t_order),
		cmocka_unit_test(t_order_long),
		cmocka_unit_test(t_stock_metas),
	};
	return cmocka_run_group_tests_name("rulesmeta", tests, NULL, NULL);
}

/* Unit tests: the progress line (bar, share and ETA from bytes, counts
 * in the singular and plural, nothing but counts without a total),
 * erasing it, and redrawing at once after an erase. Timing is never
 * asserted: only the first drawing and drawings after an erase, which
 * happen whatever the clock says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "progress.h"

static void assert_starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* What was written to f since the last call (f rewound and emptied). */
static char *drain(FILE *f)
{
	static char buf[1024];
	fflush(f);
	long n = ftell(f);
	assert_true(n >= 0 && (size_t)n < sizeof buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	rewind(f);
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	return buf;
}

static void bar_and_counts(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct progress *p = progress_new(f, 1000);
	assert_non_null(p);
	progress_update(p, 1, 0, 500);
	const char *s = drain(f);
	assert_starts(s, "\r[============>           ]  50% 1 message, "
	                 "0 errors, ");
	assert_null(strstr(s, "ETA"));   /* no rate yet */
	progress_clear(p);
	s = drain(f);
	size_t n = strlen(s);
	assert_true(n > 2 && s[0] == '\r' && s[n - 1] == '\r');
	assert_int_equal(strspn(s + 1, " "), n - 2);
	progress_update(p, 2, 1, 1000);   /* drawn at once after a clear */
	s = drain(f);
	assert_starts(s, "\r[========================] 100% 2 messages, "
	                 "1 error, ");
	assert_null(strstr(s, "ETA"));   /* nothing left */
	progress_free(p);
	s = drain(f);
	assert_true(s[0] == '\r');       /* erased on the way out */
	fclose(f);
}

static void no_total(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct progress *p = progress_new(f, 0);
	assert_non_null(p);
	progress_update(p, 3, 0, 42);
	const char *s = drain(f);
	assert_starts(s, "\r3 messages, 0 errors, ");
	assert_null(strchr(s, '['));
	assert_null(strstr(s, "ETA"));
	progress_free(p);
	progress_update(NULL, 1, 1, 1);   /* no terminal: nothing to do */
	progress_clear(NULL);
	progress_free(NULL);
	fclose(f);
}

/* The time left from the rate since the first bytes done, not from the
 * start (start-up is no part of the corpus's rate). */
static void eta(void **state)
{
	(void)state;
	/* 200 bytes in 2 s since the first 100: 800 left take 8 s */
	assert_true(progress_eta_s(2.0, 100, 300, 1100) == 8.0);
	/* under a second of rate, no bytes since, nothing left: none */
	assert_true(progress_eta_s(0.5, 100, 300, 1100) < 0);
	assert_true(progress_eta_s(5.0, 300, 300, 1100) < 0);
	assert_true(progress_eta_s(5.0, 100, 1100, 1100) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bar_and_counts),
		cmocka_unit_test(no_total),
		cmocka_unit_test(eta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

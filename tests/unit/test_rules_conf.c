/* Unit tests of rules_conf_paths(): which configured rule paths load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "rules.h"

static struct conf *load(const char *text)
{
	char err[4096];
	struct conf *c = conf_load_string(text, "test.conf", err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

/* The built-in list: missing entries are skipped, so every path returned
 * exists, and vigil's own rules directory is among the candidates. */
static void test_default_skips_missing(void **state)
{
	(void)state;
	struct conf *c = load("stages = {}\n");
	cfg_t *cfg = conf_cfg(c);
	assert_int_equal(cfg_size(cfg, "rules"), 3);
	const char *p[8];
	size_t n = rules_conf_paths(cfg, p, 8);
	size_t exist = 0;
	for (unsigned i = 0; i < cfg_size(cfg, "rules"); i++)
		exist += access(cfg_getnstr(cfg, "rules", i), F_OK) == 0;
	assert_int_equal(n, exist);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(access(p[i], F_OK), 0);
	conf_unref(c);
}

/* Paths the operator wrote are all kept, in order: a missing one must
 * surface as a load error, not vanish. */
static void test_explicit_kept(void **state)
{
	(void)state;
	struct conf *c = load("stages = {}\n"
	                      "rules = { \"/nonexistent/vigil-a\", \"/\" }\n"
	                      "rules += \"/nonexistent/vigil-b\"\n");
	const char *p[8];
	assert_int_equal(rules_conf_paths(conf_cfg(c), p, 8), 3);
	assert_string_equal(p[0], "/nonexistent/vigil-a");
	assert_string_equal(p[1], "/");
	assert_string_equal(p[2], "/nonexistent/vigil-b");
	assert_int_equal(rules_conf_paths(conf_cfg(c), p, 2), 2);
	conf_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_skips_missing),
		cmocka_unit_test(test_explicit_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

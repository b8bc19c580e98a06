/* Unit tests: literal extraction and the multi-literal scanner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "litscan.h"

static void t_placeholder(void **state)
{
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_placeholder),
	};
	return cmocka_run_group_tests_name("litscan", tests, NULL, NULL);
}

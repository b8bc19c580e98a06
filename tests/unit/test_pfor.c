/* pfor: every index exactly once, on any number of threads; failures
 * reported without stopping the other calls. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pfor.h"

struct ctx {
	unsigned char *calls;   /* per index: how often fn ran */
	size_t fail_at;         /* fn returns -1 here (SIZE_MAX: never) */
};

static int count(void *arg, size_t i)
{
	struct ctx *c = arg;
	c->calls[i]++;
	return i == c->fail_at ? -1 : 0;
}

static void run_and_check(size_t n, unsigned threads, size_t fail_at)
{
	struct ctx c = { calloc(n ? n : 1, 1), fail_at };
	assert_non_null(c.calls);
	int rc = pfor_run(n, count, &c, threads);
	assert_int_equal(rc, fail_at < n ? -1 : 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c.calls[i], 1);
	free(c.calls);
}

static void t_every_index_once(void **state)
{
	(void)state;
	static const size_t sizes[] = { 0, 1, 2, 7, 1000, 100000 };
	static const unsigned threads[] = { 0, 1, 2, 3, 8, 64 };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++)
			run_and_check(sizes[s], threads[t], SIZE_MAX);
}

static void t_failure_reported(void **state)
{
	(void)state;
	run_and_check(1000, 0, 5);
	run_and_check(1000, 1, 999);
	run_and_check(1, 4, 0);
}

/* "All cores" are the CPUs the process may run on: one CPU under a
 * taskset or a cpuset gives 1, not the machine's count (audit20 L2). */
static void t_cpus_follow_affinity(void **state)
{
	(void)state;
	cpu_set_t all, one;
	assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
	assert_int_equal(pfor_cpus(), (unsigned)CPU_COUNT(&all));
	int first = 0;
	while (!CPU_ISSET(first, &all))
		first++;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
	assert_int_equal(pfor_cpus(), 1);
	assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_every_index_once),
		cmocka_unit_test(t_failure_reported),
		cmocka_unit_test(t_cpus_follow_affinity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

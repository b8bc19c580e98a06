/* pfor.c — see pfor.h */
#include "pfor.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

struct pfor {
	size_t n;
	int (*fn)(void *ctx, size_t i);
	void *ctx;
	atomic_size_t next;    /* the next index to hand out */
	atomic_bool failed;
};

static void *worker(void *arg)
{
	struct pfor *w = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			return NULL;
		if (w->fn(w->ctx, i) != 0)
			atomic_store(&w->failed, true);
	}
}

unsigned pfor_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores < 1 ? 1 : (unsigned)cores;
}

static unsigned thread_count(size_t n, unsigned max_threads)
{
	if (max_threads == 0)
		max_threads = pfor_cpus();
	if (max_threads > PFOR_MAX_THREADS)
		max_threads = PFOR_MAX_THREADS;
	return n < max_threads ? (unsigned)(n ? n : 1) : max_threads;
}

int pfor_run(size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
             unsigned max_threads)
{
	struct pfor w = { .n = n, .fn = fn, .ctx = ctx };
	atomic_init(&w.next, 0);
	atomic_init(&w.failed, false);
	pthread_t th[PFOR_MAX_THREADS];
	unsigned started = 0, want = thread_count(n, max_threads);
	/* the calling thread is one of them */
	while (started + 1 < want &&
	       pthread_create(&th[started], NULL, worker, &w) == 0)
		started++;
	worker(&w);
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	return atomic_load(&w.failed) ? -1 : 0;
}

/*
 * pfor.h — run independent pieces of work on every core: a parallel
 * "for" over the indexes 0 .. n-1.
 *
 * pfor_run() calls fn(ctx, i) exactly once for every i < n, from up to
 * max_threads threads (0: pfor_cpus(), at most PFOR_MAX_THREADS), the calling thread among them, and returns when
 * all calls have returned; every thread it started is joined. The calls
 * may run in any order and at the same time, so fn must only touch what
 * belongs to index i (or synchronise itself). Returns 0, or -1 when some
 * call returned non-zero (the other calls still run). When no thread can
 * be started the caller runs everything itself.
 */
#ifndef VIGIL_PFOR_H
#define VIGIL_PFOR_H

#include <stddef.h>

#define PFOR_MAX_THREADS 8

int pfor_run(size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
             unsigned max_threads);

/* The CPUs this process may run on (its affinity mask: taskset, a
 * cgroup cpuset, a container), else the online ones; at least 1: what
 * "all cores" means for vigild's and vigil scan's thread counts. */
unsigned pfor_cpus(void);

#endif

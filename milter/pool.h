/*
 * pool.h — the scan worker pool: a fixed number of threads taking jobs
 * from one FIFO queue. Blocking library calls and CPU-heavy matching run
 * here, never on an event loop thread. The queue is bounded by its users
 * (one job per milter connection at most).
 */
#ifndef VIGIL_POOL_H
#define VIGIL_POOL_H

struct pool;

struct pool *pool_new(unsigned workers);
/* Queue fn(arg); 0 or -1 (allocation failure, or pool stopping). */
int pool_submit(struct pool *p, void (*fn)(void *arg), void *arg);
/* Run every queued job, then join the workers and free the pool. */
void pool_free(struct pool *p);

#endif

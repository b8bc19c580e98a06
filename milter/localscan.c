/* localscan.c — see localscan.h */
#include "localscan.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "monotime.h"
#include "pipeline.h"
#include "rules.h"
#include "scan.h"
#include "verdict.h"

struct slot {
	bool ready;
	struct localscan_item item;
	struct scan *scan;
	struct verdict v;
	bool have_verdict;
	double ms;
};

struct runner {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct conf *conf;
	const struct envguess_flags *flags;
	const struct localscan_ops *ops;
	struct slot *slots;
	size_t window;
	uint64_t taken, emitted;
	bool eof;
};

/* The message with the body capped as vigild caps it; the bytes the
 * producer did not keep (size > len) count as body not stored, in one
 * step (a file of a terabyte is not fed in pieces). */
int localscan_prepare(struct scan *scan, const struct conf *c,
                      const struct envguess_flags *flags, char **raw,
                      size_t len, uint64_t size)
{
	scan_set_max_body(scan, c->max_message_size);
	int rc = scan_set_raw(scan, *raw, len);
	free(*raw);
	*raw = NULL;
	if (rc != 0)
		return -1;
	if (size > len)
		scan_count_unread(scan, size - len);
	const void *rules = pipeline_stage_state(c->pipeline, "rules");
	scan_set_uri_redirectors(scan, rules_stage_redirectors(rules));
	if (envguess_fill(scan, flags, rules_stage_trustpath(rules)) != 0)
		return -1;
	scan_set_deadline_ms(scan, (uint64_t)c->message_timeout_s * 1000u);
	return 0;
}

const char *localscan_overran(const struct conf *c, double ms)
{
	double limit = (double)c->message_timeout_s * 1000.0 +
	               CONF_DEADLINE_GRACE_MS;
	return c->message_timeout_s > 0 && ms > limit ? "scan deadline passed"
	                                              : NULL;
}

/* Scan one message (no lock held). */
static void process(struct runner *r, struct slot *s)
{
	double t0 = monotime_s();
	if (s->item.error != NULL)
		return;
	s->scan = scan_new();
	if (s->scan == NULL ||
	    (s->item.name && scan_set_log_name(s->scan, s->item.name) != 0) ||
	    localscan_prepare(s->scan, r->conf, r->flags, &s->item.raw,
	                      s->item.len, s->item.size) != 0) {
		scan_free(s->scan);
		s->scan = NULL;
		s->item.error = "out of memory";
		return;
	}
	const char *failed = NULL;
	pipeline_run(r->conf->pipeline, s->scan, &failed);
	if (failed == NULL)
		failed = localscan_overran(r->conf, (monotime_s() - t0) * 1e3);
	s->have_verdict = verdict_decide(r->conf, s->scan, failed, true, &s->v) == 0;
	if (!s->have_verdict)
		s->item.error = "out of memory";
	s->ms = (monotime_s() - t0) * 1e3;
}

/* Deliver finished messages in order (lock held). */
static void emit_ready(struct runner *r)
{
	while (r->emitted < r->taken) {
		struct slot *s = &r->slots[r->emitted % r->window];
		if (!s->ready)
			break;
		r->ops->done(r->ops->ctx, &s->item,
		             s->item.error ? NULL : s->scan,
		             s->have_verdict && !s->item.error ? &s->v : NULL, s->ms);
		if (s->have_verdict)
			verdict_free(&s->v);
		scan_free(s->scan);
		free(s->item.raw);   /* not scanned: never prepared */
		memset(s, 0, sizeof *s);
		r->emitted++;
	}
	pthread_cond_broadcast(&r->cond);
}

static void *worker(void *arg)
{
	struct runner *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->eof && r->taken - r->emitted >= r->window)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->eof)
			break;
		struct slot *s = &r->slots[r->taken % r->window];
		memset(s, 0, sizeof *s);
		if (r->ops->next(r->ops->ctx, &s->item) != 1) {
			r->eof = true;
			pthread_cond_broadcast(&r->cond);
			break;
		}
		r->taken++;
		pthread_mutex_unlock(&r->lock);
		process(r, s);
		pthread_mutex_lock(&r->lock);
		s->ready = true;
		emit_ready(r);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int localscan_run(struct conf *c, unsigned jobs,
                  const struct envguess_flags *flags,
                  const struct localscan_ops *ops)
{
	if (jobs == 0)
		jobs = 1;
	struct runner r = { .conf = c, .flags = flags, .ops = ops,
	                    .window = (size_t)jobs * 4 };
	r.slots = calloc(r.window, sizeof *r.slots);
	pthread_t *tids = calloc(jobs, sizeof *tids);
	if (r.slots == NULL || tids == NULL) {
		free(r.slots);
		free(tids);
		return -1;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	unsigned started = 0;
	for (unsigned i = 0; i < jobs; i++)
		if (pthread_create(&tids[i], NULL, worker, &r) == 0)
			started++;
	if (started == 0)
		worker(&r);	/* no threads: do it here */
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_lock(&r.lock);
	emit_ready(&r);
	pthread_mutex_unlock(&r.lock);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
	free(r.slots);
	free(tids);
	return 0;
}

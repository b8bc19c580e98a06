/*
 * localscan.h — the pipeline run in-process over a stream of messages on
 * N threads (vigil scan without --milter), with results delivered in
 * input order and memory bounded by a window of messages in flight.
 *
 * The producer (next) and the consumer (done) are called with the
 * runner's lock held, so they need no locking of their own and run one
 * at a time; the scanning itself runs in parallel.
 */
#ifndef VIGIL_LOCALSCAN_H
#define VIGIL_LOCALSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "envguess.h"

struct conf;
struct scan;
struct verdict;

/* One message handed in by the producer. raw is malloc'ed and owned by
 * the runner from then on (freed, and NULL, once the scan holds its
 * copy of the message: done() does not get it); error, a string that outlives the run (static,
 * or kept by the producer through tag), marks a message that could not
 * be read: it is passed through to done() without a scan. */
struct localscan_item {
	void *tag;        /* producer's data, given back to done() */
	char *raw;
	size_t len;
	/* Bytes the message had when raw holds only its head (0: len): the
	 * rest counts as body beyond max_message_size, as in vigild. */
	uint64_t size;
	const char *error;
	/* What log lines name it by (scan_set_log_name()), kept by the
	 * producer through tag; NULL: none. */
	const char *name;
};

struct localscan_ops {
	/* Fill *it with the next message: 1, or 0 at the end. */
	int (*next)(void *ctx, struct localscan_item *it);
	/* In input order. scan and v are NULL when it->error is set or the
	 * scan could not be set up (then it->error says why). */
	void (*done)(void *ctx, const struct localscan_item *it,
	             struct scan *scan, const struct verdict *v, double ms);
	void *ctx;
};

/* Set up scan for one message read from a file, as localscan_run() does
 * (vigil explain uses it too): (*raw)[0..len) of a message that had size
 * bytes (0: len), the body capped at c->max_message_size and the rest
 * counted, the envelope from flags and the message, the deadline.
 * *raw is malloc'ed and taken: freed and set to NULL as soon as the scan
 * holds its copy, before the message is parsed (so that a large message
 * is not held once more while the stages run), on failure too. 0, or -1
 * (memory). */
int localscan_prepare(struct scan *scan, const struct conf *c,
                      const struct envguess_flags *flags, char **raw,
                      size_t len, uint64_t size);

/* What vigild answers a scan that took ms milliseconds: NULL, or, past
 * c's message_timeout and CONF_DEADLINE_GRACE_MS, the failure ("scan
 * deadline passed") that gets the fail action, as vigild's timer. */
const char *localscan_overran(const struct conf *c, double ms);

/* Run every message through c's pipeline and verdict. The envelope of
 * each comes from flags and the message (envguess). As in vigild, the
 * body is scanned up to c->max_message_size bytes and the rest counted
 * (scan_truncated()). 0, or -1 when the
 * threads could not be started. */
int localscan_run(struct conf *c, unsigned jobs,
                  const struct envguess_flags *flags,
                  const struct localscan_ops *ops);

#endif

/*
 * stage.h — the pipeline stage interface.
 *
 * A stage is a module that looks at one message and adds results to its
 * scan: rule hits with scores, a result word for the syslog line (e.g.
 * spf=pass), headers to add. Stages are listed once in pipeline.c; each
 * owns a libconfuse section of vigild.conf named after the stage.
 *
 * Lifecycle: init() runs when a configuration is loaded (startup, SIGHUP)
 * and returns the stage's immutable state for that configuration, shared
 * read-only by every worker thread; fini() frees it when the last message
 * using that configuration is done. run() is called on a scan worker
 * thread, once per message, and must not block beyond the scan deadline
 * (scan_deadline_left_ms()).
 */
#ifndef VIGIL_STAGE_H
#define VIGIL_STAGE_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "scan.h"

struct scan;

enum stage_status {
	STAGE_OK = 0,    /* ran; results (possibly none) were added */
	STAGE_ERROR = -1 /* internal failure: the fail action applies */
};

struct stage_ops {
	const char *name;      /* stage and config section name, [a-z_]+ */
	bool dns;              /* run() asks DNS: its results depend on the
	                          records at scan time (reports say so) */
	cfg_opt_t *conf_opts;  /* options of its section, CFG_END()-terminated;
	                          NULL: the stage has no section */
	/* Build the per-configuration state from the stage's section (sec is
	 * NULL when conf_opts is NULL); root is the whole configuration, for
	 * shared sections such as dns. On error, write a message (with
	 * file:line where known) to err and return NULL. A stage that needs no
	 * state returns a non-NULL dummy. */
	void *(*init)(cfg_t *root, cfg_t *sec, char *err, size_t errlen);
	void (*fini)(void *state);
	/* Validate the section at load time, before init (optional). */
	int (*check)(cfg_t *sec, char *err, size_t errlen);
	enum stage_status (*run)(const void *state, struct scan *scan);

	/* Optional early work, for stages that need not wait for the end of
	 * the message. Every stage must still work from run() alone: the
	 * replay tool and tests call run() only.
	 *
	 * envelope(): on a worker thread as soon as MAIL FROM is known,
	 * concurrently with the rest of the transaction, on a scan holding
	 * only the envelope (client, HELO, sender; no recipients, no queue
	 * id yet). What it adds (hits, results, Authentication-Results
	 * entries, headers) is merged into the message's scan before any
	 * run().
	 *
	 * header(), eoh(), body(): on the connection's event-loop thread as
	 * each header, the end of headers and each body chunk arrive, in
	 * order. CPU work only, never blocking (no DNS). The stage keeps its
	 * per-message state with scan_set_stage_ctx()/scan_stage_ctx();
	 * ctx_free() releases it when the scan is freed. */
	enum stage_status (*envelope)(const void *state, struct scan *early);
	/* Optional: true when this configuration's envelope() may ask to
	 * reject the message at MAIL FROM (scan_result "reject" on the early
	 * scan). vigild then answers MAIL only once envelope() is done. */
	bool (*envelope_rejects)(const void *state);
	void (*header)(const void *state, struct scan *scan, const char *name,
	               size_t name_len, const char *value, size_t value_len);
	void (*eoh)(const void *state, struct scan *scan);
	void (*body)(const void *state, struct scan *scan, const void *data,
	             size_t len);
	void (*ctx_free)(void *ctx);
};

/* Score option opt of stage section sec, with whether vigild.conf left
 * it at the stage's default (struct scan_score, scan.h). */
static inline struct scan_score stage_score(cfg_t *sec, const char *opt)
{
	return (struct scan_score){
		cfg_getfloat(sec, opt),
		!(cfg_getopt(sec, opt)->flags & CFGF_MODIFIED)
	};
}

#endif

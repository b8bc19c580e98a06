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
#include <stddef.h>

struct scan;

enum stage_status {
	STAGE_OK = 0,    /* ran; results (possibly none) were added */
	STAGE_ERROR = -1 /* internal failure: the fail action applies */
};

struct stage_ops {
	const char *name;      /* stage and config section name, [a-z_]+ */
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
};

#endif

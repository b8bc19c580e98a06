/*
 * pipeline.h — the ordered list of stages and one configuration's
 * instance of it.
 *
 * The stage list is fixed at build time (pipeline.c). pipeline_new()
 * runs every stage's check and init against a parsed configuration;
 * pipeline_run() runs every stage on one scan, in order, on the calling
 * (worker) thread, stopping early only when the deadline has passed.
 */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "stage.h"

struct pipeline;
struct scan;

size_t pipeline_stage_count(void);
const struct stage_ops *pipeline_stage(size_t i);

bool pipeline_has_stage(const char *name);
/* Instantiate the stages listed in the root's `stages` option, in the
 * built-in order. */
struct pipeline *pipeline_new(cfg_t *root, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/* 0: every stage ran. -1: a stage failed or the deadline passed; *failed
 * names the stage (static string). Results added so far stay. */
int pipeline_run(const struct pipeline *p, struct scan *scan,
                 const char **failed);

/* pipeline_run(), calling done(arg, name, scan) after each stage that
 * ran (failed or not): a tool tells which stage added which hits. */
int pipeline_run_traced(const struct pipeline *p, struct scan *scan,
                        const char **failed,
                        void (*done)(void *arg, const char *name,
                                     const struct scan *scan),
                        void *arg);

/* The state init() returned for stage `name` in this instance, or NULL
 * when the stage is not enabled (for tools: vigil explain, vigil rules). */
const void *pipeline_stage_state(const struct pipeline *p, const char *name);

/* The names of the enabled stages that ask DNS (stage.h dns), ", "
 * between them, into buf (empty when none). buf. */
char *pipeline_dns_stages(const struct pipeline *p, char *buf, size_t len);

/* The early hooks of stage.h, for every enabled stage that has them. */
bool pipeline_has_envelope(const struct pipeline *p);
/* Some stage may reject at MAIL FROM (stage.h envelope_rejects). */
bool pipeline_envelope_rejects(const struct pipeline *p);
void pipeline_envelope(const struct pipeline *p, struct scan *early);
void pipeline_header(const struct pipeline *p, struct scan *scan,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len);
void pipeline_eoh(const struct pipeline *p, struct scan *scan);
void pipeline_body(const struct pipeline *p, struct scan *scan,
                   const void *data, size_t len);

#endif

/* pipeline.c — see pipeline.h */
#include "pipeline.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clienthop.h"
#include "dkimver.h"
#include "dmarc.h"
#include "rules.h"
#include "sanity.h"
#include "scan.h"
#include "spf.h"

/* The stages, in the order they run. Authentication stages come before
 * the rule engine so that meta rules can see their results. */
static const struct stage_ops *const stages[] = {
	&sanity_stage,
	&spf_stage,
	&dkimver_stage,
	&dmarc_stage,	/* after SPF and DKIM: it aligns their results */
	&rules_stage,	/* last: metas see every earlier stage's hits */
};

#define STAGE_COUNT (sizeof stages / sizeof stages[0])

struct pipeline {
	void *state[STAGE_COUNT];	/* NULL: stage not enabled */
};

size_t pipeline_stage_count(void)
{
	return STAGE_COUNT;
}

const struct stage_ops *pipeline_stage(size_t i)
{
	return i < STAGE_COUNT ? stages[i] : NULL;
}

/* Is stage `name` in the root's `stages` list? */
static bool enabled(cfg_t *root, const char *name)
{
	unsigned n = cfg_size(root, "stages");
	for (unsigned i = 0; i < n; i++)
		if (strcmp(cfg_getnstr(root, "stages", i), name) == 0)
			return true;
	return false;
}

bool pipeline_has_stage(const char *name)
{
	for (size_t k = 0; k < STAGE_COUNT; k++)
		if (strcmp(stages[k]->name, name) == 0)
			return true;
	return false;
}

struct pipeline *pipeline_new(cfg_t *root, char *err, size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof *p);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < STAGE_COUNT; i++) {
		const struct stage_ops *st = stages[i];
		if (!enabled(root, st->name))
			continue;
		cfg_t *sec = st->conf_opts ? cfg_getsec(root, st->name) : NULL;
		if (st->check != NULL && st->check(sec, err, errlen) != 0) {
			pipeline_free(p);
			return NULL;
		}
		p->state[i] = st->init(root, sec, err, errlen);
		if (p->state[i] == NULL) {
			pipeline_free(p);
			return NULL;
		}
	}
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	for (size_t i = STAGE_COUNT; i-- > 0;)
		if (p->state[i] != NULL && stages[i]->fini != NULL)
			stages[i]->fini(p->state[i]);
	free(p);
}

/* The MTA's hop for the client, for the rules (clienthop.h), with
 * their trust path; nothing to do without them. The message is parsed
 * with their redirector patterns, whichever stage parses it first. */
static int model_client_hop(const struct pipeline *p, struct scan *scan)
{
	const void *rules = pipeline_stage_state(p, "rules");
	scan_set_uri_redirectors(scan, rules_stage_redirectors(rules));
	return rules == NULL ? 0
	       : clienthop_model(scan, rules_stage_trustpath(rules));
}

int pipeline_run(const struct pipeline *p, struct scan *scan,
                 const char **failed)
{
	return pipeline_run_traced(p, scan, failed, NULL, NULL);
}

int pipeline_run_traced(const struct pipeline *p, struct scan *scan,
                        const char **failed,
                        void (*done)(void *arg, const char *name,
                                     const struct scan *scan),
                        void *arg)
{
	if (model_client_hop(p, scan) != 0) {
		*failed = "client hop";
		return -1;
	}
	for (size_t i = 0; i < STAGE_COUNT; i++) {
		if (p->state[i] == NULL)
			continue;
		if (scan_deadline_left_ms(scan) == 0) {
			*failed = stages[i]->name;
			scan_result(scan, stages[i]->name, "timeout");
			return -1;
		}
		bool ok = stages[i]->run(p->state[i], scan) == STAGE_OK;
		if (done != NULL)
			done(arg, stages[i]->name, scan);
		if (!ok) {
			*failed = stages[i]->name;
			return -1;
		}
	}
	return 0;
}

const void *pipeline_stage_state(const struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (strcmp(stages[i]->name, name) == 0)
			return p->state[i];
	return NULL;
}

char *pipeline_dns_stages(const struct pipeline *p, char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < STAGE_COUNT && at < len; i++)
		if (p->state[i] != NULL && stages[i]->dns)
			at += (size_t)snprintf(buf + at, len - at, "%s%s",
			                       at ? ", " : "", stages[i]->name);
	return buf;
}

bool pipeline_has_envelope(const struct pipeline *p)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (p->state[i] != NULL && stages[i]->envelope != NULL)
			return true;
	return false;
}

bool pipeline_envelope_rejects(const struct pipeline *p)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (p->state[i] != NULL && stages[i]->envelope_rejects != NULL &&
		    stages[i]->envelope_rejects(p->state[i]))
			return true;
	return false;
}

void pipeline_envelope(const struct pipeline *p, struct scan *early)
{
	for (size_t i = 0; i < STAGE_COUNT; i++) {
		if (p->state[i] == NULL || stages[i]->envelope == NULL)
			continue;
		if (stages[i]->envelope(p->state[i], early) != STAGE_OK)
			scan_result(early, stages[i]->name, "error");
	}
}

void pipeline_header(const struct pipeline *p, struct scan *scan,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (p->state[i] != NULL && stages[i]->header != NULL)
			stages[i]->header(p->state[i], scan, name, name_len, value,
			                  value_len);
}

void pipeline_eoh(const struct pipeline *p, struct scan *scan)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (p->state[i] != NULL && stages[i]->eoh != NULL)
			stages[i]->eoh(p->state[i], scan);
}

void pipeline_body(const struct pipeline *p, struct scan *scan,
                   const void *data, size_t len)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (p->state[i] != NULL && stages[i]->body != NULL)
			stages[i]->body(p->state[i], scan, data, len);
}

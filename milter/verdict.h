/*
 * verdict.h — from a scanned message to what the MTA is told: the action
 * (by score thresholds of the recipients' policies), the SMTP reply, the
 * headers to add (X-Spam-* in SpamAssassin's format, Authentication-
 * Results, stage headers), recipients to drop, and the one syslog line.
 *
 * verdict_decide() fills a struct verdict that owns its strings;
 * verdict_free() releases them.
 */
#ifndef VIGIL_VERDICT_H
#define VIGIL_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "vlog.h"

struct scan;

struct verdict_header {
	char *name;
	char *value;  /* folded with "\n\t" */
};

struct verdict {
	enum conf_action action;
	char code[4];            /* "550", "451" for reject/tempfail */
	char xcode[16];          /* "5.7.1" or "" */
	char *text;              /* reply text, NULL when no reply code */
	char *quarantine_reason; /* for CONF_ACT_QUARANTINE */
	struct verdict_header *headers;
	size_t header_count;
	/* Per recipient of the scan (NULL without recipients, and for the
	 * fail action): the action its own policy gives by the score, and
	 * whether it is removed (its policy refuses a message the others
	 * get; only when the message is delivered at all). */
	enum conf_action *rcpt_action;
	bool *drop_rcpt;
	size_t drop_count;
	bool spam;               /* score reached add_header */
	bool failed;             /* the fail action was applied */
	double required;
};

/* failed_stage: NULL when the pipeline ran fully, else the stage that
 * failed or timed out. can_delrcpt: the MTA allows recipient removal, so
 * recipients whose domain policy differs can be dropped one by one. */
int verdict_decide(const struct conf *c, struct scan *scan,
                   const char *failed_stage, bool can_delrcpt,
                   struct verdict *out);
/* The fail action alone, without reading the scan (which a worker may
 * still be using): for a scan that missed its deadline. */
int verdict_fail(const struct conf *c, const char *why, struct verdict *out);
void verdict_free(struct verdict *v);

/* SpamAssassin's X-Spam-Status value: "Yes, score=... required=...
 * tests=A,B autolearn=disabled version=...", folded at 78 columns. */
char *verdict_spam_status(bool spam, double score, double required,
                          const struct scan *scan);

/* The verdict line's fields (everything but a timestamp) into kv. */
void verdict_log_fields(const struct conf *c, const struct scan *scan,
                        const struct verdict *v, double ms,
                        struct kvline *kv);

#endif

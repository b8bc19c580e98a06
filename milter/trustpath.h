/*
 * trustpath.h — SpamAssassin's trust path configuration: the
 * trusted_networks, internal_networks and msa_networks lines (and their
 * clear_ forms), kept as netsets (netset.h) for relays_build_trust
 * (relays.h), which decides with them which relays are trusted and
 * internal.
 *
 * The rule loader (ruleset.c) fills one per rule set; it is then
 * read-only and may be shared by threads.
 */
#ifndef VIGIL_TRUSTPATH_H
#define VIGIL_TRUSTPATH_H

#include <stdbool.h>
#include <stddef.h>

struct netset;
struct netset_net;

enum trustpath_net {
	TRUSTPATH_TRUSTED, TRUSTPATH_INTERNAL, TRUSTPATH_MSA, TRUSTPATH_NETS
};

/* The three netsets (netset.h) and whether a line configured each.
 * trusted and internal always hold 127.0.0.0/8 and ::1 first, msa does
 * not. Filled by the rule loader (ruleset.c), then read-only. */
struct trustpath {
	struct netset *net[TRUSTPATH_NETS];
	bool configured[TRUSTPATH_NETS];
};

/* "trusted_networks", "internal_networks", "msa_networks". */
const char *trustpath_net_name(enum trustpath_net w);
/* Which set a directive name (n bytes, lower case) designates: one of
 * the names above, or with a "clear_" prefix (*clear set); -1 when
 * neither. */
int trustpath_net_of(const char *name, size_t n, bool *clear);

/* Nothing configured (the sets hold their defaults). 0, or -1 when
 * memory ran out (t then needs no fini). */
int trustpath_init(struct trustpath *t);
void trustpath_fini(struct trustpath *t);
/* clear_<w>: back to the default set, not configured. 0 or -1 (memory;
 * t unchanged). A *_networks line adds with netset_add on t->net[w] and
 * sets t->configured[w] (even when some items were refused, as
 * SpamAssassin does). */
int trustpath_clear(struct trustpath *t, enum trustpath_net w);
/* Is trusted_networks or internal_networks configured (t may be NULL)? */
bool trustpath_active(const struct trustpath *t);
/* What SpamAssassin does once its configuration is read: every
 * internal_networks and msa_networks entry (exclusions aside) that
 * trusted_networks does not contain (internal_networks, when only it is
 * configured) is dropped; dropped (may be NULL) is told of each. */
void trustpath_finish(struct trustpath *t,
                      void (*dropped)(void *arg, enum trustpath_net w,
                                      const struct netset_net *n,
                                      enum trustpath_net against),
                      void *arg);

#endif

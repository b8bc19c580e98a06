/*
 * trustpath.c — trusted_networks, internal_networks, msa_networks as
 * SpamAssassin reads them (see trustpath.h).
 */
#include "trustpath.h"

#include <string.h>

#include "netset.h"

static const char *const net_names[TRUSTPATH_NETS] = {
	"trusted_networks", "internal_networks", "msa_networks",
};

const char *trustpath_net_name(enum trustpath_net w)
{
	return w < TRUSTPATH_NETS ? net_names[w] : "";
}

int trustpath_net_of(const char *name, size_t n, bool *clear)
{
	*clear = n > 6 && strncmp(name, "clear_", 6) == 0;
	if (*clear) {
		name += 6;
		n -= 6;
	}
	for (int w = 0; w < TRUSTPATH_NETS; w++)
		if (strlen(net_names[w]) == n && memcmp(name, net_names[w], n) == 0)
			return w;
	return -1;
}

int trustpath_init(struct trustpath *t)
{
	memset(t, 0, sizeof *t);
	for (int w = 0; w < TRUSTPATH_NETS; w++)
		if (trustpath_clear(t, (enum trustpath_net)w) != 0) {
			trustpath_fini(t);
			return -1;
		}
	return 0;
}

void trustpath_fini(struct trustpath *t)
{
	for (int w = 0; w < TRUSTPATH_NETS; w++) {
		netset_free(t->net[w]);
		t->net[w] = NULL;
		t->configured[w] = false;
	}
}

int trustpath_clear(struct trustpath *t, enum trustpath_net w)
{
	struct netset *s = netset_new(w != TRUSTPATH_MSA);
	if (s == NULL)
		return -1;
	netset_free(t->net[w]);
	t->net[w] = s;
	t->configured[w] = false;
	return 0;
}

bool trustpath_active(const struct trustpath *t)
{
	return t != NULL && (t->configured[TRUSTPATH_TRUSTED] ||
	                     t->configured[TRUSTPATH_INTERNAL]);
}

void trustpath_finish(struct trustpath *t,
                      void (*dropped)(void *arg, enum trustpath_net w,
                                      const struct netset_net *n,
                                      enum trustpath_net against),
                      void *arg)
{
	enum trustpath_net against;
	if (t->configured[TRUSTPATH_TRUSTED])
		against = TRUSTPATH_TRUSTED;
	else if (t->configured[TRUSTPATH_INTERNAL])
		against = TRUSTPATH_INTERNAL;
	else
		return;
	for (int w = TRUSTPATH_INTERNAL; w < TRUSTPATH_NETS; w++) {
		struct netset *s = t->net[w];
		if (!t->configured[w] || (enum trustpath_net)w == against)
			continue;
		for (size_t i = 0; i < netset_count(s);) {
			const struct netset_net *n = netset_at(s, i);
			if (n->exclude ||
			    netset_contains_net(t->net[against], n)) {
				i++;
				continue;
			}
			if (dropped != NULL)
				dropped(arg, (enum trustpath_net)w, n, against);
			netset_remove(s, i);
		}
	}
}

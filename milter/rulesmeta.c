/* rulesmeta.c — SpamAssassin meta expressions (stub: real code follows). */
#include "rulesmeta.h"

#include <stdio.h>

struct rmeta {
	int unused;
};

struct rmeta *rmeta_compile(const char *expr, size_t len,
                            rmeta_resolve_fn resolve, void *ctx,
                            char *err, size_t errlen)
{
	(void)expr; (void)len; (void)resolve; (void)ctx;
	if (errlen > 0)
		snprintf(err, errlen, "not implemented yet");
	return NULL;
}

double rmeta_eval(const struct rmeta *m, const double *values)
{
	(void)m; (void)values;
	return 0;
}

size_t rmeta_dep_count(const struct rmeta *m) { (void)m; return 0; }
int rmeta_dep_at(const struct rmeta *m, size_t i) { (void)m; (void)i; return -1; }
size_t rmeta_unknown_count(const struct rmeta *m) { (void)m; return 0; }
const char *rmeta_unknown_at(const struct rmeta *m, size_t i) { (void)m; (void)i; return NULL; }
void rmeta_free(struct rmeta *m) { (void)m; }

int rmeta_order(size_t n,
                size_t (*dep_count)(void *ctx, size_t node),
                size_t (*dep_at)(void *ctx, size_t node, size_t i),
                void *ctx, size_t *order, size_t *cycle_node)
{
	(void)dep_count; (void)dep_at; (void)ctx; (void)cycle_node;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	return 0;
}

/* litscan.c — literal prefilter (stub: real code follows). */
#include "litscan.h"

#include <stdlib.h>

struct litscan {
	uint32_t id_limit;
};

size_t litscan_extract(const char *pattern, size_t len,
                       uint32_t pcre2_options,
                       char lits[][64], size_t max_lits)
{
	(void)pattern; (void)len; (void)pcre2_options; (void)lits; (void)max_lits;
	return 0;
}

struct litscan *litscan_new(void) { return calloc(1, sizeof(struct litscan)); }

int litscan_add(struct litscan *ls, const char *lit, size_t len, uint32_t id)
{
	(void)lit;
	if (len == 0)
		return -1;
	if (id + 1 > ls->id_limit)
		ls->id_limit = id + 1;
	return 0;
}

int litscan_build(struct litscan *ls) { (void)ls; return 0; }
uint32_t litscan_id_limit(const struct litscan *ls) { return ls->id_limit; }

void litscan_run(const struct litscan *ls, const char *text, size_t len,
                 uint64_t *found)
{
	(void)ls; (void)text; (void)len; (void)found;
}

void litscan_free(struct litscan *ls) { free(ls); }

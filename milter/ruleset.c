/* ruleset.c — see ruleset.h. Skeleton: loads nothing yet. */
#include "ruleset.h"

#include <stdlib.h>

struct ruleset {
	int unused;
};

struct ruleset *ruleset_load(const char *const *paths, size_t npaths,
                             const struct ruleset_opts *opts)
{
	(void)paths; (void)npaths; (void)opts;
	return calloc(1, sizeof(struct ruleset));
}

struct ruleset *ruleset_load_buf(const char *name, const char *text,
                                 size_t len, const struct ruleset_opts *opts)
{
	(void)name; (void)text; (void)len; (void)opts;
	return calloc(1, sizeof(struct ruleset));
}

void ruleset_free(struct ruleset *rs) { free(rs); }
size_t ruleset_count(const struct ruleset *rs) { (void)rs; return 0; }
const struct rs_rule *ruleset_at(const struct ruleset *rs, size_t i)
{ (void)rs; (void)i; return NULL; }
const struct rs_rule *ruleset_find(const struct ruleset *rs, const char *name)
{ (void)rs; (void)name; return NULL; }
bool ruleset_required_score(const struct ruleset *rs, double *out)
{ (void)rs; (void)out; return false; }
size_t ruleset_diag_count(const struct ruleset *rs) { (void)rs; return 0; }
const struct rs_diag *ruleset_diag_at(const struct ruleset *rs, size_t i)
{ (void)rs; (void)i; return NULL; }
size_t ruleset_file_count(const struct ruleset *rs) { (void)rs; return 0; }
const char *ruleset_file_at(const struct ruleset *rs, size_t i)
{ (void)rs; (void)i; return NULL; }

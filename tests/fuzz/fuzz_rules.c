/*
 * fuzz_rules.c — libFuzzer harness for the SpamAssassin rule-file parser:
 * any bytes are a rule file; every rule and diagnostic is read back and
 * the invariants callers rely on are checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

static bool some_plugins(const char *name)
{
	return strstr(name, "Yes") != NULL;
}

static void check_str(const char *s)
{
	if (s != NULL && strlen(s) > (1u << 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset_opts o = { some_plugins, 0, true };
	struct ruleset *rs = ruleset_load_buf("fuzz.cf", (const char *)data,
	                                      size, &o);
	if (rs == NULL)
		return 0;
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rs_rule *r = ruleset_at(rs, i);
		if (r == NULL || r->name == NULL || ruleset_find(rs, r->name) != r)
			abort();
		if (r->file == NULL || strcmp(r->file, "fuzz.cf") != 0)
			abort();
		if (r->pattern != NULL && r->pattern[r->pattern_len] != '\0')
			abort();
		if (r->type == RS_META && r->meta == NULL)
			abort();
		if (r->type == RS_EVAL && r->eval == NULL)
			abort();
		if ((r->type == RS_HEADER || r->type == RS_MIMEHEADER) &&
		    r->header == NULL)
			abort();
		if ((r->type == RS_BODY || r->type == RS_URI ||
		     r->type == RS_RAWBODY || r->type == RS_FULL) &&
		    r->pattern == NULL)
			abort();
		check_str(r->describe);
		check_str(r->tflags_text);
		check_str(r->if_unset);
	}
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		if (d == NULL || d->message == NULL)
			abort();
		check_str(d->file);
		check_str(d->rule);
	}
	double req;
	(void)ruleset_required_score(rs, &req, NULL, NULL);
	if (ruleset_file_count(rs) != 1)
		abort();
	ruleset_free(rs);
	return 0;
}

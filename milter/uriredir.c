/*
 * uriredir.c — SpamAssassin's redirector_pattern (uriredir.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "uriredir.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uriredir {
	pcre2_code **code;
	size_t n, cap;
	bool details;   /* uriredir_want_details() */
};

struct uriredir *uriredir_new(void)
{
	return calloc(1, sizeof(struct uriredir));
}

void uriredir_free(struct uriredir *rd)
{
	if (rd == NULL)
		return;
	for (size_t i = 0; i < rd->n; i++)
		pcre2_code_free(rd->code[i]);
	free(rd->code);
	free(rd);
}

/* The PCRE2 refusal of a pattern, as rule regex errors are told. */
static void compile_error(int ec, PCRE2_SIZE eo, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[160];
	if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", ec);
	snprintf(err, errlen, "%s at offset %zu", (const char *)msg,
	         (size_t)eo);
}

int uriredir_add(struct uriredir *rd, const char *p, size_t n,
                 uint32_t options, char *err, size_t errlen)
{
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? 2 * rd->cap : 16;
		pcre2_code **c = realloc(rd->code, cap * sizeof *c);
		if (c == NULL)
			return -1;
		rd->code = c;
		rd->cap = cap;
	}
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)p, n, options, &ec, &eo,
	                                 NULL);
	if (code == NULL) {
		if (ec == PCRE2_ERROR_NOMEMORY)
			return -1;
		compile_error(ec, eo, err, errlen);
		return 1;
	}
	/* JIT where PCRE2 has it: every http(s) URI of every message goes
	 * through each pattern. Without it the interpreter matches the
	 * same. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	rd->code[rd->n++] = code;
	return 0;
}

void uriredir_want_details(struct uriredir *rd)
{
	rd->details = true;
}

bool uriredir_details(const struct uriredir *rd)
{
	return rd != NULL && rd->details;
}

size_t uriredir_count(const struct uriredir *rd)
{
	return rd != NULL ? rd->n : 0;
}

bool uriredir_match(const struct uriredir *rd, const char *u, size_t n,
                    size_t *off, size_t *len)
{
	if (rd == NULL || rd->n == 0)
		return false;
	pcre2_match_data *md = pcre2_match_data_create(2, NULL);
	if (md == NULL)
		return false;
	bool found = false;
	for (size_t i = 0; i < rd->n && !found; i++) {
		int rc = pcre2_match(rd->code[i], (PCRE2_SPTR)u, n, 0, 0, md,
		                     NULL);
		if (rc < 0 || rc == 1)
			continue;   /* no match, or no group set */
		/* rc 0: more groups than the two pairs of md; ours are set */
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		if (ov[2] == PCRE2_UNSET || ov[3] < ov[2] ||
		    memchr(u + ov[2], '.', ov[3] - ov[2]) == NULL)
			continue;   /* SpamAssassin tries the next one */
		*off = ov[2];
		*len = ov[3] - ov[2];
		found = true;
	}
	pcre2_match_data_free(md);
	return found;
}

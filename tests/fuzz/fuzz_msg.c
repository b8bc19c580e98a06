/*
 * fuzz_msg.c — libFuzzer harness for the message parser: any bytes are
 * a message; every view is walked so that all of it is read, and
 * invariants the callers rely on are checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

static void check_text(struct msg_text t)
{
	if (t.ptr == NULL || t.ptr[t.len] != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small limits reach the depth and part bounds fast; the defaults
	 * (all 0), which vigild and vigil scan use, let the shapes only
	 * they allow (thousands of parts, deep nesting) through: the low
	 * bit of the first byte picks one or the other. */
	struct msg_limits small = { 1 << 20, 8, 64, 0, 0 }, dflt = { 0 };
	bool use_small = size > 0 && (data[0] & 1);
	struct msg *m = msg_parse((const char *)data, size,
	                          use_small ? &small : &dflt);
	if (m == NULL)
		return 0;
	struct msg_text full = msg_full(m);
	if (full.len != size || memcmp(full.ptr, data, size) != 0)
		abort();
	for (size_t i = 0; i < msg_header_count(m); i++) {
		const struct msg_header *h = msg_header_at(m, i);
		check_text(h->name);
		check_text(h->raw);
		check_text(h->value);
		check_text(h->decoded);
		size_t n;
		const struct msg_addr *a = msg_header_addrs(m, h, &n);
		for (size_t k = 0; k < n; k++) {
			check_text(a[k].display);
			check_text(a[k].local);
			check_text(a[k].domain);
		}
	}
	for (size_t i = 0; i < msg_body_count(m); i++)
		check_text(msg_body_at(m, i));
	for (size_t i = 0; i < msg_rawbody_count(m); i++)
		check_text(msg_rawbody_at(m, i));
	for (size_t i = 0; i < msg_uri_count(m); i++)
		check_text(msg_uri_at(m, i));
	for (size_t i = 0; i < msg_part_count(m); i++) {
		const struct msg_part *p = msg_part_at(m, i);
		check_text(p->type);
		check_text(p->text);
		if (i > 0 && p->parent >= i)
			abort();
		for (size_t k = 0; k < msg_part_header_count(m, i); k++)
			check_text(msg_part_header_at(m, i, k)->value);
	}
	check_text(msg_html(m)->invisible);
	msg_free(m);
	return 0;
}

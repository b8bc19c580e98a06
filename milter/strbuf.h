/*
 * strbuf.h — a growable, always NUL-terminated byte string on the heap.
 *
 * Zero-initialise a struct strbuf to start. Appending never fails
 * visibly: on allocation failure the buffer stops growing and oom is set,
 * for the owner to check once at the end. The owner frees p (free(), or
 * strbuf_free()); p is NULL until something was appended.
 */
#ifndef VIGIL_STRBUF_H
#define VIGIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void strbuf_put(struct strbuf *b, const void *s, size_t n);
/* Empty again, keeping the memory. */
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif

/*
 * arena.h — a bump allocator: many allocations, one free.
 *
 * Memory is taken from malloc'ed chunks; arena_free() releases all of it.
 * A budget caps the bytes an arena may hold: past it every allocation
 * returns NULL, which is how per-message memory stays bounded. Not
 * thread-safe; one arena per message.
 */
#ifndef VIGIL_ARENA_H
#define VIGIL_ARENA_H

#include <stddef.h>
#include <string.h>

struct arena;

/* budget: maximum bytes of chunks; 0 = unlimited. NULL on failure. */
struct arena *arena_new(size_t budget);
void arena_free(struct arena *a);
/* n bytes aligned for any object; NULL when out of budget/memory. */
void *arena_alloc(struct arena *a, size_t n);
/* Copy of n bytes followed by a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Grow the block p (old bytes, obtained from this arena) to n bytes,
 * in place when it is the last allocation, else by copying. */
void *arena_grow(struct arena *a, void *p, size_t old, size_t n);
/* Hold back n bytes of the budget: an allocation that would eat into
 * them fails, as past the budget, until arena_hold(a, 0) gives them back
 * for what must be built last whatever came before. */
void arena_hold(struct arena *a, size_t n);
/* Bytes taken from malloc so far. */
size_t arena_used(const struct arena *a);

/* A growing byte buffer inside an arena. After a failed allocation
 * failed stays set and the content is incomplete, so callers check once
 * at the end. */
struct arena_buf {
	struct arena *a;
	char *p;
	size_t len, cap;
	int failed;
};
void arena_buf_init(struct arena_buf *b, struct arena *a);
/* Make room for extra more bytes plus a NUL; 0 or -1. */
int arena_buf_reserve(struct arena_buf *b, size_t extra);
void arena_buf_put_slow(struct arena_buf *b, const void *s, size_t n);
static inline void arena_buf_put(struct arena_buf *b, const void *s,
                                 size_t n)
{
	if (n == 0)
		return;
	if (n < b->cap - b->len) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	} else {
		arena_buf_put_slow(b, s, n);
	}
}
static inline void arena_buf_putc(struct arena_buf *b, char c)
{
	if (b->len + 1 < b->cap || arena_buf_reserve(b, 1) == 0)
		b->p[b->len++] = c;
}
/* NUL-terminate and return the data ("" when empty or failed). */
char *arena_buf_finish(struct arena_buf *b);

#endif

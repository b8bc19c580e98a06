/* arena.c — see arena.h. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN ((size_t)64 * 1024)
#define ALIGN (alignof(max_align_t))

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct chunk *head; /* current chunk, others follow */
	size_t budget;
	size_t held;  /* of the budget, not to be spent now */
	size_t total;
	void *last; /* last allocation, for in-place growth */
};

struct arena *arena_new(size_t budget)
{
	struct arena *a = calloc(1, sizeof *a);
	if (a != NULL)
		a->budget = budget;
	return a;
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	struct chunk *c = a->head;
	while (c != NULL) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

static size_t round_up(size_t n)
{
	return (n + ALIGN - 1) & ~(ALIGN - 1);
}

static struct chunk *add_chunk(struct arena *a, size_t need)
{
	size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
	/* Grow chunk sizes with the arena so big messages use few chunks. */
	if (a->total / 4 > size)
		size = a->total / 4;
	size_t budget = a->budget - (a->held < a->budget ? a->held : 0);
	if (a->budget && a->total + size > budget) {
		size = need;
		if (a->total + size > budget)
			return NULL;
	}
	struct chunk *c = malloc(sizeof *c + size);
	if (c == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	a->total += size;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = round_up(n ? n : 1);
	struct chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		c = add_chunk(a, n);
		if (c == NULL)
			return NULL;
	}
	void *p = c->data + c->used;
	c->used += n;
	a->last = p;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = arena_alloc(a, n + 1);
	if (p != NULL) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void *arena_grow(struct arena *a, void *p, size_t old, size_t n)
{
	if (p == NULL)
		return arena_alloc(a, n);
	if (n <= old)
		return p;
	struct chunk *c = a->head;
	if (p == a->last && c != NULL && n <= SIZE_MAX / 2) {
		size_t start = (size_t)((unsigned char *)p - c->data);
		if (round_up(n) <= c->size - start) {
			c->used = start + round_up(n);
			return p;
		}
	}
	void *q = arena_alloc(a, n);
	if (q != NULL)
		memcpy(q, p, old);
	return q;
}

void arena_hold(struct arena *a, size_t n)
{
	a->held = n;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}

void arena_buf_init(struct arena_buf *b, struct arena *a)
{
	b->a = a;
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

int arena_buf_reserve(struct arena_buf *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (extra > SIZE_MAX / 4 - b->len) {
		b->failed = 1;
		return -1;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	/* Start small: a message can hold thousands of short buffers (an
	 * address header's words), and a bump allocator never gets back
	 * what a buffer did not use. */
	size_t cap = b->cap ? b->cap * 2 : 32;
	while (cap < need)
		cap *= 2;
	char *p = arena_grow(b->a, b->p, b->len, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void arena_buf_put_slow(struct arena_buf *b, const void *s, size_t n)
{
	if (n == 0 || arena_buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

char *arena_buf_finish(struct arena_buf *b)
{
	if (b->p == NULL)
		return (char *)"";
	b->p[b->len] = '\0'; /* reserve always keeps room for it */
	return b->p;
}

/* msg.c — see msg.h. (first version: full view only; MIME to come) */
#include "msg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

struct msg {
	struct arena *arena;
	struct msg_text full;
	struct msg_html html;
	uint64_t flags;
};

static const struct msg_text empty = { "", 0 };

struct msg *msg_parse(const char *raw, size_t len,
                      const struct msg_limits *lim)
{
	(void)lim;
	struct arena *a = arena_new(0);
	if (a == NULL)
		return NULL;
	struct msg *m = arena_alloc(a, sizeof *m);
	char *copy = arena_strndup(a, raw, len);
	if (m == NULL || copy == NULL) {
		arena_free(a);
		return NULL;
	}
	memset(m, 0, sizeof *m);
	m->arena = a;
	m->full.ptr = copy;
	m->full.len = len;
	return m;
}

void msg_free(struct msg *m)
{
	if (m != NULL)
		arena_free(m->arena);
}

size_t msg_header_count(const struct msg *m) { (void)m; return 0; }
const struct msg_header *msg_header_at(const struct msg *m, size_t i)
{ (void)m; (void)i; return NULL; }
const struct msg_header *msg_header_get(const struct msg *m,
                                        const char *name, size_t n)
{ (void)m; (void)name; (void)n; return NULL; }
struct msg_text msg_raw_header(const struct msg *m) { (void)m; return empty; }
struct msg_text msg_raw_body(const struct msg *m) { return m->full; }
const struct msg_addr *msg_header_addrs(const struct msg *m,
                                        const struct msg_header *h,
                                        size_t *count)
{ (void)m; (void)h; *count = 0; return NULL; }
size_t msg_body_count(const struct msg *m) { (void)m; return 0; }
struct msg_text msg_body_at(const struct msg *m, size_t i)
{ (void)m; (void)i; return empty; }
size_t msg_rawbody_count(const struct msg *m) { (void)m; return 0; }
struct msg_text msg_rawbody_at(const struct msg *m, size_t i)
{ (void)m; (void)i; return empty; }
struct msg_text msg_full(const struct msg *m) { return m->full; }
size_t msg_uri_count(const struct msg *m) { (void)m; return 0; }
struct msg_text msg_uri_at(const struct msg *m, size_t i)
{ (void)m; (void)i; return empty; }
size_t msg_part_count(const struct msg *m) { (void)m; return 0; }
const struct msg_part *msg_part_at(const struct msg *m, size_t part)
{ (void)m; (void)part; return NULL; }
size_t msg_part_header_count(const struct msg *m, size_t part)
{ (void)m; (void)part; return 0; }
const struct msg_header *msg_part_header_at(const struct msg *m, size_t part,
                                            size_t i)
{ (void)m; (void)part; (void)i; return NULL; }
const struct msg_header *msg_part_header_get(const struct msg *m,
                                             size_t part, const char *name,
                                             size_t n)
{ (void)m; (void)part; (void)name; (void)n; return NULL; }
const struct msg_html *msg_html(const struct msg *m) { return &m->html; }
uint64_t msg_flags(const struct msg *m) { return m->flags; }
const char *msg_flag_name(uint64_t f) { (void)f; return NULL; }

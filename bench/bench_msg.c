/*
 * bench_msg — parse every message of a corpus with msg_parse() and
 * report throughput. Usage: bench_msg [-r rounds] [-v] PATH...
 * The PATHs are read as `vigil scan` reads them (corpus.h: mbox files,
 * maildirs, directories of message files or of mbox files, gzip); the
 * messages are loaded into memory first, and one vigil cannot use (no
 * header field, binary data, a truncated mbox, an unreadable file) is
 * named on stderr and left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "monotime.h"
#include "msg.h"

struct corpus_mem {
	char **msgs;
	size_t *lens;
	size_t n, cap, bytes, skipped;
};

/* Take m's data. 0, or -1 (memory). */
static int add_msg(struct corpus_mem *c, struct corpus_msg *m)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		char **nm = realloc(c->msgs, cap * sizeof *nm);
		if (nm == NULL)
			return -1;
		c->msgs = nm;
		size_t *l = realloc(c->lens, cap * sizeof *l);
		if (l == NULL)
			return -1;
		c->lens = l;
		c->cap = cap;
	}
	c->msgs[c->n] = m->data;
	c->lens[c->n++] = m->len;
	c->bytes += m->len;
	m->data = NULL;
	return 0;
}

static void notice(void *arg, const char *path, const char *what)
{
	(void)arg;
	fprintf(stderr, "bench_msg: %s: %s\n", path, what);
}

static int load(struct corpus_mem *c, const char *const *paths, size_t n)
{
	struct corpus *cp = corpus_open(paths, n, 0);
	if (cp == NULL)
		return -1;
	corpus_on_notice(cp, notice, NULL);
	struct corpus_msg m;
	int rc = 0;
	while (rc == 0 && corpus_next(cp, &m) == 1) {
		if (m.data != NULL) {
			rc = add_msg(c, &m);
		} else {
			c->skipped++;
			if (m.whole)
				fprintf(stderr, "bench_msg: %s: %s (left out)\n",
				        m.source, m.error);
			else
				fprintf(stderr, "bench_msg: %s: message %zu at byte "
				        "%llu: %s (left out)\n", m.source, m.index,
				        (unsigned long long)m.offset, m.error);
		}
		corpus_msg_clear(&m);
	}
	corpus_close(cp);
	if (rc != 0)
		fprintf(stderr, "bench_msg: out of memory\n");
	return rc;
}

int main(int argc, char **argv)
{
	struct corpus_mem c = { 0 };
	int rounds = 5, verbose = 0;
	const char **paths = calloc((size_t)argc, sizeof *paths);
	size_t np = 0;
	if (paths == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else
			paths[np++] = argv[i];
	}
	if (np == 0 || rounds < 1) {
		fprintf(stderr, "usage: bench_msg [-r rounds] [-v] PATH...\n");
		return 2;
	}
	if (load(&c, paths, np) != 0)
		return 1;
	free(paths);
	if (c.n == 0) {
		fprintf(stderr, "bench_msg: no messages\n");
		return 1;
	}
	if (c.skipped > 0)
		fprintf(stderr, "bench_msg: %zu left out (above)\n", c.skipped);
	double best = 0;
	size_t parts = 0, uris = 0, body = 0;
	for (int r = 0; r < rounds; r++) {
		double t0 = monotime_s();
		for (size_t i = 0; i < c.n; i++) {
			struct msg *m = msg_parse(c.msgs[i], c.lens[i], NULL);
			if (m == NULL) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
			if (r == 0) {
				parts += msg_part_count(m);
				uris += msg_uri_count(m);
				body += msg_body_count(m);
				if (verbose)
					printf("%zu flags=%#llx parts=%zu uris=%zu\n", i,
					       (unsigned long long)msg_flags(m),
					       msg_part_count(m), msg_uri_count(m));
			}
			msg_free(m);
		}
		double t = monotime_s() - t0;
		if (best == 0 || t < best)
			best = t;
	}
	printf("messages %zu bytes %zu parts %zu uris %zu paragraphs %zu\n",
	       c.n, c.bytes, parts, uris, body);
	printf("best of %d: %.3f s, %.1f MB/s, %.0f msg/s\n", rounds, best,
	       (double)c.bytes / best / 1e6, (double)c.n / best);
	for (size_t i = 0; i < c.n; i++)
		free(c.msgs[i]);
	free(c.msgs);
	free(c.lens);
	return 0;
}

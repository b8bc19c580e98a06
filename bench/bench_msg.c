/*
 * bench_msg — parse every message of mbox files with msg_parse() and
 * report throughput. Usage: bench_msg [-r rounds] [-v] file.mbox...
 * Messages are split at "From " lines; mboxrd quoting (">From") is
 * undone so that the parser sees the message as it was sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"
#include "msg.h"

struct corpus {
	char **msgs;
	size_t *lens;
	size_t n, cap, bytes;
};

static int add_msg(struct corpus *c, const char *s, size_t n)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		char **m = realloc(c->msgs, cap * sizeof *m);
		if (m == NULL)
			return -1;
		c->msgs = m;
		size_t *l = realloc(c->lens, cap * sizeof *l);
		if (l == NULL)
			return -1;
		c->lens = l;
		c->cap = cap;
	}
	char *d = malloc(n + 1);
	if (d == NULL)
		return -1;
	/* Undo mboxrd quoting: ">From " / ">>From " at a line start. */
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if ((i == 0 || s[i - 1] == '\n') && s[i] == '>') {
			size_t j = i;
			while (j < n && s[j] == '>')
				j++;
			if (n - j >= 5 && memcmp(s + j, "From ", 5) == 0)
				i++;
		}
		d[o++] = s[i++];
	}
	d[o] = '\0';
	c->msgs[c->n] = d;
	c->lens[c->n++] = o;
	c->bytes += o;
	return 0;
}

static int load(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, k;
	char tmp[65536];
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (len + k > cap) {
			cap = (len + k) * 2;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		memcpy(buf + len, tmp, k);
		len += k;
	}
	fclose(f);
	size_t start = SIZE_MAX;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - buf) + 1 : len;
		if (len - i >= 5 && memcmp(buf + i, "From ", 5) == 0) {
			if (start != SIZE_MAX && add_msg(c, buf + start, i - start))
				break;
			start = next; /* skip the separator line */
		}
		i = next;
	}
	if (start != SIZE_MAX && start < len)
		add_msg(c, buf + start, len - start);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct corpus c = { 0 };
	int rounds = 5, verbose = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (load(&c, argv[i]) != 0)
			return 1;
	}
	if (c.n == 0 || rounds < 1) {
		fprintf(stderr, "usage: bench_msg [-r rounds] [-v] file.mbox...\n");
		return 2;
	}
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

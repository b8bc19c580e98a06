/*
 * fuzz_corpus.c — libFuzzer harness for the corpus reader: any bytes are
 * a file given to vigil scan (an mbox when it starts with "From ", else
 * one message). Read twice, with a small limit (heads kept) and with the
 * default one, checking what callers rely on: each message has data or
 * an error, data is NUL-ended and within the limit and the file, indexes
 * count from 0, offsets grow and lie inside the file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"

#define SMALL 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void read_all(size_t max_msg, size_t size)
{
	const char *p = path;
	struct corpus *c = corpus_open(&p, 1, max_msg);
	if (c == NULL)
		abort();
	if (max_msg == SMALL)
		corpus_keep_head(c);
	struct corpus_msg m;
	size_t n = 0;
	uint64_t last = 0;
	while (corpus_next(c, &m) == 1) {
		if ((m.data == NULL) == (m.error == NULL) || m.index != n ||
		    (n > 0 && m.offset <= last) || (size > 0 && m.offset >= size))
			abort();
		if (m.data != NULL &&
		    (m.data[m.len] != '\0' || m.len > size ||
		     (max_msg > 0 && m.len > max_msg)))
			abort();
		last = m.offset;
		if (++n > size + 1)   /* each message takes a line at least */
			abort();
		corpus_msg_clear(&m);
	}
	corpus_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/vigil-fuzz-corpus.%ld",
		         (long)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	read_all(SMALL, size);
	read_all(0, size);
	unlink(path);
	return 0;
}

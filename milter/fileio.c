/* fileio.c — see fileio.h */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fileio_read(const char *path, size_t max, size_t *len, int *truncated)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	int more = 0;
	while (buf != NULL) {
		size_t want = cap - n;
		if (n + want > max)
			want = max - n;
		size_t got = fread(buf + n, 1, want, f);
		n += got;
		if (got < want || n == max) {
			more = n == max && fgetc(f) != EOF;
			break;
		}
		char *nb = realloc(buf, cap * 2 + 1);
		if (nb == NULL) {
			free(buf);
			buf = NULL;
			errno = ENOMEM;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	if (buf != NULL && ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	int saved = errno;
	if (f != stdin)
		fclose(f);
	errno = saved;
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len = n;
	if (truncated)
		*truncated = more;
	return buf;
}

/* fileio.c — see fileio.h */
#include "fileio.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fileio_read(const char *path, size_t max, size_t *len, int *truncated)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = fileio_read_stream(f, max, len, truncated);
	int saved = errno;
	if (f != stdin)
		fclose(f);
	errno = saved;
	return buf;
}

char *fileio_read_stream(FILE *f, size_t max, size_t *len, int *truncated)
{
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
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len = n;
	if (truncated)
		*truncated = more;
	return buf;
}

struct fileio_hash {
	EVP_MD_CTX *ctx;
	int failed;              /* an update failed: no digest */
};

struct fileio_hash *fileio_hash_new(void)
{
	struct fileio_hash *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

int fileio_hash_add(struct fileio_hash *h, const void *p, size_t len)
{
	if (h->failed == 0 && EVP_DigestUpdate(h->ctx, p, len) != 1)
		h->failed = 1;
	return h->failed ? -1 : 0;
}

int fileio_hash_end(struct fileio_hash *h, char hex[65])
{
	if (h == NULL)
		return -1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = hex != NULL && h->failed == 0 &&
	         EVP_DigestFinal_ex(h->ctx, md, &mdlen) == 1 && mdlen == 32
	         ? 0 : -1;
	EVP_MD_CTX_free(h->ctx);
	free(h);
	for (unsigned i = 0; rc == 0 && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return rc;
}

int fileio_sha256_buf(const void *p, size_t len, char hex[65])
{
	struct fileio_hash *h = fileio_hash_new();
	int rc = h ? fileio_hash_add(h, p, len) : -1;
	return fileio_hash_end(h, rc == 0 ? hex : NULL);
}

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

int fileio_sha256(const char *path, char hex[65])
{
	size_t len;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[8192], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -1;
	while (rc == 0 && (len = fread(buf, 1, sizeof buf, f)) > 0)
		rc = EVP_DigestUpdate(ctx, buf, len) ? 0 : -1;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		rc = -1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	for (unsigned i = 0; rc == 0 && i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return rc;
}

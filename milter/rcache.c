/*
 * rcache.c — keyed blobs on disk (see rcache.h).
 *
 * A file: MAGIC, the key, the blob's length (8 bytes, little-endian),
 * the SHA-256 of the blob, the blob.
 */
#include "rcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MAGIC "vigilRC1"
#define MAGIC_LEN 8
#define HEAD_LEN (MAGIC_LEN + RCACHE_KEY_LEN + 8 + 32)
#define SUFFIX ".rc"
#define NAME_HEX 32   /* hex digits of the key in a file name */
#define MAX_BLOB ((size_t)1 << 30)

const char *rcache_user_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME");
	const char *h = getenv("HOME");
	int n = -1;
	if (x != NULL && x[0] == '/')
		n = snprintf(buf, len, "%s/vigil", x);
	else if (h != NULL && h[0] == '/')
		n = snprintf(buf, len, "%s/.cache/vigil", h);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

static int fail(char *why, size_t whylen, const char *what, int err)
{
	if (err != 0)
		snprintf(why, whylen, "%s: %s", what, strerror(err));
	else
		snprintf(why, whylen, "%s", what);
	return -1;
}

/* The user's (or root's): else another user's cache, not ours to use. */
static bool own(const struct stat *st)
{
	return st->st_uid == geteuid() || st->st_uid == 0;
}

/* Nobody else may write it. */
static bool private(const struct stat *st)
{
	return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* 1 (as "none there", why says so) when st belongs to another user, -1
 * when others may write it, 0 when it may be used. */
static int check_owner(const struct stat *st, const char *what, char *why,
                       size_t whylen)
{
	if (!own(st)) {
		snprintf(why, whylen, "%s belongs to another user", what);
		return 1;
	}
	if (!private(st)) {
		snprintf(why, whylen, "%s writable by others: not trusted", what);
		return -1;
	}
	return 0;
}

static int blob_path(const char *dir, const uint8_t *key, char *buf,
                     size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char name[NAME_HEX + 1];
	for (size_t i = 0; i < NAME_HEX / 2; i++) {
		name[2 * i] = hex[key[i] >> 4];
		name[2 * i + 1] = hex[key[i] & 15];
	}
	name[NAME_HEX] = '\0';
	int n = snprintf(buf, len, "%s/%s%s", dir, name, SUFFIX);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int olen = 0;
	return EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL) == 1 &&
	       olen == 32 ? 0 : -1;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The whole of fd (size bytes) into a new buffer; NULL on a read error
 * or a short file. */
static uint8_t *read_all(int fd, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	size_t got = 0;
	while (p != NULL && got < size) {
		ssize_t r = read(fd, p + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(p);
			return NULL;
		}
		got += (size_t)r;
	}
	return p;
}

/* A blob file's checks: its header names key and len, and the digest
 * is the blob's. */
static bool intact(const uint8_t *f, size_t size, const uint8_t *key)
{
	uint8_t md[32];
	return size >= HEAD_LEN && memcmp(f, MAGIC, MAGIC_LEN) == 0 &&
	       memcmp(f + MAGIC_LEN, key, RCACHE_KEY_LEN) == 0 &&
	       get_le64(f + MAGIC_LEN + RCACHE_KEY_LEN) == size - HEAD_LEN &&
	       sha256(f + HEAD_LEN, size - HEAD_LEN, md) == 0 &&
	       memcmp(md, f + HEAD_LEN - 32, 32) == 0;
}

int rcache_get(const char *dir, const uint8_t key[RCACHE_KEY_LEN],
               uint8_t **blob, size_t *len, char *why, size_t whylen)
{
	char path[4096];
	struct stat st;
	if (blob_path(dir, key, path, sizeof path) != 0)
		return fail(why, whylen, "cache directory name too long", 0);
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 1 : fail(why, whylen, dir, errno);
	if (!S_ISDIR(st.st_mode))
		return fail(why, whylen, "cache directory not a directory", 0);
	int rc = check_owner(&st, "cache directory", why, whylen);
	if (rc != 0)
		return rc;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : fail(why, whylen, path, errno);
	uint8_t *f = NULL;
	if (fstat(fd, &st) != 0)
		rc = fail(why, whylen, path, errno);
	else if (!S_ISREG(st.st_mode))
		rc = fail(why, whylen, "cache file not a regular file", 0);
	else
		rc = check_owner(&st, "cache file", why, whylen);
	size_t size = rc == 0 ? (size_t)st.st_size : 0;
	if (rc == 0 && (size < HEAD_LEN || size > MAX_BLOB + HEAD_LEN))
		rc = fail(why, whylen, "cache file of a wrong size", 0);
	if (rc == 0 && (f = read_all(fd, size)) == NULL)
		rc = fail(why, whylen, "cache file unreadable", errno);
	if (rc == 0 && !intact(f, size, key))
		rc = fail(why, whylen, "cache file damaged", 0);
	close(fd);
	if (rc != 0) {
		free(f);
		return rc;
	}
	*len = size - HEAD_LEN;
	memmove(f, f + HEAD_LEN, *len);
	*blob = f;
	return 0;
}

/* dir, and its parent when missing (mode 0700). */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *parent = strdup(dir);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	int rc = -1;
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		rc = mkdir(parent, 0700) == 0 || errno == EEXIST ? 0 : -1;
	}
	free(parent);
	return rc == 0 && (mkdir(dir, 0700) == 0 || errno == EEXIST) ? 0 : -1;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

struct entry {
	char *name;
	struct timespec mtime;
};

static int newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct entry *)a)->mtime;
	const struct timespec *y = &((const struct entry *)b)->mtime;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return x->tv_nsec < y->tv_nsec ? 1 : x->tv_nsec > y->tv_nsec ? -1 : 0;
}

static bool is_blob_name(const char *n)
{
	size_t len = strlen(n);
	return len == NAME_HEX + sizeof SUFFIX - 1 &&
	       strspn(n, "0123456789abcdef") == NAME_HEX &&
	       strcmp(n + NAME_HEX, SUFFIX) == 0;
}

/* Remove all but the RCACHE_KEEP newest blobs of dir. */
static void prune(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (!is_blob_name(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct entry *nv = realloc(v, nc * sizeof *nv);
			if (nv == NULL)
				break;
			v = nv;
			cap = nc;
		}
		if ((v[n].name = strdup(e->d_name)) != NULL)
			v[n++].mtime = st.st_mtim;
	}
	qsort(v, n, sizeof *v, newest_first);
	for (size_t i = 0; i < n; i++) {
		if (i >= RCACHE_KEEP)
			unlinkat(dirfd(d), v[i].name, 0);
		free(v[i].name);
	}
	free(v);
	closedir(d);
}

int rcache_put(const char *dir, const uint8_t key[RCACHE_KEY_LEN],
               const void *blob, size_t len, char *why, size_t whylen)
{
	char path[4096], tmp[4096];
	uint8_t head[HEAD_LEN];
	if (len > MAX_BLOB)
		return fail(why, whylen, "too large to cache", 0);
	if (blob_path(dir, key, path, sizeof path) != 0 ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/.new-XXXXXX", dir) >=
	    sizeof tmp)
		return fail(why, whylen, "cache directory name too long", 0);
	if (make_dir(dir) != 0)
		return fail(why, whylen, dir, errno);
	memcpy(head, MAGIC, MAGIC_LEN);
	memcpy(head + MAGIC_LEN, key, RCACHE_KEY_LEN);
	put_le64(head + MAGIC_LEN + RCACHE_KEY_LEN, len);
	if (sha256(blob, len, head + HEAD_LEN - 32) != 0)
		return fail(why, whylen, "SHA-256 failed", 0);
	int fd = mkstemp(tmp);   /* mode 0600 */
	if (fd < 0)
		return fail(why, whylen, dir, errno);
	int rc = write_all(fd, head, sizeof head) == 0 &&
	         write_all(fd, blob, len) == 0 ? 0 : -1;
	int err = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		err = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		err = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		return fail(why, whylen, path, err);
	}
	prune(dir);
	return 0;
}

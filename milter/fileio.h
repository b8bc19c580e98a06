/*
 * fileio.h — reading a whole (message or configuration) file, and the
 * SHA-256 of bytes for the tools' reports.
 */
#ifndef VIGIL_FILEIO_H
#define VIGIL_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/* The contents of path ("-" = standard input), NUL-terminated, at most
 * max bytes (the rest is not read; *truncated says so when not NULL).
 * NULL with errno set on error. The caller frees. */
char *fileio_read(const char *path, size_t max, size_t *len, int *truncated);

/* As fileio_read(), from the stream f (left open), which is read to
 * its end or max bytes. */
char *fileio_read_stream(FILE *f, size_t max, size_t *len, int *truncated);

/* The SHA-256 of p[0..len) into hex (64 hex digits and a NUL): the
 * digest of bytes read once and kept, such as a configuration file's
 * (conf.h). 0, or -1 (hex unchanged). A file is hashed as it is read,
 * never by reading it again later (it may have changed, or be a pipe). */
int fileio_sha256_buf(const void *p, size_t len, char hex[65]);

/* A SHA-256 over bytes fed as they are read, for input that can be read
 * only once (a pipe, a FIFO: hashing it after reading would hash
 * nothing, or wait for a writer that is gone). */
struct fileio_hash;

/* NULL when out of memory. */
struct fileio_hash *fileio_hash_new(void);
/* 0, or -1 (the digest then fails). */
int fileio_hash_add(struct fileio_hash *h, const void *p, size_t len);
/* The digest of all bytes added, into hex as fileio_sha256_buf(); h freed
 * (NULL is fine: -1; hex NULL: h only freed). 0, or -1 (hex unchanged). */
int fileio_hash_end(struct fileio_hash *h, char hex[65]);

#endif

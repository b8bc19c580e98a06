/*
 * fileio.h — reading a whole (message) file for the tools, and the
 * SHA-256 of a file for their reports.
 */
#ifndef VIGIL_FILEIO_H
#define VIGIL_FILEIO_H

#include <stddef.h>

/* The contents of path ("-" = standard input), NUL-terminated, at most
 * max bytes (the rest is not read; *truncated says so when not NULL).
 * NULL with errno set on error. The caller frees. */
char *fileio_read(const char *path, size_t max, size_t *len, int *truncated);

/* The SHA-256 of path's bytes into hex (64 hex digits and a NUL), for
 * reports that record what a run read. 0, or -1 (hex unchanged) when
 * the file cannot be read. */
int fileio_sha256(const char *path, char hex[65]);

#endif

/*
 * fileio.h — reading a whole (message) file for the tools.
 */
#ifndef VIGIL_FILEIO_H
#define VIGIL_FILEIO_H

#include <stddef.h>

/* The contents of path ("-" = standard input), NUL-terminated, at most
 * max bytes (the rest is not read; *truncated says so when not NULL).
 * NULL with errno set on error. The caller frees. */
char *fileio_read(const char *path, size_t max, size_t *len, int *truncated);

#endif

/*
 * rcache.h — a directory of blobs named by a 32-byte key: what a slow
 * computation produced, kept for the next process that would compute
 * the same (the rule engine's compiled patterns and prefilter data).
 *
 * Each blob is one file, written to a temporary name and renamed, with
 * its key and a SHA-256 of its bytes in front: rcache_get() hands back
 * only what rcache_put() wrote whole for that key. Files and the
 * directory are trusted only when they belong to the user (or root) and
 * nobody else may write them, since a blob may hold data whose decoder
 * trusts it (PCRE2's serialized patterns); another user's are not
 * ours to use. A cache is an optimisation:
 * callers treat every failure as "not there" and carry on without it.
 * rcache_put() keeps the RCACHE_KEEP newest blobs of the directory.
 */
#ifndef VIGIL_RCACHE_H
#define VIGIL_RCACHE_H

#include <stddef.h>
#include <stdint.h>

#define RCACHE_KEY_LEN 32
#define RCACHE_KEEP 8

/* The per-user directory: $XDG_CACHE_HOME/vigil, else $HOME/.cache/vigil
 * (absolute paths only), into buf; NULL when neither is set or buf is
 * too small. */
const char *rcache_user_dir(char *buf, size_t len);

/* The blob of key in dir into *blob (malloc'ed, the caller frees) and
 * *len: 0; 1 when there is none, or the directory or file belongs to
 * another user (why then says so, else it is left alone); -1 when there
 * is one that cannot be used (others may write it, damaged,
 * unreadable), with why. */
int rcache_get(const char *dir, const uint8_t key[RCACHE_KEY_LEN],
               uint8_t **blob, size_t *len, char *why, size_t whylen);

/* Store blob[0..len) under key in dir, creating dir (mode 0700) and
 * its parent when missing. 0, or -1 with why. */
int rcache_put(const char *dir, const uint8_t key[RCACHE_KEY_LEN],
               const void *blob, size_t len, char *why, size_t whylen);

#endif

/*
 * progress.h — the progress line of a long run, for a terminal: a bar,
 * the share done and the time left (ETA) when the bytes to read are known
 * (the total the paths hold, the bytes read so far; the rate since the
 * first bytes, after a second of it), then messages done,
 * errors and messages per second. Redrawn in place at most five times a
 * second; erased before a line of its own is written to the terminal.
 * The caller decides whether there is a terminal and serializes calls.
 */
#ifndef VIGIL_PROGRESS_H
#define VIGIL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* A progress line on tty; total_bytes 0 when unknown (no bar, no time
 * left). NULL when out of memory. */
struct progress *progress_new(FILE *tty, uint64_t total_bytes);
/* The counts so far; drawn when the last drawing is old enough. */
void progress_update(struct progress *p, size_t messages, size_t errors,
                     uint64_t done_bytes);
/* The seconds left when the bytes went from first_bytes to done_bytes
 * in span_s seconds, the same rate on to total_bytes; -1 when that is no
 * rate yet (under PROGRESS_ETA_AFTER seconds, no bytes since) or nothing
 * is left. The first bytes are not counted from the start: the time
 * before them went to start-up (rules compiled, threads started). */
#define PROGRESS_ETA_AFTER 1.0
double progress_eta_s(double span_s, uint64_t first_bytes,
                      uint64_t done_bytes, uint64_t total_bytes);
/* Erase the line (the next update draws it at once). */
void progress_clear(struct progress *p);
/* Erase the line and free p (NULL is fine). */
void progress_free(struct progress *p);

#endif

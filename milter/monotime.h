/*
 * monotime.h — readings of the monotonic clock (CLOCK_MONOTONIC), for
 * durations and deadlines: it never jumps with the wall clock. The
 * origin is arbitrary (boot, on Linux), so only differences and
 * comparisons between readings mean something. Thread-safe.
 */
#ifndef VIGIL_MONOTIME_H
#define VIGIL_MONOTIME_H

#include <stdint.h>

/* Nanoseconds. */
uint64_t monotime_ns(void);
/* Whole milliseconds (monotime_ns() / 1000000). */
uint64_t monotime_ms(void);
/* Seconds with their fraction. */
double monotime_s(void);

#endif

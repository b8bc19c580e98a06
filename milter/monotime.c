/* monotime.c — see monotime.h */
#include "monotime.h"

#include <time.h>

/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer, so the
 * return value of clock_gettime() is not checked. */
static struct timespec now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

uint64_t monotime_ns(void)
{
	struct timespec ts = now();
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t monotime_ms(void)
{
	struct timespec ts = now();
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double monotime_s(void)
{
	struct timespec ts = now();
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

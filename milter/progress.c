/* progress.c — see progress.h */
#include "progress.h"

#include <stdlib.h>

#include "monotime.h"

#define PROGRESS_BAR 24          /* characters between the brackets */
#define PROGRESS_INTERVAL 0.2    /* seconds between drawings */

struct progress {
	FILE *tty;
	uint64_t total_bytes;
	double started, drawn_at;
	/* the first update with bytes done: the ETA is from the rate after
	 * it, as before it the time went to start-up (rules compiled,
	 * threads started), not to the corpus */
	double first_at;
	uint64_t first_bytes;
	int len;                     /* of the line on screen, 0: none */
};

struct progress *progress_new(FILE *tty, uint64_t total_bytes)
{
	struct progress *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->tty = tty;
	p->total_bytes = total_bytes;
	p->started = monotime_s();
	return p;
}

/* "[=======>          ] 42% ": the share done as a bar. */
static int draw_bar(FILE *f, double done)
{
	int full = (int)(done * PROGRESS_BAR);
	char bar[PROGRESS_BAR + 1];
	for (int i = 0; i < PROGRESS_BAR; i++)
		bar[i] = i < full ? '=' : i == full ? '>' : ' ';
	bar[PROGRESS_BAR] = '\0';
	return fprintf(f, "[%s] %3.0f%% ", bar, done * 100);
}

double progress_eta_s(double span_s, uint64_t first_bytes,
                      uint64_t done_bytes, uint64_t total_bytes)
{
	if (span_s < PROGRESS_ETA_AFTER || done_bytes <= first_bytes ||
	    done_bytes >= total_bytes)
		return -1;
	return span_s * (double)(total_bytes - done_bytes) /
	       (double)(done_bytes - first_bytes);
}

/* The time left, from the rate since the first update with bytes done
 * (noted here), or -1. */
static double eta_s(struct progress *p, double t, uint64_t done_bytes)
{
	if (done_bytes == 0 || p->total_bytes == 0)
		return -1;
	if (p->first_bytes == 0) {
		p->first_at = t;
		p->first_bytes = done_bytes;
	}
	return progress_eta_s(t - p->first_at, p->first_bytes, done_bytes,
	                      p->total_bytes);
}

void progress_update(struct progress *p, size_t messages, size_t errors,
                     uint64_t done_bytes)
{
	if (p == NULL)
		return;
	double t = monotime_s();
	if (p->len > 0 && t - p->drawn_at < PROGRESS_INTERVAL)
		return;
	p->drawn_at = t;
	double el = t - p->started;
	fputc('\r', p->tty);
	int n = 0;
	double done = -1;
	if (p->total_bytes > 0 && done_bytes > 0) {
		done = (double)done_bytes / (double)p->total_bytes;
		n += draw_bar(p->tty, done > 1 ? 1 : done);
	}
	n += fprintf(p->tty, "%zu message%s, %zu error%s, %.0f msg/s", messages,
	             messages == 1 ? "" : "s", errors, errors == 1 ? "" : "s",
	             el > 0 ? (double)messages / el : 0.0);
	double eta = eta_s(p, t, done_bytes);
	if (done > 0 && done < 1 && eta >= 0)
		n += fprintf(p->tty, ", ETA %.0f s", eta);
	int pad = p->len > n ? p->len - n : 0;
	fprintf(p->tty, "%*s", pad, "");
	fflush(p->tty);
	p->len = n;
}

void progress_clear(struct progress *p)
{
	if (p == NULL || p->len == 0)
		return;
	fprintf(p->tty, "\r%*s\r", p->len, "");
	fflush(p->tty);
	p->len = 0;
}

void progress_free(struct progress *p)
{
	progress_clear(p);
	free(p);
}

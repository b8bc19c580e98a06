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
	if (done > 0 && done < 1)
		n += fprintf(p->tty, ", ETA %.0f s", el * (1 / done - 1));
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

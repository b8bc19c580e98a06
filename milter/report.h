/*
 * report.h — what vigil scan prints: one entry per message on stdout,
 * as a human table or as JSON lines, a progress line on stderr when it
 * is a terminal, and a summary at the end on stderr (messages, count per
 * action, errors, messages/s, latency p50/p95/p99). Independent of how
 * messages were scanned (through a milter or in-process).
 *
 * JSON strings are escaped (control characters as \uXXXX, invalid UTF-8
 * bytes as U+FFFD); the text table replaces control characters with '?'.
 * Not thread-safe: the caller serializes report_add().
 */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_format { REPORT_TEXT, REPORT_JSONL };

struct report_header {
	const char *name;
	const char *value;
};

/* One message. Everything is borrowed for the duration of report_add. */
struct report_entry {
	const char *source;
	size_t index;          /* in source, from 0 */
	uint64_t offset;       /* byte offset in source */
	const char *error;     /* non-NULL: the message failed (no action) */
	const char *action;    /* "accept", "reject", ... */
	const char *code;      /* SMTP reply code, NULL or "" if none */
	const char *text;      /* reply text after the code */
	const struct report_header *added;
	size_t added_n;
	const struct report_header *changed;   /* value "" = deleted */
	size_t changed_n;
	const char *quarantine;                /* reason, or NULL */
	const char *const *rcpts_removed;
	size_t rcpts_removed_n;
	double ms;
	uint64_t size;         /* bytes it took in source (progress line) */
};

struct report;

/* out: the entries (stdout); err: progress and summary (stderr).
 * progress: show the progress line (progress.h; the caller checks
 * isatty), with a bar and ETA when total_bytes (corpus_bytes()) is not
 * 0. NULL when out of memory. */
struct report *report_new(enum report_format format, FILE *out, FILE *err,
                          bool progress, uint64_t total_bytes);
void report_add(struct report *r, const struct report_entry *e);
/* Print the summary; seconds is the run's wall time. */
void report_summary(struct report *r, double seconds);
/* Whether any message failed. */
bool report_failed(const struct report *r);
void report_free(struct report *r);

/* Write s[0..len) as a JSON string (with quotes) to f. */
void report_json_string(FILE *f, const char *s, size_t len);
/* Write s[0..len) for a terminal: printable ASCII and valid UTF-8 as
 * they are, a backslash as \\, anything else (control characters, C1
 * controls, invisible format characters such as bidi overrides, bytes
 * that are not UTF-8) as \xHH, byte by byte. */
void report_text_escaped(FILE *f, const char *s, size_t len);

#endif

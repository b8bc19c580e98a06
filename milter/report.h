/*
 * report.h — what vigil scan prints: one entry per message on stdout,
 * as a human table or as JSON lines, a progress line on stderr when it
 * is a terminal, and a summary at the end on stderr (messages, count per
 * action, errors, messages/s, latency p50/p95/p99). Independent of how
 * messages were scanned (through a milter or in-process); the summary's
 * form and the latency histogram are shared with the in-process scan.
 *
 * JSON lines and CSV are valid UTF-8 whatever the bytes of a path, a
 * Message-ID or a header: in both, a byte that is not part of valid
 * UTF-8 is written as the four characters \xHH and a backslash as \\,
 * so the original bytes can be recovered (report_unescape() in the
 * docs). Then JSON escapes control characters (\uXXXX); CSV writes the
 * C0 controls other than tab, CR and LF, and DEL, as \xHH too (read
 * back by the same unescaping; no NUL or escape byte in a CSV file) and
 * quotes the field as RFC 4180 says. The text table replaces control
 * characters and invisible format characters (report_invisible()) with
 * '?', one per character.
 * Not thread-safe: the caller serializes report_add().
 */
#ifndef VIGIL_REPORT_H
#define VIGIL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_format { REPORT_TEXT, REPORT_JSONL, REPORT_CSV };
/* --format VAL of vigil scan (both modes) into *f: 0, or -1 after
 * saying on standard error what is expected. */
int report_format_parse(const char *val, enum report_format *f);

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
	bool flagged;          /* spam by the milter's verdict (spamhdr.h) */
	bool scored;           /* score holds the score a header gave */
	double score;
	const char *code;      /* SMTP reply code, NULL or "" if none */
	const char *text;      /* reply text after the code */
	const struct report_header *added;
	size_t added_n;
	const struct report_header *changed;   /* value "" = deleted */
	size_t changed_n;
	const char *quarantine;                /* reason, or NULL */
	const char *const *rcpts_removed;      /* DELRCPT */
	size_t rcpts_removed_n;
	const char *const *rcpts_added;        /* ADDRCPT, ADDRCPT_PAR */
	const char *const *rcpts_added_args;   /* for each, its ESMTP
	                                          arguments or NULL; the
	                                          array NULL: none at all */
	size_t rcpts_added_n;
	const char *mail_from_changed;         /* CHGFROM's sender, or NULL */
	const char *mail_from_args;            /* its ESMTP arguments, or NULL */
	bool body_replaced;                    /* REPLBODY */
	const char *message_id;   /* the message's Message-ID, or NULL */
	size_t message_id_len;
	const char *const *hits;  /* rules the filter's fields named */
	const double *hit_scores; /* for each its score, NAN: none given */
	size_t hits_n;
	double ms;
	uint64_t size;         /* bytes it took in source (progress line) */
};

struct report;

/* out: the entries (stdout), each written whole (report_record_begin();
 * out unbuffered for JSON lines and CSV: nothing may have been written
 * to it yet); err: progress and summary (stderr).
 * progress: show the progress line (progress.h; the caller checks
 * isatty), with a bar and ETA when total_bytes (corpus_bytes()) is not
 * 0. NULL when out of memory. */
struct report *report_new(enum report_format format, FILE *out, FILE *err,
                          bool progress, uint64_t total_bytes);
void report_add(struct report *r, const struct report_entry *e);
/* A corpus_on_notice() callback (arg: the report): "vigil scan: PATH:
 * WHAT" on err. */
void report_notice(void *arg, const char *path, const char *what);
/* A corpus notice, "vigil scan: PATH: WHAT", both escaped as
 * report_text_escaped() writes (WHAT may name folders and links). */
void report_corpus_notice(FILE *f, const char *path, const char *what);
/* "vigil scan: PATH: " and then fmt's text and a newline on f, PATH as
 * report_text_escaped() writes it: a file name is anybody's bytes, and
 * stderr is often a terminal. */
void report_path_notice(FILE *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print the summary; seconds is the run's wall time; partial, when not
 * NULL, why the run stopped early (ends its first line). */
void report_summary(struct report *r, double seconds, const char *partial);
/* Whether any message failed. */
bool report_failed(const struct report *r);
void report_free(struct report *r);

/* One entry written whole. report_record_begin() gives a stream in
 * memory to write the entry to (out itself when there is no memory for
 * one); report_record_end() writes what it holds to out with one fwrite
 * and flushes out. With out unbuffered (report_whole_records()) that is
 * one write(2) per entry, so that a run killed at any moment (a second
 * SIGINT) leaves whole lines in a file, never a cut record; a buffered
 * out gets the entry as one write while it fits the buffer. */
struct report_record {
	FILE *out, *mem;
	char *buf;
	size_t len;
};
FILE *report_record_begin(struct report_record *rec, FILE *out);
void report_record_end(struct report_record *rec);
/* Before anything is written to out: for JSON lines and CSV, out
 * unbuffered, so that each report_record_end() is one write. The text
 * table keeps its buffer: the summary and evaluation follow it on the
 * same stream, in many small writes. */
void report_whole_records(FILE *out, enum report_format f);

/* Latencies of a run as a histogram: REPORT_LAT_PER_DECADE logarithmic
 * bins per decade from 1 µs, so percentiles need no memory per message
 * (within about 1.2 %). Zero-initialise before use. */
#define REPORT_LAT_PER_DECADE 100
#define REPORT_LAT_BINS (REPORT_LAT_PER_DECADE * 10)
struct report_lat {
	size_t n;
	double min, max;
	size_t bins[REPORT_LAT_BINS];
};
void report_lat_add(struct report_lat *l, double ms);
/* Nearest rank p (0..1]: the geometric middle of its bin, within the
 * smallest and largest latency seen; 0 when there is none. */
double report_lat_percentile(const struct report_lat *l, double p);

/* A run's totals, printed the same way by both scans:
 *   N messages in T s (R msg/s), E errors; ACTION COUNT ...NOTE
 * (R with one decimal below 100)
 *   latency per message: p50 X ms, p95 Y ms, p99 Z ms
 * (actions counted 0 left out). */
struct report_totals {
	size_t messages, errors;
	double seconds;
	const char *const *actions;
	const size_t *counts;
	size_t nactions;
	const char *note;              /* the end of the first line, or NULL */
	const struct report_lat *lat;  /* of the messages without error */
};
void report_totals_print(FILE *f, const struct report_totals *t);

/* The escaping JSON lines, CSV and the HTML report share: a backslash
 * as \\ and a byte that is not UTF-8 as \xHH, so the output is valid
 * UTF-8 and the bytes recoverable. Each resulting piece goes to
 * put(f, piece, len), which adds the format's own escaping. */
void report_utf8_escaped(FILE *f, const char *s, size_t len,
                         void (*put)(FILE *, const char *, size_t));

/* Write s[0..len) as one RFC 4180 field: in double quotes, quotes
 * doubled, bytes that are not UTF-8 and C0 controls other than tab, CR
 * and LF (NUL, ESC, ...) and DEL as \xHH, a backslash as \\, every
 * other byte (line breaks and tabs too) as it is. */
void report_csv_string(FILE *f, const char *s, size_t len);

/* Write s[0..len) as a JSON string (with quotes) to f: bytes that are
 * not UTF-8 as \xHH and a backslash as \\ first (as CSV), then JSON's
 * escapes. */
void report_json_string(FILE *f, const char *s, size_t len);
/* Write the strings v[i] (addresses) with pick[i] set, or all n when
 * pick is NULL, as a JSON array of report_json_string()s, or as one CSV
 * field of them separated by spaces (escaped as report_csv_string()). */
void report_json_strings(FILE *f, const char *const *v, const bool *pick,
                         size_t n);
void report_csv_strings(FILE *f, const char *const *v, const bool *pick,
                        size_t n);
/* Write s[0..len) for a terminal: printable ASCII and valid UTF-8 as
 * they are, a backslash as \\, anything else (control characters, C1
 * controls, invisible format characters such as bidi overrides, bytes
 * that are not UTF-8) as \xHH, byte by byte. */
void report_text_escaped(FILE *f, const char *s, size_t len);
/* Whether a terminal would not show code point cp as itself: C0 and C1
 * controls, DEL, and the invisible format characters (general category
 * Cf: bidi overrides and isolates U+202A-202E, U+2066-2069, zero-width
 * characters U+200B-200F, U+2060-2064, BOM U+FEFF, soft hyphen U+00AD,
 * U+061C, tag characters, ...; and U+2028/2029). */
bool report_invisible(uint32_t cp);
/* Write the string s for the text table: a character report_invisible()
 * as '?', anything else (a byte that is not UTF-8 too) as it is, so
 * the columns report_text_width() counts. */
void report_text_put(FILE *f, const char *s);

/* The columns s takes in a text table: one per UTF-8 character, one per
 * byte that is not UTF-8 (printed as it is, a terminal shows one
 * replacement character). Wide and combining characters count one, as
 * any: no locale, no wcwidth(). */
size_t report_text_width(const char *s);

/* The current UTC time as "2026-11-24T09:30:00Z" into buf. */
void report_utc_now(char *buf, size_t len);
/* "prog ARG..." with the arguments quoted for a POSIX shell where they
 * need it, the arguments past about 2 KiB counted, not shown;
 * malloc'ed, NULL when out of memory. */
char *report_command_line(const char *prog, int argc, char *const *argv);

#endif

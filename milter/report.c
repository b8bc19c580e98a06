/* report.c — see report.h */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "utf8.h"

#define MAX_ACTIONS 16
#define REPORT_COMMAND_MAX 2048   /* bytes of a command line shown */

struct report {
	enum report_format format;
	FILE *out, *err;
	struct progress *bar;    /* err is a terminal; else NULL */
	bool out_tty;            /* out is one too */
	uint64_t done_bytes;
	bool header_done;
	size_t messages, errors;
	struct { char name[24]; size_t count; } actions[MAX_ACTIONS];
	size_t action_n;
	struct report_lat lat;   /* of the messages without error */
};

int report_format_parse(const char *val, enum report_format *f)
{
	if (strcmp(val, "text") == 0)
		*f = REPORT_TEXT;
	else if (strcmp(val, "jsonl") == 0)
		*f = REPORT_JSONL;
	else if (strcmp(val, "csv") == 0)
		*f = REPORT_CSV;
	else {
		fprintf(stderr, "vigil scan: --format %s: text, jsonl or csv\n",
		        val);
		return -1;
	}
	return 0;
}

struct report *report_new(enum report_format format, FILE *out, FILE *err,
                          bool progress, uint64_t total_bytes)
{
	struct report *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->format = format;
	r->out = out;
	report_whole_records(out, format);
	r->err = err;
	if (progress && (r->bar = progress_new(err, total_bytes)) == NULL) {
		free(r);
		return NULL;
	}
	r->out_tty = progress && isatty(fileno(out));
	return r;
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	progress_free(r->bar);
	free(r);
}

void report_whole_records(FILE *out, enum report_format f)
{
	/* a stream without a descriptor (open_memstream(), the tests') has
	 * no write(2) to make whole, and glibc's cannot be unbuffered */
	if (f != REPORT_TEXT && fileno(out) >= 0)
		setvbuf(out, NULL, _IONBF, 0);
}

FILE *report_record_begin(struct report_record *rec, FILE *out)
{
	*rec = (struct report_record){ .out = out };
	rec->mem = open_memstream(&rec->buf, &rec->len);
	return rec->mem ? rec->mem : out;   /* no memory: in pieces */
}

void report_record_end(struct report_record *rec)
{
	if (rec->mem != NULL && fclose(rec->mem) == 0)
		fwrite(rec->buf, 1, rec->len, rec->out);
	free(rec->buf);
	fflush(rec->out);
	*rec = (struct report_record){ 0 };
}

bool report_failed(const struct report *r)
{
	return r->errors > 0;
}

/* ---- JSON ---- */

/* The invisible format characters (Unicode's general category Cf, and
 * the line and paragraph separators), which a terminal does not show
 * but which reorder or hide the text around them: bidi overrides and
 * isolates, zero-width characters, the soft hyphen, BOM, tag characters.
 * Ranges, in order. */
static const uint32_t format_chars[][2] = {
	{ 0xad, 0xad },       { 0x600, 0x605 },     { 0x61c, 0x61c },
	{ 0x6dd, 0x6dd },     { 0x70f, 0x70f },     { 0x890, 0x891 },
	{ 0x8e2, 0x8e2 },     { 0x180e, 0x180e },   { 0x200b, 0x200f },
	{ 0x2028, 0x202e },   { 0x2060, 0x206f },   { 0xfeff, 0xfeff },
	{ 0xfff9, 0xfffb },   { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a },
	{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
};

bool report_invisible(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return true;   /* C0, DEL, C1 */
	for (size_t i = 0; i < sizeof format_chars / sizeof format_chars[0] &&
	                   cp >= format_chars[i][0]; i++)
		if (cp <= format_chars[i][1])
			return true;
	return false;
}

/* report_text_escaped(), and with quote also a single quote as \' (the
 * same escapes are bash's inside $'...'). */
static void escape_text(FILE *f, const char *s, size_t len, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || report_invisible(cp)) {
			for (size_t k = 0; k < (n ? n : 1); k++)
				fprintf(f, "\\x%02x", p[i + k]);
		} else if (cp == '\\' || (quote && cp == '\'')) {
			fprintf(f, "\\%c", (int)cp);
		} else {
			fwrite(p + i, 1, n, f);
		}
		i += n ? n : 1;
	}
}

void report_text_escaped(FILE *f, const char *s, size_t len)
{
	escape_text(f, s, len, false);
}

void report_utf8_escaped(FILE *f, const char *s, size_t len,
                         void (*put)(FILE *, const char *, size_t))
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(p + i, len - i, NULL);
		if (n == 0) {
			char esc[5];
			snprintf(esc, sizeof esc, "\\x%02x", p[i]);
			put(f, esc, 4);
			n = 1;
		} else if (p[i] == '\\') {
			put(f, "\\\\", 2);
		} else {
			put(f, s + i, n);
		}
		i += n;
	}
}

/* Valid UTF-8 in JSON: quotes, backslashes and control characters. */
static void json_put(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
}

void report_json_string(FILE *f, const char *s, size_t len)
{
	putc('"', f);
	report_utf8_escaped(f, s, len, json_put);
	putc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		report_json_string(f, s, strlen(s));
}

static void json_headers(FILE *f, const struct report_header *h, size_t n)
{
	putc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, h[i].name);
		fputs(",\"value\":", f);
		json_str(f, h[i].value);
		putc('}', f);
	}
	putc(']', f);
}

void report_json_strings(FILE *f, const char *const *v, const bool *pick,
                         size_t n)
{
	putc('[', f);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (pick != NULL && !pick[i])
			continue;
		if (!first)
			putc(',', f);
		json_str(f, v[i]);
		first = false;
	}
	putc(']', f);
}

/* The ESMTP arguments of the i-th added recipient, or NULL. */
static const char *rcpt_args(const struct report_entry *e, size_t i)
{
	return e->rcpts_added_args ? e->rcpts_added_args[i] : NULL;
}

/* A number with three decimals, or null (JSON) / nothing (CSV). */
static void put_num(FILE *f, double v, const char *none)
{
	if (isfinite(v))
		fprintf(f, "%.3f", v);
	else
		fputs(none, f);
}

/* The Message-ID: a JSON string or null, or a CSV field. */
static void put_message_id(FILE *f, const struct report_entry *e, bool json)
{
	if (json && e->message_id == NULL)
		fputs("null", f);
	else if (json)
		report_json_string(f, e->message_id, e->message_id_len);
	else if (e->message_id != NULL)
		report_csv_string(f, e->message_id, e->message_id_len);
}

/* [{"name":"A","score":1.200},{"name":"B","score":null}] */
static void json_hits(FILE *f, const struct report_entry *e)
{
	putc('[', f);
	for (size_t i = 0; i < e->hits_n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, e->hits[i]);
		fputs(",\"score\":", f);
		put_num(f, e->hit_scores[i], "null");
		putc('}', f);
	}
	putc(']', f);
}

static void entry_json(FILE *f, const struct report_entry *e)
{
	fputs("{\"source\":", f);
	json_str(f, e->source);
	fprintf(f, ",\"index\":%zu,\"offset\":%llu,\"message_id\":", e->index,
	        (unsigned long long)e->offset);
	put_message_id(f, e, true);
	fputs(",\"action\":", f);
	json_str(f, e->error ? "error" : e->action);
	fprintf(f, ",\"flagged\":%s,\"score\":", e->flagged ? "true" : "false");
	put_num(f, e->scored ? e->score : NAN, "null");
	fputs(",\"hits\":", f);
	json_hits(f, e);
	fputs(",\"reply\":", f);
	if (e->code != NULL && e->code[0] != '\0') {
		fputs("{\"code\":", f);
		json_str(f, e->code);
		fputs(",\"text\":", f);
		json_str(f, e->text ? e->text : "");
		putc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"headers_added\":", f);
	json_headers(f, e->added, e->added_n);
	fputs(",\"headers_changed\":", f);
	json_headers(f, e->changed, e->changed_n);
	fputs(",\"quarantine\":", f);
	json_str(f, e->quarantine);
	fputs(",\"rcpts_removed\":", f);
	report_json_strings(f, e->rcpts_removed, NULL, e->rcpts_removed_n);
	fputs(",\"rcpts_added\":", f);
	report_json_strings(f, e->rcpts_added, NULL, e->rcpts_added_n);
	fputs(",\"rcpts_added_args\":[", f);
	for (size_t i = 0; i < e->rcpts_added_n; i++) {
		if (i)
			putc(',', f);
		json_str(f, rcpt_args(e, i));
	}
	fputs("],\"mail_from_changed\":", f);
	json_str(f, e->mail_from_changed);
	fputs(",\"mail_from_args\":", f);
	json_str(f, e->mail_from_args);
	fprintf(f, ",\"body_replaced\":%s", e->body_replaced ? "true" : "false");
	fputs(",\"error\":", f);
	json_str(f, e->error);
	fprintf(f, ",\"ms\":%.3f}\n", e->ms);
}

/* ---- CSV ---- */

/* Valid UTF-8 inside a quoted field: quotes doubled; C0 controls other
 * than the line breaks and tab, and DEL, as \xHH (report_utf8_escaped()
 * escaped the backslashes, so this reads back as the byte): many CSV
 * readers refuse a NUL or other control byte, and JSON escapes them. */
static void csv_raw(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			fprintf(f, "\\x%02x", c);
			continue;
		}
		if (c == '"')
			putc('"', f);
		putc(c, f);
	}
}

/* s[0..len) inside a quoted field. */
static void csv_put(FILE *f, const char *s, size_t len)
{
	report_utf8_escaped(f, s, len, csv_raw);
}

void report_csv_string(FILE *f, const char *s, size_t len)
{
	putc('"', f);
	csv_put(f, s, len);
	putc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
	report_csv_string(f, s ? s : "", s ? strlen(s) : 0);
}

/* One field of "Name: value" lines. */
static void csv_headers(FILE *f, const struct report_header *h, size_t n)
{
	putc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc('\n', f);
		csv_put(f, h[i].name, strlen(h[i].name));
		fputs(": ", f);
		csv_put(f, h[i].value, strlen(h[i].value));
	}
	putc('"', f);
}

void report_csv_strings(FILE *f, const char *const *v, const bool *pick,
                        size_t n)
{
	putc('"', f);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (pick != NULL && !pick[i])
			continue;
		if (!first)
			putc(' ', f);
		csv_put(f, v[i], strlen(v[i]));
		first = false;
	}
	putc('"', f);
}

/* One field: a line for each added recipient, its ESMTP arguments
 * (empty when it has none), since they hold spaces themselves. */
static void csv_rcpt_args(FILE *f, const struct report_entry *e)
{
	putc('"', f);
	for (size_t i = 0; i < e->rcpts_added_n; i++) {
		const char *a = rcpt_args(e, i);
		if (i)
			putc('\n', f);
		if (a != NULL)
			csv_put(f, a, strlen(a));
	}
	putc('"', f);
}

/* One field: the rules space-separated, each as "NAME=1.200" when the
 * filter gave its score (SpamAssassin's tests= form), else "NAME". */
static void csv_hits(FILE *f, const struct report_entry *e)
{
	putc('"', f);
	for (size_t i = 0; i < e->hits_n; i++) {
		if (i)
			putc(' ', f);
		csv_put(f, e->hits[i], strlen(e->hits[i]));
		if (isfinite(e->hit_scores[i]))
			fprintf(f, "=%.3f", e->hit_scores[i]);
	}
	putc('"', f);
}

static void entry_csv(struct report *r, FILE *f, const struct report_entry *e)
{
	if (!r->header_done) {
		fputs("source,index,offset,action,flagged,score,reply,"
		      "headers_added,headers_changed,quarantine,rcpts_removed,"
		      "rcpts_added,rcpts_added_args,mail_from_changed,"
		      "mail_from_args,body_replaced,error,ms,message_id,hits\n", f);
		r->header_done = true;
	}
	csv_str(f, e->source);
	fprintf(f, ",%zu,%llu,", e->index, (unsigned long long)e->offset);
	csv_str(f, e->error ? "error" : e->action);
	fprintf(f, ",%d,", e->flagged ? 1 : 0);
	put_num(f, e->scored ? e->score : NAN, "");
	putc(',', f);
	putc('"', f);
	if (e->code != NULL && e->code[0] != '\0') {
		csv_put(f, e->code, strlen(e->code));
		putc(' ', f);
		csv_put(f, e->text ? e->text : "", e->text ? strlen(e->text) : 0);
	}
	putc('"', f);
	putc(',', f);
	csv_headers(f, e->added, e->added_n);
	putc(',', f);
	csv_headers(f, e->changed, e->changed_n);
	putc(',', f);
	csv_str(f, e->quarantine);
	putc(',', f);
	report_csv_strings(f, e->rcpts_removed, NULL, e->rcpts_removed_n);
	putc(',', f);
	report_csv_strings(f, e->rcpts_added, NULL, e->rcpts_added_n);
	putc(',', f);
	csv_rcpt_args(f, e);
	putc(',', f);
	csv_str(f, e->mail_from_changed);
	putc(',', f);
	csv_str(f, e->mail_from_args);
	fprintf(f, ",%d,", e->body_replaced ? 1 : 0);
	csv_str(f, e->error);
	fprintf(f, ",%.3f,", e->ms);
	put_message_id(f, e, false);
	putc(',', f);
	csv_hits(f, e);
	putc('\n', f);
}

/* ---- text ---- */

/* report_text_put(), and with fold a line break or tab as a space (a
 * folded header field), a CR dropped. */
static void text_chars(FILE *f, const char *s, bool fold)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			putc(p[i], f);   /* not UTF-8: as it is (one column) */
		else if (fold && (cp == '\n' || cp == '\t'))
			putc(' ', f);
		else if (fold && cp == '\r')
			;
		else if (report_invisible(cp))
			putc('?', f);
		else
			fwrite(p + i, 1, n, f);
		i += n ? n : 1;
	}
}

void report_text_put(FILE *f, const char *s)
{
	text_chars(f, s, false);
}

/* A value in the table: folding whitespace as a space. */
static void text_put(FILE *f, const char *s)
{
	text_chars(f, s, true);
}

size_t report_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), cols = 0;
	for (size_t i = 0; i < len; cols++) {
		size_t n = utf8_decode(p + i, len - i, NULL);
		i += n ? n : 1;
	}
	return cols;
}

/* One indented line per string: what, then the string. */
static void text_lines(FILE *f, const char *what, const char *const *v,
                       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(what, f);
		text_put(f, v[i]);
		putc('\n', f);
	}
}

/* An envelope change as SMTP writes it: what, the address, then its
 * ESMTP arguments if any. */
static void text_address(FILE *f, const char *what, const char *addr,
                         const char *args)
{
	fputs(what, f);
	text_put(f, addr);
	if (args != NULL) {
		putc(' ', f);
		text_put(f, args);
	}
	putc('\n', f);
}

static void entry_text(struct report *r, FILE *f,
                       const struct report_entry *e)
{
	if (!r->header_done) {
		fprintf(f, "%-40s %-10s %9s  %s\n", "MESSAGE", "ACTION", "MS",
		        "REPLY / DETAIL");
		r->header_done = true;
	}
	char where[64];
	snprintf(where, sizeof where, "#%zu", e->index);
	text_put(f, e->source);
	size_t len = report_text_width(e->source) + strlen(where);
	fprintf(f, "%s%*s %-10s %9.1f  ", where, len < 40 ? (int)(40 - len) : 0,
	        "", e->error ? "error" : e->action, e->ms);
	if (e->error) {
		fputs("offset ", f);
		fprintf(f, "%llu: ", (unsigned long long)e->offset);
		text_put(f, e->error);
	} else if (e->code && e->code[0]) {
		fprintf(f, "%s ", e->code);
		text_put(f, e->text ? e->text : "");
	}
	if (e->quarantine) {
		fputs(e->code && e->code[0] ? "; quarantine: " : "quarantine: ", f);
		text_put(f, e->quarantine);
	}
	putc('\n', f);
	for (size_t i = 0; i < e->added_n; i++) {
		fputs("    + ", f);
		text_put(f, e->added[i].name);
		fputs(": ", f);
		text_put(f, e->added[i].value);
		putc('\n', f);
	}
	for (size_t i = 0; i < e->changed_n; i++) {
		fputs(e->changed[i].value[0] ? "    ~ " : "    - ", f);
		text_put(f, e->changed[i].name);
		if (e->changed[i].value[0]) {
			fputs(": ", f);
			text_put(f, e->changed[i].value);
		}
		putc('\n', f);
	}
	text_lines(f, "    - RCPT ", e->rcpts_removed, e->rcpts_removed_n);
	for (size_t i = 0; i < e->rcpts_added_n; i++)
		text_address(f, "    + RCPT ", e->rcpts_added[i], rcpt_args(e, i));
	if (e->mail_from_changed != NULL)
		text_address(f, "    ~ MAIL FROM ", e->mail_from_changed,
		             e->mail_from_args);
	if (e->body_replaced)
		fputs("    ~ body replaced\n", f);
}

/* ---- counting ---- */

static void count_action(struct report *r, const char *action)
{
	for (size_t i = 0; i < r->action_n; i++)
		if (strcmp(r->actions[i].name, action) == 0) {
			r->actions[i].count++;
			return;
		}
	if (r->action_n == MAX_ACTIONS)
		return;
	snprintf(r->actions[r->action_n].name, sizeof r->actions[0].name, "%s",
	         action);
	r->actions[r->action_n++].count = 1;
}


void report_add(struct report *r, const struct report_entry *e)
{
	r->messages++;
	if (e->error) {
		r->errors++;
	} else {
		count_action(r, e->action);
		report_lat_add(&r->lat, e->ms);
	}
	r->done_bytes += e->size;
	if (r->out_tty)
		progress_clear(r->bar);   /* the entry on a line of its own */
	struct report_record rec;
	FILE *f = report_record_begin(&rec, r->out);
	if (r->format == REPORT_JSONL)
		entry_json(f, e);
	else if (r->format == REPORT_CSV)
		entry_csv(r, f, e);
	else
		entry_text(r, f, e);
	report_record_end(&rec);
	progress_update(r->bar, r->messages, r->errors, r->done_bytes);
}

#define LAT_MIN_MS 1e-3

void report_lat_add(struct report_lat *l, double ms)
{
	if (!(ms >= 0))
		ms = 0;
	l->n++;
	if (l->n == 1 || ms < l->min)
		l->min = ms;
	if (l->n == 1 || ms > l->max)
		l->max = ms;
	double d = ms > LAT_MIN_MS ?
	           log10(ms / LAT_MIN_MS) * REPORT_LAT_PER_DECADE : 0;
	size_t b = d < REPORT_LAT_BINS - 1 ? (size_t)d : REPORT_LAT_BINS - 1;
	l->bins[b]++;
}

double report_lat_percentile(const struct report_lat *l, double p)
{
	if (l->n == 0)
		return 0;
	size_t k = (size_t)ceil(p * (double)l->n), seen = 0;
	if (k == 0)
		k = 1;
	size_t b = 0;
	for (; b < REPORT_LAT_BINS - 1; b++) {
		seen += l->bins[b];
		if (seen >= k)
			break;
	}
	if (b == REPORT_LAT_BINS - 1)
		return l->max;    /* the last bin has no upper end */
	double v = LAT_MIN_MS * pow(10, ((double)b + 0.5) / REPORT_LAT_PER_DECADE);
	return v < l->min ? l->min : v > l->max ? l->max : v;
}

void report_totals_print(FILE *f, const struct report_totals *t)
{
	double rate = t->seconds > 0 ? (double)t->messages / t->seconds : 0;
	fprintf(f, "%zu message%s in %.2f s (%.*f msg/s), %zu error%s",
	        t->messages, t->messages == 1 ? "" : "s", t->seconds,
	        rate < 100 ? 1 : 0, rate, t->errors, t->errors == 1 ? "" : "s");
	const char *sep = ";";
	for (size_t a = 0; a < t->nactions; a++)
		if (t->counts[a]) {
			fprintf(f, "%s %s %zu", sep, t->actions[a], t->counts[a]);
			sep = "";
		}
	fprintf(f, "%s\n", t->note ? t->note : "");
	if (t->lat->n == 0) {
		fputs("latency per message: n/a (no message scanned)\n", f);
		return;
	}
	fprintf(f, "latency per message: p50 %.2f ms, p95 %.2f ms, "
	        "p99 %.2f ms\n", report_lat_percentile(t->lat, 0.5),
	        report_lat_percentile(t->lat, 0.95),
	        report_lat_percentile(t->lat, 0.99));
}

void report_notice(void *arg, const char *path, const char *what)
{
	struct report *r = arg;
	progress_clear(r->bar);
	report_corpus_notice(r->err, path, what);
}

/* "vigil scan: PATH: ", PATH escaped. */
static void path_prefix(FILE *f, const char *path)
{
	fputs("vigil scan: ", f);
	report_text_escaped(f, path, strlen(path));
	fputs(": ", f);
}

void report_corpus_notice(FILE *f, const char *path, const char *what)
{
	path_prefix(f, path);
	report_text_escaped(f, what, strlen(what));
	fputc('\n', f);
}

void report_path_notice(FILE *f, const char *path, const char *fmt, ...)
{
	path_prefix(f, path);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

void report_summary(struct report *r, double seconds, const char *partial)
{
	progress_free(r->bar);
	r->bar = NULL;
	const char *names[MAX_ACTIONS];
	size_t counts[MAX_ACTIONS];
	for (size_t i = 0; i < r->action_n; i++) {
		names[i] = r->actions[i].name;
		counts[i] = r->actions[i].count;
	}
	char note[400] = "";
	if (partial)
		snprintf(note, sizeof note, "; %s", partial);
	struct report_totals t = { r->messages, r->errors, seconds, names,
	                           counts, r->action_n, note, &r->lat };
	report_totals_print(r->err, &t);
}

void report_utc_now(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "unknown");
}

/* Whether a shell takes arg as it is. */
static bool shell_plain(const char *arg)
{
	if (*arg == '\0')
		return false;
	for (const char *p = arg; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("@%+=:,./_-", *p) == NULL)
			return false;
	return true;
}

/* Whether arg has a byte report_text_escaped() writes as \xHH. */
static bool needs_hex(const char *arg)
{
	const unsigned char *p = (const unsigned char *)arg;
	size_t len = strlen(arg);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || report_invisible(cp))
			return true;
		i += n;
	}
	return false;
}

/* arg in bash's $'...' form: such bytes as \xHH, a backslash and a
 * quote escaped, so the line is printable and pastes back as arg. */
static void shell_quote_hex(FILE *f, const char *arg)
{
	fputs("$'", f);
	escape_text(f, arg, strlen(arg), true);
	putc('\'', f);
}

/* arg for a shell: as it is, in single quotes ('\'' for a quote), or in
 * $'...' when it holds bytes a terminal must not get raw. */
static void shell_quote(FILE *f, const char *arg)
{
	if (shell_plain(arg)) {
		fputs(arg, f);
		return;
	}
	if (needs_hex(arg)) {
		shell_quote_hex(f, arg);
		return;
	}
	putc('\'', f);
	for (const char *p = arg; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			putc(*p, f);
	}
	putc('\'', f);
}

char *report_command_line(const char *prog, int argc, char *const *argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	fputs(prog, f);
	int i = 0;
	/* a glob of a whole corpus would drown the report: its start only */
	for (; i < argc && ftell(f) < REPORT_COMMAND_MAX; i++) {
		putc(' ', f);
		shell_quote(f, argv[i]);
	}
	if (i < argc)
		fprintf(f, " ... (%d more argument%s)", argc - i,
		        argc - i == 1 ? "" : "s");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * mime.h — MIME structured header fields and multipart boundaries.
 *
 * mime_parse_field() splits a Content-Type / Content-Disposition value
 * into its lower-cased token and its parameters (quoted strings unquoted,
 * comments skipped); mime_param() looks a parameter up, joining RFC 2231
 * continuations and decoding extended values to UTF-8. The boundary
 * scanner finds delimiter lines as RFC 2046 defines them, tolerating
 * trailing junk after the close marker and blanks after the boundary.
 */
#ifndef VIGIL_MIME_H
#define VIGIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "charset.h"

struct mime_param {
	const char *name; /* lower-case, NUL-terminated */
	size_t name_len;
	const char *value; /* unquoted, NUL-terminated */
	size_t value_len;
};

struct mime_field {
	const char *token; /* lower-case: "text/plain", "attachment" */
	size_t token_len;
	struct mime_param *params;
	size_t nparams;
	bool malformed; /* no token, bad syntax, unclosed quote */
	bool dup_param; /* a parameter given twice */
};

/* Parse value[len]; all strings are copied into a. 0, or -1 when out of
 * memory. */
int mime_parse_field(struct arena *a, const char *value, size_t len,
                     struct mime_field *f);
/* The part type SpamAssassin takes from Content-Type value[len]
 * (Util.pm's parse_content_type): cut at the first ';', then at a second
 * '/' or a blank after the first, lower-cased; an empty type and every
 * text type but text/html, text/calendar and text/x-vcard become
 * text/plain; then blanks, control and 8-bit bytes and "(),:;<=>?@[\]
 * are deleted (a quoted "text/html" is text/html). Copied into a, its
 * length in *n; NULL when out of memory. */
const char *mime_sa_type(struct arena *a, const char *value, size_t len,
                         size_t *n);
/* The part name SpamAssassin's Message.pm takes (for its effective
 * type, *.html being HTML), a slice of value[len] in *name, *n; false
 * when there is none. Content-Disposition: the first "name=" (inside
 * "filename=" too), blanks and a quote after it skipped, up to a quote or
 * ';' (no RFC 2231). Content-Type (Util.pm): a name or filename
 * parameter up to ';', one quote around it dropped. */
bool mime_sa_disp_name(const char *value, size_t len, const char **name,
                       size_t *n);
bool mime_sa_type_name(const char *value, size_t len, const char **name,
                       size_t *n);
/* The charset SpamAssassin takes from Content-Type value[len] (Util.pm's
 * /\bcharset\s*=\s*["']?(.*?)["']?(?:;|$)/i), a slice in *cs, *n: the
 * first "charset" after a non-word byte ("x-charset=" too) followed by
 * '=', blanks and one quote after it skipped, up to the first ';' or
 * the end, one quote before that dropped; blanks, comments and a quote
 * before ';' stay in the name. No RFC 2231 ("charset*=" is none). false
 * when there is none; true with *n 0 for charset="" (declared, empty). */
bool mime_sa_charset(const char *value, size_t len, const char **cs,
                     size_t *n);
/* The boundary SpamAssassin takes from Content-Type value[len] (Util.pm's
 * /\bboundary\s*=\s*("[^"]+|[^\s";]+(?=[\s;]|$))/i, quotes removed), a
 * slice in *b, *n: the first "boundary" after a non-word byte
 * ("x-boundary=" too) followed by '=' and a value: after a double quote
 * all up to the next one (or the end), else a run of bytes other than
 * blanks, ';' and '"' that ends at a blank, ';' or the end. No RFC 2231,
 * no comments, no backslash escapes. false when there is none. */
bool mime_sa_boundary(const char *value, size_t len, const char **b,
                      size_t *n);
/* Whether value[len] has RFC 2231 parts "name*0" (or "filename*0"),
 * which Util.pm joins when there is no plain name. */
bool mime_sa_name_parts(const char *value, size_t len);
/* Value of parameter name (lower-case), RFC 2231 aware; NULL if absent. */
const char *mime_param(struct arena *a, struct charset_conv *cv,
                       const struct mime_field *f, const char *name,
                       size_t *len);

/* A delimiter found by mime_next_boundary. */
struct mime_delim {
	const char *line;  /* start of the "--boundary" line */
	const char *body_end; /* end of the content before it (its EOL
	                         excluded) */
	const char *after; /* first byte after the delimiter line */
	bool close;        /* "--boundary--" */
};

/* needle is "\n--" + boundary (built by the caller once). Search
 * [p, end) where p is at a line start (from is the region start, used to
 * know whether p itself starts a line). */
bool mime_next_boundary(const char *from, const char *p, const char *end,
                        const char *needle, size_t needle_len,
                        struct mime_delim *d);
/* Boundary syntax check (RFC 2046 bchars, 1..70 bytes, no final blank). */
bool mime_boundary_valid(const char *b, size_t len);

#endif

/*
 * msg.h — the parsed message model every content stage works on.
 *
 * msg_parse() builds, from one raw message (headers, blank line, body;
 * CRLF or LF line ends), a read-only structure: headers (raw and decoded),
 * the MIME tree with decoded parts, the text views the rule engine uses
 * (SpamAssassin semantics), URIs, HTML facts and malformation flags. All
 * memory of one message is owned by the struct msg and released by
 * msg_free(). The struct is immutable after parsing, so it can be read by
 * several threads at once. Parsing never fails on bad input: it is lenient,
 * records flags, and stops at the configured limits.
 */
#ifndef VIGIL_MSG_H
#define VIGIL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msg;

/* A byte range owned by the message (NUL-terminated for convenience; may
 * contain NULs in binary parts: use len). */
struct msg_text {
	const char *ptr;
	size_t len;
};

struct msg_limits {
	size_t max_size;    /* bytes of the message parsed (default 32 MiB) */
	unsigned max_depth; /* MIME nesting (default 20) */
	unsigned max_parts; /* MIME parts (default 1000) */
};

/* lim NULL = defaults. Returns NULL only on allocation failure. */
struct msg *msg_parse(const char *raw, size_t len,
                      const struct msg_limits *lim);
void msg_free(struct msg *m);

/* ---- Headers (top-level, in order, duplicates kept) ---- */
struct msg_header {
	struct msg_text name;    /* as written */
	struct msg_text raw;     /* value exactly as received (folding kept,
	                            leading space kept) */
	struct msg_text value;   /* unfolded, leading/trailing WSP trimmed */
	struct msg_text decoded; /* value with RFC 2047 words decoded to UTF-8 */
};
size_t msg_header_count(const struct msg *m);
const struct msg_header *msg_header_at(const struct msg *m, size_t i);
/* The n-th (0-based) header called name (case-insensitive), or NULL. */
const struct msg_header *msg_header_get(const struct msg *m,
                                        const char *name, size_t n);

/* ---- Text views for rules (see docs/msg.md for exact semantics) ---- */
/* body: text parts (text/plain, text/html...) decoded, charset-converted to UTF-8, HTML rendered to
 * text, whitespace collapsed, the Subject prepended as the first
 * paragraph; split into paragraphs as SpamAssassin does. */
size_t msg_body_count(const struct msg *m);
struct msg_text msg_body_at(const struct msg *m, size_t i);
/* rawbody: text parts decoded (transfer encoding, charset) but not
 * rendered, split into lines. */
size_t msg_rawbody_count(const struct msg *m);
struct msg_text msg_rawbody_at(const struct msg *m, size_t i);
/* full: the raw message as given. */
struct msg_text msg_full(const struct msg *m);
/* uri: every URI found, normalised. */
size_t msg_uri_count(const struct msg *m);
struct msg_text msg_uri_at(const struct msg *m, size_t i);

/* ---- MIME parts (pre-order; part 0 is the message itself) ---- */
size_t msg_part_count(const struct msg *m);
/* Headers of part i (for mimeheader rules); part 0's are the top-level. */
size_t msg_part_header_count(const struct msg *m, size_t part);
const struct msg_header *msg_part_header_at(const struct msg *m, size_t part,
                                            size_t i);

/* ---- Flags for rules ---- */
enum msg_flag {
	MSG_F_TRUNCATED = 1u << 0,  /* a limit stopped parsing */
	/* ... the message model adds its malformation flags here ... */
};
uint64_t msg_flags(const struct msg *m);

#endif

/*
 * msg.h — the parsed message model every content stage works on.
 *
 * msg_parse() builds, from one raw message (headers, blank line, body;
 * CRLF or LF line ends), a read-only structure: headers (raw and decoded),
 * the MIME tree with decoded parts, the text views the rule engine uses
 * (SpamAssassin semantics, see docs/msg.md), URIs, HTML facts and
 * malformation flags. All memory of one message lives in one arena owned
 * by the struct msg and is released by msg_free(). The struct is immutable
 * after parsing, so it can be read by several threads at once. Parsing
 * never fails on bad input: it is lenient, records flags, and stops at the
 * configured limits (what was parsed until then stays usable).
 */
#ifndef VIGIL_MSG_H
#define VIGIL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msg;
struct strbuf;

/* A byte range owned by the message; never NULL (empty is "" with len
 * 0). Followed by a NUL byte, so usable as a C string when the data holds
 * no NUL itself — except the slices of the raw message: msg_raw_header(),
 * msg_raw_body() and the raw, body, preamble, epilogue and (for parts
 * without base64/QP) decoded fields of struct msg_part: use len for
 * those. */
struct msg_text {
	const char *ptr;
	size_t len;
};

struct msg_limits {
	size_t max_size;    /* bytes of the message parsed (default 32 MiB) */
	unsigned max_depth; /* MIME nesting (default 20) */
	unsigned max_parts; /* MIME parts in all (default 10000); of one
	                       multipart at most MSG_MULTIPART_MAX_PARTS */
	size_t max_memory;  /* arena bytes for one message; 0 = default
	                       (8 x parsed size + 5 MiB + 2 KiB per part
	                       max_parts allows + 256 bytes per field
	                       MSG_MAX_PART_FIELDS allows: docs/msg.md) */
	unsigned max_headers; /* header fields kept per header block (the
	                       message's, each part's); default
	                       MSG_DEFAULT_MAX_HEADERS. Beyond it a field is
	                       kept only if it is one of the headers rules and
	                       stages need most (From, To, Cc, Subject, Date,
	                       Message-ID, Content-Type, ...: docs/msg.md), at
	                       most MSG_KEPT_BEYOND_LIMIT of each name; the
	                       others are counted (msg_header_dropped) and
	                       MSG_F_HEADER_LIMIT is set. With the default
	                       limits, the message's own headers kept always
	                       fit in the memory budget. */
};
#define MSG_DEFAULT_MAX_DEPTH 20u
#define MSG_DEFAULT_MAX_PARTS 10000u
/* Parts of one multipart parsed, the rest left out, as SpamAssassin's
 * parser does (Message.pm, per multipart, no limit in all). */
#define MSG_MULTIPART_MAX_PARTS 1000u
#define MSG_DEFAULT_MAX_HEADERS 1000u
#define MSG_KEPT_BEYOND_LIMIT 8u
/* Header fields kept over all header blocks but the message's own (MIME
 * parts', inner messages'): beyond it a block keeps only its vital
 * fields, as past max_headers. A field costs about 220 bytes besides its
 * own, so without it a few hundred junk fields in each of many parts
 * spent the memory budget (audit18 H1); with it they fit the budget's
 * allowance. */
#define MSG_MAX_PART_FIELDS 50000u
/* The headers kept beyond max_headers: msg_vital_index() gives a field
 * name's index among them (< MSG_VITAL_HEADERS; name[0..n), any case),
 * or SIZE_MAX. scan.c keeps the same ones beyond its own bound. */
#define MSG_VITAL_HEADERS 16u
size_t msg_vital_index(const char *name, size_t n);

/* lim NULL = defaults; zero fields of lim also take the default.
 * Returns NULL only on allocation failure. */
struct msg *msg_parse(const char *raw, size_t len,
                      const struct msg_limits *lim);
/* The same without a copy of raw: raw[0..len) must stay as it is until
 * msg_free(), and raw[len] be a NUL (scan_raw() gives such a buffer). A
 * large message is then not held twice. */
struct msg *msg_parse_borrowed(const char *raw, size_t len,
                               const struct msg_limits *lim);
/* msg_parse_borrowed() whose URI list also has what the redirector
 * patterns rd capture (uriredir.h; the rule set's redirector_pattern
 * lines), as SpamAssassin's has. rd (NULL: none) is only read during the
 * call. */
struct uriredir;
struct msg *msg_parse_redirected(const char *raw, size_t len,
                                 const struct msg_limits *lim,
                                 const struct uriredir *rd);
void msg_free(struct msg *m);

/* Whether line[0..n) starts a header field: a name of printable ASCII
 * other than ':', blanks (RFC 5322's obsolete syntax), then ':' (as
 * SpamAssassin tells one). In a message's header section SpamAssassin
 * passes over up to MSG_BAD_HEADER_LINES lines that are not one, and
 * the body starts at the next; msg_parse() and scan_set_raw() do too.
 * Inline: the corpus reader uses it without the parser. */
static inline bool msg_field_line(const char *line, size_t n)
{
	size_t i = 0;
	while (i < n && line[i] > ' ' && line[i] < 127 && line[i] != ':')
		i++;
	size_t name = i;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return name > 0 && i < n && line[i] == ':';
}
#define MSG_BAD_HEADER_LINES 3

/* Whether line[0..n) ends a message's header section where it stands
 * (the body starting with it): a line starting with "--", a MIME
 * delimiter a broken mailer put right after the header (SpamAssassin's
 * Message.pm stops there, before taking it for a field or counting it
 * among the lines passed over). msg_parse() and scan_set_raw() both. */
static inline bool msg_boundary_line(const char *line, size_t n)
{
	return n >= 2 && line[0] == '-' && line[1] == '-';
}

/* ---- Headers (in order, duplicates kept) ---- */
struct msg_header {
	struct msg_text name;    /* as written, without the colon and any
	                            blanks before it */
	struct msg_text raw;     /* value exactly as received: everything
	                            after the colon up to the line end that
	                            ends the field (folding kept, leading
	                            space kept, final CRLF/LF not included) */
	struct msg_text value;   /* unfolded, leading/trailing WSP trimmed */
	struct msg_text decoded; /* value with RFC 2047 words decoded to UTF-8 */
	bool cut;                /* raw was cut at MSG_HEADER_VALUE_MAX (so
	                            SpamAssassin's raw value has no final
	                            line break) */
	struct msg_text pristine; /* the value as received, not cut (for
	                            ALL:raw, the pristine header); raw when
	                            not cut */
};
size_t msg_header_count(const struct msg *m);
/* Header fields seen but not kept (max_headers), all header blocks. */
size_t msg_header_dropped(const struct msg *m);
const struct msg_header *msg_header_at(const struct msg *m, size_t i);
/* Is a top-level header called name below some Received: header, so
 * written before the message reached the MTAs that added those, by the
 * sender? (SpamAssassin: get("ALL") =~ /^Received:.*?^Name:/smi) */
bool msg_header_below_received(const struct msg *m, const char *name);
/* The n-th (0-based) top-level header called name (case-insensitive),
 * or NULL. */
const struct msg_header *msg_header_get(const struct msg *m,
                                        const char *name, size_t n);
/* The raw header block (up to, not including, the empty line) and the
 * raw body (after the empty line); both slices of msg_full(). */
struct msg_text msg_raw_header(const struct msg *m);
struct msg_text msg_raw_body(const struct msg *m);

/* ---- Addresses of address headers ----
 * Filled for From, Sender, Reply-To, To, Cc, Bcc, Return-Path,
 * Delivered-To, Errors-To, Disposition-Notification-To and their
 * Resent- forms, top-level and in every part. */
struct msg_addr {
	struct msg_text display; /* display name (or the comment of the
	                            obsolete "a@b (Name)" form), RFC 2047
	                            decoded, quotes removed; "" if none */
	struct msg_text display_raw; /* the same, not RFC 2047 decoded
	                            (header rules' :name:raw) */
	struct msg_text local;   /* local part, quotes removed; "" if none */
	struct msg_text domain;  /* domain, lower-case; "" if none */
	struct msg_text group;   /* name of the enclosing group, or "" */
};
/* Addresses of header h (a pointer obtained from this message); count
 * set to 0 and NULL returned for headers that are not address headers. */
const struct msg_addr *msg_header_addrs(const struct msg *m,
                                        const struct msg_header *h,
                                        size_t *count);

/* Append header h's value as SpamAssassin's get_header() returns it,
 * with a final "\n": decoded (undecoded when nodec: a name it never
 * decodes), a line break and the blanks after it turned into one space;
 * raw: as received (the blank after the colon too), its folding kept,
 * CRLF as "\n". */
void msg_header_sa_value(struct strbuf *b, const struct msg_header *h,
                         bool raw, bool nodec);

/* ---- Text views for rules (see docs/msg.md for exact semantics) ---- */
/* body: text parts decoded, charset-converted to UTF-8, HTML rendered to
 * text (visible text only), the Subject prepended as the first paragraph,
 * split into paragraphs with whitespace collapsed (SpamAssassin). */
size_t msg_body_count(const struct msg *m);
struct msg_text msg_body_at(const struct msg *m, size_t i);
/* rawbody: text parts transfer-decoded, in their own charset (not
 * converted), CRLF as LF, not rendered; one element per part, parts over 2048 bytes cut into pieces
 * of 2049-4096 bytes as SpamAssassin 4 does (not lines: "^" without /m
 * matches at the start of a part or piece only). */
size_t msg_rawbody_count(const struct msg *m);
struct msg_text msg_rawbody_at(const struct msg *m, size_t i);

/* The length of the piece of text s[0..n) starting at ofs (< n), as
 * SpamAssassin 4's split_into_array_of_short_paragraphs() cuts a text:
 * while more than 2 * 2048 bytes remain, after the first '\n' (else
 * '>', else ' ') at or after 2048 bytes into the piece, provided the
 * piece stays within 4096 bytes (else after 2049 bytes); then the rest. */
size_t msg_sa_piece_len(const char *s, size_t n, size_t ofs);
/* full: the raw message as given (cut at max_size). */
struct msg_text msg_full(const struct msg *m);
/* uri: every URI found, normalised; deduplicated, in order of first
 * appearance. When the raw form differs from the normalised one, the raw
 * form follows it as its own entry (as SpamAssassin matches both). */
size_t msg_uri_count(const struct msg *m);
struct msg_text msg_uri_at(const struct msg *m, size_t i);

/* ---- URI details (SpamAssassin's get_uri_detail_list) ----
 * Built only when the parse asks for them (msg_parse_redirected() with
 * a uriredir set that wants them, uriredir_want_details(): a rule set
 * with uri_detail rules); none otherwise. One entry per raw URI, as
 * SpamAssassin 4.0.1 keys its list: a URI of the body text with the
 * scheme it gets ("http://www.example.com" for "www.example.com",
 * "mailto:" before an address); a link of an HTML part as found (blanks
 * around it and line breaks dropped, resolved against <base>); the href
 * of an <a> as written, and "" for an <a> without one (the key of their
 * anchor texts). Order: first appearance. */
enum msg_uri_type {
	MSG_URI_PARSED,     /* found in the body text, or an anchor's key */
	MSG_URI_SCHEMELESS, /* found in the text without a scheme */
	MSG_URI_UNLINKED,   /* a bare host name in the text */
	MSG_URI_A, MSG_URI_AREA, MSG_URI_LINK, MSG_URI_IMG, MSG_URI_FRAME,
	MSG_URI_IFRAME, MSG_URI_EMBED, MSG_URI_SCRIPT, MSG_URI_BGSOUND,
	MSG_URI_FORM, MSG_URI_BASE, MSG_URI_META, MSG_URI_BODY,
	MSG_URI_TABLE, MSG_URI_TR, MSG_URI_TD, /* the HTML element linking */
	MSG_URI_NTYPES
};
/* SpamAssassin's name of type t ("parsed", "a", "img", ...); NULL when
 * out of range. */
const char *msg_uri_type_name(enum msg_uri_type t);
struct msg_uri_detail {
	struct msg_text raw;
	uint32_t types;                /* bits 1u << enum msg_uri_type */
	const struct msg_text *cleaned; /* raw and the forms SpamAssassin's
	                                  uri_list_canonicalize makes of it
	                                  (those msg_uri_at() lists), each
	                                  once; raw too when it is "" */
	size_t ncleaned;
	const struct msg_text *anchors; /* the anchor texts of the <a>s
	                                  keyed by raw (html.h), in order */
	size_t nanchors;
	const struct msg_text *hosts;  /* the hosts SpamAssassin's
	                                  uri_to_domain() finds in cleaned
	                                  (uri_sa_host()), lower case, each
	                                  once; their registrar domains are
	                                  the rule set's business */
	size_t nhosts;
};
size_t msg_uri_detail_count(const struct msg *m);
const struct msg_uri_detail *msg_uri_detail_at(const struct msg *m,
                                               size_t i);

/* ---- MIME parts (pre-order; part 0 is the message itself) ---- */
enum msg_cte {
	MSG_CTE_7BIT, MSG_CTE_8BIT, MSG_CTE_BINARY,
	MSG_CTE_BASE64, MSG_CTE_QP, MSG_CTE_UNKNOWN
};
struct msg_part {
	size_t parent;           /* index of the parent; part 0: SIZE_MAX */
	unsigned depth;          /* 0 for the message itself */
	struct msg_text type;    /* declared media type, lower-case
	                            ("text/plain" when none was declared) */
	struct msg_text charset; /* declared charset, lower-case, or "":
	                            as SpamAssassin reads it (mime.h
	                            mime_sa_charset(): blanks, comments
	                            kept, no RFC 2231) */
	bool charset_given;      /* a charset was declared, "" included */
	struct msg_text boundary;/* multipart boundary, or "" */
	struct msg_text filename;/* filename (Content-Disposition) or name
	                            (Content-Type), RFC 2047/2231 decoded */
	struct msg_text detected;/* type recognised from the first bytes
	                            ("image/png", "application/x-msdownload",
	                            "application/zip", ...), "" if unknown */
	enum msg_cte cte;
	bool attachment;         /* Content-Disposition: attachment */
	bool is_text;            /* contributes to body/rawbody */
	struct msg_text raw;     /* raw bytes of the part (headers + body) */
	struct msg_text body;    /* its body where the parser started it:
	                            after the blank line, or at the line
	                            that ended the header section without
	                            one (docs/msg.md); a slice of raw, but
	                            part 0's is of the body as parsed (runs
	                            of blank lines cut) */
	struct msg_text decoded; /* body after transfer decoding (leaves) */
	struct msg_text text;    /* text parts: decoded UTF-8, LF line ends */
	struct msg_text rendered;/* text parts in the body text: the part as
	                            SpamAssassin renders it (HTML as text),
	                            whole; "" otherwise */
	bool rendered_html;      /* rendered was rendered from HTML */
	size_t html_images;      /* <img> tags met rendering it */
	size_t html_tag_events;  /* and start and end tags (html.h) */
	size_t html_obfuscation; /* and words split by markup (html.h) */
	size_t html_nonspace;    /* and non-blank bytes of its text, visible
	                            or not */
	struct msg_text preamble;/* multiparts: text before the opening
	                            delimiter; "" otherwise, and when the
	                            first delimiter is the close one (the
	                            text before it is then a part) */
	struct msg_text epilogue;/* multiparts: text after the close */
	uint64_t flags;          /* the MSG_F_* seen in this part */
};
size_t msg_part_count(const struct msg *m);
const struct msg_part *msg_part_at(const struct msg *m, size_t part);
/* Headers of part i (for mimeheader rules); part 0's are the top-level. */
size_t msg_part_header_count(const struct msg *m, size_t part);
const struct msg_header *msg_part_header_at(const struct msg *m, size_t part,
                                            size_t i);
/* The n-th header called name of part i, or NULL. */
const struct msg_header *msg_part_header_get(const struct msg *m,
                                             size_t part, const char *name,
                                             size_t n);

/* ---- HTML facts (summed over all text/html parts) ---- */
struct msg_html {
	size_t parts;            /* text/html parts rendered */
	size_t visible_len;      /* bytes of visible text, blanks excluded */
	size_t invisible_len;    /* bytes of invisible text, blanks excluded */
	size_t images;           /* <img> tags */
	size_t links;            /* <a href> tags */
	size_t mismatched_links; /* anchors whose text shows a host other
	                            than the href's host (phishing) */
	size_t tags;             /* tags seen */
	struct msg_text invisible; /* the invisible text itself */
	struct msg_text title;   /* text of <title> */
};
const struct msg_html *msg_html(const struct msg *m);

/* ---- Flags for rules ---- */
enum msg_flag {
	MSG_F_TRUNCATED = 1u << 0,       /* a limit stopped parsing */
	MSG_F_DEPTH_LIMIT = 1u << 1,     /* MIME nesting limit reached */
	MSG_F_PART_LIMIT = 1u << 2,      /* part count limit reached */
	MSG_F_NO_BODY_SEP = 1u << 3,     /* no empty line after headers */
	MSG_F_BAD_HEADER = 1u << 4,      /* header line without a colon,
	                                    blank or bad name */
	MSG_F_8BIT_HEADER = 1u << 5,     /* raw 8-bit bytes in a header */
	MSG_F_NUL = 1u << 6,             /* NUL bytes in the message */
	MSG_F_MIXED_EOL = 1u << 7,       /* both CRLF and bare LF lines */
	MSG_F_LONG_LINE = 1u << 8,       /* a line over 998 bytes */
	MSG_F_BAD_RFC2047 = 1u << 9,     /* malformed encoded word */
	MSG_F_UNKNOWN_CHARSET = 1u << 10,/* charset iconv does not know */
	MSG_F_BAD_CHARSET_DATA = 1u << 11, /* bytes invalid in the charset */
	MSG_F_BAD_BASE64 = 1u << 12,     /* invalid base64 (chars, padding) */
	MSG_F_BAD_QP = 1u << 13,         /* invalid quoted-printable */
	MSG_F_UNKNOWN_CTE = 1u << 14,    /* unknown transfer encoding */
	MSG_F_BAD_CONTENT_TYPE = 1u << 15, /* unparsable Content-Type */
	MSG_F_DUP_MIME_HEADER = 1u << 16,/* Content-Type or CTE repeated,
	                                    or a parameter repeated */
	MSG_F_NO_BOUNDARY = 1u << 17,    /* multipart without boundary= */
	MSG_F_BOUNDARY_MISSING = 1u << 18, /* boundary never in the body */
	MSG_F_NO_CLOSE_BOUNDARY = 1u << 19, /* no closing --boundary-- */
	MSG_F_DUP_BOUNDARY = 1u << 20,   /* nested multipart reuses an
	                                    enclosing boundary */
	MSG_F_BAD_BOUNDARY = 1u << 21,   /* boundary too long, bad chars */
	MSG_F_ENCODED_MULTIPART = 1u << 22, /* multipart or message/rfc822
	                                    with base64/QP encoding */
	MSG_F_TYPE_MISMATCH = 1u << 23,  /* declared type != detected type */
	MSG_F_BAD_ADDRESS = 1u << 24,    /* unparsable address header */
	MSG_F_HTML_MALFORMED = 1u << 25, /* unclosed comment/tag, bad nesting */
	MSG_F_HTML_INVISIBLE = 1u << 26, /* invisible text in HTML */
	MSG_F_HTML_MISMATCH_LINK = 1u << 27, /* link text host != href host */
	MSG_F_URI_OBFUSCATED = 1u << 28, /* hxxp, [.], numeric IPs, %-host */
	MSG_F_8BIT_BODY = 1u << 29,      /* 8-bit bytes in a 7bit part */
	MSG_F_NO_MIME_VERSION = 1u << 30 /* MIME headers, no MIME-Version */
};
/* More header fields than max_headers: some were not kept (outside the
 * enum: an enumerator must fit in an int). */
#define MSG_F_HEADER_LIMIT ((uint64_t)1 << 31)
/* A MIME part's header section ended by a line that is neither blank
 * nor a header field (SpamAssassin's missing_mime_head_body_separator). */
#define MSG_F_NO_PART_BODY_SEP ((uint64_t)1 << 32)
/* A header field's name or value was cut where SpamAssassin's parser
 * cuts it (MSG_HEADER_NAME_MAX, MSG_HEADER_VALUE_MAX; its
 * truncated_header). */
#define MSG_F_LONG_HEADER ((uint64_t)1 << 33)
/* SpamAssassin's Message.pm keeps at most this much of a message's
 * field (the top's, an inner message/rfc822's; not a MIME part's): the
 * name's first 256 bytes, and of the value (all after the colon, folding
 * line breaks as "\n", the final "\n" included) the first 8192; so do
 * msg_header's name, raw, value and decoded. */
#define MSG_HEADER_NAME_MAX 256u
#define MSG_HEADER_VALUE_MAX 8192u
uint64_t msg_flags(const struct msg *m);
/* The name of one flag ("truncated", "bad_base64", ...), NULL if f is not
 * exactly one known flag. For logs and the explain command. */
const char *msg_flag_name(uint64_t f);

#endif

/*
 * charset.h — conversion of text in any charset to UTF-8.
 *
 * UTF-8, US-ASCII, ISO-8859-1 and windows-1252 (the bulk of mail) are
 * converted by hand-written fast paths; every other charset goes through
 * iconv. Converters are cached per struct charset_conv, which one parse
 * owns (iconv descriptors are not shareable between threads). Unknown
 * charsets and undeclared 8-bit text get a best effort: UTF-8 when the
 * bytes are valid UTF-8, else windows-1252. Output line ends are LF
 * (CRLF is folded) so that text views are uniform.
 */
#ifndef VIGIL_CHARSET_H
#define VIGIL_CHARSET_H

#include <stddef.h>

#include "arena.h"

enum charset_flag {
	CHARSET_UNKNOWN = 1,  /* charset name not known to iconv */
	CHARSET_BAD_DATA = 2, /* bytes invalid in the declared charset */
};

#define CHARSET_CACHE 4

struct charset_conv {
	struct {
		char name[40];
		void *cd; /* iconv_t; (void *)-1 when iconv_open failed */
	} slot[CHARSET_CACHE];
	unsigned used, next;
};

void charset_conv_init(struct charset_conv *c);
void charset_conv_close(struct charset_conv *c);
/* Append in[len], in charset cs (cs_len bytes, any case; empty when
 * undeclared), to out as UTF-8. Returns CHARSET_* flags. */
unsigned charset_to_utf8(struct charset_conv *c, const char *cs,
                         size_t cs_len, const char *in, size_t len,
                         struct arena_buf *out);
/* The code point windows-1252 gives byte c. */
unsigned long charset_cp1252(unsigned char c);
/* Append the UTF-8 encoding of code point cp (U+FFFD when invalid). */
void charset_put_utf8(struct arena_buf *out, unsigned long cp);

#endif

/*
 * charset.h — conversion of text in any charset to UTF-8.
 *
 * UTF-8, US-ASCII, ISO-8859-1 and windows-1252 (the bulk of mail) are
 * converted by hand-written fast paths; every other charset goes through
 * iconv. Converters are cached per struct charset_conv, which one parse
 * owns (iconv descriptors are not shareable between threads). Which
 * charset a text is read in follows SpamAssassin 4 (below), so that
 * rules see the text SpamAssassin's see. Output line ends are LF
 * (CRLF is folded) so that text views are uniform.
 */
#ifndef VIGIL_CHARSET_H
#define VIGIL_CHARSET_H

#include <stdbool.h>
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
 * undeclared), to out as UTF-8, deciding for the whole text as
 * SpamAssassin 4 does: 8-bit text that is well-formed UTF-8 is read as
 * UTF-8 whatever its label; else as cs; when the bytes are invalid in cs,
 * or cs is unknown, undeclared or US-ASCII, as windows-1252. cs is
 * looked up as Perl's Encode does: blanks dropped, any other byte no
 * charset name has (a quote, '(', '/') makes it unknown. Returns
 * CHARSET_* flags. */
unsigned charset_to_utf8(struct charset_conv *c, const char *cs,
                         size_t cs_len, const char *in, size_t len,
                         struct arena_buf *out);
/* The same for the text of an RFC 2047 word, where the label is
 * believed: no UTF-8 guess; bytes invalid in cs become U+FFFD (an
 * unknown cs still means windows-1252); a "*lang" suffix (RFC 2231) is
 * not part of cs. */
unsigned charset_word_to_utf8(struct charset_conv *c, const char *cs,
                              size_t cs_len, const char *in, size_t len,
                              struct arena_buf *out);
/* Whether s[0..n) has no byte >= 0x80. */
bool charset_is_ascii(const char *s, size_t n);
/* Whether s[0..n) is UTF-8 as Perl's Encode takes it strictly (so
 * SpamAssassin): well-formed (utf8.h) and free of noncharacters. */
bool charset_utf8_strict(const char *s, size_t n);
/* Append the UTF-8 encoding of code point cp (U+FFFD when invalid). */
void charset_put_utf8(struct arena_buf *out, unsigned long cp);

#endif

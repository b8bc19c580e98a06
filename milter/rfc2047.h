/*
 * rfc2047.h — decoding of RFC 2047 encoded-words in header text.
 *
 * "=?charset?B|Q?text?=" words are decoded and converted to UTF-8; blanks
 * between two adjacent encoded words are dropped; adjacent words of one
 * charset are joined before conversion (multi-byte characters split over
 * words survive). Malformed words are copied as they are and flagged.
 * A word's text is read in its charset as labelled (bytes invalid there
 * become U+FFFD). Text outside words is copied as is; raw 8-bit is read
 * as UTF-8 when the whole value is well-formed UTF-8, else as
 * windows-1252 (SpamAssassin 4's reading).
 */
#ifndef VIGIL_RFC2047_H
#define VIGIL_RFC2047_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "charset.h"

enum rfc2047_flag {
	RFC2047_MALFORMED = 1,       /* a word was left undecoded/repaired */
	RFC2047_UNKNOWN_CHARSET = 2, /* a word's charset is unknown */
	RFC2047_BAD_DATA = 4,        /* bad base64/QP or charset bytes */
};

/* True when s may contain an encoded word (cheap pre-check). */
bool rfc2047_maybe(const char *s, size_t len);
/* Append the decoded text of in[len] to out; returns RFC2047_* flags. */
unsigned rfc2047_decode(struct charset_conv *cv, const char *in, size_t len,
                        struct arena_buf *out);

#endif

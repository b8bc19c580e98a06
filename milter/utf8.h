/*
 * utf8.h — UTF-8 decoding, validation and encoding (RFC 3629).
 *
 * Well-formed means: the shortest form (no overlongs such as C0 80), no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence and no stray continuation byte. Every ASCII byte, NUL and the
 * C0 controls included, is a well-formed sequence of its own; C1
 * controls (U+0080..U+009F) are well-formed too. Callers that want to
 * treat control characters differently test the code point.
 */
#ifndef VIGIL_UTF8_H
#define VIGIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed sequence at s[0..n), or 0 when there
 * is none (n == 0 included). On success its code point goes to *cp
 * unless cp is NULL; on failure *cp is left alone. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Whether all of s[0..n) is well-formed UTF-8 (true when n == 0). */
bool utf8_valid(const char *s, size_t n);

/* Whether cp is white space to Perl's \s on a character string (what
 * SpamAssassin's patterns see in decoded text): the ASCII blanks (tab,
 * LF, VT, FF, CR, space), U+0085, U+00A0, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000. */
bool utf8_is_perl_space(uint32_t cp);

/* Length of the Perl white space character (above) the UTF-8 text
 * s[0..n) starts with, 0 when it starts with none. */
size_t utf8_space_len(const char *s, size_t n);

/* Write the UTF-8 form of cp to out; returns its length (1..4), or 0
 * (nothing written) for a surrogate or a value above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif

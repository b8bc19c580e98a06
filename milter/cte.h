/*
 * cte.h — Content-Transfer-Encoding decoders (base64, quoted-printable).
 *
 * Lenient like a mail reader: invalid input is decoded as well as it can
 * be, never rejected, and reported through the returned flags. Output goes
 * to a caller-provided buffer of at least len bytes (decoding never
 * grows the data); the decoded length is returned through *out_len.
 */
#ifndef VIGIL_CTE_H
#define VIGIL_CTE_H

#include <stddef.h>

enum cte_flag {
	CTE_BAD_CHAR = 1,    /* a byte outside the alphabet was skipped */
	CTE_BAD_PADDING = 2, /* base64 quantum incomplete or data after '=' */
	CTE_BAD_ESCAPE = 4,  /* QP '=' not followed by two hex digits/EOL */
};

/* As SpamAssassin's Util::base64_decode: white space skipped; bad bytes
 * skipped and flagged; a partial last quantum decoded; a '=' before the
 * last alphabet byte (glued blocks) flagged and read as 'A' when the text
 * is otherwise clean and a whole number of quanta, else as '/'. */
unsigned cte_base64_decode(const char *in, size_t len, char *out,
                           size_t *out_len);
/* "=XY" hex escapes (either case), soft line breaks "=" + optional blanks
 * + LF/CRLF; a bad escape is kept literally and flagged. Line ends are
 * copied as they are; blanks written before a line end are dropped
 * (RFC 2045), "=20" there stays. */
unsigned cte_qp_decode(const char *in, size_t len, char *out,
                       size_t *out_len);
/* Value of a hex digit (either case), or -1. */
int cte_hex_digit(unsigned char c);
/* Q-encoding of RFC 2047 words: like QP, plus '_' for space. */
unsigned cte_q_decode(const char *in, size_t len, char *out,
                      size_t *out_len);

#endif

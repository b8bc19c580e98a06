/* cte.c — see cte.h. */
#include "cte.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Table entries are value + 1, so that 0 (the default) means "not in
 * the alphabet". */
enum { B64_WS = 65, B64_PAD = 66, B64_BAD = 0 };

static const uint8_t b64_table[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
	[' '] = B64_WS, ['\t'] = B64_WS, ['\r'] = B64_WS, ['\n'] = B64_WS,
	['\f'] = B64_WS, ['\v'] = B64_WS,
	['='] = B64_PAD,
};

/* What SpamAssassin's Util::base64_decode makes of a '=' before the last
 * alphabet byte (after white space is dropped): when the text is
 * otherwise clean and a whole number of quanta, MIME::Base64 gets it with
 * such '=' runs turned into 'A' (0); else its uudecode path reads '=' as
 * '/' (63). '=' after the last alphabet byte is padding. Sets *last to
 * just after that byte. */
static uint32_t mid_pad_value(const unsigned char *p, const unsigned char *end,
                              const unsigned char **last, size_t *trail,
                              unsigned *flags)
{
	size_t count = 0;
	*last = p;
	*trail = 0;
	for (; p < end; p++) {
		uint8_t v = b64_table[*p];
		if (v == B64_WS)
			continue;
		if (v == B64_BAD) {
			*flags |= CTE_BAD_CHAR;
			continue;
		}
		count++;
		(*trail)++;
		if (v != B64_PAD) {
			*last = p + 1;
			*trail = 0;
		}
	}
	return !(*flags & CTE_BAD_CHAR) && count % 4 == 0 ? 0 : 63;
}

unsigned cte_base64_decode(const char *in, size_t len, char *out,
                           size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *end;
	size_t trail;
	unsigned flags = 0;
	uint32_t pad = mid_pad_value(p, p + len, &end, &trail, &flags);
	uint32_t acc = 0;
	int n = 0;     /* sextets in acc */
	size_t o = 0;

	while (p < end) {
		/* Fast path: four alphabet bytes in a row. */
		if (n == 0 && end - p >= 4) {
			uint8_t a = (uint8_t)(b64_table[p[0]] - 1),
				b = (uint8_t)(b64_table[p[1]] - 1),
				c = (uint8_t)(b64_table[p[2]] - 1),
				d = (uint8_t)(b64_table[p[3]] - 1);
			if ((a | b | c | d) < 64) {
				uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
				             (uint32_t)c << 6 | d;
				out[o++] = (char)(v >> 16);
				out[o++] = (char)(v >> 8);
				out[o++] = (char)v;
				p += 4;
				continue;
			}
		}
		uint8_t v = b64_table[*p++];
		if (v == B64_WS || v == B64_BAD)
			continue;
		uint32_t sextet = (uint32_t)(v - 1);
		if (v == B64_PAD) {
			flags |= CTE_BAD_PADDING;
			sextet = pad;
		}
		acc = acc << 6 | sextet;
		if (++n == 4) {
			out[o++] = (char)(acc >> 16);
			out[o++] = (char)(acc >> 8);
			out[o++] = (char)acc;
			acc = 0;
			n = 0;
		}
	}
	/* A partial last quantum gives what it holds (one sextet: nothing),
	 * padded or not (flagged when not padded). */
	if (n == 2)
		out[o++] = (char)(acc >> 4);
	else if (n == 3) {
		out[o++] = (char)(acc >> 10);
		out[o++] = (char)(acc >> 2);
	}
	if (n == 1 || (n != 0 && (n + trail) % 4 != 0))
		flags |= CTE_BAD_PADDING;
	*out_len = o;
	return flags;
}

int cte_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copy a literal run of QP text, dropping the blanks written before
 * each line end (RFC 2045 6.7 (3): "any trailing white space on a line
 * must be deleted", as SpamAssassin's qp_decode does); blanks that are
 * decoded escapes (=20, before *keep) stay. */
static void qp_copy_lines(char *out, size_t *o, size_t *keep,
                          const char *p, size_t run)
{
	while (run > 0) {
		const char *nl = memchr(p, '\n', run);
		size_t k = nl ? (size_t)(nl - p) : run;
		memcpy(out + *o, p, k);
		*o += k;
		if (nl == NULL)
			return;
		bool cr = *o > *keep && out[*o - 1] == '\r';
		size_t e = cr ? *o - 1 : *o;
		while (e > *keep && (out[e - 1] == ' ' || out[e - 1] == '\t'))
			e--;
		*o = e;
		if (cr)
			out[(*o)++] = '\r';
		out[(*o)++] = '\n';
		*keep = *o;
		p += k + 1;
		run -= k + 1;
	}
}

static unsigned qp_decode(const char *in, size_t len, char *out,
                          size_t *out_len, int q_mode)
{
	const char *p = in, *end = in + len;
	unsigned flags = 0;
	size_t o = 0, keep = 0;

	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *stop = eq ? eq : end;
		size_t run = (size_t)(stop - p);
		if (q_mode) {
			memcpy(out + o, p, run);
			for (size_t i = 0; i < run; i++)
				if (out[o + i] == '_')
					out[o + i] = ' ';
			o += run;
		} else {
			qp_copy_lines(out, &o, &keep, p, run);
		}
		if (eq == NULL)
			break;
		p = eq + 1;
		int hi = p < end ? cte_hex_digit((unsigned char)p[0]) : -1;
		int lo = p + 1 < end ? cte_hex_digit((unsigned char)p[1]) : -1;
		if (hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			keep = o;
			p += 2;
			continue;
		}
		/* Soft line break: '=' then optional blanks then EOL (in a
		 * header's Q word also the end). The blanks before it are
		 * not trailing ones: "a =\n\nb" is "a \nb", as in
		 * SpamAssassin's qp_decode. A body's '=' at the end, with
		 * no line end, is an '=' (its qp_decode leaves it too). */
		const char *q = p;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end && q_mode) {
			p = q;
			continue;
		}
		if (q < end &&
		    (*q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n'))) {
			p = q + (*q == '\r' ? 2 : 1);
			keep = o;
			continue;
		}
		if (q == end) {
			out[o++] = '=';
			continue;
		}
		flags |= CTE_BAD_ESCAPE;
		out[o++] = '=';
	}
	*out_len = o;
	return flags;
}

unsigned cte_qp_decode(const char *in, size_t len, char *out,
                       size_t *out_len)
{
	return qp_decode(in, len, out, out_len, 0);
}

unsigned cte_q_decode(const char *in, size_t len, char *out,
                      size_t *out_len)
{
	return qp_decode(in, len, out, out_len, 1);
}

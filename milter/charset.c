/* charset.c — see charset.h. */
#include "charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>

#include "utf8.h"

enum kind { K_UTF8, K_ASCII, K_CP1252, K_ICONV };

/* windows-1252 0x80..0x9f; the five unassigned bytes keep their C1 code
 * point, as browsers do. Text declared ISO-8859-1 is read as
 * windows-1252 too when SpamAssassin does: for the spellings its
 * _normalize() tests (ISO-?8859-1), not for those only Encode resolves
 * ("latin1", "iso_8859-1"), which are ISO-8859-1 proper. */
static const uint16_t cp1252_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static const struct {
	const char *name;
	enum kind kind;
} fast_names[] = {
	{ "utf-8", K_UTF8 }, { "utf8", K_UTF8 },
	{ "unicode-1-1-utf-8", K_UTF8 }, { "x-unicode20utf8", K_UTF8 },
	{ "us-ascii", K_ASCII }, { "ascii", K_ASCII },
	{ "ansi_x3.4-1968", K_ASCII }, { "iso646-us", K_ASCII },
	{ "iso-8859-1", K_CP1252 }, { "iso8859-1", K_CP1252 },
	{ "l1", K_CP1252 }, { "windows-1252", K_CP1252 },
	{ "cp1252", K_CP1252 }, { "x-cp1252", K_CP1252 },
	{ "iso-8859-1:1987", K_CP1252 }, { "cp819", K_CP1252 },
};

/* Names iconv does not know under the spelling mail uses, which Perl's
 * Encode knows (so SpamAssassin reads them). Encode does not know
 * "x-gbk", "ks_c_5601" or "x-euc-tw": text so labelled is read as an
 * unknown charset is, as SpamAssassin reads it. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "ks_c_5601-1987", "CP949" }, { "unicode-1-1-utf-7", "UTF-7" },
	{ "x-mac-roman", "MACINTOSH" }, { "x-mac-cyrillic", "MAC-CYRILLIC" },
	/* Encode has no GB18030 unless Encode::HanExtra is installed (not
	 * by default): SpamAssassin then reads it as GBK, its subset. */
	{ "gb18030", "CP936" }, { "gb-18030", "CP936" },
};

void charset_conv_init(struct charset_conv *c)
{
	memset(c, 0, sizeof *c);
}

void charset_conv_close(struct charset_conv *c)
{
	for (unsigned i = 0; i < c->used; i++)
		if (c->slot[i].cd != (void *)-1)
			iconv_close((iconv_t)c->slot[i].cd);
	c->used = c->next = 0;
}

void charset_put_utf8(struct arena_buf *out, unsigned long cp)
{
	char b[4];
	size_t n = cp <= 0x10ffff ? utf8_encode((uint32_t)cp, b) : 0;
	if (n == 0)
		n = utf8_encode(0xfffd, b);
	arena_buf_put(out, b, n);
}

#define ONES ((uint64_t)0x0101010101010101ULL)
#define HIGHS ((uint64_t)0x8080808080808080ULL)

/* Bytes from s that are ASCII and not CR (the plain run to copy). */
static size_t plain_run(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (len - i >= 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t cr = w ^ (ONES * '\r');
		if (((w | ((cr - ONES) & ~cr)) & HIGHS) != 0)
			break;
		i += 8;
	}
	while (i < len && s[i] < 0x80 && s[i] != '\r')
		i++;
	return i;
}

static unsigned long cp1252(unsigned char c)
{
	return c >= 0x80 && c < 0xa0 ? cp1252_c1[c - 0x80] : c;
}

/* Text read as windows-1252: the five bytes it leaves unassigned become
 * U+FFFD, as Perl's Encode (and so SpamAssassin) reads them. */
static void put_cp1252(struct arena_buf *out, unsigned char c)
{
	unsigned long cp = cp1252(c);
	if (c < 0x80)
		arena_buf_putc(out, (char)c);
	else
		charset_put_utf8(out, cp >= 0x80 && cp < 0xa0 ? 0xfffd : cp);
}

/* Copy plain runs with memcpy; fold CRLF. Other bytes: K_CP1252 reads
 * them as windows-1252; K_UTF8 keeps well-formed sequences; everything
 * else becomes U+FFFD (flagged). */
static unsigned convert_fast(enum kind kind, const char *in, size_t len,
                             struct arena_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	unsigned flags = 0;
	size_t i = 0;
	if (arena_buf_reserve(out, len) != 0)
		return 0;
	while (i < len) {
		size_t run = plain_run(s + i, len - i);
		arena_buf_put(out, s + i, run);
		i += run;
		if (i >= len)
			break;
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				arena_buf_putc(out, '\r');
			i++;
			continue;
		}
		if (kind == K_CP1252) {
			put_cp1252(out, s[i]);
			i++;
			continue;
		}
		size_t n = kind == K_UTF8 ? utf8_decode(s + i, len - i, NULL) : 0;
		if (n > 0) {
			arena_buf_put(out, s + i, n);
			i += n;
			continue;
		}
		flags |= CHARSET_BAD_DATA;
		charset_put_utf8(out, 0xfffd);
		i++;
	}
	return flags;
}

/* Perl's \s on bytes. */
static bool perl_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* cs lower-cased into dst without its blanks, as Encode's find_encoding
 * drops them ("shift_jis " is Shift_JIS; a quote or a comment stays and
 * makes the name unknown). Returns whether there were blanks. */
static bool lower_name(char *dst, size_t cap, const char *cs, size_t len)
{
	size_t j = 0;
	bool blanks = false;
	for (size_t i = 0; i < len && j + 1 < cap; i++) {
		char c = cs[i];
		if (perl_space(c)) {
			blanks = true;
			continue;
		}
		dst[j++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	dst[j] = '\0';
	return blanks;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* "cp", "ibm", "ms" or "windows", a blank, '-' or '_' perhaps, then
 * 2-4 digits to the end: the digits (else NULL). */
static const char *code_page(const char *name)
{
	static const char *const pre[] = { "cp", "ibm", "ms", "windows" };
	for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
		const char *p = strstr(name, pre[i]);
		if (p == NULL)
			continue;
		p += strlen(pre[i]);
		if (*p == '-' || *p == '_' || *p == ' ')
			p++;
		size_t d = strspn(p, "0123456789");
		if (d >= 2 && d <= 4 && p[d] == '\0')
			return p;
	}
	return NULL;
}

/* Spellings Perl's Encode (so SpamAssassin) resolves by pattern, with
 * the name iconv knows them by; NULL when none applies. */
static const char *encode_pattern(const char *name, char *buf, size_t cap)
{
	bool euc = strstr(name, "euc") != NULL;
	const char *gb = strstr(name, "gb2312");
	if ((euc && ends_with(name, "cn")) ||
	    (gb != NULL && (gb == name || gb[-1] == '-')))
		return "GB2312";
	if ((euc && ends_with(name, "jp")) || ends_with(name, "ujis"))
		return "EUC-JP";
	if (euc && ends_with(name, "kr"))
		return "EUC-KR";
	if ((strstr(name, "shift") != NULL && ends_with(name, "jis")) ||
	    ends_with(name, "sjis"))
		return "SHIFT_JIS";
	if (ends_with(name, "uhc"))
		return "CP949";
	if (ends_with(name, "big5") || ends_with(name, "big-5") ||
	    ends_with(name, "big5-eten") || ends_with(name, "big5eten"))
		return strstr(name, "hk") != NULL ? "BIG5-HKSCS" : "BIG5";
	if (ends_with(name, "big5-hkscs") || ends_with(name, "big5hkscs") ||
	    ends_with(name, "big5-hk") || ends_with(name, "big5hk"))
		return "BIG5-HKSCS";
	const char *iso = strstr(name, "iso");
	unsigned a, b;
	int used = 0;
	if (iso != NULL && sscanf(iso + 3 + (iso[3] == '-' || iso[3] == '_'),
	                          "%u%*[-_]%u%n", &a, &b, &used) == 2 &&
	    iso[3 + (iso[3] == '-' || iso[3] == '_') + used] == '\0') {
		snprintf(buf, cap, "ISO-%u-%u", a, b);
		return buf;
	}
	const char *koi = strstr(name, "koi8");
	if (koi != NULL && (ends_with(koi, "r") || ends_with(koi, "u")) &&
	    strspn(koi + 4, " -_") == strlen(koi + 4) - 1) {
		snprintf(buf, cap, "KOI8-%c", koi[strlen(koi) - 1] - 32);
		return buf;
	}
	const char *cp = code_page(name);
	if (cp != NULL) {
		snprintf(buf, cap, "CP%s", cp);
		return buf;
	}
	/* Encode's last rule: "a_b" or "a b" is "a-b". */
	size_t n = strcspn(name, "_ ");
	if (name[n] != '\0' && n > 0) {
		snprintf(buf, cap, "%.*s-%s", (int)n, name,
		         name + n + strspn(name + n, "_ "));
		return strpbrk(buf, "_ ") == NULL ? buf : NULL;
	}
	return NULL;
}

/* glibc's iconv_open() drops from a name the bytes a charset name does
 * not have ('"', '(', blanks) and takes "//" suffixes; Encode takes such
 * a name as it is, and knows none: "shift_jis\"" and "utf-8//ignore"
 * are unknown charsets to SpamAssassin. */
static bool plain_name(const char *name)
{
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.:+", *p) == NULL)
			return false;
	return true;
}

static iconv_t open_iconv(const char *name)
{
	if (!plain_name(name))
		return (iconv_t)-1;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(name, aliases[i].alias) == 0)
			return iconv_open("UTF-8", aliases[i].name);
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd != (iconv_t)-1)
		return cd;
	char buf[48];
	const char *alt = encode_pattern(name, buf, sizeof buf);
	return alt != NULL ? iconv_open("UTF-8", alt) : (iconv_t)-1;
}

static iconv_t cached_iconv(struct charset_conv *c, const char *name)
{
	for (unsigned i = 0; i < c->used; i++)
		if (strcmp(c->slot[i].name, name) == 0) {
			if (c->slot[i].cd != (void *)-1)
				iconv((iconv_t)c->slot[i].cd, NULL, NULL, NULL,
				      NULL);
			return (iconv_t)c->slot[i].cd;
		}
	unsigned k;
	if (c->used < CHARSET_CACHE) {
		k = c->used++;
	} else {
		k = c->next;
		c->next = (c->next + 1) % CHARSET_CACHE;
		if (c->slot[k].cd != (void *)-1)
			iconv_close((iconv_t)c->slot[k].cd);
	}
	snprintf(c->slot[k].name, sizeof c->slot[k].name, "%s", name);
	c->slot[k].cd = (void *)open_iconv(name);
	return (iconv_t)c->slot[k].cd;
}

/* Drop the CR of every CRLF in out[from..]. */
static void fold_crlf(struct arena_buf *out, size_t from)
{
	char *p = out->p;
	size_t w = from;
	for (size_t r = from; r < out->len; r++) {
		if (p[r] == '\r' && r + 1 < out->len && p[r + 1] == '\n')
			continue;
		p[w++] = p[r];
	}
	out->len = w;
}

static unsigned convert_iconv(iconv_t cd, const char *in, size_t len,
                              struct arena_buf *out)
{
	unsigned flags = 0;
	size_t start = out->len;
	char *src = (char *)in;
	size_t left = len;
	while (left > 0) {
		if (arena_buf_reserve(out, left * 2 + 16) != 0)
			return flags;
		char *dst = out->p + out->len;
		size_t room = out->cap - out->len - 1;
		size_t r = iconv(cd, &src, &left, &dst, &room);
		out->len = (size_t)(dst - out->p);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or a truncated sequence at the end: mark it and go
		 * on after the bad byte, as mail readers do. */
		flags |= CHARSET_BAD_DATA;
		charset_put_utf8(out, 0xfffd);
		src++;
		left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	fold_crlf(out, start);
	return flags;
}

static enum kind fast_kind(const char *name)
{
	if (name[0] == '\0')
		return K_ASCII;
	for (size_t i = 0; i < sizeof fast_names / sizeof fast_names[0]; i++)
		if (strcmp(name, fast_names[i].name) == 0)
			return fast_names[i].kind;
	return K_ICONV;
}

bool charset_is_ascii(const char *s, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {   /* 8 bytes at a time */
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080u) == 0;
}

bool charset_utf8_strict(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_decode(u + i, n - i, &cp);
		if (k == 0 || (cp >= 0xfdd0 && cp <= 0xfdef) ||
		    (cp & 0xfffe) == 0xfffe)
			return false;
		i += k;
	}
	return true;
}

static bool has_8bit(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return true;
	return false;
}

/* Convert with iconv; when the bytes are not valid in the charset,
 * insist keeps iconv's output (U+FFFD for each bad byte), else the whole
 * text is read as windows-1252 instead. */
static unsigned convert_declared(iconv_t cd, bool insist, const char *in,
                                 size_t len, struct arena_buf *out)
{
	size_t start = out->len;
	unsigned f = convert_iconv(cd, in, len, out);
	if ((f & CHARSET_BAD_DATA) && !insist) {
		out->len = start;
		convert_fast(K_CP1252, in, len, out);
	}
	return f;
}

/* Whether name is Encode's euc-kr: KS X 1001 alone, no character of
 * which has a byte 0x80-0xA0, where glibc's EUC-KR passes such a byte
 * through as a C1 control (audit19 L2: UHC syllables labelled euc-kr,
 * common in Korean mail, are invalid to SpamAssassin). */
static bool euckr_name(const char *name)
{
	char buf[40];
	const char *r = encode_pattern(name, buf, sizeof buf);
	return r != NULL && strcmp(r, "EUC-KR") == 0;
}

static bool euckr_stray(unsigned char b)
{
	return b >= 0x80 && b <= 0xa0;
}

/* convert_declared() for euc-kr: each byte 0x80-0xA0 is invalid. */
static unsigned convert_euckr(iconv_t cd, bool insist, const char *in,
                              size_t len, struct arena_buf *out)
{
	size_t start = out->len;
	unsigned f = 0;
	for (const char *p = in, *e = in + len; p < e;) {
		const char *q = p;
		while (q < e && !euckr_stray((unsigned char)*q))
			q++;
		f |= convert_iconv(cd, p, (size_t)(q - p), out);
		if (q < e) {
			f |= CHARSET_BAD_DATA;
			charset_put_utf8(out, 0xfffd);
			q++;
		}
		p = q;
	}
	if ((f & CHARSET_BAD_DATA) && !insist) {
		out->len = start;
		convert_fast(K_CP1252, in, len, out);
	}
	return f;
}

static bool utf16_name(const char *name)
{
	if (strncmp(name, "utf", 3) != 0)
		return false;
	name += name[3] == '-' ? 4 : 3;
	return strncmp(name, "16", 2) == 0;
}

/* SpamAssassin's detect_utf16(), whatever the label says: no answer
 * (NULL) when the text starts with a byte order mark (SpamAssassin then
 * leaves it undecoded) or has as many clues for one order as for the
 * other; a clue is a space in that order and, once, nearly all of the
 * weight (the bytes' nibbles) in the even or the odd bytes. */
static const char *utf16_order(const unsigned char *s, size_t len)
{
	if (len >= 2 && ((s[0] == 0xff && s[1] == 0xfe) ||
	                 (s[0] == 0xfe && s[1] == 0xff)))
		return NULL;
	unsigned long le = 0, be = 0, even = 0, odd = 0;
	for (size_t i = 0; i < len; i += 2) {
		unsigned a = s[i], b = i + 1 < len ? s[i + 1] : 0;
		even += (a >> 4) + (a & 15);
		odd += (b >> 4) + (b & 15);
		le += a == 0x20 && b == 0;
		be += a == 0 && b == 0x20;
	}
	le += even > odd * 4;
	be += odd * 4 > even;
	return le > be ? "utf-16le" : be > le ? "utf-16be" : NULL;
}

/* UTF-16 in the order utf16_order() infers; undecoded (windows-1252,
 * 8-bit or not) when it cannot tell or the text is not valid in it.
 * octets (an RFC 2047 word): text that decodes is kept as its own bytes,
 * as _normalize() returns it to _decode_header(), which asks for octets
 * (its UTF-16 branch's "return $_[0] if !$return_decoded"; audit19 L1):
 * header rules see what SpamAssassin's see. */
static unsigned convert_utf16(struct charset_conv *c, const char *in,
                              size_t len, bool eight, bool octets,
                              struct arena_buf *out)
{
	const char *order = utf16_order((const unsigned char *)in, len);
	iconv_t cd = order != NULL ? cached_iconv(c, order) : (iconv_t)-1;
	size_t start = out->len;
	if (cd != (iconv_t)-1 &&
	    !(convert_iconv(cd, in, len, out) & CHARSET_BAD_DATA)) {
		if (octets) {
			out->len = start;
			arena_buf_put(out, in, len);
		}
		return 0;
	}
	out->len = start;
	return convert_fast(eight ? K_CP1252 : K_ASCII, in, len, out) |
	       CHARSET_BAD_DATA;
}

/*
 * SpamAssassin 4's _normalize(), which decides for the whole text:
 * 8-bit text that is well-formed UTF-8 is UTF-8 whatever the label
 * (unless insist, as for RFC 2047 words); else the declared charset,
 * strictly; where that fails, or the charset is unknown, undeclared or
 * US-ASCII, windows-1252. insist: a declared US-ASCII or UTF-8 keeps
 * what is valid and turns the rest into U+FFFD.
 */
static unsigned convert(struct charset_conv *c, const char *cs,
                        size_t cs_len, const char *in, size_t len,
                        bool insist, struct arena_buf *out)
{
	char name[40];
	bool blanks = lower_name(name, sizeof name, cs ? cs : "",
	                         cs ? cs_len : 0);
	/* A word's charset*lang suffix (RFC 2231) is not part of the name
	 * (_decode_header drops it; a body's charset keeps it). */
	char *star = strchr(name, '*');
	if (star != NULL && insist)
		*star = '\0';
	enum kind k = fast_kind(name);
	/* SpamAssassin reads "iso-8859-1" as windows-1252 only when so
	 * spelt, blanks not in it; else Encode reads it, as ISO-8859-1. */
	if (blanks && (strcmp(name, "iso-8859-1") == 0 ||
	               strcmp(name, "iso8859-1") == 0))
		k = K_ICONV;
	bool declared = name[0] != '\0';
	bool eight = has_8bit(in, len);
	iconv_t cd = k == K_ICONV ? cached_iconv(c, name) : (iconv_t)-1;
	unsigned unknown = k == K_ICONV && cd == (iconv_t)-1
		? CHARSET_UNKNOWN : 0;
	if (!eight && (k != K_ICONV || unknown))
		return convert_fast(K_ASCII, in, len, out) | unknown;
	bool ascii = k == K_ASCII && declared; /* 8-bit in US-ASCII */
	if (eight && !insist && charset_utf8_strict(in, len))
		return convert_fast(K_UTF8, in, len, out) |
		       (ascii ? CHARSET_BAD_DATA : 0) | unknown;
	if (utf16_name(name))
		return convert_utf16(c, in, len, eight, insist, out);
	if (k == K_ICONV && !unknown)
		return euckr_name(name)
			? convert_euckr(cd, insist, in, len, out)
			: convert_declared(cd, insist, in, len, out);
	if (insist && (k == K_ASCII || k == K_UTF8))
		return convert_fast(k, in, len, out);
	unsigned bad = ascii || k == K_UTF8 ? CHARSET_BAD_DATA : 0;
	return convert_fast(K_CP1252, in, len, out) | bad | unknown;
}

unsigned charset_to_utf8(struct charset_conv *c, const char *cs,
                         size_t cs_len, const char *in, size_t len,
                         struct arena_buf *out)
{
	return convert(c, cs, cs_len, in, len, false, out);
}

unsigned charset_word_to_utf8(struct charset_conv *c, const char *cs,
                              size_t cs_len, const char *in, size_t len,
                              struct arena_buf *out)
{
	return convert(c, cs, cs_len, in, len, true, out);
}

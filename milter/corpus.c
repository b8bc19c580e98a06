/* corpus.c — see corpus.h */
#include "corpus.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "msg.h"
#include "strbuf.h"

#define LINE_CHUNK 8192      /* longer lines are read in pieces */
#define MAX_DEPTH 32         /* directory nesting; guards symlink loops */
#define READ_STOPPED (-2)    /* read_piece(): corpus_stop_when() said so */

/* Directories being walked: the paths still to visit, in order, and
 * the directory's identity (a symlink back to it is a loop); gen tells
 * this walk of the slot from earlier ones. */
struct frame {
	char **paths;
	size_t n, i;
	dev_t dev;
	ino_t ino;
	unsigned long gen;
};

/* A file or directory read, by identity, with the path it was read by
 * (for a directory, the one its entries were listed under). */
struct ident {
	dev_t dev;
	ino_t ino;
	char *name;               /* NULL: a free slot */
	bool files;               /* a directory whose files the walk reads
	                             (not a maildir's top) */
	size_t frame;             /* a directory: its frame's slot ... */
	unsigned long gen;        /* ... while the slot has this generation */
};

/* Identities in an open-addressed table (cap a power of two, at most
 * half full). */
struct idset {
	struct ident *v;
	size_t n, cap;
};

/* The message being assembled: at most max bytes stored, all counted. */
struct mbuf {
	char *p;
	size_t len, cap, max;
	bool over;
	size_t nul, total;       /* NUL bytes and bytes, stored or not */
	uint64_t unread;         /* bytes past the bound left unread, known
	                            from the file's size */
	bool unknown;            /* a pipe, a device or gzip data left past
	                            the bound: size unknown, at least total */
};

struct corpus {
	char **args;
	size_t nargs, argi;
	bool arg_dir;            /* the PATH taken last is a directory ... */
	size_t arg_yield;        /* ... and gave this many messages/errors */
	struct frame stack[MAX_DEPTH];
	size_t depth;
	unsigned long gen;       /* frames pushed so far */
	/* Each file read once, whatever links lead to it. Every directory
	 * walked is remembered (few next to files), so that one reached
	 * again through a link is skipped whole. Files are not all
	 * remembered: memory would grow with the corpus. A regular file
	 * found in a walk comes from a directory walked for the first time,
	 * so it was read before only if a link to it or a PATH naming it
	 * was: those (the files set) are remembered, by the link's target.
	 * A link or a PATH whose file was read before by a walk is found
	 * through its directory: walked to the end, or, while walked, with
	 * the file's name among the entries visited (a search through them,
	 * paid per link only). A file with hard links (one file, more
	 * names: st_nlink > 1) is remembered when a walk reads it too, so
	 * that another name of it is left out: memory grows with those
	 * files alone, which most corpora have none of. */
	struct idset dirs, files;
	size_t max_msg;
	bool keep_head;          /* oversized: the head, not an error */
	int (*stop)(void);       /* nonzero: stop reading (a signal) */
	int wake_fd;             /* readable once stop() is nonzero, or -1 */
	void (*on_notice)(void *arg, const char *path, const char *what);
	void *on_notice_arg;

	/* The file being read. */
	FILE *fp;
	char *path;
	bool is_mbox, seekable, file_done;
	bool from_single;        /* a SpamAssassin corpus file: one message
	                            after its From_ line (sa_corpus_name()) */
	gzFile gz;               /* read through zlib: its stream; or NULL */
	uint64_t read_mark;      /* bytes of the file read (compressed ones
	                            for gzip) when its last message ended */
	bool companion;          /* found in a walk, named as companion_file()
	                            says: passed over when not a message */
	size_t index;
	uint64_t pos;            /* bytes consumed so far */
	uint64_t first_off;      /* where its first line that is not blank
	                            starts */
	bool have_from;          /* an mbox From_ line was read ... */
	uint64_t from_off;       /* ... at this offset */

	/* The current piece of a line. */
	char line[LINE_CHUNK];
	size_t line_len;
	bool line_start;         /* the next piece starts a line */
	/* The piece after it, when a separator test had to look ahead:
	 * read_piece() gives it next. */
	char ahead[LINE_CHUNK];
	size_t ahead_len;
	bool have_ahead;
};

static char *format(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* ---- identities of what was read ---- */

static size_t id_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15u) ^ (uint64_t)ino;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* The slot holding (dev, ino), or the free slot where it would go. */
static struct ident *id_slot(const struct idset *s, dev_t dev, ino_t ino)
{
	size_t i = id_hash(dev, ino, s->cap);
	while (s->v[i].name != NULL &&
	       (s->v[i].dev != dev || s->v[i].ino != ino))
		i = (i + 1) & (s->cap - 1);
	return &s->v[i];
}

static const struct ident *id_find(const struct idset *s,
                                   const struct stat *st)
{
	if (s->n == 0)
		return NULL;
	const struct ident *e = id_slot(s, st->st_dev, st->st_ino);
	return e->name != NULL ? e : NULL;
}

/* Room for one more. 0, or -1 (memory). */
static int id_grow(struct idset *s)
{
	if (2 * (s->n + 1) <= s->cap)
		return 0;
	struct idset t = { calloc(s->cap ? 2 * s->cap : 64, sizeof *t.v), s->n,
	                   s->cap ? 2 * s->cap : 64 };
	if (t.v == NULL)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i].name != NULL)
			*id_slot(&t, s->v[i].dev, s->v[i].ino) = s->v[i];
	free(s->v);
	*s = t;
	return 0;
}

/* Remember st as read by name (copied). The entry, or NULL (memory). */
static struct ident *id_add(struct idset *s, const struct stat *st,
                            const char *name)
{
	char *copy = strdup(name);
	if (copy == NULL || id_grow(s) != 0) {
		free(copy);
		return NULL;
	}
	struct ident *e = id_slot(s, st->st_dev, st->st_ino);
	if (e->name == NULL)
		s->n++;
	free(e->name);
	*e = (struct ident){ .dev = st->st_dev, .ino = st->st_ino,
	                     .name = copy };
	return e;
}

static void id_free(struct idset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].name);
	free(s->v);
	*s = (struct idset){ 0 };
}

/* ---- message buffer ---- */

static void mbuf_add(struct mbuf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b->nul += p[i] == '\0';
	b->total += n;
	if (b->over)
		return;
	if (n > b->max - b->len) {   /* keep what fits: the head */
		b->over = true;
		n = b->max - b->len;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		/* never past what is kept: a message near the limit would
		 * otherwise hold up to twice its size */
		if (b->max < SIZE_MAX && cap > b->max + 1)
			cap = b->max + 1;
		char *q = realloc(b->p, cap);
		if (q == NULL) {
			b->over = true;   /* reported as too large: no memory */
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* ---- reading ---- */

/* Read a piece of a line (through '\n', or LINE_CHUNK bytes) from the
 * file into buf: its length, 0 at end of file, with ferror() on errors. */
static size_t fill_piece(FILE *fp, char *buf)
{
	size_t len = 0;
	int ch;
	while (len < LINE_CHUNK && (ch = getc_unlocked(fp)) != EOF) {
		buf[len++] = (char)ch;
		if (ch == '\n')
			break;
	}
	return len;
}

/* Whether the caller asked reading to stop (corpus_stop_when()). Asked
 * before each piece, so that an input that never ends (a device, an
 * endless pipe) is left as soon as a signal came. */
static bool stop_asked(const struct corpus *c)
{
	return c->stop != NULL && c->stop() != 0;
}

/* The next piece of a line into c->line: the one read ahead, if any,
 * else the file's. 1, 0 at end of file, -1 on a read error, READ_STOPPED
 * when stop_asked(). */
static int read_piece(struct corpus *c)
{
	if (stop_asked(c))
		return READ_STOPPED;
	if (c->have_ahead) {
		memcpy(c->line, c->ahead, c->ahead_len);
		c->line_len = c->ahead_len;
		c->have_ahead = false;
	} else {
		c->line_len = fill_piece(c->fp, c->line);
	}
	if (c->line_len == 0)   /* a wait cut short is an error to stdio */
		return !ferror(c->fp) ? 0 : stop_asked(c) ? READ_STOPPED : -1;
	c->pos += c->line_len;
	return 1;
}

static bool piece_complete(const struct corpus *c)
{
	return c->line_len > 0 && c->line[c->line_len - 1] == '\n';
}

static bool is_blank(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

static bool is_from_line(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* The next blank-separated word of p[*i..n), or 0 at the end. */
static size_t next_word(const char *p, size_t n, size_t *i, const char **w)
{
	while (*i < n && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
	*w = p + *i;
	size_t k = 0;
	while (*i < n && p[*i] != ' ' && p[*i] != '\t' && p[*i] != '\r' &&
	       p[*i] != '\n') {
		(*i)++;
		k++;
	}
	return k;
}

static bool is_name(const char *w, size_t k, const char *names)
{
	for (; k == 3 && *names; names += 3)
		if (strncmp(w, names, 3) == 0)
			return true;
	return false;
}

static bool is_number(const char *w, size_t k, size_t min, size_t max)
{
	if (k < min || k > max)
		return false;
	for (size_t j = 0; j < k; j++)
		if (w[j] < '0' || w[j] > '9')
			return false;
	return true;
}

/* "hh:mm" or "hh:mm:ss". */
static bool is_time(const char *w, size_t k)
{
	return (k == 5 || k == 8) && is_number(w, 2, 2, 2) && w[2] == ':' &&
	       is_number(w + 3, 2, 2, 2) &&
	       (k == 5 || (w[5] == ':' && is_number(w + 6, 2, 2, 2)));
}

/* The asctime date of a From_ line from p[*i]: "Www Mmm d hh:mm[:ss]
 * [ZONE] yyyy", as mbox writers put it, to the end of the line. */
static bool asctime_date(const char *p, size_t n, size_t i)
{
	const char *w;
	size_t k = next_word(p, n, &i, &w);
	if (!is_name(w, k, "MonTueWedThuFriSatSun"))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_name(w, k, "JanFebMarAprMayJunJulAugSepOctNovDec"))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_number(w, k, 1, 2))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_time(w, k))
		return false;
	for (int zone = 0; zone < 2; zone++) {
		k = next_word(p, n, &i, &w);
		if (is_number(w, k, 4, 4))
			return next_word(p, n, &i, &w) == 0;
	}
	return false;
}

/* An RFC 5322 date from p[*i]: "[Www,] d Mmm yyyy hh:mm[:ss] [ZONE]",
 * which some writers put on From_ lines instead, to the end of the
 * line; ZONE is +hhmm, -hhmm or a name. */
static bool rfc5322_date(const char *p, size_t n, size_t i)
{
	const char *w;
	size_t k = next_word(p, n, &i, &w);
	if (k == 4 && w[3] == ',' && is_name(w, 3, "MonTueWedThuFriSatSun"))
		k = next_word(p, n, &i, &w);
	if (!is_number(w, k, 1, 2))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_name(w, k, "JanFebMarAprMayJunJulAugSepOctNovDec"))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_number(w, k, 4, 4))
		return false;
	k = next_word(p, n, &i, &w);
	if (!is_time(w, k))
		return false;
	k = next_word(p, n, &i, &w);
	bool zone = k == 0 ||
	            (k == 5 && (w[0] == '+' || w[0] == '-') &&
	             is_number(w + 1, 4, 4, 4));
	for (size_t j = 0; !zone && k <= 5 && j < k; j++)
		if (!isalpha((unsigned char)w[j]))
			break;
		else if (j + 1 == k)
			zone = true;
	return zone && next_word(p, n, &i, &w) == 0;
}

/* A whole From_ line: "From SENDER DATE", the date asctime (as mbox
 * writers put it; Thunderbird's SENDER is "-") or RFC 5322's. A writer
 * quotes such a line in a body, so it separates messages even where no
 * blank line comes before it. */
static bool is_from_separator(const char *p, size_t n)
{
	if (!is_from_line(p, n))
		return false;
	size_t i = 5;
	const char *w;
	if (next_word(p, n, &i, &w) == 0)   /* the sender */
		return false;
	return asctime_date(p, n, i) || rfc5322_date(p, n, i);
}

/* Whether the line after the current (complete) one starts a header
 * field; it is read ahead, and read_piece() gives it next. */
static bool next_is_field(struct corpus *c)
{
	if (!c->have_ahead) {
		c->ahead_len = fill_piece(c->fp, c->ahead);
		c->have_ahead = c->ahead_len > 0;
	}
	return c->have_ahead && msg_field_line(c->ahead, c->ahead_len);
}

/* Whether the line p[0..n) in c->line, after an empty line, separates
 * messages: a "From " line that is a whole From_ line, or one a header
 * field follows (a writer's From_ line with another date form). A body
 * paragraph opening "From the desk of ..." (mboxo writers do not quote
 * it) is neither, and stays in the message. */
static bool separates_after_blank(struct corpus *c, const char *p, size_t n)
{
	return is_from_line(p, n) &&
	       (is_from_separator(p, n) ||
	        (piece_complete(c) && next_is_field(c)));
}

/* mboxrd: a line matching ^>+From was quoted with one '>' more. */
static bool is_quoted_from(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] == '>')
		i++;
	return i > 0 && n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/* "Content-Length: 1234": the number, or -1. */
static long long content_length(const char *p, size_t n)
{
	static const char name[] = "Content-Length:";
	if (n < sizeof name - 1 || strncasecmp(p, name, sizeof name - 1) != 0)
		return -1;
	size_t i = sizeof name - 1;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	long long v = 0;
	size_t digits = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9' && digits < 15; i++, digits++)
		v = v * 10 + (p[i] - '0');
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return digits > 0 && (i == n || p[i] == '\n') ? v : -1;
}

/* The body is the next clen bytes if what follows them is the end of the
 * file or a From_ line (after an optional blank line). Otherwise rewind
 * and return false: the caller reads lines instead. */
static bool content_length_body(struct corpus *c, struct mbuf *b,
                                uint64_t clen)
{
	off_t back = ftello(c->fp);
	if (back < 0 || clen > b->max - b->len)
		return false;
	size_t mark = b->len, nul = b->nul, total = b->total;
	uint64_t pos0 = c->pos;
	char buf[8192];
	for (uint64_t left = clen; left > 0;) {
		size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
		size_t got = fread(buf, 1, want, c->fp);
		mbuf_add(b, buf, got);
		c->pos += got;
		left -= got;
		if (got < want)
			goto rewind;
	}
	uint64_t after = c->pos;
	int r = read_piece(c);
	if (r == 0)
		return true;
	if (r > 0 && is_blank(c->line, c->line_len)) {
		after = c->pos;
		r = read_piece(c);
		if (r == 0)
			return true;
	}
	if (r > 0 && is_from_line(c->line, c->line_len)) {
		c->have_from = true;
		c->from_off = after;
		c->line_start = piece_complete(c);
		return true;
	}
rewind:
	clearerr(c->fp);
	if (fseeko(c->fp, back, SEEK_SET) != 0) {
		c->file_done = true;
		return false;
	}
	c->pos = pos0;
	b->len = mark;
	b->nul = nul;
	b->total = total;
	b->over = false;
	if (b->p)
		b->p[b->len] = '\0';
	c->line_start = true;
	return false;
}

/* Why reading failed (errno, or zlib's complaint). */
static const char *read_error(const struct corpus *c)
{
	return c->gz ? "corrupt or truncated gzip data" : strerror(errno);
}

/* ---- checks ---- */

/* A message starts with a header field, or with lines that are not one
 * before it, as many as msg_field_line() says are passed over. */
static bool starts_with_header(const char *p, size_t n)
{
	for (int line = 0; line <= MSG_BAD_HEADER_LINES && n > 0; line++) {
		if (p[0] == '\n' || (p[0] == '\r' && n > 1 && p[1] == '\n'))
			return false;               /* the header section ended */
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		if (msg_field_line(p, len))
			return true;
		if (nl == NULL)
			return false;
		n -= len + 1;
		p = nl + 1;
	}
	return false;
}

/* A compressed file given by mistake: its format, or NULL. An lz4
 * frame's first block is often stored as it is, so its text reads as
 * header fields after one line of binary bytes (audit22 H1: an .mbox.lz4
 * was scanned as one message); its magic (skippable frames included)
 * tells, as the others' do. */
static const char *compressed(const char *p, size_t n)
{
	static const struct { const char *magic; size_t len; const char *name; }
	formats[] = {
		{ "\x1f\x8b", 2, "gzip" }, { "BZh", 3, "bzip2" },
		{ "\xfd" "7zXZ", 5, "xz" }, { "\x28\xb5\x2f\xfd", 4, "zstd" },
		{ "\x04\x22\x4d\x18", 4, "lz4" }, { "\x02\x21\x4c\x18", 4, "lz4" },
		{ "LZIP", 4, "lzip" }, { "\x89LZO\0\r\n\x1a\n", 9, "lzop" },
		{ "\x1f\x9d", 2, "compress (.Z)" },
	};
	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
		if (n >= formats[i].len &&
		    memcmp(p, formats[i].magic, formats[i].len) == 0)
			return formats[i].name;
	if (n >= 4 && ((unsigned char)p[0] & 0xf0) == 0x50 &&
	    memcmp(p + 1, "\x2a\x4d\x18", 3) == 0)
		return "lz4";   /* a skippable frame, 0x184D2A5? */
	return NULL;
}

/* Whether the first line of p is a header field (a message may start
 * with bytes a compressor's magic holds only as a field: "BZh: x"). */
static bool first_line_field(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	return msg_field_line(p, nl ? (size_t)(nl - p) : n);
}

/* Whether p starts with a tar header without the ustar magic (v7 tar,
 * cpio -H tar): its checksum at offset 148 (octal, the header's bytes
 * summed with the checksum field as blanks) holds (audit21 L2). */
static bool tar_v7_header(const char *p, size_t n)
{
	if (n < 512 || memchr(p, '\0', 100) == NULL)
		return false;
	unsigned long want = 0, sum = 0;
	size_t i = 148;
	while (i < 156 && p[i] == ' ')
		i++;
	if (i == 156 || p[i] < '0' || p[i] > '7')
		return false;
	for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(p[i] - '0');
	for (size_t k = 0; k < 512; k++)
		sum += k >= 148 && k < 156 ? ' ' : (unsigned char)p[k];
	return sum == want;
}

/* An archive of messages given as one (audit20 H3: a corpus's .tar or
 * .tgz was scanned as one message): its format, or NULL. A tar file's
 * first header has "ustar" at offset 257 and its NUL-padded name before
 * it (a v7 tar has no magic: its header checksum tells); a zip file
 * starts with a local file header, a cpio archive with its ASCII or
 * binary magic, an ar archive with "!<arch>" or "!<thin>". */
static const char *archive(const char *p, size_t n)
{
	if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0 &&
	    memchr(p, '\0', 100) != NULL)
		return "tar";
	if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return "zip";
	if (n >= 6 && (memcmp(p, "070701", 6) == 0 ||
	               memcmp(p, "070702", 6) == 0 || memcmp(p, "070707", 6) == 0))
		return "cpio";
	if (n >= 2 && ((unsigned char)p[0] == 0xc7 && (unsigned char)p[1] == 0x71))
		return "cpio";   /* old binary format, little-endian */
	if (n >= 2 && ((unsigned char)p[0] == 0x71 && (unsigned char)p[1] == 0xc7))
		return "cpio";   /* the same, big-endian */
	if (n >= 8 && (memcmp(p, "!<arch>\n", 8) == 0 ||
	               memcmp(p, "!<thin>\n", 8) == 0))
		return "ar";
	if (n >= 6 && memcmp(p, "7z\xbc\xaf\x27\x1c", 6) == 0)
		return "7z";
	if (n >= 6 && memcmp(p, "Rar!\x1a\x07", 6) == 0)
		return "rar";
	if (tar_v7_header(p, n))
		return "tar";
	return NULL;
}

/* Whether the lines of b's header section (up to its first empty line,
 * or all that is stored) that are neither a header field nor a
 * continuation of one are mostly NUL bytes: /dev/zero, NUL data after a
 * few fields. NULs inside fields (a Subject stuffed with them, a header-
 * only message with a NUL run in a field) count for nothing: SpamAssassin
 * scans such a message (audit20 L1). */
static bool header_mostly_nul(const struct mbuf *b)
{
	size_t i = 0, nul = 0, bytes = 0;
	bool in_field = false;
	while (i < b->len) {
		const char *nl = memchr(b->p + i, '\n', b->len - i);
		size_t next = nl ? (size_t)(nl - b->p) + 1 : b->len;
		if (next - i <= 2 && (next - i == 1 || b->p[i] == '\r'))
			break;   /* the empty line */
		in_field = msg_field_line(b->p + i, next - i) ||
		           (in_field && (b->p[i] == ' ' || b->p[i] == '\t'));
		for (size_t j = i; j < next && !in_field; j++)
			nul += b->p[j] == '\0';
		bytes += in_field ? 0 : next - i;
		i = next;
	}
	return nul * 2 > bytes;
}

/* Binary data: lines of the header section that are no header field
 * mostly NUL (/dev/zero), decided on the header alone (tar files are
 * recognised before). NULs in header fields or in the body (8-bit
 * UTF-16 text, a raw attachment) are no reason to refuse a message:
 * SpamAssassin scans it, an MTA passes it to a milter (a field cut at
 * its NUL, as --milter sends it; audit19, audit20 L1). */
static char *check_message(const struct mbuf *b, bool keep_head)
{
	const char *z = b->p ? compressed(b->p, b->len) : NULL;
	if (z != NULL && !first_line_field(b->p, b->len))
		return format("%s-compressed data, not a message (decompress it "
		              "first)", z);
	const char *arch = b->p ? archive(b->p, b->len) : NULL;
	if (arch != NULL)
		return format("%s archive, not a message (unpack it first)", arch);
	if (b->nul > 0 && header_mostly_nul(b))
		return format("binary data (%zu NUL bytes in %zu)", b->nul,
		              b->total);
	if (b->over && !keep_head)
		return format("message larger than %zu bytes", b->max);
	if (b->len == 0)
		return format("empty message");
	if (!starts_with_header(b->p, b->len))
		return format("no header field at the start: not a message");
	return NULL;
}

static void finish(const struct corpus *c, struct corpus_msg *m,
                   struct mbuf *b, char *error)
{
	m->size = b->total + b->unread;
	m->size_unknown = b->unknown;
	if (error == NULL)
		error = check_message(b, c->keep_head);
	if (error != NULL) {
		free(b->p);
		m->error = error ? error : format("out of memory");
		return;
	}
	if (b->p == NULL)
		b->p = calloc(1, 1);
	m->data = b->p;
	m->len = b->len;
}

/* The message being read when reading was asked to stop: cut, so not
 * scanned; nothing more of the file is read. */
static char *stopped_error(struct corpus *c, const struct mbuf *b)
{
	c->file_done = true;
	return format("reading interrupted after %zu bytes of it: not scanned",
	              b->total);
}

/* ---- mbox ---- */

/* The last message of a file without a final newline (a hand-made or
 * concatenated mbox; Python's mailbox reads it): its last line is ended
 * as a newline would have, so that it reads as anywhere else in a file.
 * The size stays the bytes the file had. */
static void end_line(struct mbuf *b)
{
	mbuf_add(b, "\n", 1);
	b->total--;
}

/* One message of an mbox; its From_ line has been read. */
static void mbox_message(struct corpus *c, struct corpus_msg *m)
{
	struct mbuf b = { .max = c->max_msg };
	m->offset = c->from_off;
	c->have_from = false;
	bool in_headers = true, prev_blank = false;
	long long clen = -1;
	size_t blank_at = 0;        /* b.len before the last blank line */
	size_t blank_total = 0;     /* b.total likewise */
	char *error = NULL;
	for (;;) {
		uint64_t line_off = c->pos;
		int r = read_piece(c);
		if (r == READ_STOPPED) {
			error = stopped_error(c, &b);
			break;
		}
		if (r < 0) {
			error = format("read error at offset %llu: %s",
			               (unsigned long long)c->pos, read_error(c));
			c->file_done = true;
			break;
		}
		if (r == 0) {
			if (in_headers)
				error = format("truncated: the file ends in the header "
				               "section");
			else if (!c->line_start)
				end_line(&b);
			c->file_done = true;
			break;
		}
		const char *p = c->line;
		size_t n = c->line_len;
		bool starts = c->line_start;
		c->line_start = piece_complete(c);
		bool blank = starts && is_blank(p, n);
		if (starts && (prev_blank ? separates_after_blank(c, p, n) :
		                            is_from_separator(p, n))) {
			c->have_from = true;
			c->from_off = line_off;
			if (prev_blank) {
				b.len = blank_at;   /* the separating blank line */
				b.total = blank_total;
				if (b.p)
					b.p[b.len] = '\0';
			}
			break;
		}
		if (starts && in_headers && !blank && clen < 0)
			clen = content_length(p, n);
		if (starts && is_quoted_from(p, n)) {
			p++;
			n--;
		}
		if (blank) {
			blank_at = b.len;
			blank_total = b.total;
		}
		mbuf_add(&b, p, n);
		prev_blank = blank;
		if (blank && in_headers) {
			in_headers = false;
			if (clen >= 0 && c->seekable &&
			    content_length_body(c, &b, (uint64_t)clen)) {
				prev_blank = false;   /* the body is exact */
				break;
			}
			if (c->file_done) {
				error = format("cannot seek back: %s", strerror(errno));
				break;
			}
		}
	}
	if (error == NULL && !c->have_from && prev_blank) {
		b.len = blank_at;   /* the blank line ending the last message */
		b.total = blank_total;
		if (b.p)
			b.p[b.len] = '\0';
	}
	finish(c, m, &b, error);
}

/* ---- single files ---- */

/* Past the bound a message file is not read further: a regular file's
 * size tells how large the message is (a junk file of gigabytes costs no
 * time), and a pipe or a device may never end (/dev/zero, `yes |`). */
static void leave_rest(struct corpus *c, struct mbuf *b)
{
	struct stat st;
	if (c->seekable && fstat(fileno(c->fp), &st) == 0 &&
	    (uint64_t)st.st_size > c->pos) {
		b->unread = (uint64_t)st.st_size - c->pos;
		c->pos = (uint64_t)st.st_size;   /* progress: the file is done */
	} else if (!c->seekable) {
		b->unknown = true;
	}
}

/* The rest of a message file into b, up to the bound. An error
 * message, or NULL. */
static char *read_rest(struct corpus *c, struct mbuf *b)
{
	char buf[16384];
	while (!b->over) {
		if (stop_asked(c))
			return stopped_error(c, b);
		size_t got = fread(buf, 1, sizeof buf, c->fp);
		if (got == 0)
			break;
		mbuf_add(b, buf, got);
		c->pos += got;
	}
	if (ferror(c->fp) && stop_asked(c))   /* a wait cut short */
		return stopped_error(c, b);
	if (ferror(c->fp))
		return format("read error: %s", read_error(c));
	if (b->over)
		leave_rest(c, b);
	return NULL;
}

/* The SpamAssassin public corpus keeps one message per file, named
 * NNNNN.<32 hex digits> (its MD5), each starting with the From_ line of
 * the spool it came from and with bodies not From-quoted: SpamAssassin
 * and its mass-check read such a file as one message. Read as an mbox,
 * a body quoting a whole From_ line (a bounce) would become two. */
static bool sa_corpus_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (strlen(name) != 5 + 1 + 32 || name[5] != '.')
		return false;
	for (size_t i = 0; i < 5 + 1 + 32; i++)
		if (i != 5 && !(i < 5 ? isdigit((unsigned char)name[i])
		                      : isxdigit((unsigned char)name[i])))
			return false;
	return true;
}

/* Apple Mail's N.emlx (and N.partial.emlx): a first line with the
 * message's length in bytes (blank-padded), the message, then an XML
 * property list of flags that is no part of it. The length, or -1 when
 * path and line are not that. */
static long long emlx_length(const char *path, const char *line, size_t n)
{
	size_t pl = path ? strlen(path) : 0;
	if (pl < 5 || strcmp(path + pl - 5, ".emlx") != 0)
		return -1;
	long long len = 0;
	size_t i = 0;
	for (; i < n && line[i] >= '0' && line[i] <= '9' && len < 1LL << 40; i++)
		len = len * 10 + (line[i] - '0');
	if (i == 0)
		return -1;
	while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	return i + 1 == n && line[i] == '\n' ? len : -1;
}

static void file_message(struct corpus *c, struct corpus_msg *m)
{
	struct mbuf b = { .max = c->max_msg };
	long long emlx = emlx_length(c->path, c->line, c->line_len);
	m->offset = c->first_off;
	if (emlx >= 0 || c->from_single)
		m->offset += c->line_len;   /* the message starts after it */
	else
		mbuf_add(&b, c->line, c->line_len);   /* the piece already read */
	char *error = read_rest(c, &b);
	c->file_done = true;
	if (emlx >= 0 && (uint64_t)emlx < b.total) {
		/* the property list after the message is left out */
		if ((uint64_t)emlx <= b.len) {   /* all of it kept */
			b.len = (size_t)emlx;
			b.p[b.len] = '\0';   /* as mbuf_add() leaves it */
			b.over = false;
		}
		b.total = (size_t)emlx;
		b.unread = 0;
		b.unknown = false;
		b.nul = 0;
		for (size_t i = 0; i < b.len; i++)
			b.nul += b.p[i] == '\0';
	}
	finish(c, m, &b, error);
}

/* ---- gzip ---- */

/* A gzip-compressed file is read through zlib as a stream (fopencookie):
 * mailing-list archives and corpora often come as .mbox.gz. Not seekable
 * (going back would mean decompressing again from the start), so
 * Content-Length is not used, as for standard input. */
static ssize_t gz_read(void *cookie, char *buf, size_t n)
{
	int got = gzread(cookie, buf, n > INT_MAX ? INT_MAX : (unsigned)n);
	int err = Z_OK;
	if (got == 0)
		(void)gzerror(cookie, &err);   /* Z_BUF_ERROR: cut short */
	if (got < 0 || err != Z_OK) {
		errno = EIO;
		return -1;
	}
	return got;
}

static int gz_close(void *cookie)
{
	return gzclose_r(cookie) == Z_OK ? 0 : -1;
}

static bool gzip_magic(int fd)
{
	unsigned char b[2];
	return pread(fd, b, 2, 0) == 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/* fp (a regular file, at its start) decompressed (*gz: the stream, for
 * its compressed offset), or fp itself when it is not gzip data (*gz
 * NULL); NULL (fp closed) when zlib cannot take it. */
static FILE *maybe_gunzip(FILE *fp, gzFile *gz)
{
	*gz = NULL;
	if (!gzip_magic(fileno(fp)))
		return fp;
	int fd = dup(fileno(fp));
	fclose(fp);
	gzFile z = fd >= 0 ? gzdopen(fd, "rb") : NULL;
	if (z == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
	FILE *f = fopencookie(z, "rb", io);
	if (f == NULL)
		gzclose_r(z);
	else
		*gz = z;
	return f;
}

/* ---- pipes, FIFOs and devices ---- */

/* A pipe, a FIFO or a terminal may keep the reader waiting for input
 * that never comes. Read through a stream whose reads wait in poll()
 * for the input or for the wake descriptor (corpus_stop_when()): a
 * signal then ends the wait, which a read() with the signal blocked in
 * this thread (interrupt.h) would not. */
struct waitable {
	FILE *fp;     /* the stream opened (stdin is not closed) */
	int wake;
	struct corpus *c;   /* for its notice and path */
	bool probe;   /* a FIFO opened without waiting: not read yet */
};

static void notice(struct corpus *c, const char *path, const char *what)
{
	if (c->on_notice != NULL)
		c->on_notice(c->on_notice_arg, path, what);
}

/* The first read of a FIFO opened without waiting for a writer
 * (open_fifo()). Its descriptor is nonblocking: read() gives what a
 * writer wrote already, -1 (EAGAIN) while one holds it without writing,
 * 0 when none has opened it since it was opened here, or when one came
 * and left (poll() then says POLLHUP: an empty input, as an empty
 * file). None yet is said, since the wait may be long; -1 (EAGAIN)
 * then too: the caller waits. */
static ssize_t fifo_first_read(struct waitable *w, char *buf, size_t n)
{
	int fd = fileno(w->fp);
	ssize_t got = read(fd, buf, n);
	if (got != 0)
		return got;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ready = poll(&p, 1, 0);
	if (ready == 1 && (p.revents & POLLIN) == 0)
		return 0;   /* a writer came and left without writing */
	if (ready == 0 && w->c->path != NULL)
		notice(w->c, w->c->path, "a FIFO no writer has opened yet: "
		       "waiting for one");
	errno = EAGAIN;
	return -1;
}

static ssize_t waitable_read(void *cookie, char *buf, size_t n)
{
	struct waitable *w = cookie;
	int fd = fileno(w->fp);
	if (w->probe) {
		w->probe = false;
		ssize_t got = fifo_first_read(w, buf, n);
		if (got >= 0 || errno != EAGAIN)
			return got;
	}
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
	                       { .fd = w->wake, .events = POLLIN } };
	for (;;) {
		int ready = poll(p, 2, -1);
		if (ready < 0 && errno != EINTR)
			return -1;
		if (ready <= 0)
			continue;
		if (p[1].revents != 0) {
			errno = EINTR;   /* stop asked: stdio's error flag */
			return -1;
		}
		/* EAGAIN: a nonblocking FIFO whose input another reader
		 * took first; wait again. */
		ssize_t got = read(fd, buf, n);
		if (got >= 0 || (errno != EINTR && errno != EAGAIN))
			return got;
	}
}

static int waitable_close(void *cookie)
{
	struct waitable *w = cookie;
	int rc = w->fp == stdin ? 0 : fclose(w->fp);
	free(w);
	return rc;
}

/* fp (just opened, nothing read) read through a waitable stream; fp
 * itself when none can be made (its reads then wait as they would), or
 * NULL (fp closed) when fp is a FIFO opened without waiting (probe),
 * whose plain reads would take "no writer yet" for its end. */
static FILE *make_waitable(FILE *fp, struct corpus *c, bool probe)
{
	struct waitable *w = malloc(sizeof *w);
	FILE *f = NULL;
	if (w != NULL) {
		*w = (struct waitable){ fp, c->wake_fd, c, probe };
		cookie_io_functions_t io = { .read = waitable_read,
		                             .close = waitable_close };
		f = fopencookie(w, "rb", io);
	}
	if (f != NULL)
		return f;
	free(w);
	if (!probe)
		return fp;
	fclose(fp);
	errno = ENOMEM;
	return NULL;
}

/* The FIFO path opened for reading without waiting for a writer: open(2)
 * waits for one, and no signal would end that wait (interrupt.h); the
 * waitable stream's reads wait in poll() instead. NULL (errno) when it
 * cannot be opened. */
static FILE *open_fifo(struct corpus *c, const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (fp == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return make_waitable(fp, c, true);
}

/* ---- files and directories ---- */

static void close_file(struct corpus *c)
{
	if (c->fp != NULL && c->fp != stdin)
		fclose(c->fp);
	c->fp = NULL;
	free(c->path);
	c->path = NULL;
}

static int error_msg(struct corpus_msg *m, const char *path, char *error)
{
	m->source = strdup(path);
	m->error = error ? error : format("out of memory");
	m->whole = true;
	return 1;
}

/* A UTF-8 byte order mark that an editor put before the first line of
 * a file (a message saved on Windows) is not part of the message: read
 * from the line after it, as mail tools do. Offsets stay the file's. */
static void skip_bom(struct corpus *c)
{
	static const char bom[] = "\xef\xbb\xbf";
	if (c->line_len >= 3 && memcmp(c->line, bom, 3) == 0) {
		memmove(c->line, c->line + 3, c->line_len - 3);
		c->line_len -= 3;
	}
}

/* path ("-": standard input; mode: what stat() said, 0 for "-") opened
 * for reading: a regular file through zlib when it is gzip data (*gz);
 * any other read through a waitable stream when a wake descriptor was
 * given. NULL (errno) when it cannot be opened. */
static FILE *open_input(struct corpus *c, const char *path, mode_t mode,
                        gzFile *gz)
{
	bool waits = !S_ISREG(mode) && c->wake_fd >= 0;
	*gz = NULL;
	if (strcmp(path, "-") == 0)
		return waits ? make_waitable(stdin, c, false) : stdin;
	if (waits && S_ISFIFO(mode))
		return open_fifo(c, path);
	FILE *fp = fopen(path, "rb");
	if (fp != NULL && S_ISREG(mode))
		return maybe_gunzip(fp, gz);
	return fp != NULL && waits ? make_waitable(fp, c, false) : fp;
}

/* Open path (mode: what stat() said, 0 for "-"); an mbox if it starts
 * with a From_ line. 0, or -1 with an error message in *m. */
static int open_file(struct corpus *c, const char *path, mode_t mode,
                     struct corpus_msg *m)
{
	bool is_stdin = strcmp(path, "-") == 0;
	bool regular = !is_stdin && S_ISREG(mode);
	gzFile gz = NULL;
	FILE *fp = open_input(c, path, mode, &gz);
	if (fp == NULL) {
		error_msg(m, path, format("cannot open: %s", strerror(errno)));
		return -1;
	}
	c->fp = fp;
	c->path = strdup(path);
	c->seekable = regular && !is_stdin && gz == NULL;
	c->gz = gz;
	c->index = 0;
	c->pos = 0;
	c->read_mark = 0;
	c->file_done = false;
	c->have_from = false;
	c->line_start = true;
	c->have_ahead = false;
	int r = read_piece(c);
	skip_bom(c);
	/* Blank lines before the first line (mboxes concatenated with a
	 * newline between, a message saved after an empty line) start no
	 * message: the first one starts at the first line that is not. */
	uint64_t first = 0;
	while (r > 0 && is_blank(c->line, c->line_len)) {
		first = c->pos;
		r = read_piece(c);
	}
	if (r == READ_STOPPED) {
		error_msg(m, path, format("reading interrupted before its "
		                          "first message"));
		close_file(c);
		return -1;
	}
	if (r < 0 || c->path == NULL) {
		error_msg(m, path, format("read error: %s", read_error(c)));
		close_file(c);
		return -1;
	}
	c->first_off = first;
	c->line_start = piece_complete(c);
	c->file_done = r == 0;   /* an empty file holds no message */
	if (c->file_done)
		notice(c, path, first > 0 ? "only blank lines, no message in it"
		                          : "empty file, no message in it");
	c->is_mbox = r > 0 && is_from_line(c->line, c->line_len);
	c->from_single = c->is_mbox && c->line_start && sa_corpus_name(path);
	if (c->from_single)
		c->is_mbox = false;
	if (c->is_mbox) {
		c->have_from = true;
		c->from_off = first;
	}
	return 0;
}

static int skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int skip_self_parent(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* dir/name, without a second slash when dir ends with one: the paths
 * the walk visits. NULL (memory). */
static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	return format("%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" : "/",
	              name);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether dir/name is a maildir folder (has cur/ or new/). */
static bool is_folder(const char *dir, const char *name)
{
	char *cur = format("%s/%s/cur", dir, name);
	char *new = format("%s/%s/new", dir, name);
	bool yes = cur && new && (is_dir(cur) || is_dir(new));
	free(cur);
	free(new);
	return yes;
}

/* Append the sorted entries of dir to *paths, dot entries left out;
 * with dots, the names of those that are maildir folders go there, each
 * NUL-ended (one reading of dir serves both). 0 or -1 (errno). */
static int list_dir(const char *dir, char ***paths, size_t *n,
                    struct strbuf *dots)
{
	struct dirent **names = NULL;
	int k = scandir(dir, &names, dots ? skip_self_parent : skip_dots,
	                alphasort);
	if (k < 0)
		return -1;
	char **p = realloc(*paths, (*n + (size_t)k + 1) * sizeof *p);
	int rc = p ? 0 : -1;
	if (p)
		*paths = p;
	for (int i = 0; i < k; i++) {
		const char *nm = names[i]->d_name;
		if (nm[0] == '.') {   /* only with dots (skip_self_parent) */
			if (is_folder(dir, nm))
				strbuf_put(dots, nm, strlen(nm) + 1);
		} else if (rc == 0) {
			char *s = join(dir, nm);
			if (s)
				(*paths)[(*n)++] = s;
			else
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Whether the directory st is one being walked: reached again through a
 * symlink, it would be walked again and again (with two such links, the
 * paths multiply at every level). */
static bool on_stack(const struct corpus *c, const struct stat *st)
{
	for (size_t i = 0; i < c->depth; i++)
		if (c->stack[i].dev == st->st_dev && c->stack[i].ino == st->st_ino)
			return true;
	return false;
}

/* Entries of a maildir's top that hold no messages but a delivery in
 * progress (tmp/) or the state of a mail server or client: Maildir++
 * (maildirfolder, maildirsize quota, Courier's subscriptions), Dovecot
 * (dovecot-uidlist, dovecot.index*, dovecot-keywords, ...), Courier
 * (courierimapuiddb, courierimapkeywords/, ...). Passed over quietly,
 * as dot entries are (.uidvalidity, .mbsyncstate): naming them would
 * bury the entries that matter. */
static bool maildir_metadata(const char *name)
{
	static const char *const exact[] = {
		"tmp", "maildirfolder", "maildirsize", "subscriptions",
	};
	for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	return strncmp(name, "dovecot", 7) == 0 ||
	       strncmp(name, "courier", 7) == 0;
}

/* Whether the header section of data[0..len) has a field every mail
 * has one of: From, To, Subject, Date, Message-ID, Received,
 * Return-Path (case aside). */
static bool mail_like(const char *data, size_t len)
{
	static const char *const names[] = {
		"from:", "to:", "subject:", "date:", "message-id:", "received:",
		"return-path:",
	};
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - data) - i : len - i;
		if (n == 0 || (n == 1 && data[i] == '\r'))
			break;   /* the end of the header section */
		for (size_t k = 0; k < sizeof names / sizeof *names; k++)
			if (n >= strlen(names[k]) &&
			    strncasecmp(data + i, names[k], strlen(names[k])) == 0)
				return true;
		i += n + 1;
	}
	return false;
}

/* Whether a file of this name, found in a walk, is one that mail
 * clients and corpora keep beside their messages: the SpamAssassin
 * public corpus' cmds, TREC's index, Enron-spam's Summary.txt,
 * Thunderbird's summaries (.msf) and settings (.dat), Apple Mail's
 * Info.plist and table_of_contents, Evolution's summaries and indexes.
 * Such a file is passed over quietly when it is not a message (as
 * maildir metadata is): counting it as a malformed message would make
 * every run over those layouts fail; one that is a message is read.
 * Read as a message, one must look like mail (mail_like()): Enron-spam's
 * Summary.txt ("Owner: farmer-d", "Total number: 5172 emails") has the
 * syntax of a header section and nothing else of mail. */
static bool companion_file(const char *path)
{
	static const char *const exact[] = {
		"cmds", "index", "Summary.txt", "Info.plist", "table_of_contents",
	};
	static const char *const suffixes[] = {
		".msf", ".dat", ".ev-summary", ".ev-summary-meta", ".cmeta",
		".ibex.index", ".ibex.index.data",
	};
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		size_t k = strlen(suffixes[i]);
		if (n > k && strcmp(name + n - k, suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* Entries of a maildir's top named one per line; past them, a count. */
#define MAILDIR_NAMED 5

/* An entry of a maildir's top that is neither its cur/ or new/, nor a
 * folder, nor metadata (a file or directory put there by hand or by
 * another tool): not read, but named, so that no message is lost
 * unsaid; the first MAILDIR_NAMED one per line (n counts them). */
static void note_stray(struct corpus *c, const char *dir, const char *name,
                       size_t n)
{
	if (n > MAILDIR_NAMED)
		return;
	char *path = join(dir, name);
	if (path != NULL)
		c->on_notice(c->on_notice_arg, path, "in a maildir but not in its "
		             "cur/ or new/: not read (give it as a path to scan "
		             "it)");
	free(path);
}

/* The n-th folder into the list of the first 8. */
static void add_folder(struct strbuf *b, size_t n, const char *name)
{
	if (n > 8)
		return;
	strbuf_put(b, n > 1 ? ", " : "", n > 1 ? 2 : 0);
	strbuf_put(b, name, strlen(name));
}

/* Whether dir/name is one of the PATHs given, so scanned as such: a
 * folder named there is no folder left out. */
static bool given(const struct corpus *c, const char *dir, const char *name)
{
	char *path = join(dir, name);
	struct stat st, a;
	bool yes = false;
	if (path != NULL && stat(path, &st) == 0)
		for (size_t i = 0; i < c->nargs && !yes; i++)
			yes = stat(c->args[i], &a) == 0 && a.st_dev == st.st_dev &&
			      a.st_ino == st.st_ino;
	free(path);
	return yes;
}

/* The notice naming the n folders of dir left out ("LEAD N NOUNs not
 * scanned WHY: a, b, ... (give ...)"), the first 8 in list (add_folder()). */
static void note_folders(struct corpus *c, const char *dir, const char *lead,
                         const char *noun, const char *why,
                         const struct strbuf *list, size_t n)
{
	char *what = n == 0 || list->oom ? NULL :
	             format("%s%zu %s%s not scanned%s: %.*s%s (give a folder "
	                    "as a path to scan it)", lead, n, noun,
	                    n == 1 ? "" : "s", why, (int)list->len,
	                    list->p ? list->p : "", n > 8 ? ", ..." : "");
	if (what != NULL)
		c->on_notice(c->on_notice_arg, dir, what);
	free(what);
}

/* The count past the first MAILDIR_NAMED strays, and the folders. */
static void note_rest(struct corpus *c, const char *dir, size_t strays,
                      const struct strbuf *folders, size_t n)
{
	char *what = NULL;
	if (strays > MAILDIR_NAMED)
		what = format("maildir with %zu more entries not in its cur/ or "
		              "new/: not read", strays - MAILDIR_NAMED);
	if (what != NULL)
		c->on_notice(c->on_notice_arg, dir, what);
	free(what);
	note_folders(c, dir, "maildir with ", "folder", "", folders, n);
}

/* What a maildir's walk leaves out of its top, for the notice callback:
 * its folders (Maildir++ ".Junk", or Dovecot's LAYOUT=fs "Junk") are
 * mail the user filed elsewhere, often spam, named in one line; any
 * other entry but the metadata is named as not read. */
static void note_maildir(struct corpus *c, const char *dir)
{
	struct dirent **names = NULL;
	int k = c->on_notice ? scandir(dir, &names, NULL, alphasort) : 0;
	struct strbuf b = { 0 };
	size_t n = 0, strays = 0;
	for (int i = 0; i < k; i++) {
		const char *nm = names[i]->d_name;
		bool walked = strcmp(nm, "cur") == 0 || strcmp(nm, "new") == 0 ||
		              strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0;
		if (!walked && is_folder(dir, nm)) {
			if (!given(c, dir, nm))
				add_folder(&b, ++n, nm);
		}
		else if (!walked && nm[0] != '.' && !maildir_metadata(nm))
			note_stray(c, dir, nm, ++strays);
		free(names[i]);
	}
	free(names);
	note_rest(c, dir, strays, &b, n);
	strbuf_free(&b);
}

/* A directory that is not a maildir: its dot entries are passed over,
 * but one that is a maildir folder (Maildir++ ".Junk" under a copy of
 * a mail root, Dovecot's ".INBOX") is mail, named as a maildir's
 * folders are, so that none is lost unsaid; dots: their names as
 * list_dir() gives them. */
static void note_dot_folders(struct corpus *c, const char *dir,
                             const struct strbuf *dots)
{
	struct strbuf b = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < dots->len; i += strlen(dots->p + i) + 1)
		if (!given(c, dir, dots->p + i))
			add_folder(&b, ++n, dots->p + i);
	note_folders(c, dir, "", "maildir folder",
	             " (dot entries are passed over)", &b, n);
	strbuf_free(&b);
}

/* Whether st, reached as path, was read already (found in set): said
 * through the notice callback, naming both paths. */
static bool again(const struct corpus *c, const struct idset *set,
                  const char *path, const struct stat *st)
{
	const struct ident *e = id_find(set, st);
	if (e == NULL)
		return false;
	char *what = format("the same %s as %s, read once",
	                    S_ISDIR(st->st_mode) ? "directory" : "file", e->name);
	if (what != NULL && c->on_notice != NULL)
		c->on_notice(c->on_notice_arg, path, what);
	free(what);
	return true;
}

/* Remember directory dir (st) as walked in frame f, about to be pushed;
 * files: whether its files are read. 0, or -1 (memory). */
static int remember_dir(struct corpus *c, const char *dir,
                        const struct stat *st, const struct frame *f,
                        bool files)
{
	struct ident *e = id_add(&c->dirs, st, dir);
	if (e == NULL)
		return -1;
	e->files = files;
	e->frame = c->depth;
	e->gen = f->gen;
	return 0;
}

/* A maildir's cur/ then new/ into f: each one read already (through a
 * link) is skipped, said. 0, or -1 (errno). */
static int list_maildir(struct corpus *c, const char *dir, struct frame *f)
{
	static const char *const parts[] = { "cur", "new" };
	int rc = 0;
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		char *sub = join(dir, parts[i]);
		struct stat st;
		if (sub == NULL)
			rc = -1;
		else if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
		         !again(c, &c->dirs, sub, &st)) {
			rc = list_dir(sub, &f->paths, &f->n, NULL);
			if (rc == 0 && remember_dir(c, sub, &st, f, true) != 0)
				rc = -1;
		}
		free(sub);
	}
	if (rc == 0)
		note_maildir(c, dir);
	return rc;
}

/* Walk into dir (st: its stat): a maildir gives its cur/ then new/ files
 * (its folders are named by the notice callback, not walked), any other
 * directory its entries; a directory being walked already is skipped
 * (a loop), and one walked before, reached again through a link, is
 * skipped and said. 0, or -1 with an error message in *m. */
static int push_dir(struct corpus *c, const char *dir, const struct stat *st,
                    struct corpus_msg *m)
{
	if (on_stack(c, st) || again(c, &c->dirs, dir, st))
		return 0;
	if (c->depth == MAX_DEPTH) {
		error_msg(m, dir, format("directories nested too deep"));
		return -1;
	}
	struct frame f = { .dev = st->st_dev, .ino = st->st_ino,
	                   .gen = ++c->gen };
	if (c->depth == 0)
		c->arg_dir = true;
	char *cur = join(dir, "cur"), *new = join(dir, "new");
	bool maildir = cur && new && (is_dir(cur) || is_dir(new));
	struct strbuf dots = { 0 };
	int rc = cur == NULL || new == NULL ? -1
	         : maildir ? list_maildir(c, dir, &f)
	                   : list_dir(dir, &f.paths, &f.n,
	                              c->on_notice ? &dots : NULL);
	free(cur);
	free(new);
	if (rc == 0 && remember_dir(c, dir, st, &f, !maildir) != 0)
		rc = -1;
	if (rc == 0 && !maildir && !dots.oom)
		note_dot_folders(c, dir, &dots);
	strbuf_free(&dots);
	if (rc != 0) {
		error_msg(m, dir, format("cannot read directory: %s",
		                         strerror(errno)));
		for (size_t i = 0; i < f.n; i++)
			free(f.paths[i]);
		free(f.paths);
		return -1;
	}
	c->stack[c->depth++] = f;
	return 0;
}

/* Whether the walk read name in directory d already: d walked to the
 * end, or name among the entries of its frame visited so far. The path
 * it was read by into *first (malloc'ed). */
static bool walked_past(const struct corpus *c, const struct ident *d,
                        const char *name, char **first)
{
	*first = NULL;
	if (!d->files || name[0] == '.')
		return false;
	char *want = join(d->name, name);
	bool past = want != NULL;
	if (past && d->frame < c->depth && c->stack[d->frame].gen == d->gen) {
		const struct frame *f = &c->stack[d->frame];
		past = false;
		for (size_t j = 0; j < f->i && !past; j++)
			past = strcmp(f->paths[j], want) == 0;
	}
	if (past)
		*first = want;
	else
		free(want);
	return past;
}

/* Whether the regular file st at path was read under another name: one
 * remembered (a link, a PATH, a file with hard links). Said. */
static bool same_file(const struct corpus *c, const char *path,
                      const struct stat *st)
{
	const struct ident *e = id_find(&c->files, st);
	if (e == NULL)
		return false;
	char *what = format("the same file as %s, read once", e->name);
	if (what != NULL && c->on_notice != NULL)
		c->on_notice(c->on_notice_arg, path, what);
	free(what);
	return true;
}

/* The directory of dirs holding the file at the resolved path real,
 * found by its identity, or NULL. real is cut at its last slash; *name:
 * the file's name after it. */
static const struct ident *holding_dir(const struct idset *dirs, char *real,
                                       const char **name)
{
	char *slash = strrchr(real, '/');
	struct stat st;
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	*name = slash + 1;
	return stat(slash == real ? "/" : real, &st) == 0 ? id_find(dirs, &st)
	                                                  : NULL;
}

/* Whether the file at path, resolved real (a link or a PATH given), was
 * read already by a walk: its directory's, found by real. Said. */
static bool read_by_walk(const struct corpus *c, const char *path,
                         const char *real)
{
	char *dir = strdup(real);
	const char *name = NULL;
	const struct ident *d = dir ? holding_dir(&c->dirs, dir, &name) : NULL;
	char *first = NULL;
	bool past = d != NULL && walked_past(c, d, name, &first);
	char *what = past ? format("the same file as %s, read once", first)
	                  : NULL;
	if (what != NULL && c->on_notice != NULL)
		c->on_notice(c->on_notice_arg, path, what);
	free(what);
	free(first);
	free(dir);
	return past;
}

/* Whether the regular file st at path is to be left out, read already;
 * link: path is a symbolic link to it; in_dir: found in a walk. A link,
 * a PATH given or a file with hard links is remembered when read (out
 * of memory: not remembered, read again). Said when left out. */
static bool read_before(struct corpus *c, const char *path,
                        const struct stat *st, bool link, bool in_dir)
{
	if (same_file(c, path, st))
		return true;
	/* in a directory walked for the first time, not a link: read
	 * before only as a file remembered, checked above */
	bool plain = in_dir && !link;
	if (!plain) {
		char *real = realpath(path, NULL);
		bool before = real != NULL && read_by_walk(c, path, real);
		free(real);
		if (before)
			return true;
	}
	if (!plain || st->st_nlink > 1)
		(void)id_add(&c->files, st, path);
	return false;
}

/* A directory given as a PATH that gave nothing (an archive not
 * unpacked yet, a copy that failed) is said, as an empty file is: a
 * run over nothing is no silent success. */
static void note_empty_dir(struct corpus *c)
{
	if (c->arg_dir && c->arg_yield == 0 && c->on_notice != NULL &&
	    c->argi > 0)
		c->on_notice(c->on_notice_arg, c->args[c->argi - 1],
		             "directory with no message in it");
	c->arg_dir = false;
	c->arg_yield = 0;
}

/* The next path to visit, or NULL at the end; *in_dir: found in a
 * directory (not given). */
static const char *next_path(struct corpus *c, bool *in_dir)
{
	*in_dir = true;
	while (c->depth > 0) {
		struct frame *f = &c->stack[c->depth - 1];
		if (f->i < f->n)
			return f->paths[f->i++];
		for (size_t i = 0; i < f->n; i++)
			free(f->paths[i]);
		free(f->paths);
		c->depth--;
	}
	*in_dir = false;
	note_empty_dir(c);
	return c->argi < c->nargs ? c->args[c->argi++] : NULL;
}

/* ---- public ---- */

bool corpus_walk_reaches(const char *dir, const char *rel)
{
	char *at = strdup(dir);
	bool reach = at != NULL;
	for (const char *c = rel; reach && *c != '\0';) {
		size_t n = strcspn(c, "/");
		/* as push_dir() and list_dir() choose what to visit */
		reach = c[0] != '.' && (!is_folder(at, ".") ||
		        (n == 3 && (strncmp(c, "cur", 3) == 0 ||
		                    strncmp(c, "new", 3) == 0)));
		char *next = format("%s/%.*s", at, (int)n, c);
		free(at);
		at = next;
		reach = reach && at != NULL;
		c += n + (c[n] == '/');
	}
	free(at);
	return reach;
}

struct corpus *corpus_open(const char *const *paths, size_t n, size_t max_msg)
{
	struct corpus *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->max_msg = max_msg ? max_msg : CORPUS_MAX_MSG_DEFAULT;
	c->wake_fd = -1;
	c->args = calloc(n + 1, sizeof *c->args);
	if (c->args == NULL) {
		free(c);
		return NULL;
	}
	for (c->nargs = 0; c->nargs < n; c->nargs++) {
		c->args[c->nargs] = strdup(paths[c->nargs]);
		if (c->args[c->nargs] == NULL) {
			corpus_close(c);
			return NULL;
		}
	}
	return c;
}

void corpus_keep_head(struct corpus *c)
{
	c->keep_head = true;
}

void corpus_stop_when(struct corpus *c, int (*stop)(void), int wake_fd)
{
	c->stop = stop;
	c->wake_fd = wake_fd;
}

void corpus_on_notice(struct corpus *c,
                      void (*fn)(void *arg, const char *path,
                                 const char *what),
                      void *arg)
{
	c->on_notice = fn;
	c->on_notice_arg = arg;
}

/* The bytes of the current file read since the last message ended
 * (compressed ones for gzip data: a multi-member file or one over 4 GiB
 * has no decompressed size to ask for beforehand, its size on disk is
 * known). */
static uint64_t bytes_read(struct corpus *c)
{
	z_off_t z = c->gz ? gzoffset(c->gz) : 0;
	uint64_t now = !c->gz ? c->pos : z >= 0 ? (uint64_t)z : c->read_mark;
	uint64_t n = now > c->read_mark ? now - c->read_mark : 0;
	c->read_mark = now;
	return n;
}

static int next_message(struct corpus *c, struct corpus_msg *m)
{
	for (;;) {
		if (stop_asked(c))
			return 0;
		if (c->fp != NULL) {
			bool more = c->is_mbox ? c->have_from : !c->file_done;
			if (more) {
				m->source = strdup(c->path);
				m->index = c->index++;
				m->mbox = c->is_mbox;
				if (c->is_mbox)
					mbox_message(c, m);
				else
					file_message(c, m);
				m->read_bytes = bytes_read(c);
				if (!c->companion || (m->error == NULL &&
				    (m->mbox || mail_like(m->data, m->len))))
					return 1;
				corpus_msg_clear(m);   /* not mail, as expected */
				c->index--;
				continue;
			}
			close_file(c);
			continue;
		}
		bool in_dir;
		const char *path = next_path(c, &in_dir);
		if (path == NULL)
			return 0;
		struct stat st;
		bool is_stdin = strcmp(path, "-") == 0, link = false;
		if (!is_stdin && (lstat(path, &st) != 0 ||
		                  ((link = S_ISLNK(st.st_mode)) &&
		                   stat(path, &st) != 0)))
			return error_msg(m, path, format("cannot read: %s",
			                                 strerror(errno)));
		if (!is_stdin && S_ISDIR(st.st_mode)) {
			if (push_dir(c, path, &st, m) != 0)
				return 1;
			continue;
		}
		/* Sockets and the like hold no mail. A pipe or a device is
		 * read when given (a process substitution, /dev/stdin), not
		 * when found in a directory: opening a FIFO nobody writes to
		 * would wait forever. */
		if (!is_stdin && !S_ISREG(st.st_mode) &&
		    (in_dir || (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))))
			continue;
		if (!is_stdin && S_ISREG(st.st_mode) &&
		    read_before(c, path, &st, link, in_dir))
			continue;
		if (open_file(c, path, is_stdin ? 0 : st.st_mode, m) != 0)
			return 1;
		c->companion = in_dir && companion_file(path);
	}
}

int corpus_next(struct corpus *c, struct corpus_msg *m)
{
	*m = (struct corpus_msg){ 0 };
	int r = next_message(c, m);
	if (r == 1) {   /* every message comes from the path taken last */
		m->arg = c->argi - 1;
		c->arg_yield++;
	}
	return r;
}

char *corpus_msg_name(const struct corpus_msg *m)
{
	const char *src = m->source ? m->source : "?";
	return m->mbox ? format("%s message %zu at byte %llu", src, m->index,
	                        (unsigned long long)m->offset)
	               : format("%s", src);
}

void corpus_msg_clear(struct corpus_msg *m)
{
	free(m->source);
	free(m->data);
	free(m->error);
	*m = (struct corpus_msg){ 0 };
}

void corpus_close(struct corpus *c)
{
	if (c == NULL)
		return;
	close_file(c);
	for (; c->depth > 0; c->depth--) {
		struct frame *f = &c->stack[c->depth - 1];
		for (size_t i = 0; i < f->n; i++)
			free(f->paths[i]);
		free(f->paths);
	}
	for (size_t i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	id_free(&c->dirs);
	id_free(&c->files);
	free(c);
}

/* ---- sizes, for a progress line ---- */

/* What the sizes have counted: each directory, and each file that
 * another name may reach again (a symbolic link's target, a file with
 * hard links, a PATH given), as the walk reads them. A link to a file
 * whose directory was counted is not counted: the file is, under its
 * own name (maildir tops and dot files aside: an estimate). */
struct counted {
	struct idset dirs, files;
};

/* Whether st is in set already; else remembered when remember is true
 * (out of memory: not, and counted again). */
static bool counted_before(struct idset *set, const struct stat *st,
                           bool remember)
{
	if (id_find(set, st) != NULL)
		return true;
	if (remember)
		(void)id_add(set, st, "");
	return false;
}

static uint64_t dir_bytes(const char *dir, int depth, struct counted *k);

/* Whether the file path leads to is in a directory counted (or being
 * counted), found by its resolved path. */
static bool in_counted_dir(const char *path, const struct counted *k)
{
	char *real = realpath(path, NULL);
	const char *name = NULL;
	bool in = real != NULL && holding_dir(&k->dirs, real, &name) != NULL &&
	          name[0] != '.';
	free(real);
	return in;
}

/* The bytes path (st: its stat, links followed) adds; link: path is a
 * symbolic link or a PATH given. */
static uint64_t path_bytes(const char *path, const struct stat *st,
                           bool link, int depth, struct counted *k)
{
	if (S_ISDIR(st->st_mode))
		return counted_before(&k->dirs, st, true) ? 0
		       : dir_bytes(path, depth, k);
	if (!S_ISREG(st->st_mode) ||
	    counted_before(&k->files, st, link || st->st_nlink > 1) ||
	    (link && in_counted_dir(path, k)))
		return 0;
	return (uint64_t)st->st_size;
}

/* Bytes of the regular files under dir, dot entries and tmp/ aside, as
 * the walk reads them. */
static uint64_t dir_bytes(const char *dir, int depth, struct counted *k)
{
	uint64_t total = 0;
	if (depth < MAX_DEPTH && is_folder(dir, ".")) {
		/* a maildir: its cur/ and new/ alone are read */
		static const char *const parts[] = { "cur", "new" };
		for (size_t i = 0; i < 2; i++) {
			char *sub = join(dir, parts[i]);
			struct stat st;
			if (sub != NULL && stat(sub, &st) == 0)
				total += path_bytes(sub, &st, false, depth + 1, k);
			free(sub);
		}
		return total;
	}
	DIR *d = depth < MAX_DEPTH ? opendir(dir) : NULL;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "tmp") == 0)
			continue;
		char *p = join(dir, e->d_name);
		struct stat st;
		if (p != NULL && lstat(p, &st) == 0) {
			bool link = S_ISLNK(st.st_mode);
			if (!link || stat(p, &st) == 0)
				total += path_bytes(p, &st, link, depth + 1, k);
		}
		free(p);
	}
	if (d != NULL)
		closedir(d);
	return total;
}

uint64_t corpus_bytes(const char *const *paths, size_t n)
{
	struct counted k = { { 0 }, { 0 } };
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0)
			total += path_bytes(paths[i], &st, true, 0, &k);
	}
	id_free(&k.dirs);
	id_free(&k.files);
	return total;
}

/* Unit tests: corpus iteration (mbox quoting and Content-Length, maildir,
 * directories, truncated, unreadable and binary input, bounds, stopping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "corpus.h"

#define MAXMSGS 16

struct got {
	size_t n;
	struct corpus_msg m[MAXMSGS];
};

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_corpus.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name with the given contents (len bytes); returns the path. */
static const char *put(const char *name, const char *data, size_t len)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static const char *puts_(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

static void sub(const char *name)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void collect(const char *const *paths, size_t n, size_t max,
                    struct got *g)
{
	struct corpus *c = corpus_open(paths, n, max);
	assert_non_null(c);
	g->n = 0;
	struct corpus_msg m;
	while (corpus_next(c, &m) == 1) {
		assert_true(g->n < MAXMSGS);
		assert_true((m.data == NULL) != (m.error == NULL));
		g->m[g->n++] = m;
	}
	corpus_close(c);
}

static void release(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		corpus_msg_clear(&g->m[i]);
}

static void assert_msg(const struct corpus_msg *m, const char *source,
                       size_t index, uint64_t offset, const char *data)
{
	assert_string_equal(m->source, source);
	assert_int_equal(m->index, index);
	assert_int_equal(m->offset, offset);
	if (m->error)
		fail_msg("%s[%zu]: unexpected error %s", source, index, m->error);
	assert_int_equal(m->len, strlen(data));
	assert_string_equal(m->data, data);
}

static void assert_error(const struct corpus_msg *m, const char *source,
                         size_t index, const char *substring)
{
	assert_string_equal(m->source, source);
	assert_int_equal(m->index, index);
	assert_null(m->data);
	assert_non_null(m->error);
	if (strstr(m->error, substring) == NULL)
		fail_msg("error '%s' lacks '%s'", m->error, substring);
}

/* mboxrd quoting undone (one '>' less), mboxo ">From " too; a From line
 * not after a blank line is body text; separator blank lines removed. */
static void mbox_quoting(void **state)
{
	(void)state;
	const char m1[] = "From a@x Mon Jan  1 00:00:00 2024\n";
	const char b1[] = "Subject: one\n\n>From the start\n>>From deeper\n"
	                  "From inside a paragraph\n> From not quoted\n";
	const char m2[] = "\nFrom b@x Mon Jan  1 00:00:00 2024\n";
	const char b2[] = "Subject: two\n\nbody\n";
	char text[512];
	snprintf(text, sizeof text, "%s%s%s%s\n", m1, b1, m2, b2);
	const char *p = puts_("box", text);
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 2);
	assert_msg(&g.m[0], p, 0, 0,
	           "Subject: one\n\nFrom the start\n>From deeper\n"
	           "From inside a paragraph\n> From not quoted\n");
	assert_msg(&g.m[1], p, 1, strlen(m1) + strlen(b1) + 1, b2);
	release(&g);
}

/* A whole From_ line (sender, asctime date) separates messages without a
 * blank line before it; a From line without the date does not. */
static void mbox_no_blank(void **state)
{
	(void)state;
	const char text[] =
		"From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody one\n"
		"From - Tue Feb 13 09:05 2024\nSubject: two\n\nbody two\n"
		"From someone about Mon Jan 1 00:00:00 in 2024\n"
		"From c@x Wed Mar  6 23:59:59 +0100 2024\r\nSubject: three\r\n"
		"\r\nthree\r\nFrom x Mon Jan  1 00:00:00 2024 and more\r\n";
	const char *p = puts_("nb", text);
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 3);
	assert_msg(&g.m[0], p, 0, 0, "Subject: one\n\nbody one\n");
	assert_msg(&g.m[1], p, 1, (uint64_t)(strstr(text, "From -") - text),
	           "Subject: two\n\nbody two\n"
	           "From someone about Mon Jan 1 00:00:00 in 2024\n");
	assert_msg(&g.m[2], p, 2, (uint64_t)(strstr(text, "From c@") - text),
	           "Subject: three\r\n\r\nthree\r\n"
	           "From x Mon Jan  1 00:00:00 2024 and more\r\n");
	release(&g);
}

/* audit25 L9: a From_ line with an RFC 5322 date separates messages
 * without a blank line too; one with a date-like phrase does not. */
static void mbox_rfc_date(void **state)
{
	(void)state;
	const char text[] =
		"From a@b Wed, 01 Jan 2024 00:00:00 +0000\nSubject: one\n\n1\n"
		"From a@b 2 Jan 2024 10:11 GMT\nSubject: two\n\n"
		"From me Wed, 01 Jan 2024 every day\n"
		"From a@b Wed, 01 Jan 2024 00:00:00 +0000 extra\n"
		"From a@b Thu, 03 Jan 2024 00:00:00 -0800\nSubject: three\n\n3\n";
	const char *p = puts_("rfc", text);
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 3);
	assert_msg(&g.m[0], p, 0, 0, "Subject: one\n\n1\n");
	assert_msg(&g.m[1], p, 1, (uint64_t)(strstr(text, "From a@b 2") - text),
	           "Subject: two\n\nFrom me Wed, 01 Jan 2024 every day\n"
	           "From a@b Wed, 01 Jan 2024 00:00:00 +0000 extra\n");
	assert_msg(&g.m[2], p, 2, (uint64_t)(strstr(text, "From a@b Thu") -
	                                     text), "Subject: three\n\n3\n");
	release(&g);
}

/* text gzip-compressed into dir/name. */
static const char *put_gz(const char *name, const char *text)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	gzFile z = gzopen(p, "wb");
	assert_non_null(z);
	assert_int_equal(gzwrite(z, text, (unsigned)strlen(text)),
	                 (int)strlen(text));
	assert_int_equal(gzclose(z), Z_OK);
	return p;
}

/* A gzip-compressed mbox or message is read decompressed: the same
 * messages at the same (decompressed) offsets; Content-Length is not
 * used there (no going back). corpus_bytes() counts its size on disk,
 * and the messages' read_bytes add up to it (compressed bytes: what a
 * progress line can know of a multi-member file or one over 4 GiB). */
static void gzip_input(void **state)
{
	(void)state;
	const char text[] =
		"From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From q\n\n"
		"From b@x Mon Jan  1 00:00:00 2024\nContent-Length: 18\n"
		"Subject: two\n\nx\n\nFrom the body\n";
	const char *gz = put_gz("box.gz", text);
	struct got g;
	collect(&gz, 1, 0, &g);
	assert_int_equal(g.n, 2);
	assert_msg(&g.m[0], gz, 0, 0, "Subject: one\n\nFrom q\n");
	/* no Content-Length here: "From the body" is body text */
	assert_msg(&g.m[1], gz, 1, (uint64_t)(strstr(text, "From b") - text),
	           "Content-Length: 18\nSubject: two\n\nx\n\nFrom the body\n");
	struct stat st;
	assert_int_equal(stat(gz, &st), 0);
	assert_int_equal(corpus_bytes(&gz, 1), (uint64_t)st.st_size);
	assert_int_equal(g.m[0].read_bytes + g.m[1].read_bytes,
	                 (uint64_t)st.st_size);
	release(&g);
	const char *one = put_gz("m.eml.gz", "Subject: gz\n\nbody\n");
	collect(&one, 1, 0, &g);
	assert_int_equal(g.n, 1);
	assert_msg(&g.m[0], one, 0, 0, "Subject: gz\n\nbody\n");
	release(&g);
	/* no final newline: the same message as with one */
	const char *nonl = put_gz("nonl.gz", "From a\nSubject: one\n\nlast");
	collect(&nonl, 1, 0, &g);
	assert_int_equal(g.n, 1);
	assert_msg(&g.m[0], nonl, 0, 0, "Subject: one\n\nlast\n");
	release(&g);
}

/* A consistent Content-Length is the body (an unquoted From line inside
 * stays); an inconsistent one is ignored. */
static void mbox_content_length(void **state)
{
	(void)state;
	const char body[] = "x\n\nFrom inside the body\n";
	char text[512];
	int n = snprintf(text, sizeof text,
	                 "From a Mon Jan  1 00:00:00 2024\n"
	                 "Content-Length: %zu\nSubject: cl\n\n%s\n"
	                 "From b Mon Jan  1 00:00:00 2024\n"
	                 "Content-Length: 3\nSubject: wrong\n\nlonger body\n\n"
	                 "From c Mon Jan  1 00:00:00 2024\n"
	                 "Content-length: 5\n\nlast\n",
	                 strlen(body), body);
	const char *p = put("cl", text, (size_t)n);
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 3);
	char want[256];
	snprintf(want, sizeof want, "Content-Length: %zu\nSubject: cl\n\n%s",
	         strlen(body), body);
	assert_msg(&g.m[0], p, 0, 0, want);
	assert_int_equal(g.m[1].index, 1);
	assert_string_equal(g.m[1].data,
	                    "Content-Length: 3\nSubject: wrong\n\nlonger body\n");
	assert_string_equal(g.m[2].data, "Content-length: 5\n\nlast\n");
	assert_int_equal(g.m[2].offset,
	                 (uint64_t)(strstr(text, "From c") - text));
	release(&g);
}

/* Maildir: cur/ then new/, names sorted, tmp/ and dot files skipped. */
static void maildir(void **state)
{
	(void)state;
	sub("md");
	sub("md/cur");
	sub("md/new");
	sub("md/tmp");
	puts_("md/new/1.b", "Subject: new b\n\n");
	puts_("md/new/1.a", "Subject: new a\n\n");
	puts_("md/cur/2:2,S", "Subject: cur\n\n");
	puts_("md/cur/.hidden", "Subject: hidden\n\n");
	puts_("md/tmp/3", "Subject: tmp\n\n");
	char path[128];
	snprintf(path, sizeof path, "%s/md", dir);
	const char *p = path;
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 3);
	char want[160];
	snprintf(want, sizeof want, "%s/md/cur/2:2,S", dir);
	assert_msg(&g.m[0], want, 0, 0, "Subject: cur\n\n");
	snprintf(want, sizeof want, "%s/md/new/1.a", dir);
	assert_msg(&g.m[1], want, 0, 0, "Subject: new a\n\n");
	snprintf(want, sizeof want, "%s/md/new/1.b", dir);
	assert_msg(&g.m[2], want, 0, 0, "Subject: new b\n\n");
	release(&g);
}

/* A directory: files in name order, subdirectories walked, an mbox in
 * it split; then the next argument. */
static void directory(void **state)
{
	(void)state;
	sub("d");
	sub("d/sub");
	puts_("d/b.eml", "Subject: b\n\nFrom here on, no mbox.\n");
	puts_("d/a.eml", "Subject: a\r\n\r\nbody\r\n");
	puts_("d/sub/box", "From x\nSubject: s1\n\n\nFrom y\nSubject: s2\n\n");
	const char *single = puts_("one.eml", "Subject: one\n\n");
	char path[128];
	snprintf(path, sizeof path, "%s/d", dir);
	const char *paths[] = { path, single };
	struct got g;
	collect(paths, 2, 0, &g);
	assert_int_equal(g.n, 5);
	char want[160];
	snprintf(want, sizeof want, "%s/d/a.eml", dir);
	assert_msg(&g.m[0], want, 0, 0, "Subject: a\r\n\r\nbody\r\n");
	snprintf(want, sizeof want, "%s/d/b.eml", dir);
	assert_msg(&g.m[1], want, 0, 0, "Subject: b\n\nFrom here on, no mbox.\n");
	snprintf(want, sizeof want, "%s/d/sub/box", dir);
	assert_msg(&g.m[2], want, 0, 0, "Subject: s1\n\n");
	assert_msg(&g.m[3], want, 1, 21, "Subject: s2\n");
	assert_msg(&g.m[4], single, 0, 0, "Subject: one\n\n");
	/* bytes read per message add up to the file's */
	assert_int_equal(g.m[2].read_bytes + g.m[3].read_bytes,
	                 strlen("From x\nSubject: s1\n\n\nFrom y\nSubject: s2\n\n"));
	assert_int_equal(g.m[1].read_bytes,
	                 strlen("Subject: b\n\nFrom here on, no mbox.\n"));
	assert_false(g.m[0].mbox);   /* the mbox's messages say so */
	assert_true(g.m[2].mbox && g.m[3].mbox);
	assert_false(g.m[4].mbox);
	/* and their names in log lines */
	char *name = corpus_msg_name(&g.m[3]);
	snprintf(want, sizeof want, "%s/d/sub/box message 1 at byte 21", dir);
	assert_string_equal(name, want);
	free(name);
	name = corpus_msg_name(&g.m[4]);
	assert_string_equal(name, single);
	free(name);
	release(&g);
}

/* Files that mail clients and corpora keep beside their messages
 * (cmds, index, .msf, ...), found in a walk, are passed over when they
 * are not messages or not like mail (audit25 L11); one that is a
 * message is read, and so is one given
 * as a PATH (an error then); other files that are not messages are
 * errors. Blank lines before a file's first line start no message. */
static void companions_blank_lines(void **state)
{
	(void)state;
	sub("c");
	sub("c/full");
	puts_("c/cmds", "mv 00001.abc 00001.abc\n");
	puts_("c/full/index", "spam ../data/inmail.1\n");
	puts_("c/Inbox.msf", "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n");
	puts_("c/table_of_contents", "\x01\x02\0\0\0\0\0\0binary\0\0\0");
	puts_("c/README", "not mail\n");
	puts_("c/m.dat", "Subject: a message after all\n\n");
	/* Enron-spam's: a header section's syntax, nothing of mail */
	puts_("c/Summary.txt", "Owner: farmer-d\nTotal number: 5172 emails\n"
	      "Ham number: 3672 emails\n\nSpam number: 1500 emails\n");
	puts_("c/x.mbox", "\n\r\nFrom a\nSubject: one\n\n\nFrom b\n"
	      "Subject: two\n\n");
	puts_("c/y.eml", "\n\nSubject: y\n\nbody\n");
	sub("e");
	puts_("e/cmds", "mv 00002.abc 00002.abc\n");
	char c[128], cmds[128], want[160];
	snprintf(c, sizeof c, "%s/c", dir);
	snprintf(cmds, sizeof cmds, "%s/e/cmds", dir);
	const char *paths[] = { c, cmds };
	struct got g;
	collect(paths, 2, 0, &g);
	assert_int_equal(g.n, 6);
	snprintf(want, sizeof want, "%s/c/README", dir);
	assert_string_equal(g.m[0].source, want);
	assert_string_equal(g.m[0].error,
	                    "no header field at the start: not a message");
	snprintf(want, sizeof want, "%s/c/m.dat", dir);
	assert_msg(&g.m[1], want, 0, 0, "Subject: a message after all\n\n");
	snprintf(want, sizeof want, "%s/c/x.mbox", dir);
	assert_msg(&g.m[2], want, 0, 3, "Subject: one\n\n");
	assert_msg(&g.m[3], want, 1, 25, "Subject: two\n");
	snprintf(want, sizeof want, "%s/c/y.eml", dir);
	assert_msg(&g.m[4], want, 0, 2, "Subject: y\n\nbody\n");
	assert_string_equal(g.m[5].source, cmds);
	assert_non_null(g.m[5].error);
	release(&g);
}

/* A file ending without a final newline after the header section (a
 * hand-made or concatenated mbox): the last message is read as if the
 * newline were there, its size the file's bytes. A file ending in the
 * header section, inside a line of it or not, is truncated: an error
 * with the message's position. */
static void truncated(void **state)
{
	(void)state;
	const char *p = puts_("trunc", "From a\nSubject: ok\n\nfine\n\n"
	                      "From b\nSubject: cut\n\nhalf a li");
	const char *q = puts_("trunc2", "From a\nSubject: no body yet\n");
	const char *r = puts_("trunc3", "From a\nSubject: ok\n\nfine\n\n"
	                      "From b\nSubject: cut in the hea");
	const char *paths[] = { p, q, r };
	struct got g;
	collect(paths, 3, 0, &g);
	assert_int_equal(g.n, 5);
	assert_msg(&g.m[0], p, 0, 0, "Subject: ok\n\nfine\n");
	assert_msg(&g.m[1], p, 1, 26, "Subject: cut\n\nhalf a li\n");
	assert_int_equal(g.m[1].size, strlen("Subject: cut\n\nhalf a li"));
	assert_error(&g.m[2], q, 0, "truncated: the file ends in the header");
	assert_msg(&g.m[3], r, 0, 0, "Subject: ok\n\nfine\n");
	assert_error(&g.m[4], r, 1, "truncated: the file ends in the header");
	assert_int_equal(g.m[4].offset, 26);
	release(&g);
	/* standard input likewise (not seekable) */
	FILE *in = freopen(p, "rb", stdin);
	assert_non_null(in);
	const char *dash = "-";
	collect(&dash, 1, 0, &g);
	assert_int_equal(g.n, 2);
	assert_msg(&g.m[1], "-", 1, 26, "Subject: cut\n\nhalf a li\n");
	release(&g);
}

/* After an empty line, a "From " line separates messages only when it
 * is a whole From_ line or a header field follows it: a paragraph
 * "From the desk of ..." stays in the body (mboxo writers leave it
 * unquoted), a From_ line with another date form still separates, and
 * so does a bare "From x" before a header. The line read ahead is not
 * lost either way. */
static void mbox_from_in_body(void **state)
{
	(void)state;
	const char text[] =
		"From a@example.com Mon Jan  1 00:00:00 2024\n"
		"From: a@example.com\nSubject: s\n\nHello,\n\n"
		"From the desk of the CEO: we are great.\nBye\n\n"
		"From the desk again\n\n"
		"From b@example.com Wed, 3 Jan 2024 10:00:00 +0000\n"
		"Subject : two\n\nbody two\n\n"
		"From x\nReceived: by x\n\nthree\n\n"
		"From the end";
	const char *p = puts_("desk", text);
	struct got g;
	collect(&p, 1, 0, &g);
	assert_int_equal(g.n, 3);
	assert_msg(&g.m[0], p, 0, 0,
	           "From: a@example.com\nSubject: s\n\nHello,\n\n"
	           "From the desk of the CEO: we are great.\nBye\n\n"
	           "From the desk again\n");
	assert_msg(&g.m[1], p, 1, (uint64_t)(strstr(text, "From b@") - text),
	           "Subject : two\n\nbody two\n");
	assert_msg(&g.m[2], p, 2, (uint64_t)(strstr(text, "From x") - text),
	           "Received: by x\n\nthree\n\nFrom the end\n");
	release(&g);
}

/* Unreadable paths, binary data and oversized messages are errors of
 * their own; the run goes on. */
static void unreadable_and_garbage(void **state)
{
	(void)state;
	char missing[128];
	snprintf(missing, sizeof missing, "%s/does-not-exist", dir);
	char bin[4096];
	memset(bin, 0, sizeof bin);
	memcpy(bin, "Subject: x\n", 11);   /* NULs in the header section */
	const char *b = put("bin", bin, sizeof bin);
	const char *t = puts_("text", "just some text\nwithout headers\n");
	const char *big = puts_("big", "From a\nSubject: big\n\n"
	                        "0123456789012345678901234567890123456789\n\n"
	                        "From b\nSubject: small\n\n");
	const char *locked = puts_("locked", "Subject: locked\n\n");
	assert_int_equal(chmod(locked, 0), 0);
	const char *ok = puts_("ok", "Subject: ok\n\n");
	const char *gz = put("x.mbox.gz", "\x1f\x8b\x08\x00\x00\x00", 6);
	const char *paths[] = { missing, b, t, big, locked, ok, gz };
	struct got g;
	collect(paths, 7, 48, &g);
	assert_int_equal(g.n, 8);
	assert_error(&g.m[7], gz, 0, "corrupt or truncated gzip data");
	assert_error(&g.m[0], missing, 0, "No such file");
	assert_error(&g.m[1], b, 0, "binary");
	assert_error(&g.m[2], t, 0, "not a message");
	assert_error(&g.m[3], big, 0, "larger than 48");
	assert_msg(&g.m[4], big, 1, 63, "Subject: small\n");
	if (geteuid() == 0)   /* root reads it anyway */
		assert_msg(&g.m[5], locked, 0, 0, "Subject: locked\n\n");
	else
		assert_error(&g.m[5], locked, 0, "Permission denied");
	assert_msg(&g.m[6], ok, 0, 0, "Subject: ok\n\n");
	assert_true(g.m[0].whole);    /* the path, not a message in it */
	assert_false(g.m[2].whole);
	release(&g);
}

/* A NUL byte in a header field is no reason to refuse a message
 * (SpamAssassin scans it; an MTA passes it to a milter): the message is
 * given as it is. Binary data stays an error. */
static void nul_in_header(void **state)
{
	(void)state;
	static const char text[] = "Subject: a\0b\nX-Fold: c\n\td\0e\n\n"
	                           "a body of some length, so that the two "
	                           "NUL bytes are fewer than one in 64 of the "
	                           "message's bytes, as in mail\n";
	const char *p = put("hdrnul", text, sizeof text - 1);
	const char *paths[] = { p };
	struct got g;
	collect(paths, 1, 4096, &g);
	assert_int_equal(g.n, 1);
	assert_null(g.m[0].error);
	assert_int_equal(g.m[0].len, sizeof text - 1);
	assert_memory_equal(g.m[0].data, text, sizeof text - 1);
	release(&g);
	/* nor are NULs in the body: 8-bit UTF-16 text (SpamAssassin scans
	 * it, an MTA passes it on), nor a Subject stuffed with them before
	 * a short body (audit20 L1); a header section or a first line
	 * mostly NUL (a tar file) is binary data */
	char stuffed[128] = "From: a@b.example\nSubject: x";
	size_t sl = strlen(stuffed);
	memset(stuffed + sl, 0, 40);
	memcpy(stuffed + sl + 40, "\n\nhi\n", 5);
	const char *st = put("stuffed", stuffed, sl + 45);
	collect(&st, 1, 4096, &g);
	assert_null(g.m[0].error);
	release(&g);
	/* a header-only message with a NUL run in a field (spamd: 6.4) */
	char hdronly[600] = "From: a@b.example\nSubject: hi\nX-Bin: ";
	size_t hl = strlen(hdronly);
	memset(hdronly + hl, 0, 400);
	hdronly[hl + 400] = '\n';
	st = put("hdronly", hdronly, hl + 401);
	collect(&st, 1, 4096, &g);
	assert_null(g.m[0].error);
	release(&g);
	char u16[2048];
	memcpy(u16, "Subject: u\n\n", 13);
	for (size_t i = 13; i + 1 < sizeof u16; i += 2)
		u16[i] = 'a', u16[i + 1] = '\0';
	char tar[600];
	memset(tar, 0, sizeof tar);
	memcpy(tar, "cur-1.eml", 9);   /* no field name: binary data */
	memcpy(tar + 512, "Subject: t\n\nbody\n", 18);
	/* an archive is named as one (audit20 H3: a corpus's tar, however
	 * large, was one message), a zip file too */
	char ustar[4096];
	memset(ustar, 'x', sizeof ustar);
	memset(ustar, 0, 512);
	memcpy(ustar, "spam.mbox", 9);
	memcpy(ustar + 257, "ustar", 6);
	memcpy(ustar + 512, "From a\nSubject: t\n\n", 20);
	/* a v7 tar (no magic; a maildir name reads as a field), told by
	 * its header checksum, and a binary cpio (audit21 L2) */
	char v7[1024];
	memset(v7, 0, sizeof v7);
	memcpy(v7, "0.host:2,S", 10);
	memset(v7 + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t k = 0; k < 512; k++)
		sum += (unsigned char)v7[k];
	snprintf(v7 + 148, 8, "%06o", sum);
	memcpy(v7 + 512, "Subject: t\n\nbody\n", 18);
	const char *more[] = { put("v7.tar", v7, sizeof v7),
	                       put("b.cpio", "\xc7\x71\x08\x00Subject: x\n\n", 17) };
	collect(more, 2, 1 << 20, &g);
	assert_error(&g.m[0], more[0], 0, "tar archive, not a message");
	assert_error(&g.m[1], more[1], 0, "cpio archive, not a message");
	release(&g);
	const char *paths2[] = { put("u16", u16, sizeof u16 - 1),
	                         put("tar", tar, sizeof tar),
	                         put("c.tar", ustar, sizeof ustar),
	                         put("c.zip", "PK\x03\x04\x14\0\0\0", 8),
	                         puts_("c.cpio", "070701000a\nSubject: x\n\n") };
	collect(paths2, 5, 1 << 20, &g);
	assert_int_equal(g.n, 5);
	assert_error(&g.m[4], paths2[4], 0, "cpio archive, not a message");
	assert_null(g.m[0].error);
	assert_int_equal(g.m[0].len, sizeof u16 - 1);
	assert_error(&g.m[1], paths2[1], 0, "binary data");
	assert_error(&g.m[2], paths2[2], 0, "tar archive, not a message");
	assert_error(&g.m[3], paths2[3], 0, "zip archive, not a message");
	release(&g);
	/* an lz4 frame stores its first block as text: its fields follow a
	 * line of binary bytes (audit22 H1: an .mbox.lz4 was one message);
	 * a message whose first field starts like a magic is one */
	static const char lz4[] = "\x04\x22\x4d\x18\x64\x40\xa7\xff\x00\x00"
	                          "\x00From a@b Mon Nov 23 10:00:00 2026\n"
	                          "From: a@b.example\nSubject: x\n\nhi\n";
	const char *paths3[] = { put("c.mbox.lz4", lz4, sizeof lz4 - 1),
	                         put("skip.lz4", "\x5a\x2a\x4d\x18\x04\0\0\0"
	                             "abcd\nSubject: x\n\nhi\n", 26),
	                         puts_("c.lz", "LZIP\x01\nSubject: x\n\nhi\n"),
	                         puts_("bz", "BZh: 9\nSubject: x\n\nhi\n"),
	                         puts_("c.7z", "7z\xbc\xaf\x27\x1c\nSubject: x\n\n") };
	collect(paths3, 5, 1 << 20, &g);
	assert_int_equal(g.n, 5);
	assert_error(&g.m[0], paths3[0], 0, "lz4-compressed data, not a message");
	assert_error(&g.m[1], paths3[1], 0, "lz4-compressed data, not a message");
	assert_error(&g.m[2], paths3[2], 0, "lzip-compressed data, not a message");
	assert_null(g.m[3].error);
	assert_error(&g.m[4], paths3[4], 0, "7z archive, not a message");
	release(&g);
}

/* Apple Mail's .emlx: the length line and the property list after the
 * message are not the message; an .emlx file without the length line is
 * a message file as any other. */
static void apple_emlx(void **state)
{
	(void)state;
	static const char msg[] = "Subject: x\n\nbody\n";
	static const char text[] = "17        \nSubject: x\n\nbody\n"
	                           "<?xml version=\"1.0\"?>\n<plist>\n</plist>\n";
	const char *p = puts_("1.emlx", text);
	const char *q = puts_("2.partial.emlx", msg);
	const char *paths[] = { p, q };
	struct got g;
	collect(paths, 2, 4096, &g);
	assert_int_equal(g.n, 2);
	assert_msg(&g.m[0], p, 0, 11, msg);
	assert_int_equal(g.m[0].size, sizeof msg - 1);
	assert_msg(&g.m[1], q, 0, 0, msg);
	release(&g);
}

/* A byte order mark before a file's first line is skipped (the offsets
 * stay the file's); a first header with blanks before its colon (RFC
 * 5322's obsolete syntax) starts a message, and so does one after up to
 * three lines that are not headers (msg_field_line()). */
static void bom_and_obsolete_header(void **state)
{
	(void)state;
	const char *e = puts_("bom.eml", "\xef\xbb\xbfSubject: a\n\nx\n");
	const char *m = puts_("bom.mbox", "\xef\xbb\xbf" "From a\nSubject: b\n\n"
	                      "From b\nSubject: c\n\n");
	const char *o = puts_("obs.eml", "Subject : d\n\ny\n");
	const char *j3 = puts_("j3.eml", "j1\nj2\nj3\nSubject: e\n\n");
	const char *j4 = puts_("j4.eml", "j1\nj2\nj3\nj4\nSubject: e\n\n");
	const char *paths[] = { e, m, o, j3, j4 };
	struct got g;
	collect(paths, 5, 0, &g);
	assert_int_equal(g.n, 6);
	assert_msg(&g.m[4], j3, 0, 0, "j1\nj2\nj3\nSubject: e\n\n");
	assert_error(&g.m[5], j4, 0, "not a message");
	assert_msg(&g.m[0], e, 0, 0, "Subject: a\n\nx\n");
	assert_msg(&g.m[1], m, 0, 0, "Subject: b\n");
	assert_msg(&g.m[2], m, 1, 22, "Subject: c\n");
	assert_msg(&g.m[3], o, 0, 0, "Subject : d\n\ny\n");
	release(&g);
}

/* Symlinks back to a directory being walked are skipped: with two of
 * them the walk used to multiply at every level (2^32 paths). A FIFO
 * in a directory is skipped (opening it waited forever). */
static void symlink_loop(void **state)
{
	(void)state;
	sub("loop");
	sub("loop/a");
	puts_("loop/a/m.eml", "Subject: m\n\n");
	char p[256], path[128];
	snprintf(p, sizeof p, "%s/loop/a/self", dir);
	assert_int_equal(symlink(".", p), 0);
	snprintf(p, sizeof p, "%s/loop/a/up", dir);
	assert_int_equal(symlink("..", p), 0);
	snprintf(p, sizeof p, "%s/loop/a/pipe", dir);   /* skipped: no hang */
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(path, sizeof path, "%s/loop", dir);
	const char *paths[] = { path };
	struct got g;
	collect(paths, 1, 0, &g);
	assert_int_equal(g.n, 1);
	snprintf(p, sizeof p, "%s/loop/a/m.eml", dir);
	assert_msg(&g.m[0], p, 0, 0, "Subject: m\n\n");
	release(&g);
}

/* An empty file (an empty mbox) holds no message; a directory given with
 * a trailing slash gives clean paths; every message says which of the
 * paths given it came from; a file given twice is read once, and so is
 * it under another name (a hard link), given or found in a walk. */
static void empty_slash_arg(void **state)
{
	(void)state;
	const char *e = puts_("empty.mbox", "");
	sub("md");
	sub("md/cur");
	puts_("md/cur/1:2,S", "Subject: one\n\n");
	char md[128], want[160];
	snprintf(md, sizeof md, "%s/md/", dir);
	const char *one = puts_("one.eml", "Subject: x\n\n");
	char hard[128];
	snprintf(hard, sizeof hard, "%s/hard.eml", dir);
	assert_int_equal(link(one, hard), 0);
	sub("hl");
	char inwalk[128];
	snprintf(inwalk, sizeof inwalk, "%s/hl/again.eml", dir);
	assert_int_equal(link(one, inwalk), 0);
	puts_("hl/other.eml", "Subject: other\n\n");
	const char *x1 = puts_("hl/x1.eml", "Subject: x1\n\n");
	char x2[128], hl[128];
	snprintf(x2, sizeof x2, "%s/hl/x2.eml", dir);
	assert_int_equal(link(x1, x2), 0);
	snprintf(hl, sizeof hl, "%s/hl", dir);
	const char *paths[] = { e, md, one, one, hard, hl };
	struct got g;
	collect(paths, 6, 0, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.m[2].arg, 5);
	snprintf(want, sizeof want, "%s/hl/other.eml", dir);
	assert_string_equal(g.m[2].source, want);
	assert_string_equal(g.m[3].source, x1);
	snprintf(want, sizeof want, "%s/md/cur/1:2,S", dir);
	assert_msg(&g.m[0], want, 0, 0, "Subject: one\n\n");
	assert_int_equal(g.m[0].arg, 1);
	assert_int_equal(g.m[1].arg, 2);
	assert_int_equal(g.m[1].size, 12);
	release(&g);
}

/* A maildir's folders (Maildir++ ".Junk", LAYOUT=fs "Archive") are not
 * walked, and the notice callback names them; so does it an empty file.
 * A folder given as a path is scanned, and not named (audit25 L5). */
struct notices {
	char text[8][256];
	size_t n;
};

static void on_notice(void *arg, const char *path, const char *what)
{
	struct notices *ns = arg;
	assert_true(ns->n < 8);
	snprintf(ns->text[ns->n++], sizeof ns->text[0], "%s: %s", path, what);
}

/* The messages of paths[0..n), the notices into ns. */
static size_t walk_noting(const char *const *paths, size_t n,
                          struct notices *ns)
{
	struct corpus *c = corpus_open(paths, n, 0);
	assert_non_null(c);
	corpus_on_notice(c, on_notice, ns);
	struct corpus_msg m;
	size_t k = 0;
	for (; corpus_next(c, &m) == 1; k++)
		corpus_msg_clear(&m);
	corpus_close(c);
	return k;
}

static void maildir_folders(void **state)
{
	(void)state;
	sub("mf");
	sub("mf/cur");
	sub("mf/new");
	sub("mf/.Junk");
	sub("mf/.Junk/cur");
	sub("mf/Archive");
	sub("mf/Archive/new");
	sub("mf/.notafolder");
	puts_("mf/cur/1:2,S", "Subject: inbox\n\n");
	puts_("mf/.Junk/cur/2:2,S", "Subject: junk\n\n");
	puts_("mf/Archive/new/3", "Subject: archived\n\n");
	puts_("mf/dovecot-uidlist", "3 V1 2\n");
	puts_("mf/maildirsize", "0S\n");
	puts_("mf/courierimapuiddb", "1 2\n");
	puts_("mf/.uidvalidity", "1\n");
	sub("mf/tmp");
	puts_("mf/notes.eml", "Subject: on the top\n\n");   /* named */
	sub("mf/old");
	puts_("mf/old/4", "Subject: old\n\n");
	const char *e = puts_("mf-empty.eml", "");
	char md[128], junk[128];
	snprintf(md, sizeof md, "%s/mf", dir);
	snprintf(junk, sizeof junk, "%s/mf/.Junk", dir);
	const char *paths[] = { md, e, junk };
	/* the progress total: what is read (cur/, new/), nothing else */
	assert_int_equal(corpus_bytes(paths, 1), strlen("Subject: inbox\n\n"));
	struct notices ns = { .n = 0 };
	struct corpus *c = corpus_open(paths, 3, 0);
	assert_non_null(c);
	corpus_on_notice(c, on_notice, &ns);
	struct corpus_msg m;
	size_t n = 0;
	const char *want[] = { "Subject: inbox\n\n", "Subject: junk\n\n" };
	while (corpus_next(c, &m) == 1) {
		assert_true(n < 2);
		assert_non_null(m.data);
		assert_string_equal(m.data, want[n++]);
		corpus_msg_clear(&m);
	}
	corpus_close(c);
	assert_int_equal(n, 2);
	assert_int_equal(ns.n, 4);
	char exp[256];
	static const char stray[] = "in a maildir but not in its cur/ or new/: "
	                            "not read (give it as a path to scan it)";
	snprintf(exp, sizeof exp, "%s/notes.eml: %s", md, stray);
	assert_string_equal(ns.text[0], exp);
	snprintf(exp, sizeof exp, "%s/old: %s", md, stray);
	assert_string_equal(ns.text[1], exp);
	snprintf(exp, sizeof exp, "%s: maildir with 1 folder not scanned: "
	         "Archive (give a folder as a path to scan it)", md);
	assert_string_equal(ns.text[2], exp);
	snprintf(exp, sizeof exp, "%s: empty file, no message in it", e);
	assert_string_equal(ns.text[3], exp);
}

/* audit25 L12, L7: under a directory that is no maildir, dot entries
 * are passed over, but those that are maildir folders are named; a
 * directory given that holds no message is said. */
static void dot_folders_empty_dirs(void **state)
{
	(void)state;
	sub("dd");
	sub("dd/visible");
	sub("dd/.Junk");
	sub("dd/.Junk/cur");
	sub("dd/.hidden");   /* no maildir: quiet */
	puts_("dd/visible/a.eml", "Subject: a\n\n");
	puts_("dd/.Junk/cur/1:2,S", "Subject: junk\n\n");
	sub("de");
	sub("de/sub");
	char d[128], e[128];
	snprintf(d, sizeof d, "%s/dd", dir);
	snprintf(e, sizeof e, "%s/de", dir);
	const char *paths[] = { e, d };
	struct notices ns = { .n = 0 };
	size_t n = walk_noting(paths, 2, &ns);
	assert_int_equal(n, 1);
	assert_int_equal(ns.n, 2);
	char exp[256];
	snprintf(exp, sizeof exp, "%s: directory with no message in it", e);
	assert_string_equal(ns.text[0], exp);
	snprintf(exp, sizeof exp, "%s: 1 maildir folder not scanned (dot "
	         "entries are passed over): .Junk (give a folder as a path to "
	         "scan it)", d);
	assert_string_equal(ns.text[1], exp);
}

/* audit25 L2: a file of the SpamAssassin public corpus (NNNNN.<md5>)
 * is one message after its From_ line, even with a whole From_ line
 * quoted in its body; the offset is where the message starts. */
static void sa_corpus_file(void **state)
{
	(void)state;
	static const char from[] = "From x@example.org  Thu Aug 22 12:36:23 "
	                           "2002\n";
	static const char msg[] = "From: b@example.org\n\nquoted:\n\n"
	                          "From a@example.org  Thu Aug 22 12:36:23 "
	                          "2002\nFrom: a@example.org\n\nhi\n";
	char text[256];
	snprintf(text, sizeof text, "%s%s", from, msg);
	const char *paths[] = {
		puts_("00001.7c53336b37003a9286aba55d2945844c", text),
		puts_("00001.7c53336b37003a9286aba55d2945844", text),  /* 31 */
	};
	struct corpus *c = corpus_open(paths, 2, 0);
	assert_non_null(c);
	struct corpus_msg m;
	assert_int_equal(corpus_next(c, &m), 1);
	assert_string_equal(m.data, msg);
	assert_false(m.mbox);
	assert_int_equal(m.offset, strlen(from));
	corpus_msg_clear(&m);
	size_t n = 0;   /* not that name: an mbox of two */
	for (; corpus_next(c, &m) == 1; n++) {
		assert_true(m.mbox);
		corpus_msg_clear(&m);
	}
	corpus_close(c);
	assert_int_equal(n, 2);
}

/* Past the first five entries a maildir leaves out, one line counts
 * the rest. */
static void maildir_strays(void **state)
{
	(void)state;
	sub("ms");
	sub("ms/new");
	puts_("ms/new/1", "Subject: new\n\n");
	for (int i = 0; i < 7; i++) {
		char name[32];
		snprintf(name, sizeof name, "ms/%d.eml", i);
		puts_(name, "Subject: top\n\n");
	}
	char md[128];
	snprintf(md, sizeof md, "%s/ms/", dir);
	const char *paths[] = { md };
	struct notices ns = { .n = 0 };
	size_t n = walk_noting(paths, 1, &ns);
	assert_int_equal(n, 1);
	assert_int_equal(ns.n, 6);
	char exp[256];
	snprintf(exp, sizeof exp, "%s4.eml: in a maildir", md);   /* no "//" */
	assert_memory_equal(ns.text[4], exp, strlen(exp));
	snprintf(exp, sizeof exp, "%s: maildir with 2 more entries not in its "
	         "cur/ or new/: not read", md);
	assert_string_equal(ns.text[5], exp);
}

/* Each file read once whatever links lead to it: a link to a file read
 * before, a file a link led to before, a directory reached through a
 * link and then given, a file given in it; each left out is said,
 * naming the path it was read by. */
static void read_once(void **state)
{
	(void)state;
	sub("sl");
	sub("sl/sub2");
	sub("real");
	puts_("sl/a.eml", "Subject: a\n\n");
	puts_("sl/z.eml", "Subject: z\n\n");
	const char *m = puts_("real/m.eml", "Subject: m\n\n");
	static const char *const links[][2] = {
		{ "../a.eml", "sl/sub2/a-link.eml" },   /* read before */
		{ "z.eml", "sl/b-link.eml" },           /* read first */
		{ "../real", "sl/linked" },
		{ "linked/m.eml", "sl/zz-link.eml" },   /* in a walk done */
	};
	for (size_t i = 0; i < 4; i++) {
		char p[256];
		snprintf(p, sizeof p, "%s/%s", dir, links[i][1]);
		assert_int_equal(symlink(links[i][0], p), 0);
	}
	char sl[128], real[128];
	snprintf(sl, sizeof sl, "%s/sl", dir);
	snprintf(real, sizeof real, "%s/real", dir);
	const char *paths[] = { sl, real, m };
	struct notices ns = { .n = 0 };
	struct corpus *c = corpus_open(paths, 3, 0);
	assert_non_null(c);
	corpus_on_notice(c, on_notice, &ns);
	struct corpus_msg msg;
	const char *want[] = { "sl/a.eml", "sl/b-link.eml", "sl/linked/m.eml" };
	size_t n = 0;
	for (; corpus_next(c, &msg) == 1; n++) {
		assert_true(n < 3);
		assert_non_null(msg.data);
		assert_string_equal(msg.source + strlen(dir) + 1, want[n]);
		corpus_msg_clear(&msg);
	}
	corpus_close(c);
	assert_int_equal(n, 3);
	static const char *const said[][3] = {
		{ "sl/sub2/a-link.eml", "file", "sl/a.eml" },
		{ "sl/z.eml", "file", "sl/b-link.eml" },
		{ "sl/zz-link.eml", "file", "sl/linked/m.eml" },
		{ "real", "directory", "sl/linked" },
		{ "real/m.eml", "file", "sl/linked/m.eml" },
	};
	assert_int_equal(ns.n, 5);
	for (size_t i = 0; i < 5; i++) {
		char exp[256];
		snprintf(exp, sizeof exp, "%s/%s: the same %s as %s/%s, read once",
		         dir, said[i][0], said[i][1], dir, said[i][2]);
		assert_string_equal(ns.text[i], exp);
	}
}

/* corpus_bytes() follows symbolic links and counts what links reach
 * again once, as the walk reads it: a directory of links to the corpus
 * (a subset made with ln -s) has the corpus' size. */
static void bytes_through_links(void **state)
{
	(void)state;
	sub("data");
	sub("subset");
	puts_("data/a.eml", "Subject: a\n\n");      /* 12 bytes */
	const char *b = puts_("data/b.eml", "Subject: bb\n\n");   /* 13 */
	char p[256], bh[256];
	snprintf(bh, sizeof bh, "%s/data/b-hard.eml", dir);
	assert_int_equal(link(b, bh), 0);
	snprintf(p, sizeof p, "%s/subset/a.eml", dir);
	assert_int_equal(symlink("../data/a.eml", p), 0);
	snprintf(p, sizeof p, "%s/subset/data", dir);
	assert_int_equal(symlink("../data", p), 0);
	char subset[128], data[128];
	snprintf(subset, sizeof subset, "%s/subset", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	const char *one[] = { subset };
	assert_int_equal(corpus_bytes(one, 1), 12 + 13);
	const char *both[] = { subset, data, subset };
	assert_int_equal(corpus_bytes(both, 3), 12 + 13);
}

/* A corpus of paths[0..n) bounded to 32 bytes a message, heads kept. */
static struct corpus *open_heads(const char *const *paths, size_t n)
{
	struct corpus *c = corpus_open(paths, n, 32);
	assert_non_null(c);
	corpus_keep_head(c);
	return c;
}

/* The next message is a head of 32 bytes of a message of size bytes
 * (0: a size not checked). */
static void assert_head(struct corpus *c, struct corpus_msg *m,
                        uint64_t size)
{
	assert_int_equal(corpus_next(c, m), 1);
	assert_null(m->error);
	assert_int_equal(m->len, 32);
	if (size > 0)
		assert_int_equal(m->size, size);
}

/* corpus_keep_head(): an oversized message comes back cut to max_msg
 * bytes with its full size, and the next message is read as usual. */
static void keep_head(void **state)
{
	(void)state;
	const char *big = puts_("big", "From a\nSubject: big\n\n"
	                        "0123456789012345678901234567890123456789\n\n"
	                        "From b\nSubject: small\n\n");
	const char *paths[] = { big };
	struct corpus *c = open_heads(paths, 1);
	struct corpus_msg m;
	assert_head(c, &m, 55);
	assert_memory_equal(m.data, "Subject: big\n\n012345678901234567", 32);
	corpus_msg_clear(&m);
	assert_int_equal(corpus_next(c, &m), 1);
	assert_msg(&m, big, 1, 63, "Subject: small\n");
	assert_int_equal(m.size, m.len);
	corpus_msg_clear(&m);
	assert_int_equal(corpus_next(c, &m), 0);
	corpus_close(c);
}

/* A message file past the bound is not read further: a regular file's
 * size comes from the file system, a pipe's is only a lower bound. */
static void file_bound(void **state)
{
	(void)state;
	const char *text = "Subject: big\n\n"
	                   "0123456789012345678901234567890123456789\n";
	const char *paths[] = { puts_("big.eml", text), NULL };
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	char fdpath[32];
	snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fds[0]);
	paths[1] = fdpath;
	struct corpus *c = open_heads(paths, 2);
	struct corpus_msg m;
	assert_head(c, &m, strlen(text));
	assert_false(m.size_unknown);
	assert_int_equal(m.read_bytes, strlen(text));
	corpus_msg_clear(&m);
	assert_head(c, &m, 0);
	assert_true(m.size_unknown);
	assert_true(m.size >= 32);
	corpus_msg_clear(&m);
	assert_int_equal(corpus_next(c, &m), 0);
	corpus_close(c);
	close(fds[0]);
}

/* corpus_stop_when(): stop() is asked before each piece read; the
 * message being read when it says stop comes back cut, with an error,
 * and nothing more is read. */
static int stop_in;   /* pieces left before stop_now() says stop; <0 never */

static int stop_now(void)
{
	return stop_in >= 0 && stop_in-- == 0;
}

static void stop_reading(void **state)
{
	(void)state;
	const char *mbox = puts_("s.mbox", "From a\nSubject: one\n\nx\n\n"
	                         "From b\nSubject: two\n\n1\n2\n3\n4\n5\n6\n\n"
	                         "From c\nSubject: three\n\ny\n");
	struct corpus *c = corpus_open(&mbox, 1, 0);
	assert_non_null(c);
	stop_in = -1;
	corpus_stop_when(c, stop_now, -1);
	struct corpus_msg m;
	assert_int_equal(corpus_next(c, &m), 1);
	assert_msg(&m, mbox, 0, 0, "Subject: one\n\nx\n");
	corpus_msg_clear(&m);
	stop_in = 5;   /* next_message()'s question, then four lines read */
	assert_int_equal(corpus_next(c, &m), 1);
	assert_non_null(m.error);
	assert_string_equal(m.error, "reading interrupted after 18 bytes of "
	                    "it: not scanned");
	assert_int_equal(m.index, 1);
	corpus_msg_clear(&m);
	assert_int_equal(corpus_next(c, &m), 0);
	corpus_close(c);
}

/* A read that waits for input (a FIFO whose writer holds it open and
 * writes no more) ends once the wake descriptor turns readable, as when
 * a signal comes during the wait: here the "signal" comes with the
 * question before that read, which stop_woken() still answers "go on". */
static int wake[2];
static int wake_in;   /* questions before the "signal" */

static int stop_woken(void)
{
	if (wake_in < 0)
		return 1;
	if (wake_in-- == 0)
		assert_int_equal(write(wake[1], "", 1), 1);
	return 0;
}

/* path (a FIFO) holding text, its writer kept open: the message read
 * when the wait ends, which must be the nth (index) and cut. */
static void read_woken(const char *path, const char *text, int questions,
                       size_t index, const char *error)
{
	int w = open(path, O_RDWR);   /* a writer that writes no more */
	assert_true(w >= 0);
	assert_int_equal(write(w, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(pipe(wake), 0);
	struct corpus *c = corpus_open(&path, 1, 0);
	assert_non_null(c);
	wake_in = questions;
	corpus_stop_when(c, stop_woken, wake[0]);
	struct corpus_msg m;
	for (size_t i = 0; i < index; i++) {   /* the whole ones before */
		assert_int_equal(corpus_next(c, &m), 1);
		assert_null(m.error);
		corpus_msg_clear(&m);
	}
	assert_int_equal(corpus_next(c, &m), 1);
	assert_non_null(m.error);
	assert_string_equal(m.error, error);
	assert_int_equal(m.index, index);
	corpus_msg_clear(&m);
	assert_int_equal(corpus_next(c, &m), 0);
	corpus_close(c);
	close(w);
	close(wake[0]);
	close(wake[1]);
}

static void stop_waiting_read(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof p, "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* a message file: next_message()'s question, its first line, then
	 * the read of its rest waits */
	read_woken(p, "Subject: one\n", 2, 0,
	           "reading interrupted after 13 bytes of it: not scanned");
	/* an mbox: the first message ends at the second's From_ line, whose
	 * next line is read, then the next read waits */
	read_woken(p, "From a\nSubject: one\n\nx\n\nFrom b\nSubject: two\n",
	           9, 1, "reading interrupted after 13 bytes of it: not scanned");
}

/* A FIFO that no writer has opened: corpus_next() does not wait in
 * open(2) but says it waits for a writer, in a notice; what the notice
 * callback then does (this test's writer) plays the writer or the
 * signal: the wake descriptor ends the wait, a writer's text is read
 * whole, a writer that closes without writing leaves an empty input. */
enum fifo_act { FIFO_WAKE, FIFO_WRITE, FIFO_CLOSE };
struct fifo_play {
	const char *path;
	enum fifo_act act;
	int wake;      /* FIFO_WAKE: its write end */
	size_t said;   /* "waiting for one" notices */
	char last[512];
};

static int fifo_stopped;   /* the "signal" came */

static int stop_fifo(void)
{
	return fifo_stopped;
}

static void fifo_notice(void *arg, const char *path, const char *what)
{
	struct fifo_play *f = arg;
	snprintf(f->last, sizeof f->last, "%s: %s", path, what);
	if (strstr(what, "waiting for one") == NULL)
		return;
	f->said++;
	if (f->act == FIFO_WAKE) {   /* as the signal handler does */
		fifo_stopped = 1;
		assert_int_equal(write(f->wake, "", 1), 1);
		return;
	}
	/* a reader is there: the writer's open does not wait */
	int w = open(f->path, O_WRONLY | O_NONBLOCK);
	assert_true(w >= 0);
	if (f->act == FIFO_WRITE)
		assert_int_equal(write(w, "Subject: late\n\nhi\n", 18), 18);
	close(w);
}

/* corpus_next() over the FIFO p with play's act; its result, m filled. */
static int next_of_fifo(const char *p, struct fifo_play *play,
                        struct corpus_msg *m)
{
	int pw[2];
	assert_int_equal(pipe(pw), 0);
	play->path = p;
	play->wake = pw[1];
	struct corpus *c = corpus_open(&p, 1, 0);
	assert_non_null(c);
	fifo_stopped = 0;
	corpus_stop_when(c, stop_fifo, pw[0]);
	corpus_on_notice(c, fifo_notice, play);
	int r = corpus_next(c, m);
	if (r == 1)   /* nothing after it */
		assert_int_equal(corpus_next(c, &(struct corpus_msg){ 0 }), 0);
	corpus_close(c);
	close(pw[0]);
	close(pw[1]);
	return r;
}

static void fifo_without_writer(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof p, "%s/nowriter", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	char said[512];
	snprintf(said, sizeof said, "%s: a FIFO no writer has opened yet: "
	         "waiting for one", p);
	struct corpus_msg m;

	struct fifo_play woken = { .act = FIFO_WAKE };
	assert_int_equal(next_of_fifo(p, &woken, &m), 1);
	assert_int_equal(woken.said, 1);
	assert_string_equal(woken.last, said);
	assert_non_null(m.error);
	assert_string_equal(m.error, "reading interrupted before its first "
	                    "message");
	corpus_msg_clear(&m);

	struct fifo_play write = { .act = FIFO_WRITE };
	assert_int_equal(next_of_fifo(p, &write, &m), 1);
	assert_int_equal(write.said, 1);
	assert_msg(&m, p, 0, 0, "Subject: late\n\nhi\n");
	corpus_msg_clear(&m);

	struct fifo_play shut = { .act = FIFO_CLOSE };
	assert_int_equal(next_of_fifo(p, &shut, &m), 0);
	assert_int_equal(shut.said, 1);
	char empty[512];
	snprintf(empty, sizeof empty, "%s: empty file, no message in it", p);
	assert_string_equal(shut.last, empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mbox_quoting, setup, teardown),
		cmocka_unit_test_setup_teardown(bytes_through_links, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(companions_blank_lines, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(mbox_no_blank, setup, teardown),
		cmocka_unit_test_setup_teardown(mbox_rfc_date, setup, teardown),
		cmocka_unit_test_setup_teardown(mbox_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(gzip_input, setup, teardown),
		cmocka_unit_test_setup_teardown(maildir, setup, teardown),
		cmocka_unit_test_setup_teardown(directory, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(mbox_from_in_body, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_and_garbage, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(nul_in_header, setup, teardown),
		cmocka_unit_test_setup_teardown(apple_emlx, setup, teardown),
		cmocka_unit_test_setup_teardown(bom_and_obsolete_header, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(symlink_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_slash_arg, setup, teardown),
		cmocka_unit_test_setup_teardown(maildir_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(dot_folders_empty_dirs, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(sa_corpus_file, setup, teardown),
		cmocka_unit_test_setup_teardown(maildir_strays, setup, teardown),
		cmocka_unit_test_setup_teardown(read_once, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_head, setup, teardown),
		cmocka_unit_test_setup_teardown(file_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_waiting_read, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_without_writer, setup,
		                                teardown),
	};
	return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}

/*
 * corpus.h — the messages of mail corpora, one at a time: mbox files
 * (mboxo/mboxrd quoting undone; Content-Length honoured when it agrees
 * with the file; a whole From_ line with an asctime (or RFC 5322) date
 * separates messages anywhere, since writers quote those in bodies, and
 * another
 * "From " line after a blank line when a header field follows it; a
 * file without a final newline ends its last message as if it had
 * one), maildir folders (cur/ then new/; their
 * subfolders, Maildir++ ".Junk" or "Junk", are named, not walked, and
 * so is any other entry of the top but tmp/, dot entries and server
 * state files (dovecot*, courier*, maildirsize, ...)), directories of
 * message files (walked recursively, names sorted, dot files skipped
 * but dot maildir folders named, a directory given that yields nothing
 * named,
 * a symlink back to a directory being walked skipped; each file and
 * directory read once whatever links lead to it, hard links too),
 * single message files (also a file of the SpamAssassin public corpus,
 * NNNNN.<32 hex digits>, after its From_ line), and "-" for standard
 * input; a gzip-compressed regular file is
 * read decompressed (offsets in decompressed bytes, no Content-Length,
 * which would mean decompressing again). A UTF-8 byte order mark before
 * a file's first line is skipped, and so are blank lines before it. An
 * empty file holds no message (corpus_on_notice() lets the caller say
 * so). Files that mail clients and corpora keep beside their messages
 * (cmds, index, *.msf, ...: corpus.c companion_file()), found in a
 * walk, are passed over when they are not messages or not like mail
 * (no From, To, Subject, Date, Message-ID, Received, Return-Path).
 *
 * Streaming: only the current message is in memory, and at most max_msg
 * bytes of it. Every message carries its source file, its 0-based index
 * in that file and the byte offset where it starts (an mbox message at
 * its "From " line). A message that cannot be read (unreadable file,
 * truncated mbox, oversized, binary data) comes back with an error
 * instead of data, and iteration goes on with the next one; with
 * corpus_keep_head(), an oversized message comes back with its first
 * max_msg bytes instead (size tells how large it was). Past max_msg,
 * the rest of an mbox message is read and dropped as read, up to the
 * next From_ line; a message file is not read further (a regular file's
 * size is taken from the file system; from a pipe or a device, which
 * may never end, or through gzip, the size stays unknown: size_unknown).
 */
#ifndef VIGIL_CORPUS_H
#define VIGIL_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORPUS_MAX_MSG_DEFAULT ((size_t)32 << 20)   /* 32 MiB */

struct corpus;

/* One message. Every pointer is malloc'ed and owned by the struct:
 * corpus_msg_clear() frees them. Exactly one of data and error is set. */
struct corpus_msg {
	char *source;     /* path as given or found in a directory */
	size_t arg;       /* index in corpus_open()'s paths it came from */
	size_t index;     /* position in source, from 0 */
	uint64_t offset;  /* byte offset of the message in source */
	char *data;       /* the message (no From_ line, unquoted), NUL-ended */
	size_t len;
	uint64_t size;    /* bytes the message had; > len when cut */
	bool size_unknown;  /* a message file from a pipe, a device or gzip
	                       data, not read past the bound: size is a
	                       lower bound */
	uint64_t read_bytes;  /* bytes of source read for it, separators and
	                         compressed bytes counted as on disk: the
	                         progress done against corpus_bytes() */
	char *error;      /* why the message could not be read */
	bool whole;       /* error is about source itself (cannot open or
	                     list it), not about one message in it */
	bool mbox;        /* one of an mbox's messages (index tells which) */
};

/* Iterate paths[0..n) in order. max_msg 0 means the default. NULL only
 * on allocation failure; unreadable paths are reported by corpus_next. */
struct corpus *corpus_open(const char *const *paths, size_t n,
                           size_t max_msg);
/* Oversized messages: their first max_msg bytes instead of an error. */
void corpus_keep_head(struct corpus *c);
/* Reading stops as soon as stop() returns nonzero (a signal came):
 * checked before each piece read (a line, or 8 KiB of a longer one).
 * The message being read then comes back with an error (cut, not
 * scanned), and corpus_next() returns 0 from then on. wake_fd, when
 * not -1, turns readable once stop() is nonzero (interrupt_wake_fd()):
 * a read of a pipe, a FIFO or a device that waits for input then ends
 * too, as a stop, and a FIFO is opened without waiting for a writer
 * (its first read waits for one instead). The caller keeps wake_fd open
 * and unread. */
void corpus_stop_when(struct corpus *c, int (*stop)(void), int wake_fd);
/* fn(arg, path, what) for what iteration leaves out without an error,
 * so that the caller can say so: an empty file ("empty file, no message
 * in it"), a FIFO that no writer has opened yet, whose reading waits
 * for one ("a FIFO no writer has opened yet: waiting for one", with a
 * wake_fd only), a maildir's folders (what names them), the other entries of
 * a maildir's top that are not read (the first five, then a count), a
 * file or directory read already under another path ("the same file as
 * FIRST, read once"). */
void corpus_on_notice(struct corpus *c,
                      void (*fn)(void *arg, const char *path,
                                 const char *what),
                      void *arg);
/* Fill *m with the next message (data or error): 1; at the end: 0. */
int corpus_next(struct corpus *c, struct corpus_msg *m);
void corpus_msg_clear(struct corpus_msg *m);
/* What messages are called in log lines: "SOURCE", or for one of an
 * mbox's "SOURCE message INDEX at byte OFFSET". malloc'ed; NULL when
 * out of memory. */
char *corpus_msg_name(const struct corpus_msg *m);
void corpus_close(struct corpus *c);
/* Bytes the regular files of paths[0..n) hold on disk, as iteration reads them
 * (directories walked, dot entries and tmp/ aside, symbolic links
 * followed, what links reach again counted once; pipes and unreadable
 * paths count 0): the total for a progress line, an estimate. */
uint64_t corpus_bytes(const char *const *paths, size_t n);
/* Whether the walk of directory dir reaches dir/rel (rel relative, no
 * leading slash): it passes over dot entries, and in a maildir (cur/ or
 * new/ inside) over all but cur/ and new/. Out of memory: false. */
bool corpus_walk_reaches(const char *dir, const char *rel);

#endif

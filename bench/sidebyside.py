#!/usr/bin/python3
"""sidebyside.py: the helper of bench/sidebyside.sh (issue 7). Not a test.

    sidebyside.py split OUTDIR [--max N] [--labels FILE] SOURCE...
        Writes every message of the sources as one file under OUTDIR/ham,
        OUTDIR/spam and writes OUTDIR/list.tsv (path, label, origin:
        FILE, or FILE#N for an mbox's message N). A SOURCE is an mbox,
        a message file, a maildir or a directory of message or mbox
        files; its label comes from the words of its name ("spam",
        "spam_2", "easy_ham", "ham-hard.mbox"); a directory whose name
        has neither stands for its entries that have one (mbox files
        and directories alike; the others are named as skipped).
        --labels FILE adds the files and directories it lists, read as
        `vigil scan --labels FILE` without PATHs reads them (labels.c):
        "PATH LABEL", "LABEL PATH" (TREC's index) or CSV lines, spam/ham
        or 1/0, an optional header line, "#" comments; a relative PATH
        from FILE's directory, from the current directory only when it
        is not there (noted); each file read once, with the label of
        the labelled path nearest to it; a bad line, a path labelled
        both ways or naming nothing stops the split (exit 2).
        Every path is read as `vigil scan` reads it (corpus.c, mirrored
        below): an mbox (a file whose first line starts with "From ")
        has its messages end at a whole From_ line ("From SENDER Www
        Mmm d hh:mm[:ss] [ZONE] yyyy"), or after a blank line (not
        theirs) at a "From " line that a header field follows; lines
        matching ^>+From lose one '>' (mboxrd); a Content-Length header
        is honoured when the byte after that many body bytes is the end
        of the file or a From_ line; a last line without its newline
        gets one; a maildir gives the files of cur/ then new/ (tmp/
        and its folders left out, the folders named); directories are
        walked in name order, dot entries skipped; gzip data is read
        decompressed; a UTF-8 byte order mark before a file's first
        line is skipped, and so are blank lines before it; the files
        mail clients and corpora keep beside their messages (the
        SpamAssassin corpus' "cmds", TREC's "index", Thunderbird's
        ".msf", ...) are passed over in a walk when they are not
        messages. A message vigil cannot use (no
        header field in its first lines; binary data; a truncated mbox; an unreadable
        file: "cannot open: Permission denied") is named as vigil names
        it and left out, and so is one that alone in a file would not be
        read back as itself (its first line another "From " line).
        --max N keeps at most N messages in all, taken evenly (every
        k-th message) from each source and label, so that the ham/spam
        proportion stays. Usage errors exit 2.

    sidebyside.py run TOOL CONC LIST --pids PID[,PID] -- COMMAND...
        Runs one measurement and prints one JSON summary line on stdout.
        TOOL says how COMMAND is driven and read:
          vigil   COMMAND is a `vigil scan ... --format jsonl` over the
                  files (in-process or --milter); per-message ms, score and
                  action come from its output.
          spamc   COMMAND is a spamc command line (-c); it is run once per
                  message, message on stdin, CONC at a time; latency is the
                  wall time of each spamc.
          rspamc  COMMAND is an rspamc command line (--compact -j -n 1);
                  CONC of them run at once, each with every CONC-th
                  message file appended; latency is rspamd's time_real
                  per message.
        While it runs, the RSS (and PSS) of the process trees rooted at
        --pids (or at COMMAND itself with --pids self) is sampled every
        50 ms; the peak of the sum is reported.

    sidebyside.py listeners PID
        Lists the internet sockets that the process tree rooted at PID
        listens on (TCP LISTEN, unconnected UDP) and exits 1 if any of them
        is bound to an address other than loopback.

    sidebyside.py tree PID
        Prints the PIDs of the process tree rooted at PID, one a line.

    sidebyside.py why SA_CACHE VIGIL_JSONL [RULES_DIR]
        Why vigil flags fewer spam than SpamAssassin: SA_CACHE is the
        cache of bench/sa_compare.py (SpamAssassin's own hits per message,
        sa_hits.pl: score set 0, no network, no Bayes; rules-*.json gives
        each rule's type, eval flag, score and meta operands), VIGIL_JSONL
        the output of `vigil scan -c CONF --format jsonl` over the same
        mbox files (rules stage, score set 0). For the spam that
        SpamAssassin flags and vigil does not, the score points of the
        rules SpamAssassin hit and vigil did not are summed by kind (eval:
        Perl code; pseudo-hdr: a header test on X-Spam-Relays-* and the
        like; meta on either; regex: a rule vigil runs but did not hit).

    sidebyside.py table RESULTS.jsonl
        Markdown tables of the summary lines; a tool measured in several
        rounds at one concurrency gets the round of median messages/s.
        Spam recall, ham FP and precision are over the messages each
        tool answered (errors left out, counted by label in the errors
        column), as in vigil scan's evaluation; vigil scan in process
        flags a message whose action is not accept, vigild through
        --milter one whose verdict is flagged; a tempfail is no verdict
        in either (left out of the rates, counted as deferred).
"""
import gzip
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

def die(msg):
    sys.stderr.write("sidebyside: error: %s\n" % msg)
    sys.exit(1)


def say(msg):
    sys.stderr.write("sidebyside: %s\n" % msg)


# ---------------------------------------------------------------- split
#
# The corpus is read as vigil reads it: the functions below mirror
# milter/corpus.c (vigil's reader: mbox rules, maildirs, directory walk,
# the checks that make a message unusable) and milter/labels.c (labels
# files), so that every tool gets the messages `vigil scan` reads, cut
# where vigil cuts them, with the labels `vigil scan --labels` gives.
# Change them together. vigil has no command that writes the messages
# out one per file, hence the copy.

LINE_CHUNK = 8192            # corpus.c: longer lines are read in pieces
MAX_DEPTH = 32               # corpus.c: directory nesting
# vigil scan reads a message up to max_message_size (32M by default, as
# the benchmark's configuration leaves it) plus 1 MiB of header
# (cmd_scanlocal.c); a Content-Length body that does not fit is not used
SCAN_MAX_MSG = (32 << 20) + (1 << 20)
BAD_HEADER_LINES = 3         # msg.h MSG_BAD_HEADER_LINES
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec")
FIELD_RE = re.compile(rb"[!-9;-~]+[ \t]*:")     # msg.h msg_field_line()
QUOTED_FROM_RE = re.compile(rb">+From ")
CLEN_RE = re.compile(rb"(?i)Content-Length:[ \t]*([0-9]{1,15})[ \t\r]*(\n|\Z)")
TIME_RE = re.compile(rb"[0-9]{2}:[0-9]{2}(:[0-9]{2})?")
COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"),
              (b"\xfd7zXZ", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


class Msg:
    """One message as corpus.c's struct corpus_msg: source, arg (which
    of the paths given it came from), index in source, byte offset,
    data or error; whole: the error is about source itself."""
    __slots__ = ("source", "arg", "index", "offset", "data", "error",
                 "whole", "mbox")

    def __init__(self, source, arg, index=0, offset=0, data=None,
                 error=None, whole=False, mbox=False):
        self.source, self.arg, self.index, self.offset = \
            source, arg, index, offset
        self.data, self.error, self.whole, self.mbox = \
            data, error, whole, mbox

    def where(self):
        """As vigil scan names a message it cannot use."""
        if self.whole:
            return self.source
        return "%s: message %d at byte %d" % (self.source, self.index,
                                               self.offset)


def is_blank(p):
    return p in (b"\n", b"\r\n")


def next_word(p, i):
    """corpus.c next_word(): (the blank-separated word at p[i:] after
    blanks, where it ends); a word ends at a blank, CR or LF."""
    n = len(p)
    while i < n and p[i] in b" \t":
        i += 1
    j = i
    while j < n and p[j] not in b" \t\r\n":
        j += 1
    return p[i:j], j


def asctime_date(p, i):
    """corpus.c asctime_date(): "Www Mmm d hh:mm[:ss] [ZONE] yyyy" to
    the end of the line."""
    w, i = next_word(p, i)
    if w.decode("latin-1") not in DAYS:
        return False
    w, i = next_word(p, i)
    if w.decode("latin-1") not in MONTHS:
        return False
    w, i = next_word(p, i)
    if not re.fullmatch(rb"[0-9]{1,2}", w):
        return False
    w, i = next_word(p, i)
    if not TIME_RE.fullmatch(w):
        return False
    for _ in range(2):                          # a zone word allowed
        w, i = next_word(p, i)
        if re.fullmatch(rb"[0-9]{4}", w):
            return next_word(p, i)[0] == b""
    return False


def rfc5322_date(p, i):
    """corpus.c rfc5322_date(): "[Www,] d Mmm yyyy hh:mm[:ss] [ZONE]"
    to the end of the line."""
    w, i = next_word(p, i)
    if len(w) == 4 and w.endswith(b",") and w[:3].decode("latin-1") in DAYS:
        w, i = next_word(p, i)
    if not re.fullmatch(rb"[0-9]{1,2}", w):
        return False
    w, i = next_word(p, i)
    if w.decode("latin-1") not in MONTHS:
        return False
    w, i = next_word(p, i)
    if not re.fullmatch(rb"[0-9]{4}", w):
        return False
    w, i = next_word(p, i)
    if not TIME_RE.fullmatch(w):
        return False
    w, i = next_word(p, i)
    if not re.fullmatch(rb"|[+-][0-9]{4}|[A-Za-z]{1,5}", w):
        return False
    return next_word(p, i)[0] == b""


def is_from_separator(p):
    """corpus.c is_from_separator(): a whole From_ line, "From SENDER
    DATE", the date asctime or RFC 5322's, separates messages even
    without a blank line before it."""
    if not p.startswith(b"From "):
        return False
    w, i = next_word(p, 5)
    if not w:                                   # the sender
        return False
    return asctime_date(p, i) or rfc5322_date(p, i)


def separates_after_blank(rd, p):
    """corpus.c separates_after_blank(): after a blank line, a "From "
    line separates when it is a whole From_ line or a header field
    follows it ("From the desk of ..." opening a paragraph does not)."""
    return p.startswith(b"From ") and (
        is_from_separator(p) or (p.endswith(b"\n") and rd.next_is_field()))


def content_length(p):
    """corpus.c content_length(): "Content-Length: 1234", or -1."""
    m = CLEN_RE.match(p)
    return int(m.group(1)) if m else -1


def starts_with_header(p):
    """corpus.c starts_with_header(): a header field within the first
    lines, as many as msg_field_line() passes over."""
    for _ in range(BAD_HEADER_LINES + 1):
        if not p:
            return False
        if p.startswith(b"\n") or p.startswith(b"\r\n"):
            return False                # the header section ended
        nl = p.find(b"\n")
        line = p if nl < 0 else p[:nl]
        if FIELD_RE.match(line):
            return True
        if nl < 0:
            return False
        p = p[nl + 1:]
    return False


def tar_v7_header(b):
    """corpus.c tar_v7_header(): a tar header's checksum holds."""
    if len(b) < 512 or b"\0" not in b[:100]:
        return False
    field = b[148:156].strip(b" \0")
    digits = field.split(b"\0")[0].split(b" ")[0]
    if not digits or any(c not in b"01234567" for c in digits):
        return False
    want = int(digits, 8)
    got = sum(b[:148]) + 8 * 32 + sum(b[156:512])
    return got == want


def header_mostly_nul(b):
    """corpus.c header_mostly_nul(): the lines of the header section
    (up to the first empty line) that are neither a header field nor a
    continuation of one are mostly NUL bytes."""
    i = nul = size = 0
    in_field = False
    while i < len(b):
        nl = b.find(b"\n", i)
        nxt = nl + 1 if nl >= 0 else len(b)
        if nxt - i == 1 or (nxt - i == 2 and b[i:i + 1] == b"\r"):
            break
        in_field = bool(FIELD_RE.match(b[i:nxt])) or (
            in_field and b[i:i + 1] in (b" ", b"\t"))
        if not in_field:
            nul += b.count(b"\0", i, nxt)
            size += nxt - i
        i = nxt
    return nul * 2 > size


def check_message(b, total=None):
    """corpus.c check_message(): why vigil cannot use the message, or
    None; total: the bytes the file had for it (the data may have a
    newline more). (An oversized message is not an error for vigil
    scan: it scans the head, and so it does the file written here.)"""
    if total is None:
        total = len(b)
    for magic, name in COMPRESSED:
        if b.startswith(magic) and not starts_with_header(b):
            return ("%s-compressed data, not a message (decompress it "
                    "first)" % name)
    if len(b) >= 262 and b[257:262] == b"ustar" and b"\0" in b[:100]:
        return "tar archive, not a message (unpack it first)"
    for magic, name in ((b"PK\x03\x04", "zip"), (b"070701", "cpio"),
                        (b"070702", "cpio"), (b"070707", "cpio"),
                        (b"\xc7\x71", "cpio"), (b"\x71\xc7", "cpio"),
                        (b"!<arch>\n", "ar"), (b"!<thin>\n", "ar")):
        if b.startswith(magic):
            return "%s archive, not a message (unpack it first)" % name
    if tar_v7_header(b):
        return "tar archive, not a message (unpack it first)"
    nul = b.count(b"\0")
    if nul and header_mostly_nul(b):
        return "binary data (%d NUL bytes in %d)" % (nul, total)
    if not b:
        return "empty message"
    if not starts_with_header(b):
        return "no header field at the start: not a message"
    return None


class ReadError(Exception):
    pass


class GzLines:
    """A gzip stream read as corpus.c reads one through zlib: the data
    that decompressed comes first, the error after it (Python's gzip
    readline drops the piece of a line before the error)."""

    def __init__(self, f):
        self.g = gzip.GzipFile(fileobj=f, mode="rb")
        self.buf, self.at = b"", 0
        self.err, self.eof = None, False

    def fill(self):
        if self.err is not None or self.eof:
            return False
        try:
            d = self.g.read1(1 << 16)
        except (OSError, EOFError, zlib.error) as e:
            self.err = e
            return False
        if not d:
            self.eof = True
            return False
        self.buf = self.buf[self.at:] + d
        self.at = 0
        return True

    def take(self, n):
        out = self.buf[self.at:self.at + n]
        self.at += len(out)
        return out

    def readline(self, size):
        while True:
            i = self.buf.find(b"\n", self.at, self.at + size)
            if i >= 0:
                return self.take(i + 1 - self.at)
            if len(self.buf) - self.at >= size:
                return self.take(size)
            if not self.fill():
                if self.at < len(self.buf):
                    return self.take(len(self.buf) - self.at)
                if self.err is not None:
                    raise self.err
                return b""

    def read(self, n):
        while n < 0 or len(self.buf) - self.at < n:
            if not self.fill():
                break
        out = self.take(len(self.buf) - self.at if n < 0 else n)
        if self.err is not None and (n < 0 or len(out) < n):
            raise self.err
        return out


class Reader:
    """corpus.c's reading state: pieces of lines (at most LINE_CHUNK
    bytes), the offset, whether the next piece starts a line, the piece
    read ahead by a separator test (given next)."""

    def __init__(self, f, seekable, gz):
        self.f, self.seekable, self.gz = f, seekable, gz
        self.pos = 0
        self.line = b""
        self.line_start = True
        self.done = False
        self.seek_error = None
        self.ahead = None

    def why(self, e):
        if self.gz:
            return "corrupt or truncated gzip data"
        return getattr(e, "strerror", None) or str(e)

    def fill(self):
        """corpus.c fill_piece()."""
        try:
            return self.f.readline(LINE_CHUNK)
        except (OSError, EOFError, zlib.error) as e:
            raise ReadError(self.why(e))

    def piece(self):
        """corpus.c read_piece(): the piece read ahead, else the file's."""
        if self.ahead is not None:
            self.line, self.ahead = self.ahead, None
        else:
            self.line = b""
            self.line = self.fill()
        self.pos += len(self.line)
        return 1 if self.line else 0

    def next_is_field(self):
        """corpus.c next_is_field(): whether the next line starts a
        header field; it is read ahead, and piece() gives it next."""
        if self.ahead is None:
            try:
                a = self.fill()
            except ReadError:
                a = b""         # the next piece() meets the error again
            self.ahead = a or None
        return self.ahead is not None and bool(FIELD_RE.match(self.ahead))

    def read(self, n):
        try:
            return self.f.read(n)
        except (OSError, EOFError, zlib.error) as e:
            raise ReadError(self.why(e))


def content_length_body(rd, b, clen):
    """corpus.c content_length_body(): the body is the next clen bytes
    when what follows them is the end of the file or a From_ line (after
    an optional blank line); else rewind. (True, from_off or None).
    (No piece is read ahead here: a look-ahead is taken by the line
    after the From line that made it, before any blank line.)"""
    back = rd.f.tell()
    if clen > SCAN_MAX_MSG - len(b):
        return False, None
    mark, pos0 = len(b), rd.pos
    try:
        data = rd.read(clen)
        b += data
        rd.pos += len(data)
        if len(data) == clen:
            after = rd.pos
            r = rd.piece()
            if r == 0:
                return True, None
            if is_blank(rd.line):
                after = rd.pos
                r = rd.piece()
                if r == 0:
                    return True, None
            if rd.line.startswith(b"From "):
                rd.line_start = rd.line.endswith(b"\n")
                return True, after
    except ReadError:
        pass
    try:
        rd.f.seek(back)
    except OSError as e:
        rd.done = True
        rd.seek_error = e.strerror
        return False, None
    rd.pos = pos0
    del b[mark:]
    rd.line_start = True
    return False, None


def mbox_message(rd):
    """corpus.c mbox_message(): one message of an mbox whose From_ line
    has been read: (data, error, from_off of the next message or None,
    the bytes the file had for it). It ends at a whole From_ line
    (is_from_separator), or after a blank line (not its own) at a "From "
    line that a header field follows; ^>+From lines lose one '>'
    (mboxrd); a Content-Length header is honoured when the byte after
    that many body bytes is the end of the file or a From_ line; the
    file's last line without a newline gets one."""
    b = bytearray()
    in_headers, prev_blank, clen, blank_at = True, False, -1, 0
    error, added = None, 0
    while True:
        line_off = rd.pos
        try:
            r = rd.piece()
        except ReadError as e:
            error = "read error at offset %d: %s" % (rd.pos, e)
            rd.done = True
            break
        if r == 0:
            if in_headers:
                error = "truncated: the file ends in the header section"
            elif not rd.line_start:
                b += b"\n"               # corpus.c end_line()
                added = 1
            rd.done = True
            break
        p = rd.line
        starts = rd.line_start
        rd.line_start = p.endswith(b"\n")
        blank = starts and is_blank(p)
        if starts and (separates_after_blank(rd, p) if prev_blank
                       else is_from_separator(p)):
            if prev_blank:
                del b[blank_at:]        # the separating blank line
            return bytes(b), None, line_off, len(b)
        if starts and in_headers and not blank and clen < 0:
            clen = content_length(p)
        if starts and QUOTED_FROM_RE.match(p):
            p = p[1:]
        if blank:
            blank_at = len(b)
        b += p
        prev_blank = blank
        if blank and in_headers:
            in_headers = False
            if clen >= 0 and rd.seekable:
                ok, nxt = content_length_body(rd, b, clen)
                if ok:                          # the body is exact
                    return bytes(b), None, nxt, len(b)
                if rd.done:
                    error = "cannot seek back: %s" % rd.seek_error
                    break
    if error is None and prev_blank:
        del b[blank_at:]    # the blank line ending the last message
    return bytes(b), error, None, len(b) - added


def sa_corpus_name(path):
    """corpus.c sa_corpus_name(): NNNNN.<32 hex digits>, a file of the
    SpamAssassin public corpus, one message after its From_ line."""
    return re.fullmatch(rb"[0-9]{5}\.[0-9a-fA-F]{32}",
                        os.path.basename(os.fsencode(path))) is not None


def open_messages(path, arg, regular, notice):
    """corpus.c open_file() and what follows: the messages of one file
    (an mbox when its first line starts with "From ", else one message;
    gzip data read decompressed; a UTF-8 byte order mark skipped)."""
    try:
        f = open(path, "rb")
    except OSError as e:
        yield Msg(path, arg, error="cannot open: %s" % e.strerror,
                  whole=True)
        return
    with f:
        gz = False
        if regular:
            try:
                gz = os.pread(f.fileno(), 2, 0) == b"\x1f\x8b"
            except OSError:
                gz = False
        src = GzLines(f) if gz else f
        rd = Reader(src, regular and not gz, gz)
        try:
            r = rd.piece()
        except ReadError as e:
            yield Msg(path, arg, error="read error: %s" % e, whole=True)
            return
        if rd.line.startswith(b"\xef\xbb\xbf"):
            rd.line = rd.line[3:]
        first = 0       # blank lines before the first line start nothing
        try:
            while r and rd.line in (b"\n", b"\r\n"):
                first = rd.pos
                r = rd.piece()
        except ReadError as e:
            yield Msg(path, arg, error="read error: %s" % e, whole=True)
            return
        rd.line_start = rd.line.endswith(b"\n")
        if r == 0:
            notice(path, "only blank lines, no message in it" if first
                   else "empty file, no message in it")
            return
        from_single = (rd.line.startswith(b"From ") and rd.line_start and
                       sa_corpus_name(path))
        if from_single:     # one message after the From_ line
            first += len(rd.line)
            rd.line = b""
        if from_single or not rd.line.startswith(b"From "):
            data, error = bytearray(rd.line), None
            try:
                data += rd.read(-1)
            except ReadError as e:
                error = "read error: %s" % e
            data = bytes(data)
            yield Msg(path, arg, 0, first, None if error else data,
                      error or check_message(data))
            return
        index, from_off = 0, first
        while from_off is not None:
            data, error, nxt, total = mbox_message(rd)
            error = error or check_message(data, total)
            yield Msg(path, arg, index, from_off, None if error else data,
                      error, mbox=True)
            index += 1
            from_off = nxt


def fs_sorted(names):
    return sorted(names, key=os.fsencode)    # C locale: byte order


def join(d, name):
    return d + ("" if d.endswith("/") else "/") + name


def list_dir(d):
    """corpus.c list_dir(): the entries of d, dot entries aside, sorted."""
    return [join(d, n) for n in fs_sorted(os.listdir(d))
            if not n.startswith(".")]


def is_folder(d, name):
    """corpus.c is_folder(): d/name is a maildir (has cur/ or new/)."""
    return os.path.isdir("%s/%s/cur" % (d, name)) or \
        os.path.isdir("%s/%s/new" % (d, name))


def note_folders(d, notice):
    """corpus.c note_folders(): a maildir's folders (Maildir++ ".Junk",
    Dovecot's "Junk") are named, not walked."""
    try:
        names = fs_sorted(os.listdir(d))
    except OSError:
        return
    found = [n for n in names if n not in ("cur", "new", "tmp")
             and is_folder(d, n)]
    if found:
        notice(d, "maildir with %d folder%s not scanned: %s%s (give a "
               "folder as a path to scan it)" % (
                   len(found), "" if len(found) == 1 else "s",
                   ", ".join(found[:8]), ", ..." if len(found) > 8 else ""))


def dir_paths(d, notice, seen):
    """corpus.c push_dir(): a maildir (cur/ or new/ inside) gives the
    files of cur/ then new/ (tmp/ and its folders aside; one walked
    before, through a link, left out), any other directory its
    entries. seen: the directories walked, by (st_dev, st_ino)."""
    cur, new = join(d, "cur"), join(d, "new")
    if os.path.isdir(cur) or os.path.isdir(new):
        out = []
        for part in (cur, new):
            if os.path.isdir(part) and not read_again(part, seen, notice):
                out += list_dir(part)
        note_folders(d, notice)
        return out
    return list_dir(d)


def read_again(path, seen, notice):
    """corpus.c again(): whether the file or directory at path was read
    before under another name (a symbolic or hard link), said; else
    remembered in seen ({(st_dev, st_ino): first path})."""
    st = os.stat(path)
    first = seen.get((st.st_dev, st.st_ino))
    if first is not None:
        notice(path, "the same %s as %s, read once" % (
            "directory" if stat.S_ISDIR(st.st_mode) else "file", first))
        return True
    seen[(st.st_dev, st.st_ino)] = path
    return False


def corpus_messages(paths, notice):
    """corpus.c corpus_next(), over paths in order: every message, or
    an error in its place (Msg.error). Directories are walked in name
    order (dot entries aside; symlinks followed, except back into a
    directory being walked; at most MAX_DEPTH deep); only regular files
    are read there. Each file and directory is read once, whatever
    links lead to it."""
    stack = []      # [paths, next, (dev, ino)]
    seen = {}       # what was read: (dev, ino) -> first path
    argi = 0
    while True:
        path, in_dir = None, True
        while stack:
            fr = stack[-1]
            if fr[1] < len(fr[0]):
                path = fr[0][fr[1]]
                fr[1] += 1
                break
            stack.pop()
        if path is None:
            in_dir = False
            if argi == len(paths):
                return
            path = paths[argi]
            argi += 1
        arg = argi - 1
        try:
            st = os.stat(path)
        except OSError as e:
            yield Msg(path, arg, error="cannot read: %s" % e.strerror,
                      whole=True)
            continue
        if stat.S_ISDIR(st.st_mode):
            ident = (st.st_dev, st.st_ino)
            if any(fr[2] == ident for fr in stack):
                continue                    # a symlink loop
            if read_again(path, seen, notice):
                continue
            if len(stack) == MAX_DEPTH:
                yield Msg(path, arg, error="directories nested too deep",
                          whole=True)
                continue
            try:
                kids = dir_paths(path, notice, seen)
            except OSError as e:
                yield Msg(path, arg, error="cannot read directory: %s" %
                          e.strerror, whole=True)
                continue
            stack.append([kids, 0, ident])
            continue
        if not stat.S_ISREG(st.st_mode) and (
                in_dir or not (stat.S_ISFIFO(st.st_mode) or
                               stat.S_ISCHR(st.st_mode))):
            continue
        if stat.S_ISREG(st.st_mode) and read_again(path, seen, notice):
            continue
        companion = in_dir and companion_file(path)
        for m in open_messages(path, arg, stat.S_ISREG(st.st_mode), notice):
            if not (companion and not m.whole and not m.mbox and
                    (m.error or not mail_like(m.data))):
                yield m


COMPANION_NAMES = ("cmds", "index", "Summary.txt", "Info.plist",
                   "table_of_contents")
COMPANION_SUFFIXES = (".msf", ".dat", ".ev-summary", ".ev-summary-meta",
                      ".cmeta", ".ibex.index", ".ibex.index.data")


MAIL_FIELDS = re.compile(rb"(?i)(from|to|subject|date|message-id|received"
                         rb"|return-path):")


def mail_like(data):
    """corpus.c mail_like(): the header section has a field every mail
    has one of."""
    for line in data.split(b"\n"):
        if line in (b"", b"\r"):
            break
        if MAIL_FIELDS.match(line):
            return True
    return False


def companion_file(path):
    """corpus.c companion_file(): a file mail clients and corpora keep
    beside their messages, passed over in a walk when not a message."""
    name = os.path.basename(path)
    return name in COMPANION_NAMES or any(
        len(name) > len(x) and name.endswith(x) for x in COMPANION_SUFFIXES)


def walk_reaches(d, rel):
    """corpus.c corpus_walk_reaches(): whether the walk of directory d
    reaches d/rel (past no dot entry, in a maildir only cur/ and new/)."""
    at = d
    for comp in rel.split("/"):
        if not comp:
            continue
        if comp.startswith(".") or (is_folder(at, ".") and
                                    comp not in ("cur", "new")):
            return False
        at = "%s/%s" % (at, comp)
    return True


# ---- labels: milter/labels.c

LABEL_WORDS = {"spam": "spam", "ham": "ham", "1": "spam", "0": "ham"}


def parse_label(s):
    """evalrep.c eval_label_parse(): spam/ham (any case) or 1/0."""
    return LABEL_WORDS.get(s.lower() if s.isascii() else s)


def label_of(path):
    """spam or ham from a name's words ("spam.mbox", "spam_2", "easy_ham",
    "ham-hard.mbox"; not "graham"), else None."""
    words = re.split(r"[^a-z]+", os.path.basename(path.rstrip("/")).lower())
    if "spam" in words:
        return "spam"
    if "ham" in words:
        return "ham"
    return None


def canon_path(path):
    """labels.c labels_canon_path(): absolute, symlinks resolved (as
    written when it does not exist, trailing slashes dropped)."""
    if os.path.exists(path):
        try:
            return os.path.realpath(path, strict=True)
        except OSError:
            pass
    c = path if path.startswith("/") else os.getcwd() + "/" + path
    while len(c) > 1 and c.endswith("/"):
        c = c[:-1]
    return c


def entry_path(lfile, path):
    """labels.c entry_path(): a relative path from the labels file's
    directory; from the current directory only when it is not there and
    is here. (path, taken from the current directory?)"""
    slash = lfile.rfind("/")
    if path.startswith("/") or slash < 0:
        return path, False
    p = lfile[:slash] + "/" + path
    if os.access(p, os.F_OK) or not os.access(path, os.F_OK):
        return p, False
    return path, True


def ltrim(s):
    return s.lstrip(" \t").rstrip(" \t\r\n")


def csv_unquote(f):
    """labels.c csv_unquote(): a CSV field, trimmed, unquoted ("" a
    quote); None when a quote is not closed."""
    f = ltrim(f)
    if not f.startswith('"'):
        return f
    out, r = [], 1
    while r < len(f):
        if f[r] == '"' and (r + 1 == len(f) or f[r + 1] != '"'):
            return "".join(out) if r + 1 == len(f) else None
        if f[r] == '"':
            r += 1
        out.append(f[r])
        r += 1
    return None


def split_csv(line):
    """labels.c split_csv(): "PATH,LABEL" or "LABEL,PATH"."""
    last, first = line.rfind(","), line.find(",")
    if last < 0:
        return None
    tail = csv_unquote(line[last + 1:])
    if tail is not None and parse_label(tail):
        lab, path = parse_label(tail), csv_unquote(line[:last])
    else:
        head = csv_unquote(line[:first])
        lab = parse_label(head) if head is not None else None
        path = csv_unquote(line[first + 1:]) if lab else None
    return (path, lab) if path else None


def split_label(line):
    """labels.c split_label(): "PATH LABEL" (PATH may hold blanks) or
    "LABEL PATH"."""
    last = max(line.rfind(" "), line.rfind("\t"))
    if last >= 0 and parse_label(line[last + 1:]):
        path = ltrim(line[:last])
        return (path, parse_label(line[last + 1:])) if path else None
    m = re.search(r"[ \t]", line)
    if not m:
        return None
    lab, path = parse_label(line[:m.start()]), ltrim(line[m.start() + 1:])
    return (path, lab) if lab and path else None


def label_column(field):
    if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
        field = field[1:-1]
    return field.isascii() and field.lower() in ("label", "class",
                                                 "category")


def header_line(line):
    """labels.c header_line(): a first line of two fields naming the
    label column ("path,label", "file<TAB>class")."""
    m = re.search(r"[,\t]", line)
    if not m or re.search(r"[,\t]", line[m.start() + 1:]):
        return False
    return label_column(ltrim(line[:m.start()])) or \
        label_column(ltrim(line[m.start() + 1:]))


def cut_comment(s):
    """labels.c cut_comment(): '#' after a blank, outside quotes."""
    quoted = False
    for i, ch in enumerate(s):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted and i > 0 and s[i - 1] in " \t":
            return s[:i]
    return s


def read_labels(path):
    """labels.c read_file(): [(name, canon, label, file, line)], one a
    line of "PATH LABEL", "LABEL PATH" or either as CSV (after an
    optional header line); "#" lines and " # ..." tails, a UTF-8 byte
    order mark ignored; a relative PATH from the file's directory, from
    the current directory only when it is not there (noted). A bad line
    is reported as FILE:LINE and the run stops (exit 2), as vigil's."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        usage("--labels %s: %s" % (path, e.strerror))
    out, bad, from_cwd, first_cwd, content = [], 0, 0, 0, 0
    for no, buf in enumerate(raw.split(b"\n")[:-1] if raw.endswith(b"\n")
                             else raw.split(b"\n"), 1):
        if no == 1 and buf.startswith(b"\xef\xbb\xbf"):
            buf = buf[3:]
        line = ltrim(os.fsdecode(buf.split(b"\0", 1)[0]))
        line = "" if line.startswith("#") else ltrim(cut_comment(line))
        if not line:
            continue
        content += 1
        if content == 1 and header_line(line):
            continue
        r = split_csv(line) if "," in line else None
        r = r or split_label(line)
        if r is None or r[0] == "-":
            sys.stderr.write(
                "%s:%d: expected \"PATH spam|ham\", \"spam|ham PATH\" or "
                "\"PATH,spam|ham\"\n" % (path, no) if r is None else
                "%s:%d: - (standard input) cannot be labelled here\n" %
                (path, no))
            bad += 1
            continue
        name, cwd = entry_path(path, r[0])
        if cwd:
            from_cwd += 1
            first_cwd = first_cwd or no
        out.append((name, canon_path(name), r[1], path, no))
    if bad:
        sys.exit(2)
    if from_cwd:
        say("%s: %d entr%s not beside it taken from the current directory "
            "(first at line %d)" % (path, from_cwd,
                                    "y" if from_cwd == 1 else "ies",
                                    first_cwd))
    return out


class Labelled:
    """labels.c without PATH arguments: the labelled paths are the
    corpus, each read once (a repeat, or a path inside another whose
    walk reaches it, comes with that one), and a message takes the
    label of the labelled file or directory nearest to it."""

    def __init__(self, entries):
        by = {}
        repeats, conflicts = [], 0
        for e in entries:
            k = by.get(e[1])
            if k is None:
                by[e[1]] = e
            elif k[2] != e[2]:
                sys.stderr.write("sidebyside: %s labelled %s (%s:%d) and %s "
                                 "(%s:%d)\n" % (e[0], k[2], k[3], k[4], e[2],
                                                e[3], e[4]))
                conflicts += 1
            else:
                repeats.append(e)
        if conflicts:
            sys.exit(2)
        if repeats:
            say("%d labels entr%s an earlier one, read once: %s" % (
                len(repeats), "y repeats" if len(repeats) == 1
                else "ies repeat",
                " ".join("%s:%d" % (e[3], e[4]) for e in repeats[:5])))
        self.entries = by
        self.matched = set()
        kept = [e for e in entries if by[e[1]] is e]
        missing = [e for e in kept if not os.access(e[0], os.F_OK)]
        for e in missing[:5]:
            sys.stderr.write("%s:%d: %s: no such file or directory\n" %
                             (e[3], e[4], e[0]))
        if len(missing) > 5:
            sys.stderr.write("sidebyside: %d more labels entries name no "
                             "existing path\n" % (len(missing) - 5))
        if missing:
            sys.exit(2)
        canons = set(by)
        self.roots = [e for e in kept if not self.inside_other(e[1], canons)]

    @staticmethod
    def inside_other(canon, canons):
        key = canon
        while True:
            slash = key.rfind("/")
            if slash < 0 or key == "/":
                return False
            key = key[:slash] or "/"
            if key in canons:
                return walk_reaches(key, canon[len(key) + (key != "/"):])

    def label(self, root, source):
        """The label of a message of source, read from root."""
        name, canon = root[0], root[1]
        rest = source[len(name):] if source.startswith(name) else ""
        key = canon + ("/" if rest and not rest.startswith("/") else "") + \
            rest
        while True:
            e = self.entries.get(key)
            if e is not None:
                self.matched.add(e[1])
                return e[2]
            slash = key.rfind("/")
            if slash < 0 or key == "/":
                return None
            key = key[:slash] or "/"

    def unmatched(self):
        left = sorted((e for e in self.entries.values()
                       if e[1] not in self.matched),
                      key=lambda e: (e[3], e[4]))
        if left:
            say("%d labelled entr%s matched no message: %s" % (
                len(left), "y" if len(left) == 1 else "ies",
                " ".join("%s:%d" % (e[3], e[4]) for e in left[:5])))


# ---- sources

def sources_of(args, labelled):
    """[(stem, paths, label_fn)]: each path given, labelled by the words
    of its name (a directory whose name has neither stands for its
    entries that have one: mbox files and directories alike); then the
    labelled paths of a labels file. label_fn(arg, source) -> label."""
    out = []

    def source(p, top):
        lab = label_of(p)
        if lab is None and top and os.path.isdir(p):
            try:
                names = fs_sorted(os.listdir(p))
            except OSError as e:
                say("%s: cannot read directory: %s" % (p, e.strerror))
                return
            names = [n for n in names if not n.startswith(".")]
            kids = [n for n in names if label_of(n)]
            other = [n for n in names if not label_of(n)]
            if kids and other:
                say("%s: taken: %s; neither ham nor spam in the name, "
                    "skipped: %s" % (p, ", ".join(kids), ", ".join(other)))
            for k in kids:
                source(join(p, k), False)
            if kids:
                return
        if lab is None:
            say("%s: neither ham nor spam in its name, skipped" % p)
            return
        stem = os.path.splitext(os.path.basename(p.rstrip("/")))[0]
        out.append((stem, [p], lambda arg, src, lab=lab: lab))
    for p in args:
        source(p, True)
    if labelled is not None and labelled.roots:
        roots = labelled.roots
        out.append(("labelled", [r[0] for r in roots],
                    lambda arg, src: labelled.label(roots[arg], src)))
    return out


def not_alone(data):
    """Why a message written alone to a file would not be read back as
    itself (corpus.c: a file starting with "From " is an mbox, a byte
    order mark at its start is skipped, gzip data decompressed), or
    None. Such a message (an mbox message whose first line is another
    From line) cannot be given to every tool as the same file."""
    if data.startswith(b"From "):
        return "its first line starts with \"From \" (alone in a file: " \
            "an mbox)"
    if data.startswith(b"\xef\xbb\xbf"):
        return "it starts with a byte order mark (skipped in a file)"
    if data.startswith(b"\x1f\x8b"):
        return "it starts with gzip's magic bytes (decompressed in a file)"
    return None


def usage(msg):
    sys.stderr.write("sidebyside: %s\n" % msg)
    sys.exit(2)


def cmd_split(args):
    if not args or args[0].startswith("-"):
        usage("usage: split OUTDIR [--max N] [--labels FILE] SOURCE...")
    out, args = args[0], args[1:]
    limit = None
    lfile = None
    while args and args[0] in ("--max", "--labels"):
        if len(args) < 2:
            usage("%s needs a value" % args[0])
        if args[0] == "--max":
            if not re.fullmatch(r"[0-9]+", args[1]) or int(args[1]) < 1:
                usage("--max wants a number >= 1, not %r" % args[1])
            limit = int(args[1])
        else:
            lfile = args[1]
        args = args[2:]
    if args and args[0].startswith("-"):
        usage("unknown option %s" % args[0])
    labelled = Labelled(read_labels(lfile)) if lfile else None
    srcs = sources_of(args, labelled)

    def notice(path, what):
        if first_pass:
            say("%s: %s" % (path, what))
    # first pass: which messages, with which label; the errors said
    first_pass = True
    seqs, counts, errors, unlabelled = [], {}, 0, 0
    for si, (stem, paths, labfn) in enumerate(srcs):
        seq = []
        for m in corpus_messages(paths, notice):
            lab = None
            if m.error is not None:
                say("%s: %s" % (m.where(), m.error))
                errors += 1
            elif not_alone(m.data):
                say("%s: %s: left out" % (m.where(), not_alone(m.data)))
                errors += 1
            else:
                lab = labfn(m.arg, m.source)
                unlabelled += lab is None
            seq.append(lab)
            if lab:
                counts[(si, lab)] = counts.get((si, lab), 0) + 1
        seqs.append(seq)
    first_pass = False
    if labelled is not None:
        labelled.unmatched()
    if errors:
        say("%d file%s or message%s that vigil cannot read or that would "
            "not read back alone (above): left out" % (
                errors, "" if errors == 1 else "s", "" if errors == 1 else "s"))
    if unlabelled:
        say("%d messages without a label: left out" % unlabelled)
    total = sum(counts.values())
    if total == 0:
        die("split: no messages")
    step = total / float(limit) if limit and limit < total else 1.0
    for lab in ("ham", "spam"):
        os.makedirs(os.path.join(out, lab), exist_ok=True)
    rows, stems = [], set()
    for si, (base, paths, labfn) in enumerate(srcs):
        stem, dup = base, 2
        while stem in stems:            # two sources of one name
            stem = "%s-%d" % (base, dup)
            dup += 1
        stems.add(stem)
        # every k-th message of each label of each source
        want, seen = {}, {}
        for lab in ("ham", "spam"):
            n = counts.get((si, lab), 0)
            want[lab] = set(int(k * step) for k in range(int(n / step + 0.5)))
        i = -1
        for m, lab in zip(corpus_messages(paths, notice), seqs[si]):
            if lab is None:
                continue
            i += 1
            k = seen.get(lab, 0)
            seen[lab] = k + 1
            if k not in want[lab]:
                continue
            fname = os.path.join(out, lab, "%s-%05d.eml" % (stem, i))
            with open(fname, "wb") as f:
                f.write(m.data)
            origin = "%s#%d" % (m.source, m.index) if m.mbox else m.source
            rows.append((os.path.abspath(fname), lab,
                         re.sub(r"[\t\n\r]", "?", origin)))
    rows.sort()
    with open(os.path.join(out, "list.tsv"), "w", encoding="utf-8",
              errors="surrogateescape") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    by = {}
    for _, lab, _ in rows:
        by[lab] = by.get(lab, 0) + 1
    say("split %d messages into %s (%s)" % (
        len(rows), out, ", ".join("%s %d" % kv for kv in sorted(by.items()))))


# ---------------------------------------------------------------- memory

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    kids = children_map()
    seen, todo = [], list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def mem_of(pid):
    rss = pss = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class Sampler(threading.Thread):
    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots = roots
        self.peak_rss = self.peak_pss = 0
        self.stop = threading.Event()

    def sample(self):
        roots = self.roots() if callable(self.roots) else self.roots
        if not roots:
            return
        pids = tree(roots)
        rss = pss = 0
        for p in pids:
            r, s = mem_of(p)
            rss += r
            pss += s
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.05)
        self.sample()


# ---------------------------------------------------------------- run

def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def read_list(path):
    rows = []
    # written by cmd_split with surrogateescape: an origin path may hold
    # bytes that are not UTF-8 (a Latin-1 file name of an old corpus)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            p, lab, origin = line.rstrip("\n").split("\t")
            rows.append((p, lab, origin))
    return rows


DEFERRED = "deferred"


def vigil_flagged(obj):
    """As `vigil scan`'s own evaluation counts a message: a tempfail is
    no verdict in either mode (DEFERRED: left out of the rates, as
    vigil scan's "deferred (tempfail, not counted)"); through --milter,
    the verdict it read ("flagged": refused, discarded, quarantined or
    called spam by a header, docs/scan-milter.md); in process, any
    action but accept (the action the pipeline took, cmd_scanlocal.c)."""
    if obj.get("action") == "tempfail":
        return DEFERRED
    if "flagged" in obj:        # --milter
        return bool(obj["flagged"])
    if "score" in obj:          # in-process
        return obj.get("action") not in ("accept", "continue", None)
    if obj.get("action") in ("reject", "discard", "quarantine"):
        return True
    for h in obj.get("headers_added") or []:
        if h["name"].lower() == "x-spam-flag" and \
                h["value"].strip().upper() == "YES":
            return True
        if h["name"].lower() == "x-spam-status" and \
                h["value"].lstrip().startswith("Yes"):
            return True
    return False


def run_vigil(cmd, rows, conc):
    labels = {p: lab for p, lab, _ in rows}
    res = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    t0 = time.monotonic()
    first = None        # the first answer: the process has loaded its rules
    holder = {}
    seen = set()

    def drain_err():
        holder["err"] = proc.stderr.read()
    te = threading.Thread(target=drain_err, daemon=True)
    te.start()
    for line in proc.stdout:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if first is None:
            first = time.monotonic() - t0
        src = obj.get("source")
        err = obj.get("error") or obj.get("action") == "error"
        if src:
            seen.add(os.path.abspath(src))
        res.append((labels.get(os.path.abspath(src)) if src else None,
                    None if err else vigil_flagged(obj), obj.get("ms")))
    rc = proc.wait()
    wall = time.monotonic() - t0
    te.join()
    for p, lab, _ in rows:          # no line at all: an error
        if p not in seen:
            res.append((lab, None, None))
    if rc not in (0, 1):
        sys.stderr.write(holder.get("err", b"").decode(errors="replace")[-2000:])
        die("%s exited with %d" % (cmd[0], rc))
    return res, wall, first


def run_spamc(cmd, rows, conc):
    def one(row):
        path, lab, _ = row
        with open(path, "rb") as f:
            t = time.monotonic()
            r = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            ms = (time.monotonic() - t) * 1000.0
        out = r.stdout.decode(errors="replace").strip()
        m = re.match(r"^(-?[0-9.]+)/(-?[0-9.]+)$", out)
        if r.returncode not in (0, 1) or not m:
            return (lab, None, None)
        return (lab, float(m.group(1)) >= float(m.group(2)), ms)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=conc) as ex:
        res = list(ex.map(one, rows))
    return res, time.monotonic() - t0, None


RSPAMD_FLAGGED = ("reject", "add header", "rewrite subject")


def run_rspamc(cmd, rows, conc):
    # One rspamc process per unit of concurrency, each over every conc-th
    # file: a single rspamc with -n 2 kept one request in flight at a time
    # here (465 msg/s with -n 1, 459 with -n 2, 818 with two processes).
    # Their output goes to files: a pipe not read at once would stop
    # one rspamc while another is being read.
    # (No more processes than files: without one, rspamc reads stdin.)
    labels = {p: lab for p, lab, _ in rows}
    shares = [rows[k::conc] for k in range(conc) if rows[k::conc]]
    files = [(tempfile.TemporaryFile(), tempfile.TemporaryFile())
             for _ in shares]
    t0 = time.monotonic()
    procs = [subprocess.Popen(cmd + [p for p, _, _ in share],
                              stdout=out, stderr=err, stdin=subprocess.DEVNULL)
             for share, (out, err) in zip(shares, files)]
    rcs = [p.wait() for p in procs]
    wall = time.monotonic() - t0
    outs = []
    for (out, err), rc in zip(files, rcs):
        out.seek(0)
        err.seek(0)
        outs.append((out.read(), err.read(), rc))
        out.close()
        err.close()
    res, seen = [], set()
    for out, _, _ in outs:
        for line in out.splitlines():
            line = line.strip()
            if not line.startswith(b"{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            fn = obj.get("filename")
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            ok = "action" in obj and "error" not in obj
            res.append((labels.get(os.path.abspath(fn)),
                        obj["action"] in RSPAMD_FLAGGED if ok else None,
                        obj.get("time_real", 0) * 1000.0 if ok else None))
    for p, lab, _ in rows:          # no answer at all: an error
        if p not in seen:
            res.append((lab, None, None))
    for _, err, rc in outs:
        if rc != 0 and not seen:
            sys.stderr.write(err.decode(errors="replace")[-2000:])
            die("rspamc exited with %d" % rc)
    return res, wall, None


def cmd_run(args):
    if len(args) < 6 or "--" not in args:
        usage("usage: run TOOL CONC LIST --pids PIDS -- COMMAND...")
    sep = args.index("--")
    head, cmd = args[:sep], args[sep + 1:]
    tool, conc, listfile = head[0], head[1], head[2]
    if not re.fullmatch(r"[1-9][0-9]{0,3}", conc) or int(conc) > 1024:
        usage("run: CONC wants a number 1-1024, not %r" % conc)
    conc = int(conc)
    for opt in ("--pids", "--name"):
        if opt in head and head.index(opt) + 1 >= len(head):
            usage("run: %s needs a value" % opt)
    pids = head[head.index("--pids") + 1] if "--pids" in head else "self"
    name = head[head.index("--name") + 1] if "--name" in head else tool
    rows = read_list(listfile)
    driver = {"vigil": run_vigil, "spamc": run_spamc,
              "rspamc": run_rspamc}.get(tool)
    if driver is None:
        usage("run: unknown tool %s (vigil, spamc, rspamc)" % tool)
    if pids == "self":
        # the sampler follows our own children (the vigil scan process)
        me = os.getpid()
        roots = lambda: children_map().get(me, [])
    else:
        roots = [int(p) for p in pids.split(",") if p]
    sampler = Sampler(roots)
    sampler.start()
    res, wall, first = driver(cmd, rows, conc)
    sampler.stop.set()
    sampler.join()
    ok = [r for r in res if r[1] is not None and r[1] != DEFERRED]
    deferred = [r for r in res if r[1] == DEFERRED]
    lat = [r[2] for r in ok + deferred if r[2] is not None]
    tp = sum(1 for lab, fl, _ in ok if lab == "spam" and fl)
    fn = sum(1 for lab, fl, _ in ok if lab == "spam" and not fl)
    fp = sum(1 for lab, fl, _ in ok if lab == "ham" and fl)
    tn = sum(1 for lab, fl, _ in ok if lab == "ham" and not fl)
    summary = {
        "name": name, "conc": conc, "messages": len(res),
        "errors": len(res) - len(ok) - len(deferred),
        "deferred": len(deferred), "wall_s": round(wall, 3),
        "msgs_per_s": round(len(res) / wall, 1) if wall > 0 else None,
        # a process that loads its rules first (vigil scan): its rate
        # from its first answer on, as the daemons' (started before)
        "start_s": round(first, 3) if first is not None else None,
        "steady_msgs_per_s": (round((len(res) - 1) / (wall - first), 1)
                              if first is not None and wall > first
                              and len(res) > 1 else None),
        "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
        "peak_rss_kb": sampler.peak_rss, "peak_pss_kb": sampler.peak_pss,
        "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        # left out of recall and ham FP, as vigil scan's evaluation does
        "errors_spam": sum(1 for r in res if r[1] is None and r[0] == "spam"),
        "errors_ham": sum(1 for r in res if r[1] is None and r[0] == "ham"),
        "recall": round(100.0 * tp / (tp + fn), 2) if tp + fn else None,
        "ham_fp": round(100.0 * fp / (fp + tn), 2) if fp + tn else None,
        "precision": round(100.0 * tp / (tp + fp), 2) if tp + fp else None,
    }
    print(json.dumps(summary), flush=True)
    say("%s concurrency %d: %d messages (%d errors) in %.2f s, %s msg/s%s, "
        "p50 %s ms, p99 %s ms, peak RSS %.1f MiB, recall %s, ham FP %s"
        % (name, conc, len(res), summary["errors"], wall,
           summary["msgs_per_s"],
           "" if first is None else " (%s after its start of %.2f s)"
           % (fmt(summary["steady_msgs_per_s"], 1), first),
           fmt(summary["p50_ms"]),
           fmt(summary["p99_ms"]), sampler.peak_rss / 1024.0,
           pct_cell(summary["recall"]), pct_cell(summary["ham_fp"])))


def fmt(v, nd=2):
    if v is None:
        return "n/a"
    return ("%%.%df" % nd) % v



# ---------------------------------------------------------------- sockets

def socket_inodes(pids):
    inodes = set()
    for p in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    return inodes


def hex_addr(h, v6):
    """/proc/net address (host byte order words) -> (text, loopback?)"""
    addr, port = h.split(":")
    raw = bytes.fromhex(addr)
    # each 32-bit word is in host (little-endian) order
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    port = int(port, 16)
    if not v6:
        text = ".".join(str(b) for b in raw)
        return "%s:%d" % (text, port), raw[0] == 127
    import ipaddress
    ip = ipaddress.IPv6Address(raw)
    loop = ip.is_loopback or (ip.ipv4_mapped is not None and
                              ip.ipv4_mapped.is_loopback)
    return "[%s]:%d" % (ip, port), loop


def cmd_listeners(args):
    pids = tree([int(args[0])])
    inodes = socket_inodes(pids)
    bad = 0
    for proto, v6 in (("tcp", False), ("tcp6", True), ("udp", False),
                      ("udp6", True)):
        try:
            with open("/proc/net/" + proto) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fl = line.split()
            local, remote, st, inode = fl[1], fl[2], fl[3], fl[9]
            if inode not in inodes:
                continue
            if proto.startswith("tcp") and st != "0A":      # LISTEN
                continue
            if proto.startswith("udp") and \
                    int(remote.split(":")[1], 16) != 0:     # connected
                continue
            text, loop = hex_addr(local, v6)
            print("%s %s%s" % (proto, text, "" if loop else " NOT LOOPBACK"))
            if not loop:
                bad += 1
    return 1 if bad else 0


# ---------------------------------------------------------------- why

PSEUDO_RE = re.compile(r"\s*header\s+(\S+)\s+(X-Spam-\S+|ALL-TRUSTED|"
                       r"ALL-UNTRUSTED|ALL-INTERNAL|ALL-EXTERNAL)\b")


def cmd_why(args):
    import collections
    import glob
    if len(args) < 2:
        die("why SA_CACHE VIGIL_JSONL [RULES_DIR]")
    cache, vjson = args[0], args[1]
    rdir = args[2] if len(args) > 2 else "/usr/share/spamassassin"
    rfiles = glob.glob(os.path.join(cache, "rules-*.json"))
    if not rfiles:
        die("no rules-*.json in %s (run make bench-sa-agree first)" % cache)
    rules = json.load(open(rfiles[0]))
    pseudo = set()
    for f in glob.glob(os.path.join(rdir, "*.cf")):
        with open(f, encoding="latin-1") as fh:
            for line in fh:
                m = PSEUDO_RE.match(line)
                if m:
                    pseudo.add(m.group(1))

    def kind(n, seen):
        r = rules.get(n)
        if r is None:
            return "undefined"
        if r.get("eval"):
            return "eval"
        if n in pseudo:
            return "pseudo-hdr"
        if r["type"] == "meta":
            for d in r.get("deps", []):
                if d not in seen:
                    seen.add(d)
                    k = kind(d, seen)
                    if k != "regex":
                        return k if k.startswith("meta") else "meta on " + k
        return "regex"

    def points(hits):
        return sum(rules.get(n, {}).get("score", 0) for n in hits
                   if not n.startswith("__"))
    sa = {}
    for f in glob.glob(os.path.join(cache, "sa-*.jsonl")):
        with open(f) as fh:
            for line in fh:
                o = json.loads(line)
                sa[(os.path.basename(o["source"]), o["index"])] = set(o["hits"])
    vg = {}
    with open(vjson) as fh:
        for line in fh:
            o = json.loads(line)
            vg[(os.path.basename(o["source"]), o["index"])] = \
                (o["score"], {h["name"] for h in o.get("hits", [])})
    counts = collections.Counter()
    lost, msgs, bykind = (collections.Counter() for _ in range(3))
    for key, hits in sa.items():
        if key not in vg:
            continue
        lab = label_of(key[0]) or "?"
        vscore, vhits = vg[key]
        fsa, fvg = points(hits) >= 5, vscore >= 5
        counts[(lab, fsa, fvg)] += 1
        if lab != "spam" or not fsa or fvg:
            continue
        for n in hits - vhits:
            sc = rules.get(n, {}).get("score", 0)
            if n.startswith("__") or sc <= 0:
                continue
            lost[n] += sc
            msgs[n] += 1
            bykind[kind(n, set())] += sc
    print("| label | SpamAssassin | vigil | messages |")
    print("|---|---|---|---|")
    for (lab, fsa, fvg), v in sorted(counts.items()):
        print("| %s | %s | %s | %d |" % (lab, "spam" if fsa else "ham",
                                        "spam" if fvg else "ham", v))
    tot = sum(bykind.values()) or 1
    print()
    print("| kind of rule vigil lacked | points | share |")
    print("|---|---|---|")
    for k, v in bykind.most_common():
        print("| %s | %.1f | %.1f %% |" % (k, v, 100.0 * v / tot))
    print()
    print("| rule | points | messages | kind |")
    print("|---|---|---|---|")
    for n, v in lost.most_common(15):
        print("| %s | %.1f | %d | %s |" % (n, v, msgs[n], kind(n, set())))
    return 0

# ---------------------------------------------------------------- table

def median_rounds(rows):
    """One row per (tool, concurrency), in first-seen order: with several
    rounds, the round of median messages/s (the lower middle of an even
    count), its "rounds" set to [n, lowest, highest] messages/s."""
    groups, order = {}, []
    for r in rows:
        key = (r["name"], r["conc"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    first = {}
    for name, _ in order:
        first.setdefault(name, len(first))
    order.sort(key=lambda k: (first[k[0]], k[1]))   # by tool, then conc
    out = []
    for key in order:
        g = sorted(groups[key], key=lambda r: r["msgs_per_s"] or 0)
        m = dict(g[(len(g) - 1) // 2])
        if len(g) > 1:
            m["rounds"] = [len(g), g[0]["msgs_per_s"], g[-1]["msgs_per_s"]]
        out.append(m)
    return out


def pct_cell(v):
    return "n/a" if v is None else fmt(v) + " %"


def errors_cell(r):
    """Errors, by label when there are any; tempfails apart."""
    if not r["errors"] or "errors_spam" not in r:
        cell = "%d" % r["errors"]
    else:
        cell = "%d (%d spam, %d ham)" % (r["errors"], r["errors_spam"],
                                         r["errors_ham"])
    if r.get("deferred"):
        cell += "; %d deferred (tempfail)" % r["deferred"]
    return cell


def cmd_table(args):
    rows = []
    with open(args[0]) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    rows = median_rounds(rows)
    print("| tool | conc | msg/s | msg/s after start | p50 ms | p99 ms "
          "| peak RSS | peak PSS | spam recall (of spam answered) "
          "| ham FP (of ham answered) | precision | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tp, fp = r["tp"], r["fp"]
        prec = 100.0 * tp / (tp + fp) if tp + fp else None
        steady = r.get("steady_msgs_per_s")
        rate = fmt(r["msgs_per_s"], 1)
        if "rounds" in r:
            rate += " (median of %d: %s-%s)" % (
                r["rounds"][0], fmt(r["rounds"][1], 1), fmt(r["rounds"][2], 1))
        print("| %s | %d | %s | %s | %s | %s | %.1f MiB | %.1f MiB | %s "
              "(%d/%d) | %s (%d/%d) | %s | %s |" % (
                  r["name"], r["conc"], rate,
                  "-" if steady is None else "%s (start %.2f s)"
                  % (fmt(steady, 1), r["start_s"]),
                  fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                  r["peak_rss_kb"] / 1024.0, r["peak_pss_kb"] / 1024.0,
                  pct_cell(r["recall"]), r["tp"], r["tp"] + r["fn"],
                  pct_cell(r["ham_fp"]), r["fp"], r["fp"] + r["tn"],
                  "n/a" if prec is None else fmt(prec) + " %",
                  errors_cell(r)))
    # every tool's rates are over the messages it answered: say so, and
    # say when the tools answered different numbers
    dens = sorted(set((r["tp"] + r["fn"], r["fp"] + r["tn"]) for r in rows))
    print()
    print("Spam recall, ham FP and precision are over the messages each "
          "tool answered: a message it answered with an error (errors "
          "column) is left out of them, for every tool alike, as in "
          "`vigil scan`'s evaluation; a tempfail (in process or through "
          "vigild) is no verdict, left out of them and of the errors and "
          "counted as deferred, as `vigil scan` counts it in both modes." +
          ("" if len(dens) < 2 else
           " The tools answered different numbers of messages (spam "
           "%s, ham %s): compare their rates with that in mind." % (
               "/".join(str(s) for s in sorted(set(d[0] for d in dens))),
               "/".join(str(h) for h in sorted(set(d[1] for d in dens))))))
    # speed ratios at each concurrency: vigil in-process against peers
    by = {(r["name"], r["conc"]): r for r in rows}
    print()
    print("| concurrency | vigil / rspamd | vigil / SpamAssassin "
          "| vigil after start / rspamd | vigil after start / SpamAssassin "
          "| vigild / rspamd | vigild / SpamAssassin |")
    print("|---|---|---|---|---|---|---|")
    for c in sorted(set(r["conc"] for r in rows)):
        def ratio(a, b, key="msgs_per_s"):
            ra, rb = by.get((a, c)), by.get((b, c))
            if not ra or not rb or not ra.get(key) or not rb["msgs_per_s"]:
                return "n/a"
            return "%.1f×" % (ra[key] / rb["msgs_per_s"])
        print("| %d | %s | %s | %s | %s | %s | %s |" % (
            c, ratio("vigil scan", "rspamd"),
            ratio("vigil scan", "SpamAssassin"),
            ratio("vigil scan", "rspamd", "steady_msgs_per_s"),
            ratio("vigil scan", "SpamAssassin", "steady_msgs_per_s"),
            ratio("vigild (milter)", "rspamd"),
            ratio("vigild (milter)", "SpamAssassin")))


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0
    sub, args = sys.argv[1], sys.argv[2:]
    if sub == "split":
        cmd_split(args)
    elif sub == "run":
        cmd_run(args)
    elif sub == "table":
        cmd_table(args)
    elif sub == "why":
        return cmd_why(args)
    elif sub == "listeners":
        return cmd_listeners(args)
    elif sub == "tree":
        for p in tree([int(args[0])]):
            print(p)
    else:
        die("unknown subcommand %s" % sub)
    return 0


if __name__ == "__main__":
    sys.exit(main())

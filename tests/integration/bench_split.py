#!/usr/bin/python3
"""The side-by-side benchmark reads a corpus as `vigil scan` does
(bench/sidebyside.py mirrors milter/corpus.c and milter/labels.c):
mbox separators, Content-Length and mboxrd unquoting (audit10 M3), a
maildir's cur/ and new/ only (M4), a labels file's relative paths from
its directory first (M1), an unreadable file named as vigil names it
(L2), and clear usage errors from sidebyside.sh and the split (L3, exit
2); rules vigild cannot read stop the run (M5). Tiny generated corpora,
the split step and vigil scan (sanity stage only) alone: no server, no
network, no peer. Prints TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
VIGIL = os.path.join(TOP_BUILD, 'milter', 'vigil')
HELPER = os.path.join(TOP_SRC, 'bench', 'sidebyside.py')
SCRIPT = os.path.join(TOP_SRC, 'bench', 'sidebyside.sh')
PY = '/usr/bin/python3'

sys.path.insert(0, os.path.join(TOP_SRC, 'bench'))
import sidebyside  # noqa: E402

n = 0


def ok(cond, name, diag=''):
    global n
    n += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n, name))
    if not cond and diag:
        for line in str(diag).splitlines()[-30:]:
            print('# ' + line)
    sys.stdout.flush()


def skip(name, why):
    global n
    n += 1
    print('ok %d - %s # SKIP %s' % (n, name, why))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def msg(mid, body=b'hello\n', extra=b''):
    return (b'From: a@example.org\nTo: b@example.org\nSubject: t\n'
            b'Message-ID: <' + mid + b'>\n' + extra + b'\n' + body)


def split(out, *args, cwd=None, user=None):
    cmd = [PY, HELPER, 'split', out] + list(args)
    if user:
        cmd = ['runuser', '-u', user, '--'] + cmd
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def rows(out):
    with open(os.path.join(out, 'list.tsv')) as f:
        return [line.rstrip('\n').split('\t') for line in f]


def content(path):
    with open(path, 'rb') as f:
        return f.read()


def vigil_scan(conf, args, cwd=None):
    r = subprocess.run([VIGIL, 'scan', '-c', conf, '--jobs', '1',
                        '--format', 'jsonl'] + args, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return [json.loads(line) for line in r.stdout.splitlines()], \
        r.stderr.decode(errors='replace')


def mirror_diff(conf, paths, cwd=None):
    """Where sidebyside.corpus_messages() and vigil scan read paths
    differently: [] when they agree message by message (source, index,
    error text, Message-ID)."""
    here = os.getcwd()
    os.chdir(cwd or here)
    try:
        mine = list(sidebyside.corpus_messages(paths, lambda p, w: None))
    finally:
        os.chdir(here)
    theirs, err = vigil_scan(conf, paths, cwd)
    out = []
    if len(mine) != len(theirs):
        out.append('%d messages here, %d in vigil scan' %
                   (len(mine), len(theirs)))
    for m, o in zip(mine, theirs):
        mid = None
        if m.data is not None:
            for line in m.data.split(b'\n'):
                if not line.strip():
                    break
                if line.lower().startswith(b'message-id:'):
                    mid = line.split(b':', 1)[1].strip().decode()
        want = (o['source'], o['index'], o['error'], o['message_id'])
        got = (m.source, m.index, m.error, mid)
        if want != got:
            out.append('vigil %r, here %r' % (want, got))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix='vigil-bench-split.')
    os.chmod(tmp, 0o755)            # runuser -u nobody reads it below
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    print('1..28')
    conf = os.path.join(tmp, 'sanity.conf')
    with open(conf, 'w') as f:
        f.write('listen = { "unix:%s/unused.sock" }\n'
                'stages = { "sanity" }\n' % tmp)

    # ---- M3: the mbox rules of corpus.c
    # (without Content-Length, a From line after a blank line that a
    # header field follows would separate)
    body1 = b'para one\n\nFrom here on\nNote: the body goes on\n'
    m1 = msg(b'm1@x', body1, b'Content-Length: %d\n' % len(body1))
    m2 = msg(b'm2@x', b'body two\n\nFrom the desk of the CEO\nhello\n'
             b'>From quoted\n>>From twice\n'
             b'From no separator, not a whole From_ line\n')
    m3 = msg(b'm3@x', b'body three\n')
    mbox = (b'From alice@example.org Mon Jan  1 00:00:00 2024\n' + m1 +
            b'\nFrom bob@example.org Tue Feb  2 10:11:12 2024\n' + m2 +
            b'From carol@example.org Wed Mar  3 01:02:03 UTC 2024\n' + m3)
    corp = os.path.join(tmp, 'corp')
    write(os.path.join(corp, 'spam.mbox'), mbox)
    # a Content-Length that does not agree with the file is ignored; a
    # From line after a blank line that a header field follows separates;
    # a last line without its newline reads as if it had one; a file
    # ending in a header section is a truncated mbox (vigil: an error)
    bad_cl = msg(b'm4@x', b'short\n', b'Content-Length: 999\n')
    write(os.path.join(corp, 'spam-2.mbox'),
          b'From x Thu Apr  4 04:04:04 2024\n' + bad_cl +
          b'\nFrom y at some date\n' + msg(b'm5@x', b'no newline') +
          b'\n\nFrom z Sat Jun  6 06:06:06 2024\nFrom: cut@x')
    write(os.path.join(corp, 'spam-4.mbox'),
          b'From w Sun Jul  7 07:07:07 2024\n' + msg(b'm7@x', b'last line'))
    # a message whose first line is another From line: vigil reads it,
    # but alone in a file it would be an mbox
    write(os.path.join(corp, 'spam-3.mbox'),
          b'From x Sat Jun  6 06:06:06 2024\nFrom doubled\n' + msg(b'm6@x'))
    # ---- M4: a maildir: cur/ then new/, tmp/ and its folders left out
    md = os.path.join(corp, 'ham')
    write(os.path.join(md, 'cur', '1:2,S'), msg(b'h1@x'))
    write(os.path.join(md, 'new', '2'), msg(b'h2@x'))
    write(os.path.join(md, 'tmp', '3'), msg(b'tmp@x'))
    write(os.path.join(md, '.Junk', 'cur', '4'), msg(b'junk@x'))
    write(os.path.join(md, 'Archive', 'new', '5'), msg(b'archive@x'))
    write(os.path.join(corp, 'README'), b'not mail\n')
    # a UTF-8 byte order mark before a message file's first line
    write(os.path.join(corp, 'easy_ham', 'bom.eml'),
          b'\xef\xbb\xbf' + msg(b'bom@x'))

    d = mirror_diff(conf, [os.path.join(corp, 'spam.mbox'),
                           os.path.join(corp, 'spam-2.mbox'),
                           os.path.join(corp, 'spam-3.mbox'),
                           os.path.join(corp, 'spam-4.mbox'), md,
                           os.path.join(corp, 'easy_ham')])
    ok(not d, 'the messages read are those vigil scan reads, one for one '
       '(mbox rules, Content-Length, maildir, BOM, errors)', '\n'.join(d))

    # each file and directory read once, whatever links lead to it
    lk = os.path.join(tmp, 'links')
    write(os.path.join(lk, 'a.eml'), msg(b'a@x'))
    os.link(os.path.join(lk, 'a.eml'), os.path.join(lk, 'b-hard.eml'))
    os.symlink('a.eml', os.path.join(lk, 'c-sym.eml'))
    os.symlink(md, os.path.join(lk, 'd-maildir'))
    os.symlink(os.path.join(md, 'new'), os.path.join(lk, 'e-new'))
    write(os.path.join(lk, 'f.eml'), msg(b'f@x'))
    d = mirror_diff(conf, [lk, md, os.path.join(lk, 'f.eml')])
    ok(not d, 'each file and directory read once, through symbolic or '
       'hard links, as vigil scan reads it', '\n'.join(d))

    # companions of corpora passed over when not mail; blank lines first
    cp = os.path.join(tmp, 'comp')
    write(os.path.join(cp, 'cmds'), b'mv 00001.abc 00001.abc\n')
    write(os.path.join(cp, 'Inbox.msf'), b'// <!-- <mdb:mork:z v="1.4"/> -->\n')
    write(os.path.join(cp, 'README'), b'not mail\n')
    write(os.path.join(cp, 'm.dat'), msg(b'dat@x'))
    write(os.path.join(cp, 'Summary.txt'),
          b'Owner: farmer-d\nTotal number: 5172 emails\n\nmore\n')
    write(os.path.join(cp, 'x.mbox'), b'\n\r\nFrom a\n' + msg(b'x1@x') +
          b'\nFrom b\n' + msg(b'x2@x'))
    write(os.path.join(cp, 'y.eml'), b'\n\n' + msg(b'y@x'))
    write(os.path.join(tmp, 'cmds'), b'mv 00002.abc 00002.abc\n')
    d = mirror_diff(conf, [cp, os.path.join(tmp, 'cmds')])
    ok(not d, 'companion files passed over in a walk unless mail, an '
       'error when given; blank lines before the first line skipped, as '
       'vigil scan does', '\n'.join(d))

    # a tempfail is no verdict in either mode, as vigil scan counts it
    f = sidebyside.vigil_flagged
    got = (f({'score': 9.0, 'action': 'tempfail'}),
           f({'action': 'tempfail', 'flagged': False}),
           f({'score': 9.0, 'action': 'reject'}),
           f({'action': 'accept', 'flagged': False}),
           sidebyside.errors_cell({'errors': 1, 'errors_spam': 1,
                                   'errors_ham': 0, 'deferred': 2}))
    ok(got == ('deferred', 'deferred', True, False,
               '1 (1 spam, 0 ham); 2 deferred (tempfail)'),
       'bench: a tempfail is deferred in process and through --milter, '
       'counted apart from the errors', repr(got))

    out = os.path.join(tmp, 'out1')
    r = split(out, corp)
    ok(r.returncode == 0, 'split of a directory of mbox files and '
       'maildirs exits 0', r.stderr)
    got = {}
    for path, lab, origin in rows(out) if r.returncode == 0 else []:
        got[origin] = (lab, content(path))
    sp = os.path.join(corp, 'spam.mbox')
    ok(got.get(sp + '#0') == ('spam', m1),
       'Content-Length honoured: a From line after a blank line inside '
       'the body stays in the message', repr(got.get(sp + '#0')))
    ok(got.get(sp + '#1') == ('spam', msg(
        b'm2@x', b'body two\n\nFrom the desk of the CEO\nhello\n'
        b'From quoted\n>From twice\n'
        b'From no separator, not a whole From_ line\n')),
       'mboxrd unquoting; a From line that is not a whole From_ line stays '
       'without a blank line before it, and after one when no header '
       'field follows', repr(got.get(sp + '#1')))
    ok(got.get(sp + '#2') == ('spam', m3),
       'a whole From_ line (time zone word before the year) separates '
       'without a blank line before it', repr(got.get(sp + '#2')))
    sp2 = os.path.join(corp, 'spam-2.mbox')
    ok(got.get(sp2 + '#0') == ('spam', bad_cl) and
       got.get(sp2 + '#1') == ('spam', msg(b'm5@x', b'no newline\n')) and
       got.get(os.path.join(corp, 'spam-4.mbox#0')) ==
       ('spam', msg(b'm7@x', b'last line\n')) and
       sp2 + '#2' not in got and 'spam-2.mbox: message 2 at byte' in
       r.stderr and 'truncated: the file ends in the header section' in
       r.stderr, 'a Content-Length that disagrees is ignored; a From line '
       'a header field follows separates; a last line without its newline '
       'gets one; a truncated last message is named as vigil names it and '
       'left out', r.stderr + repr(got.get(sp2 + '#1')))
    sp3 = os.path.join(corp, 'spam-3.mbox')
    ok(sp3 + '#0' not in got and 'spam-3.mbox: message 0 at byte 0: its '
       'first line starts with "From " (alone in a file: an mbox): left '
       'out' in r.stderr, 'a message that would not read back alone from '
       'its file is named and left out', r.stderr)
    hams = sorted(o for o, (lab, _) in got.items() if lab == 'ham')
    ok(hams == [os.path.join(corp, 'easy_ham', 'bom.eml'),
                os.path.join(md, 'cur', '1:2,S'),
                os.path.join(md, 'new', '2')],
       "maildir: cur/ then new/, not tmp/ nor its folders", repr(hams))
    ok('maildir with 2 folders not scanned: .Junk, Archive' in r.stderr,
       "a maildir's folders are named on stderr, as vigil does", r.stderr)
    ok(got.get(os.path.join(corp, 'easy_ham', 'bom.eml'), (0, b''))[1] ==
       msg(b'bom@x'), 'a byte order mark before the first line is '
       'skipped')
    ok('README' in r.stderr and 'skipped' in r.stderr,
       'an entry without ham or spam in its name is named as skipped',
       r.stderr)

    # ---- M1: a labels file's relative paths from its directory first
    lab = os.path.join(tmp, 'trec')
    write(os.path.join(lab, 'full', 'index'),
          b'spam ../data/inmail.1\nham ../data/inmail.2\n'
          b'ham only-here.eml\n')
    write(os.path.join(lab, 'data', 'inmail.1'), msg(b'real1@x'))
    write(os.path.join(lab, 'data', 'inmail.2'), msg(b'real2@x'))
    cwd = os.path.join(tmp, 'run', 'build')
    write(os.path.join(tmp, 'run', 'data', 'inmail.1'), msg(b'decoy@x'))
    write(os.path.join(cwd, 'only-here.eml'), msg(b'here@x'))
    out = os.path.join(tmp, 'out2')
    r = split(out, '--labels', os.path.join(lab, 'full', 'index'), cwd=cwd)
    got = {}
    for path, lb, origin in rows(out) if r.returncode == 0 else []:
        got[os.path.realpath(os.path.join(cwd, origin))] = (lb, content(path))
    ok(got.get(os.path.join(lab, 'data', 'inmail.1')) ==
       ('spam', msg(b'real1@x')) and
       os.path.join(tmp, 'run', 'data', 'inmail.1') not in got,
       "labels: ../data/inmail.1 is taken beside the labels file, not "
       "from the current directory", r.stderr + repr(got))
    ok(got.get(os.path.join(cwd, 'only-here.eml')) == ('ham', msg(b'here@x'))
       and '1 entry not beside it taken from the current directory' in
       r.stderr, 'labels: a path only in the current directory is taken '
       'from there, with a note', r.stderr)
    theirs, err = vigil_scan(conf, ['--labels',
                                    os.path.join(lab, 'full', 'index')], cwd)
    want = sorted(os.path.realpath(os.path.join(cwd, o['source']))
                  for o in theirs)
    ok(want == sorted(got), 'labels: the same files as vigil scan --labels',
       'vigil %r\nhere %r' % (want, sorted(got)))

    # ---- L2: an unreadable file
    ur = os.path.join(tmp, 'unread', 'spam')
    write(os.path.join(ur, 'a.eml'), msg(b'a@x'))
    write(os.path.join(ur, 'b.eml'), msg(b'b@x'))
    os.chmod(os.path.join(ur, 'b.eml'), 0)
    out = os.path.join(tmp, 'out3')
    user = None
    if os.geteuid() == 0:
        user = 'nobody' if shutil.which('runuser') else None
        os.makedirs(out)
        shutil.chown(out, 'nobody')
    if os.geteuid() == 0 and user is None:
        skip('an unreadable file is named and left out', 'root, no runuser')
    else:
        r = split(out, ur, user=user)
        ok(r.returncode == 0 and 'Traceback' not in r.stderr and
           'b.eml: cannot open: Permission denied' in r.stderr and
           [x[1] for x in rows(out)] == ['spam'],
           'an unreadable file is named as vigil names it ("cannot open: '
           'Permission denied"), the others split', r.stderr)

    # ---- L3: usage errors
    env = dict(os.environ, BUILDDIR=TOP_BUILD)

    def sh(*args, **kw):
        e = dict(env, **kw)
        return subprocess.run(['sh', SCRIPT] + list(args), env=e, cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    r = sh('--only', 'vigil spamasassin', corp)
    ok(r.returncode == 2 and "no tool 'spamasassin'" in r.stderr,
       'sidebyside.sh: a misspelt --only name is a usage error (exit 2)',
       '%d %s' % (r.returncode, r.stderr))
    r = sh('--conc', '1 x', corp)
    ok(r.returncode == 2 and '--conc wants' in r.stderr and
       'Traceback' not in r.stderr,
       'sidebyside.sh: --conc "1 x" is a usage error (exit 2)',
       '%d %s' % (r.returncode, r.stderr))
    r = split(os.path.join(tmp, 'out4'), '--max', 'x', corp)
    ok(r.returncode == 2 and 'Traceback' not in r.stderr,
       'split --max x is a usage error (exit 2)',
       '%d %s' % (r.returncode, r.stderr))

    # ---- M5: rules vigild cannot read stop the run before the split
    r = sh('--only', 'vigil', '--conc', '1', corp,
           VIGIL_RULES=os.path.join(tmp, 'no-such-rules'))
    ok(r.returncode == 1 and 'vigild refuses' in r.stderr and
       'split ' not in r.stderr and not r.stdout.strip(),
       'unreadable VIGIL_RULES: the run stops with an error, no table',
       '%d %s %s' % (r.returncode, r.stdout, r.stderr))
    empty = os.path.join(tmp, 'empty-rules')
    os.makedirs(empty)
    r = sh('--only', 'vigild', '--conc', '1', corp, VIGIL_RULES=empty)
    ok(r.returncode == 1 and 'no rules loaded' in r.stderr and
       not r.stdout.strip(),
       'VIGIL_RULES without rule files: the run stops with an error',
       '%d %s %s' % (r.returncode, r.stdout, r.stderr))

    # ---- audit25 M2: a file name that is not UTF-8 (Latin-1, as old
    # corpora have) is carried through the list to the run and the table
    latin = os.path.join(tmp, 'latin', 'ham')
    os.makedirs(latin)
    write(os.path.join(latin.encode(), b'caf\xe9.eml'), msg(b'l1@x'))
    write(os.path.join(latin, 'plain.eml'), msg(b'l2@x'))
    out = os.path.join(tmp, 'out-latin')
    r = split(out, os.path.dirname(latin))
    listed = sidebyside.read_list(os.path.join(out, 'list.tsv'))
    ok(r.returncode == 0 and
       any(o.encode('utf-8', 'surrogateescape').endswith(b'caf\xe9.eml')
           for _, _, o in listed),
       'a Latin-1 file name: the list reads back with its origin',
       r.stderr)
    r = sh('--only', 'vigil', '--conc', '1', os.path.dirname(latin))
    ok(r.returncode == 0 and 'Traceback' not in r.stderr and
       '| vigil scan | 1 |' in r.stdout,
       'a Latin-1 file name: the benchmark runs to its table',
       '%d %s' % (r.returncode, r.stderr[-2000:]))

    # ---- audit25 L2: a SpamAssassin public corpus file (NNNNN.<md5>)
    # is one message after its From_ line, a quoted From_ line in its
    # body included; the same bytes under another name are an mbox
    sa = os.path.join(tmp, 'sacorp', 'easy_ham')
    quoted = (b'From: bounce@example.org\nMessage-ID: <sa1@x>\n\n'
              b'original follows\n\n'
              b'From a@example.org  Thu Aug 22 12:36:23 2002\n'
              b'From: a@example.org\nMessage-ID: <sa2@x>\n\nhi\n')
    data = b'From x@example.org  Thu Aug 22 12:36:23 2002\n' + quoted
    write(os.path.join(sa, '00001.7c53336b37003a9286aba55d2945844c'), data)
    write(os.path.join(sa, 'other.eml'), data)
    msgs = list(sidebyside.corpus_messages([sa], lambda p, w: None))
    ok([(os.path.basename(m.source), m.index) for m in msgs] ==
       [('00001.7c53336b37003a9286aba55d2945844c', 0),
        ('other.eml', 0), ('other.eml', 1)] and msgs[0].data == quoted,
       'a SpamAssassin corpus file is one message after its From_ line',
       repr([(m.source, m.index, m.error) for m in msgs]))
    d = mirror_diff(conf, [sa])
    ok(not d, 'vigil scan reads SpamAssassin corpus files as the split',
       '\n'.join(d))

    # ---- audit25 L9: From_ lines with an RFC 5322 date separate
    rfc = os.path.join(tmp, 'rfc', 'ham.mbox')
    write(rfc, b''.join(b'From a@b Wed, 0%d Jan 2024 00:00:00 +0000\n'
                        b'Message-ID: <r%d@x>\nSubject: s\n\nb\n' % (i, i)
                        for i in range(1, 5)))
    d = mirror_diff(conf, [rfc])
    n = len(list(sidebyside.corpus_messages([rfc], lambda p, w: None)))
    ok(not d and n == 4, 'RFC 5322 dated From_ lines separate, as in vigil '
       'scan', '%d %s' % (n, '\n'.join(d)))


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""Third-party DKIM test vectors through `vigil dkim`.

    dkim_vectors.py [DIR]

DIR is the conformance collection's dkim/ directory (default:
$DKIM_VECTORS, else $top_srcdir/../shared/conformance/dkim); every test
is skipped when it is absent, so the project never depends on it. Each
set's zonedata.yml is served by tests/integration/dnssrv.py on 127.0.0.1.

Sets: rfc8463/ (RFC 8463 appendix A), dkimpy/ (python3-dkim 1.1.4's
pre-signed messages) and the RFC 6376 (v=1) messages of mail-dkim/
(Mail::DKIM's corpus). The pre-RFC drafts (no v=, v=0.5) and DomainKeys
messages of mail-dkim/ are left out: an RFC 6376 verifier refuses them.
Most mail-dkim signatures are rsa-sha1 with 512-bit RSA keys, which
vigil refuses by default (RFC 8301: permerror for rsa-sha1, "policy" for
keys under 1024 bits); that set runs with --allow-sha1 --min-key-bits 512
so that the rest of the verification is exercised, plus a check that the
defaults refuse them.

The expected result of each signature is RFC 6376/8463's. Where it
differs from what Mail::DKIM's verifier.t asserts, the row says why
(RFC 6376 dropped the g= key tag of RFC 4871). Prints TAP.
"""
import os
import subprocess
import sys
import tempfile

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
VIGIL = os.path.join(TOP_BUILD, 'milter', 'vigil')
DNSSRV = os.path.join(TOP_SRC, 'tests', 'integration', 'dnssrv.py')

# label -> (directory, min key bits, [(file, [result per signature], note)])
VECTORS = {
    'rfc8463': ('rfc8463', 1024, [
        ('signed.eml', ['pass', 'pass'], 'RFC 8463 A.3: Ed25519 and RSA'),
    ]),
    'dkimpy': ('dkimpy', 1024, [
        ('rfc6376.signed.msg', ['pass', 'pass'], 'Ed25519 + RSA, simple'),
        ('rfc6376.signed.rsa.msg', ['pass'], 'RSA, simple'),
        ('ed25519test2.msg', ['pass'], 'signed by Exim'),
        ('test2.message', ['pass'], 'Gmail, odd folding'),
        ('test.message.baddomain', ['permerror'],
         'd= not a domain name: refused without a DNS query'),
    ]),
    'mail-dkim (defaults)': ('mail-dkim', 1024, [
        ('goodkey_1.txt', ['permerror'], 'rsa-sha1 refused (RFC 8301)'),
        ('good_83176.txt', ['permerror'], 'rsa-sha1 refused (RFC 8301)'),
        ('good_rfc4871_3.txt', ['permerror'], 'rsa-sha1 refused (RFC 8301)'),
    ]),
    'mail-dkim': ('mail-dkim', 512, [
        ('goodkey_ed25519.txt', ['pass'], ''),
        ('badkey1_ed25519.txt', ['permerror'], 'key of invalid length'),
        ('badkey2_ed25519.txt', ['fail'], 'header modified'),
        ('badkey3_ed25519.txt', ['fail'], 'body modified'),
        ('badkey4_ed25519.txt', ['permerror'], 'missing key'),
        ('badkey5_ed25519.txt', ['permerror'], 'empty key'),
        ('badkey_14.txt', ['temperror'], 'key lookup times out'),
        ('badkey_15.txt', ['temperror'], 'key lookup SERVFAIL'),
        ('badkey_10.txt', ['permerror'], 'key t=s, i= in a subdomain'),
        ('badkey_11.txt', ['permerror'], 'key h= excludes the hash'),
        ('multiple_2.txt', ['neutral', 'pass', 'fail', 'neutral'],
         'bad c=, good, bad b=, unparsable'),
        ('ignore_5.txt', ['neutral'], 'q=http'),
        ('ignore_6.txt', ['neutral'], 'q=dns/special'),
        ('ignore_7.txt', ['neutral'], 'expired (x=)'),
        ('ignore_8.txt', ['neutral'], 'i= outside d='),
        ('bad_1878954.txt', ['fail'], ''),
        ('good_1878523.txt', ['pass'], ''),
        ('good_83176.txt', ['pass'], ''),
        ('good_qp_1.txt', ['pass'], 'quoted-printable i='),
        ('good_qp_2.txt', ['pass'], 'quoted-printable i='),
        ('good_qp_3.txt', ['pass'], 'quoted-printable i='),
        ('good_rfc4871_3.txt', ['pass'], 'extra signature tags'),
        ('good_rfc4871_4.txt', ['pass'], 'case-differing d='),
        ('goodkey_1.txt', ['pass'], 'key s=email'),
        ('goodkey_2.txt', ['pass'], 'key with extra tags'),
        ('goodkey_3.txt', ['pass'], 'key g=jl*g'),
        ('goodkey_4.txt', ['pass'], 'key with implied g='),
        ('badkey_8.txt', ['pass'],
         'Mail::DKIM: invalid (g= mismatch); RFC 6376 has no g='),
        ('badkey_9.txt', ['pass'],
         'Mail::DKIM: invalid (empty g=); RFC 6376 has no g='),
        ('badkey_12.txt', ['pass'],
         'Mail::DKIM: invalid (g= case); RFC 6376 has no g='),
        ('badkey_13.txt', ['pass'],
         'Mail::DKIM: invalid (g= vs i=); RFC 6376 has no g='),
    ]),
}


def start_server(zone, tmp):
    proc = subprocess.Popen(['/usr/bin/python3', DNSSRV, zone,
                             '--stdin-eof'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    if len(line) < 4 or not line[-1].isdigit():
        proc.kill()
        raise RuntimeError('dnssrv did not start')
    # An answer is waited for up to a minute, so that no result depends on
    # how fast the server answers on a loaded machine; the vectors whose
    # key is never served (temperror expected) get a short wait, which
    # does not change their result.
    confs = {}
    for kind, waits in (('answered', 'timeout = 60000 budget = 60000'),
                        ('dead', 'timeout = 400 budget = 2000')):
        confs[kind] = os.path.join(tmp, 'vigild-%s.conf' % kind)
        with open(confs[kind], 'w', encoding='utf-8') as f:
            f.write('stages = { "sanity" }\n'
                    'dns { servers = { "127.0.0.1@%s" } %s }\n'
                    % (line[-1], waits))
    return proc, confs


def results(out):
    """['pass', ...] from `vigil dkim` output ('none' when unsigned)."""
    res = []
    for line in out.splitlines():
        if line.startswith('signature '):
            res.append(line.split()[2])
        elif line.strip() == 'no signature':
            res.append('none')
    return res


def main():
    base = (sys.argv[1] if len(sys.argv) > 1 else
            os.environ.get('DKIM_VECTORS') or
            os.path.join(TOP_SRC, '..', 'shared', 'conformance', 'dkim'))
    total = sum(len(v[2]) for v in VECTORS.values())
    if not os.path.isdir(base):
        print('1..0 # SKIP no DKIM vectors at %s' % base)
        return 0
    print('1..%d' % total)
    n = 0
    with tempfile.TemporaryDirectory(prefix='vigil-dkimvec.') as tmp:
        for name, (sub, bits, rows) in VECTORS.items():
            zone = os.path.join(base, sub, 'zonedata.yml')
            try:
                proc, confs = start_server(zone, tmp)
            except (OSError, RuntimeError) as e:
                for file, _, _ in rows:
                    n += 1
                    print('not ok %d - %s/%s # %s' % (n, name, file, e))
                continue
            try:
                for file, want, note in rows:
                    n += 1
                    path = os.path.join(base, sub, 'corpus', file)
                    if not os.path.exists(path):
                        path = os.path.join(base, sub, file)
                    conf = confs['dead' if 'temperror' in want
                                 else 'answered']
                    args = [VIGIL, 'dkim', '-c', conf]
                    if bits < 1024:
                        args += ['--allow-sha1', '--min-key-bits', str(bits)]
                    r = subprocess.run(args + [path],
                                       capture_output=True, text=True,
                                       timeout=150)
                    got = results(r.stdout)
                    label = '%s/%s: %s%s' % (name, file, ' '.join(want),
                                             ' (%s)' % note if note else '')
                    if r.returncode == 0 and got == want:
                        print('ok %d - %s' % (n, label))
                    else:
                        print('not ok %d - %s' % (n, label))
                        print('# got %s, exit %d' % (' '.join(got),
                                                     r.returncode))
                        for line in (r.stdout + r.stderr).splitlines():
                            print('#   ' + line)
            finally:
                proc.stdin.close()
                proc.terminate()
                proc.wait()
    return 0


if __name__ == '__main__':
    sys.exit(main())

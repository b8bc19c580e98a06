#!/usr/bin/python3
"""DKIM verification through `vigil dkim` (libopendkim, vigil's resolver).

Keys are made here (openssl for RSA, python3-nacl for Ed25519), messages
signed here with python3-dkim (dkimpy), the public keys published by
tests/integration/dnssrv.py on 127.0.0.1. Prints TAP.
"""
import base64
import os
import subprocess
import sys
import tempfile

import dkim

from dnswaits import write_confs  # next to this script

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
VIGIL = os.path.join(TOP_BUILD, 'milter', 'vigil')
DNSSRV = os.path.join(TOP_SRC, 'tests', 'integration', 'dnssrv.py')
DOMAIN = b'example.org'

MESSAGE = (b'From: Alice <alice@example.org>\r\n'
           b'To: Bob <bob@example.net>\r\n'
           b'Subject: quarterly report,\r\n'
           b'\tfolded over two lines\r\n'
           b'Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n'
           b'Message-ID: <r1@example.org>\r\n'
           b'\r\n'
           b'Hello Bob,\r\n'
           b'\r\n'
           b'the figures are  attached.\r\n'
           b'Alice\r\n')


def rsa_key(tmp, name, bits):
    pem = os.path.join(tmp, name + '.pem')
    subprocess.run(['openssl', 'genrsa', '-out', pem, str(bits)],
                   check=True, capture_output=True)
    der = subprocess.run(['openssl', 'rsa', '-in', pem, '-pubout',
                          '-outform', 'DER'], check=True,
                         capture_output=True).stdout
    with open(pem, 'rb') as f:
        return f.read(), base64.b64encode(der).decode()


def ed25519_key():
    import nacl.signing
    sk = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(sk)),
            base64.b64encode(bytes(sk.verify_key)).decode())


def sign(msg, selector, key, canon=(b'relaxed', b'relaxed'), length=False,
         alg=b'rsa-sha256'):
    sig = dkim.sign(msg, selector, DOMAIN, key, canonicalize=canon,
                    include_headers=[b'from', b'to', b'subject', b'date',
                                     b'message-id'],
                    length=length, signature_algorithm=alg)
    return sig + msg


def write_zone(tmp, records):
    path = os.path.join(tmp, 'zone.yml')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('zonedata:\n')
        for name, items in records.items():
            f.write('  %s:\n' % name)
            for item in items:
                if item in ('TIMEOUT', 'SERVFAIL'):
                    f.write('    - %s\n' % item)
                else:
                    f.write('    - TXT: "%s"\n' % item)
    return path


def start_server(zone):
    proc = subprocess.Popen(['/usr/bin/python3', DNSSRV, zone,
                             '--stdin-eof'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith('dnssrv: listening on 127.0.0.1 '):
        proc.kill()
        proc.wait()
        raise RuntimeError('dnssrv did not start: %r' % line)
    return proc, int(line.split()[-1])


def verify(tmp, port, name, msg, extra=(), conf=None):
    path = os.path.join(tmp, name + '.eml')
    with open(path, 'wb') as f:
        f.write(msg)
    conf = conf or os.path.join(tmp, 'dns-answered.conf')
    out = subprocess.run([VIGIL, 'dkim', '-c', conf,
                          '--dns', '127.0.0.1@%d' % port]
                         + list(extra) + [path], capture_output=True,
                         text=True, timeout=150)
    return out.returncode, out.stdout


def main():
    results = []

    def check(name, cond, detail=''):
        results.append((name, bool(cond), detail))

    with tempfile.TemporaryDirectory() as tmp:
        confs = write_confs(tmp)
        key, pub = rsa_key(tmp, 'main', 2048)
        other_key, other_pub = rsa_key(tmp, 'other', 2048)
        small_key, small_pub = rsa_key(tmp, 'small', 1024)
        ed_key, ed_pub = ed25519_key()
        zone = write_zone(tmp, {
            'main._domainkey.example.org': ['v=DKIM1; k=rsa; p=' + pub],
            'wrong._domainkey.example.org': ['v=DKIM1; k=rsa; p=' + other_pub],
            'small._domainkey.example.org': ['v=DKIM1; k=rsa; p=' + small_pub],
            'revoked._domainkey.example.org': ['v=DKIM1; k=rsa; p='],
            'ed._domainkey.example.org': ['v=DKIM1; k=ed25519; p=' + ed_pub],
            'slow._domainkey.example.org': ['TIMEOUT'],
        })
        proc, port = start_server(zone)
        try:
            cases = [
                ('relaxed/relaxed passes',
                 sign(MESSAGE, b'main', key), (), 'signature 1: pass'),
                ('simple/simple passes (folded Subject kept byte-exact)',
                 sign(MESSAGE, b'main', key, (b'simple', b'simple')), (),
                 'signature 1: pass'),
                ('relaxed/simple passes',
                 sign(MESSAGE, b'main', key, (b'relaxed', b'simple')), (),
                 'signature 1: pass'),
                ('body altered fails',
                 sign(MESSAGE, b'main', key).replace(b'figures', b'FIGURES'),
                 (), 'signature 1: fail'),
                ('header altered fails',
                 sign(MESSAGE, b'main', key).replace(b'quarterly',
                                                     b'yearly'),
                 (), 'signature 1: fail'),
                ('relaxed tolerates refolding and whitespace',
                 sign(MESSAGE, b'main', key).replace(
                     b'report,\r\n\tfolded', b'report, folded').replace(
                     b'are  attached', b'are attached'),
                 (), 'signature 1: pass'),
                ('simple does not tolerate refolding',
                 sign(MESSAGE, b'main', key, (b'simple', b'simple')).replace(
                     b'report,\r\n\tfolded', b'report, folded'),
                 (), 'signature 1: fail'),
                ('wrong key fails',
                 sign(MESSAGE, b'wrong', key), (), 'signature 1: fail'),
                ('missing key (NXDOMAIN) is permerror',
                 sign(MESSAGE, b'absent', key), (),
                 'signature 1: permerror'),
                ('revoked key is permerror',
                 sign(MESSAGE, b'revoked', key), (),
                 'signature 1: permerror'),
                ('key lookup timeout is temperror',
                 sign(MESSAGE, b'slow', key), (), 'signature 1: temperror'),
                ('key below min-key-bits is policy',
                 sign(MESSAGE, b'small', small_key), ('--min-key-bits',
                                                      '2048'),
                 'signature 1: policy'),
                ('l= with appended text passes with a caveat',
                 sign(MESSAGE, b'main', key, length=True)
                 + b'\r\nAppended by a mailing list.\r\n', (),
                 '(part of the body is unsigned)'),
                ('ed25519-sha256 passes',
                 sign(MESSAGE, b'ed', ed_key, alg=b'ed25519-sha256'), (),
                 'signature 1: pass d=example.org s=ed a=ed25519-sha256'),
                ('unsigned message', MESSAGE, (), 'no signature'),
                ('rsa-sha1 is permerror (RFC 8301)',
                 sign(MESSAGE, b'main', key, alg=b'rsa-sha1'), (),
                 'signature 1: permerror d=example.org s=main a=rsa-sha1 '
                 '(rsa-sha1 is not accepted (RFC 8301))'),
                ('rsa-sha1 verified with --allow-sha1',
                 sign(MESSAGE, b'main', key, alg=b'rsa-sha1'),
                 ('--allow-sha1',), 'signature 1: pass'),
                ('d= that is not a domain name is permerror',
                 sign(MESSAGE, b'main', key).replace(
                     b'd=example.org', b'd=example.org(x'), (),
                 '(d= or s= is not a domain name)'),
            ]
            both = sign(sign(MESSAGE, b'main', key), b'wrong', key)
            cases.append(('two signatures reported in order', both, (),
                          'signature 1: fail d=example.org s=wrong'))
            for i, (name, msg, extra, want) in enumerate(cases):
                rc, out = verify(tmp, port, 'case%d' % i, msg, extra,
                                 confs['dead' if 'temperror' in want
                                       else 'answered'])
                check(name, rc == 0 and want in out,
                      'rc=%d output=%r' % (rc, out))
            rc, out = verify(tmp, port, 'both', both)
            check('second signature passes',
                  'signature 2: pass d=example.org s=main' in out, out)
            out = subprocess.run([VIGIL, 'dkim', os.path.join(tmp, 'nope')],
                                 capture_output=True, text=True, timeout=60)
            check('unreadable file exits 2', out.returncode == 2,
                  'rc=%d' % out.returncode)
        finally:
            proc.stdin.close()
            proc.terminate()
            proc.wait(timeout=10)

    print('1..%d' % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        if ok:
            print('ok %d - %s' % (i, name))
        else:
            failed += 1
            print('not ok %d - %s: %s' % (i, name, detail))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""DMARC evaluation through `vigil dmarc` (libopendmarc; SPF, DKIM and
policy records resolved through vigil's resolver from
tests/integration/dnssrv.py on 127.0.0.1). Messages are signed here with
python3-dkim. Prints TAP."""
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
CLIENT = '192.0.2.25'


def message(from_hdr, extra=b''):
    return (b'From: ' + from_hdr + b'\r\n' + extra +
            b'To: bob@example.net\r\nSubject: hello\r\n'
            b'Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n'
            b'Message-ID: <m@example.org>\r\n\r\nHi Bob.\r\n')


def main():
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        confs = write_confs(tmp)
        pem = os.path.join(tmp, 'k.pem')
        subprocess.run(['openssl', 'genrsa', '-out', pem, '2048'], check=True,
                       capture_output=True)
        der = subprocess.run(['openssl', 'rsa', '-in', pem, '-pubout',
                              '-outform', 'DER'], check=True,
                             capture_output=True).stdout
        key = open(pem, 'rb').read()
        zone = os.path.join(tmp, 'zone.yml')
        with open(zone, 'w', encoding='utf-8') as f:
            f.write('zonedata:\n')
            for name, txt in [
                    ('example.org', 'v=spf1 ip4:%s -all' % CLIENT),
                    ('bounce.example.org', 'v=spf1 ip4:%s -all' % CLIENT),
                    ('_dmarc.example.org', 'v=DMARC1; p=reject; sp=quarantine'),
                    ('sel._domainkey.example.org', 'v=DKIM1; k=rsa; p=' +
                     base64.b64encode(der).decode()),
                    ('strict.example', 'v=spf1 ip4:%s -all' % CLIENT),
                    ('mail.strict.example', 'v=spf1 ip4:%s -all' % CLIENT),
                    ('_dmarc.strict.example',
                     'v=DMARC1; p=reject; aspf=s; adkim=s'),
                    ('sampled.example', 'v=spf1 -all'),
                    ('_dmarc.sampled.example', 'v=DMARC1; p=reject; pct=0'),
                    ('nopolicy.example', 'v=spf1 -all')]:
                f.write('  %s:\n    - TXT: "%s"\n' % (name, txt))
            f.write('  _dmarc.slow.example:\n    - TIMEOUT\n')
        proc = subprocess.Popen(['/usr/bin/python3', DNSSRV, zone,
                                 '--stdin-eof'], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        port = int(proc.stdout.readline().split()[-1])

        def run(name, msg, mail_from, wants, ip=CLIENT, helo=None):
            path = os.path.join(tmp, 'm%d.eml' % len(results))
            with open(path, 'wb') as f:
                f.write(msg)
            dead = any('temperror' in w for w in wants)
            conf = confs['dead' if dead else 'answered']
            more = ['--helo', helo] if helo else []
            out = subprocess.run([VIGIL, 'dmarc', '-c', conf, '--dns',
                                  '127.0.0.1@%d' % port, '--client-ip', ip,
                                  '--mail-from', mail_from] + more + [path],
                                 capture_output=True, text=True,
                                 errors='replace', timeout=150)
            ok = out.returncode == 0 and all(w in out.stdout for w in wants)
            results.append((name, ok, out.stdout + out.stderr))

        try:
            signed = dkim.sign(message(b'alice@example.org'), b'sel',
                               b'example.org', key) + \
                message(b'alice@example.org')
            run('aligned DKIM passes with a foreign MAIL FROM', signed,
                'x@nopolicy.example',
                ['dkim: pass', 'dmarc: pass header.from=example.org',
                 'dkim-aligned=yes', 'spf-aligned=no'])
            run('relaxed SPF alignment (MAIL FROM subdomain) passes',
                message(b'alice@example.org'), 'b@bounce.example.org',
                ['dmarc: pass', 'spf-aligned=yes'])
            run('no aligned pass fails with p=reject',
                message(b'alice@example.org'), 'x@nopolicy.example',
                ['dmarc: fail header.from=example.org', 'policy=reject'])
            run('subdomain From takes sp= of the organisational domain',
                message(b'alice@news.example.org'), 'x@nopolicy.example',
                ['dmarc: fail header.from=news.example.org',
                 'policy-domain=example.org', 'policy=quarantine'])
            run('strict SPF alignment refuses a subdomain',
                message(b'c@strict.example'), 'b@mail.strict.example',
                ['dmarc: fail header.from=strict.example', 'policy=reject'])
            run('strict SPF alignment accepts the exact domain',
                message(b'c@strict.example'), 'b@strict.example',
                ['dmarc: pass header.from=strict.example'])
            run('pct=0 lowers reject to quarantine',
                message(b'd@sampled.example'), 'x@nopolicy.example',
                ['dmarc: fail', 'pct=0', 'policy=quarantine'])
            run('no policy record is none',
                message(b'e@nopolicy.example'), 'e@nopolicy.example',
                ['dmarc: none header.from=nopolicy.example'])
            run('policy lookup timeout is temperror',
                message(b'f@slow.example'), 'f@slow.example',
                ['dmarc: temperror'])
            run('two From headers are a permerror',
                message(b'a@example.org', b'From: b@nopolicy.example\r\n'),
                'x@nopolicy.example', ['dmarc: permerror'])
            run('every domain of a multi-address From is evaluated',
                message(b'a@example.org, b@nopolicy.example'),
                'x@nopolicy.example',
                ['dmarc: fail header.from=example.org',
                 'dmarc: none header.from=nopolicy.example'])
            out = subprocess.run([VIGIL, 'dmarc', 'x.eml'],
                                 capture_output=True, text=True, timeout=60)
            results.append(('missing options exit 2', out.returncode == 2,
                            out.stderr))
            # The envelope flags as vigil scan and explain read them
            # (envguess_arg): SMTP form, <> the null sender (SPF then
            # checks postmaster@HELO), a --client-ip that is no address
            # or a malformed address refused naming the option.
            run('--mail-from in SMTP form: the brackets removed',
                message(b'alice@example.org'), '<b@bounce.example.org>',
                ['spf: pass (bounce.example.org)', 'dmarc: pass',
                 'spf-aligned=yes'])
            run('--mail-from <>: the null sender, SPF on the HELO name',
                message(b'c@strict.example'), '<>',
                ['spf: pass (strict.example)',
                 'dmarc: pass header.from=strict.example'],
                helo='strict.example')
            for opt, args, want in [
                    ('--client-ip',
                     ['--client-ip', '999.1.1.1', '--mail-from', 'a@b'],
                     'vigil dmarc: --client-ip 999.1.1.1: not an IPv4 or '
                     'IPv6 address\nsee vigil dmarc --help\n'),
                    ('--mail-from',
                     ['--client-ip=192.0.2.1', '--mail-from', '<a@b'],
                     "vigil dmarc: --mail-from <a@b: a '<' without '>'\n"
                     'see vigil dmarc --help\n')]:
                out = subprocess.run([VIGIL, 'dmarc'] + args + ['x.eml'],
                                     capture_output=True, text=True,
                                     timeout=60)
                results.append(('bad %s: exit 2 naming it' % opt,
                                out.returncode == 2 and out.stderr == want,
                                out.stderr))
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
            print('not ok %d - %s: %r' % (i, name, detail))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""SPF at MAIL FROM and DKIM fed as the message arrives, through vigild.

vigild runs the spf, dkim and dmarc stages; tests/integration/miltclient.py
plays the MTA (headers one by one with their leading space, the body in
small chunks); a message signed here with python3-dkim is verified from
the stages' early hooks. Keys and policies on tests/integration/dnssrv.py.
Prints TAP.
"""
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
sys.path.insert(0, os.path.join(TOP_SRC, 'tests', 'integration'))
import miltclient  # noqa: E402

VIGILD = os.path.join(TOP_BUILD, 'milter', 'vigild')
DNSSRV = os.path.join(TOP_SRC, 'tests', 'integration', 'dnssrv.py')

MESSAGE = (b'From: Alice <alice@example.org>\r\n'
           b'To: Bob <bob@example.net>\r\n'
           b'Subject: a subject folded\r\n'
           b'\tover two lines\r\n'
           b'Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n'
           b'Message-ID: <m1@example.org>\r\n'
           b'\r\n' + b'Body line with  two spaces.\r\n' * 40)


def key():
    with tempfile.TemporaryDirectory() as tmp:
        pem = os.path.join(tmp, 'k.pem')
        subprocess.run(['openssl', 'genrsa', '-out', pem, '2048'],
                       check=True, capture_output=True)
        der = subprocess.run(['openssl', 'rsa', '-in', pem, '-pubout',
                              '-outform', 'DER'], check=True,
                             capture_output=True).stdout
        with open(pem, 'rb') as f:
            return f.read(), base64.b64encode(der).decode()


def start(tmp, pub):
    zone = os.path.join(tmp, 'zone.yml')
    with open(zone, 'w', encoding='utf-8') as f:
        f.write('zonedata:\n'
                '  example.org:\n    - TXT: "v=spf1 ip4:192.0.2.10 -all"\n'
                '  sel._domainkey.example.org:\n'
                '    - TXT: "v=DKIM1; k=rsa; p=%s"\n'
                '  _dmarc.example.org:\n    - TXT: "v=DMARC1; p=reject"\n'
                % pub)
    dns = subprocess.Popen(['/usr/bin/python3', DNSSRV, zone, '--stdin-eof'],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    dport = int(dns.stdout.readline().split()[-1])
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(tmp, 'vigild.conf')
    with open(conf, 'w', encoding='utf-8') as f:
        f.write('listen = { "inet:%d@127.0.0.1" }\nhostname = "mx.test"\n'
                'max_message_size = 2000\n'
                'stages = { "sanity", "spf", "dkim", "dmarc" }\n'
                # every name is answered: no result may depend on how
                # fast (tests/unit/test_dns_srv.h)
                'dns { servers = { "127.0.0.1@%d" } timeout = 30000 '
                'budget = 30000 }\n' % (port, dport))
    log = open(os.path.join(tmp, 'log'), 'w', encoding='utf-8')
    vigild = subprocess.Popen([VIGILD, '-f', '-c', conf], stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    return dns, vigild, log, port


def auth_results(port, msg, ip='192.0.2.10', chunk=7):
    c = miltclient.MilterClient('127.0.0.1', port)
    try:
        letter, mods = c.message(ip, 'mx.example.org', 'alice@example.org',
                                 ['bob@example.net'], msg, chunk=chunk)
    finally:
        c.close()
    return letter, miltclient.header_value(mods, 'Authentication-Results')


def main():
    import dkim
    priv, pub = key()
    signed = dkim.sign(MESSAGE, b'sel', b'example.org', priv) + MESSAGE
    simple = dkim.sign(MESSAGE, b'sel', b'example.org', priv,
                       canonicalize=(b'simple', b'simple')) + MESSAGE
    big = dkim.sign(MESSAGE * 2, b'sel', b'example.org', priv) + MESSAGE * 2
    cases = [
        ('relaxed signature verified from the hooks', signed, '192.0.2.10',
         ['spf=pass', 'dkim=pass', 'dmarc=pass'], 'a'),
        ('simple signature: folded header and spaces byte-exact', simple,
         '192.0.2.10', ['dkim=pass'], 'a'),
        ('body altered: dkim=fail, DMARC still passes on SPF',
         signed.replace(b'two spaces', b'TWO spaces'), '192.0.2.10',
         ['dkim=fail', 'spf=pass', 'dmarc=pass'], 'a'),
        ('SPF fail (early) and a valid signature: DMARC passes on DKIM',
         signed, '192.0.2.66', ['spf=fail', 'dkim=pass', 'dmarc=pass'], 'a'),
        ('unsigned, SPF fail: DMARC fails', MESSAGE, '192.0.2.66',
         ['dkim=none', 'dmarc=fail'], None),
        ('over max_message_size: dkim=neutral, no false fail', big,
         '192.0.2.10', ['dkim=neutral'], 'a'),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix='vigil-auth-milter.') as tmp:
        dns, vigild, log, port = start(tmp, pub)
        try:
            for name, msg, ip, want, letter in cases:
                try:
                    got, ar = auth_results(port, msg, ip)
                except (OSError, miltclient.MilterError) as e:
                    results.append((name, False, str(e)))
                    continue
                ok = ar is not None and all(w in ar for w in want) and \
                    (letter is None or got in ('a', 'c'))
                results.append((name, ok, 'reply %s, %r' % (got, ar)))
        finally:
            vigild.terminate()
            vigild.wait(timeout=30)
            log.close()
            dns.stdin.close()
            dns.terminate()
            dns.wait()
    print('1..%d' % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok:
            print('# ' + detail.replace('\n', '\n# '))
    return 0


if __name__ == '__main__':
    sys.exit(main())

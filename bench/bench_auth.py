#!/usr/bin/python3
"""bench_auth.py - what SPF+DKIM+DMARC add to a message over the milter path.

    bench_auth.py [-n MESSAGES] [--warmup N]     (make bench-auth)

Two vigild instances on 127.0.0.1 are driven by the milter client of
tests/integration/miltclient.py, one message after the other on one
connection: stages = {"sanity"} against {"sanity", "spf", "dkim",
"dmarc"}. The message is DKIM-signed (python3-dkim, 2048-bit RSA); its
SPF, DKIM key and DMARC records are served by tests/integration/dnssrv.py.
After the warm-up the resolver cache is warm (records get a TTL of 300 s),
so the difference of the median transaction times is the CPU cost of the
three checks plus their cache lookups.

Then the same with a dead DNS server (a socket that never answers),
timeout 200 ms and budget 500 ms: per-message times must stay under the
budget plus the scan, every result is temperror, and four connections in
parallel take about as long as one (a dead server blocks no other
message). Prints a report; exit 1 when a check fails.
"""
import argparse
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
sys.path.insert(0, os.path.join(TOP_SRC, 'tests', 'integration'))
import miltclient  # noqa: E402

VIGILD = os.path.join(TOP_BUILD, 'milter', 'vigild')
DNSSRV = os.path.join(TOP_SRC, 'tests', 'integration', 'dnssrv.py')
CLIENT_IP = '192.0.2.10'

MESSAGE = (b'From: Alice <alice@example.org>\r\n'
           b'To: Bob <bob@example.net>\r\n'
           b'Subject: benchmark message\r\n'
           b'Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n'
           b'Message-ID: <bench@example.org>\r\n'
           b'MIME-Version: 1.0\r\n'
           b'Content-Type: text/plain; charset=utf-8\r\n'
           b'\r\n' + b'A line of an ordinary message body, nothing more.\r\n'
           * 60)


def signed_message(tmp):
    import dkim
    pem = os.path.join(tmp, 'key.pem')
    subprocess.run(['openssl', 'genrsa', '-out', pem, '2048'], check=True,
                   capture_output=True)
    der = subprocess.run(['openssl', 'rsa', '-in', pem, '-pubout', '-outform',
                          'DER'], check=True, capture_output=True).stdout
    with open(pem, 'rb') as f:
        key = f.read()
    sig = dkim.sign(MESSAGE, b'bench', b'example.org', key,
                    include_headers=[b'from', b'to', b'subject', b'date',
                                     b'message-id'])
    return sig + MESSAGE, base64.b64encode(der).decode()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_dns(tmp, pub):
    zone = os.path.join(tmp, 'zone.yml')
    with open(zone, 'w', encoding='utf-8') as f:
        f.write('zonedata:\n'
                '  example.org:\n'
                '    - TXT: "v=spf1 ip4:%s -all"\n'
                '  mx.example.org:\n'
                '    - TXT: "v=spf1 ip4:%s -all"\n'
                '  bench._domainkey.example.org:\n'
                '    - TXT: "v=DKIM1; k=rsa; p=%s"\n'
                '  _dmarc.example.org:\n'
                '    - TXT: "v=DMARC1; p=reject"\n' % (CLIENT_IP, CLIENT_IP,
                                                      pub))
    proc = subprocess.Popen(['/usr/bin/python3', DNSSRV, zone, '--ttl', '300',
                             '--stdin-eof'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    if not line or not line[-1].isdigit():
        raise RuntimeError('dnssrv did not start')
    return proc, int(line[-1])


class Vigild:
    def __init__(self, tmp, name, stages, dns_port, extra=''):
        self.port = free_port()
        self.log = os.path.join(tmp, name + '.log')
        conf = os.path.join(tmp, name + '.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write('listen = { "inet:%d@127.0.0.1" }\nhostname = "mx.test"\n'
                    'stages = { %s }\n'
                    'dns { servers = { "127.0.0.1@%d" } %s }\n'
                    % (self.port, ', '.join('"%s"' % s for s in stages),
                       dns_port, extra))
        self.logf = open(self.log, 'w', encoding='utf-8')
        self.proc = subprocess.Popen([VIGILD, '-f', '-c', conf],
                                     stderr=self.logf)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError('vigild %s did not start' % name)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.logf.close()

    def log_lines(self):
        with open(self.log, encoding='utf-8', errors='replace') as f:
            return f.read().splitlines()


def run(port, msg, count):
    """Transaction times (ms) of count messages on one connection, and the
    last Authentication-Results."""
    c = miltclient.MilterClient('127.0.0.1', port)
    times, ar = [], None
    try:
        for i in range(count):
            t0 = time.perf_counter()
            letter, mods = c.message(CLIENT_IP, 'mx.example.org',
                                     'alice@example.org', ['bob@example.net'],
                                     msg, qid='Q%d' % i)
            times.append((time.perf_counter() - t0) * 1000)
            if letter not in 'ac':
                raise RuntimeError('message refused: %s' % letter)
            ar = miltclient.header_value(mods, 'Authentication-Results')
    finally:
        c.close()
    return times, ar


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def summary(name, times):
    print('  %-26s median %7.3f ms  p90 %7.3f  min %7.3f  max %7.3f' %
          (name, statistics.median(times), pct(times, 90), min(times),
           max(times)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=400)
    ap.add_argument('--warmup', type=int, default=50)
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory(prefix='vigil-bench-auth.') as tmp:
        msg, pub = signed_message(tmp)
        dns, dns_port = start_dns(tmp, pub)
        base = full = None
        try:
            base = Vigild(tmp, 'base', ['sanity'], dns_port)
            full = Vigild(tmp, 'full', ['sanity', 'spf', 'dkim', 'dmarc'],
                          dns_port)
            _, ar = run(full.port, msg, args.warmup)
            run(base.port, msg, args.warmup)
            print('Authentication-Results: %s' % ar)
            for want in ('spf=pass', 'dkim=pass', 'dmarc=pass'):
                if ar is None or want not in ar:
                    failures.append('warm run: no %s' % want)
            # interleave rounds so that both see the same machine load
            tb, tf = [], []
            for _ in range(4):
                tb += run(base.port, msg, args.n // 4)[0]
                tf += run(full.port, msg, args.n // 4)[0]
            print('Warm cache, %d messages each, one connection:' % len(tb))
            summary('sanity only', tb)
            summary('sanity+spf+dkim+dmarc', tf)
            added = statistics.median(tf) - statistics.median(tb)
            print('  added median latency: %.3f ms per message' % added)
        finally:
            for v in (base, full):
                if v is not None:
                    v.stop()
            dns.stdin.close()
            dns.terminate()
            dns.wait()

        # dead DNS: a UDP socket that never answers, TCP refused
        dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dead.bind(('127.0.0.1', 0))
        dead_port = dead.getsockname()[1]
        v = Vigild(tmp, 'dead', ['sanity', 'spf', 'dkim', 'dmarc'], dead_port,
                   'timeout = 200 budget = 500')
        try:
            times, ar = run(v.port, msg, 5)
            print('Dead DNS server (timeout 200 ms, budget 500 ms):')
            summary('one connection', times)
            print('  Authentication-Results: %s' % ar)
            for want in ('spf=temperror', 'dkim=temperror',
                         'dmarc=temperror'):
                if ar is None or want not in ar:
                    failures.append('dead DNS: no %s' % want)
            if max(times) > 500 + 250:
                failures.append('dead DNS: %.0f ms > budget' % max(times))
            par = []
            t0 = time.perf_counter()
            threads = [threading.Thread(target=lambda: par.extend(
                run(v.port, msg, 3)[0])) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = (time.perf_counter() - t0) * 1000
            summary('4 connections in parallel', par)
            print('  wall time of 4 x 3 messages in parallel: %.0f ms '
                  '(sequential would be about %.0f ms)' %
                  (wall, 12 * statistics.median(times)))
        finally:
            v.stop()
            dead.close()
    for f in failures:
        print('FAILED: %s' % f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

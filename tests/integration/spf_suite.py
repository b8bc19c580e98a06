#!/usr/bin/python3
"""RFC 7208 SPF test suite against `vigil spf` (libspf2 through vigil's
resolver), each scenario's zone data served by tests/integration/dnssrv.py
on 127.0.0.1. Prints TAP, one test per suite test. Known libspf2
limitations (tests/spf/known-failures.txt, documented in docs/auth.md) are
reported as TODO; a known failure that starts passing is reported too.

    spf_suite.py [SUITE.yml]    (default: tests/spf/rfc7208-tests.yml)
"""
import os
import subprocess
import sys
import tempfile

import yaml

from dnswaits import write_confs  # next to this script

TOP_SRC = os.environ.get('top_srcdir', os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', '..'))
TOP_BUILD = os.environ.get('top_builddir', TOP_SRC)
VIGIL = os.path.join(TOP_BUILD, 'milter', 'vigil')
DNSSRV = os.path.join(TOP_SRC, 'tests', 'integration', 'dnssrv.py')


def known_failures():
    path = os.path.join(TOP_SRC, 'tests', 'spf', 'known-failures.txt')
    known = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                name, _, why = line.partition(' ')
                known[name] = why.strip()
    return known


def start_server(suite, index):
    proc = subprocess.Popen(['/usr/bin/python3', DNSSRV, suite, '--scenario',
                             str(index), '--stdin-eof'],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    if not line.startswith('dnssrv: listening on 127.0.0.1 '):
        proc.kill()
        proc.wait()
        raise RuntimeError('dnssrv did not start: %r' % line)
    return proc, int(line.split()[-1])


def run_check(port, test, conf):
    out = subprocess.run([VIGIL, 'spf', '-c', conf,
                          '--dns', '127.0.0.1@%d' % port,
                          str(test['host']), str(test.get('helo', '')),
                          str(test.get('mailfrom', ''))],
                         capture_output=True, text=True, timeout=150)
    fields = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(': ')
        fields.setdefault(key, value)
    return out.returncode, fields


def judge(test, rc, fields):
    """None when the test passes, else a reason."""
    if rc != 0:
        return 'vigil spf exited %d' % rc
    want = test['result']
    want = want if isinstance(want, list) else [want]
    got = fields.get('result')
    if got not in want:
        return 'result %s, expected %s' % (got, '/'.join(want))
    exp = test.get('explanation')
    if exp and exp != 'DEFAULT' and got == 'fail':
        if fields.get('result-explanation') != exp:
            return 'explanation %r, expected %r' % (
                fields.get('result-explanation'), exp)
    return None


def main():
    suite = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        TOP_SRC, 'tests', 'spf', 'rfc7208-tests.yml')
    with open(suite, encoding='utf-8') as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    known = known_failures()
    total = sum(len(d.get('tests') or {}) for d in docs)
    print('1..%d' % total)
    n = 0
    failed = 0
    tmp = tempfile.TemporaryDirectory(prefix='vigil-spfsuite.')
    confs = write_confs(tmp.name)
    for index, doc in enumerate(docs):
        # a scenario with a never-answered name: the short wait for all
        # its tests (some expect temperror, others only query that name
        # for an explanation)
        zone = doc.get('zonedata') or {}
        dead = any('TIMEOUT' in (items or []) for items in zone.values())
        conf = confs['dead' if dead else 'answered']
        try:
            proc, port = start_server(suite, index)
        except (OSError, RuntimeError) as e:
            # every test of the scenario fails, with the reason
            for name in doc.get('tests') or {}:
                n += 1
                failed += 1
                print('not ok %d - %s: %s: DNS server: %s' % (
                    n, doc.get('description', index), name, e))
            continue
        try:
            for name, test in (doc.get('tests') or {}).items():
                n += 1
                try:
                    rc, fields = run_check(port, test, conf)
                    why = judge(test, rc, fields)
                except (OSError, subprocess.SubprocessError) as e:
                    why = 'vigil spf: %s' % e
                label = '%s: %s' % (doc.get('description', index), name)
                if name in known:
                    state = 'not ok' if why else 'ok'
                    print('%s %d - %s # TODO %s%s' % (
                        state, n, label, known[name],
                        '' if why else ' (now passes: update known-failures)'))
                elif why:
                    failed += 1
                    print('not ok %d - %s: %s' % (n, label, why))
                else:
                    print('ok %d - %s' % (n, label))
                sys.stdout.flush()
        finally:
            proc.stdin.close()
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print('# dnssrv ignored SIGTERM for 30 s: killed')
                proc.kill()
                proc.wait()
    tmp.cleanup()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

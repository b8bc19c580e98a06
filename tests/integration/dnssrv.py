#!/usr/bin/python3
"""dnssrv.py - a small authoritative DNS server for vigil's tests.

Serves the `zonedata` of one document of a YAML stream (the format of the
openspf.org SPF test suite) on 127.0.0.1, UDP and TCP, same port:

    dnssrv.py FILE [--scenario N | --test NAME] [--port P] [--ttl T]
              [--log FILE]

Zone data: {name: [ {TYPE: value}, ..., "TIMEOUT" | "SERVFAIL" ]}.
Values: A/AAAA address (or list), MX [prio, host], TXT/SPF string or list
of strings (one record with several character-strings), PTR/CNAME host.
Rules: SPF items are also served as TXT unless the name has TXT items;
`TXT: NONE` means no TXT; TIMEOUT drops queries for types the name lacks,
SERVFAIL answers them with SERVFAIL; CNAMEs are followed within the data;
unknown names get NXDOMAIN, known names without the type NODATA (both
with a root SOA). UDP answers above 512 bytes (or the EDNS size) are
truncated. --log appends "NAME TYPE" for each query to FILE, before
answering it. Prints "dnssrv: listening on 127.0.0.1 PORT" when ready, stops
on SIGTERM or when stdin reaches EOF with --stdin-eof.
"""
import argparse
import os
import signal
import socketserver
import sys
import threading

import yaml
from dnslib import (AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, A,
                    DNSRecord)

SPF_TYPE = 99


def norm(name):
    return str(name).rstrip('.').lower()


def as_list(v):
    return v if isinstance(v, list) else [v]


def txt_strings(value):
    """TXT value -> list of bytes character-strings (<=255 each)."""
    parts = value if isinstance(value, list) else [value]
    out = []
    for p in parts:
        b = p.encode('utf-8') if isinstance(p, str) else bytes(p)
        if not b:
            out.append(b'')
        while b:
            out.append(b[:255])
            b = b[255:]
    return out or [b'']   # RDATA holds at least one string


class Zone:
    def __init__(self, zonedata, ttl):
        self.ttl = ttl
        self.names = {}
        for name, items in (zonedata or {}).items():
            self.names[norm(name)] = items or []

    def _items(self, name):
        return self.names.get(name)

    def _records(self, name, qtype):
        """Resource data for name/qtype, or None if none."""
        items = self._items(name) or []
        typed = [i for i in items if isinstance(i, dict)]
        want = QTYPE.get(qtype)
        recs = []
        for it in typed:
            for t, v in it.items():
                if t == want:
                    recs.append(v)
        if qtype == QTYPE.TXT and not recs:
            has_txt_item = any('TXT' in it for it in typed)
            if not has_txt_item:
                recs = [v for it in typed for t, v in it.items()
                        if t == 'SPF']
        recs = [r for r in recs if r != 'NONE']
        return recs

    def _rdata(self, qtype, v):
        if qtype == QTYPE.A:
            return [A(x) for x in as_list(v)]
        if qtype == QTYPE.AAAA:
            return [AAAA(x) for x in as_list(v)]
        if qtype == QTYPE.MX:
            return [MX(str(v[1]), int(v[0]))]
        if qtype in (QTYPE.TXT, SPF_TYPE):
            return [TXT(txt_strings(v))]
        if qtype == QTYPE.PTR:
            return [PTR(str(v))]
        if qtype == QTYPE.CNAME:
            return [CNAME(str(v))]
        return []

    def _cname(self, name):
        for it in self._items(name) or []:
            if isinstance(it, dict) and 'CNAME' in it:
                return norm(it['CNAME'])
        return None

    def answer(self, request):
        """Reply record, or None to drop the query (timeout)."""
        reply = request.reply()
        q = request.q
        name = norm(q.qname)
        qtype = q.qtype
        seen = set()
        while True:
            items = self._items(name)
            if items is None:
                if not reply.rr:
                    reply.header.rcode = RCODE.NXDOMAIN
                self._soa(reply)
                return reply
            target = self._cname(name)
            if target and qtype != QTYPE.CNAME:
                reply.add_answer(RR(name + '.', QTYPE.CNAME, ttl=self.ttl,
                                    rdata=CNAME(target + '.')))
                if target in seen or len(seen) > 8:
                    return reply
                seen.add(name)
                name = target
                continue
            recs = self._records(name, qtype)
            if recs:
                for v in recs:
                    for rd in self._rdata(qtype, v):
                        reply.add_answer(RR(name + '.', qtype, ttl=self.ttl,
                                            rdata=rd))
                return reply
            if 'TIMEOUT' in items:
                return None
            if 'SERVFAIL' in items:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            self._soa(reply)
            return reply

    def _soa(self, reply):
        reply.add_auth(RR('.', QTYPE.SOA, ttl=self.ttl,
                          rdata=SOA('ns.test.', 'hostmaster.test.',
                                    (1, 3600, 600, 86400, self.ttl))))


def edns_size(request):
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return max(512, rr.rclass)
    return 512


class QueryLog:
    """Appends each question to a file, flushed before the answer leaves,
    so a client that got an answer can rely on the line being there."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, 'a', encoding='utf-8') if path else None

    def write(self, request):
        if self.f is None:
            return
        with self.lock:
            self.f.write('%s %s\n' % (norm(request.q.qname),
                                      QTYPE.get(request.q.qtype)))
            self.f.flush()


LOG = QueryLog(None)


def handle(zone, data, udp):
    try:
        request = DNSRecord.parse(data)
    except Exception:
        return None
    LOG.write(request)
    reply = zone.answer(request)
    if reply is None:
        return None
    packed = reply.pack()
    if udp and len(packed) > edns_size(request):
        trunc = request.reply()
        trunc.header.tc = 1
        packed = trunc.pack()
    return packed


def make_servers(zone, port):
    class UDPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            out = handle(zone, data, True)
            if out is not None:
                sock.sendto(out, self.client_address)

    class TCPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            for _ in range(100):
                head = self._read(2)
                if head is None:
                    return
                data = self._read(int.from_bytes(head, 'big'))
                if data is None:
                    return
                out = handle(zone, data, False)
                if out is None:
                    return
                self.request.sendall(len(out).to_bytes(2, 'big') + out)

        def _read(self, n):
            buf = b''
            while len(buf) < n:
                chunk = self.request.recv(n - len(buf))
                if not chunk:
                    return None
                buf += chunk
            return buf

    # No SO_REUSEADDR on UDP: two UDP sockets that both set it may share a
    # port on Linux, and a port picked by the kernel (--port 0) could then
    # be one another test's server already uses.
    socketserver.ThreadingUDPServer.allow_reuse_address = False
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingUDPServer.daemon_threads = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    for _ in range(50):
        udp = socketserver.ThreadingUDPServer(('127.0.0.1', port), UDPHandler)
        real = udp.server_address[1]
        try:
            tcp = socketserver.ThreadingTCPServer(('127.0.0.1', real),
                                                  TCPHandler)
            return udp, tcp
        except OSError:
            udp.server_close()
            if port != 0:
                raise
    raise OSError('no free port for UDP and TCP')


def pick_document(path, scenario, test):
    with open(path, encoding='utf-8') as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if test is not None:
        for d in docs:
            if test in (d.get('tests') or {}):
                return d
        sys.exit('dnssrv: no test %s' % test)
    if scenario >= len(docs):
        sys.exit('dnssrv: no scenario %d' % scenario)
    return docs[scenario]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--scenario', type=int, default=0)
    ap.add_argument('--test')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--ttl', type=int, default=0)
    ap.add_argument('--stdin-eof', action='store_true',
                    help='exit when stdin is closed')
    ap.add_argument('--log', help='append each query to this file')
    args = ap.parse_args()
    global LOG
    LOG = QueryLog(args.log)
    doc = pick_document(args.file, args.scenario, args.test)
    zone = Zone(doc.get('zonedata'), args.ttl)
    udp, tcp = make_servers(zone, args.port)
    for srv in (udp, tcp):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print('dnssrv: listening on 127.0.0.1 %d' % udp.server_address[1],
          flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    if args.stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                         daemon=True).start()
    # Wait in short steps: Python runs a signal handler in the main
    # thread only, and a SIGTERM the kernel hands to a server thread
    # would not wake a wait without a timeout. Then exit at once: a
    # client that keeps a TCP connection open must not hold the test up.
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()

"""miltclient.py - a small MTA-side milter protocol (v6) client for vigil's
tests and benchmarks (not a test itself).

    c = MilterClient('127.0.0.1', port)      # connects, negotiates
    reply, mods = c.message(client_ip, helo, mail_from, rcpts, raw_message)

Negotiation offers what Postfix offers (every action, every protocol
flag including SMFIP_HDR_LEADSPC), so the milter picks its no-reply and
skip options and header values travel with their leading space.
message() sends one transaction (CONNECT and HELO only for the first one
on a connection), the headers one by one, the body in chunks, and returns
the end-of-message reply code letter and the modification packets.
"""
import socket
import struct

SMFIP_ALL = 0x1FFFFF
SMFIF_ALL = 0x1FF
NO = {'C': 0x1, 'H': 0x2, 'M': 0x4, 'R': 0x8, 'B': 0x10, 'L': 0x20,
      'N': 0x40, 'T': 0x200}
NR = {'C': 0x1000, 'H': 0x2000, 'M': 0x4000, 'R': 0x8000, 'T': 0x10000,
      'N': 0x40000, 'B': 0x80000, 'L': 0x80}
LEADSPC = 0x100000
FINAL = set('acdrty')   # accept, continue, discard, reject, tempfail, reply


class MilterError(Exception):
    pass


class MilterClient:
    def __init__(self, host, port, timeout=60):
        self.sock = socket.create_connection((host, port), timeout)
        # small packets, one after the other: no Nagle delay
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.connected = False
        self._send(b'O', struct.pack('>III', 6, SMFIF_ALL, SMFIP_ALL))
        cmd, data = self._read()
        if cmd != b'O' or len(data) < 12:
            raise MilterError('bad negotiation reply %r' % cmd)
        _, _, self.proto = struct.unpack('>III', data[:12])

    def close(self):
        try:
            self._send(b'Q', b'')
        finally:
            self.sock.close()

    def _send(self, cmd, data):
        self.sock.sendall(struct.pack('>I', len(data) + 1) + cmd + data)

    def _read(self):
        while len(self.buf) < 4 or \
                len(self.buf) < 4 + struct.unpack('>I', self.buf[:4])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MilterError('connection closed by the milter')
            self.buf += chunk
        n = struct.unpack('>I', self.buf[:4])[0]
        pkt, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return pkt[:1], pkt[1:]

    def _step(self, cmd, data):
        """Send one command; its reply letter, or None when not replied."""
        c = cmd.decode()
        if self.proto & NO.get(c, 0):
            return None
        self._send(cmd, data)
        if self.proto & NR.get(c, 0):
            return None
        while True:
            r, _ = self._read()
            if r != b'p':   # progress
                return r.decode()

    def message(self, client_ip, helo, mail_from, rcpts, raw, chunk=65535,
                qid='BENCH1'):
        """One transaction. Returns (reply letter, [(cmd, data) mods]) or
        (letter, []) when an earlier step was refused."""
        if not self.connected:
            r = self._step(b'C', b'client.example\0' + b'4' +
                           struct.pack('>H', 25) + client_ip.encode() + b'\0')
            if r not in (None, 'c'):
                return r, []
            self._send(b'D', b'H' + b'j\0mx.test\0')
            r = self._step(b'H', helo.encode() + b'\0')
            if r not in (None, 'c'):
                return r, []
            self.connected = True
        self._send(b'D', b'M' + b'i\0' + qid.encode() + b'\0')
        r = self._step(b'M', b'<' + mail_from.encode() + b'>\0')
        if r not in (None, 'c'):
            return r, []
        for rc in rcpts:
            self._step(b'R', b'<' + rc.encode() + b'>\0')
        self._step(b'T', b'')
        head, _, body = raw.partition(b'\r\n\r\n')
        for name, value in split_headers(head + b'\r\n'):
            if not self.proto & LEADSPC and value[:1] == b' ':
                value = value[1:]
            r = self._step(b'L', name + b'\0' + value + b'\0')
            if r == 's':   # skip the rest of the headers? not in v6
                break
        self._step(b'N', b'')
        for off in range(0, len(body), chunk):
            r = self._step(b'B', body[off:off + chunk])
            if r == 's':
                break
        self._send(b'E', b'')
        mods = []
        while True:
            r, data = self._read()
            letter = r.decode()
            if letter in FINAL:
                return letter, mods
            if letter != 'p':
                mods.append((letter, data))


def split_headers(block):
    """[(name, value)] of a CRLF header block; value as on the wire after
    the colon (leading space and folding kept), without the final CRLF."""
    out = []
    lines = block.split(b'\r\n')
    cur = None
    for line in lines:
        if line[:1] in (b' ', b'\t') and cur is not None:
            cur[1] += b'\r\n' + line
            continue
        if cur is not None:
            out.append((cur[0], cur[1]))
        if not line:
            cur = None
            continue
        name, _, value = line.partition(b':')
        cur = [name, value]
    if cur is not None:
        out.append((cur[0], cur[1]))
    return out


def header_value(mods, name):
    """Value of the first added or inserted header called name."""
    for letter, data in mods:
        if letter == 'h':
            fields = data.split(b'\0')
        elif letter == 'i':
            fields = data[4:].split(b'\0')
        else:
            continue
        if fields[0].decode().lower() == name.lower():
            return fields[1].decode(errors='replace')
    return None

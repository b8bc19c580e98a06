#!/usr/bin/python3
"""SMTP sink for the MTA integration tests.

    sink.py DIR PORTFILE [NAME]

Listens on 127.0.0.1 (a free port, written to PORTFILE once listening),
accepts every transaction and stores each message as DIR/NNNNNN.eml: two
envelope lines (X-Sink-Mail-From:, X-Sink-Rcpt-To:) and then the message
as received, dot-unstuffed, CRLF line ends kept. A file appears only once
complete (written under a temporary name, then renamed), so a reader
that counts *.eml never sees half a message. NAME is the host name the
sink announces; it must differ from the MTA's own, or the MTA refuses to
deliver ("mail loops back to myself"). Runs until SIGTERM.
"""
import asyncio
import itertools
import os
import signal
import sys

MAX_LINE = 1 << 20


class Sink:
    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        self.seq = itertools.count(1)

    def store(self, mail_from, rcpts, lines):
        n = next(self.seq)
        tmp = os.path.join(self.dir, ".%06d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(b"X-Sink-Mail-From: " + mail_from + b"\r\n")
            f.write(b"X-Sink-Rcpt-To: " + b", ".join(rcpts) + b"\r\n")
            f.writelines(lines)
        os.rename(tmp, os.path.join(self.dir, "%06d.eml" % n))

    async def session(self, reader, writer):
        def reply(text):
            writer.write(text.encode() + b"\r\n")

        reply("220 %s ESMTP test sink" % self.name)
        mail_from, rcpts = None, []
        try:
            while True:
                line = await reader.readuntil(b"\n")
                verb = line[:4].upper()
                arg = line.strip()[5:].strip()
                if verb == b"EHLO":
                    reply("250-%s\r\n250-8BITMIME\r\n250 SIZE 0" % self.name)
                elif verb == b"HELO":
                    reply("250 %s" % self.name)
                elif verb == b"MAIL":
                    mail_from, rcpts = arg.split(b":", 1)[-1].strip(), []
                    reply("250 2.1.0 Ok")
                elif verb == b"RCPT" and mail_from is not None:
                    rcpts.append(arg.split(b":", 1)[-1].strip())
                    reply("250 2.1.5 Ok")
                elif verb == b"DATA" and rcpts:
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    lines = await self.read_data(reader)
                    self.store(mail_from, rcpts, lines)
                    mail_from, rcpts = None, []
                    reply("250 2.0.0 Ok: stored")
                elif verb in (b"RSET", b"NOOP"):
                    mail_from, rcpts = None, []
                    reply("250 2.0.0 Ok")
                elif verb == b"QUIT":
                    reply("221 2.0.0 Bye")
                    break
                else:
                    reply("503 5.5.1 Bad sequence or unknown command")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            await writer.drain()
            writer.close()

    @staticmethod
    async def read_data(reader):
        lines = []
        while True:
            line = await reader.readuntil(b"\n")
            if line in (b".\r\n", b".\n"):
                return lines
            lines.append(line[1:] if line.startswith(b".") else line)


async def main(directory, portfile, name):
    sink = Sink(directory, name)
    server = await asyncio.start_server(sink.session, "127.0.0.1", 0,
                                        limit=MAX_LINE)
    port = server.sockets[0].getsockname()[1]
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, stop.set_result, None)
    await stop
    server.close()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2],
                     sys.argv[3] if len(sys.argv) == 4 else "sink.test.invalid"))

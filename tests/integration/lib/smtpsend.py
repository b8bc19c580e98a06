#!/usr/bin/python3
"""Send message files over ONE SMTP connection and report each reply.

    smtpsend.py PORT FILE...

Connects to 127.0.0.1:PORT, says EHLO client.test.invalid, and sends each
FILE as its own transaction (MAIL FROM:<sender@example.org>, RCPT
TO:<rcpt@example.net>, DATA). Files are sent as they are, with LF turned
into CRLF. One line per file on stdout:

    FILE<TAB>CODE<TAB>TEXT

where CODE/TEXT is the reply that ended the transaction (the reply to the
end of DATA, or the failing MAIL/RCPT/DATA reply), multi-line replies
joined with a space. Exit status 0 when every file got a reply, 1 when the
connection failed.
"""
import smtplib
import sys

SENDER = "sender@example.org"
RCPT = "rcpt@example.net"
TIMEOUT = 120


def send_one(smtp, data):
    """Return (code, text) of the reply that ends this transaction."""
    code, text = smtp.mail(SENDER)
    if code != 250:
        return code, text
    code, text = smtp.rcpt(RCPT)
    if code not in (250, 251):
        smtp.rset()
        return code, text
    try:
        return smtp.data(data)
    except smtplib.SMTPDataError as e:      # DATA itself refused
        smtp.rset()
        return e.smtp_code, e.smtp_error


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    port, files = int(argv[1]), argv[2:]
    try:
        smtp = smtplib.SMTP("127.0.0.1", port, "client.test.invalid",
                            timeout=TIMEOUT)
        smtp.ehlo("client.test.invalid")
        for name in files:
            with open(name, "rb") as f:
                code, text = send_one(smtp, crlf(f.read()))
            text = text.decode("utf-8", "replace").replace("\n", " ")
            print("%s\t%d\t%s" % (name, code, text), flush=True)
        smtp.quit()
    except (OSError, smtplib.SMTPException) as e:
        print("smtpsend: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""smtp_dialogue.py - scripted SMTP dialogues for t/milter/smtpd.sh, run
the same against mvmtr-smtpd and notqmail's qmail-smtpd.

    smtp_dialogue.py HOST PORT NAME [SOURCE-IP]

prints one line per reply the server gives, "NAME STEP CODE TEXT"
(STEP counts the replies from 0, the greeting), then "NAME end closed"
when the server closed the connection, or "NAME end open" when the
dialogue ended with the connection still open. A reply that does not
come within 10 s is "NAME STEP timeout".
"""
import socket
import sys

RCPT = "joe@mx.test.example"
MSG = "From: a@sender.test\r\nTo: " + RCPT + "\r\nSubject: dialogue\r\n\r\nbody\r\n"


def big(n):
    line = "x" * 76 + "\r\n"
    return MSG + line * (n // len(line)) + ".\r\n"


# Each dialogue: a list of (bytes to send, replies to read). b"" with a
# count reads without sending; None closes our side.
DIALOGUES = {
    "basic": [(b"", 1), (b"EHLO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
              ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"DATA\r\n", 1), (MSG + ".\r\n", 1),
              (b"QUIT\r\n", 1)],
    "relay": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
              (b"RCPT TO:<x@elsewhere.example>\r\n", 1), (b"RCPT TO:<x@sub.relay.test>\r\n", 1),
              (b"RCPT TO:<x@more.test>\r\n", 1), (b"RCPT TO:<x@a.more.test>\r\n", 1),
              (b"RCPT TO:<x@notmore.test>\r\n", 1), (b"RCPT TO:<postmaster>\r\n", 1),
              (b"QUIT\r\n", 1)],
    "badmailfrom": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<x@bad.test>\r\n", 1),
                    ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"RSET\r\n", 1),
                    (b"MAIL FROM:<spammer@sender.test>\r\n", 1), ("RCPT TO:<%s>\r\n" % RCPT, 1),
                    (b"QUIT\r\n", 1)],
    "databytes": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
                  ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"DATA\r\n", 1), (big(4000), 1),
                  (b"QUIT\r\n", 1)],
    "size": [(b"", 1), (b"EHLO client.test\r\n", 1),
             (b"MAIL FROM:<a@sender.test> SIZE=99999999\r\n", 1), (b"QUIT\r\n", 1)],
    "barelf": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
               ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"DATA\r\n", 1),
               (b"Subject: x\r\n\r\none\ntwo\r\n.\r\n", 1), (b"QUIT\r\n", 1)],
    "pipelined": [(b"", 1), (b"EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\n"
                             b"RCPT TO:<" + RCPT.encode() + b">\r\nRCPT TO:<x@elsewhere.example>\r\n"
                             b"DATA\r\n", 5), (MSG + ".\r\nQUIT\r\n", 2)],
    "onemb": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
              ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"DATA\r\n", 1), (big(1 << 20), 1),
              (b"QUIT\r\n", 1)],
    "middata": [(b"", 1), (b"HELO client.test\r\n", 1), (b"MAIL FROM:<a@sender.test>\r\n", 1),
                ("RCPT TO:<%s>\r\n" % RCPT, 1), (b"DATA\r\n", 1),
                (b"Subject: cut\r\n\r\nhalf a mess", 0), (None, 0)],
    "commands": [(b"", 1), (b"HELO\r\n", 1), (b"HELO client.test\r\n", 1), (b"NOOP\r\n", 1),
                 (b"VRFY joe\r\n", 1), (b"FROB\r\n", 1), (b"DATA\r\n", 1),
                 (b"RCPT TO:<" + RCPT.encode() + b">\r\n", 1),
                 (b"MAIL FROM:<a@sender.test>\r\n", 1), (b"MAIL FROM:<b@sender.test>\r\n", 1),
                 (b"DATA\r\n", 1), (b"RSET\r\n", 1),
                 (b"MAIL FROM:<c@sender.test> FOO=bar\r\n", 1), (b"MAIL FROM:a@sender.test\r\n", 1), (b"RSET\r\n", 1),
                 (b"MAIL FROM:<\"q d\"@sender.test>\r\n", 1), (b"RSET\r\n", 1),
                 (b"NOOP " + b"x" * 600 + b"\r\n", 1), (b"NO\x00OP\r\n", 1),
                 (b"QUIT\r\n", 1)],
}


def main():
    host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    src = sys.argv[4] if len(sys.argv) > 4 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(10)
    s.connect((host, port))
    f = s.makefile("rb")
    step, closed = 0, False
    for send, n in DIALOGUES[name]:
        if send is None:
            s.shutdown(socket.SHUT_WR)
            try:
                closed = f.read() == b""
            except OSError:
                closed = True
            break
        if isinstance(send, str):
            send = send.encode()
        if send:
            try:
                s.sendall(send)
            except OSError:
                closed = True
                break
        for _ in range(n):
            try:
                line = f.readline()
                while line[3:4] == b"-":
                    line = f.readline()
            except socket.timeout:
                print("%s %d timeout" % (name, step))
                step += 1
                continue
            except OSError:
                line = b""      # reset by the server: it closed
            if not line:
                closed = True
                break
            text = line.decode("latin-1").rstrip("\r\n")
            print("%s %d %s %s" % (name, step, text[:3], text[4:]))
            step += 1
        if closed:
            break
    if not closed:
        try:
            s.settimeout(2)
            closed = f.read() == b""
        except (socket.timeout, OSError):
            closed = False
    print("%s end %s" % (name, "closed" if closed else "open"))


if __name__ == "__main__":
    main()

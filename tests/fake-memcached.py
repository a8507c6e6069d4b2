#!/usr/bin/env python3
"""A scripted fake memcached for tests/wire.bats: each reply as its mode says.

Usage:
    fake-memcached.py --port-file FILE --mode MODE [--reply TEXT]
        [--size N] [--interval SECONDS] [--target COMMAND ...] [--log FILE]
        [--lifetime SECONDS]

It listens on 127.0.0.1, on a port the kernel chooses, writes that port
to FILE (whole, by renaming) once it listens, and serves any number of
connections, a thread each.  It reads requests of the text protocol (a
command line, and the data block of set, add, replace, append, prepend,
cas and ms) and of the binary protocol (a 24-byte header and its body),
and answers each request that expects a reply:

    reply          TEXT, with \\r, \\n, \\t, \\\\ and \\xHH decoded and every
                   {key} replaced by the request's first key, then CR LF
    huge-line      "SERVER_ERROR ", N bytes of "x" (default 10,000,000), CR LF
    endless-value  "VALUE KEY 0 N" (default 1099511627776), CR LF, then
                   bytes without end
    random         random bytes without end
    reset          the first half of a valid reply, then a reset (RST)
    drip           a valid reply, one byte every SECONDS (default 0.3)
    endless-list   to stats, "STAT nX X" lines without end; to lru_crawler
                   metadump, "key=kX ..." lines without end (with --size,
                   X runs through N names over and over); else a valid
                   reply
    silent         nothing, ever
    exit           no reply: the fake exits at once, as if killed, so
                   its connections close and its port refuses
    valid          a valid reply (see natural_reply())

With --target (repeatable), only requests whose first word is one of
the COMMANDs (e.g. stats) are answered as the mode says; the others get
a valid reply.  Requests that expect no reply (noreply, meta q, binary
quiet commands) get none, as from memcached, and quit closes the
connection.  With --log, each request's command line (or binary
opcode) is appended to FILE as it arrives.  The fake exits by itself
after --lifetime seconds (default 60), and at once on SIGTERM or SIGINT.
"""

import argparse
import os
import signal
import socket
import struct
import threading
import time

STORAGE = {b"set", b"add", b"replace", b"append", b"prepend", b"cas"}
RETRIEVAL = {b"get", b"gets", b"gat", b"gats"}
LINE_MAX = 1 << 20

# Binary protocol opcodes that reply only on failure (or, for the gets,
# only on a hit), and quit.
BIN_QUIET = {0x09, 0x0D, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
             0x19, 0x1A, 0x1E, 0x24, 0x26}
BIN_QUIT = {0x07, 0x17}

log_lock = threading.Lock()


def decode_escapes(text):
    """Bytes of text with \\r, \\n, \\t, \\\\ and \\xHH decoded."""
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and i + 1 < len(raw):
            e = raw[i + 1:i + 2]
            if e in (b"r", b"n", b"t", b"\\"):
                out += {b"r": b"\r", b"n": b"\n", b"t": b"\t",
                        b"\\": b"\\"}[e]
                i += 2
                continue
            if e == b"x" and i + 4 <= len(raw):
                out.append(int(raw[i + 2:i + 4], 16))
                i += 4
                continue
        out += c
        i += 1
    return bytes(out)


class Request:
    """One request: its command, first key, and whether it wants a reply."""

    def __init__(self, command, key, wants_reply, binary=False, opcode=0,
                 opaque=0, line=b""):
        self.command = command
        self.key = key
        self.wants_reply = wants_reply
        self.binary = binary
        self.opcode = opcode
        self.opaque = opaque
        self.line = line


class Conn:
    """Buffered reads from one client socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def skip(self, n):
        """Drop n bytes of input without keeping more than a buffer."""
        while n > 0:
            if not self.buf:
                self.fill()
            k = min(n, len(self.buf))
            del self.buf[:k]
            n -= k

    def read_line(self):
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line = bytes(self.buf[:nl + 1])
                del self.buf[:nl + 1]
                return line.rstrip(b"\r\n")
            if len(self.buf) > LINE_MAX:
                # Not a request: drop it.
                self.buf.clear()
            self.fill()


def read_request(conn):
    """The next request of either protocol; raises EOFError at the end."""
    while not conn.buf:
        conn.fill()
    if conn.buf[0] == 0x80:
        header = conn.read_exact(24)
        (_, opcode, keylen, extlen, _, _, bodylen, opaque,
         _) = struct.unpack(">BBHBBHIIQ", header)
        body = conn.read_exact(min(bodylen, 1 << 16))
        conn.skip(bodylen - len(body))
        key = body[extlen:extlen + keylen]
        return Request(b"binary", key, opcode not in BIN_QUIET,
                       binary=True, opcode=opcode, opaque=opaque,
                       line=b"binary opcode 0x%02x key %s" % (opcode, key))
    line = conn.read_line()
    words = line.split()
    if not words:
        return Request(b"", b"", True, line=line)
    command = words[0]
    key = words[1] if len(words) > 1 else b""
    wants = words[-1] != b"noreply"
    if command in STORAGE and len(words) >= 5:
        conn.skip(int(words[4]) + 2 if words[4].isdigit() else 0)
    elif command == b"ms" and len(words) >= 3:
        conn.skip(int(words[2]) + 2 if words[2].isdigit() else 0)
    if command in (b"ms", b"mg", b"md", b"ma") and b"q" in words[2:]:
        wants = False
    if command == b"lru_crawler" and len(words) > 1:
        command = b"lru_crawler " + words[1]
    return Request(command, key, wants, line=line)


def binary_reply(req, status=0, extras=b"", key=b"", value=b""):
    """A binary-protocol response to req."""
    body = extras + key + value
    return struct.pack(">BBHBBHIIQ", 0x81, req.opcode, len(key),
                       len(extras), 0, status, len(body), req.opaque,
                       1) + body


def natural_reply(req):
    """A valid reply to req, as memcached could give it."""
    if req.binary:
        if req.opcode in (0x00, 0x09, 0x0C, 0x0D):
            key = req.key if req.opcode in (0x0C, 0x0D) else b""
            return binary_reply(req, extras=b"\0\0\0\0", key=key,
                                value=b"0123456789")
        if req.opcode in (0x05, 0x06, 0x15, 0x16):
            return binary_reply(req, value=struct.pack(">Q", 12345))
        if req.opcode == 0x0B:
            return binary_reply(req, value=b"1.6.99")
        if req.opcode == 0x10:
            return (binary_reply(req, key=b"pid", value=b"1") +
                    binary_reply(req))
        return binary_reply(req)
    c = req.command
    if c in RETRIEVAL:
        return b"VALUE %s 0 10%s\r\n0123456789\r\nEND\r\n" % (
            req.key, b" 1" if c in (b"gets", b"gats") else b"")
    if c in STORAGE:
        return b"STORED\r\n"
    if c == b"delete":
        return b"DELETED\r\n"
    if c in (b"incr", b"decr"):
        return b"12345\r\n"
    if c == b"touch":
        return b"TOUCHED\r\n"
    if c in (b"flush_all", b"verbosity"):
        return b"OK\r\n"
    if c == b"version":
        return b"VERSION 1.6.99\r\n"
    if c == b"stats":
        return (b"STAT pid 1\r\nSTAT uptime 10\r\nSTAT version 1.6.99\r\n"
                b"END\r\n")
    if c == b"lru_crawler metadump":
        return (b"key=k exp=-1 la=1 cas=1 fetch=no cls=1 size=1\r\n"
                b"END\r\n")
    if c == b"mn":
        return b"MN\r\n"
    if c == b"mg":
        return b"VA 10\r\n0123456789\r\n"
    if c in (b"ms", b"md", b"ma"):
        return b"HD\r\n"
    return b"ERROR\r\n"


def endless(sock, make_chunk):
    """Send chunks from make_chunk(n), n = 0, 1, ..., until the client goes."""
    n = 0
    while True:
        sock.sendall(make_chunk(n))
        n += 1


def stat_chunk(n):
    base = n * 1000
    return b"".join(b"STAT n%d %d\r\n" % (i, i)
                    for i in range(base, base + 1000))


def key_chunk(n, names=None):
    base = n * 1000
    return b"".join(b"key=k%d exp=-1 la=1 cas=1 fetch=no cls=1 size=1\r\n"
                    % (i if names is None else i % names)
                    for i in range(base, base + 1000))


def answer(sock, req, opts):
    """Answer one request as the mode says."""
    mode = opts.mode
    if opts.targets and req.line.split(b" ")[0] not in opts.targets:
        mode = "valid"
    if mode == "silent":
        return
    if mode == "exit":
        os._exit(0)
    if mode == "valid":
        sock.sendall(natural_reply(req))
    elif mode == "reply":
        sock.sendall(opts.reply_bytes.replace(b"{key}", req.key) + b"\r\n")
    elif mode == "huge-line":
        sock.sendall(b"SERVER_ERROR ")
        left = opts.size if opts.size is not None else 10 * 1000 * 1000
        block = b"x" * 65536
        while left > 0:
            n = min(left, len(block))
            sock.sendall(block[:n])
            left -= n
        sock.sendall(b"\r\n")
    elif mode == "endless-value":
        size = opts.size if opts.size is not None else 1 << 40
        sock.sendall(b"VALUE %s 0 %d\r\n" % (req.key, size))
        block = b"v" * 65536
        endless(sock, lambda n: block)
    elif mode == "random":
        endless(sock, lambda n: os.urandom(65536))
    elif mode == "reset":
        whole = natural_reply(req)
        sock.sendall(whole[:len(whole) // 2])
        # Let the half reach the client before the reset does.
        time.sleep(0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        sock.close()
        raise EOFError
    elif mode == "drip":
        for b in natural_reply(req):
            sock.sendall(bytes((b,)))
            time.sleep(opts.interval)
    elif mode == "endless-list":
        if req.command == b"stats":
            endless(sock, stat_chunk)
        elif req.command == b"lru_crawler metadump":
            endless(sock, lambda n: key_chunk(n, opts.size))
        else:
            sock.sendall(natural_reply(req))


def log_request(opts, req):
    if opts.log is None:
        return
    with log_lock, open(opts.log, "ab") as f:
        f.write(req.line.replace(b"\n", b"\\n") + b"\n")


def serve(sock, opts):
    """Serve one connection until the client closes it or it breaks."""
    conn = Conn(sock)
    try:
        while True:
            req = read_request(conn)
            log_request(opts, req)
            if req.command == b"quit" or (req.binary and
                                          req.opcode in BIN_QUIT):
                break
            if req.wants_reply:
                answer(sock, req, opts)
    except (EOFError, OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser(
        description="A scripted fake memcached for hostile-server tests.")
    p.add_argument("--port-file", required=True)
    p.add_argument("--mode", required=True,
                   choices=["reply", "huge-line", "endless-value", "random",
                            "reset", "drip", "endless-list", "silent",
                            "exit", "valid"])
    p.add_argument("--reply", default="END")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--interval", type=float, default=0.3)
    p.add_argument("--target", action="append", default=[])
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=60)
    opts = p.parse_args()
    opts.reply_bytes = decode_escapes(opts.reply)
    opts.targets = {t.encode() for t in opts.target}

    def quit_now(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, quit_now)
    signal.signal(signal.SIGINT, quit_now)
    timer = threading.Timer(opts.lifetime, quit_now)
    timer.daemon = True
    timer.start()

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, opts.port_file)
    while True:
        sock, _ = lsock.accept()
        t = threading.Thread(target=serve, args=(sock, opts), daemon=True)
        t.start()


if __name__ == "__main__":
    main()

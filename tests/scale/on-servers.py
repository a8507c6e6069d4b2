#!/usr/bin/python3
"""Where keys are: ask each server directly, in the text protocol.

usage: on-servers.py SERVERS PREFIX COUNT VALUEPREFIX [COPIES]

SERVERS is "host:port[:weight],...".  For each key PREFIX1 .. PREFIXCOUNT,
prints the servers that hold it with the value VALUEPREFIXn, as
"host:port" separated by spaces, one line per key.  Exits 1, saying why
on standard error, when a key is not on exactly COPIES servers (default
1), when a server holds a wrong value, or when a server holds none of
the keys.
"""

import socket
import sys


def get_many(host, port, keys):
    """The values the server holds for keys, as a dict."""
    found = {}
    with socket.create_connection((host, port), timeout=5) as s:
        f = s.makefile("rb")
        for i in range(0, len(keys), 100):
            batch = keys[i:i + 100]
            s.sendall(("get %s\r\n" % " ".join(batch)).encode())
            while True:
                line = f.readline()
                if line == b"END\r\n":
                    break
                if not line.startswith(b"VALUE "):
                    raise SystemExit("%s:%d: %r" % (host, port, line))
                _, key, _, size = line.split()[:4]
                data = f.read(int(size) + 2)
                found[key.decode()] = data[:-2]
    return found


def main():
    servers, prefix, count, vprefix = sys.argv[1:5]
    copies = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    keys = ["%s%d" % (prefix, n) for n in range(1, int(count) + 1)]
    holders = {key: [] for key in keys}
    bad = 0
    for spec in servers.split(","):
        host, port = spec.strip().split(":")[:2]
        label = "%s:%s" % (host, port)
        held = get_many(host, int(port), keys)
        if not held:
            print("%s holds none of the keys" % label, file=sys.stderr)
            bad += 1
        for n, key in enumerate(keys, 1):
            if key not in held:
                continue
            if held[key] != ("%s%d" % (vprefix, n)).encode():
                print("%s: %s = %r" % (label, key, held[key]),
                      file=sys.stderr)
                bad += 1
            holders[key].append(label)
    for key in keys:
        if len(holders[key]) != copies:
            print("%s is on %d servers: %s" % (key, len(holders[key]),
                  " ".join(holders[key])), file=sys.stderr)
            bad += 1
        print(" ".join(holders[key]))
    sys.exit(1 if bad else 0)


main()

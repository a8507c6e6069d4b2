#!/usr/bin/python3
"""Check or write keys with pylibmc, set up as an application would.

usage: pylibmc-keys.py MODE SERVERS PREFIX COUNT check|write VALUEPREFIX

MODE is how the pylibmc client is set up:
  modula            pylibmc's defaults (libmemcached's: modula, default hash)
  ketama            behaviors={"ketama": True}
  ketama_weighted   behaviors={"ketama_weighted": True}
  hash=NAME         behaviors={"hash": NAME} (modula)
SERVERS is "host:port[:weight],..." as pylibmc takes them.  The keys are
PREFIX1 .. PREFIXCOUNT, and the value of key PREFIXn is VALUEPREFIXn.
check prints "found N of COUNT" (values that are exactly right);
write prints "wrote COUNT".
"""

import sys

import pylibmc


def behaviors(mode):
    if mode == "modula":
        return {}
    if mode == "ketama":
        return {"ketama": True}
    if mode == "ketama_weighted":
        return {"ketama_weighted": True}
    if mode.startswith("hash="):
        return {"hash": mode[len("hash="):]}
    raise SystemExit("unknown mode " + mode)


def main():
    mode, servers, prefix, count, action, vprefix = sys.argv[1:7]
    count = int(count)
    mc = pylibmc.Client(servers.split(","), behaviors=behaviors(mode))
    keys = ["%s%d" % (prefix, n) for n in range(1, count + 1)]
    if action == "write":
        for n, key in enumerate(keys, 1):
            mc.set(key, ("%s%d" % (vprefix, n)).encode())
        print("wrote %d" % count)
        return
    found = 0
    for n, key in enumerate(keys, 1):
        if mc.get(key) == ("%s%d" % (vprefix, n)).encode():
            found += 1
    print("found %d of %d" % (found, count))


main()

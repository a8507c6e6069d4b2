#!/usr/bin/python3
"""Read and write one key with pymemcache, flags and value as they are.

usage: pymemcache-io.py HOST:PORT get KEY FILE
       pymemcache-io.py HOST:PORT set KEY FLAGS FILE

get writes the value's bytes to FILE and prints its flags in lowercase
hexadecimal, as fsmemcache's getflags does; set stores the bytes of FILE
with FLAGS (hexadecimal) and prints "stored".
"""

import sys

from pymemcache.client.base import Client


class Raw:
    """No serialization: values are bytes, flags come back with them."""

    def serialize(self, key, value):
        return value, 0

    def deserialize(self, key, value, flags):
        return value, flags


def main():
    host, port = sys.argv[1].split(":")
    action, key = sys.argv[2:4]
    mc = Client((host, int(port)), serde=Raw(), connect_timeout=2,
                timeout=2)
    if action == "get":
        got = mc.get(key)
        if got is None:
            raise SystemExit(key + ": not found")
        value, flags = got
        with open(sys.argv[4], "wb") as f:
            f.write(value)
        print("%x" % flags)
    else:
        with open(sys.argv[5], "rb") as f:
            value = f.read()
        if not mc.set(key, value, flags=int(sys.argv[4], 16), noreply=False):
            raise SystemExit(key + ": not stored")
        print("stored")


main()

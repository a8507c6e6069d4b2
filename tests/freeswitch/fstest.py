#!/usr/bin/env python3
"""The FreeSWITCH test kit: the project's mod_memcache, then FreeSWITCH's
stock one, inside a real FreeSWITCH, through the event socket.

Run by tests/freeswitch/run.sh (make fs-test) once build.sh has built a
minimal FreeSWITCH into the cache.  It starts its own memcached servers,
fake servers and FreeSWITCH on loopback ports the kernel picks, with a
configuration and a module directory of its own under a temporary run
directory, reads every reply by its Content-Length, prints PASS or FAIL
for each check and ends with "N passed, M failed".  It stops only what it
started.  Standard library only.
"""

import argparse
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from uuid import uuid4

# The I/O timeout of the project's module by default, and what a reply
# may take beyond it.
TIMEOUT_S = 1.0
SLACK_S = 0.5
# failover's defaults: a server that failed twice in a row is skipped for
# 5 seconds.
FAILURE_LIMIT = 2
RETRY_S = 5.0
# FreeSWITCH 1.10.12 can hang in shutdown when SIGTERM comes within a
# fraction of a second of start-up (a core bug): it gets this long first.
SETTLE_S = 3.0

# ---------------------------------------------------------------- results

passed = 0
failed = 0


def esc(b):
    """Bytes for a report line: printable ASCII as is, others escaped."""
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    out = []
    for c in b:
        if c == 0x0A:
            out.append("\\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def check(name, ok, detail=""):
    """Count and print one check."""
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    line = "%s %s" % ("PASS" if ok else "FAIL", name)
    if detail:
        line += ": " + detail
    print(line, flush=True)
    return ok


def info(text):
    print("INFO " + text, flush=True)


def short(b, n=120):
    s = esc(b)
    return s if len(s) <= n else s[:n] + "...(%d bytes)" % len(b)


# ---------------------------------------------------------------- processes

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def wait_until(cond, timeout, step=0.02):
    """Poll cond until it is true or the deadline passes."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Memcached:
    """A memcached of the kit's own, on a port it keeps across restarts."""

    def __init__(self, extra=()):
        self.extra = list(extra)
        self.proc = None
        for _ in range(10):
            self.port = free_port()
            if self.start():
                return
        raise RuntimeError("could not start memcached")

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        args = ["memcached", "-l", "127.0.0.1", "-p", str(self.port),
                "-U", "0"] + self.extra
        if os.getuid() == 0:
            args += ["-u", "root"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        ok = wait_until(lambda: port_open(self.port) or
                        self.proc.poll() is not None, 5)
        return ok and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self):
        """A fresh server, empty, on the same port."""
        self.stop()
        if not wait_until(self.start, 5, 0.1):
            raise RuntimeError("memcached did not restart on %d" % self.port)

    def freeze(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stats(self):
        """memcached's own statistics, asked directly."""
        s = socket.create_connection(("127.0.0.1", self.port), 5)
        s.sendall(b"stats\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        out = {}
        for line in data.decode().splitlines():
            p = line.split(" ", 2)
            if len(p) == 3 and p[0] == "STAT":
                out[p[1]] = p[2]
        return out


class Fake:
    """The project's scripted fake memcached, in one of its modes."""

    def __init__(self, kit, *args):
        pf = os.path.join(kit.run, "fake.port.%d" % time.monotonic_ns())
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(kit.project, "tests",
                                          "fake-memcached.py"),
             "--port-file", pf, "--lifetime", "600"] + list(args),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: os.path.exists(pf), 10):
            self.stop()
            raise RuntimeError("fake memcached did not start")
        with open(pf) as f:
            self.port = int(f.read())

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class ES:
    """An event-socket connection: api commands, replies by Content-Length."""

    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        h, _ = self.read_msg()
        if h.get("Content-Type") != "auth/request":
            raise RuntimeError("event socket: no auth request: %r" % h)
        self.s.sendall(b"auth ClueCon\n\n")
        h, _ = self.read_msg()
        if not h.get("Reply-Text", "").startswith("+OK"):
            raise RuntimeError("event socket: auth refused: %r" % h)

    def read_msg(self):
        while b"\n\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("event socket closed")
            self.buf += d
        head, self.buf = self.buf.split(b"\n\n", 1)
        hdrs = {}
        for line in head.decode("latin-1").split("\n"):
            k, _, v = line.partition(": ")
            hdrs[k] = v
        n = int(hdrs.get("Content-Length", "0"))
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("event socket closed")
            self.buf += d
        body, self.buf = self.buf[:n], self.buf[n:]
        return hdrs, body

    def api(self, cmd):
        """The reply body of an api command, and the seconds it took."""
        t0 = time.monotonic()
        self.s.sendall(b"api " + cmd.encode("utf-8", "surrogateescape") +
                       b"\n\n")
        while True:
            h, body = self.read_msg()
            if h.get("Content-Type") == "api/response":
                return body, time.monotonic() - t0

    def close(self):
        try:
            self.s.sendall(b"exit\n\n")
        except OSError:
            pass
        self.s.close()


class Events(threading.Thread):
    """Keeps the events of channels as they come, by name and Unique-ID:
    their headers, the channel's variables among them (variable_NAME)."""

    NAMES = "CHANNEL_DESTROY PLAYBACK_START RECORD_START"

    def __init__(self, port):
        super().__init__(daemon=True)
        self.es = ES(port, timeout=None)
        self.es.s.sendall(b"event plain " + self.NAMES.encode() + b"\n\n")
        self.es.read_msg()
        self.seen = {}
        self.cond = threading.Condition()
        self.start()

    def run(self):
        try:
            while True:
                h, body = self.es.read_msg()
                if h.get("Content-Type") != "text/event-plain":
                    continue
                ev = {}
                for line in body.decode("latin-1").split("\n"):
                    k, _, v = line.partition(": ")
                    ev[k] = urllib.parse.unquote(v)
                with self.cond:
                    self.seen[(ev.get("Event-Name"), ev.get("Unique-ID"))] = ev
                    self.cond.notify_all()
        except (EOFError, OSError):
            pass

    def wait(self, name, uuid, timeout):
        """The channel's event of that name, once it came, or None."""
        with self.cond:
            self.cond.wait_for(lambda: (name, uuid) in self.seen, timeout)
            return self.seen.get((name, uuid))


MODULES = ["mod_console", "mod_logfile", "mod_commands", "mod_dptools",
           "mod_dialplan_xml", "mod_event_socket", "mod_loopback",
           "mod_tone_stream"]


class FreeSWITCH:
    """FreeSWITCH from the cache, with a configuration and modules of the
    run's own: the cache's modules linked in, the project's mod_memcache
    copied."""

    def __init__(self, kit, servers):
        self.kit = kit
        self.es_port = free_port()
        base = os.path.join(kit.run, "fs")
        self.dirs = {d: os.path.join(base, d) for d in
                     ("conf", "log", "run", "db", "mod", "temp", "storage",
                      "recordings", "cache")}
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        os.makedirs(os.path.join(self.dirs["conf"], "autoload_configs"),
                    exist_ok=True)
        moddir = os.path.join(kit.cache, "fs", "lib", "freeswitch", "mod")
        for m in MODULES:
            os.symlink(os.path.join(moddir, m + ".so"),
                       os.path.join(self.dirs["mod"], m + ".so"))
        shutil.copy(os.path.join(kit.project, "mod_memcache.so"),
                    self.dirs["mod"])
        self.write_config()
        self.memcache_conf(servers)
        self.logfile = os.path.join(self.dirs["log"], "freeswitch.log")
        pidfile = os.path.join(self.dirs["run"], "freeswitch.pid")
        args = [os.path.join(kit.cache, "fs", "bin", "freeswitch"),
                "-nonat", "-nc", "-nosql"]
        for d in self.dirs:
            args += ["-" + ("mod" if d == "mod" else d), self.dirs[d]]
        t0 = time.monotonic()
        with open(os.path.join(self.dirs["log"], "stdout.txt"), "ab") as out:
            rc = subprocess.call(args, stdout=out, stderr=out)
        if rc != 0:
            raise RuntimeError("freeswitch exited %d" % rc)
        # -nc forks: the daemon writes its pid file.
        if not wait_until(lambda: os.path.exists(pidfile) and
                          port_open(self.es_port), 60, 0.05):
            raise RuntimeError("FreeSWITCH did not come up")
        with open(pidfile) as f:
            self.pid = int(f.read().split()[0])
        self.started = time.monotonic()
        self.start_s = self.started - t0

    def write_config(self):
        conf = self.dirs["conf"]
        ac = os.path.join(conf, "autoload_configs")
        loads = "".join('    <load module="%s"/>\n' % m
                        for m in MODULES + ["mod_memcache"])
        files = {
            os.path.join(conf, "freeswitch.xml"):
                '<?xml version="1.0"?>\n<document type="freeswitch/xml">\n'
                '  <section name="configuration">\n'
                '    <X-PRE-PROCESS cmd="include"'
                ' data="autoload_configs/*.xml"/>\n'
                '  </section>\n</document>\n',
            os.path.join(ac, "switch.conf.xml"):
                '<configuration name="switch.conf" description="Core">\n'
                '  <settings>\n'
                '    <param name="max-sessions" value="100"/>\n'
                '    <param name="loglevel" value="info"/>\n'
                '  </settings>\n</configuration>\n',
            os.path.join(ac, "modules.conf.xml"):
                '<configuration name="modules.conf" description="Modules">\n'
                '  <modules>\n' + loads + '  </modules>\n</configuration>\n',
            os.path.join(ac, "console.conf.xml"):
                '<configuration name="console.conf" description="Console">\n'
                '  <mappings><map name="all"'
                ' value="info,notice,warning,err,crit,alert"/></mappings>\n'
                '</configuration>\n',
            os.path.join(ac, "logfile.conf.xml"):
                '<configuration name="logfile.conf" description="Log file">\n'
                '  <profiles><profile name="default"><settings>\n'
                '    <param name="rollover" value="104857600"/>\n'
                '  </settings><mappings>\n'
                '    <map name="all"'
                ' value="info,notice,warning,err,crit,alert"/>\n'
                '  </mappings></profile></profiles>\n</configuration>\n',
            os.path.join(ac, "event_socket.conf.xml"):
                '<configuration name="event_socket.conf"'
                ' description="Event socket">\n'
                '  <settings>\n'
                '    <param name="listen-ip" value="127.0.0.1"/>\n'
                '    <param name="listen-port" value="%d"/>\n'
                '    <param name="password" value="ClueCon"/>\n'
                '  </settings>\n</configuration>\n' % self.es_port,
        }
        for path, text in files.items():
            with open(path, "w") as f:
                f.write(text)

    def memcache_conf(self, servers, **params):
        """memcache.conf.xml: the servers, and other parameters by name
        (file_max_bytes="100" is file-max-bytes)."""
        lines = ['    <param name="memcache-servers" value="%s"/>\n' % servers]
        for k, v in params.items():
            lines.append('    <param name="%s" value="%s"/>\n' %
                         (k.replace("_", "-"), v))
        path = os.path.join(self.dirs["conf"], "autoload_configs",
                            "memcache.conf.xml")
        with open(path + ".tmp", "w") as f:
            f.write('<configuration name="memcache.conf">\n'
                    '  <settings>\n' + "".join(lines) +
                    '  </settings>\n</configuration>\n')
        os.rename(path + ".tmp", path)

    def alive(self):
        return alive(self.pid)

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except FileNotFoundError:
            return 0

    def log_since(self, offset):
        with open(self.logfile, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=20):
        """SIGTERM, after the start-up grace; seconds it took, or None."""
        if not self.alive():
            return None
        time.sleep(max(0.0, SETTLE_S - (time.monotonic() - self.started)))
        t0 = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        if wait_until(lambda: not self.alive(), timeout, 0.05):
            return time.monotonic() - t0
        os.kill(self.pid, signal.SIGKILL)
        wait_until(lambda: not self.alive(), 10, 0.05)
        return None


def es_view(b):
    """What the event socket makes of a reply: cut at the first NUL, and
    an empty one becomes "-ERR no reply"."""
    b = b.split(b"\0", 1)[0]
    return b if b else b"-ERR no reply\n"


def mask_numbers(b):
    return re.sub(rb"[0-9]+(\.[0-9]+)?", b"N", b)


# ---------------------------------------------------------------- grammar

K250 = "k" * 250
K251 = "k" * 251

# The grammar cases of the bats suite, as API lines, in the order they
# run: each module and the command line get them all, in this order, on
# a fresh memcached, so each line meets the same state.  Keys are unique
# to their case; a command whose effect the stock module does not share
# touches a key no later line reads.  Expiry that needs waiting is left
# to the bats suite.
LIVE = [
    # store.bats
    "set s1 hello", "get s1", "set s1 world", "get s1",
    "add s2 v", "get s2", "add s2 other", "get s2",
    "replace s2 new", "get s2", "replace s3 x", "get s3",
    "set f1 v 0 ff", "getflags f1", "set f2 v 0 0xDEADBEEF", "getflags f2",
    "set f3 v 0 ffffffff", "getflags f3", "set f4 v 0 100000000",
    "set f5 v 0 zz", "set f6 v 0 -1", "set e1 v abc", "set e2 v 10x",
    "set neg v -1", "get neg", "set ef v 3600 1f", "getflags ef", "get ef",
    "SET c1 v", "Add c2 v", "rEpLaCe c1 w", "get c1", "get c2",
    "set s9", "set s10 v 0 0 extra",
    # get.bats
    "get g0", "set g1 'hello world'", "get g1", "set g2 -dash", "get g2",
    "set g3 a\\nb\\r\\nc\\n", "get g3", "set g4 ''", "get g4",
    "getflags g1", "getflags g0", "GET g1", "GetFlags g1", "get g1 extra",
    "get",
    # delete.bats
    "set d1 v", "delete d1", "get d1", "delete d1", "set d2 v",
    "delete d2 0", "get d2", "set d3 v", "delete d3 5", "get d3",
    "delete d3 abc", "set d4 v", "DELETE d4", "set d5 v", "Delete d5",
    "delete",
    # arith.bats
    "increment a1", "get a1", "increment a2 7", "get a2", "decrement a3",
    "get a3", "decrement a4 5", "get a4", "increment a5 1 0 ff",
    "getflags a5", "increment a5", "getflags a5", "set a6 10",
    "increment a6 5", "decrement a6 3", "decrement a6 100",
    "set a7 18446744073709551615", "increment a7",
    "set a8 9223372036854775807", "increment a8", "increment a9 4294967295",
    "increment a9 4294967295", "increment a10 abc", "decrement a11 -3",
    "increment a12 1 abc", "increment a13 1 0 zz", "set a14 notnum",
    "increment a14", "decrement a14", "INCREMENT a15", "Decrement a15",
    "increment",
    # usage.bats
    "bogus", "", "   ", "set k", "get a b c", "status verbose extra",
    "getflags", "increment a16 1 0 0 0",
    # the bounds checks of usage.bats
    "set '' v", "set %s v" % K251, "set %s v" % K250, "get %s" % K250,
    "set 'q 1' v", "set k\\tx v", "set e3 v +5", "increment a17 +2",
    "set e4 v ' 5'", "set f7 v 0 0x",
    # split.bats
    "set t1 'This is a test'", "get t1", "set t2 \"hello world\" 300",
    "set t3 a b c d e", "set t4 don't stop", "get t4",
    "set t5 'unterminated value here", "get t5", "set t6 a'b c'd", "get t6",
    "set t7 'a b'c d", "set t8 'it''s' 5", "get t8",
    "set t9 '  padded  '", "get t9", "set t10 a\\ b", "get t10",
    "set t11 a\\sb\\tc\\nd", "get t11", "set t12 it\\'s", "get t12",
    "set t13 '\\'' 1", "get t13", "set t14 back\\\\slash", "get t14",
    "set t15 x\\qy", "get t15", "set t16 a\tb", "get t16",
    "set  t17   spaced   ", "get t17", "^^|set|t18|a b c", "get t18",
    "^^|set|t19|a b c|0|ff", "getflags t19", "^^ set t20 v", "get t20",
    "^^,set,t21,x\\,y", "get t21", "^^|set| t22 | a b |", "get t22",
    "^^:set:t23:v:", "get t23", "set t24 v\\", "get t24",
    "^^|set|t25||0", "set t26 x\\sy\\s", "get t26",
    # status.bats
    "status", "status verbose", "STATUS VERBOSE", "status foo",
    # flush.bats, last: it empties the server
    "flush 60", "flush -1", "flush abc", "flush 1 2", "FLUSH 0", "flush",
]

# The same with memcached gone: the module pointed at a port where
# nothing listens.
DEAD = ["status", "status verbose", "get k", "getflags k", "set k v",
        "add k v", "delete k", "increment k", "flush"]
# And with two servers, the second gone.
HALF = ["status", "status verbose"]


def sections(kit):
    """The grammar lines by servers: their label, the servers, the lines."""
    dead = "127.0.0.1:%d" % kit.dead_port
    return [("", kit.mc.addr, LIVE), ("no server", dead, DEAD),
            ("one server of two", kit.mc.addr + "," + dead, HALF)]


def pass_es(es, lines):
    return [es.api(("memcache " + line).rstrip(" "))[0] for line in lines]


def pass_cli(kit, addr, lines):
    out = []
    for line in lines:
        p = subprocess.run([kit.cli, "-s", addr, "-e", line],
                           capture_output=True, timeout=30)
        out.append(es_view(p.stdout))
    return out


def same_reply(line, a, b):
    """Whether two replies agree; status verbose with its figures
    masked, as they move between runs."""
    if line.lower().startswith("status verbose"):
        return mask_numbers(a) == mask_numbers(b)
    return a == b


# ---------------------------------------------------------------- audio

def samples_of(b):
    n = len(b) // 2
    return struct.unpack("<%dh" % n, b[:2 * n])


def goertzel(x, rate, freq):
    """The power of one frequency in the samples x."""
    k = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


def is_tone(b, rate, freq):
    """Whether the samples are a steady tone of freq: its power dwarfs
    that of other frequencies, and it is well above silence."""
    x = samples_of(b)
    if not x:
        return False, "no samples"
    rms = math.sqrt(sum(v * v for v in x) / len(x))
    p = goertzel(x, rate, freq)
    others = max(goertzel(x, rate, freq * m) for m in
                 (0.5, 0.8, 1.25, 1.5, 2.0, 3.0))
    ok = rms > 500 and p > 1000 * others
    return ok, "RMS %.0f, power at %g Hz %.3g times the largest elsewhere" % (
        rms, freq, p / others if others else float("inf"))


def test_signal(n):
    """n samples of a deterministic chirp, as little-endian 16-bit."""
    x = [int(9000 * math.sin(2 * math.pi * (200 + 1800 * i / n) * i / 8000))
         for i in range(n)]
    return struct.pack("<%dh" % n, *x)


# ---------------------------------------------------------------- the kit

class Kit:
    def __init__(self, args):
        self.cache = args.cache
        self.project = args.project
        self.cli = os.path.join(args.project, "fsmemcache")
        self.run = tempfile.mkdtemp(prefix="fs-test.")
        self.mc = None
        self.fs = None
        self.es = None
        self.events = None
        self.fakes = []
        self.dead_port = free_port()

    # -- helpers on the running FreeSWITCH

    def api(self, cmd):
        return self.es.api(cmd)

    def point_at(self, addr, **params):
        """memcache.conf names addr; reloadxml; wait until the module's
        handle has it (memcache status lists it)."""
        self.fs.memcache_conf(addr, **params)
        self.api("reloadxml")
        want = [("  %s (%s)\n" % tuple(a.rsplit(":", 1))).encode()
                for a in addr.split(",")]
        if not wait_until(lambda: all(
                w in self.api("memcache status")[0] for w in want), 5):
            raise RuntimeError("the module did not switch to %s" % addr)

    def cli_run(self, addr, *words):
        p = subprocess.run([self.cli, "-s", addr] + list(words),
                           capture_output=True, timeout=30)
        return p.stdout, p.returncode

    def cli_get(self, key):
        out, rc = self.cli_run(self.mc.addr, "get", key)
        return out if rc == 0 else None

    def cli_set(self, key, value):
        p = subprocess.run([self.cli, "-s", self.mc.addr, "-x", "set", key],
                           input=value, capture_output=True, timeout=30)
        return p.returncode == 0

    def call(self, variables, dest, apps, uuid=None, timeout=20):
        """Originate a null/ channel that runs apps ("app:data" each) one
        after the other, then hangs up; wait until it is gone.  Returns
        the originate reply and the channel's last event (its variables
        as variable_NAME), or None if it did not go."""
        uuid = uuid or str(uuid4())
        body, _ = self.api("originate {origination_uuid=%s%s}null/%s "
                           "m:^:%s inline" % (
                               uuid, "".join("," + v for v in variables),
                               dest, "^".join(apps)))
        if not body.startswith(b"+OK "):
            return body, None
        return body, self.events.wait("CHANNEL_DESTROY", uuid, timeout)

    def fs_ok(self):
        if not self.fs.alive():
            return False
        try:
            return b"is ready" in self.api("status")[0]
        except (OSError, EOFError):
            return False

    def sockets(self):
        """FreeSWITCH's connections to memcached, and TIME_WAIT sockets
        towards it."""
        port = "dport = :%d" % self.mc.port
        est = subprocess.run(["ss", "-Htanp", "state", "established", port],
                             capture_output=True, text=True).stdout
        tw = subprocess.run(["ss", "-Htan", "state", "time-wait", port],
                            capture_output=True, text=True).stdout
        held = sum(1 for line in est.splitlines()
                   if "pid=%d," % self.fs.pid in line)
        return held, len(tw.splitlines())

    # -- the run

    def start(self):
        self.mc = Memcached()
        self.fs = FreeSWITCH(self, self.mc.addr)
        self.es = ES(self.fs.es_port)
        self.events = Events(self.fs.es_port)
        info("memcached %s; FreeSWITCH pid %d, its event socket up in %.1f s, "
             "at 127.0.0.1:%d; run directory %s" % (
                 self.mc.addr, self.fs.pid, self.fs.start_s,
                 self.fs.es_port, self.run))

    def stop(self, keep):
        if self.events is not None:
            self.events.es.s.close()
        if self.es is not None:
            self.es.close()
        if self.fs is not None:
            was = self.fs.alive()
            dt = self.fs.stop()
            check("FreeSWITCH stops on SIGTERM", was and dt is not None,
                  "in %.1f s" % dt if dt is not None else
                  "was alive: %s; killed" % was)
        for f in self.fakes:
            f.stop()
        if self.mc is not None:
            self.mc.stop()
        if self.fs is not None:
            with open(self.fs.logfile, errors="replace") as f:
                crit = [line for line in f if "[CRIT]" in line or
                        "[ALERT]" in line]
            info("%d CRIT or ALERT lines in the FreeSWITCH log" % len(crit))
        if keep or failed:
            info("run directory kept: %s (FreeSWITCH log: fs/log/"
                 "freeswitch.log)" % self.run)
        else:
            shutil.rmtree(self.run, ignore_errors=True)


# ---------------------------------------------------------------- checks

def check_build(args):
    if args.mod_log:
        with open(args.mod_log, errors="replace") as f:
            warnings = [line.rstrip() for line in f if "warning:" in line]
        check("the module compiles against FreeSWITCH's headers without "
              "warnings (-Wall -Wextra -Wpedantic and more)", not warnings,
              "; ".join(warnings[:3]))


def check_split(args):
    if not args.split_compare:
        return
    p = subprocess.run([args.split_compare, "1000000"], capture_output=True,
                       text=True, timeout=600)
    lines = p.stdout.strip().splitlines()
    check("the tokenizer splits as libfreeswitch's switch_separate_string",
          p.returncode == 0 and lines and
          lines[-1] == "1000000 lines, 0 differ",
          "; ".join(lines[-6:]) if lines else p.stderr.strip())


def grammar_es(kit):
    """Every grammar line through the loaded module, each section on a
    fresh memcached: the replies by section label."""
    replies = {}
    for label, servers, lines in sections(kit):
        kit.mc.restart()
        kit.point_at(servers)
        replies[label] = pass_es(kit.es, lines)
    kit.point_at(kit.mc.addr)
    return replies


def grammar_ours(kit):
    """Every grammar line through our module, then through the command
    line on the same servers, fresh: the same bytes, as the event socket
    shows them."""
    ours = grammar_es(kit)
    for label, servers, lines in sections(kit):
        kit.mc.restart()
        cli = pass_cli(kit, servers, lines)
        where = " (%s)" % label if label else ""
        for line, a, b in zip(lines, ours[label], cli):
            check("module = CLI%s: memcache %s" % (where, esc(line)),
                  same_reply(line, a, b),
                  short(a) if a == b else "module %s, CLI %s" % (
                      short(a), short(b)))
    return ours


def check_dialplan(kit):
    kit.api("memcache set dp 'via eval'")
    body, _ = kit.api("eval ${memcache(get dp)}")
    check("dialplan expansion: eval ${memcache(get dp)}", body == b"via eval",
          short(body))


def health_view(b):
    """A health reply without its response times and uptime, which no
    two runs share: each run takes its interval, so the uptime ticks."""
    b = re.sub(rb"_time=[0-9]+\.[0-9]+s;", b"_time=Ts;", b)
    b = re.sub(rb", uptime [0-9]+ s,", b", uptime T s,", b)
    return re.sub(rb", response [0-9]+\.[0-9]+ ms\n", b", response T ms\n", b)


def check_health(kit):
    """memcache health replies with the same verdict as fsmemcache health,
    byte for byte but for the response times (the uptime may tick, so
    three tries)."""
    for _ in range(3):
        body, _ = kit.api("memcache health")
        out, _ = kit.cli_run(kit.mc.addr, "health")
        body, out = health_view(body), health_view(es_view(out))
        if body == out:
            break
    check("memcache health = fsmemcache health, byte for byte",
          body == out, "module %s, CLI %s" % (short(body), short(out)))


# -- the file interface

def record_tone(kit, key, ms, rate=8000, freq=440, extra=(), uuid=None):
    """record_session on a null/ channel while it plays a tone: the
    recording holds what the channel reads (the null channel's comfort
    noise, at most 3 either way) mixed with what it plays."""
    return kit.call(["rate=%d" % rate] + list(extra), "rec",
                    ["record_session:memcache://%s" % key,
                     "playback:tone_stream://%%(%d,0,%d)" % (ms, freq)],
                    uuid=uuid)


def var(event, name):
    return (event or {}).get("variable_" + name)


def nbytes(data):
    return "none" if data is None else "%d bytes" % len(data)


def aligned(rec, want):
    """Where want's samples start in the recording, within the comfort
    noise, or None: the recording starts before the playback does, and
    ends when the channel does."""
    x, y = samples_of(rec), samples_of(want)
    for shift in range(0, 4 * 160 + 1, 160):
        n = min(len(x) - shift, len(y))
        if n >= len(y) - 4 * 160 and all(
                abs(x[shift + i] - y[i]) <= 3 for i in range(n)):
            return shift
    return None


def check_files(kit):
    # A tone recorded through the codec: every sample, 2 bytes each.
    body, ev = record_tone(kit, "rec1.raw", 2000)
    data = kit.cli_get("rec1.raw")
    check("record_session memcache://rec1.raw on a null/ channel playing a "
          "2 s tone at 8 kHz: 32000 bytes, 2 for each of the 16000 samples "
          "recorded", ev and data is not None and len(data) == 32000 and
          var(ev, "record_samples") == "16000",
          "originate %s; record_samples %s; stored %s" % (
              short(body), var(ev, "record_samples"), nbytes(data)))
    ok, why = is_tone(data or b"", 8000, 440)
    check("the stored bytes are the 440 Hz tone's samples", ok, why)

    body, ev = record_tone(kit, "rec16.raw", 1000, rate=16000, freq=1000)
    data = kit.cli_get("rec16.raw")
    check("a 1 s tone at 16 kHz: 32000 bytes", ev and data is not None and
          len(data) == 32000 and var(ev, "record_samples") == "16000",
          "record_samples %s; stored %s" % (var(ev, "record_samples"),
                                            nbytes(data)))
    ok, why = is_tone(data or b"", 16000, 1000)
    check("the stored bytes are the 1000 Hz tone's samples", ok, why)

    # Append mode appends to what is there.
    record_tone(kit, "app.raw", 1000)
    first = kit.cli_get("app.raw")
    record_tone(kit, "app.raw", 1000, extra=["RECORD_APPEND=true"])
    both = kit.cli_get("app.raw")
    check("RECORD_APPEND=true appends to the key", first is not None and
          both is not None and len(first) == 16000 and len(both) == 32000 and
          both.startswith(first), "%s, then %s" % (nbytes(first),
                                                   nbytes(both)))

    # Playback of a key stored by the command line, recorded as it plays.
    sound = test_signal(12000)
    kit.cli_set("pb1", sound)
    body, ev = kit.call([], "pb", ["record_session:memcache://pb1-rec.raw",
                                   "playback:memcache://pb1"])
    check("playback memcache://pb1 of a key set by fsmemcache -x plays to "
          "the end: 12000 samples", ev and var(ev, "playback_samples") ==
          "12000", "originate %s; playback_samples %s" % (
              short(body), var(ev, "playback_samples")))
    rec = kit.cli_get("pb1-rec.raw")
    shift = aligned(rec or b"", sound)
    check("what the channel played is the key's samples, in order",
          shift is not None, "recorded %s; the key's samples start at "
          "sample %s" % (nbytes(rec), shift))

    # A missing key, and the bound on values.
    off = kit.fs.log_size()
    body, ev = kit.call([], "miss", ["playback:memcache://nokey"])
    text = wait_until(lambda: "memcache://nokey" in kit.fs.log_since(off) and
                      kit.fs.log_since(off), 5)
    want = "memcache://nokey: get nokey: not found"
    check("playback memcache://nokey fails with a log line",
          ev and want in (text or ""), esc(logline(text, want)))

    kit.point_at(kit.mc.addr, file_max_bytes="20000")
    off = kit.fs.log_size()
    body, ev = kit.call([], "big", ["playback:memcache://pb1"])
    want = ("memcache://pb1: get pb1: a value of 24000 bytes, over the limit "
            "of 20000")
    text = wait_until(lambda: want in kit.fs.log_since(off) and
                      kit.fs.log_since(off), 5)
    check("file-max-bytes 20000: a 24000-byte key is refused with a log "
          "line, and nothing plays", text and ev and
          var(ev, "playback_samples") in (None, "0"),
          "%s; playback_samples %s" % (esc(logline(text, want)),
                                       var(ev, "playback_samples")))
    off = kit.fs.log_size()
    body, ev = record_tone(kit, "rec-big.raw", 2000)
    want = "memcache://rec-big.raw: the recording reached file-max-bytes"
    text = wait_until(lambda: want in kit.fs.log_since(off) and
                      kit.fs.log_since(off), 5)
    data = kit.cli_get("rec-big.raw")
    check("file-max-bytes 20000: a recording stops short of the limit, "
          "with a log line", text and data is not None and len(data) <= 20000,
          "%s; stored %s" % (esc(logline(text, want)), nbytes(data)))
    kit.point_at(kit.mc.addr)


def check_files_busy(kit):
    """A module whose file is open is not unloaded; a reload does not
    disturb a recording."""
    sound = test_signal(24000)
    kit.cli_set("pb3", sound)
    uuid = str(uuid4())
    done = {}
    th = threading.Thread(target=lambda: done.update(ev=kit.call(
        [], "busy", ["playback:memcache://pb3"], uuid=uuid)[1]))
    th.start()
    started = kit.events.wait("PLAYBACK_START", uuid, 10)
    b, _ = kit.api("unload mod_memcache")
    th.join()
    ev = done.get("ev")
    check("unload mod_memcache while a memcache:// file plays is refused, "
          "and the file plays to its end", started and
          b == b"-ERR [Module in use.]\n" and
          var(ev, "playback_samples") == "24000" and kit.fs_ok(),
          "unload: %s; playback_samples %s" % (short(b),
                                               var(ev, "playback_samples")))

    uuid = str(uuid4())
    th = threading.Thread(target=lambda: done.update(rec=record_tone(
        kit, "rec-reload.raw", 2000, uuid=uuid)[1]))
    th.start()
    kit.events.wait("RECORD_START", uuid, 10)
    reloads = 0
    while th.is_alive():
        kit.api("reloadxml")
        reloads += 1
    th.join()
    data = kit.cli_get("rec-reload.raw")
    check("reloadxml in a loop while a recording runs: the recording is "
          "whole", reloads > 10 and data is not None and len(data) == 32000,
          "%d reloads; stored %s" % (reloads, nbytes(data)))


def logline(text, what):
    """The log line that holds what, without its time and level."""
    for line in (text or "").splitlines():
        if what in line:
            return line.split("] ", 1)[-1][:200]
    return "no log line with: " + what


# -- lifecycle

def client_loop(port, tag, pairs, stats):
    es = ES(port)
    try:
        for i in range(pairs):
            k, v = "%s_%d" % (tag, i), "v%s_%d" % (tag, i)
            b, _ = es.api("memcache set %s %s" % (k, v))
            stats["calls"] += 1
            if b != b"+OK\n":
                stats["wrong"].append(("set " + k, b))
            b, _ = es.api("memcache get %s" % k)
            stats["calls"] += 1
            if b != v.encode():
                stats["wrong"].append(("get " + k, b))
    except (OSError, EOFError) as ex:
        stats["lost"].append(repr(ex))
    finally:
        es.close()


def load(kit, clients, pairs, reload_during=False):
    """clients event-socket clients, each doing pairs set/get pairs, with
    reloadxml looping meanwhile if asked.  Returns (calls, wrong, lost,
    reloads, seconds)."""
    stats = [{"calls": 0, "wrong": [], "lost": []} for _ in range(clients)]
    tag = "c%d" % time.monotonic_ns()
    th = [threading.Thread(target=client_loop,
                           args=(kit.fs.es_port, "%s_%d" % (tag, i), pairs,
                                 stats[i])) for i in range(clients)]
    t0 = time.monotonic()
    for t in th:
        t.start()
    reloads = 0
    if reload_during:
        es = ES(kit.fs.es_port)
        while any(t.is_alive() for t in th):
            b, _ = es.api("reloadxml")
            if not b.startswith(b"+OK"):
                stats[0]["wrong"].append(("reloadxml", b))
            reloads += 1
        es.close()
    for t in th:
        t.join()
    wrong = [w for s in stats for w in s["wrong"]]
    lost = [x for s in stats for x in s["lost"]]
    return (sum(s["calls"] for s in stats), wrong, lost, reloads,
            time.monotonic() - t0)


def check_reload_under_load(kit):
    calls, wrong, lost, reloads, el = load(kit, 2, 1000, True)
    check("reloadxml in a loop during 2 clients x 1000 set/get pairs: no "
          "lost or wrong reply", calls == 4000 and not wrong and not lost and
          reloads > 10 and kit.fs_ok(),
          "%d calls, %d reloads in %.1f s; wrong %s; lost %s" % (
              calls, reloads, el, [(c, esc(b)) for c, b in wrong[:3]],
              lost[:3]))


# Bad servers: the fake's arguments, the commands, and the reply each
# must get (None: whatever the command line gets, an -ERR).
FAKES = [
    (("--mode", "reply", "--reply", "END"),
     [("set k v", b"-ERR PROTOCOL ERROR\n"), ("get k", b"-ERR NOT FOUND\n"),
      ("delete k", b"-ERR PROTOCOL ERROR\n")]),
    (("--mode", "random"), [("get k", b"-ERR PROTOCOL ERROR\n"),
                            ("set k v", b"-ERR PROTOCOL ERROR\n")]),
    (("--mode", "endless-value"), [("get k", b"-ERR PROTOCOL ERROR\n")]),
    (("--mode", "huge-line"), [("set k v", b"-ERR PROTOCOL ERROR\n")]),
    (("--mode", "reset"), [("get k", None), ("set k v", None)]),
    (("--mode", "silent"), [("get k", b"-ERR A TIMEOUT OCCURRED\n"),
                            ("set k v", b"-ERR A TIMEOUT OCCURRED\n")]),
    (("--mode", "drip"), [("get k", b"-ERR A TIMEOUT OCCURRED\n")]),
]


def check_bad_servers(kit):
    for fargs, cmds in FAKES:
        fake = Fake(kit, *fargs)
        kit.fakes.append(fake)
        try:
            kit.point_at(fake.addr)
            rss0 = kit.fs.rss_kb()
            for cmd, want in cmds:
                body, t = kit.api("memcache " + cmd)
                out, rc = kit.cli_run(fake.addr, "-e", cmd)
                ok = (kit.fs_ok() and t <= TIMEOUT_S + SLACK_S and
                      body == es_view(out) and body.startswith(b"-ERR") and
                      (want is None or body == want))
                check("bad server (%s): memcache %s" % (" ".join(fargs[1:]),
                                                        cmd), ok,
                      "%s in %.3f s; CLI %s, exit %d; FreeSWITCH up: %s" % (
                          short(body), t, short(es_view(out)), rc,
                          kit.fs.alive()))
            rss1 = kit.fs.rss_kb()
            check("bad server (%s): FreeSWITCH's memory" % " ".join(
                fargs[1:]), rss1 - rss0 < 20 * 1024,
                "RSS %d kB -> %d kB" % (rss0, rss1))
        finally:
            fake.stop()
            kit.fakes.remove(fake)
    kit.point_at(kit.mc.addr)


def make_tls_files(kit):
    """A CA, a certificate for 127.0.0.1 signed by it, and another CA."""
    d = os.path.join(kit.run, "tls")
    os.makedirs(d)

    def run(*a):
        subprocess.run(["openssl"] + list(a), cwd=d, check=True,
                       capture_output=True, timeout=60)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=" + ca, "-keyout", ca + ".key", "-out", ca + ".pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=server",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("[ext]\nsubjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext",
        "-extensions", "ext", "-out", "server.pem")
    return d


def check_tls(kit):
    """The module speaks TLS to memcached -Z through its config-file, and
    refuses a server whose certificate does not verify."""
    d = make_tls_files(kit)
    mc = Memcached(["-Z", "-o", "ssl_chain_cert=%s/server.pem,ssl_key=%s/"
                    "server.key" % (d, d)])
    try:
        for ca in ("ca", "other-ca"):
            with open(os.path.join(d, ca + ".cfg"), "w") as f:
                f.write('servers = "%s";\ntls = true;\n'
                        'tls_ca_file = "%s.pem";\n' % (mc.addr, ca))
        cfg = os.path.join(d, "ca.cfg")
        kit.point_at(mc.addr, config_file=cfg)
        body, t = kit.api("memcache set tls-k over-tls")
        got, _ = kit.api("memcache get tls-k")
        out = subprocess.run([kit.cli, "-c", cfg, "get", "tls-k"],
                             capture_output=True, timeout=30).stdout
        check("TLS pool through config-file: memcache set, get", body ==
              b"+OK\n" and got == b"over-tls" and out == b"over-tls",
              "set %s in %.3f s, get %s, fsmemcache -c %s get %s" % (
                  short(body), t, short(got), cfg, short(out)))
        off = kit.fs.log_size()
        kit.point_at(mc.addr, config_file=os.path.join(d, "other-ca.cfg"))
        # The servers are the same: the new handle shows in the replies.
        wait_until(lambda: kit.api("memcache get tls-k")[0] != b"over-tls",
                   5)
        body, t = kit.api("memcache get tls-k")
        log = kit.fs.log_since(off)
        check("TLS pool, unknown CA: -ERR AUTHENTICATION FAILURE, the "
              "reason in the log", kit.fs_ok() and body ==
              b"-ERR AUTHENTICATION FAILURE\n" and t <= TIMEOUT_S + SLACK_S
              and "signed by an unknown CA" in log,
              "%s in %.3f s; log %s" % (short(body), t, short(log.encode())))
    finally:
        mc.stop()
    kit.point_at(kit.mc.addr)


def check_memcached_down(kit):
    kit.api("memcache set down-k before")
    kit.mc.stop()
    for cmd in ("get down-k", "set down-k v", "increment down-c"):
        body, t = kit.api("memcache " + cmd)
        check("memcached stopped: memcache %s" % cmd,
              body == b"-ERR CONNECTION FAILURE\n" and t < SLACK_S and
              kit.fs_ok(), "%s in %.3f s" % (short(body), t))
    kit.mc.start()
    # The server failed twice: it is skipped until retry_s has passed,
    # then tried again.
    t0 = time.monotonic()
    wait_until(lambda: kit.api("memcache set down-k after")[0] == b"+OK\n",
               RETRY_S + SLACK_S, 0.1)
    t = time.monotonic() - t0
    body2, _ = kit.api("memcache get down-k")
    check("memcached started again: calls work within retry_s",
          body2 == b"after" and t <= RETRY_S + SLACK_S,
          "%s after %.3f s" % (short(body2), t))

    kit.api("memcache set frozen-k before")
    kit.mc.freeze()
    try:
        for i, cmd in enumerate(("get frozen-k", "set frozen-k v",
                                 "increment frozen-c")):
            body, t = kit.api("memcache " + cmd)
            # failure_limit timeouts, then the server is skipped: the
            # same reply at once.
            waits = i < FAILURE_LIMIT
            check("memcached frozen (SIGSTOP): memcache %s %s" % (
                cmd, "times out" if waits else "fails at once"),
                  body == b"-ERR A TIMEOUT OCCURRED\n" and
                  (TIMEOUT_S - 0.05 <= t <= TIMEOUT_S + SLACK_S if waits
                   else t < SLACK_S) and
                  kit.fs_ok(), "%s in %.3f s" % (short(body), t))
        body, t = kit.api("memcache status verbose")
        check("memcached frozen (SIGSTOP): memcache status verbose",
              b"    error: A TIMEOUT OCCURRED\n" in body and
              t < SLACK_S, "%s in %.3f s" % (short(body), t))
    finally:
        kit.mc.thaw()
    # What was sent while it was frozen lands when it thaws, in an order
    # of memcached's choosing: the next call uses a key of its own.
    t0 = time.monotonic()
    wait_until(lambda: kit.api("memcache set thawed-k thawed")[0] ==
               b"+OK\n", RETRY_S + SLACK_S, 0.1)
    t = time.monotonic() - t0
    body2, _ = kit.api("memcache get thawed-k")
    check("memcached thawed: calls work within retry_s",
          body2 == b"thawed" and t <= RETRY_S + SLACK_S,
          "%s after %.3f s" % (short(body2), t))


def check_flat(kit):
    """RSS, file descriptors and memcached's connections over 30,000
    calls, after a warm-up."""
    load(kit, 2, 500)
    rss0, fds0 = kit.fs.rss_kb(), kit.fs.nfds()
    conns0 = int(kit.mc.stats()["curr_connections"])
    # Earlier checks (command-line runs, the stock module, reloads, the
    # statistics just read) left sockets in TIME_WAIT of their own: these
    # calls' are the difference.
    held0, tw0 = kit.sockets()
    total = 0
    bad = 0
    t0 = time.monotonic()
    for _ in range(3):
        calls, wrong, lost, _, _ = load(kit, 2, 2500)
        total += calls
        bad += len(wrong) + len(lost)
    el = time.monotonic() - t0
    held1, tw1 = kit.sockets()
    tw = max(tw1 - tw0, 0)
    rss1, fds1 = kit.fs.rss_kb(), kit.fs.nfds()
    # Connections a call closed leave memcached's count as it goes.
    conns1 = wait_until(lambda: int(kit.mc.stats()["curr_connections"]) <=
                        conns0 + held0 and
                        int(kit.mc.stats()["curr_connections"]), 5) or \
        int(kit.mc.stats()["curr_connections"])
    check("30,000 calls: every reply right", total == 30000 and bad == 0,
          "%d calls in %.1f s, %d wrong or lost" % (total, el, bad))
    check("30,000 calls: file descriptors flat", fds1 <= fds0 + 2,
          "%d -> %d" % (fds0, fds1))
    check("30,000 calls: RSS flat", rss1 - rss0 < 8 * 1024,
          "%d kB -> %d kB" % (rss0, rss1))
    check("30,000 calls: memcached's connections flat",
          conns1 <= conns0 + 1, "curr_connections %d -> %d" % (conns0, conns1))
    if held1 == 0:
        info("the module keeps no connection between calls (each call "
             "opens its own, as the stock module's): %d sockets in "
             "TIME_WAIT towards memcached after 30,000 calls" % tw)
    else:
        check("30,000 calls: no more new sockets in TIME_WAIT towards "
              "memcached than the connections held", tw <= held1,
              "%d held, %d more in TIME_WAIT (%d -> %d)" % (
                  held1, tw, tw0, tw1))


def check_unload(kit):
    b, _ = kit.api("unload mod_memcache")
    check("unload mod_memcache", b.startswith(b"+OK"), short(b))
    b, _ = kit.api("memcache get k")
    check("after unload, memcache is not a command", b.startswith(b"-ERR") and
          kit.fs_ok(), short(b))
    b, _ = kit.api("load mod_memcache")
    check("load mod_memcache", b.startswith(b"+OK"), short(b))
    b1, _ = kit.api("memcache set ul-k loaded")
    b2, _ = kit.api("memcache get ul-k")
    check("after load, the module works", b1 == b"+OK\n" and b2 == b"loaded",
          "%s / %s" % (short(b1), short(b2)))
    fds0 = kit.fs.nfds()
    bad = []
    for i in range(20):
        u, _ = kit.api("unload mod_memcache")
        lo, _ = kit.api("load mod_memcache")
        g, _ = kit.api("memcache get ul-k")
        if not (u.startswith(b"+OK") and lo.startswith(b"+OK") and
                g == b"loaded"):
            bad.append((i, esc(u), esc(lo), esc(g)))
    fds1 = kit.fs.nfds()
    check("20 unload/load cycles", not bad and fds1 <= fds0 + 1 and
          kit.fs_ok(), "fds %d -> %d; %s" % (fds0, fds1, bad[:2]))

    stop = threading.Event()
    seen = {"ok": 0, "gone": 0, "other": [], "lost": []}

    def hammer():
        es = ES(kit.fs.es_port)
        try:
            while not stop.is_set():
                b, _ = es.api("memcache get ul-k")
                if b == b"loaded":
                    seen["ok"] += 1
                elif b.startswith(b"-ERR memcache Command not found"):
                    seen["gone"] += 1
                else:
                    seen["other"].append(b)
        except (OSError, EOFError) as ex:
            seen["lost"].append(repr(ex))
        finally:
            es.close()

    th = threading.Thread(target=hammer)
    th.start()
    unloaded = 0
    for _ in range(20):
        u, _ = kit.api("unload mod_memcache")
        unloaded += u.startswith(b"+OK")
        time.sleep(0.01)  # pace: let the client call in between
        kit.api("load mod_memcache")
    stop.set()
    th.join(30)
    g, _ = kit.api("memcache get ul-k")
    check("20 unload/load cycles while a client calls memcache get",
          kit.fs_ok() and not seen["other"] and not seen["lost"] and
          g == b"loaded", "%d right, %d command not found, %d other %s, "
          "%d lost %s; %d unloads done (the others: module in use)" % (
              seen["ok"], seen["gone"], len(seen["other"]),
              seen["other"][:2], len(seen["lost"]), seen["lost"][:2],
              unloaded))


def rate(kit, clients, seconds=3.0):
    """Calls per second of clients event-socket clients, each doing
    set/get pairs for seconds."""
    counts = [0] * clients
    end = time.monotonic() + seconds

    def worker(i):
        es = ES(kit.fs.es_port)
        k = "perf%d" % i
        while time.monotonic() < end:
            es.api("memcache set %s v" % k)
            es.api("memcache get %s" % k)
            counts[i] += 2
        es.close()

    th = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in th:
        t.start()
    for t in th:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


# ---------------------------------------------------------------- stock

# Where the project's reply differs from the stock module's on purpose:
# the line (prefixed with its section's label and a colon, outside LIVE)
# and words of the item of "DIFFERENCES FROM MOD_MEMCACHE" in
# fsmemcache(1) that says so.
DIFFS = {
    "set f4 v 0 100000000": "Numbers are checked",
    "set f5 v 0 zz": "Numbers are checked",
    "set f6 v 0 -1": "Numbers are checked",
    "set e1 v abc": "Numbers are checked",
    "set e2 v 10x": "Numbers are checked",
    "set s9": "The usage reply lists",
    "set s10 v 0 0 extra": "Numbers are checked",
    "get g1 extra": "Surplus arguments are an error",
    "get": "The usage reply lists",
    "delete d3 abc": "Numbers are checked",
    "delete": "The usage reply lists",
    "increment a8": "Counters of 2^63 and above print as unsigned numbers",
    "increment a10 abc": "Numbers are checked",
    "decrement a11 -3": "Numbers are checked",
    "increment a12 1 abc": "Numbers are checked",
    "increment a13 1 0 zz": "Numbers are checked",
    "increment": "The usage reply lists",
    "bogus": "The usage reply lists",
    "": "The usage reply lists",
    "   ": "The usage reply lists",
    "set k": "The usage reply lists",
    "get a b c": "Surplus arguments are an error",
    "status verbose extra": "Surplus arguments are an error",
    "getflags": "The usage reply lists",
    "increment a16 1 0 0 0": "Numbers are checked",
    "set 'q 1' v": "Keys are checked before anything is sent",
    "set k\\tx v": "Keys are checked before anything is sent",
    "set e4 v ' 5'": "Numbers are checked",
    "set f7 v 0 0x": "Numbers are checked",
    'set t2 "hello world" 300': "Numbers are checked",
    "set t3 a b c d e": "Numbers are checked",
    "set t7 'a b'c d": "Numbers are checked",
    "status foo": "accepts only",
    "flush -1": "Numbers are checked",
    "flush abc": "Numbers are checked",
    "flush 1 2": "Surplus arguments are an error",
    "no server:status verbose": "instead of any server's line or statistics",
    "one server of two:status verbose":
        "instead of any server's line or statistics",
}


def swap_to_stock(kit):
    """The stock module cannot be unloaded: it comes last."""
    b, _ = kit.api("unload mod_memcache")
    check("unload the project's mod_memcache", b.startswith(b"+OK"), short(b))
    path = os.path.join(kit.cache, "stock", "mod_memcache.so")
    b, _ = kit.api("load " + path)
    ok = b.startswith(b"+OK") and wait_until(
        lambda: b"Lib version" in kit.api("memcache status")[0], 5)
    check("load FreeSWITCH's stock mod_memcache", ok, short(b))
    return ok


def manual_text(kit):
    """fsmemcache(1)'s DIFFERENCES section, its lines joined."""
    with open(os.path.join(kit.project, "man", "fsmemcache.1")) as f:
        text = f.read()
    start = text.find(".Sh DIFFERENCES FROM MOD_MEMCACHE")
    end = text.find("\n.Sh ", start + 1)
    return " ".join(text[start:end].split())


def compare_stock(kit, ours, stock):
    manual = manual_text(kit)
    for label, _, lines in sections(kit):
        where = " (%s)" % label if label else ""
        for line, a, b in zip(lines, ours[label], stock[label]):
            doc = DIFFS.get((label + ":" if label else "") + line)
            if same_reply(line, a, b):
                check("module = stock%s: memcache %s" % (where, esc(line)),
                      doc is None, short(a) if doc is None else
                      "documented as a difference (%s), but both reply %s" %
                      (doc, short(a)))
            elif doc is not None:
                check("module != stock%s as fsmemcache(1) says (\"%s\"): "
                      "memcache %s" % (where, doc, esc(line)), doc in manual,
                      "module %s, stock %s%s" % (
                          short(a, 60), short(b, 60), "" if doc in manual
                          else "; the manual does not say so"))
            else:
                check("module = stock%s: memcache %s" % (where, esc(line)),
                      False, "module %s, stock %s" % (short(a), short(b)))


def check_stock_files(kit):
    """The stock module counts samples as bytes when recording through
    the codec: half the tone is stored."""
    body, ev = record_tone(kit, "stock-rec.raw", 2000)
    data = kit.cli_get("stock-rec.raw")
    check("the stock module stores a 2 s tone at 8 kHz (16000 samples) in "
          "16000 bytes, half of them, as fsmemcache(1) says",
          data is not None and len(data) == 16000 and
          var(ev, "record_samples") == "16000" and
          "half of what was recorded" in manual_text(kit),
          "record_samples %s; stored %s" % (var(ev, "record_samples"),
                                            nbytes(data)))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", required=True, help="FS_CACHE")
    ap.add_argument("--project", required=True, help="the project's tree")
    ap.add_argument("--mod-log", help="the module's build output")
    ap.add_argument("--split-compare", help="the tokenizer comparison")
    ap.add_argument("--keep", action="store_true",
                    help="keep the run directory")
    args = ap.parse_args()
    kit = Kit(args)
    check_build(args)
    check_split(args)
    perf = {}
    try:
        kit.start()
        b, _ = kit.api("module_exists mod_memcache")
        check("FreeSWITCH loads the project's mod_memcache", b == b"true",
              short(b))
        ours = grammar_ours(kit)
        check_dialplan(kit)
        check_health(kit)
        check_files(kit)
        check_files_busy(kit)
        check_reload_under_load(kit)
        check_bad_servers(kit)
        check_tls(kit)
        check_memcached_down(kit)
        check_flat(kit)
        check_unload(kit)
        for n in (1, 4):
            perf[("ours", n)] = rate(kit, n)
        if swap_to_stock(kit):
            compare_stock(kit, ours, grammar_es(kit))
            check_stock_files(kit)
            for n in (1, 4):
                perf[("stock", n)] = rate(kit, n)
    except Exception as ex:  # noqa: BLE001 - the run must end cleanly
        import traceback
        traceback.print_exc()
        check("the kit ran to its end", False, repr(ex))
    finally:
        kit.stop(args.keep)
    for clients in (1, 4):
        info("calls per second, %d event-socket client%s, set/get pairs: "
             "stock %s, project %s" % (
                 clients, "" if clients == 1 else "s",
                 "%.0f" % perf[("stock", clients)]
                 if ("stock", clients) in perf else "-",
                 "%.0f" % perf[("ours", clients)]
                 if ("ours", clients) in perf else "-"))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""
Helpers for the TFTP system tests (test_tftp_*.py); no tests of its own.

Owns: starting pixied with TFTP on in a lab (conftest's `lab` fixture, pixied_lab.Lab),
giving a client namespace an address, files of exact sizes in the lab root, running the
real clients (tftp-hpa, atftp, curl, busybox), the loss relay (tests/lossy_relay.py), and a
small hand-driven TFTP client whose UDP sockets live in a client namespace (opened with
setns on this thread, so the test process itself speaks TFTP from inside the lab).
Does not own assertions about pixied: the test files do.
"""

import ctypes
import hashlib
import json
import os
import socket
import struct
import time

import pixied_lab as L

SERVER = L.SERVER_IP
HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(os.path.dirname(HERE), "lossy_relay.py")

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def tftp_overrides(**tftp):
    """Config overrides: DHCP off, TFTP on with the given [tftp] keys (underscores as -)."""
    keys = {"enabled": "yes"}
    keys.update({k.replace("_", "-"): str(v) for k, v in tftp.items()})
    return {"tftp": keys}


def start_tftp(lab, **tftp):
    """pixied with DHCP off and TFTP on; returns the Pixied daemon."""
    return lab.start_pixied(tftp_overrides(**tftp), mode="off")


def add_tftp_client(lab, addr="10.77.0.50"):
    """A client namespace with an address on the lab LAN."""
    c = lab.add_client()
    lab.run(c.ns, ["ip", "addr", "add", f"{addr}/24", "dev", c.iface], check=True)
    c.addr = addr
    return c


def pattern_bytes(size, seed=0):
    """Deterministic non-repeating-looking content of `size` bytes."""
    out = bytearray()
    block = hashlib.sha256(f"pixied-{seed}".encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def put_file(lab, name, size=None, data=None, mode=0o644):
    """Write a file of `size` bytes (or `data`) under the lab root; returns its bytes' sha256."""
    path = os.path.join(lab.root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if data is None:
        if size >= 1 << 20:
            # big files: a 1 MiB pattern repeated with the block index mixed in
            chunk = pattern_bytes(1 << 20, seed=size)
            with open(path, "wb") as f:
                done = 0
                i = 0
                while done < size:
                    part = struct.pack("!Q", i) + chunk[8:]
                    part = part[:size - done]
                    f.write(part)
                    done += len(part)
                    i += 1
        else:
            data = pattern_bytes(size, seed=size)
    if data is not None:
        with open(path, "wb") as f:
            f.write(data)
    os.chmod(path, mode)
    return sha256_file(path)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


# ---- real clients ------------------------------------------------------------------

def client_argv(kind, name, out, *, server=SERVER, blksize=None, windowsize=None):
    if kind == "tftp-hpa":
        assert blksize in (None, 512) and windowsize is None, "tftp-hpa has no options"
        return ["tftp", "-m", "binary", server, "-c", "get", name, out]
    if kind == "atftp":
        argv = ["atftp"]
        if blksize:
            argv += ["--option", f"blksize {blksize}"]
        if windowsize:
            argv += ["--option", f"windowsize {windowsize}"]
        return argv + ["-g", "-r", name, "-l", out, server]
    if kind == "curl":
        assert windowsize is None
        argv = ["curl", "-s", "-S", "-o", out]
        if blksize:
            argv += ["--tftp-blksize", str(blksize)]
        host = f"[{server}]" if ":" in server else server
        return argv + [f"tftp://{host}/{name}"]
    if kind == "busybox":
        assert windowsize is None
        argv = ["busybox", "tftp", "-g", "-r", name, "-l", out]
        if blksize:
            argv += ["-b", str(blksize)]
        return argv + [server]
    raise ValueError(kind)


def fetch(lab, client, kind, name, *, timeout=120, **kw):
    """Run a real client in the client namespace; returns (exit status, output, sha256 or
    None, path)."""
    out = os.path.join(client.dir, f"got-{kind}-{time.monotonic_ns()}")
    r = lab.run(client.ns, client_argv(kind, name, out, **kw), timeout=timeout)
    digest = sha256_file(out) if os.path.exists(out) else None
    return r.returncode, r.stdout + r.stderr, digest, out


# ---- the loss relay -------------------------------------------------------------------

class Relay:
    """tests/lossy_relay.py in the client namespace, listening on the client's own address
    at port 69 (clients talk to it as if it were the server) and forwarding to pixied."""

    def __init__(self, lab, client, *, seed, stats_name="relay", **opts):
        self.stats_path = os.path.join(client.dir, f"{stats_name}.json")
        self.listen = client.addr
        argv = [L.PY, RELAY, "--listen", f"{client.addr}:69", "--server", f"{SERVER}:69",
                "--seed", str(seed), "--stats", self.stats_path]
        for k, v in opts.items():
            if v is True:
                argv.append("--" + k.replace("_", "-"))
            elif v is not False and v is not None:
                argv += ["--" + k.replace("_", "-"), str(v)]
        self.log = os.path.join(client.dir, f"{stats_name}.log")
        self.proc = lab.popen(client.ns, argv, stdout=open(self.log, "wb"),
                              stderr=__import__("subprocess").STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.stats_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise L.LabError("relay did not start:\n" + open(self.log).read())
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        with open(self.stats_path) as f:
            return json.load(f)


# ---- a hand-driven TFTP client inside a namespace ---------------------------------------

def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)


def ns_socket(ns, family=socket.AF_INET, bind=None):
    """A UDP socket created inside network namespace `ns` (it stays there)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(f"/run/netns/{ns}")
        try:
            s = socket.socket(family, socket.SOCK_DGRAM)
            if bind:
                s.bind(bind)
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back failed")
    finally:
        os.close(own)
    return s


def rrq(name, mode="octet", opts=(), op=RRQ):
    """A request packet; name/mode/opts as str or bytes, opts a list of (name, value)."""
    def b(x):
        return x if isinstance(x, bytes) else str(x).encode()
    p = struct.pack("!H", op) + b(name) + b"\0" + b(mode) + b"\0"
    for k, v in opts:
        p += b(k) + b"\0" + b(v) + b"\0"
    return p


def ack(block):
    return struct.pack("!HH", ACK, block & 0xFFFF)


def error(code, msg="x"):
    return struct.pack("!HH", ERROR, code) + msg.encode() + b"\0"


def parse(pkt):
    """(opcode, fields): DATA (block, payload), ACK block, ERROR (code, text), OACK dict."""
    if len(pkt) < 2:
        return None, None
    op = struct.unpack("!H", pkt[:2])[0]
    if op == DATA:
        return op, (struct.unpack("!H", pkt[2:4])[0], pkt[4:])
    if op == ACK:
        return op, struct.unpack("!H", pkt[2:4])[0]
    if op == ERROR:
        return op, (struct.unpack("!H", pkt[2:4])[0], pkt[4:].split(b"\0")[0].decode("latin1"))
    if op == OACK:
        parts = pkt[2:].split(b"\0")
        return op, {parts[i].decode().lower(): parts[i + 1].decode()
                    for i in range(0, len(parts) - 1, 2)}
    return op, pkt[2:]


class Session:
    """One client TID: send requests to port 69, then talk to whatever TID answers."""

    def __init__(self, ns, server=SERVER, family=socket.AF_INET, timeout=3.0):
        self.sock = ns_socket(ns, family)
        self.sock.settimeout(timeout)
        self.server = server
        self.tid = None

    def close(self):
        self.sock.close()

    def send69(self, pkt):
        self.sock.sendto(pkt, (self.server, 69))

    def send(self, pkt, port=None):
        self.sock.sendto(pkt, (self.server, port or self.tid[1]))

    def recv(self, timeout=None):
        """(opcode, fields, source) or (None, None, None) on timeout."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            pkt, src = self.sock.recvfrom(70000)
        except socket.timeout:
            return None, None, None
        op, f = parse(pkt)
        if self.tid is None and op in (DATA, OACK):
            self.tid = src
        return op, f, src

    def get(self, name, opts=(), mode="octet", expect_oack=None):
        """A whole download, lock-step or windowed as negotiated. Returns (bytes, oack)."""
        self.send69(rrq(name, mode, opts))
        op, f, src = self.recv()
        oack = None
        blksize, window = 512, 1
        if op == OACK:
            oack = f
            blksize = int(f.get("blksize", 512))
            window = int(f.get("windowsize", 1))
            self.send(ack(0))
            op, f, src = self.recv()
        if op == ERROR:
            raise TftpError(*f)
        data = bytearray()
        expect = 1
        n = 0
        while True:
            assert op == DATA, (op, f)
            blk, payload = f
            if blk == expect & 0xFFFF:
                data += payload
                expect += 1
                n += 1
                if len(payload) < blksize:
                    self.send(ack(blk))
                    return bytes(data), oack
                if n == window:
                    self.send(ack(blk))
                    n = 0
            op, f, src = self.recv()
            if op is None:
                raise TimeoutError(f"no DATA after block {expect - 1}")


class TftpError(Exception):
    def __init__(self, code, text):
        super().__init__(f"ERROR {code}: {text}")
        self.code, self.text = code, text


def tftp_log_lines(d, word):
    """pixied's tftp log lines containing ` tftp: WORD `."""
    return [l for l in d.log_lines() if f" tftp: {word} " in l]


def wait_lines(d, word, n=1, timeout=5.0):
    """Wait until pixied logged at least n `tftp: WORD` lines; returns them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = tftp_log_lines(d, word)
        if len(lines) >= n:
            return lines
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} '{word}' lines:\n{d.log()}")


def kv(line):
    """key=value fields of a log line (values may be "quoted")."""
    out = {}
    for tok in line.split():
        k, eq, v = tok.partition("=")
        if eq:
            out[k] = v.strip('"')
    return out

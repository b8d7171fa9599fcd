"""
Helpers for the HTTP system tests (test_http_*.py); no tests of its own.

Owns: starting pixied with DHCP and TFTP off and HTTP on port 80 in a lab (conftest's `lab`
fixture, pixied_lab.Lab), client namespaces with one or more addresses on the lab LAN,
running curl there, and a hand-driven HTTP client whose TCP sockets live in a client
namespace (created with setns on this thread, so the test process itself speaks HTTP from
inside the lab, byte for byte, malformed when it wants). Does not own assertions about
pixied: the test files do.
"""

import ctypes
import os
import re
import socket
import time

import pixied_lab as L

SERVER = L.SERVER_IP
BASE = f"http://{SERVER}"

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def http_overrides(**http):
    """Config overrides: DHCP off (mode), TFTP off, [http] port 80 plus the given keys
    (underscores as -)."""
    keys = {"port": "80"}
    keys.update({k.replace("_", "-"): str(v) for k, v in http.items()})
    return {"http": keys, "tftp": {"enabled": "no"}}


def start_http(lab, verbose=True, extra=None, **http):
    """pixied with DHCP off, TFTP off, HTTP on port 80; returns the Pixied daemon."""
    ov = http_overrides(**http)
    for sec, keys in (extra or {}).items():
        ov.setdefault(sec, {}).update(keys)
    return lab.start_pixied(ov, mode="off", verbose=verbose)


def add_http_client(lab, addr="10.77.0.50", more=()):
    """A client namespace with `addr` (and the addresses in `more`) on the lab LAN."""
    c = lab.add_client()
    for a in (addr,) + tuple(more):
        lab.run(c.ns, ["ip", "addr", "add", f"{a}/24", "dev", c.iface], check=True)
    c.addr = addr
    c.addrs = (addr,) + tuple(more)
    # the first connect must not wait for ARP on a cold LAN longer than needed
    lab.run(c.ns, ["ping", "-c", "1", "-W", "2", SERVER])
    return c


def put_file(lab, name, data, mode=0o644):
    """Write bytes under the lab root (directories made world-readable); returns the path."""
    path = os.path.join(lab.root, name)
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    while d.startswith(lab.root) and d != lab.root:
        os.chmod(d, 0o755)
        d = os.path.dirname(d)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def pattern(n, seed=0):
    """n deterministic, position-dependent bytes (a slice shows where it came from)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"<{seed}:{i:010d}>".encode()
        i += 1
    return bytes(out[:n])


# ---- curl ------------------------------------------------------------------------------

class Resp:
    """One HTTP response: status, headers (lower-case names; last value wins), body."""

    def __init__(self, status, headers, body, raw_headers=b"", rc=0, err=""):
        self.status, self.headers, self.body = status, headers, body
        self.raw_headers, self.rc, self.err = raw_headers, rc, err

    def h(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Resp {self.status} {self.headers} body={len(self.body)}B rc={self.rc}>"


def parse_head(block):
    """(status, headers) of one header block (bytes, without the final blank line)."""
    lines = block.split(b"\r\n")
    m = re.match(rb"HTTP/\d\.\d (\d{3})", lines[0])
    status = int(m.group(1)) if m else 0
    headers = {}
    for ln in lines[1:]:
        if b":" in ln:
            k, _, v = ln.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return status, headers


def curl(lab, client, path, *args, timeout=60, method=None, url=None):
    """curl from the client namespace (path sent as-is, no ../ squashing). Returns the last
    response as a Resp; rc is curl's exit status."""
    n = time.monotonic_ns()
    body = os.path.join(client.dir, f"body-{n}")
    hdrs = os.path.join(client.dir, f"hdrs-{n}")
    argv = ["curl", "-s", "-S", "--path-as-is", "-D", hdrs, "-o", body, "--max-time",
            str(timeout)]
    if method == "HEAD":
        argv.append("-I")
    elif method:
        argv += ["-X", method]
    argv += list(args) + [url or BASE + path]
    r = lab.run(client.ns, argv, timeout=timeout + 10)
    raw = open(hdrs, "rb").read() if os.path.exists(hdrs) else b""
    data = open(body, "rb").read() if os.path.exists(body) else b""
    if method == "HEAD" and data == raw:
        data = b""  # curl -I writes the headers to -o too; raw() checks the wire
    blocks = [b for b in raw.split(b"\r\n\r\n") if b.strip()]
    status, headers = parse_head(blocks[-1]) if blocks else (0, {})
    for p in (hdrs, body):
        if os.path.exists(p):
            os.unlink(p)
    return Resp(status, headers, data, raw, r.returncode, r.stderr)


# ---- a raw HTTP client inside a namespace ----------------------------------------------

def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)


def ns_tcp(ns, bind_addr=None):
    """A TCP socket created inside network namespace `ns` (it stays there), optionally
    bound to a source address."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(f"/run/netns/{ns}")
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if bind_addr:
                s.bind((bind_addr, 0))
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back failed")
    finally:
        os.close(own)
    return s


def connect(client, bind_addr=None, timeout=5.0):
    s = ns_tcp(client.ns, bind_addr or client.addr)
    s.settimeout(timeout)
    s.connect((SERVER, 80))
    return s


def read_response(s, timeout=5.0):
    """Read one response (Content-Length bodies) from socket s. Returns a Resp, or None
    when the server closed before a status line. Resp.closed says whether EOF followed."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            b = b""
        if not b:
            return None if not buf else Resp(*parse_head(buf.split(b"\r\n\r\n")[0]), b"")
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        b = s.recv(min(1 << 20, n - len(rest)))
        if not b:
            break
        rest += b
    r = Resp(status, headers, rest[:n], head)
    return r


def raw(client, data, *, timeout=5.0, bind_addr=None):
    """Send raw request bytes on a fresh connection, read one response. Returns (Resp or
    None, closed: whether the server closed the connection right after)."""
    s = connect(client, bind_addr, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it read everything
        r = read_response(s, timeout)
        s.settimeout(1.0)
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        return r, closed
    finally:
        s.close()


def get(path, *headers, method="GET", close=True):
    """A request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {SERVER}"]
    if close:
        lines.append("Connection: close")
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def access_lines(daemon, since=0):
    """The access-log lines (`http: access ...`) written after byte offset since."""
    return [ln for ln in L.new_log_lines(daemon, since) if " http: access " in ln]


def kv(line):
    """key=value fields of a log line ("quoted" values unquoted)."""
    out = {}
    for m in re.finditer(r'(\w[\w-]*)=("(?:[^"\\]|\\.)*"|\S+)', line):
        v = m.group(2)
        out[m.group(1)] = v[1:-1] if v.startswith('"') else v
    return out


def multipart_parts(resp):
    """[(content-range, bytes)] of a multipart/byteranges body."""
    ct = resp.h("content-type") or ""
    m = re.search(r"boundary=([^;\s]+)", ct)
    assert m, f"no boundary in {ct!r}"
    delim = b"--" + m.group(1).encode()
    parts = []
    for chunk in resp.body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        _, h = parse_head(b"X 000\r\n" + head)
        parts.append((h.get("content-range"), data[:-2] if data.endswith(b"\r\n") else data))
    return parts

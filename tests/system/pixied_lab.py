"""
pixied_lab — the network-namespace lab the system tests (and scripts/demo.sh) run in.

Owns: creating and deleting network namespaces, veth links and bridges for one test;
starting pixied and peer daemons (dnsmasq, dhcrelay) inside them; running real DHCP
clients (ISC dhclient, busybox udhcpc) and reading what they got; sending and sniffing raw
Ethernet frames on a client interface (a small agent, this same file run as a script inside
the namespace); building and parsing BOOTP/DHCP messages byte by byte so tests can craft
malformed input exactly. Does not own any assertion about pixied's behaviour: tests do.

Topology (every name is prefixed with pxt<6 hex> so parallel runs never collide):

    pxt<id>w   "switch": bridges br0 (the 10.77.0.0/24 LAN) and any more a test adds
    pxt<id>s   server: eth0 = 10.77.0.1/24 on br0 (pixied's interface)
    pxt<id>c<n> clients: eth0 on a bridge, no address until a DHCP client configures one
    pxt<id>r<n> routers / peers (dhcrelay, dnsmasq), links on several bridges

Nothing is ever created in the host's namespace: every veth is made inside the switch
namespace with its peer moved straight into the target namespace. Everything is deleted on
every exit path (Lab.destroy from the fixture finalizer, atexit and SIGTERM via conftest).

Run as a script, `pixied_lab.py agent IFACE JOBFILE` is the in-namespace raw-frame agent.
"""

import atexit
import ipaddress
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

SERVER_IP = "10.77.0.1"
LAN_PREFIX = 24
POOL_START = "10.77.0.100"
POOL_END = "10.77.0.199"

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1

DHCP_MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
MSG_NAMES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
             7: "RELEASE", 8: "INFORM"}

# Real clients dressed as BIOS PXE firmware (option 60 PXEClient, option 93 arch 0), so a
# full-mode server hands them the BIOS loader like it would a booting machine.
PXE_BIOS_VCLASS = "PXEClient:Arch:00000:UNDI:002001"
DHCLIENT_PXE_BIOS = (f'send vendor-class-identifier "{PXE_BIOS_VCLASS}";\n'
                     "send pxe-system-type 0;\n")
UDHCPC_PXE_BIOS = ["-V", PXE_BIOS_VCLASS, "-x", "0x5d:0000"]
BIOS_LOADER = "undionly.kpxe"
EFI64_LOADER = "ipxe.efi"

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "LeakSanitizer has encountered a fatal error", "SUMMARY: UndefinedBehavior")


class LabError(Exception):
    pass


def pixied_bin():
    """The daemon under test: $PIXIED_BIN, else build-asan/pixied, else build/pixied."""
    env = os.environ.get("PIXIED_BIN")
    if env:
        return env
    for d in ("build-asan", "build"):
        p = os.path.join(TOP, d, "pixied")
        if os.access(p, os.X_OK):
            return p
    return os.path.join(TOP, "build-asan", "pixied")


def sh(argv, *, check=True, timeout=30, input=None, env=None):
    """Run argv, capture text output; raise LabError with the output when check fails."""
    try:
        r = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}") from e
    if check and r.returncode != 0:
        raise LabError(f"exit {r.returncode}: {' '.join(argv)}\n{r.stdout}{r.stderr}")
    return r


def random_mac(rng=random):
    """A random locally administered unicast MAC."""
    b = [rng.randrange(256) for _ in range(6)]
    b[0] = (b[0] & 0xFC) | 0x02
    return ":".join(f"{x:02x}" for x in b)


def mac_bytes(mac):
    if isinstance(mac, (bytes, bytearray)):
        return bytes(mac)
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def ip_bytes(ip):
    return socket.inet_aton(ip) if isinstance(ip, str) else bytes(ip)


# --------------------------------------------------------------------------------------
# BOOTP / DHCP messages, built and parsed by hand so malformed input stays malformed.
# --------------------------------------------------------------------------------------

def opt(code, value=b""):
    """One option as TLV bytes. value: bytes, str, an IPv4 string list, or an int list."""
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, (list, tuple)):
        if value and isinstance(value[0], str):
            value = b"".join(ip_bytes(v) for v in value)
        else:
            value = bytes(value)
    return bytes([code, len(value)]) + bytes(value)


def options(*items, end=True):
    """Concatenate options (tuples (code, value) or raw bytes), then END unless end=False."""
    out = b""
    for it in items:
        out += it if isinstance(it, (bytes, bytearray)) else opt(*it)
    if end:
        out += b"\xff"
    return out


def bootp(*, op=1, htype=1, hlen=6, hops=0, xid=None, secs=0, flags=0,
          ciaddr="0.0.0.0", yiaddr="0.0.0.0", siaddr="0.0.0.0", giaddr="0.0.0.0",
          chaddr=None, sname=b"", file=b"", opts=b"\xff", magic=True, pad_to=300):
    """A BOOTP/DHCP message. opts are raw bytes (see options()); padded to pad_to."""
    if xid is None:
        xid = random.getrandbits(32)
    ch = mac_bytes(chaddr) if chaddr is not None else b""
    msg = struct.pack("!BBBBIHH", op, htype, hlen, hops, xid, secs, flags)
    msg += ip_bytes(ciaddr) + ip_bytes(yiaddr) + ip_bytes(siaddr) + ip_bytes(giaddr)
    msg += ch.ljust(16, b"\0")[:16]
    msg += bytes(sname).ljust(64, b"\0")[:64]
    msg += bytes(file).ljust(128, b"\0")[:128]
    if magic:
        msg += DHCP_MAGIC
    msg += opts
    if len(msg) < pad_to:
        msg += b"\0" * (pad_to - len(msg))
    return msg


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(payload, *, src_mac, dst_mac="ff:ff:ff:ff:ff:ff", src_ip="0.0.0.0",
              dst_ip="255.255.255.255", sport=68, dport=67, ttl=64):
    """An Ethernet/IPv4/UDP frame carrying payload (UDP checksum filled in)."""
    udp_len = 8 + len(payload)
    src, dst = ip_bytes(src_ip), ip_bytes(dst_ip)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = _csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, random.getrandbits(16), 0,
                     ttl, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ETH_P_IP) + ip + udp


class Dhcp:
    """A parsed BOOTP/DHCP message (RFC 2131 fields, options with RFC 3396 concatenation
    and option 52 overload applied). options: code -> bytes; order: codes as they came."""

    def __init__(self, data):
        if len(data) < 236:
            raise ValueError(f"BOOTP message too short: {len(data)} bytes")
        (self.op, self.htype, self.hlen, self.hops, self.xid, self.secs,
         self.flags) = struct.unpack("!BBBBIHH", data[:12])
        self.ciaddr, self.yiaddr, self.siaddr, self.giaddr = (
            socket.inet_ntoa(data[i:i + 4]) for i in (12, 16, 20, 24))
        self.chaddr = data[28:44]
        self.mac = mac_str(self.chaddr[:6])
        self.sname_raw = data[44:108]
        self.file_raw = data[108:236]
        self.options = {}
        self.order = []
        self.raw = bytes(data)
        self.length = len(data)
        if data[236:240] == DHCP_MAGIC:
            overload = self._parse(data[240:])
            if overload & 1:
                self._parse(self.file_raw)
            if overload & 2:
                self._parse(self.sname_raw)
        else:
            overload = 0
        self.file = "" if overload & 1 else self.file_raw.split(b"\0")[0].decode("latin-1")
        self.sname = "" if overload & 2 else self.sname_raw.split(b"\0")[0].decode("latin-1")

    def _parse(self, buf):
        i, overload = 0, 0
        while i < len(buf):
            code = buf[i]
            if code == 0:
                i += 1
                continue
            if code == 255:
                break
            if i + 1 >= len(buf):
                raise ValueError("option length byte past the end")
            n = buf[i + 1]
            if i + 2 + n > len(buf):
                raise ValueError(f"option {code} runs past the end")
            val = bytes(buf[i + 2:i + 2 + n])
            if code not in self.options:
                self.order.append(code)
                self.options[code] = val
            else:
                self.options[code] += val
            if code == 52 and n == 1:
                overload = val[0]
            i += 2 + n
        return overload

    @property
    def msg_type(self):
        v = self.options.get(53)
        return v[0] if v and len(v) == 1 else None

    @property
    def type_name(self):
        return MSG_NAMES.get(self.msg_type, "BOOTP" if self.msg_type is None else "?")

    def get(self, code, default=None):
        return self.options.get(code, default)

    def text(self, code):
        v = self.options.get(code)
        return None if v is None else v.split(b"\0")[0].decode("latin-1")

    def ips(self, code):
        v = self.options.get(code)
        if v is None:
            return None
        return [socket.inet_ntoa(v[i:i + 4]) for i in range(0, len(v) - len(v) % 4, 4)]

    def u32(self, code):
        v = self.options.get(code)
        return struct.unpack("!I", v)[0] if v is not None and len(v) == 4 else None

    def boot_file(self):
        """The boot file name as a client sees it: option 67 if present, else `file`."""
        t = self.text(67)
        return t if t else self.file

    def sub_options(self, code):
        """Encapsulated sub-options (43, 175, 82) as code -> bytes."""
        v = self.options.get(code, b"")
        out, i = {}, 0
        while i + 1 < len(v):
            c, n = v[i], v[i + 1]
            if c == 0:
                i += 1
                continue
            if c == 255:
                break
            out[c] = v[i + 2:i + 2 + n]
            i += 2 + n
        return out

    def __repr__(self):
        return (f"<{self.type_name} xid={self.xid:#x} mac={self.mac} yiaddr={self.yiaddr} "
                f"siaddr={self.siaddr} giaddr={self.giaddr} flags={self.flags:#x} "
                f"file={self.boot_file()!r} opts={self.order}>")


class Frame:
    """A received Ethernet frame; IPv4/UDP fields and .dhcp when it carries BOOTP."""

    def __init__(self, data, t=0.0):
        self.raw = bytes(data)
        self.t = t
        self.eth_dst = mac_str(data[0:6])
        self.eth_src = mac_str(data[6:12])
        self.ethertype = struct.unpack("!H", data[12:14])[0]
        self.ip_src = self.ip_dst = None
        self.sport = self.dport = None
        self.payload = b""
        self.dhcp = None
        if self.ethertype != ETH_P_IP or len(data) < 34:
            return
        ihl = (data[14] & 0x0F) * 4
        self.ip_src = socket.inet_ntoa(data[26:30])
        self.ip_dst = socket.inet_ntoa(data[30:34])
        if data[23] != 17 or len(data) < 14 + ihl + 8:
            return
        u = 14 + ihl
        self.sport, self.dport, ulen = struct.unpack("!HHH", data[u:u + 6])
        self.payload = data[u + 8:u + ulen]
        if {self.sport, self.dport} & {67, 68, 4011}:
            try:
                self.dhcp = Dhcp(self.payload)
            except ValueError:
                self.dhcp = None

    def __repr__(self):
        return (f"<Frame {self.eth_src}->{self.eth_dst} {self.ip_src}:{self.sport}->"
                f"{self.ip_dst}:{self.dport} {self.dhcp!r}>")


# --------------------------------------------------------------------------------------
# Daemons inside the lab
# --------------------------------------------------------------------------------------

class Daemon:
    """A process started in a lab namespace, its output in a log file."""

    def __init__(self, lab, name, ns, argv, log_path, env=None):
        self.lab, self.name, self.ns, self.argv, self.log_path = lab, name, ns, argv, log_path
        self._logf = open(log_path, "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        self.pid = self.proc.pid  # `ip netns exec` execs: this is the daemon's own PID
        self.returncode = None
        lab._daemons.append(self)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_bytes(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def log_lines(self):
        return self.log().splitlines()

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Wait until the log (from byte offset start) matches regex pattern; the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_bytes()[start:].decode("utf-8", "replace")
            m = rx.search(text)
            if m:
                return m
            if self.proc.poll() is not None:
                text = self.log_bytes()[start:].decode("utf-8", "replace")
                m = rx.search(text)
                if m:
                    return m
                raise LabError(f"{self.name} exited ({self.proc.returncode}) before logging "
                               f"/{pattern}/:\n{self.log()}")
            if time.monotonic() > deadline:
                raise LabError(f"{self.name}: no /{pattern}/ in the log after {timeout}s:\n"
                               f"{self.log()}")
            time.sleep(0.02)

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self, timeout=10.0):
        """SIGTERM, wait; SIGKILL if it will not go. Returns the exit status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        if not self._logf.closed:
            self._logf.close()
        return self.returncode


class Pixied(Daemon):
    """The daemon under test."""

    def __init__(self, lab, ns, conf_path, log_path, verbose=True, extra_args=()):
        self.conf_path = conf_path
        argv = [pixied_bin(), "-c", conf_path] + (["-v"] if verbose else []) + list(extra_args)
        super().__init__(lab, "pixied", ns, argv, log_path)
        self.stopped = False
        self.checked = False

    def wait_ready(self, timeout=15.0):
        return self.wait_log(r"\bready\b", timeout)

    def reload(self):
        self.signal(signal.SIGHUP)

    def sanitizer_reports(self):
        text = self.log()
        return [m for m in SANITIZER_MARKERS if m in text]

    def status(self):
        """/proc/<pid>/status as a dict."""
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
        return out

    def rss_kb(self):
        return int(self.status()["VmRSS"].split()[0])

    def stop(self, expect_rc=0, timeout=15.0):
        """SIGTERM, wait, then check: exit status expect_rc and no sanitizer report."""
        rc = self.terminate(timeout)
        self.stopped = True
        self.checked = True
        problems = self.problems(expect_rc)
        if problems:
            raise AssertionError("; ".join(problems) + "\n--- pixied log ---\n" + self.log())
        return rc

    def problems(self, expect_rc=0):
        out = []
        if self.returncode is not None and expect_rc is not None and self.returncode != expect_rc:
            how = (f"signal {-self.returncode}" if self.returncode < 0
                   else f"status {self.returncode}")
            out.append(f"pixied exited with {how}, expected {expect_rc}")
        reps = self.sanitizer_reports()
        if reps:
            out.append("sanitizer report in pixied's output: " + ", ".join(reps))
        return out

    # The state directory's lease database, read-only.
    def leases(self):
        return read_leases(os.path.join(self.lab.state, "leases.db"))


def read_leases(db_path):
    """Rows of the lease table of a pixied leases.db, normalised: ip (dotted), mac (aa:..),
    hostname (bytes→str latin-1), state, expires, plus every raw column under its name."""
    if not os.path.exists(db_path):
        raise LabError(f"no lease database at {db_path}")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")]
        cand = [t for t in tables if "lease" in t.lower()] or tables
        rows = []
        for t in cand:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info('{t}')")]
            if "ip" not in [c.lower() for c in cols]:
                continue
            for r in con.execute(f"SELECT * FROM '{t}'"):
                rows.append(_norm_lease(dict(r)))
            break
        return rows
    finally:
        con.close()


def _norm_lease(r):
    out = dict(r)
    low = {k.lower(): v for k, v in r.items()}
    ip = low.get("ip")
    if isinstance(ip, int):
        out["ip"] = str(ipaddress.IPv4Address(ip))
    elif isinstance(ip, bytes) and len(ip) == 4:
        out["ip"] = socket.inet_ntoa(ip)
    mac = low.get("mac")
    if isinstance(mac, bytes) and len(mac) == 6:
        out["mac"] = mac_str(mac)
    elif isinstance(mac, str):
        out["mac"] = mac.lower()
    hn = low.get("hostname")
    if isinstance(hn, bytes):
        out["hostname"] = hn.decode("latin-1")
    return out


# --------------------------------------------------------------------------------------
# The lab
# --------------------------------------------------------------------------------------

_LIVE = set()
_LIVE_LOCK = threading.Lock()


def cleanup_all():
    """Destroy every lab still alive (atexit, SIGTERM)."""
    with _LIVE_LOCK:
        labs = list(_LIVE)
    for lab in labs:
        try:
            lab.destroy(check=False)
        except Exception as e:  # keep going: the other labs must still go
            print(f"pixied_lab: cleanup of {lab.prefix} failed: {e}", file=sys.stderr)


atexit.register(cleanup_all)


class Client:
    """A namespace with one interface on a lab bridge; where DHCP clients run."""

    def __init__(self, lab, ns, iface, mac, bridge):
        self.lab, self.ns, self.iface, self.mac, self.bridge = lab, ns, iface, mac, bridge
        self.dir = os.path.join(lab.dir, ns)
        os.makedirs(self.dir, exist_ok=True)

    def __repr__(self):
        return f"<Client {self.ns} {self.iface} {self.mac} on {self.bridge}>"

    def addresses(self):
        r = self.lab.run(self.ns, ["ip", "-4", "-o", "addr", "show", "dev", self.iface])
        return re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", r.stdout)


class Lab:
    """One test's namespaces. Use as a context manager or call destroy()."""

    def __init__(self, server_addr=f"{SERVER_IP}/{LAN_PREFIX}"):
        self.id = secrets.token_hex(3)
        self.prefix = f"pxt{self.id}"
        self.switch_ns = self.prefix + "w"
        self.server_ns = self.prefix + "s"
        self.namespaces = []
        self._daemons = []
        self._procs = []
        self._nveth = 0
        self._nclients = 0
        self._nrouters = 0
        self._nconf = 0
        self.bridges = []
        self.clients = []
        self.destroyed = False
        self.dir = tempfile.mkdtemp(prefix=f"pixied-lab-{self.id}-")
        os.chmod(self.dir, 0o755)
        self.root = os.path.join(self.dir, "root")
        self.state = os.path.join(self.dir, "state")
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._make_dirs()
            self.add_ns(self.switch_ns)
            self.add_bridge("br0")
            self.add_ns(self.server_ns)
            self.server_iface = "eth0"
            self.server_mac = self.link(self.server_ns, "eth0", "br0", addr=server_addr)
        except BaseException:
            self.destroy(check=False)
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy(check=exc[0] is None)

    # -- files -------------------------------------------------------------------------
    def _make_dirs(self):
        os.makedirs(self.root, mode=0o755)
        for name, text in (("hello.txt", "hello from the pixied lab\n"),
                           ("boot/menu.ipxe", "#!ipxe\necho lab\n")):
            p = os.path.join(self.root, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        for dp, dns, fns in os.walk(self.root):
            os.chmod(dp, 0o755)
            for fn in fns:
                os.chmod(os.path.join(dp, fn), 0o644)
        os.makedirs(self.state, mode=0o750)
        try:
            pw = pwd.getpwnam("pixied")
            os.chown(self.state, pw.pw_uid, pw.pw_gid)
        except KeyError:
            pass  # the daemon will say why it cannot drop to `pixied`

    # -- namespaces and links ----------------------------------------------------------
    def add_ns(self, name):
        sh(["ip", "netns", "add", name])
        self.namespaces.append(name)
        # lo up; no IPv6 (no DAD or router solicitations in the captures)
        self.run(name, ["sh", "-c",
                        "ip link set lo up && "
                        "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && "
                        "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"], check=True)
        return name

    def add_bridge(self, name):
        sh(["ip", "-n", self.switch_ns, "link", "add", name, "type", "bridge",
            "forward_delay", "0", "stp_state", "0"])
        sh(["ip", "-n", self.switch_ns, "link", "set", name, "up"])
        self.bridges.append(name)
        return name

    def link(self, ns, ifname, bridge, *, addr=None, mac=None):
        """A veth from the switch's bridge to `ifname` in ns; returns the interface MAC."""
        self._nveth += 1
        port = f"v{self._nveth}"
        sh(["ip", "-n", self.switch_ns, "link", "add", port, "type", "veth",
            "peer", "name", ifname, "netns", ns])
        sh(["ip", "-n", self.switch_ns, "link", "set", port, "master", bridge, "up"])
        if mac:
            sh(["ip", "-n", ns, "link", "set", ifname, "address", mac])
        sh(["ip", "-n", ns, "link", "set", ifname, "up"])
        if addr:
            sh(["ip", "-n", ns, "addr", "add", addr, "dev", ifname])
        return self.iface_mac(ns, ifname)

    def iface_mac(self, ns, ifname):
        r = self.run(ns, ["cat", f"/sys/class/net/{ifname}/address"], check=True)
        return r.stdout.strip()

    def add_client(self, *, bridge="br0", mac=None, iface="eth0"):
        """A new client namespace with `iface` on `bridge`; no address."""
        self._nclients += 1
        ns = f"{self.prefix}c{self._nclients}"
        self.add_ns(ns)
        mac = self.link(ns, iface, bridge, mac=mac or random_mac())
        c = Client(self, ns, iface, mac, bridge)
        self.clients.append(c)
        return c

    def add_router(self, links):
        """A namespace linked to several bridges: links = [(ifname, bridge, addr)]."""
        self._nrouters += 1
        ns = f"{self.prefix}r{self._nrouters}"
        self.add_ns(ns)
        for ifname, bridge, addr in links:
            if bridge not in self.bridges:
                self.add_bridge(bridge)
            self.link(ns, ifname, bridge, addr=addr)
        return ns

    def add_server_iface(self, ifname, bridge, addr):
        """Another interface for the server namespace (e.g. one pixied must not serve)."""
        if bridge not in self.bridges:
            self.add_bridge(bridge)
        return self.link(self.server_ns, ifname, bridge, addr=addr)

    def run(self, ns, argv, *, timeout=30, check=False, input=None):
        return sh(["ip", "netns", "exec", ns] + list(argv), check=check, timeout=timeout,
                  input=input)

    def popen(self, ns, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(argv), **kw)
        self._procs.append(p)
        return p

    # -- pixied ------------------------------------------------------------------------
    def config(self, overrides=None, *, mode="full"):
        """The default lab config as a dict of sections, with overrides merged in
        (a section or key set to None is removed)."""
        conf = {
            "server": {"interfaces": self.server_iface, "root": self.root,
                       "state": self.state, "user": "pixied"},
            "dhcp": {"mode": mode},
            "loaders": {"bios": "/usr/lib/ipxe/undionly.kpxe",
                        "efi64": "/usr/lib/ipxe/ipxe.efi"},
            "http": {"port": "80"},
            "tftp": {"enabled": "no"},
        }
        if mode == "full":
            conf["dhcp"].update({"range": f"{POOL_START} {POOL_END}", "router": SERVER_IP,
                                 "dns": SERVER_IP, "domain": "lab.test",
                                 "lease-time": "1h"})
        for sec, keys in (overrides or {}).items():
            if keys is None:
                conf.pop(sec, None)
                continue
            dst = conf.setdefault(sec, {})
            for k, v in keys.items():
                if v is None:
                    dst.pop(k, None)
                else:
                    dst[k] = v
        return conf

    @staticmethod
    def render(conf):
        out = []
        for sec, keys in conf.items():
            out.append(f"[{sec}]")
            for k, v in keys.items():
                out.append(f"{k} = {v}")
            out.append("")
        return "\n".join(out)

    def write_config(self, config=None, *, mode="full"):
        """Write a config file (text as-is, or a dict of overrides over the default)."""
        self._nconf += 1
        path = os.path.join(self.dir, f"pixied-{self._nconf}.conf")
        text = config if isinstance(config, str) else self.render(self.config(config, mode=mode))
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def start_pixied(self, config=None, *, mode="full", verbose=True, wait_ready=True,
                     ns=None, extra_args=(), conf_path=None):
        """Start pixied in the server namespace (config: text, or dict of overrides over
        the lab default); waits for its `ready` line unless wait_ready=False."""
        path = conf_path or self.write_config(config, mode=mode)
        log = os.path.join(self.dir, f"pixied-{len(self._daemons) + 1}.log")
        d = Pixied(self, ns or self.server_ns, path, log, verbose=verbose, extra_args=extra_args)
        if wait_ready:
            d.wait_ready()
        return d

    def pixied_check(self, config, *, mode="full"):
        """`pixied --check -c FILE`: (exit status, output, path)."""
        path = self.write_config(config, mode=mode)
        r = sh([pixied_bin(), "--check", "-c", path], check=False, timeout=30)
        return r.returncode, r.stdout + r.stderr, path

    # -- peers -------------------------------------------------------------------------
    def start_dnsmasq(self, ns, iface, dhcp_range, *extra):
        """A dnsmasq DHCP server (no DNS) on `iface` in ns."""
        log = os.path.join(self.dir, f"dnsmasq-{ns}.log")
        argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                f"--interface={iface}", "--bind-interfaces", f"--dhcp-range={dhcp_range}",
                "--no-ping", "--log-dhcp", "--user=root", "--group=root",
                f"--dhcp-leasefile={self.dir}/dnsmasq-{ns}.leases",
                f"--pid-file={self.dir}/dnsmasq-{ns}.pid"] + list(extra)
        d = Daemon(self, "dnsmasq", ns, argv, log)
        d.wait_log(r"DHCP, IP range|started, version", 10)
        time.sleep(0.2)
        return d

    def start_dhcrelay(self, ns, down_iface, up_iface, server):
        log = os.path.join(self.dir, f"dhcrelay-{ns}.log")
        argv = ["dhcrelay", "-4", "-d", "-pf", f"{self.dir}/dhcrelay-{ns}.pid",
                "-id", down_iface, "-iu", up_iface, server]
        d = Daemon(self, "dhcrelay", ns, argv, log)
        d.wait_log(r"Listening on|Sending on", 10)
        time.sleep(0.3)
        return d

    # -- real DHCP clients -------------------------------------------------------------
    def _script(self, client, kind):
        """A client hook script that dumps its environment (NUL separated) to a numbered
        file and configures the address, like the distribution scripts would."""
        dump = os.path.join(client.dir, f"{kind}-env")
        os.makedirs(dump, exist_ok=True)
        path = os.path.join(client.dir, f"{kind}-script.sh")
        if kind == "dhclient":
            body = r'''
ev="$reason"
case "$reason" in
PREINIT) ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
        ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null
    fi
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null ;;
esac
'''
        else:
            body = r'''
ev="$1"
case "$1" in
deconfig) ip -4 addr flush dev "$interface"; ip link set dev "$interface" up ;;
bound|renew) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
esac
'''
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body +
                    f'n=$(date +%s%N)\nenv -0 > "{dump}/.$n.tmp"\n'
                    f'mv "{dump}/.$n.tmp" "{dump}/$n.$ev.env"\nexit 0\n')
        os.chmod(path, 0o755)
        return path, dump

    @staticmethod
    def _read_dumps(dump):
        out = []
        for fn in sorted(os.listdir(dump)):
            if not fn.endswith(".env"):
                continue
            with open(os.path.join(dump, fn), "rb") as f:
                raw = f.read()
            env = {}
            for item in raw.split(b"\0"):
                if b"=" in item:
                    k, _, v = item.partition(b"=")
                    env[k.decode()] = v.decode("utf-8", "replace")
            env["_event"] = fn.split(".")[1]
            out.append(env)
        return out

    def dhclient(self, client, *, timeout=25, keep=False, extra_conf="", events=("BOUND",
                 "REBOOT"), args=()):
        """ISC dhclient -1 -d on the client until it binds. Returns DhcpResult (the hook
        environment: new_ip_address, new_routers, new_filename, ...), or raises LabError
        when it gets no lease. keep=True leaves it running (renewals); see .stop()."""
        script, dump = self._script(client, "dhclient")
        cf = os.path.join(client.dir, "dhclient.conf")
        with open(cf, "w") as f:
            f.write("timeout 20;\ninitial-interval 1;\nbackoff-cutoff 2;\n"
                    "request subnet-mask, broadcast-address, routers, domain-name,\n"
                    "    domain-name-servers, host-name, ntp-servers, bootfile-name,\n"
                    "    tftp-server-name, dhcp-lease-time, dhcp-renewal-time,\n"
                    "    dhcp-rebinding-time;\n" + extra_conf)
        lf = os.path.join(client.dir, "dhclient.leases")
        pf = os.path.join(client.dir, "dhclient.pid")
        log = os.path.join(client.dir, "dhclient.log")
        argv = ["dhclient", "-1", "-d", "-v", "-4", "-cf", cf, "-lf", lf, "-pf", pf,
                "-sf", script] + list(args) + [client.iface]
        before = len(self._read_dumps(dump))
        d = Daemon(self, "dhclient", client.ns, argv, log)
        deadline = time.monotonic() + timeout
        while True:
            dumps = self._read_dumps(dump)[before:]
            got = [e for e in dumps if e["_event"] in events]
            if got:
                res = DhcpResult(got[-1], d, dump, "dhclient")
                break
            if d.proc.poll() is not None:
                raise LabError(f"dhclient got no lease (exit {d.proc.returncode}):\n{d.log()}")
            if time.monotonic() > deadline:
                d.terminate(3)
                raise LabError(f"dhclient got no lease in {timeout}s:\n{d.log()}")
            time.sleep(0.05)
        if not keep:
            res.stop()
        return res

    def dhclient_release(self, client, timeout=20):
        """dhclient -r with the client's lease file: sends a RELEASE for its lease."""
        script, _ = self._script(client, "dhclient")
        cf = os.path.join(client.dir, "dhclient.conf")
        lf = os.path.join(client.dir, "dhclient.leases")
        pf = os.path.join(client.dir, "dhclient.pid")
        return self.run(client.ns, ["dhclient", "-r", "-v", "-4", "-cf", cf, "-lf", lf,
                                    "-pf", pf, "-sf", script, client.iface], timeout=timeout)

    def udhcpc(self, client, *, timeout=25, keep=False, args=()):
        """busybox udhcpc on the client until it binds; DhcpResult with ip, router, dns,
        boot_file, siaddr, bootfile (option 67), ... keep=True leaves it running
        (SIGUSR1 renews, SIGUSR2 releases)."""
        script, dump = self._script(client, "udhcpc")
        exe = ["udhcpc"] if shutil.which("udhcpc") else ["busybox", "udhcpc"]
        argv = exe + ["-f", "-i", client.iface, "-s", script, "-t", "6", "-T", "2",
                      "-A", "2", "-n"]
        if not keep:
            argv.append("-q")
        for o in ("subnet", "router", "dns", "domain", "hostname", "bootfile", "tftp",
                  "lease", "serverid", "broadcast", "ntpsrv"):
            argv += ["-O", o]
        argv += list(args)
        log = os.path.join(client.dir, "udhcpc.log")
        before = len(self._read_dumps(dump))
        d = Daemon(self, "udhcpc", client.ns, argv, log)
        deadline = time.monotonic() + timeout
        while True:
            dumps = self._read_dumps(dump)[before:]
            got = [e for e in dumps if e["_event"] == "bound"]
            if got:
                res = DhcpResult(got[-1], d, dump, "udhcpc")
                break
            if d.proc.poll() is not None:
                raise LabError(f"udhcpc got no lease (exit {d.proc.returncode}):\n{d.log()}")
            if time.monotonic() > deadline:
                d.terminate(3)
                raise LabError(f"udhcpc got no lease in {timeout}s:\n{d.log()}")
            time.sleep(0.05)
        if not keep:
            d.proc.wait(5)
        return res

    # -- raw frames ----------------------------------------------------------------------
    def _agent_job(self, client, job):
        jobfile = os.path.join(self.dir, f"agent-{secrets.token_hex(4)}.json")
        with open(jobfile, "w") as f:
            json.dump(job, f)
        return [PY, os.path.abspath(__file__), "agent", client.iface, jobfile]

    def _frames_file(self, frames):
        path = os.path.join(self.dir, f"frames-{secrets.token_hex(4)}.bin")
        with open(path, "wb") as f:
            for fr in frames:
                fr = bytes(fr)
                f.write(struct.pack("!I", len(fr)) + fr)
        return path

    def exchange(self, client, frames=(), *, listen=2.0, until=None, interval=0.0,
                 ports=(67, 68, 4011), count_only=False, gap=0.0, until_sports=(67, 4011)):
        """Send raw frames from the client interface and collect the UDP frames on ports
        (both directions, not our own) for `listen` seconds, or until `until` frames from
        a source port in until_sports were seen. Returns [Frame] (or the number of
        matching frames with count_only)."""
        job = {"send_file": self._frames_file(frames) if frames else None,
               "interval": interval, "listen": listen, "until": until or 0,
               "until_sports": list(until_sports),
               "ports": list(ports), "count_only": count_only, "gap": gap}
        timeout = listen + 30 + interval * len(frames)
        r = self.run(client.ns, self._agent_job(client, job), timeout=timeout, check=True)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if count_only:
            return res["matched"]
        return [Frame(bytes.fromhex(h), t) for t, h in res["frames"]]

    def scapy_send(self, client, pkts, **kw):
        """Send scapy packets (or raw bytes) from the client; returns the frames seen."""
        return self.exchange(client, [bytes(p) for p in pkts], **kw)

    def sniff_start(self, client, seconds, ports=(67, 68, 4011)):
        """Start sniffing on the client in the background; .result() → [Frame]."""
        job = {"send_file": None, "interval": 0, "listen": seconds, "until": 0,
               "until_sports": [], "ports": list(ports), "count_only": False, "gap": 0}
        p = self.popen(client.ns, self._agent_job(client, job), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()  # "READY" once the socket is open
        if "READY" not in line:
            raise LabError(f"sniffer did not start: {line}{p.stderr.read()}")
        return Sniffer(p, seconds)

    # DHCP over raw frames ---------------------------------------------------------------
    def dhcp_frame(self, client, msg, *, src_mac=None, dst_mac="ff:ff:ff:ff:ff:ff",
                   src_ip="0.0.0.0", dst_ip="255.255.255.255", sport=68, dport=67):
        return udp_frame(msg, src_mac=src_mac or client.mac, dst_mac=dst_mac, src_ip=src_ip,
                         dst_ip=dst_ip, sport=sport, dport=dport)

    def send_dhcp(self, client, msgs, *, listen=1.5, until=None, src_mac=None, gap=0.0,
                  **kw):
        """Send DHCP messages (bytes) broadcast from the client; return the DHCP replies
        (Frames from port 67 or 4011 with a parsed .dhcp)."""
        frames = [self.dhcp_frame(client, m, src_mac=src_mac, **kw) for m in msgs]
        got = self.exchange(client, frames, listen=listen, until=until, gap=gap)
        return [f for f in got if f.sport in (67, 4011) and f.dhcp is not None]

    def discover(self, client, *, mac=None, opts=None, listen=1.5, flags=0, xid=None,
                 giaddr="0.0.0.0", **bootp_kw):
        """Send one DISCOVER (MAC defaults to the client's) and return the replies."""
        mac = mac or client.mac
        o = opts if opts is not None else options((53, [DISCOVER]), (55, [1, 3, 6, 15, 66, 67]))
        m = bootp(chaddr=mac, xid=xid, flags=flags, giaddr=giaddr, opts=o, **bootp_kw)
        return self.send_dhcp(client, [m], listen=listen, until=1, src_mac=mac)

    def dora(self, client, *, mac=None, extra=(), listen=2.0, flags=0):
        """A whole DISCOVER/OFFER/REQUEST/ACK by raw frames; returns (offer, ack) as Dhcp
        (ack None when no ACK came)."""
        mac = mac or client.mac
        xid = random.getrandbits(32)
        d = options((53, [DISCOVER]), *extra, (55, [1, 3, 6, 12, 15, 28, 42, 66, 67]))
        offers = [f.dhcp for f in self.send_dhcp(client, [bootp(chaddr=mac, xid=xid,
                                                 flags=flags, opts=d)],
                                                 listen=listen, until=1, src_mac=mac)
                  if f.dhcp.msg_type == OFFER and f.dhcp.xid == xid]
        if not offers:
            return None, None
        off = offers[0]
        r = options((53, [REQUEST]), (50, [off.yiaddr]), (54, off.options.get(54, b"")),
                    *extra, (55, [1, 3, 6, 12, 15, 28, 42, 66, 67]))
        acks = [f.dhcp for f in self.send_dhcp(client, [bootp(chaddr=mac, xid=xid,
                                               flags=flags, opts=r)],
                                               listen=listen, until=1, src_mac=mac)
                if f.dhcp.xid == xid and f.dhcp.msg_type in (ACK, NAK)]
        return off, (acks[0] if acks else None)

    def probe_offer(self, client, listen=3.0):
        """A DISCOVER from a fresh random MAC; the OFFER (Dhcp) or None. Shows the
        daemon still serves."""
        mac = random_mac()
        for f in self.discover(client, mac=mac, listen=listen):
            if f.dhcp.msg_type == OFFER and f.dhcp.mac == mac:
                return f.dhcp
        return None

    # -- teardown ------------------------------------------------------------------------
    def destroy(self, check=True):
        """Stop everything and delete the namespaces. With check, raise AssertionError
        afterwards if a pixied exited badly or printed a sanitizer report."""
        if self.destroyed:
            return
        self.destroyed = True
        problems = []
        for d in self._daemons:
            was_running = d.proc.poll() is None
            try:
                d.terminate(10)
            except Exception as e:
                problems.append(f"{d.name}: {e}")
            if isinstance(d, Pixied) and not d.checked:
                # An unexpected death while the test ran is a failure too.
                rc_expect = 0 if was_running else None
                for p in d.problems(rc_expect):
                    problems.append(f"pixied (pid {d.pid}): {p}")
        for p in self._procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in reversed(self.namespaces):
            r = sh(["ip", "netns", "pids", ns], check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for ns in reversed(self.namespaces):
            for _ in range(20):
                r = sh(["ip", "netns", "del", ns], check=False)
                if r.returncode == 0 or "No such file" in r.stderr:
                    break
                time.sleep(0.1)
        self.namespaces = []
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if os.environ.get("PIXIED_KEEP_LAB") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        if check and problems:
            raise AssertionError("; ".join(problems))

    def pixied_logs(self):
        """Every pixied log of this lab (for failure reports)."""
        out = []
        for d in self._daemons:
            try:
                out.append(f"--- {d.name} pid {d.pid} ({d.log_path}) ---\n{d.log()}")
            except OSError:
                pass
        return "\n".join(out)


class DhcpResult(dict):
    """A DHCP client's hook environment after it bound (+ the running client)."""

    def __init__(self, env, daemon, dump, kind):
        super().__init__(env)
        self.daemon, self.dump, self.kind = daemon, dump, kind

    def events(self):
        return Lab._read_dumps(self.dump)

    # The same facts whichever client got them.
    def _pick(self, dh, ud):
        v = self.get(dh if self.kind == "dhclient" else ud)
        return v if v not in ("",) else None

    @property
    def ip(self):
        return self._pick("new_ip_address", "ip")

    @property
    def mask(self):
        return self._pick("new_subnet_mask", "subnet")

    @property
    def routers(self):
        v = self._pick("new_routers", "router")
        return v.split() if v else []

    @property
    def dns(self):
        v = self._pick("new_domain_name_servers", "dns")
        return v.split() if v else []

    @property
    def domain(self):
        return self._pick("new_domain_name", "domain")

    @property
    def hostname(self):
        return self._pick("new_host_name", "hostname")

    @property
    def server_id(self):
        return self._pick("new_dhcp_server_identifier", "serverid")

    @property
    def lease_time(self):
        v = self._pick("new_dhcp_lease_time", "lease")
        return int(v) if v else None

    @property
    def next_server(self):
        """siaddr."""
        return self._pick("new_next_server", "siaddr")

    @property
    def file_field(self):
        """The BOOTP `file` field."""
        return self._pick("new_filename", "boot_file")

    @property
    def bootfile_option(self):
        """Option 67."""
        return self._pick("new_bootfile_name", "bootfile")

    @property
    def boot_file(self):
        """What a booting client would load: option 67, else the file field."""
        return self.bootfile_option or self.file_field

    def wait_event(self, names, timeout=30.0, after=None):
        """Wait for a later hook run whose event is in names; returns its env."""
        seen = len(self.events()) if after is None else after
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            evs = self.events()[seen:]
            for e in evs:
                if e["_event"] in names:
                    return e
            time.sleep(0.1)
        raise LabError(f"{self.kind}: no {names} event in {timeout}s; events: "
                       f"{[e['_event'] for e in self.events()]}\n{self.daemon.log()}")

    def signal(self, sig):
        self.daemon.signal(sig)

    def stop(self):
        self.daemon.terminate(5)


class Sniffer:
    def __init__(self, proc, seconds):
        self.proc, self.seconds = proc, seconds

    def result(self):
        out, err = self.proc.communicate(timeout=self.seconds + 30)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if not lines:
            raise LabError(f"sniffer failed: {out}{err}")
        res = json.loads(lines[-1])
        return [Frame(bytes.fromhex(h), t) for t, h in res["frames"]]


# --------------------------------------------------------------------------------------
# Firmware vectors and shared checks
# --------------------------------------------------------------------------------------

VECTORS = os.environ.get("PIXIED_VECTORS",
                         os.path.join(os.path.dirname(TOP), "shared", "vectors"))
VECTOR_MAC = "52:54:00:77:00:10"


def vector_path(name):
    """tests/system/vectors (the DHCP frames, in the repo), else the shared captures."""
    for d in (os.path.join(HERE, "vectors"), VECTORS):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise LabError(f"firmware capture {name} not found (looked in {VECTORS})")


def vector_client_frames(name):
    """The client->server DHCP frames of a capture, in order, as Frames."""
    from scapy.utils import RawPcapReader  # scapy only where a pcap is read
    out = []
    for i, (pkt, _meta) in enumerate(RawPcapReader(vector_path(name))):
        fr = Frame(bytes(pkt), float(i))
        if fr.dhcp is not None and fr.dport in (67, 4011) and fr.dhcp.op == 1:
            out.append(fr)
    return out


def patch_option(msg, code, value):
    """msg with the value of option `code` (main options area) replaced by `value`
    (same length); raises if the option is absent or the length differs."""
    buf = bytearray(msg)
    i = 240
    while i < len(buf):
        c = buf[i]
        if c == 0:
            i += 1
            continue
        if c == 255:
            break
        n = buf[i + 1]
        if c == code:
            if n != len(value):
                raise LabError(f"option {code} is {n} bytes, not {len(value)}")
            buf[i + 2:i + 2 + n] = value
            return bytes(buf)
        i += 2 + n
    raise LabError(f"option {code} not in the message")


def replay_exchange(lab, client, discover, request, *, listen=3.0):
    """Replay a captured DISCOVER and (with 50 and 54 rewritten to what our server
    offered) the captured REQUEST from the client. Returns (offer Frame, ack Frame);
    either may be None."""
    src = discover.eth_src
    offers = [f for f in lab.send_dhcp(client, [discover.payload], listen=listen, until=1,
                                       src_mac=src, gap=0.3)
              if f.dhcp.xid == discover.dhcp.xid and f.dhcp.msg_type == OFFER]
    if not offers or request is None:
        return (offers[0] if offers else None), None
    off = offers[0]
    req = request.payload
    if 50 in request.dhcp.options:
        req = patch_option(req, 50, socket.inet_aton(off.dhcp.yiaddr))
    if 54 in request.dhcp.options and 54 in off.dhcp.options:
        req = patch_option(req, 54, off.dhcp.options[54])
    acks = [f for f in lab.send_dhcp(client, [req], listen=listen, until=1, src_mac=src,
                                     gap=0.3)
            if f.dhcp.xid == request.dhcp.xid and f.dhcp.msg_type in (ACK, NAK)]
    return off, (acks[0] if acks else None)


def prl_order_violations(reply, prl):
    """Options of reply that the client listed in option 55 but that come out of the
    client's order (RFC 2131 §4.3.1 leaves the order to the client; we promise it)."""
    # 53 and 54 lead every reply by convention (dnsmasq, ISC dhcpd do the same); the
    # order promise is about the parameters the client asked for.
    pos = {c: i for i, c in enumerate(prl) if c not in (53, 54)}
    listed = [c for c in reply.order if c in pos]
    return [(a, b) for a, b in zip(listed, listed[1:]) if pos[a] > pos[b]]


def check_reply_shape(frame, request):
    """What every pixied reply must look like: BOOTREPLY with our xid and chaddr, UDP from
    port 67 (or 4011), payload at least 300 bytes (RFC 1542 §3.1.1 padding), within the
    client's option 57, option 54 = us, and the client's option 55 order kept."""
    r = frame.dhcp
    q = request if isinstance(request, Dhcp) else Dhcp(request)
    problems = []
    if r.op != 2:
        problems.append(f"op {r.op}")
    if r.xid != q.xid:
        problems.append(f"xid {r.xid:#x} != {q.xid:#x}")
    if r.chaddr[:6] != q.chaddr[:6]:
        problems.append("chaddr differs")
    if r.length < 300:
        problems.append(f"reply is {r.length} bytes, not padded to 300")
    v57 = q.get(57)
    mms = struct.unpack("!H", v57)[0] if v57 and len(v57) == 2 else 576
    if r.length > max(mms, 576) - 28:
        problems.append(f"reply of {r.length} bytes exceeds option 57 ({mms} - 28)")
    if r.msg_type is not None and r.get(54) != socket.inet_aton(SERVER_IP):
        problems.append(f"server id {r.ips(54)}")
    if q.get(55):
        v = prl_order_violations(r, list(q.get(55)))
        if v:
            problems.append(f"option 55 order not kept: {v} in {r.order}")
    assert not problems, f"{problems}: {r!r}"


def check_reply_destination(frame, request):
    """RFC 2131 §4.1 for a client without giaddr: ciaddr set -> unicast to ciaddr;
    broadcast bit -> 255.255.255.255 / ff:ff:..; else unicast to yiaddr at chaddr."""
    q = request if isinstance(request, Dhcp) else Dhcp(request)
    r = frame.dhcp
    if q.ciaddr != "0.0.0.0":
        want = (q.ciaddr, None)
    elif q.flags & 0x8000 or r.msg_type == NAK:
        want = ("255.255.255.255", "ff:ff:ff:ff:ff:ff")
    else:
        want = (r.yiaddr, q.mac)
    assert frame.ip_dst == want[0], f"reply to {frame.ip_dst}, expected {want[0]}: {frame}"
    if want[1]:
        assert frame.eth_dst == want[1], f"frame to {frame.eth_dst}, expected {want[1]}"
    assert frame.dport == 68, frame


def new_log_lines(daemon, offset):
    """Non-empty log lines written after byte offset."""
    text = daemon.log_bytes()[offset:].decode("utf-8", "replace")
    return [ln for ln in text.splitlines() if ln.strip()]


def check_dropped(lab, daemon, client, msgs, *, src_mac=None, allow=(), repeat=10,
                  settle=0.4, **frame_kw):
    """The bad-input contract: send the message(s) once: no reply except the message
    types in `allow` (e.g. NAK), exactly one new log line; send them `repeat` more times:
    at most one more line (rate limited); and the daemon still answers a valid DISCOVER.
    Returns (replies, first log lines) for further checks. The daemon must not be -v."""
    off = len(daemon.log_bytes())
    frames = [lab.dhcp_frame(client, m, src_mac=src_mac, **frame_kw) for m in msgs]
    got = lab.exchange(client, frames, listen=1.0)
    replies = [f for f in got if f.sport in (67, 4011)]
    bad = [f for f in replies if f.dhcp is None or f.dhcp.msg_type not in allow]
    assert not bad, f"expected no reply{' but ' + str(allow) if allow else ''}, got {bad}"
    time.sleep(settle)
    first = new_log_lines(daemon, off)
    assert len(first) == 1, (f"expected exactly one log line for the bad input, got "
                             f"{len(first)}: {first}")
    if repeat:
        # A drop is logged through a rate limiter: the same bad input again and again
        # adds at most one line. A refusal (NAK) is a transaction: one line each at most.
        off2 = len(daemon.log_bytes())
        lab.exchange(client, frames * repeat, listen=0.5)
        time.sleep(settle)
        more = new_log_lines(daemon, off2)
        limit = repeat * len(frames) if replies else 1
        assert len(more) <= limit, (f"{repeat} more of the same bad input logged "
                                    f"{len(more)} lines (limit {limit}): {more[:5]}")
    assert daemon.alive(), f"pixied died on bad input:\n{daemon.log()}"
    assert lab.probe_offer(client) is not None, \
        f"pixied stopped answering after bad input:\n{daemon.log()}"
    return replies, first


# --------------------------------------------------------------------------------------
# The agent (run inside a namespace): raw AF_PACKET send + receive on one interface.
# --------------------------------------------------------------------------------------

def _agent(iface, jobfile):
    with open(jobfile) as f:
        job = json.load(f)
    ports = set(job["ports"])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((iface, 0))
    ifindex = socket.if_nametoindex(iface)
    mreq = struct.pack("IHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
    s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
    s.setblocking(False)
    print("READY", flush=True)

    frames = []
    matched = 0
    replies = 0
    until_sports = set(job.get("until_sports") or ())
    t0 = time.monotonic()

    def drain():
        nonlocal matched, replies
        while True:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(data) < 42:
                continue
            if data[12:14] != b"\x08\x00" or data[23] != 17:
                continue
            ihl = (data[14] & 0x0F) * 4
            u = 14 + ihl
            sport, dport = struct.unpack("!HH", data[u:u + 4])
            if sport not in ports and dport not in ports:
                continue
            matched += 1
            if sport in until_sports:
                replies += 1
            if not job["count_only"]:
                frames.append((round(time.monotonic() - t0, 4), data.hex()))

    sent = 0
    if job.get("send_file"):
        with open(job["send_file"], "rb") as f:
            blob = f.read()
        i = 0
        interval = job.get("interval") or 0
        while i < len(blob):
            (n,) = struct.unpack("!I", blob[i:i + 4])
            fr = blob[i + 4:i + 4 + n]
            i += 4 + n
            for _ in range(100):
                try:
                    s.send(fr)
                    break
                except (BlockingIOError, OSError):
                    drain()
                    time.sleep(0.001)
            sent += 1
            if sent % 64 == 0:
                drain()
            if interval:
                time.sleep(interval)
    deadline = time.monotonic() + job["listen"]
    until = job.get("until") or 0
    import select
    while True:
        drain()
        if until and replies >= until:
            # a short grace period for duplicates (e.g. a second reply)
            if job.get("gap"):
                time.sleep(job["gap"])
                drain()
            break
        left = deadline - time.monotonic()
        if left <= 0:
            break
        select.select([s], [], [], min(left, 0.05))
    print(json.dumps({"sent": sent, "matched": matched, "frames": frames}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "agent":
        _agent(sys.argv[2], sys.argv[3])
    else:
        print("usage: pixied_lab.py agent IFACE JOBFILE", file=sys.stderr)
        sys.exit(2)

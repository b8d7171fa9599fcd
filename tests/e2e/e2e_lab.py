"""
e2e_lab — the end-to-end boot tests' side of the VM lab: real firmware in QEMU (SeaBIOS +
the iPXE option ROM, OVMF's own PXE client) network-boots a Debian kernel and a busybox
initramfs through pixied, and the initramfs prints `PIXIED-E2E-MARKER cmdline=...` on the
serial console (scripts/payload.sh).

Owns: driving scripts/vmlab.sh (the namespace + bridge + tap + server + QEMU lab the demo
and bench/boot.sh use too) from pytest, reading a boot's result, serial console and the
server log lines written during it, one-shot next boots written into pixied's state
database, reading what pixied recorded for a client through its JSON API (docs/api.md:
logged in with the password vmlab.sh put in DIR/api-password, curl run inside the server's
namespace), and the list of boot durations conftest.py prints at the end of the run. Does
not own assertions beyond check_boot's "the marker came" and check_client's "the record
says what the boot did": the tests say what to expect.
"""


import json
import os
import re
import shutil
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
VMLAB = os.path.join(TOP, "scripts", "vmlab.sh")
PAYLOAD = os.path.join(TOP, "scripts", "payload.sh")
REQUIRE = os.environ.get("PIXIED_REQUIRE_ROOT_TESTS") == "1"

SERVER_IP = "10.77.0.1"
VM_MAC = "52:54:00:e2:e0:01"
MARKER = "PIXIED-E2E-MARKER"
# Generous limits for TCG on 2 cores; a boot normally takes 15-45 s, and a dead end on the
# console (no boot file, PXELINUX failing, a kernel panic) ends it at once.
TIMEOUT = {"bios": 240, "uefi": 300}

NEEDED = {
    "qemu-system-x86_64": "qemu-system-x86",
    "/usr/share/OVMF/OVMF_CODE_4M.fd": "ovmf",
    "/usr/lib/ipxe/qemu/efi-e1000.rom": "ipxe-qemu",
    "/usr/lib/ipxe/ipxe.efi": "ipxe",
    "/usr/lib/PXELINUX/lpxelinux.0": "pxelinux",
    "/usr/lib/syslinux/modules/bios/ldlinux.c32": "syslinux-common",
    "grub-mkrescue": "grub-common",
    "/usr/lib/grub/i386-pc": "grub-pc-bin",
    "/usr/lib/grub/x86_64-efi": "grub-efi-amd64-bin",
    "xorriso": "xorriso",
    "mformat": "mtools",
    "/bin/busybox": "busybox-static",
    "dnsmasq": "dnsmasq-base",
}

BOOTS = []     # (test id, tag, fw, status, linux_s, marker_s) for the summary
LIVE = set()   # labs still up, removed on SIGTERM too


def pixied_bin():
    env = os.environ.get("PIXIED_BIN")
    if env:
        return os.path.abspath(env)
    for d in ("build", "build-asan"):
        p = os.path.join(TOP, d, "pixied")
        if os.access(p, os.X_OK):
            return p
    return os.path.join(TOP, "build", "pixied")


def missing():
    out = []
    for what, pkg in NEEDED.items():
        ok = os.path.exists(what) if what.startswith("/") else shutil.which(what)
        if not ok:
            out.append(pkg)
    return sorted(set(out))


# --------------------------------------------------------------------------------------
# Server log lines: `<time> <level> <module>: <event> key=value key="quoted value" ...`
# --------------------------------------------------------------------------------------

_LINE = re.compile(r"^(\S+) (\w+) (\w+): (\S+)(.*)$")
_KV = re.compile(r'([\w-]+)=("(?:[^"\\]|\\.)*"|\S*)')


class LogLine(dict):
    """One pixied log line: .time .level .module .event and its key=value fields."""

    def __init__(self, text):
        super().__init__()
        self.text = text
        m = _LINE.match(text)
        if not m:
            self.time = self.level = self.module = self.event = None
            return
        self.time, self.level, self.module, self.event, rest = m.groups()
        for k, v in _KV.findall(rest):
            if v.startswith('"') and v.endswith('"') and len(v) >= 2:
                v = v[1:-1]
            self[k] = v

    def __repr__(self):
        return self.text


class Boot:
    """What one VM boot produced: result fields, serial console, server log lines."""

    def __init__(self, lab, tag):
        self.lab, self.tag = lab, tag
        self.result = {}
        path = os.path.join(lab.dir, f"boot-{tag}.result")
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    k, _, v = line.rstrip("\n").partition("=")
                    self.result[k] = v
        self.serial = read_text(os.path.join(lab.dir, f"boot-{tag}.serial"))
        self.log_text = read_text(os.path.join(lab.dir, f"boot-{tag}.pixied.log"))
        self.log = [LogLine(t) for t in self.log_text.splitlines() if t.strip()]

    @property
    def ok(self):
        return self.result.get("status") == "ok"

    @property
    def cmdline(self):
        return self.result.get("cmdline", "")

    @property
    def args(self):
        """The kernel command line as a list of words."""
        return self.cmdline.split()

    def secs(self, key):
        v = self.result.get(key, "")
        return float(v) if v else None

    def lines(self, module, event=None, **fields):
        """Log lines of module (and event) whose fields equal the given values."""
        out = []
        for ln in self.log:
            if ln.module != module or (event is not None and ln.event != event):
                continue
            if all(ln.get(k.replace("_", "-")) == v for k, v in fields.items()):
                out.append(ln)
        return out

    def http(self, path_prefix, status=None, method="GET"):
        """HTTP access lines (GET by default) whose path starts with path_prefix."""
        return [ln for ln in self.lines("http", "access")
                if ln.get("path", "").startswith(path_prefix)
                and (method is None or ln.get("method") == method)
                and (status is None or ln.get("status") == str(status))]

    def explain(self):
        """Everything needed to see why a boot failed."""
        serial = re.sub(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1bc", "", self.serial)
        serial = "\n".join(ln for ln in serial.replace("\r", "").splitlines() if ln.strip())
        return (f"\n--- boot {self.tag}: {self.result}\n--- serial console (last 60 lines) ---\n"
                + "\n".join(serial.splitlines()[-60:])
                + f"\n--- server log during the boot ---\n{self.log_text[-8000:]}")


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class VmLab:
    """A lab made by `vmlab.sh up`; boot() runs one VM; down() deletes everything."""

    def __init__(self, nodeid, *args):
        self.nodeid = nodeid
        self.dir = None
        r = subprocess.run(["bash", VMLAB, "up", *args], capture_output=True, text=True,
                           timeout=600, env=_env())
        lines = r.stdout.strip().splitlines()
        if r.returncode != 0 or not lines:
            raise AssertionError(f"vmlab.sh up {' '.join(args)} failed ({r.returncode}):\n"
                                 f"{r.stdout}{r.stderr}")
        self.dir = lines[-1]
        LIVE.add(self)
        self.root = os.path.join(self.dir, "root")
        self.state = os.path.join(self.dir, "state")
        self._n = 0

    def boot(self, fw, *, mac=VM_MAC, tag=None, timeout=None):
        self._n += 1
        tag = tag or f"{fw}{self._n}"
        t0 = time.monotonic()
        r = subprocess.run(["bash", VMLAB, "boot", self.dir, "--fw", fw, "--mac", mac,
                            "--tag", tag, "--timeout", str(timeout or TIMEOUT[fw])],
                           capture_output=True, text=True,
                           timeout=(timeout or TIMEOUT[fw]) + 60, env=_env())
        b = Boot(self, tag)
        b.wall = time.monotonic() - t0
        b.vmlab_output = r.stdout + r.stderr
        BOOTS.append((self.nodeid, tag, fw, b.result.get("status", "?"),
                       b.secs("linux_s"), b.secs("marker_s")))
        assert b.result, f"vmlab.sh boot wrote no result:\n{b.vmlab_output}"
        return b

    def put(self, rel, text, mode=0o644):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    def pixied_log(self):
        return read_text(os.path.join(self.dir, "pixied.log"))

    def server_ns(self):
        """The server's namespace (lab.env: LAB_PREFIX + "s", as scripts/lab.sh names it)."""
        for line in read_text(os.path.join(self.dir, "lab.env")).splitlines():
            if line.startswith("LAB_PREFIX="):
                return line.split("=", 1)[1].strip("'\"") + "s"
        raise AssertionError(f"no LAB_PREFIX in {self.dir}/lab.env")

    def api(self):
        if not hasattr(self, "_api"):
            self._api = Api(self)
        return self._api

    # One-shot next boot: written the way pixied's store keeps it (table nextboot, MAC as
    # 6 bytes), there being no API to set it yet.
    def _db(self):
        return sqlite3.connect(os.path.join(self.state, "leases.db"), timeout=5)

    def set_nextboot(self, mac, entry):
        con = self._db()
        try:
            con.execute("INSERT INTO nextboot (mac, entry, set_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (mac) DO UPDATE SET entry = excluded.entry",
                        (bytes.fromhex(mac.replace(":", "")), entry, int(time.time())))
            con.commit()
        finally:
            con.close()

    def nextboot_rows(self):
        con = self._db()
        try:
            return [(":".join(f"{x:02x}" for x in m), e)
                    for m, e in con.execute("SELECT mac, entry FROM nextboot")]
        finally:
            con.close()

    def down(self):
        if self.dir is None:
            return
        subprocess.run(["bash", VMLAB, "down", self.dir], capture_output=True, timeout=120,
                       env=_env())
        LIVE.discard(self)
        self.dir = None


class Api:
    """pixied's JSON API (docs/api.md) as the lab's admin: a session from POST
    /api/v1/login with the lab's password, then GETs. curl runs in the server namespace
    (the API listens on 10.77.0.1:80 there); the cookie jar lives in the lab directory."""

    def __init__(self, lab):
        self.lab = lab
        self.base = f"http://{SERVER_IP}"
        self.jar = os.path.join(lab.dir, "api-cookies")
        self.logged_in = False

    def _curl(self, method, path, body=None, headers=()):
        argv = ["ip", "netns", "exec", self.lab.server_ns(), "curl", "-sS", "-m", "10",
                "-X", method, "-b", self.jar, "-c", self.jar, "-o", "-",
                "-w", "\n%{http_code}", "-H", f"Origin: {self.base}"]
        for h in headers:
            argv += ["-H", h]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        r = subprocess.run(argv + [self.base + path], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, f"curl {method} {path}: {r.stderr}"
        text, _, code = r.stdout.rpartition("\n")
        return int(code), text

    def available(self):
        """Does this pixied serve the API at all (404 = a build from before it)?"""
        code, _ = self._curl("GET", "/api/v1/session")
        return code != 404 and os.path.exists(os.path.join(self.lab.dir, "api-password"))

    def login(self):
        if self.logged_in:
            return
        pw = read_text(os.path.join(self.lab.dir, "api-password")).strip()
        code, text = self._curl("POST", "/api/v1/login", {"password": pw})
        assert code == 200, f"API login: {code} {text}"
        self.logged_in = True

    def get(self, path):
        self.login()
        code, text = self._curl("GET", path)
        assert code == 200, f"GET {path}: {code} {text}"
        return json.loads(text)

    def client(self, mac):
        return self.get("/api/v1/clients/" + mac)


def check_client(b, *, mac=VM_MAC, arch_code, loader=None, script=None, entry=None,
                 rule=None, kinds=(), files=(), status="booted", wait=15.0):
    """What pixied recorded for the client of boot b (GET /api/v1/clients/<mac>): its
    architecture (option 93 code), the loader handed to its firmware (a name it ends with,
    "" = none), the script handed to its iPXE (a piece of it), the entry and rule boot/
    chose, timeline event kinds that must be there (http-kernel, tftp-end, ...), paths that
    some timeline event names (files served), and its status — polled up to `wait` seconds
    since "booted" can follow the last file by a moment. Returns the record, or None when
    this pixied has no API yet (nothing checked then)."""
    api = b.lab.api()
    if not api.available():
        b.client_record = None
        return None
    deadline = time.monotonic() + wait
    while True:
        rec = api.client(mac)
        if rec.get("status") == status or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    b.client_record = rec
    why = f"\n--- record ---\n{json.dumps(rec, indent=1)[:6000]}" + b.explain()
    assert rec.get("status") == status, f"status {rec.get('status')}, want {status}" + why
    assert rec.get("arch") and rec["arch"].get("code") == arch_code, "arch" + why
    if loader is not None:
        assert (rec.get("loader") or "").endswith(loader) if loader else not rec.get("loader"), \
            f"loader {rec.get('loader')!r}, want {loader!r}" + why
    if script is not None:
        assert script in (rec.get("script") or ""), f"script {rec.get('script')!r}" + why
    if entry is not None:
        assert rec.get("entry") == entry, f"entry {rec.get('entry')!r}, want {entry!r}" + why
    if rule is not None:
        assert rec.get("rule") == rule, f"rule {rec.get('rule')!r}, want {rule!r}" + why
    timeline = rec.get("timeline") or []
    seen = {ev.get("kind") for ev in timeline}
    for k in kinds:
        assert k in seen, f"no {k} event in the timeline (has {sorted(seen)})" + why
    for f in files:
        assert any(f in (ev.get("detail") or "") for ev in timeline), \
            f"no timeline event names {f}" + why
    return rec


def _env():
    env = dict(os.environ)
    env["PIXIED_BIN"] = pixied_bin()
    return env


def write_extra(tmp_path, text, name="extra.conf"):
    """A config fragment for `vmlab.sh up --extra`."""
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def check_boot(b, *, expect_args=None):
    """The boot reached the marker (and its command line is exactly expect_args)."""
    assert b.ok, f"no marker: {b.result.get('status')} {b.result.get('reason', '')}" + b.explain()
    if expect_args is not None:
        assert b.args == list(expect_args), f"kernel command line {b.args}" + b.explain()




def cleanup_all():
    """Delete every lab still up (fixture finalizers normally did)."""
    for lab in list(LIVE):
        try:
            lab.down()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass

"""
Helpers for the boot-catalog system tests (test_boot_*.py); no tests of its own.

Owns: a lab config with a small boot catalog (entries, a [host] for the client), a client
that holds a lease from pixied (so TFTP requests, which carry no MAC, can be tied to it),
fetching over TFTP (tftp-hpa) and HTTP (curl) from inside the client namespace, writing a
one-shot next boot straight into the state database (the API that sets it comes later), and
PXELINUX's config-name sequence for a client. Does not own assertions: the tests do.
"""

import os
import socket
import sqlite3
import time

import pixied_lab as L

SERVER = L.SERVER_IP
HOSTNAME = "lab-station"

CATALOG = {
    "menu": {"title": "Lab boot menu", "default": "local", "timeout": "5s"},
    "entry debian": {"label": "Debian installer", "kernel": "debian/linux",
                     "initrd": "debian/initrd.gz",
                     "args": "auto=true url=${base}/templates/preseed.cfg.tmpl"},
    "entry rescue": {"type": "shell", "label": "Rescue shell"},
    "entry local": {"type": "local", "label": "Local disk"},
}


def boot_config(mac=None, *, rule=None, http=True, extra=None):
    """Config overrides: full DHCP, TFTP on, the catalog, a [host] for mac (boot = rule)."""
    conf = {"tftp": {"enabled": "yes"}, "http": {"enabled": "yes" if http else "no"}}
    conf.update(CATALOG)
    if mac:
        host = {"mac": mac, "hostname": HOSTNAME}
        if rule:
            host["boot"] = rule
        conf[f"host {HOSTNAME}"] = host
    for k, v in (extra or {}).items():
        conf.setdefault(k, {}).update(v)
    return conf


def put(lab, rel, text):
    p = os.path.join(lab.root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    for d in _parents(lab.root, os.path.dirname(p)):
        os.chmod(d, 0o755)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, 0o644)


def _parents(top, d):
    out = []
    while len(d) > len(top):
        out.append(d)
        d = os.path.dirname(d)
    return out


def remove(lab, rel):
    os.unlink(os.path.join(lab.root, rel))


def lease(lab, client):
    """Give client (from lab.add_client) an address from pixied (full mode) with dhclient;
    pixied's lease ties the client's IP to its MAC for TFTP requests."""
    res = lab.dhclient(client)
    client.addr = res.ip
    return client


def hex_ip(ip):
    return socket.inet_aton(ip).hex().upper()


def tftp_get(lab, client, name):
    """tftp-hpa `get name`: (True, bytes) or (False, error text)."""
    out = os.path.join(client.dir, f"tftp-{time.monotonic_ns()}")
    r = lab.run(client.ns, ["tftp", "-m", "binary", SERVER, "-c", "get", name, out],
                timeout=30)
    text = r.stdout + r.stderr
    if "Error code" in text or "Transfer timed out" in text:
        if os.path.exists(out):
            os.unlink(out)
        return False, text
    with open(out, "rb") as f:
        return True, f.read()


def http_get(lab, client, path, *, head=False):
    """curl http://SERVER{path}: (status, body bytes)."""
    out = os.path.join(client.dir, f"http-{time.monotonic_ns()}")
    argv = ["curl", "-s", "-g", "-o", out, "-w", "%{http_code}", "--max-time", "10"]
    if head:
        argv.append("-I")
    r = lab.run(client.ns, argv + [f"http://{SERVER}{path}"], timeout=30)
    status = int(r.stdout.strip() or 0)
    body = b""
    if os.path.exists(out):
        with open(out, "rb") as f:
            body = f.read()
    return status, body


def http_up(lab, client):
    """Does pixied answer HTTP (the server is wired into the daemon)?"""
    try:
        status, _ = http_get(lab, client, "/hello.txt")
    except L.LabError:
        return False
    return status == 200


def boot_query(mac, arch="x86_64", platform="efi"):
    return f"/boot.ipxe?mac={mac}&arch={arch}&platform={platform}&uuid="


def set_nextboot(lab, mac, entry):
    """Store a one-shot next boot for mac the way pixied's store does (table nextboot)."""
    db = os.path.join(lab.state, "leases.db")
    con = sqlite3.connect(db, timeout=5)
    try:
        con.execute("INSERT INTO nextboot (mac, entry, set_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (mac) DO UPDATE SET entry = excluded.entry",
                    (L.mac_bytes(mac), entry, int(time.time())))
        con.commit()
    finally:
        con.close()


def nextboot_rows(lab):
    db = os.path.join(lab.state, "leases.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return [(L.mac_str(m), e) for m, e in con.execute("SELECT mac, entry FROM nextboot")]
    finally:
        con.close()


def chosen_by(script):
    """The rule named in the first `# pixied: chosen by` comment."""
    for line in script.decode().splitlines():
        if line.startswith("# pixied: chosen by "):
            return line[len("# pixied: chosen by "):].split(":")[0]
    raise AssertionError(f"no 'chosen by' comment in:\n{script.decode()}")


def pxelinux_names(uuid, mac, ip):
    """The config names PXELINUX asks for, in order (pxelinux(1))."""
    h = hex_ip(ip)
    return ([f"pxelinux.cfg/{uuid}", "pxelinux.cfg/01-" + mac.replace(":", "-").lower()] +
            [f"pxelinux.cfg/{h[:n]}" for n in range(8, 0, -1)] + ["pxelinux.cfg/default"])


def pxelinux_walk(lab, client, names):
    """Ask for each name in turn like PXELINUX; (index of the first served, its bytes,
    the names answered 'not found' before it)."""
    missed = []
    for i, n in enumerate(names):
        ok, data = tftp_get(lab, client, n)
        if ok:
            return i, data, missed
        missed.append(n)
    return None, None, missed

"""GET /metrics on the real daemon: the exposition passes `promtool check metrics` (Debian's
prometheus package) and the counters move by exactly what real traffic did between two
scrapes. The traffic is one machine's whole (short) boot: a PXE-dressed ISC dhclient DORA
(DHCP by type and architecture, pool addresses), its loader over tftp-hpa (transfers,
bytes), its iPXE script over curl, which boots the local disk (a host rule), so the boot
completes (boots, the DISCOVER-to-booted histogram); plus a curl download from an admin
machine (HTTP requests by code and bytes; the first scrape is counted too, once answered).
"""
import os
import re
import shutil
import subprocess
import time

import pytest

import pixied_lab as L

SERVER = L.SERVER_IP
HTTP_SIZE = 50_000
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample (labels sorted)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = []
        rest = m.group(2) or ""
        while rest:
            lm = LABEL.match(rest)
            assert lm, f"bad labels in {line!r}"
            v = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1),
                       lm.group(2))
            labels.append((lm.group(1), v))
            rest = rest[lm.end():]
        out[(m.group(1), tuple(sorted(labels)))] = float(m.group(3))
    return out


def val(samples, name, **labels):
    """A sample's value; an absent series is 0 (counters with labels appear when they move)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(lab, client):
    """GET /metrics from the client namespace: (body text, content type)."""
    body = os.path.join(client.dir, f"metrics-{time.monotonic_ns()}.txt")
    r = lab.run(client.ns, ["curl", "-s", "-S", "--max-time", "10", "-o", body,
                            "-w", "%{http_code} %{content_type}",
                            f"http://{SERVER}/metrics"], timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    code, ctype = r.stdout.split(" ", 1)
    assert code == "200", r.stdout
    with open(body, "rb") as f:
        data = f.read()
    return data.decode("utf-8"), ctype


def promtool(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def put(lab, name, size):
    path = os.path.join(lab.root, name)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    os.chmod(path, 0o644)


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason="promtool (prometheus) missing")
def test_exposition_passes_promtool_and_counters_follow_a_real_boot(lab):
    put(lab, "h.bin", HTTP_SIZE)
    c = lab.add_client()
    started = time.time()
    d = lab.start_pixied({"tftp": {"enabled": "yes"},
                          "host m1": {"mac": c.mac, "boot": "disk"},
                          "entry disk": {"type": "local"}}, mode="full")
    admin = lab.add_client()  # the scraper: a fixed address outside the pool, no DHCP
    lab.run(admin.ns, ["ip", "addr", "add", "10.77.0.50/24", "dev", admin.iface], check=True)
    lab.run(admin.ns, ["ping", "-c", "1", "-W", "2", SERVER])

    text1, ctype = scrape(lab, admin)
    assert ctype.startswith("text/plain; version=0.0.4")
    rc, out = promtool(text1)
    assert rc == 0 and not out.strip(), out
    a = parse(text1)

    # the boot: DHCP as BIOS PXE firmware, the loader over TFTP, the script over HTTP
    res = lab.dhclient(c, extra_conf=L.DHCLIENT_PXE_BIOS)
    assert res.boot_file == L.BIOS_LOADER, res
    loader = os.path.join(c.dir, "loader")
    r = lab.run(c.ns, ["tftp", "-m", "binary", SERVER, "-c", "get", L.BIOS_LOADER, loader],
                timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    loader_size = os.path.getsize(loader)
    assert loader_size == os.path.getsize("/usr/lib/ipxe/undionly.kpxe")
    script = os.path.join(c.dir, "boot.ipxe")
    r = lab.run(c.ns, ["curl", "-s", "-S", "--max-time", "20", "-o", script,
                       f"http://{SERVER}/boot.ipxe?mac={c.mac}&arch=i386&platform=pcbios"],
                timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    script_size = os.path.getsize(script)
    assert b"sanboot" in open(script, "rb").read()  # local disk on BIOS
    # an admin's download: counted by HTTP, on no client's timeline
    r = lab.run(admin.ns, ["curl", "-s", "-S", "--max-time", "20", "-o",
                           os.path.join(admin.dir, "h.bin"), f"http://{SERVER}/h.bin"],
                timeout=30)
    assert r.returncode == 0 and os.path.getsize(os.path.join(admin.dir, "h.bin")) == HTTP_SIZE

    text2, _ = scrape(lab, admin)
    rc, out = promtool(text2)
    assert rc == 0 and not out.strip(), out
    b = parse(text2)

    def delta(name, **labels):
        return val(b, name, **labels) - val(a, name, **labels)

    def total(samples, name):
        return sum(v for (n, _), v in samples.items() if n == name)

    # DHCP: one DISCOVER and one REQUEST from a BIOS PXE client, an OFFER and an ACK back
    rx = "pixied_dhcp_messages_received_total"
    assert delta(rx, type="discover", arch="bios") == 1, text2
    assert delta(rx, type="request", arch="bios") == 1, text2
    assert total(b, rx) - total(a, rx) == 2, text2
    sent = "pixied_dhcp_messages_sent_total"
    assert (delta(sent, type="offer"), delta(sent, type="ack"), delta(sent, type="nak")) == \
        (1, 1, 0), text2
    pool = "pixied_dhcp_pool_addresses"
    assert val(b, "pixied_dhcp_pool_size", pool="dhcp") == 100
    assert delta(pool, pool="dhcp", state="bound") == 1, text2
    assert delta(pool, pool="dhcp", state="free") == -1, text2
    assert val(b, pool, pool="dhcp", state="offered") == 0, text2

    # TFTP: the loader went through whole, nothing running now
    assert delta("pixied_tftp_transfers_total", result="ok") == 1, text2
    assert delta("pixied_tftp_transfers_total", result="failed") == 0, text2
    assert delta("pixied_tftp_bytes_total") == loader_size, text2
    assert val(b, "pixied_tftp_transfers_active") == 0

    # HTTP: the script, the admin's download and the first scrape, with their bytes
    assert delta("pixied_http_requests_total", code="200") == 3, text2
    assert total(b, "pixied_http_requests_total") == 3, text2
    assert delta("pixied_http_response_bytes_total") == \
        script_size + HTTP_SIZE + len(text1.encode()), text2

    # clients: the booting machine has a record (the admin has none) and it booted
    clients = {dict(k[1])["status"]: v for k, v in b.items() if k[0] == "pixied_clients"}
    assert clients["booted"] == 1 and sum(clients.values()) == 1, clients
    assert delta("pixied_boots_total") == 1, text2
    assert delta("pixied_boot_duration_seconds_count") == 1, text2
    assert val(b, "pixied_boot_duration_seconds_bucket", le="+Inf") == 1, text2
    assert val(b, "pixied_boot_duration_seconds_bucket", le="60") == 1, text2  # seconds here
    assert 0 <= val(b, "pixied_boot_duration_seconds_sum") < 60, text2

    # identity
    versions = [dict(k[1]).get("version") for k in b if k[0] == "pixied_build_info"]
    assert len(versions) == 1 and versions[0], versions
    st = val(b, "pixied_start_time_seconds")
    assert started - 5 <= st <= time.time() + 1, st

    d.stop()  # exits 0, no sanitizer report

"""The web UI in a real browser: Debian's chromium (headless), driven by Playwright from
npm (tests/browser/ui_test.mjs), inside the lab's server namespace against a real pixied.
It logs in (after a wrong password), sees the dashboard go live; then a client namespace
does a real DHCP exchange with the hostname `<img src=x onerror=alert(1)>` and the open
dashboard shows the client without a reload, the hostname as literal text (no alert, no
<img> element); the dashboard fits a 360 px screen; the client page sets its next boot and
shows it, and the boot script pixied then serves that machine is the chosen entry.
Screenshots are kept under build/test-logs/ui/.

Needs root (namespaces), /usr/bin/chromium, node and `npm ci` in tests/browser
(scripts/test.sh's deps stage runs it); skipped without them unless
PIXIED_REQUIRE_ROOT_TESTS=1, where that is a failure."""
import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

import pixied_lab as L
import test_boot_helpers as B
from conftest import REQUIRE_ROOT

BROWSER_DIR = os.path.join(L.TOP, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "ui_test.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(L.TOP, "build", "test-logs", "ui")
EVIL = "<img src=x onerror=alert(1)>"
ENTRY = "rescue"  # a shell entry of test_boot_helpers.CATALOG: its script ends in `shell`


def _need(cond, why):
    if cond:
        return
    if REQUIRE_ROOT:
        pytest.fail(f"{why} (PIXIED_REQUIRE_ROOT_TESTS=1: this test must run)", pytrace=False)
    pytest.skip(why)


@pytest.fixture
def browser_tools(root):
    node = shutil.which("node")
    _need(node, "the browser test needs node (apt-get install nodejs npm)")
    _need(os.access(CHROMIUM, os.X_OK), f"the browser test needs chromium at {CHROMIUM} "
          "(apt-get install chromium)")
    _need(os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")),
          "the browser test needs playwright-core: run `npm ci` in tests/browser "
          "(./scripts/test.sh deps does)")
    return node


class Browser:
    """ui_test.mjs running in a namespace; JSON lines both ways."""

    def __init__(self, lab, node, env):
        self.proc = lab.popen(lab.server_ns, [node, SCRIPT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=BROWSER_DIR, env=env)
        self.seen = []
        # A thread reads the script's lines (select() on a buffered pipe could sleep on
        # a line already read into the buffer).
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read(self, timeout):
        """The next JSON line from the script (None at its end)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"the browser script said nothing for {timeout}s; "
                                     f"so far: {self.seen}") from None
            if line is None:
                return None
            line = line.strip()
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            self.seen.append(msg)
            if "screenshot" in msg:
                print(f"screenshot: {msg['screenshot']}")
            if "error" in msg:
                raise AssertionError(f"in the browser: {msg['error']}\n{self.stderr()}")
            return msg

    def wait_step(self, name, timeout):
        while True:
            msg = self.read(timeout)
            if msg is None:
                raise AssertionError(f"the browser script ended before step {name!r}: "
                                     f"{self.seen}\n{self.stderr()}")
            if msg.get("step") == name or (name == "ok" and msg.get("ok")):
                return msg

    def send(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def stderr(self):
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read()[-4000:]

    def finish(self, timeout=30):
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert rc == 0, f"the browser script exited {rc}: {self.seen}\n{self.stderr()}"


def test_ui_shows_a_dhcp_client_live_as_text_and_sets_its_next_boot(browser_tools, lab):
    client = lab.add_client()
    d = lab.start_pixied(B.boot_config())
    m = d.wait_log(r"generated the web UI/API password: ([0-9A-Za-z]+)")
    password = m.group(1)
    os.makedirs(ARTIFACTS, exist_ok=True)
    for f in os.listdir(ARTIFACTS):  # screenshots of an earlier run would mislead
        if f.startswith("ui-") and f.endswith(".png"):
            os.unlink(os.path.join(ARTIFACTS, f))
    env = dict(os.environ, PIXIED_URL=f"http://{L.SERVER_IP}", PIXIED_PASSWORD=password,
               PIXIED_ENTRY=ENTRY, CHROMIUM=CHROMIUM, ARTIFACT_DIR=ARTIFACTS,
               HOME=lab.dir)
    b = Browser(lab, browser_tools, env)
    try:
        b.wait_step("dashboard", 90)

        # A real DHCP exchange from the client namespace (PXE BIOS firmware's options
        # plus option 12), while the dashboard is open.
        off, ack = lab.dora(client, extra=[(60, L.PXE_BIOS_VCLASS), (93, [0, 0]),
                                           (12, EVIL)])
        assert ack is not None and ack.msg_type == L.ACK, (off, ack)
        b.send({"mac": client.mac, "hostname": EVIL})
        b.wait_step("client-appeared", 40)
        b.wait_step("next-boot-set", 40)
        b.wait_step("ok", 40)
        b.finish()
    finally:
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait(5)
    shots = [s["screenshot"] for s in b.seen if "screenshot" in s]
    assert os.path.join(ARTIFACTS, "ui-dashboard.png") in shots, shots
    for s in shots:
        assert os.path.getsize(s) > 1000, s

    # The next boot the browser set is what pixied now serves that machine (consumed).
    lab.run(client.ns, ["ip", "addr", "add", f"{ack.yiaddr}/{L.LAN_PREFIX}", "dev",
                        client.iface], check=True)
    status, script = B.http_get(lab, client, B.boot_query(client.mac))
    assert status == 200, script
    assert B.chosen_by(script) == "next boot", script.decode()
    assert script.decode().rstrip().splitlines()[-1] == "shell", script.decode()
    assert d.alive()

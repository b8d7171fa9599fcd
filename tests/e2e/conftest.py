"""
Fixtures for the end-to-end boots (tests/e2e/test_boot_*.py); the lab itself is e2e_lab.py
over scripts/vmlab.sh. Each test gets its own lab (namespaces, server, VM), deleted on every
exit path: the fixture finalizer, pytest's exit, and SIGTERM/SIGHUP to pytest.

Needs root, qemu-system-x86, ovmf, ipxe-qemu, pxelinux, grub-pc-bin, grub-efi-amd64-bin,
xorriso, mtools (`sudo ./scripts/deps.sh --vm`); the payload is built on first use and
cached. Without them the tests are skipped, unless PIXIED_REQUIRE_ROOT_TESTS=1 (CI), where
that is a failure. The daemon is $PIXIED_BIN (scripts/test.sh: build/pixied). The boot
durations are printed at the end and written to build/test-logs/e2e-boots.tsv.
"""

import os
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import e2e_lab as E  # noqa: E402


def _need(cond, why):
    if cond:
        return
    if E.REQUIRE:
        pytest.fail(f"{why} (PIXIED_REQUIRE_ROOT_TESTS=1: these tests must run)", pytrace=False)
    pytest.skip(why)


def _on_signal(signum, frame):
    E.cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def pytest_configure(config):
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def pytest_unconfigure(config):
    E.cleanup_all()


@pytest.fixture(scope="session")
def vm_ready():
    """Root, the VM packages, pixied, and the payload (built once, cached)."""
    _need(os.geteuid() == 0, "e2e boots need root (network namespaces, taps): "
                             "sudo ./scripts/test.sh e2e")
    miss = E.missing()
    _need(not miss, f"missing packages for the VM boots: {' '.join(miss)} "
                    "(sudo ./scripts/deps.sh --vm)")
    _need(os.access(E.pixied_bin(), os.X_OK),
          f"no pixied at {E.pixied_bin()} (./scripts/build.sh build, or set PIXIED_BIN)")
    r = subprocess.run(["bash", E.PAYLOAD, "--with-iso"], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, f"scripts/payload.sh failed:\n{r.stdout}{r.stderr}"
    return r.stdout.strip().splitlines()[-1]


@pytest.fixture
def vmlab(request, vm_ready):
    """Factory: vmlab(*vmlab.sh up options) -> e2e_lab.VmLab, deleted after the test."""
    labs = []

    def make(*args):
        lab = E.VmLab(request.node.nodeid, *args)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.down()


def pytest_terminal_summary(terminalreporter):
    if not E.BOOTS:
        return
    tr = terminalreporter
    tr.section("e2e boots (seconds from VM start)")
    tr.write_line(f"{'test':<70} {'fw':<5} {'status':<9} {'linux':>6} {'marker':>7}")
    rows = []
    for nodeid, tag, fw, status, linux_s, marker_s in E.BOOTS:
        name = nodeid.split("::", 1)[-1] + f" [{tag}]"
        fmt = lambda v: f"{v:.1f}" if v is not None else "-"  # noqa: E731
        tr.write_line(f"{name[:70]:<70} {fw:<5} {status:<9} {fmt(linux_s):>6} {fmt(marker_s):>7}")
        rows.append("\t".join([nodeid, tag, fw, status, fmt(linux_s), fmt(marker_s)]))
    total = sum(m for *_, m in E.BOOTS if m is not None)
    tr.write_line(f"{len(E.BOOTS)} boots, {total:.0f} s to the marker in all")
    logdir = os.path.join(E.TOP, "build", "test-logs")
    try:
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, "e2e-boots.tsv"), "w") as f:
            f.write("test\ttag\tfw\tstatus\tlinux_s\tmarker_s\n" + "\n".join(rows) + "\n")
    except OSError:
        pass

"""
System-test fixtures: each test gets its own namespace lab (pixied_lab.Lab), deleted on
every exit path: the fixture finalizer, atexit, and SIGTERM/SIGHUP to pytest.

Tests need root (network namespaces, raw sockets). Without root they are skipped with the
reason, unless PIXIED_REQUIRE_ROOT_TESTS=1 (CI), where that is a failure.
The daemon under test is $PIXIED_BIN (scripts/test.sh sets it to build-asan/pixied).
"""

import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pixied_lab  # noqa: E402

REQUIRE_ROOT = os.environ.get("PIXIED_REQUIRE_ROOT_TESTS") == "1"


def _on_signal(signum, frame):
    pixied_lab.cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def pytest_configure(config):
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def _need(cond, why):
    if cond:
        return
    if REQUIRE_ROOT:
        pytest.fail(f"{why} (PIXIED_REQUIRE_ROOT_TESTS=1: these tests must run)",
                    pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def pixied_bin():
    path = pixied_lab.pixied_bin()
    _need(os.access(path, os.X_OK),
          f"no pixied binary at {path} (build it: ./scripts/build.sh, or set PIXIED_BIN)")
    return path


@pytest.fixture
def root():
    _need(os.geteuid() == 0,
          "system tests need root for network namespaces: sudo ./scripts/test.sh")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def lab(request, root, pixied_bin):
    """A fresh lab: switch + server namespace (eth0 = 10.77.0.1/24 on br0)."""
    lb = pixied_lab.Lab()
    yield lb
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print(lb.pixied_logs())
    lb.destroy(check=True)


@pytest.fixture
def client(lab):
    """One client namespace on br0."""
    return lab.add_client()

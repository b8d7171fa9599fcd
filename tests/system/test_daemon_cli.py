"""The command line: --version, --help, unknown options; SIGTERM and SIGINT exit 0."""
import signal

import pixied_lab as L


def test_version_prints_the_version_and_exits_0(pixied_bin):
    r = L.sh([pixied_bin, "--version"], check=False)
    assert r.returncode == 0
    assert "0." in r.stdout + r.stderr


def test_help_lists_the_options_and_exits_0(pixied_bin):
    r = L.sh([pixied_bin, "--help"], check=False)
    assert r.returncode == 0
    out = r.stdout + r.stderr
    for o in ("-c", "--check", "--verbose", "--version"):
        assert o in out, out


def test_unknown_option_exits_non_zero(pixied_bin):
    r = L.sh([pixied_bin, "--no-such-option"], check=False)
    assert r.returncode != 0


def test_sigterm_exits_0(lab, client):
    d = lab.start_pixied()
    d.stop(expect_rc=0)


def test_sigint_exits_0(lab, client):
    d = lab.start_pixied()
    d.signal(signal.SIGINT)
    d.proc.wait(15)
    d.returncode = d.proc.returncode
    d.checked = True
    assert d.problems(0) == [], d.log()

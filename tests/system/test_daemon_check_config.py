"""`pixied --check -c FILE` validates without serving: exit 0 for a good file; exit 1 with
file:line, the key and what is accepted for a bad one."""
import pytest

import pixied_lab as L


def line_of(path, needle):
    for i, ln in enumerate(open(path).read().splitlines(), 1):
        if needle in ln:
            return i
    raise AssertionError(f"{needle} not in {path}")


def test_check_accepts_the_lab_config(lab):
    rc, out, path = lab.pixied_check(None)
    assert rc == 0, out


def test_check_accepts_proxy_mode_config(lab):
    rc, out, path = lab.pixied_check(None, mode="proxy")
    assert rc == 0, out


@pytest.mark.parametrize("lease", ["2s", "3s", "59s", "1m", "12h", "365d"])
def test_check_accepts_every_lease_time_in_the_documented_range(lab, lease):
    # 2s is the smallest lease-time the config accepts; its default T1/T2 must fit too
    rc, out, path = lab.pixied_check({"dhcp": {"lease-time": lease}})
    assert rc == 0, f"lease-time = {lease}:\n{out}"


@pytest.mark.parametrize("section, key, value", [
    ("dhcp", "no-such-key", "1"),             # unknown key
    ("dhcp", "lease-time", "forever"),        # bad duration
    ("dhcp", "mode", "sometimes"),            # bad enum
    ("dhcp", "range", "10.77.0.200 10.77.0.100"),  # reversed range
    ("dhcp", "router", "10.77.0.300"),        # bad address
    ("http", "port", "70000"),                # out of range
    ("host bad", "mac", "52:54:00:zz:00:01"),  # bad MAC
])
def test_check_rejects_bad_value_with_file_line_and_key(lab, section, key, value):
    conf = lab.config({section: {key: value}})
    text = lab.render(conf)
    rc, out, path = lab.pixied_check(text)
    assert rc == 1, f"--check exit {rc} for {key} = {value}:\n{out}"
    ln = line_of(path, f"{key} = {value}".rstrip())
    assert f"{path}:{ln}" in out, f"no {path}:{ln} in:\n{out}"
    assert key in out, out


def test_check_rejects_missing_file(lab):
    r = L.sh([L.pixied_bin(), "--check", "-c", f"{lab.dir}/missing.conf"], check=False)
    assert r.returncode == 1
    assert "missing.conf" in r.stdout + r.stderr

"""SIGHUP reloads the config: a good file is swapped in (new clients see the change); a bad
file keeps the running config, the daemon keeps serving and logs why (file:line)."""
import os
import re
import time

import pixied_lab as L


def write(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def test_sighup_with_good_config_applies_it(lab, client):
    d = lab.start_pixied()
    off, _ = lab.dora(client, mac=L.random_mac())
    assert off.ips(3) == [L.SERVER_IP]
    write(d.conf_path, lab.render(lab.config({"dhcp": {"router": "10.77.0.254"}})))
    n = len(d.log_bytes())
    d.reload()
    d.wait_log(r"(?i)reload", timeout=10, start=n)
    time.sleep(0.3)
    off, _ = lab.dora(client, mac=L.random_mac())
    assert off is not None and off.ips(3) == ["10.77.0.254"], off
    assert d.alive()


def test_sighup_with_bad_config_keeps_serving_and_logs_why(lab, client):
    d = lab.start_pixied()
    good = open(d.conf_path).read()
    bad = good.replace("[dhcp]\n", "[dhcp]\nno-such-key = 1\n", 1)
    bad_line = bad.splitlines().index("no-such-key = 1") + 1
    write(d.conf_path, bad)
    n = len(d.log_bytes())
    d.reload()
    d.wait_log(re.escape(f"{d.conf_path}:{bad_line}"), timeout=10, start=n)
    text = d.log_bytes()[n:].decode("utf-8", "replace")
    assert "no-such-key" in text, text
    time.sleep(0.3)
    assert d.alive()
    off, ack = lab.dora(client, mac=L.random_mac())
    assert ack is not None and ack.msg_type == L.ACK
    assert off.ips(3) == [L.SERVER_IP]  # the old config is still in force
    # and a later good reload still works
    write(d.conf_path, lab.render(lab.config({"dhcp": {"dns": "10.77.0.53"}})))
    d.reload()
    time.sleep(1.0)
    off, _ = lab.dora(client, mac=L.random_mac())
    assert off is not None and off.ips(6) == ["10.77.0.53"], off

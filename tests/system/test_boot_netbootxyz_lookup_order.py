"""netboot.xyz-style files in the root — local-vars.ipxe, HOSTNAME-<name>.ipxe,
MAC-<12 hex>.ipxe, menu.ipxe — are chained by the generated boot script in that order,
only those that exist when the script is made, before the catalog menu; over TFTP
(boot.ipxe for a client with a lease) and over HTTP (/boot.ipxe?mac=...), and each file
is then served from the root by both."""
import pytest

import test_boot_helpers as H


def chains(script):
    return [ln.split()[-2] for ln in script.decode().splitlines()
            if ln.startswith("chain --autofree ")]


def nb_files(mac):
    return ["local-vars.ipxe", f"HOSTNAME-{H.HOSTNAME}.ipxe",
            "MAC-" + mac.replace(":", "").lower() + ".ipxe", "menu.ipxe"]


def check_order(lab, fetch, mac):
    files = nb_files(mac)
    ok, script = fetch("boot.ipxe")
    assert ok, script
    assert chains(script) == [], script.decode()
    assert H.chosen_by(script) == "menu"
    for name in reversed(files):  # creation order must not matter
        H.put(lab, name, f"#!ipxe\necho {name}\n")
    ok, script = fetch("boot.ipxe")
    assert ok
    assert chains(script) == files, script.decode()
    text = script.decode()
    assert text.index("chain --autofree menu.ipxe") < text.index("\nmenu Lab boot menu\n")
    for name in files:
        ok, body = fetch(name)
        assert ok and body == f"#!ipxe\necho {name}\n".encode(), (name, body)
    H.remove(lab, files[1])
    H.remove(lab, files[3])
    ok, script = fetch("boot.ipxe")
    assert chains(script) == [files[0], files[2]], script.decode()


def test_netboot_files_are_chained_in_order_over_tftp(lab):
    c = lab.add_client()
    lab.start_pixied(H.boot_config(c.mac))
    H.lease(lab, c)
    check_order(lab, lambda name: H.tftp_get(lab, c, name), c.mac)


def test_netboot_files_are_chained_in_order_over_http(lab):
    c = lab.add_client()
    lab.start_pixied(H.boot_config(c.mac))
    H.lease(lab, c)
    if not H.http_up(lab, c):
        pytest.skip("pixied does not serve HTTP in this build (http server not wired)")

    def fetch(name):
        path = H.boot_query(c.mac) if name == "boot.ipxe" else "/" + name
        status, body = H.http_get(lab, c, path)
        return status == 200, body

    check_order(lab, fetch, c.mac)


def test_host_rule_comes_before_netboot_files(lab):
    c = lab.add_client()
    lab.start_pixied(H.boot_config(c.mac, rule="debian"))
    H.lease(lab, c)
    for name in nb_files(c.mac):
        H.put(lab, name, "#!ipxe\n")
    ok, script = H.tftp_get(lab, c, "boot.ipxe")
    assert ok
    assert H.chosen_by(script) == "host rule"
    assert chains(script) == []
    assert b"\nkernel http://10.77.0.1/debian/linux initrd=initrd.gz auto=true " in script

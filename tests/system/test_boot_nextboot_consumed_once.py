"""A one-shot next boot (stored per MAC in the state database) is served once, then the
machine is back to its host rule; it survives a restart of pixied before it is served, and
once served it stays consumed after another restart. Over TFTP (boot.ipxe, MAC from the
lease) and over HTTP (/boot.ipxe?mac=..., where HEAD does not consume it)."""
import pytest

import test_boot_helpers as H


def test_next_boot_is_consumed_once_and_survives_a_restart(lab):
    c = lab.add_client()
    d = lab.start_pixied(H.boot_config(c.mac, rule="debian"))
    H.lease(lab, c)
    H.set_nextboot(lab, c.mac, "rescue")
    d.stop()
    d = lab.start_pixied(conf_path=d.conf_path)
    ok, script = H.tftp_get(lab, c, "boot.ipxe")
    assert ok, script
    assert H.chosen_by(script) == "next boot", script.decode()
    assert script.decode().splitlines()[-1] == "shell"
    assert H.nextboot_rows(lab) == []
    ok, script = H.tftp_get(lab, c, "boot.ipxe")
    assert H.chosen_by(script) == "host rule"
    d.stop()
    lab.start_pixied(conf_path=d.conf_path)
    ok, script = H.tftp_get(lab, c, "boot.ipxe")
    assert H.chosen_by(script) == "host rule"


def test_next_boot_over_http_is_consumed_by_get_not_head(lab):
    c = lab.add_client()
    lab.start_pixied(H.boot_config(c.mac, rule="debian"))
    H.lease(lab, c)
    if not H.http_up(lab, c):
        pytest.skip("pixied does not serve HTTP in this build (http server not wired)")
    H.set_nextboot(lab, c.mac, "rescue")
    status, _ = H.http_get(lab, c, H.boot_query(c.mac), head=True)
    assert status == 200
    assert H.nextboot_rows(lab) == [(c.mac, "rescue")]
    status, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert status == 200 and H.chosen_by(script) == "next boot"
    assert H.nextboot_rows(lab) == []
    status, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert H.chosen_by(script) == "host rule"
    assert b"initrd=initrd.gz" in script  # efi64: the kernel names its initrd


def test_next_boot_for_an_entry_of_another_arch_is_kept(lab):
    c = lab.add_client()
    lab.start_pixied(H.boot_config(c.mac, extra={
        "entry dos": {"type": "memdisk", "image": "iso/dos.img", "arch": "bios"}}))
    H.lease(lab, c)
    if not H.http_up(lab, c):
        pytest.skip("pixied does not serve HTTP in this build (http server not wired)")
    H.set_nextboot(lab, c.mac, "dos")
    status, script = H.http_get(lab, c, H.boot_query(c.mac, "x86_64", "efi"))
    assert H.chosen_by(script) == "menu"
    assert b"next boot dos passed over (cannot boot with efi64, kept)" in script
    assert H.nextboot_rows(lab) == [(c.mac, "dos")]
    status, script = H.http_get(lab, c, H.boot_query(c.mac, "i386", "pcbios"))
    assert H.chosen_by(script) == "next boot"
    assert b"\nkernel http://10.77.0.1/memdisk iso raw\n" in script

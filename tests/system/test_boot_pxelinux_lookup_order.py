"""PXELINUX's config lookup over TFTP (tftp-hpa asking the names PXELINUX asks, in its
order: <uuid>, 01-<mac>, C0A8xxxx ... C, default): files in the root keep their place in
that order; the generated config is served at the first name when nothing in the root
comes first — at once for a machine with its own rule (next boot / host rule, which
outranks a root `default` or hex-IP file but not the root's 01-<mac>), and for the menu only
when the root has no file further on. syslinux's modules and memdisk are served under
stable names, byte for byte."""
import hashlib
import os

import test_boot_helpers as H

UUID = "b8945908-d6a6-41a9-611d-74a6ab80b83d"
ROOT_CFG = "# the admin's own\nDEFAULT x\n"


def walk(lab, c):
    return H.pxelinux_walk(lab, c, H.pxelinux_names(UUID, c.mac, c.addr))


def prepare(lab, rule=None, root_files=()):
    c = lab.add_client()
    d = lab.start_pixied(H.boot_config(c.mac, rule=rule))
    H.lease(lab, c)
    for name in root_files:
        H.put(lab, "pxelinux.cfg/" + name.replace("HEX", H.hex_ip(c.addr)).replace(
            "MAC", c.mac.replace(":", "-")), ROOT_CFG)
    return c, d


def test_menu_is_served_at_the_first_name_when_the_root_has_none(lab):
    c, _ = prepare(lab)
    i, data, missed = walk(lab, c)
    assert i == 0 and missed == []
    assert b"\nUI menu.c32\n" in data and b"\nDEFAULT local\n" in data
    assert H.chosen_by(data) == "menu"


def test_root_default_is_reached_when_the_machine_has_no_rule(lab):
    c, _ = prepare(lab, root_files=["default"])
    names = H.pxelinux_names(UUID, c.mac, c.addr)
    i, data, missed = walk(lab, c)
    assert i == len(names) - 1, missed
    assert data == ROOT_CFG.encode()
    assert missed == names[:-1]


def test_root_hex_prefix_is_reached_before_default(lab):
    c, _ = prepare(lab, root_files=["default"])
    prefix = H.hex_ip(c.addr)[:4]
    H.put(lab, "pxelinux.cfg/" + prefix, "# prefix\n")
    names = H.pxelinux_names(UUID, c.mac, c.addr)
    i, data, missed = walk(lab, c)
    assert names[i] == "pxelinux.cfg/" + prefix, missed
    assert data == b"# prefix\n"


def test_host_rule_is_served_before_a_root_default(lab):
    c, _ = prepare(lab, rule="debian", root_files=["default", "HEX"])
    i, data, _ = walk(lab, c)
    assert i == 0
    assert H.chosen_by(data) == "host rule"
    assert b"\nDEFAULT debian\n" in data and b"\n  KERNEL debian/linux\n" in data


def test_root_mac_file_wins_over_a_host_rule(lab):
    c, _ = prepare(lab, rule="debian", root_files=["01-MAC"])
    i, data, missed = walk(lab, c)
    assert i == 1 and missed == ["pxelinux.cfg/" + UUID]
    assert data == ROOT_CFG.encode()


def test_syslinux_modules_are_served_under_stable_names(lab):
    c, _ = prepare(lab)
    for name, path in (("ldlinux.c32", "/usr/lib/syslinux/modules/bios/ldlinux.c32"),
                       ("menu.c32", "/usr/lib/syslinux/modules/bios/menu.c32"),
                       ("libutil.c32", "/usr/lib/syslinux/modules/bios/libutil.c32"),
                       ("memdisk", "/usr/lib/syslinux/memdisk")):
        if not os.path.exists(path):
            continue  # syslinux-common not installed here
        ok, data = H.tftp_get(lab, c, name)
        assert ok, data
        with open(path, "rb") as f:
            assert hashlib.sha256(data).digest() == hashlib.sha256(f.read()).digest(), name

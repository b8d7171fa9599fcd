"""PXELINUX: the BIOS machine's iPXE chains lpxelinux.0, which loads its modules and a
config that pixied generates for the machine (pxelinux.cfg/01-<mac>), and boots the kernel
from it. The host rule names an entry iPXE can boot and PXELINUX cannot (a URL chain), so
iPXE chains PXELINUX and PXELINUX gets the menu, whose default is the marker kernel.

iPXE hands PXELINUX its DHCP settings; PXELINUX takes its path prefix from option 210,
which the small script below sets (iPXE's `set 210:string`): without it PXELINUX derives
the prefix from the boot.ipxe URL and finds nothing."""
from e2e_lab import VM_MAC, check_boot, write_extra

CATALOG = f"""
[host e2e-vm]
mac = {VM_MAC}
boot = pxelinux

[entry pxelinux]
label = PXELINUX, chained by iPXE
file = ${{base}}/pxelinux.ipxe
"""

CHAIN = """#!ipxe
set 210:string http://${next-server}/
chain http://${next-server}/lpxelinux.0
"""


def test_ipxe_chains_lpxelinux_which_boots_a_generated_config(vmlab, tmp_path):
    lab = vmlab("--mode", "full", "--extra", write_extra(tmp_path, CATALOG),
                "--set", "loaders.bios=/usr/lib/PXELINUX/lpxelinux.0")
    lab.put("pxelinux.ipxe", CHAIN)
    b = lab.boot("bios")
    check_boot(b)
    # PXELINUX's own additions to the command line show who booted the kernel
    assert b.args[0] == "BOOT_IMAGE=vmlinuz" and "pixied=menu" in b.args, b.args
    assert "initrd=initrd.gz" in b.args, b.args

    assert b.lines("boot", "ipxe", mac=VM_MAC, arch="bios", rule="host", entry="pxelinux")
    assert b.http("/lpxelinux.0", status=200) and b.http("/ldlinux.c32", status=200), \
        b.explain()
    mac_name = "/pxelinux.cfg/01-" + VM_MAC.replace(":", "-")
    assert b.http(mac_name, status=200), "no generated pxelinux.cfg/01-<mac>" + b.explain()
    assert b.lines("boot", "pxelinux", mac=VM_MAC, arch="bios", rule="menu"), b.explain()
    assert b.http("/vmlinuz", status=200) and b.http("/initrd.gz", status=200), b.explain()

"""PXELINUX: the BIOS machine's iPXE chains lpxelinux.0 (a plain catalog `chain` entry),
which loads its modules and a config that pixied generates for the machine
(pxelinux.cfg/01-<mac>) over HTTP, and boots the kernel from it. The host rule names the
chain entry, which PXELINUX does not offer itself (it would loop), so PXELINUX gets the
menu, whose default is the marker kernel.

iPXE hands PXELINUX its DHCP settings; PXELINUX takes its path prefix from option 210.
pixied's script sets it (`set 210:string http://SERVER/`) before chaining lpxelinux.0 —
without it PXELINUX derives the prefix from the boot.ipxe URL and finds nothing."""
from e2e_lab import VM_MAC, check_boot, check_client, write_extra

CATALOG = f"""
[host e2e-vm]
mac = {VM_MAC}
boot = pxelinux

[entry pxelinux]
label = PXELINUX, chained by iPXE
file = lpxelinux.0
"""


def test_ipxe_chains_lpxelinux_which_boots_a_generated_config(vmlab, tmp_path):
    lab = vmlab("--mode", "full", "--extra", write_extra(tmp_path, CATALOG),
                "--set", "loaders.bios=/usr/lib/PXELINUX/lpxelinux.0")
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
    assert not b.http("/pxelinux.ipxe"), "the catalog alone chains PXELINUX now"

    # what pixied recorded: iPXE's choice (the chain), then PXELINUX's (the menu), and
    # every file of both, over HTTP
    rec = check_client(b, arch_code=0, script="/boot.ipxe?", entry="", rule="menu",
                       kinds=("boot-choice", "http-kernel", "http-initrd", "booted"),
                       files=("lpxelinux.0", "ldlinux.c32", mac_name.lstrip("/"),
                              "vmlinuz", "initrd.gz"), wait=30)
    if rec is not None:
        choices = [ev["detail"] for ev in rec["timeline"] if ev["kind"] == "boot-choice"]
        assert any(d.startswith("pxelinux") for d in choices), choices

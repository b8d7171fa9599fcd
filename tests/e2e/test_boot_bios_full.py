"""BIOS: SeaBIOS + the iPXE option ROM (e1000), pixied the network's DHCP server (full
mode). The ROM is iPXE already, so pixied hands it the boot script URL straight away (no
loader, no TFTP); the script boots the menu default's kernel + initrd over HTTP."""
import os

from e2e_lab import SERVER_IP, VM_MAC, check_boot, check_client


def test_bios_ipxe_rom_boots_the_menu_default_over_http(vmlab):
    lab = vmlab("--mode", "full")
    b = lab.boot("bios")
    check_boot(b, expect_args=["initrd=initrd.gz", "console=ttyS0", "panic=-1", "pixied=menu"])

    # DHCP: an address from our pool, the iPXE ROM recognised as such (arch 0, user class
    # iPXE) and sent to the boot script, not to a loader
    for ev in ("offer", "ack"):
        got = b.lines("dhcp", ev, mac=VM_MAC)
        assert got, f"no DHCP {ev} for the VM" + b.explain()
        ln = got[-1]
        assert ln["arch"] == "x86 BIOS" and ln["ipxe"] == "yes", ln
        assert ln["file"].startswith(f"http://{SERVER_IP}/boot.ipxe?mac="), ln
        assert ln["ip"].startswith("10.77.0."), ln
    assert not b.lines("tftp"), "the iPXE ROM needs no loader over TFTP" + b.explain()

    # the script: the menu, for a BIOS machine, asked for with iPXE's own arch/platform
    assert b.lines("boot", "ipxe", mac=VM_MAC, arch="bios", rule="menu"), b.explain()
    script = b.http("/boot.ipxe?", status=200)
    assert script and "arch=i386" in script[0]["path"] and "platform=pcbios" in script[0]["path"]

    # the files, whole
    for name in ("vmlinuz", "initrd.gz"):
        got = b.http(f"/{name}", status=200)
        assert got, f"/{name} not served" + b.explain()
        assert int(got[-1]["bytes"]) == os.path.getsize(os.path.join(lab.root, name))

    # what pixied recorded: x86 BIOS (arch 0), no loader (the ROM is iPXE), the script, the
    # menu, the files, booted (a menu choice declares no files: booted when they go quiet)
    check_client(b, arch_code=0, loader="", script="/boot.ipxe?", entry="", rule="menu",
                 kinds=("dhcp-ack", "http-script", "http-kernel", "http-initrd", "booted"),
                 files=("boot.ipxe", "vmlinuz", "initrd.gz"), wait=30)

"""sanboot: iPXE boots an ISO image straight over HTTP (Range requests), on BIOS (El Torito
through iPXE's INT 13h) and on UEFI (the ISO's EFI boot image through iPXE's block device).
The ISO (scripts/payload.sh: GRUB for both, the same kernel + initrd, `iso=1` on the
command line) sits in [menu] iso-dir, which makes it a catalog entry of its own; it is the
menu default here."""
import os

import pytest

from e2e_lab import VM_MAC, check_boot, check_client


@pytest.mark.parametrize("fw", ["bios", "uefi"])
def test_sanboot_of_an_iso_in_iso_dir(vmlab, fw):
    lab = vmlab("--mode", "full", "--iso", "--set", "menu.iso-dir=iso",
                "--menu-default", "marker.iso")
    b = lab.boot(fw)
    check_boot(b)
    assert "iso=1" in b.args and b.args[0] == "BOOT_IMAGE=/boot/vmlinuz", b.args

    arch = {"bios": "bios", "uefi": "efi64"}[fw]
    assert b.lines("boot", "ipxe", mac=VM_MAC, arch=arch, rule="menu"), b.explain()
    parts = b.http("/iso/marker.iso", status=206)
    assert parts, "the ISO was not read with Range requests" + b.explain()
    # only the blocks the boot needs, never the whole image
    read = sum(int(p["bytes"]) for p in parts)
    size = os.path.getsize(os.path.join(lab.root, "iso", "marker.iso"))
    assert 0 < read < size, (read, size)
    assert not b.http("/iso/marker.iso", status=200), "the ISO was fetched whole"
    assert not b.http("/vmlinuz"), "the kernel came from the ISO, not from the root"

    # what pixied recorded: the ISO's reads; booted once they went quiet (the timeline is
    # bounded: the many range reads push the DHCP and script events out of it)
    check_client(b, arch_code={"bios": 0, "uefi": 7}[fw], script="/boot.ipxe?", entry="",
                 rule="menu", kinds=("http-iso", "booted"), files=("iso/marker.iso",),
                 wait=40)

"""UEFI: OVMF's own PXE client (virtio-net without an option ROM) gets ipxe.efi from pixied
over TFTP — first the size probe (tsize, then an abort), then the transfer with the window
it asks for — and the chained iPXE comes back for the boot script over HTTP, which boots
the kernel with the initrd named on the command line (iPXE under UEFI needs `initrd=`)."""
import os

from e2e_lab import SERVER_IP, VM_MAC, check_boot, check_client

IPXE_EFI = "/usr/lib/ipxe/ipxe.efi"


def test_uefi_ovmf_pxe_chains_ipxe_efi_over_tftp_then_boots_over_http(vmlab):
    lab = vmlab("--mode", "full")
    b = lab.boot("uefi")
    check_boot(b, expect_args=["vmlinuz", "initrd=initrd.gz", "console=ttyS0", "panic=-1",
                               "pixied=menu"])

    # OVMF (arch 7, no iPXE) is given the loader for x64 UEFI
    fw = [ln for ln in b.lines("dhcp", "ack", mac=VM_MAC) if ln["ipxe"] == "no"]
    assert fw, "no ACK to OVMF's PXE client" + b.explain()
    assert fw[0]["arch"] == "x64 UEFI" and fw[0]["file"] == "ipxe.efi", fw[0]

    # TFTP: the tsize probe that OVMF aborts, then the whole file in windows
    size = os.path.getsize(IPXE_EFI)
    starts = b.lines("tftp", "start", file="ipxe.efi")
    ends = b.lines("tftp", "end", file="ipxe.efi")
    assert len(starts) == 2 and len(ends) == 2, b.explain()
    assert starts[0]["tsize"] == "yes" and ends[0]["result"] == "option-abort", (starts, ends)
    assert ends[1]["result"] == "ok" and int(ends[1]["bytes"]) == size, ends[1]
    assert int(ends[1]["windowsize"]) > 1 and int(ends[1]["blksize"]) > 512, ends[1]

    # the chained iPXE is recognised and sent to the script, for efi64
    ipxe = [ln for ln in b.lines("dhcp", "ack", mac=VM_MAC) if ln["ipxe"] == "yes"]
    assert ipxe and ipxe[-1]["file"].startswith(f"http://{SERVER_IP}/boot.ipxe?"), b.explain()
    assert b.lines("boot", "ipxe", mac=VM_MAC, arch="efi64", rule="menu"), b.explain()
    script = b.http("/boot.ipxe?", status=200)
    assert script and "arch=x86_64" in script[0]["path"] and "platform=efi" in script[0]["path"]
    for name in ("vmlinuz", "initrd.gz"):
        got = b.http(f"/{name}", status=200)
        assert got and int(got[-1]["bytes"]) == os.path.getsize(os.path.join(lab.root, name))

    # what pixied recorded: x64 UEFI (arch 7), ipxe.efi over TFTP, then the script, booted
    check_client(b, arch_code=7, loader="ipxe.efi", script="/boot.ipxe?", entry="",
                 rule="menu", kinds=("tftp-end", "http-script", "http-kernel", "http-initrd",
                                     "booted"),
                 files=("ipxe.efi", "boot.ipxe", "vmlinuz", "initrd.gz"), wait=30)

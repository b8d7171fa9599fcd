"""proxyDHCP: dnsmasq is the network's DHCP server (addresses only, no boot options, in a
namespace of its own on the same bridge); pixied in proxy mode adds only the boot
information. Both firmwares boot; the address comes from dnsmasq, never from pixied."""
import re

import pytest

from e2e_lab import VM_MAC, check_boot, check_client, read_text

ARGS = {
    "bios": ["initrd=initrd.gz", "console=ttyS0", "panic=-1", "pixied=menu"],
    "uefi": ["vmlinuz", "initrd=initrd.gz", "console=ttyS0", "panic=-1", "pixied=menu"],
}


@pytest.mark.parametrize("fw", ["bios", "uefi"])
def test_proxy_mode_boots_beside_dnsmasq(vmlab, fw):
    lab = vmlab("--mode", "proxy")
    b = lab.boot(fw)
    check_boot(b, expect_args=ARGS[fw])

    # the address: dnsmasq's lease, and the VM fetched over HTTP from it
    peer = read_text(f"{lab.dir}/peer-dnsmasq.log")
    acks = re.findall(r"DHCPACK\(eth0\) (10\.77\.0\.\d+) " + VM_MAC, peer)
    assert acks, "dnsmasq gave the VM no address:\n" + peer
    clients = {ln["client"].rsplit(":", 1)[0] for ln in b.lines("http", "access")}
    assert clients == {acks[-1]}, (clients, acks)

    # pixied: boot offers without an address, no ACK of its own
    offers = b.lines("dhcp", "offer", mac=VM_MAC)
    assert offers and all(o["ip"] == "0.0.0.0" for o in offers), b.explain()
    assert not b.lines("dhcp", "ack"), "a proxyDHCP server must not ACK addresses" + b.explain()
    if fw == "uefi":
        assert offers[0]["ipxe"] == "no" and offers[0]["file"] == "ipxe.efi", offers[0]
        ends = b.lines("tftp", "end", file="ipxe.efi", result="ok")
        assert ends, "ipxe.efi not sent over TFTP" + b.explain()
    else:
        assert offers[0]["ipxe"] == "yes", offers[0]
    arch = {"bios": "bios", "uefi": "efi64"}[fw]
    assert b.lines("boot", "ipxe", mac=VM_MAC, arch=arch, rule="menu"), b.explain()
    assert b.http("/vmlinuz", status=200) and b.http("/initrd.gz", status=200), b.explain()

    # what pixied recorded, though it handed out no address
    check_client(b, arch_code={"bios": 0, "uefi": 7}[fw],
                 loader={"bios": "", "uefi": "ipxe.efi"}[fw], script="/boot.ipxe?",
                 entry="", rule="menu",
                 kinds=("http-script", "http-kernel", "http-initrd", "booted")
                 + (("tftp-end",) if fw == "uefi" else ()),
                 files=("vmlinuz", "initrd.gz"), wait=30)

"""Replay: the iPXE EFI driver ROM under OVMF (iPXE on UEFI, arch 7) gets the boot
script URL, not ipxe.efi, with 175.176 so it does not wait for ProxyDHCP."""
import pixied_lab as L

PCAP = "uefi-ovmf-e1000-ipxe-efi-rom.pcap"
URL = f"http://{L.SERVER_IP}/boot.ipxe"


def test_ipxe_on_uefi_gets_boot_script_url(lab):
    lab.start_pixied()
    c = lab.add_client(mac=L.VECTOR_MAC)
    frames = L.vector_client_frames(PCAP)
    disc = [f for f in frames if f.dhcp.msg_type == L.DISCOVER][0]
    req = [f for f in frames if f.dhcp.msg_type == L.REQUEST][0]
    off, ack = L.replay_exchange(lab, c, disc, req)
    assert off is not None, "no OFFER"
    assert off.dhcp.boot_file().startswith(URL), off.dhcp
    assert off.dhcp.boot_file() != L.EFI64_LOADER
    assert off.dhcp.text(60) == "PXEClient"
    assert off.dhcp.sub_options(175).get(176) == b"\x01"
    L.check_reply_shape(off, disc.payload)
    L.check_reply_destination(off, disc.payload)
    assert ack is not None and ack.dhcp.msg_type == L.ACK
    assert ack.dhcp.boot_file().startswith(URL)

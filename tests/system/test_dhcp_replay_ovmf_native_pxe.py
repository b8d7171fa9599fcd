"""Replay: OVMF's own PXE client (UEFI x64, arch 7, broadcast flag) gets the x64 UEFI
loader by TFTP name with siaddr = us, PXEClient, option 43 discovery control and the UUID
echoed, broadcast as it asked; then the chained ipxe.efi (iPXE on UEFI) gets the boot
script URL for the same address."""
import pixied_lab as L

PCAP = "uefi-ovmf-virtio-native-pxe.pcap"
URL = f"http://{L.SERVER_IP}/boot.ipxe"


def test_ovmf_native_pxe_gets_ipxe_efi_then_chained_ipxe_gets_script_url(lab):
    lab.start_pixied()
    c = lab.add_client(mac=L.VECTOR_MAC)
    frames = L.vector_client_frames(PCAP)
    native = [f for f in frames if b"UNDI:003000" in (f.dhcp.get(60) or b"")]
    chained = [f for f in frames if f.dhcp.get(77) == b"iPXE"]
    n_disc = [f for f in native if f.dhcp.msg_type == L.DISCOVER][0]
    n_req = [f for f in native if f.dhcp.msg_type == L.REQUEST][0]
    assert n_disc.dhcp.flags & 0x8000

    off, ack = L.replay_exchange(lab, c, n_disc, n_req)
    assert off is not None, "no OFFER for OVMF's DISCOVER"
    o = off.dhcp
    assert o.boot_file() == L.EFI64_LOADER, o
    assert o.siaddr == L.SERVER_IP
    assert o.text(60) == "PXEClient"
    assert o.get(97) == n_disc.dhcp.get(97)
    assert 6 in o.sub_options(43), f"no PXE discovery control in option 43: {o.get(43)}"
    L.check_reply_shape(off, n_disc.payload)
    L.check_reply_destination(off, n_disc.payload)  # broadcast: the flag is set
    assert ack is not None and ack.dhcp.msg_type == L.ACK, ack
    assert ack.dhcp.yiaddr == o.yiaddr
    assert ack.dhcp.boot_file() == L.EFI64_LOADER
    L.check_reply_shape(ack, n_req.payload)
    L.check_reply_destination(ack, n_req.payload)

    # The chained ipxe.efi asks again: same address, the script URL this time.
    i_disc = [f for f in chained if f.dhcp.msg_type == L.DISCOVER][0]
    i_req = [f for f in chained if f.dhcp.msg_type == L.REQUEST][0]
    off2, ack2 = L.replay_exchange(lab, c, i_disc, i_req)
    assert off2 is not None, "no OFFER for the chained ipxe.efi"
    assert off2.dhcp.yiaddr == o.yiaddr
    assert off2.dhcp.boot_file().startswith(URL), off2.dhcp
    assert off2.dhcp.sub_options(175).get(176) == b"\x01"
    assert ack2 is not None and ack2.dhcp.msg_type == L.ACK
    assert ack2.dhcp.boot_file().startswith(URL)
    L.check_reply_destination(off2, i_disc.payload)

"""Replay: SeaBIOS + iPXE option ROM (captured DISCOVER/REQUEST). A client already running
iPXE gets the HTTP URL of its boot script, never a loader again; with PXEClient and
175.176 (no-pxedhcp) so it does not wait for ProxyDHCP; UUID echoed; unicast reply."""
import ipaddress

import pixied_lab as L

PCAP = "bios-seabios-e1000-ipxe-rom.pcap"
URL = f"http://{L.SERVER_IP}/boot.ipxe"


def test_bios_ipxe_rom_gets_boot_script_url_not_a_loader(lab):
    lab.start_pixied()
    c = lab.add_client(mac=L.VECTOR_MAC)
    frames = L.vector_client_frames(PCAP)
    disc = frames[0]
    req = [f for f in frames if f.dhcp.msg_type == L.REQUEST][0]
    off, ack = L.replay_exchange(lab, c, disc, req)
    assert off is not None, "no OFFER for the BIOS iPXE DISCOVER"
    o = off.dhcp
    ip = ipaddress.IPv4Address(o.yiaddr)
    assert ipaddress.IPv4Address(L.POOL_START) <= ip <= ipaddress.IPv4Address(L.POOL_END)
    assert o.boot_file().startswith(URL), o
    assert o.text(60) == "PXEClient"
    assert o.get(97) == disc.dhcp.get(97)
    # iPXE include/ipxe/dhcp.h: 175.176 "no-pxedhcp" = 1 -> no ~3 s ProxyDHCP wait
    assert o.sub_options(175).get(176) == b"\x01", o.sub_options(175)
    L.check_reply_shape(off, disc.payload)
    L.check_reply_destination(off, disc.payload)

    assert ack is not None and ack.dhcp.msg_type == L.ACK, ack
    assert ack.dhcp.yiaddr == o.yiaddr
    assert ack.dhcp.boot_file().startswith(URL)
    L.check_reply_shape(ack, req.payload)
    L.check_reply_destination(ack, req.payload)

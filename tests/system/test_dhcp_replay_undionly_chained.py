"""Replay: undionly.kpxe chained from the BIOS iPXE ROM (same options, broadcast flag set)
gets the script URL (never undionly.kpxe again: no TFTP loop) in a broadcast reply."""
import pixied_lab as L

PCAP = "bios-ipxe-rom-forced-undionly-tftp-loop.pcap"
URL = f"http://{L.SERVER_IP}/boot.ipxe"


def test_chained_undionly_gets_script_url_broadcast(lab):
    lab.start_pixied()
    c = lab.add_client(mac=L.VECTOR_MAC)
    frames = L.vector_client_frames(PCAP)
    disc = [f for f in frames if f.dhcp.msg_type == L.DISCOVER and f.dhcp.flags & 0x8000][0]
    req = [f for f in frames if f.dhcp.msg_type == L.REQUEST and f.dhcp.xid == disc.dhcp.xid][0]
    off, ack = L.replay_exchange(lab, c, disc, req)
    assert off is not None, "no OFFER"
    assert off.dhcp.boot_file().startswith(URL), off.dhcp
    L.check_reply_destination(off, disc.payload)
    assert off.eth_dst == "ff:ff:ff:ff:ff:ff"
    assert ack is not None and ack.dhcp.msg_type == L.ACK
    assert ack.dhcp.boot_file().startswith(URL)
    assert ack.eth_dst == "ff:ff:ff:ff:ff:ff"

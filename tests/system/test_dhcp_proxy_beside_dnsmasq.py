"""Proxy mode beside a foreign DHCP server (dnsmasq in its own namespace on the same LAN,
handing out addresses only): pixied never answers a plain DHCP client and never hands out
an address; PXE clients get a proxy offer (yiaddr 0, PXEClient) on port 67 and the boot
file from the boot-server REQUEST on port 4011."""
import socket

import pixied_lab as L

FOREIGN = "10.77.0.2"
OVMF = "uefi-ovmf-virtio-native-pxe.pcap"
BIOS_IPXE = "bios-seabios-e1000-ipxe-rom.pcap"


def foreign_dhcp(lab):
    r = lab.add_router([("eth0", "br0", f"{FOREIGN}/24")])
    lab.start_dnsmasq(r, "eth0", "10.77.0.150,10.77.0.199,255.255.255.0,1h",
                      f"--dhcp-option=3,{FOREIGN}")
    return r


def test_plain_dhclient_gets_its_address_from_dnsmasq_and_nothing_from_pixied(lab, client):
    lab.start_pixied(mode="proxy")
    foreign_dhcp(lab)
    sniff = lab.sniff_start(client, 6)
    r = lab.dhclient(client)
    frames = sniff.result()
    assert r.server_id == FOREIGN
    assert 150 <= int(r.ip.split(".")[3]) <= 199, r.ip
    ours = [f for f in frames if f.ip_src == L.SERVER_IP and f.sport in (67, 4011)]
    assert ours == [], f"pixied answered a plain DHCP client in proxy mode: {ours}"
    assert any(f.ip_src == FOREIGN and f.dhcp and f.dhcp.msg_type == L.ACK for f in frames)


def test_pxe_firmware_gets_address_from_dnsmasq_and_boot_file_from_pixied_port_4011(lab):
    lab.start_pixied(mode="proxy")
    foreign_dhcp(lab)
    c = lab.add_client(mac=L.VECTOR_MAC)
    frames = L.vector_client_frames(OVMF)
    disc = frames[0]
    assert disc.dhcp.msg_type == L.DISCOVER and disc.dhcp.get(93) == b"\x00\x07"

    got = lab.send_dhcp(c, [disc.payload], listen=2.5, src_mac=disc.eth_src)
    offers = [f for f in got if f.dhcp.xid == disc.dhcp.xid and f.dhcp.msg_type == L.OFFER]
    foreign = [f for f in offers if f.ip_src == FOREIGN]
    proxy = [f for f in offers if f.ip_src == L.SERVER_IP]
    assert foreign, f"no offer from dnsmasq: {got}"
    assert proxy, f"no proxy offer from pixied: {got}"
    p = proxy[0].dhcp
    assert p.yiaddr == "0.0.0.0", f"pixied offered an address in proxy mode: {p}"
    assert p.text(60) == "PXEClient"
    assert p.get(54) == socket.inet_aton(L.SERVER_IP)
    assert p.get(97) == disc.dhcp.get(97)  # UUID echoed

    # Take dnsmasq's address, as the firmware does.
    addr = foreign[0].dhcp.yiaddr
    req = frames[1]
    msg = L.patch_option(req.payload, 50, socket.inet_aton(addr))
    msg = L.patch_option(msg, 54, socket.inet_aton(FOREIGN))
    acks = [f for f in lab.send_dhcp(c, [msg], listen=2.0, src_mac=disc.eth_src)
            if f.dhcp.xid == req.dhcp.xid]
    assert [f for f in acks if f.ip_src == FOREIGN and f.dhcp.msg_type == L.ACK]
    assert not [f for f in acks if f.ip_src == L.SERVER_IP and f.dhcp.yiaddr != "0.0.0.0"]
    lab.run(c.ns, ["ip", "addr", "add", f"{addr}/24", "dev", c.iface], check=True)

    # PXE boot-server discovery: REQUEST to the proxy's port 4011 from the new address.
    d = disc.dhcp
    boot_req = L.bootp(chaddr=L.VECTOR_MAC, ciaddr=addr, xid=0x4011AB, opts=L.options(
        (53, [L.REQUEST]), (55, [1, 3, 43, 54, 60, 66, 67, 97]), (60, d.get(60)),
        (93, d.get(93)), (94, d.get(94)), (97, d.get(97))))
    frame = lab.dhcp_frame(c, boot_req, src_mac=L.VECTOR_MAC, src_ip=addr,
                           dst_ip=L.SERVER_IP, dst_mac=lab.server_mac, sport=68, dport=4011)
    got = [f for f in lab.exchange(c, [frame], listen=2.0, until=1)
           if f.dhcp is not None and f.sport == 4011]
    assert got, "no reply on port 4011"
    a = got[0].dhcp
    assert a.msg_type == L.ACK
    assert a.xid == 0x4011AB
    assert a.boot_file() == L.EFI64_LOADER
    assert a.siaddr == L.SERVER_IP
    assert a.yiaddr == "0.0.0.0"
    assert a.text(60) == "PXEClient"
    assert got[0].ip_dst == addr


def test_ipxe_in_proxy_mode_gets_its_script_url_and_no_address(lab):
    lab.start_pixied(mode="proxy")
    foreign_dhcp(lab)
    c = lab.add_client(mac=L.VECTOR_MAC)
    disc = L.vector_client_frames(BIOS_IPXE)[0]
    got = lab.send_dhcp(c, [disc.payload], listen=2.5, src_mac=disc.eth_src)
    proxy = [f.dhcp for f in got if f.ip_src == L.SERVER_IP and f.dhcp.xid == disc.dhcp.xid]
    assert proxy, f"no proxy offer for iPXE: {got}"
    assert proxy[0].yiaddr == "0.0.0.0"
    assert proxy[0].boot_file().startswith(f"http://{L.SERVER_IP}/boot.ipxe"), proxy[0]

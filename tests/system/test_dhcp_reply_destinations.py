"""Reply destinations, RFC 2131 §4.1 (no giaddr): broadcast bit set -> broadcast; no
address yet and no broadcast bit -> a unicast frame to chaddr / yiaddr (AF_PACKET, not a
broadcast); ciaddr set (RENEWING, INFORM) -> unicast to ciaddr."""
import pixied_lab as L


def test_offer_without_broadcast_bit_is_unicast_to_chaddr(lab, client):
    lab.start_pixied()
    msg = L.bootp(chaddr=client.mac, flags=0, opts=L.options((53, [L.DISCOVER])))
    got = lab.send_dhcp(client, [msg], listen=2.0, until=1)
    assert got, "no OFFER"
    f = got[0]
    assert f.eth_dst == client.mac and f.ip_dst == f.dhcp.yiaddr, f
    L.check_reply_destination(f, msg)
    L.check_reply_shape(f, msg)


def test_offer_with_broadcast_bit_is_broadcast(lab, client):
    lab.start_pixied()
    msg = L.bootp(chaddr=client.mac, flags=0x8000, opts=L.options((53, [L.DISCOVER])))
    got = lab.send_dhcp(client, [msg], listen=2.0, until=1)
    assert got, "no OFFER"
    assert got[0].eth_dst == "ff:ff:ff:ff:ff:ff" and got[0].ip_dst == "255.255.255.255"
    assert got[0].dhcp.flags & 0x8000  # RFC 2131 §4.1: flags copied from the request


def test_renewing_request_is_answered_by_unicast_to_ciaddr(lab, client):
    lab.start_pixied()
    off, ack = lab.dora(client)
    ip = ack.yiaddr
    lab.run(client.ns, ["ip", "addr", "add", f"{ip}/24", "dev", client.iface], check=True)
    msg = L.bootp(chaddr=client.mac, ciaddr=ip, opts=L.options((53, [L.REQUEST])))
    got = lab.send_dhcp(client, [msg], src_ip=ip, dst_ip=L.SERVER_IP,
                        dst_mac=lab.server_mac, listen=2.0, until=1)
    assert got and got[0].dhcp.msg_type == L.ACK, got
    assert got[0].ip_dst == ip and got[0].eth_dst == client.mac, got[0]
    assert got[0].dhcp.yiaddr == ip


def test_inform_gets_ack_with_options_and_no_lease(lab, client):
    d = lab.start_pixied()
    ip = "10.77.0.20"  # configured by hand, outside the pool
    lab.run(client.ns, ["ip", "addr", "add", f"{ip}/24", "dev", client.iface], check=True)
    msg = L.bootp(chaddr=client.mac, ciaddr=ip,
                  opts=L.options((53, [L.INFORM]), (55, [1, 3, 6, 15])))
    got = lab.send_dhcp(client, [msg], src_ip=ip, dst_ip=L.SERVER_IP,
                        dst_mac=lab.server_mac, listen=2.0, until=1)
    assert got and got[0].dhcp.msg_type == L.ACK, got
    a = got[0].dhcp
    # RFC 2131 §4.3.5: no yiaddr, no lease time; options for the client's configuration
    assert a.yiaddr == "0.0.0.0"
    assert 51 not in a.options and 58 not in a.options and 59 not in a.options
    assert a.ips(3) == [L.SERVER_IP] and a.ips(6) == [L.SERVER_IP]
    assert got[0].ip_dst == ip
    assert not [r for r in d.leases() if r["ip"] == ip]

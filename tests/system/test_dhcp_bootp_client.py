"""BOOTP clients (no option 53) get their reservation in a BOOTREPLY; an unknown BOOTP
client gets nothing."""
import pixied_lab as L


def bootp_request(mac):
    # RFC 951 request with the RFC 1497 cookie and no DHCP message type.
    return L.bootp(chaddr=mac, opts=L.options((55, [1, 3, 6, 67])))


def test_bootp_client_with_reservation_gets_its_address(lab, client):
    lab.start_pixied({"host bootp-box": {"mac": client.mac, "ip": "10.77.0.43"}})
    replies = lab.send_dhcp(client, [bootp_request(client.mac)], listen=2.0, until=1)
    assert replies, "no BOOTREPLY"
    r = replies[0].dhcp
    assert r.op == 2 and r.msg_type is None, r
    assert r.yiaddr == "10.77.0.43"


def test_bootp_client_without_reservation_gets_no_reply(lab, client):
    lab.start_pixied()
    assert lab.send_dhcp(client, [bootp_request(client.mac)], listen=2.0) == []

"""Bad input: RELEASE and DECLINE for an address leased to another MAC change nothing
(the owner keeps its lease and renews it; nobody else is offered it), each with one log
line; DECLINE from the owner quarantines the address (control row)."""
import socket

import pixied_lab as L


def owner_lease(lab, client):
    mac = L.random_mac()
    off, ack = lab.dora(client, mac=mac)
    assert ack is not None and ack.msg_type == L.ACK
    return mac, ack.yiaddr


def renew(lab, client, mac, ip):
    """RENEWING (RFC 2131 §4.3.2): REQUEST, ciaddr = the address, no 50/54, unicast."""
    lab.run(client.ns, ["ip", "addr", "replace", f"{ip}/24", "dev", client.iface])
    msg = L.bootp(chaddr=mac, ciaddr=ip, opts=L.options((53, [L.REQUEST]), (55, [1, 3])))
    got = lab.send_dhcp(client, [msg], src_mac=mac, src_ip=ip, dst_ip=L.SERVER_IP,
                        dst_mac=lab.server_mac, listen=2.0, until=1)
    lab.run(client.ns, ["ip", "addr", "del", f"{ip}/24", "dev", client.iface])
    return [f.dhcp for f in got]


def test_release_from_a_mac_that_does_not_own_the_lease_changes_nothing(lab, client):
    d = lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.101"}}, verbose=False)
    mac, ip = owner_lease(lab, client)
    thief = L.random_mac()
    rel = L.bootp(chaddr=thief, ciaddr=ip, opts=L.options(
        (53, [L.RELEASE]), (54, socket.inet_aton(L.SERVER_IP))))
    L.check_dropped(lab, d, client, [rel], src_mac=thief, src_ip=ip, dst_ip=L.SERVER_IP,
                    dst_mac=lab.server_mac)
    rows = [r for r in d.leases() if r["ip"] == ip]
    assert rows and rows[0]["mac"] == mac, rows
    acks = renew(lab, client, mac, ip)
    assert acks and acks[0].msg_type == L.ACK and acks[0].yiaddr == ip, acks


def test_decline_from_a_mac_that_does_not_own_the_lease_changes_nothing(lab, client):
    d = lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.101"}}, verbose=False)
    mac, ip = owner_lease(lab, client)
    thief = L.random_mac()
    dec = L.bootp(chaddr=thief, opts=L.options(
        (53, [L.DECLINE]), (50, [ip]), (54, socket.inet_aton(L.SERVER_IP))))
    L.check_dropped(lab, d, client, [dec], src_mac=thief)
    rows = [r for r in d.leases() if r["ip"] == ip]
    assert rows and rows[0]["mac"] == mac, rows
    acks = renew(lab, client, mac, ip)
    assert acks and acks[0].msg_type == L.ACK and acks[0].yiaddr == ip, acks


def test_decline_from_the_owner_quarantines_the_address(lab, client):
    d = lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.100"}})
    mac, ip = owner_lease(lab, client)
    dec = L.bootp(chaddr=mac, opts=L.options(
        (53, [L.DECLINE]), (50, [ip]), (54, socket.inet_aton(L.SERVER_IP))))
    lab.send_dhcp(client, [dec], src_mac=mac, listen=0.5)
    # the only address is quarantined (decline-time, default 10m): nobody gets it
    off, _ = lab.dora(client, mac=L.random_mac())
    assert off is None, f"declined address offered again: {off}"
    assert d.alive()

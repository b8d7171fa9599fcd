"""A [host] reservation: that MAC always gets its fixed IP (outside the pool too) and its
hostname (option 12); other clients never get the reserved address."""
import pixied_lab as L

RESERVED_IP = "10.77.0.42"


def host_conf(mac):
    return {"host station-01": {"mac": mac, "ip": RESERVED_IP, "hostname": "station-01"}}


def test_reserved_mac_gets_its_fixed_ip_and_hostname_with_dhclient(lab):
    c = lab.add_client()
    lab.start_pixied(host_conf(c.mac))
    r = lab.dhclient(c)
    assert r.ip == RESERVED_IP
    assert r.hostname == "station-01"
    assert r.routers == [L.SERVER_IP]


def test_reserved_mac_gets_its_fixed_ip_with_udhcpc(lab):
    c = lab.add_client()
    lab.start_pixied(host_conf(c.mac))
    r = lab.udhcpc(c)
    assert r.ip == RESERVED_IP
    assert r.hostname == "station-01"


def test_reserved_address_inside_the_pool_is_not_given_to_others(lab):
    c = lab.add_client()
    lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.101"},
                      "host station-01": {"mac": c.mac, "ip": "10.77.0.100"}})
    other = lab.add_client()
    for _ in range(3):
        off, ack = lab.dora(other, mac=L.random_mac())
        if off is not None:
            assert off.yiaddr != "10.77.0.100", off
    off, ack = lab.dora(c)
    assert off is not None and off.yiaddr == "10.77.0.100"
    assert ack is not None and ack.msg_type == L.ACK and ack.yiaddr == "10.77.0.100"

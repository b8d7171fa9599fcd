"""Relays: ISC dhcrelay in a router namespace between a second client subnet
(10.88.0.0/24) and pixied; the client gets an address from that subnet's pool (picked by
giaddr) and that subnet's router, never one from the LAN pool."""
import ipaddress

import pixied_lab as L

RELAYED = {"subnet relayed": {"subnet": "10.88.0.0/24", "range": "10.88.0.100 10.88.0.120",
                              "router": "10.88.0.1", "dns": "10.88.0.1"}}


def make_relay(lab):
    r = lab.add_router([("eth0", "br0", "10.77.0.254/24"), ("eth1", "br1", "10.88.0.1/24")])
    lab.run(lab.server_ns, ["ip", "route", "add", "10.88.0.0/24", "via", "10.77.0.254"],
            check=True)
    lab.start_dhcrelay(r, "eth1", "eth0", L.SERVER_IP)
    return r


def test_relayed_dhclient_gets_address_from_its_subnet_pool(lab):
    lab.start_pixied(RELAYED)
    make_relay(lab)
    c = lab.add_client(bridge="br1")
    r = lab.dhclient(c)
    a = ipaddress.IPv4Address(r.ip)
    assert ipaddress.IPv4Address("10.88.0.100") <= a <= ipaddress.IPv4Address("10.88.0.120")
    assert r.routers == ["10.88.0.1"]
    assert r.mask == "255.255.255.0"
    assert r.server_id == L.SERVER_IP


def test_relayed_udhcpc_gets_address_from_its_subnet_pool(lab):
    lab.start_pixied(RELAYED)
    make_relay(lab)
    c = lab.add_client(bridge="br1")
    r = lab.udhcpc(c)
    assert r.ip.startswith("10.88.0."), r.ip
    assert r.routers == ["10.88.0.1"]


def test_lan_client_still_gets_lan_pool_address_beside_a_relay(lab, client):
    lab.start_pixied(RELAYED)
    make_relay(lab)
    r = lab.dhclient(client)
    assert r.ip.startswith("10.77.0."), r.ip

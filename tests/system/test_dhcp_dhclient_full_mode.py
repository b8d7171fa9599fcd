"""Full mode: ISC dhclient gets an address from the pool, router, DNS, domain and (as a
BIOS PXE client) the boot file name and next-server; the lease is in leases.db."""
import ipaddress

import pixied_lab as L


def in_pool(ip):
    a = ipaddress.IPv4Address(ip)
    return ipaddress.IPv4Address(L.POOL_START) <= a <= ipaddress.IPv4Address(L.POOL_END)


def test_dhclient_gets_address_router_dns_and_domain(lab, client):
    d = lab.start_pixied()
    r = lab.dhclient(client)

    assert in_pool(r.ip), r.ip
    assert r.mask == "255.255.255.0"
    assert r.routers == [L.SERVER_IP]
    assert r.dns == [L.SERVER_IP]
    assert r.domain == "lab.test"
    assert r.server_id == L.SERVER_IP
    assert r.lease_time == 3600
    assert r.ip in client.addresses()

    rows = [x for x in d.leases() if x["ip"] == r.ip]
    assert rows, f"no lease row for {r.ip}: {d.leases()}"
    assert rows[0]["mac"] == client.mac


def test_dhclient_as_bios_pxe_client_gets_bios_loader_and_next_server(lab, client):
    lab.start_pixied()
    r = lab.dhclient(client, extra_conf=L.DHCLIENT_PXE_BIOS)
    assert in_pool(r.ip), r.ip
    assert r.routers == [L.SERVER_IP]
    assert r.dns == [L.SERVER_IP]
    assert r.boot_file == L.BIOS_LOADER
    assert r.next_server == L.SERVER_IP


def test_dhclient_t1_t2_default_to_half_and_seven_eighths_of_the_lease(lab, client):
    lab.start_pixied({"dhcp": {"lease-time": "1h"}})
    r = lab.dhclient(client)
    assert int(r["new_dhcp_renewal_time"]) == 1800
    assert int(r["new_dhcp_rebinding_time"]) == 3150

"""Full mode: busybox udhcpc gets an address, router, DNS, domain and (as a BIOS PXE
client) the boot file in both the `file` field and option 67, with siaddr = us."""
import ipaddress

import pixied_lab as L


def test_udhcpc_gets_address_router_dns_and_domain(lab, client):
    lab.start_pixied()
    r = lab.udhcpc(client)
    a = ipaddress.IPv4Address(r.ip)
    assert ipaddress.IPv4Address(L.POOL_START) <= a <= ipaddress.IPv4Address(L.POOL_END)
    assert r.mask == "255.255.255.0"
    assert r.routers == [L.SERVER_IP]
    assert r.dns == [L.SERVER_IP]
    assert r.domain == "lab.test"
    assert r.server_id == L.SERVER_IP
    assert r.lease_time == 3600


def test_udhcpc_as_bios_pxe_client_gets_loader_in_file_and_option_67(lab, client):
    lab.start_pixied()
    r = lab.udhcpc(client, args=L.UDHCPC_PXE_BIOS)
    assert r.file_field == L.BIOS_LOADER
    assert r.bootfile_option == L.BIOS_LOADER
    assert r.next_server == L.SERVER_IP
    assert r.routers == [L.SERVER_IP]

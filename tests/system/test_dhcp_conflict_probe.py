"""Optional conflict probe before offering a pool address (off by default): with
`probe = ping` or `probe = arp`, an address already in use by a host that answers is not
offered; without a probe it would be."""
import pytest


def squatter(lab):
    s = lab.add_client()
    lab.run(s.ns, ["ip", "addr", "add", "10.77.0.100/24", "dev", s.iface], check=True)
    return s

@pytest.mark.parametrize("probe", ["ping", "arp"])
def test_probe_skips_an_address_in_use(lab, client, probe):
    squatter(lab)
    lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.101", "probe": probe}})
    off, ack = lab.dora(client, listen=4.0)
    assert off is not None, "no OFFER"
    assert off.yiaddr == "10.77.0.101", f"offered {off.yiaddr}, which answers {probe}"

def test_without_probe_the_first_free_address_is_offered(lab, client):
    squatter(lab)
    lab.start_pixied({"dhcp": {"range": "10.77.0.100 10.77.0.101"}})
    off, ack = lab.dora(client)
    assert off is not None
    assert off.yiaddr in ("10.77.0.100", "10.77.0.101")

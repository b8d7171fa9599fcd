"""pixied listens only on the configured interfaces: a DISCOVER arriving on another
interface of the server (eth1, not in `interfaces`) gets no reply, while the configured
one keeps serving."""
import pixied_lab as L


def test_discover_on_unconfigured_interface_gets_no_reply(lab):
    lab.add_server_iface("eth1", "br1", "10.99.0.1/24")
    lab.start_pixied()  # interfaces = eth0
    outside = lab.add_client(bridge="br1")
    inside = lab.add_client()
    for flags in (0, 0x8000):
        got = lab.discover(outside, flags=flags, listen=2.5)
        assert got == [], f"pixied answered on eth1: {got}"
    # Unicast to the eth1 address, too (a socket bound to 0.0.0.0 would see it).
    msg = L.bootp(chaddr=outside.mac, opts=L.options((53, [L.DISCOVER])))
    mac1 = lab.iface_mac(lab.server_ns, "eth1")
    got = lab.send_dhcp(outside, [msg], dst_ip="10.99.0.1", dst_mac=mac1, listen=2.0)
    assert got == [], f"pixied answered a unicast on eth1: {got}"
    assert lab.probe_offer(inside) is not None
    # and the link itself works: the silence above is pixied's choice
    lab.run(outside.ns, ["ip", "addr", "add", "10.99.0.50/24", "dev", outside.iface],
            check=True)
    ping = lab.run(outside.ns, ["busybox", "ping", "-c", "1", "-W", "2", "10.99.0.1"])
    assert ping.returncode == 0, ping.stdout + ping.stderr

"""Leases survive a restart: they are in leases.db when pixied stops, and after it starts
again on the same state directory every client gets the same address back (DISCOVER and
INIT-REBOOT), while a new client does not get any of them."""
import pixied_lab as L


def test_restart_keeps_every_lease(lab, client):
    d = lab.start_pixied()
    macs = [L.random_mac() for _ in range(5)]
    leased = {}
    for m in macs:
        off, ack = lab.dora(client, mac=m)
        assert ack is not None and ack.msg_type == L.ACK, (m, off, ack)
        leased[m] = ack.yiaddr
    assert len(set(leased.values())) == len(macs)
    d.stop()

    rows = {r["ip"]: r for r in L.read_leases(f"{lab.state}/leases.db")}
    for m, ip in leased.items():
        assert ip in rows, f"lease {ip} for {m} missing from leases.db: {list(rows)}"
        assert rows[ip]["mac"] == m

    lab.start_pixied()
    for m, ip in leased.items():
        offers = [f.dhcp for f in lab.discover(client, mac=m, listen=2.0)
                  if f.dhcp.msg_type == L.OFFER]
        assert offers and offers[0].yiaddr == ip, (m, ip, offers)
        # INIT-REBOOT (RFC 2131 §4.3.2): REQUEST with option 50, no server id
        msg = L.bootp(chaddr=m, opts=L.options((53, [L.REQUEST]), (50, [ip]),
                                               (55, [1, 3, 6])))
        acks = [f.dhcp for f in lab.send_dhcp(client, [msg], listen=2.0, until=1, src_mac=m)]
        assert acks and acks[0].msg_type == L.ACK and acks[0].yiaddr == ip, (m, acks)

    newcomer = lab.probe_offer(client)
    assert newcomer is not None and newcomer.yiaddr not in leased.values()


def test_dhclient_reboots_into_the_same_address_after_restart(lab, client):
    d = lab.start_pixied()
    first = lab.dhclient(client)
    d.stop()
    lab.run(client.ns, ["ip", "-4", "addr", "flush", "dev", client.iface])
    lab.start_pixied()
    again = lab.dhclient(client)  # has the old lease in its lease file: INIT-REBOOT
    assert again.ip == first.ip

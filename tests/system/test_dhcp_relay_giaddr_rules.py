"""Relayed requests by raw frames: a giaddr inside a configured subnet gets that pool's
address, sent to the relay (giaddr) on port 67 with option 82 echoed; a giaddr outside
every configured subnet is dropped with one log line."""
import pixied_lab as L

RELAY_IP = "10.77.0.50"  # the fake relay: a client namespace with a LAN address
RELAYED = {"subnet relayed": {"subnet": "10.88.0.0/24", "range": "10.88.0.100 10.88.0.120",
                              "router": "10.88.0.1"}}
OPT82 = bytes([1, 4]) + b"eth7" + bytes([2, 6]) + bytes.fromhex("020000000001")


def fake_relay(lab):
    c = lab.add_client()
    lab.run(c.ns, ["ip", "addr", "add", f"{RELAY_IP}/24", "dev", c.iface], check=True)
    # Replies to 10.88/16 and 10.99/16 relays come back through the fake relay.
    for net in ("10.88.0.0/16", "10.99.0.0/16"):
        lab.run(lab.server_ns, ["ip", "route", "add", net, "via", RELAY_IP], check=True)
    return c


def relayed_discover(mac, giaddr):
    return L.bootp(chaddr=mac, hops=1, giaddr=giaddr,
                   opts=L.options((53, [L.DISCOVER]), (55, [1, 3, 6]), (82, OPT82)))


def test_giaddr_in_configured_subnet_gets_offer_sent_to_relay_with_option_82(lab):
    lab.start_pixied(RELAYED)
    c = fake_relay(lab)
    mac = L.random_mac()
    msg = relayed_discover(mac, "10.88.0.1")
    frame = lab.dhcp_frame(c, msg, src_mac=c.mac, src_ip=RELAY_IP, dst_ip=L.SERVER_IP,
                           dst_mac=lab.server_mac, sport=67, dport=67)
    got = [f for f in lab.exchange(c, [frame], listen=2.0, until=1) if f.dhcp is not None
           and f.sport == 67 and f.dhcp.op == 2]
    assert got, "no reply to the relay"
    f = got[0]
    assert f.dhcp.msg_type == L.OFFER
    assert f.dhcp.yiaddr.startswith("10.88.0.")
    # RFC 2131 §4.1: giaddr set -> to the relay agent's port 67 (BOOTP server port)
    assert f.ip_dst == "10.88.0.1" and f.dport == 67, f
    assert f.dhcp.giaddr == "10.88.0.1"
    # RFC 3046 §2.2: the server echoes the Relay Agent Information option
    assert f.dhcp.get(82) == OPT82
    assert f.dhcp.ips(3) == ["10.88.0.1"]


def test_giaddr_outside_every_subnet_is_dropped_with_one_log_line(lab):
    d = lab.start_pixied(RELAYED, verbose=False)
    c = fake_relay(lab)
    msg = relayed_discover(L.random_mac(), "10.99.9.1")
    L.check_dropped(lab, d, c, [msg], src_mac=c.mac, src_ip=RELAY_IP, dst_ip=L.SERVER_IP,
                    dst_mac=lab.server_mac, sport=67, dport=67)

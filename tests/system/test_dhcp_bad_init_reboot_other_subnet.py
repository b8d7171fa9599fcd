"""INIT-REBOOT for an address on another subnet gets a broadcast NAK (RFC 2131 §4.3.2:
"the client is on the wrong network"), with one log line; the daemon keeps serving."""
import pixied_lab as L


def test_init_reboot_for_another_subnet_gets_broadcast_nak(lab, client):
    d = lab.start_pixied(verbose=False)
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.REQUEST]),
                                                    (50, ["192.168.5.5"]), (55, [1, 3])))
    replies, lines = L.check_dropped(lab, d, client, [msg], allow=(L.NAK,))
    assert replies, "no NAK"
    nak = replies[0]
    assert nak.dhcp.msg_type == L.NAK, nak
    assert nak.dhcp.yiaddr == "0.0.0.0"
    L.check_reply_destination(nak, msg)  # giaddr 0: broadcast

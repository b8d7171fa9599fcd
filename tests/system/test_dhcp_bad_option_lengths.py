"""Bad input: options 50 (requested IP), 54 (server id) and 51 (lease time) must be 4
bytes; a REQUEST with one of them 0, 1, 3 or 5 bytes long gets no ACK (dropped, or a
NAK), one log line, and the daemon keeps serving. The 4-byte row is the control: the same
REQUEST is ACKed."""
import socket

import pytest

import pixied_lab as L


def selecting_request(lab, client, mac, bad_code, bad_len):
    """DISCOVER for an OFFER, then a SELECTING REQUEST with option bad_code resized."""
    offers = [f.dhcp for f in lab.discover(client, mac=mac, listen=2.0)
              if f.dhcp.msg_type == L.OFFER]
    assert offers, "no OFFER to build the REQUEST on"
    o = offers[0]
    vals = {50: socket.inet_aton(o.yiaddr), 54: socket.inet_aton(L.SERVER_IP),
            51: (3600).to_bytes(4, "big")}
    v = vals[bad_code]
    vals[bad_code] = (v * 2)[:bad_len]
    return L.bootp(chaddr=mac, xid=o.xid, opts=L.options(
        (53, [L.REQUEST]), (50, vals[50]), (54, vals[54]), (51, vals[51]), (55, [1, 3, 6])))


@pytest.mark.parametrize("length", [0, 1, 3, 5])
@pytest.mark.parametrize("code", [50, 54, 51])
def test_request_with_bad_option_length_gets_no_ack(lab, client, code, length):
    d = lab.start_pixied(verbose=False)
    mac = L.random_mac()
    msg = selecting_request(lab, client, mac, code, length)
    L.check_dropped(lab, d, client, [msg], src_mac=mac, allow=(L.NAK,))


@pytest.mark.parametrize("code", [50, 54, 51])
def test_request_with_4_byte_option_is_acked(lab, client, code):
    lab.start_pixied(verbose=False)
    mac = L.random_mac()
    msg = selecting_request(lab, client, mac, code, 4)
    got = [f.dhcp for f in lab.send_dhcp(client, [msg], src_mac=mac, listen=2.0, until=1)]
    assert got and got[0].msg_type == L.ACK, got

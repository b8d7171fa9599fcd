"""Bad input: hardware address length 0, 17 and 255 (chaddr holds 16 bytes at most, and
Ethernet needs 6) is dropped with one log line; hlen 6 is the control row."""
import pytest

import pixied_lab as L


@pytest.mark.parametrize("hlen", [0, 17, 255])
def test_bad_hlen_is_dropped(lab, client, hlen):
    d = lab.start_pixied(verbose=False)
    msg = L.bootp(chaddr=client.mac, hlen=hlen, opts=L.options((53, [L.DISCOVER])))
    L.check_dropped(lab, d, client, [msg])


def test_hlen_6_is_answered(lab, client):
    lab.start_pixied(verbose=False)
    got = lab.discover(client)
    assert got and got[0].dhcp.msg_type == L.OFFER

"""Bad input: datagrams of 0, 1, 235, 239 and 240 bytes to port 67 are dropped with one
(rate-limited) log line and the daemon keeps serving. 236 is the BOOTP header, 240 adds the
magic cookie with no options at all (not even END or a message type)."""
import pytest

import pixied_lab as L


@pytest.mark.parametrize("size", [0, 1, 235, 239, 240])
def test_short_datagram_is_dropped_with_one_log_line(lab, client, size):
    d = lab.start_pixied(verbose=False)
    full = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER])), pad_to=0)
    L.check_dropped(lab, d, client, [full[:size]])

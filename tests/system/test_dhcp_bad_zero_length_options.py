"""Bad input: zero-length client identifier (61, minimum 2 bytes, RFC 2132 §9.14),
hostname (12, minimum 1) and vendor class (60, minimum 1) are dropped with one log line;
the daemon keeps serving."""
import pytest

import pixied_lab as L


@pytest.mark.parametrize("code", [61, 12, 60])
def test_zero_length_option_is_dropped(lab, client, code):
    d = lab.start_pixied(verbose=False)
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER]), (code, b""),
                                                    (55, [1, 3, 6])))
    L.check_dropped(lab, d, client, [msg])

"""Bad input: an option whose length runs past the end of the datagram (and one whose
length byte itself is missing) is dropped with one log line; the daemon keeps serving."""
import pytest

import pixied_lab as L

CASES = {
    # 53 DISCOVER, then hostname claiming 200 bytes with 5 left
    "length_past_end": L.options((53, [L.DISCOVER]))[:-1] + bytes([12, 200]) + b"abcde",
    # 53 DISCOVER, then a code byte with no length byte
    "no_length_byte": L.options((53, [L.DISCOVER]))[:-1] + bytes([12]),
    # the message type itself truncated
    "type_past_end": bytes([53, 1]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_option_running_past_the_end_is_dropped(lab, client, case):
    d = lab.start_pixied(verbose=False)
    msg = L.bootp(chaddr=client.mac, opts=CASES[case], pad_to=0)
    L.check_dropped(lab, d, client, [msg])

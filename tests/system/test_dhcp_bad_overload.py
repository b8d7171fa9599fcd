"""Option 52 (overload): options continued in the `file` field are read when that field
ends with END (RFC 2132 §9.3: they MUST be terminated by END) - the positive row - and a
`file` field full of options with no END is dropped with one log line."""
import pixied_lab as L


def overloaded(mac, with_end):
    if with_end:
        file_opts = L.opt(55, [1, 3, 6]) + L.opt(12, "ovl-host") + b"\xff"
    else:
        # fills all 128 bytes: no room for END
        file_opts = L.opt(55, [1, 3, 6]) + L.opt(12, "x" * (128 - 5 - 2))
        assert len(file_opts) == 128
    return L.bootp(chaddr=mac, file=file_opts,
                   opts=L.options((53, [L.DISCOVER]), (52, [1])))


def test_overload_with_end_in_file_field_is_parsed_and_answered(lab, client):
    lab.start_pixied(verbose=False)
    got = [f.dhcp for f in lab.send_dhcp(client, [overloaded(client.mac, True)],
                                         listen=2.0, until=1)]
    assert got and got[0].msg_type == L.OFFER, got
    # the PRL came from the file field: router and DNS are in the reply
    assert got[0].ips(3) == [L.SERVER_IP] and got[0].ips(6) == [L.SERVER_IP]


def test_overload_without_end_is_dropped_with_one_log_line(lab, client):
    d = lab.start_pixied(verbose=False)
    L.check_dropped(lab, d, client, [overloaded(client.mac, False)])

"""Reply options: the client's option 55 order is honoured, the standard options (1, 3,
6, 12, 15, 28, 42, 51, 54, 58, 59) are there when asked for, replies are padded to 300
bytes and fit the client's option 57 even when the configured options would not."""
import pixied_lab as L

PRL_FORWARD = [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59]
LONG63 = ("a" * 31) + "." + ("b" * 31)


def big(mac):
    """As many reply bytes as the config allows: 4 routers, DNS and NTP servers, a
    63-byte domain and hostname; an iPXE client adds its script URL (67 and `file`)."""
    return {"dhcp": {"router": "10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4",
                     "dns": "10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4",
                     "ntp": "10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4",
                     "domain": LONG63},
            "host big": {"mac": mac, "ip": "10.77.0.45", "hostname": LONG63}}


IPXE = [(60, L.PXE_BIOS_VCLASS), (93, b"\x00\x00"), (77, b"iPXE"), (97, bytes(17))]


def offer(lab, client, prl, extra=()):
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER]), (55, prl), *extra))
    got = lab.send_dhcp(client, [msg], listen=2.0, until=1)
    assert got, "no OFFER"
    return got[0], msg


def test_standard_options_are_sent_in_the_clients_order(lab, client):
    lab.start_pixied({"dhcp": {"ntp": L.SERVER_IP},
                      "host h": {"mac": client.mac, "ip": "10.77.0.44", "hostname": "h-44"}})
    f, msg = offer(lab, client, PRL_FORWARD)
    o = f.dhcp
    for code in (1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59):
        assert code in o.options, f"option {code} missing: {o.order}"
    assert o.ips(1) == ["255.255.255.0"] and o.ips(28) == ["10.77.0.255"]
    assert o.text(12) == "h-44" and o.text(15) == "lab.test"
    L.check_reply_shape(f, msg)
    f2, msg2 = offer(lab, client, list(reversed(PRL_FORWARD)))
    L.check_reply_shape(f2, msg2)


def test_reply_fits_option_57_of_576(lab, client):
    lab.start_pixied(big(client.mac))
    prl = [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 66, 67, 175]
    f, msg = offer(lab, client, prl, extra=[(57, (576).to_bytes(2, "big"))] + IPXE)
    assert f.dhcp.length <= 576 - 28, f"{f.dhcp.length} bytes"
    assert f.dhcp.msg_type == L.OFFER and f.dhcp.get(54)
    L.check_reply_shape(f, msg)


def test_reply_without_option_57_fits_576(lab, client):
    lab.start_pixied(big(client.mac))
    f, msg = offer(lab, client, [1, 3, 6, 12, 15, 28, 42, 66, 67, 175], extra=IPXE)
    assert f.dhcp.length <= 576 - 28
    assert f.dhcp.length >= 300

"""PXE decisions by crafted DISCOVERs, one row per client kind: the loader per
architecture from [loaders] (Debian iPXE defaults), iPXE (bare and RFC 3004 user class)
gets the script URL, UEFI HTTP Boot gets an http:// URL with HTTPClient echoed, and an
architecture without a loader still gets an address but no boot file."""
import pytest

import pixied_lab as L

URL = f"http://{L.SERVER_IP}/boot.ipxe"
UUID = bytes([0]) + bytes(range(16))


def pxe(arch, vclass="PXEClient", user_class=None, ndi=(1, 3, 0)):
    o = [(60, f"{vclass}:Arch:{arch:05d}:UNDI:003000"), (93, arch.to_bytes(2, "big")),
         (94, bytes(ndi)), (97, UUID)]
    if user_class is not None:
        o.append((77, user_class))
    return o


ROWS = {
    # name: (options, expected boot file or None, expected option 60 or None)
    "bios_pxe_gets_undionly": (pxe(0), "undionly.kpxe", "PXEClient"),
    "uefi_x64_arch7_gets_ipxe_efi": (pxe(7), "ipxe.efi", "PXEClient"),
    "uefi_x64_arch9_gets_ipxe_efi": (pxe(9), "ipxe.efi", "PXEClient"),
    "ipxe_bare_user_class_gets_script_url": (pxe(0, user_class=b"iPXE"), URL, "PXEClient"),
    "ipxe_rfc3004_user_class_gets_script_url": (pxe(7, user_class=b"\x04iPXE"), URL,
                                                "PXEClient"),
    "uefi_http_boot_gets_http_url_and_httpclient": (pxe(16, vclass="HTTPClient"),
                                                    f"http://{L.SERVER_IP}/", "HTTPClient"),
    "arm64_without_loader_gets_no_boot_file": (pxe(11), None, None),
}


@pytest.mark.parametrize("row", sorted(ROWS))
def test_pxe_client_gets_the_right_boot_file(lab, client, row):
    opts, want_file, want_60 = ROWS[row]
    lab.start_pixied()
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER]),
                                                    (55, [1, 3, 43, 60, 66, 67, 97, 175]),
                                                    *opts))
    got = lab.send_dhcp(client, [msg], listen=2.0, until=1)
    assert got, "no OFFER"
    o = got[0].dhcp
    assert o.msg_type == L.OFFER and o.yiaddr.startswith("10.77.0."), o
    L.check_reply_shape(got[0], msg)
    if want_file is None:
        assert not o.boot_file(), f"boot file for an arch without a loader: {o}"
        return
    if want_file.startswith("http://"):
        assert o.boot_file().startswith(want_file), o
    else:
        assert o.boot_file() == want_file, o
        assert o.siaddr == L.SERVER_IP
    if want_60:
        assert o.text(60) == want_60, o
    assert o.get(97) == UUID  # echoed


def test_uefi_http_boot_url_names_the_x64_loader(lab, client):
    lab.start_pixied()
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER]), (55, [1, 3, 60, 67]),
                                                    *pxe(16, vclass="HTTPClient")))
    o = lab.send_dhcp(client, [msg], listen=2.0, until=1)[0].dhcp
    assert o.boot_file().endswith("/ipxe.efi"), o


def test_arm64_with_configured_loader_gets_it(lab, client):
    lab.start_pixied({"loaders": {"arm64": "/usr/lib/ipxe/snponly.efi"}})
    msg = L.bootp(chaddr=client.mac, opts=L.options((53, [L.DISCOVER]), (55, [1, 3, 60, 67]),
                                                    *pxe(11)))
    o = lab.send_dhcp(client, [msg], listen=2.0, until=1)[0].dhcp
    assert o.boot_file() == "snponly.efi", o

"""Renewing (unicast REQUEST with ciaddr, RFC 2131 §4.3.2 RENEWING) keeps the address;
RELEASE frees it: with a one-address pool, a second client gets it only after the first
released it."""
import signal
import time

import pixied_lab as L

ONE = {"dhcp": {"range": "10.77.0.100 10.77.0.100"}}


def lease_state_is_bound(row):
    st = row.get("state")
    return st in (1, "1", "bound", "BOUND")


def test_dhclient_renews_at_t1_and_keeps_its_address(lab, client):
    lab.start_pixied({"dhcp": {"lease-time": "6s"}})
    r = lab.dhclient(client, keep=True)
    assert r.lease_time == 6
    ev = r.wait_event(("RENEW",), timeout=12)
    assert ev["new_ip_address"] == r.ip
    assert int(ev["new_dhcp_lease_time"]) == 6
    r.stop()


def test_udhcpc_renew_on_request_keeps_its_address(lab, client):
    d = lab.start_pixied()
    r = lab.udhcpc(client, keep=True)
    n = len(r.events())
    r.signal(signal.SIGUSR1)  # busybox udhcpc: renew now
    ev = r.wait_event(("renew", "bound"), timeout=10, after=n)
    assert ev["ip"] == r.ip
    assert d.alive()
    r.stop()


def test_udhcpc_release_frees_the_address_for_another_client(lab):
    d = lab.start_pixied(ONE)
    a = lab.add_client()
    b = lab.add_client()
    r = lab.udhcpc(a, keep=True)
    assert r.ip == "10.77.0.100"
    off, _ = lab.dora(b)
    assert off is None, f"pool of one address gave {off} while it is leased"

    r.signal(signal.SIGUSR2)  # busybox udhcpc: release
    r.wait_event(("deconfig",), timeout=10)
    time.sleep(0.3)
    rows = [x for x in d.leases() if x["ip"] == "10.77.0.100"]
    assert not rows or not lease_state_is_bound(rows[0]), rows

    off, ack = lab.dora(b)
    assert off is not None and off.yiaddr == "10.77.0.100"
    assert ack is not None and ack.msg_type == L.ACK
    r.stop()


def test_dhclient_release_frees_the_address_for_another_client(lab):
    lab.start_pixied(ONE)
    a = lab.add_client()
    b = lab.add_client()
    r = lab.dhclient(a)
    assert r.ip == "10.77.0.100"
    rel = lab.dhclient_release(a)
    assert rel.returncode == 0, rel.stdout + rel.stderr
    time.sleep(0.3)
    off, ack = lab.dora(b)
    assert off is not None and off.yiaddr == "10.77.0.100"
    assert ack is not None and ack.msg_type == L.ACK

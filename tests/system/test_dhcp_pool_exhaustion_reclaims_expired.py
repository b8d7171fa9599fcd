"""Pool exhaustion: with every address leased, a new client gets nothing; once those
leases expired (lease-time 4s) the pool is not dry any more: expired leases are reclaimed
and the new client gets one of them."""
import time

import pixied_lab as L

POOL = ["10.77.0.100", "10.77.0.101"]


def test_expired_leases_are_reclaimed_when_pool_runs_dry(lab, client):
    d = lab.start_pixied({"dhcp": {"range": f"{POOL[0]} {POOL[1]}", "lease-time": "4s",
                                   "offer-time": "2s"}})
    owners = {}
    for _ in POOL:
        mac = L.random_mac()
        off, ack = lab.dora(client, mac=mac)
        assert ack is not None and ack.msg_type == L.ACK
        owners[ack.yiaddr] = mac
    assert sorted(owners) == POOL

    late = L.random_mac()
    off, _ = lab.dora(client, mac=late, listen=1.0)
    assert off is None, f"pool is dry but {off} was offered"

    time.sleep(4.5)  # both leases expired
    off, ack = lab.dora(client, mac=late)
    assert off is not None and off.yiaddr in POOL, off
    assert ack is not None and ack.msg_type == L.ACK
    rows = [r for r in d.leases() if r["ip"] == ack.yiaddr]
    assert rows and rows[0]["mac"] == late, rows
    assert d.alive()

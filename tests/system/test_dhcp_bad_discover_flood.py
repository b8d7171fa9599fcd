"""Bad input: a flood of DISCOVERs from 10,000 random MACs. Memory stays bounded, the
daemon keeps running and logs a bounded amount, and a reserved host still gets its
address from a real client afterwards."""
import random

import pixied_lab as L

N = 10_000
RSS_LIMIT_KB = 64 * 1024


def test_discover_flood_from_random_macs_keeps_memory_bounded_and_serves_reservation(lab):
    flooder = lab.add_client()
    station = lab.add_client()
    d = lab.start_pixied({"host station": {"mac": station.mac, "ip": "10.77.0.42"}},
                         verbose=False)
    rss0 = d.rss_kb()
    rng = random.Random(4242)
    frames = []
    for _ in range(N):
        mac = L.random_mac(rng)
        msg = L.bootp(chaddr=mac, xid=rng.getrandbits(32),
                      opts=L.options((53, [L.DISCOVER]), (55, [1, 3, 6])))
        frames.append(L.udp_frame(msg, src_mac=mac))
    off = len(d.log_bytes())
    replies = lab.exchange(flooder, frames, listen=2.0, count_only=True)
    assert d.alive(), d.log()
    rss = d.rss_kb()
    print(f"RSS {rss0} kB before, {rss} kB after {N} DISCOVERs; {replies} replies")
    assert rss < RSS_LIMIT_KB, f"RSS {rss} kB after the flood (was {rss0} kB)"
    log_lines = len(L.new_log_lines(d, off))
    assert log_lines < N // 10, f"{log_lines} log lines for {N} DISCOVERs: not rate limited"
    assert replies > 0, "no OFFER at all during the flood"

    r = lab.dhclient(station)
    assert r.ip == "10.77.0.42"
    assert d.alive()
    assert d.rss_kb() < RSS_LIMIT_KB

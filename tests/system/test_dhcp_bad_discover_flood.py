"""Bad input: a flood of DISCOVERs from 10,000 random MACs, then 10,000 more. Memory stays
bounded (every MAC also becomes a client record: clients/ keeps at most max_clients), the
daemon keeps running and logs a bounded amount, and a reserved host still gets its address
from a real client afterwards."""
import os
import random

import pixied_lab as L

N = 10_000
RSS_LIMIT_KB = 64 * 1024
# Under AddressSanitizer freed blocks wait in a quarantine (256 MB by default) and every
# block has redzones: the test caps the quarantine and allows for the redzones.
ASAN_QUARANTINE_MB = 8
ASAN_RSS_LIMIT_KB = 128 * 1024
SECOND_FLOOD_GROWTH_KB = 8 * 1024


def is_sanitized(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def flood(lab, flooder, rng):
    frames = []
    for _ in range(N):
        mac = L.random_mac(rng)
        msg = L.bootp(chaddr=mac, xid=rng.getrandbits(32),
                      opts=L.options((53, [L.DISCOVER]), (55, [1, 3, 6])))
        frames.append(L.udp_frame(msg, src_mac=mac))
    return lab.exchange(flooder, frames, listen=2.0, count_only=True)


def test_discover_flood_from_random_macs_keeps_memory_bounded_and_serves_reservation(
        lab, monkeypatch):
    asan = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (asan + ":" if asan else "")
                       + f"quarantine_size_mb={ASAN_QUARANTINE_MB}")
    flooder = lab.add_client()
    station = lab.add_client()
    d = lab.start_pixied({"host station": {"mac": station.mac, "ip": "10.77.0.42"}},
                         verbose=False)
    limit = ASAN_RSS_LIMIT_KB if is_sanitized(d.pid) else RSS_LIMIT_KB
    rss0 = d.rss_kb()
    rng = random.Random(4242)
    off = len(d.log_bytes())
    replies = flood(lab, flooder, rng)
    assert d.alive(), d.log()
    rss = d.rss_kb()
    print(f"RSS {rss0} kB before, {rss} kB after {N} DISCOVERs; {replies} replies")
    assert rss < limit, f"RSS {rss} kB after the flood (was {rss0} kB)"
    log_lines = len(L.new_log_lines(d, off))
    assert log_lines < N // 10, f"{log_lines} log lines for {N} DISCOVERs: not rate limited"
    assert replies > 0, "no OFFER at all during the flood"

    flood(lab, flooder, rng)  # as many new MACs again: nothing more may be kept
    assert d.alive(), d.log()
    rss2 = d.rss_kb()
    print(f"RSS {rss2} kB after {N} more")
    assert rss2 - rss < SECOND_FLOOD_GROWTH_KB, f"RSS grew {rss} -> {rss2} kB on a second flood"

    r = lab.dhclient(station)
    assert r.ip == "10.77.0.42"
    assert d.alive()
    assert d.rss_kb() < limit

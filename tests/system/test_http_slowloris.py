"""Slow clients cannot starve others: 1000 connections from 20 client addresses (50 each,
under the default max-per-client of 64) each send one byte of a request every 10 s. While
they trickle, a normal GET from another address completes in under a second, every time.
With [http] timeout = 12s (each byte arrives before the idle timeout) the minimum rate
(default 1024 B/s) closes every slow connection within timeout + a few seconds, and the
daemon logs it (rate limited) and keeps serving. Bounded: about 30 s."""
import resource
import selectors
import socket
import time

from test_http_helpers import (SERVER, add_http_client, connect, get, ns_tcp, put_file, raw,
                               start_http)

N = 1000
ADDRS = [f"10.77.0.{i}" for i in range(100, 120)]
PERIOD = 10.0
TIMEOUT_S = 12
PAYLOAD = b"x" * 100000


def test_thousand_slow_connections_do_not_starve_a_normal_get(lab):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < N + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    put_file(lab, "ok.bin", PAYLOAD)
    d = start_http(lab, verbose=False, timeout=f"{TIMEOUT_S}s")
    slow = add_http_client(lab, ADDRS[0], more=tuple(ADDRS[1:]))
    normal = add_http_client(lab, "10.77.0.50")

    msg = get("/ok.bin", close=False)
    socks = []
    try:
        for i in range(N):
            s = connect(slow, ADDRS[i % len(ADDRS)], timeout=5)
            s.setblocking(False)
            socks.append(s)
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        pos = [0] * N
        closed_at = {}
        t0 = time.monotonic()
        next_byte = t0
        times = []
        while time.monotonic() - t0 < TIMEOUT_S + 16 and len(closed_at) < N:
            now = time.monotonic()
            if now >= next_byte and now - t0 < TIMEOUT_S + 10:
                next_byte += PERIOD
                for i, s in enumerate(socks):
                    if i in closed_at:
                        continue
                    try:
                        s.send(msg[pos[i]:pos[i] + 1])
                        pos[i] = min(pos[i] + 1, len(msg) - 3)  # never complete it
                    except OSError:
                        closed_at[i] = now - t0
            if len(times) < 6 and now - t0 >= len(times) * 2:
                # a normal client, meanwhile: the whole GET in under a second
                g0 = time.monotonic()
                r, _ = raw(normal, get("/ok.bin"), timeout=5)
                times.append(time.monotonic() - g0)
                assert r is not None and r.status == 200 and r.body == PAYLOAD
            for key, _ in sel.select(timeout=0.2):
                i = socks.index(key.fileobj)
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_at.setdefault(i, time.monotonic() - t0)
                    sel.unregister(key.fileobj)
        assert max(times) < 1.0, f"normal GETs took {times}"
        assert len(closed_at) == N, f"{N - len(closed_at)} slow connections still open"
        # none before the minimum-rate window (timeout) ended, all soon after it
        assert min(closed_at.values()) >= TIMEOUT_S - 1, sorted(closed_at.values())[:5]
        assert max(closed_at.values()) <= TIMEOUT_S + 6, sorted(closed_at.values())[-5:]
    finally:
        for s in socks:
            s.close()
    # log lines of a loop turn are written at its end: wait for the line, not just the close
    d.wait_log("closing slow connection", timeout=5)
    log = d.log()
    assert log.count("closing slow connection") < 100, "not rate limited"
    assert d.alive()
    r, _ = raw(normal, get("/ok.bin"))
    assert r.status == 200


def test_trickling_reader_of_a_big_file_is_reset(lab):
    """A client reading a 64 MiB download at 8 KiB/s: once the socket's send buffer is full
    the transfer makes no progress MHD can see, and the idle timeout (or, for a reader just
    fast enough to look busy, the minimum rate) ends it. The close is abortive (RST), so the
    kernel does not keep feeding the client what was queued, and the daemon keeps serving."""
    put_file(lab, "big.bin", b"\0" * (64 << 20))
    d = start_http(lab, verbose=True, timeout="3s", min_rate=65536)
    c = add_http_client(lab)
    s = ns_tcp(c.ns, c.addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    s.settimeout(5)
    s.connect((SERVER, 80))
    try:
        s.sendall(get("/big.bin", close=False))
        t0 = time.monotonic()
        got = 0
        ended = None
        while time.monotonic() - t0 < 20:
            try:
                b = s.recv(4096)
            except (ConnectionResetError, TimeoutError) as e:
                ended = type(e).__name__
                break
            if not b:
                ended = "eof"
                break
            got += len(b)
            time.sleep(0.5)
        took = time.monotonic() - t0
        assert ended == "ConnectionResetError", f"{ended} after {took:.1f}s, {got} bytes"
        assert 2.5 <= took < 10, took
        assert got < (1 << 20)
    finally:
        s.close()
    d.wait_log("closing slow connection|result=timeout", timeout=5)
    r, _ = raw(c, get("/big.bin", "Range: bytes=0-0"))
    assert r.status == 206

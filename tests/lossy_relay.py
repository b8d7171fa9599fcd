#!/usr/bin/python3
"""
lossy_relay — a test-only UDP relay for TFTP that drops, duplicates and reorders packets,
driven by a seed so a failing run can be repeated exactly. There is no netem on the test
machines; this stands in for it.

Owns: relaying one TFTP conversation per client, mirroring TIDs (every server transfer port
gets its own relay port towards the client, so the client sees a new TID as it should),
the loss/duplication/reordering decisions, and counting what each side sent. Does not own
any assertion: tests read the counters from --stats.

    lossy_relay.py --listen 10.77.0.9:69 --server 10.77.0.1:69 --seed 7 \
        --drop-s2c 0.05 --drop-c2s 0.05 [--dup-c2s 1.0] [--dup-s2c P] [--reorder P] \
        [--drop-blocks 123,124] [--spare-setup] [--stats FILE]

c2s = client to server, s2c = server to client. --reorder P holds a packet back until the
next one in the same direction has gone (or 20 ms passed). --drop-blocks drops the first
DATA packet carrying each listed block number (e.g. the last window of a file).
Stats (JSON, written on SIGTERM/SIGINT and when --stats-every packets pass): packets seen
per direction and TFTP opcode, and how many were dropped, duplicated and reordered.
"""

import argparse
import json
import os
import random
import selectors
import signal
import socket
import sys
import time

OPNAMES = {1: "rrq", 2: "wrq", 3: "data", 4: "ack", 5: "error", 6: "oack"}


def endpoint(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


class Relay:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.sel = selectors.DefaultSelector()
        self.server = endpoint(a.server)
        lhost, lport = endpoint(a.listen)
        self.lhost = lhost
        self.listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listen.bind((lhost, lport))
        self.listen.setblocking(False)
        self.sel.register(self.listen, selectors.EVENT_READ, ("listen", None, None))
        self.sessions = {}  # client endpoint -> {"up": sock, "down": {server ep: sock}}
        self.held = {"c2s": [], "s2c": []}  # (deadline, sock, data, dst)
        self.drop_blocks = set(int(b) for b in a.drop_blocks.split(",") if b) \
            if a.drop_blocks else set()
        self.stats = {"c2s": {}, "s2c": {}, "dropped": {"c2s": 0, "s2c": 0},
                      "duplicated": {"c2s": 0, "s2c": 0}, "reordered": {"c2s": 0, "s2c": 0},
                      "sessions": 0}
        self.npkts = 0

    def _sock(self, host):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        return s

    def _count(self, d, data):
        op = OPNAMES.get(int.from_bytes(data[:2], "big"), "other") if len(data) >= 2 else "short"
        self.stats[d][op] = self.stats[d].get(op, 0) + 1
        return op

    def _send(self, sock, data, dst):
        try:
            sock.sendto(data, dst)
        except OSError:
            pass

    def _release(self, d, force=False):
        now = time.monotonic()
        keep = []
        for item in self.held[d]:
            if force or item[0] <= now:
                self._send(*item[1:])
            else:
                keep.append(item)
        self.held[d] = keep

    def forward(self, d, sock, data, dst):
        a = self.a
        op = self._count(d, data)
        self.npkts += 1
        if a.stats and a.stats_every and self.npkts % a.stats_every == 0:
            self.write_stats()
        if a.spare_setup and (op in ("rrq", "wrq", "oack") or data[:4] == b"\0\4\0\0"):
            self._send(sock, data, dst)
            self._release(d, force=True)
            return
        if d == "s2c" and op == "data" and len(data) >= 4:
            blk = int.from_bytes(data[2:4], "big")
            if blk in self.drop_blocks:
                self.drop_blocks.discard(blk)
                self.stats["dropped"][d] += 1
                return
        drop = a.drop_c2s if d == "c2s" else a.drop_s2c
        dup = a.dup_c2s if d == "c2s" else a.dup_s2c
        if self.rng.random() < drop:
            self.stats["dropped"][d] += 1
            return
        copies = 1
        if dup and self.rng.random() < dup:
            copies = 2
            self.stats["duplicated"][d] += 1
        if a.reorder and self.rng.random() < a.reorder:
            self.stats["reordered"][d] += 1
            for _ in range(copies):
                self.held[d].append((time.monotonic() + 0.02, sock, data, dst))
            return
        for _ in range(copies):
            self._send(sock, data, dst)
        self._release(d, force=True)  # what was held goes after this one

    def on_listen(self):
        while True:
            try:
                data, cep = self.listen.recvfrom(65536)
            except BlockingIOError:
                return
            s = self.sessions.get(cep)
            if s is None:
                up = self._sock("")
                s = {"up": up, "down": {}}
                self.sessions[cep] = s
                self.stats["sessions"] += 1
                self.sel.register(up, selectors.EVENT_READ, ("up", cep, None))
            self.forward("c2s", s["up"], data, self.server)

    def on_up(self, cep):
        s = self.sessions[cep]
        while True:
            try:
                data, sep = s["up"].recvfrom(65536)
            except BlockingIOError:
                return
            down = s["down"].get(sep)
            if down is None:
                down = self._sock(self.lhost)
                s["down"][sep] = down
                self.sel.register(down, selectors.EVENT_READ, ("down", cep, sep))
            self.forward("s2c", down, data, cep)

    def on_down(self, cep, sep):
        s = self.sessions[cep]
        down = s["down"][sep]
        while True:
            try:
                data, _src = down.recvfrom(65536)
            except BlockingIOError:
                return
            self.forward("c2s", s["up"], data, sep)

    def write_stats(self):
        if not self.a.stats:
            return
        tmp = self.a.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.replace(tmp, self.a.stats)

    def run(self):
        self.write_stats()
        print("relay ready", flush=True)
        while True:
            timeout = None
            if self.held["c2s"] or self.held["s2c"]:
                timeout = 0.005
            for key, _ in self.sel.select(timeout):
                kind, cep, sep = key.data
                if kind == "listen":
                    self.on_listen()
                elif kind == "up":
                    self.on_up(cep)
                else:
                    self.on_down(cep, sep)
            self._release("c2s")
            self._release("s2c")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop-c2s", type=float, default=0.0)
    ap.add_argument("--drop-s2c", type=float, default=0.0)
    ap.add_argument("--dup-c2s", type=float, default=0.0)
    ap.add_argument("--dup-s2c", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--drop-blocks", default="")
    ap.add_argument("--spare-setup", action="store_true",
                    help="never touch RRQ/WRQ, OACK and ACK 0 (atftp 0.8 aborts on a "
                         "resent OACK; clients wait seconds to resend a lost RRQ)")
    ap.add_argument("--stats")
    ap.add_argument("--stats-every", type=int, default=0)
    a = ap.parse_args()
    r = Relay(a)

    def stop(signum, frame):
        r.write_stats()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    r.run()


if __name__ == "__main__":
    main()

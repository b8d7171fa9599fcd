#!/usr/bin/python3
"""
Extract fuzz seed files from the firmware captures in /work/shared/vectors/.

Owns: turning pcaps into named seed files. Does not own the fuzzers themselves.

DHCP: every UDP payload to or from port 67, 68 or 4011 becomes
  tests/fuzz/dhcp_parse/corpus/<pcapname>-<n>.bin   (n counts DHCP payloads in that pcap)
TFTP: every request to port 69 opens a session (client ip:port); packets between that client
port and the server's transfer port are TFTP too. They become
  tests/fuzz/tftp_parse/corpus/<pcapname>-<n>.bin
Runs of DATA/ACK in one session are thinned (first 3 and last of each kind) because hundreds
of 1468-byte file blocks add nothing to a parser corpus; --all-tftp keeps every packet.
Identical payloads in one pcap are written once.
A few hand-made DHCP seeds (crafted-*.bin: option 52 overload, RFC 3396 split options,
BOOTP without cookie, the 236-byte minimum) are written too, to reach paths no firmware took.

Usage: /usr/bin/python3 tests/fuzz/extract_seeds.py [--vectors DIR] [--all-tftp]
Needs scapy (python3-scapy); the PATH python3 may lack it.
"""
import argparse
import glob
import os
import sys

from scapy.all import IP, UDP, rdpcap  # noqa: E402

DHCP_PORTS = {67, 68, 4011}
TFTP_PORT = 69
HERE = os.path.dirname(os.path.abspath(__file__))


def tftp_opcode(payload):
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else -1


def extract(pcap, dhcp_dir, tftp_dir, all_tftp):
    stem = os.path.splitext(os.path.basename(pcap))[0]
    clients = set()  # (ip, port) that sent an RRQ/WRQ to port 69
    seen = set()
    kept = {}  # (session, opcode) -> list of payloads, for thinning
    order = []  # (session, opcode, payload) in capture order
    ndhcp = 0
    for pkt in rdpcap(pcap):
        if IP not in pkt or UDP not in pkt:
            continue
        ip, udp = pkt[IP], pkt[UDP]
        payload = bytes(udp.payload)
        src, dst = (ip.src, udp.sport), (ip.dst, udp.dport)
        if udp.sport in DHCP_PORTS or udp.dport in DHCP_PORTS:
            if payload in seen:
                continue
            seen.add(payload)
            with open(os.path.join(dhcp_dir, f"{stem}-{ndhcp}.bin"), "wb") as f:
                f.write(payload)
            ndhcp += 1
            continue
        if udp.dport == TFTP_PORT:
            clients.add(src)
            session = src
        elif src in clients:
            session = src
        elif dst in clients:
            session = dst
        else:
            continue
        op = tftp_opcode(payload)
        order.append((session, op, payload))
        kept.setdefault((session, op), []).append(payload)

    ntftp = 0
    for session, op, payload in order:
        run = kept[(session, op)]
        if not all_tftp and op in (3, 4) and len(run) > 4:
            # keep the first 3 and the last of a DATA (3) or ACK (4) run
            if not any(payload is p for p in run[:3] + run[-1:]):
                continue
        if payload in seen:
            continue
        seen.add(payload)
        with open(os.path.join(tftp_dir, f"{stem}-{ntftp}.bin"), "wb") as f:
            f.write(payload)
        ntftp += 1
    return ndhcp, ntftp


def dhcp_header(op=1, htype=1, hlen=6, sname=b"", file=b""):
    h = bytes([op, htype, hlen, 0]) + bytes.fromhex("12345678") + bytes(4 + 16)
    h += bytes.fromhex("525400770010") + bytes(10)
    h += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    assert len(h) == 236
    return h


COOKIE = bytes.fromhex("63825363")

CRAFTED = {
    "crafted-bootp-236": dhcp_header(),
    "crafted-bootp-300": dhcp_header() + bytes(64),
    "crafted-cookie-only": dhcp_header() + COOKIE,
    "crafted-overload-3": dhcp_header(sname=b"\x4d\x01c\x0c\x01s", file=b"\x4d\x01b\x0c\x01h\xff")
    + COOKIE + bytes([53, 1, 1, 52, 1, 3, 77, 1, ord("a"), 255]),
    "crafted-overload-1-no-end": dhcp_header(file=bytes([43, 126]) + bytes(range(126)))
    + COOKIE + bytes([53, 1, 3, 52, 1, 1]),
    "crafted-split-43": dhcp_header() + COOKIE + bytes([53, 1, 8, 43, 255]) + bytes(255)
    + bytes([60, 1, 0x78, 43, 45]) + bytes(45) + bytes([255]),
    "crafted-zero-length": dhcp_header() + COOKIE + bytes([53, 1, 1, 61, 0, 12, 0, 60, 0, 57, 2, 2, 64, 255]),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vectors", default="/work/shared/vectors")
    ap.add_argument("--all-tftp", action="store_true", help="keep every TFTP DATA/ACK")
    args = ap.parse_args()
    dhcp_dir = os.path.join(HERE, "dhcp_parse", "corpus")
    tftp_dir = os.path.join(HERE, "tftp_parse", "corpus")
    os.makedirs(dhcp_dir, exist_ok=True)
    os.makedirs(tftp_dir, exist_ok=True)
    pcaps = sorted(glob.glob(os.path.join(args.vectors, "*.pcap")))
    if not pcaps:
        sys.exit(f"no pcaps in {args.vectors}")
    for name, payload in CRAFTED.items():
        with open(os.path.join(dhcp_dir, name + ".bin"), "wb") as f:
            f.write(payload)
    for pcap in pcaps:
        nd, nt = extract(pcap, dhcp_dir, tftp_dir, args.all_tftp)
        print(f"{os.path.basename(pcap)}: {nd} DHCP, {nt} TFTP seeds")


if __name__ == "__main__":
    main()

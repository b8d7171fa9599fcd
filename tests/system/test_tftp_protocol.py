"""TFTP protocol behaviour of pixied seen from the wire: the UEFI tsize probe (ERROR 8 after
the OACK frees the transfer at once), a retransmitted RRQ is not a second transfer, option
negotiation and the MTU clamp, netascii, loaders under their stable names, write requests
refused, limits answered with ERROR, idle transfers freed after the retry budget,
single-port mode, IPv6, and a reload that changes the limits."""
import os
import socket
import time

import pytest

import pixied_lab as L
from test_tftp_helpers import (DATA, ERROR, OACK, Session, TftpError, ack, add_tftp_client,
                               error, fetch, kv, put_file, rrq, sha256_file, start_tftp,
                               tftp_log_lines, tftp_overrides, wait_lines)


def test_uefi_tsize_probe_then_download(lab):
    """OVMF: RRQ tsize=0 blksize=1468 windowsize=4, OACK, ERROR 8, then the real RRQ."""
    put_file(lab, "ipxe.efi", 850528)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq("ipxe.efi", "octet", [("tsize", 0), ("blksize", 1468), ("windowsize", 4)]))
    op, f, _ = s.recv()
    assert op == OACK
    assert f == {"blksize": "1468", "tsize": "850528", "windowsize": "4"}
    t0 = time.monotonic()
    s.send(error(8, "User aborted the transfer"))
    end = kv(wait_lines(d, "end")[0])
    assert end["result"] == "option-abort"
    assert time.monotonic() - t0 < 1.0, "ERROR 8 must free the transfer at once"
    assert s.recv(0.5)[0] is None, "nothing may follow ERROR 8"
    # OVMF then asks again (here from the same port, which must work too)
    s.tid = None
    data, oack = s.get("ipxe.efi", [("blksize", 1468), ("windowsize", 4)])
    s.close()
    assert oack == {"blksize": "1468", "windowsize": "4"} and len(data) == 850528


def test_retransmitted_rrq_is_not_a_second_transfer(lab):
    put_file(lab, "f", 5000)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    req = rrq("f", "octet", [("blksize", 1024)])
    s.send69(req)
    s.send69(req)
    time.sleep(0.2)
    s.send69(req)
    sources = set()
    oacks = 0
    while True:
        op, f, src = s.recv(0.4)
        if op is None:
            break
        sources.add(src)
        oacks += op == OACK
    assert len(sources) == 1, f"answers from several TIDs: {sources}"
    assert len(tftp_log_lines(d, "start")) == 1
    s.send(ack(0))
    op, f, src = s.recv()
    assert op == DATA and f[0] == 1
    s.close()


def test_a_late_copy_of_the_request_does_not_restart_a_live_transfer(lab):
    # a busy server can reach copies of a request queued long ago: while the client keeps
    # talking to its transfer, the same request from the same port is a stale duplicate
    put_file(lab, "f", 5000)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    req = rrq("f")
    s.send69(req)
    blocks = {}
    while len(blocks) < 3:  # 2.4 s in all, past the 2 s a retransmission counts from the start
        op, f, _ = s.recv()
        assert op == DATA
        blocks[f[0]] = f[1]
        time.sleep(0.8)
        s.send(ack(f[0]))
    s.send69(req)
    while True:
        op, f, _ = s.recv()
        assert op == DATA, (op, f)
        blocks[f[0]] = f[1]
        s.send(ack(f[0]))
        if len(f[1]) < 512:
            break
    s.close()
    assert sorted(blocks) == list(range(1, 11))
    assert sum(len(b) for b in blocks.values()) == 5000
    assert len(tftp_log_lines(d, "start")) == 1
    assert kv(wait_lines(d, "end")[0])["result"] == "ok"


def test_new_request_from_the_same_port_replaces_the_old_transfer(lab):
    put_file(lab, "a", 5000)
    put_file(lab, "b", 100)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq("a"))
    assert s.recv()[0] == DATA
    s.tid = None
    data, _ = s.get("b")  # tftp-hpa's interactive client reuses its port like this
    assert len(data) == 100
    s.close()
    ends = [kv(l) for l in wait_lines(d, "end", 2)]
    # the old transfer ends without a word: an ERROR now would reach the client's new
    # request first and a client that takes the first answer (tftp-hpa) would abort it
    assert {e["file"]: e["result"] for e in ends} == {"a": "client-gone", "b": "ok"}


@pytest.mark.parametrize("ask,limit,want", [
    ("9000", None, "1468"),    # clamped to the interface MTU (1500 - 32)
    ("1468", None, "1468"),
    ("512", None, "512"),
    ("9000", "1024", "1024"),  # [tftp] blksize-max
    ("65464", "65464", "65464"),
])
def test_blksize_is_clamped_to_mtu_or_blksize_max(lab, ask, limit, want):
    put_file(lab, "f", 200000)
    kw = {"blksize_max": limit} if limit else {}
    start_tftp(lab, **kw)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    data, oack = s.get("f", [("blksize", ask)])
    s.close()
    assert oack["blksize"] == want and len(data) == 200000


def test_windowsize_is_clamped_to_windowsize_max(lab):
    put_file(lab, "f", 100000)
    start_tftp(lab, windowsize_max=8)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    data, oack = s.get("f", [("windowsize", 16)])
    s.close()
    assert oack == {"windowsize": "8"} and len(data) == 100000


def test_tsize_and_timeout_are_answered(lab):
    put_file(lab, "f", 1234)
    start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    data, oack = s.get("f", [("TSIZE", 0), ("Timeout", 3)])
    s.close()
    assert oack == {"tsize": "1234", "timeout": "3"} and len(data) == 1234


def test_netascii_converts_newlines(lab):
    put_file(lab, "t.txt", data=b"line1\nline2\rend\n")
    start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    data, _ = s.get("t.txt", mode="NetAscii")
    s.close()
    assert data == b"line1\r\nline2\r\0end\r\n"
    rc, out, _, path = fetch(lab, c, "tftp-hpa", "t.txt")  # tftp-hpa converts back
    assert rc == 0, out


def test_loaders_are_served_under_their_stable_names(lab):
    d = lab.start_pixied(tftp_overrides(), mode="off")  # lab default [loaders]
    c = add_tftp_client(lab)
    for name, path in (("undionly.kpxe", "/usr/lib/ipxe/undionly.kpxe"),
                       ("ipxe.efi", "/usr/lib/ipxe/ipxe.efi")):
        if not os.path.exists(path):
            pytest.skip(f"{path} not installed")
        rc, out, digest, _ = fetch(lab, c, "curl", name, blksize=1468)
        assert rc == 0, out
        assert digest == sha256_file(path)
    s = Session(c.ns)
    with pytest.raises(TftpError) as e:
        s.get("/usr/lib/ipxe/undionly.kpxe")  # the path itself is read beneath the root
    s.close()
    assert e.value.code == 1


def test_write_request_is_refused_with_error_2(lab):
    start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq("upload.bin", op=2))
    op, f, _ = s.recv()
    s.close()
    assert op == ERROR and f[0] == 2
    assert not os.path.exists(os.path.join(lab.root, "upload.bin"))


def test_missing_file_is_error_1(lab):
    start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    with pytest.raises(TftpError) as e:
        s.get("no/such/file.bin")
    s.close()
    assert e.value.code == 1


def test_limits_answer_the_excess_with_an_error(lab):
    put_file(lab, "f", 100000)
    d = start_tftp(lab, max_transfers=3, max_per_client=2)
    c1 = add_tftp_client(lab, "10.77.0.50")
    c2 = add_tftp_client(lab, "10.77.0.51")
    held = []
    answers = []
    for c in (c1, c1, c1, c2, c2):
        s = Session(c.ns)
        s.send69(rrq("f"))
        op, f, _ = s.recv()
        answers.append(op if op != ERROR else f[1])
        held.append(s)
    for s in held:
        s.close()
    assert answers == [DATA, DATA, "Too many transfers from this client", DATA,
                       "Too many transfers, try again later"]


def test_idle_transfer_is_freed_after_the_retry_budget(lab):
    put_file(lab, "f", 100000)
    d = start_tftp(lab, timeout="200ms", retries=2)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq("f"))
    t0 = time.monotonic()
    resent = 0
    while True:
        op, f, _ = s.recv(1.5)
        if op is None:
            break
        assert op == DATA and f[0] == 1
        resent += 1
    s.close()
    end = kv(wait_lines(d, "end")[0])
    assert end["result"] == "timeout"
    assert resent == 3  # the first send and `retries` more
    assert time.monotonic() - t0 < 3


def test_single_port_mode_answers_from_port_69(lab):
    put_file(lab, "f", 70000)
    start_tftp(lab, single_port="yes")
    c = add_tftp_client(lab)
    s1, s2 = Session(c.ns), Session(c.ns)
    s1.send69(rrq("f"))
    s2.send69(rrq("f"))
    op1, f1, src1 = s1.recv()
    op2, f2, src2 = s2.recv()
    assert op1 == op2 == DATA
    assert src1 == src2 == (L.SERVER_IP, 69)
    # finish both, interleaved, on the same server port
    for s in (s1, s2):
        s.tid = (L.SERVER_IP, 69)
    data1, data2 = bytearray(f1[1]), bytearray(f2[1])
    done = [False, False]
    blk = [1, 1]
    while not all(done):
        for i, (s, buf) in enumerate(((s1, data1), (s2, data2))):
            if done[i]:
                continue
            s.send(ack(blk[i]))
            op, f, src = s.recv()
            assert op == DATA and src == (L.SERVER_IP, 69)
            buf += f[1]
            blk[i] = f[0]
            if len(f[1]) < 512:
                s.send(ack(blk[i]))
                done[i] = True
    assert len(data1) == len(data2) == 70000
    s1.close()
    s2.close()
    rc, out, _, _ = fetch(lab, c, "curl", "f")
    assert rc == 0, out


def test_ipv6_clients_are_served(lab):
    for ns in (lab.server_ns,):
        lab.run(ns, ["sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                     "echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6"], check=True)
        lab.run(ns, ["ip", "addr", "add", "fd77::1/64", "dev", "eth0", "nodad"], check=True)
    digest = put_file(lab, "f6", 300000)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    lab.run(c.ns, ["sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                   "echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6"], check=True)
    lab.run(c.ns, ["ip", "addr", "add", "fd77::50/64", "dev", "eth0", "nodad"], check=True)
    for kind, kw in (("curl", {"blksize": 1400}), ("tftp-hpa", {})):
        argv_server = "fd77::1"
        rc, out, got, _ = fetch(lab, c, kind, "f6", server=argv_server, **kw)
        assert rc == 0, out
        assert got == digest
    s = Session(c.ns, server="fd77::1", family=socket.AF_INET6)
    data, oack = s.get("f6", [("blksize", 9000)])
    s.close()
    assert oack["blksize"] == str(1500 - 52) and len(data) == 300000
    assert "[fd77::50]" in tftp_log_lines(d, "start")[0]


def test_reload_applies_new_limits(lab):
    put_file(lab, "f", 100000)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    _, oack = s.get("f", [("blksize", 1400)])
    assert oack["blksize"] == "1400"
    with open(d.conf_path, "a") as f:
        f.write("\n[tftp]\nblksize-max = 600\n")
    off = len(d.log_bytes())
    d.reload()
    d.wait_log(r"reloaded", start=off)
    s2 = Session(c.ns)
    _, oack = s2.get("f", [("blksize", 1400)])
    assert oack["blksize"] == "600"
    s.close()
    s2.close()

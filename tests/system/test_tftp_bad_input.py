"""Bad input to pixied's TFTP server, sent from a client namespace: each case is answered
with an ERROR or ignored, nothing outside the root is ever served, and the daemon keeps
serving (every test ends with a clean download and a live daemon; the lab checks the
sanitizer output when it stops)."""
import os
import socket
import struct

import pytest

from test_tftp_helpers import (ACK, DATA, ERROR, OACK, Session, TftpError, ack,
                               add_tftp_client, error, put_file, rrq, start_tftp)

SECRET = b"outside the root: must never be served\n"


@pytest.fixture
def srv(lab):
    """pixied serving a root with the awkward entries the path rules must refuse."""
    put_file(lab, "ok.bin", 3000)
    outside = os.path.join(lab.dir, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret"), "wb") as f:
        f.write(SECRET)
    os.chmod(outside, 0o755)
    os.chmod(os.path.join(outside, "secret"), 0o644)
    r = lab.root
    os.symlink(os.path.join(outside, "secret"), os.path.join(r, "abs-link"))
    os.symlink("../outside/secret", os.path.join(r, "rel-link"))
    os.symlink("../outside", os.path.join(r, "dir-link"))
    os.makedirs(os.path.join(r, "adir"))
    os.mkfifo(os.path.join(r, "fifo"))
    os.mknod(os.path.join(r, "null"), 0o666 | 0o020000, os.makedev(1, 3))
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    yield lab, d, c
    still_serving(d, c)


def still_serving(d, c):
    s = Session(c.ns)
    try:
        data, _ = s.get("ok.bin")
    finally:
        s.close()
    assert len(data) == 3000
    assert d.alive()


def ask(c, pkt, timeout=0.5):
    """Send pkt to port 69 from a fresh port; (opcode, fields) of the answer or (None, None)."""
    s = Session(c.ns)
    try:
        s.send69(pkt)
        op, f, _ = s.recv(timeout)
        return op, f
    finally:
        s.close()


def refused(c, pkt, codes=(0, 1, 2, 4)):
    op, f = ask(c, pkt)
    assert op in (None, ERROR), (op, f)
    if op == ERROR:
        assert f[0] in codes, f
    return f


@pytest.mark.parametrize("opcode", [0, 1, 2, 3, 4, 5, 6, 7, 0xFFFF])
def test_packets_of_0_to_3_bytes_are_refused_or_ignored(srv, opcode):
    lab, d, c = srv
    full = struct.pack("!H", opcode) + b"\x00\x01"
    ask(c, b"")  # empty datagram
    for n in range(1, 4):
        op, f = ask(c, full[:n])
        assert op in (None, ERROR), (n, op, f)
        if opcode == ERROR:
            assert op is None, "an ERROR must never be answered"


@pytest.mark.parametrize("pkt", [
    b"\0\1file-without-nul",
    b"\0\1ok.bin\0octet",
    b"\0\1ok.bin\0",
], ids=["no_nul_after_name", "no_nul_after_mode", "no_mode"])
def test_request_without_terminating_nul_is_refused(srv, pkt):
    lab, d, c = srv
    f = refused(c, pkt, codes=(4,))
    assert f is not None, "a malformed request gets ERROR 4"


def test_last_option_value_without_nul_is_ignored_and_file_served(srv):
    lab, d, c = srv
    s = Session(c.ns)
    s.send69(b"\0\1ok.bin\0octet\0blksize\0" b"1024\0tsize\0" b"12")
    op, f, _ = s.recv()
    assert op == OACK and f == {"blksize": "1024"}
    s.close()


def test_mail_and_unknown_modes_are_refused(srv):
    lab, d, c = srv
    for mode in ("mail", "binary", ""):
        assert refused(c, rrq("ok.bin", mode), codes=(4,)) is not None


@pytest.mark.parametrize("n", [255, 512, 65000])
def test_long_names_are_refused(srv, n):
    lab, d, c = srv
    f = refused(c, rrq("a" * n), codes=(1, 4))
    assert f is not None


@pytest.mark.parametrize("value", ["0", "7", "65465", "-1", "9" * 40, "abc", ""])
def test_bad_blksize_gets_the_file_at_512(srv, value):
    lab, d, c = srv
    s = Session(c.ns)
    data, oack = s.get("ok.bin", opts=[("blksize", value)])
    s.close()
    assert oack is None and len(data) == 3000


@pytest.mark.parametrize("opt", [("windowsize", "0"), ("windowsize", "65536"),
                                 ("timeout", "0"), ("timeout", "256")])
def test_out_of_range_window_and_timeout_get_defaults(srv, opt):
    lab, d, c = srv
    s = Session(c.ns)
    data, oack = s.get("ok.bin", opts=[opt])
    s.close()
    assert oack is None and len(data) == 3000


def test_same_option_twice_first_one_wins(srv):
    lab, d, c = srv
    s = Session(c.ns)
    data, oack = s.get("ok.bin", opts=[("blksize", "1024"), ("BLKSIZE", "8")])
    s.close()
    assert oack == {"blksize": "1024"} and len(data) == 3000


def test_300_options_are_survived(srv):
    lab, d, c = srv
    opts = [(f"x{i}", str(i)) for i in range(299)] + [("windowsize", "2")]
    s = Session(c.ns)
    data, oack = s.get("ok.bin", opts=opts)
    s.close()
    assert oack == {"windowsize": "2"} and len(data) == 3000


@pytest.mark.parametrize("name", [
    "../etc/passwd", "/../../etc/passwd", "a/../../x", "adir/../../outside/secret",
    "..\\..\\x", "..\\outside\\secret", "/etc/passwd", os.path.join("/", "etc", "shadow"),
    "abs-link", "rel-link", "dir-link/secret", "adir", "fifo", "null", "/", "",
])
def test_paths_outside_the_root_and_non_files_are_refused(srv, name):
    lab, d, c = srv
    s = Session(c.ns)
    try:
        s.get(name)
        pytest.fail(f"{name!r} was served")
    except TftpError as e:
        assert e.code in (1, 2), e
    finally:
        s.close()


def test_absolute_path_of_the_lab_secret_is_not_served(srv):
    lab, d, c = srv
    s = Session(c.ns)
    with pytest.raises(TftpError):
        s.get(os.path.join(lab.dir, "outside", "secret"))
    s.close()


def test_wrong_port_mid_transfer_gets_error_5_and_the_transfer_goes_on(srv):
    lab, d, c = srv
    s = Session(c.ns)
    intruder = Session(c.ns)
    try:
        s.send69(rrq("ok.bin"))
        op, f, src = s.recv()
        assert op == DATA and f[0] == 1
        got = bytearray(f[1])
        # same client address, another port, to the transfer's port
        intruder.sock.sendto(ack(1), src)
        op2, f2, src2 = intruder.recv(2.0)
        assert op2 == ERROR and f2[0] == 5, (op2, f2)
        assert src2 == src
        # an ERROR from a stranger is not answered and does not end the transfer
        intruder.sock.sendto(error(0, "go away"), src)
        assert intruder.recv(0.3)[0] is None
        s.send(ack(1))
        while True:
            op, f, _ = s.recv()
            assert op == DATA, (op, f)
            got += f[1]
            s.send(ack(f[0]))
            if len(f[1]) < 512:
                break
        assert len(got) == 3000
    finally:
        s.close()
        intruder.close()


def test_unknown_tid_on_port_69_gets_error_5(srv):
    lab, d, c = srv
    op, f = ask(c, ack(7))
    assert op == ERROR and f[0] == 5
    op, f = ask(c, struct.pack("!HH", DATA, 1) + b"x")
    assert op == ERROR and f[0] == 5
    op, f = ask(c, error(0))
    assert op is None


def test_request_flood_from_one_address_is_capped_per_client(srv):
    lab, d, c = srv
    flooder = add_tftp_client(lab, "10.77.0.51")
    socks = [Session(flooder.ns) for _ in range(50)]
    try:
        for s in socks:
            s.send69(b"\0\1")
            s.send69(os.urandom(100))
            s.send69(rrq("ok.bin"))
        started = busy = 0
        for s in socks:
            while True:
                op, f, _ = s.recv(1.0)
                if op is None:
                    break
                if op == DATA:
                    started += 1
                    break
                if op == ERROR and "Too many" in f[1]:
                    busy += 1
                    break
        assert started == 16  # [tftp] max-per-client default
        assert busy == 34
    finally:
        for s in socks:
            s.close()
    # the other client is not affected (checked by the fixture's final download)

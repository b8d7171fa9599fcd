"""Write requests: refused with ERROR 2 unless [tftp] write-dir is set; with it, real clients
(tftp-hpa, atftp, curl, busybox) upload byte-identical files into that directory only, an
existing name is never replaced (ERROR 6: the file being read stays as it is), escapes and
missing directories are refused, and a lossy link still delivers the file."""
import os
import pwd

import pytest

from test_tftp_helpers import (DATA, ERROR, Relay, Session, add_tftp_client, kv, pattern_bytes,
                               rrq, sha256_file, start_tftp, tftp_log_lines, wait_lines)


def write_dir(lab):
    d = os.path.join(lab.dir, "uploads")
    os.makedirs(os.path.join(d, "sub"))
    try:
        pw = pwd.getpwnam("pixied")
        for p in (d, os.path.join(d, "sub")):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    except KeyError:
        pass
    return d


def put_argv(kind, local, remote, server, blksize=None, windowsize=None):
    if kind == "tftp-hpa":
        return ["tftp", "-m", "binary", server, "-c", "put", local, remote]
    if kind == "atftp":
        argv = ["atftp", "-p", "-l", local, "-r", remote]
        if blksize:
            argv += ["--option", f"blksize {blksize}"]
        if windowsize:
            argv += ["--option", f"windowsize {windowsize}"]
        return argv + [server]
    if kind == "curl":
        argv = ["curl", "-s", "-S", "-T", local]
        if blksize:
            argv += ["--tftp-blksize", str(blksize)]
        return argv + [f"tftp://{server}/{remote}"]
    if kind == "busybox":
        argv = ["busybox", "tftp", "-p", "-l", local, "-r", remote]
        if blksize:
            argv += ["-b", str(blksize)]
        return argv + [server]
    raise ValueError(kind)


def local_file(client, size, name="src.bin"):
    p = os.path.join(client.dir, name)
    with open(p, "wb") as f:
        f.write(pattern_bytes(size, seed=size + 7))
    return p


@pytest.mark.parametrize("kind,blksize,window", [
    ("tftp-hpa", None, None), ("atftp", 1468, None), ("atftp", 1468, 8),
    ("curl", 1468, None), ("busybox", 1024, None)])
@pytest.mark.parametrize("size", [0, 511, 512, 300000])
def test_clients_upload_byte_identical_files(lab, kind, blksize, window, size):
    wd = write_dir(lab)
    d = start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    src = local_file(c, size)
    r = lab.run(c.ns, put_argv(kind, src, "up.bin", "10.77.0.1", blksize, window), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    dst = os.path.join(wd, "up.bin")
    assert os.path.exists(dst)
    assert sha256_file(dst) == sha256_file(src)
    assert not [n for n in os.listdir(wd) if n.startswith(".pixied-upload")]


def test_upload_is_logged_after_the_dally(lab):
    wd = write_dir(lab)
    d = start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    src = local_file(c, 1000)
    r = lab.run(c.ns, put_argv("busybox", src, "log.bin", "10.77.0.1"))
    assert r.returncode == 0, r.stderr
    start = kv(tftp_log_lines(d, "start")[-1])
    assert start["write"] == "yes" and start["file"] == "log.bin"
    # the file is in at once; the transfer answers a resent last block for 5 s + timeout
    assert sha256_file(os.path.join(wd, "log.bin")) == sha256_file(src)
    end = kv(wait_lines(d, "end", timeout=10)[-1])
    assert end["result"] == "ok" and end["write"] == "yes" and end["bytes"] == "1000"


def test_upload_into_an_existing_subdirectory(lab):
    wd = write_dir(lab)
    start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    src = local_file(c, 5000)
    r = lab.run(c.ns, put_argv("curl", src, "sub/x.bin", "10.77.0.1"))
    assert r.returncode == 0, r.stderr
    assert sha256_file(os.path.join(wd, "sub", "x.bin")) == sha256_file(src)


def test_existing_file_is_never_replaced(lab):
    wd = write_dir(lab)
    keep = os.path.join(wd, "taken.bin")
    with open(keep, "wb") as f:
        f.write(b"original")
    start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq("taken.bin", op=2))
    op, f, _ = s.recv()
    s.close()
    assert op == ERROR and f[0] == 6
    with open(keep, "rb") as f:
        assert f.read() == b"original"


def test_file_being_read_is_not_replaced_by_an_upload(lab):
    wd = write_dir(lab)
    data = pattern_bytes(100000)
    with open(os.path.join(wd, "boot.img"), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(wd, "boot.img"), 0o644)
    # the write dir is also the root here: the same file is served and targeted
    lab.run(lab.server_ns, ["true"])
    d = lab.start_pixied({"server": {"root": wd}, "tftp": {"enabled": "yes", "write-dir": wd}},
                         mode="off")
    c = add_tftp_client(lab)
    reader = Session(c.ns)
    reader.send69(rrq("boot.img"))
    assert reader.recv()[0] == DATA
    writer = Session(c.ns)
    writer.send69(rrq("boot.img", op=2))
    op, f, _ = writer.recv()
    assert op == ERROR and f[0] == 6
    writer.close()
    reader.close()
    with open(os.path.join(wd, "boot.img"), "rb") as fh:
        assert fh.read() == data


@pytest.mark.parametrize("name,code", [
    ("../escape.bin", 2), ("/../../escape.bin", 2), ("sub/../../escape.bin", 2),
    ("..\\escape.bin", 2), ("nodir/x.bin", 1), ("", 1), ("sub/", 1), (".", 2), ("..", 2)])
def test_uploads_outside_the_write_dir_are_refused(lab, name, code):
    wd = write_dir(lab)
    start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    s = Session(c.ns)
    s.send69(rrq(name, op=2))
    op, f, _ = s.recv()
    s.close()
    assert op == ERROR and f[0] == code, (op, f)
    assert not os.path.exists(os.path.join(lab.dir, "escape.bin"))
    assert os.listdir(wd) == ["sub"]


def test_upload_through_loss_is_byte_identical(lab):
    wd = write_dir(lab)
    start_tftp(lab, write_dir=wd)
    c = add_tftp_client(lab)
    # tftp-hpa repairs a lost DATA with its own 5 s timer: keep the file small
    src = local_file(c, 60000)
    relay = Relay(lab, c, seed=11, spare_setup=True, drop_c2s=0.04, drop_s2c=0.04)
    r = lab.run(c.ns, put_argv("tftp-hpa", src, "lossy.bin", c.addr), timeout=240)
    relay.stop()
    assert r.returncode == 0, r.stdout + r.stderr
    assert sha256_file(os.path.join(wd, "lossy.bin")) == sha256_file(src)

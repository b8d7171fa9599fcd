"""Real TFTP clients (tftp-hpa, atftp, curl, busybox) download byte-identical copies from
pixied: 0, 511, 512 and 513-byte files, a 64 MiB file at blksize 512 (131073 blocks: the
block number rolls over twice), and the same file at blksize 1468 (with windowsize 16 for
atftp, the only client here that speaks RFC 7440)."""
import pytest

from test_tftp_helpers import add_tftp_client, fetch, put_file, start_tftp, wait_lines, kv

CLIENTS = ["tftp-hpa", "atftp", "curl", "busybox"]
SMALL = [0, 511, 512, 513]
BIG = 64 << 20


@pytest.mark.parametrize("kind", CLIENTS)
def test_small_files_are_byte_identical(lab, kind):
    sums = {n: put_file(lab, f"f{n}", n) for n in SMALL}
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    for n in SMALL:
        rc, out, digest, _ = fetch(lab, c, kind, f"f{n}")
        assert rc == 0, out
        assert digest == sums[n], f"{kind}: {n}-byte file differs"
    # the client may exit before pixied has read its final ACK: wait for the log line
    ends = [kv(l) for l in wait_lines(d, "end", len(SMALL))]
    assert [e["result"] for e in ends] == ["ok"] * len(SMALL)


@pytest.mark.parametrize("kind", CLIENTS)
def test_64mib_at_blksize_512_rolls_over_twice(lab, kind):
    digest = put_file(lab, "big.img", BIG)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    kw = {} if kind == "tftp-hpa" else {"blksize": 512}
    rc, out, got, _ = fetch(lab, c, kind, "big.img", timeout=600, **kw)
    assert rc == 0, out
    assert got == digest
    end = kv(wait_lines(d, "end")[-1])
    assert end["result"] == "ok" and end["blksize"] == "512"
    # 131073 blocks, each sent once; a loaded machine may stall the client past the
    # retransmission timeout a few times, and only those resends may add to the count
    retrans = int(end["retrans"])
    assert int(end["data_pkts"]) == BIG // 512 + 1 + retrans and retrans <= 20


@pytest.mark.parametrize("kind,window", [("atftp", 16), ("curl", None), ("busybox", None)])
def test_64mib_at_blksize_1468(lab, kind, window):
    digest = put_file(lab, "big.img", BIG)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    rc, out, got, _ = fetch(lab, c, kind, "big.img", timeout=600, blksize=1468,
                            windowsize=window)
    assert rc == 0, out
    assert got == digest
    end = kv(wait_lines(d, "end")[-1])
    assert end["result"] == "ok"
    assert end["blksize"] == "1468"
    assert end["windowsize"] == str(window or 1)

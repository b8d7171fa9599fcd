"""Loss, duplication and reordering between real clients and pixied, through the seeded
relay in tests/lossy_relay.py (no netem here): 5 % and 10 % loss in each direction at
windowsize 1 (tftp-hpa, lock-step) and 16 (atftp) deliver byte-identical files; 100 %
duplicated ACKs never cause a resend (DATA sent <= 1.01 x blocks); a lost last window is
repaired.

The relay spares the request, the OACK and ACK 0 (--spare-setup): atftp 0.8 aborts on a
retransmitted OACK ("unexpected OACK"), a client bug no server can work around, and a lost
RRQ only measures the client's own retry timer. Everything after ACK 0 is fair game."""
import pytest

from test_tftp_helpers import (Relay, add_tftp_client, fetch, kv, put_file, start_tftp,
                               tftp_log_lines)

LOCKSTEP_SIZE = 256 << 10   # 513 blocks at 512: each loss costs a timeout of ~50 ms
WINDOW_SIZE = 2 << 20       # 1429 blocks at 1468


def run(lab, kind, size, *, seed, blksize=None, windowsize=None, **relay_opts):
    digest = put_file(lab, "f.bin", size)
    d = start_tftp(lab)
    c = add_tftp_client(lab)
    relay = Relay(lab, c, seed=seed, spare_setup=True, **relay_opts)
    rc, out, got, _ = fetch(lab, c, kind, "f.bin", timeout=240, server=c.addr,
                            blksize=blksize, windowsize=windowsize)
    stats = relay.stop()
    with open(c.dir + "/client.out", "w") as f:
        f.write(out)
    assert rc == 0, out[-3000:]
    assert got == digest, f"{kind} got a different file (relay {stats})"
    return d, stats


@pytest.mark.parametrize("loss", [0.05, 0.10])
@pytest.mark.parametrize("seed", [1, 2])
def test_loss_both_ways_windowsize_1_is_repaired(lab, loss, seed):
    run(lab, "tftp-hpa", LOCKSTEP_SIZE, seed=seed, drop_c2s=loss, drop_s2c=loss)


@pytest.mark.parametrize("loss", [0.05, 0.10])
@pytest.mark.parametrize("seed", [1, 2])
def test_loss_both_ways_windowsize_16_is_repaired(lab, loss, seed):
    run(lab, "atftp", WINDOW_SIZE, seed=seed, blksize=1468, windowsize=16,
        drop_c2s=loss, drop_s2c=loss)


def test_loss_and_reordering_windowsize_16_is_repaired(lab):
    run(lab, "atftp", WINDOW_SIZE, seed=9, blksize=1468, windowsize=16, drop_c2s=0.05,
        drop_s2c=0.05, reorder=0.05)


def test_loss_and_duplication_windowsize_1_is_repaired(lab):
    run(lab, "busybox", LOCKSTEP_SIZE, seed=5, drop_c2s=0.05, drop_s2c=0.05, dup_c2s=0.2,
        dup_s2c=0.2)


@pytest.mark.parametrize("kind,size,blksize,window", [
    ("tftp-hpa", 1 << 20, None, None),
    ("atftp", 4 << 20, 1468, 16),
])
def test_all_acks_duplicated_never_cause_a_resend(lab, kind, size, blksize, window):
    d, stats = run(lab, kind, size, seed=3, blksize=blksize, windowsize=window, dup_c2s=1.0)
    blocks = size // (blksize or 512) + 1
    assert stats["duplicated"]["c2s"] >= blocks // (window or 1)
    assert stats["s2c"]["data"] <= 1.01 * blocks, stats
    starts = tftp_log_lines(d, "start")
    assert len(starts) == 1, "the duplicated RRQ started a second transfer"


@pytest.mark.parametrize("kind,blksize,window", [("tftp-hpa", None, None),
                                                 ("atftp", 1468, 16)])
def test_lost_last_window_is_repaired(lab, kind, blksize, window):
    size = 300 * 1024 + 77
    bs, w = blksize or 512, window or 1
    last = size // bs + 1
    lost = ",".join(str(b & 0xFFFF) for b in range(last - w + 1, last + 1))
    d, stats = run(lab, kind, size, seed=4, blksize=blksize, windowsize=window,
                   drop_blocks=lost)
    assert stats["dropped"]["s2c"] == w

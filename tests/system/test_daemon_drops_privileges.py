"""After binding, the running daemon is an unprivileged user with only NET_RAW and
NET_BIND_SERVICE effective (0x2400), no_new_privs set; read from /proc/<pid>/status."""
import pwd

ALLOWED_CAPS = (1 << 10) | (1 << 13)  # CAP_NET_BIND_SERVICE, CAP_NET_RAW

def test_running_daemon_has_dropped_to_pixied_with_minimal_capabilities(lab, client):
    d = lab.start_pixied()
    assert lab.probe_offer(client) is not None  # still works after the drop
    st = d.status()
    uids = [int(x) for x in st["Uid"].split()]
    gids = [int(x) for x in st["Gid"].split()]
    want = pwd.getpwnam("pixied")
    assert uids == [want.pw_uid] * 4, f"Uid (real, effective, saved, fs): {st['Uid']}"
    assert gids == [want.pw_gid] * 4, f"Gid: {st['Gid']}"
    assert 0 not in [int(g) for g in st.get("Groups", "").split()], st.get("Groups")
    eff = int(st["CapEff"], 16)
    prm = int(st["CapPrm"], 16)
    assert eff & ~ALLOWED_CAPS == 0, f"CapEff {st['CapEff']} has more than 0x2400"
    assert prm & ~ALLOWED_CAPS == 0, f"CapPrm {st['CapPrm']} has more than 0x2400"
    assert int(st.get("CapAmb", "0"), 16) == 0, st.get("CapAmb")
    assert st.get("NoNewPrivs") == "1", f"NoNewPrivs {st.get('NoNewPrivs')}"

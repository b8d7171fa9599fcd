"""A second pixied on the same state directory refuses to start (exit non-zero, a log
line saying why) and the first one keeps serving."""
import re

def test_second_pixied_on_same_state_dir_refuses_to_start(lab, client):
    first = lab.start_pixied()
    # Its own namespace and interface, so only the state directory is shared.
    other = lab.add_router([("eth0", "br9", "10.66.0.1/24")])
    conf = lab.config({"dhcp": {"range": "10.66.0.100 10.66.0.199", "router": "10.66.0.1",
                                "dns": "10.66.0.1"}})
    second = lab.start_pixied(lab.render(conf), ns=other, wait_ready=False)
    try:
        second.proc.wait(15)
    except Exception:
        raise AssertionError(f"second pixied still running:\n{second.log()}")
    second.checked = True
    assert second.proc.returncode not in (0, None), second.log()
    assert not second.sanitizer_reports(), second.log()
    assert re.search(r"another pixied|already|in use|lock", second.log(), re.I), second.log()
    assert not re.search(r"\bready\b", second.log()), second.log()
    assert first.alive()
    assert lab.probe_offer(client) is not None

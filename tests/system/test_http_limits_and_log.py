"""Connection limits, the access log and SIGHUP: max-per-client refuses a client's
connection beyond the limit while another client still gets in; max-connections caps the
total; a reload with new limits applies them to new connections while the open ones keep
working; access-log = no silences the per-request line; every request otherwise logs one
line with client, method, path (escaped), status, bytes and duration."""
import re
import signal
import socket
import time

from test_http_helpers import (access_lines, add_http_client, connect, curl, get, kv,
                               put_file, raw, read_response, start_http)


def refused(s):
    """True when the server dropped a connection it accepted (limit) without answering."""
    s.settimeout(3)
    try:
        s.sendall(get("/ok.txt", close=False))
        return s.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_max_per_client_and_max_connections(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, max_per_client=4, max_connections=6)
    a = add_http_client(lab, "10.77.0.50")
    b = add_http_client(lab, "10.77.0.51")
    held = [connect(a) for _ in range(4)]
    try:
        time.sleep(0.3)
        extra = connect(a)
        assert refused(extra), "a 5th connection from one address was served"
        extra.close()
        held += [connect(b), connect(b)]
        time.sleep(0.3)
        third = connect(b)
        assert refused(third), "a 7th connection in all was served"
        third.close()
        # the ones held are fine
        held[0].sendall(get("/ok.txt", close=False))
        assert read_response(held[0]).status == 200
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    r, _ = raw(b, get("/ok.txt"))
    assert r.status == 200
    assert "refused connection" in d.log()


def test_reload_applies_new_limits_to_new_connections(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, max_per_client=2)
    a = add_http_client(lab)
    s1, s2 = connect(a), connect(a)
    try:
        time.sleep(0.2)
        x = connect(a)
        assert refused(x)
        x.close()
        # raise the limit: written to the same config file, then SIGHUP
        text = open(d.conf_path).read().replace("max-per-client = 2", "max-per-client = 10")
        with open(d.conf_path, "w") as f:
            f.write(text)
        off = len(d.log_bytes())
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded", start=off)
        more = [connect(a) for _ in range(5)]
        for s in more:
            s.sendall(get("/ok.txt", close=False))
            assert read_response(s).status == 200
        # connections from before the reload still work
        s1.sendall(get("/ok.txt", close=False))
        assert read_response(s1).status == 200
        for s in more:
            s.close()
    finally:
        s1.close()
        s2.close()
    assert d.alive()


def test_reload_can_move_the_port(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab)
    a = add_http_client(lab)
    text = open(d.conf_path).read().replace("port = 80", "port = 8080")
    with open(d.conf_path, "w") as f:
        f.write(text)
    off = len(d.log_bytes())
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", start=off)
    r = curl(lab, a, "", url="http://10.77.0.1:8080/ok.txt")
    assert (r.status, r.body) == (200, b"fine\n")
    r = curl(lab, a, "/ok.txt", timeout=3)
    assert r.status == 0  # nothing on port 80 any more


def test_access_log_line_per_request(lab):
    put_file(lab, "dir/file name.txt", b"x" * 1234)
    d = start_http(lab)
    a = add_http_client(lab)
    off = len(d.log_bytes())
    curl(lab, a, "/dir/file%20name.txt")
    curl(lab, a, "/dir/file%20name.txt", "-r", "0-9")
    curl(lab, a, "/dir/file%20name.txt", method="HEAD")
    raw(a, get('/missing"<x>.txt?a=1&b=%22'))
    time.sleep(0.3)
    lines = access_lines(d, off)
    assert len(lines) == 4, lines
    f = [kv(ln) for ln in lines]
    assert re.fullmatch(r"10\.77\.0\.50:\d+", f[0]["client"])
    assert [x["method"] for x in f] == ["GET", "GET", "HEAD", "GET"]
    assert [x["status"] for x in f] == ["200", "206", "200", "404"]
    assert [x["bytes"] for x in f[:3]] == ["1234", "10", "0"]
    assert f[0]["path"] == "/dir/file%20name.txt"
    # what came from the wire is escaped: no raw quote or angle bracket in the line
    assert '\\x22\\x3cx\\x3e.txt?a=1&b=%22' in lines[3].replace("\\x26", "&")
    for x in f:
        assert int(x["ms"]) >= 0


def test_access_log_can_be_turned_off(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, access_log="no")
    a = add_http_client(lab)
    off = len(d.log_bytes())
    assert curl(lab, a, "/ok.txt").status == 200
    time.sleep(0.2)
    assert access_lines(d, off) == []

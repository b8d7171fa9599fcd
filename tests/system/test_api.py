"""The JSON API (docs/api.md) against the real daemon in a namespace lab.

An "admin" namespace (10.77.0.9, static) talks to pixied over HTTP with curl; clients get
leases with dhclient. Covered: every route in the router table (GET /api/v1/routes) answers;
every state-changing route refuses no auth (401), a foreign Origin (403) and a missing or
wrong CSRF token (403) -- the list comes from the table, so a new route cannot escape;
the generated password (printed once, only its hash kept, 0600); sessions and logout;
`pixied --hash-password`; API tokens (Bearer, no CSRF; only hashes on disk); login
throttling (429 + Retry-After); the Host check; body limits (413, 415, unknown keys, depth);
a dhclient exchange in GET /api/v1/clients and the record's timeline; the SSE stream
delivering it; next boot through the API changing the next /boot.ipxe once; the permanent
entry; hosts add/remove through <state>/hosts.conf with a config error put back; lease
release; Wake-on-LAN captured on the client's segment.
"""

import json
import os
import re
import stat
import subprocess
import time

import pytest

import pixied_lab as L
import test_boot_helpers as H

SERVER = L.SERVER_IP
ADMIN_IP = "10.77.0.9"
ORIGIN = f"http://{SERVER}"
SAMPLE = {"mac": "52:54:00:aa:bb:01", "ip": "10.77.0.250", "name": "no-such-thing"}


# ---- helpers ----------------------------------------------------------------------------

class Api:
    """curl from the admin namespace; remembers the session cookie and CSRF token."""

    def __init__(self, lab, ns):
        self.lab, self.ns = lab, ns
        self.cookie = None
        self.csrf = None

    def req(self, method, path, body=None, *, raw=None, cookie=True, csrf=True, origin=ORIGIN,
            host=None, token=None, ctype="application/json", headers=()):
        argv = ["curl", "-s", "-i", "-g", "--max-time", "20", "-H", "Expect:"]
        argv += ["-I"] if method == "HEAD" else ["-X", method]
        if cookie and self.cookie:
            argv += ["-H", f"Cookie: pixied_session={self.cookie}"]
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            argv += ["-H", f"X-CSRF-Token: {csrf if isinstance(csrf, str) else self.csrf}"]
        if origin:
            argv += ["-H", f"Origin: {origin}"]
        if host:
            argv += ["-H", f"Host: {host}"]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        for h in headers:
            argv += ["-H", h]
        data = None
        if body is not None or raw is not None:
            data = raw if raw is not None else json.dumps(body).encode()
            argv += ["-H", f"Content-Type: {ctype}", "--data-binary", "@-"]
        argv.append(f"http://{SERVER}{path}")
        r = subprocess.run(["ip", "netns", "exec", self.ns] + argv, input=data,
                           capture_output=True, timeout=40)
        out = r.stdout
        if not out:
            raise L.LabError(f"curl {method} {path}: no answer (exit {r.returncode}) "
                             f"{r.stderr.decode(errors='replace')}")
        head, _, rest = out.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        return Resp(status, hdrs, rest)

    def login(self, password):
        r = self.req("POST", "/api/v1/login", {"password": password}, cookie=False)
        assert r.status == 200, r
        m = re.search(r"pixied_session=([0-9a-f]+)", r.header("set-cookie"))
        self.cookie = m.group(1)
        self.csrf = r.json()["csrf"]
        return r


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:600]!r}>"


def admin_ns(lab):
    c = lab.add_client(mac="52:54:00:ad:00:01")
    lab.run(c.ns, ["ip", "addr", "add", f"{ADMIN_IP}/24", "dev", c.iface], check=True)
    return c.ns


def generated_password(d):
    m = re.search(r"generated the web UI/API password: ([0-9a-f]+)", d.log())
    assert m, d.log()
    return m.group(1)


def start(lab, overrides=None, iso_dir=None):
    conf = H.boot_config(extra={"menu": {"iso-dir": iso_dir}} if iso_dir else None)
    for k, v in (overrides or {}).items():
        conf[k] = v
    d = lab.start_pixied(conf)
    api = Api(lab, admin_ns(lab))
    api.login(generated_password(d))
    return d, api


def fill(pattern):
    return (pattern.replace("{mac}", SAMPLE["mac"]).replace("{ip}", SAMPLE["ip"])
            .replace("{name}", SAMPLE["name"]))


def wait_for(fn, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


SECURITY_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff",
                    "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def check_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.header(k) == v, (k, r)


# ---- authentication -----------------------------------------------------------------------

def test_generated_password_is_printed_once_kept_as_hash_and_opens_a_session(lab):
    d = lab.start_pixied(H.boot_config())
    pw = generated_password(d)
    path = os.path.join(lab.state, "api-password")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    text = open(path).read()
    assert text.startswith("$argon2id$") and pw not in text
    api = Api(lab, admin_ns(lab))
    r = api.req("GET", "/api/v1/session")
    assert r.status == 401 and "error" in r.json()
    check_security_headers(r)
    r = api.req("POST", "/api/v1/login", {"password": pw + "x"})
    assert r.status == 401 and r.header("set-cookie") is None
    r = api.login(pw)
    cookie = r.header("set-cookie")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie, cookie
    check_security_headers(r)
    r = api.req("GET", "/api/v1/session")
    assert r.status == 200 and r.json()["csrf"] == api.csrf and r.json()["user"] == "admin"
    # the log ring never shows the password
    r = api.req("GET", "/api/v1/log?n=1000")
    assert r.status == 200 and pw not in r.body.decode()
    assert any(e["module"] == "api" for e in r.json())
    r = api.req("POST", "/api/v1/logout")
    assert r.status == 204
    assert api.req("GET", "/api/v1/session").status == 401
    # a restart keeps the password (the hash file is read, nothing is printed again)
    d.stop()
    d = lab.start_pixied(conf_path=d.conf_path)
    assert "generated the web UI/API password" not in d.log()
    api.login(pw)


def test_hash_password_option_makes_a_hash_the_config_accepts(lab, pixied_bin):
    r = subprocess.run([pixied_bin, "--hash-password"], input=b"s3cret pass\n",
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    h = r.stdout.decode().strip()
    assert h.startswith("$argon2id$")
    r = subprocess.run([pixied_bin, "--hash-password"], input=b"\n", capture_output=True,
                       timeout=60)
    assert r.returncode == 1 and b"empty" in r.stderr
    conf = H.boot_config()
    conf["api"] = {"password-hash": h}
    d = lab.start_pixied(conf)
    assert "generated the web UI/API password" not in d.log()
    api = Api(lab, admin_ns(lab))
    api.login("s3cret pass")
    assert not os.path.exists(os.path.join(lab.state, "api-password"))


def test_login_is_throttled_after_repeated_failures(lab):
    d = lab.start_pixied(H.boot_config())
    pw = generated_password(d)
    api = Api(lab, admin_ns(lab))
    for _ in range(5):
        assert api.req("POST", "/api/v1/login", {"password": "wrong"}).status == 401
    r = api.req("POST", "/api/v1/login", {"password": pw})
    assert r.status == 429, r
    assert int(r.header("retry-after")) >= 1
    time.sleep(int(r.header("retry-after")) + 0.2)
    api.login(pw)  # the wait is over; success clears the address


def test_host_header_must_name_this_server(lab):
    conf = H.boot_config()
    conf["api"] = {"host-names": "pixied.lan"}
    d = lab.start_pixied(conf)
    api = Api(lab, admin_ns(lab))
    api.login(generated_password(d))
    assert api.req("GET", "/api/v1/status").status == 200
    for host in ("evil.example", "pixied.lan.evil.example", "10.77.0.2"):
        r = api.req("GET", "/api/v1/status", host=host)
        assert r.status == 403 and "Host" in r.json()["error"], (host, r)
    for host in ("pixied.lan", "PIXIED.LAN:80", "localhost", f"{SERVER}:80"):
        assert api.req("GET", "/api/v1/status", host=host,
                       origin=f"http://{host}").status == 200, host


def test_api_tokens_work_without_csrf_and_only_hashes_are_stored(lab):
    d, api = start(lab)
    r = api.req("POST", "/api/v1/tokens", {"name": "ci"})
    assert r.status == 201, r
    tok = r.json()["token"]
    assert api.req("POST", "/api/v1/tokens", {"name": "ci"}).status == 409
    text = open(os.path.join(lab.state, "api-tokens")).read()
    assert "ci " in text and tok not in text
    assert stat.S_IMODE(os.stat(os.path.join(lab.state, "api-tokens")).st_mode) == 0o600
    bare = Api(lab, api.ns)
    r = bare.req("PUT", f"/api/v1/clients/{SAMPLE['mac']}/next-boot", {"entry": "rescue"},
                 token=tok, origin=None)
    assert r.status == 200, r
    assert bare.req("GET", "/api/v1/tokens", token=tok).json()[0]["name"] == "ci"
    assert bare.req("GET", "/api/v1/status", token=tok + "x").status == 401
    # survives a restart
    d.stop()
    lab.start_pixied(conf_path=d.conf_path)
    assert bare.req("GET", "/api/v1/status", token=tok).status == 200
    assert bare.req("DELETE", "/api/v1/tokens/ci", token=tok, origin=None).status == 204
    assert bare.req("GET", "/api/v1/status", token=tok).status == 401


def test_every_state_changing_route_refuses_no_auth_foreign_origin_and_bad_csrf(lab):
    d, api = start(lab)
    routes = api.req("GET", "/api/v1/routes").json()
    writes = [r for r in routes if r["state_changing"]]
    assert len(writes) >= 10
    assert {"POST /api/v1/login", "PUT /api/v1/clients/{mac}/next-boot",
            "DELETE /api/v1/leases/{ip}", "POST /api/v1/hosts"} <= \
        {f"{r['method']} {r['path']}" for r in writes}
    anon = Api(lab, api.ns)
    bodies = {"login": {"password": "x"}, "entry": {"entry": "rescue"},
              "host": {"name": "evil", "mac": SAMPLE["mac"]}, "token": {"name": "evil"}}
    for rt in writes:
        path = fill(rt["path"])
        body = bodies.get(rt["body"])
        what = f"{rt['method']} {rt['path']}"
        r = api.req(rt["method"], path, body, origin="http://evil.example")
        assert r.status == 403, (what, "foreign Origin", r)
        if rt["auth"] == "none":  # login: nothing more to hold back
            continue
        r = anon.req(rt["method"], path, body)
        assert r.status == 401, (what, "no auth", r)
        r = api.req(rt["method"], path, body, csrf=False)
        assert r.status == 403 and "CSRF" in r.json()["error"], (what, "no CSRF", r)
        r = api.req(rt["method"], path, body, csrf="0" * 64)
        assert r.status == 403, (what, "wrong CSRF", r)
        r = api.req(rt["method"], path, body, origin=None)
        assert r.status == 403, (what, "no Origin with a cookie", r)
    # nothing got through
    assert H.nextboot_rows(lab) == []
    assert api.req("GET", "/api/v1/hosts").json() == []
    assert api.req("GET", "/api/v1/tokens").json() == []
    # read routes need a login too (except the session probe and /metrics)
    for rt in routes:
        if rt["state_changing"] or rt["auth"] != "required":
            continue
        r = anon.req("GET", fill(rt["path"]))
        assert r.status == 401, (rt, r)


def test_every_route_answers(lab):
    H.put(lab, "iso/tools.iso", "not really an ISO")  # iso-dir entries are in the catalog
    d, api = start(lab, iso_dir="iso", overrides= {"dhcp": {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}",
                                  "lease-time": "1h"}})
    c = lab.add_client()
    res = lab.dhclient(c)
    routes = api.req("GET", "/api/v1/routes").json()
    expect = {
        ("POST", "/api/v1/login"): 200, ("POST", "/api/v1/logout"): 204,
        ("GET", "/api/v1/session"): 200, ("GET", "/api/v1/tokens"): 200,
        ("POST", "/api/v1/tokens"): 201, ("DELETE", "/api/v1/tokens/{name}"): 204,
        ("GET", "/api/v1/status"): 200, ("GET", "/api/v1/clients"): 200,
        ("GET", "/api/v1/clients/{mac}"): 200,
        ("PUT", "/api/v1/clients/{mac}/next-boot"): 200,
        ("DELETE", "/api/v1/clients/{mac}/next-boot"): 204,
        ("PUT", "/api/v1/clients/{mac}/entry"): 200,
        ("DELETE", "/api/v1/clients/{mac}/entry"): 204,
        ("POST", "/api/v1/clients/{mac}/wake"): 202, ("GET", "/api/v1/leases"): 200,
        ("DELETE", "/api/v1/leases/{ip}"): 204, ("GET", "/api/v1/catalog"): 200,
        ("GET", "/api/v1/catalog/preview"): 200, ("GET", "/api/v1/hosts"): 200,
        ("POST", "/api/v1/hosts"): 201, ("DELETE", "/api/v1/hosts/{name}"): 204,
        ("GET", "/api/v1/config"): 200, ("GET", "/api/v1/log"): 200,
        ("GET", "/api/v1/events"): 200, ("GET", "/api/v1/routes"): 200,
        ("GET", "/metrics"): (200, 503),
    }
    assert {(r["method"], r["path"]) for r in routes} == set(expect), \
        "a route was added or removed: give it a row here"
    args = {"mac": c.mac, "ip": res.ip, "name": "added"}
    bodies = {"entry": {"entry": "rescue"}, "token": {"name": "added"},
              "host": {"name": "added", "mac": "52:54:00:aa:bb:02"}}
    # order: create before delete, login again after logout
    order = sorted(routes, key=lambda r: (r["path"] == "/api/v1/logout", r["method"] == "DELETE"))
    for rt in order:
        path = rt["path"].replace("{mac}", args["mac"]).replace("{ip}", args["ip"]) \
            .replace("{name}", args["name"])
        want = expect[(rt["method"], rt["path"])]
        if rt["path"] == "/api/v1/events":
            r = api.req("HEAD", path)
            assert r.status == 200 and r.header("content-type") == "text/event-stream"
            continue
        if rt["path"] == "/api/v1/login":
            r = api.req("POST", path, {"password": generated_password(d)})
            api.csrf = r.json()["csrf"]
            api.cookie = re.search(r"pixied_session=([0-9a-f]+)",
                                   r.header("set-cookie")).group(1)
        else:
            r = api.req(rt["method"], path, bodies.get(rt["body"]))
        ok = want if isinstance(want, tuple) else (want,)
        assert r.status in ok, (rt, r)
        check_security_headers(r)
        if r.body and r.header("content-type") == "application/json":
            r.json()
    st = api.req("GET", "/api/v1/status")
    assert st.status == 401  # logged out last
    api.login(generated_password(d))
    st = api.req("GET", "/api/v1/status").json()
    assert st["mode"] == "full" and st["interfaces"][0]["address"] == SERVER
    assert st["counters"]["dhcp"]["acks"] >= 1
    cat = api.req("GET", "/api/v1/catalog").json()
    assert [e["name"] for e in cat["entries"]] == ["debian", "rescue", "local", "tools.iso"]
    assert cat["entries"][3]["type"] == "sanboot"
    assert cat["menu"]["default"] == "local"
    cfg = api.req("GET", "/api/v1/config").json()
    assert cfg["file"] == d.conf_path and cfg["dhcp"]["pools"][0]["size"] == 100
    assert "$argon2id" not in json.dumps(cfg)
    pv = api.req("GET", f"/api/v1/catalog/preview?mac={c.mac}&arch=x86_64&platform=efi")
    assert pv.status == 200 and pv.body.startswith(b"#!ipxe")
    assert api.req("GET", "/api/v1/catalog/preview?mac=zz").status == 400
    assert api.req("GET", "/api/v1/nothing").status == 404
    r = api.req("PATCH", "/api/v1/status")
    assert r.status == 405 and r.header("allow") == "GET, HEAD"


def test_bodies_are_limited_typed_and_strict(lab):
    d, api = start(lab)
    p = f"/api/v1/clients/{SAMPLE['mac']}/next-boot"
    r = api.req("PUT", p, raw=b'{"entry":"' + b"a" * (65 * 1024) + b'"}')
    assert r.status == 413, r
    check_security_headers(r)
    # before any login: a big body is refused at 64 KiB, not buffered up to the boot
    # routes' 1 MiB
    r = Api(lab, api.ns).req("POST", "/api/v1/login", raw=b'{"password":"' + b"p" * (200 * 1024)
                             + b'"}')
    assert r.status == 413, r
    check_security_headers(r)
    r = api.req("PUT", p, {"entry": "rescue"}, ctype="text/plain")
    assert r.status == 415, r
    r = api.req("PUT", p, {"entry": "rescue", "enrty": "x"})
    assert r.status == 400 and "unknown key" in r.json()["error"], r
    r = api.req("PUT", p, raw=b'{"entry":"rescue","<img src=x>":1}')
    assert r.status == 400 and b"<" not in r.body and b"\\u003cimg" in r.body, r
    assert "<img src=x>" in r.json()["error"]
    r = api.req("PUT", p, raw=b'{"entry":"rescue","x":' + b"[" * 20 + b"]" * 20 + b"}")
    assert r.status == 400 and "deeper" in r.json()["error"], r
    r = api.req("PUT", p, raw=b'{"entry":')
    assert r.status == 400 and "JSON" in r.json()["error"], r
    r = api.req("PUT", p, {"entry": "nope"})
    assert r.status == 404 and "catalog" in r.json()["error"], r
    r = api.req("PUT", "/api/v1/clients/not-a-mac/next-boot", {"entry": "rescue"})
    assert r.status == 400, r
    assert H.nextboot_rows(lab) == []


# ---- clients, events, boot choices --------------------------------------------------------

def test_dhcp_exchange_appears_in_clients_timeline_and_event_stream(lab):
    d, api = start(lab, {"dhcp": {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}",
                                  "lease-time": "1h"}})
    out = os.path.join(lab.dir, "sse.txt")
    with open(out, "wb") as f:
        sse = lab.popen(api.ns, ["curl", "-s", "-N", "--max-time", "60",
                                 "-H", f"Cookie: pixied_session={api.cookie}",
                                 f"http://{SERVER}/api/v1/events"], stdout=f,
                        stderr=subprocess.DEVNULL)
    wait_for(lambda: b"pixied events" in open(out, "rb").read(), what="the stream to open")
    c = lab.add_client()
    res = lab.dhclient(c)
    clients = api.req("GET", "/api/v1/clients").json()
    rec = next((x for x in clients if x["mac"] == c.mac), None)
    assert rec is not None, clients
    assert rec["ip"] == res.ip and rec["iface"] == "eth0" and "timeline" not in rec
    one = api.req("GET", f"/api/v1/clients/{c.mac.replace(':', '')}").json()
    kinds = [e["kind"] for e in one["timeline"]]
    for k in ("dhcp-discover", "dhcp-offer", "dhcp-request", "dhcp-ack"):
        assert k in kinds, kinds
    assert api.req("GET", "/api/v1/clients/52:54:00:00:99:99").status == 404

    def got_event():
        text = open(out, "rb").read().decode(errors="replace")
        for block in text.split("\n\n"):
            if "event: client" in block and c.mac in block and "dhcp-ack" in block:
                return block
        return None
    block = wait_for(got_event, what="an SSE message for the DHCP exchange")
    data = json.loads("".join(ln[6:] for ln in block.splitlines() if ln.startswith("data: ")))
    assert data["event"]["mac"] == c.mac and data["client"]["mac"] == c.mac
    assert re.search(r"^id: \d+$", block, re.M)
    sse.terminate()
    sse.wait(5)


def test_event_streams_end_with_the_login_that_opened_them(lab):
    d, api = start(lab)
    tok = api.req("POST", "/api/v1/tokens", {"name": "watcher"}).json()["token"]

    def open_stream(name, header):
        out = os.path.join(lab.dir, f"sse-{name}.txt")
        with open(out, "wb") as f:
            p = lab.popen(api.ns, ["curl", "-s", "-N", "--max-time", "60", "-H", header,
                                   f"http://{SERVER}/api/v1/events"], stdout=f,
                          stderr=subprocess.DEVNULL)
        wait_for(lambda: b"pixied events" in open(out, "rb").read(),
                 what=f"the {name} stream to open")
        return p

    by_cookie = open_stream("cookie", f"Cookie: pixied_session={api.cookie}")
    by_token = open_stream("token", f"Authorization: Bearer {tok}")
    # deleting the token ends its stream (curl exits), the session's stream stays
    assert api.req("DELETE", "/api/v1/tokens/watcher").status == 204
    wait_for(lambda: by_token.poll() is not None, what="the token's stream to end")
    time.sleep(0.5)
    assert by_cookie.poll() is None, "the session's stream ended with the token's"
    # logging out ends the session's stream
    assert api.req("POST", "/api/v1/logout").status == 204
    wait_for(lambda: by_cookie.poll() is not None, what="the session's stream to end")


def test_next_boot_via_api_changes_the_next_script_once_and_entry_is_permanent(lab):
    d, api = start(lab, {"dhcp": {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}",
                                  "lease-time": "1h"}})
    c = lab.add_client()
    H.lease(lab, c)
    r = api.req("PUT", f"/api/v1/clients/{c.mac}/next-boot", {"entry": "rescue"})
    assert r.status == 200 and r.json()["next_boot"] == "rescue", r
    assert H.nextboot_rows(lab) == [(c.mac, "rescue")]  # persisted before the answer
    tl = api.req("GET", f"/api/v1/clients/{c.mac}").json()["timeline"]
    assert any(e["kind"] == "admin" and "next boot set to rescue" in e["detail"] for e in tl)
    status, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert status == 200 and H.chosen_by(script) == "next boot", script
    status, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert H.chosen_by(script) == "menu"
    assert api.req("GET", f"/api/v1/clients/{c.mac}").json()["next_boot"] == ""
    # permanent entry: every time, until cleared; a next boot still wins once
    r = api.req("PUT", f"/api/v1/clients/{c.mac}/entry", {"entry": "debian"})
    assert r.status == 200 and r.json()["pinned"] == "debian", r
    for _ in range(2):
        _, script = H.http_get(lab, c, H.boot_query(c.mac))
        assert H.chosen_by(script) == "permanent", script
    api.req("PUT", f"/api/v1/clients/{c.mac}/next-boot", {"entry": "rescue"})
    _, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert H.chosen_by(script) == "next boot"
    assert api.req("DELETE", f"/api/v1/clients/{c.mac}/entry").status == 204
    _, script = H.http_get(lab, c, H.boot_query(c.mac))
    assert H.chosen_by(script) == "menu"
    # clearing a next boot that was never served
    api.req("PUT", f"/api/v1/clients/{c.mac}/next-boot", {"entry": "debian"})
    assert api.req("DELETE", f"/api/v1/clients/{c.mac}/next-boot").status == 204
    assert H.nextboot_rows(lab) == []


# ---- hosts, leases, wake ---------------------------------------------------------------------

def test_hosts_add_and_remove_round_trip_through_state_file_and_reload(lab):
    conf = H.boot_config("52:54:00:cf:00:01")  # [host lab-station] in the config file
    conf["dhcp"] = {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}", "lease-time": "1h",
                    "subnet": "10.77.0.0/24"}
    d = lab.start_pixied(conf)
    api = Api(lab, admin_ns(lab))
    api.login(generated_password(d))
    hosts_file = os.path.join(lab.state, "hosts.conf")
    c = lab.add_client()
    r = api.req("POST", "/api/v1/hosts", {"name": "station-02", "mac": c.mac,
                                         "ip": "10.77.0.42", "boot": "rescue"})
    assert r.status == 201, r
    h = r.json()
    assert h["source"] == "api" and h["file"] == hosts_file and h["ip"] == "10.77.0.42"
    assert "[host station-02]" in open(hosts_file).read()
    listed = {x["name"]: x for x in api.req("GET", "/api/v1/hosts").json()}
    assert listed["lab-station"]["source"] == "config"
    assert listed["station-02"]["boot"] == "rescue"
    # the reservation is live: the client gets its address
    assert lab.dhclient(c).ip == "10.77.0.42"
    # taken name / MAC / IP
    for body in ({"name": "station-02", "mac": "52:54:00:cf:00:09"},
                 {"name": "other", "mac": c.mac},
                 {"name": "other", "mac": "52:54:00:cf:00:09", "ip": "10.77.0.42"},
                 {"name": "lab-station", "mac": "52:54:00:cf:00:09"}):
        assert api.req("POST", "/api/v1/hosts", body).status == 409, body
    # a host the config refuses: the error comes back and the file is put back
    before = open(hosts_file).read()
    r = api.req("POST", "/api/v1/hosts", {"name": "far", "mac": "52:54:00:cf:00:0a",
                                         "ip": "192.168.99.5"})
    assert r.status == 400 and "hosts.conf" in r.json()["error"], r
    assert open(hosts_file).read() == before
    r = api.req("POST", "/api/v1/hosts", {"name": "nobody", "mac": "52:54:00:cf:00:0b",
                                         "boot": "no-entry"})
    assert r.status == 400 and "no-entry" in r.json()["error"], r
    assert open(hosts_file).read() == before
    assert d.alive()
    # a host of the config file cannot be removed here
    r = api.req("DELETE", "/api/v1/hosts/lab-station")
    assert r.status == 409 and d.conf_path in r.json()["error"]
    assert api.req("DELETE", "/api/v1/hosts/ghost").status == 404
    assert api.req("DELETE", "/api/v1/hosts/station-02").status == 204
    assert "station-02" not in open(hosts_file).read()
    assert "station-02" not in {x["name"] for x in api.req("GET", "/api/v1/hosts").json()}
    # a restart reads the state file again
    api.req("POST", "/api/v1/hosts", {"name": "station-03", "mac": "52:54:00:cf:00:03"})
    d.stop()
    lab.start_pixied(conf_path=d.conf_path)
    assert api.req("GET", "/api/v1/hosts").status == 401  # sessions live in memory only
    api.login(generated_password(d))
    assert "station-03" in {x["name"] for x in api.req("GET", "/api/v1/hosts").json()}


def test_release_lease_returns_the_address_to_the_pool(lab):
    d, api = start(lab, {"dhcp": {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}",
                                  "lease-time": "1h"}})
    c = lab.add_client()
    ip = lab.dhclient(c).ip
    leases = {x["ip"]: x for x in api.req("GET", "/api/v1/leases").json()}
    assert leases[ip]["mac"] == c.mac and leases[ip]["state"] == "bound"
    assert leases[ip]["pool"] == "dhcp"
    assert api.req("DELETE", f"/api/v1/leases/{ip}").status == 204
    leases = {x["ip"]: x for x in api.req("GET", "/api/v1/leases").json()}
    assert ip not in leases or leases[ip]["state"] != "bound", leases
    assert api.req("DELETE", "/api/v1/leases/10.77.0.199").status == 404
    assert api.req("DELETE", "/api/v1/leases/10.77.0").status == 400
    tl = api.req("GET", f"/api/v1/clients/{c.mac}").json()["timeline"]
    assert any(e["kind"] == "admin" and "released" in e["detail"] for e in tl)


def test_wake_on_lan_magic_packet_goes_out_where_the_client_was_seen(lab):
    d, api = start(lab, {"dhcp": {"mode": "full", "range": f"{L.POOL_START} {L.POOL_END}",
                                  "lease-time": "1h"}})
    c = lab.add_client()
    lab.dhclient(c)
    sn = lab.sniff_start(c, 3, ports=(9,))
    r = api.req("POST", f"/api/v1/clients/{c.mac}/wake")
    assert r.status == 202 and r.json() == {"sent_on": "eth0"}, r
    frames = [f for f in sn.result() if f.dport == 9]
    assert frames, "no magic packet seen"
    want = b"\xff" * 6 + L.mac_bytes(c.mac) * 16
    assert frames[0].payload == want
    assert frames[0].eth_dst == "ff:ff:ff:ff:ff:ff"
    r = api.req("POST", "/api/v1/clients/52:54:00:00:99:98/wake")
    assert r.status == 409, r


def test_metrics_is_open_by_default_and_closed_with_metrics_auth(lab):
    d = lab.start_pixied(H.boot_config())
    anon = Api(lab, admin_ns(lab))
    assert anon.req("GET", "/metrics").status in (200, 503)
    d.stop()
    conf = H.boot_config()
    conf["api"] = {"metrics-auth": "yes"}
    d = lab.start_pixied(conf)
    assert anon.req("GET", "/metrics").status == 401

"""The [api] listeners in the real daemon, bound per interface like [http]: with [api] port
set the API port answers admin routes only (files and /boot.ipxe are 404 there) and the
[http] port answers admin paths with 404; [http] enabled = no keeps the API reachable (on
[api] port, else on the [http] port) while files are not served; SIGHUP moves the API to
its own port and back, binding first."""
import signal

from test_http_helpers import add_http_client, curl, put_file, start_http

API = "http://10.77.0.1:8080"


def reload_with(lab, d, overrides):
    """Rewrite d's config with overrides over the HTTP-test defaults, SIGHUP, wait."""
    ov = {"http": {"port": "80"}, "tftp": {"enabled": "no"}}
    for sec, keys in overrides.items():
        ov.setdefault(sec, {}).update(keys)
    with open(d.conf_path, "w") as f:
        f.write(lab.render(lab.config(ov, mode="off")))
    off = len(d.log_bytes())
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", start=off)


def test_api_port_answers_admin_routes_only(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, extra={"api": {"port": "8080"}})
    a = add_http_client(lab)
    assert "serves=api" in d.log()
    assert curl(lab, a, "/ok.txt").status == 200
    assert curl(lab, a, "", url=API + "/ok.txt").status == 404
    assert curl(lab, a, "", url=API + "/boot.ipxe").status == 404
    assert d.alive()


def test_http_disabled_keeps_the_api_on_its_port(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, enabled="no", extra={"api": {"port": "8080"}})
    a = add_http_client(lab)
    assert curl(lab, a, "/ok.txt", timeout=3).status == 0  # nothing on port 80
    assert curl(lab, a, "", url=API + "/ok.txt").status == 404  # answered, not a file
    assert d.alive()


def test_http_disabled_without_api_port_serves_only_the_api_on_port_80(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab, enabled="no")
    a = add_http_client(lab)
    assert curl(lab, a, "/ok.txt").status == 404
    assert "serves=api" in d.log()
    assert d.alive()


def test_reload_moves_the_api_to_its_own_port_and_back(lab):
    put_file(lab, "ok.txt", b"fine\n")
    d = start_http(lab)
    a = add_http_client(lab)
    assert curl(lab, a, "", url=API + "/ok.txt", timeout=3).status == 0
    reload_with(lab, d, {"api": {"port": "8080"}})
    assert curl(lab, a, "", url=API + "/ok.txt").status == 404
    assert curl(lab, a, "/ok.txt").status == 200
    reload_with(lab, d, {})
    assert curl(lab, a, "", url=API + "/ok.txt", timeout=3).status == 0
    assert curl(lab, a, "/ok.txt").status == 200
    assert d.alive()

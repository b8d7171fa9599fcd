"""The issue's bad paths against the real daemon: %2e%2e/, .%2e/, %252e%252e/ (decoded once:
it names the literal directory "%2e%2e"), ..%5c, %00, %c0%ae, raw ../, a symlink out of the
root, a directory (no listing). None of them ever returns the secret file that sits next to
the root; every one gets a 4xx, and the daemon keeps serving."""
import os

from test_http_helpers import (access_lines, add_http_client, get, kv, put_file, raw,
                               start_http)

SECRET = b"pixied-secret-outside-the-root\n"


def serve(lab):
    with open(os.path.join(lab.dir, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.chmod(os.path.join(lab.dir, "secret.txt"), 0o644)
    put_file(lab, "ok.txt", b"fine\n")
    # a directory literally named "%2e%2e": what %252e%252e/ means after one decoding
    put_file(lab, "%2e%2e/inside.txt", b"literal percent name\n")
    os.symlink(os.path.join(lab.dir, "secret.txt"), os.path.join(lab.root, "escape.txt"))
    os.symlink("../secret.txt", os.path.join(lab.root, "escape-rel.txt"))
    d = start_http(lab)
    return d, add_http_client(lab)


BAD = [
    ("/%2e%2e/secret.txt", (403, 404)),
    ("/.%2e/secret.txt", (403, 404)),
    ("/%2e%2e%2fsecret.txt", (403, 404)),
    ("/..%5csecret.txt", (403, 404)),
    ("/%2e%2e%5csecret.txt", (403, 404)),
    ("/../secret.txt", (403, 404)),
    ("/boot/../../secret.txt", (403, 404)),
    ("/ok.txt%00.iso", (400,)),
    ("/%00", (400,)),
    ("/%c0%ae%c0%ae/secret.txt", (403, 404)),
    ("/%c0%af", (403, 404)),
    ("/escape.txt", (403, 404)),
    ("/escape-rel.txt", (403, 404)),
    ("/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", (403, 404)),
    ("/ok.txt%", (400,)),
    ("/ok.txt%zz", (400,)),
]


def test_bad_paths_never_leave_the_root(lab):
    d, c = serve(lab)
    off = len(d.log_bytes())
    for path, want in BAD:
        r, _ = raw(c, get(path))
        assert r is not None, path
        assert r.status in want, (path, r)
        assert SECRET not in r.body, path
    # one access line per request, the path as sent (escaped), never decoded for the log
    lines = access_lines(d, off)
    assert len(lines) == len(BAD)
    for (path, _), ln in zip(BAD, lines):
        assert kv(ln)["path"] == path.replace("\\", "\\x5c"), ln
    assert d.alive()
    r, _ = raw(c, get("/ok.txt"))
    assert (r.status, r.body) == (200, b"fine\n")


def test_percent_encoding_is_decoded_exactly_once(lab):
    _, c = serve(lab)
    r, _ = raw(c, get("/%252e%252e/inside.txt"))
    assert (r.status, r.body) == (200, b"literal percent name\n")
    r, _ = raw(c, get("/%252e%252e/secret.txt"))
    assert r.status == 404
    r, _ = raw(c, get("/%6f%6B.txt"))  # escaped letters decode (once)
    assert (r.status, r.body) == (200, b"fine\n")


def test_directories_are_not_listed(lab):
    _, c = serve(lab)
    for path in ("/", "/%2e%2e/", "/%2e%2e"):
        r, _ = raw(c, get(path))
        assert r.status in (403, 404), (path, r)
        assert b"inside.txt" not in r.body

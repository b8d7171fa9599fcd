"""HEAD, ETag / Last-Modified and conditional requests, Content-Type by extension, and
keep-alive, against the real daemon: HEAD has GET's headers and no body; If-None-Match with
the current ETag and If-Modified-Since are 304; If-Range with a stale ETag sends the whole
file (200) while the current one honours the Range (206); a changed file gets a new ETag;
two requests on one connection reuse it."""
import os
import time

from test_http_helpers import (add_http_client, connect, curl, get, put_file, raw,
                               read_response, start_http)

DATA = b"#!ipxe\necho hello from pixied\n" * 100


def serve(lab):
    put_file(lab, "boot/menu.ipxe", DATA)
    d = start_http(lab)
    return d, add_http_client(lab)


def test_head_has_get_headers_and_no_body(lab):
    _, c = serve(lab)
    g = curl(lab, c, "/boot/menu.ipxe")
    h = curl(lab, c, "/boot/menu.ipxe", method="HEAD")
    assert g.status == h.status == 200
    assert h.body == b""
    for k in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert g.h(k) and g.h(k) == h.h(k), k
    assert h.h("content-length") == str(len(DATA))
    # and on the wire: no body bytes follow the HEAD response
    r, _ = raw(c, get("/boot/menu.ipxe", method="HEAD"))
    assert r.status == 200 and r.body == b""


def test_etag_and_last_modified_describe_the_file(lab):
    _, c = serve(lab)
    st = os.stat(os.path.join(lab.root, "boot/menu.ipxe"))
    r = curl(lab, c, "/boot/menu.ipxe")
    etag = r.h("etag")
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    size, mtime_ns, ino = (int(x, 16) for x in etag.strip('"').split("-"))
    assert (size, mtime_ns, ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert r.h("last-modified") == time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                 time.gmtime(int(st.st_mtime)))


def test_if_none_match_and_if_modified_since_are_304(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/boot/menu.ipxe")
    etag, lm = r.h("etag"), r.h("last-modified")
    n = curl(lab, c, "/boot/menu.ipxe", "-H", f"If-None-Match: {etag}")
    assert n.status == 304 and n.body == b""
    assert n.h("etag") == etag
    n = curl(lab, c, "/boot/menu.ipxe", "-H", f'If-None-Match: "other", W/{etag}')
    assert n.status == 304
    n = curl(lab, c, "/boot/menu.ipxe", "-H", 'If-None-Match: "other"')
    assert n.status == 200 and n.body == DATA
    n = curl(lab, c, "/boot/menu.ipxe", "-H", f"If-Modified-Since: {lm}")
    assert n.status == 304
    n = curl(lab, c, "/boot/menu.ipxe", "-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT")
    assert n.status == 200
    n = curl(lab, c, "/boot/menu.ipxe", "-H", 'If-Match: "other"')
    assert n.status == 412


def test_if_range_with_stale_etag_sends_whole_file(lab):
    _, c = serve(lab)
    etag = curl(lab, c, "/boot/menu.ipxe").h("etag")
    r = curl(lab, c, "/boot/menu.ipxe", "-r", "0-5", "-H", f"If-Range: {etag}")
    assert (r.status, r.body) == (206, DATA[:6])
    stale = '"' + etag.strip('"')[:-1] + ("0" if etag.strip('"')[-1] != "0" else "1") + '"'
    r = curl(lab, c, "/boot/menu.ipxe", "-r", "0-5", "-H", f"If-Range: {stale}")
    assert (r.status, r.body) == (200, DATA)
    # the file changes: the old ETag is stale now, the new one differs
    time.sleep(0.01)
    put_file(lab, "boot/menu.ipxe", DATA + b"# changed\n")
    r = curl(lab, c, "/boot/menu.ipxe", "-r", "0-5", "-H", f"If-Range: {etag}")
    assert r.status == 200 and r.body == DATA + b"# changed\n"
    assert r.h("etag") != etag
    # a weak validator never matches If-Range
    r = curl(lab, c, "/boot/menu.ipxe", "-r", "0-5", "-H", f"If-Range: W/{r.h('etag')}")
    assert r.status == 200


def test_content_type_follows_the_extension(lab):
    files = {"a.ipxe": "text/plain", "ipxe.efi": "application/octet-stream",
             "undionly.kpxe": "application/octet-stream", "pxelinux.0": "application/octet-stream",
             "d.iso": "application/x-iso9660-image", "p.cfg": "text/plain",
             "i.html": "text/html", "initrd.gz": "application/gzip",
             "disk.img": "application/octet-stream", "vmlinuz": "application/octet-stream"}
    for name in files:
        put_file(lab, f"t/{name}", b"x")
    start_http(lab)
    c = add_http_client(lab)
    for name, want in files.items():
        got = curl(lab, c, f"/t/{name}").h("content-type")
        assert got.split(";")[0] == want, (name, got)


def test_keep_alive_serves_several_requests_on_one_connection(lab):
    _, c = serve(lab)
    s = connect(c)
    try:
        for i in range(3):
            s.sendall(get("/boot/menu.ipxe", close=False))
            r = read_response(s)
            assert r is not None and r.status == 200 and r.body == DATA, i
            assert (r.h("connection") or "").lower() != "close"
        s.sendall(get("/boot/menu.ipxe", "Range: bytes=0-1", close=False))
        assert read_response(s).body == DATA[:2]
    finally:
        s.close()
    r = curl(lab, c, "/boot/menu.ipxe", "-v", url=None)
    assert r.status == 200

"""Files over 4 GiB: a 5 GiB sparse file (truncate -s 5G) with marker bytes written near its
end and just past 4 GiB. HEAD reports 5368709120 bytes; Range requests near the end, a
suffix range, a range across the 4 GiB line and a multi-range spanning it return exactly
the bytes on disk, with 64-bit Content-Range values."""
import os

from test_http_helpers import add_http_client, curl, multipart_parts, start_http

SIZE = 5 << 30
G4 = 4 << 30


def make(lab):
    path = os.path.join(lab.root, "big.img")
    with open(path, "wb") as f:
        f.truncate(SIZE)
        f.seek(G4 - 8)
        f.write(b"ACROSS-4GiB-LINE")           # 8 bytes below 4 GiB, 8 above
        f.seek(SIZE - 32)
        f.write(b"the last 32 bytes of 5 GiB.....!")
    os.chmod(path, 0o644)
    return path


def test_five_gib_sparse_file_read_near_its_end(lab):
    make(lab)
    start_http(lab)
    c = add_http_client(lab)
    h = curl(lab, c, "/big.img", method="HEAD")
    assert h.status == 200
    assert h.h("content-length") == str(SIZE)
    assert h.h("etag").strip('"').split("-")[0] == f"{SIZE:x}"

    r = curl(lab, c, "/big.img", "-r", f"{SIZE - 32}-{SIZE - 1}")
    assert r.status == 206
    assert r.h("content-range") == f"bytes {SIZE - 32}-{SIZE - 1}/{SIZE}"
    assert r.body == b"the last 32 bytes of 5 GiB.....!"

    r = curl(lab, c, "/big.img", "-r", "-40")
    assert r.status == 206
    assert r.body == b"\0" * 8 + b"the last 32 bytes of 5 GiB.....!"

    r = curl(lab, c, "/big.img", "-r", f"{G4 - 8}-{G4 + 7}")
    assert (r.status, r.body) == (206, b"ACROSS-4GiB-LINE")

    # the last MiB through sendfile at an offset past 2^32
    r = curl(lab, c, "/big.img", "-r", f"{SIZE - (1 << 20)}-")
    assert r.status == 206 and len(r.body) == 1 << 20
    assert r.body.endswith(b"the last 32 bytes of 5 GiB.....!")
    assert r.body[:-32] == b"\0" * ((1 << 20) - 32)

    r = curl(lab, c, "/big.img", "-r", f"{G4 - 8}-{G4 + 7},{SIZE - 1}-")
    parts = multipart_parts(r)
    assert parts == [(f"bytes {G4 - 8}-{G4 + 7}/{SIZE}", b"ACROSS-4GiB-LINE"),
                     (f"bytes {SIZE - 1}-{SIZE - 1}/{SIZE}", b"!")]

    r = curl(lab, c, "/big.img", "-r", f"{SIZE}-")
    assert r.status == 416 and r.h("content-range") == f"bytes */{SIZE}"

"""Range requests against the real daemon with curl and raw requests: a single range, an
open-ended one, a suffix, two ranges as multipart/byteranges (each part's bytes and
Content-Range checked), overlapping ranges merged into one, 416 with Content-Range
bytes */SIZE, and the issue's bad Range headers (bytes=0-0 x 1000, bytes=5-1, bytes=-0,
numbers past 2^64): each answered as the RFC says while the daemon keeps serving."""
from test_http_helpers import (add_http_client, curl, get, multipart_parts, pattern, put_file,
                               raw, start_http)

SIZE = 10000
DATA = pattern(SIZE, seed=1)


def serve(lab):
    put_file(lab, "images/disk.img", DATA)
    d = start_http(lab)
    return d, add_http_client(lab)


def test_single_range_is_206_with_exact_bytes(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/images/disk.img", "-r", "100-199")
    assert r.status == 206, r
    assert r.body == DATA[100:200]
    assert r.h("content-range") == f"bytes 100-199/{SIZE}"
    assert r.h("content-length") == "100"
    assert r.h("accept-ranges") == "bytes"


def test_open_ended_and_suffix_ranges(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/images/disk.img", "-r", "9990-")
    assert (r.status, r.body) == (206, DATA[9990:])
    assert r.h("content-range") == f"bytes 9990-9999/{SIZE}"
    r = curl(lab, c, "/images/disk.img", "-r", "-25")
    assert (r.status, r.body) == (206, DATA[-25:])
    assert r.h("content-range") == f"bytes 9975-9999/{SIZE}"
    # a last-pos past the end is clamped
    r = curl(lab, c, "/images/disk.img", "-r", "9998-50000")
    assert (r.status, r.body) == (206, DATA[9998:])


def test_two_ranges_are_multipart_byteranges(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/images/disk.img", "-r", "0-9,5000-5099")
    assert r.status == 206, r
    assert r.h("content-type").startswith("multipart/byteranges; boundary=")
    assert int(r.h("content-length")) == len(r.body)
    parts = multipart_parts(r)
    assert parts == [(f"bytes 0-9/{SIZE}", DATA[0:10]),
                     (f"bytes 5000-5099/{SIZE}", DATA[5000:5100])]


def test_overlapping_and_adjacent_ranges_merge(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/images/disk.img", "-r", "0-10,5-20,21-30")
    assert r.status == 206
    assert r.h("content-range") == f"bytes 0-30/{SIZE}"
    assert r.body == DATA[0:31]
    r = curl(lab, c, "/images/disk.img", "-r", "500-599,0-9,550-650")
    assert [cr for cr, _ in multipart_parts(r)] == [f"bytes 0-9/{SIZE}",
                                                     f"bytes 500-650/{SIZE}"]


def test_unsatisfiable_range_is_416_with_size(lab):
    _, c = serve(lab)
    r = curl(lab, c, "/images/disk.img", "-r", f"{SIZE}-")
    assert r.status == 416, r
    assert r.h("content-range") == f"bytes */{SIZE}"
    assert r.body == b""


def test_issue_bad_range_headers(lab):
    d, c = serve(lab)
    # 1000 x 0-0: merged into one range of one byte
    r, _ = raw(c, get("/images/disk.img", "Range: bytes=" + ",".join(["0-0"] * 1000)))
    assert (r.status, r.body) == (206, DATA[:1])
    assert r.h("content-range") == f"bytes 0-0/{SIZE}"
    # last < first: the header is invalid, the whole file comes back
    r, _ = raw(c, get("/images/disk.img", "Range: bytes=5-1"))
    assert (r.status, r.body) == (200, DATA)
    # a zero-length suffix selects nothing: 416
    r, _ = raw(c, get("/images/disk.img", "Range: bytes=-0"))
    assert r.status == 416 and r.h("content-range") == f"bytes */{SIZE}"
    # numbers past 2^64 - 1: malformed, the whole file
    for spec in ("0-18446744073709551616", "18446744073709551616-", "-99999999999999999999999"):
        r, _ = raw(c, get("/images/disk.img", f"Range: bytes={spec}"))
        assert (r.status, r.body) == (200, DATA), spec
    # 17 disjoint ranges: more than we serve, the whole file
    many = ",".join(f"{i * 10}-{i * 10}" for i in range(17))
    r, _ = raw(c, get("/images/disk.img", f"Range: bytes={many}"))
    assert (r.status, r.body) == (200, DATA)
    # another unit: ignored
    r, _ = raw(c, get("/images/disk.img", "Range: items=0-1"))
    assert r.status == 200
    assert d.alive()
    assert curl(lab, c, "/images/disk.img", "-r", "1-2").body == DATA[1:3]


def test_range_on_head_is_ignored(lab):
    """RFC 9110 §14.2: GET is the only method with range handling."""
    _, c = serve(lab)
    r, _ = raw(c, get("/images/disk.img", "Range: bytes=0-9", method="HEAD"))
    assert r.status == 200
    assert r.h("content-length") == str(SIZE)

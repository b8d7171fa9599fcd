"""Bad input: a client hostname (option 12) with `<script>`, control bytes (ESC, CR/LF)
and NULs is still served, but what lands in leases.db and in the log is sanitised: no
markup, no control bytes, no NUL, no forged log line."""
import re

import pytest

import pixied_lab as L

HOSTNAMES = {
    "script": b"<script>alert(1)</script>",
    "controls": b"evil\x1b[31mred\r\n2026-01-01T00:00:00Z err main: forged",
    "nuls": b"nul\x00in\x00the\x00middle\x00",
    "all": b"<b>x</b>\x00\x07\x1b]0;title\x07\nERROR forged",
    "quotes": b"a\"b'c&d\\e",
}
# What must not survive into a lease (and, escaped, into the log): bytes outside
# printable ASCII, markup and quoting characters (the set log_escape() escapes).
UNSAFE = re.compile(r"[^\x20-\x7e]|[<>&\"'\\]")


@pytest.mark.parametrize("case", sorted(HOSTNAMES))
def test_hostname_is_sanitised_in_lease_and_log(lab, client, case):
    d = lab.start_pixied()
    name = HOSTNAMES[case]
    off, ack = lab.dora(client, extra=[(12, name)])
    assert ack is not None and ack.msg_type == L.ACK, (off, ack)

    rows = [r for r in d.leases() if r["ip"] == ack.yiaddr]
    assert rows, d.leases()
    hn = rows[0].get("hostname") or ""
    assert not UNSAFE.search(hn), f"lease hostname not sanitised: {hn!r}"

    raw = d.log_bytes()
    assert b"\x00" not in raw, "NUL in the log"
    assert b"\x1b" not in raw, "ESC in the log"
    assert not re.search(rb"[\x01-\x08\x0b-\x1f\x7f]", raw), "control bytes in the log"
    assert b"<script>" not in raw and b"<b>" not in raw, "markup in the log"
    for line in raw.decode("utf-8", "replace").splitlines():
        assert "forged" not in line or not re.match(r"^(\S+ )?(err|ERROR)\b.*forged", line), \
            f"a hostname forged a log line: {line!r}"
    assert lab.probe_offer(client) is not None

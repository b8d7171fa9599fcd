"""[server] ipv6-ra: pixied answers an IPv6 Router Solicitation with a Router Advertisement
that says "no router here" — router lifetime 0, no prefix, M = O = 0, IP hop limit 255,
from its link-local address, with its MAC in a source link-layer option (RFC 4861 §4.2,
§6.1.2) — within MAX_RA_DELAY_TIME. Invalid solicitations (hop limit 254) and every
solicitation with ipv6-ra = no get nothing. The client is scapy on a raw socket.

The lab turns IPv6 off in every namespace; these tests turn it back on for the server's and
the client's eth0 only (DAD off so the link-local address is usable at once, the client's
own kernel sending no solicitations and ignoring advertisements)."""
import json

import pixied_lab as L

CLIENT_SCRIPT = r'''
import json, socket, sys, time
from scapy.all import Ether, IPv6, ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr
from scapy.all import ICMPv6NDOptPrefixInfo
iface, src, hlim, slla, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", float(sys.argv[5])
mac = open(f"/sys/class/net/{iface}/address").read().strip()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
s.bind((iface, 0))
s.settimeout(0.1)
pkt = Ether(src=mac, dst="33:33:00:00:00:02") / IPv6(src=src, dst="ff02::2", hlim=hlim) / ICMPv6ND_RS()
if slla:
    pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=mac)
t0 = time.time()
s.send(bytes(pkt))
out = []
while time.time() - t0 < wait:
    try:
        data = s.recv(4096)
    except socket.timeout:
        continue
    e = Ether(data)
    if ICMPv6ND_RA not in e:
        continue
    ra = e[ICMPv6ND_RA]
    opt = e[ICMPv6NDOptSrcLLAddr].lladdr if ICMPv6NDOptSrcLLAddr in e else None
    out.append({"t": time.time() - t0, "eth_src": e.src, "eth_dst": e.dst,
                "src": e[IPv6].src, "dst": e[IPv6].dst, "hlim": e[IPv6].hlim,
                "code": ra.code, "chlim": ra.chlim, "M": ra.M, "O": ra.O,
                "routerlifetime": ra.routerlifetime, "reachabletime": ra.reachabletime,
                "retranstimer": ra.retranstimer, "slla": opt,
                "prefix": ICMPv6NDOptPrefixInfo in e})
print(json.dumps(out))
'''


def enable_ipv6(lab, ns, iface, client=False):
    cmds = [f"echo 0 > /proc/sys/net/ipv6/conf/{iface}/accept_dad"]
    if client:
        cmds += [f"echo 0 > /proc/sys/net/ipv6/conf/{iface}/router_solicitations",
                 f"echo 0 > /proc/sys/net/ipv6/conf/{iface}/accept_ra"]
    cmds.append(f"echo 0 > /proc/sys/net/ipv6/conf/{iface}/disable_ipv6")
    lab.run(ns, ["sh", "-c", " && ".join(cmds)], check=True)
    r = lab.run(ns, ["ip", "-6", "-o", "addr", "show", "dev", iface, "scope", "link"],
                check=True)
    return r.stdout.split("inet6 ")[1].split("/")[0]


def solicit(lab, client, src, *, hlim=255, slla=True, wait=2.0):
    r = lab.run(client.ns, [L.PY, "-c", CLIENT_SCRIPT, client.iface, src, str(hlim),
                            "1" if slla else "0", str(wait)], timeout=wait + 30, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def start_lab(lab, ra):
    server_ll = enable_ipv6(lab, lab.server_ns, lab.server_iface)
    client = lab.add_client()
    client_ll = enable_ipv6(lab, client.ns, client.iface, client=True)
    d = lab.start_pixied({"server": {"ipv6-ra": ra}})
    return d, client, server_ll, client_ll


def test_router_solicitation_gets_a_no_router_advertisement(lab):
    d, client, server_ll, client_ll = start_lab(lab, "yes")
    assert "answering IPv6 router solicitations on eth0" in d.log()
    got = solicit(lab, client, client_ll)
    assert len(got) == 1, got
    ra = got[0]
    # RFC 4861 §6.1.2/§4.2: link-local source, hop limit 255; lifetime 0: not a router
    assert ra["src"] == server_ll and ra["hlim"] == 255 and ra["code"] == 0, ra
    assert ra["routerlifetime"] == 0 and ra["M"] == 0 and ra["O"] == 0, ra
    assert not ra["prefix"], ra
    assert ra["chlim"] == 0 and ra["reachabletime"] == 0 and ra["retranstimer"] == 0, ra
    assert ra["slla"] == lab.server_mac and ra["eth_src"] == lab.server_mac, ra
    # a solicitor with an address gets its answer unicast (RFC 4861 §6.2.6 MAY)
    assert ra["dst"] == client_ll and ra["eth_dst"] == client.mac, ra
    # MAX_RA_DELAY_TIME is 0.5 s; the rest is slack for a loaded machine
    assert ra["t"] < 1.5, ra
    assert not d.sanitizer_reports()


def test_solicitation_from_unspecified_address_gets_a_multicast_answer(lab):
    d, client, server_ll, _ = start_lab(lab, "yes")
    got = solicit(lab, client, "::", slla=False)
    assert len(got) == 1, got
    assert got[0]["dst"] == "ff02::1" and got[0]["src"] == server_ll, got
    assert got[0]["routerlifetime"] == 0, got


def test_solicitation_with_hop_limit_254_is_ignored(lab):
    d, client, _, client_ll = start_lab(lab, "yes")
    assert solicit(lab, client, client_ll, hlim=254, wait=1.5) == []
    # and a valid one right after is still answered
    assert len(solicit(lab, client, client_ll)) == 1


def test_nothing_is_sent_with_ipv6_ra_off(lab):
    d, client, _, client_ll = start_lab(lab, "no")
    assert "router solicitations" not in d.log()
    assert solicit(lab, client, client_ll, wait=2.0) == []
    assert solicit(lab, client, "::", slla=False, wait=1.5) == []

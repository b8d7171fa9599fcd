#!/usr/bin/env bash
# boot.sh — time to boot: QEMU VMs with real firmware network-boot the same Linux payload
# through pixied and through a reference stack (dnsmasq for DHCP + TFTP, nginx for HTTP),
# interleaved in one run; median time from VM start to the payload's marker line, a ratio
# table, and where pixied's seconds go. Writes the "Boot" section of bench/RESULTS.md.
#
#   sudo bench/boot.sh                         5 boots per firmware and stack (~15 min, 2 CPUs)
#   sudo BENCH_BOOTS=3 BENCH_FWS=bios bench/boot.sh
#   sudo BENCH_RA=1 bench/boot.sh              also "pixied-noRA" (ipv6-ra = no) and "ref+RA"
#                                              (the reference plus a script sending the same
#                                              "no router" advertisement): like against like
#
# pixied runs with [server] ipv6-ra = yes (it answers iPXE's IPv6 router solicitations with
# "no router here", so iPXE does not wait ~13 s for IPv6 autoconfiguration); the reference
# stack as it ships sends no advertisement.
#
# Everything runs in the lab of scripts/vmlab.sh (network namespaces it creates and
# deletes); both stacks serve from the same server namespace and address, one at a time;
# the VM has the same MAC each boot, so both stacks keep handing it the same lease. pixied
# gets a [host] rule for the VM (its script boots the kernel straight away, no menu), the
# reference an equivalent static boot.ipxe. Rounds alternate which stack goes first
# (ABBA) so a drift in machine load does not favour one; before each boot the script
# waits (at most BENCH_QUIET_WAIT s, default 60) for CPU pressure below BENCH_QUIET_PSI %
# (default 20): TCG emulation is CPU-bound and the machine may be shared.
#
# Variables: BENCH_BOOTS (default 5), BENCH_FWS ("bios uefi"), BENCH_RA (0), PIXIED_BIN
# (default build/pixied), BENCH_RESULTS (default bench/RESULTS.md; - to not write),
# BENCH_KEEP=1 (keep the lab directory: consoles, logs, per-boot results),
# BENCH_REPORT_FROM=DIR (no boots: write the section again from a directory kept that way).
# Owns: the Boot section of RESULTS.md (between its BEGIN/END markers). Needs root and
# `sudo ./scripts/deps.sh --vm --bench` (QEMU, OVMF, ipxe-qemu, dnsmasq, nginx).
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"
# shellcheck source=bench/lib.sh
. bench/lib.sh

BOOTS="${BENCH_BOOTS:-5}"
FWS="${BENCH_FWS:-bios uefi}"
RESULTS="${BENCH_RESULTS:-$top/bench/RESULTS.md}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-60}"
QUIET_PSI="${BENCH_QUIET_PSI:-20}"
export PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
VMLAB="$top/scripts/vmlab.sh"
MAC=52:54:00:e2:e0:01
PY=/usr/bin/python3

[ "$(id -u)" -eq 0 ] || { echo "boot.sh: needs root: sudo $0" >&2; exit 1; }
[ -x "$PIXIED_BIN" ] || { echo "boot.sh: no pixied at $PIXIED_BIN (./scripts/build.sh build)" >&2; exit 1; }
for t in qemu-system-x86_64 dnsmasq nginx; do
	command -v "$t" >/dev/null || { echo "boot.sh: $t missing: sudo ./scripts/deps.sh --vm --bench" >&2; exit 1; }
done

stacks=(pixied ref)
[ "${BENCH_RA:-0}" != 1 ] || stacks+=(pixied-noRA ref+RA)

dir=""
ra_pid=""
finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$ra_pid" ] || { kill "$ra_pid" 2>/dev/null; wait "$ra_pid" 2>/dev/null; } || true
	if [ -n "${BENCH_REPORT_FROM:-}" ]; then
		rm -rf "$dir"
	elif [ -n "$dir" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			cp -a "$dir" "/var/tmp/" && echo "boot.sh: kept $(basename "$dir") in /var/tmp"
		fi
		bash "$VMLAB" down "$dir" >/dev/null 2>&1 || true
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

extra="$(mktemp /tmp/pixied-bench-boot.XXXXXX.conf)"
cat >"$extra" <<EOF
[host bench-vm]
mac = $MAC
boot = marker
EOF
if [ -n "${BENCH_REPORT_FROM:-}" ]; then
	# write the section again from a kept run (BENCH_KEEP=1), no boots
	dir="$(mktemp -d /tmp/pixied-bench-report.XXXXXX)"
	cp -a "$BENCH_REPORT_FROM"/. "$dir/"
	rm -f "$dir/lab.env"
	BOOTS="$(tail -n +2 "$dir/boots.tsv" | cut -f1 | sort -n | tail -n1)"
	FWS="$(tail -n +2 "$dir/boots.tsv" | cut -f2 | awk '!s[$0]++' | xargs)"
	[ "${BENCH_RA:-0}" = 1 ] || ! grep -q 'RA' "$dir/boots.tsv" || BENCH_RA=1
	BENCH_DIR="$dir"
else
	dir="$(bash "$VMLAB" up --mode full --stack none --ipv6-ra yes --extra "$extra")"
	echo "boot.sh: pixied runs with [server] ipv6-ra = yes (\"no router here\" answers to iPXE's" \
		"IPv6 router solicitations)$([ "${BENCH_RA:-0}" != 1 ] || echo "; pixied-noRA: ipv6-ra = no")" >&2
	BENCH_DIR="$dir"
	. "$dir/lab.env"
fi
rm -f "$extra"
[ "${BENCH_RA:-0}" != 1 ] || [ ${#stacks[@]} -gt 2 ] || stacks+=(pixied-noRA ref+RA)
tsv="$dir/boots.tsv"

# The boots (a function so that BENCH_REPORT_FROM can skip them; its body is not indented
# because it holds a here-document).
run_boots() {

# For "ref+RA": the same minimal router advertisement pixied sends with ipv6-ra = yes (no
# prefix, router lifetime 0, M = O = 0), from a script in the server namespace, so the
# reference can be measured without the IPv6 wait too. iPXE ends its IPv6 autoconfiguration
# on the first one (ipv6conf_rx_router_advertisement) instead of soliciting for ~13 s.
cat >"$dir/null-ra.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
s.bind((sys.argv[1], 0))
mac = s.getsockname()[4]
src = bytes([0xFE, 0x80] + [0] * 6 + [mac[0] ^ 2, mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]])
dst = bytes([0xFF, 0x02] + [0] * 13 + [1])
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
while True:
    d, a = s.recvfrom(2048)
    if a[2] == 4 or len(d) < 58 or d[20] != 58 or d[54] != 133:   # ICMPv6 router solicitation
        continue
    icmp = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0) + bytes([1, 1]) + mac
    c = csum(src + dst + struct.pack("!I", len(icmp)) + b"\0\0\0\x3a" + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + src + dst
    s.send(bytes.fromhex("333300000001") + mac + b"\x86\xdd" + ip6 + icmp)
EOF

set_ra() { # yes | no: pixied's [server] ipv6-ra for the next start
	sed -i "s/^ipv6-ra = .*/ipv6-ra = $1/" "$dir/pixied.conf"
}

use_stack() { # pixied | pixied-noRA | ref | ref+RA | none
	if [ -n "$ra_pid" ]; then
		kill "$ra_pid" 2>/dev/null || true
		wait "$ra_pid" 2>/dev/null || true
		ra_pid=""
	fi
	case "$1" in
	pixied) set_ra yes; bash "$VMLAB" stack "$dir" pixied >/dev/null ;;
	pixied-noRA) set_ra no; bash "$VMLAB" stack "$dir" pixied >/dev/null ;;
	ref | none) bash "$VMLAB" stack "$dir" "$1" >/dev/null ;;
	ref+RA)
		bash "$VMLAB" stack "$dir" ref >/dev/null
		ip netns exec "${LAB_PREFIX}s" "$PY" "$dir/null-ra.py" eth0 </dev/null >>"$dir/null-ra.log" 2>&1 &
		ra_pid=$!
		;;
	esac
}

printf 'round\tfw\tstack\ttag\tstatus\tlinux_s\tmarker_s\tstart\tpsi\n' >"$tsv"
t_begin=$(date +%s)
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
total=$((BOOTS * $(wc -w <<<"$FWS") * ${#stacks[@]}))
n=0
for round in $(seq "$BOOTS"); do
	order=("${stacks[@]}")
	if [ $((round % 2)) -eq 0 ]; then
		order=()
		for ((i = ${#stacks[@]} - 1; i >= 0; i--)); do order+=("${stacks[$i]}"); done
	fi
	for fw in $FWS; do
		for st in "${order[@]}"; do
			n=$((n + 1))
			use_stack "$st"
			psi="$(bench_wait_quiet "$QUIET_WAIT" "$QUIET_PSI")"
			tag="${st//+/-}-$fw-$round"
			bash "$VMLAB" boot "$dir" --fw "$fw" --tag "$tag" --mac "$MAC" >/dev/null 2>&1 || true
			r="$dir/boot-$tag.result"
			get() { sed -n "s/^$1=//p" "$r"; }
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$fw" "$st" "$tag" \
				"$(get status)" "$(get linux_s)" "$(get marker_s)" "$(get start)" "$psi" >>"$tsv"
			echo "boot.sh: [$n/$total] round $round $fw $st: $(get status) marker $(get marker_s)s (cpu pressure $psi %)"
		done
	done
done
use_stack none
echo "$(( ($(date +%s) - t_begin) / 60 ))" >"$dir/minutes"
echo "$load_start" >"$dir/load_start"
}
[ -n "${BENCH_REPORT_FROM:-}" ] || run_boots

versions() {
	echo "  - pixied: \`$("$PIXIED_BIN" --version 2>&1 | head -n1)\`, full DHCP mode, \`[server] ipv6-ra = yes\` (\"no router here\" answers to IPv6 router solicitations; \`pixied-noRA\`: \`no\`), [host] rule for the VM (script boots the kernel at once)"
	echo "  - reference: \`$(dnsmasq --version | head -n1)\` (DHCP + TFTP, defaults: ping check on, windowsize not supported) and \`$(nginx -v 2>&1)\` (HTTP, sendfile), static boot.ipxe"
	echo "  - QEMU: \`$(qemu-system-x86_64 --version | head -n1)\`, TCG (no KVM), 1 vCPU, 512 MiB"
	echo "  - firmware: SeaBIOS $(dpkg-query -W -f='${Version}' seabios 2>/dev/null) + ipxe-qemu $(dpkg-query -W -f='${Version}' ipxe-qemu) ROM on e1000 (bios); OVMF $(dpkg-query -W -f='${Version}' ovmf) own PXE on virtio-net, no option ROM, then Debian ipxe.efi $(dpkg-query -W -f='${Version}' ipxe) (uefi)"
	echo "  - payload: $(cat "$("$top/scripts/payload.sh" --path)/VERSION") vmlinuz + busybox initramfs ($(du -k "$dir/root/vmlinuz" "$dir/root/initrd.gz" | awk '{ s += $1 } END { printf "%.1f MiB", s / 1024 }'))"
}

section="$dir/section.md"
{
	echo "<!-- BEGIN BOOT: generated by bench/boot.sh; edits inside are overwritten -->"
	echo "## Boot"
	echo
	echo "Command: \`sudo BENCH_BOOTS=\"$BOOTS\" BENCH_FWS=\"$FWS\" BENCH_RA=\"${BENCH_RA:-0}\" bench/boot.sh\` ($(cat "$dir/minutes" 2>/dev/null || echo ?) min)"
	echo
	bench_machine
	echo "- Load average (1, 5, 15 min) at the start: $(cat "$dir/load_start" 2>/dev/null || echo ?)"
	echo "- Time = from starting QEMU to the payload's marker line on the serial console (the"
	echo "  initramfs's /init prints it as its first act); \"Linux\" = to the kernel's first line."
	echo "  Rounds alternate the order of the stacks; before each boot the script waited up to"
	echo "  ${QUIET_WAIT} s for CPU pressure (some avg10) below ${QUIET_PSI} %."
	echo "- Servers and clients:"
	versions
	echo
	"$PY" - "$tsv" "$dir" "$MAC" <<'EOF'
import datetime, os, re, statistics as st, sys
tsv, d, mac = sys.argv[1:4]
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
keys = ["round", "fw", "stack", "tag", "status", "linux", "marker", "start", "psi"]
rows = [dict(zip(keys, r)) for r in rows]
fws = list(dict.fromkeys(r["fw"] for r in rows))
stacks = list(dict.fromkeys(r["stack"] for r in rows))
def med(v):
    return st.median(v) if v else None
def f(v, p=1):
    return "–" if v is None else f"{v:.{p}f}"
print("### Time to boot (seconds, median over the boots that reached the marker)\n")
print("| firmware | stack | boots ok | marker (median) | min–max | Linux (median) |")
print("|---|---|---:|---:|---:|---:|")
meds = {}
for fw in fws:
    for s in stacks:
        rs = [r for r in rows if r["fw"] == fw and r["stack"] == s]
        ok = [r for r in rs if r["status"] == "ok"]
        m = [float(r["marker"]) for r in ok]
        l = [float(r["linux"]) for r in ok if r["linux"]]
        meds[fw, s] = med(m)
        rng = f"{min(m):.1f}–{max(m):.1f}" if m else "–"
        print(f"| {fw} | {s} | {len(ok)}/{len(rs)} | {f(med(m))} | {rng} | {f(med(l))} |")
print("\n### Ratio (median time to the marker, pixied ÷ reference; target ≤ 0.80)\n")
# pixied as configured (ipv6-ra = yes) against the reference as it ships, then like
# against like: both with the "no router" answer, both without
pairs = [(a, b) for a, b in (("pixied", "ref"), ("pixied", "ref+RA"), ("pixied-noRA", "ref"))
         if a in stacks and b in stacks]
print("| firmware | " + " | ".join(f"{a} ÷ {b}" for a, b in pairs) + " |")
print("|---|" + "---:|" * len(pairs))
for fw in fws:
    cells = []
    for a, b in pairs:
        x, y = meds.get((fw, a)), meds.get((fw, b))
        cells.append(f"{x / y:.2f}" if x and y else "–")
    print(f"| {fw} | " + " | ".join(cells) + " |")

# where pixied's seconds go: server log times relative to the VM's start
T = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z (\w+) (\w+): (\S+)(.*)$")
def events(tag, start):
    out = []
    try:
        text = open(os.path.join(d, f"boot-{tag}.pixied.log"), errors="replace").read()
    except OSError:
        return out
    for line in text.splitlines():
        m = T.match(line)
        if not m:
            continue
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        out.append((t - start, m.group(3), m.group(4), m.group(5)))
    return out
def phases(r):
    ev = events(r["tag"], float(r["start"]))
    p = {}
    def first(mod, evn, needle="", after=None):
        for t, mo, e, rest in ev:
            if mo == mod and e == evn and needle in rest and (after is None or t >= after):
                return t
        return None
    ra = "sent router advertisement"
    p["first DHCP offer"] = first("dhcp", "offer")
    if r["fw"] == "uefi":
        p["firmware's REQUEST answered (ACK)"] = first("dhcp", "ack", "ipxe=no")
        p["ipxe.efi sent (TFTP)"] = first("tftp", "end", "result=ok")
        p["iPXE's DHCP (offer)"] = first("dhcp", "offer", "ipxe=yes")
        p["iPXE's REQUEST answered (ACK)"] = first("dhcp", "ack", "ipxe=yes")
        # ipxe.efi solicits around its DHCP; the answer is usually just after the ACK
        p["iPXE's router solicitation answered (RA)"] = first(
            "ra", "eth0:", ra, after=p["iPXE's DHCP (offer)"])
    else:
        p["iPXE's router solicitation answered (RA)"] = first("ra", "eth0:", ra)
        p["iPXE's REQUEST answered (ACK)"] = first("dhcp", "ack", "ipxe=yes")
    p["boot.ipxe fetched (HTTP)"] = first("boot", "ipxe")
    p["kernel + initrd served (HTTP)"] = first("http", "access", "initrd.gz")
    p["Linux prints its first line"] = float(r["linux"]) if r["linux"] else None
    p["marker (Linux has run /init)"] = float(r["marker"]) if r["marker"] else None
    return p
for s in [x for x in stacks if x.startswith("pixied")]:
    for fw in fws:
        ok = [r for r in rows if r["fw"] == fw and r["stack"] == s and r["status"] == "ok"]
        if not ok:
            continue
        ps = [phases(r) for r in ok]
        print(f"\n### Where the seconds go: {s}, {fw} (median seconds after VM start)\n")
        print("| step | at | since the step before |")
        print("|---|---:|---:|")
        prev = 0.0
        for k in ps[0]:
            v = med([p[k] for p in ps if p.get(k) is not None])
            if v is None:
                continue
            print(f"| {k} | {v:.1f} | {v - prev:+.1f} |")
            prev = v
print("\n### Every boot\n")
print("| round | firmware | stack | status | Linux | marker | CPU pressure before |")
print("|---:|---|---|---|---:|---:|---:|")
for r in rows:
    print(f"| {r['round']} | {r['fw']} | {r['stack']} | {r['status']} | {r['linux'] or '–'} | {r['marker'] or '–'} | {r['psi']} % |")
EOF
	cat <<'EOF'

### Notes

- **The IPv6 wait.** Without an answer to its router solicitations iPXE shows
  `Configuring (net0 ...)` for about 15 s after its DHCPv4 exchange is done: its IPv6
  autoconfiguration solicits with a back-off (up to 3 s) for ~13 s, and iPXE's `ifconf` waits
  for every configurator. pixied with `[server] ipv6-ra = yes` (as benchmarked) answers the
  first solicitation with a router advertisement that offers nothing (no prefix, router
  lifetime 0, M = O = 0) after RFC 4861's random 0–0.5 s delay; iPXE ends its IPv6
  configuration on it (`ipv6conf_rx_router_advertisement` in iPXE's ndp.c) and goes on at
  once. The reference as it ships (`ref`) sends none; `ref+RA` (BENCH_RA=1) is the reference
  given the same answer by a small script, and `pixied-noRA` is pixied with `ipv6-ra = no`:
  like against like, the gap is what pixied's own answers save (the ~3 s iPXE would wait for
  ProxyDHCP offers — pixied's offer carries option 175.176 "no-pxedhcp" and vendor class
  `PXEClient`, so iPXE asks for its address after ~1 s — and dnsmasq's 3 s ping check; OVMF's
  fixed ~3.8 s between DISCOVER and REQUEST and TFTP speed are the clients' own).
- **The rest belongs to the clients** (see "Where the seconds go"): SeaBIOS + the iPXE ROM
  start and its 2 s "Press Ctrl-B" banner before the first DISCOVER; iPXE's 1 s between the
  offer and its REQUEST; OVMF's ~4 s to its first DISCOVER and ~3.8 s to its REQUEST; ~6 s
  from ipxe.efi's start to its DHCP (its 2 s banner, TCG); ~5 s for the kernel to decompress
  and print its first line and ~2.5 s more to run /init (TCG). pixied's own steps (DHCP
  answers, TFTP, the script, 9 MB over HTTP) add up to well under a second.
EOF
	echo
	echo "<!-- END BOOT -->"
} >"$section"
echo
cat "$section"

bench_write_section BOOT "$section" "$RESULTS"

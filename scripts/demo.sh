#!/usr/bin/env bash
# demo.sh — the README's first command: `sudo ./scripts/demo.sh [--bios]`.
#
# Installs what is missing, builds pixied, then boots a QEMU virtual machine through it in a
# private network-namespace lab and shows its console live (scripts/vmlab.sh demo).
# With DEMO_DHCP_ONLY=1, the older demo instead: it runs pixied in a private network-namespace lab
# (nothing touches this host's network): pixied serves DHCP in full mode on a virtual LAN,
# and a real DHCP client (ISC dhclient, presenting itself like a BIOS PXE firmware) in
# another namespace gets an address and a boot file name from it. Prints pixied's log and
# the client's lease, deletes the lab, and ends with a one-line summary.
#
# Environment: PIXIED_BIN (default build/pixied), DEMO_SKIP_BUILD=1 (use an existing
# build), PIXIED_KEEP_LAB=1 (keep the scratch directory).
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root for network namespaces: sudo $0" >&2
	exit 1
fi

if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
	echo "== installing dependencies"
	bash ./scripts/deps.sh --vm
	echo "== building"
	bash ./scripts/build.sh build
fi
PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
[ -x "$PIXIED_BIN" ] || { echo "demo.sh: no daemon at $PIXIED_BIN" >&2; exit 1; }

# The demo: a virtual machine (UEFI by default, `--bios` for SeaBIOS + iPXE) network-boots
# Linux through pixied, its console live (scripts/vmlab.sh demo). DEMO_DHCP_ONLY=1 runs the
# quicker one below instead: a DHCP client gets a lease and a boot file name.
if [ "${DEMO_DHCP_ONLY:-0}" != 1 ]; then
	export PIXIED_BIN
	exec bash ./scripts/vmlab.sh demo "$@"
fi

# shellcheck source=scripts/lab.sh
. ./scripts/lab.sh

SERVER_IP=10.77.0.1
CLIENT_MAC=52:54:00:de:30:01
t0=$(date +%s.%N)

finish() {
	local rc=$?
	trap - EXIT INT TERM
	lab_cleanup
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== building the lab (network namespaces)"
lab_init pxd
lab_ns s
lab_ns c
srv="$(lab_name s)"
cli="$(lab_name c)"
lab_link "$srv" eth0 br0 "$SERVER_IP/24"
lab_link "$cli" eth0 br0 "" "$CLIENT_MAC"
echo "   server namespace $srv: eth0 $SERVER_IP/24"
echo "   client namespace $cli: eth0 $CLIENT_MAC (no address yet)"

mkdir -p "$LAB_DIR/root" "$LAB_DIR/state"
echo "hello from pixied" >"$LAB_DIR/root/hello.txt"
chmod -R a+rX "$LAB_DIR/root"
chown pixied:pixied "$LAB_DIR/state" 2>/dev/null || true
chmod 0750 "$LAB_DIR/state"

conf="$LAB_DIR/pixied.conf"
cat >"$conf" <<EOF
[server]
interfaces = eth0
root = $LAB_DIR/root
state = $LAB_DIR/state
user = pixied

[dhcp]
mode = full
range = 10.77.0.100 10.77.0.199
router = $SERVER_IP
dns = $SERVER_IP
domain = demo.lan
lease-time = 1h

[loaders]
bios = /usr/lib/ipxe/undionly.kpxe
efi64 = /usr/lib/ipxe/ipxe.efi

[http]
port = 80

[tftp]
enabled = no
EOF
chmod 0644 "$conf"

echo "== starting pixied in $srv"
log="$LAB_DIR/pixied.log"
ip netns exec "$srv" "$PIXIED_BIN" -c "$conf" -v >"$log" 2>&1 &
pixied_pid=$!
for _ in $(seq 150); do
	grep -q ' ready' "$log" 2>/dev/null && break
	kill -0 "$pixied_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q ' ready' "$log"; then
	echo "demo.sh: pixied did not become ready:" >&2
	sed 's/^/   pixied | /' "$log" >&2
	exit 1
fi

echo "== running dhclient in $cli"
envf="$LAB_DIR/lease.env"
hook="$LAB_DIR/dhclient-hook.sh"
cat >"$hook" <<EOF
#!/bin/sh
case "\$reason" in
PREINIT) ip link set dev "\$interface" up ;;
BOUND|REBOOT)
	ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
	env > "$envf.tmp" && mv "$envf.tmp" "$envf" ;;
esac
exit 0
EOF
chmod 0755 "$hook"
cat >"$LAB_DIR/dhclient.conf" <<'EOF'
timeout 20;
initial-interval 1;
send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";
send pxe-system-type 0;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
	host-name, bootfile-name, tftp-server-name, dhcp-lease-time;
EOF
client_rc=0
timeout 40 ip netns exec "$cli" dhclient -1 -v -4 -cf "$LAB_DIR/dhclient.conf" \
	-lf "$LAB_DIR/dhclient.leases" -pf "$LAB_DIR/dhclient.pid" -sf "$hook" eth0 \
	>"$LAB_DIR/dhclient.log" 2>&1 || client_rc=$?
sleep 0.3

echo
echo "-- pixied's log --"
sed 's/^/   pixied | /' "$log"
echo
echo "-- dhclient --"
grep -E 'DHCP|bound' "$LAB_DIR/dhclient.log" | sed 's/^/   dhclient | /' || true
echo

val() { sed -n "s/^$1=//p" "$envf" 2>/dev/null | head -n1 | tr -d "'"; }
if [ "$client_rc" -ne 0 ] || [ ! -s "$envf" ]; then
	echo "demo: FAILED — the client got no lease from pixied (dhclient exit $client_rc)"
	exit 1
fi
ip_addr="$(val new_ip_address)"
boot="$(val new_bootfile_name)"
[ -n "$boot" ] || boot="$(val new_filename)"
echo "-- the client's lease --"
echo "   address     $ip_addr/$(val new_subnet_mask)"
echo "   router      $(val new_routers)"
echo "   dns         $(val new_domain_name_servers)"
echo "   domain      $(val new_domain_name)"
echo "   server      $(val new_dhcp_server_identifier)"
echo "   next-server $(val new_next_server)"
echo "   boot file   ${boot:-(none)}"
echo "   lease time  $(val new_dhcp_lease_time)s"
echo "   on $cli:    $(ip -n "$cli" -4 -o addr show dev eth0 | awk '{print $4}')"
echo

secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$boot" ]; then
	echo "demo: ok — client $CLIENT_MAC got $ip_addr and boot file '$boot' from pixied in $secs s"
else
	echo "demo: FAILED — client $CLIENT_MAC got $ip_addr but no boot file name ($secs s)"
	exit 1
fi

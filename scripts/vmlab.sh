#!/usr/bin/env bash
# vmlab.sh — the virtual-machine lab: real firmware in QEMU network-boots the payload
# (scripts/payload.sh) through pixied, inside network namespaces this script creates.
# Shared by tests/e2e, scripts/demo.sh and bench/boot.sh.
#
#   vmlab.sh up [options]            create the lab, start the server stack; prints its DIR
#       --mode full|proxy            pixied's DHCP mode (proxy: dnsmasq hands out addresses
#                                    from a namespace of its own, no boot options)
#       --stack pixied|ref|none      the server: pixied (default), or the reference stack
#                                    dnsmasq (DHCP + TFTP) + nginx (HTTP) serving the same
#                                    kernel and initrd (full mode only; bench/boot.sh)
#       --menu-default NAME          [menu] default (default: marker)
#       --menu-timeout DUR           [menu] timeout (default: 1s)
#       --extra FILE                 more config sections appended to pixied.conf
#       --set SECTION.KEY=VALUE      one more key in an existing section (repeatable)
#       --iso                        also put payload.sh's ISO at ROOT/iso/marker.iso
#       --ipv6-ra yes|no             pixied's [server] ipv6-ra (default yes): answer the VM's
#                                    IPv6 router solicitations with "no router here", so
#                                    iPXE does not wait ~13 s for IPv6 autoconfiguration
#   vmlab.sh boot DIR [options]      boot one VM; exit 0 when the marker line came
#       --fw bios|uefi               SeaBIOS + iPXE ROM on e1000, or OVMF's own PXE on
#                                    virtio-net without an option ROM (default: bios)
#       --mac MAC                    the VM's MAC (default 52:54:00:e2:e0:01)
#       --tag NAME                   names its files: DIR/boot-NAME.{serial,result,pixied.log}
#       --timeout SECONDS            give up after this long (default 300)
#       --live                       copy the serial console to stdout while it runs
#   vmlab.sh stack DIR pixied|ref|none   stop the running server stack, start another
#   vmlab.sh reload DIR              SIGHUP pixied (after a test edited DIR/pixied.conf)
#   vmlab.sh demo [--fw uefi|bios]  the README's demo: up, one boot with the console live,
#                                    down, a one-line summary (scripts/demo.sh runs it)
#   vmlab.sh down DIR                stop everything, delete the namespaces (and DIR unless
#                                    PIXIED_KEEP_LAB=1)
#
# Topology (names from scripts/lab.sh: pxv<6 hex><role>):
#   <p>w  switch: bridge br0, one tap per VM (QEMU runs here, TCG: no KVM needed)
#   <p>s  server: eth0 10.77.0.1/24 on br0 (pixied, or dnsmasq + nginx for --stack ref)
#   <p>d  DHCP peer for --mode proxy: eth0 10.77.0.2/24, dnsmasq handing out 10.77.0.100-199
# IPv6 stays off in every namespace (lab.sh) except on the bridge ports and the server's
# eth0 (link-local only, no DAD), where pixied with ipv6-ra = yes answers a VM's router
# solicitations; with --ipv6-ra no (or the reference stack) they go unanswered, as on an
# IPv4-only LAN.
#
# The result of a boot, DIR/boot-NAME.result (key=value lines): fw, mac, status
# (ok|timeout|failed|no-marker), reason (the console line that ended a failed one), start
# (epoch seconds when QEMU started, to line up with server logs), linux_s (VM start ->
# "Linux version" on the console), marker_s (-> the marker line), total_s, cmdline (what
# the marker printed). DIR/boot-NAME.pixied.log holds the server log lines written during
# that boot; DIR/boot-NAME.serial the whole console.
#
# Environment: PIXIED_BIN (default build/pixied), PIXIED_E2E_CACHE (payload cache),
# VMLAB_QEMU_EXTRA (more QEMU arguments), PIXIED_KEEP_LAB=1.
# Owns: the lab's namespaces, taps, server daemons, QEMU processes and files in DIR; stops
# only processes it started (by PID, then whatever is left inside its own namespaces).
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lab.sh
. "$top/scripts/lab.sh"

SERVER_IP=10.77.0.1
PEER_IP=10.77.0.2
POOL="10.77.0.100 10.77.0.199"
DEFAULT_MAC=52:54:00:e2:e0:01
MARKER=PIXIED-E2E-MARKER
# What the consoles print when a boot cannot succeed any more: stop waiting at once.
DEAD_ENDS='No more network devices|Could not boot|Boot failed|Kernel panic|No bootable device|BdsDxe: failed to load|Shell> |Failed to load ldlinux'
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

die() {
	echo "vmlab: $*" >&2
	exit 1
}

now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# --- state: DIR/lab.env holds what `down` needs in a later invocation ------------------
save_state() {
	{
		printf 'LAB_PREFIX=%q\nLAB_DIR=%q\nLAB_SWITCH=%q\n' "$LAB_PREFIX" "$LAB_DIR" "$LAB_SWITCH"
		printf 'LAB_NS=(%s)\n' "${LAB_NS[*]}"
		printf 'VM_MODE=%q\nVM_STACK=%q\nIPV6_RA=%q\n' "$VM_MODE" "$VM_STACK" "$IPV6_RA"
	} >"$LAB_DIR/lab.env"
}

load_state() {
	local dir="${1:?missing lab DIR}"
	[ -f "$dir/lab.env" ] || die "$dir is not a vmlab directory (no lab.env)"
	# shellcheck disable=SC1091
	. "$dir/lab.env"
}

srv_ns() { lab_name s; }

# --- processes started by the lab: DIR/NAME.pid -----------------------------------------
start_bg() { # NAME NS LOG CMD...: run CMD in NS in the background, remember its PID
	local name="$1" ns="$2" log="$3"
	shift 3
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	echo $! >"$LAB_DIR/$name.pid"
}

stop_pid() { # NAME: TERM then KILL the process in DIR/NAME.pid
	local f="$LAB_DIR/$1.pid" pid i
	[ -f "$f" ] || return 0
	pid="$(cat "$f")"
	rm -f "$f"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

alive() { [ -f "$LAB_DIR/$1.pid" ] && kill -0 "$(cat "$LAB_DIR/$1.pid")" 2>/dev/null; }

wait_log() { # NAME LOG REGEX SECONDS [FROM_BYTE]
	local name="$1" log="$2" re="$3" secs="$4" from="${5:-0}" i
	for i in $(seq $((secs * 10))); do
		# (grep -q may end the pipe early: tail's SIGPIPE must not count as "no match")
		{ tail -c +$((from + 1)) "$log" 2>/dev/null || true; } | grep -Eq "$re" && return 0
		alive "$name" || break
		sleep 0.1
	done
	echo "vmlab: $name did not start:" >&2
	tail -c +$((from + 1)) "$log" | tail -n 30 | sed "s/^/   $name | /" >&2
	return 1
}

# --- the root: the payload under stable names ----------------------------------------
fill_root() {
	local cache root="$LAB_DIR/root"
	cache="$("$top/scripts/payload.sh" ${WANT_ISO:+--iso "$root/iso"})"
	mkdir -p "$root"
	# copies, not links: pixied serves only what is beneath its root (RESOLVE_BENEATH)
	cp -f "$cache/vmlinuz" "$cache/initrd.gz" "$root/"
	chmod -R a+rX "$root"
	mkdir -p "$LAB_DIR/state"
	chown pixied:pixied "$LAB_DIR/state" 2>/dev/null || true
	chmod 0750 "$LAB_DIR/state"
}

write_pixied_conf() {
	local conf="$LAB_DIR/pixied.conf" dhcp
	if [ "$VM_MODE" = full ]; then
		dhcp="mode = full
range = $POOL
lease-time = 1h"
	else
		dhcp="mode = proxy"
	fi
	cat >"$conf" <<EOF
; written by scripts/vmlab.sh
[server]
interfaces = eth0
root = $LAB_DIR/root
state = $LAB_DIR/state
user = pixied
ipv6-ra = $IPV6_RA

[dhcp]
$dhcp

[loaders]

[tftp]
enabled = yes

[http]
port = 80

[menu]
title = pixied e2e lab
default = $MENU_DEFAULT
timeout = $MENU_TIMEOUT

[entry marker]
label = Linux + busybox marker (menu default)
kernel = vmlinuz
initrd = initrd.gz
args = console=ttyS0 panic=-1 pixied=menu
EOF
	# The JSON API's password (docs/api.md): a random one per lab, its hash in the config,
	# the password itself in DIR/api-password (0600) for the e2e tests' record checks.
	# A pixied without --hash-password (no API yet) gets no [api] section.
	local pw hash
	pw="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	if hash="$(printf '%s\n' "$pw" | "$PIXIED_BIN" --hash-password 2>/dev/null)" &&
		[ -n "$hash" ]; then
		(umask 077 && printf '%s\n' "$pw" >"$LAB_DIR/api-password")
		printf '\n[api]\npassword-hash = %s\n' "$hash" >>"$conf"
	fi
	if [ -n "$EXTRA" ]; then
		printf '\n' >>"$conf"
		cat "$EXTRA" >>"$conf"
	fi
	local kv sect key val
	for kv in "${SETS[@]}"; do
		sect="${kv%%.*}"
		kv="${kv#*.}"
		key="${kv%%=*}"
		val="${kv#*=}"
		# insert "key = val" right after the [sect] header
		awk -v s="[$sect]" -v l="$key = $val" '{ print } $0 == s { print l }' "$conf" >"$conf.new"
		grep -qxF "[$sect]" "$conf" || die "--set: no section [$sect] in the config"
		mv -f "$conf.new" "$conf"
	done
	chmod 0644 "$conf"
	"$PIXIED_BIN" --check -c "$conf" >/dev/null || {
		"$PIXIED_BIN" --check -c "$conf" >&2 || true
		die "the lab's pixied.conf does not validate"
	}
}

# --- server stacks --------------------------------------------------------------------
start_pixied() {
	local log="$LAB_DIR/pixied.log" from
	from=$(stat -c %s "$log" 2>/dev/null || echo 0)
	start_bg pixied "$(srv_ns)" "$log" "$PIXIED_BIN" -c "$LAB_DIR/pixied.conf" -v
	wait_log pixied "$log" ' ready' 15 "$from"
}

# The reference (bench/boot.sh): dnsmasq as DHCP + TFTP server and nginx as HTTP server,
# at their defaults (dnsmasq pings an address before offering it, its TFTP ignores
# windowsize), serving the same kernel and initrd with a script like the one pixied
# renders for a host rule (full mode only).
start_ref() {
	local root="$LAB_DIR/root" d="$LAB_DIR/ref"
	[ "$VM_MODE" = full ] || die "the reference stack runs in full mode only"
	mkdir -p "$d/tftp" "$d/www"
	cat >"$d/dnsmasq.conf" <<EOF
port=0
interface=eth0
bind-interfaces
log-dhcp
user=root
group=root
dhcp-leasefile=$d/dnsmasq.leases
dhcp-range=${POOL% *},${POOL#* },1h
enable-tftp
tftp-root=$d/tftp
dhcp-match=set:ipxe,175
dhcp-vendorclass=set:bios,PXEClient:Arch:00000
dhcp-vendorclass=set:efi64,PXEClient:Arch:00007
dhcp-vendorclass=set:efi64,PXEClient:Arch:00009
dhcp-boot=tag:ipxe,http://$SERVER_IP/boot.ipxe
dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe,,$SERVER_IP
dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,$SERVER_IP
EOF
	cp -f /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi "$d/tftp/"
	cp -f "$root/vmlinuz" "$root/initrd.gz" "$d/www/"
	cat >"$d/www/boot.ipxe" <<EOF
#!ipxe
kernel http://$SERVER_IP/vmlinuz initrd=initrd.gz console=ttyS0 panic=-1 pixied=menu
initrd http://$SERVER_IP/initrd.gz
boot
EOF
	chmod -R a+rX "$d"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx-error.log;
events { worker_connections 64; }
http {
	log_format t '\$msec \$remote_addr "\$request" \$status \$body_bytes_sent';
	access_log $LAB_DIR/ref.log t;
	sendfile on;
	default_type application/octet-stream;
	server {
		listen $SERVER_IP:80;
		root $d/www;
	}
}
EOF
	local log="$LAB_DIR/ref.log" from
	from=$(stat -c %s "$log" 2>/dev/null || echo 0)
	start_bg ref-dnsmasq "$(srv_ns)" "$log" dnsmasq --no-daemon --conf-file="$d/dnsmasq.conf"
	start_bg ref-nginx "$(srv_ns)" "$LAB_DIR/ref-nginx.log" nginx -c "$d/nginx.conf" \
		-e "$d/nginx-error.log"
	wait_log ref-dnsmasq "$log" 'TFTP root is' 10 "$from"
}

stop_stack() {
	stop_pid pixied
	stop_pid ref-dnsmasq
	stop_pid ref-nginx
}

start_stack() {
	case "$1" in
	pixied) start_pixied ;;
	ref) start_ref ;;
	none) ;;
	*) die "unknown stack '$1' (pixied, ref, none)" ;;
	esac
	VM_STACK="$1"
	save_state
}

# --- up / down ------------------------------------------------------------------------
cmd_up() {
	VM_MODE=full
	VM_STACK=pixied
	MENU_DEFAULT=marker
	MENU_TIMEOUT=1s
	IPV6_RA=yes
	EXTRA=""
	SETS=()
	WANT_ISO=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--mode) VM_MODE="$2"; shift ;;
		--stack) VM_STACK="$2"; shift ;;
		--menu-default) MENU_DEFAULT="$2"; shift ;;
		--menu-timeout) MENU_TIMEOUT="$2"; shift ;;
		--extra) EXTRA="$(realpath "$2")"; shift ;;
		--set) SETS+=("$2"); shift ;;
		--iso) WANT_ISO=1 ;;
		--ipv6-ra) IPV6_RA="$2"; shift ;;
		*) die "up: unknown option '$1'" ;;
		esac
		shift
	done
	case "$VM_MODE" in full | proxy) ;; *) die "--mode full|proxy" ;; esac
	case "$IPV6_RA" in yes | no) ;; *) die "--ipv6-ra yes|no" ;; esac
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, taps)"
	[ -x "$PIXIED_BIN" ] || die "no pixied at $PIXIED_BIN (./scripts/build.sh build)"

	lab_init pxv
	# from here on a failure must not leave the namespaces behind
	trap 'rc=$?; if [ $rc -ne 0 ]; then stop_stack; stop_pid peer-dnsmasq; lab_cleanup; fi' EXIT
	lab_ns s
	save_state
	lab_link "$(srv_ns)" eth0 br0 "$SERVER_IP/24"
	# IPv6 on the server's eth0 only: a link-local address at once (no DAD) for pixied's
	# router advertisements to come from (RFC 4861 §6.1.2)
	ip netns exec "$(srv_ns)" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad &&
		echo 0 > /proc/sys/net/ipv6/conf/eth0/router_solicitations &&
		echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'
	if [ "$VM_MODE" = proxy ]; then
		lab_ns d
		save_state
		lab_link "$(lab_name d)" eth0 br0 "$PEER_IP/24"
		# the network's ordinary DHCP server: addresses only, no boot options
		start_bg peer-dnsmasq "$(lab_name d)" "$LAB_DIR/peer-dnsmasq.log" \
			dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=eth0 \
			--bind-interfaces --dhcp-range="${POOL% *},${POOL#* },1h" --log-dhcp \
			--user=root --group=root --pid-file= \
			--dhcp-leasefile="$LAB_DIR/peer-dnsmasq.leases"
		wait_log peer-dnsmasq "$LAB_DIR/peer-dnsmasq.log" 'DHCP, IP range' 10
	fi
	fill_root
	write_pixied_conf
	start_stack "$VM_STACK"
	trap - EXIT
	echo "$LAB_DIR"
}

cmd_down() {
	load_state "$1"
	stop_stack
	stop_pid peer-dnsmasq
	local f
	for f in "$LAB_DIR"/qemu-*.pid; do
		[ -e "$f" ] || continue
		f="$(basename "$f" .pid)"
		stop_pid "$f"
	done
	lab_cleanup
}

cmd_stack() {
	load_state "$1"
	stop_stack
	start_stack "$2"
}

cmd_reload() {
	load_state "$1"
	alive pixied || die "pixied is not running"
	local from
	from=$(stat -c %s "$LAB_DIR/pixied.log")
	kill -HUP "$(cat "$LAB_DIR/pixied.pid")"
	wait_log pixied "$LAB_DIR/pixied.log" 'reload|ready' 10 "$from"
}

# --- one boot -------------------------------------------------------------------------
cmd_boot() {
	local dir="$1"
	shift
	load_state "$dir"
	local fw=bios mac="$DEFAULT_MAC" tag="" timeout=300 live=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--fw) fw="$2"; shift ;;
		--mac) mac="$2"; shift ;;
		--tag) tag="$2"; shift ;;
		--timeout) timeout="$2"; shift ;;
		--live) live=1 ;;
		*) die "boot: unknown option '$1'" ;;
		esac
		shift
	done
	[ -n "$tag" ] || tag="$fw-$(date +%s%N)"
	local sw="$LAB_SWITCH" tap serial="$LAB_DIR/boot-$tag.serial"
	local result="$LAB_DIR/boot-$tag.result" qargs=()
	tap="t$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
	ip -n "$sw" tuntap add dev "$tap" mode tap
	ip -n "$sw" link set "$tap" master br0 up

	qargs=(-accel tcg -m 512 -smp 1 -nodefaults -no-user-config -display none -no-reboot
		-serial "file:$serial"
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
	case "$fw" in
	bios)
		# SeaBIOS prints to the serial port with graphics=off; the e1000's option ROM is
		# ipxe-qemu's iPXE, which does the whole network boot.
		qargs+=(-machine pc,graphics=off -device "e1000,netdev=n0,mac=$mac" -boot n)
		;;
	uefi)
		# OVMF's own PXE client runs only for a NIC without an option ROM (romfile=).
		cp -f "$OVMF_VARS" "$LAB_DIR/ovmf-vars-$tag.fd"
		qargs+=(-machine pc
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$LAB_DIR/ovmf-vars-$tag.fd"
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,bootindex=1")
		;;
	*) die "--fw bios|uefi" ;;
	esac
	# shellcheck disable=SC2206
	[ -z "${VMLAB_QEMU_EXTRA:-}" ] || qargs+=($VMLAB_QEMU_EXTRA)

	local slog="$LAB_DIR/pixied.log"
	[ "$VM_STACK" = ref ] && slog="$LAB_DIR/ref.log"
	local from
	from=$(stat -c %s "$slog" 2>/dev/null || echo 0)
	: >"$serial"
	local t0 qpid tailpid="" status=running linux_s="" marker_s="" cmdline="" reason="" start
	t0=$(now_ns)
	start=$(date +%s.%N)
	ip netns exec "$sw" qemu-system-x86_64 "${qargs[@]}" </dev/null >"$LAB_DIR/qemu-$tag.out" 2>&1 &
	qpid=$!
	echo "$qpid" >"$LAB_DIR/qemu-$tag.pid"
	if [ "$live" = 1 ]; then
		# the console as it comes, less the terminal resets (ESC c) SeaBIOS and Linux send,
		# which would wipe the watcher's screen
		tail -n +1 -s 0.2 -f --pid="$qpid" "$serial" | sed -u 's/\x1bc//g' &
		tailpid=$!
	fi
	# Ctrl-C or a kill while the VM runs: stop it (the caller's trap removes the lab)
	trap 'stop_pid "qemu-$tag"; exit 130' INT TERM
	local deadline=$((t0 + timeout * 1000000000)) line
	while :; do
		if [ -z "$linux_s" ] && grep -aq 'Linux version' "$serial"; then
			linux_s=$(secs_since "$t0")
		fi
		if [ -z "$marker_s" ] && grep -aq "^$MARKER " "$serial"; then
			marker_s=$(secs_since "$t0")
			status=ok
			break
		fi
		kill -0 "$qpid" 2>/dev/null || break
		if reason="$(grep -aoE -m1 "$DEAD_ENDS" "$serial" | head -n1)" &&
			[ -n "$reason" ]; then
			status=failed
			break
		fi
		if [ "$(now_ns)" -gt "$deadline" ]; then
			status=timeout
			break
		fi
		sleep 0.05
	done
	# the marker's shell powers the VM off: give QEMU a moment, then stop it
	for _ in $(seq 40); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
	stop_pid "qemu-$tag"
	wait "$qpid" 2>/dev/null || true
	[ -z "$tailpid" ] || wait "$tailpid" 2>/dev/null || true
	trap - INT TERM
	ip -n "$sw" link del "$tap" 2>/dev/null || true
	rm -f "$LAB_DIR/ovmf-vars-$tag.fd"
	# QEMU ended on its own without the marker (e.g. a reset with -no-reboot)
	if [ "$status" = running ]; then status=no-marker; fi
	line="$(grep -a "^$MARKER " "$serial" | head -n1 | tr -d '\r' || true)"
	cmdline="${line#*cmdline=}"
	tail -c +$((from + 1)) "$slog" >"$LAB_DIR/boot-$tag.pixied.log" 2>/dev/null || true
	{
		echo "fw=$fw"
		echo "mac=$mac"
		echo "status=$status"
		echo "reason=$reason"
		echo "start=$start"
		echo "linux_s=$linux_s"
		echo "marker_s=$marker_s"
		echo "total_s=$(secs_since "$t0")"
		echo "cmdline=$cmdline"
	} >"$result"
	echo "vmlab: boot $tag fw=$fw status=$status${reason:+ ($reason)} linux=${linux_s:-?}s marker=${marker_s:-?}s cmdline=\"$cmdline\"" >&2
	[ "$status" = ok ]
}

# --- the demo (scripts/demo.sh runs this) ---------------------------------------------
cmd_demo() {
	local fw=uefi
	while [ $# -gt 0 ]; do
		case "$1" in
		--fw) fw="$2"; shift ;;
		--bios) fw=bios ;;
		--uefi) fw=uefi ;;
		*) die "demo: unknown option '$1'" ;;
		esac
		shift
	done
	[ "$(id -u)" -eq 0 ] || die "the demo needs root (network namespaces, taps): sudo $0 demo"
	local dir t_start
	t_start=$(now_ns)
	# globals: the EXIT trap runs after this function has returned
	DEMO_DIR=""
	DEMO_LOGPID=""
	demo_end() {
		local rc=$?
		trap - EXIT INT TERM
		[ -z "$DEMO_LOGPID" ] || kill "$DEMO_LOGPID" 2>/dev/null || true
		# give the terminal back as it was: line wrap on, colours off
		printf '\033[?7h\033[0m\n'
		if [ -n "$DEMO_DIR" ]; then
			echo "== removing the lab"
			bash "$0" down "$DEMO_DIR" || true
		fi
		exit "$rc"
	}
	trap demo_end EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	echo "== payload: a Debian kernel and a busybox initramfs (cached in $("$top/scripts/payload.sh" --path))"
	"$top/scripts/payload.sh" >/dev/null
	echo "== lab: network namespaces with a bridge, pixied on 10.77.0.1 (full DHCP, TFTP, HTTP, IPv6 \"no router\" answers), the VM on a tap"
	dir="$(bash "$0" up --mode full --menu-timeout 5s --ipv6-ra yes)"
	DEMO_DIR="$dir"
	local fwname="SeaBIOS + iPXE option ROM (e1000)"
	[ "$fw" = uefi ] && fwname="OVMF's own UEFI PXE (virtio-net)"
	echo "== booting a $fw VM: $fwname, QEMU without KVM. Its serial console follows;"
	echo "   pixied's log lines are marked 'pixied |'. Ctrl-C stops the demo and removes the lab."
	echo
	sleep 1
	tail -n 0 -s 0.2 -f "$dir/pixied.log" |
		sed -u "s/^[^ ]* [a-z]* \(.*\)$/\r\x1b[0;1;33mpixied | \1\x1b[0m/" &
	DEMO_LOGPID=$!
	local rc=0
	bash "$0" boot "$dir" --fw "$fw" --tag demo --live || rc=$?
	sleep 0.3
	kill "$DEMO_LOGPID" 2>/dev/null || true
	DEMO_LOGPID=""
	printf '\033[?7h\033[0m\n'
	local r="$dir/boot-demo.result" linux marker status bytes
	linux="$(sed -n 's/^linux_s=//p' "$r" 2>/dev/null)"
	marker="$(sed -n 's/^marker_s=//p' "$r" 2>/dev/null)"
	status="$(sed -n 's/^status=//p' "$r" 2>/dev/null)"
	bytes="$(grep -o 'bytes=[0-9]*' "$dir/boot-demo.pixied.log" 2>/dev/null |
		awk -F= '{ s += $2 } END { printf "%.1f", s / 1048576 }')"
	if [ "$rc" -eq 0 ]; then
		echo "demo: ok — a $fw VM booted Linux through pixied: power-on to Linux ${linux}s," \
			"to the marker ${marker}s, ${bytes} MiB served (whole demo $(secs_since "$t_start")s)"
	else
		echo "demo: FAILED — the $fw VM did not boot (${status:-no result}); console and log in $dir" \
			"(kept: PIXIED_KEEP_LAB=1)"
	fi
	return "$rc"
}

PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
[ "${PIXIED_BIN#/}" != "$PIXIED_BIN" ] || PIXIED_BIN="$(realpath "$PIXIED_BIN")"

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down "$@" ;;
boot) shift; cmd_boot "$@" ;;
stack) shift; cmd_stack "$@" ;;
reload) shift; cmd_reload "$@" ;;
demo) shift; cmd_demo "$@" ;;
-h | --help | "") awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
*) die "unknown command '$1' (up, boot, stack, reload, down, demo)" ;;
esac

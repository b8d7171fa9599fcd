# lab.sh — network-namespace lab helpers for the demo (and any script that needs one).
# Source it:  . scripts/lab.sh ; lab_init pxd ; trap lab_cleanup EXIT INT TERM
#
# Owns: naming (PREFIX + 6 random hex digits + a role letter), a "switch" namespace with
# bridges, host namespaces linked to those bridges by veth pairs, and deleting all of it.
# Nothing is created in the caller's own network namespace: every veth is made inside the
# switch namespace with its peer moved straight into the target namespace. The Python
# twin used by the system tests is tests/system/pixied_lab.py.
# shellcheck shell=bash

LAB_PREFIX=""
LAB_DIR=""
LAB_SWITCH=""
LAB_NS=()
LAB_NVETH=0

# lab_init [PREFIX]: names, a scratch directory ($LAB_DIR), the switch with bridge br0.
lab_init() {
	local id
	id="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
	LAB_PREFIX="${1:-pxl}${id}"
	LAB_DIR="$(mktemp -d "/tmp/pixied-lab-${id}-XXXXXX")"
	chmod 0755 "$LAB_DIR"
	lab_ns w
	LAB_SWITCH="$(lab_name w)"
	lab_bridge br0
}

# lab_name ROLE: the namespace name for ROLE.
lab_name() {
	echo "${LAB_PREFIX}$1"
}

# lab_ns ROLE: create namespace $(lab_name ROLE) (lo up, IPv6 off).
lab_ns() {
	local ns="${LAB_PREFIX}$1"
	ip netns add "$ns"
	LAB_NS+=("$ns")
	ip netns exec "$ns" sh -c 'ip link set lo up &&
		echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 &&
		echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
}

# lab_bridge NAME: a bridge in the switch namespace.
lab_bridge() {
	ip -n "$LAB_SWITCH" link add "$1" type bridge forward_delay 0 stp_state 0
	ip -n "$LAB_SWITCH" link set "$1" up
}

# lab_link NS IFNAME BRIDGE [ADDR/LEN] [MAC]: a veth from BRIDGE to IFNAME in NS.
lab_link() {
	local ns="$1" ifname="$2" bridge="$3" addr="${4:-}" mac="${5:-}"
	LAB_NVETH=$((LAB_NVETH + 1))
	local port="v${LAB_NVETH}"
	ip -n "$LAB_SWITCH" link add "$port" type veth peer name "$ifname" netns "$ns"
	ip -n "$LAB_SWITCH" link set "$port" master "$bridge" up
	[ -z "$mac" ] || ip -n "$ns" link set "$ifname" address "$mac"
	ip -n "$ns" link set "$ifname" up
	[ -z "$addr" ] || ip -n "$ns" addr add "$addr" dev "$ifname"
}

# lab_exec NS CMD...: run CMD inside NS.
lab_exec() {
	local ns="$1"
	shift
	ip netns exec "$ns" "$@"
}

# lab_cleanup: kill every process in the lab's namespaces, delete them and $LAB_DIR
# (kept when PIXIED_KEEP_LAB=1). Safe to call more than once.
lab_cleanup() {
	local ns pid i
	for ns in "${LAB_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	for ns in "${LAB_NS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || break
			sleep 0.1
		done
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for ((i = ${#LAB_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${LAB_NS[$i]}" 2>/dev/null || true
	done
	LAB_NS=()
	if [ -n "$LAB_DIR" ] && [ "${PIXIED_KEEP_LAB:-0}" != 1 ]; then
		rm -rf "$LAB_DIR"
	fi
	LAB_DIR=""
}

#!/usr/bin/env bash
# deps.sh — install every Debian package pixied's build, tests and demo need.
#
#   sudo ./scripts/deps.sh           build + unit/fuzz/system tests + namespace demo
#   sudo ./scripts/deps.sh --bench   also the peers bench/ compares against
#   sudo ./scripts/deps.sh --vm      also QEMU, firmware and boot loaders (VM demo, tests/e2e)
#
# Idempotent: packages already installed are left alone and `apt-get update` runs only
# when something is missing. Packages that ship services (isc-dhcp-server, kea, dnsmasq,
# tftpd-hpa, nginx) are installed with a temporary policy-rc.d that forbids starting them,
# so nothing starts answering DHCP/TFTP/HTTP on this host. Also creates the `pixied`
# system user the daemon drops to.
set -euo pipefail

BASE=(
	meson ninja-build pkg-config gcc clang libclang-rt-14-dev llvm
	libinih-dev libsqlite3-dev libmicrohttpd-dev libcap-dev libcjson-dev libarchive-dev
	libcmocka-dev libsodium-dev python3-pytest python3-scapy chromium prometheus
	isc-dhcp-client udhcpc busybox-static tftp-hpa atftp curl iproute2 dnsmasq-base
	isc-dhcp-relay sqlite3 tcpdump procps psmisc
)
BENCH=(kea-admin kea-dhcp4-server isc-dhcp-server dnsmasq tftpd-hpa nginx wrk hyperfine)
# prometheus ships promtool (tests/system checks /metrics with it; its service never starts:
# see policy-rc.d below); chromium drives the browser test through Playwright (tests/browser).
VM=(qemu-system-x86 ipxe ipxe-qemu ovmf pxelinux syslinux-common xorriso grub-pc-bin
	grub-efi-amd64-bin mtools)

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "$0"
}

want=("${BASE[@]}")
# The browser test (tests/browser: Playwright under node, driving chromium) needs node and
# npm: Debian's, but only when there is no node at all (a newer one installed otherwise is
# kept; mixing in Debian's npm would fight it).
if ! command -v node >/dev/null 2>&1; then
	want+=(nodejs npm)
fi
while [ $# -gt 0 ]; do
	case "$1" in
	--bench) want+=("${BENCH[@]}") ;;
	--vm) want+=("${VM[@]}") ;;
	-h | --help) usage; exit 0 ;;
	*) echo "deps.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

export DEBIAN_FRONTEND=noninteractive

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages: ${missing[*]}" >&2
		echo "deps.sh: run as root (sudo $0) to install them" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"

	# Forbid service starts while installing (invoke-rc.d asks policy-rc.d; 101 = action
	# forbidden). Keep any policy-rc.d already there and put it back on every exit path.
	policy=/usr/sbin/policy-rc.d
	saved=""
	if [ -e "$policy" ] || [ -L "$policy" ]; then
		saved="$(mktemp /usr/sbin/.policy-rc.d.pixied.XXXXXX)"
		mv -f "$policy" "$saved"
	fi
	restore_policy() {
		rm -f "$policy"
		if [ -n "$saved" ]; then
			mv -f "$saved" "$policy"
		fi
	}
	trap restore_policy EXIT
	trap 'exit 130' INT TERM
	printf '#!/bin/sh\n# written by pixied scripts/deps.sh while installing; removed afterwards\nexit 101\n' >"$policy"
	chmod 0755 "$policy"

	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"

	restore_policy
	trap - EXIT INT TERM
fi

if ! getent passwd pixied >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: the 'pixied' system user is missing; run as root to create it" >&2
		exit 1
	fi
	useradd --system --no-create-home --shell /usr/sbin/nologin pixied
	echo "deps.sh: created system user pixied"
fi

echo "deps.sh: all packages present"

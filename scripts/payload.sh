#!/usr/bin/env bash
# payload.sh — build (once) the Linux payload the VM boots in tests/e2e, the demo and
# bench/boot.sh, cached outside the git tree.
#
#   sudo ./scripts/payload.sh            build what is missing, print the cache directory
#   sudo ./scripts/payload.sh --with-iso also build the ISO (BIOS + UEFI bootable) in the cache
#   sudo ./scripts/payload.sh --iso DIR  the same, and copy it to DIR/marker.iso
#   ./scripts/payload.sh --path          print the cache directory only
#
# Owns: the cache ($PIXIED_E2E_CACHE, default /var/cache/pixied-e2e when root, else
# $XDG_CACHE_HOME/pixied-e2e) holding
#   vmlinuz      a Debian 12 kernel: `apt-get download linux-image-<ver>-amd64` + `dpkg -x`
#                (never installed on this host; modules are not kept)
#   initrd.gz    a newc cpio.gz from busybox-static whose /init mounts /proc, prints
#                `PIXIED-E2E-MARKER cmdline=<the kernel command line>` on the console and
#                powers the machine off
#   VERSION      the kernel package it came from
# and building a small ISO (GRUB for BIOS and UEFI, from grub-pc-bin, grub-efi-amd64-bin,
# xorriso, mtools) that boots the same kernel + initrd with `iso=1` on the command line.
# Does not own: installing packages (scripts/deps.sh --vm), the lab or QEMU (vmlab.sh).
set -euo pipefail

MARKER="PIXIED-E2E-MARKER"

if [ -n "${PIXIED_E2E_CACHE:-}" ]; then
	cache="$PIXIED_E2E_CACHE"
elif [ "$(id -u)" -eq 0 ]; then
	cache=/var/cache/pixied-e2e
else
	cache="${XDG_CACHE_HOME:-$HOME/.cache}/pixied-e2e"
fi

iso_dir=""
want_iso=0
while [ $# -gt 0 ]; do
	case "$1" in
	--path) echo "$cache"; exit 0 ;;
	--iso) iso_dir="${2:?--iso needs a directory}"; want_iso=1; shift ;;
	--with-iso) want_iso=1 ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "payload.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

mkdir -p "$cache"
chmod 0755 "$cache"
work="$(mktemp -d "$cache/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# --- the kernel -----------------------------------------------------------------------
# The version linux-image-amd64 (Debian's "current kernel" package) depends on.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1 || true
}

if [ ! -s "$cache/vmlinuz" ]; then
	pkg="$(kernel_pkg)"
	if [ -z "$pkg" ]; then
		# The package lists may be missing on a fresh machine.
		apt-get update -qq >/dev/null 2>&1 || true
		pkg="$(kernel_pkg)"
	fi
	[ -n "$pkg" ] || { echo "payload.sh: cannot find linux-image-<ver>-amd64 with apt-cache" >&2; exit 1; }
	echo "payload.sh: downloading $pkg (not installed; only its kernel image is kept)" >&2
	# apt fetches as user _apt when it can write the directory (else it warns).
	if [ "$(id -u)" -eq 0 ] && getent passwd _apt >/dev/null; then chown _apt "$work"; fi
	(cd "$work" && apt-get download -q "$pkg" >/dev/null)
	deb="$(ls "$work"/*.deb)"
	# Only ./boot is needed: skip the 400 MB of modules.
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
	install -m 0644 "$work"/boot/vmlinuz-* "$work/vmlinuz.new"
	mv -f "$work/vmlinuz.new" "$cache/vmlinuz"
	echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$cache/VERSION"
	rm -rf "$work"/*
fi

# --- the initramfs --------------------------------------------------------------------
bb=/bin/busybox
[ -x "$bb" ] && "$bb" --list 2>/dev/null | grep -x poweroff >/dev/null || {
	echo "payload.sh: needs busybox-static (/bin/busybox): sudo ./scripts/deps.sh" >&2
	exit 1
}
# Rebuilt when this script changes (the /init below is part of it).
stamp="$(sha256sum "$0" "$bb" | sha256sum | cut -c1-16)"
if [ ! -s "$cache/initrd.gz" ] || [ "$(cat "$cache/initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
	r="$work/initramfs"
	mkdir -p "$r/bin" "$r/dev" "$r/proc" "$r/sys"
	install -m 0755 "$bb" "$r/bin/busybox"
	for a in sh mount cat echo poweroff sleep; do ln -s busybox "$r/bin/$a"; done
	cat >"$r/init" <<EOF
#!/bin/sh
# pixied e2e payload: say which command line booted, then power off.
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec >/dev/console 2>&1 </dev/null
echo
echo "$MARKER cmdline=\$(cat /proc/cmdline)"
echo
poweroff -f
sleep 5
EOF
	chmod 0755 "$r/init"
	# The kernel opens /dev/console for init before /init runs: the node must be in the
	# archive. Without root, cpio's newc list cannot carry it; init mounts devtmpfs anyway.
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 0600 "$r/dev/console" c 5 1
	fi
	# busybox's own cpio (GNU cpio is not needed): newc, every file owned by root.
	(cd "$r" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -9 -n >"$work/initrd.gz"
	mv -f "$work/initrd.gz" "$cache/initrd.gz"
	chmod 0644 "$cache/initrd.gz"
	echo "$stamp" >"$cache/initrd.stamp"
fi

# --- an ISO (optional) ----------------------------------------------------------------
if [ "$want_iso" = 1 ]; then
	command -v grub-mkrescue >/dev/null && command -v xorriso >/dev/null || {
		echo "payload.sh: --iso needs grub-pc-bin, grub-efi-amd64-bin, xorriso, mtools" \
			"(sudo ./scripts/deps.sh --vm)" >&2
		exit 1
	}
	iso="$cache/marker.iso"
	istamp="$(cat "$cache/VERSION" "$cache/initrd.stamp" | sha256sum | cut -c1-16)"
	if [ ! -s "$iso" ] || [ "$(cat "$cache/iso.stamp" 2>/dev/null)" != "$istamp" ]; then
		t="$work/iso"
		mkdir -p "$t/boot/grub"
		cp "$cache/vmlinuz" "$cache/initrd.gz" "$t/boot/"
		cat >"$t/boot/grub/grub.cfg" <<'EOF'
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "pixied e2e marker (from the ISO)" {
	linux /boot/vmlinuz console=ttyS0 iso=1 panic=-1
	initrd /boot/initrd.gz
}
EOF
		grub-mkrescue -o "$work/marker.iso" "$t" -- -volid PIXIED_E2E >"$work/iso.log" 2>&1 || {
			cat "$work/iso.log" >&2
			exit 1
		}
		mv -f "$work/marker.iso" "$iso"
		chmod 0644 "$iso"
		echo "$istamp" >"$cache/iso.stamp"
	fi
	if [ -n "$iso_dir" ]; then
		mkdir -p "$iso_dir"
		cp -f "$iso" "$iso_dir/marker.iso"
	fi
fi

echo "$cache"

#!/usr/bin/env bash
# build.sh — configure and build pixied's three build directories at the top of the tree:
#
#   build       gcc, debugoptimized            the daemon: build/pixied
#   build-asan  gcc, ASan + UBSan              what the unit and system tests run
#   build-fuzz  clang, libFuzzer, ASan + UBSan the fuzz targets (build-fuzz/fuzz_*)
#
#   ./scripts/build.sh [build|build-asan|build-fuzz]...   (default: all three)
#
# An existing directory is reconfigured in place (its options re-applied) and rebuilt.
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top"

jobs="${PIXIED_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# The C compiler a configured build directory uses ("gcc", "clang", or "" if unknown).
dir_cc() {
	sed -n 's/^C compiler for the host machine: \([^ ]*\).*/\1/p' \
		"$1/meson-logs/meson-log.txt" 2>/dev/null | head -n1
}

setup() {
	local dir="$1" cc="$2"
	shift 2
	# CC is fixed at first setup; a directory made with another compiler is redone.
	if [ -f "$dir/build.ninja" ] && [ "$(dir_cc "$dir")" != "$cc" ]; then
		echo "build.sh: $dir was set up with another compiler; recreating it"
		rm -rf "$dir"
	fi
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir/.setup.log" 2>&1 || {
			cat "$dir/.setup.log" >&2
			return 1
		}
	else
		rm -rf "$dir"
		mkdir -p "$dir"
		CC="$cc" meson setup "$dir" "$@" >"$dir/.setup.log" 2>&1 || {
			cat "$dir/.setup.log" >&2
			return 1
		}
	fi
}

build_one() {
	local dir="$1"
	echo "== build: $dir"
	case "$dir" in
	build)
		setup build gcc --buildtype=debugoptimized
		;;
	build-asan)
		setup build-asan gcc --buildtype=debugoptimized \
			-Db_sanitize=address,undefined -Db_lundef=false
		;;
	build-fuzz)
		setup build-fuzz clang --buildtype=debugoptimized -Dfuzz=true \
			-Db_sanitize=address,undefined -Db_lundef=false
		;;
	*)
		echo "build.sh: unknown build directory '$dir'" >&2
		return 2
		;;
	esac
	ninja -C "$dir" -j "$jobs"
}

dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(build build-asan build-fuzz)

for d in "${dirs[@]}"; do
	build_one "$d"
done

# Built as root through sudo: hand the trees back to the user who asked.
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_UID:-}" ] && [ "${SUDO_UID}" != 0 ]; then
	for d in "${dirs[@]}"; do
		chown -R "${SUDO_UID}:${SUDO_GID:-$SUDO_UID}" "$d" 2>/dev/null || true
	done
fi

[ -x build/pixied ] && echo "build.sh: daemon at build/pixied"
exit 0

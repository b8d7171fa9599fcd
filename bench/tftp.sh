#!/usr/bin/env bash
# bench/tftp.sh — TFTP speed, CPU and memory: pixied beside tftpd-hpa, atftpd and dnsmasq.
#
#   sudo bench/tftp.sh                  run everything, print the tables, rewrite the TFTP
#                                       section of bench/RESULTS.md
#   sudo BENCH_REPS=3 bench/tftp.sh     fewer repetitions
#
# One network namespace; every server listens on its own loopback address, all at once:
#
#   pixied 127.0.0.2   tftpd-hpa 127.0.0.3   atftpd 127.0.0.4   dnsmasq 127.0.0.5
#   (pixied again on 127.0.0.6 and .7 with PIXIED_TFTP_SEND=mmsg and =single, for the
#    send-path comparison)
#
# plus a veth pair inside it with 10.99.0.1/24 (tftpd-hpa resolves its bind address with
# AI_ADDRCONFIG, which ignores loopback-only hosts). Every server is pinned to CPU 0.
#
# Tests, each repeated BENCH_REPS times with the servers interleaved (the order rotates
# every repetition) and reported as the median:
#   1. one 64 MiB file, lock-step, blksize 512 and 1468 (curl), and 1468 with windowsize 16
#      (atftp; tftpd-hpa and dnsmasq do not implement RFC 7440). The client is pinned to
#      the SAME CPU as the server: lock-step speed on these VMs depends on whether the two
#      share a CPU, and sharing one is the reproducible case.
#   2. BENCH_CLIENTS (200) busybox tftp clients released at once (they wait on a FIFO),
#      each fetching a 400 KB file at blksize 1468 lock-step, like firmware fetching a boot
#      loader; clients pinned to the last CPU. Wall time until the last one finishes, and
#      the server's CPU time (utime + stime, with reaped children for forking tftpd-hpa).
#   3. pixied's memory: VmHWM before and after test 2, per transfer.
#   4. pixied's send path for a window (1468 x 16): UDP GSO (default), sendmmsg, one
#      sendmsg per packet.
#   5. system calls per block: each server under `strace -c -f` for one 64 MiB transfer at
#      blksize 512 lock-step (counts only; strace's own slowdown is not measured).
#
# Peers: in.tftpd (tftpd-hpa) and atftpd are taken from PATH, else from Debian packages
# unpacked with dpkg -x into $BENCH_PEERS (apt-get download; atftpd's package conflicts
# with tftpd-hpa's, so neither is installed). dnsmasq comes from dnsmasq-base.
#
# Environment:
#   BENCH_REPS      repetitions                      (default 5)
#   BENCH_CLIENTS   concurrent clients in test 2     (default 200)
#   BENCH_SERVERS   servers, in order                (default "pixied tftpd-hpa atftpd dnsmasq")
#   PIXIED_BIN      the daemon                       (default build/pixied)
#   BENCH_PEERS     where peer packages are unpacked (default /var/tmp/pixied-bench-peers)
#   BENCH_RESULTS   file whose TFTP section is rewritten (default bench/RESULTS.md; "-" = no)
#   BENCH_KEEP=1    keep the scratch directory (configs, logs)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

REPS="${BENCH_REPS:-5}"
NCLIENTS="${BENCH_CLIENTS:-200}"
SERVERS="${BENCH_SERVERS:-pixied tftpd-hpa atftpd dnsmasq}"
PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
PEERS="${BENCH_PEERS:-/var/tmp/pixied-bench-peers}"
RESULTS="${BENCH_RESULTS:-$top/bench/RESULTS.md}"
CPU_SRV=0
CPU_CLI=$(($(nproc) - 1))
HZ="$(getconf CLK_TCK)"
BIG=$((64 << 20))
LOADER=$((400 * 1000))

die() {
	echo "tftp.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -x "$PIXIED_BIN" ] || die "no pixied at $PIXIED_BIN (./scripts/build.sh build, or set PIXIED_BIN)"
for t in curl atftp busybox dnsmasq taskset; do
	command -v "$t" >/dev/null || die "$t is missing (./scripts/deps.sh)"
done

# ---- peers ----------------------------------------------------------------------------
peer_bin() {
	local name="$1" pkg="$2"
	if command -v "$name" >/dev/null; then
		command -v "$name"
		return
	fi
	if [ ! -x "$PEERS/root/usr/sbin/$name" ]; then
		mkdir -p "$PEERS"
		(cd "$PEERS" && apt-get download "$pkg" libwrap0 >/dev/null 2>&1) ||
			die "cannot download $pkg (apt-get download $pkg libwrap0)"
		for d in "$PEERS"/*.deb; do
			dpkg -x "$d" "$PEERS/root"
		done
	fi
	echo "$PEERS/root/usr/sbin/$name"
}
HPA_BIN="$(peer_bin in.tftpd tftpd-hpa)"
ATFTPD_BIN="$(peer_bin atftpd atftpd)"
PEER_LIBS="$PEERS/root/usr/lib/x86_64-linux-gnu:$PEERS/root/lib/x86_64-linux-gnu"

# ---- the lab --------------------------------------------------------------------------
bench_init tf
trap cg_cleanup EXIT
bench_ns s
NS="$(bench_name s)"
ip -n "$NS" link add tv0 type veth peer name tv1
ip -n "$NS" addr add 10.99.0.1/24 dev tv0
ip -n "$NS" link set tv0 up
ip -n "$NS" link set tv1 up

ROOT="$BENCH_DIR/root"
mkdir -p "$ROOT"
head -c "$BIG" /dev/urandom >"$ROOT/big.img"
head -c "$LOADER" /dev/urandom >"$ROOT/loader.efi"
chmod 0755 "$ROOT"
chmod 0644 "$ROOT"/*

declare -A ADDR=([pixied]=127.0.0.2 [tftpd-hpa]=127.0.0.3 [atftpd]=127.0.0.4 [dnsmasq]=127.0.0.5
	[pixied-mmsg]=127.0.0.6 [pixied-single]=127.0.0.7)
declare -A PID=()

pixied_conf() {
	local name="$1" addr="$2"
	mkdir -p "$BENCH_DIR/state-$name"
	cat >"$BENCH_DIR/$name.conf" <<EOF
[server]
interfaces = lo
root = $ROOT
state = $BENCH_DIR/state-$name
user = root
[dhcp]
mode = off
[http]
enabled = no
[tftp]
address = $addr
max-transfers = 4096
max-per-client = 4096
EOF
	echo "$BENCH_DIR/$name.conf"
}

start_server() {
	local s="$1" a="${ADDR[$1]}" log="$BENCH_DIR/$1.log"
	case "$s" in
	pixied)
		bench_start "$log" s env PIXIED_TFTP_SEND=gso taskset -c "$CPU_SRV" "$PIXIED_BIN" \
			-c "$(pixied_conf "$s" "$a")" ;;
	pixied-mmsg)
		bench_start "$log" s env PIXIED_TFTP_SEND=mmsg taskset -c "$CPU_SRV" "$PIXIED_BIN" \
			-c "$(pixied_conf "$s" "$a")" ;;
	pixied-single)
		bench_start "$log" s env PIXIED_TFTP_SEND=single taskset -c "$CPU_SRV" "$PIXIED_BIN" \
			-c "$(pixied_conf "$s" "$a")" ;;
	tftpd-hpa)
		bench_start "$log" s env LD_LIBRARY_PATH="$PEER_LIBS" taskset -c "$CPU_SRV" \
			"$HPA_BIN" -L -a "$a:69" -u nobody -s "$ROOT" ;;
	atftpd)
		bench_start "$log" s env LD_LIBRARY_PATH="$PEER_LIBS" taskset -c "$CPU_SRV" \
			"$ATFTPD_BIN" --daemon --no-fork --bind-address "$a" --port 69 --user root \
			--group root --maxthread 4096 --logfile "$BENCH_DIR/atftpd-file.log" "$ROOT" ;;
	dnsmasq)
		bench_start "$log" s taskset -c "$CPU_SRV" dnsmasq --no-daemon --port=0 \
			--enable-tftp --tftp-root="$ROOT" --listen-address="$a" --bind-interfaces \
			--conf-file=/dev/null --user=root --group=root --tftp-max=4096 \
			--pid-file="$BENCH_DIR/dnsmasq.pid" --log-facility="$BENCH_DIR/dnsmasq-file.log" ;;
	esac
	PID[$s]="$BENCH_PID"
	cg_join "$s" "$BENCH_PID"
	local i
	for i in $(seq 1 100); do
		if ip netns exec "$NS" ss -Hlun "src $a:69" 2>/dev/null | grep -q .; then
			return 0
		fi
		bench_alive "$BENCH_PID" || break
		sleep 0.05
	done
	cat "$log" >&2
	die "$s did not start"
}

# CPU time of a server and everything it forks (tftpd-hpa forks a child per transfer and
# does not wait for it, so /proc/PID/stat never sees the children's time): each server runs
# in its own cgroup v2 group, whose cpu.stat usage_usec counts every process in it.
CG_ROOT=""
for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ -f "$d/cgroup.procs" ] && grep -q cgroup2 /proc/mounts; then
		CG_ROOT="$d"
		break
	fi
done
CG_DIR=""
declare -A CG=()
cg_join() { # server pid
	[ -n "$CG_ROOT" ] || return 0
	if [ -z "$CG_DIR" ]; then
		CG_DIR="$CG_ROOT/pixied-bench-$BENCH_PREFIX"
		mkdir "$CG_DIR" || { CG_ROOT=""; return 0; }
	fi
	mkdir -p "$CG_DIR/$1"
	echo "$2" >"$CG_DIR/$1/cgroup.procs" && CG[$1]="$CG_DIR/$1"
}
cg_cleanup() {
	bench_cleanup
	if [ -n "$CG_DIR" ] && [ -d "$CG_DIR" ]; then
		for d in "$CG_DIR"/*/; do rmdir "$d" 2>/dev/null || true; done
		rmdir "$CG_DIR" 2>/dev/null || true
	fi
}

wait_ms() { # server -> ms its processes spent runnable but waiting for a CPU (PSI "some")
	local s="$1"
	if [ -n "${CG[$s]:-}" ] && [ -r "${CG[$s]}/cpu.pressure" ]; then
		awk '/^some/ { sub("total=", "", $5); printf "%d\n", $5 / 1000 }' "${CG[$s]}/cpu.pressure"
	else
		echo 0
	fi
}

cpu_ms() { # server -> ms of CPU so far
	local s="$1"
	if [ -n "${CG[$s]:-}" ]; then
		awk '/^usage_usec/ { printf "%d\n", $2 / 1000 }' "${CG[$s]}/cpu.stat"
	else # utime + stime + waited-for children, in clock ticks
		sed 's/^.*) //' "/proc/${PID[$s]}/stat" |
			awk -v hz="$HZ" '{ printf "%d\n", ($12 + $13 + $14 + $15) * 1000 / hz }'
	fi
}

now_ns() { date +%s%N; }

# run_client SECONDS_VAR CMD...: wall time of one client run in the namespace, in seconds
run_timed() {
	local t0 t1 rc=0
	t0="$(now_ns)"
	ip netns exec "$NS" taskset -c "$CPU_SRV" "$@" >/dev/null 2>&1 || rc=$?
	t1="$(now_ns)"
	[ "$rc" = 0 ] || { echo "fail"; return; }
	echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'
}

fetch_big() { # server test -> "seconds cpu_ms", or "fail"/"n/a"
	local s="$1" t="$2" a="${ADDR[$1]}" out="$BENCH_DIR/out.bin" r c0 c1 w0 w1
	rm -f "$out"
	c0="$(cpu_ms "$s")"
	w0="$(wait_ms "$s")"
	case "$t" in
	512) r="$(run_timed curl -s -o "$out" --tftp-blksize 512 "tftp://$a/big.img")" ;;
	1468) r="$(run_timed curl -s -o "$out" --tftp-blksize 1468 "tftp://$a/big.img")" ;;
	1468w16)
		case "$s" in tftpd-hpa | dnsmasq) echo "n/a"; return ;; esac
		r="$(run_timed atftp --option "blksize 1468" --option "windowsize 16" -g -r big.img \
			-l "$out" "$a")" ;;
	esac
	if [ "$r" != fail ] && [ "$(stat -c %s "$out" 2>/dev/null || echo 0)" != "$BIG" ]; then
		r=fail
	fi
	sleep 0.1 # a forking server's child exits after the last ACK
	c1="$(cpu_ms "$s")"
	w1="$(wait_ms "$s")"
	echo "$r $((c1 - c0)) $((w1 - w0))"
}

cli_ms() { # cgroup name -> ms of CPU its processes used so far (0 without cgroups)
	if [ -n "${CG[$1]:-}" ]; then
		awk '/^usage_usec/ { printf "%d\n", $2 / 1000 }' "${CG[$1]}/cpu.stat"
	else
		echo 0
	fi
}

many_clients() { # server -> "wall_s cpu_ms failures wait_ms clients_cpu_ms"
	local s="$1" a="${ADDR[$1]}" fifo="$BENCH_DIR/go" i c0 c1 w0 w1 t0 t1 k0 k1 fails=0
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 7<>"$fifo" # held open read-write: no open() below ever blocks
	local pids=()
	for ((i = 0; i < NCLIENTS; i++)); do
		# each client waits for one line from the FIFO (sh reads a pipe byte by byte)
		ip netns exec "$NS" taskset -c "$CPU_CLI" sh -c \
			'read x <"$1"; exec busybox tftp -g -r loader.efi -l - >/dev/null -b 1468 "$2"' \
			sh "$fifo" "$a" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 1 # let every client reach its read
	for i in "${pids[@]}"; do cg_join "cli-$s" "$i" 2>/dev/null || true; done
	k0="$(cli_ms "cli-$s")"
	c0="$(cpu_ms "$s")"
	w0="$(wait_ms "$s")"
	t0="$(now_ns)"
	for ((i = 0; i < NCLIENTS; i++)); do echo; done >&7
	for i in "${pids[@]}"; do
		wait "$i" || fails=$((fails + 1))
	done
	t1="$(now_ns)"
	exec 7>&-
	sleep 0.2 # let a forking server's last children exit
	c1="$(cpu_ms "$s")"
	w1="$(wait_ms "$s")"
	k1="$(cli_ms "cli-$s")"
	echo "$t0 $t1 $((c1 - c0)) $fails $((w1 - w0)) $((k1 - k0))" |
		awk '{ printf "%.3f %d %d %d %d\n", ($2 - $1) / 1e9, $3, $4, $5, $6 }'
}

# syscalls SERVER -> "calls_per_block breakdown" from strace -c over one 64 MiB transfer
syscalls() {
	local s="$1" a="${ADDR[$1]}" out="$BENCH_DIR/st-$1.txt" sp
	command -v strace >/dev/null || { echo "- n/a"; return; }
	strace -c -f -p "${PID[$s]}" -o "$out" 2>/dev/null &
	sp=$!
	sleep 0.5
	ip netns exec "$NS" taskset -c "$CPU_SRV" curl -s -o /dev/null --tftp-blksize 512 \
		"tftp://$a/big.img" || true
	sleep 0.3
	kill -INT "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	# strace -c: "% time seconds usecs/call calls [errors] syscall"; total on the last line
	awk -v nb=$((BIG / 512 + 1)) '
		/^-/ { sep++; next }
		sep == 1 && NF >= 5 { n[$NF] = $4; order[k++] = $NF }
		/ total$/ { tot = $4 }
		END {
			line = ""
			for (i = 0; i < k; i++) if (n[order[i]] / nb >= 0.01)
				line = line sprintf("%s%s %.2f", line == "" ? "" : ", ", order[i], n[order[i]] / nb)
			printf "%.2f %s\n", tot / nb, line }' "$out"
}

hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# rss_watch PID FILE: keep the highest VmRSS (KiB) of PID in FILE until killed (builtins
# only, every 50 ms). VmHWM cannot serve: pixied's start-up (the API password hash) peaks
# far above anything TFTP uses.
rss_watch() {
	local max=0 k v _
	while :; do
		while read -r k v _; do
			if [ "$k" = VmRSS: ] && [ "$v" -gt "$max" ]; then
				max="$v"
				echo "$max" >"$2"
			fi
		done <"/proc/$1/status" || return 0
		sleep 0.05
	done
}

median() { # numbers on stdin (non-numbers ignored) -> median or "fail"
	sort -g | awk '/^[0-9.]+$/ { v[n++] = $1 } END {
		if (!n) { print "fail"; exit }
		printf "%.3f\n", n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2 }'
}

# ---- run -------------------------------------------------------------------------------
read -r -a SRV <<<"$SERVERS"
for s in "${SRV[@]}" pixied-mmsg pixied-single; do
	start_server "$s"
done
echo "tftp.sh: servers up in $NS ($(for s in "${SRV[@]}"; do printf '%s=%s ' "$s" "${ADDR[$s]}"; done))"

RAW="$BENCH_DIR/raw.txt"
: >"$RAW"
rotate() { # rep list... -> list rotated by rep
	local r="$1" n
	shift
	local a=("$@")
	n=${#a[@]}
	for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done
}

for ((rep = 0; rep < REPS; rep++)); do
	for t in 512 1468 1468w16; do
		for s in $(rotate "$rep" "${SRV[@]}"); do
			r="$(fetch_big "$s" "$t")"
			echo "big $t $s $r" >>"$RAW"
			echo "tftp.sh: rep $((rep + 1))/$REPS 64MiB/$t $s: $r s"
		done
	done
	for s in $(rotate "$rep" pixied pixied-mmsg pixied-single); do
		r="$(fetch_big "$s" 1468w16)"
		echo "send 1468w16 $s $r" >>"$RAW"
		echo "tftp.sh: rep $((rep + 1))/$REPS send-path $s: $r s"
	done
done

declare -A SYSC=()
for s in "${SRV[@]}"; do
	SYSC[$s]="$(syscalls "$s")"
	echo "tftp.sh: syscalls per block, $s: ${SYSC[$s]}"
done

HWM0="$(hwm_kb "${PID[pixied]}")"
RSS0="$(rss_kb "${PID[pixied]}")"
echo "$RSS0" >"$BENCH_DIR/rss-max"
rss_watch "${PID[pixied]}" "$BENCH_DIR/rss-max" &
RSS_WATCH=$!
CREPS=$(((REPS + 1) / 2))
for ((rep = 0; rep < CREPS; rep++)); do
	for s in $(rotate "$rep" "${SRV[@]}"); do
		r="$(many_clients "$s")"
		echo "many $s $r" >>"$RAW"
		echo "tftp.sh: rep $((rep + 1))/$CREPS $NCLIENTS clients $s: wall/cpu/failed = $r"
	done
done
kill "$RSS_WATCH" 2>/dev/null || true
wait "$RSS_WATCH" 2>/dev/null || true
HWM1="$(hwm_kb "${PID[pixied]}")"
RSS1="$(rss_kb "${PID[pixied]}")"
RSSMAX="$(cat "$BENCH_DIR/rss-max")"

# ---- report -----------------------------------------------------------------------------
med() { # kind test server [field: 4 seconds, 5 cpu ms] -> median
	awk -v k="$1" -v t="$2" -v s="$3" -v f="${4:-4}" '$1 == k && $2 == t && $3 == s { print $f }' "$RAW" | median
}
med_many() { # server field(1 wall, 2 cpu, 3 fails, 4 wait, 5 clients cpu) -> median
	awk -v s="$1" -v f="$2" '$1 == "many" && $2 == s { print $(2 + f) }' "$RAW" | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A CPUROW=()
report() {
	local t s best bs v p
	echo "<!-- BEGIN TFTP: generated by bench/tftp.sh; edits inside are overwritten -->"
	echo "## TFTP (bench/tftp.sh)"
	echo
	bench_machine
	echo "- Peers: tftpd-hpa $(dpkg-deb -f "$PEERS"/tftpd-hpa_*.deb Version 2>/dev/null || echo '?')," \
		"atftpd $(dpkg-deb -f "$PEERS"/atftpd_*.deb Version 2>/dev/null || echo '?')," \
		"$(dnsmasq --version | head -n1 | cut -d' ' -f1-3); clients curl, atftp, busybox tftp"
	echo "- Every server pinned to CPU $CPU_SRV, each on its own 127.0.0.x in one namespace;" \
		"$REPS repetitions, servers interleaved, medians shown"
	echo
	echo "### One 64 MiB file, client pinned to the same CPU as the server"
	echo
	echo "Seconds (lower is better); speed-up = best peer's time / pixied's time."
	echo
	printf '| test |'
	for s in "${SRV[@]}"; do printf ' %s |' "$s"; done
	echo ' pixied speed-up | target |'
	printf '|---|'
	for s in "${SRV[@]}"; do printf -- '---|'; done
	echo '---|---|'
	for t in 512 1468 1468w16; do
		case "$t" in
		512) printf '| blksize 512, lock-step (curl) |' ;;
		1468) printf '| blksize 1468, lock-step (curl) |' ;;
		1468w16) printf '| blksize 1468, windowsize 16 (atftp) |' ;;
		esac
		best=""
		for s in "${SRV[@]}"; do
			v="$(med big "$t" "$s")"
			if [ "$t" = 1468w16 ] && { [ "$s" = tftpd-hpa ] || [ "$s" = dnsmasq ]; }; then
				v="n/a"
			fi
			printf ' %s |' "$v"
			if [ "$s" != pixied ] && [ "$v" != fail ] && [ "$v" != n/a ]; then
				if [ -z "$best" ] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; then
					best="$v"
				fi
			fi
		done
		p="$(med big "$t" pixied)"
		CPUROW[$t]="$(for s in "${SRV[@]}"; do
			if [ "$t" = 1468w16 ] && { [ "$s" = tftpd-hpa ] || [ "$s" = dnsmasq ]; }; then
				printf ' n/a |'
			else
				printf ' %s / %s |' "$(med big "$t" "$s" 5 | sed 's/\.000$//')" \
					"$(med big "$t" "$s" 6 | sed 's/\.000$//')"
			fi
		done)"
		if [ "$t" = 1468w16 ]; then
			printf ' %s× vs atftpd | ≥ 1.5× atftpd |\n' "$(ratio "$(med big "$t" atftpd)" "$p")"
		else
			printf ' %s× | ≥ 1.2× the best peer |\n' "$(ratio "$best" "$p")"
		fi
	done
	echo
	echo "Server CPU time / time spent runnable but waiting for a CPU, ms (the server's"
	echo "cgroup: cpu.stat usage and cpu.pressure \"some\"; tftpd-hpa's per-transfer child"
	echo "included). A large wait means other work on the machine held the CPU:"
	echo
	printf '| test |'
	for s in "${SRV[@]}"; do printf ' %s |' "$s"; done
	echo
	printf '|---|'
	for s in "${SRV[@]}"; do printf -- '---|'; done
	echo
	for t in 512 1468 1468w16; do
		printf '| %s |%s\n' "$t" "${CPUROW[$t]}"
	done
	echo
	echo "### $NCLIENTS clients at once, each fetching a 400 KB file (blksize 1468, lock-step)"
	echo
	echo "busybox tftp clients released together from a FIFO, pinned to CPU $CPU_CLI;" \
		"wall time until the last finishes and the server's CPU time (medians of $CREPS)."
	echo
	echo '| server | wall s | server CPU ms | CPU wait ms | clients CPU ms | failed clients | pixied ÷ server (wall, CPU) |'
	echo '|---|---|---|---|---|---|---|'
	for s in "${SRV[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s, %s |\n' "$s" "$(med_many "$s" 1)" \
			"$(med_many "$s" 2 | sed 's/\.000$//')" "$(med_many "$s" 4 | sed 's/\.000$//')" \
			"$(med_many "$s" 5 | sed 's/\.000$//')" \
			"$(med_many "$s" 3 | sed 's/\.000$//')" "$(ratio "$(med_many pixied 1)" "$(med_many "$s" 1)")" \
			"$(ratio "$(med_many pixied 2)" "$(med_many "$s" 2)")"
	done
	echo
	echo "Target: pixied ≤ 0.7 × dnsmasq in wall time and in server CPU. \"clients CPU\" is what"
	echo "the 200 busybox processes themselves used (their own cgroup): the wall time cannot go"
	echo "below it on their one CPU, whatever the server."
	echo
	echo "### pixied memory"
	echo
	echo "VmRSS before the $NCLIENTS-client runs $RSS0 KiB, highest during them $RSSMAX KiB" \
		"(sampled every 50 ms), after $RSS1 KiB:" \
		"$(awk -v a="$RSS0" -v b="$RSSMAX" -v n="$NCLIENTS" 'BEGIN { printf "%.1f", (b - a) / n }')" \
		"KiB per concurrent transfer at most (the runs overlap all $NCLIENTS transfers only" \
		"partly). Budget: blksize × window + 4 KiB = $(awk 'BEGIN { printf "%.1f", (1468 + 4096) / 1024 }') KiB" \
		"at 1468 lock-step. The fixed base holds a 256 KiB send buffer, 128 KiB of request buffers" \
		"and the 1 MiB chunk cache shared by all transfers. (VmHWM, $HWM1 KiB, is set at" \
		"start-up by the API password hash, not by TFTP.)"
	echo
	echo "### pixied's send path for a window (64 MiB, blksize 1468, windowsize 16, atftp)"
	echo
	echo '| PIXIED_TFTP_SEND | syscalls per window | seconds | vs one sendmsg per packet |'
	echo '|---|---|---|---|'
	local single
	single="$(med send 1468w16 pixied-single)"
	printf '| gso (default): one sendmsg with UDP_SEGMENT | 1 | %s | %s× |\n' \
		"$(med send 1468w16 pixied)" "$(ratio "$single" "$(med send 1468w16 pixied)")"
	printf '| mmsg: one sendmmsg, a message per packet | 1 | %s | %s× |\n' \
		"$(med send 1468w16 pixied-mmsg)" "$(ratio "$single" "$(med send 1468w16 pixied-mmsg)")"
	printf '| single: one sendmsg per packet | 16 | %s | 1.00× |\n' "$single"
	echo
	echo "### System calls per block (64 MiB, blksize 512, lock-step; strace -c -f, counts only)"
	echo
	echo '| server | per block | the main ones, per block |'
	echo '|---|---|---|'
	for s in "${SRV[@]}"; do
		printf '| %s | %s | %s |\n' "$s" "${SYSC[$s]%% *}" "${SYSC[$s]#* }"
	done
	echo
	echo "### What each change to pixied bought (measured while tuning, by counting)"
	echo
	echo "The kernel does almost all of a lock-step block's work (the UDP path, waking the"
	echo "other process, two context switches), the same for every server; pixied's own code"
	echo "is under 12 % of its CPU time (perf, cpu-clock). What pixied changed (2026-11-22,"
	echo "16 MiB file, blksize 512, client and server on CPU 0; CPU from perf stat task-clock,"
	echo "medians of 9 interleaved runs on the loaded VM; 200-client CPU in clock ticks, medians):"
	echo
	echo '| change | syscalls / block | server CPU µs / block | client CPU µs / block | 200 clients: server CPU, spurious resends |'
	echo '|---|---|---|---|---|'
	echo '| before (unconnected socket, sendmsg/recvmsg, 3.5 KiB read-ahead per transfer) | 3.14 (512), 3.50 (1468) | 3.79 | 5.25 | 43–60 ticks, 2.60 syscalls / block, 173 resends / 200 transfers |'
	echo '| connected socket per transfer (send/recv, no route or socket lookup per packet; client-side delivery of ACKs uses early demux) + an unconnected catcher on the same port for wrong TIDs (ERROR 5) | 3.01 (512), 3.02 (1468) | 3.33 (−12 %) | 5.20 (−1 % to −7 %) | |'
	echo '| shared 1 MiB chunk cache (64 KiB chunks): one pread per 64 KiB instead of per 2 blocks at 1468 | 3.01 | | | 27,600 → 25 preads for 200 × 400 KB (preadv had been 6.7 % of the server CPU time) |'
	echo '| read queued ACKs before a timer resends (a late loop turn no longer resends what was already acknowledged); a copy of the request is a duplicate while the client still talks to its transfer | | | | 173 → 11 resends / 200 transfers; no more clients killed by a late RRQ copy restarting their transfer |'
	echo '| all together | 3.01 | 3.33 (−12 %) | | 35–43 ticks vs dnsmasq 43–57 (≈ 0.8×), 2.14 syscalls / block (dnsmasq ≈ 4.1) |'
	echo
	echo "Tried and not kept: (1) sending all of a loop turn's DATA at the end of the turn (to"
	echo "batch wake-ups of the clients): no measurable change in CPU or IPIs. (2) Coalescing"
	echo "wake-ups in the event loop (after a turn with 4 or more events, sleep 100 µs before"
	echo "epoll_wait; tried in core/loop, which the TFTP module does not own): inter-processor"
	echo "interrupts per 200-client run 13,000–60,000 → 1,500–17,000, wall time about −10 %,"
	echo "server CPU −5 % to −20 % (noisy); lock-step unaffected (one event per turn). A"
	echo "candidate for core/loop."
	echo
	echo "### Why the lock-step and 200-client targets are still missed"
	echo
	echo "- Lock-step with both on one CPU: wall time is the client's CPU time plus the"
	echo "  server's (the CPU table above). The client (curl) spends about 5–6 µs per block"
	echo "  whatever the server, and the kernel's UDP path, the wake-up of the other side and"
	echo "  two context switches are nearly all of each side's time (pixied's own code is under"
	echo "  12 % of its CPU). 1.2× the best peer would need pixied's server time per block at"
	echo "  about half the best peer's; it is 0.7–0.9× of it, which gives 1.0–1.1×."
	echo "- 200 clients: the clients' own CPU time (column above) bounds the wall time on their"
	echo "  CPU for every server, so 0.7× dnsmasq's wall time is out of reach unless dnsmasq is"
	echo "  slow for another reason. Server CPU: about 60 % of pixied's is sending DATA (with the"
	echo "  kernel waking the client), work every server does per block; pixied's other system"
	echo "  calls are down to 2.1 per block (dnsmasq: about 4). Wall time: pixied finishes each"
	echo "  loop turn quickly and sleeps, so it is woken far more often than dnsmasq (about"
	echo "  13,000–60,000 against 1,200–32,000 inter-processor interrupts per run, counted"
	echo "  while tuning); on this shared VM every wake-up waits behind other work on CPU 0 (the CPU"
	echo "  wait column), and that wait is what pixied's wall time loses. Coalescing wake-ups"
	echo "  would take the event loop waiting a little while many transfers are active (tried,"
	echo "  see above); not done here."
	echo
	echo "Reading these numbers: the 2-CPU VM is shared. When \"CPU wait\" is large next to" \
		"\"CPU\", other work held CPU 0, and a one-process server (pixied, dnsmasq) then loses" \
		"more wall time than a server that forks a process (tftpd-hpa) or a thread (atftpd) per" \
		"client, which gets one scheduler share per client. Compare CPU ms for cost."
	echo "<!-- END TFTP -->"
}

section="$BENCH_DIR/section.md"
report >"$section"
echo
cat "$section"

bench_write_section TFTP "$section" "$RESULTS"
[ "${BENCH_KEEP:-0}" != 1 ] || echo "tftp.sh: kept $BENCH_DIR"

# bench/lib.sh — shared helpers for the benchmarks in bench/ (source it, do not run it).
#
# Owns: a pair of network namespaces joined by one veth pair (nothing is created in the
# caller's namespace: the veth is made inside the first namespace and its peer moved
# straight into the second), starting and stopping the processes a benchmark launches (by
# PID, never by name), reading a process's CPU time from /proc, waiting for a UDP port,
# machine facts for result files, and replacing one script's section of RESULTS.md
# (bench_write_section). Does not own: what runs in the namespaces, what a section says.
#
#   . bench/lib.sh
#   bench_init dh                     # names, scratch dir $BENCH_DIR, trap for cleanup
#   bench_ns s; bench_ns c            # two namespaces: $(bench_name s), $(bench_name c)
#   bench_veth s eth0 c eth0          # one veth pair between them
#   bench_start LOGFILE s CMD...      # run CMD in namespace s; its PID in $BENCH_PID
#   bench_stop "$BENCH_PID"           # TERM, then KILL after 5 s
# shellcheck shell=bash

BENCH_PREFIX=""
BENCH_DIR=""
BENCH_NS=()
BENCH_PIDS=()
BENCH_PID=""

# bench_init [PREFIX]: unique names, a scratch directory $BENCH_DIR on disk (not tmpfs, so
# fsync means what it says), and cleanup on EXIT/INT/TERM.
bench_init() {
	local id
	id="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
	BENCH_PREFIX="${1:-bn}${id}"
	BENCH_DIR="$(mktemp -d "${BENCH_TMP:-/var/tmp}/pixied-bench-${id}-XXXXXX")"
	chmod 0755 "$BENCH_DIR"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_name ROLE: the namespace name for ROLE.
bench_name() {
	echo "${BENCH_PREFIX}$1"
}

# bench_ns ROLE: create namespace $(bench_name ROLE) with lo up and IPv6 off.
bench_ns() {
	local ns="${BENCH_PREFIX}$1"
	ip netns add "$ns"
	BENCH_NS+=("$ns")
	ip netns exec "$ns" sh -c 'ip link set lo up &&
		echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 &&
		echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
}

# bench_veth ROLE_A IF_A ROLE_B IF_B: a veth pair, IF_A in namespace A, IF_B in namespace B.
bench_veth() {
	local a b
	a="$(bench_name "$1")"
	b="$(bench_name "$3")"
	ip -n "$a" link add "$2" type veth peer name "$4" netns "$b"
	ip -n "$a" link set "$2" up
	ip -n "$b" link set "$4" up
}

# bench_exec ROLE CMD...: run CMD inside namespace ROLE (in the foreground).
bench_exec() {
	local ns
	ns="$(bench_name "$1")"
	shift
	ip netns exec "$ns" "$@"
}

# bench_start LOGFILE ROLE CMD...: start CMD in the background inside namespace ROLE with
# stdout and stderr to LOGFILE. `ip netns exec` and `taskset` exec in place, so $BENCH_PID
# is the PID of CMD itself.
bench_start() {
	local log="$1" ns
	ns="$(bench_name "$2")"
	shift 2
	ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
	BENCH_PID=$!
	BENCH_PIDS+=("$BENCH_PID")
}

# bench_alive PID: true while PID runs (and is not a zombie).
bench_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
	[ -n "$st" ] && [ "$st" != Z ]
}

# bench_stop PID: SIGTERM, wait up to 5 s, then SIGKILL. Only PIDs this script started.
bench_stop() {
	local pid="$1" i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		bench_alive "$pid" || break
		sleep 0.1
	done
	if bench_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# bench_cpu_ticks PID: utime + stime of PID (all its threads) in clock ticks.
bench_cpu_ticks() {
	# Fields after the ")" of comm: state is field 3, utime 14, stime 15 of the full line.
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# bench_runq_us PID: microseconds PID (all its threads) has spent runnable but waiting for a
# CPU (/proc/PID/task/*/schedstat, second field): how much other work on the machine held
# the CPU it wanted.
bench_runq_us() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $2 } END { printf "%d\n", ns / 1000 }'
}

# bench_cpu_pressure: the machine's CPU pressure, "some" avg10 (% of the last 10 s in which
# some task waited for a CPU), as an integer; -1 without /proc/pressure.
bench_cpu_pressure() {
	if [ -r /proc/pressure/cpu ]; then
		sed -n 's/^some avg10=\([0-9]*\).*/\1/p' /proc/pressure/cpu
	else
		echo -1
	fi
}

# bench_wait_quiet MAX_SECONDS PERCENT: wait (at most MAX_SECONDS) until CPU pressure is
# below PERCENT, so a step does not start while other work holds the CPUs. Prints the
# pressure it started with.
bench_wait_quiet() {
	local max="$1" lim="$2" i p
	p="$(bench_cpu_pressure)"
	for ((i = 0; i < max && p >= lim; i++)); do
		sleep 1
		p="$(bench_cpu_pressure)"
	done
	echo "$p"
}

# bench_wait_udp ROLE PORT [SECONDS]: wait until something in namespace ROLE listens on UDP
# PORT (default 10 s). Returns 1 on timeout.
bench_wait_udp() {
	local ns i n=$((${3:-10} * 10))
	ns="$(bench_name "$1")"
	for ((i = 0; i < n; i++)); do
		if ip netns exec "$ns" ss -Hlun "sport = :$2" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# bench_machine: markdown lines describing this machine.
bench_machine() {
	local model kernel mem fs
	model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	kernel="$(uname -r)"
	mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	fs="$(df -PT "$BENCH_DIR" | awk 'NR == 2 { print $2 " on " $1 }')"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: ${model:-unknown}, nproc = $(nproc)"
	echo "- Memory: $mem; kernel $kernel"
	echo "- State directories on: $fs"
	echo "- Load average (1, 5, 15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_cleanup: stop every process started with bench_start, then anything left in our
# namespaces, delete the namespaces and the scratch directory (kept with BENCH_KEEP=1).
# Safe to call more than once.
bench_cleanup() {
	local pid ns i
	for pid in "${BENCH_PIDS[@]}"; do
		bench_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for i in $(seq 1 30); do
			bench_alive "$pid" || break
			sleep 0.1
		done
		bench_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	BENCH_PIDS=()
	for ns in "${BENCH_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for ((i = ${#BENCH_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${BENCH_NS[$i]}" 2>/dev/null || true
	done
	BENCH_NS=()
	if [ -n "$BENCH_DIR" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$BENCH_DIR"
	fi
	BENCH_DIR=""
}

# bench_write_section NAME SECTION_FILE RESULTS_FILE: put SECTION_FILE (which starts with
# `<!-- BEGIN NAME ... -->` and ends with `<!-- END NAME -->`) into RESULTS_FILE in place of
# that script's previous section, or at the end; other sections are left as they are.
# RESULTS_FILE "-" writes nothing. The file is replaced atomically and stays the invoking
# user's under sudo.
bench_write_section() {
	local name="$1" section="$2" results="$3" tmp
	[ "$results" != "-" ] || return 0
	if [ ! -f "$results" ]; then
		cat >"$results" <<'HEAD'
# pixied benchmark results

Each section below is written by one script in bench/ (see bench/README.md) and replaced
whole when that script runs again; sections of other scripts are left as they are.

HEAD
	fi
	tmp="$(mktemp "$results.XXXXXX")"
	if grep -q "^<!-- BEGIN $name" "$results"; then
		awk -v f="$section" -v b="^<!-- BEGIN $name" -v e="^<!-- END $name -->" '
			$0 ~ b { while ((getline l < f) > 0) print l; skip = 1; next }
			skip && $0 ~ e { skip = 0; next }
			!skip { print }' "$results" >"$tmp"
	else
		{ cat "$results"; echo; cat "$section"; } >"$tmp"
	fi
	chmod 0644 "$tmp"
	mv -f "$tmp" "$results"
	[ -z "${SUDO_UID:-}" ] || chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$results" 2>/dev/null || true
	echo "$(basename "$0"): $name section written to $results"
}

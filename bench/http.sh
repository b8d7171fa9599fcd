#!/usr/bin/env bash
# bench/http.sh — HTTP throughput: pixied beside nginx, measured with wrk.
#
#   sudo bench/http.sh                 run both cases, print the table, rewrite the HTTP
#                                      section of bench/RESULTS.md
#   sudo BENCH_DURATION=5 BENCH_RESULTS=- bench/http.sh      shorter, print only
#
# What it builds (nothing touches the host's interfaces; see bench/README.md):
#
#   namespace "s" (servers)                     namespace "c" (client = wrk)
#   hs0 192.0.2.1/24  <------- veth ------->    hc0 192.0.2.2/24
#
# Two cases, each server in turn (pixied on port 80, nginx on port 8080, never both at once),
# the server pinned to CPU 0 and wrk (one thread) to the last CPU:
#
#   big     GET of a 64 MiB file (random bytes) — both send it with sendfile(2).
#           Target: pixied >= 1.0x nginx's requests/s.
#   small   pixied: GET /boot.ipxe?mac=..&arch=x86_64&platform=efi, an iPXE menu script
#           rendered per request from a small catalog (3 entries, one [host]);
#           nginx: the same bytes as a static file of the same size.
#           Target: pixied >= 0.5x nginx's requests/s.
#
# Both servers log every request: pixied its access line to stderr (a file), nginx its
# access_log (a file); nginx runs one worker process (pixied is one thread), sendfile on.
#
# Environment:
#   BENCH_DURATION     seconds per wrk run                     (default 10)
#   BENCH_ROUNDS       runs per server and case, interleaved;  (default 3)
#                      the table reports the median
#   BENCH_CONNS_BIG    wrk connections for the 64 MiB file     (default 4)
#   BENCH_CONNS_SMALL  wrk connections for the small case      (default 32)
#   PIXIED_BIN         the daemon                              (default build/pixied)
#   BENCH_RESULTS      file whose HTTP section is rewritten    (default bench/RESULTS.md;
#                      "-" = do not write)
#   BENCH_KEEP=1       keep the scratch directory (configs, logs, wrk output)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

DURATION="${BENCH_DURATION:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNS_BIG="${BENCH_CONNS_BIG:-4}"
CONNS_SMALL="${BENCH_CONNS_SMALL:-32}"
PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
RESULTS="${BENCH_RESULTS:-$top/bench/RESULTS.md}"
SERVER_IP=192.0.2.1
QUERY="mac=52:54:00:12:34:56&arch=x86_64&platform=efi&uuid=4c4c4544-0031-3010-8052-b4c04f4a3732"

die() {
	echo "http.sh: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces): sudo $0"
[ -x "$PIXIED_BIN" ] || die "no daemon at $PIXIED_BIN (build it: meson setup build && ninja -C build)"

# --- tools: nginx and wrk from Debian, installed so that nginx does not start on the host ---
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
	echo "http.sh: installing nginx and wrk (services forbidden to start: policy-rc.d)"
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx wrk ||
		die "apt-get install nginx wrk failed"
	[ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
command -v nginx >/dev/null || die "nginx not found"
command -v wrk >/dev/null || die "wrk not found"
command -v curl >/dev/null || die "curl not found"

ncpu="$(nproc)"
if [ "$ncpu" -ge 2 ]; then
	SRV_CPU=0
	CLI_CPU=$((ncpu - 1))
	PIN_NOTE="server pinned to CPU $SRV_CPU, wrk (one thread) to CPU $CLI_CPU"
else
	SRV_CPU=0
	CLI_CPU=0
	PIN_NOTE="one CPU: server and wrk share it (results understate both servers)"
fi
HZ="$(getconf CLK_TCK)"

# --- lab --------------------------------------------------------------------------------------
bench_init ht
bench_ns s
bench_ns c
bench_veth s hs0 c hc0
bench_exec s ip addr add "$SERVER_IP/24" dev hs0
bench_exec c ip addr add 192.0.2.2/24 dev hc0

D="$BENCH_DIR"
mkdir -p "$D/root/static" "$D/state" "$D/nginx"
head -c $((64 << 20)) /dev/urandom >"$D/root/big64.bin"
chmod -R a+rX "$D/root"

cat >"$D/pixied.conf" <<EOF
; pixied: HTTP only, a small boot catalog for /boot.ipxe
[server]
interfaces = hs0
root = $D/root
state = $D/state
user = root

[dhcp]
mode = off

[tftp]
enabled = no

[http]
port = 80

[host station-01]
mac = 00:18:e7:42:84:3a
boot = debian-install

[menu]
title = Lab boot menu
default = local
timeout = 10s

[entry debian-install]
label = Debian 12 installer
kernel = debian/linux
initrd = debian/initrd.gz
args = auto=true url=\${base}/templates/preseed.cfg.tmpl hostname=\${hostname}

[entry netboot.xyz]
file-bios = netboot.xyz.kpxe
file-efi64 = netboot.xyz.efi
file-arm64 = netboot.xyz-arm64.efi

[entry local]
type = local
label = Boot from the local disk
EOF

cat >"$D/nginx/nginx.conf" <<EOF
# nginx: one worker, sendfile, the same root
worker_processes 1;
daemon off;
pid $D/nginx/nginx.pid;
error_log $D/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log $D/nginx/access.log;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	default_type application/octet-stream;
	types { text/plain ipxe; }
	client_body_temp_path $D/nginx/body;
	proxy_temp_path $D/nginx/proxy;
	fastcgi_temp_path $D/nginx/fastcgi;
	uwsgi_temp_path $D/nginx/uwsgi;
	scgi_temp_path $D/nginx/scgi;
	server {
		listen $SERVER_IP:8080;
		root $D/root;
	}
}
EOF

SRV_PID=""
wait_tcp() { # wait_tcp PORT: something listens in namespace s
	local i
	for ((i = 0; i < 100; i++)); do
		if bench_exec s ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
start_server() { # start_server pixied|nginx
	case "$1" in
	pixied)
		bench_start "$D/pixied.log" s taskset -c "$SRV_CPU" "$PIXIED_BIN" -c "$D/pixied.conf"
		SRV_PID="$BENCH_PID"
		wait_tcp 80 || die "pixied did not start: $(tail -n 20 "$D/pixied.log")"
		;;
	nginx)
		bench_start "$D/nginx/stderr.log" s taskset -c "$SRV_CPU" nginx -c "$D/nginx/nginx.conf"
		SRV_PID="$BENCH_PID"
		wait_tcp 8080 || die "nginx did not start: $(cat "$D/nginx/error.log")"
		;;
	esac
}
stop_server() {
	bench_stop "$SRV_PID"
	SRV_PID=""
}
srv_ticks() { # CPU ticks of the server and its children (nginx's worker)
	local t=0 p
	for p in "$SRV_PID" $(pgrep -P "$SRV_PID" 2>/dev/null || true); do
		t=$((t + $(bench_cpu_ticks "$p")))
	done
	echo "$t"
}

# The static twin of the generated script: exactly the bytes pixied renders for this query.
start_server pixied
bench_exec c curl -sf -o "$D/root/static/boot.ipxe" "http://$SERVER_IP/boot.ipxe?$QUERY" ||
	die "pixied did not serve /boot.ipxe: $(tail -n 20 "$D/pixied.log")"
stop_server
chmod a+r "$D/root/static/boot.ipxe"
SMALL_BYTES="$(stat -c %s "$D/root/static/boot.ipxe")"
[ "$SMALL_BYTES" -gt 0 ] || die "empty /boot.ipxe"

url_of() { # url_of SERVER CASE
	case "$1:$2" in
	pixied:big) echo "http://$SERVER_IP/big64.bin" ;;
	nginx:big) echo "http://$SERVER_IP:8080/big64.bin" ;;
	pixied:small) echo "http://$SERVER_IP/boot.ipxe?$QUERY" ;;
	nginx:small) echo "http://$SERVER_IP:8080/static/boot.ipxe" ;;
	esac
}

declare -A RPS CPU
run_one() { # run_one SERVER CASE ROUND
	local srv="$1" case="$2" round="$3" conns out t0 t1 rps non2xx
	conns="$CONNS_SMALL"
	[ "$case" = big ] && conns="$CONNS_BIG"
	out="$D/wrk-$srv-$case-$round.txt"
	start_server "$srv"
	# warm the page cache and the server
	bench_exec c curl -sf -o /dev/null "$(url_of "$srv" "$case")" || die "$srv: warm-up GET failed"
	t0="$(srv_ticks)"
	bench_exec c taskset -c "$CLI_CPU" wrk -t1 -c"$conns" -d"${DURATION}s" --latency \
		"$(url_of "$srv" "$case")" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
	t1="$(srv_ticks)"
	stop_server
	rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
	non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
	[ -z "$non2xx" ] || die "$srv $case: $non2xx non-2xx responses (see $out)"
	[ -n "$rps" ] || die "no result from wrk: $(cat "$out")"
	RPS[$srv:$case:$round]="$rps"
	# server CPU microseconds per request
	CPU[$srv:$case:$round]="$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v r="$rps" -v d="$DURATION" \
		'BEGIN { n = r * d; printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')"
	printf 'http.sh: %-6s %-5s round %d: %s requests/s, %s us CPU/request\n' "$srv" "$case" \
		"$round" "$rps" "${CPU[$srv:$case:$round]}"
}

for case in big small; do
	for ((r = 1; r <= ROUNDS; r++)); do
		for srv in pixied nginx; do
			run_one "$srv" "$case" "$r"
		done
	done
done

median() { # median VALUES...
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
med() { # med ARRAY_PREFIX: median over rounds
	local key="$1" kind="$2" r vals=()
	for ((r = 1; r <= ROUNDS; r++)); do
		if [ "$kind" = rps ]; then vals+=("${RPS[$key:$r]}"); else vals+=("${CPU[$key:$r]}"); fi
	done
	median "${vals[@]}"
}

report() {
	local pv nv ratio
	echo "<!-- BEGIN HTTP: generated by bench/http.sh; edits inside are overwritten -->"
	echo "## HTTP"
	echo
	local cmd="sudo"
	for v in BENCH_DURATION BENCH_ROUNDS BENCH_CONNS_BIG BENCH_CONNS_SMALL PIXIED_BIN; do
		[ -z "${!v:-}" ] || cmd="$cmd $v=\"${!v}\""
	done
	echo "Command: \`$cmd bench/http.sh\`"
	echo
	bench_machine
	echo "- Pinning: $PIN_NOTE"
	echo "- Servers: pixied $("$PIXIED_BIN" --version 2>&1 | head -n1 | awk '{ print $2 }') (libmicrohttpd $(dpkg-query -W -f '${Version}' libmicrohttpd12 2>/dev/null || echo '?')), one thread;"
	echo "  nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), one worker, sendfile on. Both log every request to a file."
	echo "- Load: \`wrk -t1 -cN -d${DURATION}s\` from the client namespace over one veth pair; $ROUNDS runs per"
	echo "  server and case, interleaved, each server started fresh; medians below."
	echo "- big: GET of a 64 MiB file, $CONNS_BIG connections. small: $CONNS_SMALL connections; pixied renders"
	echo "  \`/boot.ipxe?$QUERY\` per request (menu of 3 entries, $SMALL_BYTES bytes),"
	echo "  nginx serves those same $SMALL_BYTES bytes as a static file."
	echo
	echo "| case | pixied req/s | nginx req/s | pixied ÷ nginx | target | pixied µs CPU/req | nginx µs CPU/req |"
	echo "|---|---|---|---|---|---|---|"
	for case in big small; do
		pv="$(med "pixied:$case" rps)"
		nv="$(med "nginx:$case" rps)"
		ratio="$(awk -v a="$pv" -v b="$nv" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
		local target="≥ 1.0" ok
		[ "$case" = small ] && target="≥ 0.5"
		ok="$(awk -v r="$ratio" -v c="$case" 'BEGIN { t = (c == "big" ? 1.0 : 0.5); print ((r + 0 >= t) ? "met" : "NOT met") }')"
		local label="64 MiB file"
		[ "$case" = small ] && label="/boot.ipxe vs static ($SMALL_BYTES B)"
		echo "| $label | $pv | $nv | **$ratio** | $target ($ok) | $(med "pixied:$case" cpu) | $(med "nginx:$case" cpu) |"
	done
	echo
	echo "Every run (requests/s, pixied / nginx):"
	echo
	for case in big small; do
		local line="- $case:"
		for ((r = 1; r <= ROUNDS; r++)); do
			line="$line ${RPS[pixied:$case:$r]} / ${RPS[nginx:$case:$r]};"
		done
		echo "${line%;}"
	done
	echo "<!-- END HTTP -->"
}

section="$BENCH_DIR/section.md"
report >"$section"
echo
cat "$section"

bench_write_section HTTP "$section" "$RESULTS"
[ "${BENCH_KEEP:-0}" != 1 ] || echo "http.sh: kept $BENCH_DIR"

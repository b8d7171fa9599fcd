#!/usr/bin/env bash
# test.sh — everything pixied's CI checks, in order; the README's second command.
#
#   sudo ./scripts/test.sh [STAGE]...     stages: deps build unit fuzz system e2e
#                                         (default: all of them, in that order)
#
# deps     scripts/deps.sh --vm (installs what is missing, also QEMU + firmware for e2e;
#          creates the pixied user); npm ci in tests/browser (Playwright for test_ui.py)
# build    scripts/build.sh: build (gcc), build-asan (ASan+UBSan), build-fuzz (clang)
# unit     meson test --suite unit in build and in build-asan
# fuzz     every build-fuzz/fuzz_NAME: replay tests/fuzz/NAME/corpus, then fuzz it for
#          FUZZ_SECONDS (default 30); a crash, leak or timeout is a failure
# system   pytest tests/system against the sanitizer build (PIXIED_BIN, default
#          build-asan/pixied); needs root for network namespaces
# e2e      pytest tests/e2e, when that directory has tests: QEMU VMs (SeaBIOS + iPXE, OVMF)
#          network-boot Linux through build/pixied (~6-8 min; payload cached by
#          scripts/payload.sh in /var/cache/pixied-e2e)
#
# Environment: FUZZ_SECONDS, PIXIED_BIN, PIXIED_REQUIRE_ROOT_TESTS=1 (tests that need root
# fail instead of being skipped; CI sets it), PYTEST_ADDOPTS (passed on to pytest).
# The last line is `N passed, N failed` summed over meson tests, fuzz targets and pytest
# tests (build and deps failures count as one each); the exit status is non-zero on any
# failure.
set -uo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$top" || exit 1

FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
PY=/usr/bin/python3
logdir="$top/build/test-logs" # made after the build stage (build.sh may recreate build/)

passed=0
failed=0
failures=()
t_start=$(date +%s)

stage() { printf '\n===== %s =====\n' "$*"; }
ok() { passed=$((passed + ${2:-1})); }
fail() {
	failed=$((failed + ${2:-1}))
	failures+=("$1")
	echo "FAILED: $1" >&2
}

all_stages=(deps build unit fuzz system e2e)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
	case " ${all_stages[*]} " in
	*" $s "*) ;;
	*) echo "test.sh: unknown stage '$s' (stages: ${all_stages[*]})" >&2; exit 2 ;;
	esac
done
want() {
	local s
	for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

declare -A built=() build_failed=()

# A stage that needs a build directory: true when it is there; when it is not, counts a
# failure unless that build's own failure was counted already.
need_build() {
	local d="$1" who="$2"
	[ -n "${built[$d]:-}" ] && return 0
	if [ -n "${build_failed[$d]:-}" ]; then
		echo "skipped: $who needs $d, which did not build" >&2
	else
		fail "$who: $d is not built (run the build stage)"
	fi
	return 1
}

# --- deps -----------------------------------------------------------------------------
if want deps; then
	stage "deps"
	if bash ./scripts/deps.sh --vm; then ok deps 0; else fail "deps: scripts/deps.sh --vm"; fi
	# The browser test's Playwright, exactly as tests/browser/package-lock.json pins it
	# (playwright-core downloads no browser: the test drives Debian's chromium).
	echo "npm ci in tests/browser"
	if (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline); then
		ok deps 0
	else
		fail "deps: npm ci in tests/browser"
	fi
fi

# --- build ----------------------------------------------------------------------------
for d in build build-asan build-fuzz; do
	if want build; then
		stage "build $d"
		if bash ./scripts/build.sh "$d"; then
			built[$d]=1
		else
			build_failed[$d]=1
			fail "build: $d"
		fi
	elif [ -f "$d/build.ninja" ]; then
		built[$d]=1
	fi
done

mkdir -p "$logdir"

# --- unit -----------------------------------------------------------------------------
# Counts come from meson's testlog.json (one JSON object per test).
count_meson() {
	$PY - "$1" <<'EOF'
import json, sys
ok = bad = 0
names = []
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            r = t.get("result", "")
            if r in ("OK", "EXPECTEDFAIL"):
                ok += 1
            elif r == "SKIP":
                pass
            else:
                bad += 1
                names.append(t.get("name", "?") + "=" + r)
except FileNotFoundError:
    pass
print(ok, bad, " ".join(names))
EOF
}

if want unit; then
	for d in build build-asan; do
		stage "unit tests ($d)"
		need_build "$d" "unit ($d)" || continue
		rm -f "$d/meson-logs/testlog.json"
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
			meson test -C "$d" --suite unit --print-errorlogs --num-processes "$(nproc)"
		rc=$?
		read -r n_ok n_bad bad_names < <(count_meson "$d/meson-logs/testlog.json")
		if [ $((n_ok + n_bad)) -eq 0 ]; then
			if [ "$rc" -eq 125 ]; then
				fail "unit ($d): meson test could not build the tests"
			else
				fail "unit ($d): no unit tests ran (meson exit $rc)"
			fi
			continue
		fi
		ok "unit ($d)" "$n_ok"
		[ "$n_bad" -eq 0 ] || fail "unit ($d): $bad_names" "$n_bad"
		if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
			fail "unit ($d): meson test exited $rc"
		fi
	done
fi

# --- fuzz -----------------------------------------------------------------------------
if want fuzz; then
	stage "fuzz (${FUZZ_SECONDS}s per target)"
	if need_build build-fuzz fuzz; then
		n_targets=0
		fuzzlog="$logdir/fuzz"
		mkdir -p "$fuzzlog"
		for bin in build-fuzz/fuzz_*; do
			if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
			name="$(basename "$bin")"
			name="${name#fuzz_}"
			n_targets=$((n_targets + 1))
			corpus="tests/fuzz/$name/corpus"
			work="$(mktemp -d "/tmp/pixied-fuzz-$name.XXXXXX")"
			art="$fuzzlog/$name-artifacts"
			mkdir -p "$art"
			log="$fuzzlog/$name.log"
			opts=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" -print_final_stats=1)
			export ASAN_OPTIONS="${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
			export UBSAN_OPTIONS="${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
			result=ok
			if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus" 2>/dev/null)" ]; then
				echo "-- $name: replaying $(ls -A "$corpus" | wc -l) corpus files"
				if ! "$bin" "${opts[@]}" -runs=0 "$corpus" >"$log.replay" 2>&1; then
					result="corpus replay crashed"
				fi
			else
				echo "-- $name: no corpus at $corpus (expected seed files)"
				result="no seed corpus at $corpus"
			fi
			if [ "$result" = ok ]; then
				echo "-- $name: fuzzing for ${FUZZ_SECONDS}s"
				seeds=()
				[ -d "$corpus" ] && seeds=("$corpus")
				if ! "$bin" "${opts[@]}" -max_total_time="$FUZZ_SECONDS" \
					"$work" "${seeds[@]}" >"$log" 2>&1; then
					result="fuzzing found a crash (artifacts in $art)"
				fi
			fi
			unset ASAN_OPTIONS UBSAN_OPTIONS
			rm -rf "$work"
			if [ "$result" = ok ]; then
				echo "-- $name: ok ($(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?') runs)"
				ok "fuzz $name"
			else
				for f in "$log.replay" "$log"; do
					[ -f "$f" ] && tail -n 40 "$f" >&2
				done
				fail "fuzz $name: $result"
			fi
		done
		[ "$n_targets" -gt 0 ] || fail "fuzz: no fuzz targets in build-fuzz"
	fi
fi

# --- pytest stages --------------------------------------------------------------------
# run_pytest LABEL DIR: runs pytest on DIR, adds its counts from the JUnit XML report.
run_pytest() {
	local label="$1" dir="$2" junit="$logdir/$1.xml" rc
	local expected=0
	if compgen -G "$dir/test_*.py" >/dev/null || compgen -G "$dir/**/test_*.py" >/dev/null; then
		expected=1
	fi
	rm -f "$junit"
	$PY -m pytest -q -p no:cacheprovider --junitxml="$junit" "$dir"
	rc=$?
	if [ "$rc" -eq 5 ]; then
		if [ "$expected" -eq 1 ]; then fail "$label: pytest collected no tests"; fi
		return
	fi
	if [ ! -s "$junit" ]; then
		fail "$label: pytest exited $rc without a report"
		return
	fi
	read -r n_ok n_bad < <($PY - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e)
EOF
)
	ok "$label" "${n_ok:-0}"
	[ "${n_bad:-0}" -eq 0 ] || fail "$label: $n_bad pytest failures/errors" "$n_bad"
	if [ "$rc" -ne 0 ] && [ "${n_bad:-0}" -eq 0 ]; then
		fail "$label: pytest exited $rc"
	fi
}

if want system; then
	stage "system tests"
	if [ -z "${PIXIED_BIN:-}" ] && ! need_build build-asan system; then
		:
	elif [ ! -x "${PIXIED_BIN:-$top/build-asan/pixied}" ]; then
		fail "system: no daemon at ${PIXIED_BIN:-$top/build-asan/pixied}"
	else
		export PIXIED_BIN="${PIXIED_BIN:-$top/build-asan/pixied}"
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
			UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
			run_pytest system tests/system
	fi
fi

if want e2e; then
	if [ -d tests/e2e ] && compgen -G "tests/e2e/test_*.py" >/dev/null; then
		stage "e2e tests"
		export PIXIED_BIN="${PIXIED_BIN:-$top/build/pixied}"
		run_pytest e2e tests/e2e
	fi
fi

# --- summary --------------------------------------------------------------------------
t_end=$(date +%s)
echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	for f in "${failures[@]}"; do echo "  - $f"; done
fi
echo "(took $((t_end - t_start))s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
